/* msign: verifying a file's signature as `codesign --verify` does: in
 * every slice (in codesign's order), the signature's structure,
 * the CMS messageDigest against the CodeDirectories, each special slot the
 * signature carries (Info.plist, requirements, entitlements XML and DER,
 * launch constraints), the entitlements' two forms against each other,
 * and every code page of every CodeDirectory; for a certificate signature
 * the CMS signature value, its RFC 3161 timestamp and the certificate
 * chain to one of Apple's roots (pinned by SHA-256) or the caller's
 * anchors; with msign_verify_file_with also a requirement and the
 * designated requirement. docs/api.md is the guide. */
#ifndef MSIGN_VERIFY_H
#define MSIGN_VERIFY_H

#include "msign/err.h"

#ifdef __cplusplus
extern "C" {
#endif
#if defined(__GNUC__)
#pragma GCC visibility push(default) /* see err.h */
#endif

/* Why a file does not verify: codesign's classes of failure. */
enum msign_verify_kind {
	MSIGN_VERIFY_VALID = 0,
	MSIGN_VERIFY_NOT_SIGNED,  /* code object is not signed at all */
	MSIGN_VERIFY_BAD_MACHO,   /* object file format unrecognized, ... */
	MSIGN_VERIFY_BAD_FORMAT,  /* invalid or unsupported format for signature */
	MSIGN_VERIFY_BAD_VERSION, /* unsupported type or version of signature */
	MSIGN_VERIFY_MODIFIED,    /* invalid signature (code or signature ...) */
	MSIGN_VERIFY_INFO_PLIST,  /* invalid Info.plist (plist or signature ...) */
	MSIGN_VERIFY_ENT_BLOB,    /* invalid entitlements blob */
	MSIGN_VERIFY_ENT_PLIST,   /* invalid entitlement plist */
	MSIGN_VERIFY_STRICT,      /* MSIGN_VERIFY_F_STRICT: a layout rule is broken */
	/* Certificate trust (added in this order, after the rest): */
	MSIGN_VERIFY_UNTRUSTED,   /* signature is valid but signer is not trusted */
	MSIGN_VERIFY_EXPIRED,     /* CSSMERR_TP_CERT_EXPIRED */
	MSIGN_VERIFY_NOT_YET_VALID, /* CSSMERR_TP_CERT_NOT_VALID_YET */
	MSIGN_VERIFY_BAD_TEAM,    /* a Team Identifier is wrong or inappropriate */
	/* Requirements (added after the rest): */
	MSIGN_VERIFY_REQUIREMENT, /* code failed to satisfy specified code
				   * requirement(s): codesign -R, exit 3 */
	MSIGN_VERIFY_DESIGNATED,  /* does not satisfy its designated Requirement
				   * (MSIGN_VERIFY_F_DESIGNATED; codesign -v's
				   * exit 3, the code being valid on disk) */
	/* Bundles (msign/bundle.h; added after the rest): */
	MSIGN_VERIFY_RESOURCES,   /* a sealed resource is missing or invalid */
	MSIGN_VERIFY_RESOURCE_DIR, /* invalid resource directory (directory or
				    * signature have been modified) */
	MSIGN_VERIFY_NO_RESOURCES, /* code has no resources but signature
				    * indicates they must be present */
	MSIGN_VERIFY_NESTED,      /* nested code is modified or invalid */
	MSIGN_VERIFY_BUNDLE,      /* the bundle's structure breaks a rule
				   * (strict: unsealed contents, a symbolic
				   * link's destination, an obsolete resource
				   * envelope ...): the report says which */
};

/* codesign --strict: also require the exact layout codesign writes. */
#define MSIGN_VERIFY_F_STRICT 0x1u
/* Hash level only: do not check the CMS signature value, the timestamp
 * or the certificate chain (msign's behaviour before trust was checked). */
#define MSIGN_VERIFY_F_NO_TRUST 0x2u
/* codesign's kSecCSConsiderExpiration: a certificate outside its
 * validity fails even without a timestamp (by default Apple tolerates
 * that; with a timestamp the chain is checked at its time either way). */
#define MSIGN_VERIFY_F_CHECK_EXPIRATION 0x4u
/* Also require every slice's designated requirement (the explicit one,
 * or the one codesign derives) to hold, as codesign -v checks it. Needs
 * the trust check (the anchor): not with MSIGN_VERIFY_F_NO_TRUST. For
 * msign_verify_file_with only. */
#define MSIGN_VERIFY_F_DESIGNATED 0x8u

/* Verify path: every slice, or only the slice named arch (NULL: every
 * slice), hashing with as many threads as there are online CPUs. kind
 * (may be NULL) gets an enum msign_verify_kind; d (may be NULL) is
 * cleared first.
 *   0               valid; *kind is MSIGN_VERIFY_VALID.
 *   MSIGN_E_VERIFY  not valid; *kind says how, d->msg names the first
 *                   failure found (in a universal file its slice, then
 *                   e.g. the CodeDirectory, code page and file byte range
 *                   that do not match); d->file_off is the failing slice's
 *                   offset in the file (0 for a thin file). A file that
 *                   is no Mach-O at all, or whose container is damaged,
 *                   is MSIGN_VERIFY_BAD_MACHO with the parser's d->msg
 *                   and d->file_off.
 *   other negative  verification could not run: MSIGN_E_IO (the file
 *                   cannot be opened or read), MSIGN_E_NOMEM,
 *                   MSIGN_E_NOT_FOUND (no slice named arch), MSIGN_E_ARG
 *                   (a NULL path, an unknown flag), MSIGN_E_CRYPTO; *kind
 *                   is not written.
 * When path cannot be opened or read, d->msg is the system's reason ("No
 * such file or directory"): the caller knows the path. */
int msign_verify_file(const char *path, const char *arch, unsigned flags,
		      int *kind, struct msign_diag *d);

/* ---- with options: anchors and requirements --------------------------- *
 * A handle for msign_verify_file_with, owned by the caller; setters copy
 * what they are given and return 0, MSIGN_E_ARG (the handle keeps its
 * previous value) or another negative code with d. One handle may serve
 * any number of calls, from any number of threads while none changes it. */
typedef struct msign_verify_options msign_verify_options;

msign_verify_options *msign_verify_options_new(void); /* NULL: no memory */
void msign_verify_options_free(msign_verify_options *o); /* NULL: nothing */
/* MSIGN_VERIFY_F_* (default 0: hashes and trust, every slice). */
int msign_verify_options_set_flags(msign_verify_options *o, unsigned flags);
/* Only the slice named arch (NULL: every slice). */
int msign_verify_options_set_arch(msign_verify_options *o, const char *arch);
/* msign_verify_bundle of a versioned bundle: check the version named (a
 * name in Versions/) instead of the one Versions/Current names (codesign
 * --bundle-version); nested code is checked as found. NULL: the default.
 * Copied. */
int msign_verify_options_set_bundle_version(msign_verify_options *o,
					    const char *version);
/* Trust every certificate of the PEM file pem_path as an anchor, besides
 * Apple's pinned roots (msign verify --anchor); read now: a file without
 * a certificate fails here. At most 64 files. */
int msign_verify_options_add_anchors(msign_verify_options *o, const char *pem_path,
				     struct msign_diag *d);
/* A requirement every checked slice must satisfy (codesign -R), len bytes
 * of text in Apple's requirement language (compiled now: a syntax error
 * fails here with its line and column); NULL: none. A slice that does not
 * satisfy it is MSIGN_VERIFY_REQUIREMENT. What only Apple's services
 * know (notarized, Trust Settings) counts as false. */
int msign_verify_options_set_requirement(msign_verify_options *o, const char *text,
					 size_t len, struct msign_diag *d);
/* msign_verify_file with o (NULL: the defaults); the same results, and
 * MSIGN_VERIFY_REQUIREMENT / MSIGN_VERIFY_DESIGNATED for requirements
 * that do not hold (d->msg says why, d->file_off the failing slice). */
int msign_verify_file_with(const char *path, const msign_verify_options *o,
			   int *kind, struct msign_diag *d);

/* A kind as codesign prints it ("invalid signature (code or signature have
 * been modified)"); never NULL. */
const char *msign_verify_message(int kind);

#if defined(__GNUC__)
#pragma GCC visibility pop
#endif
#ifdef __cplusplus
}
#endif
#endif
