// SPDX-License-Identifier: GPL-2.0
/*
 * vpt_pci_power.c - power management, with upstream vfio-pci's
 * semantics: runtime PM of a bound function, the low-power features of
 * VFIO_DEVICE_FEATURE, and power states the user sets through PMCSR.
 *
 * Runtime PM: probe allows it and, unless disable_idle_d3 is set, drops
 * the reference the PCI core's probe holds, so that a function nobody
 * has open idles in D3hot (the PCI core saves and restores its config
 * state around that).  Opening the device takes a reference; so does
 * every ioctl and every read/write while it runs, which resumes the
 * device for it.  LOW_POWER_ENTRY gives up the open's reference, so the
 * device suspends once the ioctl returns; LOW_POWER_EXIT, or with
 * LOW_POWER_ENTRY_WITH_WAKEUP any resume (the next access), takes it
 * back, the latter signalling the user's eventfd.  While low power is
 * engaged mmaps fault SIGBUS; a read or write resumes the device for its
 * own sake, as upstream.
 *
 * PMCSR: the user's write of the power state field is carried out by
 * the PCI core (pci_set_power_state()), with the BAR mmaps zapped and
 * BAR access locked out first; while the function is in D3hot its BARs
 * are unreachable (vpt_pci_memory_enabled()).  A function that loses its
 * state in D3hot (No_Soft_Reset clear) gets it back on its way to D0.
 *
 * Locking: @pm_engaged, @pm_wake, @pm_save, @pm_hold_d0 under memory_lock,
 * taken for writing (@pm_engaged is also read without it, by an access
 * deciding whether it must resume the device); the runtime PM callbacks take it too, so nothing
 * may resume the device with memory_lock (or a lock above it) held.
 */
#include <linux/eventfd.h>
#include <linux/moduleparam.h>
#include <linux/pci.h>
#include <linux/pm_runtime.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vfio.h>

#include "vpt_compat.h"
#include "vpt_pci_priv.h"

static bool disable_idle_d3;
module_param(disable_idle_d3, bool, 0644);
MODULE_PARM_DESC(disable_idle_d3,
		 "Keep bound but unused functions in D0 instead of D3hot (applies to functions bound afterwards)");

/* pci_power_t is __bitwise: its states are ordered by depth. */
static int vpt_pci_power_depth(pci_power_t state)
{
	return (__force int)state;
}

/**
 * vpt_pci_power_set_state() - move the function to @state
 * @vpci: the device, memory_lock held for writing (BAR mmaps zapped
 *        by the caller when leaving D0)
 * @state: the target state
 *
 * Return: 0 or the PCI core's errno; -EBUSY for a PF with VFs enabled
 * (or being enabled) leaving D0, as upstream.
 */
int vpt_pci_power_set_state(struct vpt_pci_device *vpci, pci_power_t state)
{
	struct pci_dev *pdev = vpci->pdev;
	int cur = vpt_pci_power_depth(pdev->current_state);
	int want = vpt_pci_power_depth(state);
	int d0 = vpt_pci_power_depth(PCI_D0), d3 = vpt_pci_power_depth(PCI_D3hot);
	bool save = false, restore = false;
	int ret;

	lockdep_assert_held_write(&vpci->memory_lock);
	if ((pci_num_vf(pdev) || vpci->pm_hold_d0) && want > d0)
		return -EBUSY;

	if (vpci->needs_pm_restore) {
		if (cur < d3 && want >= d3) {
			pci_save_state(pdev);
			save = true;
		}
		if (cur >= d3 && want <= d0)
			restore = true;
	}

	ret = pci_set_power_state(pdev, state);
	if (ret)
		return ret;
	/* A quirk may keep the function out of D3hot: save only if in it. */
	if (save && vpt_pci_power_depth(pdev->current_state) >= d3) {
		kfree(vpci->pm_save);
		vpci->pm_save = pci_store_saved_state(pdev);
	} else if (restore && vpci->pm_save) {
		pci_load_and_free_saved_state(pdev, &vpci->pm_save);
		pci_restore_state(pdev);
	}
	return 0;
}

/**
 * vpt_pci_power_in_d3() - whether the function is in D3 (BARs off)
 * @vpci: the device, memory_lock held
 *
 * Return: true in D3hot or D3cold.
 */
bool vpt_pci_power_in_d3(struct vpt_pci_device *vpci)
{
	lockdep_assert_held(&vpci->memory_lock);
	return vpt_pci_power_depth(vpci->pdev->current_state) >=
	       vpt_pci_power_depth(PCI_D3hot);
}

/**
 * vpt_pci_power_write_pmcsr() - the user wrote PMCSR's power state field
 * @vpci: the device, config_lock held
 * @ctl: the value written
 */
void vpt_pci_power_write_pmcsr(struct vpt_pci_device *vpci, u16 ctl)
{
	static const pci_power_t states[] = {
		PCI_D0, PCI_D1, PCI_D2, PCI_D3hot,
	};

	lockdep_assert_held(&vpci->config_lock);
	vpt_pci_zap_and_down_write_memory_lock(vpci);
	vpt_pci_power_set_state(vpci, states[ctl & PCI_PM_CTRL_STATE_MASK]);
	up_write(&vpci->memory_lock);
}

/* Give the open's reference back to runtime PM: memory_lock held. */
static int vpt_pci_power_entry(struct vpt_pci_device *vpci,
			       struct eventfd_ctx *wake)
{
	vpt_pci_zap_and_down_write_memory_lock(vpci);
	if (vpci->pm_engaged) {
		up_write(&vpci->memory_lock);
		return -EINVAL;
	}
	WRITE_ONCE(vpci->pm_engaged, true);
	vpci->pm_wake = wake;
	/* The ioctl's own reference goes on return: then it may suspend. */
	pm_runtime_put_noidle(&vpci->pdev->dev);
	up_write(&vpci->memory_lock);
	return 0;
}

/* Take the open's reference back, if low power is engaged. */
static void vpt_pci_power_exit_locked(struct vpt_pci_device *vpci)
{
	lockdep_assert_held_write(&vpci->memory_lock);
	if (!vpci->pm_engaged)
		return;
	WRITE_ONCE(vpci->pm_engaged, false);
	pm_runtime_get_noresume(&vpci->pdev->dev);
	if (vpci->pm_wake) {
		eventfd_ctx_put(vpci->pm_wake);
		vpci->pm_wake = NULL;
	}
}

static void vpt_pci_power_exit(struct vpt_pci_device *vpci)
{
	down_write(&vpci->memory_lock);
	vpt_pci_power_exit_locked(vpci);
	up_write(&vpci->memory_lock);
}

/**
 * vpt_pci_power_feature() - the low-power features of VFIO_DEVICE_FEATURE
 * @vpci: the device
 * @feature: VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY, _ENTRY_WITH_WAKEUP or
 *           _EXIT
 * @flags: the request's flags
 * @arg: the payload (struct vfio_device_low_power_entry_with_wakeup)
 * @argsz: its size
 *
 * SET only.  The device is active here: the ioctl holds a runtime PM
 * reference.
 *
 * Return: 0; -EINVAL for GET, a short payload, entry while in low power
 * or a wake-up fd below 0; -EBADF or -EINVAL for a wake-up fd that is
 * closed or not an eventfd; -EFAULT.
 */
int vpt_pci_power_feature(struct vpt_pci_device *vpci, u32 feature,
			  u32 flags, void __user *arg, size_t argsz)
{
	struct vfio_device_low_power_entry_with_wakeup entry;
	struct eventfd_ctx *wake;
	int ret;

	switch (feature) {
	case VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY:
		ret = vpt_pci_feature_check(flags, argsz,
					    VFIO_DEVICE_FEATURE_SET, 0);
		return ret != 1 ? ret : vpt_pci_power_entry(vpci, NULL);
	case VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY_WITH_WAKEUP:
		ret = vpt_pci_feature_check(flags, argsz,
					    VFIO_DEVICE_FEATURE_SET,
					    sizeof(entry));
		if (ret != 1)
			return ret;
		if (copy_from_user(&entry, arg, sizeof(entry)))
			return -EFAULT;
		if (entry.wakeup_eventfd < 0)
			return -EINVAL;
		wake = eventfd_ctx_fdget(entry.wakeup_eventfd);
		if (IS_ERR(wake))
			return PTR_ERR(wake);
		ret = vpt_pci_power_entry(vpci, wake);
		if (ret)
			eventfd_ctx_put(wake);
		return ret;
	default:
		ret = vpt_pci_feature_check(flags, argsz,
					    VFIO_DEVICE_FEATURE_SET, 0);
		if (ret != 1)
			return ret;
		/*
		 * After a wake-up the resume ended low power already; then
		 * this does nothing.
		 */
		vpt_pci_power_exit(vpci);
		return 0;
	}
}

/**
 * vpt_pci_power_engaged() - whether low power is engaged (mmaps fault)
 * @vpci: the device, memory_lock held
 *
 * Return: true between LOW_POWER_ENTRY* and its end.
 */
bool vpt_pci_power_engaged(struct vpt_pci_device *vpci)
{
	lockdep_assert_held(&vpci->memory_lock);
	return vpci->pm_engaged;
}

/**
 * vpt_pci_power_get() - resume the function for an access
 * @vpci: the device, no lock of ours held
 *
 * Return: 0, or the runtime PM errno (the access fails with it).
 */
int vpt_pci_power_get(struct vpt_pci_device *vpci)
{
	return pm_runtime_resume_and_get(&vpci->pdev->dev);
}

/**
 * vpt_pci_power_put() - the access is over
 * @vpci: the device
 */
void vpt_pci_power_put(struct vpt_pci_device *vpci)
{
	pm_runtime_put(&vpci->pdev->dev);
}

/**
 * vpt_pci_power_access_get() - resume the function for a read or write
 * @vpci: the device, open, no lock of ours held
 * @held: set to whether a reference was taken (pass it to
 *        vpt_pci_power_access_put())
 *
 * The open's reference keeps the device active unless low power is
 * engaged, so only then does an access take one of its own, as
 * upstream's always does: that keeps the PM core's spinlock off every
 * access.  A LOW_POWER_ENTRY racing with the access cannot suspend the
 * device under a BAR access: the suspend callback waits for
 * memory_lock, which the access holds.
 *
 * Return: 0, or the runtime PM errno.
 */
int vpt_pci_power_access_get(struct vpt_pci_device *vpci, bool *held)
{
	*held = READ_ONCE(vpci->pm_engaged);
	return *held ? vpt_pci_power_get(vpci) : 0;
}

/**
 * vpt_pci_power_access_put() - the read or write is over
 * @vpci: the device
 * @held: what vpt_pci_power_access_get() said
 */
void vpt_pci_power_access_put(struct vpt_pci_device *vpci, bool held)
{
	if (held)
		vpt_pci_power_put(vpci);
}

/**
 * vpt_pci_power_open() - the device is being opened: active, in D0
 * @vpci: the device
 *
 * Return: 0 or the runtime PM errno.
 */
int vpt_pci_power_open(struct vpt_pci_device *vpci)
{
	int ret = vpt_pci_power_get(vpci);

	if (ret)
		return ret;
	down_write(&vpci->memory_lock);
	vpt_pci_power_set_state(vpci, PCI_D0);
	up_write(&vpci->memory_lock);
	return 0;
}

/**
 * vpt_pci_power_close() - the last fd is closing: end low power, D0
 * @vpci: the device, before it is reset
 *
 * Its open's reference is held again on return (vpt_pci_power_put()
 * drops it at the end of close).
 */
void vpt_pci_power_close(struct vpt_pci_device *vpci)
{
	vpt_pci_power_exit(vpci);
	pm_runtime_resume(&vpci->pdev->dev);
	down_write(&vpci->memory_lock);
	vpt_pci_power_set_state(vpci, PCI_D0);
	kfree(vpci->pm_save);
	vpci->pm_save = NULL;
	up_write(&vpci->memory_lock);
}

/**
 * vpt_pci_power_probe() - runtime PM for a function being bound
 * @vpci: the device, drvdata set, not registered yet
 */
void vpt_pci_power_probe(struct vpt_pci_device *vpci)
{
	struct pci_dev *pdev = vpci->pdev;
	u16 pmcsr;

	if (pdev->pm_cap) {
		pci_read_config_word(pdev, pdev->pm_cap + PCI_PM_CTRL, &pmcsr);
		vpci->needs_pm_restore = !(pmcsr & PCI_PM_CTRL_NO_SOFT_RESET);
	}
	/*
	 * The PCI core leaves an unbound function's state unknown; D0
	 * first, so that runtime PM can take it to D3hot from there.
	 */
	down_write(&vpci->memory_lock);
	vpt_pci_power_set_state(vpci, PCI_D0);
	up_write(&vpci->memory_lock);

	pm_runtime_allow(&pdev->dev);
	vpci->idle_d3 = !disable_idle_d3;
	if (vpci->idle_d3)
		pm_runtime_put(&pdev->dev);
}

/**
 * vpt_pci_power_remove() - undo vpt_pci_power_probe()
 * @vpci: the device, being unbound (resumed on return)
 */
void vpt_pci_power_remove(struct vpt_pci_device *vpci)
{
	if (vpci->idle_d3)
		pm_runtime_get_noresume(&vpci->pdev->dev);
	pm_runtime_forbid(&vpci->pdev->dev);
	kfree(vpci->pm_save);
	vpci->pm_save = NULL;
}

/*
 * The PCI core puts the function in D3hot after this: from D0, so that
 * a state the user set is left through the core (and restored).  INTx is
 * masked meanwhile, unless the user had it masked already.
 */
static int vpt_pci_runtime_suspend(struct device *dev)
{
	struct vpt_pci_device *vpci = dev_get_drvdata(dev);

	down_write(&vpci->memory_lock);
	vpt_pci_power_set_state(vpci, PCI_D0);
	up_write(&vpci->memory_lock);
	vpci->pm_intx_masked = vpt_pci_intr_pm_mask(vpci);
	return 0;
}

/* Back in D0 (restored by the PCI core): a wake-up ends low power. */
static int vpt_pci_runtime_resume(struct device *dev)
{
	struct vpt_pci_device *vpci = dev_get_drvdata(dev);

	down_write(&vpci->memory_lock);
	if (vpci->pm_wake) {
		vpt_eventfd_signal(vpci->pm_wake);
		vpt_pci_power_exit_locked(vpci);
	}
	up_write(&vpci->memory_lock);
	if (vpci->pm_intx_masked)
		vpt_pci_intr_pm_unmask(vpci);
	return 0;
}

const struct dev_pm_ops vpt_pci_pm_ops = {
	SET_RUNTIME_PM_OPS(vpt_pci_runtime_suspend, vpt_pci_runtime_resume,
			   NULL)
};
