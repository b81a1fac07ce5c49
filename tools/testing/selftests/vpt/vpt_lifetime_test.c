// SPDX-License-Identifier: GPL-2.0
/*
 * vpt_lifetime_test - what survives the user: a process killed while it
 * holds mappings, a BAR mmap and an enabled interrupt; fds handed to
 * another process before their owner dies; fork (whose memory a child's
 * MAP_DMA pins, and that the parent's pinned pages stay the parent's);
 * the PCI driver unbound and the module unloaded while a user holds the
 * device; and the security rules on nodes and groups.
 *
 * fork, as upstream type1 (and vpt): a MAP_DMA pins and charges the
 * memory of the calling process, so a child mapping through an inherited
 * container fd maps its own (copy-on-write) pages and its own locked_vm,
 * never the parent's; pages the parent pinned before the fork stay the
 * parent's (the kernel copies pinned anonymous pages for the child).
 * Any holder of the container may unmap (vpt_dma_test covers that).
 *
 * Runs against vpt and in-tree vfio (VPT_STACK=vfio) alike.
 */
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "vpt_util.h"

#define PAGE		4096UL
#define BUF_PAGES	16
#define BUF_SIZE	(BUF_PAGES * PAGE)
#define IOVA_A		0x100000ULL
#define IOVA_B		0x200000ULL
#define IOVA_C		0x300000ULL
#define RW		3	/* VFIO_DMA_MAP_FLAG_READ | _WRITE */
#define EDU_IDENT	0x010000edU

static const char *stack_module(void)
{
	return vpt_stack_is_upstream() ? "vfio_pci" : "vpt_pci";
}

/* Memory decode on, so BAR mmaps populate. */
static int decode_on(int device)
{
	uint16_t cmd;
	int ret = vpt_cfg_read(device, 0x04, &cmd, sizeof(cmd));

	cmd |= 0x6;
	return ret ? ret : vpt_cfg_write(device, 0x04, &cmd, sizeof(cmd));
}

/**
 * struct held - everything a VMM holds on edu
 * @d: its fds
 * @bar: BAR0, mmapped and touched
 * @efd: the MSI eventfd
 * @msi: MSI is enabled (where the driver takes interrupts)
 */
struct held {
	struct vpt_dev d;
	uint32_t *bar;
	int efd;
	int msi;
};

/* buf mapped at IOVA_A, BAR0 mmapped and read, MSI on; 0 or -errno. */
static int hold_everything(struct held *h, uint8_t *buf)
{
	int ret;

	h->bar = MAP_FAILED;
	h->efd = -1;
	h->msi = 0;
	ret = vpt_dev_open(&h->d, VPT_EDU_BDF);
	if (ret)
		return ret;
	ret = vpt_map(h->d.container, IOVA_A, buf, BUF_SIZE, RW);
	if (!ret)
		ret = decode_on(h->d.device);
	if (ret)
		return ret;
	h->bar = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED,
		      h->d.device,
		      VPT_REGION_OFFSET(VFIO_PCI_BAR0_REGION_INDEX));
	if (h->bar == MAP_FAILED)
		return -errno;
	if (__atomic_load_n(h->bar, __ATOMIC_RELAXED) != EDU_IDENT)
		return -EIO;
	h->efd = eventfd(0, 0);
	if (h->efd < 0)
		return -errno;
	h->msi = !vpt_set_irq_trigger(h->d.device, VFIO_PCI_MSI_IRQ_INDEX,
				      h->efd);
	return 0;
}

/* Let go of everything: the BAR mapping holds the device file too. */
static void release_everything(struct held *h)
{
	if (h->bar != MAP_FAILED)
		munmap(h->bar, PAGE);
	h->bar = MAP_FAILED;
	vpt_dev_close(&h->d);
	if (h->efd >= 0)
		close(h->efd);
	h->efd = -1;
}

FIXTURE(life) {
	uint8_t *buf;
	long long pins, lck;
	int irqs;
};

FIXTURE_SETUP(life)
{
	self->buf = mmap(NULL, BUF_SIZE, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	ASSERT_NE(MAP_FAILED, self->buf);
	self->pins = vpt_pins_now();
	self->lck = vpt_status_kb("VmLck");
	self->irqs = vpt_irq_handlers();
}

FIXTURE_TEARDOWN(life)
{
	munmap(self->buf, BUF_SIZE);
}

#define ASSERT_BASELINE() do {						\
	ASSERT_EQ(self->pins, vpt_pins_now());				\
	ASSERT_EQ(self->lck, vpt_status_kb("VmLck"));			\
	ASSERT_EQ(self->irqs, vpt_irq_handlers());			\
} while (0)

/* The device works for a new user: open, DMA round trip, close. */
#define ASSERT_REUSABLE() do {						\
	struct vpt_dev r_;						\
									\
	ASSERT_EQ(0, vpt_dev_open(&r_, VPT_EDU_BDF));			\
	EXPECT_EQ(0, vpt_edu_round_trip(r_.container, r_.device, IOVA_B)); \
	vpt_dev_close(&r_);						\
} while (0)

/* The child's report through a pipe: its result and whether MSI is on. */
struct report {
	int ret, msi;
};

TEST_F_TIMEOUT(life, sigkill_with_mappings_mmap_and_irq_releases_everything, 300)
{
	struct report rep = { -1, 0 };
	int p[2], status;
	struct held h;
	pid_t pid;

	ASSERT_EQ(0, pipe(p));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		rep.ret = hold_everything(&h, self->buf);
		rep.msi = h.msi;
		if (write(p[1], &rep, sizeof(rep)) != sizeof(rep))
			_exit(1);
		for (;;)
			pause();
	}
	ASSERT_EQ((ssize_t)sizeof(rep), read(p[0], &rep, sizeof(rep)));
	EXPECT_EQ(0, rep.ret);
	/* While it lives: its pages pinned, its handler installed. */
	EXPECT_EQ(self->pins + BUF_PAGES, vpt_pins_now());
	if (rep.msi)
		EXPECT_LT(self->irqs, vpt_irq_handlers());
	kill(pid, SIGKILL);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFSIGNALED(status));
	close(p[0]);
	close(p[1]);
	ASSERT_BASELINE();
	ASSERT_REUSABLE();
	ASSERT_BASELINE();
}

static int send_fds(int sock, const int *fds, int n)
{
	char data = 'f';
	struct iovec iov = { .iov_base = &data, .iov_len = 1 };
	union {
		char buf[CMSG_SPACE(3 * sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = u.buf, .msg_controllen = CMSG_SPACE(n * sizeof(int)),
	};
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);

	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(n * sizeof(int));
	memcpy(CMSG_DATA(c), fds, n * sizeof(int));
	return sendmsg(sock, &msg, 0) == 1 ? 0 : -errno;
}

static int recv_fds(int sock, int *fds, int n)
{
	char data;
	struct iovec iov = { .iov_base = &data, .iov_len = 1 };
	union {
		char buf[CMSG_SPACE(3 * sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = u.buf, .msg_controllen = sizeof(u.buf),
	};
	struct cmsghdr *c;

	if (recvmsg(sock, &msg, 0) != 1)
		return -errno;
	c = CMSG_FIRSTHDR(&msg);
	if (!c || c->cmsg_type != SCM_RIGHTS ||
	    c->cmsg_len != CMSG_LEN(n * sizeof(int)))
		return -EBADMSG;
	memcpy(fds, CMSG_DATA(c), n * sizeof(int));
	return 0;
}

/*
 * The owner maps its memory, passes the fds on and is killed.  Its pages
 * stay pinned (the device may still DMA there) and are used through the
 * surviving fds; nothing is charged to or uncharged from the receiver,
 * and closing the last fd releases the dead owner's pins.
 */
TEST_F_TIMEOUT(life, fds_passed_on_outlive_killed_owner, 300)
{
	uint8_t *dst = self->buf;
	int sv[2], fds[3], status, i;
	struct vpt_dev d;
	uint64_t size = 0;
	pid_t pid;

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		uint8_t *mine = mmap(NULL, BUF_SIZE, PROT_READ | PROT_WRITE,
				     MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE,
				     -1, 0);

		if (mine == MAP_FAILED || vpt_dev_open(&d, VPT_EDU_BDF))
			_exit(1);
		for (i = 0; i < (int)PAGE; i++)
			mine[i] = (uint8_t)(i ^ 0xa5);
		if (vpt_map(d.container, IOVA_A, mine, BUF_SIZE, RW))
			_exit(2);
		fds[0] = d.container;
		fds[1] = d.group;
		fds[2] = d.device;
		if (send_fds(sv[1], fds, 3))
			_exit(3);
		for (;;)
			pause();
	}
	ASSERT_EQ(0, recv_fds(sv[0], fds, 3));
	kill(pid, SIGKILL);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFSIGNALED(status));

	/* The dead owner's pages are still pinned and still readable by DMA. */
	EXPECT_EQ(self->pins + BUF_PAGES, vpt_pins_now());
	EXPECT_EQ(self->lck, vpt_status_kb("VmLck"));
	memset(dst, 0, PAGE);
	ASSERT_EQ(0, vpt_map(fds[0], IOVA_C, dst, PAGE, RW));
	ASSERT_EQ(0, vpt_edu_dma(fds[2], IOVA_A, VPT_EDU_BUF,
				 VPT_EDU_DMA_LEN, 0));
	ASSERT_EQ(0, vpt_edu_dma(fds[2], VPT_EDU_BUF, IOVA_C,
				 VPT_EDU_DMA_LEN, 1));
	for (i = 0; i < VPT_EDU_DMA_LEN; i++)
		ASSERT_EQ((uint8_t)(i ^ 0xa5), dst[i]) TH_LOG("byte %d", i);
	ASSERT_EQ(0, vpt_unmap(fds[0], IOVA_C, PAGE, 0, &size));
	/* Unmapping the dead owner's memory must not touch our locked_vm. */
	ASSERT_EQ(0, vpt_unmap(fds[0], IOVA_A, BUF_SIZE, 0, &size));
	EXPECT_EQ(BUF_SIZE, size);
	EXPECT_EQ(self->lck, vpt_status_kb("VmLck"));
	/* Mapped again and left for close to release. */
	ASSERT_EQ(0, vpt_map(fds[0], IOVA_A, self->buf, BUF_SIZE, RW));
	close(fds[2]);
	close(fds[1]);
	close(fds[0]);
	close(sv[0]);
	close(sv[1]);
	ASSERT_BASELINE();
	ASSERT_REUSABLE();
}

/*
 * A child maps through the inherited container fd: its own copy of the
 * buffer is pinned and charged to it, not the parent's page.
 */
TEST_F_TIMEOUT(life, forked_child_map_pins_child_memory_and_charges_child, 300)
{
	uint8_t *src = self->buf, *dst = self->buf + 4 * PAGE;
	int p[2], status, i, ok = 0;
	struct vpt_dev d;
	uint64_t size = 0;
	pid_t pid;

	ASSERT_EQ(0, vpt_dev_open(&d, VPT_EDU_BDF));
	memset(src, 0x11, PAGE);
	ASSERT_EQ(0, pipe(p));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		long long lck = vpt_status_kb("VmLck");

		memset(src, 0x22, PAGE);	/* the child's own copy now */
		ok = !vpt_map(d.container, IOVA_A, src, PAGE,
			      VFIO_DMA_MAP_FLAG_READ) &&
		     vpt_status_kb("VmLck") == lck + (long long)(PAGE >> 10);
		if (write(p[1], &ok, sizeof(ok)) != sizeof(ok))
			_exit(1);
		for (;;)
			pause();
	}
	ASSERT_EQ((ssize_t)sizeof(ok), read(p[0], &ok, sizeof(ok)));
	EXPECT_TRUE(ok) TH_LOG("child map failed or was not charged to it");
	EXPECT_EQ(self->lck, vpt_status_kb("VmLck"));
	/* The device reads the child's page, not the parent's. */
	ASSERT_EQ(0, vpt_map(d.container, IOVA_C, dst, PAGE,
			     VFIO_DMA_MAP_FLAG_WRITE));
	ASSERT_EQ(0, vpt_edu_dma(d.device, IOVA_A, VPT_EDU_BUF,
				 VPT_EDU_DMA_LEN, 0));
	ASSERT_EQ(0, vpt_edu_dma(d.device, VPT_EDU_BUF, IOVA_C,
				 VPT_EDU_DMA_LEN, 1));
	for (i = 0; i < VPT_EDU_DMA_LEN; i++)
		ASSERT_EQ(0x22, dst[i]) TH_LOG("byte %d", i);
	EXPECT_EQ(0x11, src[0]);
	kill(pid, SIGKILL);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	/* The child is gone; its mapping stays until unmapped. */
	EXPECT_EQ(self->pins + 2, vpt_pins_now());
	ASSERT_EQ(0, vpt_unmap(d.container, 0, 0, VFIO_DMA_UNMAP_FLAG_ALL,
			       &size));
	EXPECT_EQ(2 * PAGE, size);
	close(p[0]);
	close(p[1]);
	vpt_dev_close(&d);
	ASSERT_BASELINE();
}

/*
 * Pages the parent mapped before fork stay the parent's: a child writing
 * to its copy does not redirect the device's DMA.
 */
TEST_F_TIMEOUT(life, parent_dma_lands_in_parent_pages_after_fork, 300)
{
	uint8_t *src = self->buf, *dst = self->buf + 4 * PAGE;
	struct vpt_dev d;
	int status, i;
	pid_t pid;

	ASSERT_EQ(0, vpt_dev_open(&d, VPT_EDU_BDF));
	for (i = 0; i < VPT_EDU_DMA_LEN; i++)
		src[i] = (uint8_t)(i * 3);
	memset(dst, 0, PAGE);
	ASSERT_EQ(0, vpt_map(d.container, IOVA_A, src, PAGE,
			     VFIO_DMA_MAP_FLAG_READ));
	ASSERT_EQ(0, vpt_map(d.container, IOVA_C, dst, PAGE,
			     VFIO_DMA_MAP_FLAG_WRITE));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		memset(src, 0xee, PAGE);
		memset(dst, 0xee, PAGE);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_EQ(0, vpt_edu_dma(d.device, IOVA_A, VPT_EDU_BUF,
				 VPT_EDU_DMA_LEN, 0));
	ASSERT_EQ(0, vpt_edu_dma(d.device, VPT_EDU_BUF, IOVA_C,
				 VPT_EDU_DMA_LEN, 1));
	for (i = 0; i < VPT_EDU_DMA_LEN; i++)
		ASSERT_EQ((uint8_t)(i * 3), dst[i]) TH_LOG("byte %d", i);
	vpt_dev_close(&d);
	ASSERT_BASELINE();
}

struct unbinder {
	const char *bdf;
	int done;
	int ret;
};

static void *unbind_thread(void *arg)
{
	struct unbinder *u = arg;

	u->ret = vpt_unbind(u->bdf);
	__atomic_store_n(&u->done, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

static uint64_t efd_wait(int efd)
{
	uint64_t v = 0;

	if (read(efd, &v, sizeof(v)) != sizeof(v))
		return 0;
	return v;
}

/*
 * Unbind from a thread while the main thread holds edu with mappings, a
 * BAR mmap and MSI: REQ fires, the unbind waits for the release, the held
 * fds keep working meanwhile, and closing them completes it with
 * everything released.  vpt_pci_irq_test covers the bare REQ case.
 */
TEST_F_TIMEOUT(life, unbind_while_held_waits_for_release, 300)
{
	struct unbinder u = { .bdf = VPT_EDU_BDF };
	struct vfio_device_info di = { .argsz = sizeof(di) };
	struct held h;
	pthread_t t;
	int req, fd;

	ASSERT_EQ(0, hold_everything(&h, self->buf));
	req = eventfd(0, 0);
	ASSERT_LE(0, req);
	if (vpt_set_irq_trigger(h.d.device, VFIO_PCI_REQ_IRQ_INDEX, req)) {
		release_everything(&h);
		SKIP(return, "no REQ interrupt: cannot see the unbind wait");
	}
	ASSERT_EQ(0, pthread_create(&t, NULL, unbind_thread, &u));
	/* REQ is signalled from the driver's remove, which now waits. */
	EXPECT_LE(1U, efd_wait(req));
	EXPECT_EQ(0, __atomic_load_n(&u.done, __ATOMIC_SEQ_CST));
	/*
	 * What is held still works.  vpt opens nothing new for a device on
	 * its way out; upstream (6.1) still hands out another fd while one
	 * is open, which the release then also waits for.
	 */
	EXPECT_EQ(0, ioctl(h.d.device, VFIO_DEVICE_GET_INFO, &di));
	EXPECT_EQ(EDU_IDENT, __atomic_load_n(h.bar, __ATOMIC_RELAXED));
	fd = ioctl(h.d.group, VFIO_GROUP_GET_DEVICE_FD, VPT_EDU_BDF);
	if (!vpt_stack_is_upstream())
		EXPECT_GT(0, fd);
	if (fd >= 0)
		close(fd);
	release_everything(&h);
	pthread_join(t, NULL);
	EXPECT_EQ(0, u.ret);
	close(req);
	ASSERT_BASELINE();
	ASSERT_EQ(0, vpt_bind(VPT_EDU_BDF, vpt_pci_driver_name()));
	ASSERT_REUSABLE();
}

/*
 * rmmod of the PCI driver while a device fd is open is refused
 * (-EWOULDBLOCK), as upstream (vfio_device_open pins the driver's
 * module).  Tried from a child: if the unload starts instead, REQ fires,
 * the fds are closed so that it can finish and the module is loaded
 * again for the tests that follow.
 */
TEST_F_TIMEOUT(life, module_unload_refused_while_device_open, 120)
{
	struct vpt_dev d;
	struct pollfd pfd[2];
	int req, pidfd, status, loaded_again = 0;
	pid_t pid;

	ASSERT_EQ(0, vpt_dev_open(&d, VPT_EDU_BDF));
	req = eventfd(0, 0);
	ASSERT_LE(0, req);
	if (vpt_set_irq_trigger(d.device, VFIO_PCI_REQ_IRQ_INDEX, req)) {
		vpt_dev_close(&d);
		SKIP(return, "no REQ interrupt: an unload would hang the test");
	}
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		/* The copies of the fds would keep an unload waiting forever. */
		vpt_dev_close(&d);
		close(req);
		_exit(syscall(SYS_delete_module, stack_module(), O_NONBLOCK) ?
		      errno : 0);
	}
	pidfd = syscall(SYS_pidfd_open, pid, 0);
	ASSERT_LE(0, pidfd);
	pfd[0] = (struct pollfd){ .fd = pidfd, .events = POLLIN };
	pfd[1] = (struct pollfd){ .fd = req, .events = POLLIN };
	ASSERT_LT(0, poll(pfd, 2, -1));
	if (pfd[1].revents & POLLIN) {
		/* The unload started and waits for us: let it finish. */
		vpt_dev_close(&d);
		waitpid(pid, &status, 0);
		if (!vpt_stack_is_upstream()) {
			int ko = open("/vpt/vpt-pci.ko", O_RDONLY | O_CLOEXEC);

			loaded_again = ko >= 0 &&
				!syscall(SYS_finit_module, ko, "", 0);
			if (ko >= 0)
				close(ko);
		}
		ASSERT_TRUE(0) TH_LOG("rmmod %s went ahead with the device open (reloaded: %d)",
				      stack_module(), loaded_again);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(EWOULDBLOCK, WEXITSTATUS(status));
	vpt_dev_close(&d);
	close(pidfd);
	close(req);
	ASSERT_REUSABLE();
}

/* --- security rules --- */

TEST(group_node_is_root_only_container_node_world_usable)
{
	char path[PATH_MAX];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%d", vpt_node_dir(),
		 vpt_iommu_group(VPT_EDU_BDF));
	ASSERT_EQ(0, stat(path, &st));
	EXPECT_TRUE(S_ISCHR(st.st_mode));
	EXPECT_EQ(0600U, st.st_mode & 07777);
	EXPECT_EQ(0U, st.st_uid);
	/* As upstream: the container alone grants nothing, so 0666. */
	snprintf(path, sizeof(path), "%s/vfio", vpt_node_dir());
	ASSERT_EQ(0, stat(path, &st));
	EXPECT_EQ(0666U, st.st_mode & 07777);
}

/*
 * The bridge's group with one device bound to a kernel driver is not
 * viable: the group node of its vpt device gives no container and no
 * device fd.
 */
TEST(non_viable_group_yields_no_device_fd)
{
	char edu[NAME_MAX + 1], net[NAME_MAX + 1];
	char edu_drv[64], net_drv[64];
	struct vfio_group_status st = { .argsz = sizeof(st) };
	int g, c, fd, ret;

	ASSERT_EQ(0, vpt_find_other(0x1234, 0x11e8, VPT_EDU_BDF, edu,
				    sizeof(edu)));
	ASSERT_EQ(0, vpt_find_other(0x1af4, 0x1000, VPT_VIRTIO_NET_BDF, net,
				    sizeof(net)));
	ASSERT_EQ(vpt_iommu_group(edu), vpt_iommu_group(net));
	vpt_driver_of(net, net_drv, sizeof(net_drv));
	if (!strcmp(net_drv, "none") || !strcmp(net_drv, vpt_pci_driver_name()))
		SKIP(return, "%s has no kernel driver here (virtio-pci is a module)",
		     net);
	vpt_driver_of(edu, edu_drv, sizeof(edu_drv));
	ASSERT_EQ(0, vpt_bind(edu, vpt_pci_driver_name()));

	g = vpt_open_group(vpt_iommu_group(edu));
	c = vpt_open_container();
	EXPECT_LE(0, g);
	EXPECT_LE(0, c);
	if (g >= 0 && c >= 0) {
		ASSERT_EQ(0, ioctl(g, VFIO_GROUP_GET_STATUS, &st));
		EXPECT_EQ(0U, st.flags & VFIO_GROUP_FLAGS_VIABLE);
		ret = ioctl(g, VFIO_GROUP_SET_CONTAINER, &c);
		EXPECT_EQ(-1, ret);
		if (!ret)
			ioctl(c, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU);
		fd = ioctl(g, VFIO_GROUP_GET_DEVICE_FD, edu);
		EXPECT_GT(0, fd);
		if (fd >= 0)
			close(fd);
	}
	if (g >= 0)
		close(g);
	if (c >= 0)
		close(c);

	vpt_put_back(edu, edu_drv);
}

/*
 * Unbinding the last device of a group whose fd (attached to a
 * container) the user still holds hands the group's DMA back to the
 * kernel at once: a kernel driver can bind the device next, and the
 * group is out of its container.  Were the DMA still claimed, the IOMMU
 * core would refuse the driver (and, on hot-unplug, warn as it frees
 * the device).
 */
TEST(unbind_last_device_with_group_held_gives_dma_back)
{
	const char *bdf = VPT_VIRTIO_NET_BDF;
	char drv[64];
	struct vpt_dev d;
	int ret;

	if (access("/sys/bus/pci/drivers/virtio-pci", F_OK))
		SKIP(return, "no virtio-pci driver loaded (a module here)");
	ASSERT_EQ(0, vpt_dev_open(&d, bdf));
	close(d.device);
	d.device = -1;
	ASSERT_EQ(0, vpt_unbind(bdf));

	vpt_bind(bdf, "virtio-pci");
	vpt_driver_of(bdf, drv, sizeof(drv));
	EXPECT_STREQ("virtio-pci", drv);
	/* Nothing left to detach: the group already left its container. */
	ret = ioctl(d.group, VFIO_GROUP_UNSET_CONTAINER);
	EXPECT_EQ(-1, ret);
	EXPECT_EQ(EINVAL, errno);

	vpt_dev_close(&d);
	ASSERT_EQ(0, vpt_bind(bdf, vpt_pci_driver_name()));
	vpt_driver_of(bdf, drv, sizeof(drv));
	EXPECT_STREQ(vpt_pci_driver_name(), drv);
}

TEST_HARNESS_MAIN
