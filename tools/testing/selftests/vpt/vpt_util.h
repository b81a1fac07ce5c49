/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vpt_util.h - helpers shared by vpt's kselftests: finding devices,
 * opening the container/group/device triple, config-space access and
 * the kernel counters the tests compare before and after.
 *
 * Everything speaks only <linux/vfio.h> (plus <linux/vpt.h> where a vpt
 * extension is under test), so the same code runs against upstream VFIO.
 */
#ifndef VPT_UTIL_H
#define VPT_UTIL_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <linux/pci_regs.h>
#include <linux/vfio.h>
#include <linux/vpt.h>

/* The devices the VM runner provides, bound to vpt-pci at boot. */
#define VPT_EDU_BDF		"0000:00:04.0"
#define VPT_IVSHMEM_BDF		"0000:00:05.0"
#define VPT_NVME_BDF		"0000:00:06.0"
#define VPT_VIRTIO_NET_BDF	"0000:00:07.0"

/* Upstream vfio-pci's region layout: the index in the file offset's high bits. */
#define VPT_REGION_OFFSET(index)	((uint64_t)(index) << 40)

/* Node directory: /dev/vfio unless the runner moved it (module parameter). */
static inline const char *vpt_node_dir(void)
{
	const char *dir = getenv("VPT_NODE_DIR");

	return dir && *dir ? dir : "/dev/vfio";
}

/*
 * Whether the run uses upstream's vfio modules instead of vpt (the
 * runner's --stack vfio), to show the tests are fair: tests of vpt-only
 * features skip then, with VPT_ONLY_REASON.
 */
static inline int vpt_stack_is_upstream(void)
{
	const char *stack = getenv("VPT_STACK");

	return stack && !strcmp(stack, "vfio");
}

/* Tests of vpt-only behaviour: if (vpt_stack_is_upstream()) SKIP(...). */
#define VPT_ONLY_REASON "vpt-only behaviour; upstream vfio loaded"

/*
 * The IOMMU address width of this run, or 0 if unknown: what the VM
 * runner expects of its IOMMU (VPT_IOMMU: intel, amd or virtio), QEMU's
 * aw-bits for VT-d and virtio-iommu, 64 for AMD-Vi.
 */
static inline unsigned int vpt_aw_bits(void)
{
	const char *aw = getenv("VPT_AW_BITS");

	return aw ? (unsigned int)strtoul(aw, NULL, 0) : 0;
}

/*
 * Whether the IOMMU of this VM isolates MSIs (interrupt remapping): the
 * runner exports VPT_INTREMAP=off when it emulates one that does not.
 */
static inline int vpt_msi_isolated(void)
{
	const char *intremap = getenv("VPT_INTREMAP");

	return !intremap || strcmp(intremap, "off");
}

/* The emulated IOMMU of this run (VPT_IOMMU): "intel", "amd" or "virtio". */
static inline const char *vpt_iommu_kind(void)
{
	const char *kind = getenv("VPT_IOMMU");

	return kind && *kind ? kind : "intel";
}

/*
 * The highest IOVA of an IOMMU @aw bits wide; a 64-bit one (AMD-Vi,
 * virtio-iommu's default) has no address above it.
 */
static inline uint64_t vpt_aw_max_iova(unsigned int aw)
{
	return aw >= 64 ? UINT64_MAX : (1ULL << aw) - 1;
}

/*
 * Why the tests of the group behind the PCIe-to-PCI bridge skip where its
 * devices have no IOMMU group (virtio-iommu under 6.12 leaves them out).
 */
#define VPT_NO_BRIDGE_GROUP_REASON \
	"no IOMMU group behind the bridge: the IOMMU does not cover it"

/*
 * Why they skip where the runner leaves the bus behind the bridge empty
 * (virtio-iommu under 7.x, tools/testing/vm/run.sh says why).
 */
#define VPT_NO_BRIDGE_DEVS_REASON \
	"no devices behind the bridge: this IOMMU would fail to register with them"

/* Why a test that needs an IOVA above the width skips on a 64-bit IOMMU. */
#define VPT_NO_ABOVE_REASON \
	"a 64-bit IOMMU has no IOVA above its width"

/* Read a small file into buf, NUL-terminated; 0 or -errno. */
static inline int vpt_read_file(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	if (n < 0)
		n = -errno;
	close(fd);
	if (n < 0)
		return n;
	buf[n] = '\0';
	return 0;
}

/* Read a sysfs attribute of a PCI device into buf; 0 or -errno. */
static inline int vpt_sysfs_read(const char *bdf, const char *attr,
				 char *buf, size_t len)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/%s", bdf, attr);
	return vpt_read_file(path, buf, len);
}

/* Write a string to a sysfs file; 0 or -errno. */
static inline int vpt_sysfs_write(const char *path, const char *val)
{
	ssize_t n;
	int fd;

	fd = open(path, O_WRONLY);
	if (fd < 0)
		return -errno;
	n = write(fd, val, strlen(val));
	close(fd);
	return n < 0 ? -errno : 0;
}

/* The last component of symlink @path's target into @buf; 0 or -errno. */
static inline int vpt_link_name(const char *path, char *buf, size_t len)
{
	char link[PATH_MAX];
	const char *slash;
	ssize_t n;

	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return -errno;
	link[n] = '\0';
	slash = strrchr(link, '/');
	slash = slash ? slash + 1 : link;
	if (strlen(slash) >= len)
		return -ENAMETOOLONG;
	memcpy(buf, slash, strlen(slash) + 1);
	return 0;
}

/* The IOMMU group number of a PCI device, or -errno. */
static inline int vpt_iommu_group(const char *bdf)
{
	char path[PATH_MAX], name[NAME_MAX + 1];
	int ret;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/iommu_group",
		 bdf);
	ret = vpt_link_name(path, name, sizeof(name));
	return ret ? ret : atoi(name);
}

/*
 * Find the index-th PCI device (0-based, in directory order) with the
 * given vendor and device id; its address goes to bdf.  0 or -ENOENT.
 */
static inline int vpt_find_pci(unsigned int vendor, unsigned int device,
			       int index, char *bdf, size_t len)
{
	DIR *dir = opendir("/sys/bus/pci/devices");
	struct dirent *de;
	char buf[32];
	int ret = -ENOENT;

	if (!dir)
		return -errno;
	while ((de = readdir(dir))) {
		if (de->d_name[0] == '.')
			continue;
		if (vpt_sysfs_read(de->d_name, "vendor", buf, sizeof(buf)) ||
		    strtoul(buf, NULL, 16) != vendor)
			continue;
		if (vpt_sysfs_read(de->d_name, "device", buf, sizeof(buf)) ||
		    strtoul(buf, NULL, 16) != device)
			continue;
		if (index--)
			continue;
		snprintf(bdf, len, "%s", de->d_name);
		ret = 0;
		break;
	}
	closedir(dir);
	return ret;
}

/* Bind a PCI device to a driver by driver_override; 0 or -errno. */
static inline int vpt_bind(const char *bdf, const char *driver)
{
	char path[PATH_MAX];
	int ret;

	snprintf(path, sizeof(path),
		 "/sys/bus/pci/devices/%s/driver/unbind", bdf);
	vpt_sysfs_write(path, bdf);	/* fails harmlessly when unbound */
	snprintf(path, sizeof(path),
		 "/sys/bus/pci/devices/%s/driver_override", bdf);
	ret = vpt_sysfs_write(path, driver);
	if (ret)
		return ret;
	return vpt_sysfs_write("/sys/bus/pci/drivers_probe", bdf);
}

/* Unbind a PCI device from whatever driver has it; 0 or -errno. */
static inline int vpt_unbind(const char *bdf)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path),
		 "/sys/bus/pci/devices/%s/driver/unbind", bdf);
	return vpt_sysfs_write(path, bdf);
}

/* The PCI driver of the stack under test: vfio-pci or vpt-pci. */
static inline const char *vpt_pci_driver_name(void)
{
	const char *ident = getenv("VPT_IDENTITY");

	return vpt_stack_is_upstream() || (ident && !strcmp(ident, "1")) ?
	       "vfio-pci" : "vpt-pci";
}

/* The driver a PCI device is bound to, or "none"; 0 or -errno. */
static inline int vpt_driver_of(const char *bdf, char *buf, size_t len)
{
	char path[PATH_MAX];
	int ret;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver", bdf);
	ret = vpt_link_name(path, buf, len);
	if (ret == -ENOENT) {
		snprintf(buf, len, "none");
		return 0;
	}
	return ret;
}

/*
 * The first device of vendor:device that is not @not (the devices
 * behind the VM's bridge have the ids of root-bus ones); 0 or -ENOENT.
 */
static inline int vpt_find_other(unsigned int vendor, unsigned int device,
				 const char *not, char *bdf, size_t len)
{
	int i;

	for (i = 0; !vpt_find_pci(vendor, device, i, bdf, len); i++)
		if (strcmp(bdf, not))
			return 0;
	return -ENOENT;
}

/* Give a device back to @driver ("none": leave it unbound). */
static inline void vpt_put_back(const char *bdf, const char *driver)
{
	char path[PATH_MAX], now[64];

	if (vpt_driver_of(bdf, now, sizeof(now)) || !strcmp(now, driver))
		return;
	vpt_unbind(bdf);
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver_override",
		 bdf);
	vpt_sysfs_write(path, "\n");
	if (strcmp(driver, "none")) {
		snprintf(path, sizeof(path), "/sys/bus/pci/drivers/%s/bind",
			 driver);
		vpt_sysfs_write(path, bdf);
	}
}

/* Open the container node; fd or -errno. */
static inline int vpt_open_container(void)
{
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s/vfio", vpt_node_dir());
	fd = open(path, O_RDWR);
	return fd < 0 ? -errno : fd;
}

/* Open the group node of a group number; fd or -errno. */
static inline int vpt_open_group(int group)
{
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s/%d", vpt_node_dir(), group);
	fd = open(path, O_RDWR);
	return fd < 0 ? -errno : fd;
}

/**
 * struct vpt_dev - a device opened the way a VMM opens it
 * @container: container fd, with the type1v2 IOMMU set.
 * @group: group fd, attached to @container.
 * @device: device fd.
 * @group_id: IOMMU group number.
 * @bdf: the device's PCI address.
 */
struct vpt_dev {
	int container;
	int group;
	int device;
	int group_id;
	char bdf[NAME_MAX + 1];
};

/* Nothing open yet: what vpt_dev_close() may then be called on. */
static inline void vpt_dev_init(struct vpt_dev *d)
{
	d->container = -1;
	d->group = -1;
	d->device = -1;
}

static inline void vpt_dev_close(struct vpt_dev *d)
{
	if (d->device >= 0)
		close(d->device);
	if (d->group >= 0)
		close(d->group);
	if (d->container >= 0)
		close(d->container);
	d->device = -1;
	d->group = -1;
	d->container = -1;
}

/*
 * Open bdf as a VMM does: container, group, SET_CONTAINER, SET_IOMMU
 * (type1v2), GET_DEVICE_FD with @name (the BDF, with options such as a
 * VF token after it).  0 or -errno; on failure nothing stays open.
 */
static inline int vpt_dev_open_named(struct vpt_dev *d, const char *bdf,
				     const char *name)
{
	int ret;

	vpt_dev_init(d);
	snprintf(d->bdf, sizeof(d->bdf), "%s", bdf);
	d->group_id = vpt_iommu_group(bdf);
	if (d->group_id < 0)
		return d->group_id;
	d->container = vpt_open_container();
	if (d->container < 0)
		return d->container;
	d->group = vpt_open_group(d->group_id);
	if (d->group < 0) {
		ret = d->group;
		goto err;
	}
	if (ioctl(d->group, VFIO_GROUP_SET_CONTAINER, &d->container) ||
	    ioctl(d->container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU)) {
		ret = -errno;
		goto err;
	}
	d->device = ioctl(d->group, VFIO_GROUP_GET_DEVICE_FD, name);
	if (d->device < 0) {
		ret = -errno;
		goto err;
	}
	return 0;
err:
	vpt_dev_close(d);
	return ret;
}

/* vpt_dev_open_named() with the plain BDF. */
static inline int vpt_dev_open(struct vpt_dev *d, const char *bdf)
{
	return vpt_dev_open_named(d, bdf, bdf);
}

/*
 * Look for capability @id in the chain of region @index of @device, as a
 * VMM does: ask with a bare struct, then again with the argsz the kernel
 * asked for.  1 if found (its first @len bytes copied to @cap, which may
 * be NULL), 0 if the region has no such capability, or -errno.
 */
static inline int vpt_region_cap(int device, unsigned int index, uint16_t id,
				 void *cap, size_t len)
{
	struct vfio_region_info info = { .argsz = sizeof(info), .index = index };
	struct vfio_info_cap_header *hdr;
	struct vfio_region_info *big;
	uint32_t next;
	int found = 0;

	if (ioctl(device, VFIO_DEVICE_GET_REGION_INFO, &info))
		return -errno;
	if (!(info.flags & VFIO_REGION_INFO_FLAG_CAPS) ||
	    info.argsz <= sizeof(info))
		return 0;
	big = calloc(1, info.argsz);
	if (!big)
		return -ENOMEM;
	big->argsz = info.argsz;
	big->index = index;
	if (ioctl(device, VFIO_DEVICE_GET_REGION_INFO, big)) {
		found = -errno;
		goto out;
	}
	for (next = big->cap_offset; next && !found; next = hdr->next) {
		if (next < sizeof(*big) || next > big->argsz - sizeof(*hdr)) {
			found = -EPROTO;
			break;
		}
		hdr = (void *)((char *)big + next);
		if (hdr->id != id)
			continue;
		found = 1;
		if (cap)
			memcpy(cap, hdr, len < big->argsz - next ?
			       len : big->argsz - next);
	}
out:
	free(big);
	return found;
}

/* Hardware config space, read through sysfs; 0 or -errno. */
static inline int vpt_sysfs_config(const char *bdf, unsigned int off,
				   void *buf, size_t len)
{
	char path[PATH_MAX];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/config", bdf);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -errno;
	n = pread(fd, buf, len, off);
	close(fd);
	return n == (ssize_t)len ? 0 : -EIO;
}

/*
 * The MSI-X table's BAR, offset and size from the hardware, or -1; the
 * PBA's BAR goes to *pba_bir if that is not NULL.
 */
static inline int vpt_msix_info(const char *bdf, uint64_t *off,
				uint64_t *size, int *pba_bir)
{
	uint8_t cfg[256];
	unsigned int pos, loops = 0;

	if (vpt_sysfs_config(bdf, 0, cfg, sizeof(cfg)))
		return -1;
	for (pos = cfg[PCI_CAPABILITY_LIST] & ~3; pos && loops < 48;
	     pos = cfg[pos + 1] & ~3, loops++) {
		uint16_t flags;
		uint32_t table;

		if (pos < 0x40 || pos > 0xf4)
			return -1;
		if (cfg[pos] != PCI_CAP_ID_MSIX)
			continue;
		memcpy(&flags, cfg + pos + PCI_MSIX_FLAGS, 2);
		memcpy(&table, cfg + pos + PCI_MSIX_TABLE, 4);
		if (pba_bir)
			*pba_bir = cfg[pos + PCI_MSIX_PBA] & PCI_MSIX_PBA_BIR;
		*off = table & PCI_MSIX_TABLE_OFFSET;
		*size = ((flags & PCI_MSIX_FLAGS_QSIZE) + 1) * 16;
		return table & PCI_MSIX_TABLE_BIR;
	}
	return -1;
}

/* Access the device's config region; 0 or -errno. */
static inline int vpt_cfg_read(int device, unsigned int off, void *buf,
			       size_t len)
{
	ssize_t n = pread(device, buf, len,
			  VPT_REGION_OFFSET(VFIO_PCI_CONFIG_REGION_INDEX) + off);

	return n == (ssize_t)len ? 0 : n < 0 ? -errno : -EIO;
}

static inline int vpt_cfg_write(int device, unsigned int off,
				const void *buf, size_t len)
{
	ssize_t n = pwrite(device, buf, len,
			   VPT_REGION_OFFSET(VFIO_PCI_CONFIG_REGION_INDEX) + off);

	return n == (ssize_t)len ? 0 : n < 0 ? -errno : -EIO;
}

/*
 * mmap @len bytes of region offset @off of @device, shared and
 * read/write, at an address aligned to @align (a power of two), as a VMM
 * places a BAR it wants mapped with huge entries.  MAP_FAILED on error.
 */
static inline void *vpt_mmap_aligned(int device, uint64_t off, size_t len,
				     size_t align)
{
	size_t span = len + align;
	uint8_t *area, *p;
	uintptr_t at;

	area = mmap(NULL, span, PROT_NONE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (area == MAP_FAILED)
		return MAP_FAILED;
	at = ((uintptr_t)area + align - 1) & ~(uintptr_t)(align - 1);
	p = mmap((void *)at, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
		 device, off);
	if (p == MAP_FAILED) {
		munmap(area, span);
		return MAP_FAILED;
	}
	if (p > area)
		munmap(area, p - area);
	if (p + len < area + span)
		munmap(p + len, area + span - (p + len));
	return p;
}

/* Whether the running kernel is @major.@minor or later. */
static inline bool vpt_kernel_at_least(int major, int minor)
{
	int have_major = 0, have_minor = 0;
	struct utsname u;

	if (uname(&u) ||
	    sscanf(u.release, "%d.%d", &have_major, &have_minor) != 2)
		return false;
	return have_major * 1000 + have_minor >= major * 1000 + minor;
}

/*
 * NULL if this kernel faults a 2 MiB-aligned BAR mmap in by PMD (the
 * PFN-map PMDs of 6.12, with THP not off), else why not.  Under THP
 * "madvise", @map is advised MADV_HUGEPAGE first, as it must be then.
 */
static inline const char *vpt_no_huge_bar_map(void *map, size_t len)
{
	char thp[128] = "";
	FILE *f;

	if (!vpt_kernel_at_least(6, 12))
		return "no PMD PFN maps before 6.12";
	f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");
	if (!f || !fgets(thp, sizeof(thp), f))
		thp[0] = 0;
	if (f)
		fclose(f);
	if (!strstr(thp, "[always]") && !strstr(thp, "[madvise]"))
		return "transparent huge pages off";
	if (strstr(thp, "[madvise]") && madvise(map, len, MADV_HUGEPAGE))
		return "MADV_HUGEPAGE refused on a BAR mapping";
	return NULL;
}

/* Turn memory decode on or off in the user's (virtual) PCI_COMMAND. */
static inline int vpt_set_memory_decode(int device, int on)
{
	uint16_t cmd;

	if (vpt_cfg_read(device, PCI_COMMAND, &cmd, 2))
		return -1;
	if (on)
		cmd |= PCI_COMMAND_MEMORY;
	else
		cmd &= ~PCI_COMMAND_MEMORY;
	return vpt_cfg_write(device, PCI_COMMAND, &cmd, 2);
}

/* Read one counter from /proc/vmstat (e.g. nr_foll_pin_acquired). */
static inline long long vpt_vmstat(const char *key)
{
	char name[128];
	long long val = -1, v;
	FILE *f = fopen("/proc/vmstat", "r");

	if (!f)
		return -1;
	while (fscanf(f, "%127s %lld", name, &v) == 2) {
		if (!strcmp(name, key)) {
			val = v;
			break;
		}
	}
	fclose(f);
	return val;
}

/* Pages pinned and not yet released, system wide. */
static inline long long vpt_pins_outstanding(void)
{
	return vpt_vmstat("nr_foll_pin_acquired") -
	       vpt_vmstat("nr_foll_pin_released");
}

/* The number on a "Key:   N kB" line of a /proc file, or -1. */
static inline long long vpt_proc_kb(const char *file, const char *key)
{
	char line[256];
	size_t klen = strlen(key);
	long long val = -1;
	FILE *f = fopen(file, "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, key, klen) && line[klen] == ':') {
			val = atoll(line + klen + 1);
			break;
		}
	}
	fclose(f);
	return val;
}

/* A field of /proc/self/status in kB (e.g. VmLck), or -1. */
static inline long long vpt_status_kb(const char *key)
{
	return vpt_proc_kb("/proc/self/status", key);
}

/* A field of /proc/meminfo in kB (e.g. SUnreclaim), or -1. */
static inline long long vpt_meminfo_kb(const char *key)
{
	return vpt_proc_kb("/proc/meminfo", key);
}

/*
 * Pages pinned system-wide, exactly: /proc/vmstat alone misses per-CPU
 * deltas not yet folded in, so fold them first (root only).
 */
static inline long long vpt_pins_now(void)
{
	int fd = open("/proc/sys/vm/stat_refresh", O_WRONLY);

	if (fd >= 0) {
		if (write(fd, "1", 1) < 0)
			perror("stat_refresh");
		close(fd);
	}
	return vpt_pins_outstanding();
}

/* Lines of /proc/interrupts naming a vpt or vfio handler. */
static inline int vpt_irq_handlers(void)
{
	FILE *f = fopen("/proc/interrupts", "r");
	char line[512];
	int n = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		n += strstr(line, "vpt") || strstr(line, "vfio");
	fclose(f);
	return n;
}

/* VFIO_IOMMU_MAP_DMA of [iova, iova + size); 0 or -errno. */
static inline int vpt_map(int container, uint64_t iova, const void *vaddr,
			  uint64_t size, uint32_t flags)
{
	struct vfio_iommu_type1_dma_map map = {
		.argsz = sizeof(map),
		.flags = flags,
		.vaddr = (uintptr_t)vaddr,
		.iova = iova,
		.size = size,
	};

	return ioctl(container, VFIO_IOMMU_MAP_DMA, &map) ? -errno : 0;
}

/* VFIO_IOMMU_UNMAP_DMA; 0 or -errno, *unmapped = the size unmapped. */
static inline int vpt_unmap(int container, uint64_t iova, uint64_t size,
			    uint32_t flags, uint64_t *unmapped)
{
	struct vfio_iommu_type1_dma_unmap unmap = {
		.argsz = sizeof(unmap),
		.flags = flags,
		.iova = iova,
		.size = size,
	};

	if (ioctl(container, VFIO_IOMMU_UNMAP_DMA, &unmap))
		return -errno;
	if (unmapped)
		*unmapped = unmap.size;
	return 0;
}

/*
 * VFIO_DEVICE_SET_IRQS with @flags, @start, @count and @len bytes of
 * payload @data.  0 or -errno.
 */
static inline int vpt_set_irqs(int device, uint32_t index, uint32_t flags,
			       uint32_t start, uint32_t count,
			       const void *data, size_t len)
{
	size_t sz = sizeof(struct vfio_irq_set) + len;
	struct vfio_irq_set *s = calloc(1, sz);
	int ret;

	if (!s)
		return -ENOMEM;
	s->argsz = sz;
	s->flags = flags;
	s->index = index;
	s->start = start;
	s->count = count;
	if (len)
		memcpy(s->data, data, len);
	ret = ioctl(device, VFIO_DEVICE_SET_IRQS, s) ? -errno : 0;
	free(s);
	return ret;
}

/*
 * VFIO_DEVICE_SET_IRQS ACTION_TRIGGER of vector 0 of @index with eventfd
 * @efd; with @efd < 0, DATA_NONE and count 0: disable the index.
 * 0 or -errno.
 */
static inline int vpt_set_irq_trigger(int device, unsigned int index,
				      int efd)
{
	struct {
		struct vfio_irq_set s;
		int32_t fd;
	} set = {
		.s = {
			.argsz = sizeof(set),
			.flags = VFIO_IRQ_SET_DATA_EVENTFD |
				 VFIO_IRQ_SET_ACTION_TRIGGER,
			.index = index,
			.count = 1,
		},
		.fd = efd,
	};

	if (efd < 0) {
		set.s.argsz = sizeof(set.s);
		set.s.flags = VFIO_IRQ_SET_DATA_NONE |
			      VFIO_IRQ_SET_ACTION_TRIGGER;
		set.s.count = 0;
	}
	return ioctl(device, VFIO_DEVICE_SET_IRQS, &set) ? -errno : 0;
}

/* 32-bit access to BAR0 through the device fd; 0 or -errno. */
static inline int vpt_bar0_read32(int device, uint32_t off, uint32_t *val)
{
	ssize_t n = pread(device, val, 4,
			  VPT_REGION_OFFSET(VFIO_PCI_BAR0_REGION_INDEX) + off);

	return n == 4 ? 0 : n < 0 ? -errno : -EIO;
}

static inline int vpt_bar0_write32(int device, uint32_t off, uint32_t val)
{
	ssize_t n = pwrite(device, &val, 4,
			   VPT_REGION_OFFSET(VFIO_PCI_BAR0_REGION_INDEX) + off);

	return n == 4 ? 0 : n < 0 ? -errno : -EIO;
}

/* QEMU's edu (hw/misc/edu.c): DMA engine registers and its buffer. */
#define VPT_EDU_DMA_SRC		0x80
#define VPT_EDU_DMA_DST		0x88
#define VPT_EDU_DMA_CNT		0x90
#define VPT_EDU_DMA_CMD		0x98
#define VPT_EDU_CMD_RUN		0x1
#define VPT_EDU_CMD_TO_RAM	0x2
#define VPT_EDU_BUF		0x40000
/* QEMU 7.2's edu refuses a transfer that fills its whole 4 KiB buffer. */
#define VPT_EDU_DMA_LEN		1024

/*
 * One edu DMA of len bytes between an IOVA and edu's buffer, with memory
 * decode and bus mastering switched on first.  edu completes after
 * 100 ms of virtual time; wait up to 10 s.  IOVAs below 4 GiB (edu's
 * address registers are written 32 bits at a time).  0 or -errno.
 */
static inline int vpt_edu_dma(int device, uint32_t src, uint32_t dst,
			      uint32_t len, int to_ram)
{
	uint32_t cmd = VPT_EDU_CMD_RUN | (to_ram ? VPT_EDU_CMD_TO_RAM : 0);
	uint16_t pcicmd;
	int ret, i;

	ret = vpt_cfg_read(device, 0x04, &pcicmd, sizeof(pcicmd));
	if (ret)
		return ret;
	pcicmd |= 0x6;	/* PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER */
	ret = vpt_cfg_write(device, 0x04, &pcicmd, sizeof(pcicmd));
	if (!ret)
		ret = vpt_bar0_write32(device, VPT_EDU_DMA_SRC, src);
	if (!ret)
		ret = vpt_bar0_write32(device, VPT_EDU_DMA_DST, dst);
	if (!ret)
		ret = vpt_bar0_write32(device, VPT_EDU_DMA_CNT, len);
	if (!ret)
		ret = vpt_bar0_write32(device, VPT_EDU_DMA_CMD, cmd);
	for (i = 0; !ret && i < 1000; i++) {
		ret = vpt_bar0_read32(device, VPT_EDU_DMA_CMD, &cmd);
		if (!ret && !(cmd & VPT_EDU_CMD_RUN))
			return 0;
		usleep(10000);
	}
	return ret ? ret : -ETIMEDOUT;
}

/*
 * Prove an edu device fd and its container still work: map two pages of
 * a fresh buffer at iova and iova + 4 KiB, copy a pattern from the first
 * into edu and back out into the second, compare, unmap.  0 or -errno
 * (-EIO when the data did not arrive).
 */
static inline int vpt_edu_round_trip(int container, int device,
				     uint32_t iova)
{
	uint8_t *buf = malloc(2 * 4096 + 4096), *src, *dst;
	int ret, i;

	if (!buf)
		return -ENOMEM;
	src = (uint8_t *)(((uintptr_t)buf + 4095) & ~(uintptr_t)4095);
	dst = src + 4096;
	for (i = 0; i < VPT_EDU_DMA_LEN; i++)
		src[i] = (uint8_t)(i * 13 + 5);
	memset(dst, 0, 4096);
	ret = vpt_map(container, iova, src, 2 * 4096, 0x3);
	if (ret)
		goto out;
	ret = vpt_edu_dma(device, iova, VPT_EDU_BUF, VPT_EDU_DMA_LEN, 0);
	if (!ret)
		ret = vpt_edu_dma(device, VPT_EDU_BUF, iova + 4096,
				  VPT_EDU_DMA_LEN, 1);
	if (!ret && memcmp(src, dst, VPT_EDU_DMA_LEN))
		ret = -EIO;
	if (vpt_unmap(container, iova, 2 * 4096, 0, NULL) && !ret)
		ret = -EIO;
out:
	free(buf);
	return ret;
}

/* The whole VFIO_IOMMU_GET_INFO answer in a calloc()ed buffer, or NULL. */
static inline struct vfio_iommu_type1_info *vpt_iommu_info(int container)
{
	struct vfio_iommu_type1_info probe = { .argsz = sizeof(probe) };
	struct vfio_iommu_type1_info *info;

	if (ioctl(container, VFIO_IOMMU_GET_INFO, &probe))
		return NULL;
	info = calloc(1, probe.argsz);
	if (!info)
		return NULL;
	info->argsz = probe.argsz;
	if (ioctl(container, VFIO_IOMMU_GET_INFO, info)) {
		free(info);
		return NULL;
	}
	return info;
}

/* A capability of a complete GET_INFO answer, or NULL; bounds-checked. */
static inline void *vpt_info_cap(struct vfio_iommu_type1_info *info,
				 uint16_t id)
{
	uint32_t off = info->cap_offset;
	int hops;

	for (hops = 0; off && hops < 16; hops++) {
		struct vfio_info_cap_header *h = (void *)((char *)info + off);

		if (off < sizeof(*info) || off + sizeof(*h) > info->argsz)
			return NULL;
		if (h->id == id)
			return h;
		off = h->next;
	}
	return NULL;
}

#endif /* VPT_UTIL_H */
