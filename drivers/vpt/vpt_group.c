// SPDX-License-Identifier: GPL-2.0
/*
 * vpt_group.c - group nodes (/dev/vfio/<iommu group number>).
 *
 * A group node exists while a vpt device of its IOMMU group is
 * registered, or while its fd is open.  Through it a user attaches the
 * group to a container, which claims the group's DMA ownership from the
 * IOMMU core, and obtains device fds.  The IOMMU core keeps kernel
 * drivers off the group's other devices for as long as vpt owns it.
 */
#include <linux/cdev.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/idr.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/vfio.h>

#include "vpt_compat.h"
#include "vpt_iommu.h"
#include "vpt_priv.h"

#define VPT_GROUP_MINORS	(MINORMASK + 1)

/* Protects vpt_group_list and every group's @listed. */
static DEFINE_MUTEX(vpt_group_list_lock);
static LIST_HEAD(vpt_group_list);
static DEFINE_IDA(vpt_group_ida);
static dev_t vpt_group_devt;
static struct class *vpt_group_class;

static void vpt_group_release_dev(struct device *dev)
{
	struct vpt_group *group = container_of(dev, struct vpt_group, dev);

	iommu_group_put(group->iommu_group);
	ida_free(&vpt_group_ida, MINOR(group->dev.devt));
	mutex_destroy(&group->lock);
	mutex_destroy(&group->attach_lock);
	kfree(group);
}

/*
 * Leave the container and hand the group's DMA back to the kernel.  This
 * can take long (the container's lock may be held by a MAP_DMA waiting
 * in GUP, and the last group unpins everything), so only the group's
 * attach_lock is held: probe, remove and other groups' open and close
 * go on meanwhile.  Nothing can re-attach the group before it is done.
 */
static void vpt_group_detach(struct vpt_group *group)
{
	struct vpt_container *container = group->container;

	lockdep_assert_held(&group->attach_lock);

	vpt_container_detach_group(container, group);
	iommu_group_release_dma_owner(group->iommu_group);

	mutex_lock(&group->lock);
	group->container = NULL;
	mutex_unlock(&group->lock);
}

/*
 * Remove the node once nothing can reach the group any more: no device
 * registered and no group fd open.  Open device fds keep a registered
 * device, and so the group, alive.
 */
static void vpt_group_unlist_if_unused(struct vpt_group *group)
{
	lockdep_assert_held(&vpt_group_list_lock);

	mutex_lock(&group->lock);
	if (!group->listed || !list_empty(&group->devices) ||
	    group->opened_file) {
		mutex_unlock(&group->lock);
		return;
	}
	group->listed = false;
	mutex_unlock(&group->lock);

	list_del(&group->list_entry);
	cdev_device_del(&group->cdev, &group->dev);
	put_device(&group->dev);
}

static int vpt_group_fop_open(struct inode *inode, struct file *file)
{
	struct vpt_group *group =
		container_of(inode->i_cdev, struct vpt_group, cdev);
	int ret = 0;

	mutex_lock(&group->lock);
	if (!group->listed)
		ret = -ENODEV;
	else if (group->opened_file)
		ret = -EBUSY;
	else
		group->opened_file = file;
	mutex_unlock(&group->lock);
	if (ret)
		return ret;

	get_device(&group->dev);
	file->private_data = group;
	return 0;
}

static int vpt_group_fop_release(struct inode *inode, struct file *file)
{
	struct vpt_group *group = file->private_data;

	/*
	 * The teardown runs under attach_lock only.  @opened_file stays set
	 * until it is done, so the node cannot be opened (and the group
	 * attached) again meanwhile; the file's device reference keeps the
	 * group alive.
	 */
	mutex_lock(&group->attach_lock);
	if (group->container)
		vpt_group_detach(group);
	mutex_unlock(&group->attach_lock);

	mutex_lock(&group->lock);
	/* Device fds hold this file, so none is open any more. */
	WARN_ON(group->device_fds);
	group->opened_file = NULL;
	mutex_unlock(&group->lock);

	mutex_lock(&vpt_group_list_lock);
	vpt_group_unlist_if_unused(group);
	mutex_unlock(&vpt_group_list_lock);

	put_device(&group->dev);
	return 0;
}

static int vpt_group_get_status(struct vpt_group *group,
				struct vfio_group_status __user *arg)
{
	unsigned long minsz = offsetofend(struct vfio_group_status, flags);
	struct vfio_group_status status;

	if (copy_from_user(&status, arg, minsz))
		return -EFAULT;
	if (status.argsz < minsz)
		return -EINVAL;

	status.flags = 0;
	mutex_lock(&group->lock);
	/*
	 * Viable: no kernel driver holds the group's DMA, so vpt can claim
	 * it (or already has).  The IOMMU core counts every bound driver
	 * that does not manage DMA itself.
	 */
	if (group->container)
		status.flags = VFIO_GROUP_FLAGS_VIABLE |
			       VFIO_GROUP_FLAGS_CONTAINER_SET;
	else if (!iommu_group_dma_owner_claimed(group->iommu_group))
		status.flags = VFIO_GROUP_FLAGS_VIABLE;
	mutex_unlock(&group->lock);

	return copy_to_user(arg, &status, minsz) ? -EFAULT : 0;
}

static int vpt_group_set_container(struct vpt_group *group,
				   int __user *arg)
{
	struct vpt_container *container;
	struct fd f;
	int ret, fd;

	if (get_user(fd, arg))
		return -EFAULT;
	f = fdget(fd);
	if (!fd_file(f))
		return -EBADF;

	mutex_lock(&group->attach_lock);
	container = vpt_container_from_file(fd_file(f));
	if (!container) {
		ret = -EBADFD;	/* as upstream since 6.2 */
		goto out_unlock;
	}
	if (group->container) {
		ret = -EINVAL;
		goto out_unlock;
	}
	mutex_lock(&group->lock);
	ret = list_empty(&group->devices) ? -ENODEV : 0;
	mutex_unlock(&group->lock);
	if (ret)
		goto out_unlock;
	/* Fails with -EBUSY while a kernel driver uses the group. */
	ret = iommu_group_claim_dma_owner(group->iommu_group, group);
	if (ret)
		goto out_unlock;
	ret = vpt_container_attach_group(container, group);
	if (ret) {
		iommu_group_release_dma_owner(group->iommu_group);
		goto out_unlock;
	}
	mutex_lock(&group->lock);
	group->container = container;
	mutex_unlock(&group->lock);
out_unlock:
	mutex_unlock(&group->attach_lock);
	fdput(f);
	return ret;
}

static int vpt_group_unset_container(struct vpt_group *group)
{
	unsigned int device_fds;
	int ret = 0;

	/* GET_DEVICE_FD takes attach_lock too: no fd appears meanwhile. */
	mutex_lock(&group->attach_lock);
	mutex_lock(&group->lock);
	device_fds = group->device_fds;
	mutex_unlock(&group->lock);
	if (!group->container)
		ret = -EINVAL;
	else if (device_fds)
		ret = -EBUSY;
	else
		vpt_group_detach(group);
	mutex_unlock(&group->attach_lock);
	return ret;
}

/*
 * Whether @buf names @vdev: the driver's own rule (a PCI driver takes
 * options after the name, e.g. a VF token) or the plain name.
 */
static int vpt_group_match(struct vpt_device *vdev, const char *buf)
{
	lockdep_assert_held(&vdev->group->lock);
	if (vdev->ops->match)
		return vdev->ops->match(vdev, buf);
	return !strcmp(dev_name(vdev->dev), buf);
}

static int vpt_group_get_device_fd(struct vpt_group *group,
				   char __user *arg)
{
	struct vpt_device *vdev, *found = NULL;
	struct file *file;
	char *name;
	int fd, ret;

	name = strndup_user(arg, PAGE_SIZE);
	if (IS_ERR(name))
		return PTR_ERR(name);

	/* attach_lock: the container and its backend stay while we look. */
	mutex_lock(&group->attach_lock);
	mutex_lock(&group->lock);
	/* A device is only handed out once its DMA is confined. */
	if (!group->container || !group->container->iommu) {
		ret = -EINVAL;
		goto out_unlock;
	}
	list_for_each_entry(vdev, &group->devices, group_entry) {
		ret = vpt_group_match(vdev, name);
		if (ret < 0)
			goto out_unlock;
		if (ret) {
			found = vdev;
			break;
		}
	}
	if (!found) {
		ret = -ENODEV;
		goto out_unlock;
	}

	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0) {
		ret = fd;
		goto out_unlock;
	}
	file = vpt_device_open_file(found);
	if (IS_ERR(file)) {
		put_unused_fd(fd);
		ret = PTR_ERR(file);
		goto out_unlock;
	}
	group->device_fds++;
	get_file(group->opened_file);
	fd_install(fd, file);
	ret = fd;
out_unlock:
	mutex_unlock(&group->lock);
	mutex_unlock(&group->attach_lock);
	kfree(name);
	return ret;
}

/**
 * vpt_group_device_closed() - a device fd of the group was closed
 * @group: the device's group.
 *
 * Drops the device fd's reference to the group fd, whose release then
 * takes the group out of its container once every fd is closed.
 */
void vpt_group_device_closed(struct vpt_group *group)
{
	struct file *group_file;

	mutex_lock(&group->lock);
	group->device_fds--;
	group_file = group->opened_file;
	mutex_unlock(&group->lock);
	fput(group_file);
}

static long vpt_group_fop_ioctl(struct file *file, unsigned int cmd,
				unsigned long arg)
{
	struct vpt_group *group = file->private_data;
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case VFIO_GROUP_GET_STATUS:
		return vpt_group_get_status(group, uarg);
	case VFIO_GROUP_SET_CONTAINER:
		return vpt_group_set_container(group, uarg);
	case VFIO_GROUP_UNSET_CONTAINER:
		return vpt_group_unset_container(group);
	case VFIO_GROUP_GET_DEVICE_FD:
		return vpt_group_get_device_fd(group, uarg);
	default:
		return -ENOTTY;
	}
}

static const struct file_operations vpt_group_fops = {
	.owner		= THIS_MODULE,
	.open		= vpt_group_fop_open,
	.release	= vpt_group_fop_release,
	.unlocked_ioctl	= vpt_group_fop_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
};

/**
 * vpt_group_from_file() - the group behind a file, if it is a group fd
 * @file: any file; the caller holds a reference to it.
 *
 * Return: the group, valid while @file is held, or NULL.
 */
struct vpt_group *vpt_group_from_file(struct file *file)
{
	return file->f_op == &vpt_group_fops ? file->private_data : NULL;
}

/*
 * The group node's iova/ attributes: the width and usable IOVA ranges
 * the group will have once attached to a container of its own, so that
 * a VMM or an operator can size the guest before opening anything.
 * attach_lock keeps vpt from attaching or detaching the group meanwhile
 * (the group's current domain is read); a registered device, found under
 * the group's lock, is the one asked about.
 */
static int vpt_group_preview(struct device *dev, struct vpt_iommu_preview *p)
{
	struct vpt_group *group = container_of(dev, struct vpt_group, dev);
	struct vpt_device *vdev;
	struct device *member = NULL;
	int ret;

	mutex_lock(&group->attach_lock);
	mutex_lock(&group->lock);
	vdev = list_first_entry_or_null(&group->devices, struct vpt_device,
					group_entry);
	if (vdev)
		member = get_device(vdev->dev);
	mutex_unlock(&group->lock);
	ret = member ? vpt_iommu_preview_group(group->iommu_group, member, p) :
		       -ENODEV;
	mutex_unlock(&group->attach_lock);
	put_device(member);
	return ret;
}

/* One number of the preview: its width, or with @max its max_iova. */
static ssize_t vpt_group_show_scalar(struct device *dev, char *buf, bool max)
{
	struct vpt_iommu_preview p;
	int ret = vpt_group_preview(dev, &p);

	if (ret)
		return ret;
	kfree(p.ranges);
	return max ? sysfs_emit(buf, "0x%016llx\n", p.max_iova) :
		     sysfs_emit(buf, "%u\n", p.width);
}

static ssize_t width_show(struct device *dev, struct device_attribute *attr,
			  char *buf)
{
	return vpt_group_show_scalar(dev, buf, false);
}
static DEVICE_ATTR_RO(width);

static ssize_t max_iova_show(struct device *dev, struct device_attribute *attr,
			     char *buf)
{
	return vpt_group_show_scalar(dev, buf, true);
}
static DEVICE_ATTR_RO(max_iova);

/* One "first last" line per range, as iommu_groups/N/reserved_regions. */
static ssize_t ranges_show(struct device *dev, struct device_attribute *attr,
			   char *buf)
{
	struct vpt_iommu_preview p;
	unsigned int i;
	int len = 0, ret = vpt_group_preview(dev, &p);

	if (ret)
		return ret;
	for (i = 0; i < p.nr_ranges; i++)
		len += sysfs_emit_at(buf, len, "0x%016llx 0x%016llx\n",
				     p.ranges[i].start, p.ranges[i].last);
	kfree(p.ranges);
	return len;
}
static DEVICE_ATTR_RO(ranges);

static struct attribute *vpt_group_iova_attrs[] = {
	&dev_attr_width.attr,
	&dev_attr_max_iova.attr,
	&dev_attr_ranges.attr,
	NULL,
};

static const struct attribute_group vpt_group_iova_group = {
	.name = "iova",
	.attrs = vpt_group_iova_attrs,
};

static const struct attribute_group *vpt_group_attr_groups[] = {
	&vpt_group_iova_group,
	NULL,
};

static struct vpt_group *vpt_group_create(struct iommu_group *iommu_group)
{
	struct vpt_group *group;
	int minor, ret;

	lockdep_assert_held(&vpt_group_list_lock);

	minor = ida_alloc_max(&vpt_group_ida, VPT_GROUP_MINORS - 1,
			      GFP_KERNEL);
	if (minor < 0)
		return ERR_PTR(minor);
	group = kzalloc(sizeof(*group), GFP_KERNEL);
	if (!group) {
		ida_free(&vpt_group_ida, minor);
		return ERR_PTR(-ENOMEM);
	}

	mutex_init(&group->attach_lock);
	mutex_init(&group->lock);
	INIT_LIST_HEAD(&group->devices);
	group->iommu_group = iommu_group;
	device_initialize(&group->dev);
	group->dev.class = vpt_group_class;
	group->dev.devt = MKDEV(MAJOR(vpt_group_devt), minor);
	group->dev.release = vpt_group_release_dev;
	group->dev.groups = vpt_group_attr_groups;
	/* From here on the device's release frees the group. */
	cdev_init(&group->cdev, &vpt_group_fops);
	group->cdev.owner = THIS_MODULE;

	ret = dev_set_name(&group->dev, "%d", iommu_group_id(iommu_group));
	if (ret)
		goto err_put;
	ret = cdev_device_add(&group->cdev, &group->dev);
	if (ret)
		goto err_put;

	group->listed = true;
	list_add(&group->list_entry, &vpt_group_list);
	return group;

err_put:
	/* The release drops the IOMMU group reference the caller passed. */
	put_device(&group->dev);
	return ERR_PTR(ret);
}

/**
 * vpt_group_add_device() - put a registering device in its group
 * @vdev: the device; @vdev->dev is set.
 *
 * Finds or creates the group node of the device's IOMMU group and
 * lists the device in it, holding a group reference for the device.
 *
 * Return: 0, -ENODEV when the device has no IOMMU group, or -ENOMEM.
 */
int vpt_group_add_device(struct vpt_device *vdev)
{
	struct iommu_group *iommu_group;
	struct vpt_group *group;
	bool found = false;

	iommu_group = iommu_group_get(vdev->dev);
	if (!iommu_group) {
		dev_warn(vdev->dev, "vpt: no IOMMU group: is the IOMMU enabled?\n");
		return -ENODEV;
	}

	mutex_lock(&vpt_group_list_lock);
	list_for_each_entry(group, &vpt_group_list, list_entry) {
		if (group->iommu_group == iommu_group) {
			found = true;
			break;
		}
	}
	if (found) {
		iommu_group_put(iommu_group);
	} else {
		group = vpt_group_create(iommu_group);
		if (IS_ERR(group)) {
			mutex_unlock(&vpt_group_list_lock);
			return PTR_ERR(group);
		}
	}
	get_device(&group->dev);
	mutex_lock(&group->lock);
	vdev->group = group;
	list_add_tail(&vdev->group_entry, &group->devices);
	mutex_unlock(&group->lock);
	mutex_unlock(&vpt_group_list_lock);
	return 0;
}

/**
 * vpt_group_remove_device() - take an unregistering device out of its group
 * @vdev: the device.
 *
 * No new device fd can be had for @vdev afterwards.  The group keeps its
 * container attachment while the group fd or a device fd is open.
 */
void vpt_group_remove_device(struct vpt_device *vdev)
{
	struct vpt_group *group = vdev->group;

	mutex_lock(&vpt_group_list_lock);
	mutex_lock(&group->lock);
	list_del(&vdev->group_entry);
	mutex_unlock(&group->lock);
	vpt_group_unlist_if_unused(group);
	mutex_unlock(&vpt_group_list_lock);
}

/**
 * vpt_group_revoke_if_empty() - take a group without devices out of use
 * @group: the group of a device that was unregistered and released.
 *
 * When the last device of an IOMMU group goes (unbind, hot-unplug), the
 * IOMMU core frees its group_device and warns if the group's DMA is
 * still claimed: so, as upstream does when the last device of a group is
 * unregistered, the group leaves its container and gives its DMA back
 * now, even though the user still holds the group fd.  That fd then
 * fails SET_CONTAINER with -ENODEV (no device) and UNSET_CONTAINER with
 * -EINVAL (no container), as upstream's does.
 */
void vpt_group_revoke_if_empty(struct vpt_group *group)
{
	bool empty;

	/* As UNSET_CONTAINER: attach_lock keeps SET_CONTAINER out. */
	mutex_lock(&group->attach_lock);
	mutex_lock(&group->lock);
	empty = list_empty(&group->devices) && !group->device_fds;
	mutex_unlock(&group->lock);
	if (group->container && empty)
		vpt_group_detach(group);
	mutex_unlock(&group->attach_lock);
}

/**
 * vpt_group_put_device_ref() - drop the reference a device held
 * @vdev: the device, after its last fd was released.
 */
void vpt_group_put_device_ref(struct vpt_device *vdev)
{
	put_device(&vdev->group->dev);
}

static char *vpt_group_devnode(VPT_DEVNODE_CONST struct device *dev,
			       umode_t *mode)
{
	return kasprintf(GFP_KERNEL, "%s/%s", vpt_node_dir, dev_name(dev));
}

int vpt_group_init(void)
{
	int ret;

	ret = alloc_chrdev_region(&vpt_group_devt, 0, VPT_GROUP_MINORS,
				  "vpt-group");
	if (ret)
		return ret;
	vpt_group_class = vpt_class_create("vpt-group");
	if (IS_ERR(vpt_group_class)) {
		ret = PTR_ERR(vpt_group_class);
		goto err_region;
	}
	vpt_group_class->devnode = vpt_group_devnode;
	return 0;

err_region:
	unregister_chrdev_region(vpt_group_devt, VPT_GROUP_MINORS);
	return ret;
}

void vpt_group_exit(void)
{
	/* Every device unregistered before the module could go. */
	WARN_ON(!list_empty(&vpt_group_list));
	class_destroy(vpt_group_class);
	unregister_chrdev_region(vpt_group_devt, VPT_GROUP_MINORS);
	ida_destroy(&vpt_group_ida);
}
