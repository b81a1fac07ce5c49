/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vpt_iommu.h - internals of the type1v2 IOMMU backend, shared by
 *   vpt_iommu.c       the backend object, domains, groups, IOVA ranges,
 *                     width, VFIO_IOMMU_GET_INFO and the ioctl dispatcher
 *   vpt_iommu_dma.c   VFIO_IOMMU_MAP_DMA / _UNMAP_DMA and the mapping tree
 *   vpt_iommu_pin.c   pinning user pages into runs and locked_vm accounting
 *
 * Everything below is protected by vpt_iommu.lock unless said otherwise.
 */
#ifndef _VPT_IOMMU_H
#define _VPT_IOMMU_H

#include <linux/bits.h>
#include <linux/iommu.h>
#include <linux/list.h>
#include <linux/mm_types.h>
#include <linux/mutex.h>
#include <linux/rbtree.h>
#include <linux/types.h>

/**
 * struct vpt_iommu_group - an IOMMU group attached to a domain
 * @entry: link in vpt_iommu_domain.groups.
 * @group: the kernel's IOMMU group; the vpt group layer holds the
 *         reference and keeps DMA ownership while it is attached.
 */
struct vpt_iommu_group {
	struct list_head entry;
	struct iommu_group *group;
};

/**
 * struct vpt_iommu_domain - one IOMMU domain of a container
 * @entry: link in vpt_iommu.domains.
 * @groups: the groups attached to @domain (vpt_iommu_group.entry); the
 *          domain is freed when the last one leaves.
 * @domain: the paging domain; every mapping of the container is mapped
 *          into it.
 * @gather: IOTLB invalidations collected by unmaps and not yet synced.
 *          Empty outside a call that holds vpt_iommu.lock.
 * @gather_pending: @gather holds something: sync it before unpinning.
 * @coherent: the domain blocks no-snoop DMA (enforce_cache_coherency),
 *            which is what VFIO_DMA_CC_IOMMU reports.
 */
struct vpt_iommu_domain {
	struct list_head entry;
	struct list_head groups;
	struct iommu_domain *domain;
	struct iommu_iotlb_gather gather;
	bool gather_pending;
	bool coherent;
};

/**
 * struct vpt_iommu_range - a usable IOVA range, both ends inclusive
 * @start: first IOVA.
 * @last: last IOVA.
 */
struct vpt_iommu_range {
	u64 start;
	u64 last;
};

/**
 * struct vpt_iommu - the backend of one container
 * @lock: protects every member below and everything reachable from them;
 *        taken under the container's rwsem (see vpt_priv.h).
 * @domains: the domains (vpt_iommu_domain.entry).
 * @dmas: the mappings (vpt_dma.node), keyed by IOVA; never overlapping.
 *        Skip records (VPT_DMA_SKIPPED) are in it too, so that overlap,
 *        splitting and the entry limit treat them like mappings.
 * @dma_avail: how many more mappings may be created (dma_entry_limit
 *             at open minus the mappings and skip records in @dmas).
 * @nr_skip: the skip records in @dmas.  While there is one, @max_iova
 *           never grows (vpt_iommu_update_geometry()): a skip record
 *           always lies wholly above @max_iova.
 * @ranges: the IOVA ranges the domains can translate, sorted and
 *          disjoint: the intersection of the domains' apertures minus
 *          the reserved regions of every attached group.  What is usable
 *          is their part at or below @max_iova; every mapping lies there.
 * @nr_ranges: number of entries in @ranges.
 * @pgsize_bitmap: the page sizes every domain supports, with nothing
 *                 below PAGE_SIZE; its lowest bit is the granularity of
 *                 MAP_DMA and UNMAP_DMA.
 * @max_iova: the highest usable IOVA: the minimum of the domains'
 *            aperture ends, but not above its previous value while
 *            @nr_skip is non-zero; 0 without a domain.
 * @width: the number of bits needed for @max_iova.
 * @skipped_maps: MAP_DMA calls skipped with VPT_DMA_MAP_FLAG_SKIP_ABOVE_WIDTH.
 * @skipped_bytes: the total size of the skipped ranges.
 * @v2: VFIO_TYPE1v2_IOMMU semantics (no partial unmaps).
 */
struct vpt_iommu {
	struct mutex lock;	/* see vpt_priv.h for the lock order */
	struct list_head domains;
	struct rb_root dmas;
	unsigned int dma_avail;
	unsigned int nr_skip;
	struct vpt_iommu_range *ranges;
	unsigned int nr_ranges;
	unsigned long pgsize_bitmap;
	u64 max_iova;
	unsigned int width;
	u64 skipped_maps;
	u64 skipped_bytes;
	bool v2;
};

/**
 * struct vpt_dma_run - physically contiguous pinned pages
 * @pfn: the first page frame.
 * @npages: number of pages; never zero.
 *
 * A mapping's runs follow each other in IOVA order without gaps, so the
 * IOVA of a run is the mapping's IOVA plus the pages of the runs before it.
 */
struct vpt_dma_run {
	unsigned long pfn;
	unsigned long npages;
};

/**
 * struct vpt_dma - one VFIO_IOMMU_MAP_DMA mapping
 * @node: link in vpt_iommu.dmas.
 * @iova: the first IOVA; aligned to the smallest page size.
 * @size: size in bytes; a multiple of PAGE_SIZE, @iova + @size - 1 does
 *        not wrap.
 * @mm: the address space of the task that mapped it, mmgrab()ed: its
 *      locked_vm carries the charge, whoever unmaps or releases.  NULL
 *      for a skip record.
 * @runs: the pinned pages when there are two runs or more: a kvmalloc()ed
 *        array of @nr_runs entries.  Read them with vpt_dma_get_run().
 * @pfn: the first page frame when there is exactly one run (the common
 *       case): the whole mapping is physically contiguous.
 * @nr_runs: number of runs; 0 before pinning and after unpinning.
 * @prot: IOMMU_READ and/or IOMMU_WRITE, and VPT_DMA_PFNMAP when the
 *        mapping is MMIO mapped by PFN: nothing pinned, nothing charged;
 *        or VPT_DMA_SKIPPED for a skip record: a MAP_DMA wholly above
 *        the width that was skipped, which is in no domain and holds
 *        nothing but its IOVA range.
 *
 * Every live mapping costs one of these, so it is kept to 64 bytes (one
 * kmalloc-64 object on 64-bit): the user address is not kept once the
 * pages are pinned, and a single run is stored in place of the pointer.
 */
struct vpt_dma {
	struct rb_node node;
	u64 iova;
	u64 size;
	struct mm_struct *mm;
	union {
		struct vpt_dma_run *runs;
		unsigned long pfn;
	};
	unsigned int nr_runs;
	int prot;
};

/**
 * vpt_dma_get_run() - one run of a pinned mapping
 * @dma: the mapping.
 * @i: the run's index, below @dma->nr_runs.
 *
 * Return: the @i-th run, by value (a single run is not stored as one).
 */
static inline struct vpt_dma_run
vpt_dma_get_run(const struct vpt_dma *dma, unsigned int i)
{
	if (dma->nr_runs == 1)
		return (struct vpt_dma_run){
			.pfn = dma->pfn,
			.npages = dma->size >> PAGE_SHIFT,
		};
	return dma->runs[i];
}

/* In vpt_dma.prot: mapped by PFN (see vpt_iommu_pfnmap.c). */
#define VPT_DMA_PFNMAP		BIT(30)
/* In vpt_dma.prot: a skip record, not a mapping (see vpt_iommu_dma.c). */
#define VPT_DMA_SKIPPED		BIT(29)
#define VPT_DMA_IOMMU_PROT	(IOMMU_READ | IOMMU_WRITE)

static inline u64 vpt_dma_last(const struct vpt_dma *dma)
{
	return dma->iova + dma->size - 1;
}

static inline bool vpt_dma_is_skip(const struct vpt_dma *dma)
{
	return dma->prot & VPT_DMA_SKIPPED;
}

/* vpt_iommu.c */

/**
 * vpt_iommu_range_usable() - whether [start, last] lies in one usable range
 * @iommu: the backend; its lock is held.
 * @start: first IOVA.
 * @last: last IOVA, not below @start.
 *
 * Return: true if some entry of @iommu->ranges contains the whole range
 * and @last is not above @iommu->max_iova.
 */
bool vpt_iommu_range_usable(struct vpt_iommu *iommu, u64 start, u64 last);

/**
 * vpt_iommu_update_geometry() - recompute the width and page sizes
 * @iommu: the backend; its lock is held.
 *
 * From the domains' current geometry; @iommu->max_iova does not grow
 * while @iommu->nr_skip is non-zero.  Called whenever the domains may
 * have changed and when the last skip record goes.
 */
void vpt_iommu_update_geometry(struct vpt_iommu *iommu);

/* vpt_iommu_dma.c */

/**
 * vpt_iommu_map_dma() - VFIO_IOMMU_MAP_DMA
 * @iommu: the backend; its lock is not held.
 * @arg: the user's struct vfio_iommu_type1_dma_map.
 *
 * Return: 0 or a negative errno (see the checks in the function).
 */
long vpt_iommu_map_dma(struct vpt_iommu *iommu, void __user *arg);

/**
 * vpt_iommu_unmap_dma() - VFIO_IOMMU_UNMAP_DMA
 * @iommu: the backend; its lock is not held.
 * @arg: the user's struct vfio_iommu_type1_dma_unmap; its size member
 *       is updated to the number of bytes unmapped.
 *
 * Return: 0 or a negative errno.
 */
long vpt_iommu_unmap_dma(struct vpt_iommu *iommu, void __user *arg);

/**
 * vpt_iommu_replay() - map every existing mapping into a new domain
 * @iommu: the backend; its lock is held.
 * @d: the new domain, not yet on @iommu->domains.
 *
 * Return: 0, or an errno from the IOMMU with @d left empty again.
 */
int vpt_iommu_replay(struct vpt_iommu *iommu, struct vpt_iommu_domain *d);

/**
 * vpt_iommu_unmap_domain() - unmap every mapping from one domain
 * @iommu: the backend; its lock is held.
 * @d: a domain that is going away; the pages stay pinned for the others.
 */
void vpt_iommu_unmap_domain(struct vpt_iommu *iommu,
			    struct vpt_iommu_domain *d);

/**
 * vpt_iommu_remove_all() - unmap, unpin, uncharge and free every mapping
 * @iommu: the backend; its lock is held.
 */
void vpt_iommu_remove_all(struct vpt_iommu *iommu);

/**
 * vpt_iommu_dmas_fit() - whether every mapping lies in one of some ranges
 * @iommu: the backend; its lock is held.
 * @ranges: candidate usable ranges, sorted and disjoint.
 * @nr: number of entries in @ranges.
 *
 * Return: true if no existing mapping would be left outside @ranges.
 */
bool vpt_iommu_dmas_fit(struct vpt_iommu *iommu,
			const struct vpt_iommu_range *ranges, unsigned int nr);

/* vpt_iommu_pin.c */

/**
 * vpt_dma_charge() - charge a new mapping to its mm's RLIMIT_MEMLOCK
 * @dma: the mapping; @dma->mm is the calling task's mm.
 *
 * Return: 0, or -ENOMEM over the limit without CAP_IPC_LOCK.
 */
int vpt_dma_charge(struct vpt_dma *dma);

/**
 * vpt_dma_uncharge() - give back what vpt_dma_charge() took
 * @dma: the mapping.  Safe from any task: nothing is done if @dma->mm
 *       has no users left, since its locked_vm went with it.
 */
void vpt_dma_uncharge(struct vpt_dma *dma);

/**
 * vpt_dma_pin() - pin the mapping's user pages and record them as runs
 * @dma: the mapping, with no runs yet; called by the task owning @dma->mm.
 * @vaddr: the user address of the first page; @dma->size bytes from it.
 *
 * Return: 0, or a negative errno (-EFAULT for a hole or a read-only page
 * asked to be writable) with nothing left pinned.
 */
int vpt_dma_pin(struct vpt_dma *dma, unsigned long vaddr);

/**
 * vpt_dma_unpin() - unpin every run of a mapping and forget them
 * @dma: the mapping, unmapped from every domain with the IOTLB flushed.
 */
void vpt_dma_unpin(struct vpt_dma *dma);

/* vpt_iommu_pfnmap.c */

/**
 * vpt_dma_pfnmap() - take a mapping of mmapped MMIO by PFN
 * @dma: the new mapping, neither charged nor pinned yet.
 * @vaddr: its user address.
 *
 * Return: 0 with @dma holding one run and VPT_DMA_PFNMAP set; -ENOENT when
 * @vaddr is not in a VM_PFNMAP vma (pin it instead); -EFAULT when the
 * range is not one physically contiguous, present and (for a writable
 * mapping) writable stretch of MMIO inside that vma.
 */
int vpt_dma_pfnmap(struct vpt_dma *dma, unsigned long vaddr);

#endif /* _VPT_IOMMU_H */
