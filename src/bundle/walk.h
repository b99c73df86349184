/* msign: what classify.c, walk.c and check.c share inside the bundle
 * module: opening beneath a directory without following symlinks, the
 * one directory walk (spec 2.4), the parallel file hasher, and the strict
 * structure check (spec 4 step 3) that both strict signing and verify run.
 *
 * Structural failures carry Apple's sentence in a `why` buffer
 * (MW_WHY_LEN) and leave d alone: signing turns the sentence into d->msg,
 * the check into mb_check.error. Every other failure sets d. */
#ifndef MSIGN_BUNDLE_WALK_H
#define MSIGN_BUNDLE_WALK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "bundle/bundle.h"

#define MW_WHY_LEN 256

/* Open rel (relative, '/'-separated; no empty, "." or ".." component)
 * beneath dir_fd: every directory component with O_NOFOLLOW|O_DIRECTORY,
 * the last one with flags (add O_NOFOLLOW yourself to refuse a final
 * symlink). A symlink swapped in for any component is never followed.
 * Returns the descriptor, or -1 with errno set. */
int mb_openat_beneath(int dir_fd, const char *rel, int flags);

/* ---- the walk (walk.c) ---------------------------------------------------- */
enum mw_kind {
	MW_FILE,        /* regular file, sealed by its bytes */
	MW_SYMLINK,     /* sealed by its target string */
	MW_NESTED_DIR,  /* directory with the nested flag and a '.' in its name */
	MW_NESTED_FILE, /* regular file with the nested flag (v2 walks only) */
};

struct mw_item {
	char *rel;
	enum mw_kind kind;
	uint32_t flags;   /* the best rule's MB_RULE_* */
	char *target;     /* MW_SYMLINK: readlink's bytes */
	uint64_t size;    /* MW_FILE, MW_NESTED_FILE: st_size at the walk */
};

struct mw_items {
	struct mw_item *v; /* sorted by path (strcmp) when mw_walk returns */
	size_t n, cap;
};

struct mw_walk_opts {
	const struct mb_exclusions *x;
	const struct mb_rules *rules;
	bool v1;     /* version-1 walk: no symlinks, no nested items */
	bool strict; /* a fifo, socket or device fails the walk */
};

/* Walk the tree below root_fd (spec 2.4) and list what the rules seal. */
int mw_walk(int root_fd, const struct mw_walk_opts *wo, struct mw_items *out,
	    char why[MW_WHY_LEN], struct msign_diag *d);
void mw_items_free(struct mw_items *it);

/* ---- the hasher (walk.c) -------------------------------------------------- */
enum mw_hstatus {
	MW_H_OK,
	MW_H_CHANGED, /* gone, no longer a regular file, or its size changed */
	MW_H_IOERR,   /* err_no says why */
};

struct mw_hjob {
	const char *rel;   /* relative to root_fd */
	uint32_t mask;     /* bits (1 << CS hash type) to compute */
	bool sideband;     /* check for a resource fork or FinderInfo */
	uint64_t size_hint; /* the walk's st_size: spreads work over threads */
	/* results */
	enum mw_hstatus status;
	int err_no;
	bool has_sideband;
	uint8_t hash[MB_MAX_HASH_TYPES + 1][48];
};

/* Hash every job's file over threads (0: online CPUs). Each file is
 * opened with mb_openat_beneath and O_NOFOLLOW and read with pread into a
 * per-thread buffer, exactly its fstat size. Per-file outcomes go into
 * the jobs; the return value is an error of the run itself (memory,
 * OpenSSL). */
int mw_hash_files(int root_fd, struct mw_hjob *jobs, size_t n,
		  unsigned threads, struct msign_diag *d);

/* Bit (1 << type) for the hash types mb_seal.hash can hold (1 ... 4). */
#define MW_HASH_TYPES_ALL 0x1eu

/* A resource fork or FinderInfo extended attribute on fd: 1, none: 0,
 * -1 when the list cannot be read (errno). */
int mw_has_sideband(int fd);

/* The path the exclusions treat as the main executable: exec_rel, or
 * for an Info.plist-only bundle its Info.plist. */
const char *mw_main_rel(const struct mb_bundle *b);

/* ---- strict structure (check.c) ------------------------------------------ */
/* Spec 4 step 3 and 5: the deep bundle root, the framework root, the
 * main executable and Info.plist regular files, and, with codesig, the
 * files of _CodeSignature. A failure: negative code, why set. */
int mc_structure(const struct mb_bundle *b, bool codesig,
		 char why[MW_WHY_LEN], struct msign_diag *d);

#endif
