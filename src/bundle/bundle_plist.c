/* The signature of an Info.plist-only bundle (../shared/spec/bundles.md
 * sections 1 "Where the signature lives", 3 and 6): without a Mach-O main
 * executable the Info.plist stands in as the code, and every component of
 * the signature is a file of _CodeSignature, named as Apple's
 * CodeDirectory::canonicalSlotName names the slots. The CodeDirectories
 * come from the signer's own builder (sign_int.h), are read back by the
 * one parser (codedir.c), and are checked with verify's CMS, trust,
 * entitlement and requirement code; only what a slice has and these files
 * do not (pages of a Mach-O, a SuperBlob) is done here. */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/cur.h"
#include "base/diag.h"
#include "bundle/bundle_int.h"
#include "hash/hash.h"
#include "sig/cms.h"
#include "sig/req.h"
#include "sign/sign_cms.h"
#include "sign/sign_int.h"
#include "verify/verify_req.h"

/* Bytes of one component file read: the CMS is the largest (codesign
 * reserves 18000 bytes for it); far beyond any real one. */
#define MD_MAX_FILE (16u << 20)

const char *const mb_df_names[MB_DF_COUNT] = {
	"CodeDirectory", "CodeRequirements", "CodeRequirements-1",
	"CodeRequirements-2", "CodeRequirements-3", "CodeRequirements-4",
	"CodeRequirements-5", "CodeSignature", "CodeEntitlements",
	"CodeEntitlementDER",
};

/* Slot 0 holds the weakest hash, alternates the stronger ones (sign.c). */
static const uint8_t md_order[] = {
	MSIGN_CS_HASHTYPE_SHA1, MSIGN_CS_HASHTYPE_SHA256_TRUNCATED,
	MSIGN_CS_HASHTYPE_SHA256, MSIGN_CS_HASHTYPE_SHA384,
};

void mb_detached_free(struct mb_detached *x)
{
	for (int i = 0; i < MB_DF_COUNT; i++)
		free(x->file[i]);
	memset(x, 0, sizeof(*x));
}

/* A blob file: magic, its length field equal to the file's, header. */
static int md_blob(struct mb_detached *x, int i, uint32_t magic, uint32_t type,
		   uint32_t min_len, const struct msign_blob **out,
		   struct msign_diag *d)
{
	*out = NULL;
	if (x->file[i] == NULL)
		return 0;
	struct msign_cur c = msign_cur_make(x->file[i], x->len[i]);
	uint32_t m = 0, len = 0;
	if (msign_cur_peek_be32(&c, MSIGN_BLOB_OFF_MAGIC, &m) ||
	    msign_cur_peek_be32(&c, MSIGN_BLOB_OFF_LEN, &len) || x->len[i] < min_len)
		return msign_diag_set(d, MSIGN_E_TRUNCATED, 0, "%s: %zu bytes, too short",
				      mb_df_names[i], x->len[i]);
	if (m != magic)
		return msign_diag_set(d, MSIGN_E_BAD_MAGIC, 0, "%s: magic 0x%08x, want 0x%08x",
				      mb_df_names[i], m, magic);
	if (len != x->len[i])
		return msign_diag_set(d, MSIGN_E_BAD_RANGE, MSIGN_BLOB_OFF_LEN,
				      "%s: blob length %u in a %zu-byte file", mb_df_names[i],
				      len, x->len[i]);
	struct msign_sig *sig = &x->sig;
	struct msign_blob *b = &sig->blobs[sig->nblobs++];
	*b = (struct msign_blob){ .type = type, .magic = m, .data = x->file[i], .len = len };
	*out = b;
	return 0;
}

/* The index of the strongest CodeDirectory (sha384 > sha256 >
 * sha256-truncated > sha1), as codesign chooses. */
static int md_best(const struct msign_sig *sig)
{
	static const uint8_t pref[] = { MSIGN_CS_HASHTYPE_SHA384, MSIGN_CS_HASHTYPE_SHA256,
					MSIGN_CS_HASHTYPE_SHA256_TRUNCATED, MSIGN_CS_HASHTYPE_SHA1 };
	for (size_t p = 0; p < sizeof(pref); p++)
		for (uint32_t k = 0; k < sig->ncds; k++)
			if (sig->cds[k].hash_type == pref[p])
				return (int)k;
	return 0;
}

int mb_detached_read(int root_fd, struct mb_detached *x, struct msign_diag *d)
{
	memset(x, 0, sizeof(*x));
	for (int i = 0; i < MB_DF_COUNT; i++) {
		int r = mb_read_sigfile(root_fd, mb_df_names[i], MD_MAX_FILE, &x->file[i],
					&x->len[i], d);
		if (r)
			return r;
	}
	if (x->file[MB_DF_CD] == NULL)
		return msign_diag_set(d, MSIGN_E_NOT_SIGNED, 0,
				      "no _CodeSignature/CodeDirectory: code object is not signed at all");
	struct msign_sig *sig = &x->sig;
	for (int i = 0; i < 1 + 5; i++) {
		int f = i == 0 ? MB_DF_CD : MB_DF_ALT + i - 1;
		if (x->file[f] == NULL)
			continue;
		uint32_t slot = i == 0 ? MSIGN_CSSLOT_CODEDIRECTORY
				       : MSIGN_CSSLOT_ALTERNATE_CODEDIRECTORIES + (uint32_t)i - 1;
		struct msign_codedir cd;
		struct msign_diag pd;
		msign_diag_clear(&pd);
		int r = msign_codedir_parse(x->file[f], x->len[f], slot, &cd, &pd);
		if (r)
			return msign_diag_set(d, r, pd.file_off, "%s: %s", mb_df_names[f], pd.msg);
		if (cd.len != x->len[f])
			return msign_diag_set(d, MSIGN_E_BAD_RANGE, MSIGN_BLOB_OFF_LEN,
					      "%s: CodeDirectory of %u bytes in a %zu-byte file",
					      mb_df_names[f], cd.len, x->len[f]);
		/* ascending hash type, one CodeDirectory per type */
		uint32_t at = sig->ncds;
		for (uint32_t k = 0; k < sig->ncds; k++) {
			if (sig->cds[k].hash_type == cd.hash_type)
				return msign_diag_set(d, MSIGN_E_INVALID, 0,
						      "%s: a second CodeDirectory of hash type %u",
						      mb_df_names[f], cd.hash_type);
			if (sig->cds[k].hash_type > cd.hash_type && at == sig->ncds)
				at = k;
		}
		memmove(&sig->cds[at + 1], &sig->cds[at],
			(sig->ncds - at) * sizeof(sig->cds[0]));
		sig->cds[at] = cd;
		sig->ncds++;
	}
	sig->best = md_best(sig);
	sig->lowest = 0;
	int r = md_blob(x, MB_DF_REQS, MSIGN_CSMAGIC_REQUIREMENTS, MSIGN_CSSLOT_REQUIREMENTS,
			MSIGN_SB_HEADER_LEN, &sig->requirements, d);
	if (r == 0 && sig->requirements != NULL) {
		uint32_t n = msign_be32(sig->requirements->data + MSIGN_SB_OFF_COUNT);
		if (n > (sig->requirements->len - MSIGN_SB_HEADER_LEN) / MSIGN_SB_INDEX_LEN)
			return msign_diag_set(d, MSIGN_E_BAD_RANGE, MSIGN_SB_OFF_COUNT,
					      "CodeRequirements: %u entries in %u bytes", n,
					      sig->requirements->len);
		sig->req_count = n;
	}
	if (r == 0)
		r = md_blob(x, MB_DF_ENT, MSIGN_CSMAGIC_EMBEDDED_ENTITLEMENTS,
			    MSIGN_CSSLOT_ENTITLEMENTS, MSIGN_BLOB_HEADER_LEN, &sig->ent_xml, d);
	if (r == 0)
		r = md_blob(x, MB_DF_ENT_DER, MSIGN_CSMAGIC_EMBEDDED_DER_ENTITLEMENTS,
			    MSIGN_CSSLOT_DER_ENTITLEMENTS, MSIGN_BLOB_HEADER_LEN, &sig->ent_der, d);
	return r;
}

/* ---- signing ---------------------------------------------------------------- */

uint32_t mb_detached_hash_mask(const struct msign_sign_opts *o)
{
	if (o->hash_types != 0)
		return o->hash_types;
	/* Apple's signer for code that is not Mach-O (no deployment target
	 * to go by): both, as the spec found on Info.plist-only bundles. */
	return 1u << MSIGN_CS_HASHTYPE_SHA1 | 1u << MSIGN_CS_HASHTYPE_SHA256;
}

static int md_check_opts(const struct mb_bundle *b, const struct msign_sign_opts *o,
			 struct msign_diag *d)
{
	uint32_t known = 0;
	for (size_t k = 0; k < sizeof(md_order); k++)
		known |= 1u << md_order[k];
	if ((mb_detached_hash_mask(o) & ~known) != 0)
		return msign_diag_set(d, MSIGN_E_ARG, 0, "unknown digest type");
	if (o->linker_signed)
		return msign_diag_set(d, MSIGN_E_ARG, 0,
				      "a linker signature is for Mach-O code, not an Info.plist");
	if ((o->cd_flags & (MSIGN_CS_ADHOC | MSIGN_CS_LINKER_SIGNED)) != 0)
		return msign_diag_set(d, MSIGN_E_ARG, 0,
				      "adhoc and linker-signed are not option flags");
	if (b->info == NULL)
		return msign_diag_set(d, MSIGN_E_INVALID, 0, "the bundle has no Info.plist");
	if (b->info_len > UINT32_MAX / 2)
		return msign_diag_set(d, MSIGN_E_LIMIT, 0, "the Info.plist is too large");
	return 0;
}

/* The CMS over the slot-0 CodeDirectory, naming every CodeDirectory's
 * hash (sign.c's sg_cms, without a blob to put it in). */
static int md_cms(const struct msign_sign_opts *o, uint8_t *const *cdb,
		  const struct sg_cd *cds, uint32_t n, uint8_t **der, size_t *der_len,
		  struct msign_diag *d)
{
	struct msign_cms_cd cc[MSIGN_MAX_CDS];
	for (uint32_t k = 0; k < n; k++) {
		cc[k].hash_type = cds[k].hash_type;
		if (msign_hash(cds[k].hash_type, cdb[k], cds[k].len, cc[k].hash, &cc[k].hash_len))
			return msign_diag_set(d, MSIGN_E_CRYPTO, 0, "cannot hash the CodeDirectory");
	}
	int64_t t = o->signing_time;
	if (t == MSIGN_SIGN_TIME_NOW)
		t = (int64_t)time(NULL);
	struct msign_cms_in in = {
		.cd = cdb[0], .cd_len = cds[0].len, .cds = cc, .ncds = n,
		.signing_time = t, .no_signing_time = t == MSIGN_SIGN_TIME_NONE,
		.tsa = o->tsa,
	};
	return msign_identity_sign(o->identity, &in, der, der_len, d);
}

/* Every file of the signature, then the folder emptied of the others.
 * CodeResources first: slot -3 already holds the hash of these bytes. */
static int md_write(const struct mb_bundle *b, const uint8_t *cr, size_t cr_len,
		    const struct sg_blobs *bl, uint8_t *const *cdb, const struct sg_cd *cds,
		    uint32_t n, const uint8_t *der, size_t der_len, struct msign_diag *d)
{
	int dir = mb_sigdir_open(b->root_fd, d);
	if (dir < 0)
		return dir;
	const char *keep[MB_DF_COUNT + 1];
	size_t nkeep = 0;
	int r = mb_sigdir_write(dir, "CodeResources", cr, cr_len, d);
	keep[nkeep++] = "CodeResources";
	struct md_file { int f; const uint8_t *data; size_t len; } w[MB_DF_COUNT];
	size_t nw = 0;
	w[nw++] = (struct md_file){ MB_DF_REQS, bl->reqs, bl->reqs_len };
	if (bl->ent_xml != NULL) {
		w[nw++] = (struct md_file){ MB_DF_ENT, bl->ent_xml, bl->ent_xml_len };
		w[nw++] = (struct md_file){ MB_DF_ENT_DER, bl->ent_der, bl->ent_der_len };
	}
	w[nw++] = (struct md_file){ MB_DF_CD, cdb[0], cds[0].len };
	for (uint32_t k = 1; k < n; k++)
		w[nw++] = (struct md_file){ MB_DF_ALT + (int)k - 1, cdb[k], cds[k].len };
	/* ad hoc: an empty CodeSignature file, as codesign writes it */
	w[nw++] = (struct md_file){ MB_DF_CMS, der, der_len };
	for (size_t i = 0; i < nw && r == 0; i++) {
		r = mb_sigdir_write(dir, mb_df_names[w[i].f], w[i].data, w[i].len, d);
		keep[nkeep++] = mb_df_names[w[i].f];
	}
	if (r == 0)
		mb_sigdir_clean(dir, keep, nkeep);
	close(dir);
	return r;
}

int mb_detached_sign(const struct mb_bundle *b, const struct msign_sign_opts *o,
		     const char *ident, const uint8_t *cr, size_t cr_len,
		     struct msign_diag *d)
{
	int r = md_check_opts(b, o, d);
	if (r)
		return r;
	uint32_t mask = mb_detached_hash_mask(o), n = 0;
	uint8_t types[MSIGN_MAX_CDS];
	for (size_t k = 0; k < sizeof(md_order); k++)
		if (mask & (1u << md_order[k]))
			types[n++] = md_order[k];
	if (n == 0)
		return msign_diag_set(d, MSIGN_E_ARG, 0, "no digest type");
	struct sg_blobs bl;
	if ((r = sg_blobs_make(&bl, o, ident, n, d)))
		return r;
	struct sg_specials sp;
	memset(&sp, 0, sizeof(sp));
	sp.count = MSIGN_CSSLOT_RESOURCEDIR;
	sp.data[MSIGN_CSSLOT_INFOSLOT] = b->info;
	sp.len[MSIGN_CSSLOT_INFOSLOT] = b->info_len;
	sp.data[MSIGN_CSSLOT_REQUIREMENTS] = bl.reqs;
	sp.len[MSIGN_CSSLOT_REQUIREMENTS] = bl.reqs_len;
	sp.data[MSIGN_CSSLOT_RESOURCEDIR] = cr;
	sp.len[MSIGN_CSSLOT_RESOURCEDIR] = cr_len;
	if (bl.ent_xml != NULL) {
		sp.count = MSIGN_CSSLOT_DER_ENTITLEMENTS;
		sp.data[MSIGN_CSSLOT_ENTITLEMENTS] = bl.ent_xml;
		sp.len[MSIGN_CSSLOT_ENTITLEMENTS] = bl.ent_xml_len;
		sp.data[MSIGN_CSSLOT_DER_ENTITLEMENTS] = bl.ent_der;
		sp.len[MSIGN_CSSLOT_DER_ENTITLEMENTS] = bl.ent_der_len;
	}
	struct sg_cd cds[MSIGN_MAX_CDS];
	uint8_t *cdb[MSIGN_MAX_CDS] = { NULL };
	uint8_t *der = NULL;
	size_t der_len = 0;
	for (uint32_t k = 0; k < n && r == 0; k++) {
		struct sg_cd *cd = &cds[k];
		memset(cd, 0, sizeof(*cd));
		cd->hash_type = types[k];
		cd->page_log2 = 0; /* pageSize 0: the whole Info.plist is one page */
		cd->flags = o->cd_flags | (o->identity == NULL ? MSIGN_CS_ADHOC : 0);
		cd->team = o->identity != NULL ? msign_identity_team(o->identity) : NULL;
		cd->ncode = (uint32_t)msign_codedir_pages(b->info_len, 0);
		cd->code_limit = (uint32_t)b->info_len;
		if (o->cd_flags & MSIGN_CS_RUNTIME)
			cd->runtime = o->runtime_version; /* no SDK to take it from */
		cd->version = sg_cd_version(cd);
		cd->ident = ident;
		if ((r = sg_cd_layout(cd, sp.count)) != 0) {
			r = msign_diag_set(d, r, 0, "CodeDirectory too large");
			break;
		}
		if ((cdb[k] = calloc(1, cd->len)) == NULL) {
			r = msign_diag_set(d, MSIGN_E_NOMEM, 0, "out of memory");
			break;
		}
		uint8_t h[MSIGN_MAX_HASH_LEN];
		uint32_t hl;
		if ((r = sg_cd_write(cd, &sp, cdb[k])) != 0 ||
		    (cd->ncode > 0 && (r = msign_hash(cd->hash_type, b->info, b->info_len, h, &hl))))
			r = msign_diag_set(d, MSIGN_E_CRYPTO, 0, "cannot hash the Info.plist");
		else if (cd->ncode > 0)
			memcpy(cdb[k] + cd->hash_off, h, cd->hash_size);
	}
	if (r == 0 && o->identity != NULL)
		r = md_cms(o, cdb, cds, n, &der, &der_len, d);
	if (r == 0)
		r = md_write(b, cr, cr_len, &bl, cdb, cds, n, der, der_len, d);
	free(der);
	for (uint32_t k = 0; k < n; k++)
		free(cdb[k]);
	sg_blobs_free(&bl);
	return r;
}

/* ---- verification ------------------------------------------------------------ */

static int md_fail(struct msign_verify_result *res, int kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int md_fail(struct msign_verify_result *res, int kind, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(res->detail, sizeof(res->detail), fmt, ap);
	va_end(ap);
	res->kind = kind;
	res->slice = 0;
	return MSIGN_E_VERIFY;
}

static const char *md_cd_name(const struct msign_codedir *cd)
{
	return cd->slot == MSIGN_CSSLOT_CODEDIRECTORY
		       ? mb_df_names[MB_DF_CD]
		       : mb_df_names[MB_DF_ALT + cd->slot - MSIGN_CSSLOT_ALTERNATE_CODEDIRECTORIES];
}

/* What special slot n hashes: a bundle file, or NULL (*file: the file
 * that would hold it, for messages). */
static const uint8_t *md_special(const struct mb_bundle *b, const struct mb_detached *x,
				 const uint8_t *cr, size_t cr_len, uint32_t n,
				 size_t *len, const char **file)
{
	*len = 0;
	int f = -1;
	switch (n) {
	case MSIGN_CSSLOT_INFOSLOT:
		*file = "Info.plist";
		*len = b->info_len;
		return b->info;
	case MSIGN_CSSLOT_RESOURCEDIR:
		*file = "CodeResources";
		*len = cr_len;
		return cr;
	case MSIGN_CSSLOT_REQUIREMENTS: f = MB_DF_REQS; break;
	case MSIGN_CSSLOT_ENTITLEMENTS: f = MB_DF_ENT; break;
	case MSIGN_CSSLOT_DER_ENTITLEMENTS: f = MB_DF_ENT_DER; break;
	default:
		*file = "file";
		return NULL;
	}
	*file = mb_df_names[f];
	*len = x->len[f];
	return x->file[f];
}

/* The special slots of every CodeDirectory against the bundle's files
 * (SecStaticCode::component: a file whose slot is zero is not looked at,
 * except that a signature file nothing seals is a modified signature). */
static int md_specials(const struct mb_bundle *b, const struct mb_detached *x,
		       const uint8_t *cr, size_t cr_len, bool bundle,
		       struct msign_verify_result *res)
{
	const struct msign_sig *sig = &x->sig;
	for (uint32_t k = 0; k < sig->ncds; k++) {
		const struct msign_codedir *cd = &sig->cds[k];
		const char *name = md_cd_name(cd);
		uint32_t top = cd->nspecial > MSIGN_CSSLOT_DER_ENTITLEMENTS
				       ? cd->nspecial : MSIGN_CSSLOT_DER_ENTITLEMENTS;
		for (uint32_t n = 1; n <= top; n++) {
			size_t len;
			const char *file;
			const uint8_t *data = md_special(b, x, cr, cr_len, n, &len, &file);
			if (!bundle && n == MSIGN_CSSLOT_RESOURCEDIR) {
				/* nested code without --deep: its resources are not
				 * looked at (kSecCSBasicValidateOnly), as for Mach-O */
				res->slots_skipped++;
				continue;
			}
			int kind = n == MSIGN_CSSLOT_INFOSLOT ? MSIGN_VERIFY_INFO_PLIST
				   : n == MSIGN_CSSLOT_RESOURCEDIR ? MSIGN_VERIFY_RESOURCE_DIR
				   : MSIGN_VERIFY_MODIFIED;
			if (!msign_codedir_slot_present(cd, -(int64_t)n)) {
				if (n == MSIGN_CSSLOT_RESOURCEDIR)
					return md_fail(res, MSIGN_VERIFY_NO_RESOURCES,
						       "%s: special slot -3 (resources) is not set in a bundle's signature",
						       name);
				if (data != NULL && n != MSIGN_CSSLOT_INFOSLOT)
					return md_fail(res, MSIGN_VERIFY_MODIFIED,
						       "%s: _CodeSignature/%s is not sealed by special slot -%u",
						       name, file, n);
				continue;
			}
			if (data == NULL)
				return md_fail(res, kind,
					       "%s: special slot -%u is set but the bundle has no %s",
					       name, n, file);
			uint8_t h[MSIGN_MAX_HASH_LEN];
			uint32_t hl;
			if (msign_hash(cd->hash_type, data, len, h, &hl) != 0)
				return MSIGN_E_CRYPTO;
			res->slots_checked++;
			if (memcmp(h, msign_codedir_slot(cd, -(int64_t)n), cd->hash_size) != 0)
				return md_fail(res, kind,
					       "%s: special slot -%u does not match the %s file",
					       name, n, file);
		}
	}
	return 0;
}

/* The code: the Info.plist, in pages of the CodeDirectory's size (0: one
 * page), up to codeLimit, which must be the file's size. */
static int md_code(const struct mb_bundle *b, const struct mb_detached *x,
		   struct msign_verify_result *res)
{
	const struct msign_sig *sig = &x->sig;
	for (uint32_t k = 0; k < sig->ncds; k++) {
		const struct msign_codedir *cd = &sig->cds[k];
		uint64_t limit = msign_codedir_limit(cd);
		if (limit != b->info_len)
			return md_fail(res, MSIGN_VERIFY_MODIFIED,
				       "%s: codeLimit %llu, the Info.plist has %zu bytes",
				       md_cd_name(cd), (unsigned long long)limit, b->info_len);
		uint64_t psize = cd->page_log2 ? (uint64_t)1 << cd->page_log2 : limit;
		for (uint32_t p = 0; p < cd->ncode; p++) {
			uint64_t at = (uint64_t)p * psize;
			uint64_t n = limit - at < psize ? limit - at : psize;
			uint8_t h[MSIGN_MAX_HASH_LEN];
			uint32_t hl;
			if (msign_hash(cd->hash_type, b->info + at, (size_t)n, h, &hl) != 0)
				return MSIGN_E_CRYPTO;
			res->pages_checked++;
			if (memcmp(h, msign_codedir_slot(cd, p), cd->hash_size) != 0)
				return md_fail(res, MSIGN_VERIFY_MODIFIED,
					       "%s: code page %u (Info.plist bytes %llu-%llu) does not match its hash",
					       md_cd_name(cd), p, (unsigned long long)at,
					       (unsigned long long)(at + n - 1));
		}
	}
	return 0;
}

/* Trust in a certificate signature, and the team its leaf names (verify.c's
 * vf_trust, on the CodeSignature file). */
static int md_trust(const struct mb_detached *x, const struct msign_verify_opts *o,
		    struct msign_trust_result *t, struct msign_verify_result *res,
		    struct msign_diag *d)
{
	const struct msign_sig *sig = &x->sig;
	const struct msign_codedir *cd0 = &sig->cds[0];
	for (uint32_t k = 0; k < sig->ncds; k++)
		if (sig->cds[k].slot == MSIGN_CSSLOT_CODEDIRECTORY)
			cd0 = &sig->cds[k];
	int r = msign_trust_check(x->file[MB_DF_CMS], x->len[MB_DF_CMS], cd0->blob, cd0->len,
				  o->trust, t, d);
	if (r != 0)
		return r;
	res->trusted = true;
	res->cms_unchecked = false;
	if (t->kind != MSIGN_VERIFY_VALID)
		return md_fail(res, t->kind, "%s", t->detail);
	const char *team = msign_verify_team_mismatch(sig, t);
	if (team != NULL)
		return md_fail(res, MSIGN_VERIFY_BAD_TEAM,
			       "the CodeDirectory's team identifier \"%s\" is not the signing certificate's OU \"%s\"",
			       team, t->leaf_ou);
	return 0;
}

/* -R's requirement and the designated one, as verify.c's vf_requirements
 * does for a slice: the Info.plist is the one the signature binds. */
static int md_requirements(const struct mb_bundle *b, const struct mb_detached *x,
			   const struct msign_verify_opts *o,
			   const struct msign_trust_result *t,
			   struct msign_verify_result *res, struct msign_diag *d)
{
	struct msign_slice fs; /* what the requirement context reads of a slice */
	memset(&fs, 0, sizeof(fs));
	fs.data = b->info;
	fs.has_info_plist = b->info != NULL;
	fs.info_plist_size = b->info_len;
	struct msign_verify_req_in in = { .s = &fs, .sig = &x->sig };
	bool cms = res->cms && !res->adhoc, failed, unknowable;
	int r = msign_verify_requirements(o, &in, cms ? x->file[MB_DF_CMS] : NULL,
					  cms ? x->len[MB_DF_CMS] : 0,
					  res->trusted ? t : NULL, res, 0, &failed,
					  &unknowable, d);
	if (r == 0 && failed)
		r = md_fail(res, MSIGN_VERIFY_REQUIREMENT, "the requirement does not hold%s",
			    unknowable ? " (it depends on what only Apple's services "
					 "know: notarization, trust settings)" : "");
	return r;
}

static int md_verify(const struct mb_bundle *b, const struct mb_detached *x,
		     const struct msign_verify_opts *o, const uint8_t *cr, size_t cr_len,
		     struct msign_trust_result *t, struct msign_verify_result *res,
		     struct msign_diag *d)
{
	const struct msign_sig *sig = &x->sig;
	const struct msign_codedir *first = &sig->cds[0];
	res->slices_checked = 1;
	res->cds_checked = sig->ncds;
	res->adhoc = (sig->cds[sig->best].flags & MSIGN_CS_ADHOC) != 0;
	for (uint32_t i = 0; sig->requirements != NULL && i < sig->req_count; i++)
		if (msign_be32(sig->requirements->data + MSIGN_SB_HEADER_LEN +
			       (size_t)i * MSIGN_SB_INDEX_LEN + MSIGN_SB_INDEX_OFF_TYPE) ==
		    MSIGN_REQ_TYPE_DESIGNATED)
			res->explicit_dr = true;
	/* A scatter vector would map the pages elsewhere; no signer writes
	 * one, and ignoring it would check other bytes than it names. */
	for (uint32_t k = 0; k < sig->ncds; k++)
		if (sig->cds[k].scatter_off != 0)
			return md_fail(res, MSIGN_VERIFY_BAD_FORMAT,
				       "%s: a scatter vector (offset %u), which msign does not support",
				       md_cd_name(&sig->cds[k]), sig->cds[k].scatter_off);
	for (uint32_t k = 0; o->strict && k < sig->ncds; k++)
		if (strcmp(sig->cds[k].ident, first->ident) != 0 ||
		    sig->cds[k].flags != first->flags)
			return md_fail(res, MSIGN_VERIFY_STRICT,
				       "%s: identifier or flags differ from the other CodeDirectories",
				       md_cd_name(&sig->cds[k]));
	char msg[MSIGN_DIAG_MSG_LEN];
	int kind;
	int r;
	if (x->len[MB_DF_CMS] > 0) {
		res->cms = true;
		bool unchecked = false;
		kind = msign_verify_cms_cds(sig, x->file[MB_DF_CMS], x->len[MB_DF_CMS],
					    &unchecked, msg, sizeof(msg));
		res->cms_unchecked = unchecked;
		if (kind != MSIGN_VERIFY_VALID)
			return md_fail(res, kind, "CodeSignature: %s", msg);
		if (o->trust != NULL && !res->adhoc && (r = md_trust(x, o, t, res, d)) != 0)
			return r;
	}
	if ((r = md_specials(b, x, cr, cr_len, o->bundle, res)) != 0)
		return r;
	if ((kind = msign_verify_entitlements(sig, msg, sizeof(msg))) != MSIGN_VERIFY_VALID)
		return md_fail(res, kind, "%s", msg);
	if ((r = md_code(b, x, res)) != 0)
		return r;
	if ((r = md_requirements(b, x, o, t, res, d)) != 0)
		return r;
	res->pseudo = !res->adhoc && !res->cms;
	return 0;
}

int mb_detached_verify(const struct mb_bundle *b, const struct msign_verify_opts *o,
		       const uint8_t *cr, size_t cr_len,
		       struct msign_verify_result *res, uint32_t *mask,
		       struct msign_diag *d)
{
	memset(res, 0, sizeof(*res));
	res->slice = -1;
	res->dr_failed_slice = -1;
	*mask = 0;
	struct mb_detached *x = malloc(sizeof(*x));
	struct msign_trust_result *t = o->trust_out != NULL ? &o->trust_out[0]
							    : malloc(sizeof(*t));
	if (x == NULL || t == NULL) {
		free(x);
		if (o->trust_out == NULL)
			free(t);
		return msign_diag_set(d, MSIGN_E_NOMEM, 0, "out of memory");
	}
	memset(t, 0, sizeof(*t));
	struct msign_diag rd;
	msign_diag_clear(&rd);
	int r = mb_detached_read(b->root_fd, x, &rd);
	if (r == MSIGN_E_IO || r == MSIGN_E_NOMEM) {
		if (d != NULL)
			*d = rd;
	} else if (r == MSIGN_E_NOT_SIGNED) {
		r = md_fail(res, MSIGN_VERIFY_NOT_SIGNED, "%s", rd.msg);
	} else if (r != 0) {
		r = md_fail(res, r == MSIGN_E_UNSUPPORTED ? MSIGN_VERIFY_BAD_VERSION
							  : MSIGN_VERIFY_BAD_FORMAT,
			    "%s", rd.msg);
	} else {
		for (uint32_t k = 0; k < x->sig.ncds; k++)
			*mask |= 1u << x->sig.cds[k].hash_type;
		r = md_verify(b, x, o, cr, cr_len, t, res, d);
	}
	mb_detached_free(x);
	free(x);
	if (o->trust_out == NULL)
		free(t);
	return r;
}

int mb_detached_probe(const char *path, const char *version, bool *signed_out,
		      char *ident, size_t len)
{
	*signed_out = false;
	if (len > 0)
		ident[0] = '\0';
	char *abs = realpath(path, NULL);
	struct mb_bundle b;
	int r = abs != NULL ? mb_bundle_open(abs, version, &b, NULL) : MSIGN_E_IO;
	free(abs);
	if (r != 0)
		return 0;
	int plist_only = b.exec_rel == NULL;
	struct mb_detached *x = plist_only ? malloc(sizeof(*x)) : NULL;
	if (x != NULL) {
		if (mb_detached_read(b.root_fd, x, NULL) == 0) {
			*signed_out = true;
			snprintf(ident, len, "%s", x->sig.cds[x->sig.best].ident);
		} else if (x->file[MB_DF_CD] != NULL) {
			*signed_out = true; /* signed, if unreadably */
		}
		mb_detached_free(x);
		free(x);
	}
	mb_bundle_close(&b);
	return plist_only;
}

int mb_detached_designated(const struct mb_detached *x, char **text, bool *implicit,
			   struct msign_diag *d)
{
	const struct msign_sig *sig = &x->sig;
	*text = NULL;
	*implicit = false;
	if (sig->requirements != NULL) {
		char *set = NULL, *dr = NULL;
		uint32_t count = 0;
		bool has = false;
		int r = msign_reqset_decompile_dr(sig->requirements->data, sig->requirements->len,
						  &set, &count, &has, &dr, d);
		free(set);
		if (r)
			return r;
		if (dr != NULL) {
			*text = dr;
			return 0;
		}
	}
	*implicit = true;
	const struct msign_codedir *best = &sig->cds[sig->best];
	if (!(best->flags & MSIGN_CS_ADHOC) && x->len[MB_DF_CMS] > 0) {
		struct msign_cms_info ci;
		memset(&ci, 0, sizeof(ci));
		int r = msign_cms_parse(x->file[MB_DF_CMS], x->len[MB_DF_CMS], &ci, d);
		if (r == 0)
			r = msign_cms_designated(&ci, best->ident, text, d);
		msign_cms_info_free(&ci);
		return r;
	}
	/* Ad hoc (spec 2.5): every CodeDirectory's cdhash, ascending hash
	 * type, joined with " or " (one "slice": the Info.plist). */
	static const char term[] = "cdhash H\"\"";
	static const char or[] = " or ";
	size_t n = sig->ncds * (sizeof(term) - 1 + 2 * MSIGN_CDHASH_LEN + sizeof(or) - 1) + 1;
	char *w = *text = malloc(n);
	if (w == NULL)
		return msign_diag_set(d, MSIGN_E_NOMEM, 0, "out of memory");
	for (uint32_t k = 0; k < sig->ncds; k++) {
		w += sprintf(w, "%scdhash H\"", k ? or : "");
		for (uint32_t i = 0; i < MSIGN_CDHASH_LEN; i++)
			w += sprintf(w, "%02x", sig->cds[k].cdhash[i]);
		*w++ = '"';
		*w = '\0';
	}
	return 0;
}
