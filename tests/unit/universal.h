/* Test-only: where the parts of a slice of a universal fixture lie in the
 * file, read with nothing but the byte-order helpers here (no libmsign),
 * so that a test can hold the offsets the library reports against ones
 * computed independently. The fixtures' slices are 64-bit little-endian;
 * fat headers and signatures are big-endian. Bounds are the caller's:
 * these read well-formed fixtures before a test damages one byte. */
#ifndef MSIGN_TEST_UNIVERSAL_H
#define MSIGN_TEST_UNIVERSAL_H

#include <stdint.h>

static inline uint32_t uv_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static inline uint32_t uv_le32(const uint8_t *p)
{
	return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[1] << 8 | p[0];
}

/* File offset of fat_arch i's slice (struct fat_arch: cputype,
 * cpusubtype, offset, size, align after the 8-byte fat_header). */
static inline uint64_t uv_slice_off(const uint8_t *f, uint32_t i)
{
	return uv_be32(f + 8 + 20 * i + 8);
}

/* File offset of the first load command cmd of the slice at off, or 0. */
static inline uint64_t uv_cmd_off(const uint8_t *f, uint64_t off, uint32_t cmd)
{
	uint32_t ncmds = uv_le32(f + off + 16);
	uint64_t at = off + 32; /* mach_header_64 */
	for (uint32_t i = 0; i < ncmds; i++) {
		if (uv_le32(f + at) == cmd)
			return at;
		at += uv_le32(f + at + 4);
	}
	return 0;
}

/* File offset of the SuperBlob of the slice at off: LC_CODE_SIGNATURE's
 * dataoff is relative to the slice. */
static inline uint64_t uv_sb_off(const uint8_t *f, uint64_t off)
{
	uint64_t lc = uv_cmd_off(f, off, 0x1d);
	return lc == 0 ? 0 : off + uv_le32(f + lc + 8);
}

/* File offset of the blob of slot type in the SuperBlob at sb, or 0. */
static inline uint64_t uv_blob_off(const uint8_t *f, uint64_t sb, uint32_t type)
{
	uint32_t count = uv_be32(f + sb + 8);
	for (uint32_t i = 0; i < count; i++)
		if (uv_be32(f + sb + 12 + 8 * i) == type)
			return sb + uv_be32(f + sb + 12 + 8 * i + 4);
	return 0;
}

#endif
