/* msign: ad-hoc and certificate signing. */
#ifndef MSIGN_SIGN_SIGN_H
#define MSIGN_SIGN_SIGN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "macho/macho.h"
#include "sig/codesign.h"
#include "write/write.h"
#include "msign/sign.h"

/* ---- ad-hoc signing (sign.c, sign_blobs.c, sign_ident.c) ---------------
 * codesign -s - (and --linker-signed, ld64.lld's layout), per slice: the
 * old signature is removed by msign_strip_plan's rules, LC_CODE_SIGNATURE
 * is appended, the signature goes at the next 16-byte boundary after
 * __LINKEDIT, which grows to cover it. The exact signature size is known
 * before anything is written; page hashes are taken last, over the bytes
 * the output will hold. Universal files are laid out again as lipo does. */
#define MSIGN_SIGN_PAGE_DEFAULT 0 /* 16 KiB for arm64*, else 4 KiB */
/* signing_time's MSIGN_SIGN_TIME_NOW and _NONE: msign/sign.h */

struct msign_sign_identity; /* sign_cms.h */
struct msign_tsa_opts;      /* tsa.h */

struct msign_sign_opts {
	const char *identifier; /* -i; NULL: Apple's default rule */
	const char *prefix;     /* --prefix for a default identifier */
	const char *file_name;  /* the name the default identifier comes from */
	const char *ent_xml;    /* entitlements plist text, or NULL */
	size_t ent_len;
	uint32_t cd_flags;      /* -o: MSIGN_CS_RUNTIME, kill, hard, ... (no adhoc) */
	/* The hardened runtime's version with MSIGN_CS_RUNTIME; 0: each
	 * slice's SDK from LC_BUILD_VERSION, as codesign (an old signature's
	 * for --preserve-metadata=runtime). */
	uint32_t runtime_version;
	uint32_t hash_types;    /* bit (1 << CS_HASHTYPE_x); 0: Apple's rule */
	uint32_t page_size;     /* bytes, power of two; 0: per architecture */
	bool linker_signed;     /* ld64.lld's layout and flags */
	bool force;             /* replace existing signatures (-f) */
	const char *arch;       /* sign only this slice, or NULL for all */
	unsigned threads;       /* 0: online CPUs */
	/* Certificate signing (spec section 3); identity NULL: ad hoc. */
	const struct msign_sign_identity *identity;
	int64_t signing_time;   /* seconds since 1970 UTC, MSIGN_SIGN_TIME_NOW or _NONE */
	const struct msign_tsa_opts *tsa; /* NULL: no timestamp */
	/* A requirement set blob (0xfade0c01) to embed as it is. NULL: with
	 * an identity, the designated requirement codesign embeds for its
	 * chain and the identifier; ad hoc, the empty set. */
	const uint8_t *requirements;
	size_t requirements_len;
	/* Refuse (MSIGN_E_ARG) what msign_sign_notary_problems finds. */
	bool for_notarization;
	/* A bundle's main executable (src/bundle): special slot -1 hashes
	 * info_plist (instead of an embedded __info_plist section), slot -3
	 * resources (the CodeResources bytes). NULL: not bound. */
	const uint8_t *info_plist;
	size_t info_plist_len;
	const uint8_t *resources;
	size_t resources_len;
	/* Bundles signed deep: entitlements for nested code by its path
	 * relative to the bundle's folder (msign/bundle.h). */
	const struct msign_nested_ent *nested_ent;
	uint32_t n_nested_ent;
	/* A versioned bundle (framework): sign Versions/<this> instead of
	 * the one Versions/Current names (codesign --bundle-version); the
	 * top bundle only, nested code keeps its default. */
	const char *bundle_version;
};

struct msign_nested_ent {
	const char *rel;
	const char *xml;
	size_t len;
};

struct msign_sign_slice {
	bool target;       /* signed by this run */
	bool was_signed;   /* had a signature before */
	uint64_t out_off, out_size;
	uint32_t dataoff, datasize;
	uint32_t ncds;
	uint8_t hash_types[MSIGN_MAX_CDS];
	uint32_t page_size;
	uint32_t cd_version;
};

struct msign_sign_result {
	uint32_t nslices;
	struct msign_sign_slice slices[MSIGN_MAX_SLICES];
	char identifier[1024];
	bool replaced;        /* some target slice had a signature */
	bool already_signed;  /* refused: signed and no force */
};

/* What would make Apple's notary service refuse this signature, as far as
 * it can be known before signing and offline: no Developer ID Application
 * leaf (or ad hoc), no hardened runtime, no secure timestamp, no SHA-256
 * CodeDirectory, get-task-allow granted. One problem a line into buf (NUL
 * terminated, cut to len), their number in *count (0: ready). */
int msign_sign_notary_problems(const struct msign_sign_opts *o, char *buf,
			       size_t len, unsigned *count, struct msign_diag *d);

/* The hash types (bit 1 << CS_HASHTYPE_x) a run with o gives img: o's,
 * else Apple's rule for the slice the file is identified by. A bundle's
 * seal needs them before its main executable is signed. */
uint32_t msign_sign_hash_mask(const struct msign_image *img,
			      const struct msign_sign_opts *o);

/* Plan the signed output of img (the source of the plan's copies). */
int msign_sign_plan(const struct msign_image *img,
		    const struct msign_sign_opts *o, struct msign_plan *plan,
		    struct msign_sign_result *res, struct msign_diag *d);
/* Sign in_path into out_path (may be the same path), atomically. */
int msign_sign_run(const char *in_path, const char *out_path,
		   const struct msign_sign_opts *o,
		   struct msign_sign_result *res, struct msign_diag *d);

#endif
