/* The embedded signature SuperBlob of one slice.
 *
 * Containers are validated where they enter: LC_CODE_SIGNATURE inside the
 * slice and __LINKEDIT, the SuperBlob header and index inside datasize,
 * every blob inside the SuperBlob, every CodeDirectory by codedir.c and its
 * codeLimit no further than the signature itself. A CodeDirectory problem
 * is fatal (nothing can be shown without it); another damaged blob is
 * recorded in sig->blob_err and the rest is still usable. */
#include <stdio.h>
#include <string.h>

#include "base/cur.h"
#include "base/diag.h"
#include "sig/codesign.h"
#include "sig/req.h"
#include "sig/cms.h"
#include "sig/ent.h"
#include "hash/hash.h"

/* off: the blob's offset in the SuperBlob. */
static void sb_note(struct msign_sig *sig, int code, uint32_t off,
		    const char *msg)
{
	if (sig->blob_err != 0)
		return;
	sig->blob_err = code;
	sig->blob_err_off = off;
	snprintf(sig->blob_err_msg, sizeof(sig->blob_err_msg), "%s", msg);
}

static int sb_locate(const struct msign_slice *s, struct msign_cur *out,
		     struct msign_diag *d)
{
	struct msign_cur sl = msign_cur_make(s->data, (size_t)s->size);
	if (msign_cur_sub(&sl, s->cs_dataoff, s->cs_datasize, out) != 0)
		return msign_diag_set(d, MSIGN_E_BAD_RANGE, s->cs_cmd_off,
				      "signature at %u, size %u, lies beyond the %llu-byte slice",
				      s->cs_dataoff, s->cs_datasize,
				      (unsigned long long)s->size);
	if (s->linkedit_seg >= 0) {
		const struct msign_segment *le = &s->segments[s->linkedit_seg];
		uint64_t le_end = le->fileoff + le->filesize; /* checked */
		if (s->cs_dataoff < le->fileoff ||
		    (uint64_t)s->cs_dataoff + s->cs_datasize > le_end)
			return msign_diag_set(d, MSIGN_E_BAD_RANGE, s->cs_cmd_off,
					      "signature at %u, size %u, is not inside __LINKEDIT [%llu, %llu)",
					      s->cs_dataoff, s->cs_datasize,
					      (unsigned long long)le->fileoff,
					      (unsigned long long)le_end);
	}
	return 0;
}

static int sb_header(struct msign_cur *c, struct msign_sig *sig,
		     uint32_t base_off, struct msign_diag *d)
{
	uint32_t magic, len, count;
	if (msign_cur_peek_be32(c, MSIGN_BLOB_OFF_MAGIC, &magic) ||
	    msign_cur_peek_be32(c, MSIGN_BLOB_OFF_LEN, &len) ||
	    msign_cur_peek_be32(c, MSIGN_SB_OFF_COUNT, &count))
		return msign_diag_set(d, MSIGN_E_TRUNCATED, base_off,
				      "signature of %zu bytes is too small for a SuperBlob",
				      c->len);
	if (magic != MSIGN_CSMAGIC_EMBEDDED_SIGNATURE)
		return msign_diag_set(d, MSIGN_E_BAD_MAGIC, base_off,
				      "bad SuperBlob magic 0x%08x", magic);
	if (len < MSIGN_SB_HEADER_LEN || len > c->len)
		return msign_diag_set(d, MSIGN_E_BAD_RANGE,
				      base_off + MSIGN_BLOB_OFF_LEN,
				      "SuperBlob length %u outside the %zu-byte signature",
				      len, c->len);
	c->len = len;
	if (count > MSIGN_MAX_BLOBS)
		return msign_diag_set(d, MSIGN_E_LIMIT,
				      base_off + MSIGN_SB_OFF_COUNT,
				      "SuperBlob count %u exceeds the limit of %d",
				      count, MSIGN_MAX_BLOBS);
	if ((len - MSIGN_SB_HEADER_LEN) / MSIGN_SB_INDEX_LEN < count)
		return msign_diag_set(d, MSIGN_E_BAD_RANGE,
				      base_off + MSIGN_SB_OFF_COUNT,
				      "SuperBlob index of %u entries does not fit in length %u",
				      count, len);
	sig->sb = c->base;
	sig->sb_len = len;
	sig->nblobs = count;
	return 0;
}

static int sb_entry(const struct msign_cur *c, uint32_t i,
		    struct msign_blob *b, struct msign_diag *d)
{
	size_t at = MSIGN_SB_HEADER_LEN + (size_t)i * MSIGN_SB_INDEX_LEN;
	/* index fits: checked */
	msign_cur_peek_be32(c, at + MSIGN_SB_INDEX_OFF_TYPE, &b->type);
	msign_cur_peek_be32(c, at + MSIGN_SB_INDEX_OFF_OFFSET, &b->off);
	if (msign_cur_peek_be32(c, (size_t)b->off + MSIGN_BLOB_OFF_MAGIC, &b->magic) ||
	    msign_cur_peek_be32(c, (size_t)b->off + MSIGN_BLOB_OFF_LEN, &b->len))
		return msign_diag_set(d, MSIGN_E_BAD_RANGE, at,
				      "blob %u (type 0x%x) offset %u past SuperBlob length %zu",
				      i, b->type, b->off, c->len);
	if (b->len < MSIGN_BLOB_HEADER_LEN || !msign_range_ok(c->len, b->off, b->len))
		return msign_diag_set(d, MSIGN_E_BAD_RANGE, b->off,
				      "blob %u (type 0x%x) length %u at offset %u exceeds SuperBlob length %zu",
				      i, b->type, b->len, b->off, c->len);
	b->data = c->base + b->off;
	return 0;
}

static bool sb_is_cd_slot(uint32_t type)
{
	return type == MSIGN_CSSLOT_CODEDIRECTORY ||
	       (type >= MSIGN_CSSLOT_ALTERNATE_CODEDIRECTORIES &&
		type < MSIGN_CSSLOT_ALTERNATE_CODEDIRECTORIES +
			       MSIGN_CSSLOT_ALTERNATE_CODEDIRECTORY_MAX);
}

static int sb_add_cd(struct msign_sig *sig, const struct msign_blob *b,
		     const struct msign_slice *s, unsigned flags,
		     struct msign_diag *d)
{
	struct msign_codedir cd;
	uint64_t at = (uint64_t)s->cs_dataoff + b->off; /* the blob in the slice */
	bool fresh = msign_diag_fresh(d);
	int r = flags & MSIGN_SIG_NO_CDHASH
			? msign_codedir_parse_nohash(b->data, b->len, b->type, &cd, d)
			: msign_codedir_parse(b->data, b->len, b->type, &cd, d);
	if (r)
		return msign_diag_rebase(d, fresh, at, r);
	/* A codeLimit past the signature, or past the slice, is tampering,
	 * not a broken container: Apple's CodeDirectory::checkIntegrity does
	 * not compare it with the file, so display goes on and verify (which
	 * checks it before any page is hashed) reports it. */
	for (uint32_t i = 0; i < sig->ncds; i++)
		if (sig->cds[i].hash_type == cd.hash_type)
			return msign_diag_set(d, MSIGN_E_INVALID, at,
					      "two CodeDirectories with hash type %u",
					      cd.hash_type);
	/* Keep the array sorted by ascending hash type. */
	uint32_t j = sig->ncds;
	while (j > 0 && sig->cds[j - 1].hash_type > cd.hash_type) {
		sig->cds[j] = sig->cds[j - 1];
		j--;
	}
	sig->cds[j] = cd;
	sig->ncds++;
	return 0;
}

/* Apple's order: slot 0 must exist (else the code counts as unsigned),
 * then alternates 0x1000, 0x1001, ... up to the first missing one; the
 * first index entry of a slot wins. */
static int sb_load_cds(struct msign_sig *sig, const struct msign_slice *s,
		       unsigned flags, struct msign_diag *d)
{
	const struct msign_blob *by_slot[1 + MSIGN_CSSLOT_ALTERNATE_CODEDIRECTORY_MAX] = { 0 };
	for (uint32_t i = 0; i < sig->nblobs; i++) {
		const struct msign_blob *b = &sig->blobs[i];
		uint32_t k = b->type == MSIGN_CSSLOT_CODEDIRECTORY ? 0
			     : b->type - MSIGN_CSSLOT_ALTERNATE_CODEDIRECTORIES + 1;
		if (sb_is_cd_slot(b->type) && by_slot[k] == NULL)
			by_slot[k] = b;
	}
	if (by_slot[0] == NULL) {
		msign_diag_set(d, MSIGN_E_NOT_SIGNED, s->cs_dataoff,
			       "signature has no CodeDirectory in slot 0");
		return MSIGN_E_NOT_SIGNED;
	}
	for (uint32_t k = 0; k <= MSIGN_CSSLOT_ALTERNATE_CODEDIRECTORY_MAX; k++) {
		if (by_slot[k] == NULL)
			break;
		int r = sb_add_cd(sig, by_slot[k], s, flags, d);
		if (r)
			return r;
	}
	return 0;
}

/* Apple's preference when several CodeDirectories exist. */
static int sb_hash_rank(uint8_t type)
{
	switch (type) {
	case MSIGN_CS_HASHTYPE_SHA384: return 4;
	case MSIGN_CS_HASHTYPE_SHA256: return 3;
	case MSIGN_CS_HASHTYPE_SHA256_TRUNCATED: return 2;
	case MSIGN_CS_HASHTYPE_SHA1: return 1;
	default: return 0;
	}
}

static void sb_classify(struct msign_sig *sig, const struct msign_blob *b)
{
	static const struct {
		uint32_t type, magic;
		const char *what;
	} kinds[] = {
		{ MSIGN_CSSLOT_REQUIREMENTS, MSIGN_CSMAGIC_REQUIREMENTS, "requirement set" },
		{ MSIGN_CSSLOT_ENTITLEMENTS, MSIGN_CSMAGIC_EMBEDDED_ENTITLEMENTS, "entitlements" },
		{ MSIGN_CSSLOT_DER_ENTITLEMENTS, MSIGN_CSMAGIC_EMBEDDED_DER_ENTITLEMENTS,
		  "DER entitlements" },
		{ MSIGN_CSSLOT_SIGNATURESLOT, MSIGN_CSMAGIC_BLOBWRAPPER, "CMS signature" },
	};
	const struct msign_blob **dest[] = { &sig->requirements, &sig->ent_xml,
					     &sig->ent_der, &sig->cms };
	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		if (b->type != kinds[k].type)
			continue;
		if (b->magic != kinds[k].magic) {
			char msg[MSIGN_DIAG_MSG_LEN];
			snprintf(msg, sizeof(msg),
				 "%s blob has magic 0x%08x, expected 0x%08x",
				 kinds[k].what, b->magic, kinds[k].magic);
			sb_note(sig, MSIGN_E_BAD_MAGIC, b->off, msg);
		} else if (*dest[k] == NULL) {
			*dest[k] = b;
			if (b->type == MSIGN_CSSLOT_REQUIREMENTS &&
			    b->len >= MSIGN_SB_HEADER_LEN)
				sig->req_count = msign_be32(b->data + MSIGN_SB_OFF_COUNT);
		}
		return;
	}
	if (b->type >= MSIGN_CSSLOT_LAUNCH_CONSTRAINT_SELF &&
	    b->type <= MSIGN_CSSLOT_LIBRARY_CONSTRAINT)
		sig->launch[b->type - MSIGN_CSSLOT_LAUNCH_CONSTRAINT_SELF] = b;
}

int msign_sig_parse(const struct msign_slice *s, struct msign_sig *sig,
		    struct msign_diag *d)
{
	return msign_sig_parse_ex(s, sig, 0, d);
}

/* Offsets in d are the slice's here; msign_sig_parse_ex adds s->off. */
static int sb_parse(const struct msign_slice *s, struct msign_sig *sig,
		    unsigned flags, struct msign_diag *d)
{
	memset(sig, 0, sizeof(*sig));
	if (!s->has_codesig)
		return MSIGN_E_NOT_SIGNED;
	struct msign_cur c;
	int r = sb_locate(s, &c, d);
	if (r || (r = sb_header(&c, sig, s->cs_dataoff, d)))
		return r;
	for (uint32_t i = 0; i < sig->nblobs; i++) {
		struct msign_blob *b = &sig->blobs[i];
		bool fresh = msign_diag_fresh(d); /* sb_entry: SuperBlob offsets */
		if ((r = sb_entry(&c, i, b, d)))
			return msign_diag_rebase(d, fresh, s->cs_dataoff, r);
		if (!sb_is_cd_slot(b->type))
			sb_classify(sig, b);
	}
	if ((r = sb_load_cds(sig, s, flags, d)))
		return r;
	sig->best = 0;
	sig->lowest = 0; /* cds[] is sorted by ascending hash type */
	for (uint32_t i = 1; i < sig->ncds; i++)
		if (sb_hash_rank(sig->cds[i].hash_type) >
		    sb_hash_rank(sig->cds[sig->best].hash_type))
			sig->best = (int)i;
	return 0;
}

int msign_sig_parse_ex(const struct msign_slice *s, struct msign_sig *sig,
		       unsigned flags, struct msign_diag *d)
{
	bool fresh = msign_diag_fresh(d);
	return msign_diag_rebase(d, fresh, s->off, sb_parse(s, sig, flags, d));
}
