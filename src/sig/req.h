/* msign: code requirements: the binary form decompiled to Apple's text. */
#ifndef MSIGN_SIG_REQ_H
#define MSIGN_SIG_REQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "msign/err.h"

/* ---- requirements (requirements.c) ------------------------------------ *
 * These see one blob: d->file_off is relative to blob, and a caller that
 * knows where the blob lies in the file adds that. */

#define MSIGN_REQ_MAX_DEPTH 1024 /* nesting of and/or/not: or-chains nest right-deep */
#define MSIGN_REQ_MAX_OPS 100000 /* opcodes decoded per requirement */
#define MSIGN_REQ_TYPE_DESIGNATED 3u /* a requirement set's entry type */

/* The decompiler's and the evaluator's reading of a requirement program:
 * a big-endian u32, and a data item (u32 length, bytes, zero padding to
 * 4; Apple's reader checks only the unpadded length, so a last item may
 * end the blob unpadded). what names it in the error; base is the blob's
 * offset in the caller's window. */
struct msign_cur;
int msign_req_read_u32(struct msign_cur *c, uint64_t base, const char *what,
		       uint32_t *v, struct msign_diag *d);
int msign_req_read_data(struct msign_cur *c, uint64_t base, const char *what,
			const uint8_t **p, size_t *n, struct msign_diag *d);
/* An opcode the language does not know (op, read at offset at): with a
 * generic flag (false or skip) its u32 length and operand are skipped, as
 * Apple's Reader::skip does; without one it is an error. */
int msign_req_skip_generic(struct msign_cur *c, uint64_t base, uint32_t op,
			   size_t at, struct msign_diag *d);
/* Days from 1970-01-01 of the Gregorian date y-m-dd. */
int64_t msign_req_days_from_civil(int64_t y, unsigned m, unsigned dd);
/* A big-endian int64 (a date operand: seconds since 2001, CFAbsoluteTime). */
int msign_req_read_time(struct msign_cur *c, uint64_t base, int64_t *t,
			struct msign_diag *d);

/* Decompile one requirement blob (magic 0xfade0c00) to Apple's text form.
 * *out is malloc'd, NUL-terminated, no trailing newline. */
int msign_req_decompile(const uint8_t *blob, size_t len, char **out,
			struct msign_diag *d);
/* Decompile a requirement set (0xfade0c01): one "<type> => <expr>\n" line
 * per entry, in index order. *count and *has_designated describe it. */
int msign_reqset_decompile(const uint8_t *blob, size_t len, char **out,
			   uint32_t *count, bool *has_designated,
			   struct msign_diag *d);
/* Name of a requirement type: 1 host, 2 guest, 3 designated, 4 library,
 * 5 plugin; NULL for others (printed as the number). */
const char *msign_req_type_name(uint32_t type);
/* msign_reqset_decompile that also gives the first designated entry's
 * expression (malloc'd, NULL when the set has none). */
int msign_reqset_decompile_dr(const uint8_t *blob, size_t len, char **out,
			      uint32_t *count, bool *has_designated,
			      char **designated_expr, struct msign_diag *d);

/* ---- the compiler (reqcomp.c): Apple's text to the binary form ---------- *
 * The inverse of the decompiler above: what these write, msign_req_decompile
 * and msign_reqset_decompile print back as text that compiles to the same
 * bytes. Errors are one sentence naming the line and column; d->file_off is
 * the byte offset of the problem in text. */

#define MSIGN_REQ_MAX_TEXT_LEN (1024u * 1024u) /* bytes of text compiled */
/* flag: text may also be a requirement set ("designated => ..."); the
 * result's magic says which one it is. */
#define MSIGN_REQ_COMPILE_ANY 0x1u

/* Compile one requirement expression (e.g. `identifier "com.x" and anchor
 * apple`) to a requirement blob (0xfade0c00, kind 1). *blob is malloc'd. */
int msign_req_compile(const char *text, size_t len, unsigned flags,
		      uint8_t **blob, size_t *blob_len, struct msign_diag *d);
/* Compile a requirement set: one or more "<type> => <expression>", type a
 * name (host, guest, designated, library, plugin) or a number, to a set
 * blob (0xfade0c01) with its entries in ascending type order. */
int msign_reqset_compile(const char *text, size_t len, unsigned flags,
			 uint8_t **blob, size_t *blob_len, struct msign_diag *d);

#endif
