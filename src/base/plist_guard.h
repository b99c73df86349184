/* msign: the one guard in front of libplist for untrusted plists
 * (internal).
 *
 * libplist 2.2 recurses once per nesting level when it parses, frees and
 * prints (a few hundred thousand nested arrays overflow the stack; its
 * binary reader also compares every level with every other, quadratic
 * time), copies a binary plist's object once per reference to it (26
 * arrays each naming the next twice make 2^26 nodes; one long string
 * named a thousand times, a thousand copies), and hands out keys cut at a
 * NUL byte. msign_plist_guard refuses all of that first, with scans that
 * do not recurse; msign_plist_parse guards and then parses with the
 * reader the guard chose ("bplist00": binary, else XML, as
 * plist_from_memory decides). Nothing here prints; errors are
 * MSIGN_E_PLIST (malformed), MSIGN_E_LIMIT (a limit exceeded, named in
 * d->msg), MSIGN_E_NOMEM. Offsets in d are into the buffer. */
#ifndef MSIGN_BASE_PLIST_GUARD_H
#define MSIGN_BASE_PLIST_GUARD_H

#include <stddef.h>
#include <stdint.h>
#include "msign/err.h"

enum msign_plist_nul {
	/* No NUL in any string or key (and none anywhere in XML text). */
	MSIGN_PLIST_NUL_REFUSE,
	/* Binary string values may hold NUL (CFString can), keys may not.
	 * libplist cuts such a value at its NUL, length included: only for
	 * callers that read no string value. XML holds none either way. */
	MSIGN_PLIST_NUL_IN_VALUES,
};

struct msign_plist_limits {
	const char *what;        /* names the plist in messages */
	unsigned max_depth;      /* arrays and dictionaries nested (>= 1) */
	uint64_t max_size;       /* bytes of input */
	/* Binary: nodes libplist would build (every reference a copy) at
	 * most len / bytes_per_node + 16; 0: at most one per input byte. */
	unsigned bytes_per_node;
	enum msign_plist_nul nul;
};

/* Shared limits, roomy for any real file of the kind. */
extern const struct msign_plist_limits msign_plist_info_limits; /* Info.plist */
extern const struct msign_plist_limits msign_plist_ent_limits;  /* entitlements */

/* 0 when libplist may be given data (len bytes, len > 0). */
int msign_plist_guard(const uint8_t *data, size_t len,
		      const struct msign_plist_limits *lim, struct msign_diag *d);

/* Guard, then parse: *out (a plist_t) set on 0, NULL otherwise;
 * MSIGN_E_PLIST when libplist cannot read what the guard let through. */
int msign_plist_parse(const uint8_t *data, size_t len,
		      const struct msign_plist_limits *lim, void **out,
		      struct msign_diag *d);

#endif
