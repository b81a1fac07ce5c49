// SPDX-License-Identifier: GPL-2.0
/*
 * vpt_iommu_pin.c - pinning a mapping's user pages and accounting them.
 *
 * Pages are pinned with FOLL_LONGTERM in batches of VPT_PIN_BATCH pages
 * (few calls for large mappings; small ones pin through an array on the
 * stack and allocate nothing), and recorded as runs of physically
 * contiguous page frames, so that each run can be given to the IOMMU in
 * one call (letting it use 2 MiB and 1 GiB pages) and later unpinned in
 * one call, folio by folio, without ever walking the IOMMU page tables
 * back.  THP and hugetlbfs memory comes back from GUP as whole folios of
 * consecutive frames: recording a batch costs one load and compare per
 * page and one run per physically contiguous stretch.
 *
 * GUP returns one page pointer per 4 KiB page however large the folio,
 * and storing and reading those back is nearly all of a huge-page map's
 * time (Documentation/testing.rst, Profiling).  So where the kernel has
 * folio_add_pins(), a huge page mapped by one PMD or PUD entry is pinned
 * without them: GUP pins its first page, making every check it makes
 * (access, COW unsharing, long-term pinnability, migration out of
 * ZONE_MOVABLE and CMA) for the whole folio; then the entry itself is
 * read, as GUP-fast reads it, and if it maps that page, writably when
 * the device may write, and only frames of that folio, the pins of the
 * entry's other pages are added to the folio at once.  Those are the pins
 * GUP would have taken, and they are unpinned the same way.
 *
 * The whole mapping is charged to RLIMIT_MEMLOCK of the mapping task's
 * mm before anything is pinned, so an over-limit request fails with
 * nothing pinned.  The charge is given back to that same mm, and only
 * while it still has users.
 */
#define pr_fmt(fmt) "vpt: " fmt

#include <linux/gfp.h>
#include <linux/iommu.h>
#include <linux/irqflags.h>
#include <linux/mm.h>
#include <linux/overflow.h>
#include <linux/pgtable.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/sizes.h>
#include <linux/slab.h>

#include "vpt_compat.h"
#include "vpt_iommu.h"
#include "vpt_trace.h"

/*
 * Pages pinned per pin_user_pages_fast() call: eight pages of struct page
 * pointers (16 MiB of 4 KiB pages), allocated once per mapping.
 */
#define VPT_PIN_BATCH	(8 * PAGE_SIZE / sizeof(struct page *))

/* Mappings of at most this many pages pin through an on-stack array. */
#define VPT_PIN_STACK	8

/*
 * Pages that must be left to pin before vpt looks for a huge page entry:
 * one 2 MiB page.  A look that finds none costs a GUP call of one page.
 */
#define VPT_PIN_LEAF_MIN	(SZ_2M / PAGE_SIZE)

/*
 * Runs the array grows to when a mapping first needs more than one: one
 * per 2 MiB of the mapping (what huge pages scattered in memory need, so
 * that such a mapping allocates its array once), at least VPT_RUNS_MIN,
 * at most VPT_RUNS_FIRST_MAX (64 KiB) before doubling.
 */
#define VPT_RUNS_MIN		8
#define VPT_RUNS_FIRST_MAX	4096

/* Array slack that vpt_pin_runs_commit() keeps rather than copy: 1/8. */
#define VPT_RUNS_SLACK_SHIFT	3

/* One kmalloc-64 object per live mapping (see struct vpt_dma). */
static_assert(BITS_PER_LONG != 64 || sizeof(struct vpt_dma) <= 64);

int vpt_dma_charge(struct vpt_dma *dma)
{
	int ret;

	/* account_locked_vm() checks current's rlimit and CAP_IPC_LOCK. */
	ret = account_locked_vm(dma->mm, dma->size >> PAGE_SHIFT, true);
	trace_vpt_account(true, dma->size >> PAGE_SHIFT, ret);
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
	 * caller holds vpt_iommu.lock and this may be the last user.  MMIO
	 * mapped by PFN was never charged.
	 */
	if ((dma->prot & VPT_DMA_PFNMAP) || !mmget_not_zero(dma->mm))
		return;
	account_locked_vm(dma->mm, dma->size >> PAGE_SHIFT, false);
	trace_vpt_account(false, dma->size >> PAGE_SHIFT, 0);
	mmput_async(dma->mm);
}

/*
 * The runs of a mapping while vpt_dma_pin() records them: in @one until a
 * second run appears, then in a kvmalloc()ed array of @cap entries.
 */
struct vpt_pin_runs {
	struct vpt_dma_run *runs;
	unsigned long nr;
	unsigned long cap;
	unsigned long first_cap;
	struct vpt_dma_run one;
};

/* Unpin @nr runs; the device may have written any page it could write. */
static void vpt_unpin_runs(const struct vpt_dma_run *runs, unsigned long nr,
			   bool dirty)
{
	unsigned long i;

	for (i = 0; i < nr; i++) {
		unpin_user_page_range_dirty_lock(pfn_to_page(runs[i].pfn),
						 runs[i].npages, dirty);
		cond_resched();
	}
}

/* Grow the run array of @r to hold at least one more run. */
static int vpt_pin_runs_grow(struct vpt_pin_runs *r)
{
	struct vpt_dma_run *runs;
	unsigned long new_cap;

	/* struct vpt_dma counts its runs in an unsigned int. */
	if (r->cap >= UINT_MAX)
		return -ENOMEM;
	new_cap = min_t(unsigned long, max(2 * r->cap, r->first_cap),
			UINT_MAX);
	runs = kvmalloc_array(new_cap, sizeof(*runs), GFP_KERNEL_ACCOUNT);
	if (!runs)
		return -ENOMEM;
	memcpy(runs, r->runs, r->nr * sizeof(*runs));
	if (r->runs != &r->one)
		kvfree(r->runs);
	r->runs = runs;
	r->cap = new_cap;
	return 0;
}

/*
 * How many of the @n pages from @pages[0] on are consecutive page frames.
 * This is the one pass vpt makes over what GUP filled in, 512 pages per
 * huge page: four pages a step, with one branch for their four loads.
 */
static long vpt_pages_contig(struct page **pages, long n)
{
	const struct page *first = pages[0];
	long j = 1;

	for (; j + 4 <= n; j += 4)
		if (!(vpt_page_is_nth(first, j, pages[j]) &
		      vpt_page_is_nth(first, j + 1, pages[j + 1]) &
		      vpt_page_is_nth(first, j + 2, pages[j + 2]) &
		      vpt_page_is_nth(first, j + 3, pages[j + 3])))
			break;
	for (; j < n; j++)
		if (!vpt_page_is_nth(first, j, pages[j]))
			break;
	return j;
}

/* Record @n pinned frames from @pfn on: extend the last run or add one. */
static int vpt_pin_runs_append(struct vpt_pin_runs *r, unsigned long pfn,
			       unsigned long n)
{
	struct vpt_dma_run *last = r->nr ? &r->runs[r->nr - 1] : NULL;
	int ret;

	if (last && pfn == last->pfn + last->npages) {
		last->npages += n;
		return 0;
	}
	if (r->nr == r->cap) {
		ret = vpt_pin_runs_grow(r);
		if (ret)
			return ret;
	}
	r->runs[r->nr].pfn = pfn;
	r->runs[r->nr].npages = n;
	r->nr++;
	return 0;
}

/*
 * Record @n pinned pages, in IOVA order, as runs: each stretch of
 * consecutive page frames extends the last run or starts a new one.  On
 * failure the pages not yet recorded are unpinned here; the recorded ones
 * stay in @r for the caller to unpin.
 */
static int vpt_pin_runs_add(struct vpt_pin_runs *r, struct page **pages,
			    long n)
{
	long i = 0, j;
	int ret;

	while (i < n) {
		j = i + vpt_pages_contig(pages + i, n - i);
		ret = vpt_pin_runs_append(r, page_to_pfn(pages[i]), j - i);
		if (ret) {
			unpin_user_pages(pages + i, n - i);
			return ret;
		}
		i = j;
	}
	return 0;
}

/*
 * How many pages, from @va on, one huge page entry of @mm's page tables
 * maps to the frames from @page's on, all of them in @folio (and writable
 * if @write): 0 when @va is not mapped by such an entry.
 *
 * The tables are read without the mmap lock, as GUP-fast and KVM read
 * them: with interrupts off they cannot be freed under the walk (their
 * freeing waits for an IPI or an RCU-sched grace period), and each entry
 * is read once.  An entry counts as GUP-fast counts it: present, user,
 * and writable if @write (pXd_access_permitted(), which also turns away
 * PROT_NONE and NUMA-hinting entries and ones being split or migrated).
 * What was read is a snapshot, as GUP's is; @folio, pinned
 * by the caller, cannot be freed, split or migrated, so its frames stay
 * what the device is given.
 */
static unsigned long vpt_leaf_pages(struct mm_struct *mm, unsigned long va,
				    struct page *page,
				    struct folio *folio, bool write)
{
	unsigned long flags, leaf_pfn = 0, size = 0, off;
	pgd_t pgd;
	p4d_t p4d;
	pud_t pud;
	pmd_t pmd;

	local_irq_save(flags);
	pgd = READ_ONCE(*pgd_offset(mm, va));
	if (!pgd_present(pgd))
		goto out;
	p4d = READ_ONCE(*p4d_offset(&pgd, va));
	if (!p4d_present(p4d))
		goto out;
	pud = READ_ONCE(*pud_offset(&p4d, va));
	if (!pud_present(pud))
		goto out;
	if (pud_leaf(pud)) {
		if (pud_access_permitted(pud, write)) {
			leaf_pfn = pud_pfn(pud);
			size = PUD_SIZE;
		}
		goto out;
	}
	pmd = READ_ONCE(*pmd_offset(&pud, va));
	if (pmd_leaf(pmd) && pmd_access_permitted(pmd, write)) {
		leaf_pfn = pmd_pfn(pmd);
		size = PMD_SIZE;
	}
out:
	local_irq_restore(flags);

	if (!size)
		return 0;
	off = va & (size - 1);
	if (leaf_pfn + (off >> PAGE_SHIFT) != page_to_pfn(page) ||
	    leaf_pfn < folio_pfn(folio) ||
	    leaf_pfn + (size >> PAGE_SHIFT) >
	    folio_pfn(folio) + folio_nr_pages(folio))
		return 0;
	return (size - off) >> PAGE_SHIFT;
}

/*
 * Pin, from @va on, at most @left pages that one huge page entry maps
 * (see the top of the file) and record them in @r.  Returns how many;
 * 0 when @va is not in such an entry, or a step failed, with nothing left
 * pinned: the caller then pins with GUP, which reports what failed.
 * *@large says whether the page at @va is part of a large folio.
 * -ENOMEM when @r cannot grow.
 */
static long vpt_pin_leaf(struct vpt_pin_runs *r, unsigned long va,
			 unsigned long left, unsigned int gup_flags,
			 bool *large)
{
	struct folio *folio;
	struct page *page;
	unsigned long n;
	int ret;

	*large = false;
	if (pin_user_pages_fast(va, 1, gup_flags, &page) != 1)
		return 0;
	folio = page_folio(page);
	*large = folio_test_large(folio);
	n = *large ? vpt_leaf_pages(current->mm, va, page, folio,
				    gup_flags & FOLL_WRITE) : 0;
	n = min(n, left);
	if (!n || (n > 1 && vpt_folio_add_pins(folio, n - 1))) {
		unpin_user_page(page);
		return 0;
	}
	ret = vpt_pin_runs_append(r, page_to_pfn(page), n);
	if (ret) {
		unpin_user_page_range_dirty_lock(page, n, false);
		return ret;
	}
	return n;
}

/*
 * Hand the recorded runs over to @dma: a single run goes in place, more
 * go in an array of exactly @r->nr entries, unless the one they are in
 * wastes at most an eighth of itself (or the allocation fails, which is
 * harmless).
 */
static void vpt_pin_runs_commit(struct vpt_pin_runs *r, struct vpt_dma *dma)
{
	struct vpt_dma_run *runs = r->runs;

	dma->nr_runs = r->nr;
	if (r->nr == 1) {
		dma->pfn = r->runs[0].pfn;
		if (r->runs != &r->one)
			kvfree(r->runs);
		return;
	}
	if (r->nr < r->cap - (r->cap >> VPT_RUNS_SLACK_SHIFT)) {
		runs = kvmalloc_array(r->nr, sizeof(*runs), GFP_KERNEL_ACCOUNT);
		if (runs) {
			memcpy(runs, r->runs, r->nr * sizeof(*runs));
			kvfree(r->runs);
		} else {
			runs = r->runs;
		}
	}
	dma->runs = runs;
}

int vpt_dma_pin(struct vpt_dma *dma, unsigned long vaddr)
{
	unsigned long npages = dma->size >> PAGE_SHIFT;
	struct page *stack[VPT_PIN_STACK], **pages = stack;
	struct vpt_pin_runs r = {
		.cap = 1,
		.first_cap = clamp_t(unsigned long, npages / (SZ_2M / PAGE_SIZE),
				     VPT_RUNS_MIN, VPT_RUNS_FIRST_MAX),
	};
	unsigned int gup_flags = FOLL_LONGTERM;
	unsigned long done = 0, left, va;
	bool large;
	int ret = 0;
	long n;

	if (dma->prot & IOMMU_WRITE)
		gup_flags |= FOLL_WRITE;

	r.runs = &r.one;
	while (done < npages) {
		va = vaddr + (done << PAGE_SHIFT);
		left = npages - done;
		n = 0;
		large = false;
		if (VPT_PIN_BY_LEAF && left >= VPT_PIN_LEAF_MIN)
			n = vpt_pin_leaf(&r, va, left, gup_flags, &large);
		if (n < 0) {
			ret = n;
			goto err_unpin;
		}
		if (!n) {
			/*
			 * GUP a batch; only up to the next 2 MiB when this is
			 * a huge page mapped by PTEs, so that the next one can
			 * be pinned by its entry.  The array is allocated on
			 * first use: a mapping of huge pages may need none.
			 */
			n = min_t(unsigned long, left, VPT_PIN_BATCH);
			if (large)
				n = min(n, (long)((PMD_SIZE - (va & ~PMD_MASK)) >>
						  PAGE_SHIFT));
			if (n > ARRAY_SIZE(stack) && pages == stack) {
				pages = kvmalloc_array(min_t(unsigned long, left,
							     VPT_PIN_BATCH),
						       sizeof(*pages),
						       GFP_KERNEL);
				if (!pages) {
					pages = stack;
					ret = -ENOMEM;
					goto err_unpin;
				}
			}
			n = pin_user_pages_fast(va, n, gup_flags, pages);
			if (n <= 0) {
				ret = n ? n : -EFAULT;
				pr_debug("map: pinning vaddr 0x%lx failed: %d\n",
					 va, ret);
				trace_vpt_reject(dma->iova, dma->size,
						 VPT_REJECT_PIN, ret);
				goto err_unpin;
			}
			ret = vpt_pin_runs_add(&r, pages, n);
			if (ret)
				goto err_unpin;
		}
		done += n;
		cond_resched();
	}
	vpt_pin_runs_commit(&r, dma);
	trace_vpt_pin(vaddr, npages, dma->nr_runs);
	if (pages != stack)
		kvfree(pages);
	return 0;

err_unpin:
	vpt_unpin_runs(r.runs, r.nr, dma->prot & IOMMU_WRITE);
	if (r.runs != &r.one)
		kvfree(r.runs);
	if (pages != stack)
		kvfree(pages);
	return ret;
}

void vpt_dma_unpin(struct vpt_dma *dma)
{
	struct vpt_dma_run one;

	if (dma->prot & VPT_DMA_PFNMAP) {
		/* MMIO mapped by PFN: nothing was pinned. */
	} else if (dma->nr_runs == 1) {
		one = vpt_dma_get_run(dma, 0);
		vpt_unpin_runs(&one, 1, dma->prot & IOMMU_WRITE);
	} else if (dma->nr_runs) {
		vpt_unpin_runs(dma->runs, dma->nr_runs,
			       dma->prot & IOMMU_WRITE);
		kvfree(dma->runs);
	}
	dma->runs = NULL;
	dma->nr_runs = 0;
}
