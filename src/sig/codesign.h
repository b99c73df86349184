/* msign: embedded code signatures (SuperBlob, CodeDirectory, requirements,
 * entitlements, CMS). All signature structures are big-endian.
 * Apple's wire constants keep Apple's names behind an MSIGN_ prefix
 * (MSIGN_CSMAGIC_*, MSIGN_CSSLOT_*, MSIGN_CS_*), so a program may include
 * these headers and <kern/cs_blobs.h> together. */
#ifndef MSIGN_SIG_CODESIGN_H
#define MSIGN_SIG_CODESIGN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "macho/macho.h"
#include "msign/err.h"

#define MSIGN_CSMAGIC_REQUIREMENT 0xfade0c00u
#define MSIGN_CSMAGIC_REQUIREMENTS 0xfade0c01u
#define MSIGN_CSMAGIC_CODEDIRECTORY 0xfade0c02u
#define MSIGN_CSMAGIC_EMBEDDED_SIGNATURE 0xfade0cc0u
#define MSIGN_CSMAGIC_DETACHED_SIGNATURE 0xfade0cc1u
#define MSIGN_CSMAGIC_BLOBWRAPPER 0xfade0b01u
#define MSIGN_CSMAGIC_EMBEDDED_ENTITLEMENTS 0xfade7171u
#define MSIGN_CSMAGIC_EMBEDDED_DER_ENTITLEMENTS 0xfade7172u
#define MSIGN_CSMAGIC_EMBEDDED_LAUNCH_CONSTRAINT 0xfade8181u

#define MSIGN_CSSLOT_CODEDIRECTORY 0u
#define MSIGN_CSSLOT_INFOSLOT 1u
#define MSIGN_CSSLOT_REQUIREMENTS 2u
#define MSIGN_CSSLOT_RESOURCEDIR 3u
#define MSIGN_CSSLOT_APPLICATION 4u
#define MSIGN_CSSLOT_ENTITLEMENTS 5u
#define MSIGN_CSSLOT_REP_SPECIFIC 6u
#define MSIGN_CSSLOT_DER_ENTITLEMENTS 7u
#define MSIGN_CSSLOT_LAUNCH_CONSTRAINT_SELF 8u
#define MSIGN_CSSLOT_LAUNCH_CONSTRAINT_PARENT 9u
#define MSIGN_CSSLOT_LAUNCH_CONSTRAINT_RESPONSIBLE 10u
#define MSIGN_CSSLOT_LIBRARY_CONSTRAINT 11u
#define MSIGN_CSSLOT_ALTERNATE_CODEDIRECTORIES 0x1000u
#define MSIGN_CSSLOT_ALTERNATE_CODEDIRECTORY_MAX 5u
#define MSIGN_CSSLOT_SIGNATURESLOT 0x10000u

#define MSIGN_CS_HASHTYPE_SHA1 1
#define MSIGN_CS_HASHTYPE_SHA256 2
#define MSIGN_CS_HASHTYPE_SHA256_TRUNCATED 3
#define MSIGN_CS_HASHTYPE_SHA384 4

#define MSIGN_CS_SUPPORTSSCATTER 0x20100u
#define MSIGN_CS_SUPPORTSTEAMID 0x20200u
#define MSIGN_CS_SUPPORTSCODELIMIT64 0x20300u
#define MSIGN_CS_SUPPORTSEXECSEG 0x20400u
#define MSIGN_CS_SUPPORTSRUNTIME 0x20500u
#define MSIGN_CS_SUPPORTSLINKAGE 0x20600u
#define MSIGN_CS_CD_VERSION_MIN 0x20001u
#define MSIGN_CS_CD_VERSION_MAX 0x2f000u

#define MSIGN_CS_ADHOC 0x2u
#define MSIGN_CS_LINKER_SIGNED 0x20000u
#define MSIGN_CS_RUNTIME 0x10000u
#define MSIGN_CS_EXECSEG_MAIN_BINARY 0x1u

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

/* Validate a CodeDirectory blob once at the boundary. */
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
 * header, every CodeDirectory. MSIGN_E_NOT_SIGNED when there is none. */
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
