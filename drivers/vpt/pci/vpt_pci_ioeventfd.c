// SPDX-License-Identifier: GPL-2.0
/*
 * vpt_pci_ioeventfd.c - VFIO_DEVICE_IOEVENTFD: a user eventfd whose
 * signal writes a fixed value to a fixed BAR offset, as upstream.  QEMU
 * uses it for the device quirks it would otherwise trap and replay.
 *
 * The write is done from the eventfd's wait queue callback when the
 * device's memory_lock can be taken at once, else from a work item
 * (vpt_pci_virqfd.c); it is dropped while the user's memory decode is
 * off, as a write through read/write would fail then.  ioeventfd_lock
 * protects the list; every ioeventfd goes at close.
 */
#include <linux/io.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vfio.h>

#include "vpt_pci_priv.h"

/* As upstream: no more than this many per device. */
#define VPT_PCI_IOEVENTFD_MAX	1000

/**
 * struct vpt_pci_ioeventfd - one registered ioeventfd
 * @entry: link in vpt_pci_device.ioeventfds, under ioeventfd_lock
 * @vpci: the device
 * @virqfd: the user's eventfd
 * @addr: where to write, in the BAR's iomap
 * @data: what to write
 * @pos: offset in the BAR
 * @bar: the BAR
 * @count: bytes written: 1, 2, 4 or 8
 * @test_mem: a memory BAR: write only while memory decode is on
 */
struct vpt_pci_ioeventfd {
	struct list_head entry;
	struct vpt_pci_device *vpci;
	struct vpt_pci_virqfd virqfd;
	void __iomem *addr;
	u64 data;
	u64 pos;
	int bar;
	int count;
	bool test_mem;
};

static void vpt_pci_ioeventfd_write(struct vpt_pci_ioeventfd *ioe)
{
	switch (ioe->count) {
	case 1:
		iowrite8(ioe->data, ioe->addr);
		break;
	case 2:
		iowrite16(ioe->data, ioe->addr);
		break;
	case 4:
		iowrite32(ioe->data, ioe->addr);
		break;
	default:
		/* One access on memory; I/O space has no 8-byte one. */
		if (ioe->test_mem) {
			writeq(ioe->data, ioe->addr);
		} else {
			iowrite32(lower_32_bits(ioe->data), ioe->addr);
			iowrite32(upper_32_bits(ioe->data), ioe->addr + 4);
		}
		break;
	}
}

/* From the wait queue callback: write unless memory_lock is busy. */
static bool vpt_pci_ioeventfd_fast(struct vpt_pci_virqfd *v)
{
	struct vpt_pci_ioeventfd *ioe = container_of(v, struct vpt_pci_ioeventfd,
						     virqfd);
	struct vpt_pci_device *vpci = ioe->vpci;

	if (!ioe->test_mem) {
		vpt_pci_ioeventfd_write(ioe);
		return false;
	}
	if (!down_read_trylock(&vpci->memory_lock))
		return true;		/* contended: write from the work item */
	if (vpt_pci_memory_enabled(vpci))
		vpt_pci_ioeventfd_write(ioe);
	up_read(&vpci->memory_lock);
	return false;
}

static void vpt_pci_ioeventfd_slow(struct vpt_pci_virqfd *v)
{
	struct vpt_pci_ioeventfd *ioe = container_of(v, struct vpt_pci_ioeventfd,
						     virqfd);
	struct vpt_pci_device *vpci = ioe->vpci;

	down_read(&vpci->memory_lock);
	if (vpt_pci_memory_enabled(vpci))
		vpt_pci_ioeventfd_write(ioe);
	up_read(&vpci->memory_lock);
}

static void vpt_pci_ioeventfd_free(struct vpt_pci_device *vpci,
				   struct vpt_pci_ioeventfd *ioe)
{
	lockdep_assert_held(&vpci->ioeventfd_lock);

	list_del(&ioe->entry);
	vpci->nr_ioeventfds--;
	vpt_pci_virqfd_disable(&ioe->virqfd);
	kfree(ioe);
}

/* Whether [pos, pos + count) of @bar touches the MSI-X table. */
static bool vpt_pci_ioeventfd_hits_msix(struct vpt_pci_device *vpci, int bar,
					u64 pos, int count)
{
	return bar == vpci->msix_bar && pos < vpci->msix_offset +
	       (u64)vpci->msix_size && pos + count > vpci->msix_offset;
}

/*
 * Add (@fd >= 0) or remove (@fd == -1) the ioeventfd writing @data of
 * @count bytes at @pos of @bar.
 */
static int vpt_pci_ioeventfd_set(struct vpt_pci_device *vpci, int bar,
				 u64 pos, u64 data, int count, s32 fd)
{
	struct vpt_pci_ioeventfd *ioe;
	void __iomem *io;
	int ret;

	if (bar > VFIO_PCI_BAR5_REGION_INDEX ||
	    pos + count > pci_resource_len(vpci->pdev, bar))
		return -EINVAL;
	/* The table is the host's: no write may reach it behind SET_IRQS. */
	if (vpt_pci_ioeventfd_hits_msix(vpci, bar, pos, count))
		return -EINVAL;
	ret = vpt_pci_bar_map(vpci, bar, &io);
	if (ret)
		return ret;

	mutex_lock(&vpci->ioeventfd_lock);
	list_for_each_entry(ioe, &vpci->ioeventfds, entry) {
		if (ioe->bar == bar && ioe->pos == pos && ioe->data == data &&
		    ioe->count == count) {
			if (fd == -1)
				vpt_pci_ioeventfd_free(vpci, ioe);
			else
				ret = -EEXIST;
			goto out_unlock;
		}
	}
	if (fd < 0) {
		ret = -ENODEV;
		goto out_unlock;
	}
	if (vpci->nr_ioeventfds >= VPT_PCI_IOEVENTFD_MAX) {
		ret = -ENOSPC;
		goto out_unlock;
	}
	ioe = kzalloc(sizeof(*ioe), GFP_KERNEL_ACCOUNT);
	if (!ioe) {
		ret = -ENOMEM;
		goto out_unlock;
	}
	ioe->vpci = vpci;
	ioe->addr = io + pos;
	ioe->data = data;
	ioe->pos = pos;
	ioe->bar = bar;
	ioe->count = count;
	ioe->test_mem = pci_resource_flags(vpci->pdev, bar) & IORESOURCE_MEM;
	ret = vpt_pci_virqfd_enable(&ioe->virqfd, fd, vpt_pci_ioeventfd_fast,
				    vpt_pci_ioeventfd_slow);
	if (ret) {
		kfree(ioe);
		goto out_unlock;
	}
	list_add_tail(&ioe->entry, &vpci->ioeventfds);
	vpci->nr_ioeventfds++;
out_unlock:
	mutex_unlock(&vpci->ioeventfd_lock);
	return ret;
}

/**
 * vpt_pci_ioeventfd_ioctl() - VFIO_DEVICE_IOEVENTFD
 * @vpci: the device
 * @arg: the user's struct vfio_device_ioeventfd
 *
 * Return: 0; -EINVAL for a short argsz, unknown flags, not exactly one
 * size, an fd below -1, an offset outside BARs 0-5 or the BAR, or one
 * touching the MSI-X table; -EEXIST for an ioeventfd already there,
 * -ENODEV when removing one that is not, -ENOSPC past 1000, -EBADF or
 * -EINVAL for an fd that is not an eventfd.
 */
long vpt_pci_ioeventfd_ioctl(struct vpt_pci_device *vpci, void __user *arg)
{
	unsigned long minsz = offsetofend(struct vfio_device_ioeventfd, fd);
	struct vfio_device_ioeventfd req;
	int count;

	if (copy_from_user(&req, arg, minsz))
		return -EFAULT;
	if (req.argsz < minsz ||
	    req.flags & ~VFIO_DEVICE_IOEVENTFD_SIZE_MASK)
		return -EINVAL;
	count = req.flags & VFIO_DEVICE_IOEVENTFD_SIZE_MASK;
	if (hweight8(count) != 1 || req.fd < -1)
		return -EINVAL;
	return vpt_pci_ioeventfd_set(vpci, VPT_PCI_INDEX(req.offset),
				     req.offset & VPT_PCI_OFFSET_MASK,
				     req.data, count, req.fd);
}

/**
 * vpt_pci_ioeventfd_release() - remove every ioeventfd, at close
 * @vpci: the device; called before memory_lock is taken for the close
 *        (a queued write takes it)
 */
void vpt_pci_ioeventfd_release(struct vpt_pci_device *vpci)
{
	struct vpt_pci_ioeventfd *ioe, *next;

	mutex_lock(&vpci->ioeventfd_lock);
	list_for_each_entry_safe(ioe, next, &vpci->ioeventfds, entry)
		vpt_pci_ioeventfd_free(vpci, ioe);
	mutex_unlock(&vpci->ioeventfd_lock);
}
