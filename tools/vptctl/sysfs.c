// SPDX-License-Identifier: GPL-2.0
/*
 * vptctl: the PCI and IOMMU-group sysfs trees.  Every path is relative
 * to vptctl_opts.sysfs, so the tests can point vptctl at a fake tree.
 */
#include <sys/stat.h>

#include "vptctl.h"

/* Drivers that leave a group usable: they do no DMA of their own. */
static const char * const vptctl_dma_free_drivers[] = {
	VPTCTL_DRIVER, "pcieport", "pci-stub",
};

/* snprintf's result n for a buffer of len: 0, or -ENAMETOOLONG. */
int vptctl_path_check(int n, size_t len)
{
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* Read a sysfs file, without its trailing newline; 0 or -errno. */
int vptctl_read_attr(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	if (n < 0) {
		n = -errno;
		close(fd);
		return n;
	}
	close(fd);
	buf[n] = '\0';
	while (n > 0 && buf[n - 1] == '\n')
		buf[--n] = '\0';
	return 0;
}

int vptctl_dev_attr(const char *bdf, const char *attr, char *buf, size_t len)
{
	char path[PATH_MAX];
	int ret;

	ret = vptctl_path(path, sizeof(path), "bus/pci/devices/%s/%s", bdf,
			  attr);
	return ret ?: vptctl_read_attr(path, buf, len);
}

/* The last component of the symlink a device attribute is; 0 or -errno. */
static int dev_link_name(const char *bdf, const char *attr, char *buf,
			 size_t len)
{
	char path[PATH_MAX], link[PATH_MAX];
	const char *name;
	ssize_t n;
	int ret;

	ret = vptctl_path(path, sizeof(path), "bus/pci/devices/%s/%s", bdf,
			  attr);
	if (ret)
		return ret;
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return -errno;
	link[n] = '\0';
	name = strrchr(link, '/');
	name = name ? name + 1 : link;
	if (strlen(name) >= len)
		return -ENAMETOOLONG;
	strcpy(buf, name);
	return 0;
}

bool vptctl_dev_exists(const char *bdf)
{
	char path[PATH_MAX];
	struct stat st;

	return !vptctl_path(path, sizeof(path), "bus/pci/devices/%s", bdf) &&
	       !stat(path, &st);
}

/* A hex attribute ("0x1234"); 0 or -errno. */
static int dev_hex_attr(const char *bdf, const char *attr, unsigned int *val)
{
	char buf[32];
	char *end;
	int ret;

	ret = vptctl_dev_attr(bdf, attr, buf, sizeof(buf));
	if (ret)
		return ret;
	*val = (unsigned int)strtoul(buf, &end, 16);
	return end == buf ? -EINVAL : 0;
}

/**
 * vptctl_dev_load() - read a device's ids, driver and IOMMU group
 * @name: the device's address (normalised); may be @dev->bdf.
 * @dev: filled in.
 *
 * Return: 0, or -ENODEV when there is no such device, or -errno.
 */
int vptctl_dev_load(const char *name, struct vptctl_pcidev *dev)
{
	char group[32], bdf[VPTCTL_BDF_LEN];
	int ret;

	/* name may be dev->bdf itself: copy it before clearing dev. */
	snprintf(bdf, sizeof(bdf), "%s", name);
	memset(dev, 0, sizeof(*dev));
	if (!vptctl_dev_exists(bdf))
		return -ENODEV;
	snprintf(dev->bdf, sizeof(dev->bdf), "%s", bdf);
	ret = dev_hex_attr(bdf, "vendor", &dev->vendor) ?:
	      dev_hex_attr(bdf, "device", &dev->device) ?:
	      dev_hex_attr(bdf, "class", &dev->class);
	if (ret)
		return ret;

	ret = dev_link_name(bdf, "driver", dev->driver, sizeof(dev->driver));
	if (ret && ret != -ENOENT)
		return ret;
	ret = vptctl_dev_attr(bdf, "driver_override", dev->override,
			      sizeof(dev->override));
	if (ret && ret != -ENOENT)
		return ret;
	if (!strcmp(dev->override, "(null)"))
		dev->override[0] = '\0';

	ret = dev_link_name(bdf, "iommu_group", group, sizeof(group));
	if (ret && ret != -ENOENT)
		return ret;
	dev->group = ret ? -1 : atoi(group);
	return 0;
}

/* Any bridge (host, ISA, PCI-to-PCI, ...): PCI base class 0x06. */
bool vptctl_dev_is_bridge(const struct vptctl_pcidev *dev)
{
	return (dev->class >> 16) == 0x06;
}

/* Whether a device bound to driver ("" for none) lets vpt use its group. */
bool vptctl_driver_keeps_group_viable(const char *driver)
{
	size_t i;

	if (!*driver)
		return true;
	for (i = 0; i < ARRAY_SIZE(vptctl_dma_free_drivers); i++)
		if (!strcmp(driver, vptctl_dma_free_drivers[i]))
			return true;
	return false;
}

/* 1 when the kernel has IOMMU groups, 0 when not, or -errno. */
int vptctl_have_iommu(void)
{
	char path[PATH_MAX];
	struct dirent *de;
	int ret = 0;
	DIR *dir;

	ret = vptctl_path(path, sizeof(path), "kernel/iommu_groups");
	if (ret)
		return ret;
	dir = opendir(path);
	if (!dir)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(dir)))
		if (de->d_name[0] != '.') {
			ret = 1;
			break;
		}
	closedir(dir);
	return ret;
}

bool vptctl_driver_loaded(const char *driver)
{
	char path[PATH_MAX];
	struct stat st;

	return !vptctl_path(path, sizeof(path), "bus/pci/drivers/%s",
			    driver) && !stat(path, &st);
}

/* Append the device bdf, read from sysfs; 0 or -errno. */
int vptctl_devlist_add(struct vptctl_devlist *list, const char *bdf)
{
	int ret;

	if (list->nr == list->cap) {
		size_t cap = list->cap ? 2 * list->cap : 16;
		void *p = reallocarray(list->devs, cap, sizeof(*list->devs));

		if (!p)
			return -ENOMEM;
		list->devs = p;
		list->cap = cap;
	}
	ret = vptctl_dev_load(bdf, &list->devs[list->nr]);
	if (!ret)
		list->nr++;
	return ret;
}

void vptctl_devlist_free(struct vptctl_devlist *list)
{
	free(list->devs);
	memset(list, 0, sizeof(*list));
}

static int not_dot(const struct dirent *de)
{
	return de->d_name[0] != '.';
}

/* Every device named in a directory of device links, in BDF order. */
static int scan_dir(const char *path, struct vptctl_devlist *list)
{
	struct dirent **names;
	int n, i, ret = 0;

	n = scandir(path, &names, not_dot, alphasort);
	if (n < 0)
		return -errno;
	for (i = 0; i < n; i++) {
		if (!ret)
			ret = vptctl_devlist_add(list, names[i]->d_name);
		free(names[i]);
	}
	free(names);
	return ret;
}

int vptctl_scan_all(struct vptctl_devlist *list)
{
	char path[PATH_MAX];

	return vptctl_path(path, sizeof(path), "bus/pci/devices") ?:
	       scan_dir(path, list);
}

int vptctl_scan_group(int group, struct vptctl_devlist *list)
{
	char path[PATH_MAX];

	return vptctl_path(path, sizeof(path), "kernel/iommu_groups/%d/devices",
			   group) ?: scan_dir(path, list);
}

/**
 * vptctl_print_blockers() - the devices that keep a group from vpt
 * @list: the devices of one IOMMU group.
 * @f: where to print " BDF (driver)" for each; NULL to only count.
 *
 * Return: how many devices block the group (0: it is viable).
 */
size_t vptctl_print_blockers(const struct vptctl_devlist *list, FILE *f)
{
	size_t i, n = 0;

	for (i = 0; i < list->nr; i++) {
		const struct vptctl_pcidev *d = &list->devs[i];

		if (vptctl_driver_keeps_group_viable(d->driver))
			continue;
		if (f)
			fprintf(f, "%s %s (%s)", n ? "," : "", d->bdf,
				d->driver);
		n++;
	}
	return n;
}
