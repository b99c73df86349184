/* Internal: how the requirement language prints a value, shared by the
 * decompiler (requirements.c) and the implicit designated requirement
 * (cms.c) so both follow one rule and one keyword table. */
#ifndef MSIGN_REQLANG_H
#define MSIGN_REQLANG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum msign_req_quoting {
	MSIGN_REQ_BARE,   /* alphanumeric, not led by a digit, not a keyword */
	MSIGN_REQ_QUOTED, /* printable: "..." with \ and " escaped */
	MSIGN_REQ_HEX,    /* anything else: 0x<hex> */
};

/* dot_ok: dots keep a value bare (keys and field names). */
enum msign_req_quoting msign_req_value_quoting(const uint8_t *p, size_t n,
					       bool dot_ok);

/* One of the language's reserved words (the empty string included): the
 * decompiler quotes such a value, the compiler (reqcomp.c) refuses it bare. */
bool msign_req_is_keyword(const uint8_t *p, size_t n);

#endif
