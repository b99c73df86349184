/* Entitlements: Apple's DER form (blob 0xfade7172) to an XML plist and
 * back, and the entry count of a plist dictionary (Info.plist).
 *
 * DER layout, as codesign writes it since Xcode 13 (CoreEntitlements):
 *   [APPLICATION 16] (0x70) { INTEGER 1, dict }
 *   dict  = [CONTEXT 16] (0xb0) { SEQUENCE { UTF8String key, value } ... }
 *   value = BOOLEAN | INTEGER | UTF8String | SEQUENCE (array) | dict
 * Older signers (Security's der_plist, ldid) wrote the dictionary bare,
 * without the wrapper, as a universal SET (0x31) and true as 0x01; the
 * reader takes both tags and any non-zero boolean.
 *
 * Dictionary order: Apple's encoder sorts entries by key bytes, not by their
 * encodings as DER's SET OF rule would. Real Apple-signed files show it: an
 * entry "get-task-allow" (19-byte SEQUENCE) follows
 * "com.apple.developer.team-identifier" (49 bytes). ldid-signed files use
 * the SET OF order instead. The writer uses key order; the reader accepts
 * any order and prints keys sorted, as codesign's CFPropertyList XML does.
 *
 * The DER walk is hand-written over the bounds-checked cursor: definite
 * lengths only, nesting and element count capped. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <plist/plist.h>

#include "base/cur.h"
#include "base/plist_guard.h"
#include "sig/codesign.h"
#include "sig/req.h"
#include "sig/cms.h"
#include "sig/ent.h"
#include "hash/hash.h"

#define ENT_MAX_LEN (1u << 20)     /* DER or XML entitlements we accept */
#define ENT_MAX_DEPTH 32           /* nested arrays/dicts below the root
				    * (msign_plist_ent_limits takes as many) */
#define ENT_MAX_ELEMS 100000u      /* DER elements decoded per blob */
#define PLIST_MAX_LEN (16u << 20)  /* Info.plist */

/* ---- DER reading --------------------------------------------------------- */

struct ent_dec {
	struct msign_cur c; /* the whole input; offsets in messages are into it */
	uint32_t elems;
	struct msign_diag *d;
};

/* The one DER element-header reader: the signer reads its own canonical
 * DER with it too (sign_blobs.c). */
int msign_der_tl(struct msign_cur *c, size_t end, struct msign_der_tl *tl,
		 struct msign_diag *d)
{
	uint8_t b, n;
	if (end > c->len)
		end = c->len;
	tl->off = c->off;
	/* compare before reading: the bytes past `end` belong to a sibling */
	if (c->off > end || end - c->off < 2 ||
	    msign_cur_get_u8(c, &tl->tag) < 0 || msign_cur_get_u8(c, &b) < 0)
		return msign_diag_set(d, MSIGN_E_PLIST, tl->off,
				      "DER element header truncated at offset %zu", tl->off);
	if ((tl->tag & 0x1f) == 0x1f)
		return msign_diag_set(d, MSIGN_E_PLIST, tl->off,
				      "multi-byte DER tag 0x%02x at offset %zu", tl->tag, tl->off);
	tl->len = b;
	if (b == 0x80)
		return msign_diag_set(d, MSIGN_E_PLIST, tl->off,
				      "indefinite length at offset %zu (DER needs definite)",
				      tl->off);
	if (b > 0x80) {
		n = b & 0x7f;
		if (n > 4)
			return msign_diag_set(d, MSIGN_E_PLIST, tl->off,
					      "%u-byte length at offset %zu", n, tl->off);
		tl->len = 0;
		for (uint8_t i = 0; i < n; i++) {
			if (msign_cur_get_u8(c, &b) < 0)
				return msign_diag_set(d, MSIGN_E_PLIST, tl->off,
						      "DER length truncated at offset %zu", tl->off);
			tl->len = tl->len << 8 | b;
		}
	}
	if (c->off > end || tl->len > end - c->off)
		return msign_diag_set(d, MSIGN_E_PLIST, tl->off,
				      "DER element at offset %zu has length %zu but only %zu bytes remain",
				      tl->off, tl->len, c->off > end ? 0 : end - c->off);
	tl->end = c->off + tl->len;
	return 0;
}

/* One element of the input, whose contents must end by `end`. */
static int der_tl(struct ent_dec *x, size_t end, struct msign_der_tl *tl)
{
	return msign_der_tl(&x->c, end, tl, x->d);
}

static bool ent_is_dict_tag(uint8_t tag)
{
	return tag == MSIGN_DER_CTX16 || tag == MSIGN_DER_SET;
}

/* Well-formed UTF-8 without NUL: libplist takes C strings and writes the
 * bytes into XML unchanged. */
static bool ent_utf8_ok(const uint8_t *s, size_t n)
{
	size_t i = 0;
	while (i < n) {
		uint8_t c = s[i];
		size_t k = c < 0x80 ? 0 : c >= 0xc2 && c <= 0xdf ? 1
			   : c >= 0xe0 && c <= 0xef ? 2 : c >= 0xf0 && c <= 0xf4 ? 3 : 9;
		if (c == 0 || k == 9 || k >= n - i)
			return false;
		uint32_t cp = k == 0 ? c : c & (0x3f >> k);
		for (size_t j = 1; j <= k; j++) {
			if ((s[i + j] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (s[i + j] & 0x3f);
		}
		/* overlong 3/4-byte forms, surrogates, beyond U+10FFFF */
		if ((k == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
		    (k == 3 && (cp < 0x10000 || cp > 0x10ffff)))
			return false;
		i += k + 1;
	}
	return true;
}

/* A malloc'd C string from a UTF8String's contents. */
static int ent_string(struct ent_dec *x, const struct msign_der_tl *tl, char **out)
{
	const uint8_t *p;
	*out = NULL;
	if (msign_cur_get_bytes(&x->c, tl->len, &p) < 0)
		return msign_diag_set(x->d, MSIGN_E_PLIST, tl->off, "string truncated");
	if (!ent_utf8_ok(p, tl->len))
		return msign_diag_set(x->d, MSIGN_E_PLIST, tl->off,
				      "UTF8String at offset %zu is not valid UTF-8 (or holds NUL)",
				      tl->off);
	*out = malloc(tl->len + 1);
	if (*out == NULL)
		return msign_diag_set(x->d, MSIGN_E_NOMEM, tl->off, "out of memory");
	memcpy(*out, p, tl->len);
	(*out)[tl->len] = '\0';
	return 0;
}

static int ent_scalar(struct ent_dec *x, const struct msign_der_tl *tl, plist_t *out)
{
	const uint8_t *p;
	char *s;
	if (tl->tag == MSIGN_DER_UTF8) {
		int r = ent_string(x, tl, &s);
		if (r == 0)
			*out = plist_new_string(s);
		free(s);
		return r;
	}
	if (tl->len == 0 || msign_cur_get_bytes(&x->c, tl->len, &p) < 0)
		return msign_diag_set(x->d, MSIGN_E_PLIST, tl->off,
				      "empty value with tag 0x%02x at offset %zu", tl->tag, tl->off);
	if (tl->tag == MSIGN_DER_BOOLEAN) {
		if (tl->len != 1)
			return msign_diag_set(x->d, MSIGN_E_PLIST, tl->off,
					      "BOOLEAN of %zu bytes at offset %zu", tl->len, tl->off);
		*out = plist_new_bool(p[0] != 0);
		return 0;
	}
	/* INTEGER: libplist holds int64 (plist_new_uint stores the bits and
	 * prints them signed), so wider values are refused. */
	if (tl->len > 8)
		return msign_diag_set(x->d, MSIGN_E_UNSUPPORTED, tl->off,
				      "INTEGER of %zu bytes at offset %zu exceeds 64 bits",
				      tl->len, tl->off);
	uint64_t v = (p[0] & 0x80) ? UINT64_MAX : 0;
	for (size_t i = 0; i < tl->len; i++)
		v = v << 8 | p[i];
	*out = plist_new_uint(v);
	return 0;
}

static int ent_value(struct ent_dec *x, size_t end, unsigned depth, plist_t *out);

static int ent_array(struct ent_dec *x, const struct msign_der_tl *tl, unsigned depth,
		     plist_t *out)
{
	plist_t arr = plist_new_array();
	while (x->c.off < tl->end) {
		plist_t item = NULL;
		int r = ent_value(x, tl->end, depth + 1, &item);
		if (r < 0) {
			plist_free(arr);
			return r;
		}
		plist_array_append_item(arr, item);
	}
	*out = arr;
	return 0;
}

struct ent_kv {
	char *key;
	plist_t val;
	size_t off; /* of the entry, for messages */
};

static int ent_kv_cmp(const void *a, const void *b)
{
	return strcmp(((const struct ent_kv *)a)->key, ((const struct ent_kv *)b)->key);
}

static void ent_kv_free(struct ent_kv *kv, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(kv[i].key);
		plist_free(kv[i].val);
	}
	free(kv);
}

/* SEQUENCE { UTF8String key, value } with nothing after the value. */
static int ent_entry(struct ent_dec *x, size_t end, unsigned depth, struct ent_kv *kv)
{
	struct msign_der_tl seq, key;
	int r = der_tl(x, end, &seq);
	kv->off = seq.off;
	if (r == 0 && seq.tag != MSIGN_DER_SEQUENCE)
		r = msign_diag_set(x->d, MSIGN_E_PLIST, seq.off,
				   "dictionary entry at offset %zu has tag 0x%02x, not SEQUENCE",
				   seq.off, seq.tag);
	if (r == 0)
		r = der_tl(x, seq.end, &key);
	if (r == 0 && key.tag != MSIGN_DER_UTF8)
		r = msign_diag_set(x->d, MSIGN_E_PLIST, key.off,
				   "dictionary key at offset %zu has tag 0x%02x, not UTF8String",
				   key.off, key.tag);
	if (r == 0)
		r = ent_string(x, &key, &kv->key);
	if (r == 0)
		r = ent_value(x, seq.end, depth + 1, &kv->val);
	if (r == 0 && x->c.off != seq.end)
		r = msign_diag_set(x->d, MSIGN_E_PLIST, x->c.off,
				   "%zu extra bytes in dictionary entry at offset %zu",
				   seq.end - x->c.off, seq.off);
	return r;
}

static int ent_dict(struct ent_dec *x, const struct msign_der_tl *tl, unsigned depth,
		    plist_t *out)
{
	struct ent_kv *kv = NULL;
	size_t n = 0, cap = 0;
	int r = 0;
	while (r == 0 && x->c.off < tl->end) {
		if (n == cap) {
			/* grows with decoded elements, which are capped */
			size_t ncap = cap ? cap * 2 : 8;
			struct ent_kv *nkv = realloc(kv, ncap * sizeof(*kv));
			if (nkv == NULL) {
				r = msign_diag_set(x->d, MSIGN_E_NOMEM, tl->off, "out of memory");
				break;
			}
			kv = nkv;
			cap = ncap;
		}
		memset(&kv[n], 0, sizeof(kv[n]));
		r = ent_entry(x, tl->end, depth, &kv[n]);
		n++;
	}
	if (r == 0 && n > 1)
		qsort(kv, n, sizeof(*kv), ent_kv_cmp);
	for (size_t i = 1; r == 0 && i < n; i++)
		if (strcmp(kv[i - 1].key, kv[i].key) == 0)
			r = msign_diag_set(x->d, MSIGN_E_PLIST, kv[i].off,
					   "duplicate key \"%s\" in dictionary at offset %zu",
					   kv[i].key, tl->off);
	if (r == 0) {
		*out = plist_new_dict();
		for (size_t i = 0; i < n; i++) {
			plist_dict_set_item(*out, kv[i].key, kv[i].val);
			kv[i].val = NULL;
		}
	}
	ent_kv_free(kv, n);
	return r;
}

static int ent_value(struct ent_dec *x, size_t end, unsigned depth, plist_t *out)
{
	struct msign_der_tl tl;
	*out = NULL;
	if (depth > ENT_MAX_DEPTH)
		return msign_diag_set(x->d, MSIGN_E_LIMIT, x->c.off,
				      "entitlements nest deeper than %d at offset %zu",
				      ENT_MAX_DEPTH, x->c.off);
	if (++x->elems > ENT_MAX_ELEMS)
		return msign_diag_set(x->d, MSIGN_E_LIMIT, x->c.off,
				      "more than %u DER elements", ENT_MAX_ELEMS);
	int r = der_tl(x, end, &tl);
	if (r < 0)
		return r;
	switch (tl.tag) {
	case MSIGN_DER_BOOLEAN:
	case MSIGN_DER_INTEGER:
	case MSIGN_DER_UTF8:
		return ent_scalar(x, &tl, out);
	case MSIGN_DER_SEQUENCE:
		return ent_array(x, &tl, depth, out);
	case MSIGN_DER_CTX16:
	case MSIGN_DER_SET:
		return ent_dict(x, &tl, depth, out);
	default:
		return msign_diag_set(x->d, MSIGN_E_PLIST, tl.off,
				      "unsupported DER tag 0x%02x at offset %zu", tl.tag, tl.off);
	}
}

/* [APPLICATION 16] { INTEGER 1, dict } or a bare dict; nothing after it. */
static int ent_decode(struct ent_dec *x, plist_t *root)
{
	size_t len = x->c.len;
	size_t end = len;
	struct msign_der_tl tl, ver;
	uint8_t tag = 0;
	(void)msign_cur_peek_u8(&x->c, 0, &tag);
	if (tag == MSIGN_DER_APP16) {
		int r = der_tl(x, len, &tl);
		if (r == 0)
			r = der_tl(x, tl.end, &ver);
		if (r < 0)
			return r;
		if (ver.tag != MSIGN_DER_INTEGER || ver.len != 1 ||
		    msign_cur_get_u8(&x->c, &tag) < 0 || tag != 1)
			return msign_diag_set(x->d, MSIGN_E_UNSUPPORTED, ver.off,
					      "DER entitlements version at offset %zu is not INTEGER 1",
					      ver.off);
		end = tl.end;
		if (msign_cur_peek_u8(&x->c, x->c.off, &tag) < 0)
			return msign_diag_set(x->d, MSIGN_E_PLIST, x->c.off,
					      "DER entitlements wrapper holds no dictionary");
	}
	if (!ent_is_dict_tag(tag))
		return msign_diag_set(x->d, MSIGN_E_PLIST, x->c.off,
				      "DER entitlements hold tag 0x%02x at offset %zu, expected a dictionary (0xb0 or 0x31)",
				      tag, x->c.off);
	int r = ent_value(x, end, 0, root);
	if (r == 0 && x->c.off != len)
		r = msign_diag_set(x->d, MSIGN_E_PLIST, x->c.off,
				   "%zu bytes after the DER entitlements at offset %zu",
				   len - x->c.off, x->c.off);
	return r;
}

int msign_ent_der_to_xml(const uint8_t *der, size_t len, char **xml,
			 size_t *xml_len, struct msign_diag *d)
{
	struct ent_dec x = { msign_cur_make(der, len), 0, d };
	plist_t root = NULL;
	char *text = NULL;
	uint32_t text_len = 0;

	if (xml == NULL || (der == NULL && len > 0))
		return msign_diag_set(d, MSIGN_E_ARG, 0, "msign_ent_der_to_xml: NULL argument");
	*xml = NULL;
	if (len == 0)
		return msign_diag_set(d, MSIGN_E_PLIST, 0, "DER entitlements are empty");
	if (len > ENT_MAX_LEN)
		return msign_diag_set(d, MSIGN_E_LIMIT, 0,
				      "DER entitlements of %zu bytes exceed %u", len, ENT_MAX_LEN);
	int r = ent_decode(&x, &root);
	if (r < 0) {
		plist_free(root);
		return r;
	}
	plist_to_xml(root, &text, &text_len);
	plist_free(root);
	/* Copy so callers free() what this library allocated. */
	*xml = text ? malloc((size_t)text_len + 1) : NULL;
	if (*xml == NULL) {
		free(text);
		return msign_diag_set(d, MSIGN_E_NOMEM, 0, "cannot render the plist as XML");
	}
	memcpy(*xml, text, text_len);
	(*xml)[text_len] = '\0';
	free(text);
	if (xml_len)
		*xml_len = text_len;
	return 0;
}

/* ---- DER writing --------------------------------------------------------- */

static size_t der_len_size(size_t n)
{
	size_t k = 1;
	for (size_t v = n; n >= 0x80 && v > 0; v >>= 8)
		k++;
	return k;
}

static size_t der_tlv_size(size_t content)
{
	return 1 + der_len_size(content) + content;
}

static void der_put_tl(uint8_t *buf, size_t *off, uint8_t tag, size_t len)
{
	size_t n = der_len_size(len) - 1;
	buf[(*off)++] = tag;
	if (n == 0) {
		buf[(*off)++] = (uint8_t)len;
		return;
	}
	buf[(*off)++] = (uint8_t)(0x80 | n);
	for (size_t i = n; i > 0; i--)
		buf[(*off)++] = (uint8_t)(len >> (8 * (i - 1)));
}

/* Minimal two's complement: drop leading bytes that only repeat the sign. */
static size_t der_int_size(int64_t v)
{
	size_t n = 8;
	while (n > 1) {
		int64_t top = v >> (8 * (n - 1) - 1); /* the top 9 bits */
		if (top != 0 && top != -1)
			break;
		n--;
	}
	return n;
}

struct ent_enc {
	struct msign_diag *d;
};

/* Dictionary entries sorted by key bytes (see the top of the file). The
 * keys are libplist's copies and must be freed. */
static int enc_sorted(struct ent_enc *e, plist_t dict, struct ent_kv **out, uint32_t *n)
{
	plist_dict_iter it = NULL;
	uint32_t count = plist_dict_get_size(dict);
	struct ent_kv *kv = calloc(count ? count : 1, sizeof(*kv));
	if (kv == NULL)
		return msign_diag_set(e->d, MSIGN_E_NOMEM, 0, "out of memory");
	plist_dict_new_iter(dict, &it);
	uint32_t i = 0;
	for (; i < count; i++) {
		plist_dict_next_item(dict, it, &kv[i].key, &kv[i].val);
		if (kv[i].key == NULL)
			break;
	}
	free(it);
	qsort(kv, i, sizeof(*kv), ent_kv_cmp);
	*out = kv;
	*n = i;
	return 0;
}

static void enc_free_keys(struct ent_kv *kv, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		free(kv[i].key);
	free(kv);
}

static int enc_int(struct ent_enc *e, plist_t node, const char *key, int64_t *v)
{
	uint64_t u = 0;
	plist_get_uint_val(node, &u);
	if (u > INT64_MAX) {
		/* libplist 2.2 has no signed getter: a negative number and one
		 * above INT64_MAX share these bits; its XML tells them apart. */
		char *text = NULL;
		uint32_t n = 0;
		plist_to_xml(node, &text, &n);
		bool neg = text && memmem(text, n, "<integer>-", 10) != NULL;
		free(text);
		if (!neg)
			return msign_diag_set(e->d, MSIGN_E_UNSUPPORTED, 0,
					      "integer %llu (key \"%s\") exceeds the signed 64-bit range",
					      (unsigned long long)u, key);
	}
	memcpy(v, &u, sizeof(*v));
	return 0;
}

static const char *enc_type_name(plist_type t)
{
	switch (t) {
	case PLIST_REAL: return "real";
	case PLIST_DATA: return "data";
	case PLIST_DATE: return "date";
	case PLIST_UID: return "uid";
	default: return "unknown";
	}
}

static int enc_content(struct ent_enc *e, plist_t node, const char *key,
		       unsigned depth, size_t *len);

static int enc_tlv(struct ent_enc *e, plist_t node, const char *key,
		   unsigned depth, size_t *len)
{
	size_t c = 0;
	int r = enc_content(e, node, key, depth, &c);
	*len = r == 0 ? der_tlv_size(c) : 0;
	return r;
}

/* Content length of a dict: one SEQUENCE { key, value } per entry. */
static int enc_dict_content(struct ent_enc *e, plist_t node, unsigned depth,
			    size_t *len)
{
	struct ent_kv *kv = NULL;
	uint32_t n = 0;
	int r = enc_sorted(e, node, &kv, &n);
	*len = 0;
	for (uint32_t i = 0; r == 0 && i < n; i++) {
		size_t v = 0;
		r = enc_tlv(e, kv[i].val, kv[i].key, depth + 1, &v);
		*len += der_tlv_size(der_tlv_size(strlen(kv[i].key)) + v);
	}
	enc_free_keys(kv, n);
	return r;
}

static int enc_content(struct ent_enc *e, plist_t node, const char *key,
		       unsigned depth, size_t *len)
{
	uint64_t slen = 0;
	int64_t v;
	int r = 0;
	*len = 0;
	if (depth > ENT_MAX_DEPTH)
		return msign_diag_set(e->d, MSIGN_E_LIMIT, 0,
				      "entitlements nest deeper than %d (key \"%s\")",
				      ENT_MAX_DEPTH, key);
	plist_type t = plist_get_node_type(node);
	switch (t) {
	case PLIST_BOOLEAN:
		*len = 1;
		return 0;
	case PLIST_UINT:
		r = enc_int(e, node, key, &v);
		*len = r == 0 ? der_int_size(v) : 0;
		return r;
	case PLIST_STRING:
		plist_get_string_ptr(node, &slen);
		*len = (size_t)slen;
		return 0;
	case PLIST_ARRAY:
		for (uint32_t i = 0; r == 0 && i < plist_array_get_size(node); i++) {
			size_t n = 0;
			r = enc_tlv(e, plist_array_get_item(node, i), key, depth + 1, &n);
			*len += n;
		}
		return r;
	case PLIST_DICT:
		return enc_dict_content(e, node, depth, len);
	default:
		/* Apple's codesign refuses these too (CoreEntitlements has no
		 * DER form for them). */
		return msign_diag_set(e->d, MSIGN_E_UNSUPPORTED, 0,
				      "a %s value (key \"%s\") has no DER entitlements encoding",
				      enc_type_name(t), key);
	}
}

static int enc_write(struct ent_enc *e, plist_t node, const char *key,
		     unsigned depth, uint8_t *buf, size_t *off);

static int enc_write_dict(struct ent_enc *e, plist_t node, unsigned depth,
			  uint8_t *buf, size_t *off)
{
	struct ent_kv *kv = NULL;
	uint32_t n = 0;
	int r = enc_sorted(e, node, &kv, &n);
	for (uint32_t i = 0; r == 0 && i < n; i++) {
		size_t klen = strlen(kv[i].key), vlen = 0;
		r = enc_tlv(e, kv[i].val, kv[i].key, depth + 1, &vlen);
		if (r < 0)
			break;
		der_put_tl(buf, off, MSIGN_DER_SEQUENCE, der_tlv_size(klen) + vlen);
		der_put_tl(buf, off, MSIGN_DER_UTF8, klen);
		memcpy(buf + *off, kv[i].key, klen);
		*off += klen;
		r = enc_write(e, kv[i].val, kv[i].key, depth + 1, buf, off);
	}
	enc_free_keys(kv, n);
	return r;
}

/* Writes one TLV; the sizes were computed by the same functions before the
 * buffer was allocated, so every write fits. */
static int enc_write(struct ent_enc *e, plist_t node, const char *key,
		     unsigned depth, uint8_t *buf, size_t *off)
{
	size_t clen = 0;
	const char *s;
	uint64_t slen = 0;
	int64_t v = 0;
	int r = enc_content(e, node, key, depth, &clen);
	if (r < 0)
		return r;
	switch (plist_get_node_type(node)) {
	case PLIST_BOOLEAN:
		der_put_tl(buf, off, MSIGN_DER_BOOLEAN, 1);
		buf[(*off)++] = plist_bool_val_is_true(node) ? 0xff : 0x00;
		return 0;
	case PLIST_UINT:
		(void)enc_int(e, node, key, &v);
		der_put_tl(buf, off, MSIGN_DER_INTEGER, clen);
		for (size_t i = clen; i > 0; i--)
			buf[(*off)++] = (uint8_t)((uint64_t)v >> (8 * (i - 1)));
		return 0;
	case PLIST_STRING:
		s = plist_get_string_ptr(node, &slen);
		der_put_tl(buf, off, MSIGN_DER_UTF8, clen);
		memcpy(buf + *off, s, clen);
		*off += clen;
		return 0;
	case PLIST_ARRAY:
		der_put_tl(buf, off, MSIGN_DER_SEQUENCE, clen);
		for (uint32_t i = 0; r == 0 && i < plist_array_get_size(node); i++)
			r = enc_write(e, plist_array_get_item(node, i), key, depth + 1, buf, off);
		return r;
	default: /* PLIST_DICT: enc_content rejected everything else */
		der_put_tl(buf, off, MSIGN_DER_CTX16, clen);
		return enc_write_dict(e, node, depth, buf, off);
	}
}

int msign_ent_xml_to_der(const char *xml, size_t len, uint8_t **der,
			 size_t *der_len, struct msign_diag *d)
{
	struct ent_enc e = { d };
	plist_t root = NULL;
	size_t dict_len = 0, off = 0;

	if (der == NULL || der_len == NULL || (xml == NULL && len > 0))
		return msign_diag_set(d, MSIGN_E_ARG, 0, "msign_ent_xml_to_der: NULL argument");
	*der = NULL;
	*der_len = 0;
	if (len == 0 || len > ENT_MAX_LEN)
		return msign_diag_set(d, len ? MSIGN_E_LIMIT : MSIGN_E_PLIST, 0,
				      "XML entitlements of %zu bytes (limit %u)", len, ENT_MAX_LEN);
	/* XML only: a binary plist is no XML plist (plist_from_xml fails it) */
	bool binary = len >= 8 && memcmp(xml, "bplist00", 8) == 0;
	int g = binary ? 0 : msign_plist_guard((const uint8_t *)xml, len, &msign_plist_ent_limits, d);
	if (g < 0)
		return g;
	if (!binary)
		plist_from_xml(xml, (uint32_t)len, &root);
	if (root == NULL)
		return msign_diag_set(d, MSIGN_E_PLIST, 0,
				      "entitlements (%zu bytes) are not a parseable XML plist", len);
	int r = 0;
	if (plist_get_node_type(root) != PLIST_DICT)
		r = msign_diag_set(d, MSIGN_E_PLIST, 0, "entitlements plist is not a dictionary");
	if (r == 0)
		r = enc_tlv(&e, root, "", 0, &dict_len);
	size_t body = 3 + dict_len; /* INTEGER 1, then the dict */
	size_t total = r == 0 ? der_tlv_size(body) : 0;
	uint8_t *buf = r == 0 ? malloc(total) : NULL;
	if (r == 0 && buf == NULL)
		r = msign_diag_set(d, MSIGN_E_NOMEM, 0, "out of memory (%zu bytes)", total);
	if (r == 0) {
		der_put_tl(buf, &off, MSIGN_DER_APP16, body);
		der_put_tl(buf, &off, MSIGN_DER_INTEGER, 1);
		buf[off++] = 1;
		r = enc_write(&e, root, "", 0, buf, &off);
	}
	plist_free(root);
	if (r < 0) {
		free(buf);
		return r;
	}
	if (off != total) {
		/* The size pass and the write pass disagree: a bug. Reported to
		 * the caller (the library must not end the caller's process)
		 * and the half-written DER never handed out. */
		free(buf);
		return msign_diag_set(d, MSIGN_E_INTERNAL, 0,
				      "DER entitlements: wrote %zu bytes, sized %zu",
				      off, total);
	}
	*der = buf;
	*der_len = total;
	return 0;
}

/* ---- plist entry count --------------------------------------------------- */

int msign_plist_count_entries(const uint8_t *data, size_t len,
			      uint32_t *count, struct msign_diag *d)
{
	plist_t root = NULL;
	if (count == NULL || (data == NULL && len > 0))
		return msign_diag_set(d, MSIGN_E_ARG, 0, "msign_plist_count_entries: NULL argument");
	*count = 0;
	if (len == 0)
		return msign_diag_set(d, MSIGN_E_PLIST, 0, "property list is empty");
	if (len > PLIST_MAX_LEN)
		return msign_diag_set(d, MSIGN_E_LIMIT, 0,
				      "property list of %zu bytes exceeds %u", len, PLIST_MAX_LEN);
	/* only keys are counted: a value with a NUL may pass */
	struct msign_plist_limits lim = msign_plist_info_limits;
	lim.what = "property list";
	lim.nul = MSIGN_PLIST_NUL_IN_VALUES;
	lim.max_size = PLIST_MAX_LEN;
	int g = msign_plist_guard(data, len, &lim, d);
	if (g < 0)
		return g;
	plist_from_memory((const char *)data, (uint32_t)len, &root);
	if (root == NULL)
		return msign_diag_set(d, MSIGN_E_PLIST, 0,
				      "not a parseable XML or binary property list (%zu bytes)", len);
	int r = 0;
	if (plist_get_node_type(root) != PLIST_DICT)
		r = msign_diag_set(d, MSIGN_E_PLIST, 0, "property list top level is not a dictionary");
	else
		*count = plist_dict_get_size(root);
	plist_free(root);
	return r;
}
