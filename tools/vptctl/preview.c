// SPDX-License-Identifier: GPL-2.0
/*
 * vptctl: what a group node says of its IOMMU before it is attached
 * (/sys/class/vpt-group/<group>/iova/), read into the same struct
 * vptctl_iommu that VFIO_IOMMU_GET_INFO fills, and intersected over
 * several groups as a container holding them all would see it.
 */
#include "vptctl.h"

/* One attribute of a group node's iova/ directory; 0 or -errno. */
static int preview_attr(int group, const char *name, char *buf, size_t len)
{
	char path[PATH_MAX];
	int ret;

	ret = vptctl_path(path, sizeof(path), "class/vpt-group/%d/iova/%s",
			  group, name);
	return ret ?: vptctl_read_attr(path, buf, len);
}

/* "first last" lines into info->ranges; 0 or -errno. */
static int preview_ranges(struct vptctl_iommu *info, char *text)
{
	char *line, *save;

	for (line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		unsigned long long s, e;
		struct vfio_iova_range *r;

		if (sscanf(line, "%llx %llx", &s, &e) != 2 || e < s)
			return -EPROTO;
		r = reallocarray(info->ranges, info->nr_ranges + 1,
				 sizeof(*r));
		if (!r)
			return -ENOMEM;
		info->ranges = r;
		r[info->nr_ranges].start = s;
		r[info->nr_ranges++].end = e;
	}
	return 0;
}

/**
 * vptctl_group_preview() - a group's IOMMU as its node states it
 * @group: the IOMMU group number.
 * @info: filled in (width, max IOVA, ranges); free with vptctl_iommu_free().
 *
 * Return: 0, or -errno (-ENOENT when the node has no iova/: upstream vfio,
 * an older vpt, or no vpt device in the group).
 */
int vptctl_group_preview(int group, struct vptctl_iommu *info)
{
	char buf[8192];
	int ret;

	memset(info, 0, sizeof(*info));
	ret = preview_attr(group, "width", buf, sizeof(buf));
	if (ret)
		return ret;
	info->width = strtoul(buf, NULL, 10);
	ret = preview_attr(group, "max_iova", buf, sizeof(buf));
	if (ret)
		return ret;
	info->max_iova = strtoull(buf, NULL, 16);
	ret = preview_attr(group, "ranges", buf, sizeof(buf)) ?:
	      preview_ranges(info, buf);
	if (!ret && (!info->width || info->width > 64))
		ret = -EPROTO;
	if (ret)
		vptctl_iommu_free(info);
	return ret;
}

/**
 * vptctl_iommu_intersect() - narrow @acc to what @more also allows
 * @acc: the accumulated IOMMU; its ranges are replaced.
 * @more: another group's.
 *
 * Return: 0 or -ENOMEM.
 */
int vptctl_iommu_intersect(struct vptctl_iommu *acc,
			   const struct vptctl_iommu *more)
{
	struct vfio_iova_range *out;
	__u32 i = 0, j = 0, n = 0;

	out = calloc(acc->nr_ranges + more->nr_ranges + 1, sizeof(*out));
	if (!out)
		return -ENOMEM;
	while (i < acc->nr_ranges && j < more->nr_ranges) {
		const struct vfio_iova_range *a = &acc->ranges[i];
		const struct vfio_iova_range *b = &more->ranges[j];
		__u64 s = a->start > b->start ? a->start : b->start;
		__u64 e = a->end < b->end ? a->end : b->end;

		if (s <= e) {
			out[n].start = s;
			out[n++].end = e;
		}
		if (a->end < b->end)
			i++;
		else
			j++;
	}
	free(acc->ranges);
	acc->ranges = out;
	acc->nr_ranges = n;
	if (more->max_iova < acc->max_iova) {
		acc->max_iova = more->max_iova;
		acc->width = more->width;
	}
	return 0;
}
