/* Unit tests for requirements.c: requirement and requirement-set blobs are
 * built byte by byte here and the decompiled text is pinned exactly. */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sig/codesign.h"
#include "sig/req.h"
#include "sig/cms.h"
#include "sig/ent.h"
#include "hash/hash.h"
#include "msign/err.h"

/* ---- blob builder -------------------------------------------------------- */

struct blob {
	uint8_t *b;
	size_t n;
	size_t cap;
};

static void bl_init(struct blob *x, size_t cap)
{
	x->b = calloc(1, cap);
	assert_non_null(x->b);
	x->n = 0;
	x->cap = cap;
}

static void bl_free(struct blob *x)
{
	free(x->b);
	x->b = NULL;
}

static void u8(struct blob *x, uint8_t v)
{
	assert_true(x->n < x->cap);
	x->b[x->n++] = v;
}

static void u32(struct blob *x, uint32_t v)
{
	for (int s = 24; s >= 0; s -= 8)
		u8(x, (uint8_t)(v >> s));
}

static void u64(struct blob *x, uint64_t v)
{
	u32(x, (uint32_t)(v >> 32));
	u32(x, (uint32_t)v);
}

static void bytes(struct blob *x, const void *p, size_t n)
{
	u32(x, (uint32_t)n);
	for (size_t i = 0; i < n; i++)
		u8(x, ((const uint8_t *)p)[i]);
	while (x->n % 4 != 0)
		u8(x, 0);
}

static void str(struct blob *x, const char *s)
{
	bytes(x, s, strlen(s));
}

static void set32(struct blob *x, size_t at, uint32_t v)
{
	assert_true(at + 4 <= x->n);
	x->b[at] = (uint8_t)(v >> 24);
	x->b[at + 1] = (uint8_t)(v >> 16);
	x->b[at + 2] = (uint8_t)(v >> 8);
	x->b[at + 3] = (uint8_t)v;
}

/* Requirement header; req_end patches the length. */
static void req_begin(struct blob *x)
{
	x->n = 0;
	u32(x, MSIGN_CSMAGIC_REQUIREMENT);
	u32(x, 0);
	u32(x, 1);
}

static void req_end(struct blob *x)
{
	set32(x, 4, (uint32_t)x->n);
}

enum {
	OP_FALSE, OP_TRUE, OP_IDENT, OP_APPLE_ANCHOR, OP_ANCHOR_HASH,
	OP_INFO_KEY_VALUE, OP_AND, OP_OR, OP_CDHASH, OP_NOT,
	OP_INFO_KEY_FIELD, OP_CERT_FIELD, OP_TRUSTED_CERT, OP_TRUSTED_CERTS,
	OP_CERT_GENERIC, OP_APPLE_GENERIC_ANCHOR, OP_ENTITLEMENT_FIELD,
	OP_CERT_POLICY, OP_NAMED_ANCHOR, OP_NAMED_CODE, OP_PLATFORM,
	OP_NOTARIZED, OP_CERT_FIELD_DATE, OP_LEGACY_DEVID,
};

static void ident(struct blob *x, const char *s)
{
	u32(x, OP_IDENT);
	str(x, s);
}

/* DER of 1.2.840.113635.100.6.2.6 and .6.1.13 (Developer ID markers). */
static const uint8_t oid_devid_ca[] = { 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x63,
					0x64, 0x06, 0x02, 0x06 };
static const uint8_t oid_devid_leaf[] = { 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x63,
					  0x64, 0x06, 0x01, 0x0d };

/* The spec's Developer ID designated requirement, right-deep as Apple's
 * compiler emits it. */
static void build_devid(struct blob *x)
{
	req_begin(x);
	u32(x, OP_AND);
	ident(x, "org.example");
	u32(x, OP_AND);
	u32(x, OP_APPLE_GENERIC_ANCHOR);
	u32(x, OP_AND);
	u32(x, OP_CERT_GENERIC);
	u32(x, 1);
	bytes(x, oid_devid_ca, sizeof(oid_devid_ca));
	u32(x, 0);
	u32(x, OP_AND);
	u32(x, OP_CERT_GENERIC);
	u32(x, 0);
	bytes(x, oid_devid_leaf, sizeof(oid_devid_leaf));
	u32(x, 0);
	u32(x, OP_CERT_FIELD);
	u32(x, 0);
	str(x, "subject.OU");
	u32(x, 1);
	str(x, "432ZXYXDNY");
	req_end(x);
}

static const char devid_text[] =
	"identifier \"org.example\" and anchor apple generic and "
	"certificate 1[field.1.2.840.113635.100.6.2.6] /* exists */ and "
	"certificate leaf[field.1.2.840.113635.100.6.1.13] /* exists */ and "
	"certificate leaf[subject.OU] = \"432ZXYXDNY\"";

/* A requirement set from (type, requirement) pairs. */
static void build_set(struct blob *set, const uint32_t *types,
		      const struct blob *reqs, size_t count)
{
	set->n = 0;
	u32(set, MSIGN_CSMAGIC_REQUIREMENTS);
	u32(set, 0);
	u32(set, (uint32_t)count);
	size_t off = 12 + 8 * count;
	for (size_t i = 0; i < count; i++) {
		u32(set, types[i]);
		u32(set, (uint32_t)off);
		off += reqs[i].n;
	}
	for (size_t i = 0; i < count; i++)
		for (size_t j = 0; j < reqs[i].n; j++)
			u8(set, reqs[i].b[j]);
	set32(set, 4, (uint32_t)set->n);
}

/* ---- checks -------------------------------------------------------------- */

static void expect_text_n(const uint8_t *b, size_t n, const char *want)
{
	char *out = NULL;
	struct msign_diag d = { 0 };
	int rc = msign_req_decompile(b, n, &out, &d);
	if (rc != 0)
		fail_msg("rc %d (%s) at %llu: %s", rc, msign_strerror(rc),
			 (unsigned long long)d.file_off, d.msg);
	assert_non_null(out);
	assert_string_equal(out, want);
	assert_int_equal(d.code, 0);
	free(out);
}

static void expect_text(const struct blob *x, const char *want)
{
	expect_text_n(x->b, x->n, want);
}

/* An error leaves *out NULL and the diag filled with the same code. */
static int decompile_err(const uint8_t *b, size_t n, struct msign_diag *d)
{
	char *out = (char *)"untouched";
	msign_diag_clear(d);
	int rc = msign_req_decompile(b, n, &out, d);
	if (rc == 0) {
		free(out);
		return 0;
	}
	assert_null(out);
	assert_int_equal(d->code, rc);
	assert_true(d->msg[0] != '\0');
	return rc;
}

static void expect_err(const struct blob *x, int code)
{
	struct msign_diag d;
	int rc = decompile_err(x->b, x->n, &d);
	if (rc != code)
		fail_msg("want %d got %d (%s)", code, rc, d.msg);
}

static int set_decompile(const uint8_t *b, size_t n, char **out,
			 uint32_t *count, bool *des, struct msign_diag *d)
{
	msign_diag_clear(d);
	*out = (char *)"untouched";
	int rc = msign_reqset_decompile(b, n, out, count, des, d);
	if (rc != 0) {
		assert_null(*out);
		assert_int_equal(d->code, rc);
		assert_int_equal(*count, 0);
		assert_false(*des);
	}
	return rc;
}

/* ---- good requirements --------------------------------------------------- */

/* The requirement set of apple_mac-ls2_x86_64, byte for byte. */
static const uint8_t ls_set[] = {
	0xfa, 0xde, 0x0c, 0x01, 0x00, 0x00, 0x00, 0x3c, 0x00, 0x00, 0x00, 0x01,
	0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x14, 0xfa, 0xde, 0x0c, 0x00,
	0x00, 0x00, 0x00, 0x28, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x06,
	0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x0c, 0x63, 0x6f, 0x6d, 0x2e,
	0x61, 0x70, 0x70, 0x6c, 0x65, 0x2e, 0x6c, 0x73, 0x00, 0x00, 0x00, 0x03,
};

static void test_real_ls_set(void **state)
{
	(void)state;
	char *out;
	uint32_t count;
	bool des;
	struct msign_diag d;
	assert_int_equal(set_decompile(ls_set, sizeof(ls_set), &out, &count, &des, &d), 0);
	assert_string_equal(out, "designated => identifier \"com.apple.ls\" and anchor apple\n");
	assert_int_equal(count, 1);
	assert_true(des);
	free(out);
	/* The entry alone, as a requirement blob. */
	expect_text_n(ls_set + 20, sizeof(ls_set) - 20,
		      "identifier \"com.apple.ls\" and anchor apple");
}

static void test_developer_id(void **state)
{
	(void)state;
	struct blob x;
	bl_init(&x, 512);
	build_devid(&x);
	expect_text(&x, devid_text);
	bl_free(&x);
}

static void test_cdhash(void **state)
{
	(void)state;
	struct blob x;
	uint8_t h[20];
	for (int i = 0; i < 20; i++)
		h[i] = (uint8_t)(i * 13 + 1);
	bl_init(&x, 128);
	req_begin(&x);
	u32(&x, OP_CDHASH);
	bytes(&x, h, sizeof(h));
	req_end(&x);
	expect_text(&x, "cdhash H\"010e1b2835424f5c697683909daab7c4d1deebf8\"");
	bl_free(&x);
}

/* Apple's levels: or looser than and, ! binds to a primary. */
static void test_precedence(void **state)
{
	(void)state;
	struct blob x;
	bl_init(&x, 256);
	req_begin(&x); /* and(or(a, b), c) */
	u32(&x, OP_AND); u32(&x, OP_OR); ident(&x, "a"); ident(&x, "b"); ident(&x, "c");
	req_end(&x);
	expect_text(&x, "(identifier a or identifier b) and identifier c");
	req_begin(&x); /* and(a, or(b, c)) */
	u32(&x, OP_AND); ident(&x, "a"); u32(&x, OP_OR); ident(&x, "b"); ident(&x, "c");
	req_end(&x);
	expect_text(&x, "identifier a and (identifier b or identifier c)");
	req_begin(&x); /* or(and(a, b), c) */
	u32(&x, OP_OR); u32(&x, OP_AND); ident(&x, "a"); ident(&x, "b"); ident(&x, "c");
	req_end(&x);
	expect_text(&x, "identifier a and identifier b or identifier c");
	req_begin(&x); /* or(a, or(b, c)) and and(and(a, b), c) need none */
	u32(&x, OP_AND); u32(&x, OP_AND); u32(&x, OP_OR); ident(&x, "a");
	u32(&x, OP_OR); ident(&x, "b"); ident(&x, "c"); ident(&x, "d"); ident(&x, "e");
	req_end(&x);
	expect_text(&x, "(identifier a or identifier b or identifier c) and identifier d and identifier e");
	req_begin(&x); /* !(a and b) */
	u32(&x, OP_NOT); u32(&x, OP_AND); ident(&x, "a"); ident(&x, "b");
	req_end(&x);
	expect_text(&x, "! (identifier a and identifier b)");
	req_begin(&x); /* !(a or b) */
	u32(&x, OP_NOT); u32(&x, OP_OR); ident(&x, "a"); ident(&x, "b");
	req_end(&x);
	expect_text(&x, "! (identifier a or identifier b)");
	req_begin(&x); /* !a and !!always */
	u32(&x, OP_AND); u32(&x, OP_NOT); ident(&x, "a");
	u32(&x, OP_NOT); u32(&x, OP_NOT); u32(&x, OP_TRUE);
	req_end(&x);
	expect_text(&x, "! identifier a and ! ! always");
	bl_free(&x);
}

/* info[key] with each match operation; dates take an int64 CFAbsoluteTime. */
static void test_match_ops(void **state)
{
	(void)state;
	static const char *const want[] = {
		"info[CFBundleVersion] /* exists */",
		"info[CFBundleVersion] = v1",
		"info[CFBundleVersion] ~ v1",
		"info[CFBundleVersion] = v1*",
		"info[CFBundleVersion] = *v1",
		"info[CFBundleVersion] < v1",
		"info[CFBundleVersion] > v1",
		"info[CFBundleVersion] <= v1",
		"info[CFBundleVersion] >= v1",
		"info[CFBundleVersion] = <2024-02-29 12:34:56 +0000>",
		"info[CFBundleVersion] < <2024-02-29 12:34:56 +0000>",
		"info[CFBundleVersion] > <2024-02-29 12:34:56 +0000>",
		"info[CFBundleVersion] <= <2024-02-29 12:34:56 +0000>",
		"info[CFBundleVersion] >= <2024-02-29 12:34:56 +0000>",
		"info[CFBundleVersion] absent ",
	};
	struct blob x;
	bl_init(&x, 128);
	for (uint32_t m = 0; m < 15; m++) {
		req_begin(&x);
		u32(&x, OP_INFO_KEY_FIELD);
		str(&x, "CFBundleVersion");
		u32(&x, m);
		if (m >= 9 && m <= 13)
			u64(&x, 730902896u);
		else if (m != 0 && m != 14)
			str(&x, "v1");
		req_end(&x);
		expect_text(&x, want[m]);
	}
	req_begin(&x); /* unknown match operation */
	u32(&x, OP_INFO_KEY_FIELD);
	str(&x, "k");
	u32(&x, 15);
	req_end(&x);
	expect_err(&x, MSIGN_E_UNSUPPORTED);
	bl_free(&x);
}

static void test_timestamps(void **state)
{
	(void)state;
	static const struct {
		uint64_t t;
		const char *want;
	} cases[] = {
		{ 0, "<2001-01-01 00:00:00 +0000>" },
		{ UINT64_MAX, "<2000-12-31 23:59:59 +0000>" }, /* -1 */
		{ (uint64_t)-978307200, "<1970-01-01 00:00:00 +0000>" },
		{ 3129235200u, "<2100-03-01 00:00:00 +0000>" },
		{ (uint64_t)-12649219201, "<1600-02-29 23:59:59 +0000>" },
		{ 2147483647u, "<2069-01-19 03:14:07 +0000>" },
	};
	struct blob x;
	bl_init(&x, 128);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char want[128];
		req_begin(&x);
		u32(&x, OP_CERT_FIELD_DATE);
		u32(&x, 0);
		bytes(&x, "\x2a\x03", 2);
		u32(&x, 9);
		u64(&x, cases[i].t);
		req_end(&x);
		snprintf(want, sizeof(want), "certificate leaf[timestamp.1.2.3] = %s",
			 cases[i].want);
		expect_text(&x, want);
	}
	/* The int64 extremes must not overflow the calendar arithmetic. */
	for (int i = 0; i < 2; i++) {
		char *out;
		struct msign_diag d = { 0 };
		req_begin(&x);
		u32(&x, OP_INFO_KEY_FIELD);
		str(&x, "k");
		u32(&x, 10);
		u64(&x, i == 0 ? (uint64_t)INT64_MAX : (uint64_t)INT64_MAX + 1);
		req_end(&x);
		assert_int_equal(msign_req_decompile(x.b, x.n, &out, &d), 0);
		assert_non_null(strstr(out, i == 0 ? " 15:30:07 +0000>" : " 08:29:52 +0000>"));
		free(out);
	}
	req_begin(&x); /* truncated timestamp */
	u32(&x, OP_INFO_KEY_FIELD);
	str(&x, "k");
	u32(&x, 9);
	u32(&x, 0);
	req_end(&x);
	expect_err(&x, MSIGN_E_TRUNCATED);
	bl_free(&x);
}

/* Every opcode at least once, each in a requirement of its own. */
static void test_every_opcode(void **state)
{
	(void)state;
	uint8_t h[20];
	memset(h, 0xab, sizeof(h));
	struct blob x;
	bl_init(&x, 256);
#define ONE(build, want) do { req_begin(&x); build; req_end(&x); expect_text(&x, want); } while (0)
	ONE(u32(&x, OP_FALSE), "never");
	ONE(u32(&x, OP_TRUE), "always");
	ONE(ident(&x, "com.example.app"), "identifier \"com.example.app\"");
	ONE(u32(&x, OP_APPLE_ANCHOR), "anchor apple");
	ONE((u32(&x, OP_ANCHOR_HASH), u32(&x, (uint32_t)-1), bytes(&x, h, 20)),
	    "certificate root = H\"abababababababababababababababababababab\"");
	ONE((u32(&x, OP_INFO_KEY_VALUE), str(&x, "CFBundleName"), str(&x, "Demo App")),
	    "info[CFBundleName] = \"Demo App\"");
	ONE((u32(&x, OP_AND), u32(&x, OP_TRUE), u32(&x, OP_FALSE)), "always and never");
	ONE((u32(&x, OP_OR), u32(&x, OP_TRUE), u32(&x, OP_FALSE)), "always or never");
	ONE((u32(&x, OP_CDHASH), bytes(&x, h, 4)), "cdhash H\"abababab\"");
	ONE((u32(&x, OP_NOT), u32(&x, OP_APPLE_ANCHOR)), "! anchor apple");
	ONE((u32(&x, OP_INFO_KEY_FIELD), str(&x, "CFBundleShortVersionString"), u32(&x, 8), str(&x, "v2")),
	    "info[CFBundleShortVersionString] >= v2");
	ONE((u32(&x, OP_CERT_FIELD), u32(&x, 2), str(&x, "subject.CN"), u32(&x, 2), str(&x, "Apple")),
	    "certificate 2[subject.CN] ~ Apple");
	ONE((u32(&x, OP_TRUSTED_CERT), u32(&x, 0)), "certificate leaftrusted");
	ONE((u32(&x, OP_TRUSTED_CERT), u32(&x, (uint32_t)-1)), "certificate roottrusted");
	ONE(u32(&x, OP_TRUSTED_CERTS), "anchor trusted");
	ONE((u32(&x, OP_CERT_GENERIC), u32(&x, 1), bytes(&x, oid_devid_ca, 10), u32(&x, 0)),
	    "certificate 1[field.1.2.840.113635.100.6.2.6] /* exists */");
	ONE(u32(&x, OP_APPLE_GENERIC_ANCHOR), "anchor apple generic");
	ONE((u32(&x, OP_ENTITLEMENT_FIELD), str(&x, "com.apple.security.app-sandbox"), u32(&x, 1), str(&x, "true")),
	    "entitlement[\"com.apple.security.app-sandbox\"] = \"true\"");
	ONE((u32(&x, OP_CERT_POLICY), u32(&x, 0), bytes(&x, oid_devid_leaf, 10), u32(&x, 14)),
	    "certificate leaf[policy.1.2.840.113635.100.6.1.13] absent ");
	ONE((u32(&x, OP_NAMED_ANCHOR), str(&x, "Mac")), "anchor apple Mac");
	ONE((u32(&x, OP_NAMED_CODE), str(&x, "com.apple.Safari")), "(\"com.apple.Safari\")");
	ONE((u32(&x, OP_PLATFORM), u32(&x, 2)), "platform = 2");
	ONE((u32(&x, OP_PLATFORM), u32(&x, 0xffffffffu)), "platform = -1");
	ONE(u32(&x, OP_NOTARIZED), "notarized");
	ONE((u32(&x, OP_CERT_FIELD_DATE), u32(&x, 3), bytes(&x, oid_devid_leaf, 10), u32(&x, 13), u64(&x, 0)),
	    "certificate 3[timestamp.1.2.840.113635.100.6.1.13] >= <2001-01-01 00:00:00 +0000>");
	ONE(u32(&x, OP_LEGACY_DEVID), "legacy");
	/* Flag bits on a known opcode are ignored, as Apple's switch does. */
	ONE(u32(&x, 0x80000000u | OP_TRUE), "always");
	ONE(u32(&x, 0x41000000u | OP_APPLE_ANCHOR), "anchor apple");
	/* Certificate slots: leaf, root, positive and other negative indices. */
	ONE((u32(&x, OP_CERT_FIELD), u32(&x, 7), str(&x, "subject.O"), u32(&x, 0)),
	    "certificate 7[subject.O] /* exists */");
	ONE((u32(&x, OP_CERT_FIELD), u32(&x, (uint32_t)-2), str(&x, "subject.O"), u32(&x, 0)),
	    "certificate -2[subject.O] /* exists */");
#undef ONE
	bl_free(&x);
}

/* Bare, quoted (with \ and " escaped) or hex, as Apple's Dumper::data(). */
static void test_quoting(void **state)
{
	(void)state;
	static const struct {
		const char *value;
		size_t len;
		const char *as_ident;  /* dots not allowed */
		const char *as_key;    /* dots allowed */
	} cases[] = {
		{ "abc", 3, "abc", "abc" },
		{ "a.b", 3, "\"a.b\"", "a.b" },
		{ "..", 2, "\"..\"", ".." },
		{ "9ab", 3, "\"9ab\"", "\"9ab\"" },
		{ "1.2", 3, "\"1.2\"", "\"1.2\"" },
		{ "a9", 2, "a9", "a9" },
		{ "anchor", 6, "\"anchor\"", "\"anchor\"" },
		{ "designated", 10, "\"designated\"", "\"designated\"" },
		{ "timestamp", 9, "\"timestamp\"", "\"timestamp\"" },
		{ "Anchor", 6, "Anchor", "Anchor" },
		{ "", 0, "\"\"", "\"\"" },
		{ "a\"b\\c", 5, "\"a\\\"b\\\\c\"", "\"a\\\"b\\\\c\"" },
		{ "a b", 3, "\"a b\"", "\"a b\"" },
		{ "a_b-c", 5, "\"a_b-c\"", "\"a_b-c\"" },
		{ "t\tn", 3, "\"t\tn\"", "\"t\tn\"" },
		/* line breaks: hex (Apple quotes them, which forges lines) */
		{ "t\tn\n", 4, "0x74096e0a", "0x74096e0a" },
		{ "a\rb", 3, "0x610d62", "0x610d62" },
		{ "a\vb\fc", 5, "0x610b620c63", "0x610b620c63" },
		{ "a\0b", 3, "0x610062", "0x610062" },
		{ "\xc3\xa9t\xc3\xa9", 5, "0xc3a974c3a9", "0xc3a974c3a9" },
		{ "\x7f", 1, "0x7f", "0x7f" },
	};
	struct blob x;
	bl_init(&x, 128);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char want[128];
		req_begin(&x);
		u32(&x, OP_IDENT);
		bytes(&x, cases[i].value, cases[i].len);
		req_end(&x);
		snprintf(want, sizeof(want), "identifier %s", cases[i].as_ident);
		expect_text(&x, want);
		req_begin(&x);
		u32(&x, OP_ENTITLEMENT_FIELD);
		bytes(&x, cases[i].value, cases[i].len);
		u32(&x, 1);
		bytes(&x, cases[i].value, cases[i].len);
		req_end(&x);
		snprintf(want, sizeof(want), "entitlement[%s] = %s",
			 cases[i].as_key, cases[i].as_ident);
		expect_text(&x, want);
	}
	bl_free(&x);
}

static void test_oids(void **state)
{
	(void)state;
	static const struct {
		const char *der;
		size_t len;
		const char *want; /* NULL: MSIGN_E_INVALID */
	} cases[] = {
		{ "\x2a\x86\x48", 3, "1.2.840" },
		{ "\x27", 1, "0.39" },
		{ "\x28", 1, "1.0" },
		{ "\x50", 1, "2.0" },
		{ "\x88\x37\x03", 3, "2.999.3" },
		{ "", 0, "" },
		{ "\x2a\x81\xff\xff\xff\xff\xff\xff\xff\xff\x7f", 11,
		  "1.2.18446744073709551615" },
		{ "\x2a\x82\x80\x80\x80\x80\x80\x80\x80\x80\x00", 11, NULL }, /* 2^64 */
		{ "\x2a\x80\x01", 3, NULL },       /* not minimal */
		{ "\x2a\x86", 2, NULL },           /* ends inside an arc */
		{ "\x80", 1, NULL },
	};
	struct blob x;
	bl_init(&x, 128);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		req_begin(&x);
		u32(&x, OP_CERT_GENERIC);
		u32(&x, 0);
		bytes(&x, cases[i].der, cases[i].len);
		u32(&x, 0);
		req_end(&x);
		if (cases[i].want == NULL) {
			expect_err(&x, MSIGN_E_INVALID);
			continue;
		}
		char want[128];
		snprintf(want, sizeof(want), "certificate leaf[field.%s] /* exists */",
			 cases[i].want);
		expect_text(&x, want);
	}
	bl_free(&x);
}

/* Unknown opcodes with a generic flag carry a length and are skipped. */
static void test_generic_opcodes(void **state)
{
	(void)state;
	struct blob x;
	bl_init(&x, 128);
	req_begin(&x); /* generic-false in an and */
	u32(&x, OP_AND);
	ident(&x, "a");
	u32(&x, 0x80000063u);
	u32(&x, 3);
	u8(&x, 1); u8(&x, 2); u8(&x, 3);
	req_end(&x);
	expect_text(&x, "identifier a and  false /* opcode 99 */");
	req_begin(&x); /* at the top the leading space goes, as in Dumper::dump */
	u32(&x, 0xc0000063u);
	u32(&x, 0);
	req_end(&x);
	expect_text(&x, "false /* opcode 99 */");
	req_begin(&x); /* generic-skip: the next expression takes its place */
	u32(&x, OP_AND);
	u32(&x, 0x40000064u);
	u32(&x, 5); /* unpadded, as Apple's Reader::skip */
	u8(&x, 9); u8(&x, 9); u8(&x, 9); u8(&x, 9); u8(&x, 9);
	u32(&x, 0x40000065u);
	u32(&x, 0);
	u32(&x, OP_TRUE);
	u32(&x, OP_FALSE);
	req_end(&x);
	expect_text(&x, "/* opcode 100 */  /* opcode 101 */ always and never");
	req_begin(&x); /* no flag: not understood */
	u32(&x, 99);
	req_end(&x);
	expect_err(&x, MSIGN_E_UNSUPPORTED);
	req_begin(&x); /* a flag byte without either generic bit */
	u32(&x, 0x01000063u);
	req_end(&x);
	expect_err(&x, MSIGN_E_UNSUPPORTED);
	req_begin(&x); /* skip length past the end */
	u32(&x, 0x40000064u);
	u32(&x, 0x7fffffffu);
	req_end(&x);
	expect_err(&x, MSIGN_E_TRUNCATED);
	req_begin(&x); /* skip with nothing after it */
	u32(&x, 0x40000064u);
	u32(&x, 0);
	req_end(&x);
	expect_err(&x, MSIGN_E_TRUNCATED);
	bl_free(&x);
}

/* Trailing bytes after the program, inside or after the declared length,
 * and a final data item without its padding are all accepted. */
static void test_trailing_and_padding(void **state)
{
	(void)state;
	struct blob x;
	bl_init(&x, 128);
	req_begin(&x);
	u32(&x, OP_TRUE);
	u32(&x, 0xdeadbeefu);
	req_end(&x);
	u32(&x, 0xfeedfaceu);
	expect_text(&x, "always");
	req_begin(&x);
	ident(&x, "abc");
	x.n -= 1; /* drop the pad byte */
	req_end(&x);
	expect_text(&x, "identifier abc");
	bl_free(&x);
}

static void test_set_types(void **state)
{
	(void)state;
	struct blob reqs[7], set;
	uint32_t types[7] = { 1, 2, 3, 4, 5, 0, 9 };
	const char *idents[7] = { "h", "g", "d", "l", "p", "z", "n" };
	for (int i = 0; i < 7; i++) {
		bl_init(&reqs[i], 64);
		req_begin(&reqs[i]);
		ident(&reqs[i], idents[i]);
		req_end(&reqs[i]);
	}
	bl_init(&set, 1024);
	build_set(&set, types, reqs, 7);
	char *out;
	uint32_t count;
	bool des;
	struct msign_diag d;
	assert_int_equal(set_decompile(set.b, set.n, &out, &count, &des, &d), 0);
	assert_string_equal(out,
			    "host => identifier h\n"
			    "guest => identifier g\n"
			    "designated => identifier d\n"
			    "library => identifier l\n"
			    "plugin => identifier p\n"
			    "0 => identifier z\n"
			    "9 => identifier n\n");
	assert_int_equal(count, 7);
	assert_true(des);
	free(out);
	/* Without a designated entry. */
	build_set(&set, types + 3, reqs + 3, 2);
	assert_int_equal(set_decompile(set.b, set.n, &out, &count, &des, &d), 0);
	assert_string_equal(out, "library => identifier l\nplugin => identifier p\n");
	assert_int_equal(count, 2);
	assert_false(des);
	free(out);
	/* Empty set: an empty string, not NULL. */
	build_set(&set, types, reqs, 0);
	assert_int_equal(set_decompile(set.b, set.n, &out, &count, &des, &d), 0);
	assert_string_equal(out, "");
	assert_int_equal(count, 0);
	assert_false(des);
	free(out);
	for (int i = 0; i < 7; i++)
		bl_free(&reqs[i]);
	bl_free(&set);
}

/* Set entries keep the leading space Apple's set dumper leaves. */
static void test_set_generic_entry(void **state)
{
	(void)state;
	struct blob r, set;
	uint32_t type = 3;
	bl_init(&r, 64);
	bl_init(&set, 128);
	req_begin(&r);
	u32(&r, 0x80000070u);
	u32(&r, 0);
	req_end(&r);
	build_set(&set, &type, &r, 1);
	char *out;
	uint32_t count;
	bool des;
	struct msign_diag d;
	assert_int_equal(set_decompile(set.b, set.n, &out, &count, &des, &d), 0);
	assert_string_equal(out, "designated =>  false /* opcode 112 */\n");
	free(out);
	bl_free(&r);
	bl_free(&set);
}

/* ---- hostile requirements ------------------------------------------------ */

static void test_truncated_every_length(void **state)
{
	(void)state;
	struct blob x;
	struct msign_diag d;
	bl_init(&x, 512);
	build_devid(&x);
	size_t full = x.n;
	for (size_t cut = 0; cut < full; cut++) {
		/* The buffer ends early; the declared length still says full. */
		int rc = decompile_err(x.b, cut, &d);
		assert_int_equal(rc, cut < 12 ? MSIGN_E_TRUNCATED : MSIGN_E_BAD_RANGE);
		if (cut < 12)
			continue;
		/* The declared length ends early too: the program is cut. Only
		 * the final item's 2 pad bytes may go. */
		set32(&x, 4, (uint32_t)cut);
		rc = decompile_err(x.b, cut, &d);
		if (cut >= full - 2)
			assert_int_equal(rc, 0);
		else
			assert_true(rc == MSIGN_E_TRUNCATED);
		set32(&x, 4, (uint32_t)full);
	}
	bl_free(&x);
}

static void test_header_fields(void **state)
{
	(void)state;
	static const uint32_t bad_len[] = { 0, 1, 11, 0x7fffffffu, 0x80000000u,
					    0xffffffffu };
	struct blob x;
	struct msign_diag d;
	bl_init(&x, 512);
	build_devid(&x);
	uint32_t full = (uint32_t)x.n;
	for (size_t i = 0; i < sizeof(bad_len) / sizeof(bad_len[0]); i++) {
		set32(&x, 4, bad_len[i]);
		int rc = decompile_err(x.b, x.n, &d);
		assert_int_equal(rc, bad_len[i] < 12 ? MSIGN_E_INVALID : MSIGN_E_BAD_RANGE);
	}
	set32(&x, 4, full + 1);
	assert_int_equal(decompile_err(x.b, x.n, &d), MSIGN_E_BAD_RANGE);
	assert_int_equal(d.file_off, 4);
	assert_non_null(strstr(d.msg, "length 153"));
	set32(&x, 4, full);
	assert_int_equal(decompile_err(x.b, x.n, &d), 0);
	/* Magic and kind. */
	set32(&x, 0, MSIGN_CSMAGIC_REQUIREMENTS);
	assert_int_equal(decompile_err(x.b, x.n, &d), MSIGN_E_BAD_MAGIC);
	assert_non_null(strstr(d.msg, "0xfade0c01"));
	set32(&x, 0, MSIGN_CSMAGIC_REQUIREMENT);
	static const uint32_t bad_kind[] = { 0, 2, 0x7fffffffu, 0xffffffffu };
	for (size_t i = 0; i < 4; i++) {
		set32(&x, 8, bad_kind[i]);
		assert_int_equal(decompile_err(x.b, x.n, &d), MSIGN_E_UNSUPPORTED);
		assert_int_equal(d.file_off, 8);
	}
	bl_free(&x);
}

/* Every data length field of the Developer ID requirement set to hostile
 * values: an error or a text, never a crash (run under ASan/UBSan). */
static void test_data_length_fields(void **state)
{
	(void)state;
	static const uint32_t vals[] = { 0, 1, 3, 0x7fffffffu, 0x80000000u,
					 0xfffffffcu, 0xfffffffdu, 0xffffffffu };
	static const size_t len_at[] = { 20, 56, 88, 116, 136 };
	struct blob x;
	struct msign_diag d;
	bl_init(&x, 512);
	build_devid(&x);
	for (size_t f = 0; f < sizeof(len_at) / sizeof(len_at[0]); f++) {
		uint32_t orig = (uint32_t)x.b[len_at[f]] << 24 | (uint32_t)x.b[len_at[f] + 1] << 16 |
				(uint32_t)x.b[len_at[f] + 2] << 8 | x.b[len_at[f] + 3];
		assert_true(orig > 0 && orig < 16); /* really a data length */
		for (size_t v = 0; v < sizeof(vals) / sizeof(vals[0]); v++) {
			set32(&x, len_at[f], vals[v]);
			(void)decompile_err(x.b, x.n, &d);
			if (vals[v] > 0x1000) {
				assert_int_equal(d.code, MSIGN_E_TRUNCATED);
				assert_int_equal(d.file_off, len_at[f]);
			}
		}
		set32(&x, len_at[f], orig);
	}
	assert_int_equal(decompile_err(x.b, x.n, &d), 0);
	bl_free(&x);
}

/* n nested nots: MSIGN_REQ_MAX_DEPTH levels pass, one more is refused, and
 * a very deep program fails without deep recursion. */
static void build_nots(struct blob *x, size_t n, uint32_t leaf)
{
	req_begin(x);
	for (size_t i = 0; i < n; i++)
		u32(x, OP_NOT);
	u32(x, leaf);
	req_end(x);
}

static void test_deep_nesting(void **state)
{
	(void)state;
	struct blob x;
	struct msign_diag d;
	bl_init(&x, 16 + 4 * 200001);
	build_nots(&x, MSIGN_REQ_MAX_DEPTH, OP_TRUE);
	char *out;
	assert_int_equal(msign_req_decompile(x.b, x.n, &out, &d), 0);
	assert_int_equal(strlen(out), 2 * MSIGN_REQ_MAX_DEPTH + 6);
	free(out);
	build_nots(&x, MSIGN_REQ_MAX_DEPTH + 1, OP_TRUE);
	assert_int_equal(decompile_err(x.b, x.n, &d), MSIGN_E_LIMIT);
	assert_int_equal(d.file_off, 12 + 4 * (MSIGN_REQ_MAX_DEPTH + 1));
	build_nots(&x, 200000, OP_TRUE);
	assert_int_equal(decompile_err(x.b, x.n, &d), MSIGN_E_LIMIT);
	/* A right-deep and chain: depth counts and/or too. */
	for (int extra = 0; extra < 2; extra++) {
		req_begin(&x);
		for (int i = 0; i < MSIGN_REQ_MAX_DEPTH + extra; i++) {
			u32(&x, OP_AND);
			u32(&x, OP_TRUE);
		}
		u32(&x, OP_FALSE);
		req_end(&x);
		assert_int_equal(decompile_err(x.b, x.n, &d), extra ? MSIGN_E_LIMIT : 0);
	}
	bl_free(&x);
}

/* Generic-skip opcodes nest nothing, so they test the opcode cap alone. */
static void test_opcode_limit(void **state)
{
	(void)state;
	struct blob x;
	struct msign_diag d;
	bl_init(&x, 16 + 8 * (size_t)MSIGN_REQ_MAX_OPS + 8);
	for (int extra = 0; extra < 2; extra++) {
		req_begin(&x);
		for (int i = 0; i < MSIGN_REQ_MAX_OPS - 1 + extra; i++) {
			u32(&x, 0x40000064u);
			u32(&x, 0);
		}
		u32(&x, OP_TRUE);
		req_end(&x);
		assert_int_equal(decompile_err(x.b, x.n, &d), extra ? MSIGN_E_LIMIT : 0);
	}
	assert_non_null(strstr(d.msg, "100000"));
	bl_free(&x);
}

/* Hex doubles data: a 5 MB binary identifier exceeds the text cap. */
static void test_text_limit(void **state)
{
	(void)state;
	struct blob x;
	struct msign_diag d;
	size_t n = 5u << 20;
	bl_init(&x, n + 64);
	req_begin(&x);
	u32(&x, OP_IDENT);
	u32(&x, (uint32_t)n);
	x.n += n; /* zero bytes: binary, so hex */
	req_end(&x);
	assert_int_equal(decompile_err(x.b, x.n, &d), MSIGN_E_LIMIT);
	bl_free(&x);
}

static void test_set_hostile(void **state)
{
	(void)state;
	static const uint32_t vals[] = { 0, 1, 0x7fffffffu, 0x80000000u, 0xffffffffu,
					 sizeof(ls_set), sizeof(ls_set) + 1 };
	uint8_t b[sizeof(ls_set)];
	char *out;
	uint32_t count;
	bool des;
	struct msign_diag d;
	/* Every truncation of the set fails. */
	for (size_t cut = 0; cut < sizeof(ls_set); cut++)
		assert_true(set_decompile(ls_set, cut, &out, &count, &des, &d) < 0);
	/* Set length, count, entry offset and entry length fields. */
	static const size_t fields[] = { 4, 8, 16, 24 };
	for (size_t f = 0; f < 4; f++) {
		for (size_t v = 0; v < sizeof(vals) / sizeof(vals[0]); v++) {
			memcpy(b, ls_set, sizeof(b));
			b[fields[f]] = (uint8_t)(vals[v] >> 24);
			b[fields[f] + 1] = (uint8_t)(vals[v] >> 16);
			b[fields[f] + 2] = (uint8_t)(vals[v] >> 8);
			b[fields[f] + 3] = (uint8_t)vals[v];
			int rc = set_decompile(b, sizeof(b), &out, &count, &des, &d);
			bool ok = (fields[f] == 4 && vals[v] == sizeof(ls_set)) ||
				  (fields[f] == 8 && vals[v] <= 1) ||
				  (fields[f] == 24 && vals[v] == 40);
			if (ok) {
				assert_int_equal(rc, 0);
				free(out);
			} else {
				assert_true(rc < 0);
			}
		}
	}
	/* Specific codes and offsets. */
	memcpy(b, ls_set, sizeof(b));
	b[19] = 0x0c; /* entry offset 12: inside the index */
	assert_int_equal(set_decompile(b, sizeof(b), &out, &count, &des, &d), MSIGN_E_INVALID);
	assert_int_equal(d.file_off, 16);
	b[19] = 0x3d; /* entry offset 61: beyond the set */
	assert_int_equal(set_decompile(b, sizeof(b), &out, &count, &des, &d), MSIGN_E_BAD_RANGE);
	assert_non_null(strstr(d.msg, "offset 61"));
	memcpy(b, ls_set, sizeof(b));
	b[11] = 7; /* count 7 needs 56 index bytes, only 48 follow */
	assert_int_equal(set_decompile(b, sizeof(b), &out, &count, &des, &d), MSIGN_E_BAD_RANGE);
	assert_int_equal(d.file_off, 8);
	memcpy(b, ls_set, sizeof(b));
	b[23] = 0x01; /* entry magic */
	assert_int_equal(set_decompile(b, sizeof(b), &out, &count, &des, &d), MSIGN_E_BAD_MAGIC);
	assert_int_equal(d.file_off, 20);
	memcpy(b, ls_set, sizeof(b));
	b[59] = 99; /* entry opcode: reported at its offset in the set */
	assert_int_equal(set_decompile(b, sizeof(b), &out, &count, &des, &d), MSIGN_E_UNSUPPORTED);
	assert_int_equal(d.file_off, 56);
	memcpy(b, ls_set, sizeof(b));
	b[3] = 0x00; /* set magic */
	assert_int_equal(set_decompile(b, sizeof(b), &out, &count, &des, &d), MSIGN_E_BAD_MAGIC);
}

/* Flip every bit of a set: each result is an error or a text. */
static void test_bit_flips(void **state)
{
	(void)state;
	struct blob r, set;
	uint32_t type = 3;
	bl_init(&r, 512);
	bl_init(&set, 512);
	build_devid(&r);
	build_set(&set, &type, &r, 1);
	for (size_t bit = 0; bit < set.n * 8; bit++) {
		char *out;
		uint32_t count;
		bool des;
		struct msign_diag d;
		set.b[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		if (set_decompile(set.b, set.n, &out, &count, &des, &d) == 0) {
			assert_non_null(out);
			free(out);
		}
		set.b[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
	bl_free(&r);
	bl_free(&set);
}

static void test_arguments(void **state)
{
	(void)state;
	char *out;
	uint32_t count;
	bool des;
	struct msign_diag d = { 0 };
	assert_int_equal(msign_req_decompile(NULL, 4, &out, &d), MSIGN_E_ARG);
	assert_int_equal(msign_req_decompile(ls_set + 20, 40, NULL, NULL), MSIGN_E_ARG);
	assert_int_equal(msign_req_decompile(NULL, 0, &out, NULL), MSIGN_E_TRUNCATED);
	assert_null(out);
	assert_int_equal(msign_reqset_decompile(ls_set, sizeof(ls_set), &out, NULL, &des, NULL),
			 MSIGN_E_ARG);
	assert_int_equal(msign_reqset_decompile(ls_set, sizeof(ls_set), &out, &count, NULL, NULL),
			 MSIGN_E_ARG);
	/* A NULL diag is allowed. */
	assert_int_equal(msign_reqset_decompile(ls_set, sizeof(ls_set), &out, &count, &des, NULL), 0);
	free(out);
}

static void test_type_names(void **state)
{
	(void)state;
	assert_null(msign_req_type_name(0));
	assert_string_equal(msign_req_type_name(1), "host");
	assert_string_equal(msign_req_type_name(2), "guest");
	assert_string_equal(msign_req_type_name(3), "designated");
	assert_string_equal(msign_req_type_name(4), "library");
	assert_string_equal(msign_req_type_name(5), "plugin");
	assert_null(msign_req_type_name(6));
	assert_null(msign_req_type_name(0xffffffffu));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_real_ls_set),
		cmocka_unit_test(test_developer_id),
		cmocka_unit_test(test_cdhash),
		cmocka_unit_test(test_precedence),
		cmocka_unit_test(test_match_ops),
		cmocka_unit_test(test_timestamps),
		cmocka_unit_test(test_every_opcode),
		cmocka_unit_test(test_quoting),
		cmocka_unit_test(test_oids),
		cmocka_unit_test(test_generic_opcodes),
		cmocka_unit_test(test_trailing_and_padding),
		cmocka_unit_test(test_set_types),
		cmocka_unit_test(test_set_generic_entry),
		cmocka_unit_test(test_truncated_every_length),
		cmocka_unit_test(test_header_fields),
		cmocka_unit_test(test_data_length_fields),
		cmocka_unit_test(test_deep_nesting),
		cmocka_unit_test(test_opcode_limit),
		cmocka_unit_test(test_text_limit),
		cmocka_unit_test(test_set_hostile),
		cmocka_unit_test(test_bit_flips),
		cmocka_unit_test(test_arguments),
		cmocka_unit_test(test_type_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
