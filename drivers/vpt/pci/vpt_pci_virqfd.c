// SPDX-License-Identifier: GPL-2.0
/*
 * vpt_pci_virqfd.c - act on a user's eventfd when it is signalled, as
 * upstream's virqfd: the INTx unmask eventfd and VFIO_DEVICE_IOEVENTFD.
 *
 * The wait queue callback runs with the eventfd's queue lock held and
 * interrupts off, so @fast may not sleep; what needs to is deferred to
 * @slow on the system workqueue.  EPOLLHUP (the user closed the eventfd,
 * which is how QEMU removes one) only marks it closed: our reference
 * keeps the context alive until the owner disables it.
 */
#include <linux/eventfd.h>
#include <linux/file.h>
#include <linux/poll.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

#include "vpt_pci_priv.h"

static void vpt_pci_virqfd_work(struct work_struct *work)
{
	struct vpt_pci_virqfd *v = container_of(work, struct vpt_pci_virqfd,
						work);

	v->slow(v);
}

static int vpt_pci_virqfd_wakeup(wait_queue_entry_t *wait, unsigned int mode,
				 int sync, void *key)
{
	struct vpt_pci_virqfd *v = container_of(wait, struct vpt_pci_virqfd,
						wait);
	u64 cnt;

	if (key_to_poll(key) & EPOLLHUP)
		WRITE_ONCE(v->closed, true);
	if (key_to_poll(key) & EPOLLIN) {
		eventfd_ctx_do_read(v->eventfd, &cnt);
		if (v->fast(v))
			schedule_work(&v->work);
	}
	return 0;
}

static void vpt_pci_virqfd_queue(struct file *file, wait_queue_head_t *wqh,
				 poll_table *pt)
{
	struct vpt_pci_virqfd *v = container_of(pt, struct vpt_pci_virqfd, pt);

	add_wait_queue(wqh, &v->wait);
}

/**
 * vpt_pci_virqfd_enable() - start acting on eventfd @fd
 * @v: the owner's virqfd, not enabled
 * @fd: the user's eventfd
 * @fast: called on each signal from the wait queue callback (atomic);
 *        returns true to have @slow run next
 * @slow: called from a work item, may sleep
 *
 * A signal that came before we listened counts as one.
 *
 * Return: 0, -EBADF for a bad fd, -EINVAL if it is not an eventfd, or
 * -ENOMEM.
 */
int vpt_pci_virqfd_enable(struct vpt_pci_virqfd *v, s32 fd,
			  bool (*fast)(struct vpt_pci_virqfd *v),
			  void (*slow)(struct vpt_pci_virqfd *v))
{
	struct eventfd_ctx *ctx;
	struct file *file;
	__poll_t events;

	file = fget(fd);
	if (!file)
		return -EBADF;
	ctx = eventfd_ctx_fileget(file);
	if (IS_ERR(ctx)) {
		fput(file);
		return PTR_ERR(ctx);
	}
	v->eventfd = ctx;
	v->fast = fast;
	v->slow = slow;
	v->closed = false;
	INIT_WORK(&v->work, vpt_pci_virqfd_work);
	init_waitqueue_func_entry(&v->wait, vpt_pci_virqfd_wakeup);
	init_poll_funcptr(&v->pt, vpt_pci_virqfd_queue);

	events = vfs_poll(file, &v->pt);
	if ((events & EPOLLIN) && fast(v))
		schedule_work(&v->work);
	fput(file);
	return 0;
}

/**
 * vpt_pci_virqfd_disable() - stop acting on the eventfd
 * @v: an enabled virqfd; neither callback runs once this returns
 */
void vpt_pci_virqfd_disable(struct vpt_pci_virqfd *v)
{
	u64 cnt;

	eventfd_ctx_remove_wait_queue(v->eventfd, &v->wait, &cnt);
	cancel_work_sync(&v->work);
	eventfd_ctx_put(v->eventfd);
	v->eventfd = NULL;
}

/**
 * vpt_pci_virqfd_flush() - wait for a queued @slow to finish
 * @v: an enabled virqfd
 */
void vpt_pci_virqfd_flush(struct vpt_pci_virqfd *v)
{
	flush_work(&v->work);
}
