// SPDX-License-Identifier: GPL-2.0
/*
 * vpt_iommu_dma.c - VFIO_IOMMU_MAP_DMA and VFIO_IOMMU_UNMAP_DMA.
 *
 * A mapping is validated completely before anything is charged, pinned or
 * mapped; once it is pinned, it is mapped into every domain of the
 * container, and any failure on the way unwinds everything done so far,
 * leaving the tree as it was.  Unmapping removes the IOVAs from every
 * domain with iommu_unmap_fast(), flushes each domain's IOTLB once, and
 * only then unpins: a page must never be reused while a stale IOTLB entry
 * could still let the device reach it.
 */
#define pr_fmt(fmt) "vpt: " fmt

#include <linux/iommu.h>
#include <linux/mm.h>
#include <linux/overflow.h>
#include <linux/rbtree.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vfio.h>
#include <linux/vpt.h>

#include "vpt_compat.h"
#include "vpt_iommu.h"
#include "vpt_priv.h"
#include "vpt_trace.h"

#define VPT_MAP_FLAGS	(VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE | \
			 VPT_DMA_MAP_FLAG_SKIP_ABOVE_WIDTH)

/* Any mapping overlapping [start, last], or NULL. */
static struct vpt_dma *vpt_dma_find(struct vpt_iommu *iommu, u64 start,
				    u64 last)
{
	struct rb_node *node = iommu->dmas.rb_node;

	lockdep_assert_held(&iommu->lock);

	while (node) {
		struct vpt_dma *dma = rb_entry(node, struct vpt_dma, node);

		if (last < dma->iova)
			node = node->rb_left;
		else if (start > vpt_dma_last(dma))
			node = node->rb_right;
		else
			return dma;
	}
	return NULL;
}

/* The lowest mapping overlapping [start, last], or NULL. */
static struct vpt_dma *vpt_dma_first(struct vpt_iommu *iommu, u64 start,
				     u64 last)
{
	struct rb_node *node = iommu->dmas.rb_node;
	struct vpt_dma *first = NULL;

	lockdep_assert_held(&iommu->lock);

	/* Mappings are disjoint: their ends grow with their starts. */
	while (node) {
		struct vpt_dma *dma = rb_entry(node, struct vpt_dma, node);

		if (vpt_dma_last(dma) >= start) {
			first = dma;
			node = node->rb_left;
		} else {
			node = node->rb_right;
		}
	}
	return first && first->iova <= last ? first : NULL;
}

static struct vpt_dma *vpt_dma_next(struct vpt_dma *dma)
{
	struct rb_node *node = rb_next(&dma->node);

	return node ? rb_entry(node, struct vpt_dma, node) : NULL;
}

static void vpt_dma_link(struct vpt_iommu *iommu, struct vpt_dma *new)
{
	struct rb_node **link = &iommu->dmas.rb_node, *parent = NULL;

	lockdep_assert_held(&iommu->lock);

	while (*link) {
		struct vpt_dma *dma = rb_entry(*link, struct vpt_dma, node);

		parent = *link;
		if (new->iova < dma->iova)
			link = &parent->rb_left;
		else
			link = &parent->rb_right;
	}
	rb_link_node(&new->node, parent, link);
	rb_insert_color(&new->node, &iommu->dmas);
}

/*
 * Map every run of @dma into one domain.  On failure whatever was mapped
 * into @d is unmapped again (iommu_map() itself unwinds a partial run).
 */
static int vpt_dma_map_domain(struct vpt_dma *dma, struct vpt_iommu_domain *d)
{
	/* IOMMU_CACHE: normal DMA is coherent; no-snoop is d->coherent's. */
	int prot = (dma->prot & VPT_DMA_IOMMU_PROT) | IOMMU_CACHE;
	struct vpt_dma_run run;
	u64 iova = dma->iova;
	unsigned int i;
	size_t len;
	int ret;

	for (i = 0; i < dma->nr_runs; i++) {
		run = vpt_dma_get_run(dma, i);
		len = run.npages << PAGE_SHIFT;
		ret = vpt_iommu_map(d->domain, iova, PFN_PHYS(run.pfn), len,
				    prot);
		if (ret) {
			pr_debug("map: iommu_map of iova 0x%llx size 0x%zx failed: %d\n",
				 iova, len, ret);
			trace_vpt_reject(iova, len, VPT_REJECT_IOMMU, ret);
			if (iova > dma->iova)
				iommu_unmap(d->domain, dma->iova, iova - dma->iova);
			return ret;
		}
		iova += len;
	}
	return 0;
}

/* Queue the unmap of all of @dma from @d; the caller syncs d->gather. */
static void vpt_dma_unmap_domain(struct vpt_dma *dma,
				 struct vpt_iommu_domain *d)
{
	size_t unmapped;

	unmapped = iommu_unmap_fast(d->domain, dma->iova, dma->size,
				    &d->gather);
	d->gather_pending = true;
	WARN_ONCE(unmapped != dma->size,
		  "vpt: unmapped 0x%zx of 0x%llx bytes at iova 0x%llx\n",
		  unmapped, dma->size, dma->iova);
}

/* Flush one domain's IOTLB of what unmaps queued since its last sync. */
static void vpt_domain_sync(struct vpt_iommu_domain *d)
{
	/* Drivers do not all cope with an empty gather: skip those. */
	if (!d->gather_pending)
		return;
	iommu_iotlb_sync(d->domain, &d->gather);
	d->gather_pending = false;
}

/* The same for every domain. */
static void vpt_iommu_sync(struct vpt_iommu *iommu)
{
	struct vpt_iommu_domain *d;

	lockdep_assert_held(&iommu->lock);

	list_for_each_entry(d, &iommu->domains, entry)
		vpt_domain_sync(d);
}

/* Unpin, uncharge and free a mapping already out of the tree and IOMMU. */
static void vpt_dma_free(struct vpt_dma *dma)
{
	/* A skip record holds nothing but its range. */
	if (vpt_dma_is_skip(dma)) {
		kfree(dma);
		return;
	}
	vpt_dma_unpin(dma);
	vpt_dma_uncharge(dma);
	mmdrop(dma->mm);
	kfree(dma);
}

/*
 * Remove @count mappings starting at @first, in IOVA order: unmap them
 * from every domain, flush, then unpin and free them.
 */
static void vpt_dma_remove(struct vpt_iommu *iommu, struct vpt_dma *first,
			   unsigned long count)
{
	unsigned int nr_skip = iommu->nr_skip;
	struct vpt_iommu_domain *d;
	struct vpt_dma *dma, *next;
	unsigned long i;

	lockdep_assert_held(&iommu->lock);

	for (dma = first, i = 0; i < count; dma = vpt_dma_next(dma), i++) {
		if (vpt_dma_is_skip(dma))
			continue;	/* in no domain */
		list_for_each_entry(d, &iommu->domains, entry)
			vpt_dma_unmap_domain(dma, d);
		cond_resched();
	}
	vpt_iommu_sync(iommu);

	/* Only now can no device reach the pages any more. */
	for (dma = first, i = 0; i < count; dma = next, i++) {
		next = vpt_dma_next(dma);
		rb_erase(&dma->node, &iommu->dmas);
		if (vpt_dma_is_skip(dma))
			iommu->nr_skip--;
		vpt_dma_free(dma);
		iommu->dma_avail++;
		cond_resched();
	}

	/* The last skip record held the width down: let it catch up. */
	if (nr_skip && !iommu->nr_skip)
		vpt_iommu_update_geometry(iommu);
}

/* The first page size of the container: the MAP/UNMAP granularity. */
static u64 vpt_iommu_pgsize(struct vpt_iommu *iommu)
{
	lockdep_assert_held(&iommu->lock);

	return 1ULL << __ffs(iommu->pgsize_bitmap);
}

/*
 * Whether [map->iova, last] may get a new tree entry: upstream's order of
 * checks, overlap (EEXIST) then the entry limit (ENOSPC).
 */
static int vpt_dma_check_room(struct vpt_iommu *iommu,
			      const struct vfio_iommu_type1_dma_map *map,
			      u64 last)
{
	lockdep_assert_held(&iommu->lock);

	if (vpt_dma_find(iommu, map->iova, last)) {
		pr_debug("map: iova 0x%llx-0x%llx overlaps a mapping\n",
			 map->iova, last);
		trace_vpt_reject(map->iova, map->size, VPT_REJECT_OVERLAP, -EEXIST);
		return -EEXIST;
	}
	if (!iommu->dma_avail) {
		pr_debug("map: dma_entry_limit reached\n");
		trace_vpt_reject(map->iova, map->size, VPT_REJECT_LIMIT, -ENOSPC);
		return -ENOSPC;
	}
	return 0;
}

/*
 * Record a MAP_DMA wholly above the width that is skipped: nothing is
 * pinned or mapped, but the range is kept in the tree so that an overlap
 * is EEXIST, an unmap splitting it is EINVAL as for a mapping, and the
 * entry limit bounds the records.  While any exists the width does not
 * grow (vpt_iommu_update_geometry()), so each stays above it.
 */
static int vpt_dma_skip(struct vpt_iommu *iommu,
			const struct vfio_iommu_type1_dma_map *map, u64 last)
{
	struct vpt_dma *dma;
	int ret;

	lockdep_assert_held(&iommu->lock);

	ret = vpt_dma_check_room(iommu, map, last);
	if (ret)
		return ret;
	dma = kzalloc(sizeof(*dma), GFP_KERNEL_ACCOUNT);
	if (!dma)
		return -ENOMEM;
	dma->iova = map->iova;
	dma->size = map->size;
	dma->prot = VPT_DMA_SKIPPED;
	vpt_dma_link(iommu, dma);
	iommu->dma_avail--;
	iommu->nr_skip++;

	iommu->skipped_maps++;
	iommu->skipped_bytes += map->size;
	pr_debug("map: skipped iova 0x%llx size 0x%llx above max_iova 0x%llx\n",
		 map->iova, map->size, iommu->max_iova);
	trace_vpt_skip(map->iova, map->size, iommu->max_iova);
	return 0;
}

static int vpt_dma_do_map(struct vpt_iommu *iommu,
			  const struct vfio_iommu_type1_dma_map *map, int prot)
{
	u64 pgsize = vpt_iommu_pgsize(iommu);
	struct vpt_iommu_domain *d;
	struct vpt_dma *dma;
	u64 last, vlast;
	int ret;

	lockdep_assert_held(&iommu->lock);

	if (!map->size || (map->size | map->iova | map->vaddr) & (pgsize - 1)) {
		pr_debug("map: iova 0x%llx vaddr 0x%llx size 0x%llx not a non-zero multiple of 0x%llx\n",
			 map->iova, map->vaddr, map->size, pgsize);
		trace_vpt_reject(map->iova, map->size, VPT_REJECT_ALIGN, -EINVAL);
		return -EINVAL;
	}
	if (check_add_overflow(map->iova, map->size - 1, &last) ||
	    check_add_overflow(map->vaddr, map->size - 1, &vlast) ||
	    vlast > ULONG_MAX) {
		pr_debug("map: iova 0x%llx or vaddr 0x%llx + size 0x%llx wraps\n",
			 map->iova, map->vaddr, map->size);
		trace_vpt_reject(map->iova, map->size, VPT_REJECT_WRAP, -EOVERFLOW);
		return -EOVERFLOW;
	}

	/*
	 * The skip_above_width policy lets an unmodified client (a VMM
	 * mirroring guest BAR moves) get the flag's answer; read once, as
	 * it may change at any time.
	 */
	if (map->iova > iommu->max_iova &&
	    ((map->flags & VPT_DMA_MAP_FLAG_SKIP_ABOVE_WIDTH) ||
	     READ_ONCE(vpt_skip_above_width)))
		return vpt_dma_skip(iommu, map, last);

	/* Upstream's order of checks: overlap, entry limit, IOVA range. */
	ret = vpt_dma_check_room(iommu, map, last);
	if (ret)
		return ret;
	if (!vpt_iommu_range_usable(iommu, map->iova, last)) {
		pr_debug("map: iova 0x%llx-0x%llx not in one usable range (max_iova 0x%llx)\n",
			 map->iova, last, iommu->max_iova);
		trace_vpt_reject(map->iova, map->size, last > iommu->max_iova ?
				 VPT_REJECT_WIDTH : VPT_REJECT_RESERVED, -EINVAL);
		return -EINVAL;
	}
	if (!current->mm)
		return -ENODEV;

	dma = kzalloc(sizeof(*dma), GFP_KERNEL_ACCOUNT);
	if (!dma)
		return -ENOMEM;
	dma->iova = map->iova;
	dma->size = map->size;
	dma->prot = prot;
	dma->mm = current->mm;
	mmgrab(dma->mm);

	/* Mmapped MMIO (peer to peer) is mapped by PFN; RAM is pinned. */
	ret = vpt_dma_pfnmap(dma, map->vaddr);
	if (ret == -ENOENT) {
		ret = vpt_dma_charge(dma);
		if (ret)
			goto err_free;
		ret = vpt_dma_pin(dma, map->vaddr);
		if (ret)
			goto err_uncharge;
	} else if (ret) {
		goto err_free;
	}
	list_for_each_entry(d, &iommu->domains, entry) {
		ret = vpt_dma_map_domain(dma, d);
		if (ret)
			goto err_unmap;
	}

	vpt_dma_link(iommu, dma);
	iommu->dma_avail--;
	trace_vpt_map(dma->iova, dma->size, map->vaddr, dma->nr_runs, prot, iommu->dma_avail);
	return 0;

err_unmap:
	list_for_each_entry_continue_reverse(d, &iommu->domains, entry)
		vpt_dma_unmap_domain(dma, d);
	vpt_iommu_sync(iommu);
	vpt_dma_unpin(dma);
err_uncharge:
	vpt_dma_uncharge(dma);
err_free:
	mmdrop(dma->mm);
	kfree(dma);
	return ret;
}

long vpt_iommu_map_dma(struct vpt_iommu *iommu, void __user *arg)
{
	size_t minsz = offsetofend(struct vfio_iommu_type1_dma_map, size);
	struct vfio_iommu_type1_dma_map map;
	int prot = 0;
	long ret;

	if (copy_from_user(&map, arg, minsz))
		return -EFAULT;
	if (map.argsz < minsz || map.flags & ~VPT_MAP_FLAGS) {
		pr_debug("map: argsz %u or flags 0x%x invalid\n",
			 map.argsz, map.flags);
		trace_vpt_reject(map.iova, map.size, VPT_REJECT_FLAGS, -EINVAL);
		return -EINVAL;
	}

	/* READ and WRITE are from the device's point of view. */
	if (map.flags & VFIO_DMA_MAP_FLAG_READ)
		prot |= IOMMU_READ;
	if (map.flags & VFIO_DMA_MAP_FLAG_WRITE)
		prot |= IOMMU_WRITE;
	if (!prot) {
		pr_debug("map: neither READ nor WRITE\n");
		trace_vpt_reject(map.iova, map.size, VPT_REJECT_FLAGS, -EINVAL);
		return -EINVAL;
	}

	mutex_lock(&iommu->lock);
	ret = vpt_dma_do_map(iommu, &map, prot);
	mutex_unlock(&iommu->lock);
	return ret;
}

static int vpt_dma_do_unmap(struct vpt_iommu *iommu,
			    struct vfio_iommu_type1_dma_unmap *unmap)
{
	u64 pgsize = vpt_iommu_pgsize(iommu);
	struct vpt_dma *dma, *first;
	unsigned long count = 0;
	u64 last, unmapped = 0;

	lockdep_assert_held(&iommu->lock);

	if (unmap->iova & (pgsize - 1)) {
		pr_debug("unmap: iova 0x%llx not aligned to 0x%llx\n",
			 unmap->iova, pgsize);
		return -EINVAL;
	}
	if (unmap->flags & VFIO_DMA_UNMAP_FLAG_ALL) {
		if (unmap->iova || unmap->size) {
			pr_debug("unmap: ALL needs iova and size 0\n");
			return -EINVAL;
		}
		last = U64_MAX;
	} else {
		if (!unmap->size || unmap->size & (pgsize - 1)) {
			pr_debug("unmap: size 0x%llx not a non-zero multiple of 0x%llx\n",
				 unmap->size, pgsize);
			return -EINVAL;
		}
		if (check_add_overflow(unmap->iova, unmap->size - 1, &last)) {
			pr_debug("unmap: iova 0x%llx + size 0x%llx wraps\n",
				 unmap->iova, unmap->size);
			return -EOVERFLOW;
		}
	}

	/* type1v2 never splits a mapping: the range must cover them whole. */
	if (iommu->v2) {
		dma = vpt_dma_find(iommu, unmap->iova, unmap->iova);
		if (dma && dma->iova != unmap->iova) {
			pr_debug("unmap: iova 0x%llx splits a mapping\n",
				 unmap->iova);
			return -EINVAL;
		}
		dma = vpt_dma_find(iommu, last, last);
		if (dma && vpt_dma_last(dma) != last) {
			pr_debug("unmap: end 0x%llx splits a mapping\n", last);
			return -EINVAL;
		}
	}

	first = vpt_dma_first(iommu, unmap->iova, last);
	for (dma = first; dma && dma->iova <= last; dma = vpt_dma_next(dma)) {
		/* type1 (v1) unmaps whole mappings starting inside the range. */
		if (!iommu->v2 && dma->iova < unmap->iova)
			break;
		/*
		 * Any holder of the container may unmap, whatever mm mapped
		 * it (upstream since 6.0, for exec-based live update); the
		 * charge still goes back to the mm that mapped it.  A skip
		 * record goes too, but no byte of it was ever mapped.
		 */
		if (!vpt_dma_is_skip(dma))
			unmapped += dma->size;
		count++;
	}
	if (count)
		vpt_dma_remove(iommu, first, count);

	trace_vpt_unmap(unmap->iova, unmap->size, unmapped, count);
	unmap->size = unmapped;
	return 0;
}

long vpt_iommu_unmap_dma(struct vpt_iommu *iommu, void __user *arg)
{
	size_t minsz = offsetofend(struct vfio_iommu_type1_dma_unmap, size);
	struct vfio_iommu_type1_dma_unmap unmap;
	long ret;

	if (copy_from_user(&unmap, arg, minsz))
		return -EFAULT;
	/* No dirty tracking and no VADDR: only ALL is known. */
	if (unmap.argsz < minsz || unmap.flags & ~VFIO_DMA_UNMAP_FLAG_ALL) {
		pr_debug("unmap: argsz %u or flags 0x%x invalid\n",
			 unmap.argsz, unmap.flags);
		return -EINVAL;
	}

	mutex_lock(&iommu->lock);
	ret = vpt_dma_do_unmap(iommu, &unmap);
	mutex_unlock(&iommu->lock);
	if (ret)
		return ret;

	return copy_to_user(arg, &unmap, minsz) ? -EFAULT : 0;
}

int vpt_iommu_replay(struct vpt_iommu *iommu, struct vpt_iommu_domain *d)
{
	struct vpt_dma *dma, *failed;
	struct rb_node *node;
	int ret;

	lockdep_assert_held(&iommu->lock);

	for (node = rb_first(&iommu->dmas); node; node = rb_next(node)) {
		dma = rb_entry(node, struct vpt_dma, node);
		if (vpt_dma_is_skip(dma))
			continue;
		ret = vpt_dma_map_domain(dma, d);
		if (ret)
			goto err_unmap;
		cond_resched();
	}
	return 0;

err_unmap:
	/* vpt_dma_map_domain() cleaned up @dma itself. */
	failed = dma;
	for (node = rb_first(&iommu->dmas); node; node = rb_next(node)) {
		dma = rb_entry(node, struct vpt_dma, node);
		if (dma == failed)
			break;
		if (!vpt_dma_is_skip(dma))
			vpt_dma_unmap_domain(dma, d);
	}
	vpt_domain_sync(d);
	return ret;
}

void vpt_iommu_unmap_domain(struct vpt_iommu *iommu,
			    struct vpt_iommu_domain *d)
{
	struct rb_node *node;

	lockdep_assert_held(&iommu->lock);

	for (node = rb_first(&iommu->dmas); node; node = rb_next(node)) {
		struct vpt_dma *dma = rb_entry(node, struct vpt_dma, node);

		if (!vpt_dma_is_skip(dma))
			vpt_dma_unmap_domain(dma, d);
		cond_resched();
	}
	vpt_domain_sync(d);
}

void vpt_iommu_remove_all(struct vpt_iommu *iommu)
{
	struct rb_node *node = rb_first(&iommu->dmas);
	unsigned long count = 0;

	lockdep_assert_held(&iommu->lock);

	if (!node)
		return;
	for (; node; node = rb_next(node))
		count++;
	vpt_dma_remove(iommu, rb_entry(rb_first(&iommu->dmas), struct vpt_dma,
				       node), count);
}

bool vpt_iommu_dmas_fit(struct vpt_iommu *iommu,
			const struct vpt_iommu_range *ranges, unsigned int nr)
{
	struct rb_node *node;
	unsigned int i = 0;

	lockdep_assert_held(&iommu->lock);

	/*
	 * Both are sorted: one merge-like walk.  Skip records lie above
	 * the width by construction and need no range.
	 */
	for (node = rb_first(&iommu->dmas); node; node = rb_next(node)) {
		struct vpt_dma *dma = rb_entry(node, struct vpt_dma, node);

		if (vpt_dma_is_skip(dma))
			continue;
		while (i < nr && ranges[i].last < dma->iova)
			i++;
		if (i == nr || dma->iova < ranges[i].start ||
		    vpt_dma_last(dma) > ranges[i].last) {
			pr_debug("attach: mapping 0x%llx-0x%llx would leave the usable IOVA ranges\n",
				 dma->iova, vpt_dma_last(dma));
			return false;
		}
	}
	return true;
}
