/* msign: CodeResources written as CoreFoundation's XML property list writer
 * writes it (spec bundles.md 2.6), byte for byte, and the UTF-16 key order
 * CFStringCompare gives.
 *
 * The output is built in one growable buffer; every size step is checked
 * for overflow. Nothing here depends on the process locale: integral
 * weights are printed as integers, others through %.17g with whatever the
 * locale uses as decimal point replaced by '.'. */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/diag.h"
#include "bundle/bundle.h"

/* ---- UTF-16 order --------------------------------------------------------- */

/* The next code point of valid UTF-8 at *p (advanced); -1 when the bytes
 * are not valid UTF-8 (overlong, surrogate, above U+10FFFF, cut). */
static long utf8_next(const unsigned char **p)
{
	const unsigned char *s = *p;
	unsigned c = s[0];
	long cp;
	int n;

	if (c < 0x80) {
		*p = s + 1;
		return (long)c;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		n = 1;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 2;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 3;
		cp = c & 0x07;
	} else {
		return -1;
	}
	for (int i = 1; i <= n; i++) {
		if ((s[i] & 0xc0) != 0x80) /* also stops at the NUL */
			return -1;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return -1;
	*p = s + n + 1;
	return cp;
}

static bool utf8_valid(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	while (*p != '\0')
		if (utf8_next(&p) < 0)
			return false;
	return true;
}

/* The first UTF-16 code unit of cp; for a supplementary character the
 * high surrogate, which sorts below U+E000..U+FFFF. */
static unsigned long utf16_lead(long cp)
{
	return cp < 0x10000 ? (unsigned long)cp
			    : 0xd800ul + (((unsigned long)cp - 0x10000) >> 10);
}

static unsigned long utf16_trail(long cp)
{
	return cp < 0x10000 ? 0 : 0xdc00ul + (((unsigned long)cp - 0x10000) & 0x3ff);
}

int mb_cfstring_compare(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return (a != NULL) - (b != NULL);
	bool va = utf8_valid(a), vb = utf8_valid(b);
	if (va != vb)
		return va ? -1 : 1; /* invalid UTF-8 after every valid string */
	if (!va)
		return strcmp(a, b) < 0 ? -1 : strcmp(a, b) > 0;
	const unsigned char *p = (const unsigned char *)a;
	const unsigned char *q = (const unsigned char *)b;
	for (;;) {
		if (*p == '\0' || *q == '\0')
			return (*p != '\0') - (*q != '\0');
		long x = utf8_next(&p), y = utf8_next(&q);
		if (x == y)
			continue;
		/* A lead never equals a BMP unit (surrogates are not valid
		 * UTF-8), so equal leads mean two supplementary characters. */
		unsigned long lx = utf16_lead(x), ly = utf16_lead(y);
		if (lx != ly)
			return lx < ly ? -1 : 1;
		return utf16_trail(x) < utf16_trail(y) ? -1 : 1;
	}
}

static int seal_cmp(const void *a, const void *b)
{
	return mb_cfstring_compare(((const struct mb_seal *)a)->path,
				   ((const struct mb_seal *)b)->path);
}

void mb_seals_sort(struct mb_seals *s)
{
	if (s != NULL && s->v != NULL && s->n > 1)
		qsort(s->v, s->n, sizeof(*s->v), seal_cmp);
}

/* ---- output buffer -------------------------------------------------------- */

struct xb {
	uint8_t *p;
	size_t len, cap;
	int err; /* the first failure; later writes do nothing */
};

static void xb_put(struct xb *b, const void *s, size_t n)
{
	if (b->err != 0 || n == 0)
		return;
	if (n > SIZE_MAX - b->len) {
		b->err = MSIGN_E_OVERFLOW;
		return;
	}
	size_t need = b->len + n;
	if (need > b->cap) {
		size_t cap = b->cap != 0 ? b->cap : 8192;
		while (cap < need)
			cap = cap > SIZE_MAX / 2 ? need : cap * 2;
		uint8_t *np = realloc(b->p, cap);
		if (np == NULL) {
			b->err = MSIGN_E_NOMEM;
			return;
		}
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len = need;
}

static void xb_str(struct xb *b, const char *s)
{
	xb_put(b, s, strlen(s));
}

static void xb_tabs(struct xb *b, unsigned n)
{
	static const char tabs[16] = "\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t";
	for (; n > 16; n -= 16)
		xb_put(b, tabs, 16);
	xb_put(b, tabs, n);
}

/* CF escapes only these three (spec 2.6); quotes stay as they are. */
static void xb_escaped(struct xb *b, const char *s)
{
	const char *run = s;
	for (; *s != '\0'; s++) {
		const char *e = *s == '&' ? "&amp;" : *s == '<' ? "&lt;" : *s == '>' ? "&gt;" : NULL;
		if (e == NULL)
			continue;
		xb_put(b, run, (size_t)(s - run));
		xb_str(b, e);
		run = s + 1;
	}
	xb_put(b, run, (size_t)(s - run));
}

static void xb_key(struct xb *b, unsigned depth, const char *k)
{
	xb_tabs(b, depth);
	xb_str(b, "<key>");
	xb_escaped(b, k);
	xb_str(b, "</key>\n");
}

static void xb_line(struct xb *b, unsigned depth, const char *s)
{
	xb_tabs(b, depth);
	xb_str(b, s);
	xb_str(b, "\n");
}

static void xb_bool(struct xb *b, unsigned depth, bool v)
{
	xb_line(b, depth, v ? "<true/>" : "<false/>");
}

static void xb_string(struct xb *b, unsigned depth, const char *s)
{
	xb_tabs(b, depth);
	xb_str(b, "<string>");
	xb_escaped(b, s);
	xb_str(b, "</string>\n");
}

/* Base64 in lines of 76 - 8 * min(depth, 8) characters (always a multiple
 * of 4), each indented by min(depth, 8) tabs. */
static void xb_data(struct xb *b, unsigned depth, const uint8_t *p, size_t n)
{
	static const char a64[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	unsigned ind = depth < 8 ? depth : 8;
	size_t line_max = 76 - 8 * (size_t)ind, col = 0;

	xb_line(b, depth, "<data>");
	for (size_t i = 0; i < n; i += 3) {
		char q[4];
		uint32_t v = (uint32_t)p[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)p[i + 1] << 8;
		if (i + 2 < n)
			v |= p[i + 2];
		q[0] = a64[(v >> 18) & 63];
		q[1] = a64[(v >> 12) & 63];
		q[2] = i + 1 < n ? a64[(v >> 6) & 63] : '=';
		q[3] = i + 2 < n ? a64[v & 63] : '=';
		if (col == 0)
			xb_tabs(b, ind);
		xb_put(b, q, 4);
		col += 4;
		if (col == line_max || i + 3 >= n) {
			xb_str(b, "\n");
			col = 0;
		}
	}
	xb_line(b, depth, "</data>");
}

/* %.17g as CF prints a weight, "0.0" for zero; 0 or MSIGN_E_INVALID for
 * NaN and infinities (the reader refuses them too). */
static int fmt_real(double w, char out[48])
{
	if (!isfinite(w))
		return MSIGN_E_INVALID;
	if (w == 0) {
		strcpy(out, "0.0");
		return 0;
	}
	/* Integral values below 1e17 print with %.17g as the integer's
	 * digits: write them so, without the locale's help. */
	/* (no trunc/fabs: libmsign does not link libm) */
	if (w > -1e17 && w < 1e17 && w == (double)(long long)w) {
		snprintf(out, 48, "%lld", (long long)w);
		return 0;
	}
	char tmp[48];
	snprintf(tmp, sizeof(tmp), "%.17g", w);
	/* Anything but digits, signs and the exponent is the locale's decimal
	 * point (maybe several bytes): one '.'. */
	size_t o = 0;
	bool dot = false;
	for (const char *s = tmp; *s != '\0' && o < 47; s++) {
		if (strchr("0123456789+-eE", *s) != NULL) {
			out[o++] = *s;
			dot = false;
		} else if (!dot) {
			out[o++] = '.';
			dot = true;
		}
	}
	out[o] = '\0';
	return 0;
}

/* ---- CodeResources --------------------------------------------------------- */

static const size_t digest_len[MB_MAX_HASH_TYPES + 1] = { 0, 20, 32, 20, 48 };

/* A dictionary's entries by key, for writing them in CFString order. */
struct keyed {
	const char *key;
	const void *elem;
};

static int cmp_keyed(const void *a, const void *b)
{
	return mb_cfstring_compare(((const struct keyed *)a)->key,
				   ((const struct keyed *)b)->key);
}

typedef int (*write_value_fn)(struct xb *b, const void *elem, bool v1,
			      struct msign_diag *d);

/* The dictionary of the n elements at base (elem bytes each, the key a
 * char * at key_off in each; what: "seal", "rule"), sorted as
 * CFPropertyList writes it, each value by fn; at most max, keys unique. */
static int write_keyed(struct xb *b, const void *base, size_t n, size_t elem,
		       size_t key_off, uint32_t max, const char *what,
		       write_value_fn fn, bool v1, struct msign_diag *d)
{
	if (n == 0) {
		xb_line(b, 1, "<dict/>");
		return 0;
	}
	if (base == NULL)
		return msign_diag_set(d, MSIGN_E_ARG, 0, "%s list of %zu entries without entries",
				      what, n);
	if (n > max)
		return msign_diag_set(d, MSIGN_E_LIMIT, 0, "%zu %ss (limit %u)", n, what, max);
	struct keyed *o = calloc(n, sizeof(*o));
	if (o == NULL)
		return msign_diag_set(d, MSIGN_E_NOMEM, 0, "out of memory (%zu %ss)", n, what);
	int r = 0;
	for (size_t i = 0; i < n && r == 0; i++) {
		o[i].elem = (const char *)base + i * elem;
		memcpy(&o[i].key, (const char *)o[i].elem + key_off, sizeof(o[i].key));
		if (o[i].key == NULL)
			r = msign_diag_set(d, MSIGN_E_ARG, 0, "%s %zu has no key", what, i);
	}
	if (r == 0)
		qsort(o, n, sizeof(*o), cmp_keyed);
	xb_line(b, 1, "<dict>");
	for (size_t i = 0; i < n && r == 0; i++) {
		if (i > 0 && strcmp(o[i - 1].key, o[i].key) == 0) {
			r = msign_diag_set(d, MSIGN_E_INVALID, 0, "two %ss for %s", what, o[i].key);
			break;
		}
		xb_key(b, 2, o[i].key);
		r = fn(b, o[i].elem, v1, d);
	}
	xb_line(b, 1, "</dict>");
	free(o);
	return r;
}

/* One seal's value at depth (spec 2.5); v1: the "files" list. */
static int write_seal(struct xb *b, const struct mb_seal *s, bool v1, unsigned depth,
		      struct msign_diag *d)
{
	/* v1 dictionaries always say optional; v2 only when true. */
	bool opt_key = v1 || s->optional;
	unsigned n = 0;

	switch (s->kind) {
	case MB_SEAL_FILE:
		if ((s->hash_mask & ~0x1eu) != 0)
			return msign_diag_set(d, MSIGN_E_INVALID, 0,
					      "seal of %s has hash types 0x%x beyond 1-4",
					      s->path, s->hash_mask);
		if (s->bare) {
			if ((s->hash_mask & 2u) == 0)
				return msign_diag_set(d, MSIGN_E_INVALID, 0,
						      "bare seal of %s has no SHA-1 digest", s->path);
			xb_data(b, depth, s->hash[1], 20);
			return 0;
		}
		for (unsigned t = 1; t <= MB_MAX_HASH_TYPES; t++)
			n += (s->hash_mask >> t) & 1u;
		if (n + opt_key == 0) {
			xb_line(b, depth, "<dict/>");
			return 0;
		}
		xb_line(b, depth, "<dict>");
		for (unsigned t = 1; t <= MB_MAX_HASH_TYPES; t++) {
			if (((s->hash_mask >> t) & 1u) == 0)
				continue;
			char key[8] = "hash";
			if (t > 1)
				snprintf(key, sizeof(key), "hash%u", t);
			xb_key(b, depth + 1, key);
			xb_data(b, depth + 1, s->hash[t], digest_len[t]);
		}
		break;
	case MB_SEAL_SYMLINK:
		if (opt_key + (s->symlink != NULL) == 0) {
			xb_line(b, depth, "<dict/>");
			return 0;
		}
		xb_line(b, depth, "<dict>");
		break;
	case MB_SEAL_NESTED:
		if (s->has_cdhash + opt_key + (s->requirement != NULL) == 0) {
			xb_line(b, depth, "<dict/>");
			return 0;
		}
		xb_line(b, depth, "<dict>");
		if (s->has_cdhash) {
			xb_key(b, depth + 1, "cdhash");
			xb_data(b, depth + 1, s->cdhash, 20);
		}
		break;
	default:
		return msign_diag_set(d, MSIGN_E_ARG, 0, "seal of %s has kind %d",
				      s->path, (int)s->kind);
	}
	/* "optional" sorts after cdhash and every hash key, before
	 * requirement and symlink. */
	if (opt_key) {
		xb_key(b, depth + 1, "optional");
		xb_bool(b, depth + 1, s->optional);
	}
	if (s->kind == MB_SEAL_SYMLINK && s->symlink != NULL) {
		xb_key(b, depth + 1, "symlink");
		xb_string(b, depth + 1, s->symlink);
	}
	if (s->kind == MB_SEAL_NESTED && s->requirement != NULL) {
		xb_key(b, depth + 1, "requirement");
		xb_string(b, depth + 1, s->requirement);
	}
	xb_line(b, depth, "</dict>");
	return 0;
}

static int write_seal_value(struct xb *b, const void *elem, bool v1,
			    struct msign_diag *d)
{
	return write_seal(b, elem, v1, 2, d);
}

static int write_seals(struct xb *b, const struct mb_seals *l, bool v1,
		       struct msign_diag *d)
{
	return write_keyed(b, l->v, l->n, sizeof(*l->v), offsetof(struct mb_seal, path),
			   MB_MAX_ENTRIES, "seal", write_seal_value, v1, d);
}

static int write_rule(struct xb *b, const struct mb_rule *u, struct msign_diag *d)
{
	if (u->bare_true || u->bare_false) {
		xb_bool(b, 2, u->bare_true);
		return 0;
	}
	char w[48] = "";
	if (u->has_weight && fmt_real(u->weight, w) < 0)
		return msign_diag_set(d, MSIGN_E_INVALID, 0,
				      "rule %s has a weight that is not a finite number", u->pattern);
	static const struct { uint32_t flag; const char *key; } fl[] = {
		{ MB_RULE_NESTED, "nested" }, { MB_RULE_OMIT, "omit" },
		{ MB_RULE_OPTIONAL, "optional" },
	};
	if ((u->flags & (MB_RULE_NESTED | MB_RULE_OMIT | MB_RULE_OPTIONAL)) == 0 &&
	    !u->has_weight) {
		xb_line(b, 2, "<dict/>");
		return 0;
	}
	xb_line(b, 2, "<dict>");
	for (size_t i = 0; i < 3; i++) {
		if ((u->flags & fl[i].flag) != 0) {
			xb_key(b, 3, fl[i].key);
			xb_bool(b, 3, true);
		}
	}
	if (u->has_weight) {
		xb_key(b, 3, "weight");
		xb_tabs(b, 3);
		xb_str(b, "<real>");
		xb_str(b, w);
		xb_str(b, "</real>\n");
	}
	xb_line(b, 2, "</dict>");
	return 0;
}

static int write_rule_value(struct xb *b, const void *elem, bool v1,
			    struct msign_diag *d)
{
	(void)v1;
	return write_rule(b, elem, d);
}

static int write_rules(struct xb *b, const struct mb_rules *l, struct msign_diag *d)
{
	return write_keyed(b, l->v, l->n, sizeof(*l->v), offsetof(struct mb_rule, pattern),
			   MB_MAX_RULES, "rule", write_rule_value, false, d);
}

int mb_cr_write(const struct mb_resources *cr, uint8_t **out, size_t *len,
		struct msign_diag *d)
{
	if (out != NULL)
		*out = NULL;
	if (len != NULL)
		*len = 0;
	if (cr == NULL || out == NULL || len == NULL)
		return msign_diag_set(d, MSIGN_E_ARG, 0, "mb_cr_write: NULL argument");

	struct xb b = { 0 };
	int r = 0;
	xb_str(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		   "<!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" "
		   "\"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n"
		   "<plist version=\"1.0\">\n");
	if (!cr->has_files && !cr->has_files2 && !cr->has_rules && !cr->has_rules2) {
		xb_str(&b, "<dict/>\n");
	} else {
		/* files < files2 < rules < rules2 is also their sorted order. */
		xb_str(&b, "<dict>\n");
		if (cr->has_files) {
			xb_key(&b, 1, "files");
			r = write_seals(&b, &cr->files, true, d);
		}
		if (r == 0 && cr->has_files2) {
			xb_key(&b, 1, "files2");
			r = write_seals(&b, &cr->files2, false, d);
		}
		if (r == 0 && cr->has_rules) {
			xb_key(&b, 1, "rules");
			r = write_rules(&b, &cr->rules, d);
		}
		if (r == 0 && cr->has_rules2) {
			xb_key(&b, 1, "rules2");
			r = write_rules(&b, &cr->rules2, d);
		}
		xb_str(&b, "</dict>\n");
	}
	xb_str(&b, "</plist>\n");
	if (r == 0 && b.err != 0)
		r = msign_diag_set(d, b.err, 0, "CodeResources of more than %zu bytes: %s",
				   b.len, msign_strerror(b.err));
	if (r < 0) {
		free(b.p);
		return r;
	}
	*out = b.p;
	*len = b.len;
	return 0;
}
