/* Thin Mach-O: header and load commands.
 *
 * Validation order follows xnu: the header fits, then the magic, then the
 * parameters; every load command must lie inside sizeofcmds, and the walk
 * must consume exactly ncmds commands and sizeofcmds bytes. Only the
 * commands msign needs are decoded; the rest are skipped by cmdsize. */
#include <string.h>

#include "base/cur.h"
#include "macho/macho.h"

#define S_ZEROFILL 0x1u
#define S_GB_ZEROFILL 0xcu
#define S_THREAD_LOCAL_ZEROFILL 0x12u
#define SECTION_TYPE_MASK 0xffu

/* LC_VERSION_MIN_* command -> LC_BUILD_VERSION platform number. */
static uint32_t mo_vmin_platform(uint32_t cmd)
{
	switch (cmd) {
	case MSIGN_LC_VERSION_MIN_MACOSX: return 1;
	case MSIGN_LC_VERSION_MIN_IPHONEOS: return 2;
	case MSIGN_LC_VERSION_MIN_TVOS: return 3;
	case MSIGN_LC_VERSION_MIN_WATCHOS: return 4;
	default: return 0;
	}
}

static bool mo_is_zerofill(uint32_t flags)
{
	uint32_t t = flags & SECTION_TYPE_MASK;
	return t == S_ZEROFILL || t == S_GB_ZEROFILL ||
	       t == S_THREAD_LOCAL_ZEROFILL;
}

/* Copy a fixed 16-byte Mach-O name into a NUL-terminated buffer. */
static void mo_name16(const uint8_t *p, char out[17])
{
	memcpy(out, p, 16);
	out[16] = '\0';
}

static int mo_sections(struct msign_slice *s, const struct msign_cur *lc,
		       uint64_t cmd_off, uint32_t nsects, struct msign_diag *d)
{
	uint32_t hdr = s->is64 ? MSIGN_SEG64_LEN : MSIGN_SEG32_LEN;
	uint32_t slen = s->is64 ? MSIGN_SECT64_LEN : MSIGN_SECT32_LEN;
	bool be = s->big_endian;
	if ((lc->len - hdr) / slen < nsects)
		return msign_diag_set(d, MSIGN_E_BAD_RANGE, cmd_off,
				      "segment with %u sections does not fit its cmdsize %zu",
				      nsects, lc->len);
	for (uint32_t i = 0; i < nsects; i++) {
		size_t at = hdr + (size_t)i * slen;
		const uint8_t *p = lc->base + at; /* in range: checked above */
		char sect[17], seg[17];
		mo_name16(p + MSIGN_SECT_OFF_SECTNAME, sect);
		mo_name16(p + MSIGN_SECT_OFF_SEGNAME, seg);
		uint64_t size;
		uint32_t off, flags;
		if (s->is64) {
			msign_cur_peek_u64(lc, at + MSIGN_SECT64_OFF_SIZE, be, &size);
			msign_cur_peek_u32(lc, at + MSIGN_SECT64_OFF_OFFSET, be, &off);
			msign_cur_peek_u32(lc, at + MSIGN_SECT64_OFF_FLAGS, be, &flags);
		} else {
			uint32_t sz32;
			msign_cur_peek_u32(lc, at + MSIGN_SECT32_OFF_SIZE, be, &sz32);
			size = sz32;
			msign_cur_peek_u32(lc, at + MSIGN_SECT32_OFF_OFFSET, be, &off);
			msign_cur_peek_u32(lc, at + MSIGN_SECT32_OFF_FLAGS, be, &flags);
		}
		if (off != 0 && !mo_is_zerofill(flags) &&
		    (s->first_section_off == 0 || off < s->first_section_off))
			s->first_section_off = off;
		if (strcmp(seg, "__TEXT") == 0 &&
		    strcmp(sect, "__info_plist") == 0 &&
		    msign_range_ok(s->size, off, size)) {
			s->has_info_plist = true;
			s->info_plist_off = off;
			s->info_plist_size = size;
		}
	}
	return 0;
}

static int mo_segment(struct msign_slice *s, const struct msign_cur *lc,
		      uint64_t cmd_off, struct msign_diag *d)
{
	uint32_t hdr = s->is64 ? MSIGN_SEG64_LEN : MSIGN_SEG32_LEN;
	if (lc->len < hdr)
		return msign_diag_set(d, MSIGN_E_BAD_RANGE, cmd_off,
				      "segment command size %zu below %u",
				      lc->len, hdr);
	if (s->nsegments >= MSIGN_MAX_SEGMENTS)
		return msign_diag_set(d, MSIGN_E_LIMIT, cmd_off,
				      "more than %d segments", MSIGN_MAX_SEGMENTS);
	struct msign_segment *seg = &s->segments[s->nsegments];
	mo_name16(lc->base + MSIGN_SEG_OFF_SEGNAME, seg->name);
	seg->cmd_off = cmd_off;
	uint32_t nsects;
	bool be = s->big_endian;
	if (s->is64) {
		msign_cur_peek_u64(lc, MSIGN_SEG64_OFF_VMADDR, be, &seg->vmaddr);
		msign_cur_peek_u64(lc, MSIGN_SEG64_OFF_VMSIZE, be, &seg->vmsize);
		msign_cur_peek_u64(lc, MSIGN_SEG64_OFF_FILEOFF, be, &seg->fileoff);
		msign_cur_peek_u64(lc, MSIGN_SEG64_OFF_FILESIZE, be, &seg->filesize);
		msign_cur_peek_u32(lc, MSIGN_SEG64_OFF_NSECTS, be, &nsects);
	} else {
		uint32_t vmaddr, vmsize, fileoff, filesize;
		msign_cur_peek_u32(lc, MSIGN_SEG32_OFF_VMADDR, be, &vmaddr);
		msign_cur_peek_u32(lc, MSIGN_SEG32_OFF_VMSIZE, be, &vmsize);
		msign_cur_peek_u32(lc, MSIGN_SEG32_OFF_FILEOFF, be, &fileoff);
		msign_cur_peek_u32(lc, MSIGN_SEG32_OFF_FILESIZE, be, &filesize);
		seg->vmaddr = vmaddr;
		seg->vmsize = vmsize;
		seg->fileoff = fileoff;
		seg->filesize = filesize;
		msign_cur_peek_u32(lc, MSIGN_SEG32_OFF_NSECTS, be, &nsects);
	}
	uint64_t end;
	if (__builtin_add_overflow(seg->fileoff, seg->filesize, &end))
		return msign_diag_set(d, MSIGN_E_OVERFLOW, cmd_off,
				      "segment %s fileoff+filesize overflows",
				      seg->name);
	if (strcmp(seg->name, "__TEXT") == 0 && s->text_seg < 0)
		s->text_seg = (int)s->nsegments;
	if (strcmp(seg->name, "__LINKEDIT") == 0) /* the last, as Apple's allocator */
		s->linkedit_seg = (int)s->nsegments;
	s->nsegments++;
	return mo_sections(s, lc, cmd_off, nsects, d);
}

static int mo_need_size(const struct msign_cur *lc, uint64_t cmd_off,
			uint32_t want, const char *name, struct msign_diag *d)
{
	if (lc->len < want)
		return msign_diag_set(d, MSIGN_E_BAD_RANGE, cmd_off,
				      "%s cmdsize %zu below %u", name, lc->len,
				      want);
	return 0;
}

static int mo_load_command(struct msign_slice *s, uint32_t cmd,
			   const struct msign_cur *lc, uint64_t cmd_off,
			   struct msign_diag *d)
{
	bool be = s->big_endian;
	int r;
	switch (cmd) {
	case MSIGN_LC_SEGMENT:
	case MSIGN_LC_SEGMENT_64:
		if ((cmd == MSIGN_LC_SEGMENT_64) != s->is64)
			return 0; /* a foreign-width segment: ignore, as dyld does */
		return mo_segment(s, lc, cmd_off, d);
	case MSIGN_LC_CODE_SIGNATURE:
		if ((r = mo_need_size(lc, cmd_off, MSIGN_LINKEDIT_DATA_LEN,
				      "LC_CODE_SIGNATURE", d)))
			return r;
		if (s->has_codesig)
			return msign_diag_set(d, MSIGN_E_INVALID, cmd_off,
					      "more than one LC_CODE_SIGNATURE");
		s->has_codesig = true;
		s->cs_cmd_off = cmd_off;
		msign_cur_peek_u32(lc, MSIGN_LINKEDIT_DATA_OFF_DATAOFF, be,
				   &s->cs_dataoff);
		msign_cur_peek_u32(lc, MSIGN_LINKEDIT_DATA_OFF_DATASIZE, be,
				   &s->cs_datasize);
		return 0;
	case MSIGN_LC_SYMTAB:
		if ((r = mo_need_size(lc, cmd_off, MSIGN_SYMTAB_LEN, "LC_SYMTAB", d)))
			return r;
		s->has_symtab = true;
		msign_cur_peek_u32(lc, MSIGN_SYMTAB_OFF_SYMOFF, be, &s->symoff);
		msign_cur_peek_u32(lc, MSIGN_SYMTAB_OFF_NSYMS, be, &s->nsyms);
		msign_cur_peek_u32(lc, MSIGN_SYMTAB_OFF_STROFF, be, &s->stroff);
		msign_cur_peek_u32(lc, MSIGN_SYMTAB_OFF_STRSIZE, be, &s->strsize);
		return 0;
	case MSIGN_LC_UUID:
		if ((r = mo_need_size(lc, cmd_off, MSIGN_UUID_LEN, "LC_UUID", d)))
			return r;
		s->has_uuid = true;
		memcpy(s->uuid, lc->base + MSIGN_UUID_OFF_UUID, sizeof(s->uuid));
		return 0;
	case MSIGN_LC_BUILD_VERSION:
		if ((r = mo_need_size(lc, cmd_off, MSIGN_BUILD_VERSION_LEN,
				      "LC_BUILD_VERSION", d)))
			return r;
		if (s->has_version)
			return 0;
		s->has_version = true;
		msign_cur_peek_u32(lc, MSIGN_BUILD_VERSION_OFF_PLATFORM, be,
				   &s->version_platform);
		msign_cur_peek_u32(lc, MSIGN_BUILD_VERSION_OFF_MINOS, be,
				   &s->version_min);
		msign_cur_peek_u32(lc, MSIGN_BUILD_VERSION_OFF_SDK, be,
				   &s->version_sdk);
		return 0;
	case MSIGN_LC_VERSION_MIN_MACOSX:
	case MSIGN_LC_VERSION_MIN_IPHONEOS:
	case MSIGN_LC_VERSION_MIN_TVOS:
	case MSIGN_LC_VERSION_MIN_WATCHOS:
		if ((r = mo_need_size(lc, cmd_off, MSIGN_VERSION_MIN_LEN,
				      "LC_VERSION_MIN", d)))
			return r;
		if (s->has_version)
			return 0;
		s->has_version = true;
		s->version_platform = mo_vmin_platform(cmd);
		msign_cur_peek_u32(lc, MSIGN_VERSION_MIN_OFF_VERSION, be,
				   &s->version_min);
		msign_cur_peek_u32(lc, MSIGN_VERSION_MIN_OFF_SDK, be, &s->version_sdk);
		return 0;
	default:
		return 0;
	}
}

static int mo_header(struct msign_slice *s, const struct msign_cur *c,
		     struct msign_diag *d)
{
	uint32_t magic_be;
	if (msign_cur_peek_be32(c, MSIGN_MH_OFF_MAGIC, &magic_be))
		return msign_diag_set(d, MSIGN_E_TRUNCATED, 0,
				      "file of %zu bytes is too short for a Mach-O header",
				      c->len);
	switch (magic_be) {
	case MSIGN_MH_MAGIC: s->is64 = false; s->big_endian = true; break;
	case MSIGN_MH_MAGIC_64: s->is64 = true; s->big_endian = true; break;
	case MSIGN_MH_CIGAM: s->is64 = false; s->big_endian = false; break;
	case MSIGN_MH_CIGAM_64: s->is64 = true; s->big_endian = false; break;
	default:
		return msign_diag_set(d, MSIGN_E_BAD_MAGIC, 0,
				      "bad Mach-O magic 0x%08x", magic_be);
	}
	s->header_size = s->is64 ? MSIGN_MH_HEADER64_LEN : MSIGN_MH_HEADER32_LEN;
	if (c->len < s->header_size)
		return msign_diag_set(d, MSIGN_E_TRUNCATED, 0,
				      "need %u bytes for the Mach-O header but only %zu",
				      s->header_size, c->len);
	bool be = s->big_endian;
	uint32_t ct, cst;
	msign_cur_peek_u32(c, MSIGN_MH_OFF_CPUTYPE, be, &ct);
	msign_cur_peek_u32(c, MSIGN_MH_OFF_CPUSUBTYPE, be, &cst);
	s->cputype = (int32_t)ct;
	s->cpusubtype = (int32_t)cst;
	msign_cur_peek_u32(c, MSIGN_MH_OFF_FILETYPE, be, &s->filetype);
	msign_cur_peek_u32(c, MSIGN_MH_OFF_NCMDS, be, &s->ncmds);
	msign_cur_peek_u32(c, MSIGN_MH_OFF_SIZEOFCMDS, be, &s->sizeofcmds);
	msign_cur_peek_u32(c, MSIGN_MH_OFF_FLAGS, be, &s->flags);
	if (s->ncmds > MSIGN_MAX_LOAD_CMDS)
		return msign_diag_set(d, MSIGN_E_LIMIT, MSIGN_MH_OFF_NCMDS,
				      "ncmds %u exceeds the limit of %d",
				      s->ncmds, MSIGN_MAX_LOAD_CMDS);
	if (!msign_range_ok(c->len, s->header_size, s->sizeofcmds))
		return msign_diag_set(d, MSIGN_E_BAD_RANGE, MSIGN_MH_OFF_SIZEOFCMDS,
				      "sizeofcmds %u past the end of a %zu-byte file",
				      s->sizeofcmds, c->len);
	if (s->sizeofcmds / MSIGN_LC_HEADER_LEN < s->ncmds)
		return msign_diag_set(d, MSIGN_E_BAD_RANGE, MSIGN_MH_OFF_NCMDS,
				      "ncmds %u cannot fit in sizeofcmds %u",
				      s->ncmds, s->sizeofcmds);
	return 0;
}

int msign_slice_parse(const uint8_t *data, size_t len, struct msign_slice *s,
		      struct msign_diag *d)
{
	struct msign_cur c = msign_cur_make(data, len);
	memset(s, 0, sizeof(*s));
	s->data = data;
	s->size = len;
	s->text_seg = -1;
	s->linkedit_seg = -1;
	int r = mo_header(s, &c, d);
	if (r)
		return r;
	struct msign_cur cmds;
	msign_cur_sub(&c, s->header_size, s->sizeofcmds, &cmds); /* checked */
	for (uint32_t i = 0; i < s->ncmds; i++) {
		uint64_t at = cmds.off;
		uint32_t cmd, cmdsize;
		bool be = s->big_endian;
		if (msign_cur_peek_u32(&cmds, at + MSIGN_LC_OFF_CMD, be, &cmd) ||
		    msign_cur_peek_u32(&cmds, at + MSIGN_LC_OFF_CMDSIZE, be, &cmdsize))
			return msign_diag_set(d, MSIGN_E_TRUNCATED,
					      s->header_size + at,
					      "load command %u of %u runs past sizeofcmds %u",
					      i, s->ncmds, s->sizeofcmds);
		if (cmdsize < MSIGN_LC_HEADER_LEN ||
		    !msign_range_ok(cmds.len, at, cmdsize))
			return msign_diag_set(d, MSIGN_E_BAD_RANGE,
					      s->header_size + at,
					      "load command %u cmdsize %u invalid (%llu bytes left)",
					      i, cmdsize, (unsigned long long)(cmds.len - at));
		struct msign_cur lc;
		msign_cur_sub(&cmds, at, cmdsize, &lc);
		r = mo_load_command(s, cmd & 0x7fffffffu, &lc,
				    s->header_size + at, d);
		if (r)
			return r;
		msign_cur_skip(&cmds, cmdsize);
	}
	if (cmds.off != cmds.len)
		return msign_diag_set(d, MSIGN_E_INVALID, MSIGN_MH_OFF_SIZEOFCMDS,
				      "load commands use %zu bytes but sizeofcmds is %u",
				      cmds.off, s->sizeofcmds);
	return 0;
}
