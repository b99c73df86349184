/* msign: embedded code signatures (SuperBlob, CodeDirectory, requirements,
 * entitlements, CMS). All signature structures are big-endian.
 * Apple's wire constants are public: include/msign/cs.h. */
#ifndef MSIGN_SIG_CODESIGN_H
#define MSIGN_SIG_CODESIGN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "macho/macho.h"
#include "msign/cs.h"
#include "msign/err.h"

#define MSIGN_MAX_BLOBS 64      /* SuperBlob index entries we accept */
#define MSIGN_MAX_CDS 6         /* primary + 5 alternates */
#define MSIGN_MAX_HASH_LEN 64
/* A CDHash as Apple lists and compares it: the digest's first 20 bytes. */
#define MSIGN_CDHASH_LEN 20u
/* Page sizes a CodeDirectory may use besides 0 (one page): 512 B to 16 MiB,
 * far beyond any real signer. */
#define MSIGN_CD_PAGE_LOG2_MIN 9u
#define MSIGN_CD_PAGE_LOG2_MAX 24u

/* ---- wire layout ---------------------------------------------------------
 * Byte offsets of the fields msign decodes and writes, after xnu's
 * cs_blobs.h (all big-endian): the parsers and the signer use these names,
 * so each offset is written down once. */

/* Every blob: magic, then its length, header included. */
#define MSIGN_BLOB_OFF_MAGIC 0u
#define MSIGN_BLOB_OFF_LEN 4u
#define MSIGN_BLOB_HEADER_LEN 8u

/* SuperBlob: magic, length, count, then count index entries {type,
 * offset}. A requirement set (0xfade0c01) is a SuperBlob of this shape. */
#define MSIGN_SB_OFF_COUNT 8u
#define MSIGN_SB_HEADER_LEN 12u
#define MSIGN_SB_INDEX_OFF_TYPE 0u
#define MSIGN_SB_INDEX_OFF_OFFSET 4u
#define MSIGN_SB_INDEX_LEN 8u

/* CodeDirectory. Fields after spare2 exist from the version noted. */
#define MSIGN_CD_OFF_VERSION 8u
#define MSIGN_CD_OFF_FLAGS 12u
#define MSIGN_CD_OFF_HASH_OFF 16u
#define MSIGN_CD_OFF_IDENT_OFF 20u
#define MSIGN_CD_OFF_NSPECIAL 24u
#define MSIGN_CD_OFF_NCODE 28u
#define MSIGN_CD_OFF_CODE_LIMIT 32u
#define MSIGN_CD_OFF_HASH_SIZE 36u       /* u8 */
#define MSIGN_CD_OFF_HASH_TYPE 37u       /* u8 */
#define MSIGN_CD_OFF_PLATFORM 38u        /* u8 */
#define MSIGN_CD_OFF_PAGE_LOG2 39u       /* u8 */
#define MSIGN_CD_OFF_SPARE2 40u
#define MSIGN_CD_OFF_SCATTER_OFF 44u     /* SUPPORTSSCATTER */
#define MSIGN_CD_OFF_TEAM_OFF 48u        /* SUPPORTSTEAMID */
#define MSIGN_CD_OFF_SPARE3 52u          /* SUPPORTSCODELIMIT64 */
#define MSIGN_CD_OFF_CODE_LIMIT64 56u    /* u64 */
#define MSIGN_CD_OFF_EXEC_SEG_BASE 64u   /* SUPPORTSEXECSEG, u64 */
#define MSIGN_CD_OFF_EXEC_SEG_LIMIT 72u  /* u64 */
#define MSIGN_CD_OFF_EXEC_SEG_FLAGS 80u  /* u64 */
#define MSIGN_CD_OFF_RUNTIME 88u         /* SUPPORTSRUNTIME */
#define MSIGN_CD_OFF_PRE_ENCRYPT_OFF 92u
#define MSIGN_CD_BASE_LEN 44u            /* the header through spare2 */

/* A validated CodeDirectory: every offset checked against its length. */
struct msign_codedir {
	const uint8_t *blob; /* whole CD blob */
	uint32_t len;
	uint32_t slot;       /* SuperBlob slot type (0 or 0x1000+n) */
	uint32_t version, flags, hash_off, ident_off, nspecial, ncode;
	uint32_t code_limit;
	uint8_t hash_size, hash_type, platform, page_log2;
	uint32_t scatter_off, team_off;
	uint64_t code_limit64;
	uint64_t exec_seg_base, exec_seg_limit, exec_seg_flags;
	uint32_t runtime, pre_encrypt_off;
	const char *ident;   /* points into blob, NUL inside */
	const char *team;    /* NULL when absent */
	uint8_t cdhash[MSIGN_MAX_HASH_LEN]; /* full digest of the blob */
	uint32_t cdhash_len;
};

/* Validate a CodeDirectory blob once at the boundary. It sees the blob
 * only: d->file_off is relative to blob (msign_sig_parse, which knows
 * where the blob lies, reports file offsets). */
int msign_codedir_parse(const uint8_t *blob, size_t len, uint32_t slot,
			struct msign_codedir *cd, struct msign_diag *d);
/* The same without computing cdhash (left zero, cdhash_len 0). */
int msign_codedir_parse_nohash(const uint8_t *blob, size_t len,
			       uint32_t slot, struct msign_codedir *cd,
			       struct msign_diag *d);
/* Bytes of the fixed header a CodeDirectory of this version has (the
 * identifier and the hashes follow it). */
uint32_t msign_codedir_header_len(uint32_t version);
/* Pointer to slot n's hash (n < 0: special slots), or NULL if outside. */
const uint8_t *msign_codedir_slot(const struct msign_codedir *cd, int64_t n);
/* 0 when the slot hash is all zero (meaning absent). */
bool msign_codedir_slot_present(const struct msign_codedir *cd, int64_t n);
/* Pages that cover limit bytes: pages of 2^page_log2, or with page_log2 0
 * one page (none for limit 0). The rule for nCodeSlots, and for every
 * range of pages the hasher is given. */
uint64_t msign_codedir_pages(uint64_t limit, uint32_t page_log2);
/* The code limit that applies (codeLimit64 when set). */
uint64_t msign_codedir_limit(const struct msign_codedir *cd);
const char *msign_hashtype_name(uint8_t type); /* "sha256" or NULL */
uint32_t msign_hashtype_size(uint8_t type);    /* 0 if unknown */

/* A SuperBlob entry (already range-checked). */
struct msign_blob {
	uint32_t type;  /* slot type from the index */
	uint32_t magic;
	const uint8_t *data; /* whole blob, header included */
	uint32_t len;
	uint32_t off;   /* offset inside the SuperBlob */
};

/* A blob's contents after its header (sb_entry checked that it has one). */
static inline const uint8_t *msign_blob_payload(const struct msign_blob *b)
{
	return b->data + MSIGN_BLOB_HEADER_LEN;
}
static inline uint32_t msign_blob_payload_len(const struct msign_blob *b)
{
	return b->len - MSIGN_BLOB_HEADER_LEN;
}

/* Everything show needs from one slice's signature. */
struct msign_sig {
	const uint8_t *sb;   /* SuperBlob */
	uint32_t sb_len;
	uint32_t nblobs;
	struct msign_blob blobs[MSIGN_MAX_BLOBS];

	uint32_t ncds;
	struct msign_codedir cds[MSIGN_MAX_CDS]; /* ascending hash type */
	int best;    /* index of the chosen CD (strongest hash) */
	int lowest;  /* index of the CD with the lowest hash type */

	const struct msign_blob *requirements; /* NULL if absent */
	const struct msign_blob *ent_xml;
	const struct msign_blob *ent_der;
	const struct msign_blob *cms;          /* BlobWrapper 0x10000 */
	const struct msign_blob *launch[4];    /* slots 8..11 */
	uint32_t req_count; /* entries in the requirement set (header only) */

	/* A damaged blob that is not fatal for show, described here. */
	int blob_err;
	uint32_t blob_err_off; /* the blob's offset in the SuperBlob */
	char blob_err_msg[MSIGN_DIAG_MSG_LEN];
};

/* Locate and validate the slice's signature: LC_CODE_SIGNATURE within the
 * slice and __LINKEDIT, SuperBlob header, index, each blob's range and
 * header, every CodeDirectory. MSIGN_E_NOT_SIGNED when there is none.
 * d->file_off is a file offset: s->off is added to the slice's. */
int msign_sig_parse(const struct msign_slice *s, struct msign_sig *sig,
		    struct msign_diag *d);
/* flags for msign_sig_parse_ex */
#define MSIGN_SIG_NO_CDHASH 0x1u /* leave cdhash to the caller: verify
				   * hashes large CDs alongside the pages */
int msign_sig_parse_ex(const struct msign_slice *s, struct msign_sig *sig,
		       unsigned flags, struct msign_diag *d);

/* CMSDigest: SHA-256 of the CD with the lowest hash type (reuses its
 * CDHash when that CD is itself SHA-256, so large CDs are hashed once). */
int msign_sig_cms_digest(const struct msign_sig *sig, uint8_t out[32]);

#endif
