// SPDX-License-Identifier: GPL-2.0
/*
 * vptctl list: every PCI device by IOMMU group, with its driver, and
 * whether vpt can use the group (each device bound to vpt-pci, to a
 * driver that does no DMA, or to none) or which devices block it.
 */
#include "vptctl.h"

static int dev_cmp(const void *a, const void *b)
{
	const struct vptctl_pcidev *x = a, *y = b;

	/* Devices without a group (-1) last. */
	if (x->group != y->group)
		return (unsigned int)x->group < (unsigned int)y->group ? -1 : 1;
	return strcmp(x->bdf, y->bdf);
}

static void print_dev(const struct vptctl_pcidev *d)
{
	char line[256];
	size_t n;

	snprintf(line, sizeof(line), "  %s  %04x:%04x  class %06x  %-12s%s%s%s",
		 d->bdf, d->vendor, d->device, d->class,
		 *d->driver ? d->driver : "-",
		 vptctl_dev_is_bridge(d) ? "  bridge" : "",
		 *d->override ? "  override=" : "", d->override);
	n = strlen(line);
	while (n && line[n - 1] == ' ')
		line[--n] = '\0';
	puts(line);
}

/* The group's state line: in use by vpt, usable, or blocked by whom. */
static void print_group(const struct vptctl_devlist *g)
{
	size_t i, vpt = 0, bridges = 0;

	printf("group %d: ", g->devs[0].group);
	for (i = 0; i < g->nr; i++) {
		vpt += !strcmp(g->devs[i].driver, VPTCTL_DRIVER);
		bridges += vptctl_dev_is_bridge(&g->devs[i]);
	}
	if (bridges == g->nr) {
		printf("bridges only\n");
	} else if (!vptctl_print_blockers(g, NULL)) {
		printf("%s\n", vpt ? "viable, bound to " VPTCTL_DRIVER :
		       "viable, no device bound to " VPTCTL_DRIVER " yet");
	} else {
		printf("not viable: blocked by");
		vptctl_print_blockers(g, stdout);
		putchar('\n');
	}
	for (i = 0; i < g->nr; i++)
		print_dev(&g->devs[i]);
}

int vptctl_cmd_list(int argc, char **argv)
{
	struct vptctl_devlist all = { 0 };
	size_t i, j;
	int ret;

	ret = vptctl_scan_all(&all);
	if (ret) {
		vptctl_err("cannot read %s/bus/pci/devices: %s",
			   vptctl_opts.sysfs, strerror(-ret));
		vptctl_devlist_free(&all);
		return VPTCTL_FAIL;
	}
	if (vptctl_have_iommu() <= 0)
		vptctl_err("no IOMMU groups (%s/kernel/iommu_groups is empty): enable the IOMMU (intel_iommu=on or amd_iommu=on)",
			   vptctl_opts.sysfs);
	qsort(all.devs, all.nr, sizeof(*all.devs), dev_cmp);
	for (i = 0; i < all.nr; i = j) {
		struct vptctl_devlist g = { .devs = &all.devs[i] };

		for (j = i; j < all.nr && all.devs[j].group == all.devs[i].group;
		     j++)
			g.nr++;
		if (all.devs[i].group >= 0) {
			print_group(&g);
			continue;
		}
		printf("no IOMMU group:\n");
		for (j = i; j < all.nr; j++)
			print_dev(&all.devs[j]);
	}
	vptctl_devlist_free(&all);
	return VPTCTL_OK;
}
