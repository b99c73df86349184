/* Apple's Requirement::Interpreter::Match::operator() for the values the
 * evaluator (reqeval.c) finds: Info.plist and entitlement values, a
 * certificate's strings, an extension's presence, dates. Apple's finds
 * and compares are literal (options 0, no kCFCompareNonliteral) over UTF-16
 * units; these run over UTF-8 bytes, which order the same except for
 * characters above U+FFFF against U+E000..U+FFFF. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <plist/plist.h>

#include "sig/reqeval_int.h"
#include "sig/reqlang.h"
#include "sig/req.h"

bool msign_rqe_utf8_valid(const uint8_t *p, size_t n)
{
	size_t i = 0;
	while (i < n) {
		uint8_t c = p[i];
		size_t len = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 :
			     (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;
		if (len == 0 || len > n - i || (len == 2 && c < 0xc2))
			return false;
		uint32_t cp = len == 1 ? c : c & (0x3fu >> (len - 1));
		for (size_t j = 1; j < len; j++) {
			if ((p[i + j] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (p[i + j] & 0x3fu);
		}
		if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
		    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
			return false;
		i += len;
	}
	return true;
}

/* Byte search of needle in hay[lo, hi), needle not empty (CF finds
 * nothing for an empty string). */
static bool find_in(const uint8_t *hay, size_t lo, size_t hi,
		    const uint8_t *needle, size_t n)
{
	if (n == 0 || hi < lo || hi - lo < n)
		return false;
	for (size_t i = lo; i + n <= hi; i++)
		if (memcmp(hay + i, needle, n) == 0)
			return true;
	return false;
}

/* CFStringCompare with kCFCompareNumerically: runs of ASCII digits compare
 * by value (leading zeros ignored; CF's integer accumulator would wrap on
 * runs past 19 digits, this compares any length), other bytes by value. */
static int numeric_cmp(const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
	size_t i = 0, j = 0;
	while (i < an && j < bn) {
		bool da = a[i] >= '0' && a[i] <= '9', db = b[j] >= '0' && b[j] <= '9';
		if (da && db) {
			while (i < an && a[i] == '0' && i + 1 < an && a[i + 1] >= '0' && a[i + 1] <= '9')
				i++;
			while (j < bn && b[j] == '0' && j + 1 < bn && b[j + 1] >= '0' && b[j + 1] <= '9')
				j++;
			size_t ie = i, je = j;
			while (ie < an && a[ie] >= '0' && a[ie] <= '9')
				ie++;
			while (je < bn && b[je] >= '0' && b[je] <= '9')
				je++;
			if (ie - i != je - j)
				return ie - i < je - j ? -1 : 1;
			int c = memcmp(a + i, b + j, ie - i);
			if (c != 0)
				return c < 0 ? -1 : 1;
			i = ie;
			j = je;
			continue;
		}
		if (a[i] != b[j])
			return a[i] < b[j] ? -1 : 1;
		i++;
		j++;
	}
	if (i < an)
		return 1;
	return j < bn ? -1 : 0;
}

/* One scalar candidate against m (not an array: see msign_rqe_match_plist). */
bool msign_rqe_match_scalar(const struct msign_rqe_match *m, enum msign_rqe_cand k,
			 const uint8_t *s, size_t n, bool is_false, double date)
{
	if (k == RQE_NULL)
		return m->op == REQ_MATCH_ABSENT; /* only absent matches nothing */
	bool str = k == RQE_STRING && m->str_ok;
	switch (m->op) {
	case REQ_MATCH_ABSENT:
		return false;
	case REQ_MATCH_EXISTS: /* anything but boolean false exists */
		return !is_false;
	case REQ_MATCH_EQUAL: /* CFEqual with a CFString: strings only */
		return str && n == m->n && (n == 0 || memcmp(s, m->v, n) == 0);
	case REQ_MATCH_CONTAINS:
		return str && find_in(s, 0, n, m->v, m->n);
	case REQ_MATCH_BEGINS_WITH:
		return str && m->n <= n && find_in(s, 0, m->n, m->v, m->n);
	case REQ_MATCH_ENDS_WITH:
		return str && m->n <= n && find_in(s, n - m->n, n, m->v, m->n);
	case REQ_MATCH_LESS:
		return str && numeric_cmp(s, n, m->v, m->n) < 0;
	case REQ_MATCH_GREATER:
		return str && numeric_cmp(s, n, m->v, m->n) > 0;
	case REQ_MATCH_LESS_EQUAL:
		return str && numeric_cmp(s, n, m->v, m->n) <= 0;
	case REQ_MATCH_GREATER_EQUAL:
		return str && numeric_cmp(s, n, m->v, m->n) >= 0;
	case REQ_MATCH_ON:
	case REQ_MATCH_BEFORE:
	case REQ_MATCH_AFTER:
	case REQ_MATCH_ON_OR_BEFORE:
	case REQ_MATCH_ON_OR_AFTER:
		if (k != RQE_DATE)
			return false;
		switch (m->op) {
		case REQ_MATCH_ON: return date == m->date;
		case REQ_MATCH_BEFORE: return date < m->date;
		case REQ_MATCH_AFTER: return date > m->date;
		case REQ_MATCH_ON_OR_BEFORE: return date <= m->date;
		default: return date >= m->date;
		}
	default: /* unknown operations never match */
		return false;
	}
}

/* A plist value (NULL: absent, Apple's kCFNull). An array matches when
 * one of its items does, then as itself (an array "exists"); nesting
 * deeper than MSIGN_REQ_MAX_DEPTH does not match. */
bool msign_rqe_match_plist(const struct msign_rqe_match *m, void *node, unsigned depth)
{
	if (node == NULL)
		return msign_rqe_match_scalar(m, RQE_NULL, NULL, 0, false, 0);
	switch (plist_get_node_type(node)) {
	case PLIST_STRING: {
		uint64_t len = 0;
		const char *s = plist_get_string_ptr(node, &len);
		if (s == NULL)
			len = 0;
		return msign_rqe_match_scalar(m, RQE_STRING, (const uint8_t *)s, (size_t)len, false, 0);
	}
	case PLIST_BOOLEAN: {
		uint8_t b = 0;
		plist_get_bool_val(node, &b);
		return msign_rqe_match_scalar(m, RQE_OTHER, NULL, 0, b == 0, 0);
	}
	case PLIST_DATE: {
		int32_t sec = 0, usec = 0; /* libplist: since 2001-01-01 */
		plist_get_date_val(node, &sec, &usec);
		return msign_rqe_match_scalar(m, RQE_DATE, NULL, 0, false, sec + usec / 1e6);
	}
	case PLIST_ARRAY:
		if (depth >= MSIGN_REQ_MAX_DEPTH)
			return false;
		for (uint32_t i = 0; i < plist_array_get_size(node); i++)
			if (msign_rqe_match_plist(m, plist_array_get_item(node, i), depth + 1))
				return true;
		break;
	default:
		break;
	}
	/* Numbers, data, dictionaries, arrays themselves: exists only. */
	return msign_rqe_match_scalar(m, RQE_OTHER, NULL, 0, false, 0);
}
