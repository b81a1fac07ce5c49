/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vpt_pci_priv.h - vpt-pci.ko internals shared by its files.
 *
 * Files (drivers/vpt/pci/), each with its own prefix:
 *   vpt_pci_core.c    module init/exit, probe/remove, open/close, ioctls
 *   vpt_pci_config.c  vpt_pci_config_*: the virtual config space
 *   vpt_pci_rdwr.c    vpt_pci_bar_rw(): BAR and ROM access by read/write
 *   vpt_pci_mmap.c    vpt_pci_mmap*(): what may be mmapped, and the faults
 *   vpt_pci_bar.c     vpt_pci_hw_*: hardware BAR sizing and restore, always
 *                     with decoding disabled
 *   vpt_pci_reset.c   vpt_pci_*reset*(): function reset, slot/bus hot reset
 *   vpt_pci_ioeventfd.c vpt_pci_ioeventfd_*(): VFIO_DEVICE_IOEVENTFD
 *   vpt_pci_feature.c vpt_pci_feature_ioctl(): VFIO_DEVICE_FEATURE
 *   vpt_pci_sriov.c   vpt_pci_sriov_*(): sriov_configure, the VF token
 *   vpt_pci_power.c   vpt_pci_power_*(): runtime PM, low power, PMCSR
 *   vpt_pci_virqfd.c  vpt_pci_virqfd_*(): acting on a signalled eventfd
 *   vpt_pci_intr.c    vpt_pci_intr_*: IRQ info, SET_IRQS, INTx/MSI/MSI-X
 *                     handlers, ERR and REQ eventfds
 *
 * Lock order, outermost first:
 *   vpt_device.open_lock      (vpt.ko) open_device/close_device
 *   vpt_pci_reset_lock        (vpt_pci_reset.c) the bound functions, which
 *                             are open, hot resets and the reset on
 *                             release (under open_lock, from
 *                             close_device); memory_lock is only try-locked
 *                             under it, but for the runtime resume of the
 *                             affected functions (vpt_pci_power.c), whose
 *                             callback takes memory_lock and intr_lock
 *   vpt_pci_vf_token.lock     (vpt_pci_sriov.c) a PF's VF token and its
 *                             open VFs; taken under the group lock
 *                             (GET_DEVICE_FD) and open_lock, never
 *                             with another of the locks below
 *   vpt_pci_device.ioeventfd_lock  the ioeventfd list (never under the
 *                               locks below; a queued ioeventfd write
 *                               takes memory_lock)
 *   vpt_pci_device.config_lock  the virtual config space
 *   vpt_pci_device.intr_lock    interrupt state (SET_IRQS, DisINTx, REQ)
 *   vpt_pci_device.memory_lock  (rwsem) virtual memory decode vs. access
 *   vpt_pci_device.bar_lock     the lazily created BAR iomaps
 *   vpt_pci_device.irqlock      (spinlock, IRQs off) INTx mask state vs.
 *                               the hard interrupt handler and the unmask
 *                               eventfd's wait queue callback (which runs
 *                               under that eventfd's queue lock); every
 *                               read-modify-write of the hardware
 *                               PCI_COMMAND (vpt_pci_hw_command_update())
 * A config write of DisINTx takes intr_lock under config_lock; a config
 * read of the MSI/MSI-X control takes it too.  SET_IRQS never takes
 * config_lock, and takes memory_lock (for MSI-X table writes) under
 * intr_lock.
 * Runtime PM callbacks take memory_lock and intr_lock: a resume
 * (vpt_pci_power_get()) is never asked for with either held, nor with
 * config_lock.
 * A fault on a BAR mmap runs under the mm's mmap_lock and takes
 * memory_lock for reading; nothing takes mmap_lock under memory_lock
 * (user copies are done outside it).
 */
#ifndef _VPT_PCI_PRIV_H
#define _VPT_PCI_PRIV_H

#include <linux/mutex.h>
#include <linux/notifier.h>
#include <linux/poll.h>
#include <linux/pci.h>
#include <linux/rwsem.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/uaccess.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <linux/vfio.h>

#include "vpt_device.h"
#include "vpt_pci_trace.h"

/*
 * Region offsets within the device fd: the region index in bits 40 and
 * up, as upstream vfio-pci lays them out.
 */
#define VPT_PCI_OFFSET_SHIFT	40
#define VPT_PCI_OFFSET_MASK	((1ULL << VPT_PCI_OFFSET_SHIFT) - 1)
#define VPT_PCI_INDEX(off)	((u64)(off) >> VPT_PCI_OFFSET_SHIFT)
#define VPT_PCI_INDEX_TO_OFFSET(i) ((u64)(i) << VPT_PCI_OFFSET_SHIFT)

/* Number of BAR registers including the ROM BAR (index PCI_ROM_RESOURCE). */
#define VPT_PCI_NUM_BAR_REGS	(PCI_STD_NUM_BARS + 1)

struct eventfd_ctx;
struct vpt_pci_irq_ctx;
struct vpt_pci_vf_token;
struct vpt_pci_unmaskfd;

/**
 * struct vpt_pci_virqfd - a user eventfd acted on when signalled
 * @eventfd: the eventfd, referenced while enabled
 * @wait: our entry on its wait queue
 * @pt: poll table used to add @wait
 * @work: runs @slow
 * @fast: called from the wait queue callback; true: run @slow next
 * @slow: the part that may sleep
 * @closed: the user closed the eventfd (EPOLLHUP)
 */
struct vpt_pci_virqfd {
	struct eventfd_ctx *eventfd;
	wait_queue_entry_t wait;
	poll_table pt;
	struct work_struct work;
	bool (*fast)(struct vpt_pci_virqfd *v);
	void (*slow)(struct vpt_pci_virqfd *v);
	bool closed;
};

/**
 * struct vpt_pci_config - the user's view of config space (under config_lock)
 * @vconfig: the virtual copy, @size bytes.  Bits marked in @virt are read
 *           from and written to it; the rest are read from the device.
 * @virt: per byte, the bits that are virtualised.
 * @write: per byte, the bits the user may write: virtualised ones go to
 *         @vconfig, the others through to the device.  Bytes with neither
 *         are read from the device and writes to them are dropped.
 * @size: the device's config space size (256 or 4096).
 * @msi_pos: offset of the MSI capability in the presented chain, or 0.
 * @msix_pos: offset of the MSI-X capability, or 0.
 * @exp_pos: offset of the PCI Express capability, or 0.
 * @pm_pos: offset of the power management capability, or 0.
 */
struct vpt_pci_config {
	u8 *vconfig;
	u8 *virt;
	u8 *write;
	unsigned int size;
	u8 msi_pos;
	u8 msix_pos;
	u8 exp_pos;
	u8 pm_pos;
};

/**
 * struct vpt_pci_device - one PCI function bound to vpt-pci
 * @vdev: the vpt.ko device; must stay the first member.
 * @pdev: the PCI function.
 * @reset_works: the function reset tried at open worked (as upstream, what
 *               VFIO_DEVICE_FLAGS_RESET reports).
 * @reset_entry: link in vpt_pci_reset.c's list of bound functions.
 * @opened: between open_device and close_device (under
 *          vpt_pci_reset_lock).
 * @needs_reset: closed without a reset: its slot or bus is reset once
 *               none of its functions is open (under vpt_pci_reset_lock).
 * @rbar: hardware BAR register values at probe (index PCI_ROM_RESOURCE
 *        is the ROM BAR), restored after every reset.
 * @hw_size: BAR sizes found by sizing the hardware at probe (0: none).
 * @msix_bar: BAR holding the MSI-X table, or -1.
 * @msix_offset: offset of the table in @msix_bar.
 * @msix_size: size of the table in bytes.
 * @pba_bar: BAR holding the MSI-X PBA, or -1.
 * @pba_offset: offset of the PBA in @pba_bar.
 * @pba_size: size of the PBA in bytes.
 * @msix_mappable: the IOMMU isolates MSIs, so the MSI-X table and PBA may
 *                 be mmapped with the rest of their BAR.  Set at open.
 * @subpage: per BAR, the reservation of the rest of the page a sub-page
 *           BAR starts; held (parent set) from open to close when the
 *           BAR may be mmapped.
 * @saved_state: config state saved at open, restored at close.  Owned by
 *               open_device/close_device (serialised by vpt.ko).
 * @config_lock: protects @cfg.
 * @cfg: the virtual config space; allocated while the device is open.
 * @memory_lock: write side: changing the virtual memory/I/O decode,
 *               reset, zapping the BAR mmaps, restoring hardware BARs.
 *               Read side: any BAR or ROM access and mmap faults.
 * @virt_mem: virtual PCI_COMMAND_MEMORY (under @memory_lock).
 * @virt_io: virtual PCI_COMMAND_IO (under @memory_lock).
 * @bar_lock: serialises creating @barmap entries (readers may look without it;
 *            see vpt_pci_bar_map()).
 * @barmap: iomaps of the BARs, created on first use together with the
 *          region request, released at close.
 * @intr_lock: protects the interrupt state below (except where noted).
 * @irq_type: the enabled VFIO_PCI_*_IRQ_INDEX (INTx, MSI or MSI-X), or
 *            VFIO_PCI_NUM_IRQS for none.  Written under @intr_lock with
 *            WRITE_ONCE; the INTx handler reads it.
 * @ctx: per-vector state of @irq_type, @num_ctx entries.
 * @num_ctx: vectors @ctx has room for.
 * @pci_2_3: INTx can be masked with DisINTx (else at the IRQ chip).
 * @has_dyn_msix: MSI-X vectors can be allocated after enable.
 * @intx_masked: INTx is masked (under @irqlock).
 * @virq_disabled: the user's virtual PCI_COMMAND_INTX_DISABLE.
 * @msi_qmax: log2 of the MSI vectors enabled, for the virtual capability.
 * @irqlock: protects @intx_masked against the hard interrupt handler, and
 *           the hardware PCI_COMMAND (DisINTx) against read-modify-writes.
 * @unmaskfd: the INTx unmask eventfd, or NULL.
 * @ioeventfd_lock: protects @ioeventfds and @nr_ioeventfds.
 * @ioeventfds: the VFIO_DEVICE_IOEVENTFD registrations.
 * @nr_ioeventfds: how many.
 * @err_trigger: eventfd for the ERR index, or NULL.
 * @req_trigger: eventfd for the REQ index, or NULL.
 * @sriov_pf: a VF's PF, if bound to this driver (then the VF's user needs
 *            the PF's VF token).  Set at probe.
 * @vf_token: an SR-IOV PF's VF token, from probe to remove; else NULL.
 * @sriov_nb: a PF's notifier for its VFs appearing (driver_override).
 * @pm_engaged: LOW_POWER_ENTRY* holds (under @memory_lock).
 * @pm_wake: its wake-up eventfd, or NULL (under @memory_lock).
 * @pm_save: config state saved on entering D3hot for a function that
 *           loses it there (under @memory_lock).
 * @needs_pm_restore: the function resets in D3hot (No_Soft_Reset clear).
 * @pm_intx_masked: runtime suspend masked INTx (the PM callbacks').
 * @idle_d3: probe dropped its runtime PM reference (idle D3).
 * @pm_hold_d0: a PF's VFs are being enabled: no leaving D0 (under
 *              @memory_lock).
 */
struct vpt_pci_device {
	struct vpt_device vdev;
	struct pci_dev *pdev;
	bool reset_works;
	struct list_head reset_entry;
	bool opened;
	bool needs_reset;
	u32 rbar[VPT_PCI_NUM_BAR_REGS];
	u64 hw_size[VPT_PCI_NUM_BAR_REGS];

	int msix_bar;
	u32 msix_offset;
	u32 msix_size;
	int pba_bar;
	u32 pba_offset;
	u32 pba_size;
	bool msix_mappable;
	struct resource subpage[PCI_STD_NUM_BARS];

	struct pci_saved_state *saved_state;

	struct mutex config_lock;	/* protects @cfg */
	struct vpt_pci_config cfg;

	struct rw_semaphore memory_lock;
	bool virt_mem;
	bool virt_io;

	struct mutex bar_lock;		/* creates @barmap entries */
	void __iomem *barmap[PCI_STD_NUM_BARS];

	struct mutex intr_lock;		/* protects the interrupt state */
	u32 irq_type;
	struct vpt_pci_irq_ctx *ctx;
	unsigned int num_ctx;
	bool pci_2_3;
	bool has_dyn_msix;
	bool intx_masked;
	bool virq_disabled;
	u8 msi_qmax;
	spinlock_t irqlock;		/* protects @intx_masked */
	struct vpt_pci_unmaskfd *unmaskfd;
	struct mutex ioeventfd_lock;	/* protects @ioeventfds */
	struct list_head ioeventfds;
	unsigned int nr_ioeventfds;
	struct eventfd_ctx *err_trigger;
	struct eventfd_ctx *req_trigger;

	struct vpt_pci_device *sriov_pf;
	struct vpt_pci_vf_token *vf_token;
	struct notifier_block sriov_nb;

	bool pm_engaged;
	struct eventfd_ctx *pm_wake;
	struct pci_saved_state *pm_save;
	bool needs_pm_restore;
	bool pm_intx_masked;
	bool idle_d3;
	bool pm_hold_d0;
};

static inline struct vpt_pci_device *to_vpt_pci(struct vpt_device *vdev)
{
	return container_of(vdev, struct vpt_pci_device, vdev);
}

/* vpt_pci_core.c */
extern struct pci_driver vpt_pci_driver;
void vpt_pci_zap_and_down_write_memory_lock(struct vpt_pci_device *vpci);
bool vpt_pci_memory_enabled(struct vpt_pci_device *vpci);

/* vpt_pci_reset.c */
int vpt_pci_reset(struct vpt_pci_device *vpci);
int vpt_pci_reset_at_open(struct vpt_pci_device *vpci);
void vpt_pci_reset_add(struct vpt_pci_device *vpci);
void vpt_pci_reset_del(struct vpt_pci_device *vpci);
void vpt_pci_reset_open(struct vpt_pci_device *vpci);
void vpt_pci_reset_open_failed(struct vpt_pci_device *vpci);
void vpt_pci_reset_close(struct vpt_pci_device *vpci, bool reset_done);
long vpt_pci_hot_reset_info(struct vpt_pci_device *vpci, void __user *arg);
long vpt_pci_hot_reset(struct vpt_pci_device *vpci, void __user *arg);

/* vpt_pci_config.c */
int vpt_pci_config_init(struct vpt_pci_device *vpci);
void vpt_pci_config_free(struct vpt_pci_device *vpci);
ssize_t vpt_pci_config_rw(struct vpt_pci_device *vpci, char __user *buf,
			  size_t count, loff_t *ppos, bool iswrite);

/* Copy in the direction asked; always inlined, so a constant @n stays one. */
static __always_inline unsigned long vpt_pci_copy_n(void *kbuf,
						    char __user *ubuf,
						    size_t n, bool to_user)
{
	return to_user ? copy_to_user(ubuf, kbuf, n) :
			 copy_from_user(kbuf, ubuf, n);
}

/**
 * vpt_pci_copy_user() - copy a read's or write's bytes to or from the user
 * @kbuf: the kernel side: a bounce buffer or a register value
 * @ubuf: the user's buffer
 * @n: bytes
 * @to_user: copy @kbuf to @ubuf rather than @ubuf to @kbuf
 *
 * The register-sized accesses that nearly every pread/pwrite is copy a
 * constant size: the compiler then proves @kbuf big enough, and hardened
 * usercopy's run-time check of it (check_object_size(), a walk of the
 * stack for an on-stack buffer) is left out; on 7.x that check was a
 * quarter of a 4-byte BAR pread.
 *
 * Return: the number of bytes not copied.
 */
static inline unsigned long vpt_pci_copy_user(void *kbuf, char __user *ubuf,
					      size_t n, bool to_user)
{
	switch (n) {
	case 1:
		return vpt_pci_copy_n(kbuf, ubuf, 1, to_user);
	case 2:
		return vpt_pci_copy_n(kbuf, ubuf, 2, to_user);
	case 4:
		return vpt_pci_copy_n(kbuf, ubuf, 4, to_user);
	case 8:
		return vpt_pci_copy_n(kbuf, ubuf, 8, to_user);
	default:
		return vpt_pci_copy_n(kbuf, ubuf, n, to_user);
	}
}

/* vpt_pci_rdwr.c */
int vpt_pci_bar_map(struct vpt_pci_device *vpci, int bar, void __iomem **io);
ssize_t vpt_pci_bar_rw(struct vpt_pci_device *vpci, char __user *buf,
		       size_t count, loff_t *ppos, bool iswrite);
void vpt_pci_bars_release(struct vpt_pci_device *vpci);
size_t vpt_pci_rom_size(struct vpt_pci_device *vpci);

/* vpt_pci_mmap.c */
void vpt_pci_mmap_open(struct vpt_pci_device *vpci);
void vpt_pci_mmap_close(struct vpt_pci_device *vpci);
int vpt_pci_mmap_region_info(struct vpt_pci_device *vpci, int bar,
			     u32 *flags, void **cap, size_t *size);
int vpt_pci_mmap(struct vpt_pci_device *vpci, struct vm_area_struct *vma);

/* vpt_pci_feature.c */
int vpt_pci_feature_check(u32 flags, size_t argsz, u32 supported,
			  size_t minsz);
long vpt_pci_feature_ioctl(struct vpt_pci_device *vpci, void __user *arg);

/* vpt_pci_power.c */
extern const struct dev_pm_ops vpt_pci_pm_ops;
int vpt_pci_power_set_state(struct vpt_pci_device *vpci, pci_power_t state);
bool vpt_pci_power_in_d3(struct vpt_pci_device *vpci);
bool vpt_pci_power_engaged(struct vpt_pci_device *vpci);
void vpt_pci_power_write_pmcsr(struct vpt_pci_device *vpci, u16 ctl);
int vpt_pci_power_feature(struct vpt_pci_device *vpci, u32 feature,
			  u32 flags, void __user *arg, size_t argsz);
int vpt_pci_power_get(struct vpt_pci_device *vpci);
int vpt_pci_power_access_get(struct vpt_pci_device *vpci, bool *held);
void vpt_pci_power_access_put(struct vpt_pci_device *vpci, bool held);
void vpt_pci_power_put(struct vpt_pci_device *vpci);
int vpt_pci_power_open(struct vpt_pci_device *vpci);
void vpt_pci_power_close(struct vpt_pci_device *vpci);
void vpt_pci_power_probe(struct vpt_pci_device *vpci);
void vpt_pci_power_remove(struct vpt_pci_device *vpci);

/* vpt_pci_sriov.c */
int vpt_pci_sriov_probe(struct vpt_pci_device *vpci);
void vpt_pci_sriov_disable(struct vpt_pci_device *vpci);
void vpt_pci_sriov_remove(struct vpt_pci_device *vpci);
int vpt_pci_sriov_configure(struct pci_dev *pdev, int nr_virtfn);
int vpt_pci_sriov_token_feature(struct vpt_pci_device *vpci, u32 flags,
				void __user *arg, size_t argsz);
int vpt_pci_sriov_match(struct vpt_pci_device *vpci, const char *buf);
void vpt_pci_sriov_open(struct vpt_pci_device *vpci);
void vpt_pci_sriov_close(struct vpt_pci_device *vpci);

/* vpt_pci_ioeventfd.c */
long vpt_pci_ioeventfd_ioctl(struct vpt_pci_device *vpci, void __user *arg);
void vpt_pci_ioeventfd_release(struct vpt_pci_device *vpci);

/* vpt_pci_virqfd.c */
int vpt_pci_virqfd_enable(struct vpt_pci_virqfd *v, s32 fd,
			  bool (*fast)(struct vpt_pci_virqfd *v),
			  void (*slow)(struct vpt_pci_virqfd *v));
void vpt_pci_virqfd_disable(struct vpt_pci_virqfd *v);
void vpt_pci_virqfd_flush(struct vpt_pci_virqfd *v);

/* vpt_pci_intr.c */
u32 vpt_pci_intr_count(struct vpt_pci_device *vpci, u32 index);
long vpt_pci_intr_get_info(struct vpt_pci_device *vpci, void __user *arg);
long vpt_pci_intr_set_irqs(struct vpt_pci_device *vpci, void __user *arg);
void vpt_pci_intr_virq_disable(struct vpt_pci_device *vpci, bool disabled);
u16 vpt_pci_intr_msi_flags(struct vpt_pci_device *vpci, bool msix);
void vpt_pci_intr_request(struct vpt_pci_device *vpci, unsigned int count);
void vpt_pci_intr_error(struct vpt_pci_device *vpci);
void vpt_pci_intr_open(struct vpt_pci_device *vpci);
bool vpt_pci_intr_pm_mask(struct vpt_pci_device *vpci);
void vpt_pci_intr_pm_unmask(struct vpt_pci_device *vpci);
void vpt_pci_intr_release(struct vpt_pci_device *vpci);

/* vpt_pci_bar.c */
u16 vpt_pci_hw_command_update(struct vpt_pci_device *vpci, u16 clear, u16 set);
u16 vpt_pci_hw_decode_off(struct vpt_pci_device *vpci);
void vpt_pci_hw_decode_restore(struct vpt_pci_device *vpci, u16 cmd);
void vpt_pci_hw_bars_save(struct vpt_pci_device *vpci);
void vpt_pci_hw_bars_size(struct vpt_pci_device *vpci, const char *why);
bool vpt_pci_hw_bars_changed(struct vpt_pci_device *vpci);
void vpt_pci_hw_bars_restore(struct vpt_pci_device *vpci);

#endif /* _VPT_PCI_PRIV_H */
