/* msign: writing files: ad-hoc and certificate signatures as `codesign
 * -s` makes them (or ld64.lld's linker signature), and their removal as `codesign
 * --remove-signature` does it. docs/api.md is the guide.
 *
 * How a file is written, by msign_sign_file and msign_strip_file alike:
 *   - atomically: the result is written to a temporary file in out_path's
 *     folder, synced, read back and checked (a signed result must verify,
 *     a stripped one must hold no signature), given the input's owner,
 *     group, extended attributes (ACLs included) and mode, synced, and
 *     renamed over out_path; the folder is synced last. On an error
 *     out_path is as it was and the temporary file is gone, with one
 *     exception: MSIGN_E_IO whose d->msg begins "replaced, but cannot sync
 *     the folder" (the rename happened; it may not be durable yet).
 *   - out_path may equal in_path (in place). It must be a regular file
 *     the caller may write, or absent: a device, FIFO or folder is refused
 *     (MSIGN_E_IO) and never opened. A symbolic link there is followed and
 *     its target replaced. The rename gives out_path a new inode: another
 *     hard link to the old file keeps the old bytes.
 *   - what of the owner, group, mode and attributes the caller may not
 *     set is left out, and the call still succeeds: d->lost then holds
 *     the MSIGN_LOST_* bits below (a set-id bit is dropped together with
 *     an owner or group that could not be kept).
 *   - d (may be NULL) is cleared first; on an error d->code is the code
 *     returned and d->msg names the reason in one sentence, d->file_off
 *     where (err.h: relative to what the failing parser read: the file,
 *     a slice or a blob; 0 when the reason is not in the file's bytes). */
#ifndef MSIGN_SIGN_H
#define MSIGN_SIGN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "msign/cs.h"
#include "msign/err.h"

#ifdef __cplusplus
extern "C" {
#endif
#if defined(__GNUC__)
#pragma GCC visibility push(default) /* see err.h */
#endif

/* ---- what a write could not keep ------------------------------------------ */

/* Bits of struct msign_diag's lost, after a successful write. */
#define MSIGN_LOST_OWNER (1u << 0)
#define MSIGN_LOST_GROUP (1u << 1)
#define MSIGN_LOST_SETID (1u << 2) /* set-user-ID / set-group-ID bits */
#define MSIGN_LOST_XATTR (1u << 3) /* extended attributes */
#define MSIGN_LOST_ACL   (1u << 4)
/* "owner, set-id bits": the names of the bits set in lost, comma
 * separated, into buf (snprintf's rules: at most len bytes, NUL
 * included); returns the length wanted. */
size_t msign_write_lost_text(uint32_t lost, char *buf, size_t len);

/* ---- signing options -------------------------------------------------------- */

/* How to sign: an opaque handle, owned by the caller. A new handle holds
 * the defaults, which are codesign's: identifier by Apple's rule (the
 * bundle identifier embedded in the file, else the file name's stem, with
 * a unique suffix when it has no dot), no entitlements, no flags, hash
 * types by Apple's rule, page size per architecture, every slice, online
 * CPUs, no force. Setters return 0, MSIGN_E_ARG for a value msign would
 * not sign with (the handle then keeps its previous value), or
 * MSIGN_E_NOMEM; strings are copied. A handle may be used for any number
 * of msign_sign_file calls, from any number of threads at once while no
 * thread changes it. */
typedef struct msign_sign_options msign_sign_options;

/* NULL when out of memory. */
msign_sign_options *msign_sign_options_new(void);
void msign_sign_options_free(msign_sign_options *o); /* NULL: nothing */

/* The identifier (codesign -i): 1 to 1023 bytes, no control character
 * (they would forge lines in every tool that prints it). NULL: the
 * default rule again. */
int msign_sign_options_set_identifier(msign_sign_options *o, const char *id);
/* Put in front of a default identifier that has no dot (codesign
 * --prefix): at most 1023 bytes, no control character; NULL: none. */
int msign_sign_options_set_identifier_prefix(msign_sign_options *o,
					     const char *prefix);
/* Entitlements: an XML property list of len bytes (1 to 1 MiB), embedded
 * as the signer's XML and converted to DER. NULL: none. The text is
 * parsed when signing: a plist that is not a dictionary fails then with
 * MSIGN_E_PLIST. */
int msign_sign_options_set_entitlements(msign_sign_options *o, const char *xml,
					size_t len);
/* CodeDirectory flags (codesign -o): a combination of the bits below.
 * MSIGN_CS_ADHOC is always set by ad-hoc signing and is no option; the
 * linker signature is msign_sign_options_set_linker_signed. */
#define MSIGN_SIGN_FLAGS (MSIGN_CS_HOST | MSIGN_CS_HARD | MSIGN_CS_KILL | \
			  MSIGN_CS_CHECK_EXPIRATION | MSIGN_CS_RESTRICT | \
			  MSIGN_CS_ENFORCEMENT | MSIGN_CS_REQUIRE_LV | \
			  MSIGN_CS_RUNTIME)
int msign_sign_options_set_flags(msign_sign_options *o, uint32_t flags);
/* Hash types (codesign --digest), one CodeDirectory each: a mask of the
 * bits below; 0: Apple's rule (SHA-256 alone for code built for a recent
 * enough OS, else SHA-1 and SHA-256; SHA-256 for a linker signature). */
#define MSIGN_SIGN_HASH_SHA1 (1u << MSIGN_CS_HASHTYPE_SHA1)
#define MSIGN_SIGN_HASH_SHA256 (1u << MSIGN_CS_HASHTYPE_SHA256)
#define MSIGN_SIGN_HASH_SHA256_TRUNCATED (1u << MSIGN_CS_HASHTYPE_SHA256_TRUNCATED)
#define MSIGN_SIGN_HASH_SHA384 (1u << MSIGN_CS_HASHTYPE_SHA384)
int msign_sign_options_set_hash_types(msign_sign_options *o, uint32_t mask);
/* Code page size in bytes: a power of two from 512 to 16 MiB; 0: 16384
 * for arm64 slices, 4096 for others and for a linker signature. */
int msign_sign_options_set_page_size(msign_sign_options *o, uint32_t bytes);
/* Replace existing signatures (codesign -f). Without it, a file where a
 * slice to be signed has a signature already fails with
 * MSIGN_E_ALREADY_SIGNED and is left as it was. */
int msign_sign_options_set_force(msign_sign_options *o, bool force);
/* Sign only the slice named arch ("arm64", "x86_64", ...; NULL: every
 * slice); the others are copied as they are. A name the file does not
 * hold fails when signing, with MSIGN_E_NOT_FOUND. */
int msign_sign_options_set_arch(msign_sign_options *o, const char *arch);
/* msign_sign_bundle of a versioned bundle (a framework): sign the version
 * named (a name in Versions/) instead of the one Versions/Current names
 * (codesign --bundle-version); nested code keeps its own default. NULL:
 * the default. Copied. */
int msign_sign_options_set_bundle_version(msign_sign_options *o,
					  const char *version);
/* Hashing threads; 0: online CPUs. The library uses at most 256. */
int msign_sign_options_set_threads(msign_sign_options *o, unsigned threads);
/* ld64.lld's linker signature (flags adhoc,linker-signed, no requirement
 * or CMS blob). It takes no entitlements and no flags: signing with both
 * fails with MSIGN_E_ARG. */
int msign_sign_options_set_linker_signed(msign_sign_options *o, bool on);

/* ---- certificate signatures -------------------------------------------------- */

/* A signing identity: a private key (RSA or ECDSA P-256) and its leaf
 * certificate, with the issuers found among the certificates read, in the
 * order the CMS carries them. name chooses the leaf as codesign matches a
 * keychain identity: its subject CN exactly, a substring of the CN found
 * in one leaf only, or the certificate's SHA-1 in hex; an end-entity
 * certificate is preferred to a CA (a self-signed identity is a CA).
 * 0, or MSIGN_E_NOT_FOUND (no match), MSIGN_E_ARG (ambiguous, a key that
 * is not the leaf's, a missing path), MSIGN_E_UNSUPPORTED (another key
 * type, a team name with control characters), MSIGN_E_IO / MSIGN_E_CRYPTO
 * (a file unreadable or not PEM / PKCS#12, a wrong password), each with
 * d->msg. An identity is read-only once loaded: any number of options
 * handles and threads may use it; it must outlive them. */
typedef struct msign_sign_identity msign_sign_identity;

/* key_path: the private key, PEM, not encrypted; cert_path: the leaf
 * (and possibly other certificates), PEM; chain_path (may be NULL): more
 * certificates, the issuers up to the root. */
int msign_sign_identity_load_pem(const char *key_path, const char *cert_path,
				 const char *chain_path, const char *name,
				 msign_sign_identity **out, struct msign_diag *d);
/* A PKCS#12 file and its password (NULL: none). */
int msign_sign_identity_load_p12(const char *p12_path, const char *password,
				 const char *name, msign_sign_identity **out,
				 struct msign_diag *d);
void msign_sign_identity_free(msign_sign_identity *id); /* NULL: nothing */
/* The leaf's subject CN ("" when it has none) and its OU, the team
 * identifier the CodeDirectory gets (NULL when none). */
const char *msign_sign_identity_common_name(const msign_sign_identity *id);
const char *msign_sign_identity_team(const msign_sign_identity *id);

/* Sign with id (NULL: ad hoc, the default). The handle keeps a pointer,
 * not a copy. A certificate signature is codesign's: the leaf's OU as team
 * identifier, a detached CMS over the first CodeDirectory with the
 * signingTime, messageDigest and both cdhash attributes, the designated
 * requirement codesign embeds for the chain unless one is set. A linker
 * signature takes no identity (MSIGN_E_ARG when signing). */
int msign_sign_options_set_identity(msign_sign_options *o,
				    const msign_sign_identity *id);
/* signingTime: seconds since 1970 (UTC, the years 1950 to 2049), or one of: */
#define MSIGN_SIGN_TIME_NOW INT64_MIN        /* the time of signing (default) */
#define MSIGN_SIGN_TIME_NONE (INT64_MIN + 1) /* no signingTime attribute */
int msign_sign_options_set_signing_time(msign_sign_options *o, int64_t when);
/* An RFC 3161 timestamp from the TSA at url (http or https; NULL:
 * Apple's, as codesign --timestamp), or none (on false, the default). A
 * signature that cannot get its token fails (MSIGN_E_IO / _CRYPTO, the
 * server's reason in d->msg); it is never written without it. */
int msign_sign_options_set_timestamp(msign_sign_options *o, bool on,
				     const char *url);
/* A compiled requirement set (magic 0xfade0c01, as msign csreq -b writes
 * it) to embed instead of the default one; copied, and checked when set
 * (MSIGN_E_ARG or the decoder's code for a damaged set). NULL: default. */
int msign_sign_options_set_requirements(msign_sign_options *o,
					const uint8_t *set, size_t len);
/* Refuse to sign (MSIGN_E_ARG, every problem in d->msg) what Apple's
 * notary service would refuse and can be known offline: no Developer ID
 * Application leaf (or ad hoc), no MSIGN_CS_RUNTIME, no timestamp, no
 * SHA-256 CodeDirectory, get-task-allow granted by the entitlements. */
int msign_sign_options_set_for_notarization(msign_sign_options *o, bool on);

/* ---- writing ------------------------------------------------------------------ */

/* Sign in_path into out_path (which may be in_path) with o (NULL: the
 * defaults). Per signed slice an existing signature is removed first
 * (with force), LC_CODE_SIGNATURE appended and the signature written after
 * __LINKEDIT; a universal file's slices are laid out again as lipo does.
 * 0, or a negative MSIGN_E_*: MSIGN_E_ALREADY_SIGNED (signed, no force),
 * MSIGN_E_NOT_FOUND (no slice named arch), MSIGN_E_ARG (options that do
 * not go together), MSIGN_E_INVALID (a file that cannot be signed, e.g.
 * no room for LC_CODE_SIGNATURE), MSIGN_E_IO, the code of a damaged
 * container, ... See the top of this header for how the file is written. */
int msign_sign_file(const char *in_path, const char *out_path,
		    const msign_sign_options *o, struct msign_diag *d);

/* Remove the signature of every slice, or of the slice named arch (NULL:
 * every slice), as codesign --remove-signature does; a universal file's
 * slices are laid out again. A file with nothing to remove is a success:
 * left alone when out_path is in_path, copied byte for byte otherwise.
 * 0, or a negative MSIGN_E_* (MSIGN_E_NOT_FOUND: no slice named arch). */
int msign_strip_file(const char *in_path, const char *out_path,
		     const char *arch, struct msign_diag *d);

#if defined(__GNUC__)
#pragma GCC visibility pop
#endif
#ifdef __cplusplus
}
#endif
#endif
