// SPDX-License-Identifier: GPL-2.0
/*
 * vpt_fakedev - test-only: make a PCI function report config values it
 * does not have, so that the tests can play a device that changes its
 * "read-only" registers between two reads.
 *
 * kretprobes on pci_bus_read_config_{byte,word,dword}() remember the
 * access in the entry handler and, on return, patch the bytes a rule
 * covers into the value the caller gets.  Nothing reaches the device:
 * only kernel readers through those helpers (capability walks, the MSI
 * and MSI-X cores, vpt-pci's and vfio-pci's own reads) see the rules.
 *
 * Rules are written to /sys/module/vpt_fakedev/parameters/rule, one per
 * write:
 *   "DDDD:BB:DD.F OFFSET SIZE VALUE WIDTHS"  add a rule: the SIZE (1, 2
 *       or 4) bytes at OFFSET read as VALUE (little-endian) through the
 *       accessors whose width is set in the WIDTHS mask (1 byte, 2 word,
 *       4 dword)
 *   "clear"  remove every rule
 * and, on /sys/module/vpt_fakedev/parameters/rom:
 *   "release DDDD:BB:DD.F"  release the function's ROM resource (start
 *       0, length kept: an unassigned ROM)
 *   "assign DDDD:BB:DD.F"   assign it again
 */
#include <linux/kprobes.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/spinlock.h>

#define FAKE_MAX_RULES	8

struct fake_rule {
	int domain;
	unsigned int bus;
	unsigned int devfn;
	unsigned int off;
	unsigned int size;
	u32 value;
	unsigned int widths;
};

static DEFINE_SPINLOCK(fake_lock);	/* protects fake_rules, fake_nr */
static struct fake_rule fake_rules[FAKE_MAX_RULES];
static unsigned int fake_nr;

/* What the entry handler saw; the return handler patches *val. */
struct fake_call {
	struct pci_bus *bus;
	unsigned int devfn;
	int where;
	void *val;
};

static void fake_patch(struct fake_call *c, unsigned int width)
{
	unsigned long flags;
	unsigned int i, b;
	u32 v;

	switch (width) {
	case 1:
		v = *(u8 *)c->val;
		break;
	case 2:
		v = *(u16 *)c->val;
		break;
	default:
		v = *(u32 *)c->val;
		break;
	}

	spin_lock_irqsave(&fake_lock, flags);
	for (i = 0; i < fake_nr; i++) {
		struct fake_rule *r = &fake_rules[i];

		if (!(r->widths & width) || r->domain != pci_domain_nr(c->bus) ||
		    r->bus != c->bus->number || r->devfn != c->devfn)
			continue;
		for (b = 0; b < width; b++) {
			unsigned int pos = c->where + b;

			if (pos < r->off || pos >= r->off + r->size)
				continue;
			v &= ~(0xffU << (8 * b));
			v |= ((r->value >> (8 * (pos - r->off))) & 0xff) << (8 * b);
		}
	}
	spin_unlock_irqrestore(&fake_lock, flags);

	switch (width) {
	case 1:
		*(u8 *)c->val = v;
		break;
	case 2:
		*(u16 *)c->val = v;
		break;
	default:
		*(u32 *)c->val = v;
		break;
	}
}

/* int pci_bus_read_config_X(struct pci_bus *, unsigned int, int, X *) */
static int fake_entry(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct fake_call *c = (struct fake_call *)ri->data;

	c->bus = (struct pci_bus *)regs_get_kernel_argument(regs, 0);
	c->devfn = regs_get_kernel_argument(regs, 1);
	c->where = regs_get_kernel_argument(regs, 2);
	c->val = (void *)regs_get_kernel_argument(regs, 3);
	return 0;
}

#define FAKE_RET(width)							\
static int fake_ret##width(struct kretprobe_instance *ri,		\
			   struct pt_regs *regs)			\
{									\
	if (!regs_return_value(regs))					\
		fake_patch((struct fake_call *)ri->data, width);	\
	return 0;							\
}

FAKE_RET(1)
FAKE_RET(2)
FAKE_RET(4)

static struct kretprobe fake_probes[] = {
	{
		.kp.symbol_name = "pci_bus_read_config_byte",
		.entry_handler = fake_entry,
		.handler = fake_ret1,
		.data_size = sizeof(struct fake_call),
		.maxactive = 64,
	}, {
		.kp.symbol_name = "pci_bus_read_config_word",
		.entry_handler = fake_entry,
		.handler = fake_ret2,
		.data_size = sizeof(struct fake_call),
		.maxactive = 64,
	}, {
		.kp.symbol_name = "pci_bus_read_config_dword",
		.entry_handler = fake_entry,
		.handler = fake_ret4,
		.data_size = sizeof(struct fake_call),
		.maxactive = 64,
	},
};

static int fake_rule_set(const char *s, const struct kernel_param *kp)
{
	unsigned int bus, dev, fn, off, size, widths;
	struct fake_rule r;
	unsigned long flags;
	int domain, ret = 0;
	u32 value;

	if (sysfs_streq(s, "clear")) {
		spin_lock_irqsave(&fake_lock, flags);
		fake_nr = 0;
		spin_unlock_irqrestore(&fake_lock, flags);
		return 0;
	}
	if (sscanf(s, "%x:%x:%x.%x %i %u %i %i", &domain, &bus, &dev, &fn,
		   &off, &size, &value, &widths) != 8 ||
	    (size != 1 && size != 2 && size != 4) || off + size > 4096 ||
	    dev > 31 || fn > 7)
		return -EINVAL;
	r.domain = domain;
	r.bus = bus;
	r.devfn = PCI_DEVFN(dev, fn);
	r.off = off;
	r.size = size;
	r.value = value;
	r.widths = widths;

	spin_lock_irqsave(&fake_lock, flags);
	if (fake_nr < FAKE_MAX_RULES)
		fake_rules[fake_nr++] = r;
	else
		ret = -ENOSPC;
	spin_unlock_irqrestore(&fake_lock, flags);
	return ret;
}

static const struct kernel_param_ops fake_rule_ops = {
	.set = fake_rule_set,
};
module_param_cb(rule, &fake_rule_ops, NULL, 0200);
MODULE_PARM_DESC(rule, "add \"BDF OFFSET SIZE VALUE WIDTHS\" or \"clear\"");

static int fake_rom_set(const char *s, const struct kernel_param *kp)
{
	unsigned int bus, dev, fn;
	struct pci_dev *pdev;
	char op[8];
	int domain, ret;

	if (sscanf(s, "%7s %x:%x:%x.%x", op, &domain, &bus, &dev, &fn) != 5 ||
	    dev > 31 || fn > 7)
		return -EINVAL;
	pdev = pci_get_domain_bus_and_slot(domain, bus, PCI_DEVFN(dev, fn));
	if (!pdev)
		return -ENODEV;
	if (!strcmp(op, "release")) {
		pci_release_resource(pdev, PCI_ROM_RESOURCE);
		ret = 0;
	} else if (!strcmp(op, "assign")) {
		ret = pci_assign_resource(pdev, PCI_ROM_RESOURCE);
	} else {
		ret = -EINVAL;
	}
	pci_dev_put(pdev);
	return ret;
}

static const struct kernel_param_ops fake_rom_ops = {
	.set = fake_rom_set,
};
module_param_cb(rom, &fake_rom_ops, NULL, 0200);
MODULE_PARM_DESC(rom, "\"release BDF\" or \"assign BDF\": the ROM resource");

static int __init fake_init(void)
{
	int i, ret;

	for (i = 0; i < ARRAY_SIZE(fake_probes); i++) {
		ret = register_kretprobe(&fake_probes[i]);
		if (ret)
			goto err;
	}
	return 0;

err:
	while (--i >= 0)
		unregister_kretprobe(&fake_probes[i]);
	return ret;
}

static void __exit fake_exit(void)
{
	int i;

	for (i = 0; i < ARRAY_SIZE(fake_probes); i++)
		unregister_kretprobe(&fake_probes[i]);
}

module_init(fake_init);
module_exit(fake_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("vpt test only: fake PCI config reads of one function");
