/* Requirement evaluator: the binary form (0xfade0c00) run against a
 * caller-supplied context, following Apple's Requirement::Interpreter
 * (reqinterp.cpp, reqreader.cpp, requirement.cpp) opcode by opcode.
 *
 * The program is prefix-coded, so both operands of and/or are always read
 * (Apple's interpreter evaluates both too: `eval() & eval()`); a malformed
 * right operand is an error even when the left one decided the answer.
 * Every read goes through the cursor of cur.h, nesting and opcodes are
 * counted (MSIGN_REQ_MAX_DEPTH, MSIGN_REQ_MAX_OPS), so a hostile blob costs
 * bounded stack and time. Each opcode's value is three-valued: false, true,
 * or unknown (an answer Apple looks up on the machine or the network); the
 * caller gets Apple's offline answer and whether an unknown mattered. */
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <plist/plist.h>

#include "base/cur.h"
#include "base/diag.h"
#include "base/plist_guard.h"
#include "sig/codesign.h"
#include "sig/reqeval.h"
#include "sig/reqeval_int.h"
#include "sig/reqlang.h"
#include "sig/req.h"
#include "msign/cs.h"
#include "msign/err.h"

#define RE_HDR_LEN 12u    /* magic, length, kind */
#define RE_KIND_EXPR 1u   /* exprForm; lwcrForm (2) is not evaluated */
#define RE_MAX_CERTS 64u  /* certificates in a context's chain */
#define RE_SHA1_LEN 20u   /* anchor hashes: Reader::getSHA1 insists */

/* Apple's appleSigned(): the intermediate under an Apple anchor. */
static const char apple_intermediate_cn[] = "Apple Code Signing Certification Authority";
static const char apple_intermediate_o[] = "Apple Inc.";

/* Legacy Developer ID cut-offs (legacydevid.cpp), CFAbsoluteTime. */
#define RE_LEGACY_ACCOUNT_CUTOFF 576374400.0   /* 2019-04-07 00:00 UTC */
#define RE_LEGACY_TIMESTAMP_CUTOFF 581040000.0 /* 2019-06-01 00:00 UTC */

/* ---- three-valued results ------------------------------------------------ */

enum { K_FALSE, K_TRUE, K_UNKNOWN };

struct tv {
	bool off;   /* Apple's offline answer: unknowns are false */
	uint8_t k;  /* K_FALSE, K_TRUE or K_UNKNOWN */
};

static struct tv tv_of(bool b)
{
	struct tv t = { b, b ? K_TRUE : K_FALSE };
	return t;
}

static const struct tv tv_unknown = { false, K_UNKNOWN };

static uint8_t k_and(uint8_t a, uint8_t b)
{
	if (a == K_FALSE || b == K_FALSE)
		return K_FALSE;
	return a == K_TRUE && b == K_TRUE ? K_TRUE : K_UNKNOWN;
}

static uint8_t k_or(uint8_t a, uint8_t b)
{
	if (a == K_TRUE || b == K_TRUE)
		return K_TRUE;
	return a == K_FALSE && b == K_FALSE ? K_FALSE : K_UNKNOWN;
}

/* ---- state and reads ----------------------------------------------------- */

struct re {
	struct msign_cur c;       /* the requirement, positioned in its program */
	const struct msign_req_ctx *ctx;
	struct msign_diag *d;
	uint64_t base;            /* the blob's offset in the caller's window */
	uint32_t ops;
	unsigned unknown;         /* MSIGN_REQ_UNKNOWN_* */
	struct x509_st **certs;   /* parsed chain, NULL for ad-hoc code */
	size_t ncerts;
	plist_t info, ent;        /* parsed on first use */
	bool info_done, ent_done;
};

static int re_u32(struct re *r, const char *what, uint32_t *v)
{
	return msign_req_read_u32(&r->c, r->base, what, v, r->d);
}

static int re_i32(struct re *r, const char *what, int32_t *v)
{
	uint32_t u;
	int rc = re_u32(r, what, &u);
	*v = u <= INT32_MAX ? (int32_t)u : -(int32_t)(~u) - 1;
	return rc;
}

static int re_data(struct re *r, const char *what, const uint8_t **p, size_t *n)
{
	return msign_req_read_data(&r->c, r->base, what, p, n, r->d);
}

/* Apple's Context::cert(): 0 leaf, positive up from the leaf, negative
 * from the anchor end (-1 anchor); anything outside the chain is none. */
static struct x509_st *re_cert(const struct re *r, int32_t slot)
{
	int64_t ix = slot;
	if (ix < 0)
		ix += (int64_t)r->ncerts;
	if (ix < 0 || (uint64_t)ix >= r->ncerts)
		return NULL;
	return r->certs[ix];
}

static size_t re_cert_index(const struct re *r, int32_t slot)
{
	int64_t ix = slot < 0 ? slot + (int64_t)r->ncerts : slot;
	return (size_t)ix; /* callers checked re_cert() first */
}

/* ---- plists -------------------------------------------------------------- */

/* Parse the Info.plist or entitlements once; *out NULL when absent. */
static int re_plist(struct re *r, bool info, plist_t *out)
{
	plist_t *slot = info ? &r->info : &r->ent;
	bool *done = info ? &r->info_done : &r->ent_done;
	const uint8_t *p = info ? r->ctx->info_plist : r->ctx->entitlements;
	size_t n = info ? r->ctx->info_plist_len : r->ctx->entitlements_len;
	const char *what = info ? "Info.plist" : "entitlements";
	if (!*done) {
		*done = true;
		if (p != NULL && n != 0) {
			if (n > UINT32_MAX)
				return msign_diag_set(r->d, MSIGN_E_LIMIT, 0,
						      "%s of %zu bytes is too large to parse", what, n);
			/* Depth, shared-object bombs, NUL in keys: refused. A
			 * value with a NUL stays libplist's (cut at the NUL, a
			 * known difference from CFString, see the tests). */
			struct msign_plist_limits lim =
				info ? msign_plist_info_limits : msign_plist_ent_limits;
			lim.max_size = UINT32_MAX;
			lim.nul = MSIGN_PLIST_NUL_IN_VALUES;
			int rc = msign_plist_guard(p, n, &lim, r->d);
			if (rc < 0)
				return rc;
			plist_from_memory((const char *)p, (uint32_t)n, slot);
			if (*slot == NULL)
				return msign_diag_set(r->d, MSIGN_E_PLIST, 0,
						      "%s (%zu bytes) is not a readable plist", what, n);
			if (plist_get_node_type(*slot) != PLIST_DICT)
				return msign_diag_set(r->d, MSIGN_E_PLIST, 0,
						      "%s is not a dictionary", what);
		}
	}
	*out = *slot;
	return 0;
}

/* A dictionary entry by key bytes; NULL when absent. A key holding a NUL
 * cannot be looked up through libplist and is taken as absent. */
static int re_dict_get(struct re *r, plist_t dict, const uint8_t *key, size_t n,
		       plist_t *out)
{
	*out = NULL;
	if (dict == NULL || memchr(key, 0, n) != NULL)
		return 0;
	char *k = malloc(n + 1);
	if (k == NULL)
		return msign_diag_set(r->d, MSIGN_E_NOMEM, 0, "out of memory");
	memcpy(k, key, n);
	k[n] = '\0';
	*out = plist_dict_get_item(dict, k);
	free(k);
	return 0;
}

/* ---- match operands -------------------------------------------------- */

static int re_match_read(struct re *r, struct msign_rqe_match *m)
{
	memset(m, 0, sizeof(*m));
	int rc = re_u32(r, "match operation", &m->op);
	if (rc != 0)
		return rc;
	if (m->op == REQ_MATCH_EXISTS || m->op == REQ_MATCH_ABSENT)
		return 0;
	if (m->op >= REQ_MATCH_ON && m->op <= REQ_MATCH_ON_OR_AFTER) {
		int64_t t = 0;
		rc = msign_req_read_time(&r->c, r->base, &t, r->d);
		m->date = rc == 0 ? (double)t : 0;
		return rc;
	}
	/* A string operand; an unknown operation is assumed to carry one
	 * (Apple's Match constructor) and never matches. */
	rc = re_data(r, "match value", &m->v, &m->n);
	m->str_ok = rc == 0 && msign_rqe_utf8_valid(m->v, m->n);
	return rc;
}

/* ---- opcodes --------------------------------------------------------------- */

/* info[key] / entitlement[key]: the value under key, or absent. */
static int op_plist_field(struct re *r, bool info, bool legacy, struct tv *out)
{
	const uint8_t *key;
	size_t kn;
	struct msign_rqe_match m;
	int rc = re_data(r, "key", &key, &kn);
	if (rc != 0)
		return rc;
	if (legacy) { /* opInfoKeyValue: key, then a string compared equal */
		memset(&m, 0, sizeof(m));
		m.op = REQ_MATCH_EQUAL;
		rc = re_data(r, "value", &m.v, &m.n);
		m.str_ok = rc == 0 && msign_rqe_utf8_valid(m.v, m.n);
	} else {
		rc = re_match_read(r, &m);
	}
	plist_t dict = NULL, val = NULL;
	if (rc == 0)
		rc = re_plist(r, info, &dict);
	if (rc == 0)
		rc = re_dict_get(r, dict, key, kn, &val);
	if (rc == 0)
		*out = tv_of(msign_rqe_match_plist(&m, val, 0));
	return rc;
}

/* Apple's certFields table: subject.<name> to the attribute's OID. */
static const struct {
	const char *key;
	const char *oid;
} cert_fields[] = {
	{ "subject.C", "2.5.4.6" },     { "subject.CN", "2.5.4.3" },
	{ "subject.D", "2.5.4.13" },    { "subject.L", "2.5.4.7" },
	{ "subject.O", "2.5.4.10" },    { "subject.C-O", "2.5.4.10.1" },
	{ "subject.OU", "2.5.4.11" },   { "subject.C-OU", "2.5.4.11.1" },
	{ "subject.ST", "2.5.4.8" },    { "subject.C-ST", "2.5.4.8.1" },
	{ "subject.STREET", "2.5.4.9" }, { "subject.C-STREET", "2.5.4.9.1" },
	{ "subject.UID", "0.9.2342.19200300.100.1.1" },
};

/* certificate N[subject.X] or [email]: a missing certificate, a missing
 * attribute or an unknown key is false (not "absent"), as Apple's. */
static int cert_field(struct re *r, struct x509_st *x, const uint8_t *key,
		      size_t kn, const struct msign_rqe_match *m, bool *res)
{
	*res = false;
	if (x == NULL)
		return 0;
	for (size_t i = 0; i < sizeof(cert_fields) / sizeof(cert_fields[0]); i++) {
		if (strlen(cert_fields[i].key) != kn || memcmp(cert_fields[i].key, key, kn) != 0)
			continue;
		char *s = NULL;
		size_t n = 0;
		int rc = msign_rqe_subject_last(x, cert_fields[i].oid, &s, &n);
		/* A value with no string form is Apple's NULL: false. */
		if (rc == MSIGN_E_NOMEM || rc == MSIGN_E_INTERNAL)
			return msign_diag_set(r->d, rc, 0, "cannot read certificate subject %s",
					      cert_fields[i].key);
		if (rc == 0)
			*res = msign_rqe_match_scalar(m, RQE_STRING, (const uint8_t *)s, n, false, 0);
		free(s);
		return 0;
	}
	if (kn == 5 && memcmp(key, "email", 5) == 0) {
		struct msign_rqe_strs e;
		int rc = msign_rqe_emails(x, &e);
		if (rc == MSIGN_E_NOMEM)
			return msign_diag_set(r->d, rc, 0, "cannot read certificate e-mail addresses");
		if (rc < 0) /* Apple: the lookup failed, false */
			return 0;
		for (size_t i = 0; i < e.n && !*res; i++)
			*res = msign_rqe_match_scalar(m, RQE_STRING, (const uint8_t *)e.s[i], e.len[i], false, 0);
		if (!*res) /* the array itself: exists */
			*res = msign_rqe_match_scalar(m, RQE_OTHER, NULL, 0, false, 0);
		msign_rqe_strs_free(&e);
	}
	return 0;
}

/* certificate N[field.OID], [policy.OID], [timestamp.OID]. */
static int op_cert_oid(struct re *r, uint32_t op, struct tv *out)
{
	int32_t slot;
	const uint8_t *oid;
	size_t n;
	struct msign_rqe_match m;
	int rc = re_i32(r, "certificate slot", &slot);
	if (rc == 0)
		rc = re_data(r, "OID", &oid, &n);
	if (rc == 0)
		rc = re_match_read(r, &m);
	if (rc != 0)
		return rc;
	struct x509_st *x = re_cert(r, slot);
	if (op == REQ_OP_CERT_FIELD_DATE) {
		/* No certificate is kCFNull here (absent matches), unlike the
		 * other two, which are false without one. */
		double t = 0;
		bool have = x != NULL && msign_rqe_ext_date(x, oid, n, &t) == 0;
		*out = tv_of(msign_rqe_match_scalar(&m, have ? RQE_DATE : RQE_NULL, NULL, 0, false, t));
		return 0;
	}
	if (x == NULL) {
		*out = tv_of(false);
		return 0;
	}
	bool has = op == REQ_OP_CERT_GENERIC ? msign_rqe_has_ext(x, oid, n)
					     : msign_rqe_has_policy(x, oid, n);
	*out = tv_of(msign_rqe_match_scalar(&m, has ? RQE_OTHER : RQE_NULL, NULL, 0, false, 0));
	return 0;
}

static int op_cert_field(struct re *r, struct tv *out)
{
	int32_t slot;
	const uint8_t *key;
	size_t kn;
	struct msign_rqe_match m;
	int rc = re_i32(r, "certificate slot", &slot);
	if (rc == 0)
		rc = re_data(r, "certificate field", &key, &kn);
	if (rc == 0)
		rc = re_match_read(r, &m);
	bool res = false;
	if (rc == 0)
		rc = cert_field(r, re_cert(r, slot), key, kn, &m, &res);
	if (rc == 0)
		*out = tv_of(res);
	return rc;
}

/* anchor H"..." / certificate N = H"...": SHA-1 of the certificate's DER. */
static int op_anchor_hash(struct re *r, struct tv *out)
{
	int32_t slot;
	const uint8_t *h;
	size_t n;
	size_t at;
	int rc = re_i32(r, "certificate slot", &slot);
	at = r->c.off;
	if (rc == 0)
		rc = re_data(r, "certificate hash", &h, &n);
	if (rc != 0)
		return rc;
	if (n != RE_SHA1_LEN)
		return msign_diag_set(r->d, MSIGN_E_INVALID, r->base + at,
				      "certificate hash at offset %zu is %zu bytes, not %u (SHA-1)",
				      at, n, RE_SHA1_LEN);
	if (re_cert(r, slot) == NULL) {
		*out = tv_of(false);
		return 0;
	}
	const struct msign_req_cert *c = &r->ctx->certs[re_cert_index(r, slot)];
	uint8_t dig[RE_SHA1_LEN];
	rc = msign_rqe_sha1(c->der, c->len, dig);
	if (rc != 0)
		return msign_diag_set(r->d, rc, 0, "cannot hash certificate");
	*out = tv_of(memcmp(dig, h, RE_SHA1_LEN) == 0);
	return 0;
}

static bool apple_anchored(const struct re *r)
{
	return r->ncerts > 0 && r->ctx->anchor == MSIGN_REQ_ANCHOR_APPLE;
}

/* anchor apple: in the trust cache, or an Apple anchor whose intermediate
 * (slot -2) is Apple's code signing CA by exact CN and O. Apple's third
 * way, AMFI's extra trusted keys on Apple-internal machines, is false. */
static int op_apple_signed(struct re *r, struct tv *out)
{
	*out = tv_of(false);
	if (r->ctx->in_trust_cache) {
		*out = tv_of(true);
		return 0;
	}
	struct x509_st *im = re_cert(r, -2);
	if (!apple_anchored(r) || im == NULL)
		return 0;
	struct msign_rqe_match m = { .op = REQ_MATCH_EQUAL, .str_ok = true };
	bool cn = false, o = false;
	m.v = (const uint8_t *)apple_intermediate_cn;
	m.n = strlen(apple_intermediate_cn);
	int rc = cert_field(r, im, (const uint8_t *)"subject.CN", 10, &m, &cn);
	m.v = (const uint8_t *)apple_intermediate_o;
	m.n = strlen(apple_intermediate_o);
	if (rc == 0)
		rc = cert_field(r, im, (const uint8_t *)"subject.O", 9, &m, &o);
	if (rc == 0)
		*out = tv_of(cn && o);
	return rc;
}

/* anchor trusted / certificate N trusted consult the Trust Settings
 * database, which is not here. The anchor the caller vouches for (an
 * Apple root, a user anchor) stands in for a TrustRoot setting; anything
 * else is unknown, false offline. Deny settings below a trusted anchor
 * are not seen. */
static struct tv trusted_slot(struct re *r, bool is_anchor)
{
	if (is_anchor && r->ctx->anchor != MSIGN_REQ_ANCHOR_NONE)
		return tv_of(true);
	r->unknown |= MSIGN_REQ_UNKNOWN_TRUSTED;
	return tv_unknown;
}

static int op_trusted_cert(struct re *r, struct tv *out)
{
	int32_t slot;
	int rc = re_i32(r, "certificate slot", &slot);
	if (rc != 0)
		return rc;
	if (re_cert(r, slot) == NULL) {
		*out = tv_of(false);
		return 0;
	}
	*out = trusted_slot(r, re_cert_index(r, slot) == r->ncerts - 1);
	return 0;
}

/* Apple's meetsDeveloperIDLegacyAllowedPolicy with the default cut-offs:
 * a Developer ID date on or after 2019-04-07 fails; a secure timestamp
 * before 2019-06-01 passes; otherwise syspolicyd's list decides (unknown). */
static struct tv op_legacy(struct re *r)
{
	struct x509_st *leaf = re_cert(r, 0);
	if (leaf == NULL) /* Apple: "missing required input", not "no date" */
		return tv_of(false);
	double t = 0;
	int dr = msign_rqe_devid_date(leaf, &t);
	if (dr == 2 || (dr == 0 && t >= RE_LEGACY_ACCOUNT_CUTOFF))
		return tv_of(false);
	/* In doubles: a caller's time near INT64_MIN must not overflow. */
	if (r->ctx->has_secure_timestamp &&
	    (double)r->ctx->secure_timestamp - (double)MSIGN_RQE_CF_EPOCH_SECS <
		    RE_LEGACY_TIMESTAMP_CUTOFF)
		return tv_of(true);
	if (r->ctx->ident == NULL || r->ctx->cdhash == NULL)
		return tv_of(false); /* no cdhash: the list cannot be asked */
	r->unknown |= MSIGN_REQ_UNKNOWN_LEGACY;
	return tv_unknown;
}

static int re_eval(struct re *r, unsigned depth, struct tv *out);

static int op_binary(struct re *r, uint32_t code, unsigned depth, struct tv *out)
{
	struct tv a, b;
	int rc = re_eval(r, depth + 1, &a);
	if (rc == 0)
		rc = re_eval(r, depth + 1, &b);
	if (rc != 0)
		return rc;
	if (code == REQ_OP_AND) {
		out->off = a.off && b.off;
		out->k = k_and(a.k, b.k);
	} else {
		out->off = a.off || b.off;
		out->k = k_or(a.k, b.k);
	}
	return 0;
}

/* Opcodes with operands and no subexpression. */
static int op_leaf(struct re *r, uint32_t code, struct tv *out)
{
	const struct msign_req_ctx *ctx = r->ctx;
	const uint8_t *p;
	size_t n;
	int rc;
	switch (code) {
	case REQ_OP_IDENT:
		rc = re_data(r, "identifier", &p, &n);
		*out = tv_of(rc == 0 && ctx->ident != NULL && n == ctx->ident_len &&
			     memcmp(p, ctx->ident, n) == 0);
		return rc;
	case REQ_OP_CDHASH:
		rc = re_data(r, "cdhash", &p, &n);
		*out = tv_of(rc == 0 && ctx->ident != NULL && ctx->cdhash != NULL &&
			     n == ctx->cdhash_len && memcmp(p, ctx->cdhash, n) == 0);
		return rc;
	case REQ_OP_PLATFORM: {
		int32_t v;
		rc = re_i32(r, "platform", &v);
		*out = tv_of(ctx->ident != NULL && v >= 0 && (uint32_t)v == ctx->platform);
		return rc;
	}
	case REQ_OP_APPLE_ANCHOR:
		return op_apple_signed(r, out);
	case REQ_OP_INFO_KEY_VALUE:
		return op_plist_field(r, true, true, out);
	case REQ_OP_INFO_KEY_FIELD:
		return op_plist_field(r, true, false, out);
	case REQ_OP_ENTITLEMENT_FIELD:
		return op_plist_field(r, false, false, out);
	case REQ_OP_ANCHOR_HASH:
		return op_anchor_hash(r, out);
	case REQ_OP_CERT_FIELD:
		return op_cert_field(r, out);
	case REQ_OP_CERT_GENERIC:
	case REQ_OP_CERT_POLICY:
	case REQ_OP_CERT_FIELD_DATE:
		return op_cert_oid(r, code, out);
	case REQ_OP_TRUSTED_CERT:
		return op_trusted_cert(r, out);
	case REQ_OP_NAMED_ANCHOR:
	case REQ_OP_NAMED_CODE:
		/* Fragments Security.framework loads from its own resources. */
		rc = re_data(r, "fragment name", &p, &n);
		r->unknown |= MSIGN_REQ_UNKNOWN_NAMED;
		*out = tv_unknown;
		return rc;
	default:
		return msign_diag_set(r->d, MSIGN_E_INTERNAL, r->base + r->c.off,
				      "internal: opcode %" PRIu32 " reached op_leaf", code);
	}
}

/* Opcodes without operands. */
static bool op_simple(struct re *r, uint32_t code, struct tv *out)
{
	switch (code) {
	case REQ_OP_FALSE:
		*out = tv_of(false);
		return true;
	case REQ_OP_TRUE:
		*out = tv_of(true);
		return true;
	case REQ_OP_APPLE_GENERIC_ANCHOR:
		*out = tv_of(apple_anchored(r));
		return true;
	case REQ_OP_TRUSTED_CERTS:
		*out = r->ncerts == 0 ? tv_of(false) : trusted_slot(r, true);
		return true;
	case REQ_OP_NOTARIZED:
		/* A notarization ticket lookup (SecAssessmentTicketLookup):
		 * offline and without the ticket database, false. */
		r->unknown |= MSIGN_REQ_UNKNOWN_NOTARIZED;
		*out = tv_unknown;
		return true;
	case REQ_OP_LEGACY_DEVID:
		*out = op_legacy(r);
		return true;
	default:
		return false;
	}
}

static int re_eval(struct re *r, unsigned depth, struct tv *out)
{
	size_t at = r->c.off;
	if (depth > MSIGN_REQ_MAX_DEPTH)
		return msign_diag_set(r->d, MSIGN_E_LIMIT, r->base + at,
				      "requirement nests deeper than %d levels at offset %zu",
				      MSIGN_REQ_MAX_DEPTH, at);
	for (;;) { /* a loop, not recursion, over generic-skip opcodes */
		at = r->c.off;
		uint32_t op;
		int rc = re_u32(r, "opcode", &op);
		if (rc != 0)
			return rc;
		if (++r->ops > MSIGN_REQ_MAX_OPS)
			return msign_diag_set(r->d, MSIGN_E_LIMIT, r->base + at,
					      "requirement has more than %d opcodes (at offset %zu)",
					      MSIGN_REQ_MAX_OPS, at);
		/* Known opcodes ignore the flag byte, as Apple's switch does. */
		uint32_t code = op & ~REQ_OP_FLAG_MASK;
		if (code < REQ_OP_COUNT) {
			if (op_simple(r, code, out))
				return 0;
			if (code == REQ_OP_AND || code == REQ_OP_OR)
				return op_binary(r, code, depth, out);
			if (code == REQ_OP_NOT) {
				rc = re_eval(r, depth + 1, out);
				if (rc != 0)
					return rc;
				out->off = !out->off;
				if (out->k != K_UNKNOWN)
					out->k = out->k == K_TRUE ? K_FALSE : K_TRUE;
				return 0;
			}
			return op_leaf(r, code, out);
		}
		rc = msign_req_skip_generic(&r->c, r->base, op, at, r->d);
		if (rc != 0)
			return rc;
		if (op & REQ_OP_GENERIC_FALSE) {
			*out = tv_of(false);
			return 0;
		}
		/* generic-skip: the next expression stands in its place */
	}
}

/* ---- entry points ------------------------------------------------------- */

static void re_free(struct re *r)
{
	for (size_t i = 0; r->certs != NULL && i < r->ncerts; i++)
		msign_rqe_x509_free(r->certs[i]);
	free(r->certs);
	if (r->info != NULL)
		plist_free(r->info);
	if (r->ent != NULL)
		plist_free(r->ent);
}

static int re_certs(struct re *r, struct msign_diag *d)
{
	const struct msign_req_ctx *ctx = r->ctx;
	if (ctx->adhoc || ctx->ncerts == 0)
		return 0; /* ad-hoc code has no certificates for Apple either */
	if (ctx->certs == NULL)
		return msign_diag_set(d, MSIGN_E_ARG, 0, "msign_req_eval: %zu certificates but no array",
				      ctx->ncerts);
	if (ctx->ncerts > RE_MAX_CERTS)
		return msign_diag_set(d, MSIGN_E_LIMIT, 0,
				      "certificate chain of %zu exceeds the limit of %u",
				      ctx->ncerts, RE_MAX_CERTS);
	r->certs = calloc(ctx->ncerts, sizeof(*r->certs));
	if (r->certs == NULL)
		return msign_diag_set(d, MSIGN_E_NOMEM, 0, "out of memory");
	for (size_t i = 0; i < ctx->ncerts; i++) {
		r->certs[i] = msign_rqe_x509_parse(ctx->certs[i].der, ctx->certs[i].len);
		r->ncerts = i + 1;
		if (r->certs[i] == NULL)
			return msign_diag_set(d, MSIGN_E_CRYPTO, 0,
					      "certificate %zu of the chain (%zu bytes) is not DER X.509",
					      i, ctx->certs[i].len);
	}
	return 0;
}

/* Evaluate the requirement at the start of win (base: its offset). */
static int req_eval_win(const struct msign_cur *win, uint64_t base,
			const struct msign_req_ctx *ctx,
			struct msign_req_outcome *out, struct msign_diag *d)
{
	uint32_t magic, len, kind;
	if (win->len < RE_HDR_LEN)
		return msign_diag_set(d, MSIGN_E_TRUNCATED, base,
				      "requirement needs a %u-byte header but only %zu bytes are present",
				      RE_HDR_LEN, win->len);
	if (msign_cur_peek_be32(win, 0, &magic) != 0 ||
	    msign_cur_peek_be32(win, MSIGN_BLOB_OFF_LEN, &len) != 0 ||
	    msign_cur_peek_be32(win, MSIGN_BLOB_HEADER_LEN, &kind) != 0)
		return MSIGN_E_TRUNCATED; /* unreachable: length checked */
	if (magic != MSIGN_CSMAGIC_REQUIREMENT)
		return msign_diag_set(d, MSIGN_E_BAD_MAGIC, base,
				      "requirement magic 0x%08" PRIx32 " is not 0x%08x",
				      magic, MSIGN_CSMAGIC_REQUIREMENT);
	if (len < RE_HDR_LEN || len > win->len)
		return msign_diag_set(d, len < RE_HDR_LEN ? MSIGN_E_INVALID : MSIGN_E_BAD_RANGE,
				      base + MSIGN_BLOB_OFF_LEN,
				      "requirement length %" PRIu32 " is outside %u..%zu",
				      len, RE_HDR_LEN, win->len);
	if (kind != RE_KIND_EXPR)
		return msign_diag_set(d, MSIGN_E_UNSUPPORTED, base + MSIGN_BLOB_HEADER_LEN,
				      "requirement kind %" PRIu32 " is not %u (expression)",
				      kind, RE_KIND_EXPR);
	struct re r = { .ctx = ctx, .d = d, .base = base };
	if (msign_cur_sub(win, 0, len, &r.c) != 0)
		return MSIGN_E_BAD_RANGE; /* unreachable: len checked */
	r.c.off = RE_HDR_LEN;
	struct tv t = { false, K_FALSE };
	int rc = re_certs(&r, d);
	if (rc == 0)
		rc = re_eval(&r, 0, &t);
	re_free(&r);
	if (rc != 0)
		return rc;
	out->value = t.off;
	out->unknowable = t.k == K_UNKNOWN;
	out->unknown_ops = r.unknown;
	return 0;
}

int msign_req_eval_outcome(const uint8_t *blob, size_t len,
			   const struct msign_req_ctx *ctx,
			   struct msign_req_outcome *out, struct msign_diag *d)
{
	if (out == NULL || ctx == NULL || (blob == NULL && len != 0))
		return msign_diag_set(d, MSIGN_E_ARG, 0, "msign_req_eval: NULL argument");
	memset(out, 0, sizeof(*out));
	struct msign_cur win = msign_cur_make(blob, len);
	return req_eval_win(&win, 0, ctx, out, d);
}

int msign_req_eval(const uint8_t *blob, size_t len,
		   const struct msign_req_ctx *ctx, bool *result,
		   struct msign_diag *d)
{
	struct msign_req_outcome o;
	if (result == NULL)
		return msign_diag_set(d, MSIGN_E_ARG, 0, "msign_req_eval: NULL argument");
	*result = false;
	int rc = msign_req_eval_outcome(blob, len, ctx, &o, d);
	if (rc == 0)
		*result = o.value;
	return rc;
}

int msign_reqset_eval(const uint8_t *blob, size_t len, uint32_t type,
		      const struct msign_req_ctx *ctx, bool *found,
		      struct msign_req_outcome *out, struct msign_diag *d)
{
	if (found == NULL || out == NULL || ctx == NULL || (blob == NULL && len != 0))
		return msign_diag_set(d, MSIGN_E_ARG, 0, "msign_reqset_eval: NULL argument");
	*found = false;
	memset(out, 0, sizeof(*out));
	struct msign_cur win = msign_cur_make(blob, len);
	uint32_t magic, slen, n;
	if (len < MSIGN_SB_HEADER_LEN)
		return msign_diag_set(d, MSIGN_E_TRUNCATED, 0,
				      "requirement set needs a %u-byte header but only %zu bytes are present",
				      MSIGN_SB_HEADER_LEN, len);
	if (msign_cur_peek_be32(&win, 0, &magic) != 0 ||
	    msign_cur_peek_be32(&win, MSIGN_BLOB_OFF_LEN, &slen) != 0 ||
	    msign_cur_peek_be32(&win, MSIGN_SB_OFF_COUNT, &n) != 0)
		return MSIGN_E_TRUNCATED; /* unreachable: length checked */
	if (magic != MSIGN_CSMAGIC_REQUIREMENTS)
		return msign_diag_set(d, MSIGN_E_BAD_MAGIC, 0,
				      "requirement set magic 0x%08" PRIx32 " is not 0x%08x",
				      magic, MSIGN_CSMAGIC_REQUIREMENTS);
	if (slen < MSIGN_SB_HEADER_LEN || slen > len)
		return msign_diag_set(d, MSIGN_E_BAD_RANGE, MSIGN_BLOB_OFF_LEN,
				      "requirement set length %" PRIu32 " is outside %u..%zu",
				      slen, MSIGN_SB_HEADER_LEN, len);
	/* Check the count by division: the index must fit after the header. */
	if (n > (slen - MSIGN_SB_HEADER_LEN) / MSIGN_SB_INDEX_LEN)
		return msign_diag_set(d, MSIGN_E_BAD_RANGE, MSIGN_SB_OFF_COUNT,
				      "requirement set count %" PRIu32 " does not fit its %" PRIu32 " bytes",
				      n, slen);
	struct msign_cur set;
	if (msign_cur_sub(&win, 0, slen, &set) != 0)
		return MSIGN_E_BAD_RANGE; /* unreachable: slen checked */
	uint64_t index_end = MSIGN_SB_HEADER_LEN + (uint64_t)MSIGN_SB_INDEX_LEN * n;
	uint32_t want_off = 0;
	for (uint32_t i = 0; i < n; i++) {
		size_t at = MSIGN_SB_HEADER_LEN + (size_t)i * MSIGN_SB_INDEX_LEN;
		uint32_t t, off;
		if (msign_cur_peek_be32(&set, at, &t) != 0 ||
		    msign_cur_peek_be32(&set, at + MSIGN_SB_INDEX_OFF_OFFSET, &off) != 0)
			return MSIGN_E_TRUNCATED; /* unreachable: count checked */
		if (off < index_end || off >= slen)
			return msign_diag_set(d, MSIGN_E_BAD_RANGE, at + MSIGN_SB_INDEX_OFF_OFFSET,
					      "requirement %" PRIu32 " offset %" PRIu32 " is outside %" PRIu64 "..%" PRIu32,
					      i, off, index_end, slen);
		if (t == type && !*found) {
			*found = true;
			want_off = off;
		}
	}
	if (!*found)
		return 0;
	struct msign_cur req;
	if (msign_cur_sub(&set, want_off, slen - want_off, &req) != 0)
		return MSIGN_E_BAD_RANGE; /* unreachable: off checked */
	bool fresh = msign_diag_fresh(d);
	int rc = req_eval_win(&req, 0, ctx, out, d);
	return msign_diag_rebase(d, fresh, want_off, rc);
}
