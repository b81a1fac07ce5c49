// SPDX-License-Identifier: GPL-2.0
/*
 * vpt_pci_rdwr.c - BAR and ROM access through read/write (mmap is in
 * vpt_pci_mmap.c).
 *
 * Memory BARs (and the ROM, which is memory space too) may only be touched
 * while the user's virtual PCI_COMMAND has memory decoding on: read/write
 * then fail with -EIO, existing mmaps are zapped by whoever turns decoding
 * off and faults raise SIGBUS.  memory_lock serialises the two: accesses
 * and faults hold it for reading, changes of the decode state (and reset)
 * for writing.  User memory is never touched while it is held, so a user
 * buffer that is itself a BAR mmap cannot make a fault recurse into it.
 */
#include <linux/io.h>
#include <linux/mm.h>
#include <linux/overflow.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "vpt_compat.h"
#include "vpt_pci_priv.h"

/* Largest piece read/write moves through one bounce buffer. */
#define VPT_PCI_RW_CHUNK	PAGE_SIZE

/**
 * vpt_pci_bar_map() - request and iomap BAR @bar on first use
 * @vpci: the device, open
 * @bar: a standard BAR index
 * @io: set to the mapping; may be NULL to only request the region
 *
 * Return: 0, or the error of requesting or mapping the region.
 */
int vpt_pci_bar_map(struct vpt_pci_device *vpci, int bar, void __iomem **io)
{
	struct pci_dev *pdev = vpci->pdev;
	int ret = 0;

	if (io) {
		/*
		 * Fast path without bar_lock: a mapping, once published
		 * below, stays until the device is closed; this acquire
		 * pairs with that release, so the iomap is complete when seen.
		 */
		*io = smp_load_acquire(&vpci->barmap[bar]);
		if (*io)
			return 0;
	}
	mutex_lock(&vpci->bar_lock);
	if (!vpci->barmap[bar]) {
		void __iomem *map;

		ret = pci_request_selected_regions(pdev, 1 << bar, "vpt-pci");
		if (ret)
			goto out;
		map = pci_iomap(pdev, bar, 0);
		if (!map) {
			pci_release_selected_regions(pdev, 1 << bar);
			ret = -ENOMEM;
			goto out;
		}
		/* Pairs with the lockless smp_load_acquire() above. */
		smp_store_release(&vpci->barmap[bar], map);
	}
	if (io)
		*io = vpci->barmap[bar];
out:
	mutex_unlock(&vpci->bar_lock);
	return ret;
}

/**
 * vpt_pci_bars_release() - unmap and release every BAR mapped so far
 * @vpci: the device, at close (no user access can be in flight)
 */
void vpt_pci_bars_release(struct vpt_pci_device *vpci)
{
	int bar;

	mutex_lock(&vpci->bar_lock);
	for (bar = 0; bar < PCI_STD_NUM_BARS; bar++) {
		if (!vpci->barmap[bar])
			continue;
		pci_iounmap(vpci->pdev, vpci->barmap[bar]);
		pci_release_selected_regions(vpci->pdev, 1 << bar);
		vpci->barmap[bar] = NULL;
	}
	mutex_unlock(&vpci->bar_lock);
}

/*
 * Move @count bytes between @kbuf and @io + @off in naturally aligned 1, 2,
 * 4 (and with @qword, 8) byte accesses.  Bytes in [@hole_start, @hole_end)
 * are not accessed: they read as 0xff and writes to them are dropped.
 */
static void vpt_pci_do_io(void __iomem *io, u64 off, u8 *kbuf, size_t count,
			  u64 hole_start, u64 hole_end, bool qword,
			  bool iswrite)
{
	while (count) {
		size_t n;

		if (off >= hole_start && off < hole_end) {
			n = min_t(u64, count, hole_end - off);
			if (!iswrite)
				memset(kbuf, 0xff, n);
			goto next;
		}
		n = count;
		if (off < hole_start)
			n = min_t(u64, n, hole_start - off);

#ifdef readq
		if (qword && n >= 8 && !(off % 8)) {
			n = 8;
			if (iswrite)
				writeq(get_unaligned_le64(kbuf), io + off);
			else
				put_unaligned_le64(readq(io + off), kbuf);
			goto next;
		}
#endif
		if (n >= 4 && !(off % 4)) {
			n = 4;
			if (iswrite)
				iowrite32(get_unaligned_le32(kbuf), io + off);
			else
				put_unaligned_le32(ioread32(io + off), kbuf);
		} else if (n >= 2 && !(off % 2)) {
			n = 2;
			if (iswrite)
				iowrite16(get_unaligned_le16(kbuf), io + off);
			else
				put_unaligned_le16(ioread16(io + off), kbuf);
		} else {
			n = 1;
			if (iswrite)
				iowrite8(*kbuf, io + off);
			else
				*kbuf = ioread8(io + off);
		}
next:
		off += n;
		kbuf += n;
		count -= n;
	}
}

/* One bounce-buffer's worth of a BAR or ROM access, under the locks. */
static int vpt_pci_bar_io(struct vpt_pci_device *vpci, int bar, u64 off,
			  u8 *kbuf, size_t count, bool iswrite)
{
	struct pci_dev *pdev = vpci->pdev;
	bool mem = pci_resource_flags(pdev, bar) & IORESOURCE_MEM;
	u64 hole_start = 0, hole_end = 0;
	void __iomem *io = NULL;
	int ret = 0;

	if (bar != PCI_ROM_RESOURCE) {
		ret = vpt_pci_bar_map(vpci, bar, &io);
		if (ret)
			return ret;
		if (bar == vpci->msix_bar) {
			hole_start = vpci->msix_offset;
			hole_end = hole_start + vpci->msix_size;
		}
	}

	if (mem) {
		down_read(&vpci->memory_lock);
		if (!vpt_pci_memory_enabled(vpci)) {
			ret = -EIO;
			goto out;
		}
	}

	if (bar == PCI_ROM_RESOURCE) {
		size_t rom_size;

		/*
		 * pci_map_rom() switches the ROM BAR's enable bit on for the
		 * access: the ROM reads whatever the user's virtual ROM BAR
		 * says.  bar_lock keeps two readers from disabling it under
		 * each other.
		 */
		mutex_lock(&vpci->bar_lock);
		io = pci_map_rom(pdev, &rom_size);
		if (!io) {
			mutex_unlock(&vpci->bar_lock);
			ret = -EIO;
			goto out;
		}
		/*
		 * Past the image the BAR reads as 0xff.  At most dword
		 * accesses, as upstream: some devices (X710) raise AER on a
		 * qword read of their ROM.
		 */
		hole_start = rom_size;
		hole_end = U64_MAX;
		vpt_pci_do_io(io, off, kbuf, count, hole_start, hole_end,
			      false, false);
		pci_unmap_rom(pdev, io);
		mutex_unlock(&vpci->bar_lock);
	} else {
		vpt_pci_do_io(io, off, kbuf, count, hole_start, hole_end,
			      mem, iswrite);
	}
out:
	if (mem)
		up_read(&vpci->memory_lock);
	return ret;
}

/**
 * vpt_pci_bar_rw() - read(2)/write(2) on a BAR or the ROM region
 * @vpci: the device
 * @buf: user buffer
 * @count: bytes requested
 * @ppos: file position: region index and offset
 * @iswrite: write rather than read (never for the ROM)
 *
 * As upstream: a BAR or ROM with no assigned start (its resource starts at
 * 0) and an offset at or past the end of the region fail with -EINVAL, an
 * access running past the end is shortened to it.  An unassigned ROM is
 * never enabled at bus address 0 nor mapped.
 *
 * Return: bytes transferred or a negative errno.
 */
ssize_t vpt_pci_bar_rw(struct vpt_pci_device *vpci, char __user *buf,
		       size_t count, loff_t *ppos, bool iswrite)
{
	int bar = VPT_PCI_INDEX(*ppos);
	u64 off = *ppos & VPT_PCI_OFFSET_MASK;
	u64 len = pci_resource_len(vpci->pdev, bar);
	size_t done = 0;
	u8 small[64], *kbuf = small;
	int ret = 0;

	if (!len || !pci_resource_start(vpci->pdev, bar) || off >= len)
		return -EINVAL;
	count = min_t(u64, count, len - off);
	if (!count)
		return 0;

	if (count > sizeof(small)) {
		kbuf = kmalloc(min_t(size_t, count, VPT_PCI_RW_CHUNK), GFP_KERNEL);
		if (!kbuf)
			return -ENOMEM;
	}

	while (done < count) {
		size_t n = min_t(size_t, count - done, VPT_PCI_RW_CHUNK);

		if (iswrite && vpt_pci_copy_user(kbuf, buf + done, n, false)) {
			ret = -EFAULT;
			break;
		}
		ret = vpt_pci_bar_io(vpci, bar, off + done, kbuf, n, iswrite);
		if (ret)
			break;
		if (!iswrite && vpt_pci_copy_user(kbuf, buf + done, n, true)) {
			ret = -EFAULT;
			break;
		}
		done += n;
	}
	if (kbuf != small)
		kfree(kbuf);
	if (ret)
		return ret;
	*ppos += done;
	return done;
}

/**
 * vpt_pci_rom_size() - the size to report for the ROM region
 * @vpci: the device
 *
 * Return: the ROM BAR's size if it is assigned and holds a valid ROM
 * image, else 0.
 * Reading the image needs memory decoding: it is switched on in the
 * hardware for the check if the user has it off.
 */
size_t vpt_pci_rom_size(struct vpt_pci_device *vpci)
{
	struct pci_dev *pdev = vpci->pdev;
	size_t len = pci_resource_len(pdev, PCI_ROM_RESOURCE);
	void __iomem *io;
	size_t size;
	u16 cmd;

	/* Unassigned: pci_map_rom() would enable and map bus address 0. */
	if (!len || !pci_resource_start(pdev, PCI_ROM_RESOURCE))
		return 0;

	down_write(&vpci->memory_lock);
	mutex_lock(&vpci->bar_lock);
	/* Only the memory bit is put back: DisINTx may change meanwhile. */
	cmd = vpt_pci_hw_command_update(vpci, 0, PCI_COMMAND_MEMORY);
	io = pci_map_rom(pdev, &size);
	if (io)
		pci_unmap_rom(pdev, io);
	else
		len = 0;
	if (!(cmd & PCI_COMMAND_MEMORY))
		vpt_pci_hw_command_update(vpci, PCI_COMMAND_MEMORY, 0);
	mutex_unlock(&vpci->bar_lock);
	up_write(&vpci->memory_lock);
	return len;
}

