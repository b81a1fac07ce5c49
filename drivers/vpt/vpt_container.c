// SPDX-License-Identifier: GPL-2.0
/*
 * vpt_container.c - the container node (/dev/vfio/vfio by default).
 *
 * A container is the unit of DMA mapping: groups are attached to it
 * through their group fds, VFIO_SET_IOMMU gives it a type1 backend once
 * it has a group, and the backend's ioctls are answered here.  As
 * upstream, an fd of the container node is unprivileged until a group is
 * attached, and returns to that state when its last group leaves.
 */
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/namei.h>
#include <linux/slab.h>
#include <linux/vfio.h>
#include <linux/vpt.h>

#include "vpt_priv.h"

static void vpt_container_release_kref(struct kref *kref)
{
	struct vpt_container *container =
		container_of(kref, struct vpt_container, kref);

	/* The backend goes with the last group, which held a reference. */
	WARN_ON(container->iommu || !list_empty(&container->group_list));
	kfree(container);
}

void vpt_container_put(struct vpt_container *container)
{
	kref_put(&container->kref, vpt_container_release_kref);
}

static int vpt_container_fop_open(struct inode *inode, struct file *file)
{
	struct vpt_container *container;

	container = kzalloc(sizeof(*container), GFP_KERNEL_ACCOUNT);
	if (!container)
		return -ENOMEM;
	kref_init(&container->kref);
	init_rwsem(&container->lock);
	INIT_LIST_HEAD(&container->group_list);
	file->private_data = container;
	return 0;
}

static int vpt_container_fop_release(struct inode *inode, struct file *file)
{
	/* Attached groups keep the container, and its mappings, alive. */
	vpt_container_put(file->private_data);
	return 0;
}

/**
 * vpt_container_attach_group() - add a group to a container
 * @container: the container, from a container fd.
 * @group: the group; its attach_lock is held and it owns its DMA.
 *
 * The caller publishes @group->container once this succeeds.  Not
 * called under the group's lock or the list lock: joining an IOMMU may
 * wait for the container's lock behind a MAP_DMA of another group.
 *
 * Return: 0, or the backend's errno when the container has an IOMMU set
 * and the group cannot join it.
 */
int vpt_container_attach_group(struct vpt_container *container,
			       struct vpt_group *group)
{
	int ret = 0;

	lockdep_assert_held(&group->attach_lock);

	down_write(&container->lock);
	if (container->iommu) {
		ret = vpt_iommu_attach_group(container->iommu,
					     group->iommu_group);
		if (ret)
			goto out_unlock;
	}
	list_add_tail(&group->container_entry, &container->group_list);
	kref_get(&container->kref);
out_unlock:
	up_write(&container->lock);
	return ret;
}

/**
 * vpt_container_detach_group() - remove a group from its container
 * @container: the group's container; the reference the group held on
 *             it is dropped.
 * @group: an attached group; its attach_lock is held (and nothing
 *         shared with other users: the container's lock may be held by
 *         a MAP_DMA waiting on a page fault) and its devices are closed.
 *
 * The last group to leave takes the backend, and so every mapping, with
 * it.
 */
void vpt_container_detach_group(struct vpt_container *container,
				struct vpt_group *group)
{
	lockdep_assert_held(&group->attach_lock);

	down_write(&container->lock);
	if (container->iommu)
		vpt_iommu_detach_group(container->iommu, group->iommu_group);
	list_del(&group->container_entry);
	if (list_empty(&container->group_list) && container->iommu) {
		vpt_iommu_release(container->iommu);
		container->iommu = NULL;
	}
	up_write(&container->lock);

	vpt_container_put(container);
}

static long vpt_container_set_iommu(struct vpt_container *container,
				    unsigned long type)
{
	struct vpt_iommu *iommu;
	struct vpt_group *group;
	long ret;

	/* Only TYPE1 backends exist; NESTING, SPAPR and the rest do not. */
	if (type != VFIO_TYPE1_IOMMU && type != VFIO_TYPE1v2_IOMMU)
		return -ENODEV;

	down_write(&container->lock);
	/* Attaching a group is what entitles a container to an IOMMU. */
	if (list_empty(&container->group_list) || container->iommu) {
		ret = -EINVAL;
		goto out_unlock;
	}

	iommu = vpt_iommu_open(type);
	if (IS_ERR(iommu)) {
		ret = PTR_ERR(iommu);
		goto out_unlock;
	}
	list_for_each_entry(group, &container->group_list, container_entry) {
		ret = vpt_iommu_attach_group(iommu, group->iommu_group);
		if (ret)
			goto err_detach;
	}
	container->iommu = iommu;
	up_write(&container->lock);
	return 0;

err_detach:
	list_for_each_entry_continue_reverse(group, &container->group_list,
					     container_entry)
		vpt_iommu_detach_group(iommu, group->iommu_group);
	vpt_iommu_release(iommu);
out_unlock:
	up_write(&container->lock);
	return ret;
}

static long vpt_container_fop_ioctl(struct file *file, unsigned int cmd,
				    unsigned long arg)
{
	struct vpt_container *container = file->private_data;
	long ret;

	switch (cmd) {
	case VFIO_GET_API_VERSION:
		return VFIO_API_VERSION;
	case VFIO_CHECK_EXTENSION:
		down_read(&container->lock);
		ret = vpt_iommu_check_extension(container->iommu, arg);
		up_read(&container->lock);
		return ret;
	case VFIO_SET_IOMMU:
		return vpt_container_set_iommu(container, arg);
	default:
		/*
		 * Without a backend, VFIO's own ioctls fail with -EINVAL as
		 * upstream's do; anything else is not ours at all.
		 */
		ret = _IOC_TYPE(cmd) == VFIO_TYPE ? -EINVAL : -ENOTTY;
		down_read(&container->lock);
		if (container->iommu)
			ret = vpt_iommu_ioctl(container->iommu, cmd, arg);
		up_read(&container->lock);
		return ret;
	}
}

static const struct file_operations vpt_container_fops = {
	.owner		= THIS_MODULE,
	.open		= vpt_container_fop_open,
	.release	= vpt_container_fop_release,
	.unlocked_ioctl	= vpt_container_fop_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
};

/**
 * vpt_container_from_file() - the container behind a file, if it is one
 * @file: any file; the caller holds a reference to it.
 *
 * Return: the container, valid while @file is held, or NULL.
 */
struct vpt_container *vpt_container_from_file(struct file *file)
{
	return file->f_op == &vpt_container_fops ? file->private_data : NULL;
}

static struct miscdevice vpt_container_misc = {
	.minor	= VPT_CONTAINER_MINOR,
	.name	= "vpt",
	.fops	= &vpt_container_fops,
	.mode	= 0666,
};

int vpt_container_init(void)
{
	struct path path;
	char *nodepath;
	int ret;

	nodepath = kasprintf(GFP_KERNEL, "/dev/%s/vfio", vpt_node_dir);
	if (!nodepath)
		return -ENOMEM;

	/*
	 * devtmpfs would silently keep another driver's node: say so
	 * instead of leaving userspace talking to the in-tree vfio.
	 */
	if (!kern_path(nodepath, LOOKUP_FOLLOW, &path)) {
		path_put(&path);
		pr_err("vpt: %s already exists (in-tree vfio loaded?); load vpt with node_dir=<other name>\n",
		       nodepath);
		ret = -EEXIST;
		goto err_free;
	}

	/* The misc device's node name is relative to /dev. */
	vpt_container_misc.nodename = nodepath + strlen("/dev/");
	ret = misc_register(&vpt_container_misc);
	if (ret) {
		pr_err("vpt: cannot register %s: %d\n", nodepath, ret);
		goto err_free;
	}
	return 0;

err_free:
	kfree(nodepath);
	return ret;
}

void vpt_container_exit(void)
{
	misc_deregister(&vpt_container_misc);
	kfree(vpt_container_misc.nodename - strlen("/dev/"));
}
