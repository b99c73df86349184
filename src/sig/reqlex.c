/* Requirement compiler, tokens and values: the lexer of Apple's requirement
 * language and the operands it encodes (strings, hex, hashes, numbers,
 * dates), written into the pool of struct rc. Every read is bounded by the
 * text's length; errors name the line and column (msign_rqc_rc_fail). */
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/diag.h"
#include "sig/reqcomp.h"
#include "sig/reqlang.h"
#include "sig/req.h"
#include "msign/err.h"

/* ---- growable bytes ----------------------------------------------------- */

/* "line L, column C: " then the message; offset in d->file_off. */
int msign_rqc_rc_fail(struct rc *r, size_t off, int code, const char *fmt, ...)
{
	if (off > r->len)
		off = r->len;
	unsigned long line = 1, col = 1;
	for (size_t i = 0; i < off; i++) {
		if (r->s[i] == '\n') {
			line++;
			col = 1;
		} else {
			col++;
		}
	}
	char msg[MSIGN_DIAG_MSG_LEN];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return msign_diag_set(r->d, code, off, "requirement text, line %lu column %lu: %s",
			      line, col, msg);
}

int msign_rqc_bytes_reserve(struct rc *r, struct rc_bytes *b, size_t add)
{
	if (add > RC_MAX_BYTES - b->len)
		return msign_rqc_rc_fail(r, r->t.off, MSIGN_E_LIMIT,
			       "the compiled requirement exceeds %u bytes", RC_MAX_BYTES);
	if (b->len + add <= b->cap)
		return 0;
	size_t cap = b->cap != 0 ? b->cap : 256;
	while (cap < b->len + add)
		cap *= 2;
	uint8_t *p = realloc(b->p, cap);
	if (p == NULL)
		return msign_rqc_rc_fail(r, r->t.off, MSIGN_E_NOMEM, "out of memory for %zu bytes", cap);
	b->p = p;
	b->cap = cap;
	return 0;
}

int msign_rqc_bytes_put(struct rc *r, struct rc_bytes *b, const void *p, size_t n)
{
	int rc = msign_rqc_bytes_reserve(r, b, n);
	if (rc == 0 && n != 0) {
		memcpy(b->p + b->len, p, n);
		b->len += n;
	}
	return rc;
}

void msign_rqc_be32_at(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

int msign_rqc_bytes_u32(struct rc *r, struct rc_bytes *b, uint32_t v)
{
	uint8_t w[4];
	msign_rqc_be32_at(w, v);
	return msign_rqc_bytes_put(r, b, w, 4);
}

/* ---- lexer -------------------------------------------------------------- */

bool msign_rqc_is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_word(char c)
{
	return msign_rqc_is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       c == '_' || c == '.';
}

int msign_rqc_hexval(char c)
{
	if (msign_rqc_is_digit(c))
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Whitespace, C comments and // comments (the decompiler's exists comment
 * is one: an empty match suffix means exists). */
static int lex_space(struct rc *r)
{
	while (r->pos < r->len) {
		char c = r->s[r->pos];
		if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f') {
			r->pos++;
		} else if (c == '/' && r->pos + 1 < r->len && r->s[r->pos + 1] == '*') {
			size_t at = r->pos;
			r->pos += 2;
			for (;;) {
				if (r->pos + 1 >= r->len)
					return msign_rqc_rc_fail(r, at, MSIGN_E_INVALID, "comment is not closed by */");
				if (r->s[r->pos] == '*' && r->s[r->pos + 1] == '/')
					break;
				r->pos++;
			}
			r->pos += 2;
		} else if (c == '/' && r->pos + 1 < r->len && r->s[r->pos + 1] == '/') {
			while (r->pos < r->len && r->s[r->pos] != '\n')
				r->pos++;
		} else {
			break;
		}
	}
	return 0;
}

/* The body of "...", H"..." or <...>: up to the closing byte, a backslash
 * escaping the next byte in strings. */
static int lex_until(struct rc *r, size_t at, char close, bool escapes,
		     const char *what)
{
	r->t.off = r->pos;
	while (r->pos < r->len && r->s[r->pos] != close) {
		if (escapes && r->s[r->pos] == '\\')
			r->pos++;
		r->pos++;
	}
	if (r->pos >= r->len)
		return msign_rqc_rc_fail(r, at, MSIGN_E_INVALID, "%s is not terminated by %c", what, close);
	r->t.len = r->pos - r->t.off;
	r->pos++;
	return 0;
}

int msign_rqc_lex(struct rc *r)
{
	int rc = lex_space(r);
	if (rc != 0)
		return rc;
	r->t.off = r->pos;
	r->t.len = 0;
	if (r->pos >= r->len) {
		r->t.kind = T_EOF;
		return 0;
	}
	const char *s = r->s;
	char c = s[r->pos];
	char n = r->pos + 1 < r->len ? s[r->pos + 1] : '\0';
	if (c == '"') {
		r->t.kind = T_STR;
		r->pos++;
		return lex_until(r, r->pos - 1, '"', true, "string");
	}
	if (c == 'H' && n == '"') {
		r->t.kind = T_HASH;
		r->pos += 2;
		return lex_until(r, r->pos - 2, '"', false, "hash constant");
	}
	/* A date as the decompiler prints it: <YYYY-... (a '<' before a
	 * number otherwise needs a space). */
	if (c == '<' && msign_rqc_is_digit(n)) {
		r->t.kind = T_DATE;
		r->pos++;
		return lex_until(r, r->pos - 1, '>', false, "date");
	}
	if (is_word(c)) {
		bool digits = true;
		while (r->pos < r->len && is_word(s[r->pos]))
			digits &= msign_rqc_is_digit(s[r->pos++]);
		r->t.len = r->pos - r->t.off;
		r->t.kind = digits ? T_NUM : T_WORD;
		if (r->t.len >= 2 && c == '0' && (n == 'x' || n == 'X'))
			r->t.kind = T_HEXV;
		return 0;
	}
	static const struct { const char *s; enum tok_kind k; } punct[] = {
		{ "=>", T_ARROW }, { "==", T_EQ }, { "<=", T_LE }, { ">=", T_GE },
		{ "(", T_LPAREN }, { ")", T_RPAREN }, { "[", T_LBRACK },
		{ "]", T_RBRACK }, { "!", T_NOT }, { "=", T_EQ }, { "<", T_LT },
		{ ">", T_GT }, { "~", T_TILDE }, { "*", T_STAR }, { "-", T_MINUS },
	};
	for (size_t i = 0; i < sizeof(punct) / sizeof(punct[0]); i++) {
		size_t k = strlen(punct[i].s);
		if (k <= r->len - r->pos && memcmp(s + r->pos, punct[i].s, k) == 0) {
			r->t.kind = punct[i].k;
			r->t.len = k;
			r->pos += k;
			return 0;
		}
	}
	if ((unsigned char)c >= 0x21 && (unsigned char)c < 0x7f)
		return msign_rqc_rc_fail(r, r->pos, MSIGN_E_INVALID, "unexpected character '%c'", c);
	return msign_rqc_rc_fail(r, r->pos, MSIGN_E_INVALID, "unexpected byte 0x%02x",
		       (unsigned)(unsigned char)c);
}

bool msign_rqc_tok_is(const struct rc *r, const char *word)
{
	return r->t.kind == T_WORD && strlen(word) == r->t.len &&
	       memcmp(r->s + r->t.off, word, r->t.len) == 0;
}

/* Where the current token starts, its quote or bracket included. */
size_t msign_rqc_tok_start(const struct rc *r)
{
	if (r->t.kind == T_HASH)
		return r->t.off - 2;
	return r->t.kind == T_STR || r->t.kind == T_DATE ? r->t.off - 1 : r->t.off;
}

/* The current token for a message: its first bytes, printable ASCII only. */
static const char *tok_show(const struct rc *r, char *buf, size_t cap)
{
	if (r->t.kind == T_EOF)
		return "the end of the text";
	size_t off = msign_rqc_tok_start(r), n = r->t.len + (r->t.off - off);
	if (r->t.kind == T_STR || r->t.kind == T_HASH || r->t.kind == T_DATE)
		n++; /* the closing byte */
	size_t k = 0;
	buf[k++] = '\'';
	for (size_t i = 0; i < n && k + 5 < cap; i++) {
		char c = r->s[off + i];
		buf[k++] = (c >= 0x20 && c < 0x7f) ? c : '?';
	}
	if (n > cap - 6)
		buf[k++] = '.', buf[k++] = '.', buf[k++] = '.';
	buf[k++] = '\'';
	buf[k] = '\0';
	return buf;
}

int msign_rqc_expected(struct rc *r, const char *what)
{
	char buf[48];
	return msign_rqc_rc_fail(r, msign_rqc_tok_start(r), MSIGN_E_INVALID, "expected %s but found %s", what,
		       tok_show(r, buf, sizeof(buf)));
}

int msign_rqc_expect(struct rc *r, enum tok_kind k, const char *what)
{
	if (r->t.kind != k)
		return msign_rqc_expected(r, what);
	return msign_rqc_lex(r);
}

/* The kind of the token after the current one; T_EOF when it cannot be
 * read (the error is found again when it is lexed for real). */
enum tok_kind msign_rqc_peek_kind(struct rc *r)
{
	struct rc save = *r;
	struct msign_diag scratch;
	r->d = &scratch;
	msign_diag_clear(&scratch);
	enum tok_kind k = msign_rqc_lex(r) == 0 ? r->t.kind : T_EOF;
	*r = save;
	return k;
}

/* ---- values ------------------------------------------------------------- */

/* Whether the token can be a string value: a bare word that is not a
 * keyword, a number, "..." or 0x<hex>. */
bool msign_rqc_tok_is_value(const struct rc *r)
{
	if (r->t.kind == T_WORD)
		return !msign_req_is_keyword((const uint8_t *)r->s + r->t.off, r->t.len);
	return r->t.kind == T_NUM || r->t.kind == T_STR || r->t.kind == T_HEXV;
}

/* Decode the current value token into out (appended, no length word). */
int msign_rqc_value_bytes(struct rc *r, struct rc_bytes *out)
{
	const char *p = r->s + r->t.off;
	size_t n = r->t.len;
	if (r->t.kind == T_WORD || r->t.kind == T_NUM)
		return msign_rqc_bytes_put(r, out, p, n);
	if (r->t.kind == T_STR) {
		int rc = msign_rqc_bytes_reserve(r, out, n);
		for (size_t i = 0; rc == 0 && i < n; i++) {
			if (p[i] == '\\')
				i++; /* lex_until left a byte after every backslash */
			out->p[out->len++] = (uint8_t)p[i];
		}
		return rc;
	}
	/* T_HEXV: 0x, then pairs of hex digits */
	if ((n - 2) % 2 != 0)
		return msign_rqc_rc_fail(r, r->t.off, MSIGN_E_INVALID,
			       "hex value has an odd number (%zu) of digits", n - 2);
	int rc = msign_rqc_bytes_reserve(r, out, (n - 2) / 2);
	for (size_t i = 2; rc == 0 && i < n; i += 2) {
		int hi = msign_rqc_hexval(p[i]), lo = msign_rqc_hexval(p[i + 1]);
		if (hi < 0 || lo < 0)
			return msign_rqc_rc_fail(r, r->t.off + i + (hi >= 0), MSIGN_E_INVALID,
				       "'%c' is not a hex digit", hi < 0 ? p[i] : p[i + 1]);
		out->p[out->len++] = (uint8_t)(hi << 4 | lo);
	}
	return rc;
}

/* A data item into the pool: u32 length, bytes, zeros to a multiple of 4. */
int msign_rqc_pool_data(struct rc *r, const uint8_t *p, size_t n)
{
	static const uint8_t zeros[3];
	if (n > UINT32_MAX)
		return msign_rqc_rc_fail(r, r->t.off, MSIGN_E_LIMIT, "a value of %zu bytes is too long", n);
	int rc = msign_rqc_bytes_u32(r, &r->pool, (uint32_t)n);
	if (rc == 0)
		rc = msign_rqc_bytes_put(r, &r->pool, p, n);
	if (rc == 0)
		rc = msign_rqc_bytes_put(r, &r->pool, zeros, (4u - (n & 3u)) & 3u);
	return rc;
}

/* The current token as a string value, into the pool; then the next token. */
int msign_rqc_value(struct rc *r, const char *what)
{
	if (!msign_rqc_tok_is_value(r)) {
		if (r->t.kind == T_WORD)
			return msign_rqc_rc_fail(r, r->t.off, MSIGN_E_INVALID,
				       "%.*s is a keyword: as %s write it in quotes",
				       (int)(r->t.len < 32 ? r->t.len : 32), r->s + r->t.off, what);
		return msign_rqc_expected(r, what);
	}
	struct rc_bytes v = { NULL, 0, 0 };
	int rc = msign_rqc_value_bytes(r, &v);
	if (rc == 0)
		rc = msign_rqc_pool_data(r, v.p, v.len);
	free(v.p);
	return rc != 0 ? rc : msign_rqc_lex(r);
}

/* H"<40 hex digits>" into the pool. */
int msign_rqc_hash(struct rc *r)
{
	if (r->t.kind != T_HASH)
		return msign_rqc_expected(r, "a hash constant H\"<hex>\"");
	const char *p = r->s + r->t.off;
	if (r->t.len != 2 * REQ_HASH_LEN)
		return msign_rqc_rc_fail(r, r->t.off, MSIGN_E_INVALID,
			       "hash constant has %zu hex digits, not %u", r->t.len, 2 * REQ_HASH_LEN);
	uint8_t h[REQ_HASH_LEN];
	for (size_t i = 0; i < REQ_HASH_LEN; i++) {
		int hi = msign_rqc_hexval(p[2 * i]), lo = msign_rqc_hexval(p[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return msign_rqc_rc_fail(r, r->t.off + 2 * i + (hi >= 0), MSIGN_E_INVALID,
				       "'%c' is not a hex digit", hi < 0 ? p[2 * i] : p[2 * i + 1]);
		h[i] = (uint8_t)(hi << 4 | lo);
	}
	int rc = msign_rqc_pool_data(r, h, sizeof(h));
	return rc != 0 ? rc : msign_rqc_lex(r);
}

/* A decimal in [-2^31, 2^31) with an optional minus (slots, platforms). */
int msign_rqc_int32_value(struct rc *r, const char *what, int32_t *v)
{
	size_t at = r->t.off;
	bool neg = r->t.kind == T_MINUS;
	int rc = neg ? msign_rqc_lex(r) : 0;
	if (rc != 0)
		return rc;
	if (r->t.kind != T_NUM)
		return msign_rqc_expected(r, what);
	uint64_t x = 0;
	for (size_t i = 0; i < r->t.len; i++) {
		x = x * 10 + (uint64_t)(r->s[r->t.off + i] - '0');
		if (x > (uint64_t)INT32_MAX + neg)
			return msign_rqc_rc_fail(r, at, MSIGN_E_INVALID, "%s is out of range", what);
	}
	*v = neg ? (int32_t)(-(int64_t)x) : (int32_t)x;
	return msign_rqc_lex(r);
}

/* "YYYY-MM-DD HH:MM:SS" and an optional " +HHMM"/" -HHMM" at p[0, n): the
 * decompiler's form, always "+0000". Seconds after 2001-01-01 UTC. */
static bool parse_date(const char *p, size_t n, int64_t *secs)
{
	static const char shape[] = "dddd-dd-dd dd:dd:dd";
	size_t k = sizeof(shape) - 1;
	if (n != k && n != k + 6)
		return false;
	for (size_t i = 0; i < n; i++) {
		char want = i < k ? shape[i] : "  dddd"[i - k];
		if (i == k + 1)
			want = (p[i] == '+' || p[i] == '-') ? p[i] : '+';
		if (want == 'd' ? !msign_rqc_is_digit(p[i]) : p[i] != want)
			return false;
	}
#define NUM2(i) ((p[i] - '0') * 10 + (p[(i) + 1] - '0'))
	int64_t y = NUM2(0) * 100 + NUM2(2);
	unsigned mo = (unsigned)NUM2(5), dd = (unsigned)NUM2(8);
	unsigned hh = (unsigned)NUM2(11), mi = (unsigned)NUM2(14), ss = (unsigned)NUM2(17);
	static const unsigned mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	if (mo < 1 || mo > 12 || dd < 1 || dd > mdays[mo - 1] || hh > 23 || mi > 59 || ss > 59)
		return false;
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if (mo == 2 && dd == 29 && !leap)
		return false;
	int64_t tz = 0;
	if (n == k + 6) {
		unsigned th = (unsigned)NUM2(k + 2), tm = (unsigned)NUM2(k + 4);
		if (th > 23 || tm > 59)
			return false;
		tz = (p[k + 1] == '-' ? -1 : 1) * (int64_t)(th * 3600 + tm * 60);
	}
#undef NUM2
	int64_t days = msign_req_days_from_civil(y, mo, dd) - CF_EPOCH_DAYS;
	*secs = days * 86400 + hh * 3600 + mi * 60 + ss - tz;
	return true;
}

/* <date> or timestamp "date", as 8 big-endian bytes into the pool. */
int msign_rqc_date(struct rc *r)
{
	if (msign_rqc_tok_is(r, "timestamp")) {
		int rc = msign_rqc_lex(r);
		if (rc != 0)
			return rc;
		if (r->t.kind != T_STR)
			return msign_rqc_expected(r, "a quoted date after timestamp");
	}
	int64_t t;
	if (!parse_date(r->s + r->t.off, r->t.len, &t))
		return msign_rqc_rc_fail(r, msign_rqc_tok_start(r), MSIGN_E_INVALID,
			       "date is not \"YYYY-MM-DD HH:MM:SS +0000\"");
	uint64_t u = (uint64_t)t;
	int rc = msign_rqc_bytes_u32(r, &r->pool, (uint32_t)(u >> 32));
	if (rc == 0)
		rc = msign_rqc_bytes_u32(r, &r->pool, (uint32_t)u);
	return rc != 0 ? rc : msign_rqc_lex(r);
}

bool msign_rqc_tok_is_date(const struct rc *r)
{
	return r->t.kind == T_DATE || msign_rqc_tok_is(r, "timestamp");
}
