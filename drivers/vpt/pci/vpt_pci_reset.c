// SPDX-License-Identifier: GPL-2.0
/*
 * vpt_pci_reset.c - resets: the function reset tried at open (which
 * decides VFIO_DEVICE_FLAGS_RESET), VFIO_DEVICE_RESET, and the slot or
 * bus reset of VFIO_DEVICE_GET_PCI_HOT_RESET_INFO and
 * VFIO_DEVICE_PCI_HOT_RESET, with upstream vfio-pci's semantics.
 *
 * A hot reset resets every function below a slot, or else below the
 * function's bus.  As upstream, every function it affects must be bound
 * to vpt-pci (no host driver is reset under its feet) and the user must
 * prove it owns each of them by passing the fds of their groups.
 *
 * When the last open function of a slot or bus that no function of it
 * could reset alone is closed, the slot or bus is reset, as upstream's
 * "dev set" reset on release: the next user of any of them starts from
 * a reset device.
 *
 * vpt_pci_reset_lock protects vpt_pci_reset_devices, the functions bound
 * to vpt-pci (added at the end of probe, removed at the start of
 * remove), their @opened and @needs_reset, and serialises hot resets and
 * resets on release.  It is taken before any device's memory_lock, which
 * a hot reset only try-locks: two functions' locks are of one class, and
 * a busy one makes the reset -EBUSY, as upstream.  (Waking a function
 * under it takes that function's memory_lock in the runtime PM resume.)
 */
#include <linux/file.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vfio.h>

#include "vpt_pci_priv.h"

static DEFINE_MUTEX(vpt_pci_reset_lock);
static LIST_HEAD(vpt_pci_reset_devices);	/* under vpt_pci_reset_lock */

/* A function reset, BAR mmaps zapped and BAR access locked out. */
static int vpt_pci_function_reset(struct vpt_pci_device *vpci)
{
	int ret;

	vpt_pci_zap_and_down_write_memory_lock(vpci);
	/* A user's PMCSR write may have left it in D3hot. */
	vpt_pci_power_set_state(vpci, PCI_D0);
	ret = pci_try_reset_function(vpci->pdev);
	trace_vpt_pci_reset(pci_name(vpci->pdev), ret);
	if (!ret)
		vpt_pci_hw_bars_size(vpci, "reset");
	up_write(&vpci->memory_lock);
	return ret;
}

/**
 * vpt_pci_reset() - reset the function for the user
 * @vpci: the device
 *
 * BAR mmaps are zapped first and memory_lock keeps BAR access out.  The
 * PCI core saves the config state (MSI/MSI-X included) before the reset
 * and restores it after, BARs first with decoding still off and
 * PCI_COMMAND last; the hardware BARs are then checked against (and if
 * need be restored to) the values recorded at probe, decoding off.  As
 * upstream, the user's interrupt setup stays as it was: enabled vectors
 * and eventfds survive, and the virtual config space is untouched.
 * pci_try_reset_function() picks the function's first working method
 * (FLR, PM reset, or a bus reset when the function is alone below its
 * bridge).
 *
 * Return: 0, -EINVAL if the function could not be reset at open, or the
 * reset's error (-EAGAIN when the device lock is busy).
 */
int vpt_pci_reset(struct vpt_pci_device *vpci)
{
	if (!vpci->reset_works)
		return -EINVAL;
	return vpt_pci_function_reset(vpci);
}

/**
 * vpt_pci_reset_at_open() - hand the user a clean function
 * @vpci: the device, being opened
 *
 * As upstream, whether this reset works is what the device reports as
 * VFIO_DEVICE_FLAGS_RESET: the PCI core lists a bus reset for a function
 * that was alone on its bus when it was enumerated, but refuses it once
 * another function shares the bus.
 *
 * Return: 0, or -EAGAIN if the device lock was busy (the open fails).
 */
int vpt_pci_reset_at_open(struct vpt_pci_device *vpci)
{
	int ret = vpt_pci_function_reset(vpci);

	if (ret == -EAGAIN)
		return ret;
	vpci->reset_works = !ret;
	return 0;
}

/**
 * vpt_pci_reset_add() - make a bound function known to hot resets
 * @vpci: the device, registered with vpt.ko
 */
void vpt_pci_reset_add(struct vpt_pci_device *vpci)
{
	mutex_lock(&vpt_pci_reset_lock);
	list_add_tail(&vpci->reset_entry, &vpt_pci_reset_devices);
	mutex_unlock(&vpt_pci_reset_lock);
}

/**
 * vpt_pci_reset_del() - forget a function being unbound
 * @vpci: the device; no hot reset can reach it once this returns
 */
void vpt_pci_reset_del(struct vpt_pci_device *vpci)
{
	mutex_lock(&vpt_pci_reset_lock);
	list_del(&vpci->reset_entry);
	mutex_unlock(&vpt_pci_reset_lock);
}

/*
 * A walk over the functions a hot reset through @pdev affects: those
 * below its slot if the slot can be reset, else all below its bus.
 */
struct vpt_pci_walk {
	struct pci_dev *pdev;
	bool slot;
	int (*fn)(struct pci_dev *pdev, void *data);
	void *data;
	int ret;
};

static bool vpt_pci_below_slot(struct pci_dev *pdev, struct pci_slot *slot)
{
	for (; pdev; pdev = pdev->bus->self)
		if (pdev->bus == slot->bus)
			return pdev->slot == slot;
	return false;
}

static int vpt_pci_walk_one(struct pci_dev *pdev, void *data)
{
	struct vpt_pci_walk *walk = data;

	if (!walk->slot || vpt_pci_below_slot(pdev, walk->pdev->slot))
		walk->ret = walk->fn(pdev, walk->data);
	return walk->ret;
}

/* Decide slot or bus for @pdev; -ENODEV if it can have neither. */
static int vpt_pci_hot_reset_scope(struct pci_dev *pdev, bool *slot)
{
	*slot = !pci_probe_reset_slot(pdev->slot);
	if (!*slot && pci_probe_reset_bus(pdev->bus))
		return -ENODEV;
	return 0;
}

/* Call walk->fn for each affected function until it returns non-zero. */
static int vpt_pci_walk(struct vpt_pci_walk *walk)
{
	walk->ret = 0;
	pci_walk_bus(walk->pdev->bus, vpt_pci_walk_one, walk);
	return walk->ret;
}

static int vpt_pci_count_one(struct pci_dev *pdev, void *data)
{
	(*(unsigned int *)data)++;
	return 0;
}

static unsigned int vpt_pci_count_affected(struct pci_dev *pdev, bool slot)
{
	unsigned int n = 0;
	struct vpt_pci_walk walk = {
		.pdev = pdev, .slot = slot, .fn = vpt_pci_count_one, .data = &n,
	};

	vpt_pci_walk(&walk);
	return n;
}

struct vpt_pci_fill {
	struct vfio_pci_dependent_device *devices;
	unsigned int max;
	unsigned int cur;
};

static int vpt_pci_fill_one(struct pci_dev *pdev, void *data)
{
	struct vpt_pci_fill *fill = data;
	struct vfio_pci_dependent_device *d;
	struct iommu_group *group;

	if (fill->cur == fill->max)
		return -EAGAIN;		/* a function came: ask again */
	group = iommu_group_get(&pdev->dev);
	if (!group)
		return -EPERM;		/* not isolated: never reset for a user */
	d = &fill->devices[fill->cur++];
	d->group_id = iommu_group_id(group);
	d->segment = pci_domain_nr(pdev->bus);
	d->bus = pdev->bus->number;
	d->devfn = pdev->devfn;
	iommu_group_put(group);
	return 0;
}

/**
 * vpt_pci_hot_reset_info() - VFIO_DEVICE_GET_PCI_HOT_RESET_INFO
 * @vpci: the device
 * @arg: the user's struct vfio_pci_hot_reset_info
 *
 * Return: 0 with every affected function and its group, -ENOSPC with
 * the count when the user's array is too short, -ENODEV if the function
 * can have neither a slot nor a bus reset, -EINVAL for a short argsz.
 */
long vpt_pci_hot_reset_info(struct vpt_pci_device *vpci, void __user *arg)
{
	unsigned long minsz = offsetofend(struct vfio_pci_hot_reset_info, count);
	struct vfio_pci_hot_reset_info hdr;
	struct vpt_pci_fill fill = { };
	struct vpt_pci_walk walk = { .pdev = vpci->pdev, .fn = vpt_pci_fill_one };
	size_t need;
	bool slot;
	long ret;

	if (copy_from_user(&hdr, arg, minsz))
		return -EFAULT;
	if (hdr.argsz < minsz)
		return -EINVAL;
	hdr.flags = 0;
	ret = vpt_pci_hot_reset_scope(vpci->pdev, &slot);
	if (ret)
		return ret;

	walk.slot = slot;
	fill.max = vpt_pci_count_affected(vpci->pdev, slot);
	need = struct_size(&hdr, devices, fill.max);
	if (hdr.argsz < need) {
		hdr.count = fill.max;
		return copy_to_user(arg, &hdr, minsz) ? -EFAULT : -ENOSPC;
	}

	fill.devices = kcalloc(fill.max, sizeof(*fill.devices), GFP_KERNEL);
	if (!fill.devices)
		return -ENOMEM;
	walk.data = &fill;
	ret = vpt_pci_walk(&walk);
	if (ret)
		goto out;
	/* A function that left meanwhile makes the list shorter. */
	hdr.count = fill.cur;
	if (copy_to_user(arg, &hdr, minsz) ||
	    copy_to_user(arg + offsetof(struct vfio_pci_hot_reset_info, devices),
			 fill.devices,
			 array_size(hdr.count, sizeof(*fill.devices))))
		ret = -EFAULT;
out:
	kfree(fill.devices);
	return ret;
}

/* The functions a hot reset affects, each bound to vpt-pci. */
struct vpt_pci_affected {
	struct vpt_pci_device **vpcis;
	unsigned int max;
	unsigned int n;
};

static int vpt_pci_collect_one(struct pci_dev *pdev, void *data)
{
	struct vpt_pci_affected *aff = data;
	struct vpt_pci_device *v;

	lockdep_assert_held(&vpt_pci_reset_lock);
	if (aff->n == aff->max)
		return -EAGAIN;
	list_for_each_entry(v, &vpt_pci_reset_devices, reset_entry) {
		if (v->pdev == pdev) {
			aff->vpcis[aff->n++] = v;
			return 0;
		}
	}
	return -EINVAL;		/* not ours: a host driver or none has it */
}

static bool vpt_pci_owned(struct vpt_pci_device *v, struct file **files,
			  unsigned int nfiles)
{
	unsigned int i;

	for (i = 0; i < nfiles; i++)
		if (vpt_file_has_device(files[i], &v->vdev))
			return true;
	return false;
}

/*
 * Collect the functions a reset of @vpci's slot or bus affects into
 * @aff (to be freed with kfree(aff->vpcis)); -EINVAL if one is not
 * vpt-pci's.
 */
static int vpt_pci_affected_collect(struct vpt_pci_device *vpci, bool slot,
				    struct vpt_pci_affected *aff)
{
	struct vpt_pci_walk walk = {
		.pdev = vpci->pdev, .slot = slot, .fn = vpt_pci_collect_one,
		.data = aff,
	};
	int ret;

	lockdep_assert_held(&vpt_pci_reset_lock);
	aff->n = 0;
	aff->max = vpt_pci_count_affected(vpci->pdev, slot);
	aff->vpcis = kcalloc(aff->max, sizeof(*aff->vpcis), GFP_KERNEL);
	if (!aff->vpcis)
		return -ENOMEM;
	ret = vpt_pci_walk(&walk);
	if (ret) {
		kfree(aff->vpcis);
		aff->vpcis = NULL;
	}
	return ret;
}

/* Wake every affected function (idle ones are in D3hot) and hold it. */
static int vpt_pci_affected_get(struct vpt_pci_affected *aff)
{
	unsigned int i;
	int ret;

	for (i = 0; i < aff->n; i++) {
		ret = vpt_pci_power_get(aff->vpcis[i]);
		if (ret) {
			while (i--)
				vpt_pci_power_put(aff->vpcis[i]);
			return ret;
		}
	}
	return 0;
}

static void vpt_pci_affected_put(struct vpt_pci_affected *aff)
{
	unsigned int i;

	for (i = 0; i < aff->n; i++)
		vpt_pci_power_put(aff->vpcis[i]);
}

/*
 * Reset the slot or bus of @vpci, proven owned by the group files
 * @files: every affected function is vpt-pci's and in one of them.
 */
static int vpt_pci_do_hot_reset(struct vpt_pci_device *vpci, bool slot,
				struct file **files, unsigned int nfiles)
{
	struct vpt_pci_affected aff = { };
	unsigned int i, locked = 0;
	int ret;

	mutex_lock(&vpt_pci_reset_lock);
	ret = vpt_pci_affected_collect(vpci, slot, &aff);
	if (ret)
		goto out_unlock;
	for (i = 0; i < aff.n; i++) {
		if (!vpt_pci_owned(aff.vpcis[i], files, nfiles)) {
			ret = -EINVAL;
			goto out_free;
		}
	}

	ret = vpt_pci_affected_get(&aff);
	if (ret)
		goto out_free;

	/* Lock every function out of its BARs, mmaps zapped. */
	for (locked = 0; locked < aff.n; locked++) {
		struct vpt_pci_device *v = aff.vpcis[locked];

		if (!down_write_trylock(&v->memory_lock)) {
			ret = -EBUSY;
			goto out_up;
		}
		unmap_mapping_range(vpt_device_mapping(&v->vdev), 0, 0, true);
	}

	/*
	 * The PCI core saves each function's config state, turns decoding
	 * off, resets and restores the state (MSI/MSI-X included, so the
	 * user's interrupt setup is kept); then the hardware BARs are
	 * checked against probe's, decoding off, as after any reset.
	 */
	ret = pci_reset_bus(vpci->pdev);
	for (i = 0; i < aff.n; i++) {
		trace_vpt_pci_reset(pci_name(aff.vpcis[i]->pdev), ret);
		if (!ret) {
			aff.vpcis[i]->needs_reset = false;
			vpt_pci_hw_bars_size(aff.vpcis[i], "hot reset");
		}
	}
out_up:
	while (locked--)
		up_write(&aff.vpcis[locked]->memory_lock);
	vpt_pci_affected_put(&aff);
out_free:
	kfree(aff.vpcis);
out_unlock:
	mutex_unlock(&vpt_pci_reset_lock);
	return ret;
}

/**
 * vpt_pci_reset_open() - a function is being opened
 * @vpci: the device, first in its open_device
 *
 * From here until vpt_pci_reset_close() no reset of its slot or bus on
 * another function's release touches it.
 */
void vpt_pci_reset_open(struct vpt_pci_device *vpci)
{
	mutex_lock(&vpt_pci_reset_lock);
	vpci->opened = true;
	mutex_unlock(&vpt_pci_reset_lock);
}

/**
 * vpt_pci_reset_open_failed() - undo vpt_pci_reset_open() for a failed open
 * @vpci: the device
 */
void vpt_pci_reset_open_failed(struct vpt_pci_device *vpci)
{
	mutex_lock(&vpt_pci_reset_lock);
	vpci->opened = false;
	mutex_unlock(&vpt_pci_reset_lock);
}

/*
 * The reset on release: if no function of @vpci's slot or bus is open
 * and one of them could not be reset when it was closed, reset them all
 * (every one must be vpt-pci's).  Nobody can reach them meanwhile: their
 * opens wait for vpt_pci_reset_lock.
 */
static void vpt_pci_set_reset(struct vpt_pci_device *vpci)
{
	struct vpt_pci_affected aff = { };
	bool needs = false, slot;
	unsigned int i;
	int ret;

	lockdep_assert_held(&vpt_pci_reset_lock);
	if (vpt_pci_hot_reset_scope(vpci->pdev, &slot) ||
	    vpt_pci_affected_collect(vpci, slot, &aff))
		return;
	for (i = 0; i < aff.n; i++) {
		if (aff.vpcis[i]->opened)
			goto out_free;
		needs |= aff.vpcis[i]->needs_reset;
	}
	if (!needs || vpt_pci_affected_get(&aff))
		goto out_free;

	ret = pci_reset_bus(vpci->pdev);
	for (i = 0; i < aff.n; i++) {
		trace_vpt_pci_reset(pci_name(aff.vpcis[i]->pdev), ret);
		if (ret)
			continue;
		aff.vpcis[i]->needs_reset = false;
		vpt_pci_hw_bars_size(aff.vpcis[i], "reset on release");
	}
	vpt_pci_affected_put(&aff);
out_free:
	kfree(aff.vpcis);
}

/**
 * vpt_pci_reset_close() - a function was closed: reset its set if need be
 * @vpci: the device, at the end of its close_device (disabled, state
 *        restored)
 * @reset_done: its own function reset at close worked
 */
void vpt_pci_reset_close(struct vpt_pci_device *vpci, bool reset_done)
{
	mutex_lock(&vpt_pci_reset_lock);
	vpci->opened = false;
	vpci->needs_reset = !reset_done;
	if (vpci->needs_reset)
		vpt_pci_set_reset(vpci);
	mutex_unlock(&vpt_pci_reset_lock);
}

/**
 * vpt_pci_hot_reset() - VFIO_DEVICE_PCI_HOT_RESET
 * @vpci: the device
 * @arg: the user's struct vfio_pci_hot_reset with its group fds
 *
 * Return: 0 once the slot or bus is reset; -EINVAL for flags, a short
 * argsz, no fd or more fds than affected functions, an fd that is not a
 * group's, or an affected function that is not vpt-pci's or not in one
 * of the groups; -EBADF for a closed fd; -ENODEV if the function can
 * have neither a slot nor a bus reset; -EBUSY if an affected function
 * is busy; -EAGAIN if its device lock is.
 */
long vpt_pci_hot_reset(struct vpt_pci_device *vpci, void __user *arg)
{
	unsigned long minsz = offsetofend(struct vfio_pci_hot_reset, count);
	struct vfio_pci_hot_reset hdr;
	struct file **files;
	unsigned int i, max;
	s32 *fds;
	bool slot;
	long ret;

	if (copy_from_user(&hdr, arg, minsz))
		return -EFAULT;
	if (hdr.argsz < minsz || hdr.flags)
		return -EINVAL;
	ret = vpt_pci_hot_reset_scope(vpci->pdev, &slot);
	if (ret)
		return ret;
	/* One group per function at most: bounds what is copied in. */
	max = vpt_pci_count_affected(vpci->pdev, slot);
	if (!hdr.count || hdr.count > max)
		return -EINVAL;

	fds = kcalloc(hdr.count, sizeof(*fds), GFP_KERNEL);
	files = kcalloc(hdr.count, sizeof(*files), GFP_KERNEL);
	if (!fds || !files) {
		ret = -ENOMEM;
		goto out_free;
	}
	if (copy_from_user(fds,
			   arg + offsetof(struct vfio_pci_hot_reset, group_fds),
			   array_size(hdr.count, sizeof(*fds)))) {
		ret = -EFAULT;
		goto out_free;
	}
	for (i = 0; i < hdr.count; i++) {
		files[i] = fget(fds[i]);
		if (!files[i]) {
			ret = -EBADF;
			goto out_put;
		}
		if (!vpt_file_is_group(files[i])) {
			fput(files[i]);
			ret = -EINVAL;
			goto out_put;
		}
	}
	ret = vpt_pci_do_hot_reset(vpci, slot, files, hdr.count);
out_put:
	while (i--)
		fput(files[i]);
out_free:
	kfree(files);
	kfree(fds);
	return ret;
}
