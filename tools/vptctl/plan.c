// SPDX-License-Identifier: GPL-2.0
/*
 * vptctl plan BDF...: the guest MMIO windows the devices a VMM passes
 * through need, and whether they fit.
 *
 * The BARs come from sysfs `resource` (start, end and the kernel's
 * IORESOURCE_* flags of each BAR, as sized at enumeration with decoding
 * off), not from sizing the config space again: that would write
 * all-ones to the BARs of a device that may be in use, and needs root.
 *
 * 32-bit memory BARs and expansion ROMs can only live below 4 GiB; 64-bit
 * ones may go above.  In each window every BAR is naturally aligned and
 * the BARs are packed largest first, so no padding is ever needed
 * between them (each size is a power of two dividing every larger one):
 * the window's size is the sum of its BARs and its alignment the largest.
 * The 64-bit window must then end below the IOMMU's width, or a VMM that
 * maps the BARs into the IOMMU for peer-to-peer DMA is refused.
 */
#include "vptctl.h"

/* Resource flags in sysfs `resource` (include/linux/ioport.h). */
#define RES_IO		0x00000100ULL
#define RES_MEM		0x00000200ULL
#define RES_PREFETCH	0x00002000ULL
#define RES_MEM_64	0x00100000ULL

#define PLAN_ROM_INDEX	6	/* resource line of the expansion ROM */
#define PLAN_IO_LIMIT	0x10000ULL

enum plan_kind { PLAN_MEM32, PLAN_MEM64, PLAN_IO, PLAN_KINDS };

/**
 * struct plan_bar - one BAR to place
 * @dev: the device it belongs to.
 * @index: resource index (0-5 BARs, 6 ROM).
 * @size: its size, a power of two.
 * @kind: which window it goes to.
 * @prefetch: prefetchable memory.
 * @seq: order found, to keep equal sizes in device order.
 * @offset: where it lands in its window.
 */
struct plan_bar {
	const struct vptctl_pcidev *dev;
	unsigned int index;
	__u64 size;
	enum plan_kind kind;
	bool prefetch;
	unsigned int seq;
	__u64 offset;
};

/**
 * struct plan_window - the BARs of one kind, packed
 * @nr: how many BARs it holds.
 * @size: the window's size.
 * @align: its alignment (the largest BAR).
 */
struct plan_window {
	size_t nr;
	__u64 size;
	__u64 align;
};

struct plan {
	struct vptctl_devlist devs;
	struct plan_bar *bars;
	size_t nr;
	struct plan_window win[PLAN_KINDS];
};

static const char * const plan_names[PLAN_KINDS] = {
	[PLAN_MEM32] = "32-bit window",
	[PLAN_MEM64] = "64-bit window",
	[PLAN_IO] = "I/O window",
};

static __u64 roundup_pow2(__u64 v)
{
	__u64 p = 1;

	while (p < v && p < (1ULL << 63))
		p <<= 1;
	return p;
}

static int plan_add(struct plan *p, const struct plan_bar *bar)
{
	struct plan_bar *n;

	n = reallocarray(p->bars, p->nr + 1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	p->bars = n;
	n[p->nr] = *bar;
	n[p->nr].seq = p->nr;
	p->nr++;
	return 0;
}

/* A resource line to a BAR; false for an absent resource. */
static bool parse_resource(const char *line, unsigned int index,
			   struct plan_bar *bar)
{
	unsigned long long start, end, flags;

	if (sscanf(line, "%llx %llx %llx", &start, &end, &flags) != 3 ||
	    !(flags & (RES_IO | RES_MEM)) || end <= start)
		return false;
	bar->index = index;
	bar->size = roundup_pow2(end - start + 1);
	bar->prefetch = flags & RES_PREFETCH;
	if (flags & RES_IO)
		bar->kind = PLAN_IO;
	else if ((flags & RES_MEM_64) && index != PLAN_ROM_INDEX)
		bar->kind = PLAN_MEM64;
	else
		bar->kind = PLAN_MEM32;	/* the ROM BAR is always 32-bit */
	return true;
}

/* Every BAR (and the ROM) of one device; 0 or -errno. */
static int plan_read_bars(struct plan *p, const struct vptctl_pcidev *dev)
{
	char path[PATH_MAX], line[256];
	unsigned int index;
	int ret = 0;
	FILE *f;

	ret = vptctl_path(path, sizeof(path), "bus/pci/devices/%s/resource",
			  dev->bdf);
	if (ret)
		return ret;
	f = fopen(path, "r");
	if (!f)
		return -errno;
	for (index = 0; index <= PLAN_ROM_INDEX && !ret; index++) {
		struct plan_bar bar = { .dev = dev };

		if (!fgets(line, sizeof(line), f))
			break;
		if (index == PLAN_ROM_INDEX && vptctl_opts.no_rom)
			break;
		if (parse_resource(line, index, &bar))
			ret = plan_add(p, &bar);
	}
	fclose(f);
	return ret;
}

static int bar_cmp(const void *a, const void *b)
{
	const struct plan_bar *x = a, *y = b;

	if (x->size != y->size)
		return x->size > y->size ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Sort the BARs into their windows and place them; 0 or -EOVERFLOW. */
static int plan_pack(struct plan *p)
{
	size_t i;

	qsort(p->bars, p->nr, sizeof(*p->bars), bar_cmp);
	for (i = 0; i < p->nr; i++) {
		struct plan_bar *bar = &p->bars[i];
		struct plan_window *w = &p->win[bar->kind];

		if (!w->nr)
			w->align = bar->size;
		if (vptctl_align_up(w->size, bar->size, &bar->offset) ||
		    __builtin_add_overflow(bar->offset, bar->size, &w->size))
			return -EOVERFLOW;
		w->nr++;
	}
	return 0;
}

static const char *bar_name(const struct plan_bar *bar, char *buf,
			    size_t len)
{
	if (bar->index == PLAN_ROM_INDEX)
		snprintf(buf, len, "ROM");
	else
		snprintf(buf, len, "BAR%u", bar->index);
	return buf;
}

static const char *bar_type(const struct plan_bar *bar)
{
	static const char * const types[PLAN_KINDS][2] = {
		[PLAN_MEM32] = { "mem32", "mem32 prefetch" },
		[PLAN_MEM64] = { "mem64", "mem64 prefetch" },
		[PLAN_IO] = { "io", "io" },
	};

	return types[bar->kind][bar->prefetch];
}

/* The devices with their BARs, in the order given. */
static void plan_print_devices(const struct plan *p)
{
	char name[8], size[96];
	size_t d, i;

	printf("devices (BARs from sysfs resource):\n");
	for (d = 0; d < p->devs.nr; d++) {
		const struct vptctl_pcidev *dev = &p->devs.devs[d];

		printf("  %s [%04x:%04x]\n", dev->bdf, dev->vendor, dev->device);
		for (i = 0; i < p->nr; i++) {
			const struct plan_bar *bar = &p->bars[i];

			if (bar->dev != dev)
				continue;
			printf("    %-4s %-15s size 0x%llx (%s)\n",
			       bar_name(bar, name, sizeof(name)), bar_type(bar),
			       (unsigned long long)bar->size,
			       vptctl_size(bar->size, size, sizeof(size)));
		}
	}
}

static void plan_print_window(const struct plan *p, enum plan_kind kind)
{
	static const char * const where[PLAN_KINDS] = {
		[PLAN_MEM32] = "32-bit BARs and ROMs: below 4 GiB only",
		[PLAN_MEM64] = "64-bit BARs: may go above 4 GiB",
		[PLAN_IO] = "I/O port BARs",
	};
	const struct plan_window *w = &p->win[kind];
	char name[8], size[96];
	size_t i;

	if (!w->nr) {
		printf("%s: none\n", plan_names[kind]);
		return;
	}
	printf("%s: 0x%llx bytes (%s), aligned to 0x%llx; %s\n",
	       plan_names[kind], (unsigned long long)w->size,
	       vptctl_size(w->size, size, sizeof(size)),
	       (unsigned long long)w->align, where[kind]);
	for (i = 0; i < p->nr; i++) {
		const struct plan_bar *bar = &p->bars[i];

		if (bar->kind != kind)
			continue;
		printf("  +0x%010llx  %s %-4s size 0x%llx%s\n",
		       (unsigned long long)bar->offset, bar->dev->bdf,
		       bar_name(bar, name, sizeof(name)),
		       (unsigned long long)bar->size,
		       kind == PLAN_MEM64 && !bar->prefetch ?
		       "  (non-prefetchable: above 4 GiB only on a root bus)" :
		       "");
	}
}

/* Place window kind at base (aligned up); false if the sum overflows. */
static bool plan_place(const struct plan *p, enum plan_kind kind,
		       __u64 base, __u64 *start, __u64 *end)
{
	const struct plan_window *w = &p->win[kind];

	if (vptctl_align_up(base, w->align, start) ||
	    __builtin_add_overflow(*start, w->size - 1, end))
		return false;
	if (*start != base)
		printf("  (%s base 0x%llx rounded up to its alignment 0x%llx)\n",
		       plan_names[kind], (unsigned long long)base,
		       (unsigned long long)w->align);
	return true;
}

/* The highest base at which the 64-bit window still fits, or 0. */
static __u64 plan_highest_base(const struct vptctl_iommu *io,
			       const struct plan_window *w)
{
	struct vfio_iova_range all = { 0, UINT64_MAX };
	const struct vfio_iova_range *r = io->nr_ranges ? io->ranges : &all;
	__u32 n = io->nr_ranges ?: 1;
	__u64 end, cand;

	while (n--) {
		end = r[n].end;
		if (io->width && end > io->max_iova)
			end = io->max_iova;
		if (end < r[n].start || end - r[n].start < w->size - 1)
			continue;
		cand = (end - (w->size - 1)) & ~(w->align - 1);
		if (cand >= r[n].start && cand >= VPTCTL_4G)
			return cand;
	}
	return 0;
}

static void print_iommu_limit(const struct vptctl_iommu *io)
{
	if (io->width)
		printf("IOMMU: %u bits, max IOVA 0x%llx", io->width,
		       (unsigned long long)io->max_iova);
	else
		printf("IOMMU: usable IOVA up to 0x%llx",
		       (unsigned long long)vptctl_iommu_top(io));
}

/* The 64-bit window at --above; whether it fits the IOMMU. */
static bool plan_check64(const struct plan *p, const struct vptctl_iommu *io,
			 bool known)
{
	const struct plan_window *w = &p->win[PLAN_MEM64];
	__u64 start, end, best;
	bool fits;

	if (!w->nr)
		return true;
	if (!plan_place(p, PLAN_MEM64, vptctl_opts.above, &start, &end)) {
		printf("64-bit window at 0x%llx: does not fit: wraps past 2^64\n",
		       (unsigned long long)vptctl_opts.above);
		return false;
	}
	printf("64-bit window at 0x%llx-0x%llx: ", (unsigned long long)start,
	       (unsigned long long)end);
	if (!known) {
		printf("not checked: IOMMU width unknown (give --width BITS)\n");
		return false;
	}
	fits = vptctl_iommu_fits(io, start, end);
	printf("%s (", fits ? "fits" : "does not fit");
	print_iommu_limit(io);
	printf(")\n");
	if (!fits)
		printf("  a VMM mapping these BARs for peer-to-peer DMA gets EINVAL\n");
	best = plan_highest_base(io, w);
	if (best)
		printf("  highest 64-bit base that fits: 0x%llx\n",
		       (unsigned long long)best);
	else
		printf("  no base above 4 GiB fits this IOMMU\n");
	return fits;
}

/* The 32-bit window at --below: below the platform range and usable. */
static bool plan_check32(const struct plan *p, const struct vptctl_iommu *io,
			 bool known)
{
	__u64 start, end;
	bool fits;

	if (!p->win[PLAN_MEM32].nr)
		return true;
	if (!plan_place(p, PLAN_MEM32, vptctl_opts.below, &start, &end)) {
		printf("32-bit window at 0x%llx: does not fit: wraps past 2^64\n",
		       (unsigned long long)vptctl_opts.below);
		return false;
	}
	fits = end < VPTCTL_MMIO32_LIMIT;
	if (fits && known && io->nr_ranges)
		fits = vptctl_iommu_fits(io, start, end);
	printf("32-bit window at 0x%llx-0x%llx: %s (must end below 0x%llx%s)\n",
	       (unsigned long long)start, (unsigned long long)end,
	       fits ? "fits" : "does not fit",
	       (unsigned long long)VPTCTL_MMIO32_LIMIT,
	       known && io->nr_ranges ? " and avoid the IOVA holes" : "");
	return fits;
}

static bool plan_check_io(const struct plan *p)
{
	const struct plan_window *w = &p->win[PLAN_IO];

	if (!w->nr)
		return true;
	printf("I/O window: %s (0x%llx of 0x%llx ports)\n",
	       w->size <= PLAN_IO_LIMIT ? "fits" : "does not fit",
	       (unsigned long long)w->size, PLAN_IO_LIMIT);
	return w->size <= PLAN_IO_LIMIT;
}

/*
 * Without a container (a VMM holds a group, say): what the groups' nodes
 * state before attach, intersected as one container would have them.
 */
static int plan_iommu_preview(const struct plan *p, struct vptctl_iommu *io)
{
	struct vptctl_iommu more;
	size_t i;
	int ret;

	memset(io, 0, sizeof(*io));
	for (i = 0; i < p->devs.nr; i++) {
		int group = p->devs.devs[i].group;

		if (group < 0) {
			ret = -ENODEV;
		} else if (!i) {
			ret = vptctl_group_preview(group, io);
		} else {
			ret = vptctl_group_preview(group, &more);
			if (!ret) {
				ret = vptctl_iommu_intersect(io, &more);
				vptctl_iommu_free(&more);
			}
		}
		if (ret) {
			vptctl_iommu_free(io);
			return ret;
		}
	}
	printf("IOMMU width %u bits, from the group nodes (before attach)\n",
	       io->width);
	return 0;
}

/* The IOMMU the devices' groups share, or the user's --width; 0/-errno. */
static int plan_iommu(const struct plan *p, struct vptctl_iommu *io)
{
	struct vptctl_container c;
	size_t i;
	int ret;

	memset(io, 0, sizeof(*io));
	if (vptctl_opts.width) {
		io->width = vptctl_opts.width;
		io->max_iova = io->width == 64 ? UINT64_MAX :
			       (1ULL << io->width) - 1;
		printf("IOMMU width %u bits, from --width\n", io->width);
		return 0;
	}
	ret = vptctl_container_open(&c);
	if (ret)
		return ret;
	for (i = 0; i < p->devs.nr && !ret; i++) {
		unsigned int g;
		bool seen = false;

		if (p->devs.devs[i].group < 0) {
			vptctl_err("%s has no IOMMU group", p->devs.devs[i].bdf);
			ret = -ENODEV;
			break;
		}
		for (g = 0; g < c.nr; g++)
			seen |= c.group_ids[g] == p->devs.devs[i].group;
		if (!seen)
			ret = vptctl_container_attach(&c, p->devs.devs[i].group);
	}
	ret = ret ?: vptctl_container_set_iommu(&c) ?:
	      vptctl_iommu_query(c.fd, io);
	if (!ret && !io->width && !io->nr_ranges) {
		vptctl_err("the IOMMU reports neither its width nor its usable IOVA ranges");
		vptctl_iommu_free(io);
		ret = -ENODATA;
	}
	if (!ret) {
		printf("IOMMU of a container with IOMMU group(s)");
		for (i = 0; i < c.nr; i++)
			printf(" %d", c.group_ids[i]);
		printf(": width %s\n", io->width ? "reported" :
		       "not reported, using the usable IOVA ranges");
	}
	vptctl_container_close(&c);
	if (ret && !plan_iommu_preview(p, io))
		ret = 0;
	return ret;
}

/* The devices on the command line; 0, or the exit code. */
static int plan_devices(struct plan *p, int argc, char **argv)
{
	char bdf[VPTCTL_BDF_LEN];
	size_t j;
	int i, ret;

	for (i = 0; i < argc; i++) {
		if (vptctl_parse_bdf(argv[i], bdf, sizeof(bdf))) {
			vptctl_err("'%s' is not a PCI address", argv[i]);
			return vptctl_usage_hint();
		}
		for (j = 0; j < p->devs.nr; j++)
			if (!strcmp(p->devs.devs[j].bdf, bdf)) {
				vptctl_err("%s given twice", bdf);
				return vptctl_usage_hint();
			}
		ret = vptctl_devlist_add(&p->devs, bdf);
		if (ret) {
			vptctl_err("%s: %s", bdf, ret == -ENODEV ?
				   "no such PCI device" : strerror(-ret));
			return VPTCTL_FAIL;
		}
		if (vptctl_dev_is_bridge(&p->devs.devs[p->devs.nr - 1])) {
			vptctl_err("%s is a bridge: plan the devices behind it",
				   bdf);
			return VPTCTL_FAIL;
		}
	}
	return 0;
}

/* Read, pack and print; 0 or the exit code. */
static int plan_build(struct plan *p)
{
	enum plan_kind k;
	size_t i;
	int ret;

	for (i = 0; i < p->devs.nr; i++) {
		ret = plan_read_bars(p, &p->devs.devs[i]);
		if (ret) {
			vptctl_err("%s: cannot read its BARs: %s",
				   p->devs.devs[i].bdf, strerror(-ret));
			return VPTCTL_FAIL;
		}
	}
	plan_print_devices(p);
	if (plan_pack(p)) {
		vptctl_err("the BARs add up to more than 2^64");
		return VPTCTL_FAIL;
	}
	for (k = 0; k < PLAN_KINDS; k++)
		plan_print_window(p, k);
	return 0;
}

int vptctl_cmd_plan(int argc, char **argv)
{
	struct plan p = { 0 };
	struct vptctl_iommu io;
	bool known, fits;
	int ret;

	ret = plan_devices(&p, argc, argv) ?: plan_build(&p);
	if (ret)
		goto out;
	known = !plan_iommu(&p, &io);
	if (!known)
		memset(&io, 0, sizeof(io));
	fits = plan_check32(&p, &io, known);
	fits &= plan_check64(&p, &io, known);
	fits &= plan_check_io(&p);
	vptctl_iommu_free(&io);
	ret = fits ? VPTCTL_OK : VPTCTL_FAIL;
out:
	free(p.bars);
	vptctl_devlist_free(&p.devs);
	return ret;
}
