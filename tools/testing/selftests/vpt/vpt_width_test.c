// SPDX-License-Identifier: GPL-2.0
/*
 * vpt_width_test - the width and usable IOVA ranges a group node states
 * before it is attached (/sys/class/vpt-group/<group>/iova/{width,
 * max_iova,ranges}) are what VFIO_IOMMU_GET_INFO reports once it is:
 * vpt's width capability and VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE, on
 * whichever IOMMU the VM runner emulates (VPT_IOMMU, VPT_AW_BITS).
 *
 * vpt-only: upstream vfio has no such attributes (skipped on vfio).
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <linux/vfio.h>
#include <linux/vpt.h>

#include "kselftest_harness.h"
#include "vpt_util.h"

#define CLASS_DIR	"/sys/class/vpt-group"
#define MAX_RANGES	64

/**
 * struct preview - a group's iova/ attributes, or its GET_INFO answer
 * @width: bits.
 * @max_iova: the highest translatable IOVA.
 * @nr: ranges in @start and @end.
 * @start: first IOVA of each usable range.
 * @end: last IOVA of each usable range.
 */
struct preview {
	unsigned int width;
	uint64_t max_iova;
	unsigned int nr;
	uint64_t start[MAX_RANGES];
	uint64_t end[MAX_RANGES];
};

static int attr_path(char *path, size_t len, int group, const char *name)
{
	int n = snprintf(path, len, CLASS_DIR "/%d/iova/%s", group, name);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* The three attributes of a group node; 0 or -errno. */
static int preview_read(int group, struct preview *p)
{
	char path[PATH_MAX], buf[4096], *line, *save;
	int ret;

	memset(p, 0, sizeof(*p));
	ret = attr_path(path, sizeof(path), group, "width") ?:
	      vpt_read_file(path, buf, sizeof(buf));
	if (ret)
		return ret;
	p->width = strtoul(buf, NULL, 10);
	ret = attr_path(path, sizeof(path), group, "max_iova") ?:
	      vpt_read_file(path, buf, sizeof(buf));
	if (ret)
		return ret;
	p->max_iova = strtoull(buf, NULL, 16);
	ret = attr_path(path, sizeof(path), group, "ranges") ?:
	      vpt_read_file(path, buf, sizeof(buf));
	if (ret)
		return ret;
	for (line = strtok_r(buf, "\n", &save); line && p->nr < MAX_RANGES;
	     line = strtok_r(NULL, "\n", &save)) {
		unsigned long long s, e;

		if (sscanf(line, "%llx %llx", &s, &e) != 2)
			return -EPROTO;
		p->start[p->nr] = s;
		p->end[p->nr++] = e;
	}
	return 0;
}

/* GET_INFO of a container: the width capability and the ranges. */
static int preview_of_container(int c, struct preview *p)
{
	struct vfio_iommu_type1_info_cap_iova_range *r;
	struct vpt_iommu_type1_info_cap_width *w;
	struct vfio_iommu_type1_info *info = vpt_iommu_info(c);
	uint32_t i;

	memset(p, 0, sizeof(*p));
	if (!info)
		return -errno;
	w = vpt_info_cap(info, VPT_IOMMU_TYPE1_INFO_CAP_WIDTH);
	r = vpt_info_cap(info, VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE);
	if (!w || !r || r->nr_iovas > MAX_RANGES) {
		free(info);
		return -EPROTO;
	}
	p->width = w->width;
	p->max_iova = w->max_iova;
	for (i = 0; i < r->nr_iovas; i++) {
		p->start[i] = r->iova_ranges[i].start;
		p->end[i] = r->iova_ranges[i].end;
	}
	p->nr = r->nr_iovas;
	free(info);
	return 0;
}

/* Attach @group alone to a new container; the container fd or -errno. */
static int attach_alone(int group, int *group_fd)
{
	int c = vpt_open_container(), ret;

	if (c < 0)
		return c;
	*group_fd = vpt_open_group(group);
	if (*group_fd < 0) {
		close(c);
		return *group_fd;
	}
	if (ioctl(*group_fd, VFIO_GROUP_SET_CONTAINER, &c) ||
	    ioctl(c, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU)) {
		ret = -errno;
		close(*group_fd);
		close(c);
		return ret;
	}
	return c;
}

static void expect_same(struct __test_metadata *_metadata,
			const struct preview *before,
			const struct preview *after, int group)
{
	unsigned int i;

	EXPECT_EQ(after->width, before->width) TH_LOG("group %d", group);
	EXPECT_EQ(after->max_iova, before->max_iova) TH_LOG("group %d", group);
	ASSERT_EQ(after->nr, before->nr) TH_LOG("group %d", group);
	for (i = 0; i < after->nr; i++) {
		EXPECT_EQ(after->start[i], before->start[i])
			TH_LOG("group %d range %u", group, i);
		EXPECT_EQ(after->end[i], before->end[i])
			TH_LOG("group %d range %u", group, i);
	}
}

FIXTURE(width) {
	bool skip;		/* setup skipped (6.1's harness runs on) */
	int group;		/* edu's IOMMU group */
	struct preview before;	/* its attributes, nothing attached */
};

FIXTURE_SETUP(width)
{
	self->skip = true;
	if (vpt_stack_is_upstream())
		SKIP(return, VPT_ONLY_REASON);
	self->skip = false;
	self->group = vpt_iommu_group(VPT_EDU_BDF);
	ASSERT_LE(0, self->group);
	ASSERT_EQ(0, preview_read(self->group, &self->before));
}

FIXTURE_TEARDOWN(width)
{
}

/* GET_INFO once @group is attached alone to a new container; 0/-errno. */
static int preview_after_attach(int group, struct preview *after)
{
	int c, g, ret;

	c = attach_alone(group, &g);
	if (c < 0)
		return c;
	ret = preview_of_container(c, after);
	close(g);
	close(c);
	return ret;
}

TEST_F(width, width_attr_equals_width_cap_after_attach)
{
	struct preview after;

	if (self->skip)
		return;
	ASSERT_EQ(0, preview_after_attach(self->group, &after));
	EXPECT_EQ(after.width, self->before.width);
	EXPECT_EQ(after.max_iova, self->before.max_iova);
}

TEST_F(width, ranges_attr_equals_iova_range_cap_after_attach)
{
	struct preview after;

	if (self->skip)
		return;
	ASSERT_EQ(0, preview_after_attach(self->group, &after));
	expect_same(_metadata, &self->before, &after, self->group);
}

TEST_F(width, width_attr_is_the_width_of_the_run)
{
	unsigned int aw = vpt_aw_bits();

	if (self->skip)
		return;
	if (!aw)
		SKIP(return, "VPT_AW_BITS not set");
	EXPECT_EQ(aw, self->before.width) TH_LOG("IOMMU %s", vpt_iommu_kind());
	EXPECT_EQ(vpt_aw_max_iova(aw), self->before.max_iova);
}

TEST_F(width, ranges_attr_excludes_msi_window)
{
	unsigned int i;

	if (self->skip)
		return;
	ASSERT_LT(0U, self->before.nr);
	for (i = 0; i < self->before.nr; i++)
		EXPECT_TRUE(self->before.end[i] < 0xfee00000ULL ||
			    self->before.start[i] > 0xfeefffffULL);
	EXPECT_EQ(self->before.max_iova, self->before.end[self->before.nr - 1]);
}

TEST_F(width, attrs_unchanged_while_attached_and_after)
{
	struct preview during, after;
	int c, g;

	if (self->skip)
		return;
	c = attach_alone(self->group, &g);
	ASSERT_LE(0, c);
	ASSERT_EQ(0, preview_read(self->group, &during));
	close(g);
	close(c);
	ASSERT_EQ(0, preview_read(self->group, &after));
	expect_same(_metadata, &self->before, &during, self->group);
	expect_same(_metadata, &self->before, &after, self->group);
}

TEST_F(width, attrs_read_only)
{
	char path[PATH_MAX];
	static const char * const names[] = { "width", "max_iova", "ranges" };
	struct stat st;
	unsigned int i;

	if (self->skip)
		return;
	for (i = 0; i < ARRAY_SIZE(names); i++) {
		ASSERT_EQ(0, attr_path(path, sizeof(path), self->group,
				       names[i]));
		ASSERT_EQ(0, stat(path, &st)) TH_LOG("%s", path);
		EXPECT_EQ(0444U, st.st_mode & 0777U) TH_LOG("%s", path);
		EXPECT_NE(0, vpt_sysfs_write(path, "0")) TH_LOG("%s", path);
	}
}

/* Every group node the VM has (edu, ivshmem, nvme, virtio-net). */
TEST_F(width, every_group_attrs_equal_get_info_after_attach)
{
	struct preview before, after;
	struct dirent *de;
	int n = 0, group;
	DIR *dir;

	if (self->skip)
		return;
	dir = opendir(CLASS_DIR);
	ASSERT_NE(NULL, dir);
	while ((de = readdir(dir))) {
		if (de->d_name[0] == '.')
			continue;
		group = atoi(de->d_name);
		ASSERT_EQ(0, preview_read(group, &before)) TH_LOG("group %d", group);
		ASSERT_EQ(0, preview_after_attach(group, &after))
			TH_LOG("group %d", group);
		expect_same(_metadata, &before, &after, group);
		n++;
	}
	closedir(dir);
	EXPECT_LE(4, n);
}

TEST_HARNESS_MAIN
