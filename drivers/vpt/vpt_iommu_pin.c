// SPDX-License-Identifier: GPL-2.0
/*
 * vpt_iommu_pin.c - pinning a mapping's user pages and accounting them.
 *
 * Pages are pinned with FOLL_LONGTERM in batches of one page worth of
 * struct page pointers, and recorded as runs of physically contiguous
 * page frames, so that each run can be given to the IOMMU in one call
 * (letting it use 2 MiB and 1 GiB pages) and later unpinned in one call,
 * without ever walking the IOMMU page tables back.
 *
 * The whole mapping is charged to RLIMIT_MEMLOCK of the mapping task's
 * mm before anything is pinned, so an over-limit request fails with
 * nothing pinned.  The charge is given back to that same mm, and only
 * while it still has users.
 */
#define pr_fmt(fmt) "vpt: " fmt

#include <linux/gfp.h>
#include <linux/iommu.h>
#include <linux/mm.h>
#include <linux/overflow.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>

#include "vpt_iommu.h"

/* Struct page pointers pinned per pin_user_pages_fast() call. */
#define VPT_PIN_BATCH	(PAGE_SIZE / sizeof(struct page *))

/* Runs the array grows to when a mapping first needs more than run0. */
#define VPT_RUNS_MIN	8

int vpt_dma_charge(struct vpt_dma *dma)
{
	int ret;

	/* account_locked_vm() checks current's rlimit and CAP_IPC_LOCK. */
	ret = account_locked_vm(dma->mm, dma->size >> PAGE_SHIFT, true);
	if (ret)
		pr_debug("map: %llu pages exceed RLIMIT_MEMLOCK (%lu bytes)\n",
			 dma->size >> PAGE_SHIFT, rlimit(RLIMIT_MEMLOCK));
	return ret;
}

void vpt_dma_uncharge(struct vpt_dma *dma)
{
	/*
	 * After exit or exec the mm may have no users: its locked_vm went
	 * with it and must not be touched.  mmput_async() because the
	 * caller holds vpt_iommu.lock and this may be the last user.
	 */
	if (!mmget_not_zero(dma->mm))
		return;
	account_locked_vm(dma->mm, dma->size >> PAGE_SHIFT, false);
	mmput_async(dma->mm);
}

/*
 * Grow the run array of @dma to hold at least one more run.  @cap is the
 * capacity of dma->runs (1 while it is run0).
 */
static int vpt_dma_grow_runs(struct vpt_dma *dma, unsigned long *cap)
{
	struct vpt_dma_run *runs;
	unsigned long new_cap;

	if (check_mul_overflow(*cap, 2UL, &new_cap))
		return -ENOMEM;
	new_cap = max_t(unsigned long, new_cap, VPT_RUNS_MIN);
	runs = kvmalloc_array(new_cap, sizeof(*runs), GFP_KERNEL_ACCOUNT);
	if (!runs)
		return -ENOMEM;
	memcpy(runs, dma->runs, dma->nr_runs * sizeof(*runs));
	if (dma->runs != &dma->run0)
		kvfree(dma->runs);
	dma->runs = runs;
	*cap = new_cap;
	return 0;
}

/* Append one pinned page frame to the runs of @dma. */
static int vpt_dma_add_pfn(struct vpt_dma *dma, unsigned long *cap,
			   unsigned long pfn)
{
	struct vpt_dma_run *last;
	int ret;

	if (dma->nr_runs) {
		last = &dma->runs[dma->nr_runs - 1];
		if (pfn == last->pfn + last->npages) {
			last->npages++;
			return 0;
		}
	}
	if (dma->nr_runs == *cap) {
		ret = vpt_dma_grow_runs(dma, cap);
		if (ret)
			return ret;
	}
	dma->runs[dma->nr_runs].pfn = pfn;
	dma->runs[dma->nr_runs].npages = 1;
	dma->nr_runs++;
	return 0;
}

/* Give back the unused tail of a run array; keeping it is harmless. */
static void vpt_dma_shrink_runs(struct vpt_dma *dma, unsigned long cap)
{
	struct vpt_dma_run *runs;

	if (dma->runs == &dma->run0 || cap == dma->nr_runs)
		return;
	if (dma->nr_runs == 1) {
		dma->run0 = dma->runs[0];
		kvfree(dma->runs);
		dma->runs = &dma->run0;
		return;
	}
	runs = kvmalloc_array(dma->nr_runs, sizeof(*runs), GFP_KERNEL_ACCOUNT);
	if (!runs)
		return;
	memcpy(runs, dma->runs, dma->nr_runs * sizeof(*runs));
	kvfree(dma->runs);
	dma->runs = runs;
}

int vpt_dma_pin(struct vpt_dma *dma)
{
	unsigned long npages = dma->size >> PAGE_SHIFT;
	unsigned int gup_flags = FOLL_LONGTERM;
	unsigned long done = 0, cap = 1;
	struct page **pages;
	int ret = 0;
	long i, n;

	if (dma->prot & IOMMU_WRITE)
		gup_flags |= FOLL_WRITE;

	pages = (struct page **)__get_free_page(GFP_KERNEL);
	if (!pages)
		return -ENOMEM;

	dma->runs = &dma->run0;
	dma->nr_runs = 0;
	while (done < npages) {
		n = min_t(unsigned long, npages - done, VPT_PIN_BATCH);
		n = pin_user_pages_fast(dma->vaddr + (done << PAGE_SHIFT), n,
					gup_flags, pages);
		if (n <= 0) {
			ret = n ? n : -EFAULT;
			pr_debug("map: pinning vaddr 0x%lx failed: %d\n",
				 dma->vaddr + (done << PAGE_SHIFT), ret);
			goto err_unpin;
		}
		for (i = 0; i < n; i++) {
			ret = vpt_dma_add_pfn(dma, &cap, page_to_pfn(pages[i]));
			if (ret) {
				/* Not recorded in a run: unpin them here. */
				unpin_user_pages(pages + i, n - i);
				goto err_unpin;
			}
		}
		done += n;
		cond_resched();
	}
	vpt_dma_shrink_runs(dma, cap);
	free_page((unsigned long)pages);
	return 0;

err_unpin:
	vpt_dma_unpin(dma);
	free_page((unsigned long)pages);
	return ret;
}

void vpt_dma_unpin(struct vpt_dma *dma)
{
	bool dirty = dma->prot & IOMMU_WRITE;
	unsigned long i;

	/* The device may have written any page it could write to. */
	for (i = 0; i < dma->nr_runs; i++) {
		unpin_user_page_range_dirty_lock(pfn_to_page(dma->runs[i].pfn),
						 dma->runs[i].npages, dirty);
		cond_resched();
	}
	if (dma->runs != &dma->run0)
		kvfree(dma->runs);
	dma->runs = &dma->run0;
	dma->nr_runs = 0;
}
