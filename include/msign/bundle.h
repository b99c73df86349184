/* msign: bundles (.app, .framework, .xpc, .appex, .kext, .bundle ...):
 * their resources sealed in _CodeSignature/CodeResources and bound to the
 * main executable's signature (special slots -1 and -3), as Apple's
 * codesign seals and checks them. docs/api.md is the guide.
 *
 * A bundle is a directory: deep (ROOT/Contents/...: macOS apps, XPC
 * services, plug-ins, kexts), versioned (ROOT/Versions/Current: macOS
 * frameworks) or shallow (Info.plist and executable at ROOT: iOS apps and
 * frameworks, app extensions). Bundles without a Mach-O main executable
 * (Info.plist only) can be read but not signed by this version. */
#ifndef MSIGN_BUNDLE_H
#define MSIGN_BUNDLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "msign/err.h"
#include "msign/info.h"
#include "msign/sign.h"
#include "msign/verify.h"

#ifdef __cplusplus
extern "C" {
#endif
#if defined(__GNUC__)
#pragma GCC visibility push(default) /* see err.h */
#endif

/* true when path is a directory (a bundle to the calls below). */
bool msign_is_bundle(const char *path);

/* ---- reading ---------------------------------------------------------------- */
typedef struct msign_bundle msign_bundle;

/* Open the bundle at path. 0, or MSIGN_E_IO (unreadable), MSIGN_E_UNSUPPORTED
 * ("bundle format unrecognized, invalid, or unsuitable"), MSIGN_E_INVALID
 * (a damaged layout, e.g. Versions/Current pointing elsewhere), with d. A
 * main executable that is damaged or unsigned does not fail the open. */
int msign_bundle_open(const char *path, msign_bundle **out, struct msign_diag *d);
/* The same for version (a name in Versions/) of a versioned bundle
 * instead of the one Versions/Current names (codesign --bundle-version):
 * MSIGN_E_NOT_FOUND when there is no such version or the bundle is not
 * versioned, MSIGN_E_ARG for a name that is not one folder's. NULL: as
 * msign_bundle_open. */
int msign_bundle_open_version(const char *path, const char *version,
			      msign_bundle **out, struct msign_diag *d);
void msign_bundle_free(msign_bundle *b); /* NULL: nothing */

/* "app" (CFBundlePackageType APPL), "framework" (versioned), or "bundle". */
const char *msign_bundle_kind(const msign_bundle *b);
/* The main executable's path (absolute; an Info.plist-only bundle's
 * Info.plist), as codesign's Executable= line. */
const char *msign_bundle_executable(const msign_bundle *b);
/* codesign's Format= text: "app bundle with Mach-O thin (arm64)",
 * "bundle with Mach-O universal (x86_64 arm64)", "bundle". */
const char *msign_bundle_format(const msign_bundle *b);
/* The identifier a signature gets by default: CFBundleIdentifier, else
 * CFBundleName, else the folder's name without its extension. */
const char *msign_bundle_default_identifier(const msign_bundle *b);
/* Top-level keys of the Info.plist; false when the bundle has none. */
bool msign_bundle_info_plist_entries(const msign_bundle *b, uint32_t *n);
/* The main executable as a file (msign/info.h), NULL for an Info.plist-only
 * bundle or when it could not be read (then *d_out, if given, says why). */
const msign_info *msign_bundle_executable_info(const msign_bundle *b,
					       const struct msign_diag **d_out);
/* The sealed resources: false when there is no readable CodeResources
 * (codesign's "Sealed Resources=none"); version 2 counts rules2 and files2,
 * version 1 rules and files. */
bool msign_bundle_sealed_resources(const msign_bundle *b, unsigned *version,
				   uint32_t *rules, uint32_t *files);
/* Nested code recorded in the seal (files2 entries with a requirement), in
 * the seal's order: its path relative to the bundle's seal root. */
uint32_t msign_bundle_nested_count(const msign_bundle *b);
const char *msign_bundle_nested(const msign_bundle *b, uint32_t i);

/* ---- signing ---------------------------------------------------------------- */

/* Sign nested code first, from the inside out (codesign --deep): what is
 * unsigned, or everything with force. */
#define MSIGN_BUNDLE_DEEP 0x1u
/* Nested code signed by MSIGN_BUNDLE_DEEP gets o's entitlements too, as
 * codesign --deep does (default: only the ones given per path). */
#define MSIGN_BUNDLE_NESTED_ENTITLEMENTS 0x2u

/* Sign the bundle at path with o (NULL: ad hoc defaults; o's identifier
 * applies to this bundle only, nested code keeps its own default), and
 * with MSIGN_BUNDLE_DEEP its nested code first. The seal is the one
 * codesign writes (its current rule templates), bound into every
 * CodeDirectory of every slice of the main executable.
 *
 * Atomic for the whole bundle: the work is done in a copy beside it (a
 * folder ".NAME.msign-XXXXXX" of hard links; files msign writes replace
 * their link there), which is verified and then exchanged with path in
 * one rename (renameat2 RENAME_EXCHANGE / renamex_np RENAME_SWAP; where the
 * system has neither, two renames). On an error path is as it was and the
 * copy is gone. Unsigned nested code without MSIGN_BUNDLE_DEEP fails with
 * MSIGN_E_NOT_SIGNED, d->msg "code object is not signed at all", and
 * *subcomponent (when subcomponent is not NULL) its absolute path, which
 * the caller frees. */
int msign_sign_bundle(const char *path, const msign_sign_options *o,
		      unsigned flags, char **subcomponent, struct msign_diag *d);
/* Entitlements for the nested code at rel (relative to the bundle's
 * folder, e.g. "Contents/XPCServices/S.xpc"), used by MSIGN_BUNDLE_DEEP:
 * an XML plist of len bytes (1 to 1 MiB), copied. At most 256 paths. */
int msign_sign_options_add_nested_entitlements(msign_sign_options *o,
					       const char *rel, const char *xml,
					       size_t len);

/* ---- verifying -------------------------------------------------------------- */

/* Check nested code fully and recursively (codesign --deep); without it
 * only its signature and the requirement its seal records. */
#define MSIGN_VERIFY_F_DEEP 0x10u
/* codesign --strict's resource checks: symbolic links must stay in the
 * bundle (or point into /System, /Library), no resource forks or Finder
 * information, nothing unsealed in the bundle's root. */
#define MSIGN_VERIFY_F_STRICT_RESOURCES 0x20u

/* What a bundle's verification found, beyond its kind. */
typedef struct msign_bundle_report msign_bundle_report;
enum msign_bundle_problem { MSIGN_FILE_ADDED, MSIGN_FILE_MODIFIED, MSIGN_FILE_MISSING };

/* Verify the bundle at path: the main executable's signature (as
 * msign_verify_file_with, with o's flags, anchors and requirement), its
 * Info.plist and CodeResources against slots -1 and -3, every sealed file,
 * symbolic link and nested code. The same results as
 * msign_verify_file_with, plus the MSIGN_VERIFY_RESOURCES ...
 * MSIGN_VERIFY_BUNDLE kinds; *rep (when rep is not NULL) gets the report,
 * also on failure (free it). */
int msign_verify_bundle(const char *path, const msign_verify_options *o,
			int *kind, msign_bundle_report **rep, struct msign_diag *d);
void msign_bundle_report_free(msign_bundle_report *r); /* NULL: nothing */
/* Apple's sentence for the first failure ("" when valid). */
const char *msign_bundle_report_error(const msign_bundle_report *r);
/* The nested code the failure is in (absolute path), or NULL. */
const char *msign_bundle_report_subcomponent(const msign_bundle_report *r);
/* Files added, modified, missing: in that order, each group by path. */
uint32_t msign_bundle_report_problem_count(const msign_bundle_report *r);
/* Problem i's kind (enum msign_bundle_problem) and absolute path; -1 and
 * NULL when i is out of range. */
int msign_bundle_report_problem(const msign_bundle_report *r, uint32_t i,
				const char **path);
/* What was checked: the entries of the seal (files2, or files for a
 * version-1 seal) and the nested code whose requirement was evaluated. */
uint32_t msign_bundle_report_checked(const msign_bundle_report *r);
uint32_t msign_bundle_report_nested_checked(const msign_bundle_report *r);

#if defined(__GNUC__)
#pragma GCC visibility pop
#endif
#ifdef __cplusplus
}
#endif
#endif
