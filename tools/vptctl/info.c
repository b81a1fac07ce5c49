// SPDX-License-Identifier: GPL-2.0
/*
 * vptctl info GROUP|BDF: open the group as a VMM does and show the IOMMU
 * (width, IOVA map, page sizes, DMA entries) and every device's regions
 * and interrupts.
 */
#include "vptctl.h"

static const char * const vptctl_region_names[] = {
	"BAR0", "BAR1", "BAR2", "BAR3", "BAR4", "BAR5", "ROM", "config", "VGA",
};

static const char * const vptctl_irq_names[] = {
	"INTx", "MSI", "MSI-X", "ERR", "REQ",
};

/*
 * The mmap-able parts of a region, from the sparse mmap capability;
 * memcpy'd out, as the capability may be only 4-byte aligned.
 */
static void print_sparse(const struct vfio_info_cap_header *hdr,
			 __u32 room)
{
	struct vfio_region_info_cap_sparse_mmap sp;
	struct vfio_region_sparse_mmap_area area;
	char size[96];
	__u32 i;

	if (room >= sizeof(sp))
		memcpy(&sp, hdr, sizeof(sp));
	if (room < sizeof(sp) ||
	    (room - sizeof(sp)) / sizeof(area) < sp.nr_areas) {
		printf("         sparse mmap capability: malformed\n");
		return;
	}
	printf("         mmap-able areas: %u%s\n", sp.nr_areas,
	       sp.nr_areas ? "" : " (no part may be mapped)");
	for (i = 0; i < sp.nr_areas; i++) {
		memcpy(&area, (const char *)hdr + sizeof(sp) + i * sizeof(area),
		       sizeof(area));
		printf("           0x%llx-0x%llx (%s)\n", area.offset,
		       area.offset + area.size - 1,
		       vptctl_size(area.size, size, sizeof(size)));
	}
}

/* The capabilities of one region; whether it had a sparse mmap one. */
static bool print_region_caps(const struct vfio_region_info *r)
{
	struct vfio_region_info_cap_type type;
	const struct vfio_info_cap_header *hdr;
	__u32 off = r->cap_offset, room;
	bool sparse = false;

	if (!(r->flags & VFIO_REGION_INFO_FLAG_CAPS) || off < sizeof(*r))
		return false;
	while ((hdr = vptctl_cap_next(r, r->argsz, &off, &room))) {
		if (hdr->id == VFIO_REGION_INFO_CAP_SPARSE_MMAP) {
			print_sparse(hdr, room);
			sparse = true;
		} else if (hdr->id == VFIO_REGION_INFO_CAP_MSIX_MAPPABLE) {
			printf("         MSI-X table may be mmap'ed too\n");
		} else if (hdr->id == VFIO_REGION_INFO_CAP_TYPE &&
			   room >= sizeof(type)) {
			memcpy(&type, hdr, sizeof(type));
			printf("         type %u subtype %u\n", type.type,
			       type.subtype);
		}
	}
	return sparse;
}

static const char *region_name(__u32 index, char *buf, size_t len)
{
	if (index < ARRAY_SIZE(vptctl_region_names))
		return vptctl_region_names[index];
	snprintf(buf, len, "region%u", index);
	return buf;
}

static void print_region(const struct vfio_region_info *r)
{
	char name[24], size[96];

	printf("    %2u %-7s size 0x%llx (%s), offset 0x%llx, %s%s%s%s\n",
	       r->index, region_name(r->index, name, sizeof(name)),
	       (unsigned long long)r->size,
	       vptctl_size(r->size, size, sizeof(size)),
	       (unsigned long long)r->offset,
	       r->flags & VFIO_REGION_INFO_FLAG_READ ? "r" : "-",
	       r->flags & VFIO_REGION_INFO_FLAG_WRITE ? "w" : "-",
	       r->flags & VFIO_REGION_INFO_FLAG_MMAP ? "m" : "-",
	       r->flags & VFIO_REGION_INFO_FLAG_CAPS ? "c" : "-");
	if (!print_region_caps(r) && (r->flags & VFIO_REGION_INFO_FLAG_MMAP))
		printf("         mmap-able: the whole region\n");
}

/*
 * One region, asked with the argsz two-step; 0, 1 if empty, or -errno.
 * The VGA region of a device that is not a VGA device is EINVAL (as
 * upstream's vfio-pci answers): that is empty too.
 */
static int show_region(int device, __u32 index)
{
	struct vfio_region_info *r = calloc(1, sizeof(*r));
	int ret;

	if (!r)
		return -ENOMEM;
	r->argsz = sizeof(*r);
	r->index = index;
	ret = vptctl_ioctl_grow(device, VFIO_DEVICE_GET_REGION_INFO,
				(void **)&r);
	if (ret == -EINVAL && index == VFIO_PCI_VGA_REGION_INDEX)
		ret = 1;
	else if (!ret && !r->size)
		ret = 1;
	else if (!ret)
		print_region(r);
	free(r);
	return ret;
}

/* The interrupt types with vectors; EINVAL is a type the device lacks. */
static void show_irqs(int device, __u32 num_irqs)
{
	__u32 i;

	printf("    interrupts:");
	for (i = 0; i < num_irqs; i++) {
		struct vfio_irq_info irq = { .argsz = sizeof(irq), .index = i };

		if (ioctl(device, VFIO_DEVICE_GET_IRQ_INFO, &irq)) {
			if (errno != EINVAL)
				printf(" [%u: %s]", i, strerror(errno));
			continue;
		}
		if (!irq.count)
			continue;
		if (i < ARRAY_SIZE(vptctl_irq_names))
			printf(" %s %u", vptctl_irq_names[i], irq.count);
		else
			printf(" irq%u %u", i, irq.count);
	}
	putchar('\n');
}

/* Regions and interrupts of an open device fd; 0 or -errno. */
static int show_device_fd(int device)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };
	char empty[256], name[24];
	size_t used = 0;
	__u32 i;
	int ret;

	if (ioctl(device, VFIO_DEVICE_GET_INFO, &info)) {
		ret = -errno;
		printf("    VFIO_DEVICE_GET_INFO: %s\n", strerror(-ret));
		return ret;
	}
	printf("    %u regions, %u interrupt types%s%s\n", info.num_regions,
	       info.num_irqs,
	       info.flags & VFIO_DEVICE_FLAGS_PCI ? ", PCI" : "",
	       info.flags & VFIO_DEVICE_FLAGS_RESET ? ", resettable" : "");
	printf("    regions (flags: r read, w write, m mmap, c capabilities):\n");
	for (i = 0; i < info.num_regions; i++) {
		ret = show_region(device, i);
		if (ret < 0)
			printf("    %2u VFIO_DEVICE_GET_REGION_INFO: %s\n", i,
			       strerror(-ret));
		else if (ret)
			used += snprintf(empty + used, sizeof(empty) - used,
					 " %s", region_name(i, name,
							    sizeof(name)));
		if (used >= sizeof(empty))
			used = sizeof(empty) - 1;
	}
	if (used)
		printf("    empty regions:%s\n", empty);
	show_irqs(device, info.num_irqs);
	return 0;
}

/* One device of the group: opened with GET_DEVICE_FD unless a bridge. */
static int show_device(int group_fd, const struct vptctl_pcidev *d)
{
	int fd, ret;

	printf("device %s [%04x:%04x] class %06x, driver %s\n", d->bdf,
	       d->vendor, d->device, d->class, *d->driver ? d->driver : "none");
	if (vptctl_dev_is_bridge(d)) {
		printf("    bridge: not opened\n");
		return 0;
	}
	fd = ioctl(group_fd, VFIO_GROUP_GET_DEVICE_FD, d->bdf);
	if (fd < 0) {
		ret = -errno;
		printf("    not opened: %s%s\n", strerror(-ret),
		       ret == -ENODEV ? " (not bound to " VPTCTL_DRIVER ")" :
		       "");
		return ret == -ENODEV ? 0 : ret;
	}
	ret = show_device_fd(fd);
	close(fd);
	return ret;
}

/* GROUP or BDF to a group number; -1 after saying why not. */
static int info_group(const char *arg)
{
	struct vptctl_pcidev dev;
	char bdf[VPTCTL_BDF_LEN];
	int ret;

	if (vptctl_is_number(arg))
		return atoi(arg);
	if (vptctl_parse_bdf(arg, bdf, sizeof(bdf))) {
		vptctl_err("'%s' is neither an IOMMU group number nor a PCI address",
			   arg);
		return -vptctl_usage_hint();
	}
	ret = vptctl_dev_load(bdf, &dev);
	if (ret) {
		vptctl_err("%s: %s", bdf, ret == -ENODEV ? "no such PCI device" :
			   strerror(-ret));
		return -VPTCTL_FAIL;
	}
	if (dev.group < 0) {
		vptctl_err("%s has no IOMMU group (IOMMU off?)", bdf);
		return -VPTCTL_FAIL;
	}
	return dev.group;
}

/*
 * The operator's skip_above_width policy (vpt.ko parameter): whether a
 * client that never asks to skip gets its maps above the width skipped.
 */
static void print_skip_policy(void)
{
	char path[PATH_MAX], val[8] = "";
	bool on;

	if (vptctl_path(path, sizeof(path),
			"module/vpt/parameters/skip_above_width") ||
	    vptctl_read_attr(path, val, sizeof(val))) {
		printf("skip_above_width: unknown (no such vpt parameter)\n");
		return;
	}
	on = val[0] == 'Y' || val[0] == 'y' || val[0] == '1';
	printf("skip_above_width: %s\n", on ?
	       "on (every map wholly above the width is skipped, flag or not)" :
	       "off (only maps with VPT_DMA_MAP_FLAG_SKIP_ABOVE_WIDTH are skipped)");
}

static void print_stack(int container)
{
	bool width = ioctl(container, VFIO_CHECK_EXTENSION,
			   VPT_EXT_IOMMU_WIDTH) > 0;
	bool skip = ioctl(container, VFIO_CHECK_EXTENSION,
			  VPT_EXT_DMA_SKIP_ABOVE_WIDTH) > 0;

	printf("container %s/vfio: %s\n", vpt_node_dir(),
	       width || skip ? "vpt" : "no vpt extensions (upstream vfio?)");
	if (width || skip)
		printf("vpt extensions:%s%s\n", width ? " IOMMU_WIDTH" : "",
		       skip ? " DMA_SKIP_ABOVE_WIDTH" : "");
	if (skip)
		print_skip_policy();
}

/* The devices of the group, each opened through the group fd. */
static int show_devices(int group, int group_fd)
{
	struct vptctl_devlist list = { 0 };
	int ret, err = 0;
	size_t i;

	ret = vptctl_scan_group(group, &list);
	if (ret) {
		vptctl_err("devices of IOMMU group %d: %s", group,
			   strerror(-ret));
		return ret;
	}
	for (i = 0; i < list.nr; i++) {
		ret = show_device(group_fd, &list.devs[i]);
		err = err ?: ret;
	}
	vptctl_devlist_free(&list);
	return err;
}

/* Whether two decoded IOMMUs say the same width and ranges. */
static bool same_iommu(const struct vptctl_iommu *a,
		       const struct vptctl_iommu *b)
{
	__u32 i;

	if (a->width != b->width || a->max_iova != b->max_iova ||
	    a->nr_ranges != b->nr_ranges)
		return false;
	for (i = 0; i < a->nr_ranges; i++)
		if (a->ranges[i].start != b->ranges[i].start ||
		    a->ranges[i].end != b->ranges[i].end)
			return false;
	return true;
}

/* What the group node said before the attach, against GET_INFO. */
static void print_preview(const struct vptctl_iommu *before,
			  const struct vptctl_iommu *after)
{
	if (!before) {
		printf("before attach: not stated (the group node has no iova/)\n");
		return;
	}
	printf("before attach (group node iova/): width %u bits, ", before->width);
	printf("max IOVA 0x%llx, %u usable ranges: %s\n", (unsigned long long)before->max_iova,
	       before->nr_ranges, same_iommu(before, after) ?
	       "as VFIO_IOMMU_GET_INFO reports" :
	       "differs from VFIO_IOMMU_GET_INFO");
}

int vptctl_cmd_info(int argc, char **argv)
{
	struct vptctl_iommu info, before;
	struct vptctl_container c;
	bool have_before;
	int group, ret;

	group = info_group(argv[0]);
	if (group < 0)
		return -group;
	/* Read before the attach: what a VMM could know beforehand. */
	have_before = !vptctl_group_preview(group, &before);
	if (vptctl_container_open(&c)) {
		if (have_before)
			vptctl_iommu_free(&before);
		return VPTCTL_FAIL;
	}
	ret = vptctl_container_attach(&c, group) ?:
	      vptctl_container_set_iommu(&c);
	if (ret)
		goto out;
	ret = vptctl_iommu_query(c.fd, &info);
	if (ret) {
		vptctl_err("VFIO_IOMMU_GET_INFO: %s", strerror(-ret));
		goto out;
	}
	printf("IOMMU group %d, node %s/%d\n", group, vpt_node_dir(), group);
	print_stack(c.fd);
	vptctl_iommu_print(&info, group);
	print_preview(have_before ? &before : NULL, &info);
	vptctl_iommu_free(&info);
	ret = show_devices(group, c.groups[0]);
out:
	if (have_before)
		vptctl_iommu_free(&before);
	vptctl_container_close(&c);
	return ret ? VPTCTL_FAIL : VPTCTL_OK;
}
