/* msign: the setter every parser fills a struct msign_diag with.
 *
 * Internal: a caller of the library reads diagnostics (msign/err.h) and
 * clears them (msign_diag_clear); only libmsign's own code writes them. */
#ifndef MSIGN_BASE_DIAG_H
#define MSIGN_BASE_DIAG_H

#include <stdint.h>
#include "msign/err.h"

/* Record code/offset/message in d (may be NULL) unless d already holds an
 * error, and return code so callers can `return msign_diag_set(...)`. */
int msign_diag_set(struct msign_diag *d, int code, uint64_t off,
		   const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#endif
