/* Internal to src/bundle: the copy a bundle is signed in (mirror.c) and
 * the orchestration of signing and verification (bundle_sign.c,
 * bundle_verify.c, bundle_api.c). */
#ifndef MSIGN_BUNDLE_BUNDLE_INT_H
#define MSIGN_BUNDLE_BUNDLE_INT_H

#include <stdbool.h>
#include <sys/types.h>
#include <time.h>
#include "bundle/bundle.h"
#include "msign/bundle.h"
#include "sig/codesign.h"
#include "verify/verify.h"

/* What a tree held when it was copied: every entry's path, file system
 * and inode, and type, sorted by path. */
struct mb_tree_ent {
	char *rel;
	dev_t dev;
	ino_t ino;
	mode_t type;
	/* regular files: a change in place shows in these (a copied file,
	 * not a link, also in its ctime, which linking does not leave alone) */
	off_t size;
	struct timespec mtime, ctime;
	bool copied;
};
struct mb_tree_rec {
	struct mb_tree_ent *v;
	size_t n, cap;
};
void mb_tree_rec_free(struct mb_tree_rec *rec);

/* A hard-link copy of the folder abs (absolute path) beside it, named
 * ".NAME.msign-XXXXXX", *mirror malloc'd; what it was made from into rec
 * (may be NULL); *lost the MSIGN_LOST_* bits of owners and attributes the
 * caller could not give the copy. The copy's top folder stays 0700 and
 * the caller's until mb_mirror_finish gives it abs's attributes. */
int mb_mirror_create(const char *abs, char **mirror, struct mb_tree_rec *rec,
		     uint32_t *lost, struct msign_diag *d);
int mb_mirror_finish(const char *abs, const char *mirror, uint32_t *lost,
		     struct msign_diag *d);
/* 0 when path holds exactly what rec recorded (the same entries, each the
 * same inode), else MSIGN_E_IO naming the first difference. */
int mb_tree_same(const char *path, const struct mb_tree_rec *rec, struct msign_diag *d);
/* rm -rf path, never following a link; 0 when all is gone. */
int mb_tree_remove(const char *path);
/* Exchange the folders a and b (atomically where the system can). */
int mb_exchange(const char *a, const char *b, struct msign_diag *d);
/* 0 when no one but the caller and root can rename what is in the
 * folders holding abs (absolute, resolved): each owned by the caller or
 * root, and writable by others only with the sticky bit. The signing copy
 * is reached by its path; someone who could rename it could put a link to
 * another folder there, and msign would sign and write in that one. */
int mb_parent_safe(const char *abs, struct msign_diag *d);
/* "a/b", malloc'd (NULL: out of memory). */
char *mb_path_join(const char *a, const char *b);
/* fsync the folder holding abs. */
int mb_sync_parent(const char *abs);

struct msign_sign_opts;   /* sign/sign.h */
struct msign_verify_opts; /* verify/verify.h */

/* ---- signing (bundle_sign.c) ---- */
struct mb_sign_out {
	char identifier[1024]; /* the bundle's signature's */
	bool is_app;           /* CFBundlePackageType APPL */
	char *subcomponent;    /* nested code that failed (absolute), malloc'd */
};
/* Sign the bundle at path with o (flags: MSIGN_BUNDLE_*), atomically. */
int mb_sign_bundle(const char *path, const struct msign_sign_opts *o,
		   unsigned flags, struct mb_sign_out *out, struct msign_diag *d);

/* The same, with mb_sign_out's subcomponent handed to the caller (public
 * msign_sign_bundle's body; bundle_api.c). */
int msign_sign_bundle_opts(const char *path, const struct msign_sign_opts *o,
			   unsigned flags, char **subcomponent, struct msign_diag *d);

/* The seal root's _CodeSignature, created (0755) when missing: an
 * O_DIRECTORY descriptor, or a negative code. */
int mb_sigdir_open(int root_fd, struct msign_diag *d);
/* Delete every entry of dir but directories and the nkeep names in keep
 * (spec 6: the new signature's files only). */
void mb_sigdir_clean(int dir, const char *const *keep, size_t nkeep);
/* name in dir: a temp file, written, fsync'd, renamed over name (0644). */
int mb_sigdir_write(int dir, const char *name, const uint8_t *data, size_t len,
		    struct msign_diag *d);

/* ---- Info.plist-only bundles (bundle_plist.c) ----
 * No Mach-O main executable: the Info.plist is the code (one page of its
 * size), and every component of the signature is a file in _CodeSignature
 * (spec 1, "Where the signature lives"). */
enum {
	MB_DF_CD,      /* CodeDirectory: slot 0 */
	MB_DF_REQS,    /* CodeRequirements */
	MB_DF_ALT,     /* CodeRequirements-1 ... -5: CDs 0x1000 ... 0x1004 */
	MB_DF_CMS = MB_DF_ALT + 5, /* CodeSignature: the CMS (DER), empty ad hoc */
	MB_DF_ENT,     /* CodeEntitlements */
	MB_DF_ENT_DER, /* CodeEntitlementDER */
	MB_DF_COUNT
};
extern const char *const mb_df_names[MB_DF_COUNT];

struct mb_detached {
	uint8_t *file[MB_DF_COUNT]; /* NULL: no such file */
	size_t len[MB_DF_COUNT];
	/* The CodeDirectories (ascending hash type, cdhash computed), best and
	 * lowest, and the requirement and entitlement files as blobs; no
	 * SuperBlob and no cms member (the CMS file is not a blob). */
	struct msign_sig sig;
};
/* Read and validate the files below root_fd: MSIGN_E_NOT_SIGNED without a
 * CodeDirectory file; a malformed file: its parser's code, d naming it.
 * x is filled in any case: free it with mb_detached_free. */
int mb_detached_read(int root_fd, struct mb_detached *x, struct msign_diag *d);
void mb_detached_free(struct mb_detached *x);
/* The hash types such a signature gets: o's, else SHA-1 and SHA-256. */
uint32_t mb_detached_hash_mask(const struct msign_sign_opts *o);
/* Write the signature of b (identifier ident, CodeResources cr) into its
 * _CodeSignature, deleting the files it does not use. */
int mb_detached_sign(const struct mb_bundle *b, const struct msign_sign_opts *o,
		     const char *ident, const uint8_t *cr, size_t cr_len,
		     struct msign_diag *d);
/* Verify b's files as verify does a slice (CMS, trust, special slots,
 * entitlements, the code slot, requirements), cr the CodeResources bytes
 * (NULL: none). 0 valid, MSIGN_E_VERIFY with res->kind and detail, or an
 * error. *mask: the hash types of the CodeDirectories. */
int mb_detached_verify(const struct mb_bundle *b, const struct msign_verify_opts *o,
		       const uint8_t *cr, size_t cr_len,
		       struct msign_verify_result *res, uint32_t *mask,
		       struct msign_diag *d);
/* The designated requirement's text (*text malloc'd): the requirement
 * set's explicit one, else (*implicit) codesign's for the CMS's chain, or
 * for ad-hoc code every CodeDirectory's cdhash (spec 2.5). */
int mb_detached_designated(const struct mb_detached *x, char **text, bool *implicit,
			   struct msign_diag *d);
/* For the CLI: is path (its version, NULL: Versions/Current's) an
 * Info.plist-only bundle? Then 1, and, when it has a CodeDirectory file,
 * *signed_out true and its identifier in ident. */
int mb_detached_probe(const char *path, const char *version, bool *signed_out,
		      char *ident, size_t len);

/* ---- verification (bundle_verify.c) ---- */
/* _CodeSignature/CodeResources below root_fd, never through a link: 0 and
 * *out malloc'd (NULL when there is none), or an error. */
int mb_read_cr(int root_fd, uint8_t **out, size_t *len, struct msign_diag *d);
/* The file name in the seal root's _CodeSignature, the same way, at most
 * max bytes (MSIGN_E_LIMIT beyond). */
int mb_read_sigfile(int root_fd, const char *name, size_t max, uint8_t **out,
		    size_t *len, struct msign_diag *d);
struct mb_vresult {
	int kind;              /* enum msign_verify_kind */
	char error[256];       /* Apple's sentence for kind ("" when valid) */
	char *subcomponent;    /* nested code the failure is in (absolute) */
	char *seal_root;       /* absolute: problems' paths are below it */
	/* The main executable as it was verified (with has_exec_result), for
	 * a caller's display; freed by mb_vresult_free unless taken (NULL). */
	struct msign_image *img;
	struct mb_check check; /* resource problems */
	bool has_exec_result;  /* exec holds the main executable's result */
	struct msign_verify_result *exec;
	bool sealed;           /* a readable CodeResources */
	unsigned version;
	uint32_t rules, files;
	uint32_t nested_checked;
	enum mb_kind bkind;
	bool is_app;
	/* An Info.plist-only bundle: exec holds the result of its
	 * _CodeSignature files (mb_detached_verify), has_exec_result false. */
	bool detached;
	/* "--prepared:PATH" / "--validated:PATH", nested code in the order
	 * it was checked (codesign -vvv --deep prints them) */
	char **events;
	size_t nevents, capevents;
};
/* Verify the bundle at path (absolute or not): the main executable with o
 * (its bundle fields are set here), slots -1 / -3, resources and nested
 * code. bflags: MSIGN_VERIFY_F_DEEP, MSIGN_VERIFY_F_STRICT_RESOURCES.
 * 0 with vr->kind (VALID or why not), or a negative code when it could
 * not run. vr is filled in both cases: free it with mb_vresult_free. */
/* bflag: the signer's check of its copy before the exchange: hash level,
 * nested code's recorded requirements not evaluated (they may name an
 * anchor only the trust check decides). */
#define MB_VERIFY_SELF 0x20000u
int mb_verify_dir(const char *path, const struct msign_verify_opts *o,
		  unsigned bflags, struct mb_vresult *vr, struct msign_diag *d);
void mb_vresult_free(struct mb_vresult *vr);

#endif
