/* The guard in front of libplist (src/base/plist_guard.c): nests, shared
 * object bombs, cycles, NUL bytes, truncations and libplist's own tag
 * reading, refused by the guard and by the callers that hand untrusted
 * plists to libplist (entitlements when signing, info's entitlements
 * list, the Info.plist entry count). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <plist/plist.h>

#include "base/plist_guard.h"
#include "bundle/bundle.h"
#include "msign/err.h"
#include "msign/info.h"
#include "msign/sign.h"
#include "sig/ent.h"
#include "fixture.h"

/* Roomy except for the depth: what each test overrides. */
static struct msign_plist_limits lim_of(unsigned depth, enum msign_plist_nul nul)
{
	struct msign_plist_limits l = { "test plist", depth, 64u << 20, 0, nul };
	return l;
}

/* ---- builders ---------------------------------------------------------------- */

struct buf {
	uint8_t *b;
	size_t len, cap;
};

static void put(struct buf *o, const void *p, size_t n)
{
	if (o->len + n > o->cap) {
		o->cap = (o->len + n) * 2;
		o->b = realloc(o->b, o->cap);
		assert_non_null(o->b);
	}
	memcpy(o->b + o->len, p, n);
	o->len += n;
}

static void puts_n(struct buf *o, const char *s, size_t times)
{
	for (size_t i = 0; i < times; i++)
		put(o, s, strlen(s));
}

/* <plist><dict><key>a</key> n arrays [closed] </dict></plist> */
static struct buf xml_nest(size_t n, bool closed)
{
	struct buf o = { 0 };
	puts_n(&o, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<plist version=\"1.0\"><dict><key>a</key>", 1);
	puts_n(&o, "<array>", n);
	if (closed) {
		puts_n(&o, "</array>", n);
		puts_n(&o, "</dict></plist>\n", 1);
	}
	return o;
}

/* A binary plist: objects appended one by one, then the table and the
 * trailer (offsets osz bytes, references rsz bytes, top object 0). */
struct bp {
	struct buf o;
	uint64_t *offs;
	size_t n, cap;
	unsigned rsz;
};

static void bp_begin(struct bp *p, unsigned rsz)
{
	memset(p, 0, sizeof(*p));
	p->rsz = rsz;
	put(&p->o, "bplist00", 8);
}

static void be(struct buf *o, uint64_t v, unsigned n)
{
	for (unsigned i = n; i > 0; i--) {
		uint8_t c = (uint8_t)(v >> (8 * (i - 1)));
		put(o, &c, 1);
	}
}

static void bp_obj(struct bp *p)
{
	if (p->n == p->cap) {
		p->cap = p->cap ? 2 * p->cap : 64;
		p->offs = realloc(p->offs, p->cap * sizeof(*p->offs));
		assert_non_null(p->offs);
	}
	p->offs[p->n++] = p->o.len;
}

/* An array or dict marker with count (0xf and an integer beyond 14). */
static void bp_marker(struct bp *p, uint8_t kind, uint64_t count)
{
	if (count < 15) {
		uint8_t m = (uint8_t)(kind << 4 | count);
		put(&p->o, &m, 1);
		return;
	}
	uint8_t m[2] = { (uint8_t)(kind << 4 | 0xf), 0x13 };
	put(&p->o, m, 2);
	be(&p->o, count, 8);
}

static void bp_refs(struct bp *p, const uint64_t *r, size_t n)
{
	for (size_t i = 0; i < n; i++)
		be(&p->o, r[i], p->rsz);
}

/* total > 0: zeros after the table, to make the plist total bytes. */
static struct buf bp_end_to(struct bp *p, unsigned osz, size_t total)
{
	uint64_t table = p->o.len;
	for (size_t i = 0; i < p->n; i++)
		be(&p->o, p->offs[i], osz);
	while (total > 0 && p->o.len + 32 < total)
		put(&p->o, "", 1);
	uint8_t z[6] = { 0 };
	put(&p->o, z, 6);
	uint8_t sz[2] = { (uint8_t)osz, (uint8_t)p->rsz };
	put(&p->o, sz, 2);
	be(&p->o, p->n, 8);
	be(&p->o, 0, 8);
	be(&p->o, table, 8);
	free(p->offs);
	return p->o;
}

static struct buf bp_end(struct bp *p, unsigned osz)
{
	return bp_end_to(p, osz, 0);
}

/* n arrays, each holding the next; the last holds true. */
static struct buf bp_chain(size_t n)
{
	struct bp p;
	bp_begin(&p, 4);
	for (size_t i = 0; i < n; i++) {
		bp_obj(&p);
		bp_marker(&p, 0xa, 1);
		uint64_t r = i + 1;
		bp_refs(&p, &r, 1);
	}
	bp_obj(&p);
	put(&p.o, "\x09", 1);
	return bp_end(&p, 4);
}

/* 26 arrays, each naming the next twice: 2^27 nodes from 27 objects. */
static struct buf bp_doubling(void)
{
	struct bp p;
	bp_begin(&p, 1);
	for (uint64_t i = 0; i < 26; i++) {
		bp_obj(&p);
		bp_marker(&p, 0xa, 2);
		uint64_t r[2] = { i + 1, i + 1 };
		bp_refs(&p, r, 2);
	}
	bp_obj(&p);
	put(&p.o, "\x09", 1);
	return bp_end(&p, 1);
}

/* { key: value } with the two strings as given (marker byte included). */
static struct buf bp_dict1(const void *key, size_t kn, const void *val, size_t vn)
{
	struct bp p;
	bp_begin(&p, 1);
	bp_obj(&p);
	bp_marker(&p, 0xd, 1);
	uint64_t r[2] = { 1, 2 };
	bp_refs(&p, r, 2);
	bp_obj(&p);
	put(&p.o, key, kn);
	bp_obj(&p);
	put(&p.o, val, vn);
	return bp_end(&p, 1);
}

/* {files: [s, s, ... 3000 times]}, s a string of 60000 bytes. */
static struct buf bp_shared_string(void)
{
	struct bp p;
	bp_begin(&p, 2);
	bp_obj(&p);
	bp_marker(&p, 0xd, 1);
	uint64_t kv[2] = { 1, 2 };
	bp_refs(&p, kv, 2);
	bp_obj(&p);
	put(&p.o, "\x55" "files", 6);
	bp_obj(&p);
	bp_marker(&p, 0xa, 3000);
	for (int i = 0; i < 3000; i++) {
		uint64_t r = 3;
		bp_refs(&p, &r, 1);
	}
	bp_obj(&p);
	bp_marker(&p, 0x5, 60000);
	char *s = malloc(60000);
	assert_non_null(s);
	memset(s, 'x', 60000);
	put(&p.o, s, 60000);
	free(s);
	return bp_end(&p, 4);
}

static int guard(const struct buf *b, unsigned depth, enum msign_plist_nul nul,
		 struct msign_diag *d)
{
	struct msign_plist_limits l = lim_of(depth, nul);
	memset(d, 0, sizeof(*d));
	return msign_plist_guard(b->b, b->len, &l, d);
}

static void expect(const struct buf *b, unsigned depth, int code, const char *msg)
{
	struct msign_diag d;
	assert_int_equal(guard(b, depth, MSIGN_PLIST_NUL_REFUSE, &d), code);
	assert_int_equal(d.code, code);
	if (msg != NULL && strstr(d.msg, msg) == NULL)
		fail_msg("message \"%s\" lacks \"%s\"", d.msg, msg);
}

/* ---- the guard ------------------------------------------------------------------ */

/* A UTF-8 byte-order mark in front of an XML plist (Apple's reader skips
 * it; libplist 2.2 alone refuses it). */
static void t_bom(void **st)
{
	(void)st;
	static const char x[] = "\xef\xbb\xbf<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<plist version=\"1.0\"><dict><key>CFBundleIdentifier</key>"
		"<string>org.bom</string></dict></plist>\n";
	void *root = NULL;
	assert_int_equal(msign_plist_parse((const uint8_t *)x, sizeof(x) - 1,
					   &msign_plist_info_limits, &root, NULL), 0);
	assert_non_null(root);
	plist_t v = plist_dict_get_item((plist_t)root, "CFBundleIdentifier");
	assert_non_null(v);
	uint64_t n = 0;
	const char *str = plist_get_string_ptr(v, &n);
	assert_non_null(str);
	assert_int_equal(n, 7);
	assert_memory_equal(str, "org.bom", 7);
	plist_free((plist_t)root);
	/* a BOM alone is no plist */
	assert_int_not_equal(msign_plist_parse((const uint8_t *)"\xef\xbb\xbf", 3,
					       &msign_plist_info_limits, &root, NULL), 0);
}

static void t_xml_deep(void **st)
{
	(void)st;
	struct buf x = xml_nest(200000, true);
	expect(&x, 128, MSIGN_E_LIMIT, "test plist nests arrays and dictionaries more than 128 deep");
	/* exactly at the limit: let through, and libplist reads it */
	free(x.b);
	x = xml_nest(127, true); /* the dict and 127 arrays */
	expect(&x, 128, 0, NULL);
	struct msign_plist_limits l = lim_of(128, MSIGN_PLIST_NUL_REFUSE);
	void *root = NULL;
	assert_int_equal(msign_plist_parse(x.b, x.len, &l, &root, NULL), 0);
	assert_int_equal(plist_dict_get_size(root), 1);
	plist_free(root);
	expect(&x, 127, MSIGN_E_LIMIT, "more than 127 deep");
	free(x.b);
}

/* Places where libplist 2.2 reads a tag otherwise than a naive scan:
 * each repeated so that only a count that follows its reading stops it. */
static void t_xml_tricks(void **st)
{
	(void)st;
	static const char *const deep[] = {
		"<array x=\"/>\">",               /* an open: the '>' is quoted */
		"<array><?x \"?></array>\"?>",    /* the close is in the instruction */
		"<array y=\"</array>\">",         /* ... in an attribute */
		"<array><!-- </array> -->",       /* ... in a comment */
		"<array><![CDATA[</array>]]>",    /* ... in CDATA */
		"<array\t>",                      /* a name ends at white space */
		"<ARRAY>",                        /* an overcount, harmless */
	};
	for (size_t i = 0; i < sizeof(deep) / sizeof(deep[0]); i++) {
		struct buf x = { 0 };
		puts_n(&x, "<plist>", 1);
		puts_n(&x, deep[i], 200);
		expect(&x, 64, MSIGN_E_LIMIT, "more than 64 deep");
		free(x.b);
	}
	/* empty and closed ones, however spelled, do not add up */
	static const char *const flat[] = {
		"<dict/>", "<array />", "<array></array >", "<dict></dict\n>",
		"<array></array/>", "<!-- <array> -->",
	};
	for (size_t i = 0; i < sizeof(flat) / sizeof(flat[0]); i++) {
		struct buf x = { 0 };
		puts_n(&x, "<!DOCTYPE plist [ \"<array>\" ]><plist><array>", 1);
		puts_n(&x, flat[i], 500);
		puts_n(&x, "</array></plist>", 1);
		struct msign_plist_limits l = lim_of(3, MSIGN_PLIST_NUL_REFUSE);
		void *root = NULL;
		struct msign_diag d = { 0 };
		int r = msign_plist_parse(x.b, x.len, &l, &root, &d);
		if (r != 0)
			fail_msg("%s: %d %s", flat[i], r, d.msg);
		assert_int_equal(plist_array_get_size(root), strstr(flat[i], "!--") ? 0 : 500);
		plist_free(root);
		free(x.b);
	}
	/* what libplist cannot finish: refused before it builds anything */
	static const char *const broken[] = {
		"<plist><array><!-- x", "<plist><array><![CDATA[x", "<?xml x",
		"<!DOCTYPE x [ y", "<plist><array x=\"y>", "<plist><array<true/>",
		"<plist><array><dict", "<",
	};
	for (size_t i = 0; i < sizeof(broken) / sizeof(broken[0]); i++) {
		struct buf x = { 0 };
		puts_n(&x, broken[i], 1);
		expect(&x, 64, MSIGN_E_PLIST, "test plist: ");
		free(x.b);
	}
}

static void t_bin_chain_and_cycles(void **st)
{
	(void)st;
	struct buf b = bp_chain(300000);
	expect(&b, 128, MSIGN_E_LIMIT, "test plist nests arrays and dictionaries more than 128 deep");
	free(b.b);
	b = bp_chain(128);
	expect(&b, 128, 0, NULL);
	expect(&b, 127, MSIGN_E_LIMIT, "more than 127 deep");
	free(b.b);

	/* object 0 holds itself; 0 holds 1 holds 0 */
	for (int k = 1; k <= 2; k++) {
		struct bp p;
		bp_begin(&p, 1);
		for (int i = 0; i < k; i++) {
			bp_obj(&p);
			bp_marker(&p, 0xa, 1);
			uint64_t r = (uint64_t)(i + 1) % (uint64_t)k;
			bp_refs(&p, &r, 1);
		}
		b = bp_end(&p, 1);
		expect(&b, 128, MSIGN_E_LIMIT, "binary test plist: object 0 contains itself");
		free(b.b);
	}
}

static void t_bin_bombs(void **st)
{
	(void)st;
	struct buf b = bp_doubling();
	expect(&b, 128, MSIGN_E_LIMIT, "binary test plist expands to more than ");
	free(b.b);

	/* one 60000-byte string named 3000 times: few nodes, 180 MB copied;
	 * as a CodeResources too ({files: [...]}: one node per 20 bytes) */
	b = bp_shared_string();
	expect(&b, 128, MSIGN_E_LIMIT, "bytes of strings and data");
	struct mb_resources cr;
	struct msign_diag d = { 0 };
	assert_int_equal(mb_cr_parse(b.b, b.len, &cr, &d), MSIGN_E_LIMIT);
	/* 8 + 5 + 6 + 10 + 6000 + 10 + 60000 + 16 (table) + 32 bytes; the
	 * guard lets a file's strings be copied 4 times, and 64 KiB */
	assert_int_equal(b.len, 66087);
	assert_string_equal(d.msg, "binary CodeResources expands to more than 329884 bytes "
			    "of strings and data");
	free(b.b);

	/* objects out of order: the second begins inside the first */
	b = bp_dict1("\x51k", 2, "\x09", 1);
	uint8_t *tab = b.b + b.len - 32 - 3;
	tab[2] = tab[1];
	expect(&b, 128, MSIGN_E_PLIST, "binary test plist: object 1 is out of place or order");
	/* a reference beyond the objects */
	free(b.b);
	b = bp_dict1("\x51k", 2, "\x09", 1);
	b.b[10] = 7;
	expect(&b, 128, MSIGN_E_PLIST, "refers to object 7 of 3");
	free(b.b);
}

static void t_nul(void **st)
{
	(void)st;
	struct msign_diag d;
	/* an ASCII key, then a UTF-16 key, with a NUL: refused by both policies */
	struct buf keys[2] = { bp_dict1("\x53" "a\0b", 4, "\x09", 1),
			       bp_dict1("\x62\0a\0\0", 5, "\x09", 1) };
	for (int i = 0; i < 2; i++) {
		expect(&keys[i], 8, MSIGN_E_PLIST, "binary test plist: a string holds a NUL character");
		assert_int_equal(guard(&keys[i], 8, MSIGN_PLIST_NUL_IN_VALUES, &d), MSIGN_E_PLIST);
		assert_string_equal(d.msg, "binary test plist: a key holds a NUL character");
		free(keys[i].b);
	}
	/* in a value: refused, or let through; libplist then cuts it at
	 * the NUL, which is why only a caller that reads no value (an entry
	 * count) lets it through */
	struct buf v = bp_dict1("\x51k", 2, "\x53" "a\0b", 4);
	expect(&v, 8, MSIGN_E_PLIST, "a string holds a NUL character");
	struct msign_plist_limits l = lim_of(8, MSIGN_PLIST_NUL_IN_VALUES);
	void *root = NULL;
	assert_int_equal(msign_plist_parse(v.b, v.len, &l, &root, NULL), 0);
	uint64_t n = 0;
	assert_non_null(plist_get_string_ptr(plist_dict_get_item(root, "k"), &n));
	assert_int_equal(n, 1);
	plist_free(root);
	free(v.b);
	/* XML holds none, in a key or a value, under either policy */
	static const char x[] = "<plist><dict><key>a\0b</key><true/></dict></plist>";
	struct buf xb = { (uint8_t *)x, sizeof(x) - 1, 0 };
	assert_int_equal(guard(&xb, 8, MSIGN_PLIST_NUL_IN_VALUES, &d), MSIGN_E_PLIST);
	assert_string_equal(d.msg, "test plist holds a NUL byte at offset 19, which XML cannot");
	assert_int_equal(d.file_off, 19);
}

/* Every cut of a small XML and a small binary plist: an error, never more. */
static void t_truncated(void **st)
{
	(void)st;
	plist_t dict = plist_new_dict();
	plist_dict_set_item(dict, "com.apple.security.app-sandbox", plist_new_bool(1));
	plist_t arr = plist_new_array();
	plist_array_append_item(arr, plist_new_string("group.example"));
	plist_dict_set_item(dict, "keychain-access-groups", arr);
	char *xml = NULL, *bin = NULL;
	uint32_t xl = 0, bl = 0;
	plist_to_xml(dict, &xml, &xl);
	plist_to_bin(dict, &bin, &bl);
	plist_free(dict);
	struct msign_plist_limits l = lim_of(8, MSIGN_PLIST_NUL_REFUSE);
	void *root = NULL;
	assert_int_equal(msign_plist_parse((uint8_t *)xml, xl, &l, &root, NULL), 0);
	plist_free(root);
	assert_int_equal(msign_plist_parse((uint8_t *)bin, bl, &l, &root, NULL), 0);
	plist_free(root);
	const char *end = strstr(xml, "</dict>");
	assert_non_null(end);
	for (uint32_t n = 0; n < (uint32_t)(end - xml); n++) {
		root = (void *)1;
		assert_int_equal(msign_plist_parse((uint8_t *)xml, n, &l, &root, NULL),
				 MSIGN_E_PLIST);
		assert_null(root);
	}
	/* every cut loses the trailer the binary reader starts from */
	for (uint32_t n = 0; n < bl; n++)
		assert_int_equal(msign_plist_parse((uint8_t *)bin, n, &l, &root, NULL),
				 MSIGN_E_PLIST);
	free(xml);
	free(bin);
}

/* ---- the callers -------------------------------------------------------------- */

static void t_entitlements_xml_to_der(void **st)
{
	(void)st;
	uint8_t *der = NULL;
	size_t der_len = 0;
	struct msign_diag d = { 0 };
	/* unclosed, to stay within the 1 MiB entitlements take */
	struct buf x = xml_nest(140000, false);
	assert_true(x.len < (1u << 20));
	assert_int_equal(msign_ent_xml_to_der((const char *)x.b, x.len, &der, &der_len, &d),
			 MSIGN_E_LIMIT);
	assert_string_equal(d.msg, "entitlements nests arrays and dictionaries more than 33 deep");
	assert_null(der);
	free(x.b);
	/* 32 arrays below the root are what the DER form takes */
	x = xml_nest(32, true);
	assert_int_equal(msign_ent_xml_to_der((const char *)x.b, x.len, &der, &der_len, NULL), 0);
	free(der);
	free(x.b);
}

static void t_count_entries(void **st)
{
	(void)st;
	uint32_t n = 7;
	struct msign_diag d = { 0 };
	struct buf b = bp_doubling();
	assert_int_equal(msign_plist_count_entries(b.b, b.len, &n, &d), MSIGN_E_LIMIT);
	assert_non_null(strstr(d.msg, "binary property list expands to more than "));
	assert_int_equal(n, 0);
	free(b.b);
	b = bp_chain(300000);
	memset(&d, 0, sizeof(d));
	assert_int_equal(msign_plist_count_entries(b.b, b.len, &n, &d), MSIGN_E_LIMIT);
	assert_string_equal(d.msg, "property list nests arrays and dictionaries more than 128 deep");
	free(b.b);
	b = bp_dict1("\x51k", 2, "\x53" "a\0b", 4); /* NUL in a value: counted */
	assert_int_equal(msign_plist_count_entries(b.b, b.len, &n, NULL), 0);
	assert_int_equal(n, 1);
	free(b.b);
}

static char tmpdir[256];

static const char *tmp(const char *name)
{
	static char p[2][300];
	static unsigned k;
	char *s = p[k++ % 2];
	snprintf(s, sizeof(p[0]), "%s/%s", tmpdir, name);
	return s;
}

static void write_file(const char *path, const void *p, size_t n)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(p, 1, n, f), n);
	assert_int_equal(fclose(f), 0);
}

static int dir_setup(void **st)
{
	(void)st;
	const char *t = getenv("TMPDIR");
	snprintf(tmpdir, sizeof(tmpdir), "%s/msign-pg-XXXXXX", t ? t : "/tmp");
	return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int dir_teardown(void **st)
{
	(void)st;
	unlink(tmp("in"));
	unlink(tmp("out"));
	return rmdir(tmpdir);
}

static void t_sign_with_bomb(void **st)
{
	(void)st;
	size_t len;
	uint8_t *in = load("hello_arm64.unsigned", &len);
	write_file(tmp("in"), in, len);
	free(in);
	msign_sign_options *o = msign_sign_options_new();
	assert_non_null(o);
	struct buf x = xml_nest(140000, false);
	assert_int_equal(msign_sign_options_set_entitlements(o, (const char *)x.b, x.len), 0);
	struct msign_diag d = { 0 };
	assert_int_equal(msign_sign_file(tmp("in"), tmp("out"), o, &d), MSIGN_E_LIMIT);
	assert_string_equal(d.msg, "entitlements nests arrays and dictionaries more than 33 deep");
	assert_int_not_equal(access(tmp("out"), F_OK), 0);
	free(x.b);
	msign_sign_options_free(o);
}

/* A signed file whose XML entitlements blob is replaced, in place and at
 * its length, by a 1000-deep nest libplist itself would read: info lists
 * no entitlements (1 key without the guard). */
static void t_info_entitlements_bomb(void **st)
{
	(void)st;
	size_t len;
	uint8_t *in = load("hello_arm64.unsigned", &len);
	write_file(tmp("in"), in, len);
	free(in);
	msign_sign_options *o = msign_sign_options_new();
	assert_non_null(o);
	struct buf e = { 0 };
	puts_n(&e, "<?xml version=\"1.0\"?><plist version=\"1.0\"><dict><key>pad</key><string>", 1);
	puts_n(&e, "x", 20000);
	puts_n(&e, "</string></dict></plist>\n", 1);
	assert_int_equal(msign_sign_options_set_entitlements(o, (const char *)e.b, e.len), 0);
	free(e.b);
	assert_int_equal(msign_sign_file(tmp("in"), tmp("out"), o, NULL), 0);
	msign_sign_options_free(o);

	uint8_t *f = load_path(tmp("out"), &len);
	msign_info *info = NULL;
	assert_int_equal(msign_info_open(tmp("out"), &info, NULL), 0);
	assert_int_equal(msign_slice_entitlement_count(msign_info_slice_at(info, 0)), 1);
	msign_info_free(info);
	/* the XML entitlements blob: magic 0xfade7171, its length, the text */
	static const uint8_t magic[4] = { 0xfa, 0xde, 0x71, 0x71 };
	uint8_t *blob = memmem(f, len, magic, 4);
	assert_non_null(blob);
	size_t blen = (size_t)blob[4] << 24 | (size_t)blob[5] << 16 | (size_t)blob[6] << 8 | blob[7];
	assert_true(blen > 20000 && blen - 8 <= len - (size_t)(blob + 8 - f));
	struct buf x = xml_nest(1000, true);
	assert_true(x.len <= blen - 8);
	memset(blob + 8, ' ', blen - 8);
	memcpy(blob + 8, x.b, x.len);
	free(x.b);
	write_file(tmp("out"), f, len);
	free(f);
	assert_int_equal(msign_info_open(tmp("out"), &info, NULL), 0);
	const msign_info_slice *s = msign_info_slice_at(info, 0);
	assert_int_equal(msign_slice_entitlement_count(s), 0);
	assert_int_equal(msign_slice_entitlement_type(s, "a"), MSIGN_ENT_ABSENT);
	msign_info_free(info);
}

/* {CFBundleIdentifier: com.bomb, a: [x, x]} with x = [y, y] ... 'doublings'
 * arrays deep, padded to total bytes. */
static struct buf bp_info_bomb(unsigned doublings, size_t total)
{
	struct bp p;
	bp_begin(&p, 1);
	bp_obj(&p);
	bp_marker(&p, 0xd, 2);
	uint64_t r[4] = { 1, 3, 2, 4 };
	bp_refs(&p, r, 4);
	bp_obj(&p);
	bp_marker(&p, 0x5, 18);
	put(&p.o, "CFBundleIdentifier", 18);
	bp_obj(&p);
	put(&p.o, "\x58" "com.bomb", 9);
	bp_obj(&p);
	put(&p.o, "\x51" "a", 2);
	for (uint64_t i = 0; i < doublings; i++) {
		bp_obj(&p);
		bp_marker(&p, 0xa, 2);
		uint64_t rr[2] = { 5 + i, 5 + i };
		bp_refs(&p, rr, 2);
	}
	bp_obj(&p);
	put(&p.o, "\x09", 1);
	return bp_end_to(&p, 1, total);
}

static uint64_t le(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;
	for (unsigned i = n; i > 0; i--)
		v = v << 8 | p[i - 1];
	return v;
}

/* The identifier of a signature made without -i comes from the embedded
 * Info.plist (__TEXT,__info_plist): a bomb there is no Info.plist, the
 * file name is used. Without the guard libplist builds 2^20 nodes and
 * finds com.bomb. */
static void t_sign_identifier_bomb(void **st)
{
	(void)st;
	for (int bomb = 0; bomb < 2; bomb++) {
		size_t len;
		uint8_t *f = load("adhoc_infoplist_arm64", &len);
		uint8_t *sect = memmem(f, len, "__info_plist\0\0\0\0__TEXT", 22);
		assert_non_null(sect);
		uint64_t size = le(sect + 40, 8), off = le(sect + 48, 4);
		assert_true(size > 100 && off < len && size <= len - off);
		struct buf b = bp_info_bomb(bomb ? 20 : 2, (size_t)size);
		assert_int_equal(b.len, size);
		memcpy(f + off, b.b, b.len);
		free(b.b);
		write_file(tmp("in"), f, len);
		free(f);
		msign_sign_options *o = msign_sign_options_new();
		assert_non_null(o);
		assert_int_equal(msign_sign_options_set_force(o, true), 0);
		assert_int_equal(msign_sign_file(tmp("in"), tmp("out"), o, NULL), 0);
		msign_sign_options_free(o);
		msign_info *info = NULL;
		assert_int_equal(msign_info_open(tmp("out"), &info, NULL), 0);
		const char *id = msign_cd_identifier(
			msign_slice_chosen_cd(msign_info_slice_at(info, 0)));
		assert_non_null(id);
		if (bomb)
			/* the name, and as it has no dot, "-" and the hex
			 * of "UUID" and the LC_UUID */
			assert_true(strncmp(id, "in-55554944", 11) == 0 && strlen(id) == 3 + 40);
		else
			assert_string_equal(id, "com.bomb");
		msign_info_free(info);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_bom),
		cmocka_unit_test(t_xml_deep),
		cmocka_unit_test(t_xml_tricks),
		cmocka_unit_test(t_bin_chain_and_cycles),
		cmocka_unit_test(t_bin_bombs),
		cmocka_unit_test(t_nul),
		cmocka_unit_test(t_truncated),
		cmocka_unit_test(t_entitlements_xml_to_der),
		cmocka_unit_test(t_count_entries),
		cmocka_unit_test(t_sign_with_bomb),
		cmocka_unit_test(t_info_entitlements_bomb),
		cmocka_unit_test(t_sign_identifier_bomb),
	};
	return cmocka_run_group_tests(tests, dir_setup, dir_teardown);
}
