// SPDX-License-Identifier: GPL-2.0
/*
 * vpt_demo - what a VMM sees through vpt, step by step: the IOMMU's
 * address width and usable IOVA ranges, the device's regions, a DMA
 * round trip through QEMU's edu device and a user buffer mapped with
 * VFIO_IOMMU_MAP_DMA, and a BAR-sizing address being refused (and, on
 * request, skipped).  Speaks only <linux/vfio.h> and <linux/vpt.h>.
 */
#include <sys/mman.h>
#include <time.h>

#include "vpt_util.h"

#define EDU_DMA_SRC	0x80
#define EDU_DMA_DST	0x88
#define EDU_DMA_COUNT	0x90
#define EDU_DMA_CMD	0x98
#define EDU_DMA_START	0x1
#define EDU_DMA_TO_RAM	0x2
#define EDU_BUFFER	0x40000
#define DEMO_IOVA	0x40000000ULL
#define DEMO_LEN	4096
/* QEMU 7.2's edu refuses a transfer that fills its whole 4 KiB buffer. */
#define DEMO_XFER	1024

static int step(const char *what, int ret)
{
	printf("  %-58s %s\n", what, ret ? strerror(-ret) : "ok");
	return ret;
}

static void show_info_caps(struct vfio_iommu_type1_info *info)
{
	struct vfio_info_cap_header *hdr;
	unsigned int off = info->cap_offset;

	printf("IOMMU page sizes: 0x%llx\n", (unsigned long long)info->iova_pgsizes);
	while (off) {
		hdr = (void *)((char *)info + off);
		if (hdr->id == VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE) {
			struct vfio_iommu_type1_info_cap_iova_range *r = (void *)hdr;

			printf("Usable IOVA ranges (%u):\n", r->nr_iovas);
			for (unsigned int i = 0; i < r->nr_iovas; i++)
				printf("  0x%016llx - 0x%016llx\n",
				       (unsigned long long)r->iova_ranges[i].start,
				       (unsigned long long)r->iova_ranges[i].end);
		} else if (hdr->id == VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL) {
			printf("DMA mappings available: %u\n",
			       ((struct vfio_iommu_type1_info_dma_avail *)hdr)->avail);
		} else if (hdr->id == VPT_IOMMU_TYPE1_INFO_CAP_WIDTH) {
			struct vpt_iommu_type1_info_cap_width *w = (void *)hdr;

			printf("IOMMU address width: %u bits (highest IOVA 0x%llx)\n",
			       w->width, (unsigned long long)w->max_iova);
			printf("Maps skipped above the width: %llu (%llu bytes)\n",
			       (unsigned long long)w->skipped_maps,
			       (unsigned long long)w->skipped_bytes);
		}
		off = hdr->next;
	}
}

static int show_iommu(int container)
{
	struct vfio_iommu_type1_info probe = { .argsz = sizeof(probe) };
	struct vfio_iommu_type1_info *info;

	if (ioctl(container, VFIO_IOMMU_GET_INFO, &probe))
		return -errno;
	info = calloc(1, probe.argsz);
	if (!info)
		return -ENOMEM;
	info->argsz = probe.argsz;
	if (ioctl(container, VFIO_IOMMU_GET_INFO, info)) {
		free(info);
		return -errno;
	}
	if (info->flags & VFIO_IOMMU_INFO_CAPS)
		show_info_caps(info);
	free(info);
	return 0;
}

static void show_regions(int device)
{
	static const char * const names[] = {
		"BAR0", "BAR1", "BAR2", "BAR3", "BAR4", "BAR5", "ROM",
		"config", "VGA",
	};
	struct vfio_device_info dinfo = { .argsz = sizeof(dinfo) };

	if (ioctl(device, VFIO_DEVICE_GET_INFO, &dinfo)) {
		printf("VFIO_DEVICE_GET_INFO: %s\n", strerror(errno));
		return;
	}
	printf("Device: %u regions, %u irq types, flags 0x%x\n",
	       dinfo.num_regions, dinfo.num_irqs, dinfo.flags);
	for (unsigned int i = 0; i < dinfo.num_regions && i < 9; i++) {
		struct vfio_region_info r = { .argsz = sizeof(r), .index = i };

		if (ioctl(device, VFIO_DEVICE_GET_REGION_INFO, &r) || !r.size)
			continue;
		printf("  %-6s size 0x%-8llx offset 0x%llx %s%s%s\n", names[i],
		       (unsigned long long)r.size, (unsigned long long)r.offset,
		       r.flags & VFIO_REGION_INFO_FLAG_READ ? "read " : "",
		       r.flags & VFIO_REGION_INFO_FLAG_WRITE ? "write " : "",
		       r.flags & VFIO_REGION_INFO_FLAG_MMAP ? "mmap" : "");
	}
}

static int bar0_write64(int device, unsigned int off, uint64_t val)
{
	return pwrite(device, &val, 8, VPT_REGION_OFFSET(0) + off) == 8 ?
	       0 : -errno;
}

static int edu_dma(int device, uint64_t src, uint64_t dst, uint64_t cmd)
{
	uint64_t busy = 1;
	int i;

	if (bar0_write64(device, EDU_DMA_SRC, src) ||
	    bar0_write64(device, EDU_DMA_DST, dst) ||
	    bar0_write64(device, EDU_DMA_COUNT, DEMO_XFER) ||
	    bar0_write64(device, EDU_DMA_CMD, cmd | EDU_DMA_START))
		return -errno;
	/* edu runs its DMA from a 100 ms timer. */
	for (i = 0; i < 100 && (busy & EDU_DMA_START); i++) {
		usleep(20000);
		if (pread(device, &busy, 8,
			  VPT_REGION_OFFSET(0) + EDU_DMA_CMD) != 8)
			return -errno;
	}
	return busy & EDU_DMA_START ? -ETIMEDOUT : 0;
}

static int dma_round_trip(struct vpt_dev *d)
{
	struct vfio_iommu_type1_dma_map map = {
		.argsz = sizeof(map),
		.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
		.iova = DEMO_IOVA, .size = 2 * DEMO_LEN,
	};
	struct vfio_iommu_type1_dma_unmap unmap = {
		.argsz = sizeof(unmap), .iova = DEMO_IOVA, .size = 2 * DEMO_LEN,
	};
	unsigned char *buf;
	uint16_t cmd;
	int ret, i;

	buf = mmap(NULL, 2 * DEMO_LEN, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED)
		return -errno;
	for (i = 0; i < DEMO_LEN; i++)
		buf[i] = (unsigned char)(i * 7 + 3);
	memset(buf + DEMO_LEN, 0, DEMO_LEN);

	map.vaddr = (uintptr_t)buf;
	ret = step("MAP_DMA 8 KiB user buffer at IOVA 0x40000000",
		   ioctl(d->container, VFIO_IOMMU_MAP_DMA, &map) ? -errno : 0);
	if (ret)
		goto out;
	ret = vpt_cfg_read(d->device, 4, &cmd, 2);
	cmd |= 0x6;	/* memory decode, bus master */
	ret = ret ?: vpt_cfg_write(d->device, 4, &cmd, 2);
	step("enable memory decode and bus master in PCI_COMMAND", ret);
	ret = ret ?: step("edu DMA: buffer page 0 -> edu memory",
			  edu_dma(d->device, DEMO_IOVA, EDU_BUFFER, 0));
	ret = ret ?: step("edu DMA: edu memory -> buffer page 1",
			  edu_dma(d->device, EDU_BUFFER, DEMO_IOVA + DEMO_LEN,
				  EDU_DMA_TO_RAM));
	if (!ret)
		ret = step("bytes came back through the IOMMU unchanged",
			   memcmp(buf, buf + DEMO_LEN, DEMO_XFER) ? -EIO : 0);
	step("UNMAP_DMA", ioctl(d->container, VFIO_IOMMU_UNMAP_DMA, &unmap) ?
	     -errno : 0);
out:
	munmap(buf, 2 * DEMO_LEN);
	return ret;
}

static void sizing_address(struct vpt_dev *d)
{
	struct vfio_iommu_type1_dma_map map = {
		.argsz = sizeof(map),
		.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
		.iova = 0xfffffffffebe0000ULL, .size = 0x4000,
	};
	void *buf = mmap(NULL, map.size, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int ret;

	if (buf == MAP_FAILED)
		return;
	map.vaddr = (uintptr_t)buf;
	ret = ioctl(d->container, VFIO_IOMMU_MAP_DMA, &map) ? -errno : 0;
	printf("  MAP_DMA at the sizing address 0x%llx: %s\n",
	       (unsigned long long)map.iova,
	       ret ? strerror(-ret) : "accepted (unexpected)");
	map.flags |= VPT_DMA_MAP_FLAG_SKIP_ABOVE_WIDTH;
	ret = ioctl(d->container, VFIO_IOMMU_MAP_DMA, &map) ? -errno : 0;
	printf("  the same with VPT_DMA_MAP_FLAG_SKIP_ABOVE_WIDTH: %s\n",
	       ret ? strerror(-ret) : "skipped: nothing pinned or mapped");
	munmap(buf, map.size);
}

int main(int argc, char **argv)
{
	const char *bdf = argc > 1 ? argv[1] : VPT_EDU_BDF;
	struct vpt_dev d;
	int ret;

	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("vpt demo: device %s, IOMMU group %d\n", bdf,
	       vpt_iommu_group(bdf));
	ret = step("open container, group; SET_CONTAINER; SET_IOMMU(TYPE1v2); GET_DEVICE_FD",
		   vpt_dev_open(&d, bdf));
	if (ret)
		return 1;
	if (show_iommu(d.container))
		printf("VFIO_IOMMU_GET_INFO: %s\n", strerror(errno));
	show_regions(d.device);
	printf("DMA round trip through edu:\n");
	ret = dma_round_trip(&d);
	printf("After a guest writes all-ones to a 64-bit BAR:\n");
	sizing_address(&d);
	show_iommu(d.container);
	vpt_dev_close(&d);
	printf("vpt demo: %s\n", ret ? "FAILED" : "done");
	return ret ? 1 : 0;
}
