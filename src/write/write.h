/* msign: writing Mach-O files: edit plans executed atomically. */
#ifndef MSIGN_WRITE_WRITE_H
#define MSIGN_WRITE_WRITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "macho/macho.h"
#include "msign/err.h"
#include "msign/sign.h"

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
 * kernel (its protected_symlinks rule holds) and its target replaced.
 * The MSIGN_LOST_* bits and msign_write_lost_text are public (msign/sign.h). */

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
/* Extended attributes (ACLs included) of the open file in onto out, as
 * msign_edit_file keeps them; returns the MSIGN_LOST_* bits of what could
 * not be set (a bundle's folders are copied with it, src/bundle). */
uint32_t msign_copy_xattrs(int in, int out);

int msign_edit_file(const char *in_path, const char *out_path,
		    msign_plan_fn plan_fn, msign_fill_fn fill_fn, void *plan_arg,
		    msign_check_fn check, void *check_arg, struct msign_diag *d);

#endif
