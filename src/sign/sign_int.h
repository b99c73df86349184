/* Internal to the signer (sign.c, sign_blobs.c, sign_ident.c). */
#ifndef MSIGN_SIGN_INT_H
#define MSIGN_SIGN_INT_H

#include "write/write.h"
#include "write/strip.h"
#include "hash/hash.h"
#include "sign/sign.h"
#include "sig/ent.h"
#include "verify/verify.h"

#define SG_SPECIAL_MAX 7u /* highest special slot an ad-hoc signature uses */

/* What special slot -n hashes (n = 1..SG_SPECIAL_MAX); NULL: zero hash. */
struct sg_specials {
	const uint8_t *data[SG_SPECIAL_MAX + 1];
	size_t len[SG_SPECIAL_MAX + 1];
	uint32_t count; /* nSpecialSlots */
};

/* One CodeDirectory to build: fields in, layout out (sg_cd_layout). */
struct sg_cd {
	uint8_t hash_type, page_log2;
	uint32_t version, flags, ncode, code_limit, runtime;
	uint64_t exec_base, exec_limit, exec_flags;
	const char *ident;
	const char *team;  /* NULL: none (ad hoc) */
	bool pad_ident;  /* ld64.lld: identifier padded to 16 before the hashes */
	uint32_t ident_off, team_off, hash_off, len, hash_size;
};

/* The lowest CodeDirectory version holding the fields, as Apple's builder
 * chooses it: scatter (0x20100) at least, exec segment 0x20400, runtime
 * 0x20500. */
uint32_t sg_cd_version(const struct sg_cd *cd);
/* Offsets and length; MSIGN_E_OVERFLOW when they do not fit 32 bits. */
int sg_cd_layout(struct sg_cd *cd, uint32_t nspecial);
/* Every field, the identifier and the special slot hashes into dst
 * (cd->len bytes, zeroed); the code slots are left to the hashing engine. */
int sg_cd_write(const struct sg_cd *cd, const struct sg_specials *sp,
		uint8_t *dst);

/* A SuperBlob: entries in index order, each a blob already built (data)
 * or a region reserved for a CodeDirectory (data NULL). */
#define SG_SB_MAX 12u
struct sg_sb {
	uint32_t count;
	uint32_t type[SG_SB_MAX], len[SG_SB_MAX], off[SG_SB_MAX];
	const uint8_t *data[SG_SB_MAX];
	bool lld;        /* first blob 8-aligned, length padded to 16 */
	uint32_t len_total; /* SuperBlob length field */
	uint32_t size;      /* bytes reserved: the LC_CODE_SIGNATURE datasize */
};

int sg_sb_add(struct sg_sb *sb, uint32_t type, const uint8_t *data,
	      uint32_t len);
int sg_sb_layout(struct sg_sb *sb);
/* Header, index and the built blobs into dst (sb->size bytes, zeroed). */
void sg_sb_write(const struct sg_sb *sb, uint8_t *dst);

/* Blobs shared by every slice of one signing run. */
struct sg_blobs {
	const uint8_t *reqs;   /* the requirement set: one of the next two, */
	uint32_t reqs_len;     /* or the caller's */
	uint8_t reqs_empty[MSIGN_SB_HEADER_LEN];
	uint8_t *reqs_dr;      /* a set holding the designated requirement */
	/* The CMS wrapper: empty (ad hoc), or for an identity cms_len bytes
	 * reserved, the header and zeros until the signature is made. */
	uint8_t *cms;
	uint32_t cms_len;
	uint8_t cms_empty[MSIGN_BLOB_HEADER_LEN];
	uint8_t *ent_xml;      /* 0xfade7171 blob, or NULL */
	uint32_t ent_xml_len;
	uint8_t *ent_der;      /* 0xfade7172 blob, or NULL */
	uint32_t ent_der_len;
	uint64_t ent_exec_flags; /* exec-segment flags the entitlements ask for */
};

/* ident: the signature's identifier (the designated requirement names it). */
int sg_blobs_make(struct sg_blobs *b, const struct msign_sign_opts *o,
		  const char *ident, uint32_t ncds, struct msign_diag *d);
void sg_blobs_free(struct sg_blobs *b);

/* The identifier per Apple's rules (see sign_ident.c). main is the slice
 * the file is identified by, hdr its header and load commands as they are
 * without a signature, hs hdr parsed. */
int sg_identifier(const struct msign_slice *main,
		  const struct msign_slice *hs, const uint8_t *hdr, size_t hdr_len,
		  const struct msign_sign_opts *o, char *out, size_t outlen,
		  struct msign_diag *d);

#endif
