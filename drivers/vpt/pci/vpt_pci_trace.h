/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vpt_pci_trace.h - tracepoints of vpt-pci.ko.
 *
 * Enable them with
 *   echo 1 > /sys/kernel/tracing/events/vpt_pci/enable
 *
 *   vpt_pci_bar_size    one hardware BAR sized by the driver (at probe,
 *                       after a reset, at release), with the PCI_COMMAND
 *                       decode bits in effect while it was sized: "off"
 *                       unless the device is mmio_always_on
 *   vpt_pci_reset       a function reset done for the user, and its result
 *   vpt_pci_irq_enable  SET_IRQS armed vectors [start, start + count) of
 *                       an interrupt index (INTx, MSI, MSI-X, ...)
 *   vpt_pci_irq_disable SET_IRQS tore an interrupt index down
 *   vpt_pci_mmap_fault  one fault of a BAR mmap: the BAR offset of the
 *                       faulting page, the order tried (0 one page, 9 a
 *                       2 MiB PMD, 18 a 1 GiB PUD, which vpt leaves to
 *                       PMDs) and the result (nopage when mapped, fallback
 *                       when the core retries smaller, sigbus while
 *                       memory decode is off, error otherwise)
 *
 * Each event names the device by pci_name(); the name is copied into the
 * event, so nothing points back into the device once it is gone.
 * vpt_pci_trace.c defines them (CREATE_TRACE_POINTS); vpt_pci_priv.h
 * includes this header for the rest of vpt-pci.ko.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM vpt_pci

#if !defined(_VPT_PCI_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _VPT_PCI_TRACE_H

#include <linux/mm_types.h>
#include <linux/pci.h>
#include <linux/string.h>
#include <linux/tracepoint.h>

/* "dddd:bb:dd.f" and its NUL, with room for a 5-digit domain. */
#define VPT_PCI_TRACE_NAME	16
/* The decode bits of PCI_COMMAND that sizing switches off. */
#define VPT_PCI_TRACE_DECODE	(PCI_COMMAND_MEMORY | PCI_COMMAND_IO)

#define vpt_pci_show_decode(cmd)					\
	__print_flags(cmd, "|",						\
		      { PCI_COMMAND_MEMORY, "mem" },			\
		      { PCI_COMMAND_IO, "io" })

TRACE_EVENT(vpt_pci_bar_size,
	    TP_PROTO(const char *name, int bar, u64 hw_size, u64 res_size,
		     u16 decode, const char *why),
	    TP_ARGS(name, bar, hw_size, res_size, decode, why),
	    TP_STRUCT__entry(__array(char, name, VPT_PCI_TRACE_NAME)
			     __array(char, why, 8)
			     __field(u64, hw_size)
			     __field(u64, res_size)
			     __field(int, bar)
			     __field(u16, decode)),
	    TP_fast_assign(strscpy(__entry->name, name, sizeof(__entry->name));
			   strscpy(__entry->why, why, sizeof(__entry->why));
			   __entry->hw_size = hw_size;
			   __entry->res_size = res_size;
			   __entry->bar = bar;
			   __entry->decode = decode & VPT_PCI_TRACE_DECODE;),
	    TP_printk("%s %s: BAR %d size=0x%llx resource=0x%llx decode=%s",
		      __entry->name, __entry->why, __entry->bar,
		      __entry->hw_size, __entry->res_size,
		      __entry->decode ?
		      vpt_pci_show_decode(__entry->decode) : "off")
);

TRACE_EVENT(vpt_pci_reset,
	    TP_PROTO(const char *name, int ret),
	    TP_ARGS(name, ret),
	    TP_STRUCT__entry(__array(char, name, VPT_PCI_TRACE_NAME)
			     __field(int, ret)),
	    TP_fast_assign(strscpy(__entry->name, name, sizeof(__entry->name));
			   __entry->ret = ret;),
	    TP_printk("%s ret=%d", __entry->name, __entry->ret)
);

TRACE_EVENT(vpt_pci_irq_enable,
	    TP_PROTO(const char *name, unsigned int index, unsigned int start,
		     unsigned int count),
	    TP_ARGS(name, index, start, count),
	    TP_STRUCT__entry(__array(char, name, VPT_PCI_TRACE_NAME)
			     __field(unsigned int, index)
			     __field(unsigned int, start)
			     __field(unsigned int, count)),
	    TP_fast_assign(strscpy(__entry->name, name, sizeof(__entry->name));
			   __entry->index = index;
			   __entry->start = start;
			   __entry->count = count;),
	    TP_printk("%s index=%u start=%u count=%u", __entry->name,
		      __entry->index, __entry->start, __entry->count)
);

TRACE_EVENT(vpt_pci_irq_disable,
	    TP_PROTO(const char *name, unsigned int index),
	    TP_ARGS(name, index),
	    TP_STRUCT__entry(__array(char, name, VPT_PCI_TRACE_NAME)
			     __field(unsigned int, index)),
	    TP_fast_assign(strscpy(__entry->name, name, sizeof(__entry->name));
			   __entry->index = index;),
	    TP_printk("%s index=%u", __entry->name, __entry->index)
);

/*
 * vpt_pci_mmap_fault's result as a plain number, so that the format user
 * space reads (perf, trace-cmd) holds nothing but literals.  Its own
 * guard: define_trace.h reads this part of the header again.
 */
#ifndef _VPT_PCI_TRACE_FAULT_RESULT
#define _VPT_PCI_TRACE_FAULT_RESULT
#define VPT_PCI_FAULT_NOPAGE	0
#define VPT_PCI_FAULT_FALLBACK	1
#define VPT_PCI_FAULT_SIGBUS	2
#define VPT_PCI_FAULT_ERROR	3

static inline u8 vpt_pci_fault_result(vm_fault_t ret)
{
	if (ret & VM_FAULT_SIGBUS)
		return VPT_PCI_FAULT_SIGBUS;
	if (ret & VM_FAULT_FALLBACK)
		return VPT_PCI_FAULT_FALLBACK;
	if (ret & VM_FAULT_NOPAGE)
		return VPT_PCI_FAULT_NOPAGE;
	return VPT_PCI_FAULT_ERROR;
}
#endif

TRACE_EVENT(vpt_pci_mmap_fault,
	    TP_PROTO(const char *name, int bar, u64 offset, unsigned int order,
		     vm_fault_t ret),
	    TP_ARGS(name, bar, offset, order, ret),
	    TP_STRUCT__entry(__array(char, name, VPT_PCI_TRACE_NAME)
			     __field(u64, offset)
			     __field(int, bar)
			     __field(unsigned int, order)
			     __field(u8, result)),
	    TP_fast_assign(strscpy(__entry->name, name, sizeof(__entry->name));
			   __entry->offset = offset;
			   __entry->bar = bar;
			   __entry->order = order;
			   __entry->result = vpt_pci_fault_result(ret);),
	    TP_printk("%s BAR %d offset=0x%llx order=%u %s", __entry->name,
		      __entry->bar, __entry->offset, __entry->order,
		      __print_symbolic(__entry->result,
				       { VPT_PCI_FAULT_NOPAGE, "nopage" },
				       { VPT_PCI_FAULT_FALLBACK, "fallback" },
				       { VPT_PCI_FAULT_SIGBUS, "sigbus" },
				       { VPT_PCI_FAULT_ERROR, "error" }))
);

#endif /* _VPT_PCI_TRACE_H */

/* Outside the guard: define_trace.h reads the header again. */
#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH pci
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE vpt_pci_trace
#include <trace/define_trace.h>
