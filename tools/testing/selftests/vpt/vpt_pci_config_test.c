// SPDX-License-Identifier: GPL-2.0
/*
 * vpt_pci_config_test - the config region: what the user reads matches the
 * hardware where it is not virtualised, BAR sizing is answered from the
 * virtual config space (32-bit, 64-bit in either order, I/O and ROM BARs)
 * without the hardware BAR ever changing, the capability chain is sane
 * and survives arbitrary writes, MSI/MSI-X registers are virtual, and the
 * PCI Express FLR bit resets the function.
 *
 * "Hardware" values are read from sysfs config, which reaches the device
 * directly.  Devices: edu, ivshmem, nvme and virtio-net, bound to vpt-pci
 * by the runner.
 */
#include <stddef.h>
#include <sys/stat.h>

#include "kselftest_harness.h"
#include "vpt_util.h"

#include <linux/pci_regs.h>

#define MAX_CAPS	48

static int has(uint32_t flags, uint32_t bit)
{
	return !!(flags & bit);
}

static uint32_t hw32(const char *bdf, unsigned int off)
{
	uint32_t v = 0xdeadbeef;

	vpt_sysfs_config(bdf, off, &v, 4);
	return v;
}

static uint16_t hw16(const char *bdf, unsigned int off)
{
	uint16_t v = 0xdead;

	vpt_sysfs_config(bdf, off, &v, 2);
	return v;
}

static uint32_t cfg32(int device, unsigned int off)
{
	uint32_t v = 0xdeadbeef;

	vpt_cfg_read(device, off, &v, 4);
	return v;
}

static uint16_t cfg16(int device, unsigned int off)
{
	uint16_t v = 0xdead;

	vpt_cfg_read(device, off, &v, 2);
	return v;
}

static int cfg_w32(int device, unsigned int off, uint32_t v)
{
	return vpt_cfg_write(device, off, &v, 4);
}

static int cfg_w16(int device, unsigned int off, uint16_t v)
{
	return vpt_cfg_write(device, off, &v, 2);
}

/* Size of config space as sysfs shows it. */
static long cfg_size(const char *bdf)
{
	char path[PATH_MAX];
	struct stat st;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/config", bdf);
	return stat(path, &st) ? -1 : st.st_size;
}

/* Size of resource @bar from sysfs "resource", 0 if none. */
static uint64_t res_size(const char *bdf, int bar)
{
	unsigned long long start = 0, end = 0, flags;
	char path[PATH_MAX];
	FILE *f;
	int i;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/resource", bdf);
	f = fopen(path, "r");
	if (!f)
		return 0;
	for (i = 0; i <= bar; i++)
		if (fscanf(f, "%llx %llx %llx", &start, &end, &flags) != 3)
			start = 0, end = 0;
	fclose(f);
	return start || end ? end - start + 1 : 0;
}

/*
 * A standard capability chain: positions and IDs, read by @read8 from the
 * config region (device >= 0) or the hardware (bdf).  Returns the length,
 * or -1 for a pointer out of bounds, misaligned, or a loop.
 */
struct chain {
	uint8_t pos[MAX_CAPS];
	uint8_t id[MAX_CAPS];
	int n;
};

static int read_chain(int device, const char *bdf, struct chain *c)
{
	uint8_t cfg[256];
	unsigned int pos;
	int i;

	if (device >= 0 ? vpt_cfg_read(device, 0, cfg, 256) :
			  vpt_sysfs_config(bdf, 0, cfg, 256))
		return -1;
	c->n = 0;
	if (!(cfg[PCI_STATUS] & PCI_STATUS_CAP_LIST))
		return 0;
	for (pos = cfg[PCI_CAPABILITY_LIST]; pos; pos = cfg[pos + 1]) {
		if (device < 0)
			pos &= ~3;	/* the hardware's low bits are reserved */
		if (pos < 0x40 || pos > 0xfc || pos % 4 || c->n == MAX_CAPS)
			return -1;
		for (i = 0; i < c->n; i++)
			if (c->pos[i] == pos)
				return -1;
		c->pos[c->n] = pos;
		c->id[c->n] = cfg[pos];
		c->n++;
	}
	return c->n;
}

/* Offset of capability @id in the config region's chain, 0 if none. */
static unsigned int find_cap(int device, uint8_t id)
{
	struct chain c;
	int i;

	if (read_chain(device, NULL, &c) < 0)
		return 0;
	for (i = 0; i < c.n; i++)
		if (c.id[i] == id)
			return c.pos[i];
	return 0;
}

/* Extended capability headers (position, ID) from the config region. */
static int read_ecaps(int device, long size, uint32_t *hdrs, int max)
{
	unsigned int pos = 0x100;
	int n = 0;

	if (size <= 0x100)
		return 0;
	while (pos && n < max) {
		uint32_t h = cfg32(device, pos);

		if (!h || h == 0xffffffff)
			break;
		if (pos < 0x100 || pos > size - 4 || pos % 4)
			return -1;
		hdrs[n++] = pos << 16 | PCI_EXT_CAP_ID(h);
		pos = PCI_EXT_CAP_NEXT(h);
	}
	return n == max ? -1 : n;
}

/* --- every device ------------------------------------------------------ */

FIXTURE(dev) {
	struct vpt_dev d;
};

FIXTURE_VARIANT(dev) {
	const char *bdf;
};

FIXTURE_VARIANT_ADD(dev, edu) { .bdf = VPT_EDU_BDF };
FIXTURE_VARIANT_ADD(dev, ivshmem) { .bdf = VPT_IVSHMEM_BDF };
FIXTURE_VARIANT_ADD(dev, nvme) { .bdf = VPT_NVME_BDF };
FIXTURE_VARIANT_ADD(dev, virtio_net) { .bdf = VPT_VIRTIO_NET_BDF };

FIXTURE_SETUP(dev)
{
	ASSERT_EQ(0, vpt_dev_open(&self->d, variant->bdf));
}

FIXTURE_TEARDOWN(dev)
{
	vpt_dev_close(&self->d);
}

/* Virtualised header bytes, compared by their own tests. */
static int header_virtualised(unsigned int off)
{
	return (off >= PCI_COMMAND && off < PCI_CLASS_REVISION) ||
	       (off >= PCI_BASE_ADDRESS_0 && off < PCI_CARDBUS_CIS) ||
	       (off >= PCI_ROM_ADDRESS && off <= PCI_CAPABILITY_LIST) ||
	       off == PCI_INTERRUPT_LINE || off == PCI_INTERRUPT_PIN;
}

TEST_F(dev, header_matches_hardware_except_virtualised_fields)
{
	uint8_t user[64], hw[64];
	unsigned int i;

	ASSERT_EQ(0, vpt_cfg_read(self->d.device, 0, user, 64));
	ASSERT_EQ(0, vpt_sysfs_config(variant->bdf, 0, hw, 64));
	for (i = 0; i < 64; i++) {
		if (header_virtualised(i))
			continue;
		EXPECT_EQ(hw[i], user[i]) TH_LOG("offset %#x", i);
	}
}

TEST_F(dev, bars_read_hardware_values_until_written)
{
	unsigned int off;

	for (off = PCI_BASE_ADDRESS_0; off <= PCI_BASE_ADDRESS_5; off += 4)
		EXPECT_EQ(hw32(variant->bdf, off), cfg32(self->d.device, off))
			TH_LOG("BAR at %#x", off);
	EXPECT_EQ(hw32(variant->bdf, PCI_ROM_ADDRESS),
		  cfg32(self->d.device, PCI_ROM_ADDRESS));
}

TEST_F(dev, sizing_every_bar_leaves_hardware_bars_unchanged)
{
	uint32_t before[7], user[7];
	unsigned int i, off;

	for (i = 0; i < 7; i++) {
		off = i < 6 ? PCI_BASE_ADDRESS_0 + 4 * i : PCI_ROM_ADDRESS;
		before[i] = hw32(variant->bdf, off);
		user[i] = cfg32(self->d.device, off);
		ASSERT_EQ(0, cfg_w32(self->d.device, off, 0xffffffff));
	}
	for (i = 0; i < 7; i++) {
		off = i < 6 ? PCI_BASE_ADDRESS_0 + 4 * i : PCI_ROM_ADDRESS;
		EXPECT_EQ(before[i], hw32(variant->bdf, off))
			TH_LOG("hardware BAR at %#x", off);
		/* Writing the old value back restores the user's view. */
		ASSERT_EQ(0, cfg_w32(self->d.device, off, user[i]));
		EXPECT_EQ(user[i], cfg32(self->d.device, off));
	}
}

TEST_F(dev, capability_chain_is_bounded_and_follows_hardware)
{
	struct chain user, hw;
	int i, j = 0;

	ASSERT_LE(0, read_chain(self->d.device, NULL, &user));
	ASSERT_LE(0, read_chain(-1, variant->bdf, &hw));
	/* The user's chain lists hardware capabilities, in their order. */
	for (i = 0; i < user.n; i++) {
		while (j < hw.n && hw.pos[j] != user.pos[i])
			j++;
		ASSERT_LT(j, hw.n) TH_LOG("cap %#x@%#x not in hardware",
					  user.id[i], user.pos[i]);
		EXPECT_EQ(hw.id[j], user.id[i]);
	}
}

TEST_F(dev, known_capabilities_are_kept)
{
	static const uint8_t keep[] = {
		PCI_CAP_ID_PM, PCI_CAP_ID_MSI, PCI_CAP_ID_EXP, PCI_CAP_ID_MSIX,
	};
	struct chain user, hw;
	unsigned int k;
	int i;

	ASSERT_LE(0, read_chain(self->d.device, NULL, &user));
	ASSERT_LE(0, read_chain(-1, variant->bdf, &hw));
	for (i = 0; i < hw.n; i++) {
		for (k = 0; k < sizeof(keep); k++) {
			uint8_t id = keep[k];

			if (hw.id[i] != id)
				continue;
			EXPECT_NE(0U, find_cap(self->d.device, id))
				TH_LOG("cap %#x hidden", id);
		}
	}
}

/*
 * Arbitrary writes over all of config space (PCI_COMMAND aside, it is
 * written through) leave the identity, the capability chains, the
 * hardware BARs, phantom functions and ARI alone.
 */
TEST_F(dev, random_writes_keep_identity_chain_and_hardware)
{
	long size = cfg_size(variant->bdf);
	uint32_t ecaps[2][64], id_hw, id_user, class_user;
	uint32_t bars[7];
	struct chain c0, c1;
	unsigned int off, exp;
	uint16_t devctl = 0, devctl2 = 0;
	int n0, n1, i;

	ASSERT_LT(0, size);
	ASSERT_LE(0, read_chain(self->d.device, NULL, &c0));
	n0 = read_ecaps(self->d.device, size, ecaps[0], 64);
	ASSERT_LE(0, n0);
	id_hw = hw32(variant->bdf, PCI_VENDOR_ID);
	id_user = cfg32(self->d.device, PCI_VENDOR_ID);
	class_user = cfg32(self->d.device, PCI_CLASS_REVISION);
	for (i = 0; i < 7; i++)
		bars[i] = hw32(variant->bdf, i < 6 ? PCI_BASE_ADDRESS_0 + 4 * i :
					     PCI_ROM_ADDRESS);
	exp = find_cap(self->d.device, PCI_CAP_ID_EXP);
	if (exp) {
		devctl = hw16(variant->bdf, exp + PCI_EXP_DEVCTL);
		devctl2 = hw16(variant->bdf, exp + PCI_EXP_DEVCTL2);
	}

	srandom(0x5eed);
	for (off = 0; off < (unsigned int)size; off += 4) {
		if (off == PCI_COMMAND)
			continue;
		ASSERT_EQ(0, cfg_w32(self->d.device, off, random()))
			TH_LOG("offset %#x", off);
	}
	/* And once more with all ones. */
	for (off = 0; off < (unsigned int)size; off += 4) {
		if (off == PCI_COMMAND)
			continue;
		ASSERT_EQ(0, cfg_w32(self->d.device, off, 0xffffffff));
	}

	EXPECT_EQ(id_hw, hw32(variant->bdf, PCI_VENDOR_ID));
	EXPECT_EQ(id_user, cfg32(self->d.device, PCI_VENDOR_ID));
	EXPECT_EQ(class_user, cfg32(self->d.device, PCI_CLASS_REVISION));
	ASSERT_LE(0, read_chain(self->d.device, NULL, &c1));
	ASSERT_EQ(c0.n, c1.n);
	EXPECT_EQ(0, memcmp(c0.pos, c1.pos, c0.n));
	EXPECT_EQ(0, memcmp(c0.id, c1.id, c0.n));
	n1 = read_ecaps(self->d.device, size, ecaps[1], 64);
	ASSERT_EQ(n0, n1);
	EXPECT_EQ(0, memcmp(ecaps[0], ecaps[1], n0 * sizeof(ecaps[0][0])));
	for (i = 0; i < 7; i++)
		EXPECT_EQ(bars[i],
			  hw32(variant->bdf, i < 6 ? PCI_BASE_ADDRESS_0 + 4 * i :
					       PCI_ROM_ADDRESS));
	if (exp) {
		EXPECT_EQ(devctl & PCI_EXP_DEVCTL_PHANTOM,
			  hw16(variant->bdf, exp + PCI_EXP_DEVCTL) &
			  PCI_EXP_DEVCTL_PHANTOM);
		EXPECT_EQ(devctl2 & PCI_EXP_DEVCTL2_ARI,
			  hw16(variant->bdf, exp + PCI_EXP_DEVCTL2) &
			  PCI_EXP_DEVCTL2_ARI);
	}
}

TEST_F(dev, access_past_config_end_is_efault)
{
	long size = cfg_size(variant->bdf);
	uint8_t buf[4] = { 0 };
	uint64_t base = VPT_REGION_OFFSET(VFIO_PCI_CONFIG_REGION_INDEX);

	ASSERT_LT(0, size);
	EXPECT_EQ(-1, pread(self->d.device, buf, 4, base + size));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, pread(self->d.device, buf, 4, base + size - 2));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, pwrite(self->d.device, buf, 4, base + size));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, pread(self->d.device, buf, 4, base + (1ULL << 40) - 4));
	EXPECT_EQ(EFAULT, errno);
	/* The last dword is fine. */
	EXPECT_EQ(4, pread(self->d.device, buf, 4, base + size - 4));
}

TEST_F(dev, unaligned_read_matches_hardware)
{
	uint8_t user[7], hw[7];

	/* 1 + 2 + 4 byte pieces, across the vendor and device IDs. */
	ASSERT_EQ(0, vpt_cfg_read(self->d.device, 1, user, 3));
	ASSERT_EQ(0, vpt_sysfs_config(variant->bdf, 1, hw, 3));
	EXPECT_EQ(0, memcmp(user, hw, 3));
	ASSERT_EQ(0, vpt_cfg_read(self->d.device, 0x9, user, 7));
	ASSERT_EQ(0, vpt_sysfs_config(variant->bdf, 0x9, hw, 7));
	EXPECT_EQ(0, memcmp(user, hw, 3));	/* class code */
}

/* --- BAR sizing -------------------------------------------------------- */

TEST(edu_bar0_sizes_to_1mib_hardware_unchanged)
{
	uint32_t hw = hw32(VPT_EDU_BDF, PCI_BASE_ADDRESS_0), orig;
	struct vpt_dev d;

	ASSERT_EQ((uint64_t)1 << 20, res_size(VPT_EDU_BDF, 0));
	ASSERT_EQ(0, vpt_dev_open(&d, VPT_EDU_BDF));
	orig = cfg32(d.device, PCI_BASE_ADDRESS_0);

	ASSERT_EQ(0, cfg_w32(d.device, PCI_BASE_ADDRESS_0, 0xffffffff));
	/* 32-bit, non-prefetchable memory: type bits 0. */
	EXPECT_EQ(0xfff00000, cfg32(d.device, PCI_BASE_ADDRESS_0));
	EXPECT_EQ(hw, hw32(VPT_EDU_BDF, PCI_BASE_ADDRESS_0));

	/* Any value keeps only the address bits the size allows. */
	ASSERT_EQ(0, cfg_w32(d.device, PCI_BASE_ADDRESS_0, 0x123456ff));
	EXPECT_EQ(0x12300000U, cfg32(d.device, PCI_BASE_ADDRESS_0));

	ASSERT_EQ(0, cfg_w32(d.device, PCI_BASE_ADDRESS_0, orig));
	EXPECT_EQ(orig, cfg32(d.device, PCI_BASE_ADDRESS_0));
	EXPECT_EQ(hw, hw32(VPT_EDU_BDF, PCI_BASE_ADDRESS_0));
	vpt_dev_close(&d);
}

TEST(edu_unimplemented_bar_reads_zero)
{
	struct vpt_dev d;

	ASSERT_EQ(0, vpt_dev_open(&d, VPT_EDU_BDF));
	ASSERT_EQ(0, cfg_w32(d.device, PCI_BASE_ADDRESS_1, 0xffffffff));
	EXPECT_EQ(0U, cfg32(d.device, PCI_BASE_ADDRESS_1));
	ASSERT_EQ(0, cfg_w32(d.device, PCI_BASE_ADDRESS_5, 0xffffffff));
	EXPECT_EQ(0U, cfg32(d.device, PCI_BASE_ADDRESS_5));
	vpt_dev_close(&d);
}

FIXTURE(ivshmem) {
	struct vpt_dev d;
	uint64_t size;
	uint32_t hw_lo, hw_hi, lo, hi;
};

FIXTURE_SETUP(ivshmem)
{
	self->size = res_size(VPT_IVSHMEM_BDF, 2);
	ASSERT_NE(0ULL, (unsigned long long)self->size);
	self->hw_lo = hw32(VPT_IVSHMEM_BDF, PCI_BASE_ADDRESS_2);
	self->hw_hi = hw32(VPT_IVSHMEM_BDF, PCI_BASE_ADDRESS_3);
	/* A 64-bit prefetchable memory BAR. */
	ASSERT_EQ((uint32_t)(PCI_BASE_ADDRESS_MEM_TYPE_64 |
			     PCI_BASE_ADDRESS_MEM_PREFETCH), self->hw_lo & 0xf);
	ASSERT_EQ(0, vpt_dev_open(&self->d, VPT_IVSHMEM_BDF));
	self->lo = cfg32(self->d.device, PCI_BASE_ADDRESS_2);
	self->hi = cfg32(self->d.device, PCI_BASE_ADDRESS_3);
}

FIXTURE_TEARDOWN(ivshmem)
{
	vpt_dev_close(&self->d);
}

static void ivshmem_expect_hw_unchanged(struct __test_metadata *_metadata,
					struct _test_data_ivshmem *self)
{
	EXPECT_EQ(self->hw_lo, hw32(VPT_IVSHMEM_BDF, PCI_BASE_ADDRESS_2));
	EXPECT_EQ(self->hw_hi, hw32(VPT_IVSHMEM_BDF, PCI_BASE_ADDRESS_3));
}

TEST_F(ivshmem, bar2_sizing_high_half_first)
{
	uint64_t mask = ~(self->size - 1);
	int dev = self->d.device;

	ASSERT_EQ(0, cfg_w32(dev, PCI_BASE_ADDRESS_3, 0xffffffff));
	EXPECT_EQ((uint32_t)(mask >> 32), cfg32(dev, PCI_BASE_ADDRESS_3));
	/* The low half still holds its address. */
	EXPECT_EQ(self->lo, cfg32(dev, PCI_BASE_ADDRESS_2));
	ivshmem_expect_hw_unchanged(_metadata, self);

	ASSERT_EQ(0, cfg_w32(dev, PCI_BASE_ADDRESS_2, 0xffffffff));
	EXPECT_EQ((uint32_t)mask | 0xc, cfg32(dev, PCI_BASE_ADDRESS_2));
	EXPECT_EQ((uint32_t)(mask >> 32), cfg32(dev, PCI_BASE_ADDRESS_3));
	ivshmem_expect_hw_unchanged(_metadata, self);

	ASSERT_EQ(0, cfg_w32(dev, PCI_BASE_ADDRESS_3, self->hi));
	ASSERT_EQ(0, cfg_w32(dev, PCI_BASE_ADDRESS_2, self->lo));
	EXPECT_EQ(self->lo, cfg32(dev, PCI_BASE_ADDRESS_2));
	EXPECT_EQ(self->hi, cfg32(dev, PCI_BASE_ADDRESS_3));
	ivshmem_expect_hw_unchanged(_metadata, self);
}

TEST_F(ivshmem, bar2_sizing_low_half_first)
{
	uint64_t mask = ~(self->size - 1);
	int dev = self->d.device;

	ASSERT_EQ(0, cfg_w32(dev, PCI_BASE_ADDRESS_2, 0xffffffff));
	EXPECT_EQ((uint32_t)mask | 0xc, cfg32(dev, PCI_BASE_ADDRESS_2));
	EXPECT_EQ(self->hi, cfg32(dev, PCI_BASE_ADDRESS_3));
	ivshmem_expect_hw_unchanged(_metadata, self);

	ASSERT_EQ(0, cfg_w32(dev, PCI_BASE_ADDRESS_3, 0xffffffff));
	EXPECT_EQ((uint32_t)(mask >> 32), cfg32(dev, PCI_BASE_ADDRESS_3));
	EXPECT_EQ((uint32_t)mask | 0xc, cfg32(dev, PCI_BASE_ADDRESS_2));
	ivshmem_expect_hw_unchanged(_metadata, self);

	ASSERT_EQ(0, cfg_w32(dev, PCI_BASE_ADDRESS_2, self->lo));
	ASSERT_EQ(0, cfg_w32(dev, PCI_BASE_ADDRESS_3, self->hi));
	EXPECT_EQ(self->lo, cfg32(dev, PCI_BASE_ADDRESS_2));
	EXPECT_EQ(self->hi, cfg32(dev, PCI_BASE_ADDRESS_3));
	ivshmem_expect_hw_unchanged(_metadata, self);
}

FIXTURE(virtio) {
	struct vpt_dev d;
};

FIXTURE_SETUP(virtio)
{
	ASSERT_EQ(0, vpt_dev_open(&self->d, VPT_VIRTIO_NET_BDF));
}

FIXTURE_TEARDOWN(virtio)
{
	vpt_dev_close(&self->d);
}

TEST_F(virtio, io_bar0_sizes_with_io_bit)
{
	uint64_t size = res_size(VPT_VIRTIO_NET_BDF, 0);
	uint32_t hw = hw32(VPT_VIRTIO_NET_BDF, PCI_BASE_ADDRESS_0);
	uint32_t orig = cfg32(self->d.device, PCI_BASE_ADDRESS_0);

	ASSERT_NE(0ULL, (unsigned long long)size);
	ASSERT_EQ((uint32_t)PCI_BASE_ADDRESS_SPACE_IO, hw & 1);
	ASSERT_EQ(0, cfg_w32(self->d.device, PCI_BASE_ADDRESS_0, 0xffffffff));
	EXPECT_EQ((uint32_t)~(size - 1) | (uint32_t)PCI_BASE_ADDRESS_SPACE_IO,
		  cfg32(self->d.device, PCI_BASE_ADDRESS_0));
	EXPECT_EQ(hw, hw32(VPT_VIRTIO_NET_BDF, PCI_BASE_ADDRESS_0));
	ASSERT_EQ(0, cfg_w32(self->d.device, PCI_BASE_ADDRESS_0, orig));
	EXPECT_EQ(orig, cfg32(self->d.device, PCI_BASE_ADDRESS_0));
}

TEST_F(virtio, rom_bar_sizes_keeping_enable_bit)
{
	uint64_t size = res_size(VPT_VIRTIO_NET_BDF, 6);
	uint32_t hw = hw32(VPT_VIRTIO_NET_BDF, PCI_ROM_ADDRESS);
	uint32_t mask = (uint32_t)~(size - 1) & PCI_ROM_ADDRESS_MASK;

	ASSERT_NE(0ULL, (unsigned long long)size);
	ASSERT_EQ(0, cfg_w32(self->d.device, PCI_ROM_ADDRESS, 0xffffffff));
	EXPECT_EQ(mask | PCI_ROM_ADDRESS_ENABLE,
		  cfg32(self->d.device, PCI_ROM_ADDRESS));
	ASSERT_EQ(0, cfg_w32(self->d.device, PCI_ROM_ADDRESS,
			     PCI_ROM_ADDRESS_MASK));
	EXPECT_EQ(mask, cfg32(self->d.device, PCI_ROM_ADDRESS));
	EXPECT_EQ(hw, hw32(VPT_VIRTIO_NET_BDF, PCI_ROM_ADDRESS));
}

TEST_F(virtio, msix_control_is_virtual)
{
	unsigned int pos = find_cap(self->d.device, PCI_CAP_ID_MSIX);
	uint16_t ctl, hw;

	if (vpt_stack_is_upstream())
		SKIP(return, VPT_ONLY_REASON);
	ASSERT_NE(0U, pos);
	hw = hw16(VPT_VIRTIO_NET_BDF, pos + PCI_MSIX_FLAGS);
	ctl = cfg16(self->d.device, pos + PCI_MSIX_FLAGS);
	EXPECT_EQ(0, has(ctl, PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL));
	/* The table size is the hardware's. */
	EXPECT_EQ(hw & PCI_MSIX_FLAGS_QSIZE, ctl & PCI_MSIX_FLAGS_QSIZE);

	ASSERT_EQ(0, cfg_w16(self->d.device, pos + PCI_MSIX_FLAGS,
			     PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL |
			     PCI_MSIX_FLAGS_QSIZE));
	ctl = cfg16(self->d.device, pos + PCI_MSIX_FLAGS);
	/* Enable is VFIO_DEVICE_SET_IRQS's: a config write cannot set it. */
	EXPECT_EQ(PCI_MSIX_FLAGS_MASKALL | (hw & PCI_MSIX_FLAGS_QSIZE), ctl);
	EXPECT_EQ(hw, hw16(VPT_VIRTIO_NET_BDF, pos + PCI_MSIX_FLAGS));
}

/* --- command, status, MSI --------------------------------------------- */

FIXTURE(edu) {
	struct vpt_dev d;
};

FIXTURE_SETUP(edu)
{
	ASSERT_EQ(0, vpt_dev_open(&self->d, VPT_EDU_BDF));
}

FIXTURE_TEARDOWN(edu)
{
	vpt_dev_close(&self->d);
}

TEST_F(edu, command_bus_master_is_written_through)
{
	uint16_t cmd = cfg16(self->d.device, PCI_COMMAND);

	ASSERT_EQ(0, cfg_w16(self->d.device, PCI_COMMAND,
			     cmd | PCI_COMMAND_MASTER));
	EXPECT_EQ(1, has(hw16(VPT_EDU_BDF, PCI_COMMAND), PCI_COMMAND_MASTER));
	EXPECT_EQ(1, has(cfg16(self->d.device, PCI_COMMAND),
			 PCI_COMMAND_MASTER));
	ASSERT_EQ(0, cfg_w16(self->d.device, PCI_COMMAND,
			     cmd & ~PCI_COMMAND_MASTER));
	EXPECT_EQ(0, has(hw16(VPT_EDU_BDF, PCI_COMMAND), PCI_COMMAND_MASTER));
}

TEST_F(edu, command_serr_is_virtual)
{
	uint16_t cmd = cfg16(self->d.device, PCI_COMMAND);
	uint16_t hw = hw16(VPT_EDU_BDF, PCI_COMMAND);

	if (vpt_stack_is_upstream())
		SKIP(return, VPT_ONLY_REASON);
	/* Flip SERR (firmware may have set it): only the user sees it. */
	ASSERT_EQ(0, cfg_w16(self->d.device, PCI_COMMAND,
			     cmd ^ PCI_COMMAND_SERR));
	EXPECT_EQ(!has(cmd, PCI_COMMAND_SERR),
		  has(cfg16(self->d.device, PCI_COMMAND), PCI_COMMAND_SERR));
	EXPECT_EQ(hw, hw16(VPT_EDU_BDF, PCI_COMMAND));
}

TEST_F(edu, status_write_keeps_capability_list_bit)
{
	uint16_t st = cfg16(self->d.device, PCI_STATUS);

	ASSERT_EQ(1, has(st, PCI_STATUS_CAP_LIST));
	ASSERT_EQ(0, cfg_w16(self->d.device, PCI_STATUS, 0xffff));
	EXPECT_EQ(1, has(cfg16(self->d.device, PCI_STATUS),
			 PCI_STATUS_CAP_LIST));
	/* Error bits are write-one-to-clear: none can be left set. */
	EXPECT_EQ(0, has(cfg16(self->d.device, PCI_STATUS),
			 PCI_STATUS_SIG_SYSTEM_ERROR |
			 PCI_STATUS_DETECTED_PARITY |
			 PCI_STATUS_REC_MASTER_ABORT));
}

TEST_F(edu, msi_message_is_virtual)
{
	unsigned int pos = find_cap(self->d.device, PCI_CAP_ID_MSI);
	uint32_t hw_addr, hw_data, data;
	uint16_t flags;

	ASSERT_NE(0U, pos);
	flags = cfg16(self->d.device, pos + PCI_MSI_FLAGS);
	data = pos + (has(flags, PCI_MSI_FLAGS_64BIT) ? PCI_MSI_DATA_64 :
							PCI_MSI_DATA_32);
	hw_addr = hw32(VPT_EDU_BDF, pos + PCI_MSI_ADDRESS_LO);
	hw_data = hw16(VPT_EDU_BDF, data);

	ASSERT_EQ(0, cfg_w32(self->d.device, pos + PCI_MSI_ADDRESS_LO,
			     0xfee01000));
	ASSERT_EQ(0, cfg_w16(self->d.device, data, 0x4041));
	EXPECT_EQ(0xfee01000, cfg32(self->d.device, pos + PCI_MSI_ADDRESS_LO));
	EXPECT_EQ(0x4041, cfg16(self->d.device, data));
	EXPECT_EQ(hw_addr, hw32(VPT_EDU_BDF, pos + PCI_MSI_ADDRESS_LO));
	EXPECT_EQ(hw_data, hw16(VPT_EDU_BDF, data));
}

TEST_F(edu, msi_enable_does_not_reach_hardware)
{
	unsigned int pos = find_cap(self->d.device, PCI_CAP_ID_MSI);
	uint16_t flags;

	ASSERT_NE(0U, pos);
	flags = cfg16(self->d.device, pos + PCI_MSI_FLAGS);
	ASSERT_EQ(0, cfg_w16(self->d.device, pos + PCI_MSI_FLAGS,
			     flags | PCI_MSI_FLAGS_ENABLE));
	EXPECT_EQ(0, has(hw16(VPT_EDU_BDF, pos + PCI_MSI_FLAGS),
			 PCI_MSI_FLAGS_ENABLE));
}

/* Enable and queue size are VFIO_DEVICE_SET_IRQS's: writes are ignored. */
TEST_F(edu, msi_enable_and_qsize_writes_are_ignored)
{
	unsigned int pos = find_cap(self->d.device, PCI_CAP_ID_MSI);
	uint16_t flags;

	if (vpt_stack_is_upstream())
		SKIP(return, VPT_ONLY_REASON);
	ASSERT_NE(0U, pos);
	flags = cfg16(self->d.device, pos + PCI_MSI_FLAGS);
	ASSERT_EQ(0, cfg_w16(self->d.device, pos + PCI_MSI_FLAGS,
			     flags | PCI_MSI_FLAGS_ENABLE |
			     PCI_MSI_FLAGS_QSIZE));
	EXPECT_EQ(flags, cfg16(self->d.device, pos + PCI_MSI_FLAGS));
	EXPECT_EQ(0, has(flags, PCI_MSI_FLAGS_ENABLE | PCI_MSI_FLAGS_QSIZE));
}

/* --- PCI Express function level reset ---------------------------------- */

/* NVMe controller configuration register, reset to 0 by a reset. */
#define NVME_REG_CC	0x14

TEST(nvme_devctl_flr_resets_function_and_reads_zero)
{
	uint64_t base = VPT_REGION_OFFSET(VFIO_PCI_BAR0_REGION_INDEX);
	uint32_t cc = 0x00460000, v = 0;
	unsigned int exp;
	struct vpt_dev d;
	uint16_t ctl;

	ASSERT_EQ(0, vpt_dev_open(&d, VPT_NVME_BDF));
	exp = find_cap(d.device, PCI_CAP_ID_EXP);
	ASSERT_NE(0U, exp);
	if (!has(hw32(VPT_NVME_BDF, exp + PCI_EXP_DEVCAP), PCI_EXP_DEVCAP_FLR)) {
		vpt_dev_close(&d);
		SKIP(return, "nvme has no FLR");
	}

	/* IOSQES/IOCQES with the controller disabled: just stored. */
	ASSERT_EQ(4, pwrite(d.device, &cc, 4, base + NVME_REG_CC));
	ASSERT_EQ(4, pread(d.device, &v, 4, base + NVME_REG_CC));
	ASSERT_EQ(cc, v);

	ctl = cfg16(d.device, exp + PCI_EXP_DEVCTL);
	ASSERT_EQ(0, cfg_w16(d.device, exp + PCI_EXP_DEVCTL,
			     ctl | PCI_EXP_DEVCTL_BCR_FLR));
	EXPECT_EQ(0, has(cfg16(d.device, exp + PCI_EXP_DEVCTL),
			 PCI_EXP_DEVCTL_BCR_FLR));
	ASSERT_EQ(4, pread(d.device, &v, 4, base + NVME_REG_CC));
	EXPECT_EQ(0U, v);
	vpt_dev_close(&d);
}

TEST_HARNESS_MAIN
