// SPDX-License-Identifier: GPL-2.0
/*
 * vpt_pci_core.c - vpt-pci.ko: the PCI driver exposing a function to
 * userspace through vpt.ko's device fds.
 *
 * The driver has no ID table: it binds only to functions a user points
 * at it with driver_override (or new_id).  It never uses the DMA API for
 * the device (driver_managed_dma): vpt.ko owns the IOMMU domain.
 *
 * This file: probe/remove, open/close of the device, the ioctls.  Config
 * space is in vpt_pci_config.c, BAR access in vpt_pci_rdwr.c and
 * vpt_pci_mmap.c, hardware BAR sizing in vpt_pci_bar.c, resets in
 * vpt_pci_reset.c, ioeventfds in vpt_pci_ioeventfd.c, SR-IOV in
 * vpt_pci_sriov.c, power management in vpt_pci_power.c.
 */
#include <linux/module.h>
#include <linux/overflow.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vfio.h>

#include "vpt_pci_priv.h"

/**
 * vpt_pci_zap_and_down_write_memory_lock() - revoke BAR mmaps, lock out access
 * @vpci: the device
 *
 * Takes memory_lock for writing and zaps every user mapping of the device
 * (all fds, all processes): later touches fault and find the lock's
 * protected state, e.g. memory decode off.
 */
void vpt_pci_zap_and_down_write_memory_lock(struct vpt_pci_device *vpci)
{
	down_write(&vpci->memory_lock);
	unmap_mapping_range(vpt_device_mapping(&vpci->vdev), 0, 0, true);
}

/**
 * vpt_pci_memory_enabled() - whether the user's memory decode is on
 * @vpci: the device, memory_lock held
 *
 * Return: the virtual PCI_COMMAND_MEMORY bit, false in D3 (the user's
 * PMCSR write, or runtime suspend in low power).
 */
bool vpt_pci_memory_enabled(struct vpt_pci_device *vpci)
{
	lockdep_assert_held(&vpci->memory_lock);
	return vpci->virt_mem && !vpt_pci_power_in_d3(vpci);
}

static int vpt_pci_open_device(struct vpt_device *vdev)
{
	struct vpt_pci_device *vpci = to_vpt_pci(vdev);
	struct pci_dev *pdev = vpci->pdev;
	int ret;

	vpt_pci_reset_open(vpci);
	ret = vpt_pci_power_open(vpci);
	if (ret)
		goto err_closed;
	ret = pci_enable_device(pdev);
	if (ret)
		goto err_power;

	/* The state to put back at close, whatever the user does. */
	pci_save_state(pdev);
	vpci->saved_state = pci_store_saved_state(pdev);
	if (!vpci->saved_state) {
		ret = -ENOMEM;
		goto err_disable;
	}

	vpt_pci_intr_open(vpci);

	/* Hand the user a clean function where we can. */
	ret = vpt_pci_reset_at_open(vpci);
	if (ret)
		goto err_free_state;

	ret = vpt_pci_config_init(vpci);
	if (ret)
		goto err_free_state;
	vpt_pci_mmap_open(vpci);
	vpt_pci_sriov_open(vpci);
	return 0;

err_free_state:
	kfree(vpci->saved_state);
	vpci->saved_state = NULL;
err_disable:
	pci_disable_device(pdev);
err_power:
	vpt_pci_power_put(vpci);
err_closed:
	vpt_pci_reset_open_failed(vpci);
	return ret;
}

static void vpt_pci_close_device(struct vpt_device *vdev)
{
	struct vpt_pci_device *vpci = to_vpt_pci(vdev);
	struct pci_dev *pdev = vpci->pdev;
	bool reset_done = false;

	/* Out of low power and D3: the reset below needs D0. */
	vpt_pci_power_close(vpci);
	vpt_pci_sriov_close(vpci);
	/* Every handler and eventfd of the user goes first. */
	vpt_pci_intr_release(vpci);
	vpt_pci_ioeventfd_release(vpci);

	/*
	 * No fd is left, so no mmap either (a vma holds its file); zap
	 * anyway so that nothing can outlive the decode state below.
	 */
	vpt_pci_zap_and_down_write_memory_lock(vpci);
	vpci->virt_mem = false;
	vpci->virt_io = false;

	/* Stop DMA, then quiesce: decoding and INTx off for the reset. */
	pci_clear_master(pdev);
	pci_write_config_word(pdev, PCI_COMMAND, PCI_COMMAND_INTX_DISABLE);
	if (vpci->reset_works && !pci_try_reset_function(pdev)) {
		reset_done = true;
		vpt_pci_hw_bars_size(vpci, "release");
	}
	up_write(&vpci->memory_lock);

	vpt_pci_bars_release(vpci);
	vpt_pci_mmap_close(vpci);
	vpt_pci_config_free(vpci);

	/*
	 * Back to the state of open, decode bits included; the BARs are
	 * written while PCI_COMMAND still has decoding off.
	 */
	if (!pci_load_and_free_saved_state(pdev, &vpci->saved_state))
		pci_restore_state(pdev);
	else
		pci_warn(pdev, "could not restore the state saved at open\n");
	pci_disable_device(pdev);
	/* Not reset alone: reset with its slot or bus once all are closed. */
	vpt_pci_reset_close(vpci, reset_done);
	vpt_pci_power_put(vpci);
}

static ssize_t vpt_pci_region_rw(struct vpt_pci_device *vpci,
				 char __user *buf, size_t count, loff_t *ppos,
				 bool iswrite)
{
	u64 index = VPT_PCI_INDEX(*ppos);

	switch (index) {
	case VFIO_PCI_CONFIG_REGION_INDEX:
		return vpt_pci_config_rw(vpci, buf, count, ppos, iswrite);
	case VFIO_PCI_ROM_REGION_INDEX:
		if (iswrite)
			return -EINVAL;
		return vpt_pci_bar_rw(vpci, buf, count, ppos, false);
	case VFIO_PCI_BAR0_REGION_INDEX ... VFIO_PCI_BAR5_REGION_INDEX:
		return vpt_pci_bar_rw(vpci, buf, count, ppos, iswrite);
	default:
		return -EINVAL;
	}
}

/* Every access has the device resumed for its duration, as upstream. */
static ssize_t vpt_pci_rw(struct vpt_pci_device *vpci, char __user *buf,
			  size_t count, loff_t *ppos, bool iswrite)
{
	bool held;
	ssize_t ret;

	if (VPT_PCI_INDEX(*ppos) >= VFIO_PCI_NUM_REGIONS)
		return -EINVAL;
	ret = vpt_pci_power_access_get(vpci, &held);
	if (ret) {
		pci_info_ratelimited(vpci->pdev, "runtime resume failed: %zd\n",
				     ret);
		return -EIO;
	}
	ret = vpt_pci_region_rw(vpci, buf, count, ppos, iswrite);
	vpt_pci_power_access_put(vpci, held);
	return ret;
}

static ssize_t vpt_pci_read(struct vpt_device *vdev, char __user *buf,
			    size_t count, loff_t *ppos)
{
	return vpt_pci_rw(to_vpt_pci(vdev), buf, count, ppos, false);
}

static ssize_t vpt_pci_write(struct vpt_device *vdev, const char __user *buf,
			     size_t count, loff_t *ppos)
{
	return vpt_pci_rw(to_vpt_pci(vdev), (char __user *)buf, count, ppos,
			  true);
}

static int vpt_pci_mmap_op(struct vpt_device *vdev, struct vm_area_struct *vma)
{
	return vpt_pci_mmap(to_vpt_pci(vdev), vma);
}

static long vpt_pci_get_info(struct vpt_pci_device *vpci, void __user *arg)
{
	unsigned long minsz = offsetofend(struct vfio_device_info, num_irqs);
	struct vfio_device_info info;
	u32 argsz;

	if (copy_from_user(&argsz, arg, sizeof(argsz)))
		return -EFAULT;
	if (argsz < minsz)
		return -EINVAL;

	memset(&info, 0, sizeof(info));
	info.argsz = argsz;
	info.flags = VFIO_DEVICE_FLAGS_PCI;
	if (vpci->reset_works)
		info.flags |= VFIO_DEVICE_FLAGS_RESET;
	info.num_regions = VFIO_PCI_NUM_REGIONS;
	info.num_irqs = VFIO_PCI_NUM_IRQS;

	/* cap_offset (0: no capabilities) is returned if there is room. */
	minsz = min_t(size_t, argsz, sizeof(info));
	return copy_to_user(arg, &info, minsz) ? -EFAULT : 0;
}

static long vpt_pci_get_region_info(struct vpt_pci_device *vpci,
				    void __user *arg)
{
	unsigned long minsz = offsetofend(struct vfio_region_info, offset);
	struct pci_dev *pdev = vpci->pdev;
	struct vfio_region_info info;
	size_t cap_size = 0;
	void *cap = NULL;
	u32 argsz, index;
	long ret = 0;

	if (copy_from_user(&info, arg, minsz))
		return -EFAULT;
	if (info.argsz < minsz)
		return -EINVAL;
	argsz = info.argsz;
	index = info.index;
	if (index >= VFIO_PCI_NUM_REGIONS)
		return -EINVAL;

	memset(&info, 0, sizeof(info));
	info.argsz = argsz;
	info.index = index;
	info.offset = VPT_PCI_INDEX_TO_OFFSET(index);

	switch (index) {
	case VFIO_PCI_CONFIG_REGION_INDEX:
		info.size = pdev->cfg_size;
		info.flags = VFIO_REGION_INFO_FLAG_READ |
			     VFIO_REGION_INFO_FLAG_WRITE;
		break;
	case VFIO_PCI_BAR0_REGION_INDEX ... VFIO_PCI_BAR5_REGION_INDEX:
		info.size = pci_resource_len(pdev, index);
		if (!info.size)
			break;
		info.flags = VFIO_REGION_INFO_FLAG_READ |
			     VFIO_REGION_INFO_FLAG_WRITE;
		ret = vpt_pci_mmap_region_info(vpci, index, &info.flags,
					       &cap, &cap_size);
		if (ret)
			return ret;
		break;
	case VFIO_PCI_ROM_REGION_INDEX:
		info.size = vpt_pci_rom_size(vpci);
		if (info.size)
			info.flags = VFIO_REGION_INFO_FLAG_READ;
		break;
	default:
		/*
		 * VGA: as upstream for a function without VGA decoding,
		 * which is every function here (legacy VGA is not offered).
		 */
		return -EINVAL;
	}

	if (cap_size) {
		info.flags |= VFIO_REGION_INFO_FLAG_CAPS;
		if (argsz < sizeof(info) + cap_size) {
			/* Tell the user how much room the chain needs. */
			info.argsz = sizeof(info) + cap_size;
			info.cap_offset = 0;
		} else if (copy_to_user(arg + sizeof(info), cap, cap_size)) {
			ret = -EFAULT;
			goto out;
		} else {
			info.cap_offset = sizeof(info);
		}
	}
	if (copy_to_user(arg, &info, minsz))
		ret = -EFAULT;
out:
	kfree(cap);
	return ret;
}

static long vpt_pci_ioctl_dispatch(struct vpt_pci_device *vpci,
				   unsigned int cmd, void __user *uarg)
{
	switch (cmd) {
	case VFIO_DEVICE_GET_INFO:
		return vpt_pci_get_info(vpci, uarg);
	case VFIO_DEVICE_GET_REGION_INFO:
		return vpt_pci_get_region_info(vpci, uarg);
	case VFIO_DEVICE_GET_IRQ_INFO:
		return vpt_pci_intr_get_info(vpci, uarg);
	case VFIO_DEVICE_SET_IRQS:
		return vpt_pci_intr_set_irqs(vpci, uarg);
	case VFIO_DEVICE_RESET:
		return vpt_pci_reset(vpci);
	case VFIO_DEVICE_GET_PCI_HOT_RESET_INFO:
		return vpt_pci_hot_reset_info(vpci, uarg);
	case VFIO_DEVICE_PCI_HOT_RESET:
		return vpt_pci_hot_reset(vpci, uarg);
	case VFIO_DEVICE_IOEVENTFD:
		return vpt_pci_ioeventfd_ioctl(vpci, uarg);
	case VFIO_DEVICE_FEATURE:
		return vpt_pci_feature_ioctl(vpci, uarg);
	default:
		return -ENOTTY;
	}
}

/* The device is resumed for every ioctl, as upstream's vfio core does. */
static long vpt_pci_ioctl(struct vpt_device *vdev, unsigned int cmd,
			  unsigned long arg)
{
	struct vpt_pci_device *vpci = to_vpt_pci(vdev);
	long ret;

	ret = vpt_pci_power_get(vpci);
	if (ret)
		return ret;
	ret = vpt_pci_ioctl_dispatch(vpci, cmd, (void __user *)arg);
	vpt_pci_power_put(vpci);
	return ret;
}

/* Called every ten seconds while an unbind waits for the user. */
static void vpt_pci_request(struct vpt_device *vdev, unsigned int count)
{
	vpt_pci_intr_request(to_vpt_pci(vdev), count);
}

static int vpt_pci_match(struct vpt_device *vdev, const char *buf)
{
	return vpt_pci_sriov_match(to_vpt_pci(vdev), buf);
}

static const struct vpt_device_ops vpt_pci_ops = {
	.name = VPT_PCI_DRIVER_NAME,
	.open_device = vpt_pci_open_device,
	.close_device = vpt_pci_close_device,
	.read = vpt_pci_read,
	.write = vpt_pci_write,
	.ioctl = vpt_pci_ioctl,
	.mmap = vpt_pci_mmap_op,
	.request = vpt_pci_request,
	.match = vpt_pci_match,
};

/* Where the MSI-X table and PBA live (for vpt_pci_rdwr.c, vpt_pci_mmap.c). */
static void vpt_pci_msix_info(struct vpt_pci_device *vpci)
{
	struct pci_dev *pdev = vpci->pdev;
	u32 table, pba, n;
	u16 flags;

	vpci->msix_bar = -1;
	vpci->pba_bar = -1;
	if (!pdev->msix_cap)
		return;

	pci_read_config_word(pdev, pdev->msix_cap + PCI_MSIX_FLAGS, &flags);
	pci_read_config_dword(pdev, pdev->msix_cap + PCI_MSIX_TABLE, &table);
	pci_read_config_dword(pdev, pdev->msix_cap + PCI_MSIX_PBA, &pba);
	n = (flags & PCI_MSIX_FLAGS_QSIZE) + 1;

	/* BIR values 6 and 7 are reserved: no BAR to protect. */
	if ((table & PCI_MSIX_TABLE_BIR) < PCI_STD_NUM_BARS) {
		vpci->msix_bar = table & PCI_MSIX_TABLE_BIR;
		vpci->msix_offset = table & PCI_MSIX_TABLE_OFFSET;
		vpci->msix_size = n * PCI_MSIX_ENTRY_SIZE;
	}
	if ((pba & PCI_MSIX_PBA_BIR) < PCI_STD_NUM_BARS) {
		vpci->pba_bar = pba & PCI_MSIX_PBA_BIR;
		vpci->pba_offset = pba & PCI_MSIX_PBA_OFFSET;
		vpci->pba_size = DIV_ROUND_UP(n, 64) * 8;
	}
}

static int vpt_pci_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct vpt_pci_device *vpci;
	int ret;

	/* Bridges (and anything but a plain function) stay with the host. */
	if (pdev->hdr_type != PCI_HEADER_TYPE_NORMAL)
		return -EINVAL;

	vpci = kzalloc(sizeof(*vpci), GFP_KERNEL);
	if (!vpci)
		return -ENOMEM;
	vpci->pdev = pdev;
	mutex_init(&vpci->config_lock);
	init_rwsem(&vpci->memory_lock);
	mutex_init(&vpci->bar_lock);
	mutex_init(&vpci->intr_lock);
	mutex_init(&vpci->ioeventfd_lock);
	INIT_LIST_HEAD(&vpci->ioeventfds);
	spin_lock_init(&vpci->irqlock);
	vpci->irq_type = VFIO_PCI_NUM_IRQS;

	vpt_pci_msix_info(vpci);

	/* Record the BARs, and size them once with decoding off. */
	vpt_pci_hw_bars_save(vpci);
	vpt_pci_hw_bars_size(vpci, "probe");

	ret = vpt_pci_sriov_probe(vpci);
	if (ret)
		goto err_free;

	pci_set_drvdata(pdev, vpci);
	vpt_pci_power_probe(vpci);
	ret = vpt_register_device(&vpci->vdev, &pdev->dev, &vpt_pci_ops);
	if (ret)
		goto err_power;
	vpt_pci_reset_add(vpci);
	return 0;

err_power:
	vpt_pci_power_remove(vpci);
	pci_set_drvdata(pdev, NULL);
	vpt_pci_sriov_remove(vpci);
err_free:
	mutex_destroy(&vpci->ioeventfd_lock);
	mutex_destroy(&vpci->intr_lock);
	mutex_destroy(&vpci->bar_lock);
	mutex_destroy(&vpci->config_lock);
	kfree(vpci);
	return ret;
}

static void vpt_pci_remove(struct pci_dev *pdev)
{
	struct vpt_pci_device *vpci = pci_get_drvdata(pdev);

	/* A PF's VFs go first: their users hold the PF's token. */
	vpt_pci_sriov_disable(vpci);
	vpt_pci_reset_del(vpci);
	/* Waits until every device fd (and so every mmap) is gone. */
	vpt_unregister_device(&vpci->vdev);
	vpt_pci_power_remove(vpci);
	vpt_pci_sriov_remove(vpci);
	pci_set_drvdata(pdev, NULL);
	mutex_destroy(&vpci->ioeventfd_lock);
	mutex_destroy(&vpci->intr_lock);
	mutex_destroy(&vpci->bar_lock);
	mutex_destroy(&vpci->config_lock);
	kfree(vpci);
}

/* AER: relay the error to the user through the ERR eventfd, as upstream. */
static pci_ers_result_t vpt_pci_error_detected(struct pci_dev *pdev,
					       pci_channel_state_t state)
{
	struct vpt_pci_device *vpci = pci_get_drvdata(pdev);

	if (!vpci)
		return PCI_ERS_RESULT_DISCONNECT;
	vpt_pci_intr_error(vpci);
	return PCI_ERS_RESULT_CAN_RECOVER;
}

static const struct pci_error_handlers vpt_pci_err_handlers = {
	.error_detected = vpt_pci_error_detected,
};

struct pci_driver vpt_pci_driver = {
	.name = VPT_PCI_DRIVER_NAME,
	.id_table = NULL,	/* driver_override or new_id only */
	.probe = vpt_pci_probe,
	.remove = vpt_pci_remove,
	.sriov_configure = vpt_pci_sriov_configure,
	.err_handler = &vpt_pci_err_handlers,
	.driver.pm = &vpt_pci_pm_ops,
	.driver_managed_dma = true,
};

module_pci_driver(vpt_pci_driver);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("vpt-pci: VFIO-compatible userspace access to PCI functions");
