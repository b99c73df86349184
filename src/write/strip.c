/* Signature removal as Apple's allocator does it (codesign
 * --remove-signature), per slice:
 *   filetype must be signable and __LINKEDIT inside the file; no
 *   LC_CODE_SIGNATURE leaves the slice as is; the signature must end within
 *   7 bytes of the slice end; the new size is dataoff, or the string
 *   table's end when it lies at most 12 bytes before dataoff; the command
 *   is cut out of the command area (later ones move up, the freed tail is
 *   zeroed, ncmds/sizeofcmds shrink); __LINKEDIT.filesize follows the new
 *   size while vmsize is kept; the slice is truncated.
 * Universal files are laid out again as lipo does: slices in fat-header
 * order, each at the next multiple of its alignment. */
#include <stdlib.h>
#include <string.h>

#include "base/cur.h"
#include "base/diag.h"
#include "write/write.h"
#include "write/strip.h"
#include "hash/hash.h"
#include "sign/sign.h"
#include "verify/verify.h"

#define SIG_END_SLACK 7u   /* Apple tolerates this much after the blob */
#define STRTAB_PAD_MAX 12u /* string-table padding removed with it */

static bool st_signable(uint32_t filetype)
{
	return filetype == MSIGN_MH_EXECUTE || filetype == MSIGN_MH_DYLIB ||
	       filetype == MSIGN_MH_BUNDLE || filetype == MSIGN_MH_KEXT_BUNDLE ||
	       filetype == MSIGN_MH_DYLINKER;
}

/* Apple's checks; on success *new_size is the stripped slice length. */
static int st_check(const struct msign_slice *s, uint64_t *new_size,
		    struct msign_diag *d)
{
	if (!st_signable(s->filetype))
		return msign_diag_set(d, MSIGN_E_UNSUPPORTED, MSIGN_MH_OFF_FILETYPE,
				      "mach-o filetype (%u) does not support code signing",
				      s->filetype);
	if (s->linkedit_seg < 0)
		return msign_diag_set(d, MSIGN_E_INVALID, 0,
				      "no __LINKEDIT segment");
	const struct msign_segment *le = &s->segments[s->linkedit_seg];
	if (le->fileoff + le->filesize > s->size) /* sum checked at parse */
		return msign_diag_set(d, MSIGN_E_BAD_RANGE, le->cmd_off,
				      "__LINKEDIT ends at %llu, past the %llu-byte file",
				      (unsigned long long)(le->fileoff + le->filesize),
				      (unsigned long long)s->size);
	if (!s->has_codesig)
		return 0;
	uint32_t cmdsize;
	struct msign_cur c = msign_cur_make(s->data, (size_t)s->size);
	/* Apple removes exactly a linkedit_data_command. */
	if (msign_cur_peek_u32(&c, (size_t)s->cs_cmd_off + MSIGN_LC_OFF_CMDSIZE,
			       s->big_endian, &cmdsize) != 0 ||
	    cmdsize != MSIGN_LINKEDIT_DATA_LEN)
		return msign_diag_set(d, MSIGN_E_INVALID, s->cs_cmd_off,
				      "LC_CODE_SIGNATURE cmdsize %u, expected %u",
				      cmdsize, MSIGN_LINKEDIT_DATA_LEN);
	uint64_t end = (uint64_t)s->cs_dataoff + s->cs_datasize;
	if (end > s->size || s->size - end > SIG_END_SLACK)
		return msign_diag_set(d, MSIGN_E_LAYOUT, s->cs_cmd_off,
				      "LC_CODE_SIGNATURE does not point to end of file");
	uint64_t n = s->cs_dataoff;
	if (s->has_symtab) {
		uint64_t str_end = (uint64_t)s->stroff + s->strsize;
		if (str_end < n && n <= str_end + STRTAB_PAD_MAX)
			n = str_end;
	}
	if (n < (uint64_t)s->header_size + s->sizeofcmds)
		return msign_diag_set(d, MSIGN_E_INVALID, s->cs_cmd_off,
				      "stripped size %llu would cut into the load commands",
				      (unsigned long long)n);
	if (n < le->fileoff)
		return msign_diag_set(d, MSIGN_E_INVALID, le->cmd_off,
				      "signature at %u starts before __LINKEDIT at %llu",
				      s->cs_dataoff, (unsigned long long)le->fileoff);
	*new_size = n;
	return 0;
}

/* The slice's new header + load commands: *hdr (malloc'd), *hdr_len. */
static int st_header(const struct msign_slice *s, uint64_t new_size,
		     uint8_t **hdr, size_t *hdr_len)
{
	size_t len = (size_t)s->header_size + s->sizeofcmds; /* checked */
	uint8_t *h = malloc(len);
	if (h == NULL)
		return MSIGN_E_NOMEM;
	memcpy(h, s->data, len);
	bool be = s->big_endian;
	uint32_t cmdsize;
	struct msign_cur c = msign_cur_make(h, len);
	msign_cur_peek_u32(&c, (size_t)s->cs_cmd_off + MSIGN_LC_OFF_CMDSIZE, be,
			   &cmdsize);
	size_t at = (size_t)s->cs_cmd_off, tail = len - at - cmdsize;
	memmove(h + at, h + at + cmdsize, tail);
	memset(h + len - cmdsize, 0, cmdsize);
	msign_put_u32(h + MSIGN_MH_OFF_NCMDS, be, s->ncmds - 1);
	msign_put_u32(h + MSIGN_MH_OFF_SIZEOFCMDS, be, s->sizeofcmds - cmdsize);
	const struct msign_segment *le = &s->segments[s->linkedit_seg];
	size_t le_at = (size_t)le->cmd_off;
	if (le_at > at)
		le_at -= cmdsize; /* it moved up with the others */
	if (s->is64)
		msign_put_u64(h + le_at + MSIGN_SEG64_OFF_FILESIZE, be,
			      new_size - le->fileoff);
	else
		msign_put_u32(h + le_at + MSIGN_SEG32_OFF_FILESIZE, be,
			      (uint32_t)(new_size - le->fileoff));
	*hdr = h;
	*hdr_len = len;
	return 0;
}

/* Plan one slice's bytes at dst_off of the output. */
static int st_slice(const struct msign_slice *s, bool strip, uint64_t src_off,
		    uint64_t dst_off, struct msign_plan *plan,
		    struct msign_strip_slice *out)
{
	uint64_t size = out->new_size;
	int r = msign_plan_copy(plan, src_off, dst_off, size);
	if (r || !strip || !out->was_signed)
		return r;
	uint8_t *hdr;
	size_t hdr_len;
	if ((r = st_header(s, size, &hdr, &hdr_len)) != 0)
		return r;
	return msign_plan_patch_adopt(plan, dst_off, hdr, hdr_len);
}

int msign_strip_plan(const struct msign_image *img, const char *arch,
		     struct msign_plan *plan, struct msign_strip_result *res,
		     struct msign_diag *d)
{
	memset(res, 0, sizeof(*res));
	int only = -1;
	if (arch != NULL && (only = msign_image_find_arch(img, arch)) < 0)
		return msign_diag_set(d, MSIGN_E_NOT_FOUND, 0,
				      "architecture %s not present", arch);
	res->nslices = img->nslices;
	for (uint32_t i = 0; i < img->nslices; i++) {
		const struct msign_slice *s = &img->slices[i];
		struct msign_strip_slice *ss = &res->slices[i];
		ss->old_off = s->off;
		ss->old_size = ss->new_size = s->size;
		if (only >= 0 && (uint32_t)only != i)
			continue;
		if (s->err != 0) {
			if (d != NULL && d->code == 0)
				*d = s->diag;
			return s->err;
		}
		bool fresh = msign_diag_fresh(d); /* st_check: slice offsets */
		int r = st_check(s, &ss->new_size, d);
		if (r)
			return msign_diag_rebase(d, fresh, s->off, r);
		ss->was_signed = s->has_codesig;
		res->changed = res->changed || s->has_codesig;
	}
	/* Layout: thin files in place; fat slices re-laid out like lipo. */
	uint64_t size[MSIGN_MAX_SLICES], off[MSIGN_MAX_SLICES];
	for (uint32_t i = 0; i < img->nslices; i++)
		size[i] = res->slices[i].new_size;
	int r = msign_fat_layout(img, size, off, &plan->out_len, d);
	if (r)
		return r;
	for (uint32_t i = 0; i < img->nslices; i++)
		res->slices[i].new_off = off[i];
	for (uint32_t i = 0; i < img->nslices; i++) {
		r = st_slice(&img->slices[i],
				 only < 0 || (uint32_t)only == i, img->slices[i].off,
				 res->slices[i].new_off, plan, &res->slices[i]);
		if (r)
			return r;
	}
	return img->is_fat ? msign_plan_fat_header(plan, img, off, size) : 0;
}

/* The result must parse, and every stripped slice must be unsigned with
 * __LINKEDIT ending where the slice ends. */
static int st_validate(const uint8_t *data, size_t len, void *arg,
		       struct msign_diag *d)
{
	const struct msign_strip_result *res = arg;
	struct msign_image *img = NULL;
	int r = msign_image_parse(data, len, &img, d);
	if (r)
		return r;
	for (uint32_t i = 0; i < img->nslices && r == 0; i++) {
		const struct msign_slice *s = &img->slices[i];
		if (!res->slices[i].was_signed)
			continue;
		if (s->err != 0 || s->has_codesig || s->linkedit_seg < 0) {
			r = msign_diag_set(d, MSIGN_E_INVALID, 0,
					   "slice %u still signed or damaged after strip", i);
			break;
		}
		const struct msign_segment *le = &s->segments[s->linkedit_seg];
		if (le->fileoff + le->filesize != s->size)
			r = msign_diag_set(d, MSIGN_E_INVALID, 0,
					   "slice %u: __LINKEDIT ends at %llu, slice at %llu",
					   i, (unsigned long long)(le->fileoff + le->filesize),
					   (unsigned long long)s->size);
	}
	msign_image_free(img);
	return r;
}

struct st_file {
	const char *arch;
	bool in_place;
	struct msign_strip_result *res;
};

static int st_plan_file(const struct msign_image *img, struct msign_plan *plan,
			void *arg, struct msign_diag *d)
{
	const struct st_file *f = arg;
	int r = msign_strip_plan(img, f->arch, plan, f->res, d);
	if (r != 0 || f->res->changed)
		return r;
	/* Nothing to remove: in place, leave the file alone; to another
	 * path, an exact copy (never a re-layout). */
	if (f->in_place)
		return MSIGN_PLAN_UNCHANGED;
	msign_plan_free(plan);
	msign_plan_init(plan);
	plan->out_len = img->len;
	return msign_plan_copy(plan, 0, 0, img->len);
}

int msign_strip_run(const char *in_path, const char *out_path,
		    const char *arch, struct msign_strip_result *res,
		    struct msign_diag *d)
{
	struct st_file f = { arch, strcmp(in_path, out_path) == 0, res };
	return msign_edit_file(in_path, out_path, st_plan_file, NULL, &f,
			       st_validate, res, d);
}
