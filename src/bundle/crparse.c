/* msign: reading a CodeResources file (spec bundles.md 2.1, 2.2, 2.5) into
 * struct mb_resources, with libplist (XML or binary).
 *
 * libplist hands out dictionary keys as C strings, cut at a NUL byte, and
 * offers no way to learn a key's real length. A key with a NUL inside
 * would then silently read as a different path, so NUL bytes are refused
 * before libplist sees the file (cr_limits below).
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
#include "base/plist_guard.h"
#include "bundle/bundle.h"

/* What libplist is not given (base/plist_guard.h): a CodeResources's
 * deepest value is at level 3, and one written by anyone needs more than
 * 10 bytes per node (an XML one at least 7, "<true/>"), so 32 levels and
 * one node per 4 bytes are far beyond any real file; its keys are paths,
 * so no string may hold a NUL. */
static const struct msign_plist_limits cr_limits = {
	.what = "CodeResources", .max_depth = 32, .max_size = MB_MAX_CR_SIZE,
	.bytes_per_node = 4, .nul = MSIGN_PLIST_NUL_REFUSE,
};

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

/* A symlink target is a path; a designated requirement's text is rarely
 * over 1 KB. Longer strings make the seal one of unknown shape. */
#define CR_MAX_REQUIREMENT 65536u

/* 0 and *out malloc'd; 1 when node is no string of at most max bytes. */
static int dup_string(plist_t node, size_t max, char **out, struct msign_diag *d)
{
	uint64_t n = 0;
	const char *p = plist_get_string_ptr(node, &n);
	if (p == NULL || n > max || memchr(p, '\0', (size_t)n) != NULL)
		return 1;
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
			int r = dup_string(req, CR_MAX_REQUIREMENT, &s->requirement, d);
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
		int r = dup_string(sym, MB_MAX_PATH, &s->symlink, d);
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

/* Entry i of dict, from it: its key (malloc'd, at most MB_MAX_PATH bytes:
 * a path or a rule, what says which) and value. */
static int next_entry(plist_t dict, plist_dict_iter it, const char *name,
		      const char *what, uint32_t i, char **k, plist_t *v,
		      struct msign_diag *d)
{
	*k = NULL;
	*v = NULL;
	plist_dict_next_item(dict, it, k, v);
	if (*k == NULL || *v == NULL) {
		free(*k);
		*k = NULL;
		return msign_diag_set(d, MSIGN_E_PLIST, 0, "%s: entry %u unreadable", name, i);
	}
	size_t kl = strlen(*k);
	if (kl > MB_MAX_PATH) {
		free(*k);
		*k = NULL;
		return msign_diag_set(d, MSIGN_E_LIMIT, 0, "%s: a %s of %zu bytes (limit %d)",
				      name, what, kl, MB_MAX_PATH);
	}
	return 0;
}

/* The start of reading a dictionary of at most max entries of elem bytes
 * each (what: "entries", "rules"): *v their array (calloc), *it an
 * iterator (free it); *n 0 (nothing allocated) for an empty one. */
static int dict_begin(plist_t dict, uint32_t max, const char *name, const char *what,
		      size_t elem, void **v, uint32_t *n, plist_dict_iter *it,
		      struct msign_diag *d)
{
	*n = plist_dict_get_size(dict);
	*it = NULL;
	if (*n > max)
		return msign_diag_set(d, MSIGN_E_LIMIT, 0, "%s holds %u %s (limit %u)",
				      name, *n, what, max);
	if (*n == 0)
		return 0;
	if ((*v = calloc(*n, elem)) == NULL)
		return msign_diag_set(d, MSIGN_E_NOMEM, 0, "out of memory (%u %s)", *n, what);
	plist_dict_new_iter(dict, it);
	if (*it == NULL)
		return msign_diag_set(d, MSIGN_E_NOMEM, 0, "out of memory (dictionary iterator)");
	return 0;
}

static int parse_seals(plist_t dict, struct mb_seals *out, const char *name,
		       struct msign_diag *d)
{
	uint32_t n;
	plist_dict_iter it;
	void *arr = NULL;
	int r = dict_begin(dict, MB_MAX_ENTRIES, name, "entries", sizeof(*out->v), &arr,
			   &n, &it, d);
	out->v = arr;
	out->cap = out->v != NULL ? n : 0;
	if (r != 0 || n == 0)
		return r;
	for (uint32_t i = 0; i < n && r == 0; i++) {
		char *k = NULL;
		plist_t v = NULL;
		if ((r = next_entry(dict, it, name, "path", i, &k, &v, d)) != 0)
			break;
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
	/* libplist keeps the last value of a repeated key (as CFDictionary
	 * does); two entries for one path would still be a contradiction. */
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
	uint32_t n;
	plist_dict_iter it;
	void *arr = NULL;
	int r = dict_begin(dict, MB_MAX_RULES, name, "rules", sizeof(*out->v), &arr, &n,
			   &it, d);
	out->v = arr;
	if (r != 0 || n == 0)
		return r;
	for (uint32_t i = 0; i < n && r == 0; i++) {
		char *k = NULL;
		plist_t v = NULL;
		if ((r = next_entry(dict, it, name, "rule", i, &k, &v, d)) != 0)
			break;
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
	plist_t root = NULL;
	int r = msign_plist_parse(data, len, &cr_limits, &root, d);
	if (r < 0)
		return r;
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
