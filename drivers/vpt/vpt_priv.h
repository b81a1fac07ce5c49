/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vpt_priv.h - vpt.ko internals shared by its files.
 *
 * Layers, each with its own prefix:
 *   vpt_main.c        module init/exit and parameters
 *   vpt_container.c   vpt_container_*: the container node and its ioctls
 *   vpt_group.c       vpt_group_*: group nodes, viability, DMA ownership
 *   vpt_device.c      vpt_device_*: registration and device fds
 *   vpt_iommu*.c      vpt_iommu_*: the type1v2 IOMMU backend
 *
 * Lock order, outermost first; a lock may be taken while holding only
 * locks above it:
 *   vpt_group.attach_lock   one group's container membership; held across
 *                           attach, detach and the backend's teardown
 *   vpt_group_list_lock     the global list of groups
 *   vpt_group.lock          one group's devices, container pointer and fds
 *   vpt_container.lock      (rwsem) the container's groups and backend
 *   vpt_iommu.lock          the backend's domains, mappings and counters
 *   vpt_device.open_lock    one device's open count
 *
 * vpt_group_list_lock and vpt_group.lock are shared with probe, remove
 * and every open and close, so neither is ever held while waiting for a
 * container's users (a MAP_DMA blocked in GUP) or across a teardown that
 * unpins: that work runs under the group's attach_lock alone, which no
 * other vpt lock nests around.
 */
#ifndef _VPT_PRIV_H
#define _VPT_PRIV_H

#include <linux/cdev.h>
#include <linux/iommu.h>
#include <linux/kref.h>
#include <linux/device.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/rwsem.h>
#include <linux/types.h>

#include "vpt_device.h"

/* Module parameters (vpt_main.c). */
extern char *vpt_node_dir;
extern bool vpt_allow_unsafe_interrupts;
extern unsigned int vpt_dma_entry_limit;
extern bool vpt_skip_above_width;

struct vpt_iommu;
struct vpt_iommu_range;

/**
 * struct vpt_container - one open of the container node
 * @kref: one reference for the open file plus one per group in it.
 * @lock: protects @group_list and @iommu.  Readers: ioctls that use the
 *        backend; writers: SET_IOMMU and group attach/detach.
 * @group_list: groups attached to this container (vpt_group.container_entry).
 * @iommu: the IOMMU backend, set by VFIO_SET_IOMMU, NULL before it and
 *         again after the last group leaves.
 */
struct vpt_container {
	struct kref kref;
	struct rw_semaphore lock;
	struct list_head group_list;
	struct vpt_iommu *iommu;
};

/**
 * struct vpt_group - a group node: one IOMMU group with a vpt device in it
 * @dev: the group node's device.  Its reference count is the group's:
 *       one while listed, one per registered vpt device, and the cdev
 *       holds one for every open group fd.  Freed by its release.
 * @cdev: the group node's char device.
 * @list_entry: link in the global group list, under vpt_group_list_lock.
 * @listed: on the global list with its node present.
 * @attach_lock: serialises the group's joining and leaving a container
 *               (SET_CONTAINER, UNSET_CONTAINER, the release's detach)
 *               and GET_DEVICE_FD against them.  Held across the
 *               container's attach and detach, which may wait for the
 *               container's other users and unpin all of its memory;
 *               taken under no other vpt lock.
 * @lock: protects every member below; held only briefly (never across
 *        a container attach or detach), as the list lock nests it.
 * @iommu_group: the kernel's IOMMU group; a reference is held.
 * @devices: registered vpt devices of the group (vpt_device.group_entry).
 * @opened_file: the open group fd, or NULL (the node is exclusive, as
 *               upstream's).  Every device fd holds a reference to it,
 *               so the group fd is released after its device fds.
 * @device_fds: number of open device fds obtained through @opened_file;
 *              UNSET_CONTAINER needs it to be zero.
 * @container: the container the group is attached to, or NULL.  The
 *             group then owns the IOMMU group's DMA.  Written under
 *             both @attach_lock and @lock, so either is enough to read.
 * @container_entry: link in @container->group_list, under the
 *                   container's lock.
 * @kvm: the KVM instance KVM's VFIO device last gave the group fd
 *       (vfio_file_set_kvm(), identity flavour), or NULL.  An opaque
 *       cookie: vpt takes no reference and never dereferences it.
 */
struct vpt_group {
	struct device dev;
	struct cdev cdev;
	struct list_head list_entry;
	bool listed;
	/* container membership; held across attach, detach, teardown */
	struct mutex attach_lock;

	/* protects the members below */
	struct mutex lock;
	struct iommu_group *iommu_group;
	struct list_head devices;
	struct file *opened_file;
	unsigned int device_fds;
	struct vpt_container *container;
	struct list_head container_entry;
	struct kvm *kvm;
};

/*
 * The container node's misc minor: the identity flavour (VPT_AS=vfio)
 * takes upstream's VFIO_MINOR, so that /dev/vfio/vfio is the node and
 * the module aliases tools expect (char-major-10-196, devname:vfio/vfio)
 * load it; the default flavour takes any, beside the in-tree vfio.
 */
#ifdef VPT_AS_VFIO
#define VPT_CONTAINER_MINOR	VFIO_MINOR
#else
#define VPT_CONTAINER_MINOR	MISC_DYNAMIC_MINOR
#endif

/* vpt_container.c */
int vpt_container_init(void);
void vpt_container_exit(void);
int vpt_container_attach_group(struct vpt_container *container,
			       struct vpt_group *group);
void vpt_container_detach_group(struct vpt_container *container,
				struct vpt_group *group);
struct vpt_container *vpt_container_from_file(struct file *file);
void vpt_container_put(struct vpt_container *container);

/* vpt_group.c */
int vpt_group_init(void);
void vpt_group_exit(void);
int vpt_group_add_device(struct vpt_device *vdev);
void vpt_group_remove_device(struct vpt_device *vdev);
void vpt_group_device_closed(struct vpt_group *group);
void vpt_group_revoke_if_empty(struct vpt_group *group);
struct vpt_group *vpt_group_from_file(struct file *file);
void vpt_group_put_device_ref(struct vpt_device *vdev);

/*
 * vpt_kvm.c (VPT_AS=vfio): VFIO's file helpers for KVM.  Not every
 * kernel's <linux/vfio.h> declares these two; the prototypes are the
 * same everywhere.
 */
bool vfio_file_is_valid(struct file *file);
bool vfio_file_is_group(struct file *file);

/* vpt_device.c */
struct file *vpt_device_open_file(struct vpt_device *vdev);

/*
 * vpt_iommu*.c: the type1v2 backend.  The container calls these with its
 * lock held for writing (open, release, attach, detach) or for reading
 * (ioctl, check_extension); the backend serialises itself on
 * vpt_iommu.lock underneath.
 */

/**
 * vpt_iommu_open() - create a backend for VFIO_SET_IOMMU
 * @type: VFIO_TYPE1_IOMMU or VFIO_TYPE1v2_IOMMU.
 *
 * Return: the backend, or ERR_PTR(-EINVAL) for another type, or
 * ERR_PTR(-ENOMEM).
 */
struct vpt_iommu *vpt_iommu_open(unsigned long type);

/**
 * vpt_iommu_release() - unmap, unpin and unaccount everything, detach
 * every group still attached and free the backend
 * @iommu: the backend; may not be used afterwards.
 */
void vpt_iommu_release(struct vpt_iommu *iommu);

/**
 * vpt_iommu_attach_group() - attach an IOMMU group to the backend
 * @iommu: the backend.
 * @group: the IOMMU group; its DMA ownership is already claimed.
 *
 * Attaches the group to an existing domain where the IOMMU allows it,
 * else to a new domain into which every existing mapping is replayed.
 * Refuses a group whose MSIs are not isolated unless unsafe interrupts
 * are allowed, and a group whose reserved regions overlap an existing
 * mapping.  Recomputes the usable IOVA ranges and the width.
 *
 * Return: 0, -EPERM (no interrupt remapping), -EINVAL (reserved region
 * conflict), -EBUSY (already attached) or another errno from the IOMMU.
 */
int vpt_iommu_attach_group(struct vpt_iommu *iommu,
			   struct iommu_group *group);

/**
 * vpt_iommu_detach_group() - detach an IOMMU group from the backend
 * @iommu: the backend.
 * @group: a group attached with vpt_iommu_attach_group().
 *
 * Frees the group's domain if no other group uses it.  Recomputes the
 * usable IOVA ranges and the width.
 */
void vpt_iommu_detach_group(struct vpt_iommu *iommu,
			    struct iommu_group *group);

/**
 * struct vpt_iommu_preview - a group's IOMMU before it is attached
 * @width: the number of bits of @max_iova.
 * @max_iova: the highest IOVA a container of the group's own would
 *            translate: the width capability's max_iova after attach.
 * @ranges: the usable IOVA ranges (kmalloc()ed, sorted, disjoint), as
 *          VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE would report them.
 * @nr_ranges: number of entries in @ranges.
 */
struct vpt_iommu_preview {
	unsigned int width;
	u64 max_iova;
	struct vpt_iommu_range *ranges;
	unsigned int nr_ranges;
};

/**
 * vpt_iommu_preview_group() - the width and ranges a group will have
 * @group: the IOMMU group; it need not be attached, and nothing is
 *         attached to it: the caller holds the vpt group's attach_lock.
 * @dev: a device of @group bound to a vpt driver (its domain is read).
 * @p: filled in; free @p->ranges with kfree().
 *
 * Computed from what the IOMMU driver exposes before attach: a paging
 * domain allocated for the group (and freed), the group's current
 * domain's geometry, and its reserved regions (see design.rst).
 *
 * Return: 0, -ENODEV for a group without devices, -EINVAL when nothing
 * would be usable, -ENOMEM or another errno from the IOMMU driver.
 */
int vpt_iommu_preview_group(struct iommu_group *group, struct device *dev,
			    struct vpt_iommu_preview *p);

/**
 * vpt_iommu_check_extension() - VFIO_CHECK_EXTENSION for the backend
 * @iommu: the backend, or NULL when the container has none yet.
 * @ext: the extension asked about.
 *
 * Return: 1 if supported, 0 if not (VFIO_DMA_CC_IOMMU depends on the
 * attached domains).
 */
int vpt_iommu_check_extension(struct vpt_iommu *iommu, unsigned long ext);

/**
 * vpt_iommu_ioctl() - VFIO_IOMMU_GET_INFO, _MAP_DMA and _UNMAP_DMA
 * @iommu: the backend.
 * @cmd: the ioctl command.
 * @arg: its user pointer.
 *
 * Return: 0 or a negative errno; -ENOTTY for an unknown @cmd.
 */
long vpt_iommu_ioctl(struct vpt_iommu *iommu, unsigned int cmd,
		     unsigned long arg);

#endif /* _VPT_PRIV_H */
