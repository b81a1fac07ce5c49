/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vpt_trace.h - tracepoints of vpt.ko (the type1v2 IOMMU backend).
 *
 * Enable them with
 *   echo 1 > /sys/kernel/tracing/events/vpt/enable
 * and read /sys/kernel/tracing/trace.  Every event but a "flags" reject
 * (refused before the lock is taken) is emitted with the container's
 * vpt_iommu.lock held, so the events of one container appear in the
 * order the backend acted.
 *
 *   vpt_map      a MAP_DMA that was pinned and mapped into every domain
 *   vpt_skip     a MAP_DMA wholly above the width, skipped on request
 *   vpt_reject   a MAP_DMA refused, with the reason and the errno
 *   vpt_unmap    an UNMAP_DMA: the range asked for and what it removed
 *   vpt_pin      the pages of a mapping pinned, and the runs they formed
 *   vpt_account  RLIMIT_MEMLOCK charged or given back (locked_vm)
 *
 * vpt_trace.c defines them (CREATE_TRACE_POINTS); the rest of vpt.ko
 * only includes this header.  The out-of-tree build finds the header
 * again through TRACE_INCLUDE_PATH "." and Kbuild's -I$(src).
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM vpt

#if !defined(_VPT_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _VPT_TRACE_H

#include <linux/tracepoint.h>

/* Why vpt_reject refused a map (plain numbers: no TRACE_DEFINE_ENUM). */
#define VPT_REJECT_FLAGS	0	/* argsz, unknown flag, no READ/WRITE */
#define VPT_REJECT_ALIGN	1	/* zero or not a page-size multiple */
#define VPT_REJECT_WRAP		2	/* iova or vaddr + size wraps */
#define VPT_REJECT_OVERLAP	3	/* overlaps an existing mapping */
#define VPT_REJECT_LIMIT	4	/* dma_entry_limit reached */
#define VPT_REJECT_WIDTH	5	/* reaches above the IOMMU width */
#define VPT_REJECT_RESERVED	6	/* not inside one usable IOVA range */
#define VPT_REJECT_PIN		7	/* pinning the user pages failed */
#define VPT_REJECT_IOMMU	8	/* iommu_map failed (also on replay) */

#define vpt_show_reject(r)						\
	__print_symbolic(r,						\
			 { VPT_REJECT_FLAGS, "flags" },			\
			 { VPT_REJECT_ALIGN, "align" },			\
			 { VPT_REJECT_WRAP, "wrap" },			\
			 { VPT_REJECT_OVERLAP, "overlap" },		\
			 { VPT_REJECT_LIMIT, "entry_limit" },		\
			 { VPT_REJECT_WIDTH, "above_width" },		\
			 { VPT_REJECT_RESERVED, "reserved" },		\
			 { VPT_REJECT_PIN, "pin" },			\
			 { VPT_REJECT_IOMMU, "iommu_map" })

TRACE_EVENT(vpt_map,
	    TP_PROTO(u64 iova, u64 size, u64 vaddr, unsigned long nr_runs,
		     int prot, unsigned int dma_avail),
	    TP_ARGS(iova, size, vaddr, nr_runs, prot, dma_avail),
	    TP_STRUCT__entry(__field(u64, iova)
			     __field(u64, size)
			     __field(u64, vaddr)
			     __field(unsigned long, nr_runs)
			     __field(int, prot)
			     __field(unsigned int, dma_avail)),
	    TP_fast_assign(__entry->iova = iova;
			   __entry->size = size;
			   __entry->vaddr = vaddr;
			   __entry->nr_runs = nr_runs;
			   __entry->prot = prot;
			   __entry->dma_avail = dma_avail;),
	    TP_printk("iova=0x%llx size=0x%llx vaddr=0x%llx runs=%lu prot=0x%x dma_avail=%u",
		      __entry->iova, __entry->size, __entry->vaddr,
		      __entry->nr_runs, __entry->prot, __entry->dma_avail)
);

TRACE_EVENT(vpt_skip,
	    TP_PROTO(u64 iova, u64 size, u64 max_iova),
	    TP_ARGS(iova, size, max_iova),
	    TP_STRUCT__entry(__field(u64, iova)
			     __field(u64, size)
			     __field(u64, max_iova)),
	    TP_fast_assign(__entry->iova = iova;
			   __entry->size = size;
			   __entry->max_iova = max_iova;),
	    TP_printk("iova=0x%llx size=0x%llx max_iova=0x%llx",
		      __entry->iova, __entry->size, __entry->max_iova)
);

TRACE_EVENT(vpt_reject,
	    TP_PROTO(u64 iova, u64 size, int reason, int err),
	    TP_ARGS(iova, size, reason, err),
	    TP_STRUCT__entry(__field(u64, iova)
			     __field(u64, size)
			     __field(int, reason)
			     __field(int, err)),
	    TP_fast_assign(__entry->iova = iova;
			   __entry->size = size;
			   __entry->reason = reason;
			   __entry->err = err;),
	    TP_printk("iova=0x%llx size=0x%llx reason=%s err=%d",
		      __entry->iova, __entry->size,
		      vpt_show_reject(__entry->reason), __entry->err)
);

TRACE_EVENT(vpt_unmap,
	    TP_PROTO(u64 iova, u64 size, u64 unmapped, unsigned long count),
	    TP_ARGS(iova, size, unmapped, count),
	    TP_STRUCT__entry(__field(u64, iova)
			     __field(u64, size)
			     __field(u64, unmapped)
			     __field(unsigned long, count)),
	    TP_fast_assign(__entry->iova = iova;
			   __entry->size = size;
			   __entry->unmapped = unmapped;
			   __entry->count = count;),
	    TP_printk("iova=0x%llx size=0x%llx unmapped=0x%llx mappings=%lu",
		      __entry->iova, __entry->size, __entry->unmapped,
		      __entry->count)
);

TRACE_EVENT(vpt_pin,
	    TP_PROTO(u64 vaddr, unsigned long npages, unsigned long nr_runs),
	    TP_ARGS(vaddr, npages, nr_runs),
	    TP_STRUCT__entry(__field(u64, vaddr)
			     __field(unsigned long, npages)
			     __field(unsigned long, nr_runs)),
	    TP_fast_assign(__entry->vaddr = vaddr;
			   __entry->npages = npages;
			   __entry->nr_runs = nr_runs;),
	    TP_printk("vaddr=0x%llx pages=%lu runs=%lu",
		      __entry->vaddr, __entry->npages, __entry->nr_runs)
);

TRACE_EVENT(vpt_account,
	    TP_PROTO(bool charge, unsigned long npages, int ret),
	    TP_ARGS(charge, npages, ret),
	    TP_STRUCT__entry(__field(bool, charge)
			     __field(unsigned long, npages)
			     __field(int, ret)),
	    TP_fast_assign(__entry->charge = charge;
			   __entry->npages = npages;
			   __entry->ret = ret;),
	    TP_printk("%s pages=%lu ret=%d",
		      __entry->charge ? "charge" : "uncharge", __entry->npages,
		      __entry->ret)
);

#endif /* _VPT_TRACE_H */

/* Outside the guard: define_trace.h reads the header again. */
#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE vpt_trace
#include <trace/define_trace.h>
