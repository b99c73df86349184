/* Ad-hoc signing: codesign -s - and ld64.lld's linker signature; with an
 * identity, codesign's certificate signature (the CMS from sign_cms.c,
 * made last, over the finished slot-0 CodeDirectory, into room reserved
 * at layout: datasize is in the hashed header).
 *
 * Per slice (spec section 2): an existing signature is first removed by
 * msign_strip_plan's rules (Apple's allocator), giving the slice's load
 * commands and __LINKEDIT as they are unsigned; LC_CODE_SIGNATURE is then
 * appended after the last command (room before the first section is
 * checked), the signature is placed at the next 16-byte boundary after
 * __LINKEDIT, and __LINKEDIT grows to cover it exactly (vmsize: lld writes
 * filesize; codesign's allocator rounds up to the segment alignment and
 * never shrinks). Every size is known before any byte is written; the page
 * hashes are taken last, over the bytes the output will hold: the new
 * header, the untouched rest of the slice, the zero padding. Universal
 * files are laid out again as lipo does. Nothing is read or written but
 * through the image and the edit plan, so the result can be rendered in
 * memory or committed atomically. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/cur.h"
#include "base/diag.h"
#include "sign/sign_int.h"
#include "sign/sign_cms.h"

#define SIG_ALIGN 16u
#define PAGE_4K_LOG2 12u
#define PAGE_16K_LOG2 14u
#define QUICK_CHECK_ALL (8u << 20) /* outputs this small are verified fully */

/* One slice of the run. */
struct sg_slice {
	const struct msign_slice *s;
	struct msign_sign_slice *res;
	bool target;
	const uint8_t *hdr;       /* load commands as they are unsigned */
	size_t hdr_len;
	struct msign_slice *hs;   /* hdr parsed (segments, sizeofcmds) */
	uint64_t base_len;        /* end of __LINKEDIT, unsigned */
	uint8_t *newhdr;          /* header + commands with LC_CODE_SIGNATURE */
	size_t newhdr_len;
	uint32_t ncds;
	struct sg_cd cds[MSIGN_MAX_CDS];
	struct sg_sb sb;
	uint8_t *sig;             /* sb.size bytes */
	struct sg_specials sp;
	uint32_t cms_idx;         /* SuperBlob entry of the CMS wrapper */
};

struct sg_run {
	const struct msign_image *img;
	const struct msign_sign_opts *o;
	struct msign_sign_result *res;
	struct msign_plan strip;
	struct msign_strip_result sres;
	struct sg_blobs blobs;
	struct sg_slice *sl;
	uint32_t nsl;        /* entries of sl (the image may be gone at free) */
	uint8_t hash_types[MSIGN_MAX_CDS];
	uint32_t nhash;
	/* Signing into a file: the output being copied, which the pages are
	 * hashed from (NULL: hash the input, for a plan rendered in memory). */
	struct msign_out *out;
	int64_t signing_time; /* one for every slice */
};

static uint64_t sg_round(uint64_t v, uint64_t a)
{
	return (v + a - 1) / a * a;
}

/* get_segalign_from_flag() of cctools: the allocator rounds vmsize to it. */
static uint64_t sg_segalign(int32_t cputype)
{
	if ((cputype & 0xff) == MSIGN_CPU_TYPE_ARM)
		return 0x4000;
	if ((cputype & 0xff) == MSIGN_CPU_TYPE_X86 ||
	    (cputype & 0xff) == MSIGN_CPU_TYPE_PPC)
		return 0x1000;
	return 0x2000;
}

/* Hash types Apple picks when none is asked for (MachORep's rule, read
 * off the main slice): SHA-256 alone for code new enough to know it. */
static uint32_t sg_default_hashes(const struct msign_slice *m)
{
	const uint32_t both = 1u << MSIGN_CS_HASHTYPE_SHA1 | 1u << MSIGN_CS_HASHTYPE_SHA256;
	const uint32_t sha256 = 1u << MSIGN_CS_HASHTYPE_SHA256;
	if (!m->has_version)
		return both;
	switch (m->version_platform) {
	case 0: return both;
	case 1: return m->version_min >= 0x000a0b04u ? sha256 : both;
	case 2:
	case 3: return m->version_min >= 0x000b0000u ? sha256 : both;
	case 4: return both;
	default: return sha256;
	}
}

static uint32_t sg_page_log2(const struct msign_slice *s,
			     const struct msign_sign_opts *o)
{
	if (o->page_size != 0)
		return (uint32_t)__builtin_ctz(o->page_size);
	if (o->linker_signed)
		return PAGE_4K_LOG2;
	return s->cputype == MSIGN_CPU_TYPE_ARM64 ||
			       s->cputype == MSIGN_CPU_TYPE_ARM64_32
		       ? PAGE_16K_LOG2 : PAGE_4K_LOG2;
}

static int sg_check_opts(const struct msign_sign_opts *o, struct msign_diag *d)
{
	uint32_t p = o->page_size;
	if (p != 0 && ((p & (p - 1)) != 0 || p < (1u << MSIGN_CD_PAGE_LOG2_MIN) ||
		       p > (1u << MSIGN_CD_PAGE_LOG2_MAX)))
		return msign_diag_set(d, MSIGN_E_ARG, 0,
				      "page size %u is not a power of two from 512 to 16 MiB", p);
	uint32_t known = 1u << MSIGN_CS_HASHTYPE_SHA1 | 1u << MSIGN_CS_HASHTYPE_SHA256 |
			 1u << MSIGN_CS_HASHTYPE_SHA256_TRUNCATED |
			 1u << MSIGN_CS_HASHTYPE_SHA384;
	if ((o->hash_types & ~known) != 0)
		return msign_diag_set(d, MSIGN_E_ARG, 0, "unknown digest type");
	if (o->linker_signed && (o->ent_xml != NULL || o->cd_flags != 0))
		return msign_diag_set(d, MSIGN_E_ARG, 0,
				      "a linker signature has no entitlements or option flags");
	if (o->linker_signed && o->identity != NULL)
		return msign_diag_set(d, MSIGN_E_ARG, 0,
				      "a linker signature is ad hoc");
	if ((o->cd_flags & (MSIGN_CS_ADHOC | MSIGN_CS_LINKER_SIGNED)) != 0)
		return msign_diag_set(d, MSIGN_E_ARG, 0,
				      "adhoc and linker-signed are not option flags");
	if (o->for_notarization) {
		char list[1024];
		unsigned n = 0;
		int r = msign_sign_notary_problems(o, list, sizeof(list), &n, d);
		if (r)
			return r;
		/* One line, the problems joined: a diagnostic is a sentence. */
		char one[sizeof(list) * 2];
		size_t k = 0;
		for (const char *c = list; *c != '\0' && k + 3 < sizeof(one); c++) {
			if (*c == '\n') {
				one[k++] = ';';
				one[k++] = ' ';
			} else {
				one[k++] = *c;
			}
		}
		one[k] = '\0';
		if (n)
			return msign_diag_set(d, MSIGN_E_ARG, 0,
					      "not ready for notarization: %s", one);
	}
	return 0;
}

/* The slice's unsigned header: strip's patch for it, or its own bytes. */
static int sg_unsigned_header(struct sg_run *run, uint32_t i,
			      struct msign_diag *d)
{
	struct sg_slice *x = &run->sl[i];
	const struct msign_slice *s = x->s;
	x->hdr = s->data;
	x->hdr_len = (size_t)s->header_size + s->sizeofcmds;
	if (s->has_codesig) {
		uint64_t at = run->sres.slices[i].new_off;
		bool found = false;
		for (uint32_t k = 0; k < run->strip.npatches; k++) {
			const struct msign_patch *p = &run->strip.patches[k];
			if (p->dst_off == at && p->len == x->hdr_len) {
				x->hdr = p->data;
				found = true;
			}
		}
		if (!found)
			return msign_diag_set(d, MSIGN_E_INVALID, 0,
					      "slice %u: no unsigned header from strip", i);
	}
	x->hs = calloc(1, sizeof(*x->hs));
	if (x->hs == NULL)
		return MSIGN_E_NOMEM;
	int r = msign_slice_parse(x->hdr, x->hdr_len, x->hs, d);
	if (r)
		return r;
	if (x->hs->linkedit_seg < 0 || x->hs->has_codesig)
		return msign_diag_set(d, MSIGN_E_INVALID, 0,
				      "slice %u: no __LINKEDIT after removing the signature", i);
	const struct msign_segment *le = &x->hs->segments[x->hs->linkedit_seg];
	x->base_len = le->fileoff + le->filesize; /* sum checked at parse */
	if (x->base_len > run->sres.slices[i].new_size || x->base_len < x->hdr_len)
		return msign_diag_set(d, MSIGN_E_BAD_RANGE, le->cmd_off,
				      "__LINKEDIT ends at %llu, outside the %llu-byte slice",
				      (unsigned long long)x->base_len,
				      (unsigned long long)run->sres.slices[i].new_size);
	/* Signing rewrites the slice up to the end of __LINKEDIT; anything
	 * after it would be dropped (cctools refuses such files too). */
	if (x->base_len < run->sres.slices[i].new_size)
		return msign_diag_set(d, MSIGN_E_INVALID, x->base_len,
				      "the __LINKEDIT segment does not cover the end of the file (can't be processed): %llu bytes after it at offset %llu would be lost",
				      (unsigned long long)(run->sres.slices[i].new_size - x->base_len),
				      (unsigned long long)(s->off + x->base_len));
	return 0;
}

/* An embedded Info.plist is bound only where signing leaves its bytes as
 * they are: after the load commands, before the end of __LINKEDIT. */
static bool sg_plist_in_place(const struct sg_slice *x)
{
	const struct msign_slice *s = x->s;
	uint64_t hdr_end = (uint64_t)x->hs->header_size + x->hs->sizeofcmds +
			   MSIGN_LINKEDIT_DATA_LEN;
	if (hdr_end < x->hdr_len)
		hdr_end = x->hdr_len;
	return s->has_info_plist && s->info_plist_off >= hdr_end &&
	       s->info_plist_size <= x->base_len &&
	       s->info_plist_off <= x->base_len - s->info_plist_size;
}

/* CodeDirectories, blobs and the SuperBlob of one slice: sizes only. */
static int sg_slice_layout(struct sg_run *run, struct sg_slice *x,
			   struct msign_diag *d)
{
	const struct msign_sign_opts *o = run->o;
	const struct msign_slice *s = x->s;
	uint64_t dataoff = sg_round(x->base_len, SIG_ALIGN);
	uint32_t lg = sg_page_log2(s, o);
	uint64_t ncode = msign_codedir_pages(dataoff, lg);
	if (dataoff > UINT32_MAX / 2)
		return msign_diag_set(d, MSIGN_E_OVERFLOW, 0,
				      "slice of %llu bytes is too large for an embedded signature",
				      (unsigned long long)dataoff);
	struct sg_specials *sp = &x->sp;
	memset(sp, 0, sizeof(*sp));
	memset(&x->sb, 0, sizeof(x->sb));
	x->sb.lld = o->linker_signed;
	uint64_t exec_flags = s->filetype == MSIGN_MH_EXECUTE
				      ? MSIGN_CS_EXECSEG_MAIN_BINARY : 0;
	bool exec_seg = o->linker_signed ||
			(s->has_version && s->version_platform != 0);
	if (!o->linker_signed) {
		sp->count = MSIGN_CSSLOT_REQUIREMENTS;
		sp->data[MSIGN_CSSLOT_REQUIREMENTS] = run->blobs.reqs;
		sp->len[MSIGN_CSSLOT_REQUIREMENTS] = run->blobs.reqs_len;
		if (o->info_plist != NULL) {
			/* a bundle's Info.plist file binds every slice */
			sp->data[MSIGN_CSSLOT_INFOSLOT] = o->info_plist;
			sp->len[MSIGN_CSSLOT_INFOSLOT] = o->info_plist_len;
		} else if (sg_plist_in_place(x)) {
			sp->data[MSIGN_CSSLOT_INFOSLOT] = s->data + s->info_plist_off;
			sp->len[MSIGN_CSSLOT_INFOSLOT] = (size_t)s->info_plist_size;
		}
		if (o->resources != NULL) {
			/* the very bytes written to _CodeSignature/CodeResources */
			sp->count = MSIGN_CSSLOT_RESOURCEDIR;
			sp->data[MSIGN_CSSLOT_RESOURCEDIR] = o->resources;
			sp->len[MSIGN_CSSLOT_RESOURCEDIR] = o->resources_len;
		}
		if (run->blobs.ent_xml != NULL) {
			sp->count = MSIGN_CSSLOT_DER_ENTITLEMENTS;
			sp->data[MSIGN_CSSLOT_ENTITLEMENTS] = run->blobs.ent_xml;
			sp->len[MSIGN_CSSLOT_ENTITLEMENTS] = run->blobs.ent_xml_len;
			sp->data[MSIGN_CSSLOT_DER_ENTITLEMENTS] = run->blobs.ent_der;
			sp->len[MSIGN_CSSLOT_DER_ENTITLEMENTS] = run->blobs.ent_der_len;
			exec_flags |= run->blobs.ent_exec_flags;
		}
	}
	const struct msign_segment *text =
		x->hs->text_seg >= 0 ? &x->hs->segments[x->hs->text_seg] : NULL;
	x->ncds = run->nhash;
	for (uint32_t k = 0; k < x->ncds; k++) {
		struct sg_cd *cd = &x->cds[k];
		memset(cd, 0, sizeof(*cd));
		cd->hash_type = run->hash_types[k];
		cd->page_log2 = (uint8_t)lg;
		cd->flags = o->linker_signed ? MSIGN_CS_ADHOC | MSIGN_CS_LINKER_SIGNED
					     : o->cd_flags;
		if (o->identity == NULL)
			cd->flags |= MSIGN_CS_ADHOC;
		else
			cd->team = msign_identity_team(o->identity);
		cd->ncode = (uint32_t)ncode;
		cd->code_limit = (uint32_t)dataoff;
		if (exec_seg && text != NULL) {
			cd->exec_base = text->fileoff;
			cd->exec_limit = text->filesize;
			cd->exec_flags = exec_flags;
		}
		if ((o->cd_flags & MSIGN_CS_RUNTIME) && o->runtime_version != 0)
			cd->runtime = o->runtime_version;
		else if ((o->cd_flags & MSIGN_CS_RUNTIME) && s->has_version)
			cd->runtime = s->version_sdk;
		cd->version = o->linker_signed ? MSIGN_CS_SUPPORTSEXECSEG
					       : sg_cd_version(cd);
		cd->ident = run->res->identifier;
		cd->pad_ident = o->linker_signed;
		int r = sg_cd_layout(cd, sp->count);
		if (r)
			return msign_diag_set(d, r, 0, "CodeDirectory too large");
	}
	/* Index order is ascending slot type, as Apple's SuperBlob maker
	 * writes it: CD, requirements, entitlements, alternate CDs, CMS. */
	int r = sg_sb_add(&x->sb, MSIGN_CSSLOT_CODEDIRECTORY, NULL, x->cds[0].len);
	if (!o->linker_signed) {
		r = r ? r : sg_sb_add(&x->sb, MSIGN_CSSLOT_REQUIREMENTS, run->blobs.reqs,
				      run->blobs.reqs_len);
		if (run->blobs.ent_xml != NULL) {
			r = r ? r : sg_sb_add(&x->sb, MSIGN_CSSLOT_ENTITLEMENTS,
					      run->blobs.ent_xml, run->blobs.ent_xml_len);
			r = r ? r : sg_sb_add(&x->sb, MSIGN_CSSLOT_DER_ENTITLEMENTS,
					      run->blobs.ent_der, run->blobs.ent_der_len);
		}
	}
	for (uint32_t k = 1; k < x->ncds; k++)
		r = r ? r : sg_sb_add(&x->sb, MSIGN_CSSLOT_ALTERNATE_CODEDIRECTORIES + k - 1,
				      NULL, x->cds[k].len);
	x->cms_idx = x->sb.count;
	if (!o->linker_signed)
		r = r ? r : sg_sb_add(&x->sb, MSIGN_CSSLOT_SIGNATURESLOT, run->blobs.cms,
				      run->blobs.cms_len);
	if (r || (r = sg_sb_layout(&x->sb)) != 0)
		return msign_diag_set(d, r, 0, "signature too large");
	if (x->sb.size > UINT32_MAX / 2 - dataoff)
		return msign_diag_set(d, MSIGN_E_OVERFLOW, 0, "signature too large");
	struct msign_sign_slice *rs = x->res;
	rs->dataoff = (uint32_t)dataoff;
	rs->datasize = x->sb.size;
	rs->out_size = dataoff + x->sb.size;
	rs->ncds = x->ncds;
	rs->page_size = 1u << lg;
	rs->cd_version = x->cds[0].version;
	for (uint32_t k = 0; k < x->ncds; k++)
		rs->hash_types[k] = x->cds[k].hash_type;
	return 0;
}

/* The header with LC_CODE_SIGNATURE appended and __LINKEDIT grown. */
static int sg_new_header(struct sg_run *run, struct sg_slice *x,
			 struct msign_diag *d)
{
	const struct msign_slice *hs = x->hs;
	const struct msign_slice *s = x->s;
	size_t cmds_end = (size_t)hs->header_size + hs->sizeofcmds;
	uint64_t room = s->first_section_off;
	const struct msign_segment *le = &hs->segments[hs->linkedit_seg];
	if (room == 0 || room > le->fileoff)
		room = le->fileoff;
	if (cmds_end + MSIGN_LINKEDIT_DATA_LEN > room)
		return msign_diag_set(d, MSIGN_E_INVALID, MSIGN_MH_OFF_SIZEOFCMDS,
				      "no room for LC_CODE_SIGNATURE: load commands end at %zu, first section at %llu (relink with -headerpad)",
				      cmds_end, (unsigned long long)room);
	size_t len = cmds_end + MSIGN_LINKEDIT_DATA_LEN;
	if (len < x->hdr_len)
		len = x->hdr_len;
	if (len > room)
		return msign_diag_set(d, MSIGN_E_INVALID, MSIGN_MH_OFF_SIZEOFCMDS,
				      "load commands (%zu bytes) overlap the first section at %llu",
				      len, (unsigned long long)room);
	uint8_t *h = calloc(1, len);
	if (h == NULL)
		return MSIGN_E_NOMEM;
	memcpy(h, x->hdr, x->hdr_len);
	bool be = hs->big_endian;
	uint32_t dataoff = x->res->dataoff, datasize = x->res->datasize;
	uint8_t *lc = h + cmds_end;
	msign_put_u32(lc + MSIGN_LC_OFF_CMD, be, MSIGN_LC_CODE_SIGNATURE);
	msign_put_u32(lc + MSIGN_LC_OFF_CMDSIZE, be, MSIGN_LINKEDIT_DATA_LEN);
	msign_put_u32(lc + MSIGN_LINKEDIT_DATA_OFF_DATAOFF, be, dataoff);
	msign_put_u32(lc + MSIGN_LINKEDIT_DATA_OFF_DATASIZE, be, datasize);
	msign_put_u32(h + MSIGN_MH_OFF_NCMDS, be, hs->ncmds + 1);
	msign_put_u32(h + MSIGN_MH_OFF_SIZEOFCMDS, be,
		      hs->sizeofcmds + MSIGN_LINKEDIT_DATA_LEN);
	uint64_t filesize = (uint64_t)dataoff + datasize - le->fileoff;
	uint64_t vmsize = le->vmsize;
	if (run->o->linker_signed)
		vmsize = filesize;
	else if (filesize > vmsize)
		vmsize = sg_round(filesize, sg_segalign(s->cputype));
	uint8_t *seg = h + (size_t)le->cmd_off;
	if (hs->is64) {
		msign_put_u64(seg + MSIGN_SEG64_OFF_VMSIZE, be, vmsize);
		msign_put_u64(seg + MSIGN_SEG64_OFF_FILESIZE, be, filesize);
	} else {
		if (vmsize > UINT32_MAX)
			vmsize = filesize;
		msign_put_u32(seg + MSIGN_SEG32_OFF_VMSIZE, be, (uint32_t)vmsize);
		msign_put_u32(seg + MSIGN_SEG32_OFF_FILESIZE, be, (uint32_t)filesize);
	}
	x->newhdr = h;
	x->newhdr_len = len;
	return 0;
}

static int sg_slice_write(struct sg_slice *x)
{
	/* calloc: a large signature comes zeroed from fresh pages, first
	 * touched by the hashing threads, not memset on one core. */
	x->sig = calloc(1, x->sb.size ? x->sb.size : 1);
	if (x->sig == NULL)
		return MSIGN_E_NOMEM;
	sg_sb_write(&x->sb, x->sig);
	uint32_t slot_k = 0;
	for (uint32_t i = 0; i < x->sb.count; i++) {
		if (x->sb.data[i] != NULL)
			continue; /* a CodeDirectory region, in CD order */
		int r = sg_cd_write(&x->cds[slot_k], &x->sp, x->sig + x->sb.off[i]);
		if (r)
			return r;
		slot_k++;
	}
	return 0;
}

/* The bytes the CodeDirectories cover, as the output will hold them: the
 * new header and the padding from memory (they are written from the same
 * buffers), the rest from the output file once the copier has put it
 * there. That copy cannot change under us, while the input can: hashing
 * the input instead could seal bytes other than those written. */
static void sg_pieces(const struct sg_run *run, const struct sg_slice *x,
		      struct msign_hash_job *j)
{
	j->npieces = 3;
	j->pieces[0] = (struct msign_piece){ .data = x->newhdr,
					     .len = x->newhdr_len };
	j->pieces[1] = msign_image_piece(run->img, x->s->data + x->newhdr_len,
					 x->base_len - x->newhdr_len);
	if (run->out != NULL) {
		j->pieces[1].in_file = true;
		j->pieces[1].fd = msign_out_fd(run->out);
		j->pieces[1].file_off = x->res->out_off + x->newhdr_len;
		j->pieces[1].gate = run->out;
	}
	j->pieces[2] = (struct msign_piece){ .data = NULL,
					     .len = x->res->dataoff - x->base_len };
	j->limit = x->res->dataoff;
}

static int sg_hash(struct sg_run *run, struct msign_diag *d)
{
	uint32_t n = 0;
	for (uint32_t i = 0; i < run->img->nslices; i++)
		n += run->sl[i].target ? run->sl[i].ncds : 0;
	struct msign_hash_job *jobs = calloc(n ? n : 1, sizeof(*jobs));
	if (jobs == NULL)
		return MSIGN_E_NOMEM;
	n = 0;
	for (uint32_t i = 0; i < run->img->nslices; i++) {
		struct sg_slice *x = &run->sl[i];
		uint32_t k = 0;
		for (uint32_t b = 0; x->target && b < x->sb.count; b++) {
			if (x->sb.data[b] != NULL)
				continue;
			const struct sg_cd *cd = &x->cds[k++];
			struct msign_hash_job *j = &jobs[n++];
			sg_pieces(run, x, j);
			j->page_log2 = cd->page_log2;
			j->hash_type = cd->hash_type;
			j->npages = cd->ncode;
			j->out = x->sig + x->sb.off[b] + cd->hash_off;
		}
	}
	int r = msign_hash_run(jobs, n, run->o->threads, d);
	free(jobs);
	return r;
}

static int sg_layout_file(struct sg_run *run, struct msign_plan *plan,
			  struct msign_diag *d)
{
	const struct msign_image *img = run->img;
	uint64_t size[MSIGN_MAX_SLICES], off[MSIGN_MAX_SLICES];
	for (uint32_t i = 0; i < img->nslices; i++) {
		struct msign_sign_slice *rs = &run->res->slices[i];
		if (!rs->target)
			rs->out_size = run->sres.slices[i].new_size;
		size[i] = rs->out_size;
	}
	int r = msign_fat_layout(img, size, off, &plan->out_len, d);
	for (uint32_t i = 0; r == 0 && i < img->nslices; i++)
		run->res->slices[i].out_off = off[i];
	if (r == 0 && img->is_fat)
		r = msign_plan_fat_header(plan, img, off, size);
	return r;
}

/* The plan's copied ranges: each whole untouched slice, and each signed
 * slice's unsigned part as one range (a thin file's plan can then start
 * from a clone). Known before any page is hashed. */
static int sg_plan_copies(struct sg_run *run, struct msign_plan *plan)
{
	int r = 0;
	for (uint32_t i = 0; i < run->img->nslices && r == 0; i++) {
		const struct sg_slice *x = &run->sl[i];
		const struct msign_sign_slice *rs = x->res;
		r = msign_plan_copy(plan, x->s->off, rs->out_off,
				    x->target ? x->base_len : rs->out_size);
	}
	return r;
}

/* The rest of each signed slice: the new header over its range, and every
 * byte after it written explicitly, padding included. */
static int sg_plan_patches(struct sg_run *run, struct msign_plan *plan)
{
	static const uint8_t zeros[SIG_ALIGN];
	int r = 0;
	for (uint32_t i = 0; i < run->img->nslices && r == 0; i++) {
		struct sg_slice *x = &run->sl[i];
		const struct msign_sign_slice *rs = x->res;
		if (!x->target)
			continue;
		r = msign_plan_patch(plan, rs->out_off, x->newhdr, x->newhdr_len);
		if (r == 0 && rs->dataoff > x->base_len)
			r = msign_plan_patch(plan, rs->out_off + x->base_len, zeros,
					     (size_t)(rs->dataoff - x->base_len));
		if (r == 0) {
			/* the plan takes the signature: no copy of megabytes */
			r = msign_plan_patch_adopt(plan, rs->out_off + rs->dataoff,
						   x->sig, rs->datasize);
			x->sig = NULL;
		}
	}
	return r;
}

/* Targets, unsigned headers, identifier, hash types, shared blobs. */
static int sg_prepare(struct sg_run *run, struct msign_diag *d)
{
	const struct msign_image *img = run->img;
	const struct msign_sign_opts *o = run->o;
	int only = -1, r;
	if (o->arch != NULL && (only = msign_image_find_arch(img, o->arch)) < 0)
		return msign_diag_set(d, MSIGN_E_NOT_FOUND, 0,
				      "architecture %s not present", o->arch);
	if ((r = msign_strip_plan(img, o->arch, &run->strip, &run->sres, d)))
		return r;
	run->res->nslices = img->nslices;
	for (uint32_t i = 0; i < img->nslices; i++) {
		struct sg_slice *x = &run->sl[i];
		x->s = &img->slices[i];
		x->res = &run->res->slices[i];
		x->target = only < 0 || (uint32_t)only == i;
		x->res->target = x->target;
		if (!x->target)
			continue;
		x->res->was_signed = x->s->has_codesig;
		if (x->s->has_codesig) {
			run->res->replaced = true;
			if (!o->force) {
				run->res->already_signed = true;
				return msign_diag_set(d, MSIGN_E_ALREADY_SIGNED, 0,
						      "is already signed");
			}
		}
		bool fresh = msign_diag_fresh(d); /* slice offsets, made the file's */
		if ((r = sg_unsigned_header(run, i, d)))
			return msign_diag_rebase(d, fresh, x->s->off, r);
	}
	uint32_t main = only >= 0 ? (uint32_t)only : msign_image_default_slice(img);
	const struct sg_slice *m = &run->sl[main];
	if ((r = sg_identifier(m->s, m->hs, m->hdr, m->hdr_len, o, run->res->identifier,
			       sizeof(run->res->identifier), d)))
		return r;
	uint32_t mask = o->hash_types;
	if (o->linker_signed && mask == 0)
		mask = 1u << MSIGN_CS_HASHTYPE_SHA256;
	if (mask == 0)
		mask = sg_default_hashes(m->s);
	/* Slot 0 holds the weakest hash, alternates the stronger ones. */
	static const uint8_t order[] = { MSIGN_CS_HASHTYPE_SHA1, MSIGN_CS_HASHTYPE_SHA256_TRUNCATED,
					 MSIGN_CS_HASHTYPE_SHA256, MSIGN_CS_HASHTYPE_SHA384 };
	for (size_t k = 0; k < sizeof(order); k++)
		if (mask & (1u << order[k]))
			run->hash_types[run->nhash++] = order[k];
	run->signing_time = o->signing_time;
	if (o->identity != NULL && run->signing_time == MSIGN_SIGN_TIME_NOW)
		run->signing_time = (int64_t)time(NULL);
	return sg_blobs_make(&run->blobs, o, run->res->identifier, run->nhash, d);
}

uint32_t msign_sign_hash_mask(const struct msign_image *img,
			      const struct msign_sign_opts *o)
{
	if (o->hash_types != 0)
		return o->hash_types;
	if (o->linker_signed)
		return 1u << MSIGN_CS_HASHTYPE_SHA256;
	int only = o->arch != NULL ? msign_image_find_arch(img, o->arch) : -1;
	uint32_t main = only >= 0 ? (uint32_t)only : msign_image_default_slice(img);
	return sg_default_hashes(&img->slices[main]);
}

static void sg_run_free(struct sg_run *run)
{
	for (uint32_t i = 0; run->sl != NULL && i < run->nsl; i++) {
		free(run->sl[i].hs);
		free(run->sl[i].newhdr);
		free(run->sl[i].sig);
	}
	free(run->sl);
	sg_blobs_free(&run->blobs);
	msign_plan_free(&run->strip);
}

/* Everything but the page hashes: layout, headers, blobs, and the plan's
 * copied ranges. run is released by sg_run_free, whatever the result. */
static int sg_begin(struct sg_run *run, const struct msign_image *img,
		    const struct msign_sign_opts *o, struct msign_plan *plan,
		    struct msign_sign_result *res, struct msign_diag *d)
{
	memset(res, 0, sizeof(*res));
	memset(run, 0, sizeof(*run));
	msign_plan_init(&run->strip);
	int r = sg_check_opts(o, d);
	if (r)
		return r;
	run->img = img;
	run->o = o;
	run->res = res;
	run->sl = calloc(img->nslices, sizeof(*run->sl));
	if (run->sl == NULL)
		return MSIGN_E_NOMEM;
	run->nsl = img->nslices;
	if ((r = sg_prepare(run, d)))
		return r;
	for (uint32_t i = 0; i < img->nslices && r == 0; i++) {
		struct sg_slice *x = &run->sl[i];
		if (!x->target)
			continue;
		bool fresh = msign_diag_fresh(d); /* slice offsets, made the file's */
		if ((r = sg_slice_layout(run, x, d)) == 0 &&
		    (r = sg_new_header(run, x, d)) == 0)
			r = sg_slice_write(x);
		msign_diag_rebase(d, fresh, x->s->off, r);
	}
	if (r == 0)
		r = sg_layout_file(run, plan, d);
	if (r == 0)
		r = sg_plan_copies(run, plan);
	return r;
}

/* The CMS over the slot-0 CodeDirectory, now complete, into the room
 * reserved for it; the SuperBlob ends where the CMS blob ends (codesign),
 * the rest of datasize stays zero. */
static int sg_cms(struct sg_run *run, struct sg_slice *x, struct msign_diag *d)
{
	struct msign_cms_cd cds[MSIGN_MAX_CDS];
	uint32_t k = 0;
	for (uint32_t i = 0; i < x->sb.count && k < x->ncds; i++) {
		if (x->sb.data[i] != NULL)
			continue; /* a CodeDirectory region, in CD order */
		cds[k].hash_type = x->cds[k].hash_type;
		int r = msign_hash(x->cds[k].hash_type, x->sig + x->sb.off[i],
				   x->cds[k].len, cds[k].hash, &cds[k].hash_len);
		if (r)
			return msign_diag_set(d, r, 0, "cannot hash the CodeDirectory");
		k++;
	}
	struct msign_cms_in in = {
		.cd = x->sig + x->sb.off[0], .cd_len = x->cds[0].len,
		.cds = cds, .ncds = k, .signing_time = run->signing_time,
		.no_signing_time = run->signing_time == MSIGN_SIGN_TIME_NONE,
		.tsa = run->o->tsa,
	};
	uint8_t *cms = NULL;
	size_t len = 0;
	int r = msign_identity_sign(run->o->identity, &in, &cms, &len, d);
	if (r)
		return r;
	uint32_t room = x->sb.len[x->cms_idx] - MSIGN_BLOB_HEADER_LEN;
	if (len > room) {
		free(cms);
		return msign_diag_set(d, MSIGN_E_LIMIT, 0,
				      "the CMS signature (%zu bytes) does not fit the %u bytes reserved for it",
				      len, room);
	}
	uint8_t *w = x->sig + x->sb.off[x->cms_idx];
	uint32_t blob_len = (uint32_t)len + MSIGN_BLOB_HEADER_LEN;
	msign_put_be32(w + MSIGN_BLOB_OFF_LEN, blob_len);
	memcpy(w + MSIGN_BLOB_HEADER_LEN, cms, len);
	free(cms);
	msign_put_be32(x->sig + MSIGN_BLOB_OFF_LEN, x->sb.off[x->cms_idx] + blob_len);
	return 0;
}

/* The page hashes, the CMS signatures, then the patches that carry them. */
static int sg_end(struct sg_run *run, struct msign_plan *plan,
		  struct msign_diag *d)
{
	int r = sg_hash(run, d);
	for (uint32_t i = 0; r == 0 && run->o->identity != NULL && i < run->nsl; i++)
		if (run->sl[i].target)
			r = sg_cms(run, &run->sl[i], d);
	return r ? r : sg_plan_patches(run, plan);
}

int msign_sign_plan(const struct msign_image *img,
		    const struct msign_sign_opts *o, struct msign_plan *plan,
		    struct msign_sign_result *res, struct msign_diag *d)
{
	struct sg_run run;
	int r = sg_begin(&run, img, o, plan, res, d);
	if (r == 0)
		r = sg_end(&run, plan, d);
	sg_run_free(&run);
	return r;
}

/* ---- files ----------------------------------------------------------------- */

struct sg_check {
	const struct msign_sign_opts *o;
	struct msign_sign_result *res;
	struct sg_run run; /* between sg_plan_file and sg_fill_file */
	bool begun;
};

/* The written file must parse and verify: fully when small, else the
 * pages sign rewrote (load commands, the last page) and every blob. */
static int sg_validate(const uint8_t *data, size_t len, void *arg,
		       struct msign_diag *d)
{
	const struct sg_check *c = arg;
	struct msign_image *img = NULL;
	int r = msign_image_parse(data, len, &img, d);
	if (r)
		return r;
	struct msign_verify_opts vo = { .threads = c->o->threads,
					.arch = c->o->arch,
					.quick = len > QUICK_CHECK_ALL };
	struct msign_verify_result vr;
	r = msign_verify_image(img, &vo, &vr, d);
	if (r == MSIGN_E_VERIFY)
		r = msign_diag_set(d, MSIGN_E_VERIFY, 0,
				   "the signed result does not verify: %s",
				   vr.detail);
	msign_image_free(img);
	return r;
}

/* Layout first; the file is then copied while sg_fill_file hashes. */
static int sg_plan_file(const struct msign_image *img, struct msign_plan *plan,
			void *arg, struct msign_diag *d)
{
	struct sg_check *c = arg;
	c->begun = true;
	return sg_begin(&c->run, img, c->o, plan, c->res, d);
}

static int sg_fill_file(const struct msign_image *img, struct msign_plan *plan,
			struct msign_out *out, void *arg, struct msign_diag *d)
{
	(void)img;
	struct sg_check *c = arg;
	c->run.out = out;
	return sg_end(&c->run, plan, d);
}

int msign_sign_run(const char *in_path, const char *out_path,
		   const struct msign_sign_opts *o,
		   struct msign_sign_result *res, struct msign_diag *d)
{
	memset(res, 0, sizeof(*res));
	struct sg_check c = { .o = o, .res = res };
	int r = msign_edit_file(in_path, out_path, sg_plan_file, sg_fill_file,
				&c, sg_validate, &c, d);
	if (c.begun)
		sg_run_free(&c.run);
	return r;
}
