/* msign: writing Mach-O files: edit plans executed atomically, signature
 * removal (strip), ad-hoc signing and verification. */
#ifndef MSIGN_SIGN_H
#define MSIGN_SIGN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "msign/codesign.h"
#include "msign/err.h"
#include "msign/macho.h"

#ifdef __cplusplus
extern "C" {
#endif
#if defined(__GNUC__)
#pragma GCC visibility push(default) /* see err.h */
#endif

/* ---- edit plans (write.c) ----------------------------------------------
 * An output file described as ranges copied from the input plus byte
 * patches laid over them; gaps are zero. Computing the plan never touches
 * the disk, so the same plan can be rendered in memory (tests, fuzzing,
 * --dry-run) or committed to a file: temporary file in the destination's
 * folder, clone/copy_file_range/read-write, patches, fsync, validation of
 * the result, owner/xattrs/mode, fsync, rename, fsync of the folder. On any
 * error the destination is untouched and the temporary file removed. */
struct msign_extent {
	uint64_t src_off, dst_off, len;
};

struct msign_patch {
	uint64_t dst_off;
	uint8_t *data; /* owned by the plan */
	size_t len;
};

struct msign_plan {
	uint64_t out_len;
	uint32_t nextents, cap_extents;
	struct msign_extent *extents;
	uint32_t npatches, cap_patches;
	struct msign_patch *patches;
};

void msign_plan_init(struct msign_plan *p);
void msign_plan_free(struct msign_plan *p);
int msign_plan_copy(struct msign_plan *p, uint64_t src_off, uint64_t dst_off,
		    uint64_t len);
int msign_plan_patch(struct msign_plan *p, uint64_t dst_off,
		     const void *data, size_t len);
/* The same without a copy: the plan takes data (malloc'd), also when it
 * fails. For megabytes of signature. */
int msign_plan_patch_adopt(struct msign_plan *p, uint64_t dst_off,
			   uint8_t *data, size_t len);
/* A universal file laid out again as lipo does, for slices of new sizes:
 * the fat header, then each slice at the next multiple of its alignment.
 * off[i] gets slice i's offset (0 for a thin file), *total the length. */
int msign_fat_layout(const struct msign_image *img, const uint64_t *size,
		     uint64_t *off, uint64_t *total, struct msign_diag *d);
/* img's fat header with each slice's new offset and size, patched at 0. */
int msign_plan_fat_header(struct msign_plan *p, const struct msign_image *img,
			  const uint64_t *off, const uint64_t *size);
/* The output in memory (malloc'd, out_len bytes). */
int msign_plan_render(const struct msign_plan *p, const uint8_t *src,
		      size_t src_len, uint8_t **out, struct msign_diag *d);

/* Called on the finished temporary file before it replaces anything;
 * non-zero aborts the commit. */
typedef int (*msign_check_fn)(const uint8_t *data, size_t len, void *arg,
			      struct msign_diag *d);

/* How msign_edit_file (below) writes a plan's output to dst_path:
 * atomically, through a temporary file beside it. dst_path must be a regular file the caller may write (access
 * W_OK), or absent; a device, FIFO or folder is refused and never opened.
 * The result gets src's owner, group, extended attributes (ACLs included)
 * and mode, set on the temporary file (0600 and the caller's until then)
 * after its fsync and check, just before the rename. What the caller may
 * not set is left out (a set-id bit with the owner or group it belongs to)
 * and reported in d->lost as MSIGN_LOST_* bits, the call still succeeding.
 * The rename gives dst_path a new inode: another hard link to the old file
 * keeps the old bytes. A symbolic link at dst_path is followed by the
 * kernel (its protected_symlinks rule holds) and its target replaced. */
#define MSIGN_LOST_OWNER (1u << 0)
#define MSIGN_LOST_GROUP (1u << 1)
#define MSIGN_LOST_SETID (1u << 2) /* set-user-ID / set-group-ID bits */
#define MSIGN_LOST_XATTR (1u << 3)
#define MSIGN_LOST_ACL   (1u << 4)
/* "owner, set-id bits": the names of the bits in lost, comma separated,
 * into buf (snprintf's rules); returns the length wanted. */
size_t msign_write_lost_text(uint32_t lost, char *buf, size_t len);


/* Compute a plan for an image; MSIGN_PLAN_UNCHANGED (positive) means the
 * output would equal the input and nothing is to be written. */
#define MSIGN_PLAN_UNCHANGED 1
typedef int (*msign_plan_fn)(const struct msign_image *img,
			     struct msign_plan *plan, void *arg,
			     struct msign_diag *d);

/* The temporary output while a thread copies the plan's ranges into it,
 * in ascending output order. A byte below the copied mark is in out's
 * file and no longer changes: sign hashes the output from there, so the
 * bytes hashed are the bytes written, whatever happens to the input. */
struct msign_out;
int msign_out_fd(const struct msign_out *out);
/* Wait until every copied range below output offset end is in the file:
 * 0, or a negative MSIGN_E_* when the copy failed. */
int msign_out_wait(struct msign_out *out, uint64_t end);

/* Second step of a plan whose patches take long to compute (sign hashes
 * the pages): it may add patches, never copied ranges. out is the
 * temporary output being filled. */
typedef int (*msign_fill_fn)(const struct msign_image *img,
			     struct msign_plan *plan, struct msign_out *out,
			     void *arg, struct msign_diag *d);

/* Open in_path once, read it (msign_image_open_fd), let plan_fn compute
 * the plan, and commit it to out_path from that same descriptor. With
 * fill_fn, plan_fn gives every copied range first; a thread copies them
 * into the temporary file (and starts writing them to disk) while fill_fn
 * completes the plan, reading what it needs of the output through out. */
int msign_edit_file(const char *in_path, const char *out_path,
		    msign_plan_fn plan_fn, msign_fill_fn fill_fn, void *plan_arg,
		    msign_check_fn check, void *check_arg, struct msign_diag *d);

/* ---- strip (strip.c) ----------------------------------------------------
 * Apple's signature removal (codesign --remove-signature), per slice. */
struct msign_strip_slice {
	bool was_signed;
	uint64_t old_size, new_size;
	uint64_t old_off, new_off; /* slice offset in the file */
};

struct msign_strip_result {
	uint32_t nslices;
	struct msign_strip_slice slices[MSIGN_MAX_SLICES];
	bool changed; /* false: the output would equal the input */
};

/* Plan the removal for every slice, or only the slice named arch. */
int msign_strip_plan(const struct msign_image *img, const char *arch,
		     struct msign_plan *plan, struct msign_strip_result *res,
		     struct msign_diag *d);
/* Convenience: strip in_path into out_path (may be the same path). */
int msign_strip_file(const char *in_path, const char *out_path,
		     const char *arch, struct msign_strip_result *res,
		     struct msign_diag *d);


/* ---- hashing engine (hashpool.c) ----------------------------------------
 * Page hashes for sign and verify. The bytes a CodeDirectory covers are
 * given as pieces laid end to end (memory, or zeros), cut into fixed pages
 * from offset 0 and spread over threads in chunks: one EVP context per
 * thread, nothing allocated per page. Sign writes the hashes straight into
 * the CodeDirectory it builds; verify compares them with the stored ones
 * and records the mismatches. */
#define MSIGN_HASH_MAX_PIECES 4

struct msign_piece {
	const uint8_t *data; /* NULL: zeros */
	uint64_t len;
	/* in_file: the same bytes are [file_off, file_off + len) of fd. The
	 * pool then reads them with pread into a per-thread buffer instead of
	 * through the mapping: on Linux, mapping 4 KiB page-cache pages costs
	 * more CPU than copying them (README, "Hashing"), resident memory
	 * stays at the buffers, and a file cut short meanwhile is an I/O
	 * error rather than SIGBUS. */
	bool in_file;
	int fd;
	uint64_t file_off;
	/* in_file in an output being copied: each read waits until the copy
	 * has passed it (NULL: the file is complete). */
	struct msign_out *gate;
};

/* The piece for [data, data + len) of img: in_file when img was opened from
 * a file and the range lies in its mapping, plain memory otherwise. */
struct msign_piece msign_image_piece(const struct msign_image *img,
				     const uint8_t *data, uint64_t len);

struct msign_hash_job {
	struct msign_piece pieces[MSIGN_HASH_MAX_PIECES];
	uint32_t npieces;
	uint64_t limit;       /* bytes covered: the pieces' total length */
	uint32_t page_log2;   /* 0: one page over [0, limit) */
	uint8_t hash_type;    /* CS_HASHTYPE_* */
	uint32_t first_page;  /* pages [first_page, first_page + npages) */
	uint32_t npages;
	uint8_t *out;          /* sign: hash_size bytes per page (page 0 first) */
	const uint8_t *expect; /* verify: the stored hashes, same layout */
	/* verify results */
	uint64_t nbad;      /* pages whose hash differs */
	uint64_t first_bad; /* lowest such page, UINT64_MAX when none */
};

/* Online CPUs (at least 1). */
unsigned msign_hash_default_threads(void);
/* Run every job; threads 0 means msign_hash_default_threads(). Small
 * workloads run on the calling thread. */
int msign_hash_run(struct msign_hash_job *jobs, uint32_t njobs,
		   unsigned threads, struct msign_diag *d);
/* Digest by OpenSSL NID (for the CMS messageDigest); out holds 64 bytes. */
int msign_hash_nid(int nid, const uint8_t *data, size_t len, uint8_t *out,
		   uint32_t *out_len);

/* ---- ad-hoc signing (sign.c, sign_blobs.c, sign_ident.c) ---------------
 * codesign -s - (and --linker-signed, ld64.lld's layout), per slice: the
 * old signature is removed by msign_strip_plan's rules, LC_CODE_SIGNATURE
 * is appended, the signature goes at the next 16-byte boundary after
 * __LINKEDIT, which grows to cover it. The exact signature size is known
 * before anything is written; page hashes are taken last, over the bytes
 * the output will hold. Universal files are laid out again as lipo does. */
#define MSIGN_SIGN_PAGE_DEFAULT 0 /* 16 KiB for arm64*, else 4 KiB */

struct msign_sign_opts {
	const char *identifier; /* -i; NULL: Apple's default rule */
	const char *prefix;     /* --prefix for a default identifier */
	const char *file_name;  /* the name the default identifier comes from */
	const char *ent_xml;    /* entitlements plist text, or NULL */
	size_t ent_len;
	uint32_t cd_flags;      /* -o: MSIGN_CS_RUNTIME, kill, hard, ... (no adhoc) */
	uint32_t hash_types;    /* bit (1 << CS_HASHTYPE_x); 0: Apple's rule */
	uint32_t page_size;     /* bytes, power of two; 0: per architecture */
	bool linker_signed;     /* ld64.lld's layout and flags */
	bool force;             /* replace existing signatures (-f) */
	const char *arch;       /* sign only this slice, or NULL for all */
	unsigned threads;       /* 0: online CPUs */
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

/* Plan the signed output of img (the source of the plan's copies). */
int msign_sign_plan(const struct msign_image *img,
		    const struct msign_sign_opts *o, struct msign_plan *plan,
		    struct msign_sign_result *res, struct msign_diag *d);
/* Sign in_path into out_path (may be the same path), atomically. */
int msign_sign_file(const char *in_path, const char *out_path,
		    const struct msign_sign_opts *o,
		    struct msign_sign_result *res, struct msign_diag *d);

/* ---- verification (verify.c) ---------------------------------------------
 * codesign --verify at hash level: every CodeDirectory's code pages and
 * present special slots, the CMS messageDigest (and cdhashes) against the
 * CodeDirectories; certificate trust is not evaluated. */
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
	MSIGN_VERIFY_STRICT,      /* --strict: a layout rule is broken */
};

struct msign_verify_opts {
	unsigned threads; /* 0: online CPUs */
	bool strict;
	const char *arch; /* only this slice, or NULL for every slice */
	/* Only the pages holding the load commands and the last page of each
	 * CodeDirectory (sign's check of its own output). */
	bool quick;
};

struct msign_verify_result {
	int kind;            /* enum msign_verify_kind */
	int32_t slice;       /* failing slice index, -1 if none */
	bool universal;
	int32_t cputype, cpusubtype;
	char detail[MSIGN_DIAG_MSG_LEN + 128]; /* what failed, for msign: */
	/* what was checked */
	uint32_t slices_checked, cds_checked, slots_checked, slots_skipped;
	uint64_t pages_checked;
	bool adhoc, cms, pseudo; /* of the last slice checked */
	bool cms_unchecked;      /* a CMS without messageDigest (old format):
				  * its signature value is not checked yet */
	bool explicit_dr;        /* a designated requirement is present */
};

/* 0: valid; MSIGN_E_VERIFY with res->kind and res->detail set; another
 * negative code when verification could not run (memory, crypto). */
int msign_verify_image(const struct msign_image *img,
		       const struct msign_verify_opts *o,
		       struct msign_verify_result *res, struct msign_diag *d);
/* Name of a kind as codesign prints it. */
const char *msign_verify_message(int kind);

#if defined(__GNUC__)
#pragma GCC visibility pop
#endif
#ifdef __cplusplus
}
#endif
#endif
