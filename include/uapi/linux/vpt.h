/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * vpt: additions to the VFIO userspace API (<linux/vfio.h>).
 *
 * vpt implements the VFIO container, group and device ioctls unchanged;
 * this header only adds what upstream VFIO lacks: a report of the IOMMU's
 * addressable width and a MAP_DMA flag that skips ranges lying above it.
 * Every addition is discoverable with VFIO_CHECK_EXTENSION on the container.
 */
#ifndef _UAPI_LINUX_VPT_H
#define _UAPI_LINUX_VPT_H

#include <linux/types.h>
#include <linux/vfio.h>

/*
 * Extensions, for VFIO_CHECK_EXTENSION.  Chosen far above upstream's
 * small consecutive numbers so that neither ever collides with the other.
 */

/* VFIO_IOMMU_GET_INFO reports struct vpt_iommu_type1_info_cap_width. */
#define VPT_EXT_IOMMU_WIDTH		0x56500001
/* VFIO_IOMMU_MAP_DMA accepts VPT_DMA_MAP_FLAG_SKIP_ABOVE_WIDTH. */
#define VPT_EXT_DMA_SKIP_ABOVE_WIDTH	0x56500002

/* Capability id of struct vpt_iommu_type1_info_cap_width. */
#define VPT_IOMMU_TYPE1_INFO_CAP_WIDTH	0x5650

/**
 * struct vpt_iommu_type1_info_cap_width - the IOMMU's addressable width
 * @header: capability header; @header.id is VPT_IOMMU_TYPE1_INFO_CAP_WIDTH,
 *          @header.version is 1.
 * @width: the number of IOVA bits every IOMMU domain of the container
 *         translates: the minimum over all attached domains.  An IOVA is
 *         translatable when it is below 2^@width.
 * @reserved: zero.
 * @max_iova: the highest translatable IOVA, 2^@width - 1 for the domains
 *            vpt knows of; mappings must end at or below it.
 * @skipped_maps: how many VFIO_IOMMU_MAP_DMA calls with
 *                VPT_DMA_MAP_FLAG_SKIP_ABOVE_WIDTH were skipped because
 *                their range lay wholly above @max_iova.
 * @skipped_bytes: the total size of those skipped ranges.
 *
 * Returned in the VFIO_IOMMU_GET_INFO capability chain once the container
 * has an IOMMU set.  Intel VT-d narrows a domain's aperture only when a
 * device is attached, so the values are read from the attached domains
 * and change as groups join and leave the container.  While the
 * container holds a skipped range, @width and @max_iova may shrink but
 * do not grow: every skipped range stays above @max_iova.
 */
struct vpt_iommu_type1_info_cap_width {
	struct vfio_info_cap_header header;
	__u32 width;
	__u32 reserved;
	__u64 max_iova;
	__u64 skipped_maps;
	__u64 skipped_bytes;
};

/*
 * VFIO_IOMMU_MAP_DMA flag: when the whole range [iova, iova + size - 1]
 * lies above the IOMMU's highest translatable IOVA, succeed without
 * pinning or mapping anything, and count it.  A range that straddles the
 * width still fails with -EINVAL.  The skipped range is remembered like a
 * mapping: an overlapping map is -EEXIST, an unmap covering part of it is
 * -EINVAL, one covering all of it succeeds and unmaps nothing (0 bytes),
 * and it uses a dma_entry_limit entry.  This is what a VMM wants for
 * transient BAR addresses during guest BAR sizing.
 */
#define VPT_DMA_MAP_FLAG_SKIP_ABOVE_WIDTH	(1U << 24)

#endif /* _UAPI_LINUX_VPT_H */
