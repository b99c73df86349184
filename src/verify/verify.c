/* codesign --verify at hash level (spec section 4).
 *
 * Every slice, in codesign's Format= order: the container and signature
 * are validated where they enter (msign_sig_parse), then, in Apple's
 * order, the CMS messageDigest (and cdhashes) against the CodeDirectories,
 * each CodeDirectory's special slots (Info.plist, requirements,
 * entitlements XML and DER, launch constraints: whatever the signature
 * carries), the entitlements' XML and DER forms against each other, and
 * last every code page of every CodeDirectory, all CodeDirectories hashed
 * in one parallel run. The first failure is reported with codesign's
 * message class and one sentence naming the slice, the CodeDirectory and
 * the page (with its file range) or the special slot. Trust in the
 * certificate chain is not evaluated here. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cur.h"
#include "write/write.h"
#include "write/strip.h"
#include "hash/hash.h"
#include "sign/sign.h"
#include "verify/verify.h"
#include "sig/cms.h"
#include "sig/ent.h"
#include "sig/req.h"
#include "verify/verify_req.h"

#define QUICK_TAIL_PAGES 1u

/* One slice's hash run: each CodeDirectory's CDHash when a CMS signature
 * needs it (a one-page job over the CD) and its code pages, hashed
 * together so that a large CD is not hashed on one core before the pages
 * start. */
#define VF_MAX_JOBS (3 * MSIGN_MAX_CDS)
struct vf_hashes {
	struct msign_hash_job jobs[VF_MAX_JOBS];
	uint32_t owner[VF_MAX_JOBS]; /* CD index of each page job */
	uint32_t first_page_job;     /* jobs before it are the CDHashes */
	uint32_t n;
};

struct vf_ctx {
	const struct msign_image *img;
	const struct msign_verify_opts *o;
	struct msign_verify_result *res;
	uint32_t idx;
	const struct msign_slice *s;
	struct msign_sig *sig;
	struct vf_hashes *h;
	struct msign_trust_result *trust; /* scratch when o->trust_out is NULL */
	char arch[48];
};

const char *msign_verify_message(int kind)
{
	switch (kind) {
	case MSIGN_VERIFY_VALID: return "valid on disk";
	case MSIGN_VERIFY_NOT_SIGNED: return "code object is not signed at all";
	case MSIGN_VERIFY_BAD_MACHO:
		return "object file format unrecognized, invalid, or unsuitable";
	case MSIGN_VERIFY_BAD_FORMAT: return "invalid or unsupported format for signature";
	case MSIGN_VERIFY_BAD_VERSION: return "unsupported type or version of signature";
	case MSIGN_VERIFY_MODIFIED:
		return "invalid signature (code or signature have been modified)";
	case MSIGN_VERIFY_INFO_PLIST:
		return "invalid Info.plist (plist or signature have been modified)";
	case MSIGN_VERIFY_ENT_BLOB: return "invalid entitlements blob";
	case MSIGN_VERIFY_ENT_PLIST: return "invalid entitlement plist";
	case MSIGN_VERIFY_STRICT: return "main executable failed strict validation";
	/* errSecCSSignatureUntrusted's text (CSCommon.h); the spec's table. */
	case MSIGN_VERIFY_UNTRUSTED: return "signature is valid but signer is not trusted";
	/* codesign prints SecCopyErrorMessageString of a CSSM TP error, which
	 * is the constant's name (as `security find-identity` shows
	 * "(CSSMERR_TP_CERT_EXPIRED)" next to an expired identity). */
	case MSIGN_VERIFY_EXPIRED: return "CSSMERR_TP_CERT_EXPIRED";
	case MSIGN_VERIFY_NOT_YET_VALID: return "CSSMERR_TP_CERT_NOT_VALID_YET";
	/* errSecCSBadTeamIdentifier's text (CSCommon.h). */
	case MSIGN_VERIFY_BAD_TEAM: return "a Team Identifier is wrong or inappropriate";
	case MSIGN_VERIFY_REQUIREMENT:
		return "code failed to satisfy specified code requirement(s)";
	case MSIGN_VERIFY_DESIGNATED:
		return "does not satisfy its designated Requirement";
	case MSIGN_VERIFY_RESOURCES: return "a sealed resource is missing or invalid";
	case MSIGN_VERIFY_RESOURCE_DIR:
		return "invalid resource directory (directory or signature have been modified)";
	case MSIGN_VERIFY_NO_RESOURCES:
		return "code has no resources but signature indicates they must be present";
	case MSIGN_VERIFY_NESTED: return "nested code is modified or invalid";
	case MSIGN_VERIFY_BUNDLE: return "bundle format unrecognized, invalid, or unsuitable";
	default: return "unknown verification result";
	}
}

static int vf_fail(struct vf_ctx *c, int kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int vf_fail(struct vf_ctx *c, int kind, const char *fmt, ...)
{
	struct msign_verify_result *res = c->res;
	char msg[sizeof(res->detail) - 100]; /* room for the slice prefix */
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	res->kind = kind;
	res->slice = (int32_t)c->idx;
	res->cputype = c->s->cputype;
	res->cpusubtype = c->s->cpusubtype;
	if (c->img->is_fat)
		snprintf(res->detail, sizeof(res->detail),
			 "slice %s at offset %llu: %s", c->arch,
			 (unsigned long long)c->s->off, msg);
	else
		snprintf(res->detail, sizeof(res->detail), "%s", msg);
	return MSIGN_E_VERIFY;
}

static const char *vf_slot_name(uint32_t n)
{
	static const char *const names[] = {
		"", "Info.plist", "requirements", "resource directory",
		"application", "entitlements", "rep-specific",
		"DER entitlements", "launch constraint (self)",
		"launch constraint (parent)", "launch constraint (responsible)",
		"library constraint",
	};
	return n < sizeof(names) / sizeof(names[0]) ? names[n] : "unknown";
}

/* "sha256 CodeDirectory" or "sha1 CodeDirectory (slot 0x1000)". */
static void vf_cd_name(const struct msign_codedir *cd, char *out, size_t len)
{
	const char *h = msign_hashtype_name(cd->hash_type);
	if (cd->slot == MSIGN_CSSLOT_CODEDIRECTORY)
		snprintf(out, len, "%s CodeDirectory", h ? h : "?");
	else
		snprintf(out, len, "%s CodeDirectory (slot 0x%x)", h ? h : "?",
			 cd->slot);
}

/* Special slots whose blob lives in the SuperBlob. */
static bool vf_blob_slot(uint32_t n)
{
	return n == MSIGN_CSSLOT_REQUIREMENTS || n == MSIGN_CSSLOT_ENTITLEMENTS ||
	       n == MSIGN_CSSLOT_DER_ENTITLEMENTS ||
	       (n >= MSIGN_CSSLOT_LAUNCH_CONSTRAINT_SELF && n <= MSIGN_CSSLOT_LIBRARY_CONSTRAINT);
}

static const struct msign_blob *vf_blob(const struct msign_sig *sig,
					uint32_t type)
{
	for (uint32_t i = 0; i < sig->nblobs; i++)
		if (sig->blobs[i].type == type)
			return &sig->blobs[i];
	return NULL;
}

static int vf_parse(struct vf_ctx *c)
{
	const struct msign_slice *s = c->s;
	if (s->err != 0)
		return vf_fail(c, MSIGN_VERIFY_BAD_MACHO, "%s (at offset %llu)",
			       s->diag.msg, (unsigned long long)s->diag.file_off);
	struct msign_diag sd;
	msign_diag_clear(&sd);
	/* The CDHashes are computed by vf_hash, next to the pages. */
	int r = msign_sig_parse_ex(s, c->sig, MSIGN_SIG_NO_CDHASH, &sd);
	if (r == MSIGN_E_NOT_SIGNED)
		return vf_fail(c, MSIGN_VERIFY_NOT_SIGNED, "no LC_CODE_SIGNATURE");
	if (r == MSIGN_E_UNSUPPORTED)
		return vf_fail(c, MSIGN_VERIFY_BAD_VERSION, "%s", sd.msg);
	if (r != 0)
		return vf_fail(c, MSIGN_VERIFY_BAD_FORMAT, "%s (at offset %llu)",
			       sd.msg, (unsigned long long)sd.file_off);
	if (c->sig->blob_err != 0)
		return vf_fail(c, MSIGN_VERIFY_BAD_FORMAT, "%s", c->sig->blob_err_msg);
	for (uint32_t k = 0; k < c->sig->ncds; k++) {
		const struct msign_codedir *cd = &c->sig->cds[k];
		uint64_t limit = msign_codedir_limit(cd);
		char name[64];
		vf_cd_name(cd, name, sizeof(name));
		if (limit > s->size)
			return vf_fail(c, MSIGN_VERIFY_MODIFIED,
				       "%s: codeLimit %llu past the end of the %llu-byte slice",
				       name, (unsigned long long)limit,
				       (unsigned long long)s->size);
		if (limit > s->cs_dataoff)
			return vf_fail(c, MSIGN_VERIFY_MODIFIED,
				       "%s: codeLimit %llu runs into the signature at %u",
				       name, (unsigned long long)limit, s->cs_dataoff);
	}
	return 0;
}

/* --strict: the layout codesign writes and checks, exactly. */
static int vf_strict(struct vf_ctx *c)
{
	const struct msign_slice *s = c->s;
	const struct msign_sig *sig = c->sig;
	uint64_t end = (uint64_t)s->cs_dataoff + s->cs_datasize;
	if (end != s->size)
		return vf_fail(c, MSIGN_VERIFY_STRICT,
			       "%llu bytes after the signature's end at %llu",
			       (unsigned long long)(s->size - end),
			       (unsigned long long)end);
	if (s->linkedit_seg >= 0) {
		const struct msign_segment *le = &s->segments[s->linkedit_seg];
		if (le->fileoff + le->filesize != end)
			return vf_fail(c, MSIGN_VERIFY_STRICT,
				       "__LINKEDIT ends at %llu, the signature at %llu",
				       (unsigned long long)(le->fileoff + le->filesize),
				       (unsigned long long)end);
	}
	const struct msign_codedir *first = &sig->cds[0];
	for (uint32_t k = 0; k < sig->ncds; k++) {
		const struct msign_codedir *cd = &sig->cds[k];
		char name[64];
		vf_cd_name(cd, name, sizeof(name));
		if (msign_codedir_limit(cd) != s->cs_dataoff)
			return vf_fail(c, MSIGN_VERIFY_STRICT,
				       "%s: codeLimit %llu leaves [%llu, %u) unsigned",
				       name, (unsigned long long)msign_codedir_limit(cd),
				       (unsigned long long)msign_codedir_limit(cd),
				       s->cs_dataoff);
		if (strcmp(cd->ident, first->ident) != 0 || cd->flags != first->flags)
			return vf_fail(c, MSIGN_VERIFY_STRICT,
				       "%s: identifier or flags differ from the other CodeDirectories",
				       name);
	}
	return 0;
}

/* CDHashes2 as SecStaticCode::verifySignature checks it: as many entries
 * as CodeDirectories (none stripped), and each CodeDirectory of a known
 * digest listed with its full CDHash. */
static int vf_cdhashes2(const struct msign_sig *sig, const struct msign_cms_info *ci,
			char *msg, size_t len)
{
	if (ci->ncdhashes2 != sig->ncds) {
		snprintf(msg, len, "the CMS CDHashes2 attribute lists %u hashes for %u CodeDirectories",
			 ci->ncdhashes2, sig->ncds);
		return MSIGN_VERIFY_MODIFIED;
	}
	for (uint32_t k = 0; k < sig->ncds; k++) {
		const struct msign_codedir *cd = &sig->cds[k];
		int nid = msign_hashtype_nid(cd->hash_type);
		bool found = false;
		for (uint32_t i = 0; i < ci->ncdhashes2 && !found; i++)
			found = ci->cdhashes2[i].nid == nid &&
				ci->cdhashes2[i].len == cd->cdhash_len &&
				memcmp(ci->cdhashes2[i].hash, cd->cdhash, cd->cdhash_len) == 0;
		char name[64];
		vf_cd_name(cd, name, sizeof(name));
		if (!found) {
			snprintf(msg, len, "the %s's CDHash is not in the CMS CDHashes2 attribute",
				 name);
			return MSIGN_VERIFY_MODIFIED;
		}
	}
	return MSIGN_VERIFY_VALID;
}

int msign_verify_cms_cds(const struct msign_sig *sig, const uint8_t *der,
			 size_t der_len, bool *unchecked, char *msg, size_t len)
{
	struct msign_cms_info ci;
	struct msign_diag cd_diag;
	memset(&ci, 0, sizeof(ci));
	msign_diag_clear(&cd_diag);
	*unchecked = false;
	msg[0] = '\0';
	if (msign_cms_parse(der, der_len, &ci, &cd_diag) != 0) {
		snprintf(msg, len, "CMS signature: %s", cd_diag.msg);
		return MSIGN_VERIFY_BAD_FORMAT;
	}
	/* The CMS signs the CodeDirectory in slot 0 (the lowest hash). */
	const struct msign_codedir *cd0 = &sig->cds[sig->lowest];
	for (uint32_t k = 0; k < sig->ncds; k++)
		if (sig->cds[k].slot == MSIGN_CSSLOT_CODEDIRECTORY)
			cd0 = &sig->cds[k];
	uint8_t h[MSIGN_MAX_HASH_LEN];
	uint32_t hl = 0;
	char name[64];
	vf_cd_name(cd0, name, sizeof(name));
	int kind = MSIGN_VERIFY_VALID;
	if (ci.message_digest_len == 0) {
		*unchecked = true; /* no signed attributes: only the signature
				    * value covers the CD */
	} else if (msign_hash_nid(ci.digest_nid, cd0->blob, cd0->len, h, &hl) != 0) {
		snprintf(msg, len, "CMS signature: unsupported digest algorithm");
		kind = MSIGN_VERIFY_BAD_FORMAT;
	} else if (hl != ci.message_digest_len ||
		   memcmp(h, ci.message_digest, hl) != 0) {
		snprintf(msg, len, "CMS messageDigest does not match the %s", name);
		kind = MSIGN_VERIFY_MODIFIED;
	}
	for (uint32_t k = 0; kind == MSIGN_VERIFY_VALID && ci.ncdhashes > 0 && k < sig->ncds; k++) {
		bool found = false;
		for (uint32_t i = 0; i < ci.ncdhashes && i < MSIGN_MAX_CDS; i++)
			found = found || memcmp(ci.cdhashes[i], sig->cds[k].cdhash,
						MSIGN_CDHASH_LEN) == 0;
		vf_cd_name(&sig->cds[k], name, sizeof(name));
		if (!found) {
			snprintf(msg, len, "the %s's CDHash is not among the CMS signature's cdhashes",
				 name);
			kind = MSIGN_VERIFY_MODIFIED;
		}
	}
	if (kind == MSIGN_VERIFY_VALID && ci.has_cdhashes2)
		kind = vf_cdhashes2(sig, &ci, msg, len);
	msign_cms_info_free(&ci);
	return kind;
}

static int vf_cms(struct vf_ctx *c)
{
	const struct msign_sig *sig = c->sig;
	if (sig->cms == NULL || sig->cms->len <= MSIGN_BLOB_HEADER_LEN)
		return 0;
	c->res->cms = true;
	char msg[MSIGN_DIAG_MSG_LEN];
	bool unchecked = false;
	int kind = msign_verify_cms_cds(sig, msign_blob_payload(sig->cms),
					msign_blob_payload_len(sig->cms), &unchecked,
					msg, sizeof(msg));
	if (unchecked)
		c->res->cms_unchecked = true;
	return kind == MSIGN_VERIFY_VALID ? 0 : vf_fail(c, kind, "%s", msg);
}

/* Trust in a certificate signature, in Apple's order: after the CMS
 * digests, before the special slots and pages (validateDirectory calls
 * verifySignature first). */
static int vf_trust(struct vf_ctx *c, struct msign_diag *d)
{
	const struct msign_sig *sig = c->sig;
	if (c->o->trust == NULL || !c->res->cms || c->res->adhoc)
		return 0;
	const struct msign_codedir *cd0 = &sig->cds[sig->lowest];
	for (uint32_t k = 0; k < sig->ncds; k++)
		if (sig->cds[k].slot == MSIGN_CSSLOT_CODEDIRECTORY)
			cd0 = &sig->cds[k];
	struct msign_trust_result *t =
		c->o->trust_out ? &c->o->trust_out[c->idx] : c->trust;
	int r = msign_trust_check(msign_blob_payload(sig->cms),
				  msign_blob_payload_len(sig->cms), cd0->blob,
				  cd0->len, c->o->trust, t, d);
	if (r != 0)
		return r;
	c->res->trusted = true;
	c->res->cms_unchecked = false; /* its signature value was checked */
	if (t->kind != MSIGN_VERIFY_VALID)
		return vf_fail(c, t->kind, "%s", t->detail);
	const char *team = msign_verify_team_mismatch(sig, t);
	if (team != NULL)
		return vf_fail(c, MSIGN_VERIFY_BAD_TEAM,
			       "the CodeDirectory's team identifier \"%s\" is not the signing certificate's OU \"%s\"",
			       team, t->leaf_ou);
	return 0;
}

const char *msign_verify_team_mismatch(const struct msign_sig *sig,
				       struct msign_trust_result *t)
{
	/* verifySignature: an Apple developer certificate's OU is the team
	 * the CodeDirectory names (when both are there). */
	const char *team = sig->cds[sig->best].team;
	if (!t->apple_developer || !t->has_leaf_ou || team == NULL ||
	    strcmp(team, t->leaf_ou) == 0)
		return NULL;
	t->kind = MSIGN_VERIFY_BAD_TEAM;
	snprintf(t->detail, sizeof(t->detail),
		 "the CodeDirectory's team identifier is not the signing certificate's OU");
	return team;
}

/* Special slot n of one CodeDirectory. */
static int vf_special(struct vf_ctx *c, const struct msign_codedir *cd,
		      uint32_t n, const char *name)
{
	const struct msign_slice *s = c->s;
	const struct msign_blob *b = vf_blob(c->sig, n);
	bool present = msign_codedir_slot_present(cd, -(int64_t)n);
	bool bundle = c->o->bundle;
	if (!present) {
		if (bundle && n == MSIGN_CSSLOT_RESOURCEDIR)
			return vf_fail(c, MSIGN_VERIFY_NO_RESOURCES,
				       "%s: special slot -3 (resources) is not set in a bundle's main executable",
				       name);
		if (b != NULL && vf_blob_slot(n))
			return vf_fail(c, MSIGN_VERIFY_MODIFIED,
				       "%s: the %s blob (slot %u) is not sealed by special slot -%u",
				       name, vf_slot_name(n), n, n);
		return 0;
	}
	const uint8_t *data = NULL;
	size_t len = 0;
	if (bundle && (n == MSIGN_CSSLOT_INFOSLOT || n == MSIGN_CSSLOT_RESOURCEDIR)) {
		bool info = n == MSIGN_CSSLOT_INFOSLOT;
		data = info ? c->o->info_plist : c->o->resources;
		len = info ? c->o->info_plist_len : c->o->resources_len;
		if (data == NULL)
			return vf_fail(c, info ? MSIGN_VERIFY_INFO_PLIST : MSIGN_VERIFY_RESOURCE_DIR,
				       "%s: special slot -%u (%s) is set but the bundle has no %s",
				       name, n, vf_slot_name(n), info ? "Info.plist" : "CodeResources");
	} else if (n == MSIGN_CSSLOT_INFOSLOT && s->has_info_plist) {
		data = s->data + s->info_plist_off;
		len = (size_t)s->info_plist_size;
	} else if (vf_blob_slot(n)) {
		if (b == NULL)
			return vf_fail(c, MSIGN_VERIFY_MODIFIED,
				       "%s: special slot -%u (%s) is set but the signature has no such blob",
				       name, n, vf_slot_name(n));
		data = b->data;
		len = b->len;
	} else {
		/* Info.plist or resources of a bundle: outside this file. */
		c->res->slots_skipped++;
		return 0;
	}
	uint8_t h[MSIGN_MAX_HASH_LEN];
	uint32_t hl;
	if (msign_hash(cd->hash_type, data, len, h, &hl) != 0)
		return MSIGN_E_CRYPTO;
	c->res->slots_checked++;
	if (memcmp(h, msign_codedir_slot(cd, -(int64_t)n), cd->hash_size) == 0)
		return 0;
	int kind = n == MSIGN_CSSLOT_INFOSLOT ? MSIGN_VERIFY_INFO_PLIST
		   : bundle && n == MSIGN_CSSLOT_RESOURCEDIR ? MSIGN_VERIFY_RESOURCE_DIR
		   : MSIGN_VERIFY_MODIFIED;
	const char *what = bundle && n == MSIGN_CSSLOT_INFOSLOT ? "Info.plist file"
			   : bundle && n == MSIGN_CSSLOT_RESOURCEDIR ? "CodeResources file"
			   : n == MSIGN_CSSLOT_INFOSLOT ? "__TEXT,__info_plist section" : "blob";
	return vf_fail(c, kind, "%s: special slot -%u (%s) does not match its %s",
		       name, n, vf_slot_name(n), what);
}

static int vf_specials(struct vf_ctx *c)
{
	const struct msign_sig *sig = c->sig;
	for (uint32_t k = 0; k < sig->ncds; k++) {
		const struct msign_codedir *cd = &sig->cds[k];
		char name[64];
		vf_cd_name(cd, name, sizeof(name));
		uint32_t top = cd->nspecial > MSIGN_CSSLOT_LIBRARY_CONSTRAINT
				       ? cd->nspecial : MSIGN_CSSLOT_LIBRARY_CONSTRAINT;
		for (uint32_t n = 1; n <= top; n++) {
			int r = vf_special(c, cd, n, name);
			if (r)
				return r;
		}
	}
	return 0;
}

/* Entitlements: the XML must be a plist dictionary, and the DER must say
 * the same thing (compared in canonical DER form). */
int msign_verify_entitlements(const struct msign_sig *sig, char *msg, size_t len)
{
	const struct msign_blob *x = sig->ent_xml, *dr = sig->ent_der;
	uint32_t n;
	msg[0] = '\0';
	if (x != NULL && msign_plist_count_entries(msign_blob_payload(x),
						   msign_blob_payload_len(x),
						   &n, NULL) != 0) {
		snprintf(msg, len, "the entitlements (slot 5) are not a plist dictionary");
		return MSIGN_VERIFY_ENT_PLIST;
	}
	if (x == NULL || dr == NULL)
		return MSIGN_VERIFY_VALID;
	uint8_t *want = NULL, *again = NULL;
	size_t want_len = 0, again_len = 0;
	char *xml = NULL;
	size_t xml_len = 0;
	int kind = MSIGN_VERIFY_VALID;
	if (msign_ent_xml_to_der((const char *)msign_blob_payload(x),
				 msign_blob_payload_len(x), &want, &want_len,
				 NULL) != 0) {
		snprintf(msg, len, "the entitlements (slot 5) have no DER form");
		kind = MSIGN_VERIFY_ENT_BLOB;
	} else if (want_len == msign_blob_payload_len(dr) &&
		   memcmp(want, msign_blob_payload(dr), want_len) == 0) {
		kind = MSIGN_VERIFY_VALID;
	} else if (msign_ent_der_to_xml(msign_blob_payload(dr),
					msign_blob_payload_len(dr), &xml,
					&xml_len, NULL) != 0 ||
		   msign_ent_xml_to_der(xml, xml_len, &again, &again_len, NULL) != 0) {
		snprintf(msg, len, "the DER entitlements (slot 7) cannot be decoded");
		kind = MSIGN_VERIFY_ENT_BLOB;
	} else if (again_len != want_len || memcmp(again, want, want_len) != 0) {
		snprintf(msg, len, "the DER entitlements (slot 7) differ from the XML entitlements (slot 5)");
		kind = MSIGN_VERIFY_ENT_BLOB;
	}
	free(want);
	free(again);
	free(xml);
	return kind;
}

static int vf_entitlements(struct vf_ctx *c)
{
	char msg[MSIGN_DIAG_MSG_LEN];
	int kind = msign_verify_entitlements(c->sig, msg, sizeof(msg));
	return kind == MSIGN_VERIFY_VALID ? 0 : vf_fail(c, kind, "%s", msg);
}

/* Jobs for one CodeDirectory: all pages, or in quick mode the pages with
 * the load commands and the last one. */
static uint32_t vf_jobs(const struct vf_ctx *c, const struct msign_codedir *cd,
			struct msign_hash_job *j)
{
	const struct msign_slice *s = c->s;
	struct msign_hash_job base;
	msign_hash_job_codedir(&base, c->img, s, cd);
	j[0] = base;
	if (!c->o->quick || cd->page_log2 == 0)
		return cd->ncode > 0 ? 1 : 0;
	uint64_t hdr_end = (uint64_t)s->header_size + s->sizeofcmds;
	uint64_t head = msign_codedir_pages(hdr_end, cd->page_log2);
	if (head + QUICK_TAIL_PAGES >= cd->ncode)
		return cd->ncode > 0 ? 1 : 0;
	j[0].npages = (uint32_t)head;
	j[1] = base;
	j[1].first_page = cd->ncode - QUICK_TAIL_PAGES;
	j[1].npages = QUICK_TAIL_PAGES;
	return 2;
}

static int vf_hash(struct vf_ctx *c, struct msign_diag *d)
{
	struct msign_sig *sig = c->sig;
	struct vf_hashes *h = c->h;
	h->n = 0;
	/* The CMS checks use the CDHashes, and so do requirements (cdhash). */
	bool need_cdhash = (sig->cms != NULL &&
			    sig->cms->len > MSIGN_BLOB_HEADER_LEN) ||
			   c->o->requirement != NULL || c->o->designated;
	for (uint32_t k = 0; need_cdhash && k < sig->ncds; k++) {
		struct msign_codedir *cd = &sig->cds[k];
		struct msign_hash_job *j = &h->jobs[h->n++];
		memset(j, 0, sizeof(*j));
		/* From memory, never from the file: these are the bytes whose
		 * slots are compared (read at open); msign_image_piece would
		 * read the file again, which may have changed since. */
		j->pieces[0] = (struct msign_piece){ .data = cd->blob,
						     .len = cd->len, .fd = -1 };
		j->npieces = 1;
		j->limit = cd->len;
		j->page_log2 = 0; /* one page: the whole blob */
		j->hash_type = cd->hash_type;
		j->npages = 1;
		j->out = cd->cdhash;
		cd->cdhash_len = msign_hashtype_size(cd->hash_type);
	}
	h->first_page_job = h->n;
	for (uint32_t k = 0; k < sig->ncds; k++) {
		uint32_t m = vf_jobs(c, &sig->cds[k], &h->jobs[h->n]);
		for (uint32_t i = 0; i < m; i++) {
			h->owner[h->n + i] = k;
			c->res->pages_checked += h->jobs[h->n + i].npages;
		}
		h->n += m;
	}
	return msign_hash_run(h->jobs, h->n, c->o->threads, d);
}

/* The first page mismatch of vf_hash's run, in CodeDirectory order. */
static int vf_pages(struct vf_ctx *c)
{
	const struct msign_sig *sig = c->sig;
	const struct vf_hashes *h = c->h;
	for (uint32_t i = h->first_page_job; i < h->n; i++) {
		if (h->jobs[i].nbad == 0)
			continue;
		const struct msign_codedir *cd = &sig->cds[h->owner[i]];
		uint64_t nbad = 0;
		for (uint32_t k = h->first_page_job; k < h->n; k++)
			nbad += h->owner[k] == h->owner[i] ? h->jobs[k].nbad : 0;
		uint64_t pg = h->jobs[i].first_bad;
		uint64_t psize = cd->page_log2 ? (uint64_t)1 << cd->page_log2
					       : msign_codedir_limit(cd);
		uint64_t start = pg * psize;
		uint64_t end = start + psize < msign_codedir_limit(cd)
				       ? start + psize : msign_codedir_limit(cd);
		char name[64];
		vf_cd_name(cd, name, sizeof(name));
		return vf_fail(c, MSIGN_VERIFY_MODIFIED,
			       "%s: code page %llu of %u (file bytes %llu-%llu) does not match its hash (%llu page%s differ%s)",
			       name, (unsigned long long)pg, cd->ncode,
			       (unsigned long long)(c->s->off + start),
			       (unsigned long long)(c->s->off + end - 1),
			       (unsigned long long)nbad, nbad == 1 ? "" : "s",
			       nbad == 1 ? "s" : "");
	}
	return 0;
}

/* Requirements, once the slice is valid: -R's (a failure), then the
 * designated one (its verdict recorded, the slice stays valid on disk:
 * codesign -v reports it apart). The anchor is what trust decided. */
int msign_verify_requirements(const struct msign_verify_opts *o,
			      struct msign_verify_req_in *in, const uint8_t *cms,
			      size_t cms_len, const struct msign_trust_result *t,
			      struct msign_verify_result *res, int32_t idx,
			      bool *failed, bool *unknowable, struct msign_diag *d)
{
	*failed = *unknowable = false;
	if (o->requirement == NULL && !o->designated)
		return 0;
	struct msign_cms_info ci;
	memset(&ci, 0, sizeof(ci));
	if (cms != NULL) {
		struct msign_diag cd;
		msign_diag_clear(&cd);
		if (msign_cms_parse(cms, cms_len, &ci, &cd) == 0)
			in->cms = &ci;
		if (t != NULL && t->kind == MSIGN_VERIFY_VALID) {
			in->anchor = t->apple ? MSIGN_REQ_ANCHOR_APPLE
					      : t->chain_ok ? MSIGN_REQ_ANCHOR_USER
							    : MSIGN_REQ_ANCHOR_NONE;
			in->timestamp_ok = t->has_timestamp && t->timestamp_ok;
		}
	}
	struct msign_req_outcome out = { 0 };
	int r = 0;
	if (o->requirement != NULL) {
		struct msign_diag rd;
		msign_diag_clear(&rd);
		r = msign_verify_req_eval(in, o->requirement, o->requirement_len, &out, &rd);
		if (r < 0)
			r = msign_diag_set(d, r, 0, "the requirement: %s", rd.msg);
		else if (!out.value)
			*failed = true;
		*unknowable = out.unknowable;
		res->req_unknowable |= out.unknowable;
	}
	if (r == 0 && !*failed && o->designated) {
		bool implicit = false;
		struct msign_diag dd;
		msign_diag_clear(&dd);
		int e = msign_verify_dr_eval(in, &implicit, &out, &dd);
		res->dr_checked++;
		if (e != 0 || !out.value) {
			if (res->dr_failed_slice < 0)
				res->dr_failed_slice = idx;
			if (e != 0 && res->dr_detail[0] == '\0')
				snprintf(res->dr_detail, sizeof(res->dr_detail), "%s", dd.msg);
		}
		res->dr_unknowable |= out.unknowable;
	}
	in->cms = NULL;
	msign_cms_info_free(&ci);
	return r;
}

static int vf_requirements(struct vf_ctx *c, struct msign_diag *d)
{
	const struct msign_verify_opts *o = c->o;
	struct msign_verify_req_in in = { .s = c->s, .sig = c->sig };
	const struct msign_trust_result *t =
		o->trust_out ? &o->trust_out[c->idx] : c->trust;
	bool cms = c->res->cms && !c->res->adhoc;
	bool failed, unknowable;
	int r = msign_verify_requirements(
		o, &in, cms ? msign_blob_payload(c->sig->cms) : NULL,
		cms ? msign_blob_payload_len(c->sig->cms) : 0,
		c->res->trusted ? t : NULL, c->res, (int32_t)c->idx, &failed, &unknowable, d);
	if (r == 0 && failed)
		r = vf_fail(c, MSIGN_VERIFY_REQUIREMENT, "%s%s", "the requirement does not hold",
			    unknowable ? " (it depends on what only Apple's "
					 "services know: notarization, trust settings)" : "");
	return r;
}

static int vf_slice(struct vf_ctx *c, struct msign_diag *d)
{
	int r;
	char lbl[sizeof(c->arch)];
	snprintf(c->arch, sizeof(c->arch), "%s",
		 msign_arch_label(c->s->cputype, c->s->cpusubtype, lbl, sizeof(lbl)));
	if ((r = vf_parse(c)))
		return r;
	const struct msign_sig *sig = c->sig;
	struct msign_verify_result *res = c->res;
	res->slices_checked++;
	res->cds_checked += sig->ncds;
	res->adhoc = (sig->cds[sig->best].flags & MSIGN_CS_ADHOC) != 0;
	res->cms = false;
	res->pseudo = false;
	res->trusted = false;
	if (sig->requirements != NULL) {
		/* A designated requirement is an entry of its type in the set. */
		const struct msign_blob *rq = sig->requirements;
		for (uint32_t i = 0; i < sig->req_count && i < 64; i++) {
			size_t at = MSIGN_SB_HEADER_LEN + (size_t)i * MSIGN_SB_INDEX_LEN;
			if (at + MSIGN_SB_INDEX_LEN <= rq->len &&
			    msign_be32(rq->data + at + MSIGN_SB_INDEX_OFF_TYPE) ==
				    MSIGN_REQ_TYPE_DESIGNATED)
				res->explicit_dr = true;
		}
	}
	/* All hashing first, the checks then in Apple's order. */
	if ((c->o->strict && (r = vf_strict(c))) || (r = vf_hash(c, d)) ||
	    (r = vf_cms(c)) || (r = vf_trust(c, d)) || (r = vf_specials(c)) ||
	    (r = vf_entitlements(c)) || (r = vf_pages(c)) || (r = vf_requirements(c, d)))
		return r;
	res->pseudo = !res->adhoc && !res->cms;
	return 0;
}

int msign_verify_image(const struct msign_image *img,
		       const struct msign_verify_opts *o,
		       struct msign_verify_result *res, struct msign_diag *d)
{
	memset(res, 0, sizeof(*res));
	res->slice = -1;
	res->dr_failed_slice = -1;
	res->universal = img->is_fat;
	int only = -1;
	if (o->arch != NULL && (only = msign_image_find_arch(img, o->arch)) < 0)
		return msign_diag_set(d, MSIGN_E_NOT_FOUND, 0,
				      "architecture %s not present", o->arch);
	struct vf_ctx c = { .img = img, .o = o, .res = res };
	c.sig = malloc(sizeof(*c.sig));
	c.h = malloc(sizeof(*c.h));
	c.trust = o->trust && !o->trust_out ? malloc(sizeof(*c.trust)) : NULL;
	if (c.sig == NULL || c.h == NULL ||
	    (o->trust && !o->trust_out && c.trust == NULL)) {
		free(c.sig);
		free(c.h);
		free(c.trust);
		return MSIGN_E_NOMEM;
	}
	uint32_t order[MSIGN_MAX_SLICES];
	msign_image_sorted(img, order);
	int r = 0;
	for (uint32_t k = 0; k < img->nslices && r == 0; k++) {
		c.idx = order[k];
		if (only >= 0 && (uint32_t)only != c.idx)
			continue;
		c.s = &img->slices[c.idx];
		r = vf_slice(&c, d);
	}
	free(c.sig);
	free(c.h);
	free(c.trust);
	return r;
}

/* ---- a file (msign/verify.h) ----------------------------------------------- */

/* What verify.h promises of d after a failure: the code returned, and a
 * sentence even where the failing step set none (an allocation). */
