/* CodeDirectory validation, after xnu's cs_validate_codedirectory: the
 * header for the declared version fits, then the magic, then each offset
 * and count is checked against the blob length (by division, never by a
 * multiplication that could overflow). Once this returns 0 every slot
 * pointer and string inside the CD is safe to use. */
#include <string.h>

#include "base/cur.h"
#include "sig/codesign.h"
#include "sig/req.h"
#include "sig/cms.h"
#include "sig/ent.h"
#include "hash/hash.h"

#define CD_SCATTER_LEN 48u
#define CD_TEAM_LEN 52u
#define CD_LIMIT64_LEN 64u
#define CD_EXECSEG_LEN 88u
#define CD_RUNTIME_LEN 96u
#define CD_LINKAGE_LEN 108u

/* The one table of header lengths by version: the parser checks a CD
 * against it and the signer lays its CDs out with it. */
uint32_t msign_codedir_header_len(uint32_t version)
{
	if (version >= MSIGN_CS_SUPPORTSLINKAGE) return CD_LINKAGE_LEN;
	if (version >= MSIGN_CS_SUPPORTSRUNTIME) return CD_RUNTIME_LEN;
	if (version >= MSIGN_CS_SUPPORTSEXECSEG) return CD_EXECSEG_LEN;
	if (version >= MSIGN_CS_SUPPORTSCODELIMIT64) return CD_LIMIT64_LEN;
	if (version >= MSIGN_CS_SUPPORTSTEAMID) return CD_TEAM_LEN;
	if (version >= MSIGN_CS_SUPPORTSSCATTER) return CD_SCATTER_LEN;
	return MSIGN_CD_BASE_LEN;
}

static void cd_read_fields(const struct msign_cur *c, struct msign_codedir *cd)
{
	/* All offsets below were covered by the header-length check. */
	msign_cur_peek_be32(c, MSIGN_CD_OFF_VERSION, &cd->version);
	msign_cur_peek_be32(c, MSIGN_CD_OFF_FLAGS, &cd->flags);
	msign_cur_peek_be32(c, MSIGN_CD_OFF_HASH_OFF, &cd->hash_off);
	msign_cur_peek_be32(c, MSIGN_CD_OFF_IDENT_OFF, &cd->ident_off);
	msign_cur_peek_be32(c, MSIGN_CD_OFF_NSPECIAL, &cd->nspecial);
	msign_cur_peek_be32(c, MSIGN_CD_OFF_NCODE, &cd->ncode);
	msign_cur_peek_be32(c, MSIGN_CD_OFF_CODE_LIMIT, &cd->code_limit);
	msign_cur_peek_u8(c, MSIGN_CD_OFF_HASH_SIZE, &cd->hash_size);
	msign_cur_peek_u8(c, MSIGN_CD_OFF_HASH_TYPE, &cd->hash_type);
	msign_cur_peek_u8(c, MSIGN_CD_OFF_PLATFORM, &cd->platform);
	msign_cur_peek_u8(c, MSIGN_CD_OFF_PAGE_LOG2, &cd->page_log2);
	if (cd->version >= MSIGN_CS_SUPPORTSSCATTER)
		msign_cur_peek_be32(c, MSIGN_CD_OFF_SCATTER_OFF, &cd->scatter_off);
	if (cd->version >= MSIGN_CS_SUPPORTSTEAMID)
		msign_cur_peek_be32(c, MSIGN_CD_OFF_TEAM_OFF, &cd->team_off);
	if (cd->version >= MSIGN_CS_SUPPORTSCODELIMIT64)
		msign_cur_peek_be64(c, MSIGN_CD_OFF_CODE_LIMIT64, &cd->code_limit64);
	if (cd->version >= MSIGN_CS_SUPPORTSEXECSEG) {
		msign_cur_peek_be64(c, MSIGN_CD_OFF_EXEC_SEG_BASE, &cd->exec_seg_base);
		msign_cur_peek_be64(c, MSIGN_CD_OFF_EXEC_SEG_LIMIT, &cd->exec_seg_limit);
		msign_cur_peek_be64(c, MSIGN_CD_OFF_EXEC_SEG_FLAGS, &cd->exec_seg_flags);
	}
	if (cd->version >= MSIGN_CS_SUPPORTSRUNTIME) {
		msign_cur_peek_be32(c, MSIGN_CD_OFF_RUNTIME, &cd->runtime);
		msign_cur_peek_be32(c, MSIGN_CD_OFF_PRE_ENCRYPT_OFF, &cd->pre_encrypt_off);
	}
}

static int cd_check_slots(const struct msign_codedir *cd,
			  struct msign_diag *d)
{
	uint32_t want = msign_hashtype_size(cd->hash_type);
	if (want == 0)
		return msign_diag_set(d, MSIGN_E_UNSUPPORTED, MSIGN_CD_OFF_HASH_TYPE,
				      "unknown CodeDirectory hash type %u",
				      cd->hash_type);
	if (cd->hash_size != want)
		return msign_diag_set(d, MSIGN_E_INVALID, MSIGN_CD_OFF_HASH_SIZE,
				      "hashSize %u does not match hash type %u (%u)",
				      cd->hash_size, cd->hash_type, want);
	if (cd->hash_off > cd->len || cd->hash_off < MSIGN_CD_BASE_LEN)
		return msign_diag_set(d, MSIGN_E_BAD_RANGE, MSIGN_CD_OFF_HASH_OFF,
				      "hashOffset %u outside CodeDirectory length %u",
				      cd->hash_off, cd->len);
	if (cd->hash_off / cd->hash_size < cd->nspecial)
		return msign_diag_set(d, MSIGN_E_BAD_RANGE, MSIGN_CD_OFF_NSPECIAL,
				      "%u special slots of %u bytes do not fit before hashOffset %u",
				      cd->nspecial, cd->hash_size, cd->hash_off);
	if ((cd->len - cd->hash_off) / cd->hash_size < cd->ncode)
		return msign_diag_set(d, MSIGN_E_BAD_RANGE, MSIGN_CD_OFF_NCODE,
				      "%u code slots of %u bytes do not fit after hashOffset %u in length %u",
				      cd->ncode, cd->hash_size, cd->hash_off,
				      cd->len);
	return 0;
}

static int cd_check_limit(const struct msign_codedir *cd,
			  struct msign_diag *d)
{
	if (cd->page_log2 != 0 &&
	    (cd->page_log2 < MSIGN_CD_PAGE_LOG2_MIN ||
	     cd->page_log2 > MSIGN_CD_PAGE_LOG2_MAX))
		return msign_diag_set(d, MSIGN_E_UNSUPPORTED, MSIGN_CD_OFF_PAGE_LOG2,
				      "page size 2^%u not supported", cd->page_log2);
	uint64_t limit = msign_codedir_limit(cd);
	uint64_t expect = msign_codedir_pages(limit, cd->page_log2);
	if (expect != cd->ncode)
		return msign_diag_set(d, MSIGN_E_INVALID, MSIGN_CD_OFF_NCODE,
				      "nCodeSlots %u inconsistent with codeLimit %llu (page size 2^%u wants %llu)",
				      cd->ncode, (unsigned long long)limit,
				      cd->page_log2, (unsigned long long)expect);
	return 0;
}

static int cd_check_strings(const struct msign_cur *c,
			    struct msign_codedir *cd, struct msign_diag *d)
{
	uint32_t hdr = msign_codedir_header_len(cd->version);
	if (cd->ident_off < hdr ||
	    msign_cur_cstring(c, cd->ident_off, c->len - cd->ident_off,
			      &cd->ident, NULL) != 0)
		return msign_diag_set(d, MSIGN_E_BAD_RANGE, MSIGN_CD_OFF_IDENT_OFF,
				      "identOffset %u is not a string inside CodeDirectory length %u",
				      cd->ident_off, cd->len);
	if (cd->team_off != 0 &&
	    (cd->team_off < hdr ||
	     msign_cur_cstring(c, cd->team_off, c->len - cd->team_off,
			       &cd->team, NULL) != 0))
		return msign_diag_set(d, MSIGN_E_BAD_RANGE, MSIGN_CD_OFF_TEAM_OFF,
				      "teamOffset %u is not a string inside CodeDirectory length %u",
				      cd->team_off, cd->len);
	if (cd->scatter_off != 0 && cd->scatter_off >= cd->len)
		return msign_diag_set(d, MSIGN_E_BAD_RANGE, MSIGN_CD_OFF_SCATTER_OFF,
				      "scatterOffset %u outside CodeDirectory length %u",
				      cd->scatter_off, cd->len);
	return 0;
}

static int cd_parse(const uint8_t *blob, size_t len, uint32_t slot,
		    bool hash, struct msign_codedir *cd, struct msign_diag *d)
{
	memset(cd, 0, sizeof(*cd));
	struct msign_cur c = msign_cur_make(blob, len);
	uint32_t magic, blen;
	if (msign_cur_peek_be32(&c, MSIGN_BLOB_OFF_MAGIC, &magic) ||
	    msign_cur_peek_be32(&c, MSIGN_BLOB_OFF_LEN, &blen) || len < MSIGN_CD_BASE_LEN)
		return msign_diag_set(d, MSIGN_E_TRUNCATED, 0,
				      "CodeDirectory of %zu bytes is shorter than its %u-byte header",
				      len, MSIGN_CD_BASE_LEN);
	if (magic != MSIGN_CSMAGIC_CODEDIRECTORY)
		return msign_diag_set(d, MSIGN_E_BAD_MAGIC, 0,
				      "CodeDirectory magic 0x%08x, expected 0x%08x",
				      magic, MSIGN_CSMAGIC_CODEDIRECTORY);
	if (blen > len || blen < MSIGN_CD_BASE_LEN)
		return msign_diag_set(d, MSIGN_E_BAD_RANGE, MSIGN_BLOB_OFF_LEN,
				      "CodeDirectory length %u outside its %zu-byte blob",
				      blen, len);
	c.len = blen; /* everything below stays inside the declared length */
	cd->blob = blob;
	cd->len = blen;
	cd->slot = slot;
	uint32_t version;
	msign_cur_peek_be32(&c, MSIGN_CD_OFF_VERSION, &version);
	if (version < MSIGN_CS_CD_VERSION_MIN || version > MSIGN_CS_CD_VERSION_MAX)
		return msign_diag_set(d, MSIGN_E_UNSUPPORTED, MSIGN_CD_OFF_VERSION,
				      "CodeDirectory version 0x%x not supported",
				      version);
	if (blen < msign_codedir_header_len(version))
		return msign_diag_set(d, MSIGN_E_TRUNCATED, MSIGN_BLOB_OFF_LEN,
				      "CodeDirectory version 0x%x needs %u header bytes but length is %u",
				      version, msign_codedir_header_len(version), blen);
	cd_read_fields(&c, cd);
	int r;
	if ((r = cd_check_slots(cd, d)) || (r = cd_check_limit(cd, d)) ||
	    (r = cd_check_strings(&c, cd, d)))
		return r;
	if (!hash)
		return 0;
	return msign_hash(cd->hash_type, blob, blen, cd->cdhash,
			  &cd->cdhash_len);
}

int msign_codedir_parse(const uint8_t *blob, size_t len, uint32_t slot,
			struct msign_codedir *cd, struct msign_diag *d)
{
	return cd_parse(blob, len, slot, true, cd, d);
}

int msign_codedir_parse_nohash(const uint8_t *blob, size_t len,
			       uint32_t slot, struct msign_codedir *cd,
			       struct msign_diag *d)
{
	return cd_parse(blob, len, slot, false, cd, d);
}

const uint8_t *msign_codedir_slot(const struct msign_codedir *cd, int64_t n)
{
	if (n < -(int64_t)cd->nspecial || n >= (int64_t)cd->ncode)
		return NULL;
	/* Validated: nspecial*hash_size <= hash_off, ncode slots fit after. */
	int64_t at = (int64_t)cd->hash_off + n * (int64_t)cd->hash_size;
	return cd->blob + at;
}

bool msign_codedir_slot_present(const struct msign_codedir *cd, int64_t n)
{
	const uint8_t *h = msign_codedir_slot(cd, n);
	if (h == NULL)
		return false;
	for (uint32_t i = 0; i < cd->hash_size; i++)
		if (h[i] != 0)
			return true;
	return false;
}

/* Shifted, never rounded up by addition: limit may be near 2^64. */
uint64_t msign_codedir_pages(uint64_t limit, uint32_t page_log2)
{
	if (page_log2 == 0)
		return limit > 0;
	return (limit >> page_log2) +
	       ((limit & (((uint64_t)1 << page_log2) - 1)) != 0);
}

uint64_t msign_codedir_limit(const struct msign_codedir *cd)
{
	return cd->code_limit64 != 0 ? cd->code_limit64 : cd->code_limit;
}
