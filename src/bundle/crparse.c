/* msign: reading a CodeResources file (spec bundles.md 2.1, 2.2, 2.5) into
 * struct mb_resources, with libplist (XML or binary).
 *
 * libplist hands out dictionary keys as C strings, cut at a NUL byte, and
 * offers no way to learn a key's real length. A key with a NUL inside
 * would then silently read as a different path, so NUL bytes are refused
 * before libplist sees the file: anywhere in an XML plist (XML cannot hold
 * them; libplist already rejects &#0;), and in any string object of a
 * binary one (found by walking its object table, below).
 *
 * Choices where the spec leaves room, as Security reads rules: a flag is
 * set only by a boolean true (another type means "not set"); a weight is a
 * real or an integer (another type is ignored, the rule weighs 1); a NaN
 * or infinite weight makes the file invalid (MSIGN_E_INVALID), since no
 * order exists for it. An integer weight is written back as a real. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <plist/plist.h>

#include "base/diag.h"
#include "bundle/bundle.h"

/* ---- NUL bytes in binary plist strings ------------------------------------ */

static uint64_t be_uint(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < n; i++)
		v = (v << 8) | p[i];
	return v;
}

/* True when a string object (ASCII 0x5X, UTF-16 0x6X) of the binary plist
 * holds a NUL character. Structure errors are left to libplist: this walk
 * only looks, and skips whatever does not fit. */
static bool bplist_has_nul_string(const uint8_t *b, size_t len)
{
	if (len < 8 + 32)
		return false;
	const uint8_t *t = b + len - 32;
	unsigned osz = t[6];
	uint64_t nobj = be_uint(t + 8, 8), table = be_uint(t + 24, 8);
	if (osz < 1 || osz > 8 || table > len - 32 || (len - 32 - table) / osz < nobj)
		return false;
	for (uint64_t i = 0; i < nobj; i++) {
		uint64_t off = be_uint(b + table + i * osz, osz);
		if (off >= len - 32)
			continue;
		unsigned m = b[off] >> 4, lo = b[off] & 0xf;
		if (m != 5 && m != 6)
			continue;
		uint64_t cnt = lo, at = off + 1;
		if (lo == 0xf) { /* the count follows as an integer object */
			if (at >= len || (b[at] >> 4) != 1)
				continue;
			unsigned isz = 1u << (b[at] & 0xf);
			if (isz > 8 || isz > len - at - 1)
				continue;
			cnt = be_uint(b + at + 1, isz);
			at += 1 + isz;
		}
		unsigned unit = m == 5 ? 1 : 2;
		if (at > len || cnt > (len - at) / unit)
			continue;
		for (uint64_t k = 0; k < cnt; k++) {
			const uint8_t *c = b + at + k * unit;
			if (c[0] == 0 && (unit == 1 || c[1] == 0))
				return true;
		}
	}
	return false;
}

/* ---- seals ----------------------------------------------------------------- */

static const size_t digest_len[MB_MAX_HASH_TYPES + 1] = { 0, 20, 32, 20, 48 };

/* "hash" -> 1, "hash2" .. "hash4" -> 2..4, else 0. */
static unsigned hash_key_type(const char *k)
{
	if (strcmp(k, "hash") == 0)
		return 1;
	if (strncmp(k, "hash", 4) == 0 && k[4] >= '2' && k[4] <= '0' + MB_MAX_HASH_TYPES &&
	    k[5] == '\0')
		return (unsigned)(k[4] - '0');
	return 0;
}

static void seal_forget(struct mb_seal *s)
{
	free(s->symlink);
	free(s->requirement);
	s->symlink = s->requirement = NULL;
	s->kind = MB_SEAL_FILE;
	s->hash_mask = 0;
	s->has_cdhash = false;
	s->bare = false;
	s->optional = false;
}

static int dup_string(plist_t node, char **out, struct msign_diag *d)
{
	uint64_t n = 0;
	const char *p = plist_get_string_ptr(node, &n);
	if (p == NULL)
		return 1; /* not a string */
	if (n > MB_MAX_PATH || memchr(p, '\0', (size_t)n) != NULL)
		return 1; /* no path or requirement is that long or holds NUL */
	*out = malloc((size_t)n + 1);
	if (*out == NULL)
		return msign_diag_set(d, MSIGN_E_NOMEM, 0, "out of memory (%llu bytes)",
				      (unsigned long long)n);
	memcpy(*out, p, (size_t)n);
	(*out)[n] = '\0';
	return 0;
}

/* A seal dictionary (spec 2.5). A shape msign does not know leaves s a
 * FILE with hash_mask 0: the check reports it modified, as Security
 * would find no digest of it to match. */
static int parse_seal_dict(plist_t dict, struct mb_seal *s, struct msign_diag *d)
{
	bool unknown = false, have_req = false;
	plist_t sym = plist_dict_get_item(dict, "symlink");
	plist_t cdh = plist_dict_get_item(dict, "cdhash");
	plist_t req = plist_dict_get_item(dict, "requirement");
	plist_t opt = plist_dict_get_item(dict, "optional");

	if (opt != NULL) {
		if (plist_get_node_type(opt) == PLIST_BOOLEAN)
			s->optional = plist_bool_val_is_true(opt) != 0;
		else
			unknown = true;
	}
	if (req != NULL || cdh != NULL) {
		s->kind = MB_SEAL_NESTED;
		if (req != NULL) {
			int r = dup_string(req, &s->requirement, d);
			if (r < 0)
				return r;
			unknown |= r > 0;
			have_req = r == 0;
		}
		if (cdh != NULL) {
			uint64_t n = 0;
			const char *p = plist_get_data_ptr(cdh, &n);
			if (p == NULL)
				unknown = true;
			else if (n == 20) {
				memcpy(s->cdhash, p, 20);
				s->has_cdhash = true;
			}
		}
		unknown |= !have_req;
	} else if (sym != NULL) {
		s->kind = MB_SEAL_SYMLINK;
		int r = dup_string(sym, &s->symlink, d);
		if (r < 0)
			return r;
		unknown |= r > 0;
	} else {
		plist_dict_iter it = NULL;
		plist_dict_new_iter(dict, &it);
		for (uint32_t i = 0, n = plist_dict_get_size(dict); it != NULL && i < n; i++) {
			char *k = NULL;
			plist_t v = NULL;
			plist_dict_next_item(dict, it, &k, &v);
			if (k == NULL || v == NULL) {
				free(k);
				break;
			}
			unsigned t = hash_key_type(k);
			free(k);
			if (t == 0)
				continue; /* optional, or a key Security ignores too */
			uint64_t len = 0;
			const char *p = plist_get_data_ptr(v, &len);
			if (p == NULL || len != digest_len[t]) {
				unknown = true;
				continue;
			}
			memcpy(s->hash[t], p, digest_len[t]);
			s->hash_mask |= 1u << t;
		}
		free(it);
		if (s->hash_mask == 0)
			unknown = true;
	}
	if (unknown)
		seal_forget(s);
	return 0;
}

static int parse_seals(plist_t dict, struct mb_seals *out, const char *name,
		       struct msign_diag *d)
{
	uint32_t n = plist_dict_get_size(dict);
	if (n > MB_MAX_ENTRIES)
		return msign_diag_set(d, MSIGN_E_LIMIT, 0, "%s holds %u entries (limit %u)",
				      name, n, MB_MAX_ENTRIES);
	if (n == 0)
		return 0;
	out->v = calloc(n, sizeof(*out->v));
	if (out->v == NULL)
		return msign_diag_set(d, MSIGN_E_NOMEM, 0, "out of memory (%u seals)", n);
	out->cap = n;
	plist_dict_iter it = NULL;
	plist_dict_new_iter(dict, &it);
	if (it == NULL)
		return msign_diag_set(d, MSIGN_E_NOMEM, 0, "out of memory (dictionary iterator)");
	int r = 0;
	for (uint32_t i = 0; i < n && r == 0; i++) {
		char *k = NULL;
		plist_t v = NULL;
		plist_dict_next_item(dict, it, &k, &v);
		if (k == NULL || v == NULL) {
			free(k);
			r = msign_diag_set(d, MSIGN_E_PLIST, 0, "%s: entry %u unreadable", name, i);
			break;
		}
		size_t kl = strlen(k);
		if (kl > MB_MAX_PATH) {
			free(k);
			r = msign_diag_set(d, MSIGN_E_LIMIT, 0,
					   "%s: a path of %zu bytes (limit %d)", name, kl, MB_MAX_PATH);
			break;
		}
		struct mb_seal *s = &out->v[out->n++];
		s->path = k;
		s->kind = MB_SEAL_FILE;
		switch (plist_get_node_type(v)) {
		case PLIST_DATA: {
			/* A bare digest: SHA-1 in both lists (spec 2.5). */
			uint64_t len = 0;
			const char *p = plist_get_data_ptr(v, &len);
			if (p != NULL && len == 20) {
				memcpy(s->hash[1], p, 20);
				s->hash_mask = 1u << 1;
				s->bare = true;
			}
			break;
		}
		case PLIST_DICT:
			r = parse_seal_dict(v, s, d);
			break;
		default:
			break; /* unknown shape */
		}
	}
	free(it);
	if (r < 0)
		return r;
	mb_seals_sort(out);
	for (size_t i = 1; i < out->n; i++)
		if (strcmp(out->v[i - 1].path, out->v[i].path) == 0)
			return msign_diag_set(d, MSIGN_E_PLIST, 0, "%s: the key %s appears twice",
					      name, out->v[i].path);
	return 0;
}

/* ---- rules ----------------------------------------------------------------- */

static bool is_true(plist_t dict, const char *key)
{
	plist_t v = plist_dict_get_item(dict, key);
	return v != NULL && plist_get_node_type(v) == PLIST_BOOLEAN &&
	       plist_bool_val_is_true(v);
}

static int parse_rule(plist_t v, struct mb_rule *u, const char *name,
		      struct msign_diag *d)
{
	u->weight = 1;
	switch (plist_get_node_type(v)) {
	case PLIST_BOOLEAN:
		if (plist_bool_val_is_true(v)) {
			u->bare_true = true;
		} else {
			u->bare_false = true;
			u->flags = MB_RULE_OMIT;
		}
		return 0;
	case PLIST_DICT:
		break;
	default:
		return msign_diag_set(d, MSIGN_E_INVALID, 0,
				      "%s: a rule is neither a boolean nor a dictionary", name);
	}
	if (is_true(v, "nested"))
		u->flags |= MB_RULE_NESTED;
	if (is_true(v, "omit"))
		u->flags |= MB_RULE_OMIT;
	if (is_true(v, "optional"))
		u->flags |= MB_RULE_OPTIONAL;
	plist_t w = plist_dict_get_item(v, "weight");
	if (w == NULL)
		return 0;
	if (plist_get_node_type(w) == PLIST_REAL) {
		double x = 0;
		plist_get_real_val(w, &x);
		if (!isfinite(x))
			return msign_diag_set(d, MSIGN_E_INVALID, 0,
					      "%s: a rule weight is not a finite number", name);
		u->weight = x;
		u->has_weight = true;
	} else if (plist_get_node_type(w) == PLIST_UINT) {
		/* libplist keeps a negative integer as its two's complement. */
		uint64_t x = 0;
		plist_get_uint_val(w, &x);
		u->weight = (double)(int64_t)x;
		u->has_weight = true;
	}
	return 0;
}

static int parse_rules(plist_t dict, struct mb_rules *out, const char *name,
		       struct msign_diag *d)
{
	uint32_t n = plist_dict_get_size(dict);
	if (n > MB_MAX_RULES)
		return msign_diag_set(d, MSIGN_E_LIMIT, 0, "%s holds %u rules (limit %u)",
				      name, n, MB_MAX_RULES);
	if (n == 0)
		return 0;
	out->v = calloc(n, sizeof(*out->v));
	if (out->v == NULL)
		return msign_diag_set(d, MSIGN_E_NOMEM, 0, "out of memory (%u rules)", n);
	plist_dict_iter it = NULL;
	plist_dict_new_iter(dict, &it);
	if (it == NULL)
		return msign_diag_set(d, MSIGN_E_NOMEM, 0, "out of memory (dictionary iterator)");
	int r = 0;
	for (uint32_t i = 0; i < n && r == 0; i++) {
		char *k = NULL;
		plist_t v = NULL;
		plist_dict_next_item(dict, it, &k, &v);
		if (k == NULL || v == NULL) {
			free(k);
			r = msign_diag_set(d, MSIGN_E_PLIST, 0, "%s: entry %u unreadable", name, i);
			break;
		}
		size_t kl = strlen(k);
		if (kl > MB_MAX_PATH) {
			free(k);
			r = msign_diag_set(d, MSIGN_E_LIMIT, 0,
					   "%s: a rule of %zu bytes (limit %d)", name, kl, MB_MAX_PATH);
			break;
		}
		struct mb_rule *u = &out->v[out->n++];
		u->pattern = k;
		r = parse_rule(v, u, name, d);
	}
	free(it);
	if (r == 0)
		r = mb_rules_compile(out, d);
	return r;
}

/* ---- the file -------------------------------------------------------------- */

void mb_resources_free(struct mb_resources *cr)
{
	if (cr == NULL)
		return;
	struct mb_seals *lists[2] = { &cr->files, &cr->files2 };
	for (size_t l = 0; l < 2; l++) {
		for (size_t i = 0; lists[l]->v != NULL && i < lists[l]->n; i++) {
			free(lists[l]->v[i].path);
			free(lists[l]->v[i].symlink);
			free(lists[l]->v[i].requirement);
		}
		free(lists[l]->v);
	}
	mb_rules_free(&cr->rules);
	mb_rules_free(&cr->rules2);
	memset(cr, 0, sizeof(*cr));
}

int mb_cr_parse(const uint8_t *data, size_t len, struct mb_resources *cr,
		struct msign_diag *d)
{
	if (cr == NULL || (data == NULL && len > 0))
		return msign_diag_set(d, MSIGN_E_ARG, 0, "mb_cr_parse: NULL argument");
	memset(cr, 0, sizeof(*cr));
	if (len == 0)
		return msign_diag_set(d, MSIGN_E_PLIST, 0, "CodeResources is empty");
	if (len > MB_MAX_CR_SIZE)
		return msign_diag_set(d, MSIGN_E_LIMIT, 0, "CodeResources of %zu bytes (limit %u)",
				      len, MB_MAX_CR_SIZE);
	bool binary = len >= 8 && memcmp(data, "bplist00", 8) == 0;
	if (binary ? bplist_has_nul_string(data, len) : memchr(data, '\0', len) != NULL)
		return msign_diag_set(d, MSIGN_E_PLIST, 0,
				      "CodeResources holds a NUL character, which no path can contain");

	plist_t root = NULL;
	if (binary)
		plist_from_bin((const char *)data, (uint32_t)len, &root);
	else
		plist_from_xml((const char *)data, (uint32_t)len, &root);
	if (root == NULL)
		return msign_diag_set(d, MSIGN_E_PLIST, 0,
				      "CodeResources (%zu bytes) is not a readable %s property list",
				      len, binary ? "binary" : "XML");
	int r = 0;
	if (plist_get_node_type(root) != PLIST_DICT) {
		r = msign_diag_set(d, MSIGN_E_PLIST, 0, "CodeResources is not a dictionary");
		goto out;
	}
	static const char *const names[4] = { "files", "files2", "rules", "rules2" };
	bool *has[4] = { &cr->has_files, &cr->has_files2, &cr->has_rules, &cr->has_rules2 };
	for (size_t i = 0; i < 4 && r == 0; i++) {
		plist_t v = plist_dict_get_item(root, names[i]);
		if (v == NULL || plist_get_node_type(v) != PLIST_DICT)
			continue; /* absent or of another type: as if absent */
		*has[i] = true;
		if (i == 0)
			r = parse_seals(v, &cr->files, names[i], d);
		else if (i == 1)
			r = parse_seals(v, &cr->files2, names[i], d);
		else
			r = parse_rules(v, i == 2 ? &cr->rules : &cr->rules2, names[i], d);
	}
out:
	plist_free(root);
	if (r < 0)
		mb_resources_free(cr);
	return r;
}
