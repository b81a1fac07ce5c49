// SPDX-License-Identifier: GPL-2.0
/*
 * vptctl bind/unbind BDF [--group]: hand devices to vpt-pci through
 * driver_override and drivers_probe, and give them back.
 *
 * bind remembers the driver a device had in <state_dir>/<bdf>.driver
 * (an empty line for none) before touching it; unbind binds that driver
 * again, or leaves the device without a driver when there was none or
 * nothing was remembered.  Bridges are never moved: they route the
 * group's traffic and do no DMA of their own.
 */
#include <sys/stat.h>

#include "vptctl.h"

/* Write val to a file below <sysfs>/bus/pci; 0 or -errno. */
static int pci_write(const char *rel, const char *val)
{
	char path[PATH_MAX];
	int ret;

	ret = vptctl_path(path, sizeof(path), "bus/pci/%s", rel);
	ret = ret ?: vpt_sysfs_write(path, val);
	if (ret)
		vptctl_err("writing '%s' to %s: %s", val, path, strerror(-ret));
	return ret;
}

static int dev_write(const char *bdf, const char *attr, const char *val)
{
	char rel[PATH_MAX];

	snprintf(rel, sizeof(rel), "devices/%s/%s", bdf, attr);
	return pci_write(rel, val);
}

static int driver_write(const char *driver, const char *file,
			const char *bdf)
{
	char rel[PATH_MAX];

	snprintf(rel, sizeof(rel), "drivers/%s/%s", driver, file);
	return pci_write(rel, bdf);
}

static int state_path(const char *bdf, char *path, size_t len)
{
	int n = snprintf(path, len, "%s/%s.driver", vptctl_opts.state_dir,
			 bdf);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* mkdir -p; 0 or -errno. */
static int mkdir_p(const char *dir)
{
	size_t i, len = strlen(dir);
	char path[PATH_MAX];

	if (len >= sizeof(path))
		return -ENAMETOOLONG;
	memcpy(path, dir, len + 1);
	for (i = 1; i <= len; i++) {
		if (path[i] != '/' && path[i] != '\0')
			continue;
		path[i] = '\0';
		if (mkdir(path, 0755) && errno != EEXIST)
			return -errno;
		path[i] = dir[i];
	}
	return 0;
}

/* Remember the device's current driver before it is moved; 0 or -errno. */
static int state_save(const struct vptctl_pcidev *d)
{
	char path[PATH_MAX];
	FILE *f;
	int ret;

	ret = mkdir_p(vptctl_opts.state_dir) ?:
	      state_path(d->bdf, path, sizeof(path));
	if (ret)
		goto err;
	f = fopen(path, "w");
	if (!f) {
		ret = -errno;
		goto err;
	}
	fprintf(f, "%s\n", d->driver);
	if (fclose(f)) {
		ret = -errno;
		goto err;
	}
	return 0;
err:
	vptctl_err("cannot record the previous driver of %s in %s: %s",
		   d->bdf, vptctl_opts.state_dir, strerror(-ret));
	return ret;
}

/* The remembered driver ("" for none); 0, or -ENOENT if none recorded. */
static int state_load(const char *bdf, char *driver, size_t len)
{
	char path[PATH_MAX];

	driver[0] = '\0';
	return state_path(bdf, path, sizeof(path)) ?:
	       vptctl_read_attr(path, driver, len);
}

static void state_forget(const char *bdf)
{
	char path[PATH_MAX];

	if (!state_path(bdf, path, sizeof(path)))
		unlink(path);
}

/* Clear driver_override and bind prev ("" for none); 0 or -errno. */
static int restore(const char *bdf, const char *prev)
{
	struct vptctl_pcidev now;
	int ret;

	ret = dev_write(bdf, "driver_override", "\n");
	if (ret || !*prev)
		return ret;
	ret = vptctl_dev_load(bdf, &now);
	if (ret || !strcmp(now.driver, prev))
		return ret;
	return driver_write(prev, "bind", bdf);
}

static int bind_one(struct vptctl_pcidev *d)
{
	char prev[VPTCTL_NAME_LEN];
	int ret;

	if (!strcmp(d->driver, VPTCTL_DRIVER)) {
		printf("%s: already bound to %s\n", d->bdf, VPTCTL_DRIVER);
		return 0;
	}
	snprintf(prev, sizeof(prev), "%s", d->driver);
	ret = state_save(d) ?:
	      dev_write(d->bdf, "driver_override", VPTCTL_DRIVER);
	if (ret)
		return ret;
	ret = (*prev ? driver_write(prev, "unbind", d->bdf) : 0) ?:
	      pci_write("drivers_probe", d->bdf) ?:
	      vptctl_dev_load(d->bdf, d);
	if (!ret && strcmp(d->driver, VPTCTL_DRIVER)) {
		vptctl_err("%s: %s did not bind (see the kernel log)", d->bdf,
			   VPTCTL_DRIVER);
		ret = -ENODEV;
	}
	if (ret) {
		/* Give the device back as it was. */
		if (!restore(d->bdf, prev))
			state_forget(d->bdf);
		return ret;
	}
	printf("%s: bound to %s (previous driver: %s)\n", d->bdf,
	       VPTCTL_DRIVER, *prev ? prev : "none");
	return 0;
}

static int unbind_one(struct vptctl_pcidev *d)
{
	char prev[VPTCTL_NAME_LEN];
	bool known;
	int ret;

	if (strcmp(d->driver, VPTCTL_DRIVER)) {
		ret = !strcmp(d->override, VPTCTL_DRIVER) ?
		      dev_write(d->bdf, "driver_override", "\n") : 0;
		printf("%s: not bound to %s (driver: %s)\n", d->bdf,
		       VPTCTL_DRIVER, *d->driver ? d->driver : "none");
		return ret;
	}
	known = !state_load(d->bdf, prev, sizeof(prev));
	ret = driver_write(VPTCTL_DRIVER, "unbind", d->bdf) ?:
	      restore(d->bdf, prev) ?:
	      vptctl_dev_load(d->bdf, d);
	if (!ret && strcmp(d->driver, prev)) {
		vptctl_err("%s: %s did not bind again (driver now: %s)", d->bdf,
			   prev, *d->driver ? d->driver : "none");
		ret = -ENODEV;
	}
	if (ret)
		return ret;
	state_forget(d->bdf);
	printf("%s: unbound from %s, driver now: %s\n", d->bdf, VPTCTL_DRIVER,
	       *prev ? prev : "none");
	if (known)
		return 0;
	printf("%s: previous driver unknown (not bound by vptctl)\n", d->bdf);
	printf("  for the kernel's choice: echo %s > /sys/bus/pci/drivers_probe\n",
	       d->bdf);
	return 0;
}

/* The device, the IOMMU and vpt-pci are all there; 0 or an exit code. */
static int check_ready(const char *arg, struct vptctl_pcidev *d)
{
	char bdf[VPTCTL_BDF_LEN];
	int ret;

	if (vptctl_parse_bdf(arg, bdf, sizeof(bdf))) {
		vptctl_err("'%s' is not a PCI address ([DDDD:]BB:DD.F)", arg);
		return vptctl_usage_hint();
	}
	ret = vptctl_dev_load(bdf, d);
	if (ret) {
		vptctl_err("%s: %s", bdf, ret == -ENODEV ? "no such PCI device" :
			   strerror(-ret));
		return VPTCTL_FAIL;
	}
	if (vptctl_have_iommu() <= 0) {
		vptctl_err("no IOMMU: %s/kernel/iommu_groups is empty; enable it on the kernel command line (intel_iommu=on or amd_iommu=on)",
			   vptctl_opts.sysfs);
		return VPTCTL_FAIL;
	}
	if (!vptctl_driver_loaded(VPTCTL_DRIVER)) {
		vptctl_err("%s is not loaded (no %s/bus/pci/drivers/%s): modprobe vpt-pci, or insmod vpt.ko and vpt-pci.ko",
			   VPTCTL_DRIVER, vptctl_opts.sysfs, VPTCTL_DRIVER);
		return VPTCTL_FAIL;
	}
	if (d->group < 0) {
		vptctl_err("%s has no IOMMU group", bdf);
		return VPTCTL_FAIL;
	}
	return 0;
}

/* The device alone, or its whole group; 0 or an exit code. */
static int targets(const struct vptctl_pcidev *d, struct vptctl_devlist *list)
{
	int ret;

	if (!vptctl_opts.group) {
		if (vptctl_dev_is_bridge(d)) {
			vptctl_err("%s is a bridge: bridges stay with their driver",
				   d->bdf);
			return VPTCTL_FAIL;
		}
		ret = vptctl_devlist_add(list, d->bdf);
	} else {
		ret = vptctl_scan_group(d->group, list);
	}
	if (ret) {
		vptctl_err("%s: %s", d->bdf, strerror(-ret));
		return VPTCTL_FAIL;
	}
	return 0;
}

/* Whether the group can now be used, and if not, why. */
static void report_group(int group)
{
	struct vptctl_devlist list = { 0 };

	if (vptctl_scan_group(group, &list))
		return;
	printf("IOMMU group %d: ", group);
	if (vptctl_print_blockers(&list, NULL)) {
		printf("not viable yet: blocked by");
		vptctl_print_blockers(&list, stdout);
		printf(" (vptctl bind --group)\n");
	} else {
		printf("viable\n");
	}
	vptctl_devlist_free(&list);
}

/* A VMM holding the group would make the unbind wait for it: refuse. */
static int check_group_idle(int group)
{
	int fd = vpt_open_group(group);

	if (fd == -EBUSY) {
		vptctl_err("IOMMU group %d is open in another process (a VMM?): stop it first",
			   group);
		return VPTCTL_FAIL;
	}
	if (fd >= 0)
		close(fd);
	return 0;
}

static int bind_or_unbind(char **argv, bool bind)
{
	struct vptctl_devlist list = { 0 };
	struct vptctl_pcidev d;
	int ret, err = 0;
	size_t i;

	ret = check_ready(argv[0], &d) ?:
	      (bind ? 0 : check_group_idle(d.group)) ?:
	      targets(&d, &list);
	if (ret)
		goto out;
	for (i = 0; i < list.nr; i++) {
		struct vptctl_pcidev *t = &list.devs[i];

		if (vptctl_dev_is_bridge(t)) {
			printf("%s: bridge, left alone (driver: %s)\n", t->bdf,
			       *t->driver ? t->driver : "none");
			continue;
		}
		ret = bind ? bind_one(t) : unbind_one(t);
		err = err ?: ret;
	}
	report_group(d.group);
	ret = err ? VPTCTL_FAIL : VPTCTL_OK;
out:
	vptctl_devlist_free(&list);
	return ret;
}

int vptctl_cmd_bind(int argc, char **argv)
{
	return bind_or_unbind(argv, true);
}

int vptctl_cmd_unbind(int argc, char **argv)
{
	return bind_or_unbind(argv, false);
}
