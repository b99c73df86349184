/* msign: error codes and diagnostics shared by every module.
 *
 * Every library function returns 0 or a negative enum msign_err; it never
 * prints and never exits. A parser that fails also fills an optional
 * struct msign_diag with the file offset and a sentence naming the numbers.
 *
 * Three things, one error: the code says what kind of failure it is (a
 * caller decides by it, never by the text); msign_strerror(code) is a
 * short, stable sentence for a user; d->msg is the precise reason, one
 * sentence that names the numbers (not stable: do not match on it). */
#ifndef MSIGN_ERR_H
#define MSIGN_ERR_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif
/* libmsign is built with -fvisibility=hidden: what a public header
 * declares is the API and is exported (src/libmsign.map lists it). */
#if defined(__GNUC__)
#pragma GCC visibility push(default)
#endif

enum msign_err {
	MSIGN_OK = 0,
	MSIGN_E_TRUNCATED = -1,   /* a read ran past the end of its window */
	MSIGN_E_BAD_MAGIC = -2,   /* not the structure we were told to expect */
	MSIGN_E_BAD_RANGE = -3,   /* an offset/length points outside its container */
	MSIGN_E_OVERFLOW = -4,    /* arithmetic on file values would overflow */
	MSIGN_E_UNSUPPORTED = -5, /* valid, but a version/type we do not handle */
	MSIGN_E_CRYPTO = -6,      /* OpenSSL failed or the CMS blob is unreadable */
	MSIGN_E_PLIST = -7,       /* plist/entitlements unreadable */
	MSIGN_E_VERIFY = -8,      /* a hash does not match */
	MSIGN_E_NOMEM = -9,
	MSIGN_E_IO = -10,         /* open/read/mmap/write failed; errno kept in diag */
	MSIGN_E_LIMIT = -11,      /* a count exceeds one of our hard limits */
	MSIGN_E_NOT_SIGNED = -12, /* no LC_CODE_SIGNATURE */
	MSIGN_E_NOT_FOUND = -13,  /* asked-for item (arch, slot) is absent */
	MSIGN_E_INVALID = -14,    /* structurally inconsistent (e.g. overlaps) */
	MSIGN_E_ARG = -15,        /* caller passed a bad argument */
	MSIGN_E_INTERNAL = -16,   /* a broken invariant of libmsign: a bug;
				   * returned, since a library must not abort */
	/* New codes go here, at the end, each one lower than the last. */
	MSIGN_E_LAYOUT = -17,     /* a signature that is sound but not where
				   * Apple's tools put it (e.g. not at the end
				   * of the file): codesign refuses to edit it */
	MSIGN_E_ALREADY_SIGNED = -18, /* signing without force: a slice to
				       * be signed has a signature already */
};

#define MSIGN_DIAG_MSG_LEN 256

/* Filled by the parser that first detects a problem; later layers leave it.
 * Clear it (msign_diag_clear) before the call that may fill it. */
struct msign_diag {
	int code;          /* enum msign_err, 0 when unset */
	/* Where, in bytes from the start of the file, also inside a slice of
	 * a universal file or inside a signature: every function that takes
	 * a file, an image or a slice reports file offsets. The few that
	 * take a bare buffer (a blob's bytes) report offsets in that buffer;
	 * their header says so. 0 when the error is not about a place. */
	uint64_t file_off;
	/* The precise reason: one sentence naming the numbers, NUL-terminated.
	 * It may quote bytes of the file, control characters included:
	 * escape it before printing. */
	char msg[MSIGN_DIAG_MSG_LEN];
	/* Not an error: after a successful write, MSIGN_LOST_* bits (sign.h)
	 * naming what of the file's owner and attributes could not be kept. */
	uint32_t lost;
};

/* A short sentence for code, as a user should read it ("the file is
 * truncated"): stable, no trailing period. Every enum msign_err value has
 * one; another number gives "unknown error". */
const char *msign_strerror(int code);

/* Zero d (may be NULL), as before a call that fills it. */
void msign_diag_clear(struct msign_diag *d);

#if defined(__GNUC__)
#pragma GCC visibility pop
#endif
#ifdef __cplusplus
}
#endif
#endif
