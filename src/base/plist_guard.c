/* msign: the guard in front of libplist (plist_guard.h).
 *
 * XML: a scan that finds where libplist 2.2's reader sees tags, and bounds
 * the nesting from above. It tokenizes as that reader does: a tag's name
 * runs to white space, '<' or '>', its attributes to the next '>' outside
 * double quotes; comments end at the first "-->", CDATA at "]]>"; "<?" and
 * "<!DOCTYPE" at a "?>" or '>' (and "]>" after a '[') outside quotes.
 * Where another reading of the same bytes could differ (inside a
 * processing instruction, a DOCTYPE, an attribute value), the scan errs
 * to the side that overcounts: "<dict"/"<array" there still open, and no
 * close found there counts. A tag is empty ("<dict/>") only when it ends
 * in "/>" with no quote in it, for the same reason. Every construct
 * libplist cannot finish is refused, since its reader frees what it built
 * so far recursively too.
 *
 * Binary: the trailer, then every object once in file order (each must
 * end before the next begins: the table is sorted and nothing overlaps,
 * as every writer lays them out), NUL bytes in strings, then the tree
 * libplist would build from the top object, walked with a stack of our
 * own: its depth, cycles (an object inside itself), its nodes counted one
 * per reference, and the string and data bytes it would copy. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <plist/plist.h>

#include "base/diag.h"
#include "base/plist_guard.h"

/* Bytes of strings and data libplist may copy from a binary plist: a few
 * times the file (shared strings are real: CoreFoundation writes each
 * distinct string once), never the square of it. */
#define PG_COPY_FACTOR 4u
#define PG_COPY_SLACK (64u << 10)

const struct msign_plist_limits msign_plist_info_limits = {
	/* developers nest what they like in an Info.plist; a value with a
	 * NUL would be read cut short (CFBundleIdentifier "a\0b" as "a") */
	.what = "Info.plist", .max_depth = 128, .max_size = 16u << 20,
	.bytes_per_node = 0, .nul = MSIGN_PLIST_NUL_REFUSE,
};

const struct msign_plist_limits msign_plist_ent_limits = {
	/* real entitlements nest 3 deep; 33 is what the DER form takes
	 * (entitlements.c: ENT_MAX_DEPTH below the root) */
	.what = "entitlements", .max_depth = 33, .max_size = 1u << 20,
	.bytes_per_node = 0, .nul = MSIGN_PLIST_NUL_REFUSE,
};

static uint64_t pg_be(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < n; i++)
		v = (v << 8) | p[i];
	return v;
}

static bool pg_at(const uint8_t *b, size_t len, size_t i, const char *s)
{
	size_t k = strlen(s);
	return i <= len && len - i >= k && memcmp(b + i, s, k) == 0;
}

/* ---- XML -------------------------------------------------------------------- */

struct pg_xml {
	const uint8_t *b;
	size_t len;
	const struct msign_plist_limits *lim;
	struct msign_diag *d;
	size_t depth;
};

#define PG_NONE SIZE_MAX

/* The first s at or after i; with quotes, not inside a "..." (an
 * unmatched quote: none). */
static size_t pg_find(const struct pg_xml *x, size_t i, const char *s, bool quotes)
{
	for (; i < x->len; i++) {
		if (quotes && x->b[i] == '"') {
			const uint8_t *q = memchr(x->b + i + 1, '"', x->len - i - 1);
			if (q == NULL)
				return PG_NONE;
			i = (size_t)(q - x->b);
			continue;
		}
		if (pg_at(x->b, x->len, i, s))
			return i;
	}
	return PG_NONE;
}

static int pg_deeper(struct pg_xml *x, size_t at)
{
	if (++x->depth > x->lim->max_depth)
		return msign_diag_set(x->d, MSIGN_E_LIMIT, at,
				      "%s nests arrays and dictionaries more than %u deep",
				      x->lim->what, x->lim->max_depth);
	return 0;
}

/* A name libplist could take for an array or a dictionary (case and
 * what follows ignored: an overcount). */
static bool pg_opens(const uint8_t *p, size_t n)
{
	return (n >= 4 && strncasecmp((const char *)p, "dict", 4) == 0) ||
	       (n >= 5 && strncasecmp((const char *)p, "array", 5) == 0);
}

/* Bytes [from, to) libplist may read another way: every open counts. */
static int pg_opens_in(struct pg_xml *x, size_t from, size_t to)
{
	for (size_t i = from; i < to; i++)
		if (x->b[i] == '<' && pg_opens(x->b + i + 1, to - i - 1)) {
			int r = pg_deeper(x, i);
			if (r < 0)
				return r;
		}
	return 0;
}

static int pg_unfinished(struct pg_xml *x, size_t at, const char *what)
{
	return msign_diag_set(x->d, MSIGN_E_PLIST, at, "%s: %s at offset %zu is not closed",
			      x->lim->what, what, at);
}

/* The tag at lt ('<' then a name): its extent, then open or close. */
static int pg_tag(struct pg_xml *x, size_t lt, size_t *next)
{
	const uint8_t *b = x->b;
	size_t p = lt + 1, e = p;
	while (e < x->len && b[e] != ' ' && b[e] != '\t' && b[e] != '\r' && b[e] != '\n' &&
	       b[e] != '<' && b[e] != '>')
		e++;
	/* the attributes, to a '>' outside quotes; a '<' outside them (or
	 * no end) is libplist's "Missing '>'" */
	size_t gt = e;
	for (; gt < x->len && b[gt] != '>'; gt++) {
		if (b[gt] == '<')
			return msign_diag_set(x->d, MSIGN_E_PLIST, lt,
					      "%s: the tag at offset %zu holds '<'", x->lim->what, lt);
		if (b[gt] == '"') {
			const uint8_t *q = memchr(b + gt + 1, '"', x->len - gt - 1);
			if (q == NULL)
				break;
			gt = (size_t)(q - b);
		}
	}
	if (gt >= x->len || b[gt] != '>')
		return pg_unfinished(x, lt, "a tag");
	int r = pg_opens_in(x, e, gt); /* inside attribute values */
	if (r < 0)
		return r;
	bool empty = b[gt - 1] == '/' && memchr(b + p, '"', gt - p) == NULL;
	size_t n = e - p;
	if (empty && n > 0 && b[p + n - 1] == '/')
		n--; /* "<dict/>": the name is "dict" */
	*next = gt + 1;
	if (n > 0 && b[p] == '/') {
		/* only an exact close closes */
		if ((n == 5 && memcmp(b + p, "/dict", 5) == 0) ||
		    (n == 6 && memcmp(b + p, "/array", 6) == 0))
			x->depth -= x->depth > 0;
		return 0;
	}
	return !empty && pg_opens(b + p, n) ? pg_deeper(x, lt) : 0;
}

static int pg_xml_check(const uint8_t *b, size_t len, const struct msign_plist_limits *lim,
			struct msign_diag *d)
{
	struct pg_xml x = { b, len, lim, d, 0 };
	const uint8_t *nul = memchr(b, '\0', len);
	if (nul != NULL)
		return msign_diag_set(d, MSIGN_E_PLIST, (uint64_t)(nul - b),
				      "%s holds a NUL byte at offset %zu, which XML cannot",
				      lim->what, (size_t)(nul - b));
	size_t i = 0;
	for (;;) {
		const uint8_t *q = i < len ? memchr(b + i, '<', len - i) : NULL;
		if (q == NULL)
			return 0;
		size_t lt = (size_t)(q - b), e;
		int r = 0;
		if (pg_at(b, len, lt, "<!--")) {
			/* libplist skips to the first "-->", quotes or not */
			if ((e = pg_find(&x, lt + 4, "-->", false)) == PG_NONE)
				return pg_unfinished(&x, lt, "a comment");
			i = e + 3;
		} else if (pg_at(b, len, lt, "<![CDATA[")) {
			if ((e = pg_find(&x, lt + 9, "]]>", false)) == PG_NONE)
				return pg_unfinished(&x, lt, "a CDATA section");
			i = e + 3;
		} else if (pg_at(b, len, lt, "<?")) {
			if ((e = pg_find(&x, lt + 2, "?>", true)) == PG_NONE)
				return pg_unfinished(&x, lt, "a processing instruction");
			r = pg_opens_in(&x, lt + 1, e);
			i = e + 2;
		} else if (pg_at(b, len, lt, "<!")) {
			/* DOCTYPE (anything else libplist refuses): to '>', or
			 * past "]>" when an internal subset may begin */
			if ((e = pg_find(&x, lt + 2, ">", true)) == PG_NONE)
				return pg_unfinished(&x, lt, "a declaration");
			size_t end = e + 1;
			const uint8_t *sq = memchr(b + lt, '[', e - lt);
			if (sq != NULL) {
				size_t e2 = pg_find(&x, (size_t)(sq - b), "]>", true);
				if (e2 == PG_NONE)
					return pg_unfinished(&x, lt, "a DOCTYPE");
				if (e2 + 2 > end)
					end = e2 + 2;
			}
			r = pg_opens_in(&x, lt + 1, end);
			i = end;
		} else {
			r = pg_tag(&x, lt, &i);
		}
		if (r < 0)
			return r;
	}
}

/* ---- binary ----------------------------------------------------------------- */

struct pg_bin {
	const uint8_t *b;
	size_t len;
	unsigned osz, rsz;   /* bytes of an offset, of an object reference */
	uint64_t nobj, top, table;
};

/* Kinds by a marker's high nibble. */
#define PG_DATA 0x4
#define PG_ASCII 0x5
#define PG_UTF16 0x6
#define PG_STR7 0x7 /* unassigned; read as a string, to be safe */
#define PG_ARRAY 0xa
#define PG_SET 0xc
#define PG_DICT 0xd

static uint64_t pg_off(const struct pg_bin *p, uint64_t i)
{
	return pg_be(p->b + p->table + i * p->osz, p->osz);
}

static bool pg_container(unsigned kind)
{
	return kind == PG_ARRAY || kind == PG_SET || kind == PG_DICT;
}

/* Object i: its kind, and for the kinds with a count where the payload
 * starts, how many units (bytes, UTF-16 units, references; a dict's count
 * is of pairs) and how big one is. -1 when it does not end before the
 * next object (or, the last, before the offset table). */
static int pg_object(const struct pg_bin *p, uint64_t i, unsigned *kind, uint64_t *at,
		     uint64_t *cnt, unsigned *unit)
{
	uint64_t off = pg_off(p, i);
	uint64_t end = i + 1 < p->nobj ? pg_off(p, i + 1) : p->table;
	if (off < 8 || off >= end || end > p->table)
		return -1; /* out of order, overlapping, or in the table */
	unsigned m = p->b[off];
	*kind = m >> 4;
	*at = off + 1;
	*cnt = 0;
	*unit = 0;
	switch (*kind) {
	case PG_DATA: case PG_ASCII: case PG_STR7: *unit = 1; break;
	case PG_UTF16: *unit = 2; break;
	case PG_ARRAY: case PG_SET: *unit = p->rsz; break;
	case PG_DICT: *unit = 2 * p->rsz; break;
	default: return 0; /* nothing that refers or is copied by length */
	}
	*cnt = m & 0xf;
	if (*cnt == 0xf) {
		/* the count follows as an integer object of 1..8 bytes */
		if (*at >= end || (p->b[*at] >> 4) != 1 || (p->b[*at] & 0xf) > 3)
			return -1;
		unsigned isz = 1u << (p->b[*at] & 0xf);
		if (isz >= end - *at)
			return -1;
		*cnt = pg_be(p->b + *at + 1, isz);
		*at += 1 + isz;
	}
	return *cnt <= (end - *at) / *unit ? 0 : -1;
}

#define PG_ON_PATH 1u
#define PG_HAS_NUL 2u

struct pg_frame {
	uint64_t obj, at, i, n, pairs; /* pairs: a dict's count, else 0 */
};

static int pg_walk(const struct pg_bin *p, const struct msign_plist_limits *lim,
		   uint8_t *flags, struct msign_diag *d)
{
	const char *what = lim->what;
	uint64_t budget = (lim->bytes_per_node ? p->len / lim->bytes_per_node : p->len) + 16;
	uint64_t copy_budget = (uint64_t)p->len * PG_COPY_FACTOR + PG_COPY_SLACK;
	struct pg_frame *st = calloc(lim->max_depth, sizeof(*st));
	if (st == NULL)
		return msign_diag_set(d, MSIGN_E_NOMEM, 0, "out of memory (%u frames)",
				      lim->max_depth);
	size_t sp = 0;
	uint64_t nodes = 0, copied = 0, ref = p->top;
	bool is_key = false;
	int r = 0;
	for (;;) {
		unsigned kind, unit;
		uint64_t at, cnt;
		(void)pg_object(p, ref, &kind, &at, &cnt, &unit); /* checked before */
		if (is_key && (flags[ref] & PG_HAS_NUL)) {
			r = msign_diag_set(d, MSIGN_E_PLIST, pg_off(p, ref),
					   "binary %s: a key holds a NUL character", what);
			break;
		}
		if (++nodes > budget) {
			r = msign_diag_set(d, MSIGN_E_LIMIT, 0,
					   "binary %s expands to more than %llu objects",
					   what, (unsigned long long)budget);
			break;
		}
		if (!pg_container(kind)) {
			/* UTF-16 becomes up to 3 bytes of UTF-8 per unit */
			copied += cnt * unit * (kind == PG_UTF16 ? 2 : 1);
			if (copied > copy_budget) {
				r = msign_diag_set(d, MSIGN_E_LIMIT, 0,
						   "binary %s expands to more than %llu bytes of strings and data",
						   what, (unsigned long long)copy_budget);
				break;
			}
		} else {
			if (flags[ref] & PG_ON_PATH) {
				/* a limit: the tree libplist would build is infinite */
				r = msign_diag_set(d, MSIGN_E_LIMIT, pg_off(p, ref),
						   "binary %s: object %llu contains itself",
						   what, (unsigned long long)ref);
				break;
			}
			if (sp == lim->max_depth) {
				r = msign_diag_set(d, MSIGN_E_LIMIT, pg_off(p, ref),
						   "%s nests arrays and dictionaries more than %u deep",
						   what, lim->max_depth);
				break;
			}
			if (cnt > 0) {
				flags[ref] |= PG_ON_PATH;
				st[sp].obj = ref;
				st[sp].at = at;
				st[sp].i = 0;
				st[sp].pairs = kind == PG_DICT ? cnt : 0;
				st[sp].n = kind == PG_DICT ? 2 * cnt : cnt;
				sp++;
			}
		}
		while (sp > 0 && st[sp - 1].i == st[sp - 1].n)
			flags[st[--sp].obj] &= (uint8_t)~PG_ON_PATH;
		if (sp == 0)
			break;
		struct pg_frame *f = &st[sp - 1];
		ref = pg_be(p->b + f->at + f->i * p->rsz, p->rsz);
		is_key = f->i < f->pairs;
		f->i++;
		if (ref >= p->nobj) {
			r = msign_diag_set(d, MSIGN_E_PLIST, f->at,
					   "binary %s refers to object %llu of %llu", what,
					   (unsigned long long)ref, (unsigned long long)p->nobj);
			break;
		}
	}
	free(st);
	return r;
}

static int pg_bin_check(const uint8_t *b, size_t len, const struct msign_plist_limits *lim,
			struct msign_diag *d)
{
	struct pg_bin p = { b, len, 0, 0, 0, 0, 0 };
	if (len < 8 + 32)
		return msign_diag_set(d, MSIGN_E_PLIST, 0, "binary %s of %zu bytes is truncated",
				      lim->what, len);
	const uint8_t *t = b + len - 32;
	p.osz = t[6];
	p.rsz = t[7];
	p.nobj = pg_be(t + 8, 8);
	p.top = pg_be(t + 16, 8);
	p.table = pg_be(t + 24, 8);
	if (p.osz < 1 || p.osz > 8 || p.rsz < 1 || p.rsz > 8 || p.table < 8 ||
	    p.table > len - 32 || p.nobj == 0 || (len - 32 - p.table) / p.osz < p.nobj ||
	    p.top >= p.nobj)
		return msign_diag_set(d, MSIGN_E_PLIST, len - 32,
				      "binary %s: bad trailer (%llu objects, table at %llu)",
				      lim->what, (unsigned long long)p.nobj,
				      (unsigned long long)p.table);
	/* nobj < len: every object has a byte of its own before the table */
	uint8_t *flags = calloc((size_t)p.nobj, 1);
	if (flags == NULL)
		return msign_diag_set(d, MSIGN_E_NOMEM, 0, "out of memory (%llu objects)",
				      (unsigned long long)p.nobj);
	int r = 0;
	for (uint64_t i = 0; i < p.nobj && r == 0; i++) {
		unsigned kind, unit;
		uint64_t at, cnt;
		if (pg_object(&p, i, &kind, &at, &cnt, &unit) < 0) {
			r = msign_diag_set(d, MSIGN_E_PLIST, pg_off(&p, i),
					   "binary %s: object %llu is out of place or order",
					   lim->what, (unsigned long long)i);
			break;
		}
		if (kind != PG_ASCII && kind != PG_UTF16 && kind != PG_STR7)
			continue;
		for (uint64_t k = 0; k < cnt; k++) {
			const uint8_t *u = b + at + k * unit;
			if (u[0] != 0 || (unit == 2 && u[1] != 0))
				continue;
			if (lim->nul == MSIGN_PLIST_NUL_REFUSE)
				r = msign_diag_set(d, MSIGN_E_PLIST, at + k * unit,
						   "binary %s: a string holds a NUL character",
						   lim->what);
			flags[i] |= PG_HAS_NUL;
			break;
		}
	}
	if (r == 0)
		r = pg_walk(&p, lim, flags, d);
	free(flags);
	return r;
}

/* ---- the entry points -------------------------------------------------------- */

static bool pg_binary(const uint8_t *data, size_t len)
{
	return len >= 8 && memcmp(data, "bplist00", 8) == 0;
}

int msign_plist_guard(const uint8_t *data, size_t len,
		      const struct msign_plist_limits *lim, struct msign_diag *d)
{
	if (lim == NULL || lim->max_depth == 0 || (data == NULL && len > 0))
		return msign_diag_set(d, MSIGN_E_ARG, 0, "msign_plist_guard: bad argument");
	if (len == 0)
		return msign_diag_set(d, MSIGN_E_PLIST, 0, "%s is empty", lim->what);
	if (len > lim->max_size || len > UINT32_MAX)
		return msign_diag_set(d, MSIGN_E_LIMIT, 0, "%s of %zu bytes exceeds %llu",
				      lim->what, len, (unsigned long long)lim->max_size);
	return pg_binary(data, len) ? pg_bin_check(data, len, lim, d)
				    : pg_xml_check(data, len, lim, d);
}

int msign_plist_parse(const uint8_t *data, size_t len,
		      const struct msign_plist_limits *lim, void **out,
		      struct msign_diag *d)
{
	if (out == NULL)
		return msign_diag_set(d, MSIGN_E_ARG, 0, "msign_plist_parse: NULL argument");
	*out = NULL;
	/* A UTF-8 byte-order mark, which Apple's reader skips and libplist
	 * 2.2 does not (the caller hashes the bytes as they are). */
	if (len >= 3 && data[0] == 0xef && data[1] == 0xbb && data[2] == 0xbf) {
		data += 3;
		len -= 3;
	}
	int r = msign_plist_guard(data, len, lim, d);
	if (r < 0)
		return r;
	plist_t root = NULL;
	bool binary = pg_binary(data, len);
	if (binary)
		plist_from_bin((const char *)data, (uint32_t)len, &root);
	else
		plist_from_xml((const char *)data, (uint32_t)len, &root);
	if (root == NULL)
		return msign_diag_set(d, MSIGN_E_PLIST, 0,
				      "%s (%zu bytes) is not a readable %s property list",
				      lim->what, len, binary ? "binary" : "XML");
	*out = root;
	return 0;
}
