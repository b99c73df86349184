/* msign: verifying a file's signature as `codesign --verify` does, at hash
 * level: in every slice (in codesign's order), the signature's structure,
 * the CMS messageDigest against the CodeDirectories, each special slot the
 * signature carries (Info.plist, requirements, entitlements XML and DER,
 * launch constraints), the entitlements' two forms against each other,
 * and every code page of every CodeDirectory. Certificate trust and the
 * designated requirement are not evaluated. docs/api.md is the guide. */
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
};

/* codesign --strict: also require the exact layout codesign writes. */
#define MSIGN_VERIFY_F_STRICT 0x1u

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
