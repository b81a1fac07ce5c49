// SPDX-License-Identifier: GPL-2.0
/*
 * vpt_pci_mmap.c - mmap(2) of BARs: which BARs and pages may be mapped,
 * what region info says about it, and the fault handler.
 *
 * The policy is upstream vfio-pci's, decided at open:
 *  - memory BARs of a page or more map whole;
 *  - a smaller BAR maps (as one page) only if it starts a page and the
 *    rest of that page can be reserved, so that no other device's BAR is
 *    placed there while the user holds the page;
 *  - the BAR holding the MSI-X table maps whole, table and PBA included,
 *    and says so with VFIO_REGION_INFO_CAP_MSIX_MAPPABLE.  Upstream relies
 *    on the IOMMU to isolate MSIs for that; vpt checks it: where MSIs are
 *    not isolated (a group accepted with allow_unsafe_interrupts) the
 *    pages of the table and PBA are never mapped, and region info offers
 *    the rest through VFIO_REGION_INFO_CAP_SPARSE_MMAP.
 * Through read/write the table is virtualised either way (see
 * vpt_pci_rdwr.c).
 *
 * Pages are inserted on fault, and only while memory decoding is on, so
 * that a zap is all it takes to revoke them (vpt_pci_core.c).
 */
#include <linux/iommu.h>
#include <linux/ioport.h>
#include <linux/mm.h>
#include <linux/overflow.h>
#include <linux/pci.h>
#include <linux/slab.h>

#include "vpt_compat.h"
#include "vpt_pci_priv.h"

/* Whether the IOMMU isolates the MSI writes of @pdev's whole group. */
static bool vpt_pci_msi_isolated(struct pci_dev *pdev)
{
	struct iommu_group *group = iommu_group_get(&pdev->dev);
	bool isolated;

	if (!group)
		return false;
	isolated = vpt_group_has_isolated_msi(group);
	iommu_group_put(group);
	return isolated;
}

/*
 * Reserve the rest of the page that sub-page BAR @bar starts, as upstream
 * does, so that the page is the BAR's alone while the user may map it.
 */
static void vpt_pci_reserve_subpage(struct vpt_pci_device *vpci, int bar)
{
	struct resource *res = &vpci->pdev->resource[bar];
	struct resource *rest = &vpci->subpage[bar];

	if (!res->parent || !res->start || !PAGE_ALIGNED(res->start))
		return;
	memset(rest, 0, sizeof(*rest));
	rest->name = "vpt-pci sub-page reserved";
	rest->start = res->end + 1;
	rest->end = res->start + PAGE_SIZE - 1;
	rest->flags = res->flags;
	/* On success rest->parent is set: that is the BAR's mmap flag. */
	if (request_resource(res->parent, rest))
		rest->parent = NULL;
}

/**
 * vpt_pci_mmap_open() - decide, at open, what the user may mmap
 * @vpci: the device, being opened
 */
void vpt_pci_mmap_open(struct vpt_pci_device *vpci)
{
	struct pci_dev *pdev = vpci->pdev;
	int bar;

	vpci->msix_mappable = vpt_pci_msi_isolated(pdev);
	for (bar = 0; bar < PCI_STD_NUM_BARS; bar++) {
		resource_size_t len = pci_resource_len(pdev, bar);

		if ((pci_resource_flags(pdev, bar) & IORESOURCE_MEM) &&
		    len && len < PAGE_SIZE)
			vpt_pci_reserve_subpage(vpci, bar);
	}
}

/**
 * vpt_pci_mmap_close() - give back what vpt_pci_mmap_open() reserved
 * @vpci: the device, being closed (no mmap is left)
 */
void vpt_pci_mmap_close(struct vpt_pci_device *vpci)
{
	int bar;

	for (bar = 0; bar < PCI_STD_NUM_BARS; bar++)
		if (vpci->subpage[bar].parent)
			release_resource(&vpci->subpage[bar]);
}

/*
 * Whether BAR @bar may be mmapped at all: assigned memory BARs of whole
 * pages, and sub-page ones whose page is reserved (vpt_pci_mmap_open()).
 * A smaller BAR would otherwise expose the rest of its page, which may
 * belong to another device, and an unassigned one (start 0) would map
 * page frame 0.
 */
static bool vpt_pci_bar_mmap_ok(struct vpt_pci_device *vpci, int bar)
{
	struct pci_dev *pdev = vpci->pdev;
	resource_size_t len;

	if (bar >= PCI_STD_NUM_BARS ||
	    !(pci_resource_flags(pdev, bar) & IORESOURCE_MEM) ||
	    !pci_resource_start(pdev, bar))
		return false;
	len = pci_resource_len(pdev, bar);
	if (len < PAGE_SIZE)
		return len && vpci->subpage[bar].parent;
	return PAGE_ALIGNED(pci_resource_start(pdev, bar)) && PAGE_ALIGNED(len);
}

/*
 * The page range of @bar that must not be mapped because it holds the
 * MSI-X table (@which 0) or PBA (@which 1) and MSIs are not isolated;
 * *@start == *@end if none.
 */
static void vpt_pci_bar_msix_hole(struct vpt_pci_device *vpci, int bar,
				  u64 *start, u64 *end, int which)
{
	int hbar = which ? vpci->pba_bar : vpci->msix_bar;
	u64 off = which ? vpci->pba_offset : vpci->msix_offset;
	u64 size = which ? vpci->pba_size : vpci->msix_size;

	*start = 0;
	*end = 0;
	if (vpci->msix_mappable || hbar != bar || !size)
		return;
	*start = round_down(off, PAGE_SIZE);
	*end = round_up(off + size, PAGE_SIZE);
}

/* The sparse-mmap capability: the pages of @bar around the holes. */
static void *vpt_pci_sparse_cap(struct vpt_pci_device *vpci, int bar,
				size_t *size)
{
	struct vfio_region_info_cap_sparse_mmap *sparse;
	u64 len = pci_resource_len(vpci->pdev, bar);
	u64 hs[2], he[2], cur = 0;
	int i, n = 0, nr = 0;

	for (i = 0; i < 2; i++) {
		vpt_pci_bar_msix_hole(vpci, bar, &hs[n], &he[n], i);
		if (hs[n] < he[n])
			n++;
	}
	if (!n)
		return NULL;
	if (n == 2 && hs[1] < hs[0]) {
		swap(hs[0], hs[1]);
		swap(he[0], he[1]);
	}

	sparse = kzalloc(struct_size(sparse, areas, n + 1), GFP_KERNEL);
	if (!sparse)
		return ERR_PTR(-ENOMEM);
	for (i = 0; i < n; i++) {
		if (hs[i] > cur && cur < len) {
			sparse->areas[nr].offset = cur;
			sparse->areas[nr].size = min(hs[i], len) - cur;
			nr++;
		}
		cur = max(cur, he[i]);
	}
	if (cur < len) {
		sparse->areas[nr].offset = cur;
		sparse->areas[nr].size = len - cur;
		nr++;
	}
	sparse->header.id = VFIO_REGION_INFO_CAP_SPARSE_MMAP;
	sparse->header.version = 1;
	sparse->nr_areas = nr;
	*size = struct_size(sparse, areas, nr);
	return sparse;
}

/* VFIO_REGION_INFO_CAP_MSIX_MAPPABLE: a bare header, as upstream. */
static void *vpt_pci_msix_mappable_cap(size_t *size)
{
	struct vfio_info_cap_header *hdr = kzalloc(sizeof(*hdr), GFP_KERNEL);

	if (!hdr)
		return ERR_PTR(-ENOMEM);
	hdr->id = VFIO_REGION_INFO_CAP_MSIX_MAPPABLE;
	hdr->version = 1;
	*size = sizeof(*hdr);
	return hdr;
}

/**
 * vpt_pci_mmap_region_info() - what region info says about mmap of a BAR
 * @vpci: the device, open
 * @bar: a standard BAR index
 * @flags: VFIO_REGION_INFO_FLAG_MMAP is added here if the BAR maps
 * @cap: set to the region's capability (kfree() it), or NULL
 * @size: set to the capability's size, 0 if there is none
 *
 * The BAR holding the MSI-X table gets VFIO_REGION_INFO_CAP_MSIX_MAPPABLE
 * where MSIs are isolated, as upstream; otherwise a BAR holding the table
 * or PBA gets the sparse areas around them, and no mmap at all when they
 * fill it.
 *
 * Return: 0 or -ENOMEM.
 */
int vpt_pci_mmap_region_info(struct vpt_pci_device *vpci, int bar,
			     u32 *flags, void **cap, size_t *size)
{
	struct vfio_region_info_cap_sparse_mmap *sparse;

	*cap = NULL;
	*size = 0;
	if (!vpt_pci_bar_mmap_ok(vpci, bar))
		return 0;
	*flags |= VFIO_REGION_INFO_FLAG_MMAP;
	if (vpci->msix_mappable) {
		if (bar == vpci->msix_bar)
			*cap = vpt_pci_msix_mappable_cap(size);
	} else {
		*cap = vpt_pci_sparse_cap(vpci, bar, size);
	}
	if (IS_ERR(*cap)) {
		int ret = PTR_ERR(*cap);

		*cap = NULL;
		*size = 0;
		return ret;
	}
	sparse = *cap;
	if (sparse && !vpci->msix_mappable && !sparse->nr_areas) {
		/* The table and PBA fill the BAR: nothing to map. */
		*flags &= ~VFIO_REGION_INFO_FLAG_MMAP;
		kfree(sparse);
		*cap = NULL;
		*size = 0;
	}
	return 0;
}

/*
 * Insert 2^@order pages of the BAR around the faulting address, as one
 * PTE (order 0) or, where the kernel can hold PFN maps in its page
 * middle directory, as one PMD.  A huge entry needs the aligned range
 * to lie inside the vma (so inside the BAR and clear of any MSI-X hole,
 * which mmap kept out of the vma) and the BAR's PFN to share the
 * address's alignment; otherwise the core retries with PTEs.
 */
static vm_fault_t vpt_pci_mmap_huge_fault(struct vm_fault *vmf,
					  unsigned int order)
{
	struct vm_area_struct *vma = vmf->vma;
	struct vpt_pci_device *vpci = vma->vm_private_data;
	int bar = vma->vm_pgoff >> (VPT_PCI_OFFSET_SHIFT - PAGE_SHIFT);
	unsigned long first = vma->vm_pgoff &
			      ((1UL << (VPT_PCI_OFFSET_SHIFT - PAGE_SHIFT)) - 1);
	unsigned long addr = ALIGN_DOWN(vmf->address, PAGE_SIZE << order);
	unsigned long pgoff, pfn;
	vm_fault_t ret;

	/* The core passes any faulting address: align it, stay in the vma. */
	if (addr < vma->vm_start ||
	    addr + (PAGE_SIZE << order) > vma->vm_end) {
		ret = VM_FAULT_FALLBACK;
		goto out;
	}
	pgoff = first + ((addr - vma->vm_start) >> PAGE_SHIFT);
	pfn = (pci_resource_start(vpci->pdev, bar) >> PAGE_SHIFT) + pgoff;
	if (!IS_ALIGNED(pfn, 1UL << order)) {
		ret = VM_FAULT_FALLBACK;
		goto out;
	}

	down_read(&vpci->memory_lock);
	if (!vpt_pci_memory_enabled(vpci) || vpt_pci_power_engaged(vpci))
		ret = VM_FAULT_SIGBUS;
	else if (!order)
		ret = vmf_insert_pfn(vma, addr, pfn);
	else
		ret = vpt_vmf_insert_pfn_huge(vmf, order, pfn);
	up_read(&vpci->memory_lock);
out:
	trace_vpt_pci_mmap_fault(pci_name(vpci->pdev), bar,
				 (u64)(first + ((vmf->address - vma->vm_start) >>
						PAGE_SHIFT)) << PAGE_SHIFT,
				 order, ret);
	return ret;
}

static vm_fault_t vpt_pci_mmap_fault(struct vm_fault *vmf)
{
	return vpt_pci_mmap_huge_fault(vmf, 0);
}

static const struct vm_operations_struct vpt_pci_mmap_ops = {
	.fault = vpt_pci_mmap_fault,
	VPT_HUGE_FAULT(vpt_pci_mmap_huge_fault)
};

/**
 * vpt_pci_mmap() - mmap(2) of a BAR
 * @vpci: the device
 * @vma: the new mapping; its file offset selects region and offset
 *
 * Nothing is mapped here: pages are inserted on fault, and only while
 * memory decoding is on, so that a zap is all it takes to revoke them.
 * A sub-page BAR maps as the whole page it starts.
 *
 * Return: 0 or -EINVAL for anything but a shared mapping of whole pages
 * inside an mmap-able BAR, clear of any MSI-X hole.
 */
int vpt_pci_mmap(struct vpt_pci_device *vpci, struct vm_area_struct *vma)
{
	u64 bar = vma->vm_pgoff >> (VPT_PCI_OFFSET_SHIFT - PAGE_SHIFT);
	u64 start, end, len, hs, he;
	int which, ret;

	if (!(vma->vm_flags & VM_SHARED))
		return -EINVAL;
	if (bar >= PCI_STD_NUM_BARS || !vpt_pci_bar_mmap_ok(vpci, bar))
		return -EINVAL;
	if (vma->vm_end <= vma->vm_start)
		return -EINVAL;

	len = PAGE_ALIGN((u64)pci_resource_len(vpci->pdev, bar));
	start = (u64)(vma->vm_pgoff &
		      ((1UL << (VPT_PCI_OFFSET_SHIFT - PAGE_SHIFT)) - 1))
		<< PAGE_SHIFT;
	if (check_add_overflow(start, (u64)(vma->vm_end - vma->vm_start),
			       &end) || end > len)
		return -EINVAL;

	for (which = 0; which < 2; which++) {
		vpt_pci_bar_msix_hole(vpci, bar, &hs, &he, which);
		if (hs < he && start < he && end > hs)
			return -EINVAL;
	}

	/* The region must be ours while the user can reach it. */
	ret = vpt_pci_bar_map(vpci, bar, NULL);
	if (ret)
		return ret;

	vma->vm_private_data = vpci;
	vma->vm_page_prot = pgprot_noncached(vma->vm_page_prot);
	vm_flags_set(vma, VM_IO | VM_PFNMAP | VM_DONTEXPAND | VM_DONTDUMP);
	vma->vm_ops = &vpt_pci_mmap_ops;
	return 0;
}
