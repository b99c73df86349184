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

/* ---- edit plans (write.c) ----------------------------------------------
 * An output file described as ranges copied from the input plus byte
 * patches laid over them; gaps are zero. Computing the plan never touches
 * the disk, so the same plan can be rendered in memory (tests, fuzzing,
 * --dry-run) or committed to a file: temporary file in the destination's
 * folder, clone/copy_file_range/read-write, patches, fsync, validation of
 * the result, rename, fsync of the folder. On any error the destination
 * is untouched and the temporary file removed. */
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
/* The output in memory (malloc'd, out_len bytes). */
int msign_plan_render(const struct msign_plan *p, const uint8_t *src,
		      size_t src_len, uint8_t **out, struct msign_diag *d);

/* Called on the finished temporary file before it replaces anything;
 * non-zero aborts the commit. */
typedef int (*msign_check_fn)(const uint8_t *data, size_t len, void *arg,
			      struct msign_diag *d);

/* Write the plan's output to dst_path atomically, reading ranges from
 * src_path. The result keeps src's mode bits. */
int msign_plan_commit(const struct msign_plan *p, const char *src_path,
		      const char *dst_path, msign_check_fn check, void *arg,
		      struct msign_diag *d);

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

#ifdef __cplusplus
}
#endif
#endif
