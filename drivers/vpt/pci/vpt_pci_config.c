// SPDX-License-Identifier: GPL-2.0
/*
 * vpt_pci_config.c - the virtual PCI config space.
 *
 * The user reads and writes config space through region
 * VFIO_PCI_CONFIG_REGION_INDEX.  Every byte has two permission masks:
 *   virt   bits read from and written to the virtual copy (vconfig),
 *   write  bits the user may write; virtualised ones land in vconfig,
 *          the others are written through to the device.
 * A byte with neither bit set reads from the device and drops writes:
 * that is the default for everything not listed below, which covers
 * unknown registers, reserved space and the bodies of capabilities that
 * are only shown read-only.
 *
 * Standard header:
 *   ID, class, revision, header type, subsystem: read-only from the device
 *        (an SR-IOV VF's vendor and device ID, which read as ffff there,
 *        from the PCI core's record; see vpt_cfg_init_nocmdmem())
 *   COMMAND: memory, I/O and bus master written through (memory/I/O
 *            changes are serialised with BAR access, see
 *            vpt_cfg_write_command()), the other bits virtual; INTx
 *            disable masks the user's INTx (vpt_pci_intr_virq_disable())
 *   STATUS: read-only from the device except the capability-list bit and
 *           the RW1C error bits, which are virtual (write one to clear)
 *   BARs, ROM BAR: fully virtual; sizing reads back the size masks
 *   cache line size, latency timer: written through
 *   capability pointer, interrupt line and pin: virtual (pin read-only)
 *
 * Capabilities: the chain read from the device is walked with bounds and
 * loop checks; known capabilities are kept (their ID and next pointer are
 * virtual so that the presented chain is the sanitised one), unknown ones
 * are unlinked.  MSI and MSI-X control registers and MSI message
 * address/data/mask are virtual: nothing the user writes reaches the
 * hardware's interrupt setup.  Their enable bits and MSI's multiple
 * message enable field show what VFIO_DEVICE_SET_IRQS configured and
 * ignore writes; MSI-X function mask is only stored.  Power management:
 * no PME support is shown (PME enable and status are virtual and read
 * zero: the host handles PMEs), and a write of PMCSR's power state is
 * carried out by the PCI core (vpt_pci_power_write_pmcsr()), the field
 * reading back the hardware's state; data select is written through.
 * In PCI Express
 * DEVCTL the FLR bit starts a function reset and reads back 0, max
 * payload and read request size are virtual and phantom functions
 * read-only.  Extended capabilities (up to the device's cfg_size) are
 * read-only, their headers virtual.
 */
#include <linux/bitmap.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "vpt_pci_priv.h"

#define VPT_CFG_ALL	0xffffffffU

/* STATUS bits that are RW1C, virtualised. */
#define VPT_STATUS_RW1C	(PCI_STATUS_PARITY | PCI_STATUS_SIG_TARGET_ABORT | \
			 PCI_STATUS_REC_TARGET_ABORT | \
			 PCI_STATUS_REC_MASTER_ABORT | \
			 PCI_STATUS_SIG_SYSTEM_ERROR | \
			 PCI_STATUS_DETECTED_PARITY)

/* COMMAND bits written through to the device. */
#define VPT_COMMAND_HW	(PCI_COMMAND_IO | PCI_COMMAND_MEMORY | \
			 PCI_COMMAND_MASTER)
/* The same for a function without a memory enable (an SR-IOV VF). */
#define VPT_COMMAND_HW_NOMEM	(VPT_COMMAND_HW & ~PCI_COMMAND_MEMORY)
/* COMMAND bits defined by the spec (bits 11-15 are reserved). */
#define VPT_COMMAND_DEFINED	0x07ff

/* Standard capabilities: at most this many fit in 192 bytes. */
#define VPT_CAP_MAX_LOOPS	((PCI_CFG_SPACE_SIZE - PCI_STD_HEADER_SIZEOF) / \
				 PCI_CAP_SIZEOF)

/*
 * Little-endian load and store of @n (1, 2 or 4) bytes of one of @cfg's
 * arrays (vconfig, virt, write), each @cfg->size bytes long.  Offsets
 * may derive from device data: an access past the end is a bug, caught
 * here rather than written over the next allocation.
 */
static u32 vpt_cfg_get(const struct vpt_pci_config *cfg, const u8 *a,
		       unsigned int pos, unsigned int n)
{
	u32 v = 0;
	unsigned int i;

	if (WARN_ON_ONCE(pos >= cfg->size || n > cfg->size - pos))
		return 0;
	for (i = 0; i < n; i++)
		v |= (u32)a[pos + i] << (8 * i);
	return v;
}

static void vpt_cfg_put(const struct vpt_pci_config *cfg, u8 *a,
			unsigned int pos, unsigned int n, u32 v)
{
	unsigned int i;

	if (WARN_ON_ONCE(pos >= cfg->size || n > cfg->size - pos))
		return;
	for (i = 0; i < n; i++)
		a[pos + i] = v >> (8 * i);
}

static u32 vpt_cfg_nmask(unsigned int n)
{
	return n == 4 ? VPT_CFG_ALL : (1U << (8 * n)) - 1;
}

/* Set the permissions of the @n byte register at @pos. */
static void vpt_cfg_perm(struct vpt_pci_config *cfg, unsigned int pos,
			 unsigned int n, u32 virt, u32 write)
{
	if (pos + n > cfg->size)
		return;
	vpt_cfg_put(cfg, cfg->virt, pos, n, virt);
	vpt_cfg_put(cfg, cfg->write, pos, n, write);
}

static bool vpt_cfg_overlaps(unsigned int pos, unsigned int n,
			     unsigned int reg, unsigned int len)
{
	return pos < reg + len && reg < pos + n;
}

static int vpt_cfg_hw_read(struct pci_dev *pdev, unsigned int pos,
			   unsigned int n, u32 *val)
{
	int ret;

	switch (n) {
	case 1: {
		u8 v;

		ret = pci_user_read_config_byte(pdev, pos, &v);
		*val = v;
		break;
	}
	case 2: {
		u16 v;

		ret = pci_user_read_config_word(pdev, pos, &v);
		*val = v;
		break;
	}
	default:
		ret = pci_user_read_config_dword(pdev, pos, val);
		break;
	}
	return pcibios_err_to_errno(ret);
}

static int vpt_cfg_hw_write_raw(struct pci_dev *pdev, unsigned int pos,
				unsigned int n, u32 val)
{
	int ret;

	switch (n) {
	case 1:
		ret = pci_user_write_config_byte(pdev, pos, val);
		break;
	case 2:
		ret = pci_user_write_config_word(pdev, pos, val);
		break;
	default:
		ret = pci_user_write_config_dword(pdev, pos, val);
		break;
	}
	return pcibios_err_to_errno(ret);
}

/*
 * Write the bits in @mask of @val to the device, read-modify-write.  The
 * access is narrowed to the aligned half that holds all of @mask, so that
 * neighbouring registers (RW1C status bits, for one) are not written back.
 */
static int vpt_cfg_hw_write(struct pci_dev *pdev, unsigned int pos,
			    unsigned int n, u32 val, u32 mask)
{
	u32 old;
	int ret;

	while (n > 1) {
		unsigned int half = n / 2;
		u32 lo = vpt_cfg_nmask(half);

		if (!(mask & ~lo)) {
			n = half;
		} else if (!(mask & lo)) {
			pos += half;
			val >>= 8 * half;
			mask >>= 8 * half;
			n = half;
		} else {
			break;
		}
	}
	mask &= vpt_cfg_nmask(n);

	if (mask != vpt_cfg_nmask(n)) {
		ret = vpt_cfg_hw_read(pdev, pos, n, &old);
		if (ret)
			return ret;
		val = (old & ~mask) | (val & mask);
	}
	return vpt_cfg_hw_write_raw(pdev, pos, n, val);
}

/*
 * Replace the bits @mask of the 16-bit register @reg by @bits in @val, the
 * value of the @n byte access at @pos, where the access covers them.
 */
static u32 vpt_cfg_overlay16(unsigned int pos, unsigned int n, u32 val,
			     unsigned int reg, u16 mask, u16 bits)
{
	unsigned int i;

	for (i = 0; i < 2; i++) {
		unsigned int shift;
		u32 m;

		if (reg + i < pos || reg + i >= pos + n)
			continue;
		shift = 8 * (reg + i - pos);
		m = (u32)(u8)(mask >> (8 * i)) << shift;
		val = (val & ~m) | (((u32)(u8)(bits >> (8 * i)) << shift) & m);
	}
	return val;
}

/* The MSI and MSI-X control bits owned by SET_IRQS, seen at read time. */
static u32 vpt_cfg_irq_overlay(struct vpt_pci_device *vpci, unsigned int pos,
			       unsigned int n, u32 val)
{
	struct vpt_pci_config *cfg = &vpci->cfg;
	unsigned int reg;

	if (cfg->msi_pos) {
		reg = cfg->msi_pos + PCI_MSI_FLAGS;
		if (vpt_cfg_overlaps(pos, n, reg, 2))
			val = vpt_cfg_overlay16(pos, n, val, reg,
						PCI_MSI_FLAGS_ENABLE |
						PCI_MSI_FLAGS_QSIZE,
						vpt_pci_intr_msi_flags(vpci,
								       false));
	}
	if (cfg->msix_pos) {
		reg = cfg->msix_pos + PCI_MSIX_FLAGS;
		if (vpt_cfg_overlaps(pos, n, reg, 2))
			val = vpt_cfg_overlay16(pos, n, val, reg,
						PCI_MSIX_FLAGS_ENABLE,
						vpt_pci_intr_msi_flags(vpci,
								       true));
	}
	return val;
}

static int vpt_cfg_read(struct vpt_pci_device *vpci, unsigned int pos,
			unsigned int n, u32 *val)
{
	struct vpt_pci_config *cfg = &vpci->cfg;
	u32 virt = vpt_cfg_get(cfg, cfg->virt, pos, n);
	u32 v = vpt_cfg_get(cfg, cfg->vconfig, pos, n);
	u32 hw = 0;
	int ret;

	lockdep_assert_held(&vpci->config_lock);

	if (virt != vpt_cfg_nmask(n)) {
		ret = vpt_cfg_hw_read(vpci->pdev, pos, n, &hw);
		if (ret)
			return ret;
	}
	*val = vpt_cfg_irq_overlay(vpci, pos, n, (hw & ~virt) | (v & virt));
	return 0;
}

/* The permission-driven part of a write. */
static int vpt_cfg_write_perm(struct vpt_pci_device *vpci, unsigned int pos,
			      unsigned int n, u32 val)
{
	struct vpt_pci_config *cfg = &vpci->cfg;
	u32 write = vpt_cfg_get(cfg, cfg->write, pos, n);
	u32 virt = vpt_cfg_get(cfg, cfg->virt, pos, n);

	if (write & virt) {
		u32 v = vpt_cfg_get(cfg, cfg->vconfig, pos, n);

		v = (v & ~(write & virt)) | (val & write & virt);
		vpt_cfg_put(cfg, cfg->vconfig, pos, n, v);
	}
	if (write & ~virt)
		return vpt_cfg_hw_write(vpci->pdev, pos, n, val, write & ~virt);
	return 0;
}

/* Byte @reg of the register written at @pos, @n bytes, value @val. */
static u8 vpt_cfg_byte(unsigned int pos, u32 val, unsigned int reg)
{
	return val >> (8 * (reg - pos));
}

/*
 * Apply a user write to the size masks: a BAR keeps only the address bits
 * its size allows plus its type bits, so that writing all-ones reads back
 * the size mask.  Unimplemented BARs read 0.  The hardware never sees any
 * of this.
 */
static void vpt_cfg_bar_fixup(struct vpt_pci_device *vpci)
{
	struct pci_dev *pdev = vpci->pdev;
	u8 *vconfig = vpci->cfg.vconfig;
	int bar;
	u32 v;

	for (bar = 0; bar < PCI_STD_NUM_BARS; bar++) {
		unsigned int reg = PCI_BASE_ADDRESS_0 + 4 * bar;
		unsigned long flags = pci_resource_flags(pdev, bar);
		u64 len = pci_resource_len(pdev, bar);
		u64 mask = ~(len - 1);
		u32 type;

		if (!len) {
			vpt_cfg_put(&vpci->cfg, vconfig, reg, 4, 0);
			continue;
		}
		if (flags & IORESOURCE_IO) {
			type = PCI_BASE_ADDRESS_SPACE_IO;
		} else {
			type = PCI_BASE_ADDRESS_SPACE_MEMORY;
			if (flags & IORESOURCE_PREFETCH)
				type |= PCI_BASE_ADDRESS_MEM_PREFETCH;
			if (flags & IORESOURCE_MEM_64)
				type |= PCI_BASE_ADDRESS_MEM_TYPE_64;
		}
		v = vpt_cfg_get(&vpci->cfg, vconfig, reg, 4);
		vpt_cfg_put(&vpci->cfg, vconfig, reg, 4, (v & (u32)mask) | type);

		if ((type & PCI_BASE_ADDRESS_MEM_TYPE_64) &&
		    bar < PCI_STD_NUM_BARS - 1) {
			reg += 4;
			v = vpt_cfg_get(&vpci->cfg, vconfig, reg, 4);
			vpt_cfg_put(&vpci->cfg, vconfig, reg, 4, v & (u32)(mask >> 32));
			bar++;
		}
	}

	v = 0;
	if (pci_resource_len(pdev, PCI_ROM_RESOURCE)) {
		u32 mask = ~(u32)(pci_resource_len(pdev, PCI_ROM_RESOURCE) - 1);

		v = vpt_cfg_get(&vpci->cfg, vconfig, PCI_ROM_ADDRESS, 4);
		v &= (mask & PCI_ROM_ADDRESS_MASK) | PCI_ROM_ADDRESS_ENABLE;
	}
	vpt_cfg_put(&vpci->cfg, vconfig, PCI_ROM_ADDRESS, 4, v);
}

/*
 * A write covering the low byte of PCI_COMMAND may switch memory or I/O
 * decoding.  Turning memory decode off zaps every BAR mmap first; both
 * happen under memory_lock held for writing, so no BAR access or fault is
 * in flight while the hardware's decode state changes.
 */
static int vpt_cfg_write_command(struct vpt_pci_device *vpci,
				 unsigned int pos, unsigned int n, u32 val)
{
	u8 cmd = vpt_cfg_byte(pos, val, PCI_COMMAND);
	bool new_mem = cmd & PCI_COMMAND_MEMORY;
	bool new_io = cmd & PCI_COMMAND_IO;
	int ret;

	if (!new_mem)
		vpt_pci_zap_and_down_write_memory_lock(vpci);
	else
		down_write(&vpci->memory_lock);

	/*
	 * A reset the driver did not see (device-specific, or by a
	 * function sharing it) may have cleared the BARs: put them back
	 * before the user turns decoding on.
	 */
	if ((new_mem || new_io) && vpt_pci_hw_bars_changed(vpci))
		vpt_pci_hw_bars_restore(vpci);

	ret = vpt_cfg_write_perm(vpci, pos, n, val);
	if (!ret) {
		vpci->virt_mem = new_mem;
		vpci->virt_io = new_io;
	}
	up_write(&vpci->memory_lock);
	return ret;
}

/* PCI Express DEVCTL: a write of the FLR bit resets the function. */
static int vpt_cfg_exp_devctl(struct vpt_pci_device *vpci)
{
	unsigned int reg = vpci->cfg.exp_pos + PCI_EXP_DEVCTL;
	u16 ctl = vpt_cfg_get(&vpci->cfg, vpci->cfg.vconfig, reg, 2);
	u32 cap;
	int ret;

	if (!(ctl & PCI_EXP_DEVCTL_BCR_FLR))
		return 0;
	/* The bit always reads as zero. */
	vpt_cfg_put(&vpci->cfg, vpci->cfg.vconfig, reg, 2, ctl & ~PCI_EXP_DEVCTL_BCR_FLR);

	ret = pci_user_read_config_dword(vpci->pdev, vpci->cfg.exp_pos +
					 PCI_EXP_DEVCAP, &cap);
	if (ret || !(cap & PCI_EXP_DEVCAP_FLR))
		return 0;
	/*
	 * The reset method is whatever the PCI core picks: FLR for most
	 * such devices.  A failed reset is not the write's failure.
	 */
	vpt_pci_reset(vpci);
	return 0;
}

static int vpt_cfg_write(struct vpt_pci_device *vpci, unsigned int pos,
			 unsigned int n, u32 val)
{
	struct vpt_pci_config *cfg = &vpci->cfg;
	unsigned int reg;
	int ret;

	lockdep_assert_held(&vpci->config_lock);

	if (vpt_cfg_overlaps(pos, n, PCI_COMMAND, 1))
		ret = vpt_cfg_write_command(vpci, pos, n, val);
	else
		ret = vpt_cfg_write_perm(vpci, pos, n, val);
	if (ret)
		return ret;

	/* DisINTx is virtual: it masks the user's INTx instead. */
	if (vpt_cfg_overlaps(pos, n, PCI_COMMAND + 1, 1))
		vpt_pci_intr_virq_disable(vpci, cfg->vconfig[PCI_COMMAND + 1] &
					  (PCI_COMMAND_INTX_DISABLE >> 8));

	/* STATUS: write one to clear the virtual error bits. */
	for (reg = PCI_STATUS; reg < PCI_STATUS + 2; reg++) {
		if (vpt_cfg_overlaps(pos, n, reg, 1))
			cfg->vconfig[reg] &= ~(vpt_cfg_byte(pos, val, reg) &
					      (u8)(VPT_STATUS_RW1C >>
						   (8 * (reg - PCI_STATUS))));
	}

	if (vpt_cfg_overlaps(pos, n, PCI_BASE_ADDRESS_0, 6 * 4) ||
	    vpt_cfg_overlaps(pos, n, PCI_ROM_ADDRESS, 4))
		vpt_cfg_bar_fixup(vpci);

	/* A write of PMCSR's low byte asks for its power state. */
	if (cfg->pm_pos &&
	    vpt_cfg_overlaps(pos, n, cfg->pm_pos + PCI_PM_CTRL, 1))
		vpt_pci_power_write_pmcsr(vpci, vpt_cfg_byte(pos, val,
							     cfg->pm_pos +
							     PCI_PM_CTRL));

	if (cfg->exp_pos &&
	    vpt_cfg_overlaps(pos, n, cfg->exp_pos + PCI_EXP_DEVCTL, 2))
		return vpt_cfg_exp_devctl(vpci);
	return 0;
}

/**
 * vpt_pci_config_rw() - read(2)/write(2) on the config region
 * @vpci: the device
 * @buf: user buffer
 * @count: bytes
 * @ppos: file position (region index in the upper bits)
 * @iswrite: write rather than read
 *
 * The access is split into naturally aligned 1, 2 and 4 byte pieces.  As
 * upstream, a range not wholly inside config space fails with -EFAULT.
 *
 * Return: @count or a negative errno.
 */
ssize_t vpt_pci_config_rw(struct vpt_pci_device *vpci, char __user *buf,
			  size_t count, loff_t *ppos, bool iswrite)
{
	u64 pos = *ppos & VPT_PCI_OFFSET_MASK;
	u64 size = vpci->cfg.size;
	size_t done = 0;

	if (!count)
		return 0;
	if (pos >= size || count > size - pos)
		return -EFAULT;

	while (done < count) {
		size_t left = count - done;
		unsigned int n;
		__le32 le = 0;
		u32 val = 0;
		int ret;

		if (left >= 4 && !(pos % 4))
			n = 4;
		else if (left >= 2 && !(pos % 2))
			n = 2;
		else
			n = 1;

		/* User memory is touched without any of our locks held. */
		if (iswrite) {
			if (vpt_pci_copy_user(&le, buf + done, n, false))
				return -EFAULT;
			val = le32_to_cpu(le);
		}

		mutex_lock(&vpci->config_lock);
		if (iswrite)
			ret = vpt_cfg_write(vpci, pos, n, val);
		else
			ret = vpt_cfg_read(vpci, pos, n, &val);
		mutex_unlock(&vpci->config_lock);
		if (ret)
			return ret;

		if (!iswrite) {
			le = cpu_to_le32(val);
			if (vpt_pci_copy_user(&le, buf + done, n, true))
				return -EFAULT;
		}
		pos += n;
		done += n;
	}
	*ppos += done;
	return done;
}

/* Permissions of the standard header. */
static void vpt_cfg_init_header(struct vpt_pci_device *vpci)
{
	struct vpt_pci_config *cfg = &vpci->cfg;

	vpt_cfg_perm(cfg, PCI_VENDOR_ID, 2, 0xffff, 0);
	vpt_cfg_perm(cfg, PCI_DEVICE_ID, 2, 0xffff, 0);
	vpt_cfg_perm(cfg, PCI_COMMAND, 2, 0xffff & ~VPT_COMMAND_HW,
		     VPT_COMMAND_DEFINED);
	vpt_cfg_perm(cfg, PCI_STATUS, 2, PCI_STATUS_CAP_LIST | VPT_STATUS_RW1C,
		     0);
	vpt_cfg_perm(cfg, PCI_CACHE_LINE_SIZE, 1, 0, 0xff);
	vpt_cfg_perm(cfg, PCI_LATENCY_TIMER, 1, 0, 0xff);
	vpt_cfg_perm(cfg, PCI_BASE_ADDRESS_0, 4, VPT_CFG_ALL, VPT_CFG_ALL);
	vpt_cfg_perm(cfg, PCI_BASE_ADDRESS_1, 4, VPT_CFG_ALL, VPT_CFG_ALL);
	vpt_cfg_perm(cfg, PCI_BASE_ADDRESS_2, 4, VPT_CFG_ALL, VPT_CFG_ALL);
	vpt_cfg_perm(cfg, PCI_BASE_ADDRESS_3, 4, VPT_CFG_ALL, VPT_CFG_ALL);
	vpt_cfg_perm(cfg, PCI_BASE_ADDRESS_4, 4, VPT_CFG_ALL, VPT_CFG_ALL);
	vpt_cfg_perm(cfg, PCI_BASE_ADDRESS_5, 4, VPT_CFG_ALL, VPT_CFG_ALL);
	vpt_cfg_perm(cfg, PCI_ROM_ADDRESS, 4, VPT_CFG_ALL, VPT_CFG_ALL);
	vpt_cfg_perm(cfg, PCI_CAPABILITY_LIST, 1, 0xff, 0);
	vpt_cfg_perm(cfg, PCI_INTERRUPT_LINE, 1, 0xff, 0xff);
	vpt_cfg_perm(cfg, PCI_INTERRUPT_PIN, 1, 0xff, 0);
}

/*
 * An SR-IOV VF reads ffff for its vendor and device ID (the PF's SR-IOV
 * capability holds them), and a VF, like any function the PCI core marks
 * no_command_memory, has no memory enable of its own: the PF's SR-IOV
 * memory enable decodes its BARs.  Upstream shows the IDs the PCI core
 * recorded and a memory enable bit set at open; so does vpt.  The bit is
 * virtual and not written through (it is read-only zero in hardware), but
 * it still gates BAR access and mmaps as on any function: a user that
 * clears it sees its BARs unreachable, as with a PF (upstream lets the
 * access through: a deliberate difference, see userspace-api.rst).
 */
static void vpt_cfg_init_nocmdmem(struct vpt_pci_device *vpci)
{
	struct vpt_pci_config *cfg = &vpci->cfg;
	struct pci_dev *pdev = vpci->pdev;
	u16 cmd;

	if (pdev->is_virtfn) {
		vpt_cfg_put(cfg, cfg->vconfig, PCI_VENDOR_ID, 2, pdev->vendor);
		vpt_cfg_put(cfg, cfg->vconfig, PCI_DEVICE_ID, 2, pdev->device);
	}
	if (!pdev->no_command_memory)
		return;
	vpt_cfg_perm(cfg, PCI_COMMAND, 2, 0xffff & ~VPT_COMMAND_HW_NOMEM,
		     VPT_COMMAND_DEFINED);
	cmd = vpt_cfg_get(cfg, cfg->vconfig, PCI_COMMAND, 2);
	vpt_cfg_put(cfg, cfg->vconfig, PCI_COMMAND, 2,
		    cmd | PCI_COMMAND_MEMORY);
}

/*
 * Length of the standard capability @id at @pos as presented to the
 * user, 0 to hide it.  Everything is read from the snapshot in vconfig,
 * never again from the device: the layout that vpt_cfg_init_msi() and
 * the others lay out is taken from that same snapshot, so a device that
 * changes its registers between two reads cannot make the two disagree.
 * Lengths that depend on device data are bounded by the caller against
 * the end of config space.
 */
static unsigned int vpt_cfg_cap_len(struct vpt_pci_device *vpci, u8 id,
				    unsigned int pos)
{
	struct vpt_pci_config *cfg = &vpci->cfg;
	unsigned int len;
	u16 word;
	u8 byte;

	switch (id) {
	case PCI_CAP_ID_PM:
		return PCI_PM_SIZEOF;
	case PCI_CAP_ID_MSI:
		word = vpt_cfg_get(cfg, cfg->vconfig, pos + PCI_MSI_FLAGS, 2);
		len = 10;
		if (word & PCI_MSI_FLAGS_64BIT)
			len += 4;
		if (word & PCI_MSI_FLAGS_MASKBIT)
			len += 10;
		return len;
	case PCI_CAP_ID_MSIX:
		return PCI_CAP_MSIX_SIZEOF;
	case PCI_CAP_ID_EXP:
		word = vpt_cfg_get(cfg, cfg->vconfig, pos + PCI_EXP_FLAGS, 2);
		if ((word & PCI_EXP_FLAGS_VERS) < 2)
			return PCI_CAP_EXP_ENDPOINT_SIZEOF_V1;
		return PCI_EXP_SLTSTA2 + 2;
	case PCI_CAP_ID_VNDR:
		byte = vpt_cfg_get(cfg, cfg->vconfig, pos + PCI_CAP_FLAGS, 1);
		return byte >= PCI_CAP_FLAGS + 1 ? byte : 0;
	case PCI_CAP_ID_PCIX:
		word = vpt_cfg_get(cfg, cfg->vconfig, pos + PCI_X_CMD, 2);
		return PCI_X_CMD_VERSION(word) ? PCI_CAP_PCIX_SIZEOF_V2 :
						 PCI_CAP_PCIX_SIZEOF_V0;
	case PCI_CAP_ID_AF:
		return PCI_CAP_AF_SIZEOF;
	default:
		/* VPD, AGP, HT, bridge-only and unknown: hidden. */
		return 0;
	}
}

static void vpt_cfg_init_msi(struct vpt_pci_device *vpci, unsigned int pos)
{
	struct vpt_pci_config *cfg = &vpci->cfg;
	u16 flags = vpt_cfg_get(cfg, cfg->vconfig, pos + PCI_MSI_FLAGS, 2);
	bool is64 = flags & PCI_MSI_FLAGS_64BIT;
	unsigned int data = pos + (is64 ? PCI_MSI_DATA_64 : PCI_MSI_DATA_32);
	unsigned int mask = pos + (is64 ? PCI_MSI_MASK_64 : PCI_MSI_MASK_32);

	cfg->msi_pos = pos;
	/*
	 * The user's view starts with nothing programmed; enable and queue
	 * size are SET_IRQS's (see vpt_cfg_irq_overlay()), not writable.
	 */
	flags &= ~(PCI_MSI_FLAGS_ENABLE | PCI_MSI_FLAGS_QSIZE);
	vpt_cfg_put(cfg, cfg->vconfig, pos + PCI_MSI_FLAGS, 2, flags);
	vpt_cfg_perm(cfg, pos + PCI_MSI_FLAGS, 2, 0xffff, 0);

	vpt_cfg_put(cfg, cfg->vconfig, pos + PCI_MSI_ADDRESS_LO, 4, 0);
	vpt_cfg_perm(cfg, pos + PCI_MSI_ADDRESS_LO, 4, VPT_CFG_ALL, ~3U);
	if (is64) {
		vpt_cfg_put(cfg, cfg->vconfig, pos + PCI_MSI_ADDRESS_HI, 4, 0);
		vpt_cfg_perm(cfg, pos + PCI_MSI_ADDRESS_HI, 4, VPT_CFG_ALL,
			     VPT_CFG_ALL);
	}
	vpt_cfg_put(cfg, cfg->vconfig, data, 2, 0);
	vpt_cfg_perm(cfg, data, 2, 0xffff, 0xffff);
	if (flags & PCI_MSI_FLAGS_MASKBIT) {
		/* Pending bits (after the mask) stay read-only. */
		vpt_cfg_put(cfg, cfg->vconfig, mask, 4, 0);
		vpt_cfg_perm(cfg, mask, 4, VPT_CFG_ALL, VPT_CFG_ALL);
	}
}

static void vpt_cfg_init_msix(struct vpt_pci_device *vpci, unsigned int pos)
{
	struct vpt_pci_config *cfg = &vpci->cfg;
	u16 flags = vpt_cfg_get(cfg, cfg->vconfig, pos + PCI_MSIX_FLAGS, 2);

	cfg->msix_pos = pos;
	/* Enable is SET_IRQS's; the function mask is only stored. */
	flags &= ~(PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
	vpt_cfg_put(cfg, cfg->vconfig, pos + PCI_MSIX_FLAGS, 2, flags);
	vpt_cfg_perm(cfg, pos + PCI_MSIX_FLAGS, 2, 0xffff,
		     PCI_MSIX_FLAGS_MASKALL);
}

static void vpt_cfg_init_pm(struct vpt_pci_device *vpci, unsigned int pos)
{
	struct vpt_pci_config *cfg = &vpci->cfg;
	const u16 pme = PCI_PM_CTRL_PME_ENABLE | PCI_PM_CTRL_PME_STATUS;
	u16 v;

	cfg->pm_pos = pos;
	v = vpt_cfg_get(cfg, cfg->vconfig, pos + PCI_PM_PMC, 2);
	vpt_cfg_put(cfg, cfg->vconfig, pos + PCI_PM_PMC, 2,
		    v & ~PCI_PM_CAP_PME_MASK);
	vpt_cfg_perm(cfg, pos + PCI_PM_PMC, 2, PCI_PM_CAP_PME_MASK, 0);
	v = vpt_cfg_get(cfg, cfg->vconfig, pos + PCI_PM_CTRL, 2);
	vpt_cfg_put(cfg, cfg->vconfig, pos + PCI_PM_CTRL, 2, v & ~pme);
	/* The state field is neither: vpt_cfg_write() traps it. */
	vpt_cfg_perm(cfg, pos + PCI_PM_CTRL, 2, pme,
		     PCI_PM_CTRL_DATA_SEL_MASK);
}

static void vpt_cfg_init_exp(struct vpt_pci_device *vpci, unsigned int pos,
			     unsigned int len)
{
	struct vpt_pci_config *cfg = &vpci->cfg;
	u16 ctl;

	cfg->exp_pos = pos;
	ctl = vpt_cfg_get(cfg, cfg->vconfig, pos + PCI_EXP_DEVCTL, 2);
	vpt_cfg_put(cfg, cfg->vconfig, pos + PCI_EXP_DEVCTL, 2,
		    ctl & ~PCI_EXP_DEVCTL_BCR_FLR);
	vpt_cfg_perm(cfg, pos + PCI_EXP_DEVCTL, 2,
		     PCI_EXP_DEVCTL_BCR_FLR | PCI_EXP_DEVCTL_PAYLOAD |
		     PCI_EXP_DEVCTL_READRQ,
		     0xffff & ~PCI_EXP_DEVCTL_PHANTOM);
	/* ARI forwarding is the host's business. */
	if (len >= PCI_EXP_DEVCTL2 + 2)
		vpt_cfg_perm(cfg, pos + PCI_EXP_DEVCTL2, 2, 0,
			     0xffff & ~PCI_EXP_DEVCTL2_ARI);
}

/*
 * Walk the standard capability list of the device.  Pointers come from
 * the device: each must lie past the header with room for the capability,
 * be visited once, and not overlap one already kept.  The presented chain
 * links the kept capabilities only.
 */
static void vpt_cfg_init_caps(struct vpt_pci_device *vpci)
{
	DECLARE_BITMAP(used, PCI_CFG_SPACE_SIZE);
	DECLARE_BITMAP(visited, PCI_CFG_SPACE_SIZE / 4);
	struct vpt_pci_config *cfg = &vpci->cfg;
	struct pci_dev *pdev = vpci->pdev;
	unsigned int prev = PCI_CAPABILITY_LIST, loops, kept = 0;
	u16 status;
	u8 pos = 0;

	bitmap_zero(used, PCI_CFG_SPACE_SIZE);
	bitmap_zero(visited, PCI_CFG_SPACE_SIZE / 4);
	/* The snapshot, as for the lengths (see vpt_cfg_cap_len()). */
	status = vpt_cfg_get(cfg, cfg->vconfig, PCI_STATUS, 2);
	if (status & PCI_STATUS_CAP_LIST)
		pos = cfg->vconfig[PCI_CAPABILITY_LIST];

	for (loops = 0; loops < VPT_CAP_MAX_LOOPS; loops++) {
		unsigned int len;
		u8 id, next;

		pos &= ~3;
		if (pos < PCI_STD_HEADER_SIZEOF)
			break;		/* end of list, or a bogus pointer */
		if (test_and_set_bit(pos / 4, visited)) {
			pci_dbg(pdev, "capability loop at %#x\n", pos);
			break;
		}
		id = cfg->vconfig[pos + PCI_CAP_LIST_ID];
		next = cfg->vconfig[pos + PCI_CAP_LIST_NEXT];

		len = vpt_cfg_cap_len(vpci, id, pos);
		if (len && (pos + len > PCI_CFG_SPACE_SIZE ||
			    find_next_bit(used, pos + len, pos) < pos + len)) {
			pci_dbg(pdev, "capability %#x@%#x: bad length %u\n",
				id, pos, len);
			len = 0;
		}
		if (!len) {
			pci_dbg(pdev, "hiding capability %#x@%#x\n", id, pos);
			pos = next;
			continue;
		}

		bitmap_set(used, pos, len);
		cfg->vconfig[prev] = pos;
		prev = pos + PCI_CAP_LIST_NEXT;
		vpt_cfg_perm(cfg, pos, 2, 0xffff, 0);
		switch (id) {
		case PCI_CAP_ID_MSI:
			vpt_cfg_init_msi(vpci, pos);
			break;
		case PCI_CAP_ID_MSIX:
			vpt_cfg_init_msix(vpci, pos);
			break;
		case PCI_CAP_ID_EXP:
			vpt_cfg_init_exp(vpci, pos, len);
			break;
		case PCI_CAP_ID_PM:
			vpt_cfg_init_pm(vpci, pos);
			break;
		}
		kept++;
		pos = next;
	}
	cfg->vconfig[prev] = 0;

	if (!kept) {
		u16 v = vpt_cfg_get(cfg, cfg->vconfig, PCI_STATUS, 2);

		vpt_cfg_put(cfg, cfg->vconfig, PCI_STATUS, 2,
			    v & ~PCI_STATUS_CAP_LIST);
	}
}

/*
 * Walk the extended capability list (PCI Express only), bounded by the
 * device's cfg_size.  Every capability is shown read-only; the headers
 * are virtual so that a loop or an out-of-range pointer ends the chain.
 */
static int vpt_cfg_init_ecaps(struct vpt_pci_device *vpci)
{
	struct vpt_pci_config *cfg = &vpci->cfg;
	struct pci_dev *pdev = vpci->pdev;
	unsigned int pos = PCI_CFG_SPACE_SIZE, prev = 0, loops;
	unsigned long *seen;
	u32 hdr;

	if (cfg->size <= PCI_CFG_SPACE_SIZE)
		return 0;
	seen = bitmap_zalloc(cfg->size / 4, GFP_KERNEL);
	if (!seen)
		return -ENOMEM;

	for (loops = 0; loops < (cfg->size - PCI_CFG_SPACE_SIZE) / 4; loops++) {
		unsigned int next;

		if (pci_read_config_dword(pdev, pos, &hdr) || !hdr ||
		    hdr == ~0U || test_and_set_bit(pos / 4, seen))
			break;

		if (prev) {
			u32 p = vpt_cfg_get(cfg, cfg->vconfig, prev, 4);

			p = (p & ~(0xfffU << 20)) | (pos << 20);
			vpt_cfg_put(cfg, cfg->vconfig, prev, 4, p);
		}
		vpt_cfg_put(cfg, cfg->vconfig, pos, 4, hdr & ~(0xfffU << 20));
		vpt_cfg_perm(cfg, pos, 4, VPT_CFG_ALL, 0);
		prev = pos;

		next = PCI_EXT_CAP_NEXT(hdr);
		if (next < PCI_CFG_SPACE_SIZE || next + 4 > cfg->size)
			break;
		pos = next;
	}
	bitmap_free(seen);
	return 0;
}

/**
 * vpt_pci_config_init() - build the virtual config space at open
 * @vpci: the device, enabled, not yet reachable by the user
 *
 * Return: 0 or -ENOMEM.
 */
int vpt_pci_config_init(struct vpt_pci_device *vpci)
{
	struct vpt_pci_config *cfg = &vpci->cfg;
	struct pci_dev *pdev = vpci->pdev;
	unsigned int pos;
	u16 cmd;
	int ret;

	mutex_lock(&vpci->config_lock);
	cfg->size = pdev->cfg_size;
	cfg->msi_pos = 0;
	cfg->msix_pos = 0;
	cfg->exp_pos = 0;
	cfg->pm_pos = 0;
	cfg->vconfig = kzalloc(cfg->size, GFP_KERNEL_ACCOUNT);
	cfg->virt = kzalloc(cfg->size, GFP_KERNEL_ACCOUNT);
	cfg->write = kzalloc(cfg->size, GFP_KERNEL_ACCOUNT);
	if (!cfg->vconfig || !cfg->virt || !cfg->write) {
		ret = -ENOMEM;
		goto err;
	}

	for (pos = 0; pos < cfg->size; pos += 4) {
		u32 v;

		if (pci_read_config_dword(pdev, pos, &v))
			v = ~0U;
		vpt_cfg_put(cfg, cfg->vconfig, pos, 4, v);
	}

	vpt_cfg_init_header(vpci);
	vpt_cfg_init_nocmdmem(vpci);
	vpt_cfg_bar_fixup(vpci);
	vpt_cfg_init_caps(vpci);
	ret = vpt_cfg_init_ecaps(vpci);
	if (ret)
		goto err;

	cmd = vpt_cfg_get(cfg, cfg->vconfig, PCI_COMMAND, 2);
	vpt_pci_intr_virq_disable(vpci, cmd & PCI_COMMAND_INTX_DISABLE);
	down_write(&vpci->memory_lock);
	vpci->virt_mem = cmd & PCI_COMMAND_MEMORY;
	vpci->virt_io = cmd & PCI_COMMAND_IO;
	up_write(&vpci->memory_lock);
	mutex_unlock(&vpci->config_lock);
	return 0;

err:
	mutex_unlock(&vpci->config_lock);
	vpt_pci_config_free(vpci);
	return ret;
}

/**
 * vpt_pci_config_free() - free the virtual config space at close
 * @vpci: the device
 */
void vpt_pci_config_free(struct vpt_pci_device *vpci)
{
	struct vpt_pci_config *cfg = &vpci->cfg;

	mutex_lock(&vpci->config_lock);
	kfree(cfg->vconfig);
	kfree(cfg->virt);
	kfree(cfg->write);
	cfg->vconfig = NULL;
	cfg->virt = NULL;
	cfg->write = NULL;
	mutex_unlock(&vpci->config_lock);
}
