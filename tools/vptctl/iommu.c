// SPDX-License-Identifier: GPL-2.0
/*
 * vptctl: a container set up as a VMM sets it up (groups attached,
 * type1v2), VFIO_IOMMU_GET_INFO decoded, and the IOVA space drawn as a
 * map of usable ranges and holes.
 */
#include "vptctl.h"

int vptctl_container_open(struct vptctl_container *c)
{
	memset(c, 0, sizeof(*c));
	c->fd = vpt_open_container();
	if (c->fd >= 0)
		return 0;
	if (c->fd == -ENOENT)
		vptctl_err("no container node %s/vfio: is vpt loaded? (another node directory: --node-dir)",
			   vpt_node_dir());
	else
		vptctl_err("cannot open %s/vfio: %s", vpt_node_dir(),
			   strerror(-c->fd));
	return c->fd;
}

/* Explain why a group node does not open; returns err. */
static int group_open_error(int group, int err)
{
	const char *dir = vpt_node_dir();

	if (err == -ENOENT)
		vptctl_err("no node %s/%d: no device of IOMMU group %d is bound to %s (vptctl bind)",
			   dir, group, group, VPTCTL_DRIVER);
	else if (err == -EBUSY)
		vptctl_err("%s/%d is busy: the group is open in another process (a VMM?)",
			   dir, group);
	else if (err == -EACCES || err == -EPERM)
		vptctl_err("%s/%d: permission denied (see the udev rule in Documentation/admin-guide.rst)",
			   dir, group);
	else
		vptctl_err("cannot open %s/%d: %s", dir, group, strerror(-err));
	return err;
}

/* Say which devices keep a group from being viable; returns -EBUSY. */
static int group_not_viable(int group)
{
	struct vptctl_devlist list = { 0 };

	fprintf(stderr, "vptctl: IOMMU group %d is not viable: blocked by",
		group);
	if (vptctl_scan_group(group, &list) || !vptctl_print_blockers(&list,
								      stderr))
		fprintf(stderr, " a device with a kernel driver");
	fputc('\n', stderr);
	vptctl_devlist_free(&list);
	return -EBUSY;
}

/**
 * vptctl_container_attach() - open a group and put it in the container
 * @c: the open container.
 * @group: the IOMMU group number.
 *
 * Return: 0, or -errno after saying what went wrong.
 */
int vptctl_container_attach(struct vptctl_container *c, int group)
{
	struct vfio_group_status status = { .argsz = sizeof(status) };
	int fd, ret;

	if (c->nr == VPTCTL_MAX_GROUPS) {
		vptctl_err("more than %d IOMMU groups", VPTCTL_MAX_GROUPS);
		return -E2BIG;
	}
	fd = vpt_open_group(group);
	if (fd < 0)
		return group_open_error(group, fd);
	if (ioctl(fd, VFIO_GROUP_GET_STATUS, &status)) {
		ret = -errno;
		vptctl_err("VFIO_GROUP_GET_STATUS on group %d: %s", group,
			   strerror(-ret));
		goto err;
	}
	if (!(status.flags & VFIO_GROUP_FLAGS_VIABLE)) {
		ret = group_not_viable(group);
		goto err;
	}
	if (ioctl(fd, VFIO_GROUP_SET_CONTAINER, &c->fd)) {
		ret = -errno;
		vptctl_err("VFIO_GROUP_SET_CONTAINER on group %d: %s", group,
			   strerror(-ret));
		goto err;
	}
	c->groups[c->nr] = fd;
	c->group_ids[c->nr++] = group;
	return 0;
err:
	close(fd);
	return ret;
}

int vptctl_container_set_iommu(struct vptctl_container *c)
{
	int ret;

	if (!ioctl(c->fd, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU))
		return 0;
	ret = -errno;
	if (ret == -EPERM)
		vptctl_err("VFIO_SET_IOMMU: the IOMMU cannot isolate MSIs (no interrupt remapping); see allow_unsafe_interrupts");
	else
		vptctl_err("VFIO_SET_IOMMU(TYPE1v2): %s", strerror(-ret));
	return ret;
}

/* Groups first (they hold the container), then the container. */
void vptctl_container_close(struct vptctl_container *c)
{
	while (c->nr)
		close(c->groups[--c->nr]);
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

static int range_cmp(const void *a, const void *b)
{
	const struct vfio_iova_range *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

/* Every capability is memcpy'd out: it may be only 4-byte aligned. */
static int take_ranges(struct vptctl_iommu *info,
		       const struct vfio_info_cap_header *hdr, __u32 room)
{
	struct vfio_iommu_type1_info_cap_iova_range cap;
	size_t bytes;

	if (room < sizeof(cap) || info->ranges)
		return -EPROTO;
	memcpy(&cap, hdr, sizeof(cap));
	bytes = (size_t)cap.nr_iovas * sizeof(cap.iova_ranges[0]);
	if (room - sizeof(cap) < bytes)
		return -EPROTO;
	info->ranges = malloc(bytes ?: 1);
	if (!info->ranges)
		return -ENOMEM;
	memcpy(info->ranges, (const char *)hdr + sizeof(cap), bytes);
	info->nr_ranges = cap.nr_iovas;
	qsort(info->ranges, info->nr_ranges, sizeof(*info->ranges), range_cmp);
	return 0;
}

static int take_width(struct vptctl_iommu *info,
		      const struct vfio_info_cap_header *hdr, __u32 room)
{
	struct vpt_iommu_type1_info_cap_width w;

	if (room < sizeof(w))
		return -EPROTO;
	memcpy(&w, hdr, sizeof(w));
	if (!w.width || w.width > 64)
		return -EPROTO;
	info->width = w.width;
	info->max_iova = w.max_iova;
	info->skipped_maps = w.skipped_maps;
	info->skipped_bytes = w.skipped_bytes;
	return 0;
}

/* One capability of VFIO_IOMMU_GET_INFO into info; 0 or -EPROTO. */
static int take_cap(struct vptctl_iommu *info,
		    const struct vfio_info_cap_header *hdr, __u32 room)
{
	struct vfio_iommu_type1_info_dma_avail avail;

	switch (hdr->id) {
	case VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE:
		return take_ranges(info, hdr, room);
	case VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL:
		if (room < sizeof(avail))
			return -EPROTO;
		memcpy(&avail, hdr, sizeof(avail));
		info->dma_avail = avail.avail;
		info->have_dma_avail = true;
		return 0;
	case VPT_IOMMU_TYPE1_INFO_CAP_WIDTH:
		return take_width(info, hdr, room);
	default:	/* a capability this vptctl does not know */
		return 0;
	}
}

/**
 * vptctl_iommu_query() - VFIO_IOMMU_GET_INFO with its capability chain
 * @container: a container with the IOMMU set.
 * @info: filled in; free with vptctl_iommu_free().
 *
 * Return: 0, or -errno (-EPROTO for a malformed chain).
 */
int vptctl_iommu_query(int container, struct vptctl_iommu *info)
{
	struct vfio_iommu_type1_info *buf;
	const struct vfio_info_cap_header *hdr;
	__u32 off, room;
	int ret;

	memset(info, 0, sizeof(*info));
	buf = calloc(1, sizeof(*buf));
	if (!buf)
		return -ENOMEM;
	buf->argsz = sizeof(*buf);
	ret = vptctl_ioctl_grow(container, VFIO_IOMMU_GET_INFO, (void **)&buf);
	if (ret)
		goto out;
	if (buf->flags & VFIO_IOMMU_INFO_PGSIZES)
		info->pgsizes = buf->iova_pgsizes;
	off = buf->flags & VFIO_IOMMU_INFO_CAPS ? buf->cap_offset : 0;
	if (off && off < sizeof(*buf))
		off = 0;
	while (!ret && (hdr = vptctl_cap_next(buf, buf->argsz, &off, &room)))
		ret = take_cap(info, hdr, room);
out:
	free(buf);
	if (ret)
		vptctl_iommu_free(info);
	return ret;
}

void vptctl_iommu_free(struct vptctl_iommu *info)
{
	free(info->ranges);
	info->ranges = NULL;
	info->nr_ranges = 0;
}

/* The highest usable IOVA: the width's, else the ranges'; 0 if unknown. */
__u64 vptctl_iommu_top(const struct vptctl_iommu *info)
{
	__u64 top = info->nr_ranges ?
		       info->ranges[info->nr_ranges - 1].end : UINT64_MAX;

	if (info->width && info->max_iova < top)
		top = info->max_iova;
	return info->width || info->nr_ranges ? top : 0;
}

/* Whether [start, end] lies in one usable IOVA range below the width. */
bool vptctl_iommu_fits(const struct vptctl_iommu *info, __u64 start,
		       __u64 end)
{
	__u32 i;

	if (info->width && end > info->max_iova)
		return false;
	if (!info->nr_ranges)
		return info->width;
	for (i = 0; i < info->nr_ranges; i++)
		if (info->ranges[i].start <= start && end <= info->ranges[i].end)
			return true;
	return false;
}

/* "4 KiB to 8 EiB", "4 KiB, 2 MiB, 1 GiB": runs of set bits. */
static void print_pgsizes(__u64 bitmap)
{
	char a[32], b[32];
	int bit, first = 1;

	printf("page sizes: 0x%llx:", (unsigned long long)bitmap);
	for (bit = 0; bit < 64; bit++) {
		int end = bit;

		if (!(bitmap >> bit & 1))
			continue;
		while (end < 63 && (bitmap >> (end + 1) & 1))
			end++;
		printf("%s %s", first ? "" : ",",
		       vptctl_size(1ULL << bit, a, sizeof(a)));
		if (end > bit)
			printf(" to %s", vptctl_size(1ULL << end, b, sizeof(b)));
		first = 0;
		bit = end;
	}
	printf("%s\n", first ? " none" : "");
}

/* What sysfs says is reserved inside [start, end] (msi, direct, ...). */
static void print_reserved(int group, __u64 start, __u64 end)
{
	unsigned long long rs, re;
	char path[PATH_MAX], type[32];
	const char *sep = "  reserved:";
	FILE *f;

	if (group < 0 ||
	    vptctl_path(path, sizeof(path),
			"kernel/iommu_groups/%d/reserved_regions", group))
		return;
	f = fopen(path, "r");
	if (!f)
		return;
	while (fscanf(f, "%llx %llx %31s", &rs, &re, type) == 3) {
		if (re < start || rs > end)
			continue;
		printf("%s %s 0x%llx-0x%llx", sep, type, rs, re);
		sep = ",";
	}
	fclose(f);
}

static void print_area(const char *what, __u64 start, __u64 end)
{
	char size[96];

	printf("  0x%016llx-0x%016llx  %-6s  %s",
	       (unsigned long long)start, (unsigned long long)end, what,
	       vptctl_span(start, end, size, sizeof(size)));
}

static void print_hole(int group, __u64 start, __u64 end)
{
	print_area("hole", start, end);
	print_reserved(group, start, end);
	putchar('\n');
}

/* The usable ranges in address order, and every hole between them. */
static void print_map(const struct vptctl_iommu *info, int group)
{
	__u64 next = 0;
	bool done = false;
	__u32 i;

	printf("IOVA space (usable ranges and the holes between them):\n");
	for (i = 0; i < info->nr_ranges && !done; i++) {
		const struct vfio_iova_range *r = &info->ranges[i];

		if (r->start > next)
			print_hole(group, next, r->start - 1);
		if (r->start < next || r->end < r->start)
			continue;	/* overlapping: shown as reported */
		print_area("usable", r->start, r->end);
		putchar('\n');
		done = r->end == UINT64_MAX;
		next = r->end + 1;
	}
	if (done)
		return;
	printf("  0x%016llx-0x%016llx  %-6s  ", (unsigned long long)next,
	       (unsigned long long)UINT64_MAX, "hole");
	if (info->width)
		printf("above the IOMMU width (%u bits)\n", info->width);
	else
		printf("above the IOMMU aperture\n");
}

/**
 * vptctl_iommu_print() - the IOMMU as a VMM sees it
 * @info: from vptctl_iommu_query().
 * @group: a group whose sysfs reserved regions name the holes, or -1.
 */
void vptctl_iommu_print(const struct vptctl_iommu *info, int group)
{
	char size[96];

	if (info->width) {
		printf("IOMMU width: %u bits, max IOVA 0x%llx (%s)\n",
		       info->width, (unsigned long long)info->max_iova,
		       vptctl_span(0, info->max_iova, size, sizeof(size)));
		printf("maps skipped above the width: %llu (%llu bytes)\n",
		       (unsigned long long)info->skipped_maps,
		       (unsigned long long)info->skipped_bytes);
	} else {
		printf("IOMMU width: not reported (no vpt width capability: upstream vfio?)");
		if (info->nr_ranges)
			printf("; the usable ranges end at 0x%llx",
			       (unsigned long long)vptctl_iommu_top(info));
		putchar('\n');
	}
	if (info->pgsizes)
		print_pgsizes(info->pgsizes);
	if (info->have_dma_avail)
		printf("DMA mappings available: %u\n", info->dma_avail);
	if (info->ranges)
		print_map(info, group);
	else
		printf("IOVA ranges: not reported\n");
}
