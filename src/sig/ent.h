/* msign: entitlements and plists (XML and DER forms). */
#ifndef MSIGN_SIG_ENT_H
#define MSIGN_SIG_ENT_H

#include <stddef.h>
#include <stdint.h>
#include "msign/err.h"

/* ---- entitlements and plists (entitlements.c) --------------------------- *
 * These see one buffer: d->file_off is relative to it, and a caller that
 * knows where the buffer lies in the file adds that. */

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
