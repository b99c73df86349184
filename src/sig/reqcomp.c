/* Requirement compiler: Apple's requirement language to the binary form
 * csreq writes, the inverse of the decompiler in requirements.c (which is
 * the reference for every opcode and operand layout used here).
 *
 * Text is read by the lexer of reqlex.c, which also encodes the operands
 * (strings, hashes, numbers, dates); a recursive-descent
 * parser (or < and < primary, as in Apple's grammar) encodes each leaf's
 * opcode and operands into a pool and builds a tree only of and/or/not, so
 * chains can be laid out the way Apple's bytes are: the corpus shows
 * `a or b or c` as or(or(a, b), c) (csreq's parser) and `a and b and c` as
 * and(a, and(b, c)) (codesign's designated requirements). A parenthesised
 * chain of the same operator is merged into its parent, because the text
 * the decompiler prints cannot say where such parentheses were: without
 * the merge, compile(decompile(x)) would differ from x.
 *
 * Limits: MSIGN_REQ_MAX_TEXT_LEN bytes of text, MSIGN_REQ_MAX_DEPTH levels
 * of parsing and of the nesting written (the decompiler refuses deeper),
 * MSIGN_REQ_MAX_OPS opcodes a requirement. Nothing here prints or aborts. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/diag.h"
#include "sig/codesign.h"
#include "sig/req.h"
#include "sig/reqcomp.h"
#include "sig/reqlang.h"
#include "msign/err.h"

/* Opcodes and match operations: REQ_OP_* and REQ_MATCH_* of reqlang.h. */

#define REQ_HDR_LEN 12u       /* magic, length, kind */
#define REQ_KIND_EXPR 1u
#define REQ_SET_MAX 64u       /* entries in a set: there are five named types */

/* What follows a field: nothing or "exists", "absent", = [*]value[*], ~,
 * <, >, <=, >= with a string, or a comparison with a date. */
static int match(struct rc *r)
{
	int rc;
	enum tok_kind k = r->t.kind;
	if (msign_rqc_tok_is(r, "exists") || msign_rqc_tok_is(r, "absent")) {
		rc = msign_rqc_bytes_u32(r, &r->pool, msign_rqc_tok_is(r, "exists") ? REQ_MATCH_EXISTS : REQ_MATCH_ABSENT);
		return rc != 0 ? rc : msign_rqc_lex(r);
	}
	if (k != T_EQ && k != T_TILDE && k != T_LT && k != T_GT && k != T_LE && k != T_GE)
		return msign_rqc_bytes_u32(r, &r->pool, REQ_MATCH_EXISTS);
	rc = msign_rqc_lex(r);
	if (rc != 0)
		return rc;
	if (k != T_TILDE && msign_rqc_tok_is_date(r)) {
		uint32_t op = k == T_EQ ? REQ_MATCH_ON : k == T_LT ? REQ_MATCH_BEFORE :
			      k == T_GT ? REQ_MATCH_AFTER : k == T_LE ? REQ_MATCH_ON_OR_BEFORE :
			      REQ_MATCH_ON_OR_AFTER;
		rc = msign_rqc_bytes_u32(r, &r->pool, op);
		return rc != 0 ? rc : msign_rqc_date(r);
	}
	uint32_t op = k == T_TILDE ? REQ_MATCH_CONTAINS : k == T_LT ? REQ_MATCH_LESS :
		      k == T_GT ? REQ_MATCH_GREATER : k == T_LE ? REQ_MATCH_LESS_EQUAL :
		      k == T_GE ? REQ_MATCH_GREATER_EQUAL : REQ_MATCH_EQUAL;
	bool star_before = false;
	if (k == T_EQ && r->t.kind == T_STAR) {
		star_before = true;
		rc = msign_rqc_lex(r);
		if (rc != 0)
			return rc;
	}
	/* The operation word precedes the value: its slot is filled in once
	 * a trailing * is seen. */
	size_t op_at = r->pool.len;
	rc = msign_rqc_bytes_u32(r, &r->pool, op);
	if (rc == 0)
		rc = msign_rqc_value(r, "the value to compare with");
	if (rc != 0)
		return rc;
	bool star_after = false;
	if (k == T_EQ && r->t.kind == T_STAR) {
		star_after = true;
		rc = msign_rqc_lex(r);
	}
	if (star_before)
		op = star_after ? REQ_MATCH_CONTAINS : REQ_MATCH_ENDS_WITH;
	else if (star_after)
		op = REQ_MATCH_BEGINS_WITH;
	msign_rqc_be32_at(r->pool.p + op_at, op);
	return rc;
}

/* [key] then the match, for info[ and entitlement[ (the '[' is current). */
static int key_match(struct rc *r)
{
	int rc = msign_rqc_expect(r, T_LBRACK, "'['");
	if (rc == 0)
		rc = msign_rqc_value(r, "a key");
	if (rc == 0)
		rc = msign_rqc_expect(r, T_RBRACK, "']' after the key");
	return rc != 0 ? rc : match(r);
}

/* Dotted decimal arcs ("1.2.840.113635.100.6.2.6") to DER OID contents. */
static int oid(struct rc *r, const uint8_t *p, size_t n, size_t at)
{
	struct rc_bytes der = { NULL, 0, 0 };
	uint64_t first = 0;
	size_t arcs = 0, i = 0;
	int rc = 0;
	while (rc == 0 && i <= n) {
		size_t start = i;
		uint64_t arc = 0;
		while (i < n && p[i] >= '0' && p[i] <= '9') {
			if (arc > (UINT64_MAX - 9) / 10) {
				rc = msign_rqc_rc_fail(r, at, MSIGN_E_INVALID, "OID arc %zu is larger than 64 bits", arcs + 1);
				break;
			}
			arc = arc * 10 + (uint64_t)(p[i++] - '0');
		}
		if (rc != 0)
			break;
		if (i == start || (i < n && p[i] != '.')) {
			rc = msign_rqc_rc_fail(r, at, MSIGN_E_INVALID,
				     "OID \"%.*s\" is not dotted decimal numbers", (int)(n < 64 ? n : 64),
				     (const char *)p);
			break;
		}
		i++; /* the dot, or past the end */
		arcs++;
		if (arcs == 1) {
			if (arc > 2)
				rc = msign_rqc_rc_fail(r, at, MSIGN_E_INVALID, "OID's first arc %" PRIu64 " is not 0, 1 or 2", arc);
			first = arc;
			continue;
		}
		if (arcs == 2) {
			/* X.690 packs the first two arcs into one; the second
			 * is below 40 unless the first is 2. */
			if (first < 2 && arc >= 40) {
				rc = msign_rqc_rc_fail(r, at, MSIGN_E_INVALID, "OID's second arc %" PRIu64 " is not below 40", arc);
				break;
			}
			if (arc > UINT64_MAX - 80) {
				rc = msign_rqc_rc_fail(r, at, MSIGN_E_INVALID, "OID arc 2 is larger than 64 bits");
				break;
			}
			arc += first * 40;
		}
		uint8_t b[10];
		size_t k = 0;
		do {
			b[k++] = (uint8_t)(arc & 0x7f);
			arc >>= 7;
		} while (arc != 0);
		while (rc == 0 && k-- > 0) {
			uint8_t byte = (uint8_t)(b[k] | (k != 0 ? 0x80 : 0));
			rc = msign_rqc_bytes_put(r, &der, &byte, 1);
		}
	}
	if (rc == 0 && arcs < 2)
		rc = msign_rqc_rc_fail(r, at, MSIGN_E_INVALID, "OID needs at least two arcs");
	if (rc == 0)
		rc = msign_rqc_pool_data(r, der.p, der.len);
	free(der.p);
	return rc;
}

/* A certificate slot: leaf (0), root or anchor (-1), or a number. The
 * decompiler prints "certificate <slot>trusted" (Apple's dumper, no space),
 * so a word ending in "trusted" after the slot is read as both; *trusted
 * says so. */
static int cert_slot(struct rc *r, bool *trusted)
{
	*trusted = false;
	int32_t slot = 0;
	size_t n = r->t.len;
	const char *p = r->s + r->t.off;
	bool neg = r->t.kind == T_MINUS;
	if (neg) {
		int rc = msign_rqc_lex(r);
		if (rc != 0)
			return rc;
		p = r->s + r->t.off;
		n = r->t.len;
	}
	if (r->t.kind == T_WORD && n > 7 && memcmp(p + n - 7, "trusted", 7) == 0) {
		*trusted = true;
		n -= 7;
	}
	bool digits = n != 0 && n <= 10;
	for (size_t i = 0; digits && i < n; i++)
		digits = msign_rqc_is_digit(p[i]);
	if (!neg && (r->t.kind == T_WORD || r->t.kind == T_NUM) &&
	    ((n == 4 && memcmp(p, "leaf", 4) == 0) || (n == 4 && memcmp(p, "root", 4) == 0) ||
	     (n == 6 && memcmp(p, "anchor", 6) == 0))) {
		slot = p[0] == 'l' ? 0 : -1;
	} else if ((r->t.kind == T_NUM || (*trusted && r->t.kind == T_WORD)) && digits) {
		uint64_t x = 0;
		for (size_t i = 0; i < n; i++)
			x = x * 10 + (uint64_t)(p[i] - '0');
		if (x > (uint64_t)INT32_MAX + neg)
			return msign_rqc_rc_fail(r, r->t.off, MSIGN_E_INVALID, "certificate slot is out of range");
		slot = neg ? (int32_t)(-(int64_t)x) : (int32_t)x;
	} else {
		*trusted = false;
		return msign_rqc_expected(r, "a certificate slot (leaf, root or a number)");
	}
	uint32_t v = (uint32_t)slot;
	int rc = msign_rqc_bytes_u32(r, &r->pool, v);
	return rc != 0 ? rc : msign_rqc_lex(r);
}

/* certificate <slot> ( [= ] H"..." | trusted | [field] match ). The
 * opcode is written first and patched once the form is known. */
static int certificate(struct rc *r)
{
	size_t op_at = r->pool.len;
	int rc = msign_rqc_bytes_u32(r, &r->pool, REQ_OP_CERT_FIELD);
	bool trusted;
	if (rc == 0)
		rc = msign_rqc_lex(r);
	if (rc == 0)
		rc = cert_slot(r, &trusted);
	if (rc != 0)
		return rc;
	if (!trusted && msign_rqc_tok_is(r, "trusted")) {
		trusted = true;
		rc = msign_rqc_lex(r);
	}
	if (trusted) {
		msign_rqc_be32_at(r->pool.p + op_at, REQ_OP_TRUSTED_CERT);
		return rc;
	}
	if (r->t.kind == T_EQ || r->t.kind == T_HASH) {
		msign_rqc_be32_at(r->pool.p + op_at, REQ_OP_ANCHOR_HASH);
		rc = r->t.kind == T_EQ ? msign_rqc_lex(r) : 0;
		return rc != 0 ? rc : msign_rqc_hash(r);
	}
	if (r->t.kind != T_LBRACK)
		return msign_rqc_expected(r, "'[', '=' or trusted after the certificate slot");
	rc = msign_rqc_lex(r);
	if (rc != 0)
		return rc;
	if (!msign_rqc_tok_is_value(r))
		return msign_rqc_expected(r, "a certificate field name");
	/* field.<oid>, policy.<oid> and timestamp.<oid> name OIDs (Apple's
	 * parser decides on the name, quoted or not); any other name is a
	 * field such as subject.CN. */
	struct rc_bytes name = { NULL, 0, 0 };
	size_t at = r->t.off;
	rc = msign_rqc_value_bytes(r, &name);
	static const struct { const char *prefix; uint32_t op; } oids[] = {
		{ "field.", REQ_OP_CERT_GENERIC }, { "policy.", REQ_OP_CERT_POLICY },
		{ "timestamp.", REQ_OP_CERT_FIELD_DATE },
	};
	bool done = false;
	for (size_t i = 0; rc == 0 && i < sizeof(oids) / sizeof(oids[0]); i++) {
		size_t k = strlen(oids[i].prefix);
		if (name.len >= k && memcmp(name.p, oids[i].prefix, k) == 0) {
			msign_rqc_be32_at(r->pool.p + op_at, oids[i].op);
			rc = oid(r, name.p + k, name.len - k, at);
			done = true;
			break;
		}
	}
	if (rc == 0 && !done)
		rc = msign_rqc_pool_data(r, name.p, name.len);
	free(name.p);
	if (rc == 0)
		rc = msign_rqc_lex(r);
	if (rc == 0)
		rc = msign_rqc_expect(r, T_RBRACK, "']' after the certificate field");
	return rc != 0 ? rc : match(r);
}

/* anchor apple [generic | <name>] | anchor trusted | anchor [=] H"..." */
static int anchor(struct rc *r)
{
	int rc = msign_rqc_lex(r);
	if (rc != 0)
		return rc;
	if (msign_rqc_tok_is(r, "apple")) {
		rc = msign_rqc_lex(r);
		if (rc != 0)
			return rc;
		if (msign_rqc_tok_is(r, "generic")) {
			rc = msign_rqc_bytes_u32(r, &r->pool, REQ_OP_APPLE_GENERIC_ANCHOR);
			return rc != 0 ? rc : msign_rqc_lex(r);
		}
		/* A number followed by => is the next entry of a set. */
		if (!msign_rqc_tok_is_value(r) || (r->t.kind == T_NUM && msign_rqc_peek_kind(r) == T_ARROW))
			return msign_rqc_bytes_u32(r, &r->pool, REQ_OP_APPLE_ANCHOR);
		rc = msign_rqc_bytes_u32(r, &r->pool, REQ_OP_NAMED_ANCHOR);
		return rc != 0 ? rc : msign_rqc_value(r, "an anchor name");
	}
	if (msign_rqc_tok_is(r, "trusted")) {
		rc = msign_rqc_bytes_u32(r, &r->pool, REQ_OP_TRUSTED_CERTS);
		return rc != 0 ? rc : msign_rqc_lex(r);
	}
	if (r->t.kind != T_EQ && r->t.kind != T_HASH)
		return msign_rqc_expected(r, "apple, trusted or a hash after anchor");
	rc = msign_rqc_bytes_u32(r, &r->pool, REQ_OP_ANCHOR_HASH);
	if (rc == 0)
		rc = msign_rqc_bytes_u32(r, &r->pool, UINT32_MAX); /* slot -1: the anchor */
	if (rc == 0 && r->t.kind == T_EQ)
		rc = msign_rqc_lex(r);
	return rc != 0 ? rc : msign_rqc_hash(r);
}

/* The leaves: every opcode that is not and/or/not. */
static int leaf(struct rc *r)
{
	static const struct { const char *word; uint32_t op; } words[] = {
		{ "always", REQ_OP_TRUE }, { "true", REQ_OP_TRUE }, { "never", REQ_OP_FALSE },
		{ "false", REQ_OP_FALSE }, { "notarized", REQ_OP_NOTARIZED },
		{ "legacy", REQ_OP_LEGACY_DEVID },
	};
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (msign_rqc_tok_is(r, words[i].word)) {
			int rc = msign_rqc_bytes_u32(r, &r->pool, words[i].op);
			return rc != 0 ? rc : msign_rqc_lex(r);
		}
	int rc;
	if (msign_rqc_tok_is(r, "identifier") || msign_rqc_tok_is(r, "cdhash") || msign_rqc_tok_is(r, "platform")) {
		char w = r->s[r->t.off];
		rc = msign_rqc_bytes_u32(r, &r->pool, w == 'i' ? REQ_OP_IDENT : w == 'c' ? REQ_OP_CDHASH : REQ_OP_PLATFORM);
		if (rc == 0)
			rc = msign_rqc_lex(r);
		if (rc == 0 && r->t.kind == T_EQ) /* Apple's optional "=" */
			rc = msign_rqc_lex(r);
		if (rc != 0)
			return rc;
		if (w == 'i')
			return msign_rqc_value(r, "an identifier");
		if (w == 'c')
			return msign_rqc_hash(r);
		int32_t platform = 0;
		rc = msign_rqc_int32_value(r, "a platform number", &platform);
		return rc != 0 ? rc : msign_rqc_bytes_u32(r, &r->pool, (uint32_t)platform);
	}
	if (msign_rqc_tok_is(r, "info") || msign_rqc_tok_is(r, "entitlement")) {
		rc = msign_rqc_bytes_u32(r, &r->pool, msign_rqc_tok_is(r, "info") ? REQ_OP_INFO_KEY_FIELD : REQ_OP_ENTITLEMENT_FIELD);
		if (rc == 0)
			rc = msign_rqc_lex(r);
		return rc != 0 ? rc : key_match(r);
	}
	if (msign_rqc_tok_is(r, "anchor"))
		return anchor(r);
	if (msign_rqc_tok_is(r, "certificate") || msign_rqc_tok_is(r, "cert"))
		return certificate(r);
	if (r->t.kind == T_WORD && !msign_rqc_tok_is_value(r))
		return msign_rqc_rc_fail(r, r->t.off, MSIGN_E_INVALID, "keyword %.*s cannot start a requirement",
			       (int)(r->t.len < 32 ? r->t.len : 32), r->s + r->t.off);
	if (r->t.kind == T_WORD)
		return msign_rqc_rc_fail(r, r->t.off, MSIGN_E_INVALID, "unknown keyword %.*s",
			       (int)(r->t.len < 32 ? r->t.len : 32), r->s + r->t.off);
	return msign_rqc_expected(r, "a requirement");
}

/* ---- the and/or/not tree ------------------------------------------------- */

static int node_new(struct rc *r, enum node_kind kind, size_t src, uint32_t *out)
{
	if (r->nnodes == r->cap) {
		uint32_t cap = r->cap != 0 ? r->cap * 2 : 64;
		struct node *p = realloc(r->nodes, (size_t)cap * sizeof(*p));
		if (p == NULL)
			return msign_rqc_rc_fail(r, src, MSIGN_E_NOMEM, "out of memory for %" PRIu32 " nodes", cap);
		r->nodes = p;
		r->cap = cap;
	}
	r->nodes[r->nnodes] = (struct node){ .kind = kind, .src = src };
	*out = r->nnodes++;
	return 0;
}

/* One more opcode in this requirement: the decompiler reads at most
 * MSIGN_REQ_MAX_OPS, so more is refused here. Node counts follow. */
static int count_op(struct rc *r, size_t src)
{
	if (++r->ops > MSIGN_REQ_MAX_OPS)
		return msign_rqc_rc_fail(r, src, MSIGN_E_LIMIT, "requirement has more than %d opcodes",
			       MSIGN_REQ_MAX_OPS);
	return 0;
}

/* Append child c to chain n; a chain of the same operator is merged. */
static void chain_add(struct rc *r, uint32_t n, uint32_t c)
{
	struct node *p = &r->nodes[n], *k = &r->nodes[c];
	uint32_t first = c + 1, last = c + 1, count = 1;
	if (k->kind == p->kind) {
		first = k->first;
		last = k->last;
		count = k->nkids;
	}
	if (p->last != 0)
		r->nodes[p->last - 1].next = first;
	else
		p->first = first;
	p->last = last;
	p->nkids += count;
}

static int expr(struct rc *r, uint32_t *out);

static int primary(struct rc *r, uint32_t *out)
{
	size_t at = r->t.off;
	if (r->depth > MSIGN_REQ_MAX_DEPTH) /* as the decompiler's count */
		return msign_rqc_rc_fail(r, at, MSIGN_E_LIMIT, "requirement nests deeper than %d levels",
			       MSIGN_REQ_MAX_DEPTH);
	int rc;
	if (r->t.kind == T_NOT || msign_rqc_tok_is(r, "not")) {
		uint32_t n, c;
		rc = node_new(r, N_NOT, at, &n);
		if (rc == 0)
			rc = count_op(r, at);
		if (rc == 0)
			rc = msign_rqc_lex(r);
		r->depth++;
		if (rc == 0)
			rc = primary(r, &c);
		r->depth--;
		if (rc == 0) {
			r->nodes[n].first = r->nodes[n].last = c + 1;
			r->nodes[n].nkids = 1;
			*out = n;
		}
		return rc;
	}
	if (r->t.kind == T_LPAREN) {
		rc = msign_rqc_lex(r);
		if (rc != 0)
			return rc;
		/* (name) is named code; otherwise a parenthesised expression.
		 * A value cannot start an expression, so one token decides,
		 * and "( name )" needs the ')' after it. */
		if (msign_rqc_tok_is_value(r) && (!msign_rqc_tok_is(r, "not") || msign_rqc_peek_kind(r) == T_RPAREN)) {
			size_t enc = r->pool.len;
			rc = node_new(r, N_LEAF, at, out);
			if (rc == 0)
				rc = count_op(r, at);
			if (rc == 0)
				rc = msign_rqc_bytes_u32(r, &r->pool, REQ_OP_NAMED_CODE);
			if (rc == 0)
				rc = msign_rqc_value(r, "a code name");
			if (rc == 0) {
				r->nodes[*out].enc_off = enc;
				r->nodes[*out].enc_len = r->pool.len - enc;
			}
			return rc != 0 ? rc : msign_rqc_expect(r, T_RPAREN, "')' after the code name");
		}
		r->depth++;
		rc = expr(r, out);
		r->depth--;
		return rc != 0 ? rc : msign_rqc_expect(r, T_RPAREN, "')'");
	}
	size_t enc = r->pool.len;
	rc = node_new(r, N_LEAF, at, out);
	if (rc == 0)
		rc = count_op(r, at);
	if (rc == 0)
		rc = leaf(r);
	if (rc == 0) {
		r->nodes[*out].enc_off = enc;
		r->nodes[*out].enc_len = r->pool.len - enc;
	}
	return rc;
}

/* operand (word operand)*, and < or; a chain node when there are two. */
static int chain(struct rc *r, enum node_kind kind, uint32_t *out)
{
	const char *word = kind == N_AND ? "and" : "or";
	uint32_t c;
	int rc = kind == N_AND ? primary(r, &c) : chain(r, N_AND, &c);
	if (rc != 0 || !msign_rqc_tok_is(r, word)) {
		*out = c;
		return rc;
	}
	uint32_t n;
	rc = node_new(r, kind, r->t.off, &n);
	if (rc != 0)
		return rc;
	chain_add(r, n, c);
	while (rc == 0 && msign_rqc_tok_is(r, word)) {
		rc = count_op(r, r->t.off);
		if (rc == 0)
			rc = msign_rqc_lex(r);
		if (rc == 0)
			rc = kind == N_AND ? primary(r, &c) : chain(r, N_AND, &c);
		if (rc == 0)
			chain_add(r, n, c);
	}
	*out = n;
	return rc;
}

static int expr(struct rc *r, uint32_t *out)
{
	return chain(r, N_OR, out);
}

/* Write node n at nesting depth (the decompiler's count: a binary or not
 * operator's operands are one deeper). */
static int emit(struct rc *r, struct rc_bytes *out, uint32_t n, unsigned depth)
{
	const struct node *p = &r->nodes[n];
	if (depth > MSIGN_REQ_MAX_DEPTH)
		return msign_rqc_rc_fail(r, p->src, MSIGN_E_LIMIT,
			       "requirement nests deeper than %d levels", MSIGN_REQ_MAX_DEPTH);
	if (p->kind == N_LEAF)
		return msign_rqc_bytes_put(r, out, r->pool.p + p->enc_off, p->enc_len);
	if (p->kind == N_NOT) {
		int rc = msign_rqc_bytes_u32(r, out, REQ_OP_NOT);
		return rc != 0 ? rc : emit(r, out, p->first - 1, depth + 1);
	}
	uint32_t count = p->nkids;
	int rc = 0;
	if (p->kind == N_OR) {
		/* or(or(a, b), c): every operator first, a and b deepest. */
		for (uint32_t i = 0; rc == 0 && i + 1 < count; i++)
			rc = msign_rqc_bytes_u32(r, out, REQ_OP_OR);
		uint32_t i = 0;
		for (uint32_t k = p->first; rc == 0 && k != 0; k = r->nodes[k - 1].next, i++)
			rc = emit(r, out, k - 1, depth + (count - (i == 0 ? 1 : i)));
		return rc;
	}
	/* and(a, and(b, c)): an operator before each operand but the last. */
	uint32_t i = 0;
	for (uint32_t k = p->first; rc == 0 && k != 0; k = r->nodes[k - 1].next, i++) {
		bool last = i + 1 == count;
		if (!last)
			rc = msign_rqc_bytes_u32(r, out, REQ_OP_AND);
		if (rc == 0)
			rc = emit(r, out, k - 1, depth + (last ? i : i + 1));
	}
	return rc;
}

/* One requirement blob for the expression at the current token, appended
 * to out. */
static int requirement(struct rc *r, struct rc_bytes *out)
{
	r->nnodes = 0;
	r->pool.len = 0;
	r->ops = 0;
	uint32_t root;
	int rc = expr(r, &root);
	if (rc != 0)
		return rc;
	size_t start = out->len;
	rc = msign_rqc_bytes_u32(r, out, MSIGN_CSMAGIC_REQUIREMENT);
	if (rc == 0)
		rc = msign_rqc_bytes_u32(r, out, 0); /* length, below */
	if (rc == 0)
		rc = msign_rqc_bytes_u32(r, out, REQ_KIND_EXPR);
	if (rc == 0)
		rc = emit(r, out, root, 0);
	if (rc == 0)
		msign_rqc_be32_at(out->p + start + 4, (uint32_t)(out->len - start));
	return rc;
}

/* ---- entry points -------------------------------------------------------- */

static int rc_start(struct rc *r, const char *text, size_t len, uint8_t **blob,
		    size_t *blob_len, struct msign_diag *d, const char *fn)
{
	memset(r, 0, sizeof(*r));
	r->s = text;
	r->len = len;
	r->d = d;
	if (blob == NULL || blob_len == NULL || (text == NULL && len != 0))
		return msign_diag_set(d, MSIGN_E_ARG, 0, "%s: NULL argument", fn);
	*blob = NULL;
	*blob_len = 0;
	if (len > MSIGN_REQ_MAX_TEXT_LEN)
		return msign_diag_set(d, MSIGN_E_LIMIT, 0,
				      "requirement text of %zu bytes exceeds the %u-byte limit",
				      len, MSIGN_REQ_MAX_TEXT_LEN);
	return msign_rqc_lex(r);
}

static int rc_finish(struct rc *r, int rc, struct rc_bytes *out, uint8_t **blob,
		     size_t *blob_len)
{
	if (rc == 0 && r->t.kind != T_EOF)
		rc = r->t.kind == T_WORD && msign_rqc_tok_is_value(r)
			     ? msign_rqc_rc_fail(r, r->t.off, MSIGN_E_INVALID, "unknown keyword %.*s",
				       (int)(r->t.len < 32 ? r->t.len : 32), r->s + r->t.off)
			     : msign_rqc_expected(r, "and, or or the end of the requirement");
	free(r->pool.p);
	free(r->nodes);
	if (rc != 0) {
		free(out->p);
		return rc;
	}
	*blob = out->p;
	*blob_len = out->len;
	return 0;
}

/* A set starts with a type: a name that cannot start an expression, or a
 * number, then "=>". No text at all is the empty set. */
static bool at_set(const struct rc *r)
{
	if (r->t.kind == T_EOF)
		return true;
	static const char *const types[] = { "host", "guest", "designated", "library", "plugin" };
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (msign_rqc_tok_is(r, types[i]))
			return true;
	return r->t.kind == T_NUM;
}

static int set_body(struct rc *r, struct rc_bytes *out);

int msign_req_compile(const char *text, size_t len, unsigned flags,
		      uint8_t **blob, size_t *blob_len, struct msign_diag *d)
{
	struct rc r;
	struct rc_bytes out = { NULL, 0, 0 };
	int rc = rc_start(&r, text, len, blob, blob_len, d, "msign_req_compile");
	if (rc == 0 && (flags & MSIGN_REQ_COMPILE_ANY) && at_set(&r))
		rc = set_body(&r, &out);
	else if (rc == 0)
		rc = requirement(&r, &out);
	return rc_finish(&r, rc, &out, blob, blob_len);
}

int msign_reqset_compile(const char *text, size_t len, unsigned flags,
			 uint8_t **blob, size_t *blob_len, struct msign_diag *d)
{
	(void)flags;
	struct rc r;
	struct rc_bytes out = { NULL, 0, 0 };
	int rc = rc_start(&r, text, len, blob, blob_len, d, "msign_reqset_compile");
	if (rc == 0)
		rc = set_body(&r, &out);
	return rc_finish(&r, rc, &out, blob, blob_len);
}

struct set_entry {
	uint32_t type;
	size_t off, len; /* its requirement in the scratch buffer */
	size_t src;
};

static int entry_cmp(const void *a, const void *b)
{
	const struct set_entry *x = a, *y = b;
	return x->type < y->type ? -1 : x->type > y->type;
}

static int set_type(struct rc *r, uint32_t *type)
{
	static const char *const types[] = { "host", "guest", "designated", "library", "plugin" };
	for (uint32_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (msign_rqc_tok_is(r, types[i])) {
			*type = i + 1;
			return msign_rqc_lex(r);
		}
	if (r->t.kind != T_NUM)
		return msign_rqc_expected(r, "a requirement type (host, guest, designated, library, plugin or a number)");
	uint64_t x = 0;
	for (size_t i = 0; i < r->t.len; i++) {
		x = x * 10 + (uint64_t)(r->s[r->t.off + i] - '0');
		if (x > UINT32_MAX)
			return msign_rqc_rc_fail(r, r->t.off, MSIGN_E_INVALID, "requirement type is out of range");
	}
	*type = (uint32_t)x;
	return msign_rqc_lex(r);
}

/* "<type> => <expr>" until the end; the set laid out as Apple's
 * SuperBlob maker does: index sorted by type, blobs in that order. */
static int set_body(struct rc *r, struct rc_bytes *out)
{
	struct set_entry e[REQ_SET_MAX];
	uint32_t n = 0;
	struct rc_bytes reqs = { NULL, 0, 0 };
	int rc = 0;
	/* No entry is the empty set codesign writes for ad-hoc signatures. */
	while (rc == 0 && r->t.kind != T_EOF) {
		if (n == REQ_SET_MAX) {
			rc = msign_rqc_rc_fail(r, r->t.off, MSIGN_E_LIMIT, "requirement set has more than %u entries",
				     REQ_SET_MAX);
			break;
		}
		e[n].src = r->t.off;
		rc = set_type(r, &e[n].type);
		for (uint32_t i = 0; rc == 0 && i < n; i++)
			if (e[i].type == e[n].type)
				rc = msign_rqc_rc_fail(r, e[n].src, MSIGN_E_INVALID,
					     "requirement type %" PRIu32 " is given twice", e[n].type);
		if (rc == 0)
			rc = msign_rqc_expect(r, T_ARROW, "'=>' after the requirement type");
		e[n].off = reqs.len;
		if (rc == 0)
			rc = requirement(r, &reqs);
		e[n].len = reqs.len - e[n].off;
		n++;
	}
	if (rc == 0)
		qsort(e, n, sizeof(e[0]), entry_cmp);
	size_t total = MSIGN_SB_HEADER_LEN + (size_t)MSIGN_SB_INDEX_LEN * n + reqs.len;
	if (rc == 0 && total > UINT32_MAX)
		rc = msign_rqc_rc_fail(r, 0, MSIGN_E_LIMIT, "requirement set of %zu bytes is too large", total);
	if (rc == 0)
		rc = msign_rqc_bytes_u32(r, out, MSIGN_CSMAGIC_REQUIREMENTS);
	if (rc == 0)
		rc = msign_rqc_bytes_u32(r, out, (uint32_t)total);
	if (rc == 0)
		rc = msign_rqc_bytes_u32(r, out, n);
	size_t at = MSIGN_SB_HEADER_LEN + (size_t)MSIGN_SB_INDEX_LEN * n;
	for (uint32_t i = 0; rc == 0 && i < n; i++) {
		rc = msign_rqc_bytes_u32(r, out, e[i].type);
		if (rc == 0)
			rc = msign_rqc_bytes_u32(r, out, (uint32_t)at);
		at += e[i].len;
	}
	for (uint32_t i = 0; rc == 0 && i < n; i++)
		rc = msign_rqc_bytes_put(r, out, reqs.p + e[i].off, e[i].len);
	free(reqs.p);
	return rc;
}
