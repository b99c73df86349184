/* msign: the signing information of a Mach-O file, as codesign -d knows
 * it (the model SecCodeCopySigningInformation returns on macOS).
 *
 * msign_info_open() reads a thin or universal file once and returns an
 * immutable handle: every slice, each slice's signature (CodeDirectories,
 * CMS signer chain and times, requirements, designated requirement,
 * entitlements, Info.plist binding, launch constraints) and, for a part
 * that is damaged, the precise error. Nothing is read from the file after
 * it returns, except by msign_info_cd_pages_mismatched(), which hashes the
 * code pages.
 *
 * Handles: msign_info is owned by the caller (msign_info_free). Slice,
 * CodeDirectory and certificate handles, and every pointer an accessor
 * returns, belong to the msign_info and live until msign_info_free. What
 * a handle says is fixed at open; the digests (CDHashes, CMSDigest, the
 * implicit designated requirement) are computed on first use under a lock
 * inside the handle, so one msign_info may be read from any number of
 * threads at once. docs/api.md is the guide. */
#ifndef MSIGN_INFO_H
#define MSIGN_INFO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "msign/cs.h"
#include "msign/err.h"

#ifdef __cplusplus
extern "C" {
#endif
#if defined(__GNUC__)
#pragma GCC visibility push(default) /* see err.h */
#endif

typedef struct msign_info msign_info;           /* one file */
typedef struct msign_info_slice msign_info_slice; /* one architecture */
typedef struct msign_info_cd msign_info_cd;     /* one CodeDirectory */
typedef struct msign_info_cert msign_info_cert; /* one certificate */

/* ---- the file ------------------------------------------------------------ */

/* Read path. 0 and *out set, or a negative MSIGN_E_*, with d filled when
 * it says more (d may be NULL): MSIGN_E_IO when the file cannot be opened
 * or read (d->msg is the system's reason, "No such file or directory"),
 * MSIGN_E_NOMEM, MSIGN_E_LIMIT for a file larger than msign maps, or the
 * code of the container's damage (not a Mach-O, a fat header pointing
 * outside the file, ...). A slice or a
 * signature that is damaged does not fail the open: its status says so. */
int msign_info_open(const char *path, msign_info **out, struct msign_diag *d);
/* The same from a descriptor open for reading (not closed; the handle
 * keeps a duplicate of its own until msign_info_free, for
 * msign_info_cd_pages_mismatched). */
int msign_info_open_fd(int fd, msign_info **out, struct msign_diag *d);
void msign_info_free(msign_info *info);

/* true for a universal (fat) file. */
bool msign_info_is_universal(const msign_info *info);
/* codesign's Format= text: "Mach-O thin (arm64)",
 * "Mach-O universal (x86_64 arm64e)" (slices in codesign's order). */
const char *msign_info_format(const msign_info *info);
/* Slices in fat-header order; a thin file has one. */
uint32_t msign_info_slice_count(const msign_info *info);
/* Slice i, or NULL when i is out of range. */
const msign_info_slice *msign_info_slice_at(const msign_info *info,
					    uint32_t i);
/* The index of the slice codesign shows on this host (MSIGN_HOST_ARCH in
 * the environment at open may say x86_64, arm64 or other). */
uint32_t msign_info_default_slice(const msign_info *info);
/* The index of the slice named arch ("arm64e", "x86_64", or
 * "(cputype:subtype)"), or -1. */
int msign_info_find_arch(const msign_info *info, const char *arch);

/* ---- a slice ------------------------------------------------------------- */

/* Architecture as show names it: "arm64e", or "(cputype:subtype)". */
const char *msign_slice_arch(const msign_info_slice *s);
int32_t msign_slice_cputype(const msign_info_slice *s);
int32_t msign_slice_cpusubtype(const msign_info_slice *s);
/* The slice's bytes in the file (offset 0 and the file's length: thin). */
uint64_t msign_slice_offset(const msign_info_slice *s);
uint64_t msign_slice_size(const msign_info_slice *s);

/* 0 when the slice's Mach-O header and load commands are sound; else the
 * negative code, and *d (never NULL) names what and where. The accessors
 * below answer 0, NULL or false for such a slice. */
int msign_slice_macho_status(const msign_info_slice *s,
			     const struct msign_diag **d);
uint32_t msign_slice_filetype(const msign_info_slice *s); /* MH_EXECUTE ... */
/* LC_BUILD_VERSION or LC_VERSION_MIN_*: false when there is none. Versions
 * are packed xxxx.yy.zz as in the load command. */
bool msign_slice_build_version(const msign_info_slice *s, uint32_t *platform,
			       uint32_t *minos, uint32_t *sdk);

/* Apple's note for code whose libraries cannot be validated ("OS X SDK
 * version before 10.9 does not support Library Validation": a macOS
 * LC_BUILD_VERSION or LC_VERSION_MIN_MACOSX whose SDK is below 10.9, as
 * MachORep::copyDiskRepInformation decides it), or NULL. */
const char *msign_slice_library_validation_warning(const msign_info_slice *s);

/* 0: signed, and the signature's structure is sound (hashes are not
 * checked here: that is msign_verify_file). MSIGN_E_NOT_SIGNED: no
 * LC_CODE_SIGNATURE, or a signature without a CodeDirectory in slot 0
 * (codesign's "not signed at all"; *d says which). Another negative code:
 * damaged; *d says how, its file_off relative to the file. The signature
 * accessors below answer 0, NULL or false unless the status is 0
 * (msign_slice_sig_offset and _size too). */
int msign_slice_sig_status(const msign_info_slice *s,
			   const struct msign_diag **d);
/* LC_CODE_SIGNATURE's dataoff and datasize (relative to the slice). */
uint32_t msign_slice_sig_offset(const msign_info_slice *s);
uint32_t msign_slice_sig_size(const msign_info_slice *s);

/* The SuperBlob's index: entry i's slot type, blob magic, offset inside
 * the SuperBlob and length; false when i is out of range. */
uint32_t msign_slice_blob_count(const msign_info_slice *s);
bool msign_slice_blob(const msign_info_slice *s, uint32_t i, uint32_t *type,
		      uint32_t *magic, uint32_t *offset, uint32_t *length);

/* CodeDirectories in ascending hash type; the chosen one (the strongest
 * hash, what codesign displays) by index and as a handle. */
uint32_t msign_slice_cd_count(const msign_info_slice *s);
const msign_info_cd *msign_slice_cd(const msign_info_slice *s, uint32_t i);
uint32_t msign_slice_chosen_cd_index(const msign_info_slice *s);
const msign_info_cd *msign_slice_chosen_cd(const msign_info_slice *s);
/* CMSDigest (codesign -dvvv): SHA-256 of the CodeDirectory with the
 * lowest hash type; false when there is no CodeDirectory. */
bool msign_slice_cms_digest(const msign_info_slice *s, uint8_t out[32]);

enum msign_sig_kind {
	MSIGN_SIG_NONE = 0, /* neither ad-hoc nor a CMS signature */
	MSIGN_SIG_ADHOC,    /* the chosen CodeDirectory has CS_ADHOC */
	MSIGN_SIG_CMS,      /* a non-empty CMS blob (slot 0x10000) */
};
enum msign_sig_kind msign_slice_sig_kind(const msign_info_slice *s);
/* true when the signature has a CMS blob (slot 0x10000), even an empty
 * one (ad-hoc signatures often carry an empty wrapper). */
bool msign_slice_cms_present(const msign_info_slice *s);
/* Bytes of the CMS payload (codesign's "Signature size="), 0 if none. */
uint32_t msign_slice_cms_size(const msign_info_slice *s);
/* 0 when there is no CMS or it was read; else the CMS blob's damage. */
int msign_slice_cms_status(const msign_info_slice *s,
			   const struct msign_diag **d);
/* The signer's chain as carried, leaf first (codesign's Authority= lines);
 * msign_slice_cert_carried counts every certificate in the CMS. */
uint32_t msign_slice_cert_count(const msign_info_slice *s);
const msign_info_cert *msign_slice_cert(const msign_info_slice *s,
					uint32_t i);
uint32_t msign_slice_cert_carried(const msign_info_slice *s);
/* The signed attribute signingTime; false when absent. */
bool msign_slice_signing_time(const msign_info_slice *s, time_t *t);
/* The RFC 3161 timestamp's genTime; false when there is none. */
bool msign_slice_timestamp(const msign_info_slice *s, time_t *t);
/* The CMS messageDigest attribute (NULL when none) and its length. */
const uint8_t *msign_slice_message_digest(const msign_info_slice *s,
					  size_t *len);

/* The requirement set blob (NULL when none), its entry count (the set's
 * count field, as codesign -d prints it, also when the set is damaged),
 * and its text, one "<type> => <expression>\n" line per entry ("" for an
 * empty set, NULL when there is no set or it is damaged). 0 or the set's
 * damage from msign_slice_requirements_status. */
const uint8_t *msign_slice_requirements(const msign_info_slice *s,
					size_t *len);
uint32_t msign_slice_requirement_count(const msign_info_slice *s);
const char *msign_slice_requirements_text(const msign_info_slice *s);
int msign_slice_requirements_status(const msign_info_slice *s,
				    const struct msign_diag **d);
/* The designated requirement's expression (no "designated => "): the
 * explicit one, or the one codesign derives when there is none (*implicit
 * true): the signer's anchor and leaf for a CMS signature, the CDHashes
 * of every signed slice for other code. NULL when none can be given: the
 * requirement set or the CMS is damaged (a damaged set may hide an
 * explicit one), or out of memory. */
const char *msign_slice_designated_requirement(const msign_info_slice *s,
					       bool *implicit);

/* Entitlements as an XML plist: the XML blob as the signer wrote it, or
 * the DER blob's converted (NULL when neither). */
const char *msign_slice_entitlements_xml(const msign_info_slice *s,
					 size_t *len);
/* The DER entitlements blob's payload (NULL when none). */
const uint8_t *msign_slice_entitlements_der(const msign_info_slice *s,
					    size_t *len);
/* 0, or the entitlements' damage: a DER blob that does not convert, when
 * there is no XML blob (with both, the XML is what is shown and the DER
 * blob is not decoded). */
int msign_slice_entitlements_status(const msign_info_slice *s,
				    const struct msign_diag **d);
/* The top-level entitlement keys (the parsed dictionary, libplist's
 * reading: a duplicate key keeps its last value), in plist order, and the
 * value of a key. None are listed when the XML does not parse, holds a
 * NUL byte (a key could not be read whole) or exceeds 16 MiB. */
uint32_t msign_slice_entitlement_count(const msign_info_slice *s);
const char *msign_slice_entitlement_key(const msign_info_slice *s,
					uint32_t i);
enum msign_ent_type {
	MSIGN_ENT_ABSENT = 0, /* no such key */
	MSIGN_ENT_BOOL,
	MSIGN_ENT_STRING,
	MSIGN_ENT_INTEGER,
	MSIGN_ENT_ARRAY,
	MSIGN_ENT_DICT,
	MSIGN_ENT_OTHER, /* data, date, real */
};
enum msign_ent_type msign_slice_entitlement_type(const msign_info_slice *s,
						 const char *key);
/* true when key is a boolean true (e.g. com.apple.security.get-task-allow). */
bool msign_slice_entitlement_bool(const msign_info_slice *s, const char *key);
/* A string value, or NULL when key is absent, not a string, or a string
 * with a NUL byte. */
const char *msign_slice_entitlement_string(const msign_info_slice *s,
					   const char *key);

/* Info.plist binding: true when the slice embeds an __info_plist section
 * that parses and the chosen CodeDirectory binds it (special slot 1);
 * *entries gets its number of top-level keys. */
bool msign_slice_info_plist(const msign_info_slice *s, uint32_t *entries);
/* Launch and library constraints: which 0 self, 1 parent, 2 responsible,
 * 3 library (slots 8..11). The blob (NULL when absent) and its length. */
const uint8_t *msign_slice_launch_constraint(const msign_info_slice *s,
					     unsigned which, size_t *len);
/* 0, or the damage of a blob that does not stop the signature being
 * displayed: a known slot whose blob has another magic (*d's file_off is
 * the blob's start). A blob whose length is wrong is fatal instead:
 * msign_slice_sig_status. */
int msign_slice_blob_status(const msign_info_slice *s,
			    const struct msign_diag **d);

/* ---- a CodeDirectory ------------------------------------------------------ */

uint32_t msign_cd_slot(const msign_info_cd *cd);    /* 0 or 0x1000 + n */
uint32_t msign_cd_version(const msign_info_cd *cd); /* 0x20400 ... */
uint32_t msign_cd_size(const msign_info_cd *cd);    /* bytes of the blob */
uint32_t msign_cd_flags(const msign_info_cd *cd);   /* MSIGN_CS_* */
uint8_t msign_cd_hash_type(const msign_info_cd *cd); /* MSIGN_CS_HASHTYPE_* */
uint8_t msign_cd_hash_size(const msign_info_cd *cd);
const char *msign_cd_identifier(const msign_info_cd *cd);
const char *msign_cd_team(const msign_info_cd *cd); /* NULL when none */
uint8_t msign_cd_platform(const msign_info_cd *cd);
/* Page size in bytes; 0 for "none" (one hash over the whole code). */
uint32_t msign_cd_page_size(const msign_info_cd *cd);
uint32_t msign_cd_code_slots(const msign_info_cd *cd);
uint32_t msign_cd_special_slots(const msign_info_cd *cd);
uint64_t msign_cd_code_limit(const msign_info_cd *cd); /* 64-bit one if set */
/* Version 0x20400 and later: the executable segment; false before. */
bool msign_cd_exec_segment(const msign_info_cd *cd, uint64_t *base,
			   uint64_t *limit, uint64_t *flags);
/* Version 0x20500 and later: the hardened runtime version (0: none). */
bool msign_cd_runtime(const msign_info_cd *cd, uint32_t *version);
/* The CDHash: the digest of the blob (*len bytes, 20 to 64); codesign's
 * 40-hex CDHash= is its first 20 bytes. */
const uint8_t *msign_cd_cdhash(const msign_info_cd *cd, size_t *len);
/* The hash of slot n (n < 0: special slot -n), msign_cd_hash_size bytes,
 * or NULL when n is out of range. */
const uint8_t *msign_cd_slot_hash(const msign_info_cd *cd, int64_t n);
/* Hash the code pages this CodeDirectory covers and count those whose
 * hash differs (reads the file: the only accessor that does).
 * MSIGN_E_ARG unless s is a slice of info and cd one of s's. */
int msign_info_cd_pages_mismatched(const msign_info *info,
				   const msign_info_slice *s,
				   const msign_info_cd *cd, uint32_t *bad,
				   struct msign_diag *d);

/* ---- a certificate --------------------------------------------------------- */

/* Subject attributes (NULL when absent). */
const char *msign_cert_common_name(const msign_info_cert *c);
const char *msign_cert_org_unit(const msign_info_cert *c);
const char *msign_cert_organization(const msign_info_cert *c);
/* Fingerprints of the DER certificate. */
const uint8_t *msign_cert_sha1(const msign_info_cert *c);   /* 20 bytes */
const uint8_t *msign_cert_sha256(const msign_info_cert *c); /* 32 bytes */
/* What the certificate is to Apple's code signing (bits): */
#define MSIGN_CERT_SELF_SIGNED 0x1u
#define MSIGN_CERT_APPLE_ROOT 0x2u      /* one of Apple's root CAs */
#define MSIGN_CERT_APPLE_WWDR_CA 0x4u   /* 1.2.840.113635.100.6.2.1 */
#define MSIGN_CERT_APPLE_DEVID_CA 0x8u  /* 1.2.840.113635.100.6.2.6 */
#define MSIGN_CERT_APPLE_DEVID_LEAF 0x10u /* 1.2.840.113635.100.6.1.13 */
uint32_t msign_cert_roles(const msign_info_cert *c);

/* ---- names ---------------------------------------------------------------- */

/* "sha256" for MSIGN_CS_HASHTYPE_SHA256 ..., NULL when unknown. */
const char *msign_hash_type_name(uint8_t type);
/* CodeDirectory flags as codesign prints them: "adhoc,runtime", "none",
 * "???" for bits it has no name for; snprintf's rules (returns the length
 * wanted). */
size_t msign_cd_flags_text(uint32_t flags, char *buf, size_t len);
/* Requirement type names: 1 host, 2 guest, 3 designated, 4 library,
 * 5 plugin; NULL for others. */
const char *msign_requirement_type_name(uint32_t type);

#if defined(__GNUC__)
#pragma GCC visibility pop
#endif
#ifdef __cplusplus
}
#endif
#endif
