// SPDX-License-Identifier: GPL-2.0
/*
 * vpt_pci_bar.c - sizing and restoring the hardware BARs.
 *
 * The user never reaches a hardware BAR: sizing through the config region
 * is answered by the virtual config space.  vpt-pci itself writes hardware
 * BARs in two cases: it sizes every BAR once at probe (and again after each
 * reset it performs, to check the device came back as it was), and it
 * restores the BARs recorded at probe after a reset.  Either way, the
 * writes happen with memory and I/O decoding switched off in PCI_COMMAND,
 * so that a transient all-ones value never becomes an address the device
 * decodes (or that a VMM mirrors into an IOMMU).  Devices flagged
 * mmio_always_on cannot have decoding switched off: they are never sized,
 * only restored.  An SR-IOV VF's BAR registers are read-only zero (its
 * PF's SR-IOV capability places and sizes them): they are never written.
 */
#include <linux/pci.h>

#include "vpt_pci_priv.h"

#define VPT_PCI_DECODE	(PCI_COMMAND_MEMORY | PCI_COMMAND_IO)

/**
 * vpt_pci_hw_command_update() - read-modify-write the hardware PCI_COMMAND
 * @vpci: the device
 * @clear: bits to clear
 * @set: bits to set
 *
 * The INTx hard handler and the INTx mask helpers set and clear DisINTx
 * under irqlock; a read-modify-write of PCI_COMMAND outside it could write
 * back a stale DisINTx and unmask a line the handler just masked, so that
 * intx_masked and the hardware bit disagree.  Every other change of the
 * hardware PCI_COMMAND therefore takes irqlock too.
 *
 * Return: PCI_COMMAND as it was before the update.
 */
u16 vpt_pci_hw_command_update(struct vpt_pci_device *vpci, u16 clear, u16 set)
{
	struct pci_dev *pdev = vpci->pdev;
	unsigned long flags;
	u16 cmd, new;

	spin_lock_irqsave(&vpci->irqlock, flags);
	pci_read_config_word(pdev, PCI_COMMAND, &cmd);
	new = (cmd & ~clear) | set;
	if (new != cmd)
		pci_write_config_word(pdev, PCI_COMMAND, new);
	spin_unlock_irqrestore(&vpci->irqlock, flags);
	return cmd;
}

/**
 * vpt_pci_hw_decode_off() - switch memory and I/O decoding off
 * @vpci: the device
 *
 * Return: the PCI_COMMAND value to hand to vpt_pci_hw_decode_restore().
 */
u16 vpt_pci_hw_decode_off(struct vpt_pci_device *vpci)
{
	if (vpci->pdev->mmio_always_on)
		return vpt_pci_hw_command_update(vpci, 0, 0);
	return vpt_pci_hw_command_update(vpci, VPT_PCI_DECODE, 0);
}

/**
 * vpt_pci_hw_decode_restore() - undo vpt_pci_hw_decode_off()
 * @vpci: the device
 * @cmd: the value vpt_pci_hw_decode_off() returned
 *
 * Only the decode bits are put back: DisINTx may have changed meanwhile.
 */
void vpt_pci_hw_decode_restore(struct vpt_pci_device *vpci, u16 cmd)
{
	if (!vpci->pdev->mmio_always_on && (cmd & VPT_PCI_DECODE))
		vpt_pci_hw_command_update(vpci, 0, cmd & VPT_PCI_DECODE);
}

static int vpt_pci_bar_reg(int bar)
{
	return bar == PCI_ROM_RESOURCE ? PCI_ROM_ADDRESS :
	       PCI_BASE_ADDRESS_0 + 4 * bar;
}

/* Whether BAR @bar is the lower half of a 64-bit memory BAR. */
static bool vpt_pci_bar_is_64(struct vpt_pci_device *vpci, int bar)
{
	u32 lo = vpci->rbar[bar];

	return bar < PCI_STD_NUM_BARS - 1 &&
	       !(lo & PCI_BASE_ADDRESS_SPACE_IO) &&
	       (lo & PCI_BASE_ADDRESS_MEM_TYPE_MASK) ==
			PCI_BASE_ADDRESS_MEM_TYPE_64;
}

/**
 * vpt_pci_hw_bars_save() - record the hardware BAR registers
 * @vpci: the device, at probe
 *
 * These are the values vpt_pci_hw_bars_restore() writes back.
 */
void vpt_pci_hw_bars_save(struct vpt_pci_device *vpci)
{
	int bar;

	for (bar = 0; bar < VPT_PCI_NUM_BAR_REGS; bar++)
		pci_read_config_dword(vpci->pdev, vpt_pci_bar_reg(bar),
				      &vpci->rbar[bar]);
}

/*
 * Size one BAR (both halves of a 64-bit one) and leave the recorded value
 * in it.  Decoding must be off.  Returns the size the device decodes.
 */
static u64 vpt_pci_size_one(struct vpt_pci_device *vpci, int bar, bool is64)
{
	struct pci_dev *pdev = vpci->pdev;
	int reg = vpt_pci_bar_reg(bar);
	u32 lo, hi = 0, pattern;
	u64 mask;

	pattern = bar == PCI_ROM_RESOURCE ? PCI_ROM_ADDRESS_MASK : ~0U;
	pci_write_config_dword(pdev, reg, pattern);
	pci_read_config_dword(pdev, reg, &lo);
	if (is64) {
		pci_write_config_dword(pdev, reg + 4, ~0U);
		pci_read_config_dword(pdev, reg + 4, &hi);
	}
	pci_write_config_dword(pdev, reg, vpci->rbar[bar]);
	if (is64)
		pci_write_config_dword(pdev, reg + 4, vpci->rbar[bar + 1]);

	if (lo == ~0U && (!is64 || hi == ~0U))
		return 0;	/* no response: the device is gone */

	if (bar == PCI_ROM_RESOURCE)
		mask = lo & PCI_ROM_ADDRESS_MASK;
	else if (vpci->rbar[bar] & PCI_BASE_ADDRESS_SPACE_IO)
		mask = lo & PCI_BASE_ADDRESS_IO_MASK;
	else
		mask = ((u64)hi << 32 | lo) & PCI_BASE_ADDRESS_MEM_MASK;

	/* The lowest writable address bit is the size. */
	return mask & ~(mask - 1);
}

static void vpt_pci_hw_bars_write(struct vpt_pci_device *vpci, bool size,
				  const char *why)
{
	struct pci_dev *pdev = vpci->pdev;
	u16 cmd;
	int bar;

	if (pdev->is_virtfn) {
		for (bar = 0; bar < VPT_PCI_NUM_BAR_REGS; bar++)
			vpci->hw_size[bar] = pci_resource_len(pdev, bar);
		return;
	}

	/*
	 * Hold off user config accesses (sysfs, and our own config region)
	 * so that nobody reads a transient value.
	 */
	pci_cfg_access_lock(pdev);
	cmd = vpt_pci_hw_decode_off(vpci);

	for (bar = 0; bar < VPT_PCI_NUM_BAR_REGS; bar++) {
		bool is64 = vpt_pci_bar_is_64(vpci, bar);

		if (!pci_resource_len(pdev, bar)) {
			if (is64)
				bar++;
			continue;
		}
		if (size && !pdev->mmio_always_on) {
			vpci->hw_size[bar] = vpt_pci_size_one(vpci, bar, is64);
		} else {
			int reg = vpt_pci_bar_reg(bar);

			pci_write_config_dword(pdev, reg, vpci->rbar[bar]);
			if (is64)
				pci_write_config_dword(pdev, reg + 4,
						       vpci->rbar[bar + 1]);
		}
		if (is64)
			bar++;
	}

	vpt_pci_hw_decode_restore(vpci, cmd);
	pci_cfg_access_unlock(pdev);

	if (!size)
		return;
	/* No printing while decoding was off: the console may be on it. */
	for (bar = 0; bar < VPT_PCI_NUM_BAR_REGS; bar++) {
		u64 len = pci_resource_len(pdev, bar);

		if (!len)
			continue;
		pci_dbg(pdev, "%s: BAR %d hardware size %#llx, resource %#llx%s\n",
			why, bar, vpci->hw_size[bar], len,
			pdev->mmio_always_on ? " (mmio_always_on: not sized)" : "");
		trace_vpt_pci_bar_size(pci_name(pdev), bar, vpci->hw_size[bar],
				       len, pdev->mmio_always_on ? cmd : 0, why);
		if (!pdev->mmio_always_on && vpci->hw_size[bar] != len)
			pci_warn(pdev, "%s: BAR %d sizes to %#llx, resource is %#llx\n",
				 why, bar, vpci->hw_size[bar], len);
	}
}

/**
 * vpt_pci_hw_bars_size() - size every hardware BAR, then restore it
 * @vpci: the device, not accessible by the user (at probe, or with
 *        memory_lock held for writing)
 * @why: for the log
 *
 * Decoding is off throughout; the BARs are left holding the values
 * recorded at probe, and PCI_COMMAND's decode bits as they were.
 */
void vpt_pci_hw_bars_size(struct vpt_pci_device *vpci, const char *why)
{
	vpt_pci_hw_bars_write(vpci, true, why);
}

/**
 * vpt_pci_hw_bars_changed() - whether the hardware BARs lost their values
 * @vpci: the device
 *
 * Return: true if an implemented BAR no longer holds the value recorded at
 * probe (the device was reset behind our back).
 */
bool vpt_pci_hw_bars_changed(struct vpt_pci_device *vpci)
{
	int bar;

	for (bar = 0; bar < PCI_STD_NUM_BARS; bar++) {
		u32 val;

		if (!vpci->rbar[bar])
			continue;
		if (pci_user_read_config_dword(vpci->pdev,
					       vpt_pci_bar_reg(bar), &val) ||
		    val != vpci->rbar[bar])
			return true;
	}
	return false;
}

/**
 * vpt_pci_hw_bars_restore() - write the recorded values back, decode off
 * @vpci: the device, with memory_lock held for writing
 */
void vpt_pci_hw_bars_restore(struct vpt_pci_device *vpci)
{
	lockdep_assert_held_write(&vpci->memory_lock);
	pci_info(vpci->pdev, "restoring BARs after an unexpected reset\n");
	vpt_pci_hw_bars_write(vpci, false, "restore");
}
