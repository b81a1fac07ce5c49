/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vpt_compat.h - every difference between the kernels vpt builds against
 * (6.1 to 7.x) lives here, so that no other file carries a version #if.
 * Where Debian's backports blur version numbers, a feature probe decides
 * instead: a macro the kernel defines, or a VPT_HAVE_* that the Kbuild
 * file sets after looking for a header in the kernel tree.
 */
#ifndef _VPT_COMPAT_H
#define _VPT_COMPAT_H

#include <linux/version.h>
#include <linux/device.h>
#include <linux/eventfd.h>
#include <linux/file.h>
#include <linux/iommu.h>
#include <linux/irqdomain.h>
#include <linux/mm.h>
#include <linux/pci.h>

/*
 * 6.17 removed pfn_t (and <linux/pfn_t.h>): the huge PFN inserts take a
 * plain PFN.  VPT_PFN_DEV() is what vmf_insert_pfn_pmd() takes for a
 * device PFN on either side of that.  VPT_HAVE_PFN_T_H comes from the
 * Kbuild probe for the header.
 */
#ifdef VPT_HAVE_PFN_T_H
#include <linux/pfn_t.h>
#define VPT_PFN_DEV(pfn)	__pfn_to_pfn_t(pfn, PFN_DEV)
#else
#define VPT_PFN_DEV(pfn)	(pfn)
#endif

/*
 * A device's driver_override moved from struct pci_dev into struct
 * device, set with device_set_driver_override() (7.0, and backported to
 * Debian's 6.12): VPT_HAVE_DEVICE_SET_DRIVER_OVERRIDE comes from the
 * Kbuild probe for it.
 */
static inline int vpt_pci_set_driver_override(struct pci_dev *pdev,
					      const char *name)
{
#ifdef VPT_HAVE_DEVICE_SET_DRIVER_OVERRIDE
	return device_set_driver_override(&pdev->dev, name);
#else
	return driver_set_override(&pdev->dev, &pdev->driver_override, name,
				   strlen(name));
#endif
}

/* 6.12 moved <asm/unaligned.h> to <linux/unaligned.h>. */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 12, 0)
#include <linux/unaligned.h>
#else
#include <asm/unaligned.h>
#endif

/* 6.3 gave iommu_map() a gfp argument. */
static inline int vpt_iommu_map(struct iommu_domain *domain,
				unsigned long iova, phys_addr_t paddr,
				size_t size, int prot)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 3, 0)
	return iommu_map(domain, iova, paddr, size, prot, GFP_KERNEL_ACCOUNT);
#else
	return iommu_map(domain, iova, paddr, size, prot);
#endif
}

/*
 * 6.11 added iommu_paging_domain_alloc(), returning an ERR_PTR; the bus
 * based iommu_domain_alloc() it replaces returns NULL on failure.
 */
static inline struct iommu_domain *vpt_iommu_domain_alloc(struct device *dev)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 11, 0)
	return iommu_paging_domain_alloc(dev);
#else
	struct iommu_domain *domain = iommu_domain_alloc(dev->bus);

	return domain ? domain : ERR_PTR(-EIO);
#endif
}

#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 3, 0)
static int vpt_dev_has_isolated_msi(struct device *dev, void *data)
{
	return device_iommu_capable(dev, IOMMU_CAP_INTR_REMAP) ? 0 : -EPERM;
}
#endif

/*
 * Whether MSI writes from every device of @group are isolated by
 * interrupt remapping.  6.3 replaced IOMMU_CAP_INTR_REMAP with a group
 * query.
 */
static inline bool vpt_group_has_isolated_msi(struct iommu_group *group)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 3, 0)
	return iommu_group_has_isolated_msi(group);
#else
	return irq_domain_check_msi_remap() ||
	       !iommu_group_for_each_dev(group, NULL, vpt_dev_has_isolated_msi);
#endif
}

/* 6.3 made vma->vm_flags read-only behind accessors. */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 3, 0)
static inline void vm_flags_set(struct vm_area_struct *vma, vm_flags_t flags)
{
	vma->vm_flags |= flags;
}
#endif

/* 6.4 dropped class_create()'s owner argument. */
static inline struct class *vpt_class_create(const char *name)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 4, 0)
	return class_create(name);
#else
	return class_create(THIS_MODULE, name);
#endif
}

/* 6.2 made the device argument of class->devnode const. */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 2, 0)
#define VPT_DEVNODE_CONST const
#else
#define VPT_DEVNODE_CONST
#endif

/* 6.8 dropped eventfd_signal()'s count: it always adds one. */
static inline void vpt_eventfd_signal(struct eventfd_ctx *ctx)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 8, 0)
	eventfd_signal(ctx);
#else
	eventfd_signal(ctx, 1);
#endif
}

/*
 * 6.2 added dynamic MSI-X: vectors allocated one at a time after MSI-X is
 * enabled.  vpt_pci_msix_alloc_irq_at() returns the new Linux IRQ or a
 * negative errno.
 */
static inline bool vpt_pci_msix_can_alloc_dyn(struct pci_dev *pdev)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 2, 0)
	return pci_msix_can_alloc_dyn(pdev);
#else
	return false;
#endif
}

static inline int vpt_pci_msix_alloc_irq_at(struct pci_dev *pdev,
					    unsigned int index)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 2, 0)
	struct msi_map map = pci_msix_alloc_irq_at(pdev, index, NULL);

	return map.index < 0 ? map.index : map.virq;
#else
	return -EINVAL;
#endif
}

/*
 * The PFN behind a present user PTE of a VM_PFNMAP vma, -EFAULT if the
 * mapping is read-only and @write is asked for.  The caller holds the
 * mmap lock.  6.10 made follow_pte() take the vma and dropped
 * follow_pfn(); 6.12 replaced follow_pte() with follow_pfnmap_start().
 */
static inline int vpt_follow_pfnmap(struct vm_area_struct *vma,
				    unsigned long addr, bool write,
				    unsigned long *pfn)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 12, 0)
	struct follow_pfnmap_args args = { .vma = vma, .address = addr };
	int ret = follow_pfnmap_start(&args);

	if (ret)
		return ret;
	if (write && !args.writable)
		ret = -EFAULT;
	else
		*pfn = args.pfn;
	follow_pfnmap_end(&args);
	return ret;
#elif LINUX_VERSION_CODE >= KERNEL_VERSION(6, 10, 0)
	spinlock_t *ptl;	/* the PTE lock follow_pte() took */
	pte_t *ptep;
	int ret = follow_pte(vma, addr, &ptep, &ptl);

	if (ret)
		return ret;
	if (write && !pte_write(ptep_get(ptep)))
		ret = -EFAULT;
	else
		*pfn = pte_pfn(ptep_get(ptep));
	pte_unmap_unlock(ptep, ptl);
	return ret;
#else
	/* A PFN map's PTEs are writable exactly when the vma is. */
	if (write && !(vma->vm_flags & VM_WRITE))
		return -EFAULT;
	return follow_pfn(vma, addr, pfn);
#endif
}

/*
 * 6.12 let a VM_PFNMAP vma hold PMD entries where the architecture says
 * so (CONFIG_ARCH_SUPPORTS_PMD_PFNMAP), and taught follow_pfnmap_start()
 * and the zap paths to handle them, so that a BAR mmap can be faulted in
 * 2 MiB at a time.  VPT_HUGE_FAULT() fills in vm_operations_struct's
 * huge_fault there and nothing elsewhere; vpt_vmf_insert_pfn_huge()
 * inserts an entry of @order pages at the aligned address around the
 * fault, or returns VM_FAULT_FALLBACK for an order the kernel cannot map.
 */
#ifdef CONFIG_ARCH_SUPPORTS_PMD_PFNMAP
#define VPT_HUGE_FAULT(fn)	.huge_fault = (fn),

static inline vm_fault_t vpt_vmf_insert_pfn_huge(struct vm_fault *vmf,
						 unsigned int order,
						 unsigned long pfn)
{
	/*
	 * Pass the write fault on: an entry inserted read-only (after
	 * clear_refs took write off vm_page_prot, say) is only made
	 * writable by a write fault asking for it, or it faults forever.
	 */
	if (order != PMD_ORDER)
		return VM_FAULT_FALLBACK;
	return vmf_insert_pfn_pmd(vmf, VPT_PFN_DEV(pfn),
				  vmf->flags & FAULT_FLAG_WRITE);
}
#else
#define VPT_HUGE_FAULT(fn)

static inline vm_fault_t vpt_vmf_insert_pfn_huge(struct vm_fault *vmf,
						 unsigned int order,
						 unsigned long pfn)
{
	return VM_FAULT_FALLBACK;
}
#endif

/*
 * Whether VFIO_PCI_ERR_IRQ_INDEX is offered for @pdev: vpt answers as the
 * in-tree vfio-pci of the same kernel.  Up to 6.12 that offers it only
 * for PCIe functions (AER reaches no other); 7.x offers it for every
 * device, so that a VMM's error notifier setup never depends on the
 * bus.  The change was first seen on Debian's 7.3; 7.0 is the nearest
 * release to it that Debian ships before it.
 */
static inline bool vpt_pci_offers_err_irq(struct pci_dev *pdev)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(7, 0, 0)
	return true;
#else
	return pci_is_pcie(pdev);
#endif
}

/*
 * Whether the IOMMU in front of @dev can block its no-snoop DMA, so that
 * a domain vpt attaches enforces cache coherency.  6.2 gave the question
 * its own capability; before, IOMMU_CAP_CACHE_COHERENCY asked it.
 */
static inline bool vpt_dev_enforces_coherency(struct device *dev)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 2, 0)
	return device_iommu_capable(dev, IOMMU_CAP_ENFORCE_CACHE_COHERENCY);
#else
	return device_iommu_capable(dev, IOMMU_CAP_CACHE_COHERENCY);
#endif
}

/*
 * Whether @page is the page frame @k frames after @first.  With a virtual
 * memmap (every x86-64 kernel) or a flat one, struct pages of consecutive
 * frames are consecutive in memory, and a pointer compare (one load per
 * page GUP returned, where page_to_pfn() would reload vmemmap_base each
 * time, the kernel being built without strict aliasing) says it; 7.x
 * dropped nth_page() for that reason.  Classic SPARSEMEM keeps a memmap
 * per section, so there the frame numbers are compared.
 */
static inline bool vpt_page_is_nth(const struct page *first, unsigned long k,
				   const struct page *page)
{
#if defined(CONFIG_SPARSEMEM) && !defined(CONFIG_SPARSEMEM_VMEMMAP)
	return page_to_pfn(page) == page_to_pfn(first) + k;
#else
	return page == first + k;
#endif
}

/*
 * folio_add_pins() (6.14) adds pins to a folio already pinned, which lets
 * vpt pin a huge page mapped by one page table entry with a single GUP of
 * its first page (vpt_iommu_pin.c).  Without it every page goes through
 * GUP.  The page table walk is x86-64's (one load per entry, tables
 * freed only after an IPI or RCU, pXd_access_permitted()): elsewhere too
 * every page goes through GUP.  VPT_HAVE_FOLIO_ADD_PINS comes from the
 * Kbuild probe for it.
 */
#if defined(VPT_HAVE_FOLIO_ADD_PINS) && defined(CONFIG_X86_64)
#define VPT_PIN_BY_LEAF	true

static inline int vpt_folio_add_pins(struct folio *folio, unsigned int pins)
{
	return folio_add_pins(folio, pins);
}
#else
#define VPT_PIN_BY_LEAF	false

static inline int vpt_folio_add_pins(struct folio *folio, unsigned int pins)
{
	return -EOPNOTSUPP;
}
#endif

/* 6.12 hid struct fd's members behind fd_file(). */
#ifndef fd_file
#define fd_file(f) ((f).file)
#endif

#endif /* _VPT_COMPAT_H */
