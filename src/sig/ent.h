/* msign: entitlements and plists (XML and DER forms). */
#ifndef MSIGN_SIG_ENT_H
#define MSIGN_SIG_ENT_H

#include <stddef.h>
#include <stdint.h>
#include "msign/err.h"

/* ---- entitlements and plists (entitlements.c) --------------------------- *
 * These see one buffer: d->file_off is relative to it, and a caller that
 * knows where the buffer lies in the file adds that. */

/* DER tags of Apple's entitlements (one byte each). */
#define MSIGN_DER_BOOLEAN 0x01
#define MSIGN_DER_INTEGER 0x02
#define MSIGN_DER_UTF8 0x0c
#define MSIGN_DER_SEQUENCE 0x30
#define MSIGN_DER_SET 0x31
#define MSIGN_DER_APP16 0x70 /* [APPLICATION 16] constructed */
#define MSIGN_DER_CTX16 0xb0 /* [CONTEXT 16] constructed */

struct msign_cur;
/* One DER element header, offsets in the cursor's window. */
struct msign_der_tl {
	uint8_t tag;
	size_t off;  /* of the tag byte */
	size_t len;  /* of the contents */
	size_t end;  /* offset just past the contents */
};
/* A one-byte tag and a definite length (at most 4 length bytes) at c's
 * position, whose contents must end by `end` (at most c->len); c is left
 * at the contents. MSIGN_E_PLIST, with d set, for anything else. */
int msign_der_tl(struct msign_cur *c, size_t end, struct msign_der_tl *tl,
		 struct msign_diag *d);

/* DER entitlements (payload of 0xfade7172, with or without the
 * [APPLICATION 16] wrapper) to an XML plist (malloc'd, NUL-terminated). */
int msign_ent_der_to_xml(const uint8_t *der, size_t len, char **xml,
			 size_t *xml_len, struct msign_diag *d);
/* An XML plist dictionary to Apple's canonical DER (with the wrapper). */
int msign_ent_xml_to_der(const char *xml, size_t len, uint8_t **der,
			 size_t *der_len, struct msign_diag *d);
/* Number of top-level entries of a plist dictionary (XML or binary). */
int msign_plist_count_entries(const uint8_t *data, size_t len,
			      uint32_t *count, struct msign_diag *d);

#endif
