/* msign: how libmsign's own code writes a struct msign_diag (internal: a
 * caller of the library reads diagnostics, msign/err.h, and clears them).
 *
 * Diagnostics carry file offsets. A parser that sees only a
 * window of the file (a slice, a SuperBlob, one blob) reports offsets
 * inside that window; the function that knows where the window lies moves
 * them, once, where the window's parser returns:
 *
 *	bool fresh = msign_diag_fresh(d);
 *	int r = parse_window(data + win_off, ..., d);
 *	return msign_diag_rebase(d, fresh, win_off, r);
 *
 * fresh says d could still take an error before the call: an error found
 * in d afterwards is then the window's. An error d held already was
 * reported by an earlier step and is left as it is. */
#ifndef MSIGN_BASE_DIAG_H
#define MSIGN_BASE_DIAG_H

#include <stdbool.h>
#include <stdint.h>
#include "msign/err.h"

/* Record code/offset/message in d (may be NULL) unless d already holds an
 * error, and return code so callers can `return msign_diag_set(...)`. */
int msign_diag_set(struct msign_diag *d, int code, uint64_t off,
		   const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* What a public function promises of d when it returns r: on an error
 * d->code is r and d->msg a sentence, msign_strerror's when the failing
 * step set none (an allocation). Returns r. */
int msign_diag_done(struct msign_diag *d, int r);

static inline bool msign_diag_fresh(const struct msign_diag *d)
{
	return d != NULL && d->code == 0;
}

/* Returns r, so that a caller can `return msign_diag_rebase(...)`. */
static inline int msign_diag_rebase(struct msign_diag *d, bool fresh,
				    uint64_t win_off, int r)
{
	if (fresh && d->code != 0)
		d->file_off += win_off;
	return r;
}

#endif
