// SPDX-License-Identifier: GPL-2.0
/*
 * vpt_iommu.c - the type1v2 IOMMU backend: its domains and groups, the
 * usable IOVA ranges and the address width derived from them,
 * VFIO_CHECK_EXTENSION, VFIO_IOMMU_GET_INFO and the ioctl dispatcher.
 *
 * A group joins the first existing domain the IOMMU driver lets it attach
 * to; failing that it gets a domain of its own, into which every existing
 * mapping is replayed.  The apertures are read only after attaching,
 * because Intel VT-d narrows a domain's geometry to the hardware's width
 * when a device is attached to it.
 */
#define pr_fmt(fmt) "vpt: " fmt

#include <linux/bitops.h>
#include <linux/err.h>
#include <linux/iommu.h>
#include <linux/mm.h>
#include <linux/overflow.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vfio.h>
#include <linux/vpt.h>

#include "vpt_compat.h"
#include "vpt_iommu.h"
#include "vpt_priv.h"

struct vpt_iommu *vpt_iommu_open(unsigned long type)
{
	struct vpt_iommu *iommu;

	if (type != VFIO_TYPE1_IOMMU && type != VFIO_TYPE1v2_IOMMU)
		return ERR_PTR(-EINVAL);

	iommu = kzalloc(sizeof(*iommu), GFP_KERNEL_ACCOUNT);
	if (!iommu)
		return ERR_PTR(-ENOMEM);
	mutex_init(&iommu->lock);
	INIT_LIST_HEAD(&iommu->domains);
	iommu->dmas = RB_ROOT;
	/* Like upstream, the limit in force when the container got its IOMMU. */
	iommu->dma_avail = READ_ONCE(vpt_dma_entry_limit);
	iommu->pgsize_bitmap = PAGE_SIZE;
	iommu->v2 = type == VFIO_TYPE1v2_IOMMU;
	return iommu;
}

/* Detach every group of @d and free it; its mappings are already gone. */
static void vpt_iommu_domain_free(struct vpt_iommu_domain *d)
{
	struct vpt_iommu_group *g, *tmp;

	list_for_each_entry_safe(g, tmp, &d->groups, entry) {
		iommu_detach_group(d->domain, g->group);
		list_del(&g->entry);
		kfree(g);
	}
	iommu_domain_free(d->domain);
	kfree(d);
}

void vpt_iommu_release(struct vpt_iommu *iommu)
{
	struct vpt_iommu_domain *d, *tmp;

	mutex_lock(&iommu->lock);
	/* Unmapped and flushed before any page is unpinned. */
	vpt_iommu_remove_all(iommu);
	list_for_each_entry_safe(d, tmp, &iommu->domains, entry) {
		list_del(&d->entry);
		vpt_iommu_domain_free(d);
	}
	mutex_unlock(&iommu->lock);

	mutex_destroy(&iommu->lock);
	kfree(iommu->ranges);
	kfree(iommu);
}

static struct vpt_iommu_group *
vpt_iommu_find_group(struct vpt_iommu *iommu, struct iommu_group *group,
		     struct vpt_iommu_domain **domain)
{
	struct vpt_iommu_domain *d;
	struct vpt_iommu_group *g;

	lockdep_assert_held(&iommu->lock);

	list_for_each_entry(d, &iommu->domains, entry) {
		list_for_each_entry(g, &d->groups, entry) {
			if (g->group == group) {
				if (domain)
					*domain = d;
				return g;
			}
		}
	}
	return NULL;
}

bool vpt_iommu_range_usable(struct vpt_iommu *iommu, u64 start, u64 last)
{
	unsigned int lo = 0, hi = iommu->nr_ranges;

	lockdep_assert_held(&iommu->lock);

	/* Binary search for the range that could hold @start. */
	while (lo < hi) {
		unsigned int mid = lo + (hi - lo) / 2;

		if (iommu->ranges[mid].last < start)
			lo = mid + 1;
		else
			hi = mid;
	}
	return last <= iommu->max_iova && lo < iommu->nr_ranges &&
	       iommu->ranges[lo].start <= start &&
	       last <= iommu->ranges[lo].last;
}

/* Remove [start, last] from the sorted ranges @r; @cap leaves room. */
static void vpt_ranges_exclude(struct vpt_iommu_range *r, unsigned int *nr,
			       u64 start, u64 last)
{
	unsigned int i = 0;

	while (i < *nr) {
		struct vpt_iommu_range *c = &r[i];

		if (last < c->start || start > c->last) {
			i++;
		} else if (start > c->start && last < c->last) {
			/* Strictly inside: split in two. */
			memmove(c + 2, c + 1, (*nr - i - 1) * sizeof(*c));
			c[1].start = last + 1;
			c[1].last = c->last;
			c->last = start - 1;
			(*nr)++;
			i += 2;
		} else if (start <= c->start && last >= c->last) {
			/* Covers it: drop it. */
			memmove(c, c + 1, (*nr - i - 1) * sizeof(*c));
			(*nr)--;
		} else if (start <= c->start) {
			c->start = last + 1;
			i++;
		} else {
			c->last = start - 1;
			i++;
		}
	}
}

/* The reserved regions of every attached group plus @extra, into @list. */
static int vpt_iommu_get_resv(struct vpt_iommu *iommu,
			      struct iommu_group *extra, struct list_head *list)
{
	struct vpt_iommu_domain *d;
	struct vpt_iommu_group *g;
	int ret;

	lockdep_assert_held(&iommu->lock);

	list_for_each_entry(d, &iommu->domains, entry) {
		list_for_each_entry(g, &d->groups, entry) {
			ret = iommu_get_group_resv_regions(g->group, list);
			if (ret)
				return ret;
		}
	}
	return extra ? iommu_get_group_resv_regions(extra, list) : 0;
}

/*
 * The list holds copies that iommu_get_group_resv_regions() allocated
 * with kzalloc() and no ->free callback (on 6.1 and 6.12 alike), so they
 * are freed the way upstream vfio frees them: kfree().
 */
static void vpt_iommu_put_resv(struct list_head *list)
{
	struct iommu_resv_region *r, *tmp;

	list_for_each_entry_safe(r, tmp, list, list) {
		list_del(&r->list);
		kfree(r);
	}
}

/*
 * The aperture [@ap_start, @ap_last] minus every reserved region on
 * @resv_list, except the relaxable direct-mapped ones that upstream also
 * lets a device owner override, into a kmalloc()ed, sorted and disjoint
 * array.  0, -ENOMEM, or -EINVAL when nothing is left.
 */
static int vpt_ranges_from_resv(u64 ap_start, u64 ap_last,
				struct list_head *resv_list,
				struct vpt_iommu_range **out,
				unsigned int *nr_out)
{
	struct iommu_resv_region *resv;
	struct vpt_iommu_range *ranges;
	unsigned int nr = 1;
	u64 last;

	/* Each region splits at most one range in two. */
	list_for_each_entry(resv, resv_list, list)
		nr++;
	ranges = kmalloc_array(nr, sizeof(*ranges), GFP_KERNEL_ACCOUNT);
	if (!ranges)
		return -ENOMEM;

	ranges[0].start = ap_start;
	ranges[0].last = ap_last;
	nr = 1;
	list_for_each_entry(resv, resv_list, list) {
		if (resv->type == IOMMU_RESV_DIRECT_RELAXABLE || !resv->length)
			continue;
		if (check_add_overflow((u64)resv->start, (u64)resv->length - 1,
				       &last))
			last = U64_MAX;
		vpt_ranges_exclude(ranges, &nr, resv->start, last);
	}
	if (!nr) {
		pr_debug("attach: no usable IOVA left\n");
		kfree(ranges);
		return -EINVAL;
	}
	*out = ranges;
	*nr_out = nr;
	return 0;
}

/**
 * vpt_iommu_build_ranges() - compute the usable IOVA ranges
 * @iommu: the backend; its lock is held.
 * @extra_domain: a domain not yet on @iommu->domains to include, or NULL.
 * @extra_group: a group not yet on any domain's list to include, or NULL.
 * @out: set to a kmalloc()ed array, sorted and disjoint, on success.
 * @nr_out: set to its number of entries.
 *
 * The ranges are the intersection of the domains' apertures minus every
 * reserved region of every group (vpt_ranges_from_resv()).
 *
 * Return: 0, -ENOMEM, or -EINVAL when nothing would be usable.
 */
static int vpt_iommu_build_ranges(struct vpt_iommu *iommu,
				  struct iommu_domain *extra_domain,
				  struct iommu_group *extra_group,
				  struct vpt_iommu_range **out,
				  unsigned int *nr_out)
{
	u64 ap_start = 0, ap_last = U64_MAX;
	struct vpt_iommu_domain *d;
	LIST_HEAD(resv_list);
	int ret;

	lockdep_assert_held(&iommu->lock);

	list_for_each_entry(d, &iommu->domains, entry) {
		ap_start = max_t(u64, ap_start, d->domain->geometry.aperture_start);
		ap_last = min_t(u64, ap_last, d->domain->geometry.aperture_end);
	}
	if (extra_domain) {
		ap_start = max_t(u64, ap_start, extra_domain->geometry.aperture_start);
		ap_last = min_t(u64, ap_last, extra_domain->geometry.aperture_end);
	}
	if (ap_start > ap_last) {
		pr_debug("attach: the domains' apertures do not intersect\n");
		return -EINVAL;
	}

	ret = vpt_iommu_get_resv(iommu, extra_group, &resv_list);
	if (!ret)
		ret = vpt_ranges_from_resv(ap_start, ap_last, &resv_list, out,
					   nr_out);
	vpt_iommu_put_resv(&resv_list);
	return ret;
}

/* Replace the usable ranges (taking ownership of @ranges). */
static void vpt_iommu_set_ranges(struct vpt_iommu *iommu,
				 struct vpt_iommu_range *ranges, unsigned int nr)
{
	lockdep_assert_held(&iommu->lock);

	kfree(iommu->ranges);
	iommu->ranges = ranges;
	iommu->nr_ranges = nr;
}

void vpt_iommu_update_geometry(struct vpt_iommu *iommu)
{
	unsigned long bitmap = ULONG_MAX;
	struct vpt_iommu_domain *d;
	u64 max_iova = U64_MAX;

	lockdep_assert_held(&iommu->lock);

	if (list_empty(&iommu->domains)) {
		iommu->max_iova = 0;
		iommu->width = 0;
		iommu->pgsize_bitmap = PAGE_SIZE;
		return;
	}
	list_for_each_entry(d, &iommu->domains, entry) {
		max_iova = min_t(u64, max_iova, d->domain->geometry.aperture_end);
		bitmap &= d->domain->pgsize_bitmap;
	}
	/*
	 * Every skip record told its client that its range is above the
	 * width.  If the width grew under it (a narrow group left), the
	 * record would sit in translatable space that nothing is mapped
	 * at, and the client would never learn.  So the width may shrink
	 * but not grow while a skip record exists; it catches up when the
	 * last one is unmapped.
	 */
	if (iommu->nr_skip && max_iova > iommu->max_iova)
		max_iova = iommu->max_iova;
	iommu->max_iova = max_iova;
	iommu->width = fls64(max_iova);

	/*
	 * As upstream: pages are pinned in PAGE_SIZE units, so report and
	 * enforce nothing finer even where the IOMMU could.
	 */
	if (!bitmap || bitmap & ~PAGE_MASK) {
		bitmap &= PAGE_MASK;
		bitmap |= PAGE_SIZE;
	}
	iommu->pgsize_bitmap = bitmap;
}

/*
 * Rebuild the ranges and the width from the domains as they are now.
 * After a detach they can only widen; after a failed attach they may
 * have narrowed all the same (Intel VT-d shrinks a domain's geometry to
 * the hardware's width while attaching and does not grow it back when
 * the attach fails).  Without memory for a new list the old one is kept:
 * @max_iova, recomputed regardless, still bounds every new mapping.
 */
static void vpt_iommu_recompute(struct vpt_iommu *iommu)
{
	struct vpt_iommu_range *ranges;
	unsigned int nr;

	lockdep_assert_held(&iommu->lock);

	if (list_empty(&iommu->domains))
		vpt_iommu_set_ranges(iommu, NULL, 0);
	else if (!vpt_iommu_build_ranges(iommu, NULL, NULL, &ranges, &nr))
		vpt_iommu_set_ranges(iommu, ranges, nr);
	else
		pr_warn("keeping the previous IOVA ranges\n");
	vpt_iommu_update_geometry(iommu);
}

/*
 * iommu_group_for_each_dev() callback: allocate the domain for the first
 * device of the group.  It runs under the IOMMU group's mutex, which is
 * what keeps @dev in the group (and alive) while its IOMMU driver is
 * asked for a domain; a device picked here and used after the walk could
 * have been removed from the group meanwhile.  As upstream's type1.
 */
static int vpt_iommu_alloc_domain_for_dev(struct device *dev, void *data)
{
	struct iommu_domain **domain = data;

	*domain = vpt_iommu_domain_alloc(dev);
	return 1;	/* one device is enough: stop the walk */
}

/*
 * Give @group a domain of its own: allocate it, attach, check that every
 * existing mapping stays usable, and replay them into it.
 */
static int vpt_iommu_attach_new_domain(struct vpt_iommu *iommu,
				       struct vpt_iommu_group *g)
{
	struct vpt_iommu_range *ranges;
	struct vpt_iommu_domain *d;
	unsigned int nr;
	int ret;

	lockdep_assert_held(&iommu->lock);

	d = kzalloc(sizeof(*d), GFP_KERNEL_ACCOUNT);
	if (!d)
		return -ENOMEM;
	INIT_LIST_HEAD(&d->groups);
	iommu_iotlb_gather_init(&d->gather);

	/* An empty group (every device gone) leaves d->domain NULL. */
	iommu_group_for_each_dev(g->group, &d->domain,
				 vpt_iommu_alloc_domain_for_dev);
	if (!d->domain) {
		ret = -ENODEV;
		goto err_free;
	}
	if (IS_ERR(d->domain)) {
		ret = PTR_ERR(d->domain);
		goto err_free;
	}
	ret = iommu_attach_group(d->domain, g->group);
	if (ret)
		goto err_domain_free;

	/* Must be asked before anything is mapped into the domain. */
	d->coherent = d->domain->ops->enforce_cache_coherency &&
		      d->domain->ops->enforce_cache_coherency(d->domain);

	ret = vpt_iommu_build_ranges(iommu, d->domain, g->group, &ranges, &nr);
	if (ret)
		goto err_detach;
	if (!vpt_iommu_dmas_fit(iommu, ranges, nr)) {
		ret = -EINVAL;
		goto err_free_ranges;
	}
	ret = vpt_iommu_replay(iommu, d);
	if (ret)
		goto err_free_ranges;

	list_add_tail(&g->entry, &d->groups);
	list_add_tail(&d->entry, &iommu->domains);
	vpt_iommu_set_ranges(iommu, ranges, nr);
	vpt_iommu_update_geometry(iommu);
	return 0;

err_free_ranges:
	kfree(ranges);
err_detach:
	iommu_detach_group(d->domain, g->group);
err_domain_free:
	iommu_domain_free(d->domain);
err_free:
	kfree(d);
	return ret;
}

/*
 * What a domain of its own would give @group once attached, without
 * attaching anything: the aperture of a paging domain allocated for one
 * of its devices exactly as an attach allocates it (and then freed),
 * narrowed to the group's current domain where that is a paging domain
 * -- on 6.1 intel-iommu allocates domains 57 bits wide and narrows one
 * to the hardware's width only when a device is attached to it, which
 * its default DMA domain was at boot -- minus the group's reserved
 * regions.  The width is that of the aperture's end, as after attach.
 */
int vpt_iommu_preview_group(struct iommu_group *group, struct device *dev,
			    struct vpt_iommu_preview *p)
{
	struct iommu_domain *domain = NULL, *cur;
	u64 ap_start = 0, ap_last = U64_MAX;
	bool known = false;
	LIST_HEAD(resv_list);
	int ret;

	memset(p, 0, sizeof(*p));
	iommu_group_for_each_dev(group, &domain,
				 vpt_iommu_alloc_domain_for_dev);
	if (!domain)
		return -ENODEV;
	if (IS_ERR(domain))
		return PTR_ERR(domain);
	/*
	 * A driver that sizes a domain only on attach (6.12's virtio-iommu)
	 * leaves its geometry unforced until then: nothing to learn here.
	 */
	if (domain->geometry.force_aperture) {
		ap_start = domain->geometry.aperture_start;
		ap_last = domain->geometry.aperture_end;
		known = true;
	}
	iommu_domain_free(domain);

	/* The default domain, or the container's while attached. */
	cur = iommu_get_domain_for_dev(dev);
	if (cur && (cur->type & __IOMMU_DOMAIN_PAGING) &&
	    cur->geometry.force_aperture) {
		ap_start = max_t(u64, ap_start, cur->geometry.aperture_start);
		ap_last = min_t(u64, ap_last, cur->geometry.aperture_end);
		known = true;
	}
	if (!known)
		return -EOPNOTSUPP;
	if (ap_start > ap_last)
		return -EINVAL;

	ret = iommu_get_group_resv_regions(group, &resv_list);
	if (!ret)
		ret = vpt_ranges_from_resv(ap_start, ap_last, &resv_list,
					   &p->ranges, &p->nr_ranges);
	vpt_iommu_put_resv(&resv_list);
	if (ret)
		return ret;
	p->max_iova = ap_last;
	p->width = fls64(ap_last);
	return 0;
}

int vpt_iommu_attach_group(struct vpt_iommu *iommu, struct iommu_group *group)
{
	struct vpt_iommu_range *ranges;
	struct vpt_iommu_domain *d;
	struct vpt_iommu_group *g;
	unsigned int nr;
	int ret;

	g = kzalloc(sizeof(*g), GFP_KERNEL_ACCOUNT);
	if (!g)
		return -ENOMEM;
	g->group = group;

	mutex_lock(&iommu->lock);
	if (vpt_iommu_find_group(iommu, group, NULL)) {
		ret = -EBUSY;
		goto err_unlock;
	}

	if (!vpt_group_has_isolated_msi(group)) {
		if (!vpt_allow_unsafe_interrupts) {
			pr_warn("IOMMU group %d: no interrupt remapping, so its devices could forge MSIs; refused (load vpt with allow_unsafe_interrupts=1 to accept this)\n",
				iommu_group_id(group));
			ret = -EPERM;
			goto err_unlock;
		}
		/* The admin chose this: say so, and leave a mark on the kernel. */
		pr_warn("IOMMU group %d: no interrupt remapping; accepted because allow_unsafe_interrupts is set: its devices can forge MSIs\n",
			iommu_group_id(group));
		add_taint(TAINT_USER, LOCKDEP_STILL_OK);
	}

	/* An existing domain already holds every mapping. */
	list_for_each_entry(d, &iommu->domains, entry) {
		if (iommu_attach_group(d->domain, group))
			continue;
		/* The attach may have narrowed the domain: recheck it all. */
		ret = vpt_iommu_build_ranges(iommu, NULL, group, &ranges, &nr);
		if (!ret && !vpt_iommu_dmas_fit(iommu, ranges, nr)) {
			kfree(ranges);
			ret = -EINVAL;
		}
		if (ret) {
			iommu_detach_group(d->domain, group);
			goto err_recompute;
		}
		list_add_tail(&g->entry, &d->groups);
		vpt_iommu_set_ranges(iommu, ranges, nr);
		vpt_iommu_update_geometry(iommu);
		mutex_unlock(&iommu->lock);
		return 0;
	}

	ret = vpt_iommu_attach_new_domain(iommu, g);
	if (ret)
		goto err_recompute;
	mutex_unlock(&iommu->lock);
	return 0;

err_recompute:
	/*
	 * Even a refused attach may have narrowed an existing domain (see
	 * vpt_iommu_recompute()): report what the domains translate now.
	 */
	vpt_iommu_recompute(iommu);
err_unlock:
	mutex_unlock(&iommu->lock);
	kfree(g);
	return ret;
}

void vpt_iommu_detach_group(struct vpt_iommu *iommu, struct iommu_group *group)
{
	struct vpt_iommu_domain *d;
	struct vpt_iommu_group *g;

	mutex_lock(&iommu->lock);
	g = vpt_iommu_find_group(iommu, group, &d);
	if (WARN_ON(!g))
		goto out_unlock;

	/* Other domains keep every mapping: the pages stay pinned. */
	iommu_detach_group(d->domain, group);
	list_del(&g->entry);
	kfree(g);
	if (list_empty(&d->groups)) {
		vpt_iommu_unmap_domain(iommu, d);
		list_del(&d->entry);
		vpt_iommu_domain_free(d);
	}

	/*
	 * Fewer domains and groups only widen the ranges (the width only
	 * while no skip record holds it down).  Without memory for the new
	 * list the old, narrower one is kept: safe.
	 */
	vpt_iommu_recompute(iommu);
out_unlock:
	mutex_unlock(&iommu->lock);
}

int vpt_iommu_check_extension(struct vpt_iommu *iommu, unsigned long ext)
{
	struct vpt_iommu_domain *d;
	int ret;

	switch (ext) {
	case VFIO_TYPE1_IOMMU:
	case VFIO_TYPE1v2_IOMMU:
	case VFIO_UNMAP_ALL:
	case VPT_EXT_IOMMU_WIDTH:
	case VPT_EXT_DMA_SKIP_ABOVE_WIDTH:
		return 1;
	case VFIO_DMA_CC_IOMMU:
		/* Whether every domain blocks no-snoop (non-coherent) DMA. */
		if (!iommu)
			return 0;
		mutex_lock(&iommu->lock);
		ret = !list_empty(&iommu->domains);
		list_for_each_entry(d, &iommu->domains, entry)
			ret &= d->coherent;
		mutex_unlock(&iommu->lock);
		return ret;
	default:
		/* UPDATE_VADDR, NESTING, dirty tracking and the unknown. */
		return 0;
	}
}

/* Offsets in the chain count from the start of the info struct. */
#define VPT_INFO_CAPS_BASE	sizeof(struct vfio_iommu_type1_info)

/*
 * How many of the ranges are usable: those starting at or below
 * max_iova (which a skip record may hold below the domains' ends).
 */
static unsigned int vpt_iommu_nr_usable(struct vpt_iommu *iommu)
{
	unsigned int n = 0;

	lockdep_assert_held(&iommu->lock);

	while (n < iommu->nr_ranges && iommu->ranges[n].start <= iommu->max_iova)
		n++;
	return n;
}

/* Size of the GET_INFO capability chain; every cap 8-byte aligned. */
static size_t vpt_iommu_caps_size(struct vpt_iommu *iommu)
{
	struct vfio_iommu_type1_info_cap_iova_range *iova_cap;
	size_t size = 0;

	lockdep_assert_held(&iommu->lock);

	if (vpt_iommu_nr_usable(iommu))
		size += ALIGN(struct_size(iova_cap, iova_ranges,
					  vpt_iommu_nr_usable(iommu)), 8);
	size += ALIGN(sizeof(struct vfio_iommu_type1_info_dma_avail), 8);
	size += ALIGN(sizeof(struct vpt_iommu_type1_info_cap_width), 8);
	return size;
}

/*
 * Fill the capability chain into @buf, zeroed and vpt_iommu_caps_size()
 * bytes long, so no byte of it is left uninitialised.
 */
static void vpt_iommu_fill_caps(struct vpt_iommu *iommu, u8 *buf)
{
	struct vfio_iommu_type1_info_cap_iova_range *iova_cap;
	struct vpt_iommu_type1_info_cap_width *width_cap;
	struct vfio_iommu_type1_info_dma_avail *avail;
	unsigned int i, nr = vpt_iommu_nr_usable(iommu);
	size_t off = 0, next;

	lockdep_assert_held(&iommu->lock);

	if (nr) {
		iova_cap = (void *)buf;
		next = ALIGN(struct_size(iova_cap, iova_ranges, nr), 8);
		iova_cap->header.id = VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE;
		iova_cap->header.version = 1;
		iova_cap->header.next = VPT_INFO_CAPS_BASE + next;
		iova_cap->nr_iovas = nr;
		for (i = 0; i < nr; i++) {
			iova_cap->iova_ranges[i].start = iommu->ranges[i].start;
			iova_cap->iova_ranges[i].end =
				min(iommu->ranges[i].last, iommu->max_iova);
		}
		off = next;
	}

	avail = (void *)(buf + off);
	next = off + ALIGN(sizeof(*avail), 8);
	avail->header.id = VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL;
	avail->header.version = 1;
	avail->header.next = VPT_INFO_CAPS_BASE + next;
	avail->avail = iommu->dma_avail;
	off = next;

	/* The last capability: header.next stays 0. */
	width_cap = (void *)(buf + off);
	width_cap->header.id = VPT_IOMMU_TYPE1_INFO_CAP_WIDTH;
	width_cap->header.version = 1;
	width_cap->width = iommu->width;
	width_cap->max_iova = iommu->max_iova;
	width_cap->skipped_maps = iommu->skipped_maps;
	width_cap->skipped_bytes = iommu->skipped_bytes;
}

static long vpt_iommu_get_info(struct vpt_iommu *iommu, void __user *arg)
{
	size_t minsz = offsetofend(struct vfio_iommu_type1_info, iova_pgsizes);
	struct vfio_iommu_type1_info info;
	size_t caps_size;
	u64 pgsizes;
	u32 argsz;
	u8 *caps;
	long ret = 0;

	if (copy_from_user(&argsz, arg, sizeof(argsz)))
		return -EFAULT;
	if (argsz < minsz)
		return -EINVAL;

	/* The chain's size depends on the ranges: size and fill at once. */
	mutex_lock(&iommu->lock);
	caps_size = vpt_iommu_caps_size(iommu);
	caps = kzalloc(caps_size, GFP_KERNEL);
	if (caps)
		vpt_iommu_fill_caps(iommu, caps);
	pgsizes = iommu->pgsize_bitmap;
	mutex_unlock(&iommu->lock);
	if (!caps)
		return -ENOMEM;

	/* memset, not = {}: the 6.1 layout has implicit tail padding. */
	memset(&info, 0, sizeof(info));
	info.argsz = argsz;
	info.flags = VFIO_IOMMU_INFO_PGSIZES | VFIO_IOMMU_INFO_CAPS;
	info.iova_pgsizes = pgsizes;

	if (argsz < sizeof(info) + caps_size) {
		/* Say how much is needed; write nothing past argsz. */
		info.argsz = sizeof(info) + caps_size;
	} else {
		if (copy_to_user(arg + sizeof(info), caps, caps_size))
			ret = -EFAULT;
		info.cap_offset = sizeof(info);
	}
	kfree(caps);
	if (ret)
		return ret;

	return copy_to_user(arg, &info, min_t(size_t, argsz, sizeof(info))) ?
	       -EFAULT : 0;
}

long vpt_iommu_ioctl(struct vpt_iommu *iommu, unsigned int cmd,
		     unsigned long arg)
{
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case VFIO_IOMMU_GET_INFO:
		return vpt_iommu_get_info(iommu, uarg);
	case VFIO_IOMMU_MAP_DMA:
		return vpt_iommu_map_dma(iommu, uarg);
	case VFIO_IOMMU_UNMAP_DMA:
		return vpt_iommu_unmap_dma(iommu, uarg);
	default:
		/* Dirty tracking and the rest are not implemented. */
		return -ENOTTY;
	}
}
