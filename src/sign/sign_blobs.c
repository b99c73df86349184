/* The signature's blobs: CodeDirectories, the SuperBlob around them, the
 * empty requirement set and the entitlements (XML as given, DER in Apple's
 * canonical form). Sizes are computed first, then every field is written
 * explicitly into a zeroed buffer of exactly that size; nothing here reads
 * file bytes except through the cursor. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cur.h"
#include "sign/sign_int.h"
#include "sig/req.h"
#include "sig/cms.h"
#include "sign/sign_cms.h"

#define EXECSEG_ALLOW_UNSIGNED 0x10u
#define EXECSEG_DEBUGGER 0x20u
#define EXECSEG_JIT 0x40u
#define EXECSEG_SKIP_LV 0x80u
#define EXECSEG_CAN_LOAD_CDHASH 0x100u
#define EXECSEG_CAN_EXEC_CDHASH 0x200u

static uint32_t sg_align(uint32_t v, uint32_t a)
{
	return (v + a - 1) & ~(a - 1);
}

uint32_t sg_cd_version(const struct sg_cd *cd)
{
	if (cd->runtime != 0)
		return MSIGN_CS_SUPPORTSRUNTIME;
	if (cd->exec_limit != 0)
		return MSIGN_CS_SUPPORTSEXECSEG;
	if (cd->team != NULL)
		return MSIGN_CS_SUPPORTSTEAMID;
	return MSIGN_CS_SUPPORTSSCATTER;
}

int sg_cd_layout(struct sg_cd *cd, uint32_t nspecial)
{
	cd->hash_size = msign_hashtype_size(cd->hash_type);
	size_t id_len = strlen(cd->ident) + 1;
	if (cd->pad_ident)
		id_len = (id_len + 15) & ~(size_t)15;
	/* codesign's order: identifier, team identifier, special slots. */
	size_t team_len = cd->team != NULL ? strlen(cd->team) + 1 : 0;
	if (team_len != 0 && cd->version < MSIGN_CS_SUPPORTSTEAMID)
		return MSIGN_E_INTERNAL;
	uint64_t hdr = msign_codedir_header_len(cd->version);
	uint64_t hash_off = hdr + id_len + team_len +
			    (uint64_t)nspecial * cd->hash_size;
	uint64_t len = hash_off + (uint64_t)cd->ncode * cd->hash_size;
	if (cd->hash_size == 0 || len > UINT32_MAX / 2)
		return MSIGN_E_OVERFLOW;
	cd->ident_off = (uint32_t)hdr;
	cd->team_off = team_len != 0 ? (uint32_t)(hdr + id_len) : 0;
	cd->hash_off = (uint32_t)hash_off;
	cd->len = (uint32_t)len;
	return 0;
}

int sg_cd_write(const struct sg_cd *cd, const struct sg_specials *sp,
		uint8_t *dst)
{
	msign_put_be32(dst + MSIGN_BLOB_OFF_MAGIC, MSIGN_CSMAGIC_CODEDIRECTORY);
	msign_put_be32(dst + MSIGN_BLOB_OFF_LEN, cd->len);
	msign_put_be32(dst + MSIGN_CD_OFF_VERSION, cd->version);
	msign_put_be32(dst + MSIGN_CD_OFF_FLAGS, cd->flags);
	msign_put_be32(dst + MSIGN_CD_OFF_HASH_OFF, cd->hash_off);
	msign_put_be32(dst + MSIGN_CD_OFF_IDENT_OFF, cd->ident_off);
	msign_put_be32(dst + MSIGN_CD_OFF_NSPECIAL, sp->count);
	msign_put_be32(dst + MSIGN_CD_OFF_NCODE, cd->ncode);
	msign_put_be32(dst + MSIGN_CD_OFF_CODE_LIMIT, cd->code_limit);
	dst[MSIGN_CD_OFF_HASH_SIZE] = (uint8_t)cd->hash_size;
	dst[MSIGN_CD_OFF_HASH_TYPE] = cd->hash_type;
	dst[MSIGN_CD_OFF_PLATFORM] = 0; /* platform: Apple's own binaries only */
	dst[MSIGN_CD_OFF_PAGE_LOG2] = cd->page_log2;
	msign_put_be32(dst + MSIGN_CD_OFF_SPARE2, 0);
	msign_put_be32(dst + MSIGN_CD_OFF_SCATTER_OFF, 0); /* none */
	if (cd->version >= MSIGN_CS_SUPPORTSTEAMID)
		msign_put_be32(dst + MSIGN_CD_OFF_TEAM_OFF, cd->team_off);
	if (cd->version >= MSIGN_CS_SUPPORTSCODELIMIT64) {
		msign_put_be32(dst + MSIGN_CD_OFF_SPARE3, 0);
		/* the limit fits 32 bits */
		msign_put_be64(dst + MSIGN_CD_OFF_CODE_LIMIT64, 0);
	}
	if (cd->version >= MSIGN_CS_SUPPORTSEXECSEG) {
		msign_put_be64(dst + MSIGN_CD_OFF_EXEC_SEG_BASE, cd->exec_base);
		msign_put_be64(dst + MSIGN_CD_OFF_EXEC_SEG_LIMIT, cd->exec_limit);
		msign_put_be64(dst + MSIGN_CD_OFF_EXEC_SEG_FLAGS, cd->exec_flags);
	}
	if (cd->version >= MSIGN_CS_SUPPORTSRUNTIME) {
		msign_put_be32(dst + MSIGN_CD_OFF_RUNTIME, cd->runtime);
		msign_put_be32(dst + MSIGN_CD_OFF_PRE_ENCRYPT_OFF, 0);
	}
	memcpy(dst + cd->ident_off, cd->ident, strlen(cd->ident) + 1);
	if (cd->team_off != 0)
		memcpy(dst + cd->team_off, cd->team, strlen(cd->team) + 1);
	/* Slot -n sits n hashes before hashOffset. */
	for (uint32_t n = 1; n <= sp->count; n++) {
		if (n > SG_SPECIAL_MAX || sp->data[n] == NULL)
			continue;
		uint32_t hl;
		uint8_t h[MSIGN_MAX_HASH_LEN];
		int r = msign_hash(cd->hash_type, sp->data[n], sp->len[n], h, &hl);
		if (r)
			return r;
		memcpy(dst + cd->hash_off - (size_t)n * cd->hash_size, h,
		       cd->hash_size);
	}
	return 0;
}

int sg_sb_add(struct sg_sb *sb, uint32_t type, const uint8_t *data,
	      uint32_t len)
{
	if (sb->count >= SG_SB_MAX)
		return MSIGN_E_LIMIT;
	sb->type[sb->count] = type;
	sb->data[sb->count] = data;
	sb->len[sb->count] = len;
	sb->count++;
	return 0;
}

int sg_sb_layout(struct sg_sb *sb)
{
	uint64_t at = MSIGN_SB_HEADER_LEN + (uint64_t)sb->count * MSIGN_SB_INDEX_LEN;
	if (sb->lld)
		at = (at + 7) & ~(uint64_t)7;
	for (uint32_t i = 0; i < sb->count; i++) {
		sb->off[i] = (uint32_t)at;
		at += sb->len[i];
		if (at > UINT32_MAX / 2)
			return MSIGN_E_OVERFLOW;
	}
	uint32_t padded = sg_align((uint32_t)at, 16);
	/* ld64.lld counts its zero padding in the SuperBlob; codesign's
	 * SuperBlob ends at its last blob and the padding only in datasize. */
	sb->len_total = sb->lld ? padded : (uint32_t)at;
	sb->size = padded;
	return 0;
}

void sg_sb_write(const struct sg_sb *sb, uint8_t *dst)
{
	msign_put_be32(dst + MSIGN_BLOB_OFF_MAGIC, MSIGN_CSMAGIC_EMBEDDED_SIGNATURE);
	msign_put_be32(dst + MSIGN_BLOB_OFF_LEN, sb->len_total);
	msign_put_be32(dst + MSIGN_SB_OFF_COUNT, sb->count);
	for (uint32_t i = 0; i < sb->count; i++) {
		uint8_t *e = dst + MSIGN_SB_HEADER_LEN + (size_t)i * MSIGN_SB_INDEX_LEN;
		msign_put_be32(e + MSIGN_SB_INDEX_OFF_TYPE, sb->type[i]);
		msign_put_be32(e + MSIGN_SB_INDEX_OFF_OFFSET, sb->off[i]);
		if (sb->data[i] != NULL)
			memcpy(dst + sb->off[i], sb->data[i], sb->len[i]);
	}
}

/* ---- entitlements --------------------------------------------------------- */

static int sg_blob_wrap(uint32_t magic, const void *payload, size_t len,
			uint8_t **out, uint32_t *out_len)
{
	if (len > UINT32_MAX / 2)
		return MSIGN_E_LIMIT;
	uint8_t *b = malloc(len + MSIGN_BLOB_HEADER_LEN);
	if (b == NULL)
		return MSIGN_E_NOMEM;
	msign_put_be32(b + MSIGN_BLOB_OFF_MAGIC, magic);
	msign_put_be32(b + MSIGN_BLOB_OFF_LEN, (uint32_t)(len + MSIGN_BLOB_HEADER_LEN));
	memcpy(b + MSIGN_BLOB_HEADER_LEN, payload, len);
	*out = b;
	*out_len = (uint32_t)(len + MSIGN_BLOB_HEADER_LEN);
	return 0;
}

struct sg_ent_flag {
	const char *key;
	uint64_t flag;
};

/* The flags of map whose key is a true boolean at the top of the
 * entitlements. Keys are read off our own canonical DER:
 * [APPLICATION 16] { INTEGER 1, [CONTEXT 16] { SEQUENCE { key, value } } }. */
static uint64_t sg_ent_bools(const uint8_t *der, size_t len,
			     const struct sg_ent_flag *map, size_t nmap)
{
	struct msign_cur c = msign_cur_make(der, len), dict, seq;
	struct msign_der_tl tl, k, v;
	uint64_t flags = 0;
	if (msign_der_tl(&c, c.len, &tl, NULL) || tl.tag != MSIGN_DER_APP16 ||
	    msign_der_tl(&c, c.len, &tl, NULL) || tl.tag != MSIGN_DER_INTEGER ||
	    msign_cur_skip(&c, tl.len) ||
	    msign_der_tl(&c, c.len, &tl, NULL) || tl.tag != MSIGN_DER_CTX16 ||
	    msign_cur_sub(&c, c.off, tl.len, &dict))
		return 0;
	while (msign_cur_left(&dict) > 0) {
		if (msign_der_tl(&dict, dict.len, &tl, NULL) ||
		    tl.tag != MSIGN_DER_SEQUENCE ||
		    msign_cur_sub(&dict, dict.off, tl.len, &seq) ||
		    msign_cur_skip(&dict, tl.len))
			return flags;
		const uint8_t *key, *val;
		if (msign_der_tl(&seq, seq.len, &k, NULL) ||
		    k.tag != MSIGN_DER_UTF8 ||
		    msign_cur_get_bytes(&seq, k.len, &key) ||
		    msign_der_tl(&seq, seq.len, &v, NULL) ||
		    v.tag != MSIGN_DER_BOOLEAN || v.len != 1 ||
		    msign_cur_get_bytes(&seq, 1, &val) || val[0] == 0)
			continue; /* not a true boolean */
		for (size_t i = 0; i < nmap; i++)
			if (strlen(map[i].key) == k.len &&
			    memcmp(map[i].key, key, k.len) == 0)
				flags |= map[i].flag;
	}
	return flags;
}

/* Apple's signer turns these boolean entitlements into executable-segment
 * flags (as rcodesign documents). */
static uint64_t sg_ent_exec_flags(const uint8_t *der, size_t len)
{
	static const struct sg_ent_flag map[] = {
		{ "get-task-allow", EXECSEG_ALLOW_UNSIGNED },
		{ "run-unsigned-code", EXECSEG_ALLOW_UNSIGNED },
		{ "com.apple.private.cs.debugger", EXECSEG_DEBUGGER },
		{ "dynamic-codesigning", EXECSEG_JIT },
		{ "com.apple.private.skip-library-validation", EXECSEG_SKIP_LV },
		{ "com.apple.private.amfi.can-load-cdhash", EXECSEG_CAN_LOAD_CDHASH },
		{ "com.apple.private.amfi.can-execute-cdhash", EXECSEG_CAN_EXEC_CDHASH },
	};
	return sg_ent_bools(der, len, map, sizeof(map) / sizeof(map[0]));
}

/* ---- requirements ------------------------------------------------------- */

/* A requirement set holding the designated requirement codesign embeds
 * for the identity's chain (DRMaker's forms: Apple, Apple Development,
 * Developer ID, other anchors): the text show -r- derives for such a
 * chain, compiled, so the bytes are the compiler's, which the corpus
 * round trip pins to Apple's. */
static int sg_req_set(struct sg_blobs *b, const struct msign_sign_identity *id,
		      const char *ident, struct msign_diag *d)
{
	static const char head[] = "designated => ";
	char *dr = NULL;
	int r = msign_identity_designated(id, ident, &dr, d);
	if (r != 0)
		return r;
	size_t n = strlen(dr);
	char *text = malloc(sizeof(head) + n);
	if (text == NULL) {
		free(dr);
		return msign_diag_set(d, MSIGN_E_NOMEM, 0, "out of memory");
	}
	memcpy(text, head, sizeof(head) - 1);
	memcpy(text + sizeof(head) - 1, dr, n + 1);
	free(dr);
	uint8_t *set = NULL;
	size_t len = 0;
	r = msign_reqset_compile(text, strlen(text), 0, &set, &len, d);
	free(text);
	if (r != 0)
		return r;
	b->reqs_dr = set;
	b->reqs = set;
	b->reqs_len = (uint32_t)len;
	return 0;
}

/* The requirement set, and the CMS wrapper with room for the signature. */
static int sg_blobs_sig(struct sg_blobs *b, const struct msign_sign_opts *o,
			const char *ident, uint32_t ncds, struct msign_diag *d)
{
	msign_put_be32(b->reqs_empty + MSIGN_BLOB_OFF_MAGIC, MSIGN_CSMAGIC_REQUIREMENTS);
	msign_put_be32(b->reqs_empty + MSIGN_BLOB_OFF_LEN, sizeof(b->reqs_empty));
	msign_put_be32(b->reqs_empty + MSIGN_SB_OFF_COUNT, 0);
	b->reqs = b->reqs_empty;
	b->reqs_len = sizeof(b->reqs_empty);
	msign_put_be32(b->cms_empty + MSIGN_BLOB_OFF_MAGIC, MSIGN_CSMAGIC_BLOBWRAPPER);
	msign_put_be32(b->cms_empty + MSIGN_BLOB_OFF_LEN, sizeof(b->cms_empty));
	b->cms = b->cms_empty;
	b->cms_len = sizeof(b->cms_empty);
	if (o->requirements != NULL) {
		struct msign_cur c = msign_cur_make(o->requirements, o->requirements_len);
		uint32_t magic = 0, len = 0;
		if (msign_cur_peek_be32(&c, MSIGN_BLOB_OFF_MAGIC, &magic) ||
		    msign_cur_peek_be32(&c, MSIGN_BLOB_OFF_LEN, &len) ||
		    magic != MSIGN_CSMAGIC_REQUIREMENTS || len != o->requirements_len ||
		    len < MSIGN_SB_HEADER_LEN)
			return msign_diag_set(d, MSIGN_E_ARG, 0,
					      "the requirements are no requirement set blob");
		b->reqs = o->requirements;
		b->reqs_len = len;
	}
	if (o->identity == NULL)
		return 0;
	int r;
	if (o->requirements == NULL && (r = sg_req_set(b, o->identity, ident, d)))
		return msign_diag_set(d, r, 0, "cannot build the designated requirement");
	size_t res = MSIGN_BLOB_HEADER_LEN +
		     msign_identity_cms_reserve(o->identity, ncds, o->tsa != NULL);
	if (res > UINT32_MAX / 4)
		return msign_diag_set(d, MSIGN_E_LIMIT, 0, "CMS signature too large");
	if ((b->cms = calloc(1, res)) == NULL)
		return MSIGN_E_NOMEM;
	msign_put_be32(b->cms + MSIGN_BLOB_OFF_MAGIC, MSIGN_CSMAGIC_BLOBWRAPPER);
	msign_put_be32(b->cms + MSIGN_BLOB_OFF_LEN, (uint32_t)res);
	b->cms_len = (uint32_t)res;
	return 0;
}

int sg_blobs_make(struct sg_blobs *b, const struct msign_sign_opts *o,
		  const char *ident, uint32_t ncds, struct msign_diag *d)
{
	memset(b, 0, sizeof(*b));
	int r = sg_blobs_sig(b, o, ident, ncds, d);
	if (r || o->ent_xml == NULL) {
		if (r)
			sg_blobs_free(b);
		return r;
	}
	uint8_t *der = NULL;
	size_t der_len = 0;
	r = msign_ent_xml_to_der(o->ent_xml, o->ent_len, &der, &der_len, d);
	if (r)
		return r;
	b->ent_exec_flags = sg_ent_exec_flags(der, der_len);
	r = sg_blob_wrap(MSIGN_CSMAGIC_EMBEDDED_ENTITLEMENTS, o->ent_xml, o->ent_len,
			 &b->ent_xml, &b->ent_xml_len);
	if (r == 0)
		r = sg_blob_wrap(MSIGN_CSMAGIC_EMBEDDED_DER_ENTITLEMENTS, der, der_len,
				 &b->ent_der, &b->ent_der_len);
	free(der);
	if (r)
		sg_blobs_free(b);
	return r;
}

void sg_blobs_free(struct sg_blobs *b)
{
	free(b->ent_xml);
	free(b->ent_der);
	free(b->reqs_dr);
	if (b->cms != b->cms_empty)
		free(b->cms);
	b->ent_xml = b->ent_der = b->reqs_dr = b->cms = NULL;
}

/* ---- notarization --------------------------------------------------------- */

static void sg_problem(char *buf, size_t len, size_t *at, unsigned *n,
		       const char *what)
{
	int w = snprintf(buf + *at, len - *at, "%s%s", *n ? "\n" : "", what);
	if (w > 0)
		*at = (size_t)w < len - *at ? *at + (size_t)w : len - 1;
	(*n)++;
}

int msign_sign_notary_problems(const struct msign_sign_opts *o, char *buf,
			       size_t len, unsigned *count, struct msign_diag *d)
{
	static const struct sg_ent_flag debug[] = {
		{ "com.apple.security.get-task-allow", 1 },
		{ "get-task-allow", 2 },
	};
	size_t at = 0;
	unsigned n = 0;
	char line[400];
	if (len == 0 || buf == NULL || count == NULL)
		return msign_diag_set(d, MSIGN_E_ARG, 0, "no room for the problems");
	buf[0] = '\0';
	if (o->identity == NULL)
		sg_problem(buf, len, &at, &n,
			   "an ad-hoc signature: notarization needs a Developer ID Application certificate");
	else if (!msign_identity_devid_app(o->identity)) {
		snprintf(line, sizeof(line),
			 "\"%.300s\" is no Developer ID Application certificate (no extension 1.2.840.113635.100.6.1.13)",
			 msign_identity_name(o->identity));
		sg_problem(buf, len, &at, &n, line);
	}
	if ((o->cd_flags & MSIGN_CS_RUNTIME) == 0)
		sg_problem(buf, len, &at, &n, "the hardened runtime is not enabled (-o runtime)");
	if (o->tsa == NULL)
		sg_problem(buf, len, &at, &n, "no secure timestamp (--timestamp)");
	if (o->hash_types != 0 && (o->hash_types & (1u << MSIGN_CS_HASHTYPE_SHA256)) == 0)
		sg_problem(buf, len, &at, &n, "no SHA-256 CodeDirectory (--digest)");
	if (o->ent_xml != NULL) {
		uint8_t *der = NULL;
		size_t der_len = 0;
		int r = msign_ent_xml_to_der(o->ent_xml, o->ent_len, &der, &der_len, d);
		if (r)
			return r;
		uint64_t f = sg_ent_bools(der, der_len, debug, sizeof(debug) / sizeof(debug[0]));
		free(der);
		for (size_t i = 0; i < sizeof(debug) / sizeof(debug[0]); i++)
			if (f & debug[i].flag) {
				snprintf(line, sizeof(line), "the entitlements grant %s",
					 debug[i].key);
				sg_problem(buf, len, &at, &n, line);
			}
	}
	*count = n;
	return 0;
}
