/* Requirement decompiler: the text `codesign -d -r-` prints.
 *
 * A requirement (0xfade0c00) is {magic, length, kind} followed by a program
 * of big-endian u32 opcodes in prefix order; a requirement set (0xfade0c01)
 * is a small SuperBlob indexing requirements by type. The text follows the
 * semantics of Apple's reqdumper.cpp (Security framework); where Apple's
 * dumper cannot continue (generic opcodes) we follow its interpreter,
 * reqinterp.cpp, instead. Every byte is read through the cursor of cur.h,
 * every nesting level and opcode is counted, and the text is capped, so a
 * hostile blob costs bounded stack, time and memory. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cur.h"
#include "sig/reqlang.h"
#include "sig/codesign.h"
#include "sig/req.h"
#include "sig/cms.h"
#include "sig/ent.h"
#include "hash/hash.h"
#include "msign/err.h"

/* Layout of the two blobs (requirement.h). */
#define REQ_HDR_LEN 12u        /* magic, length, kind */
#define REQ_KIND_EXPR 1u       /* exprForm: the only kind with a program */
/* A set is a SuperBlob (codesign.h): MSIGN_SB_HEADER_LEN, then an index
 * entry of MSIGN_SB_INDEX_LEN bytes a requirement. */

/* Opcodes and match operations: REQ_OP_* and REQ_MATCH_* of reqlang.h. */

/* Apple's reqdumper SyntaxLevel: an operand printed at a lower level than
 * its operator needs parentheses. */
enum { SL_PRIMARY, SL_AND, SL_OR, SL_TOP };

/* Hard cap on the text of one call: blob sizes are bounded by the file, but
 * hex doubles data and set entries may share one requirement, so the text is
 * capped on its own. Real requirement sets print well under 4 KiB. */
#define REQ_MAX_TEXT (8u * 1024u * 1024u)

/* 2001-01-01 (CFAbsoluteTime zero) in days after 1970-01-01. */
#define CF_EPOCH_DAYS 11323

/* The requirement language's reserved words (Apple's RequirementKeywords.h,
 * generated from the grammar's literals). Apple's table also holds "", so an
 * empty value prints as "" instead of vanishing. */
static const char *const req_keywords[] = {
	"guest", "host", "designated", "library", "plugin", "or", "and",
	"always", "true", "never", "false", "identifier", "cdhash", "platform",
	"notarized", "legacy", "anchor", "apple", "generic", "certificate",
	"cert", "trusted", "info", "entitlement", "exists", "absent", "leaf",
	"root", "timestamp", "",
};

/* Opcodes that print a constant word and carry no operands. */
static const char *const op_words[REQ_OP_COUNT] = {
	[REQ_OP_FALSE] = "never",
	[REQ_OP_TRUE] = "always",
	[REQ_OP_APPLE_ANCHOR] = "anchor apple",
	[REQ_OP_TRUSTED_CERTS] = "anchor trusted",
	[REQ_OP_APPLE_GENERIC_ANCHOR] = "anchor apple generic",
	[REQ_OP_NOTARIZED] = "notarized",
	[REQ_OP_LEGACY_DEVID] = "legacy",
};

/* Text between the field and the value, by match operation; 3 (beginsWith)
 * also appends "*", 9..13 take a timestamp instead of a string. */
static const char *const match_ops[] = {
	" /* exists */", " = ", " ~ ", " = ", " = *", " < ", " > ", " <= ",
	" >= ", " = ", " < ", " > ", " <= ", " >= ", " absent ",
};

static const char *const req_type_names[] = {
	NULL, "host", "guest", "designated", "library", "plugin",
};

/* ---- growable text ------------------------------------------------------ */

struct rq_text {
	char *p;    /* NUL-terminated once anything was written */
	size_t len;
	size_t cap;
};

/* Make room for add more bytes plus the NUL; fails with LIMIT past the cap. */
static int text_reserve(struct rq_text *t, size_t add, struct msign_diag *d,
			uint64_t off)
{
	if (add > REQ_MAX_TEXT - t->len)
		return msign_diag_set(d, MSIGN_E_LIMIT, off,
				      "requirement text of %zu bytes plus %zu more exceeds the %u-byte limit",
				      t->len, add, REQ_MAX_TEXT);
	size_t need = t->len + add + 1; /* <= REQ_MAX_TEXT + 1 */
	if (need <= t->cap)
		return 0;
	size_t cap = t->cap != 0 ? t->cap : 128;
	while (cap < need)
		cap *= 2; /* stays below 2 * (REQ_MAX_TEXT + 1) */
	char *p = realloc(t->p, cap);
	if (p == NULL)
		return msign_diag_set(d, MSIGN_E_NOMEM, off,
				      "cannot grow requirement text to %zu bytes", cap);
	t->p = p;
	t->cap = cap;
	return 0;
}

static int text_put(struct rq_text *t, const char *s, size_t n,
		    struct msign_diag *d, uint64_t off)
{
	int rc = text_reserve(t, n, d, off);
	if (rc != 0)
		return rc;
	memcpy(t->p + t->len, s, n);
	t->len += n;
	t->p[t->len] = '\0';
	return 0;
}

static int text_printf(struct rq_text *t, struct msign_diag *d, uint64_t off,
		       const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Only for numbers: every format used here fits the local buffer. */
static int text_printf(struct rq_text *t, struct msign_diag *d, uint64_t off,
		       const char *fmt, ...)
{
	char tmp[128];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(tmp))
		return msign_diag_set(d, MSIGN_E_INVALID, off,
				      "internal: formatted number of %d bytes", n);
	return text_put(t, tmp, (size_t)n, d, off);
}

/* ---- decompiler state and reads ----------------------------------------- */

struct rq {
	struct msign_cur c;   /* the requirement blob, positioned in its program */
	struct rq_text *out;
	struct msign_diag *d;
	uint64_t base;        /* the blob's offset in the caller's window (diag) */
	uint32_t ops;         /* opcodes decoded so far */
};

static uint64_t rq_off(const struct rq *r)
{
	return r->base + r->c.off;
}

static int rq_put(struct rq *r, const char *s)
{
	return text_put(r->out, s, strlen(s), r->d, rq_off(r));
}

int msign_req_read_u32(struct msign_cur *c, uint64_t base, const char *what,
		       uint32_t *v, struct msign_diag *d)
{
	size_t at = c->off;
	if (msign_cur_get_be32(c, v) != 0)
		return msign_diag_set(d, MSIGN_E_TRUNCATED, base + at,
				      "requirement %s at offset %zu needs 4 bytes but only %zu remain",
				      what, at, c->len - at);
	return 0;
}

int msign_req_read_data(struct msign_cur *c, uint64_t base, const char *what,
			const uint8_t **p, size_t *n, struct msign_diag *d)
{
	size_t at = c->off;
	uint32_t len;
	int rc = msign_req_read_u32(c, base, what, &len, d);
	if (rc != 0)
		return rc;
	if (len > msign_cur_left(c))
		return msign_diag_set(d, MSIGN_E_TRUNCATED, base + at,
				      "requirement %s at offset %zu has length %" PRIu32 " but only %zu bytes remain",
				      what, at, len, msign_cur_left(c));
	if (msign_cur_get_bytes(c, len, p) != 0)
		return MSIGN_E_TRUNCATED; /* unreachable: checked above */
	*n = len;
	size_t pad = (4u - (len & 3u)) & 3u;
	if (pad > msign_cur_left(c))
		pad = msign_cur_left(c);
	return msign_cur_skip(c, pad);
}

static int rq_u32(struct rq *r, const char *what, uint32_t *v)
{
	return msign_req_read_u32(&r->c, r->base, what, v, r->d);
}

static int rq_data(struct rq *r, const char *what, const uint8_t **p,
		   size_t *n)
{
	return msign_req_read_data(&r->c, r->base, what, p, n, r->d);
}

/* ---- values ------------------------------------------------------------- */

/* ASCII classes, as Apple's isalnum/isgraph/isspace see them in the C
 * locale; bytes >= 0x80 are binary whatever the user's locale. */
static bool rq_isdigit(uint8_t c)
{
	return c >= '0' && c <= '9';
}

static bool rq_isalnum(uint8_t c)
{
	return rq_isdigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Apple quotes every isspace byte; msign quotes space and TAB only, so a
 * value with a line break (LF, VT, FF, CR) is printed as hex, which reads
 * back as the same bytes and cannot forge a line of -r- output. */
static bool rq_isprint_or_space(uint8_t c)
{
	return (c > ' ' && c < 0x7f) || c == ' ' || c == '\t';
}

bool msign_req_is_keyword(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < sizeof(req_keywords) / sizeof(req_keywords[0]); i++)
		if (strlen(req_keywords[i]) == n && memcmp(req_keywords[i], p, n) == 0)
			return true;
	return false;
}

#define MODE_SIMPLE MSIGN_REQ_BARE
#define MODE_QUOTED MSIGN_REQ_QUOTED
#define MODE_HEX MSIGN_REQ_HEX

/* Apple's Dumper::data(): bare when alphanumeric (dots too in keys and
 * field names), not led by a digit and not a keyword; quoted when every
 * byte is printable, space or TAB; else hex (line breaks too: see
 * rq_isprint_or_space). */
enum msign_req_quoting msign_req_value_quoting(const uint8_t *p, size_t n,
					       bool dot_ok)
{
	enum msign_req_quoting mode = MODE_SIMPLE;
	for (size_t i = 0; i < n; i++) {
		if (rq_isalnum(p[i]) || (p[i] == '.' && dot_ok)) {
			if (i == 0 && rq_isdigit(p[i]))
				mode = MODE_QUOTED;
		} else if (rq_isprint_or_space(p[i])) {
			mode = MODE_QUOTED;
		} else {
			return MODE_HEX;
		}
	}
	if (mode == MODE_SIMPLE && msign_req_is_keyword(p, n))
		mode = MODE_QUOTED;
	return mode;
}

static int rq_hex(struct rq *r, const uint8_t *p, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	struct rq_text *t = r->out;
	if (n > REQ_MAX_TEXT / 2)
		return msign_diag_set(r->d, MSIGN_E_LIMIT, rq_off(r),
				      "%zu bytes of hex exceed the %u-byte text limit",
				      n, REQ_MAX_TEXT);
	int rc = text_reserve(t, 2 * n, r->d, rq_off(r));
	if (rc != 0)
		return rc;
	for (size_t i = 0; i < n; i++) {
		t->p[t->len++] = digits[p[i] >> 4];
		t->p[t->len++] = digits[p[i] & 15];
	}
	t->p[t->len] = '\0';
	return 0;
}

static int rq_quoted(struct rq *r, const uint8_t *p, size_t n)
{
	struct rq_text *t = r->out;
	size_t escapes = 0;
	for (size_t i = 0; i < n; i++)
		escapes += p[i] == '"' || p[i] == '\\';
	if (n > REQ_MAX_TEXT / 2)
		return msign_diag_set(r->d, MSIGN_E_LIMIT, rq_off(r),
				      "%zu-byte string exceeds the %u-byte text limit",
				      n, REQ_MAX_TEXT);
	int rc = text_reserve(t, n + escapes + 2, r->d, rq_off(r));
	if (rc != 0)
		return rc;
	t->p[t->len++] = '"';
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '"' || p[i] == '\\')
			t->p[t->len++] = '\\';
		t->p[t->len++] = (char)p[i];
	}
	t->p[t->len++] = '"';
	t->p[t->len] = '\0';
	return 0;
}

static int rq_value(struct rq *r, bool dot_ok)
{
	const uint8_t *p = NULL;
	size_t n = 0;
	int rc = rq_data(r, "string", &p, &n);
	if (rc != 0)
		return rc;
	switch (msign_req_value_quoting(p, n, dot_ok)) {
	case MODE_SIMPLE:
		return text_put(r->out, (const char *)p, n, r->d, rq_off(r));
	case MODE_QUOTED:
		return rq_quoted(r, p, n);
	default:
		rc = rq_put(r, "0x");
		return rc != 0 ? rc : rq_hex(r, p, n);
	}
}

/* H"<hex>" for certificate and cdhash hashes, whatever their length. */
static int rq_hash(struct rq *r)
{
	const uint8_t *p = NULL;
	size_t n = 0;
	int rc = rq_data(r, "hash", &p, &n);
	if (rc == 0)
		rc = rq_put(r, "H\"");
	if (rc == 0)
		rc = rq_hex(r, p, n);
	return rc != 0 ? rc : rq_put(r, "\"");
}

static int rq_cert_slot(struct rq *r)
{
	uint32_t v;
	int rc = rq_u32(r, "certificate slot", &v);
	if (rc != 0)
		return rc;
	int32_t slot = v <= INT32_MAX ? (int32_t)v : -(int32_t)(~v) - 1;
	if (slot == 0)
		return rq_put(r, " leaf");
	if (slot == -1)
		return rq_put(r, " root");
	return text_printf(r->out, r->d, rq_off(r), " %" PRId32, slot);
}

static int rq_oid_arc(struct rq *r, uint64_t arc, bool first)
{
	if (!first)
		return text_printf(r->out, r->d, rq_off(r), ".%" PRIu64, arc);
	/* X.690: the first subidentifier packs two arcs, the first 0, 1 or 2. */
	uint64_t top = arc < 40 ? 0 : arc < 80 ? 1 : 2;
	return text_printf(r->out, r->d, rq_off(r), "%" PRIu64 ".%" PRIu64,
			   top, arc - top * 40);
}

/* DER OID contents to dotted text after prefix ("field." etc.). An arc
 * past 64 bits, a non-minimal arc (leading 0x80) or a final byte with the
 * continuation bit set is rejected rather than printed wrong. */
static int rq_oid(struct rq *r, const char *prefix)
{
	size_t at = r->c.off;
	const uint8_t *p = NULL;
	size_t n = 0;
	int rc = rq_data(r, "OID", &p, &n);
	if (rc == 0)
		rc = rq_put(r, prefix);
	uint64_t arc = 0;
	bool first = true, fresh = true;
	for (size_t i = 0; rc == 0 && i < n; i++) {
		if ((fresh && p[i] == 0x80) || arc > (UINT64_MAX >> 7))
			return msign_diag_set(r->d, MSIGN_E_INVALID, r->base + at,
					      "OID at offset %zu: arc at byte %zu is %s",
					      at, i, fresh ? "not minimally encoded" : "longer than 64 bits");
		arc = arc << 7 | (p[i] & 0x7fu);
		fresh = (p[i] & 0x80u) == 0;
		if (!fresh)
			continue;
		rc = rq_oid_arc(r, arc, first);
		first = false;
		arc = 0;
	}
	if (rc == 0 && !fresh)
		return msign_diag_set(r->d, MSIGN_E_INVALID, r->base + at,
				      "OID at offset %zu: last of its %zu bytes continues an arc",
				      at, n);
	return rc;
}

/* Days from 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
 * days_from_civil), the inverse of rq_civil below: the compiler's and the
 * evaluator's dates. */
int64_t msign_req_days_from_civil(int64_t y, unsigned m, unsigned dd)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + dd - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

/* Civil date of a day count from 1970-01-01 (proleptic Gregorian; after
 * H. Hinnant's days_from_civil inverse). Exact for every int64 day count
 * derived from an int64 second count. */
static void rq_civil(int64_t days, int64_t *y, unsigned *m, unsigned *dd)
{
	int64_t z = days + 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	*dd = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

/* A big-endian int64 CFAbsoluteTime, printed as Apple's dumper does:
 * "<%s>" around the CFDate description, "YYYY-MM-DD HH:MM:SS +0000". */
int msign_req_read_time(struct msign_cur *c, uint64_t base, int64_t *t,
			struct msign_diag *d)
{
	size_t at = c->off;
	uint64_t v;
	if (msign_cur_get_be64(c, &v) != 0)
		return msign_diag_set(d, MSIGN_E_TRUNCATED, base + at,
				      "requirement timestamp at offset %zu needs 8 bytes but only %zu remain",
				      at, c->len - at);
	*t = v <= INT64_MAX ? (int64_t)v : -(int64_t)(~v) - 1;
	return 0;
}

static int rq_timestamp(struct rq *r)
{
	int64_t t = 0;
	int rc = msign_req_read_time(&r->c, r->base, &t, r->d);
	if (rc != 0)
		return rc;
	int64_t days = t / 86400, secs = t % 86400;
	if (secs < 0) {
		days--;
		secs += 86400;
	}
	int64_t y;
	unsigned mo, dd;
	rq_civil(days + CF_EPOCH_DAYS, &y, &mo, &dd);
	return text_printf(r->out, r->d, rq_off(r),
			   "<%04" PRId64 "-%02u-%02u %02u:%02u:%02u +0000>", y, mo, dd,
			   (unsigned)(secs / 3600), (unsigned)(secs / 60 % 60),
			   (unsigned)(secs % 60));
}

static int rq_match(struct rq *r)
{
	size_t at = r->c.off;
	uint32_t op;
	int rc = rq_u32(r, "match operation", &op);
	if (rc != 0)
		return rc;
	if (op > REQ_MATCH_ABSENT)
		return msign_diag_set(r->d, MSIGN_E_UNSUPPORTED, r->base + at,
				      "unknown match operation %" PRIu32 " at offset %zu",
				      op, at);
	rc = rq_put(r, match_ops[op]);
	if (rc != 0 || op == REQ_MATCH_EXISTS || op == REQ_MATCH_ABSENT)
		return rc;
	if (op >= REQ_MATCH_ON && op <= REQ_MATCH_ON_OR_AFTER)
		return rq_timestamp(r);
	rc = rq_value(r, false);
	if (rc == 0 && op == REQ_MATCH_BEGINS_WITH)
		rc = rq_put(r, "*");
	return rc;
}

/* ---- expressions -------------------------------------------------------- */

static int rq_expr(struct rq *r, int level, unsigned depth);

/* "<key>]" then the match, for info[, entitlement[ and certificate slot[. */
static int rq_field(struct rq *r)
{
	int rc = rq_value(r, true);
	if (rc == 0)
		rc = rq_put(r, "]");
	return rc != 0 ? rc : rq_match(r);
}

/* certificate <slot>[<prefix><oid>]<match> */
static int rq_cert_oid(struct rq *r, const char *prefix)
{
	int rc = rq_put(r, "certificate");
	if (rc == 0)
		rc = rq_cert_slot(r);
	if (rc == 0)
		rc = rq_put(r, "[");
	if (rc == 0)
		rc = rq_oid(r, prefix);
	if (rc == 0)
		rc = rq_put(r, "]");
	return rc != 0 ? rc : rq_match(r);
}

/* "certificate <slot>" and what follows the slot. Apple prints the
 * trusted form as certSlot() then "trusted", with no space between. */
static int rq_cert(struct rq *r, uint32_t op)
{
	int rc = rq_put(r, "certificate");
	if (rc == 0)
		rc = rq_cert_slot(r);
	if (rc != 0)
		return rc;
	if (op == REQ_OP_TRUSTED_CERT)
		return rq_put(r, "trusted");
	if (op == REQ_OP_ANCHOR_HASH) {
		rc = rq_put(r, " = ");
		return rc != 0 ? rc : rq_hash(r);
	}
	rc = rq_put(r, "[");
	return rc != 0 ? rc : rq_field(r);
}

static int rq_binary(struct rq *r, uint32_t op, int level, unsigned depth)
{
	int inner = op == REQ_OP_AND ? SL_AND : SL_OR;
	bool paren = level < inner;
	int rc = paren ? rq_put(r, "(") : 0;
	if (rc == 0)
		rc = rq_expr(r, inner, depth + 1);
	if (rc == 0)
		rc = rq_put(r, op == REQ_OP_AND ? " and " : " or ");
	if (rc == 0)
		rc = rq_expr(r, inner, depth + 1);
	if (rc == 0 && paren)
		rc = rq_put(r, ")");
	return rc;
}

/* Opcodes with operands but no subexpression. */
static int rq_leaf(struct rq *r, uint32_t op)
{
	int rc;
	switch (op) {
	case REQ_OP_IDENT:
		rc = rq_put(r, "identifier ");
		return rc != 0 ? rc : rq_value(r, false);
	case REQ_OP_INFO_KEY_VALUE: /* legacy form: info[key] = value */
		rc = rq_put(r, "info[");
		if (rc == 0)
			rc = rq_value(r, true);
		if (rc == 0)
			rc = rq_put(r, "] = ");
		return rc != 0 ? rc : rq_value(r, false);
	case REQ_OP_CDHASH:
		rc = rq_put(r, "cdhash ");
		return rc != 0 ? rc : rq_hash(r);
	case REQ_OP_INFO_KEY_FIELD:
		rc = rq_put(r, "info[");
		return rc != 0 ? rc : rq_field(r);
	case REQ_OP_ENTITLEMENT_FIELD:
		rc = rq_put(r, "entitlement[");
		return rc != 0 ? rc : rq_field(r);
	case REQ_OP_ANCHOR_HASH:
	case REQ_OP_CERT_FIELD:
	case REQ_OP_TRUSTED_CERT:
		return rq_cert(r, op);
	case REQ_OP_CERT_GENERIC:
		return rq_cert_oid(r, "field.");
	case REQ_OP_CERT_POLICY:
		return rq_cert_oid(r, "policy.");
	case REQ_OP_CERT_FIELD_DATE:
		return rq_cert_oid(r, "timestamp.");
	case REQ_OP_NAMED_ANCHOR:
		rc = rq_put(r, "anchor apple ");
		return rc != 0 ? rc : rq_value(r, false);
	case REQ_OP_NAMED_CODE:
		rc = rq_put(r, "(");
		if (rc == 0)
			rc = rq_value(r, false);
		return rc != 0 ? rc : rq_put(r, ")");
	case REQ_OP_PLATFORM: {
		uint32_t v;
		rc = rq_u32(r, "platform", &v);
		int32_t platform = v <= INT32_MAX ? (int32_t)v : -(int32_t)(~v) - 1;
		return rc != 0 ? rc : text_printf(r->out, r->d, rq_off(r),
						   "platform = %" PRId32, platform);
	}
	default: /* rq_expr dispatches every other opcode itself */
		return msign_diag_set(r->d, MSIGN_E_INVALID, rq_off(r),
				      "internal: opcode %" PRIu32 " reached rq_leaf", op);
	}
}

/* An opcode we do not know carries a u32 length and that many bytes (Apple's
 * Reader::skip, unpadded) when a generic flag allows it. Generic-false is a
 * leaf that is false; generic-skip is ignored and the next expression takes
 * its place (reqinterp.cpp). Apple's dumper prints the comments below but
 * does not consume the operand; we do, so the text after stays meaningful. */
int msign_req_skip_generic(struct msign_cur *c, uint64_t base, uint32_t op,
			   size_t at, struct msign_diag *d)
{
	uint32_t code = op & ~REQ_OP_FLAG_MASK;
	if ((op & (REQ_OP_GENERIC_FALSE | REQ_OP_GENERIC_SKIP)) == 0)
		return msign_diag_set(d, MSIGN_E_UNSUPPORTED, base + at,
				      "unknown requirement opcode %" PRIu32 " (0x%08" PRIx32 ") at offset %zu",
				      code, op, at);
	size_t len_at = c->off;
	uint32_t len;
	int rc = msign_req_read_u32(c, base, "generic operand length", &len, d);
	if (rc != 0)
		return rc;
	if (msign_cur_skip(c, len) != 0)
		return msign_diag_set(d, MSIGN_E_TRUNCATED, base + len_at,
				      "opcode %" PRIu32 " at offset %zu skips %" PRIu32 " bytes but only %zu remain",
				      code, at, len, msign_cur_left(c));
	return 0;
}

static int rq_generic(struct rq *r, uint32_t op, size_t at)
{
	uint32_t code = op & ~REQ_OP_FLAG_MASK;
	int rc = msign_req_skip_generic(&r->c, r->base, op, at, r->d);
	if (rc != 0)
		return rc;
	if (op & REQ_OP_GENERIC_FALSE)
		return text_printf(r->out, r->d, rq_off(r), " false /* opcode %" PRIu32 " */", code);
	return text_printf(r->out, r->d, rq_off(r), " /* opcode %" PRIu32 " */ ", code);
}

static bool rq_op_is_skip(uint32_t op)
{
	return (op & ~REQ_OP_FLAG_MASK) >= REQ_OP_COUNT && (op & REQ_OP_GENERIC_FALSE) == 0 &&
	       (op & REQ_OP_GENERIC_SKIP) != 0;
}

/* Read the next opcode, consuming any generic-skip opcodes before it in a
 * loop (not recursion: a run of them costs no stack). Known opcodes ignore
 * the flag byte, as Apple's switch on (op & ~opFlagMask) does. */
static int rq_next_op(struct rq *r, uint32_t *op, size_t *at)
{
	for (;;) {
		*at = r->c.off;
		int rc = rq_u32(r, "opcode", op);
		if (rc != 0)
			return rc;
		if (++r->ops > MSIGN_REQ_MAX_OPS)
			return msign_diag_set(r->d, MSIGN_E_LIMIT, r->base + *at,
					      "requirement has more than %d opcodes (at offset %zu)",
					      MSIGN_REQ_MAX_OPS, *at);
		if (!rq_op_is_skip(*op))
			return 0;
		rc = rq_generic(r, *op, *at);
		if (rc != 0)
			return rc;
	}
}

static int rq_expr(struct rq *r, int level, unsigned depth)
{
	size_t at = r->c.off;
	if (depth > MSIGN_REQ_MAX_DEPTH)
		return msign_diag_set(r->d, MSIGN_E_LIMIT, r->base + at,
				      "requirement nests deeper than %d levels at offset %zu",
				      MSIGN_REQ_MAX_DEPTH, at);
	uint32_t op;
	int rc = rq_next_op(r, &op, &at);
	if (rc != 0)
		return rc;
	uint32_t code = op & ~REQ_OP_FLAG_MASK;
	if (code >= REQ_OP_COUNT)
		return rq_generic(r, op, at);
	if (op_words[code] != NULL)
		return rq_put(r, op_words[code]);
	if (code == REQ_OP_AND || code == REQ_OP_OR)
		return rq_binary(r, code, level, depth);
	if (code == REQ_OP_NOT) {
		rc = rq_put(r, "! ");
		return rc != 0 ? rc : rq_expr(r, SL_PRIMARY, depth + 1);
	}
	return rq_leaf(r, code);
}

/* ---- blobs -------------------------------------------------------------- */

/* Check {magic, length} at the start of win and narrow *blob to the
 * declared length. Compare before subtracting: length must cover the header
 * and lie inside the window. */
static int blob_open(const struct msign_cur *win, uint64_t base, uint32_t want,
		     const char *what, struct msign_cur *blob, struct msign_diag *d)
{
	uint32_t magic, len;
	if (win->len < REQ_HDR_LEN)
		return msign_diag_set(d, MSIGN_E_TRUNCATED, base,
				      "%s needs a %u-byte header but only %zu bytes are present",
				      what, REQ_HDR_LEN, win->len);
	if (msign_cur_peek_be32(win, MSIGN_BLOB_OFF_MAGIC, &magic) != 0 ||
	    msign_cur_peek_be32(win, MSIGN_BLOB_OFF_LEN, &len) != 0)
		return MSIGN_E_TRUNCATED; /* unreachable: length checked */
	if (magic != want)
		return msign_diag_set(d, MSIGN_E_BAD_MAGIC, base,
				      "%s magic 0x%08" PRIx32 " is not 0x%08" PRIx32,
				      what, magic, want);
	if (len < REQ_HDR_LEN)
		return msign_diag_set(d, MSIGN_E_INVALID,
				      base + MSIGN_BLOB_OFF_LEN,
				      "%s length %" PRIu32 " is shorter than its %u-byte header",
				      what, len, REQ_HDR_LEN);
	if (msign_cur_sub(win, 0, len, blob) != 0)
		return msign_diag_set(d, MSIGN_E_BAD_RANGE,
				      base + MSIGN_BLOB_OFF_LEN,
				      "%s length %" PRIu32 " exceeds the %zu bytes available",
				      what, len, win->len);
	blob->off = MSIGN_BLOB_HEADER_LEN;
	return 0;
}

/* Decompile the requirement at the start of win, appending to out. */
static int req_text(const struct msign_cur *win, uint64_t base,
		    struct rq_text *out, struct msign_diag *d)
{
	struct rq r = { .out = out, .d = d, .base = base };
	int rc = blob_open(win, base, MSIGN_CSMAGIC_REQUIREMENT, "requirement", &r.c, d);
	if (rc != 0)
		return rc;
	uint32_t kind;
	rc = rq_u32(&r, "kind", &kind);
	if (rc != 0)
		return rc;
	if (kind != REQ_KIND_EXPR)
		return msign_diag_set(d, MSIGN_E_UNSUPPORTED,
				      base + MSIGN_BLOB_HEADER_LEN,
				      "requirement kind %" PRIu32 " is not %u (expression)",
				      kind, REQ_KIND_EXPR);
	return rq_expr(&r, SL_TOP, 0);
}

/* Hand the text to the caller; an empty text is still a string. */
static int text_finish(struct rq_text *t, char **out, struct msign_diag *d)
{
	if (t->p == NULL) {
		int rc = text_reserve(t, 0, d, 0);
		if (rc != 0)
			return rc;
		t->p[0] = '\0';
	}
	*out = t->p;
	return 0;
}

int msign_req_decompile(const uint8_t *blob, size_t len, char **out,
			struct msign_diag *d)
{
	if (out == NULL || (blob == NULL && len != 0))
		return msign_diag_set(d, MSIGN_E_ARG, 0, "msign_req_decompile: NULL argument");
	*out = NULL;
	struct msign_cur win = msign_cur_make(blob, len);
	struct rq_text t = { NULL, 0, 0 };
	int rc = req_text(&win, 0, &t, d);
	if (rc == 0 && t.p != NULL && t.p[0] == ' ') {
		/* Apple's Dumper::dump() drops one leading space (left by a
		 * generic opcode's comment); set entries keep it. */
		memmove(t.p, t.p + 1, t.len);
		t.len--;
	}
	if (rc == 0)
		rc = text_finish(&t, out, d);
	if (rc != 0)
		free(t.p);
	return rc;
}

const char *msign_req_type_name(uint32_t type)
{
	if (type >= sizeof(req_type_names) / sizeof(req_type_names[0]))
		return NULL;
	return req_type_names[type];
}

/* One "<type> => <expr>\n" line for the index entry at the cursor. */
/* Entry i of a set appended to t as "<type> => <expr>\n"; a designated
 * entry's expression is t->p[dr[0], dr[1]). */
static int reqset_entry(struct msign_cur *set, uint32_t i, uint32_t count,
			struct rq_text *t, bool *designated, size_t dr[2],
			struct msign_diag *d)
{
	size_t at = set->off;
	uint32_t type, off;
	if (msign_cur_get_be32(set, &type) != 0 || msign_cur_get_be32(set, &off) != 0)
		return MSIGN_E_TRUNCATED; /* unreachable: count checked */
	/* The index ends after count entries; the count check kept that in range. */
	uint64_t index_end = MSIGN_SB_HEADER_LEN + (uint64_t)MSIGN_SB_INDEX_LEN * count;
	if (off < index_end)
		return msign_diag_set(d, MSIGN_E_INVALID, at + MSIGN_SB_INDEX_OFF_OFFSET,
				      "requirement %" PRIu32 " offset %" PRIu32 " lies inside the %" PRIu64 "-byte index",
				      i, off, index_end);
	struct msign_cur win;
	if (off > set->len || msign_cur_sub(set, off, set->len - off, &win) != 0)
		return msign_diag_set(d, MSIGN_E_BAD_RANGE, at + MSIGN_SB_INDEX_OFF_OFFSET,
				      "requirement %" PRIu32 " offset %" PRIu32 " is beyond the set's %zu bytes",
				      i, off, set->len);
	const char *name = msign_req_type_name(type);
	int rc = name != NULL ? text_put(t, name, strlen(name), d, at)
			      : text_printf(t, d, at, "%" PRIu32, type);
	if (rc == 0)
		rc = text_put(t, " => ", 4, d, at);
	size_t start = t->len;
	if (rc == 0)
		rc = req_text(&win, off, t, d);
	if (rc == 0 && type == MSIGN_REQ_TYPE_DESIGNATED && !*designated) {
		dr[0] = start;
		dr[1] = t->len;
	}
	if (rc == 0)
		rc = text_put(t, "\n", 1, d, off);
	if (type == MSIGN_REQ_TYPE_DESIGNATED)
		*designated = true;
	return rc;
}

int msign_reqset_decompile(const uint8_t *blob, size_t len, char **out,
			   uint32_t *count, bool *has_designated,
			   struct msign_diag *d)
{
	return msign_reqset_decompile_dr(blob, len, out, count, has_designated,
					 NULL, d);
}

int msign_reqset_decompile_dr(const uint8_t *blob, size_t len, char **out,
			      uint32_t *count, bool *has_designated,
			      char **designated_expr, struct msign_diag *d)
{
	if (out == NULL || count == NULL || has_designated == NULL ||
	    (blob == NULL && len != 0))
		return msign_diag_set(d, MSIGN_E_ARG, 0, "msign_reqset_decompile: NULL argument");
	*out = NULL;
	if (designated_expr != NULL)
		*designated_expr = NULL;
	*count = 0;
	*has_designated = false;
	struct msign_cur win = msign_cur_make(blob, len), set;
	int rc = blob_open(&win, 0, MSIGN_CSMAGIC_REQUIREMENTS, "requirement set", &set, d);
	if (rc != 0)
		return rc;
	uint32_t n;
	if (msign_cur_get_be32(&set, &n) != 0)
		return MSIGN_E_TRUNCATED; /* unreachable: header checked */
	/* Check the count by division: the index must fit after the header. */
	if (n > (set.len - MSIGN_SB_HEADER_LEN) / MSIGN_SB_INDEX_LEN)
		return msign_diag_set(d, MSIGN_E_BAD_RANGE, MSIGN_SB_OFF_COUNT,
				      "requirement set count %" PRIu32 " needs %" PRIu64 " index bytes but the set has %zu after its header",
				      n, (uint64_t)n * MSIGN_SB_INDEX_LEN, set.len - MSIGN_SB_HEADER_LEN);
	struct rq_text t = { NULL, 0, 0 };
	bool designated = false;
	size_t dr[2] = { 0, 0 };
	for (uint32_t i = 0; rc == 0 && i < n; i++)
		rc = reqset_entry(&set, i, n, &t, &designated, dr, d);
	if (rc == 0)
		rc = text_finish(&t, out, d);
	if (rc != 0) {
		free(t.p);
		return rc;
	}
	if (designated && designated_expr != NULL) {
		*designated_expr = strndup(*out + dr[0], dr[1] - dr[0]);
		if (*designated_expr == NULL) {
			free(*out);
			*out = NULL;
			return msign_diag_set(d, MSIGN_E_NOMEM, 0, "out of memory");
		}
	}
	*count = n;
	*has_designated = designated;
	return 0;
}
