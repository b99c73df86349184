/* msign: signature removal as codesign --remove-signature does it. */
#ifndef MSIGN_WRITE_STRIP_H
#define MSIGN_WRITE_STRIP_H

#include <stdbool.h>
#include <stdint.h>
#include "macho/macho.h"
#include "write/write.h"

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
int msign_strip_run(const char *in_path, const char *out_path,
		    const char *arch, struct msign_strip_result *res,
		    struct msign_diag *d);

#endif
