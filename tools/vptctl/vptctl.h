/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vptctl - operator tool for vpt: list IOMMU groups, bind devices to
 * vpt-pci and back, show what a VMM will see through VFIO, and plan the
 * guest MMIO windows of the devices to pass through.
 *
 * Everything goes through sysfs and the VFIO ioctls of <linux/vfio.h>
 * (plus <linux/vpt.h>), so `info` and `plan` work against upstream vfio
 * too; only the IOMMU width capability is vpt's.
 */
#ifndef VPTCTL_H
#define VPTCTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "vpt_util.h"

/* Exit codes: what a script may rely on. */
#define VPTCTL_OK	0	/* done, or the plan fits */
#define VPTCTL_FAIL	1	/* refused, failed, or the plan does not fit */
#define VPTCTL_USAGE	2	/* bad command line */

#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))

#define VPTCTL_DRIVER		"vpt-pci"
#define VPTCTL_BDF_LEN		32
#define VPTCTL_NAME_LEN		64

/* x86: the platform's fixed range (IOAPIC, LAPIC, MSI) starts here. */
#define VPTCTL_MMIO32_LIMIT	0xfec00000ULL
#define VPTCTL_4G		0x100000000ULL
/* Default guest addresses of the two MMIO windows (see Documentation/admin-guide.rst). */
#define VPTCTL_DEFAULT_BELOW	0xc0000000ULL
#define VPTCTL_DEFAULT_ABOVE	0x1000000000ULL

/**
 * struct vptctl_opts - the command line, once parsed
 * @sysfs: sysfs mount point ("/sys"); another tree for tests.
 * @state_dir: where bind remembers the previous driver ("/run/vpt").
 * @group: bind/unbind act on every device of the IOMMU group.
 * @no_rom: plan leaves expansion ROMs out (a VMM with rombar=0).
 * @above: plan: guest base of the 64-bit window.
 * @below: plan: guest base of the 32-bit window.
 * @width: plan: IOMMU width in bits given by the user, 0 if not.
 */
struct vptctl_opts {
	const char *sysfs;
	const char *state_dir;
	bool group;
	bool no_rom;
	__u64 above;
	__u64 below;
	unsigned int width;
};

/**
 * struct vptctl_pcidev - what sysfs says about one PCI device
 * @bdf: the device's address, e.g. "0000:00:04.0".
 * @driver: the bound driver's name, "" if none.
 * @override: driver_override, "" if unset.
 * @group: IOMMU group number, -1 when the device has none.
 * @vendor: PCI vendor id.
 * @device: PCI device id.
 * @class: PCI class code (base, sub, prog-if).
 */
struct vptctl_pcidev {
	char bdf[VPTCTL_BDF_LEN];
	char driver[VPTCTL_NAME_LEN];
	char override[VPTCTL_NAME_LEN];
	int group;
	unsigned int vendor;
	unsigned int device;
	unsigned int class;
};

/**
 * struct vptctl_devlist - a growable array of devices
 * @devs: the devices.
 * @nr: how many are valid.
 * @cap: how many @devs has room for.
 */
struct vptctl_devlist {
	struct vptctl_pcidev *devs;
	size_t nr;
	size_t cap;
};

/* An error message on stderr; fmt must be a literal (checked by printf). */
#define vptctl_err(fmt, ...) \
	fprintf(stderr, "vptctl: " fmt "\n", ##__VA_ARGS__)

/* util.c: numbers and sizes. */
int vptctl_parse_u64(const char *s, __u64 *val);
int vptctl_parse_bdf(const char *s, char *bdf, size_t len);
bool vptctl_is_number(const char *s);
const char *vptctl_size(__u64 size, char *buf, size_t len);
const char *vptctl_span(__u64 start, __u64 end, char *buf, size_t len);
int vptctl_align_up(__u64 addr, __u64 align, __u64 *out);
int vptctl_ioctl_grow(int fd, unsigned long req, void **buf);
const struct vfio_info_cap_header *vptctl_cap_next(const void *buf,
						   __u32 argsz,
						   __u32 *off,
						   __u32 *room);

/* sysfs.c: reading and writing the PCI and IOMMU sysfs trees. */
extern struct vptctl_opts vptctl_opts;
int vptctl_path_check(int n, size_t len);
/* A path below the sysfs root; 0 or -ENAMETOOLONG. */
#define vptctl_path(path, len, fmt, ...) ({				\
	size_t __len = (len);						\
									\
	vptctl_path_check(snprintf(path, __len, "%s/" fmt,		\
				   vptctl_opts.sysfs, ##__VA_ARGS__),	\
			  __len);					\
})
int vptctl_read_attr(const char *path, char *buf, size_t len);
int vptctl_dev_attr(const char *bdf, const char *attr, char *buf, size_t len);
bool vptctl_dev_exists(const char *bdf);
int vptctl_dev_load(const char *bdf, struct vptctl_pcidev *dev);
bool vptctl_dev_is_bridge(const struct vptctl_pcidev *dev);
bool vptctl_driver_keeps_group_viable(const char *driver);
int vptctl_have_iommu(void);
bool vptctl_driver_loaded(const char *driver);
int vptctl_devlist_add(struct vptctl_devlist *list, const char *bdf);
void vptctl_devlist_free(struct vptctl_devlist *list);
int vptctl_scan_all(struct vptctl_devlist *list);
int vptctl_scan_group(int group, struct vptctl_devlist *list);
size_t vptctl_print_blockers(const struct vptctl_devlist *list, FILE *f);

/* iommu.c: a container set up the way a VMM sets it up, and its info. */

/**
 * struct vptctl_iommu - VFIO_IOMMU_GET_INFO, decoded
 * @pgsizes: supported IOMMU page sizes (bitmap), 0 if not reported.
 * @ranges: usable IOVA ranges, ascending; NULL if not reported.
 * @nr_ranges: entries in @ranges.
 * @dma_avail: mappings the container may still create.
 * @have_dma_avail: @dma_avail was reported.
 * @width: IOMMU width in bits (vpt's capability), 0 if not reported.
 * @max_iova: highest translatable IOVA (vpt's capability).
 * @skipped_maps: maps skipped above the width.
 * @skipped_bytes: bytes skipped above the width.
 */
struct vptctl_iommu {
	__u64 pgsizes;
	struct vfio_iova_range *ranges;
	__u32 nr_ranges;
	__u32 dma_avail;
	bool have_dma_avail;
	unsigned int width;
	__u64 max_iova;
	__u64 skipped_maps;
	__u64 skipped_bytes;
};

/**
 * struct vptctl_container - a container with groups attached
 * @fd: the container fd, -1 when closed.
 * @groups: group fds, in the order attached.
 * @group_ids: their IOMMU group numbers.
 * @nr: how many groups are attached.
 */
#define VPTCTL_MAX_GROUPS	32
struct vptctl_container {
	int fd;
	int groups[VPTCTL_MAX_GROUPS];
	int group_ids[VPTCTL_MAX_GROUPS];
	unsigned int nr;
};

int vptctl_container_open(struct vptctl_container *c);
int vptctl_container_attach(struct vptctl_container *c, int group);
int vptctl_container_set_iommu(struct vptctl_container *c);
void vptctl_container_close(struct vptctl_container *c);
int vptctl_iommu_query(int container, struct vptctl_iommu *info);
void vptctl_iommu_free(struct vptctl_iommu *info);
void vptctl_iommu_print(const struct vptctl_iommu *info, int group);
bool vptctl_iommu_fits(const struct vptctl_iommu *info, __u64 start,
		       __u64 end);
__u64 vptctl_iommu_top(const struct vptctl_iommu *info);

/* preview.c: the group node's iova/ attributes (before attach). */
int vptctl_group_preview(int group, struct vptctl_iommu *info);
int vptctl_iommu_intersect(struct vptctl_iommu *acc,
			   const struct vptctl_iommu *more);

/* vptctl.c: the synopsis after a usage error; returns VPTCTL_USAGE. */
int vptctl_usage_hint(void);

/* The commands. */
int vptctl_cmd_list(int argc, char **argv);
int vptctl_cmd_bind(int argc, char **argv);
int vptctl_cmd_unbind(int argc, char **argv);
int vptctl_cmd_info(int argc, char **argv);
int vptctl_cmd_plan(int argc, char **argv);

#endif /* VPTCTL_H */
