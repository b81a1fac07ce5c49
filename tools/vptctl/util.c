// SPDX-License-Identifier: GPL-2.0
/*
 * vptctl: number and address parsing, exact human-readable
 * sizes, and the argsz protocol of the VFIO info ioctls.
 */
#include <ctype.h>

#include "vptctl.h"

bool vptctl_is_number(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

/* The binary multiplier of a size suffix ("K", "MiB", ...), 0 if none. */
static int suffix_shift(const char *s)
{
	static const char units[] = "KMGTPE";
	const char *u;

	if (!*s)
		return 0;
	u = strchr(units, toupper((unsigned char)*s));
	if (!u || (s[1] && strcmp(s + 1, "iB") && strcmp(s + 1, "B")))
		return -1;
	return 10 * (int)(u - units + 1);
}

/**
 * vptctl_parse_u64() - parse an address or size
 * @s: decimal, 0x-hex or 0-octal, optionally with a binary suffix (K, M,
 *     G, T, P, E, each optionally followed by "iB"): "0x8000000000",
 *     "512G".
 * @val: the value.
 *
 * Return: 0, or -EINVAL for anything else (including a sign and an
 * overflow).
 */
int vptctl_parse_u64(const char *s, __u64 *val)
{
	unsigned long long v;
	char *end;
	int shift;

	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s)
		return -EINVAL;
	shift = suffix_shift(end);
	if (shift < 0 || (shift && v > (UINT64_MAX >> shift)))
		return -EINVAL;
	*val = (__u64)v << shift;
	return 0;
}

/* Up to maxdigits hex digits at *p, advancing *p; 0 or -EINVAL. */
static int parse_hex(const char **p, unsigned int maxdigits,
		     unsigned int *val)
{
	unsigned int n = 0;

	*val = 0;
	while (isxdigit((unsigned char)**p) && n < maxdigits) {
		*val = *val * 16 + (isdigit((unsigned char)**p) ?
				    **p - '0' :
				    tolower((unsigned char)**p) - 'a' + 10);
		(*p)++;
		n++;
	}
	return n ? 0 : -EINVAL;
}

/**
 * vptctl_parse_bdf() - parse and normalise a PCI address
 * @s: "DDDD:BB:DD.F" or "BB:DD.F" (domain 0), hex.
 * @bdf: the sysfs name, e.g. "0000:00:04.0".
 * @len: size of @bdf.
 *
 * Return: 0, or -EINVAL when @s is not a PCI address.
 */
int vptctl_parse_bdf(const char *s, char *bdf, size_t len)
{
	unsigned int part[4], fn, n = 0;
	const char *p = s;

	/* Up to three colon-separated parts, then ".function". */
	while (n < 3) {
		if (parse_hex(&p, 8, &part[n]))
			return -EINVAL;
		n++;
		if (*p != ':')
			break;
		p++;
	}
	if (n < 2 || *p++ != '.' || parse_hex(&p, 1, &fn) || *p)
		return -EINVAL;
	if (n == 2) {
		part[2] = part[1];
		part[1] = part[0];
		part[0] = 0;
	}
	if (part[1] > 0xff || part[2] > 0x1f || fn > 7)
		return -EINVAL;
	snprintf(bdf, len, "%04x:%02x:%02x.%x", part[0], part[1], part[2], fn);
	return 0;
}

/**
 * vptctl_size() - an exact, readable size
 * @size: bytes.
 * @buf: where the text goes.
 * @len: size of @buf.
 *
 * Sums of binary units, largest first, so that nothing is rounded:
 * 0x100100 is "1 MiB + 256 B", 0xfee00000 "3 GiB + 1004 MiB".
 *
 * Return: @buf.
 */
const char *vptctl_size(__u64 size, char *buf, size_t len)
{
	static const char * const units[] = {
		"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB",
	};
	size_t used = 0;
	int shift;

	buf[0] = '\0';
	if (!size) {
		snprintf(buf, len, "0 B");
		return buf;
	}
	for (shift = 60; shift >= 0 && used < len; shift -= 10) {
		__u64 part = (size >> shift) & 0x3ff;

		if (shift == 60)
			part = size >> 60;
		if (!part)
			continue;
		used += snprintf(buf + used, len - used, "%s%llu %s",
				 used ? " + " : "", (unsigned long long)part,
				 units[shift / 10]);
	}
	return buf;
}

/* The size of [start, end], which may be the whole 2^64. */
const char *vptctl_span(__u64 start, __u64 end, char *buf, size_t len)
{
	if (!start && end == UINT64_MAX) {
		snprintf(buf, len, "16 EiB");
		return buf;
	}
	return vptctl_size(end - start + 1, buf, len);
}

/* addr rounded up to a power-of-two align; 0 or -EOVERFLOW. */
int vptctl_align_up(__u64 addr, __u64 align, __u64 *out)
{
	__u64 sum;

	if (!align)
		align = 1;
	if (__builtin_add_overflow(addr, align - 1, &sum))
		return -EOVERFLOW;
	*out = sum & ~(align - 1);
	return 0;
}

/**
 * vptctl_ioctl_grow() - a VFIO info ioctl with the argsz two-step
 * @fd: the fd to ask.
 * @req: the ioctl (VFIO_IOMMU_GET_INFO, VFIO_DEVICE_GET_REGION_INFO).
 * @buf: a malloc'ed structure starting with __u32 argsz, its input fields
 *       filled in and argsz set to its size.  Grown (and zero-extended)
 *       when the kernel asks for more room for the capability chain.
 *
 * Return: 0, with the answer in *@buf, or -errno.
 */
int vptctl_ioctl_grow(int fd, unsigned long req, void **buf)
{
	__u32 size = *(__u32 *)*buf;
	int tries;

	/* The chain may grow between calls (a group joins): retry a little. */
	for (tries = 0; tries < 4; tries++) {
		__u32 need;
		void *p;

		if (ioctl(fd, req, *buf))
			return -errno;
		need = *(__u32 *)*buf;
		if (need <= size)
			return 0;
		p = realloc(*buf, need);
		if (!p)
			return -ENOMEM;
		memset((char *)p + size, 0, need - size);
		*(__u32 *)p = need;
		*buf = p;
		size = need;
	}
	return -EAGAIN;
}

/**
 * vptctl_cap_next() - walk a VFIO capability chain safely
 * @buf: the info structure the chain lives in.
 * @argsz: how many bytes of @buf are valid.
 * @off: in: the offset of the capability to return (0: end of chain);
 *       out: the offset of the next one.
 * @room: out: how many bytes the returned capability may span (up to
 *        the next one, or to @argsz).
 *
 * Offsets that point outside @buf, are misaligned or do not move forward
 * end the walk, so a broken chain can neither loop nor read out of
 * bounds.  Capabilities are only 4-byte aligned on kernels before 6.6
 * (a 12-byte DMA_AVAIL moves the next one off 8): callers memcpy() a
 * capability with 64-bit fields before reading it.
 *
 * Return: the capability header, or NULL at the end of the chain.
 */
const struct vfio_info_cap_header *vptctl_cap_next(const void *buf,
						   __u32 argsz,
						   __u32 *off,
						   __u32 *room)
{
	const struct vfio_info_cap_header *hdr;
	__u32 cur = *off;

	*off = 0;
	if (!cur || cur % 4 || cur >= argsz ||
	    argsz - cur < sizeof(*hdr))
		return NULL;
	hdr = (const void *)((const char *)buf + cur);
	if (hdr->next > cur && hdr->next < argsz) {
		*off = hdr->next;
		*room = hdr->next - cur;
	} else {
		*room = argsz - cur;
	}
	return hdr;
}
