// SPDX-License-Identifier: GPL-2.0
/*
 * vpt_container_test - the container node: modules, node, API version,
 * extensions and the errno of everything a container refuses.
 */
#include <sys/stat.h>

#include "kselftest_harness.h"
#include "vpt_util.h"

static int module_loaded(const char *name)
{
	char line[256];
	FILE *f = fopen("/proc/modules", "r");
	size_t len = strlen(name);
	int found = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, name, len) && line[len] == ' ')
			found = 1;
	fclose(f);
	return found;
}

TEST(core_and_pci_modules_are_loaded)
{
	if (vpt_stack_is_upstream())
		SKIP(return, VPT_ONLY_REASON);
	EXPECT_TRUE(module_loaded("vpt"));
	EXPECT_TRUE(module_loaded("vpt_pci"));
}

TEST(container_node_is_a_char_device)
{
	char path[PATH_MAX];
	struct stat st;

	snprintf(path, sizeof(path), "%s/vfio", vpt_node_dir());
	ASSERT_EQ(0, stat(path, &st));
	EXPECT_TRUE(S_ISCHR(st.st_mode));
	EXPECT_EQ(0666U, st.st_mode & 0777);
}

FIXTURE(container) {
	int fd;
};

FIXTURE_SETUP(container)
{
	self->fd = vpt_open_container();
	ASSERT_LE(0, self->fd);
}

FIXTURE_TEARDOWN(container)
{
	close(self->fd);
}

TEST_F(container, api_version_is_vfio_api_version)
{
	EXPECT_EQ(VFIO_API_VERSION, ioctl(self->fd, VFIO_GET_API_VERSION));
}

TEST_F(container, type1v2_and_type1_extensions_are_supported)
{
	EXPECT_EQ(1, ioctl(self->fd, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU));
	EXPECT_EQ(1, ioctl(self->fd, VFIO_CHECK_EXTENSION, VFIO_TYPE1_IOMMU));
}

TEST_F(container, unsupported_extensions_report_zero)
{
	EXPECT_EQ(0, ioctl(self->fd, VFIO_CHECK_EXTENSION, VFIO_SPAPR_TCE_IOMMU));
	EXPECT_EQ(0, ioctl(self->fd, VFIO_CHECK_EXTENSION, VFIO_NOIOMMU_IOMMU));
	EXPECT_EQ(0, ioctl(self->fd, VFIO_CHECK_EXTENSION, VFIO_UPDATE_VADDR));
	EXPECT_EQ(0, ioctl(self->fd, VFIO_CHECK_EXTENSION, 0x7fffffffUL));
}

TEST_F(container, vpt_extensions_are_supported)
{
	if (vpt_stack_is_upstream())
		SKIP(return, VPT_ONLY_REASON);
	EXPECT_EQ(1, ioctl(self->fd, VFIO_CHECK_EXTENSION, VPT_EXT_IOMMU_WIDTH));
	EXPECT_EQ(1, ioctl(self->fd, VFIO_CHECK_EXTENSION,
			   VPT_EXT_DMA_SKIP_ABOVE_WIDTH));
}

TEST_F(container, foreign_ioctl_is_enotty)
{
	/* Upstream answers -EINVAL to anything before SET_IOMMU. */
	if (vpt_stack_is_upstream())
		SKIP(return, VPT_ONLY_REASON);
	EXPECT_EQ(-1, ioctl(self->fd, _IO('x', 1)));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(-1, ioctl(self->fd, _IOWR('V', 0, int), NULL));
	EXPECT_EQ(ENOTTY, errno);
}

TEST_F(container, unknown_vfio_ioctl_without_iommu_is_einval)
{
	EXPECT_EQ(-1, ioctl(self->fd, _IO(VFIO_TYPE, VFIO_BASE + 99)));
	EXPECT_EQ(EINVAL, errno);
}

TEST_F(container, set_iommu_without_group_is_einval)
{
	EXPECT_EQ(-1, ioctl(self->fd, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU));
	EXPECT_EQ(EINVAL, errno);
}

TEST_F(container, iommu_ioctls_without_iommu_are_einval)
{
	struct vfio_iommu_type1_info info = { .argsz = sizeof(info) };
	struct vfio_iommu_type1_dma_unmap unmap = { .argsz = sizeof(unmap) };

	EXPECT_EQ(-1, ioctl(self->fd, VFIO_IOMMU_GET_INFO, &info));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, ioctl(self->fd, VFIO_IOMMU_UNMAP_DMA, &unmap));
	EXPECT_EQ(EINVAL, errno);
}

TEST_F(container, containers_are_independent_opens)
{
	int second = vpt_open_container();

	ASSERT_LE(0, second);
	EXPECT_NE(self->fd, second);
	EXPECT_EQ(VFIO_API_VERSION, ioctl(second, VFIO_GET_API_VERSION));
	close(second);
}

TEST_HARNESS_MAIN
