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

/* Apple's wire constants of the binary form (requirement.h ExprOp and
 * MatchOperation), for the decompiler, the compiler and the evaluator. */
enum msign_req_opcode {
	REQ_OP_FALSE, REQ_OP_TRUE, REQ_OP_IDENT, REQ_OP_APPLE_ANCHOR,
	REQ_OP_ANCHOR_HASH, REQ_OP_INFO_KEY_VALUE, REQ_OP_AND, REQ_OP_OR,
	REQ_OP_CDHASH, REQ_OP_NOT, REQ_OP_INFO_KEY_FIELD, REQ_OP_CERT_FIELD,
	REQ_OP_TRUSTED_CERT, REQ_OP_TRUSTED_CERTS, REQ_OP_CERT_GENERIC,
	REQ_OP_APPLE_GENERIC_ANCHOR, REQ_OP_ENTITLEMENT_FIELD,
	REQ_OP_CERT_POLICY, REQ_OP_NAMED_ANCHOR, REQ_OP_NAMED_CODE,
	REQ_OP_PLATFORM, REQ_OP_NOTARIZED, REQ_OP_CERT_FIELD_DATE,
	REQ_OP_LEGACY_DEVID,
	REQ_OP_COUNT
};
#define REQ_OP_FLAG_MASK 0xff000000u
#define REQ_OP_GENERIC_FALSE 0x80000000u /* unknown opcode: skip it, false */
#define REQ_OP_GENERIC_SKIP 0x40000000u  /* unknown opcode: skip it entirely */

enum msign_req_match {
	REQ_MATCH_EXISTS, REQ_MATCH_EQUAL, REQ_MATCH_CONTAINS,
	REQ_MATCH_BEGINS_WITH, REQ_MATCH_ENDS_WITH, REQ_MATCH_LESS,
	REQ_MATCH_GREATER, REQ_MATCH_LESS_EQUAL, REQ_MATCH_GREATER_EQUAL,
	REQ_MATCH_ON, REQ_MATCH_BEFORE, REQ_MATCH_AFTER,
	REQ_MATCH_ON_OR_BEFORE, REQ_MATCH_ON_OR_AFTER, REQ_MATCH_ABSENT,
};

#endif
