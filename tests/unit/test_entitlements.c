/* DER entitlements <-> XML plist, and plist entry counts.
 *
 * DER inputs are written out byte by byte; the expected XML is libplist's
 * rendering, which has the shape of Apple's (tab indents, the Apple DTD). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <plist/plist.h>

#include "sig/codesign.h"
#include "sig/req.h"
#include "sig/cms.h"
#include "sig/ent.h"
#include "hash/hash.h"

#define BYTES(...) (const uint8_t[]){ __VA_ARGS__ }, sizeof((const uint8_t[]){ __VA_ARGS__ })

#define XML_HEAD                                                               \
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"                          \
	"<!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" "              \
	"\"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n"                \
	"<plist version=\"1.0\">\n"
#define XML_TAIL "</plist>\n"

/* The spec's example (a real Developer ID app), as asn1parse lists it. */
static const uint8_t spec_der[] = {
	0x70, 0x61, 0x02, 0x01, 0x01, 0xb0, 0x5c,
	0x30, 0x23, 0x0c, 0x1e,
	'c', 'o', 'm', '.', 'a', 'p', 'p', 'l', 'e', '.', 's', 'e', 'c', 'u', 'r',
	'i', 't', 'y', '.', 'a', 'p', 'p', '-', 's', 'a', 'n', 'd', 'b', 'o', 'x',
	0x01, 0x01, 0xff,
	0x30, 0x35, 0x0c, 0x30,
	'c', 'o', 'm', '.', 'a', 'p', 'p', 'l', 'e', '.', 's', 'e', 'c', 'u', 'r',
	'i', 't', 'y', '.', 'f', 'i', 'l', 'e', 's', '.', 'u', 's', 'e', 'r', '-',
	's', 'e', 'l', 'e', 'c', 't', 'e', 'd', '.', 'r', 'e', 'a', 'd', '-', 'o',
	'n', 'l', 'y',
	0x01, 0x01, 0xff,
};

static const char spec_xml[] =
	XML_HEAD
	"<dict>\n"
	"\t<key>com.apple.security.app-sandbox</key>\n"
	"\t<true/>\n"
	"\t<key>com.apple.security.files.user-selected.read-only</key>\n"
	"\t<true/>\n"
	"</dict>\n"
	XML_TAIL;

/* {a: [true, "x", -129, {}], b: {c: 0, d: []}, e: ""} */
static const uint8_t nested_der[] = {
	0x70, 0x35, 0x02, 0x01, 0x01, 0xb0, 0x30,
	0x30, 0x11, 0x0c, 0x01, 'a',
	0x30, 0x0c, 0x01, 0x01, 0xff, 0x0c, 0x01, 'x', 0x02, 0x02, 0xff, 0x7f, 0xb0, 0x00,
	0x30, 0x14, 0x0c, 0x01, 'b',
	0xb0, 0x0f,
	0x30, 0x06, 0x0c, 0x01, 'c', 0x02, 0x01, 0x00,
	0x30, 0x05, 0x0c, 0x01, 'd', 0x30, 0x00,
	0x30, 0x05, 0x0c, 0x01, 'e', 0x0c, 0x00,
};

static const char nested_xml[] =
	XML_HEAD
	"<dict>\n"
	"\t<key>a</key>\n"
	"\t<array>\n"
	"\t\t<true/>\n"
	"\t\t<string>x</string>\n"
	"\t\t<integer>-129</integer>\n"
	"\t\t<dict/>\n"
	"\t</array>\n"
	"\t<key>b</key>\n"
	"\t<dict>\n"
	"\t\t<key>c</key>\n"
	"\t\t<integer>0</integer>\n"
	"\t\t<key>d</key>\n"
	"\t\t<array/>\n"
	"\t</dict>\n"
	"\t<key>e</key>\n"
	"\t<string></string>\n"
	"</dict>\n"
	XML_TAIL;

static void expect_xml(const uint8_t *der, size_t len, const char *want)
{
	char *xml = NULL;
	size_t xml_len = 0;
	struct msign_diag d = { 0 };
	int r = msign_ent_der_to_xml(der, len, &xml, &xml_len, &d);
	if (r != 0)
		fail_msg("der_to_xml: %d %s", r, d.msg);
	assert_string_equal(xml, want);
	assert_int_equal(xml_len, strlen(want));
	free(xml);
}

static void expect_der(const char *xml, const uint8_t *want, size_t want_len)
{
	uint8_t *der = NULL;
	size_t len = 0;
	struct msign_diag d = { 0 };
	int r = msign_ent_xml_to_der(xml, strlen(xml), &der, &len, &d);
	if (r != 0)
		fail_msg("xml_to_der: %d %s", r, d.msg);
	assert_int_equal(len, want_len);
	assert_memory_equal(der, want, want_len);
	free(der);
}

static void test_der_spec_example(void **state)
{
	(void)state;
	assert_int_equal(sizeof(spec_der), 99);
	expect_xml(spec_der, sizeof(spec_der), spec_xml);
}

/* Older signers: no wrapper, a universal SET, true as 0x01. */
static void test_der_bare_set(void **state)
{
	(void)state;
	uint8_t bare[sizeof(spec_der) - 5];
	memcpy(bare, spec_der + 5, sizeof(bare));
	bare[0] = 0x31;
	bare[2 + 2 + 2 + 30 + 2] = 0x01;
	expect_xml(bare, sizeof(bare), spec_xml);
	bare[0] = 0xb0;
	expect_xml(bare, sizeof(bare), spec_xml);
}

static void test_der_nested(void **state)
{
	(void)state;
	expect_xml(nested_der, sizeof(nested_der), nested_xml);
}

/* Keys come out sorted whatever order the DER holds them in (ldid uses the
 * SET OF order: shorter encodings first). */
static void test_der_sorts_keys(void **state)
{
	(void)state;
	expect_xml(BYTES(0x31, 0x15,
			 0x30, 0x08, 0x0c, 0x03, 'z', 'z', 'z', 0x01, 0x01, 0x00,
			 0x30, 0x09, 0x0c, 0x04, 'a', 'a', 'a', 'a', 0x02, 0x01, 0x07),
		   XML_HEAD "<dict>\n\t<key>aaaa</key>\n\t<integer>7</integer>\n"
		   "\t<key>zzz</key>\n\t<false/>\n</dict>\n" XML_TAIL);
}

static void test_xml_spec_example(void **state)
{
	(void)state;
	expect_der(spec_xml, spec_der, sizeof(spec_der));
	assert_int_equal(spec_der[0], 0x70); /* [APPLICATION 16] constructed */
	assert_int_equal(spec_der[5], 0xb0); /* [CONTEXT 16] constructed */
}

static void test_xml_nested(void **state)
{
	(void)state;
	expect_der(nested_xml, nested_der, sizeof(nested_der));
}

/* Keys sorted by bytes, not by encoded length: Apple's order, as in a real
 * Apple Development signature. */
static void test_xml_key_order(void **state)
{
	(void)state;
	expect_der("<plist><dict>"
		   "<key>get-task-allow</key><true/>"
		   "<key>com.apple.developer.team-identifier</key><string>T</string>"
		   "<key>application-identifier</key><string>A</string>"
		   "</dict></plist>",
		   BYTES(0x70, 0x61, 0x02, 0x01, 0x01, 0xb0, 0x5c,
			 0x30, 0x1b, 0x0c, 0x16, 'a', 'p', 'p', 'l', 'i', 'c', 'a', 't',
			 'i', 'o', 'n', '-', 'i', 'd', 'e', 'n', 't', 'i', 'f', 'i', 'e',
			 'r', 0x0c, 0x01, 'A',
			 0x30, 0x28, 0x0c, 0x23, 'c', 'o', 'm', '.', 'a', 'p', 'p', 'l',
			 'e', '.', 'd', 'e', 'v', 'e', 'l', 'o', 'p', 'e', 'r', '.', 't',
			 'e', 'a', 'm', '-', 'i', 'd', 'e', 'n', 't', 'i', 'f', 'i', 'e',
			 'r', 0x0c, 0x01, 'T',
			 0x30, 0x13, 0x0c, 0x0e, 'g', 'e', 't', '-', 't', 'a', 's', 'k',
			 '-', 'a', 'l', 'l', 'o', 'w', 0x01, 0x01, 0xff));
}

/* Vectors rcodesign records as Apple codesign's output. */
static void test_xml_vectors(void **state)
{
	(void)state;
#define P(body) "<plist><dict>" body "</dict></plist>"
	expect_der(P(""), BYTES(0x70, 0x05, 0x02, 0x01, 0x01, 0xb0, 0x00));
	expect_der(P("<key>key</key><false/>"),
		   BYTES(0x70, 0x0f, 0x02, 0x01, 0x01, 0xb0, 0x0a, 0x30, 0x08, 0x0c,
			 0x03, 'k', 'e', 'y', 0x01, 0x01, 0x00));
	expect_der(P("<key>key</key><integer>-1</integer>"),
		   BYTES(0x70, 0x0f, 0x02, 0x01, 0x01, 0xb0, 0x0a, 0x30, 0x08, 0x0c,
			 0x03, 'k', 'e', 'y', 0x02, 0x01, 0xff));
	expect_der(P("<key>key</key><integer>42</integer>"),
		   BYTES(0x70, 0x0f, 0x02, 0x01, 0x01, 0xb0, 0x0a, 0x30, 0x08, 0x0c,
			 0x03, 'k', 'e', 'y', 0x02, 0x01, 0x2a));
	expect_der(P("<key>key</key><string>value</string>"),
		   BYTES(0x70, 0x13, 0x02, 0x01, 0x01, 0xb0, 0x0e, 0x30, 0x0c, 0x0c,
			 0x03, 'k', 'e', 'y', 0x0c, 0x05, 'v', 'a', 'l', 'u', 'e'));
	expect_der(P("<key>key</key><array><true/><string>foo</string></array>"),
		   BYTES(0x70, 0x16, 0x02, 0x01, 0x01, 0xb0, 0x11, 0x30, 0x0f, 0x0c,
			 0x03, 'k', 'e', 'y', 0x30, 0x08, 0x01, 0x01, 0xff, 0x0c, 0x03,
			 'f', 'o', 'o'));
	expect_der(P("<key>key</key><dict><key>inner</key><false/></dict>"),
		   BYTES(0x70, 0x1a, 0x02, 0x01, 0x01, 0xb0, 0x15, 0x30, 0x13, 0x0c,
			 0x03, 'k', 'e', 'y', 0xb0, 0x0c, 0x30, 0x0a, 0x0c, 0x05, 'i',
			 'n', 'n', 'e', 'r', 0x01, 0x01, 0x00));
	expect_der(P("<key>key3</key><integer>42</integer><key>key</key><false/>"
		     "<key>key2</key><true/>"),
		   BYTES(0x70, 0x25, 0x02, 0x01, 0x01, 0xb0, 0x20,
			 0x30, 0x08, 0x0c, 0x03, 'k', 'e', 'y', 0x01, 0x01, 0x00,
			 0x30, 0x09, 0x0c, 0x04, 'k', 'e', 'y', '2', 0x01, 0x01, 0xff,
			 0x30, 0x09, 0x0c, 0x04, 'k', 'e', 'y', '3', 0x02, 0x01, 0x2a));
#undef P
}

/* Minimal two's complement both ways. */
static void test_integers(void **state)
{
	(void)state;
	static const struct {
		const char *text;
		uint8_t len;
		uint8_t bytes[8];
	} cases[] = {
		{ "0", 1, { 0x00 } },
		{ "127", 1, { 0x7f } },
		{ "128", 2, { 0x00, 0x80 } },
		{ "255", 2, { 0x00, 0xff } },
		{ "256", 2, { 0x01, 0x00 } },
		{ "-1", 1, { 0xff } },
		{ "-128", 1, { 0x80 } },
		{ "-129", 2, { 0xff, 0x7f } },
		{ "-32769", 3, { 0xff, 0x7f, 0xff } },
		{ "9223372036854775807", 8, { 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff } },
		{ "-9223372036854775808", 8, { 0x80 } },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char xml[200], want_xml[400];
		uint8_t want[32] = { 0x70, 0, 0x02, 0x01, 0x01, 0xb0, 0,
				     0x30, 0, 0x0c, 0x01, 'n', 0x02, cases[i].len };
		size_t n = 14 + cases[i].len;
		memcpy(want + 14, cases[i].bytes, cases[i].len);
		want[1] = (uint8_t)(n - 2);
		want[6] = (uint8_t)(n - 7);
		want[8] = (uint8_t)(n - 9);
		snprintf(xml, sizeof(xml),
			 "<plist><dict><key>n</key><integer>%s</integer></dict></plist>",
			 cases[i].text);
		expect_der(xml, want, n);
		snprintf(want_xml, sizeof(want_xml),
			 XML_HEAD "<dict>\n\t<key>n</key>\n\t<integer>%s</integer>\n</dict>\n" XML_TAIL,
			 cases[i].text);
		expect_xml(want, n, want_xml);
	}
}

static void expect_xml_err(const char *xml, int code)
{
	uint8_t *der = (uint8_t *)1;
	size_t len = 1;
	struct msign_diag d = { 0 };
	assert_int_equal(msign_ent_xml_to_der(xml, strlen(xml), &der, &len, &d), code);
	assert_int_equal(d.code, code);
	assert_true(d.msg[0] != '\0');
	assert_null(der);
	assert_int_equal(len, 0);
}

static void test_xml_rejects(void **state)
{
	(void)state;
	/* Apple's codesign refuses these values too. */
	expect_xml_err("<plist><dict><key>r</key><real>1.5</real></dict></plist>",
		       MSIGN_E_UNSUPPORTED);
	expect_xml_err("<plist><dict><key>d</key><data>AAEC</data></dict></plist>",
		       MSIGN_E_UNSUPPORTED);
	expect_xml_err("<plist><dict><key>t</key><date>2020-01-01T00:00:00Z</date></dict></plist>",
		       MSIGN_E_UNSUPPORTED);
	expect_xml_err("<plist><dict><key>a</key><array><dict><key>x</key>"
		       "<data>AA==</data></dict></array></dict></plist>",
		       MSIGN_E_UNSUPPORTED);
	expect_xml_err("<plist><dict><key>u</key><integer>18446744073709551615</integer>"
		       "</dict></plist>", MSIGN_E_UNSUPPORTED);
	expect_xml_err("<plist><array><true/></array></plist>", MSIGN_E_PLIST);
	expect_xml_err("not a plist", MSIGN_E_PLIST);
	expect_xml_err("", MSIGN_E_PLIST);

	char deep[2048] = "<plist><dict><key>k</key>";
	for (int i = 0; i < 40; i++)
		strcat(deep, "<array>");
	for (int i = 0; i < 40; i++)
		strcat(deep, "</array>");
	strcat(deep, "</dict></plist>");
	expect_xml_err(deep, MSIGN_E_LIMIT);
}

/* xml -> der -> xml gives back libplist's rendering of the input. */
static void test_round_trip(void **state)
{
	(void)state;
	static const char in[] =
		"<plist version=\"1.0\"><dict>"
		"<key>com.apple.developer.associated-domains</key>"
		"<array><string>applinks:example.com</string><string>caf\xc3\xa9 &amp; &lt;co&gt;</string></array>"
		"<key>com.apple.security.get-task-allow</key><false/>"
		"<key>keychain-access-groups</key><array><string>T.a</string></array>"
		"<key>nested</key><dict><key>deeper</key><dict><key>n</key>"
		"<integer>-70000</integer></dict></dict>"
		"</dict></plist>";
	plist_t p = NULL;
	char *norm = NULL, *back = NULL;
	uint32_t norm_len = 0;
	uint8_t *der = NULL;
	size_t der_len = 0, back_len = 0;
	plist_from_xml(in, sizeof(in) - 1, &p);
	assert_non_null(p);
	plist_to_xml(p, &norm, &norm_len);
	plist_free(p);
	assert_int_equal(msign_ent_xml_to_der(in, sizeof(in) - 1, &der, &der_len, NULL), 0);
	assert_int_equal(msign_ent_der_to_xml(der, der_len, &back, &back_len, NULL), 0);
	assert_string_equal(back, norm);
	free(norm);
	free(back);
	free(der);
}

static const struct {
	const char *what;
	const uint8_t *p;
	size_t n;
	int code;
} bad_der[] = {
	{ "length past the end", BYTES(0x70, 0x10, 0x02, 0x01, 0x01, 0xb0, 0x00), MSIGN_E_PLIST },
	{ "header cut", BYTES(0x70), MSIGN_E_PLIST },
	{ "long length cut", BYTES(0x70, 0x82, 0x01), MSIGN_E_PLIST },
	{ "indefinite length", BYTES(0x70, 0x80, 0x02, 0x01, 0x01, 0xb0, 0x00, 0x00, 0x00), MSIGN_E_PLIST },
	{ "5-byte length", BYTES(0x70, 0x85, 0, 0, 0, 0, 5, 0x02, 0x01, 0x01, 0xb0, 0x00), MSIGN_E_PLIST },
	{ "4 GiB length", BYTES(0x70, 0x84, 0xff, 0xff, 0xff, 0xff, 0x02, 0x01, 0x01), MSIGN_E_PLIST },
	{ "version 2", BYTES(0x70, 0x05, 0x02, 0x01, 0x02, 0xb0, 0x00), MSIGN_E_UNSUPPORTED },
	{ "version not INTEGER", BYTES(0x70, 0x05, 0x0c, 0x01, 0x01, 0xb0, 0x00), MSIGN_E_UNSUPPORTED },
	{ "no dictionary", BYTES(0x70, 0x03, 0x02, 0x01, 0x01), MSIGN_E_PLIST },
	{ "array at top", BYTES(0x70, 0x05, 0x02, 0x01, 0x01, 0x30, 0x00), MSIGN_E_PLIST },
	{ "bare array", BYTES(0x30, 0x00), MSIGN_E_PLIST },
	{ "dict past wrapper", BYTES(0x70, 0x05, 0x02, 0x01, 0x01, 0xb0, 0x03, 0x01, 0x01, 0xff), MSIGN_E_PLIST },
	{ "OCTET STRING value", BYTES(0x31, 0x08, 0x30, 0x06, 0x0c, 0x01, 'k', 0x04, 0x01, 0x00), MSIGN_E_PLIST },
	{ "REAL value", BYTES(0x31, 0x08, 0x30, 0x06, 0x0c, 0x01, 'k', 0x09, 0x01, 0x00), MSIGN_E_PLIST },
	{ "high tag number", BYTES(0x31, 0x09, 0x30, 0x07, 0x0c, 0x01, 'k', 0x1f, 0x22, 0x01, 0x00), MSIGN_E_PLIST },
	{ "key not UTF8String", BYTES(0x31, 0x08, 0x30, 0x06, 0x04, 0x01, 'k', 0x05, 0x00, 0x00), MSIGN_E_PLIST },
	{ "entry not SEQUENCE", BYTES(0x31, 0x03, 0x01, 0x01, 0xff), MSIGN_E_PLIST },
	{ "extra in entry", BYTES(0x31, 0x0b, 0x30, 0x09, 0x0c, 0x01, 'k', 0x01, 0x01, 0xff, 0x01, 0x01, 0xff), MSIGN_E_PLIST },
	{ "entry without value", BYTES(0x31, 0x05, 0x30, 0x03, 0x0c, 0x01, 'k'), MSIGN_E_PLIST },
	{ "duplicate key", BYTES(0x31, 0x10, 0x30, 0x06, 0x0c, 0x01, 'k', 0x01, 0x01, 0xff,
				 0x30, 0x06, 0x0c, 0x01, 'k', 0x01, 0x01, 0x00), MSIGN_E_PLIST },
	{ "bad UTF-8", BYTES(0x31, 0x09, 0x30, 0x07, 0x0c, 0x01, 'k', 0x0c, 0x02, 0xc3, 0x28), MSIGN_E_PLIST },
	{ "NUL in string", BYTES(0x31, 0x09, 0x30, 0x07, 0x0c, 0x01, 'k', 0x0c, 0x02, 'a', 0x00), MSIGN_E_PLIST },
	{ "overlong NUL", BYTES(0x31, 0x09, 0x30, 0x07, 0x0c, 0x01, 'k', 0x0c, 0x02, 0xc0, 0x80), MSIGN_E_PLIST },
	{ "surrogate", BYTES(0x31, 0x0a, 0x30, 0x08, 0x0c, 0x01, 'k', 0x0c, 0x03, 0xed, 0xa0, 0x80), MSIGN_E_PLIST },
	{ "cut UTF-8", BYTES(0x31, 0x09, 0x30, 0x07, 0x0c, 0x01, 'k', 0x0c, 0x02, 'a', 0xe2), MSIGN_E_PLIST },
	{ "BOOLEAN of 2", BYTES(0x31, 0x09, 0x30, 0x07, 0x0c, 0x01, 'k', 0x01, 0x02, 0xff, 0xff), MSIGN_E_PLIST },
	{ "empty INTEGER", BYTES(0x31, 0x07, 0x30, 0x05, 0x0c, 0x01, 'k', 0x02, 0x00), MSIGN_E_PLIST },
	{ "INTEGER of 9", BYTES(0x31, 0x10, 0x30, 0x0e, 0x0c, 0x01, 'k', 0x02, 0x09,
				0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff), MSIGN_E_UNSUPPORTED },
	{ "trailing byte", BYTES(0x70, 0x05, 0x02, 0x01, 0x01, 0xb0, 0x00, 0x00), MSIGN_E_PLIST },
	{ "empty", BYTES(0x00), MSIGN_E_PLIST },
};

static void test_der_malformed(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad_der) / sizeof(bad_der[0]); i++) {
		char *xml = (char *)1;
		struct msign_diag d = { 0 };
		size_t n = strcmp(bad_der[i].what, "empty") == 0 ? 0 : bad_der[i].n;
		int r = msign_ent_der_to_xml(bad_der[i].p, n, &xml, NULL, &d);
		if (r != bad_der[i].code)
			fail_msg("%s: got %d (%s), want %d", bad_der[i].what, r, d.msg,
				 bad_der[i].code);
		assert_null(xml);
		assert_true(d.msg[0] != '\0');
	}
}

/* dict { "k": n nested empty arrays }, lengths in long form when needed. */
static uint8_t *nest(int n, size_t *len)
{
	uint8_t *buf = malloc(64 + 4 * (size_t)n);
	size_t cap = 64 + 4 * (size_t)n, start = cap, inner = 0;
	for (int i = 0; i < n; i++) {
		if (inner < 0x80) {
			buf[--start] = (uint8_t)inner;
		} else {
			buf[--start] = (uint8_t)inner;
			buf[--start] = 0x81;
		}
		buf[--start] = 0x30;
		inner = cap - start;
	}
	static const uint8_t head[] = { 0x31, 0x82, 0, 0, 0x30, 0x82, 0, 0, 0x0c, 0x01, 'k' };
	size_t entry = 3 + inner + 4;
	memmove(buf + sizeof(head), buf + start, inner);
	memcpy(buf, head, sizeof(head));
	buf[6] = (uint8_t)((3 + inner) >> 8);
	buf[7] = (uint8_t)(3 + inner);
	buf[2] = (uint8_t)(entry >> 8);
	buf[3] = (uint8_t)entry;
	*len = sizeof(head) + inner;
	return buf;
}

static void test_der_limits(void **state)
{
	(void)state;
	size_t len;
	char *xml = NULL;
	uint8_t *p = nest(32, &len); /* the deepest array sits at depth 32 */
	assert_int_equal(msign_ent_der_to_xml(p, len, &xml, NULL, NULL), 0);
	free(xml);
	free(p);
	p = nest(33, &len);
	assert_int_equal(msign_ent_der_to_xml(p, len, &xml, NULL, NULL), MSIGN_E_LIMIT);
	free(p);
	p = nest(100, &len);
	assert_int_equal(msign_ent_der_to_xml(p, len, &xml, NULL, NULL), MSIGN_E_LIMIT);
	free(p);

	/* 100001 booleans in one array: too many elements. */
	size_t count = 100001, body = 3 * count, o = 0;
	size_t entry = 3 + 5 + body, set = 5 + entry;
	len = 5 + set;
	p = malloc(len);
	p[o++] = 0x31; p[o++] = 0x83;
	p[o++] = (uint8_t)(set >> 16); p[o++] = (uint8_t)(set >> 8); p[o++] = (uint8_t)set;
	p[o++] = 0x30; p[o++] = 0x83;
	p[o++] = (uint8_t)(entry >> 16); p[o++] = (uint8_t)(entry >> 8); p[o++] = (uint8_t)entry;
	p[o++] = 0x0c; p[o++] = 0x01; p[o++] = 'k';
	p[o++] = 0x30; p[o++] = 0x83;
	p[o++] = (uint8_t)(body >> 16); p[o++] = (uint8_t)(body >> 8); p[o++] = (uint8_t)body;
	for (size_t i = 0; i < count; i++) {
		p[o++] = 0x01; p[o++] = 0x01; p[o++] = 0xff;
	}
	assert_int_equal(o, len);
	assert_int_equal(msign_ent_der_to_xml(p, len, &xml, NULL, NULL), MSIGN_E_LIMIT);
	free(p);
}

/* Every prefix fails; any flipped byte gives a result or an error. */
static void test_der_truncated_flipped(void **state)
{
	(void)state;
	uint8_t buf[sizeof(nested_der)];
	memcpy(buf, nested_der, sizeof(buf));
	for (size_t n = 0; n < sizeof(buf); n++) {
		char *xml = NULL;
		assert_true(msign_ent_der_to_xml(buf, n, &xml, NULL, NULL) < 0);
		assert_null(xml);
	}
	for (size_t i = 0; i < sizeof(buf); i++)
		for (int bit = 0; bit < 8; bit++) {
			char *xml = NULL;
			buf[i] ^= (uint8_t)(1u << bit);
			int r = msign_ent_der_to_xml(buf, sizeof(buf), &xml, NULL, NULL);
			assert_true(r == 0 || r == MSIGN_E_PLIST || r == MSIGN_E_UNSUPPORTED);
			assert_true((r == 0) == (xml != NULL));
			free(xml);
			buf[i] ^= (uint8_t)(1u << bit);
		}
}

static void test_count_entries(void **state)
{
	(void)state;
	static const char xml[] = "<plist><dict><key>a</key><true/><key>b</key>"
				  "<string>x</string><key>c</key><dict/></dict></plist>";
	uint32_t count = 99;
	struct msign_diag d = { 0 };
	assert_int_equal(msign_plist_count_entries((const uint8_t *)xml, strlen(xml),
						   &count, &d), 0);
	assert_int_equal(count, 3);

	plist_t p = plist_new_dict();
	char *bin = NULL;
	uint32_t bin_len = 0;
	plist_dict_set_item(p, "CFBundleIdentifier", plist_new_string("com.example"));
	plist_dict_set_item(p, "CFBundleVersion", plist_new_string("1"));
	plist_to_bin(p, &bin, &bin_len);
	plist_free(p);
	assert_int_equal(msign_plist_count_entries((const uint8_t *)bin, bin_len, &count, NULL), 0);
	assert_int_equal(count, 2);
	free(bin);

	static const char empty[] = "<plist><dict/></plist>";
	assert_int_equal(msign_plist_count_entries((const uint8_t *)empty, strlen(empty),
						   &count, NULL), 0);
	assert_int_equal(count, 0);

	static const char arr[] = "<plist><array><true/></array></plist>";
	static const char junk[] = "bplist00 but not really";
	assert_int_equal(msign_plist_count_entries((const uint8_t *)arr, strlen(arr),
						   &count, &d), MSIGN_E_PLIST);
	assert_int_equal(msign_plist_count_entries((const uint8_t *)junk, strlen(junk),
						   &count, NULL), MSIGN_E_PLIST);
	assert_int_equal(msign_plist_count_entries((const uint8_t *)junk, 0, &count, NULL),
			 MSIGN_E_PLIST);
	assert_int_equal(msign_plist_count_entries(NULL, 3, &count, NULL), MSIGN_E_ARG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_der_spec_example),
		cmocka_unit_test(test_der_bare_set),
		cmocka_unit_test(test_der_nested),
		cmocka_unit_test(test_der_sorts_keys),
		cmocka_unit_test(test_xml_spec_example),
		cmocka_unit_test(test_xml_nested),
		cmocka_unit_test(test_xml_key_order),
		cmocka_unit_test(test_xml_vectors),
		cmocka_unit_test(test_integers),
		cmocka_unit_test(test_xml_rejects),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_der_malformed),
		cmocka_unit_test(test_der_limits),
		cmocka_unit_test(test_der_truncated_flipped),
		cmocka_unit_test(test_count_entries),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
