/* msign: thin and universal Mach-O reader.
 *
 * msign_image_parse() validates the container once: fat header and slices
 * (inside the file, not overlapping), each slice's mach header, every load
 * command (sizes, ncmds/sizeofcmds), and records the commands msign needs.
 * Nothing here allocates in proportion to file-controlled counts beyond the
 * named hard limits. */
#ifndef MSIGN_MACHO_MACHO_H
#define MSIGN_MACHO_MACHO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "base/diag.h"

#define MSIGN_MAX_SLICES 64     /* fat archs we accept */
#define MSIGN_MAX_LOAD_CMDS 65536
#define MSIGN_MAX_SEGMENTS 255

#define MSIGN_MH_MAGIC 0xfeedfaceu
#define MSIGN_MH_MAGIC_64 0xfeedfacfu
#define MSIGN_MH_CIGAM 0xcefaedfeu    /* a little-endian file's magic, read big-endian */
#define MSIGN_MH_CIGAM_64 0xcffaedfeu
#define MSIGN_FAT_MAGIC 0xcafebabeu
#define MSIGN_FAT_MAGIC_64 0xcafebabfu

#define MSIGN_CPU_ARCH_ABI64 0x01000000
#define MSIGN_CPU_ARCH_ABI64_32 0x02000000
#define MSIGN_CPU_TYPE_X86 7
#define MSIGN_CPU_TYPE_X86_64 (MSIGN_CPU_TYPE_X86 | MSIGN_CPU_ARCH_ABI64)
#define MSIGN_CPU_TYPE_ARM 12
#define MSIGN_CPU_TYPE_ARM64 (MSIGN_CPU_TYPE_ARM | MSIGN_CPU_ARCH_ABI64)
#define MSIGN_CPU_TYPE_ARM64_32 (MSIGN_CPU_TYPE_ARM | MSIGN_CPU_ARCH_ABI64_32)
#define MSIGN_CPU_TYPE_PPC 18
#define MSIGN_CPU_TYPE_PPC64 (MSIGN_CPU_TYPE_PPC | MSIGN_CPU_ARCH_ABI64)

#define MSIGN_MH_EXECUTE 2
#define MSIGN_MH_DYLIB 6
#define MSIGN_MH_DYLINKER 7
#define MSIGN_MH_BUNDLE 8
#define MSIGN_MH_KEXT_BUNDLE 11

#define MSIGN_LC_SEGMENT 0x1
#define MSIGN_LC_SYMTAB 0x2
#define MSIGN_LC_SEGMENT_64 0x19
#define MSIGN_LC_UUID 0x1b
#define MSIGN_LC_CODE_SIGNATURE 0x1d
#define MSIGN_LC_VERSION_MIN_MACOSX 0x24
#define MSIGN_LC_VERSION_MIN_IPHONEOS 0x25
#define MSIGN_LC_VERSION_MIN_TVOS 0x2f
#define MSIGN_LC_VERSION_MIN_WATCHOS 0x30
#define MSIGN_LC_BUILD_VERSION 0x32

/* ---- wire layout ---------------------------------------------------------
 * Byte offsets of the fields msign decodes and writes, after
 * <mach-o/loader.h> and <mach-o/fat.h>: the parser, strip and the signer
 * use these names, so each offset is written down once. The fat header is
 * big-endian; everything else is in the slice's byte order. */

/* fat_header, then nfat_arch entries of fat_arch or fat_arch_64 */
#define MSIGN_FAT_OFF_NARCH 4u
#define MSIGN_FAT_HEADER_LEN 8u
#define MSIGN_FAT_ARCH_OFF_CPUTYPE 0u
#define MSIGN_FAT_ARCH_OFF_CPUSUBTYPE 4u
#define MSIGN_FAT_ARCH_OFF_OFFSET 8u     /* u32, or u64 in fat_arch_64 */
#define MSIGN_FAT_ARCH32_OFF_SIZE 12u
#define MSIGN_FAT_ARCH32_OFF_ALIGN 16u
#define MSIGN_FAT_ARCH32_LEN 20u
#define MSIGN_FAT_ARCH64_OFF_SIZE 16u
#define MSIGN_FAT_ARCH64_OFF_ALIGN 24u
#define MSIGN_FAT_ARCH64_LEN 32u

/* mach_header, mach_header_64 (the same fields; _64 adds reserved) */
#define MSIGN_MH_OFF_MAGIC 0u
#define MSIGN_MH_OFF_CPUTYPE 4u
#define MSIGN_MH_OFF_CPUSUBTYPE 8u
#define MSIGN_MH_OFF_FILETYPE 12u
#define MSIGN_MH_OFF_NCMDS 16u
#define MSIGN_MH_OFF_SIZEOFCMDS 20u
#define MSIGN_MH_OFF_FLAGS 24u
#define MSIGN_MH_HEADER32_LEN 28u
#define MSIGN_MH_HEADER64_LEN 32u

/* Every load command starts with cmd and cmdsize. */
#define MSIGN_LC_OFF_CMD 0u
#define MSIGN_LC_OFF_CMDSIZE 4u
#define MSIGN_LC_HEADER_LEN 8u

/* segment_command_64 and segment_command */
#define MSIGN_SEG_OFF_SEGNAME 8u
#define MSIGN_SEG64_OFF_VMADDR 24u
#define MSIGN_SEG64_OFF_VMSIZE 32u
#define MSIGN_SEG64_OFF_FILEOFF 40u
#define MSIGN_SEG64_OFF_FILESIZE 48u
#define MSIGN_SEG64_OFF_NSECTS 64u
#define MSIGN_SEG64_LEN 72u
#define MSIGN_SEG32_OFF_VMADDR 24u
#define MSIGN_SEG32_OFF_VMSIZE 28u
#define MSIGN_SEG32_OFF_FILEOFF 32u
#define MSIGN_SEG32_OFF_FILESIZE 36u
#define MSIGN_SEG32_OFF_NSECTS 48u
#define MSIGN_SEG32_LEN 56u

/* section_64 and section, after their segment command */
#define MSIGN_SECT_OFF_SECTNAME 0u
#define MSIGN_SECT_OFF_SEGNAME 16u
#define MSIGN_SECT64_OFF_SIZE 40u
#define MSIGN_SECT64_OFF_OFFSET 48u
#define MSIGN_SECT64_OFF_FLAGS 64u
#define MSIGN_SECT64_LEN 80u
#define MSIGN_SECT32_OFF_SIZE 36u
#define MSIGN_SECT32_OFF_OFFSET 40u
#define MSIGN_SECT32_OFF_FLAGS 56u
#define MSIGN_SECT32_LEN 68u

/* linkedit_data_command (LC_CODE_SIGNATURE) */
#define MSIGN_LINKEDIT_DATA_OFF_DATAOFF 8u
#define MSIGN_LINKEDIT_DATA_OFF_DATASIZE 12u
#define MSIGN_LINKEDIT_DATA_LEN 16u

/* symtab_command */
#define MSIGN_SYMTAB_OFF_SYMOFF 8u
#define MSIGN_SYMTAB_OFF_NSYMS 12u
#define MSIGN_SYMTAB_OFF_STROFF 16u
#define MSIGN_SYMTAB_OFF_STRSIZE 20u
#define MSIGN_SYMTAB_LEN 24u

/* uuid_command */
#define MSIGN_UUID_OFF_UUID 8u
#define MSIGN_UUID_LEN 24u

/* build_version_command (its tools follow) and version_min_command */
#define MSIGN_BUILD_VERSION_OFF_PLATFORM 8u
#define MSIGN_BUILD_VERSION_OFF_MINOS 12u
#define MSIGN_BUILD_VERSION_OFF_SDK 16u
#define MSIGN_BUILD_VERSION_LEN 24u
#define MSIGN_VERSION_MIN_OFF_VERSION 8u
#define MSIGN_VERSION_MIN_OFF_SDK 12u
#define MSIGN_VERSION_MIN_LEN 16u

/* A segment as msign needs it; offsets relative to the slice. */
struct msign_segment {
	char name[17];
	uint64_t cmd_off; /* offset of the load command in the slice */
	uint64_t vmaddr, vmsize, fileoff, filesize;
};

/* One architecture: a thin file has exactly one, covering the file. */
struct msign_slice {
	const uint8_t *data; /* slice bytes (points into the image) */
	uint64_t off;        /* slice offset in the file */
	uint64_t size;       /* slice length */
	uint32_t align;      /* fat_arch align (log2); 0 for thin */
	int32_t cputype, cpusubtype; /* from the mach header */
	bool is64, big_endian;
	uint32_t filetype, ncmds, sizeofcmds, flags;
	uint32_t header_size; /* MSIGN_MH_HEADER32_LEN or MSIGN_MH_HEADER64_LEN */

	bool has_codesig;
	uint64_t cs_cmd_off; /* LC_CODE_SIGNATURE command offset */
	uint32_t cs_dataoff, cs_datasize;

	bool has_symtab;
	uint32_t symoff, nsyms, stroff, strsize;

	bool has_version;         /* LC_BUILD_VERSION or LC_VERSION_MIN_* */
	uint32_t version_platform; /* 1 macOS, 2 iOS, 3 tvOS, 4 watchOS, ... */
	uint32_t version_min, version_sdk; /* packed xxxx.yy.zz */

	bool has_uuid;
	uint8_t uuid[16];

	bool has_info_plist; /* __TEXT,__info_plist section, inside the slice */
	uint64_t info_plist_off, info_plist_size;

	uint32_t nsegments;
	struct msign_segment segments[MSIGN_MAX_SEGMENTS];
	int text_seg;     /* index into segments or -1 */
	int linkedit_seg; /* index into segments or -1 */
	uint64_t first_section_off; /* lowest non-zero section offset, or 0 */

	/* A fat slice that fails to parse does not sink the whole file: its
	 * error is kept here and reported when the slice is used
	 * (diag.file_off is a file offset, like every image function's). */
	int err;
	struct msign_diag diag;
	/* err is only that the mach header's CPU is not the fat header's:
	 * the rest parsed. Apple's Universal does not compare them, so such
	 * a slice is displayed (as the fat header names it); writing and
	 * verifying refuse it. */
	bool cpu_mismatch;
};

struct msign_image {
	const uint8_t *data;
	size_t len;
	bool is_fat;
	bool fat64;
	uint32_t nslices;
	struct msign_slice *slices; /* nslices entries, fat-header order */
	void *map;       /* owned reservation, when opened from a file */
	size_t map_len;
	/* Owned descriptor of the mapped file (-1 for msign_image_parse):
	 * the page hasher reads the file with it (see struct msign_piece). */
	int fd;
};

/* Parse an in-memory image (no copy: data must outlive the image). */
int msign_image_parse(const uint8_t *data, size_t len,
		      struct msign_image **out, struct msign_diag *d);
/* Open a file and parse it. What the parsers read (fat header, mach
 * headers, load commands, signatures, embedded Info.plist) is copied into
 * memory the image owns, so a later change to the file cannot alter a
 * validated field or raise SIGBUS; code pages are read from the image's
 * descriptor when they are hashed. img->data spans the file's length, but
 * bytes outside those parts read as zeros. */
int msign_image_open(const char *path, struct msign_image **out,
		     struct msign_diag *d);
/* The same from an open descriptor (the image keeps its own duplicate). */
int msign_image_open_fd(int fd, struct msign_image **out,
			struct msign_diag *d);
/* Open path for reading without blocking on a FIFO or device, and refuse
 * anything but a regular file before reading a byte: a descriptor, or a
 * negative MSIGN_E_* with d set. */
int msign_input_open(const char *path, struct msign_diag *d);
void msign_image_free(struct msign_image *img);

/* Parse one thin Mach-O in [data, data+len) into s (used by the above).
 * The one parser here that does not see the file: d->file_off is relative
 * to data, and a caller that knows where data lies in the file adds that
 * (msign_image_* report file offsets, the slices' diag included). */
int msign_slice_parse(const uint8_t *data, size_t len, struct msign_slice *s,
		      struct msign_diag *d);

/* Apple's architecture name ("arm64e", "x86_64", ...) or NULL if unknown. */
const char *msign_arch_name(int32_t cputype, int32_t cpusubtype);
/* Name, or "(cputype:subtype)" in signed decimal, into buf. */
const char *msign_arch_label(int32_t cputype, int32_t cpusubtype, char *buf,
			     size_t buflen);
/* Parse an arch name; false if unknown. */
bool msign_arch_from_name(const char *name, int32_t *cputype,
			  int32_t *cpusubtype);

/* Index of the slice codesign would show on this host (or per
 * MSIGN_HOST_ARCH in the environment: x86_64, arm64, other). */
uint32_t msign_image_default_slice(const struct msign_image *img);

/* The host family the default slice follows: env (MSIGN_HOST_ARCH) when
 * set, else arm64 when the hardware is (hw_arm64 1: sysctl
 * hw.optional.arm64 on macOS, so also under Rosetta; -1 unknown), else
 * what msign was built for (x86_64, arm64 or other). */
const char *msign_host_family_pick(const char *env, int hw_arm64,
				   const char *built_for);
/* What msign was built for: "x86_64", "arm64" or "other". */
const char *msign_host_built_for(void);
/* Slice matching an arch name, or -1. */
int msign_image_find_arch(const struct msign_image *img, const char *name);
/* The alignment (log2) a slice is laid out with when msign writes a fat
 * file: the fat header's, capped at 2^15 as lipo caps it (MAXSECTALIGN)
 * and at the alignment the slice's offset in the input has, so a hostile
 * 2^30 cannot turn a small file into a huge one and an output grows only
 * by what its signatures need. */
#define MSIGN_FAT_MAX_LAYOUT_ALIGN 15u
uint32_t msign_fat_align(const struct msign_slice *s);
/* Bytes of the fat header and its arch entries; 0 for a thin file. */
size_t msign_fat_header_len(const struct msign_image *img);
/* codesign's Format= text, "Mach-O thin (arm64)" or "Mach-O universal
 * (x86_64 arm64e)" (malloc'd; NULL when out of memory). */
char *msign_image_format(const struct msign_image *img);
/* Slice indices in codesign's Format= order (signed cputype, subtype). */
void msign_image_sorted(const struct msign_image *img, uint32_t *order);

#endif
