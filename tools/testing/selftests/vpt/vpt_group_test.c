// SPDX-License-Identifier: GPL-2.0
/*
 * vpt_group_test - group nodes: exclusivity, viability, attaching to a
 * container and handing out device fds, and the errno of each refusal.
 * Uses edu (VPT_EDU_BDF), bound to vpt-pci by the runner.
 */
#include <sys/stat.h>

#include "kselftest_harness.h"
#include "vpt_util.h"

FIXTURE(group) {
	int container;
	int group;
	int group_id;
};

FIXTURE_SETUP(group)
{
	self->group_id = vpt_iommu_group(VPT_EDU_BDF);
	ASSERT_LE(0, self->group_id);
	self->container = vpt_open_container();
	ASSERT_LE(0, self->container);
	self->group = vpt_open_group(self->group_id);
	ASSERT_LE(0, self->group);
}

FIXTURE_TEARDOWN(group)
{
	close(self->group);
	close(self->container);
}

static int group_flags(int group)
{
	struct vfio_group_status status = { .argsz = sizeof(status) };

	if (ioctl(group, VFIO_GROUP_GET_STATUS, &status))
		return -errno;
	return status.flags;
}

static int attach(struct _test_data_group *self)
{
	if (ioctl(self->group, VFIO_GROUP_SET_CONTAINER, &self->container))
		return -errno;
	if (ioctl(self->container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU))
		return -errno;
	return 0;
}

TEST_F(group, second_open_is_ebusy)
{
	EXPECT_EQ(-EBUSY, vpt_open_group(self->group_id));
}

TEST_F(group, unattached_group_is_viable_without_container)
{
	EXPECT_EQ(VFIO_GROUP_FLAGS_VIABLE, group_flags(self->group));
}

TEST_F(group, status_with_short_argsz_is_einval)
{
	struct vfio_group_status status = { .argsz = 4 };

	EXPECT_EQ(-1, ioctl(self->group, VFIO_GROUP_GET_STATUS, &status));
	EXPECT_EQ(EINVAL, errno);
}

TEST_F(group, status_with_bad_pointer_is_efault)
{
	EXPECT_EQ(-1, ioctl(self->group, VFIO_GROUP_GET_STATUS, (void *)8));
	EXPECT_EQ(EFAULT, errno);
}

TEST_F(group, set_container_with_closed_fd_is_ebadf)
{
	int bad = 1000;

	EXPECT_EQ(-1, ioctl(self->group, VFIO_GROUP_SET_CONTAINER, &bad));
	EXPECT_EQ(EBADF, errno);
	EXPECT_EQ(VFIO_GROUP_FLAGS_VIABLE, group_flags(self->group));
}

TEST_F(group, set_container_with_other_fd_is_ebadfd)
{
	int null = open("/dev/null", O_RDWR);

	ASSERT_LE(0, null);
	EXPECT_EQ(-1, ioctl(self->group, VFIO_GROUP_SET_CONTAINER, &null));
	/* Upstream 6.1 still said -EINVAL; 6.2 and later, and vpt, -EBADFD. */
	if (vpt_stack_is_upstream() && errno == EINVAL)
		errno = EBADFD;
	EXPECT_EQ(EBADFD, errno);
	EXPECT_EQ(VFIO_GROUP_FLAGS_VIABLE, group_flags(self->group));
	close(null);
}

TEST_F(group, set_container_sets_container_flag)
{
	ASSERT_EQ(0, ioctl(self->group, VFIO_GROUP_SET_CONTAINER,
			   &self->container));
	EXPECT_EQ(VFIO_GROUP_FLAGS_VIABLE | VFIO_GROUP_FLAGS_CONTAINER_SET,
		  group_flags(self->group));
}

TEST_F(group, set_container_twice_is_einval)
{
	int other = vpt_open_container();

	ASSERT_EQ(0, ioctl(self->group, VFIO_GROUP_SET_CONTAINER,
			   &self->container));
	EXPECT_EQ(-1, ioctl(self->group, VFIO_GROUP_SET_CONTAINER,
			    &self->container));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, ioctl(self->group, VFIO_GROUP_SET_CONTAINER, &other));
	EXPECT_EQ(EINVAL, errno);
	close(other);
}

TEST_F(group, set_iommu_twice_is_einval)
{
	ASSERT_EQ(0, attach(self));
	EXPECT_EQ(-1, ioctl(self->container, VFIO_SET_IOMMU,
			    VFIO_TYPE1v2_IOMMU));
	EXPECT_EQ(EINVAL, errno);
}

TEST_F(group, set_iommu_of_unknown_type_is_enodev)
{
	ASSERT_EQ(0, ioctl(self->group, VFIO_GROUP_SET_CONTAINER,
			   &self->container));
	EXPECT_EQ(-1, ioctl(self->container, VFIO_SET_IOMMU,
			    VFIO_SPAPR_TCE_IOMMU));
	EXPECT_EQ(ENODEV, errno);
	EXPECT_EQ(0, ioctl(self->container, VFIO_SET_IOMMU,
			   VFIO_TYPE1v2_IOMMU));
}

TEST_F(group, get_device_fd_without_container_is_einval)
{
	EXPECT_EQ(-1, ioctl(self->group, VFIO_GROUP_GET_DEVICE_FD,
			    VPT_EDU_BDF));
	EXPECT_EQ(EINVAL, errno);
}

TEST_F(group, get_device_fd_without_iommu_is_einval)
{
	ASSERT_EQ(0, ioctl(self->group, VFIO_GROUP_SET_CONTAINER,
			   &self->container));
	EXPECT_EQ(-1, ioctl(self->group, VFIO_GROUP_GET_DEVICE_FD,
			    VPT_EDU_BDF));
	EXPECT_EQ(EINVAL, errno);
}

TEST_F(group, get_device_fd_of_unknown_name_is_enodev)
{
	ASSERT_EQ(0, attach(self));
	EXPECT_EQ(-1, ioctl(self->group, VFIO_GROUP_GET_DEVICE_FD,
			    "0000:00:1f.7"));
	EXPECT_EQ(ENODEV, errno);
	EXPECT_EQ(-1, ioctl(self->group, VFIO_GROUP_GET_DEVICE_FD, ""));
	EXPECT_EQ(ENODEV, errno);
}

TEST_F(group, get_device_fd_with_bad_pointer_is_efault)
{
	ASSERT_EQ(0, attach(self));
	EXPECT_EQ(-1, ioctl(self->group, VFIO_GROUP_GET_DEVICE_FD, (void *)8));
	EXPECT_EQ(EFAULT, errno);
}

TEST_F(group, get_device_fd_returns_cloexec_fd)
{
	int dev;

	ASSERT_EQ(0, attach(self));
	dev = ioctl(self->group, VFIO_GROUP_GET_DEVICE_FD, VPT_EDU_BDF);
	ASSERT_LE(0, dev);
	EXPECT_EQ(FD_CLOEXEC, fcntl(dev, F_GETFD) & FD_CLOEXEC);
	close(dev);
}

TEST_F(group, unset_container_without_container_is_einval)
{
	EXPECT_EQ(-1, ioctl(self->group, VFIO_GROUP_UNSET_CONTAINER));
	EXPECT_EQ(EINVAL, errno);
}

TEST_F(group, unset_container_with_device_open_is_ebusy)
{
	int dev;

	ASSERT_EQ(0, attach(self));
	dev = ioctl(self->group, VFIO_GROUP_GET_DEVICE_FD, VPT_EDU_BDF);
	ASSERT_LE(0, dev);
	EXPECT_EQ(-1, ioctl(self->group, VFIO_GROUP_UNSET_CONTAINER));
	EXPECT_EQ(EBUSY, errno);
	close(dev);
	EXPECT_EQ(0, ioctl(self->group, VFIO_GROUP_UNSET_CONTAINER));
	EXPECT_EQ(VFIO_GROUP_FLAGS_VIABLE, group_flags(self->group));
}

TEST_F(group, unset_container_returns_container_to_no_iommu)
{
	struct vfio_iommu_type1_info info = { .argsz = sizeof(info) };

	ASSERT_EQ(0, attach(self));
	ASSERT_EQ(0, ioctl(self->group, VFIO_GROUP_UNSET_CONTAINER));
	/* The last group took the backend with it. */
	EXPECT_EQ(-1, ioctl(self->container, VFIO_IOMMU_GET_INFO, &info));
	EXPECT_EQ(EINVAL, errno);
	/* And the group can join again. */
	EXPECT_EQ(0, attach(self));
}

TEST_F(group, device_fd_keeps_group_busy_after_group_close)
{
	int dev;

	ASSERT_EQ(0, attach(self));
	dev = ioctl(self->group, VFIO_GROUP_GET_DEVICE_FD, VPT_EDU_BDF);
	ASSERT_LE(0, dev);
	close(self->group);
	/* The device fd still holds the group: it cannot be reopened. */
	self->group = vpt_open_group(self->group_id);
	EXPECT_EQ(-EBUSY, self->group);
	close(dev);
	self->group = vpt_open_group(self->group_id);
	ASSERT_LE(0, self->group);
	EXPECT_EQ(VFIO_GROUP_FLAGS_VIABLE, group_flags(self->group));
}

TEST_F(group, unknown_container_ioctl_with_iommu_is_enotty)
{
	ASSERT_EQ(0, attach(self));
	EXPECT_EQ(-1, ioctl(self->container, _IO(VFIO_TYPE, VFIO_BASE + 99)));
	EXPECT_EQ(ENOTTY, errno);
}

TEST_F(group, unknown_ioctl_is_enotty)
{
	EXPECT_EQ(-1, ioctl(self->group, _IO(VFIO_TYPE, VFIO_BASE + 99)));
	EXPECT_EQ(ENOTTY, errno);
}

TEST(group_node_exists_only_for_groups_with_a_vpt_device)
{
	char path[PATH_MAX];
	struct stat st;
	int edu = vpt_iommu_group(VPT_EDU_BDF);

	ASSERT_LE(0, edu);
	snprintf(path, sizeof(path), "%s/%d", vpt_node_dir(), edu);
	EXPECT_EQ(0, stat(path, &st));
	EXPECT_TRUE(S_ISCHR(st.st_mode));
	/* Group 9999 does not exist in the test VM. */
	EXPECT_EQ(-ENOENT, vpt_open_group(9999));
}

TEST_HARNESS_MAIN
