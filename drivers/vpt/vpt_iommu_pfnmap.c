// SPDX-License-Identifier: GPL-2.0
/*
 * vpt_iommu_pfnmap.c - mapping MMIO that the user has mmapped (peer to peer).
 *
 * A VMM hands every BAR it mmapped from a device fd to MAP_DMA as well, so
 * that one assigned device can DMA into another's BAR.  Such memory sits
 * in a VM_PFNMAP vma: there is no struct page to pin and it is not RAM,
 * so, as upstream type1 does, it is mapped by PFN, neither pinned nor
 * charged to RLIMIT_MEMLOCK.  vpt takes only a range that lies in one
 * such vma and is physically contiguous (a BAR always is); anything else
 * is -EFAULT, as a range mixing RAM and MMIO is upstream.
 */
#define pr_fmt(fmt) "vpt: " fmt

#include <linux/iommu.h>
#include <linux/mm.h>
#include <linux/sched.h>

#include "vpt_compat.h"
#include "vpt_iommu.h"

/*
 * The PFN behind @addr, faulting it in first when the vma's fault handler
 * populates on demand (vpt-pci's BAR mmaps do).  May drop and retake the
 * mmap lock, so the vma is looked up again each time.
 */
static int vpt_pfnmap_pfn(struct mm_struct *mm, unsigned long addr,
			  unsigned long end, bool write, unsigned long *pfn)
{
	struct vm_area_struct *vma;
	bool unlocked = false;
	int ret, tries;

	mmap_assert_locked(mm);

	for (tries = 0; tries < 2; tries++) {
		vma = vma_lookup(mm, addr);
		if (!vma || !(vma->vm_flags & VM_PFNMAP))
			return tries ? -EFAULT : -ENOENT;
		if (end > vma->vm_end)
			return -EFAULT;
		ret = vpt_follow_pfnmap(vma, addr, write, pfn);
		if (!ret)
			return 0;
		ret = fixup_user_fault(mm, addr, write ? FAULT_FLAG_WRITE : 0,
				       &unlocked);
		if (ret)
			return ret;
	}
	return -EFAULT;
}

int vpt_dma_pfnmap(struct vpt_dma *dma, unsigned long vaddr)
{
	unsigned long npages = dma->size >> PAGE_SHIFT;
	bool write = dma->prot & IOMMU_WRITE;
	struct mm_struct *mm = current->mm;
	unsigned long i, pfn, first = 0;
	int ret = 0;

	mmap_read_lock(mm);
	for (i = 0; i < npages; i++) {
		ret = vpt_pfnmap_pfn(mm, vaddr + (i << PAGE_SHIFT),
				     vaddr + dma->size, write, &pfn);
		/* Only the first page decides whether this is MMIO at all. */
		if (ret == -ENOENT && i)
			ret = -EFAULT;
		if (ret)
			break;
		/* RAM behind a PFN map would need a pin: not taken. */
		if (pfn_valid(pfn) && !PageReserved(pfn_to_page(pfn))) {
			ret = -EFAULT;
			break;
		}
		if (i && pfn != first + i) {
			ret = -EFAULT;
			break;
		}
		if (!i)
			first = pfn;
		if (fatal_signal_pending(current)) {
			ret = -EINTR;
			break;
		}
	}
	mmap_read_unlock(mm);
	if (ret) {
		if (ret != -ENOENT)
			pr_debug("map: MMIO at vaddr 0x%lx not mappable: %d\n",
				 vaddr, ret);
		return ret;
	}

	dma->nr_runs = 1;
	dma->pfn = first;
	dma->prot |= VPT_DMA_PFNMAP;
	return 0;
}
