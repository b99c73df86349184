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
/* Pointer to slot n's hash (n < 0: special slots), or NULL if outside. */
const uint8_t *msign_codedir_slot(const struct msign_codedir *cd, int64_t n);
/* 0 when the slot hash is all zero (meaning absent). */
bool msign_codedir_slot_present(const struct msign_codedir *cd, int64_t n);
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
