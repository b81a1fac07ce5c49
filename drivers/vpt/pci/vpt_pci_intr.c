// SPDX-License-Identifier: GPL-2.0
/*
 * vpt_pci_intr.c - interrupts: VFIO_DEVICE_GET_IRQ_INFO, VFIO_DEVICE_SET_IRQS
 * and the handlers that turn device interrupts into eventfd signals.
 *
 * Semantics follow upstream vfio-pci (drivers/vfio/pci/vfio_pci_intrs.c):
 *
 *   INTx    one vector.  The hard handler masks the line (DisINTx when the
 *           function supports it, else disable_irq_nosync()) and signals
 *           the trigger eventfd; the user unmasks with ACTION_UNMASK, or by
 *           signalling an unmask eventfd (what KVM's irqfd resampler
 *           does).  The virtual PCI_COMMAND_INTX_DISABLE masks it as well.
 *   MSI     up to the capability's vector count, all allocated at enable.
 *   MSI-X   up to the table size; vectors beyond those allocated at enable
 *           are added one by one where the kernel supports dynamic MSI-X.
 *   ERR     PCI Express only: signalled by AER's error_detected.
 *   REQ     signalled while the device is being unbound from vpt-pci.
 *
 * Only one of INTx, MSI and MSI-X is active at a time (irq_type).
 * intr_lock serialises every change of that state; irqlock (a spinlock)
 * covers the INTx mask state shared with the hard handler.  MSI and MSI-X
 * setup writes the MSI-X table or capability, so it runs with memory_lock
 * held for writing and memory decode forced on in the hardware, as
 * upstream does.
 */
#include <linux/eventfd.h>
#include <linux/file.h>
#include <linux/interrupt.h>
#include <linux/irq.h>
#include <linux/msi.h>
#include <linux/pci.h>
#include <linux/poll.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vfio.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

#include "vpt_compat.h"
#include "vpt_pci_priv.h"

/* irq_type when no interrupt mode is enabled, as upstream. */
#define VPT_PCI_IRQ_NONE	VFIO_PCI_NUM_IRQS

/**
 * struct vpt_pci_irq_ctx - one enabled vector
 * @trigger: the eventfd signalled on each interrupt, or NULL.  INTx reads
 *           it from its handler (READ_ONCE); MSI vectors pass it as the
 *           handler's dev_id.
 * @name: the name shown in /proc/interrupts.
 */
struct vpt_pci_irq_ctx {
	struct eventfd_ctx *trigger;
	char *name;
};

/**
 * struct vpt_pci_unmaskfd - an eventfd whose signal unmasks INTx
 * @vpci: the device
 * @virqfd: the eventfd; an unmask that finds an interrupt pending
 *          signals the trigger from its work item, not from the wait
 *          queue callback (the trigger may be this very eventfd).  Once
 *          the user has closed it, the next registration replaces it.
 */
struct vpt_pci_unmaskfd {
	struct vpt_pci_device *vpci;
	struct vpt_pci_virqfd virqfd;
};

static bool vpt_pci_intr_is(struct vpt_pci_device *vpci, u32 type)
{
	return READ_ONCE(vpci->irq_type) == type;
}

static bool vpt_pci_intr_is_none(struct vpt_pci_device *vpci)
{
	return vpt_pci_intr_is(vpci, VPT_PCI_IRQ_NONE);
}

/**
 * vpt_pci_intr_count() - the number of vectors of an IRQ index
 * @vpci: the device
 * @index: a VFIO_PCI_*_IRQ_INDEX
 *
 * Return: as upstream's vfio_pci_get_irq_count(): INTx 1 if the function
 * has an interrupt pin, MSI the capability's vector count, MSI-X the
 * table size, ERR 1 on PCI Express, REQ 1; 0 otherwise.
 */
u32 vpt_pci_intr_count(struct vpt_pci_device *vpci, u32 index)
{
	struct pci_dev *pdev = vpci->pdev;
	u16 flags;
	u8 pin;

	switch (index) {
	case VFIO_PCI_INTX_IRQ_INDEX:
		pci_read_config_byte(pdev, PCI_INTERRUPT_PIN, &pin);
		return pin ? 1 : 0;
	case VFIO_PCI_MSI_IRQ_INDEX:
		if (!pdev->msi_cap)
			return 0;
		pci_read_config_word(pdev, pdev->msi_cap + PCI_MSI_FLAGS, &flags);
		return 1 << ((flags & PCI_MSI_FLAGS_QMASK) >> 1);
	case VFIO_PCI_MSIX_IRQ_INDEX:
		if (!pdev->msix_cap)
			return 0;
		pci_read_config_word(pdev, pdev->msix_cap + PCI_MSIX_FLAGS,
				     &flags);
		return (flags & PCI_MSIX_FLAGS_QSIZE) + 1;
	case VFIO_PCI_ERR_IRQ_INDEX:
		return vpt_pci_offers_err_irq(pdev) ? 1 : 0;
	case VFIO_PCI_REQ_IRQ_INDEX:
		return 1;
	default:
		return 0;
	}
}

/**
 * vpt_pci_intr_get_info() - VFIO_DEVICE_GET_IRQ_INFO
 * @vpci: the device
 * @arg: the user's struct vfio_irq_info
 *
 * Return: 0, -EFAULT, or -EINVAL for a short argsz, an unknown index, or
 * the ERR index of a function it is not offered for (a conventional PCI
 * one, before 7.x: vpt_pci_offers_err_irq()).
 */
long vpt_pci_intr_get_info(struct vpt_pci_device *vpci, void __user *arg)
{
	unsigned long minsz = offsetofend(struct vfio_irq_info, count);
	struct vfio_irq_info info;
	u32 argsz, index;

	if (copy_from_user(&info, arg, minsz))
		return -EFAULT;
	if (info.argsz < minsz || info.index >= VFIO_PCI_NUM_IRQS)
		return -EINVAL;
	if (info.index == VFIO_PCI_ERR_IRQ_INDEX &&
	    !vpt_pci_offers_err_irq(vpci->pdev))
		return -EINVAL;
	argsz = info.argsz;
	index = info.index;

	memset(&info, 0, sizeof(info));
	info.argsz = argsz;
	info.index = index;
	info.flags = VFIO_IRQ_INFO_EVENTFD;
	if (index == VFIO_PCI_INTX_IRQ_INDEX)
		info.flags |= VFIO_IRQ_INFO_MASKABLE |
			      VFIO_IRQ_INFO_AUTOMASKED;
	else if (index != VFIO_PCI_MSIX_IRQ_INDEX || !vpci->has_dyn_msix)
		info.flags |= VFIO_IRQ_INFO_NORESIZE;
	info.count = vpt_pci_intr_count(vpci, index);

	return copy_to_user(arg, &info, minsz) ? -EFAULT : 0;
}

/*
 * Memory decode on in the hardware for the MSI-X table writes of vector
 * setup, whatever the user's decode state; memory_lock keeps every user
 * BAR access and fault out meanwhile.
 */
static u16 vpt_pci_intr_memory_lock_and_enable(struct vpt_pci_device *vpci)
{
	down_write(&vpci->memory_lock);
	return vpt_pci_hw_command_update(vpci, 0, PCI_COMMAND_MEMORY);
}

/*
 * Memory decode back off if it was off.  Only that bit is put back: MSI
 * setup itself changes DisINTx (pci_intx_for_msi()), which must stay.
 */
static void vpt_pci_intr_memory_unlock_and_restore(struct vpt_pci_device *vpci,
						   u16 cmd)
{
	if (!(cmd & PCI_COMMAND_MEMORY))
		vpt_pci_hw_command_update(vpci, PCI_COMMAND_MEMORY, 0);
	up_write(&vpci->memory_lock);
}

/* --- INTx ---------------------------------------------------------------- */

static void vpt_pci_intx_signal(struct vpt_pci_device *vpci)
{
	struct eventfd_ctx *trigger;

	if (!vpt_pci_intr_is(vpci, VFIO_PCI_INTX_IRQ_INDEX) ||
	    READ_ONCE(vpci->virq_disabled))
		return;
	trigger = READ_ONCE(vpci->ctx[0].trigger);
	if (trigger)
		vpt_eventfd_signal(trigger);
}

/* Mask INTx; returns whether the masked state changed. */
static bool vpt_pci_intx_mask_locked(struct vpt_pci_device *vpci);
static void vpt_pci_intx_unmask_locked(struct vpt_pci_device *vpci);

/**
 * vpt_pci_intr_pm_mask() - mask the user's INTx for a runtime suspend
 * @vpci: the device
 *
 * Return: true if this masked it (vpt_pci_intr_pm_unmask() then undoes
 * it on resume); false if INTx is not in use or the user masked it.
 */
bool vpt_pci_intr_pm_mask(struct vpt_pci_device *vpci)
{
	bool masked;

	mutex_lock(&vpci->intr_lock);
	masked = vpt_pci_intr_is(vpci, VFIO_PCI_INTX_IRQ_INDEX) &&
		 vpt_pci_intx_mask_locked(vpci);
	mutex_unlock(&vpci->intr_lock);
	return masked;
}

/**
 * vpt_pci_intr_pm_unmask() - undo vpt_pci_intr_pm_mask() on resume
 * @vpci: the device
 */
void vpt_pci_intr_pm_unmask(struct vpt_pci_device *vpci)
{
	mutex_lock(&vpci->intr_lock);
	vpt_pci_intx_unmask_locked(vpci);
	mutex_unlock(&vpci->intr_lock);
}

/* Mask INTx; returns whether the masked state changed. */
static bool vpt_pci_intx_mask_locked(struct vpt_pci_device *vpci)
{
	struct pci_dev *pdev = vpci->pdev;
	unsigned long flags;
	bool changed = false;

	lockdep_assert_held(&vpci->intr_lock);

	spin_lock_irqsave(&vpci->irqlock, flags);
	if (!vpt_pci_intr_is(vpci, VFIO_PCI_INTX_IRQ_INDEX)) {
		/* No handler: only the virtual DisINTx bit is followed. */
		if (vpci->pci_2_3 && vpt_pci_intr_is_none(vpci))
			pci_intx(pdev, 0);
	} else if (!vpci->intx_masked) {
		if (vpci->pci_2_3)
			pci_intx(pdev, 0);
		else
			disable_irq_nosync(pdev->irq);
		vpci->intx_masked = true;
		changed = true;
	}
	spin_unlock_irqrestore(&vpci->irqlock, flags);
	return changed;
}

/*
 * Unmask INTx.  If the function still has an interrupt pending the line
 * stays masked and the return value says that the user must be signalled
 * again instead, as upstream.  Callable in atomic context (the unmask
 * eventfd's callback): irqlock alone protects the mask state.
 */
static bool vpt_pci_intx_unmask_irqlock(struct vpt_pci_device *vpci)
{
	struct pci_dev *pdev = vpci->pdev;
	unsigned long flags;
	bool pending = false;

	spin_lock_irqsave(&vpci->irqlock, flags);
	if (!vpt_pci_intr_is(vpci, VFIO_PCI_INTX_IRQ_INDEX)) {
		if (vpci->pci_2_3 && vpt_pci_intr_is_none(vpci))
			pci_intx(pdev, 1);
	} else if (vpci->intx_masked && !vpci->virq_disabled) {
		if (vpci->pci_2_3)
			pending = !pci_check_and_unmask_intx(pdev);
		else
			enable_irq(pdev->irq);
		vpci->intx_masked = pending;
	}
	spin_unlock_irqrestore(&vpci->irqlock, flags);
	return pending;
}

static void vpt_pci_intx_unmask_locked(struct vpt_pci_device *vpci)
{
	lockdep_assert_held(&vpci->intr_lock);

	if (vpt_pci_intx_unmask_irqlock(vpci))
		vpt_pci_intx_signal(vpci);
}

static bool vpt_pci_unmaskfd_fast(struct vpt_pci_virqfd *v)
{
	struct vpt_pci_unmaskfd *u = container_of(v, struct vpt_pci_unmaskfd,
						  virqfd);

	return vpt_pci_intx_unmask_irqlock(u->vpci);
}

static void vpt_pci_unmaskfd_slow(struct vpt_pci_virqfd *v)
{
	struct vpt_pci_unmaskfd *u = container_of(v, struct vpt_pci_unmaskfd,
						  virqfd);

	vpt_pci_intx_signal(u->vpci);
}

/* Remove the unmask eventfd, if any: no callback or work runs after. */
static void vpt_pci_unmaskfd_disable(struct vpt_pci_device *vpci)
{
	struct vpt_pci_unmaskfd *u = vpci->unmaskfd;

	lockdep_assert_held(&vpci->intr_lock);

	if (!u)
		return;
	vpci->unmaskfd = NULL;
	vpt_pci_virqfd_disable(&u->virqfd);
	kfree(u);
}

/*
 * Register @fd as the unmask eventfd: each signal unmasks INTx as
 * ACTION_UNMASK does.  -EBUSY if one is registered, as upstream; one
 * whose eventfd the user has closed is no longer, as upstream (its
 * virqfd goes away then).
 */
static int vpt_pci_unmaskfd_enable(struct vpt_pci_device *vpci, s32 fd)
{
	struct vpt_pci_unmaskfd *u;
	int ret;

	lockdep_assert_held(&vpci->intr_lock);

	if (vpci->unmaskfd && !READ_ONCE(vpci->unmaskfd->virqfd.closed))
		return -EBUSY;
	vpt_pci_unmaskfd_disable(vpci);
	u = kzalloc(sizeof(*u), GFP_KERNEL_ACCOUNT);
	if (!u)
		return -ENOMEM;
	u->vpci = vpci;
	/* Published first: the first signal may come before enable returns. */
	vpci->unmaskfd = u;
	ret = vpt_pci_virqfd_enable(&u->virqfd, fd, vpt_pci_unmaskfd_fast,
				    vpt_pci_unmaskfd_slow);
	if (ret) {
		vpci->unmaskfd = NULL;
		kfree(u);
	}
	return ret;
}

static irqreturn_t vpt_pci_intx_handler(int irq, void *dev_id)
{
	struct vpt_pci_device *vpci = dev_id;
	irqreturn_t ret = IRQ_NONE;
	unsigned long flags;
	bool signal = false;

	spin_lock_irqsave(&vpci->irqlock, flags);
	if (!vpci->pci_2_3) {
		/*
		 * An exclusive line: it can only be ours.  An ACTION_MASK or
		 * DisINTx may have disabled it under irqlock while this
		 * interrupt was already on its way: disabling again would
		 * leave a depth of 2 that one unmask cannot undo.  Mask and
		 * unmask are idempotent on intx_masked, as on the chip.
		 */
		if (!vpci->intx_masked) {
			disable_irq_nosync(vpci->pdev->irq);
			vpci->intx_masked = true;
			signal = true;
		}
		ret = IRQ_HANDLED;
	} else if (!vpci->intx_masked &&	/* the line may be shared */
		   pci_check_and_mask_intx(vpci->pdev)) {
		vpci->intx_masked = true;
		signal = true;
		ret = IRQ_HANDLED;
	}
	spin_unlock_irqrestore(&vpci->irqlock, flags);

	if (signal)
		vpt_pci_intx_signal(vpci);
	return ret;
}

/*
 * Enable INTx with @trigger (may be NULL), which the context then owns.
 * The line is requested already masked if the virtual DisINTx says so,
 * never enabled first and masked after.
 */
static int vpt_pci_intx_enable(struct vpt_pci_device *vpci,
			       struct eventfd_ctx *trigger)
{
	struct pci_dev *pdev = vpci->pdev;
	unsigned long irqflags;
	int ret;

	lockdep_assert_held(&vpci->intr_lock);

	if (!pdev->irq || pdev->irq == IRQ_NOTCONNECTED)
		return -ENODEV;

	vpci->ctx = kcalloc(1, sizeof(*vpci->ctx), GFP_KERNEL_ACCOUNT);
	if (!vpci->ctx)
		return -ENOMEM;
	vpci->ctx[0].name = kasprintf(GFP_KERNEL_ACCOUNT, "vpt-intx(%s)",
				      pci_name(pdev));
	if (!vpci->ctx[0].name) {
		ret = -ENOMEM;
		goto err_ctx;
	}
	vpci->num_ctx = 1;
	vpci->ctx[0].trigger = trigger;

	vpci->intx_masked = vpci->virq_disabled;
	if (vpci->pci_2_3) {
		pci_intx(pdev, !vpci->intx_masked);
		irqflags = IRQF_SHARED;
	} else {
		irqflags = vpci->intx_masked ? IRQF_NO_AUTOEN : 0;
		/* Mask at the chip at once, not lazily on the next edge. */
		irq_set_status_flags(pdev->irq, IRQ_DISABLE_UNLAZY);
	}

	/* The handler reads irq_type: set it before the handler can run. */
	WRITE_ONCE(vpci->irq_type, VFIO_PCI_INTX_IRQ_INDEX);
	ret = request_irq(pdev->irq, vpt_pci_intx_handler, irqflags,
			  vpci->ctx[0].name, vpci);
	if (ret)
		goto err_type;
	trace_vpt_pci_irq_enable(pci_name(pdev), VFIO_PCI_INTX_IRQ_INDEX, 0, 1);
	return 0;

err_type:
	WRITE_ONCE(vpci->irq_type, VPT_PCI_IRQ_NONE);
	if (!vpci->pci_2_3)
		irq_clear_status_flags(pdev->irq, IRQ_DISABLE_UNLAZY);
	else
		pci_intx(pdev, 0);
	kfree(vpci->ctx[0].name);
	vpci->num_ctx = 0;
err_ctx:
	kfree(vpci->ctx);
	vpci->ctx = NULL;
	return ret;
}

/* Replace the INTx trigger (NULL: none) while the handler stays. */
static void vpt_pci_intx_set_trigger(struct vpt_pci_device *vpci,
				     struct eventfd_ctx *trigger)
{
	struct eventfd_ctx *old = vpci->ctx[0].trigger;

	WRITE_ONCE(vpci->ctx[0].trigger, trigger);
	if (old) {
		/* A handler or unmask may still be signalling the old one. */
		synchronize_irq(vpci->pdev->irq);
		if (vpci->unmaskfd)
			vpt_pci_virqfd_flush(&vpci->unmaskfd->virqfd);
		eventfd_ctx_put(old);
	}
}

static void vpt_pci_intx_disable(struct vpt_pci_device *vpci)
{
	struct pci_dev *pdev = vpci->pdev;

	lockdep_assert_held(&vpci->intr_lock);

	vpt_pci_unmaskfd_disable(vpci);
	free_irq(pdev->irq, vpci);
	if (!vpci->pci_2_3)
		irq_clear_status_flags(pdev->irq, IRQ_DISABLE_UNLAZY);
	else
		pci_intx(pdev, 0);	/* nobody handles the line now */
	if (vpci->ctx[0].trigger)
		eventfd_ctx_put(vpci->ctx[0].trigger);
	kfree(vpci->ctx[0].name);
	kfree(vpci->ctx);
	vpci->ctx = NULL;
	vpci->num_ctx = 0;
	vpci->intx_masked = false;
	WRITE_ONCE(vpci->irq_type, VPT_PCI_IRQ_NONE);
	trace_vpt_pci_irq_disable(pci_name(pdev), VFIO_PCI_INTX_IRQ_INDEX);
}

/**
 * vpt_pci_intr_virq_disable() - the user changed the virtual DisINTx bit
 * @vpci: the device, config_lock held
 * @disabled: the new value of PCI_COMMAND_INTX_DISABLE
 *
 * DisINTx masks INTx like ACTION_MASK does and keeps it masked until the
 * bit is cleared; with no interrupt mode enabled the hardware bit follows
 * the virtual one.
 */
void vpt_pci_intr_virq_disable(struct vpt_pci_device *vpci, bool disabled)
{
	mutex_lock(&vpci->intr_lock);
	if (disabled != vpci->virq_disabled) {
		WRITE_ONCE(vpci->virq_disabled, disabled);
		if (disabled)
			vpt_pci_intx_mask_locked(vpci);
		else
			vpt_pci_intx_unmask_locked(vpci);
	}
	mutex_unlock(&vpci->intr_lock);
}

/* --- MSI and MSI-X ------------------------------------------------------- */

static irqreturn_t vpt_pci_msi_handler(int irq, void *arg)
{
	vpt_eventfd_signal(arg);
	return IRQ_HANDLED;
}

/*
 * Allocate @nvec vectors and the context array for the whole index, as
 * many entries as the device reports now (num_ctx).  As
 * upstream, a device that grants fewer vectors makes this return how
 * many it would grant (a positive number), so that a VMM can retry.
 */
static int vpt_pci_msi_enable(struct vpt_pci_device *vpci, unsigned int nvec,
			      bool msix)
{
	struct pci_dev *pdev = vpci->pdev;
	u32 index = msix ? VFIO_PCI_MSIX_IRQ_INDEX : VFIO_PCI_MSI_IRQ_INDEX;
	u32 max = vpt_pci_intr_count(vpci, index);
	u16 cmd;
	int ret;

	lockdep_assert_held(&vpci->intr_lock);

	/*
	 * SET_IRQS checked @nvec against an earlier read of the count; the
	 * device may report fewer vectors now.  ctx[] is sized by this read
	 * alone and every later index is bounded by num_ctx.
	 */
	if (nvec > max)
		return -EINVAL;
	vpci->ctx = kcalloc(max, sizeof(*vpci->ctx), GFP_KERNEL_ACCOUNT);
	if (!vpci->ctx)
		return -ENOMEM;

	cmd = vpt_pci_intr_memory_lock_and_enable(vpci);
	ret = pci_alloc_irq_vectors(pdev, 1, nvec,
				    msix ? PCI_IRQ_MSIX : PCI_IRQ_MSI);
	if (ret > 0 && ret < (int)nvec)
		pci_free_irq_vectors(pdev);
	vpt_pci_intr_memory_unlock_and_restore(vpci, cmd);
	if (ret < (int)nvec) {
		kfree(vpci->ctx);
		vpci->ctx = NULL;
		return ret;
	}

	vpci->num_ctx = max;
	/* MSI's multiple message enable field: log2 of the vectors. */
	if (!msix)
		vpci->msi_qmax = fls(nvec * 2 - 1) - 1;
	WRITE_ONCE(vpci->irq_type, index);
	trace_vpt_pci_irq_enable(pci_name(pdev), index, 0, nvec);
	return 0;
}

/*
 * The Linux IRQ of @vector, allocating it if MSI-X supports dynamic
 * allocation.  Allocated IRQs stay until MSI-X is disabled, as upstream.
 */
static int vpt_pci_msi_vector_irq(struct vpt_pci_device *vpci,
				  unsigned int vector, bool msix)
{
	struct pci_dev *pdev = vpci->pdev;
	int irq;
	u16 cmd;

	irq = pci_irq_vector(pdev, vector);
	if (irq > 0 || !msix || !vpci->has_dyn_msix)
		return irq ? irq : -EINVAL;

	cmd = vpt_pci_intr_memory_lock_and_enable(vpci);
	irq = vpt_pci_msix_alloc_irq_at(pdev, vector);
	vpt_pci_intr_memory_unlock_and_restore(vpci, cmd);
	return irq;
}

/* Release @vector's handler and eventfd, if any; the IRQ stays allocated. */
static void vpt_pci_msi_vector_release(struct vpt_pci_device *vpci,
				       unsigned int vector)
{
	struct vpt_pci_irq_ctx *ctx = &vpci->ctx[vector];
	u16 cmd;

	if (!ctx->trigger)
		return;
	cmd = vpt_pci_intr_memory_lock_and_enable(vpci);
	free_irq(pci_irq_vector(vpci->pdev, vector), ctx->trigger);
	vpt_pci_intr_memory_unlock_and_restore(vpci, cmd);
	eventfd_ctx_put(ctx->trigger);
	ctx->trigger = NULL;
	kfree(ctx->name);
	ctx->name = NULL;
}

/*
 * Point @vector at @trigger (NULL: release it).  The context takes over
 * the reference on success; on failure the caller still owns it.
 */
static int vpt_pci_msi_vector_set(struct vpt_pci_device *vpci,
				  unsigned int vector,
				  struct eventfd_ctx *trigger, bool msix)
{
	struct vpt_pci_irq_ctx *ctx = &vpci->ctx[vector];
	struct pci_dev *pdev = vpci->pdev;
	struct msi_msg msg;
	char *name;
	int irq, ret;
	u16 cmd;

	vpt_pci_msi_vector_release(vpci, vector);
	if (!trigger)
		return 0;

	irq = vpt_pci_msi_vector_irq(vpci, vector, msix);
	if (irq < 0)
		return irq;
	name = kasprintf(GFP_KERNEL_ACCOUNT, "vpt-msi%s[%u](%s)",
			 msix ? "x" : "", vector, pci_name(pdev));
	if (!name)
		return -ENOMEM;

	cmd = vpt_pci_intr_memory_lock_and_enable(vpci);
	/*
	 * The vector may have been allocated before a reset the host did
	 * not see: write its message again before unmasking it.
	 */
	if (msix) {
		get_cached_msi_msg(irq, &msg);
		pci_write_msi_msg(irq, &msg);
	}
	ret = request_irq(irq, vpt_pci_msi_handler, 0, name, trigger);
	vpt_pci_intr_memory_unlock_and_restore(vpci, cmd);
	if (ret) {
		kfree(name);
		return ret;
	}
	ctx->name = name;
	ctx->trigger = trigger;
	return 0;
}

/*
 * Set vectors [@start, @start + @count) to the eventfds @fds (NULL or
 * negative: release the vector).  Every eventfd is looked up first, so a
 * bad one fails the call before anything changes.  A later failure
 * releases the vectors of the block, as upstream.
 */
static int vpt_pci_msi_set_block(struct vpt_pci_device *vpci,
				 unsigned int start, unsigned int count,
				 const s32 *fds, bool msix)
{
	struct eventfd_ctx **triggers;
	unsigned int i;
	int ret = 0;

	triggers = kcalloc(count, sizeof(*triggers), GFP_KERNEL);
	if (!triggers)
		return -ENOMEM;
	for (i = 0; fds && i < count; i++) {
		if (fds[i] < 0)
			continue;
		triggers[i] = eventfd_ctx_fdget(fds[i]);
		if (IS_ERR(triggers[i])) {
			ret = PTR_ERR(triggers[i]);
			triggers[i] = NULL;
			goto out_put;
		}
	}

	for (i = 0; i < count; i++) {
		ret = vpt_pci_msi_vector_set(vpci, start + i, triggers[i],
					     msix);
		if (ret)
			break;
		triggers[i] = NULL;	/* the context owns it now */
	}
	if (ret) {
		unsigned int j;

		for (j = 0; j < i; j++)
			vpt_pci_msi_vector_release(vpci, start + j);
	}

out_put:
	for (i = 0; i < count; i++)
		if (triggers[i])
			eventfd_ctx_put(triggers[i]);
	kfree(triggers);
	return ret;
}

static void vpt_pci_msi_disable(struct vpt_pci_device *vpci)
{
	unsigned int i;
	u16 cmd;

	lockdep_assert_held(&vpci->intr_lock);

	for (i = 0; i < vpci->num_ctx; i++)
		vpt_pci_msi_vector_release(vpci, i);
	cmd = vpt_pci_intr_memory_lock_and_enable(vpci);
	pci_free_irq_vectors(vpci->pdev);
	vpt_pci_intr_memory_unlock_and_restore(vpci, cmd);

	kfree(vpci->ctx);
	vpci->ctx = NULL;
	vpci->num_ctx = 0;
	vpci->msi_qmax = 0;
	trace_vpt_pci_irq_disable(pci_name(vpci->pdev), vpci->irq_type);
	WRITE_ONCE(vpci->irq_type, VPT_PCI_IRQ_NONE);
}

/**
 * vpt_pci_intr_msi_flags() - the MSI or MSI-X control bits SET_IRQS owns
 * @vpci: the device
 * @msix: MSI-X rather than MSI
 *
 * The virtual capabilities show these instead of anything the user
 * wrote: the enable bit, and for MSI the multiple message enable field.
 *
 * Return: PCI_MSI_FLAGS_ENABLE | QSIZE, or PCI_MSIX_FLAGS_ENABLE, or 0.
 */
u16 vpt_pci_intr_msi_flags(struct vpt_pci_device *vpci, bool msix)
{
	u16 flags = 0;

	mutex_lock(&vpci->intr_lock);
	if (msix && vpt_pci_intr_is(vpci, VFIO_PCI_MSIX_IRQ_INDEX))
		flags = PCI_MSIX_FLAGS_ENABLE;
	else if (!msix && vpt_pci_intr_is(vpci, VFIO_PCI_MSI_IRQ_INDEX))
		flags = PCI_MSI_FLAGS_ENABLE | (vpci->msi_qmax << 4);
	mutex_unlock(&vpci->intr_lock);
	return flags;
}

/* --- SET_IRQS actions ---------------------------------------------------- */

static int vpt_pci_set_intx_mask(struct vpt_pci_device *vpci, u32 start,
				 u32 count, u32 flags, void *data)
{
	if (!vpt_pci_intr_is(vpci, VFIO_PCI_INTX_IRQ_INDEX) || start != 0 ||
	    count != 1)
		return -EINVAL;

	if (flags & VFIO_IRQ_SET_DATA_NONE) {
		vpt_pci_intx_mask_locked(vpci);
	} else if (flags & VFIO_IRQ_SET_DATA_BOOL) {
		if (*(u8 *)data)
			vpt_pci_intx_mask_locked(vpci);
	} else {
		return -ENOTTY;		/* a mask eventfd: upstream has none */
	}
	return 0;
}

static int vpt_pci_set_intx_unmask(struct vpt_pci_device *vpci, u32 start,
				   u32 count, u32 flags, void *data)
{
	if (!vpt_pci_intr_is(vpci, VFIO_PCI_INTX_IRQ_INDEX) || start != 0 ||
	    count != 1)
		return -EINVAL;

	if (flags & VFIO_IRQ_SET_DATA_NONE) {
		vpt_pci_intx_unmask_locked(vpci);
	} else if (flags & VFIO_IRQ_SET_DATA_BOOL) {
		if (*(u8 *)data)
			vpt_pci_intx_unmask_locked(vpci);
	} else {
		s32 fd = *(s32 *)data;

		if (fd >= 0)
			return vpt_pci_unmaskfd_enable(vpci, fd);
		vpt_pci_unmaskfd_disable(vpci);
	}
	return 0;
}

static int vpt_pci_set_intx_trigger(struct vpt_pci_device *vpci, u32 start,
				    u32 count, u32 flags, void *data)
{
	bool intx = vpt_pci_intr_is(vpci, VFIO_PCI_INTX_IRQ_INDEX);

	if (intx && !count && (flags & VFIO_IRQ_SET_DATA_NONE)) {
		vpt_pci_intx_disable(vpci);
		return 0;
	}
	if (!(intx || vpt_pci_intr_is_none(vpci)) || start != 0 || count != 1)
		return -EINVAL;

	if (flags & VFIO_IRQ_SET_DATA_EVENTFD) {
		struct eventfd_ctx *trigger = NULL;
		s32 fd = *(s32 *)data;
		int ret = 0;

		if (fd >= 0) {
			trigger = eventfd_ctx_fdget(fd);
			if (IS_ERR(trigger))
				return PTR_ERR(trigger);
		}
		if (intx)
			vpt_pci_intx_set_trigger(vpci, trigger);
		else
			ret = vpt_pci_intx_enable(vpci, trigger);
		if (ret && trigger)
			eventfd_ctx_put(trigger);
		return ret;
	}

	if (!intx)
		return -EINVAL;
	/* Loopback: signal the user as the handler would. */
	if ((flags & VFIO_IRQ_SET_DATA_NONE) || *(u8 *)data)
		vpt_pci_intx_signal(vpci);
	return 0;
}

static int vpt_pci_set_msi_trigger(struct vpt_pci_device *vpci, u32 index,
				   u32 start, u32 count, u32 flags, void *data)
{
	bool msix = index == VFIO_PCI_MSIX_IRQ_INDEX;
	bool on = vpt_pci_intr_is(vpci, index);
	unsigned int i;
	int ret;

	if (on && !count && (flags & VFIO_IRQ_SET_DATA_NONE)) {
		vpt_pci_msi_disable(vpci);
		return 0;
	}
	if (!(on || vpt_pci_intr_is_none(vpci)))
		return -EINVAL;

	if (flags & VFIO_IRQ_SET_DATA_EVENTFD) {
		if (on)
			return vpt_pci_msi_set_block(vpci, start, count, data,
						     msix);
		ret = vpt_pci_msi_enable(vpci, start + count, msix);
		if (ret)
			return ret;
		ret = vpt_pci_msi_set_block(vpci, start, count, data, msix);
		if (ret)
			vpt_pci_msi_disable(vpci);
		return ret;
	}

	if (!on)
		return -EINVAL;
	for (i = start; i < start + count; i++) {
		struct eventfd_ctx *trigger = vpci->ctx[i].trigger;

		if (!trigger)
			continue;
		if ((flags & VFIO_IRQ_SET_DATA_NONE) ||
		    ((u8 *)data)[i - start])
			vpt_eventfd_signal(trigger);
	}
	return 0;
}

/* ERR and REQ: a single eventfd, no handler behind it. */
static int vpt_pci_set_trigger_single(struct eventfd_ctx **slot, u32 start,
				      u32 count, u32 flags, void *data)
{
	struct eventfd_ctx *trigger;
	s32 fd;

	if (start != 0 || count > 1)
		return -EINVAL;

	if (flags & VFIO_IRQ_SET_DATA_NONE) {
		if (!*slot)
			return -EINVAL;
		if (count) {
			vpt_eventfd_signal(*slot);
		} else {
			eventfd_ctx_put(*slot);
			*slot = NULL;
		}
		return 0;
	}
	if (!count)
		return -EINVAL;
	if (flags & VFIO_IRQ_SET_DATA_BOOL) {
		if (*(u8 *)data && *slot)
			vpt_eventfd_signal(*slot);
		return 0;
	}

	fd = *(s32 *)data;
	if (fd == -1) {
		trigger = NULL;
	} else if (fd >= 0) {
		trigger = eventfd_ctx_fdget(fd);
		if (IS_ERR(trigger))
			return PTR_ERR(trigger);
	} else {
		return 0;	/* other negative values: no change, as upstream */
	}
	if (*slot)
		eventfd_ctx_put(*slot);
	*slot = trigger;
	return 0;
}

/* Dispatch on index and action; -ENOTTY if the index has no such action. */
static int vpt_pci_set_irqs_dispatch(struct vpt_pci_device *vpci, u32 index,
				     u32 start, u32 count, u32 flags,
				     void *data)
{
	u32 action = flags & VFIO_IRQ_SET_ACTION_TYPE_MASK;

	lockdep_assert_held(&vpci->intr_lock);

	switch (index) {
	case VFIO_PCI_INTX_IRQ_INDEX:
		switch (action) {
		case VFIO_IRQ_SET_ACTION_MASK:
			return vpt_pci_set_intx_mask(vpci, start, count, flags,
						     data);
		case VFIO_IRQ_SET_ACTION_UNMASK:
			return vpt_pci_set_intx_unmask(vpci, start, count,
						       flags, data);
		case VFIO_IRQ_SET_ACTION_TRIGGER:
			return vpt_pci_set_intx_trigger(vpci, start, count,
							flags, data);
		}
		break;
	case VFIO_PCI_MSI_IRQ_INDEX:
	case VFIO_PCI_MSIX_IRQ_INDEX:
		/* Per-vector masking is not offered, as upstream. */
		if (action == VFIO_IRQ_SET_ACTION_TRIGGER)
			return vpt_pci_set_msi_trigger(vpci, index, start,
						       count, flags, data);
		break;
	case VFIO_PCI_ERR_IRQ_INDEX:
		if (action == VFIO_IRQ_SET_ACTION_TRIGGER &&
		    vpt_pci_offers_err_irq(vpci->pdev))
			return vpt_pci_set_trigger_single(&vpci->err_trigger,
							  start, count, flags,
							  data);
		break;
	case VFIO_PCI_REQ_IRQ_INDEX:
		if (action == VFIO_IRQ_SET_ACTION_TRIGGER)
			return vpt_pci_set_trigger_single(&vpci->req_trigger,
							  start, count, flags,
							  data);
		break;
	}
	return -ENOTTY;
}

/*
 * Upstream's vfio_set_irqs_validate_and_prepare(): exactly one data type,
 * no unknown flag, start + count within the index's vectors (checked
 * without overflow) and a payload of count elements inside argsz.
 */
static int vpt_pci_set_irqs_validate(struct vfio_irq_set *hdr, u32 max,
				     size_t *data_size)
{
	unsigned long minsz = offsetofend(struct vfio_irq_set, count);
	size_t size;

	*data_size = 0;
	if (hdr->argsz < minsz || hdr->index >= VFIO_PCI_NUM_IRQS ||
	    hdr->count >= U32_MAX - hdr->start ||
	    (hdr->flags & ~(VFIO_IRQ_SET_DATA_TYPE_MASK |
			    VFIO_IRQ_SET_ACTION_TYPE_MASK)))
		return -EINVAL;
	if (hdr->start >= max || hdr->start + hdr->count > max)
		return -EINVAL;

	switch (hdr->flags & VFIO_IRQ_SET_DATA_TYPE_MASK) {
	case VFIO_IRQ_SET_DATA_NONE:
		size = 0;
		break;
	case VFIO_IRQ_SET_DATA_BOOL:
		size = sizeof(u8);
		break;
	case VFIO_IRQ_SET_DATA_EVENTFD:
		size = sizeof(s32);
		break;
	default:
		return -EINVAL;
	}
	if (size) {
		/* count < max <= 2048 here: the product cannot overflow. */
		if (hdr->argsz - minsz < hdr->count * size)
			return -EINVAL;
		*data_size = hdr->count * size;
	}
	return 0;
}

/**
 * vpt_pci_intr_set_irqs() - VFIO_DEVICE_SET_IRQS
 * @vpci: the device
 * @arg: the user's struct vfio_irq_set and its payload
 *
 * Return: 0; -EINVAL for a malformed header, an out-of-range vector or a
 * combination the index does not allow in its current mode; -ENOTTY for
 * an action the index does not have; -EBADF or -EINVAL for an fd that is
 * not an eventfd; -ENODEV for INTx without an IRQ line; a positive count
 * when MSI or MSI-X cannot have all the vectors asked for (as upstream);
 * -EFAULT or -ENOMEM.
 */
long vpt_pci_intr_set_irqs(struct vpt_pci_device *vpci, void __user *arg)
{
	unsigned long minsz = offsetofend(struct vfio_irq_set, count);
	struct vfio_irq_set hdr;
	size_t data_size;
	void *data = NULL;
	int ret;

	if (copy_from_user(&hdr, arg, minsz))
		return -EFAULT;
	ret = vpt_pci_set_irqs_validate(&hdr, hdr.index < VFIO_PCI_NUM_IRQS ?
					vpt_pci_intr_count(vpci, hdr.index) : 0,
					&data_size);
	if (ret)
		return ret;
	if (data_size) {
		data = memdup_user(arg + minsz, data_size);
		if (IS_ERR(data))
			return PTR_ERR(data);
	}

	mutex_lock(&vpci->intr_lock);
	/*
	 * The count above is a fresh read of the device, which may have
	 * changed since the enabled index sized ctx[]: an enabled index is
	 * bounded by what was allocated (the count check above keeps
	 * start + count from wrapping).
	 */
	if (vpt_pci_intr_is(vpci, hdr.index) && hdr.count &&
	    hdr.start + hdr.count > vpci->num_ctx)
		ret = -EINVAL;
	else
		ret = vpt_pci_set_irqs_dispatch(vpci, hdr.index, hdr.start,
						hdr.count, hdr.flags, data);
	mutex_unlock(&vpci->intr_lock);
	kfree(data);
	return ret;
}

/**
 * vpt_pci_intr_request() - ask the user, through REQ, to release the device
 * @vpci: the device, being unbound while a device fd is open
 * @count: how many times this was asked before
 */
void vpt_pci_intr_request(struct vpt_pci_device *vpci, unsigned int count)
{
	struct pci_dev *pdev = vpci->pdev;

	mutex_lock(&vpci->intr_lock);
	if (vpci->req_trigger) {
		if (!(count % 10))
			pci_notice_ratelimited(pdev,
					       "relaying device request to user (#%u)\n",
					       count);
		vpt_eventfd_signal(vpci->req_trigger);
	} else if (!count) {
		pci_warn(pdev,
			 "no device request channel registered, blocked until released by user\n");
	}
	mutex_unlock(&vpci->intr_lock);
}

/**
 * vpt_pci_intr_error() - AER reported an error: tell the user through ERR
 * @vpci: the device
 */
void vpt_pci_intr_error(struct vpt_pci_device *vpci)
{
	mutex_lock(&vpci->intr_lock);
	if (vpci->err_trigger)
		vpt_eventfd_signal(vpci->err_trigger);
	mutex_unlock(&vpci->intr_lock);
}

/**
 * vpt_pci_intr_open() - interrupt state for a new user
 * @vpci: the device, enabled, at open
 */
void vpt_pci_intr_open(struct vpt_pci_device *vpci)
{
	struct pci_dev *pdev = vpci->pdev;

	mutex_lock(&vpci->intr_lock);
	WRITE_ONCE(vpci->irq_type, VPT_PCI_IRQ_NONE);
	vpci->pci_2_3 = pci_intx_mask_supported(pdev);
	vpci->has_dyn_msix = pdev->msix_cap && vpt_pci_msix_can_alloc_dyn(pdev);
	vpci->intx_masked = false;
	vpci->virq_disabled = false;
	vpci->msi_qmax = 0;
	mutex_unlock(&vpci->intr_lock);
}

/**
 * vpt_pci_intr_release() - tear down every interrupt of the user
 * @vpci: the device, at close (no fd left); memory_lock not held
 *
 * Frees every handler and eventfd: nothing of the user's stays in
 * /proc/interrupts.
 */
void vpt_pci_intr_release(struct vpt_pci_device *vpci)
{
	mutex_lock(&vpci->intr_lock);
	if (vpt_pci_intr_is(vpci, VFIO_PCI_INTX_IRQ_INDEX))
		vpt_pci_intx_disable(vpci);
	else if (vpt_pci_intr_is(vpci, VFIO_PCI_MSI_IRQ_INDEX) ||
		 vpt_pci_intr_is(vpci, VFIO_PCI_MSIX_IRQ_INDEX))
		vpt_pci_msi_disable(vpci);
	if (vpci->err_trigger)
		eventfd_ctx_put(vpci->err_trigger);
	vpci->err_trigger = NULL;
	if (vpci->req_trigger)
		eventfd_ctx_put(vpci->req_trigger);
	vpci->req_trigger = NULL;
	mutex_unlock(&vpci->intr_lock);
}
