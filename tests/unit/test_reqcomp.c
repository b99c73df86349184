/* Unit tests for reqcomp.c, the requirement compiler. The expected bytes
 * are written here by hand from the binary format (requirement.h: opcodes,
 * u32 length + data + zero padding to 4, big-endian), not produced by the
 * compiler; every error path is pinned by code, offset and message. */
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
#include "msign/err.h"

#define H20 "0102030405060708090a0b0c0d0e0f1011121314"

/* hex of n bytes, spaces every 4 bytes, into a static buffer */
static const char *hex(const uint8_t *p, size_t n)
{
	static char buf[8192];
	size_t k = 0;
	for (size_t i = 0; i < n && k + 4 < sizeof(buf); i++) {
		if (i != 0 && i % 4 == 0)
			buf[k++] = ' ';
		k += (size_t)snprintf(buf + k, sizeof(buf) - k, "%02x", p[i]);
	}
	buf[k] = '\0';
	return buf;
}

/* Compile text (ANY: requirement or set) and compare with want, hex in
 * 4-byte words; then the decompiled text must compile to the same bytes. */
static void check(const char *text, const char *want)
{
	uint8_t *b = NULL;
	size_t n = 0;
	struct msign_diag d;
	msign_diag_clear(&d);
	int rc = msign_req_compile(text, strlen(text), MSIGN_REQ_COMPILE_ANY, &b, &n, &d);
	if (rc != 0)
		fail_msg("%s: %s", text, d.msg);
	if (strcmp(hex(b, n), want) != 0)
		fail_msg("%s:\n got  %s\n want %s", text, hex(b, n), want);
	char *again = NULL;
	uint32_t count;
	bool dr;
	rc = n >= 4 && b[3] == 0x01 ? msign_reqset_decompile(b, n, &again, &count, &dr, &d)
				    : msign_req_decompile(b, n, &again, &d);
	assert_int_equal(rc, 0);
	uint8_t *b2 = NULL;
	size_t n2 = 0;
	assert_int_equal(msign_req_compile(again, strlen(again), MSIGN_REQ_COMPILE_ANY,
					   &b2, &n2, &d), 0);
	assert_int_equal(n2, n);
	assert_memory_equal(b2, b, n);
	free(b2);
	free(again);
	free(b);
}

/* Compile must fail with code, at byte offset off, with msg in its text. */
static void check_err(const char *text, size_t len, unsigned flags, int code,
		      uint64_t off, const char *msg)
{
	uint8_t *b = (uint8_t *)"x";
	size_t n = 1;
	struct msign_diag d;
	msign_diag_clear(&d);
	int rc = msign_req_compile(text, len, flags, &b, &n, &d);
	if (rc != code || d.file_off != off || strstr(d.msg, msg) == NULL)
		fail_msg("'%.60s': rc %d off %llu msg '%s'; want rc %d off %llu '%s'", text,
			 rc, (unsigned long long)d.file_off, d.msg, code,
			 (unsigned long long)off, msg);
	assert_null(b);
	assert_int_equal(n, 0);
}

#define ERR(text, code, off, msg) check_err(text, strlen(text), 0, code, off, msg)
/* header: magic, length, kind 1 */
#define HDR(len) "fade0c00 000000" len " 00000001"

static void test_constants(void **state)
{
	(void)state;
	check("always", HDR("10") " 00000001");
	check("true", HDR("10") " 00000001");
	check("never", HDR("10") " 00000000");
	check("false", HDR("10") " 00000000");
	check("anchor apple", HDR("10") " 00000003");
	check("anchor apple generic", HDR("10") " 0000000f");
	check("anchor trusted", HDR("10") " 0000000d");
	check("notarized", HDR("10") " 00000015");
	check("legacy", HDR("10") " 00000017");
	check("  /* c */ legacy // to the end\n", HDR("10") " 00000017");
}

static void test_operands(void **state)
{
	(void)state;
	check("identifier com.x", HDR("1c") " 00000002 00000005 636f6d2e 78000000");
	check("identifier = \"a\\\"b\"", HDR("18") " 00000002 00000003 61226200");
	check("identifier \"abcd\"", HDR("18") " 00000002 00000004 61626364");
	check("identifier \"\"", HDR("14") " 00000002 00000000");
	check("identifier 0x00ff", HDR("18") " 00000002 00000002 00ff0000");
	check("cdhash H\"" H20 "\"", HDR("28") " 00000008 00000014 01020304 05060708 090a0b0c 0d0e0f10 11121314");
	check("anchor H\"" H20 "\"", HDR("2c") " 00000004 ffffffff 00000014 01020304 05060708 090a0b0c 0d0e0f10 11121314");
	check("anchor = H\"" H20 "\"", HDR("2c") " 00000004 ffffffff 00000014 01020304 05060708 090a0b0c 0d0e0f10 11121314");
	check("certificate leaf = H\"" H20 "\"", HDR("2c") " 00000004 00000000 00000014 01020304 05060708 090a0b0c 0d0e0f10 11121314");
	check("certificate 1 trusted", HDR("14") " 0000000c 00000001");
	check("certificate leaftrusted", HDR("14") " 0000000c 00000000");
	check("cert -2 trusted", HDR("14") " 0000000c fffffffe");
	check("certificate anchor trusted", HDR("14") " 0000000c ffffffff");
	check("certificate root[subject.CN] = foo",
	      HDR("30") " 0000000b ffffffff 0000000a 7375626a 6563742e 434e0000 00000001 00000003 666f6f00");
	check("certificate 1[field.1.2.840.113635.100.6.2.6]",
	      HDR("28") " 0000000e 00000001 0000000a 2a864886 f7636406 02060000 00000000");
	check("certificate leaf[\"field.2.999\"] exists",
	      HDR("20") " 0000000e 00000000 00000002 88370000 00000000");
	check("certificate leaf[policy.1.2.3]", HDR("20") " 00000011 00000000 00000002 2a030000 00000000");
	check("certificate leaf[timestamp.1.2.3] = <2001-01-02 00:00:00 +0000>",
	      HDR("28") " 00000016 00000000 00000002 2a030000 00000009 00000000 00015180");
	check("info[CFBundleVersion] ~ 1",
	      HDR("30") " 0000000a 0000000f 43464275 6e646c65 56657273 696f6e00 00000002 00000001 31000000");
	check("entitlement[\"a\"] absent", HDR("1c") " 00000010 00000001 61000000 0000000e");
	check("platform = 2", HDR("14") " 00000014 00000002");
	check("platform = -1", HDR("14") " 00000014 ffffffff");
	check("anchor apple foo", HDR("18") " 00000012 00000003 666f6f00");
	check("anchor apple \"generic\"", HDR("1c") " 00000012 00000007 67656e65 72696300");
	check("(foo)", HDR("18") " 00000013 00000003 666f6f00");
	check("(not)", HDR("18") " 00000013 00000003 6e6f7400");
}

/* info[a] <op> <value>: the match operation is the word at offset 24. */
static void match_op(const char *text, uint32_t op)
{
	uint8_t *b = NULL;
	size_t n = 0;
	struct msign_diag d;
	msign_diag_clear(&d);
	assert_int_equal(msign_req_compile(text, strlen(text), 0, &b, &n, &d), 0);
	assert_true(n >= 28);
	uint32_t got = (uint32_t)b[24] << 24 | (uint32_t)b[25] << 16 | (uint32_t)b[26] << 8 | b[27];
	if (got != op)
		fail_msg("%s: match %u, want %u", text, got, op);
	free(b);
}

static void test_match_ops(void **state)
{
	(void)state;
	match_op("info[a]", 0);
	match_op("info[a] /* exists */", 0);
	match_op("info[a] exists", 0);
	match_op("info[a] = b", 1);
	match_op("info[a] == b", 1);
	match_op("info[a] = *b*", 2);
	match_op("info[a] ~ b", 2);
	match_op("info[a] = b*", 3);
	match_op("info[a] = *b", 4);
	match_op("info[a] < b", 5);
	match_op("info[a] > b", 6);
	match_op("info[a] <= b", 7);
	match_op("info[a] >= b", 8);
	match_op("info[a] = <2001-01-01 00:00:00 +0000>", 9);
	match_op("info[a] < timestamp \"2001-01-01 00:00:00\"", 10);
	match_op("info[a] > <2001-01-01 00:00:00 +0000>", 11);
	match_op("info[a] <= <2001-01-01 00:00:00 +0000>", 12);
	match_op("info[a] >= <2001-01-01 00:00:00 +0000>", 13);
	match_op("info[a] absent", 14);
	/* beginsWith keeps the value without its star */
	check("info[a] = b*", HDR("24") " 0000000a 00000001 61000000 00000003 00000001 62000000");
	/* dates: seconds after 2001-01-01 UTC, signed, big-endian */
	check("info[a] = <2000-12-31 23:59:59 +0000>",
	      HDR("24") " 0000000a 00000001 61000000 00000009 ffffffff ffffffff");
	check("info[a] = timestamp \"2001-01-01 01:00:00 +0100\"",
	      HDR("24") " 0000000a 00000001 61000000 00000009 00000000 00000000");
	check("info[a] = <2019-04-09 00:00:00 +0000>",
	      HDR("24") " 0000000a 00000001 61000000 00000009 00000000 225c1800");
}

static void test_precedence(void **state)
{
	(void)state;
	/* and binds tighter than or; or nests left (csreq's bytes in the
	 * corpus), and right (codesign's designated requirements). */
	check("always or never and legacy", HDR("20") " 00000007 00000001 00000006 00000000 00000017");
	check("always and never or legacy", HDR("20") " 00000007 00000006 00000001 00000000 00000017");
	check("always or never or legacy", HDR("20") " 00000007 00000007 00000001 00000000 00000017");
	check("always and never and legacy", HDR("20") " 00000006 00000001 00000006 00000000 00000017");
	check("(always or never) or legacy", HDR("20") " 00000007 00000007 00000001 00000000 00000017");
	check("always or (never or legacy)", HDR("20") " 00000007 00000007 00000001 00000000 00000017");
	check("(always and never) and legacy", HDR("20") " 00000006 00000001 00000006 00000000 00000017");
	check("always and (never or legacy)", HDR("20") " 00000006 00000001 00000007 00000000 00000017");
	check("! always and never", HDR("1c") " 00000006 00000009 00000001 00000000");
	check("!(always and never)", HDR("1c") " 00000009 00000006 00000001 00000000");
	check("not always", HDR("14") " 00000009 00000001");
	check("((always))", HDR("10") " 00000001");
}

static void test_sets(void **state)
{
	(void)state;
	/* index sorted by type, blobs in that order after it */
	const char *two = "fade0c01 0000003c 00000002 00000001 0000001c 00000003 0000002c "
			  "fade0c00 00000010 00000001 00000001 fade0c00 00000010 00000001 00000000";
	check("host => always designated => never", two);
	check("designated => never\nhost => always\n", two);
	check("3 => never 1 => always", two);
	check("", "fade0c01 0000000c 00000000");
	/* a numeric type after an optional anchor name is the next entry */
	check("designated => anchor apple\n7 => never",
	      "fade0c01 0000003c 00000002 00000003 0000001c 00000007 0000002c "
	      "fade0c00 00000010 00000001 00000003 fade0c00 00000010 00000001 00000000");
	uint8_t *b = NULL;
	size_t n = 0;
	assert_int_equal(msign_reqset_compile("library => always", 17, 0, &b, &n, NULL), 0);
	assert_string_equal(hex(b, n), "fade0c01 00000024 00000001 00000004 00000014 "
				       "fade0c00 00000010 00000001 00000001");
	free(b);
}

static void test_errors(void **state)
{
	(void)state;
	ERR("identifier \"abc", MSIGN_E_INVALID, 11, "line 1 column 12: string is not terminated by \"");
	ERR("cdhash H\"0102", MSIGN_E_INVALID, 7, "hash constant is not terminated");
	ERR("cdhash H\"zz02030405060708090a0b0c0d0e0f1011121314\"", MSIGN_E_INVALID, 9, "'z' is not a hex digit");
	ERR("cdhash H\"0102\"", MSIGN_E_INVALID, 9, "hash constant has 4 hex digits, not 40");
	ERR("info[a] = 0x123", MSIGN_E_INVALID, 10, "odd number (3) of digits");
	ERR("info[a] = 0x1g", MSIGN_E_INVALID, 13, "'g' is not a hex digit");
	ERR("frobnicate", MSIGN_E_INVALID, 0, "line 1 column 1: unknown keyword frobnicate");
	ERR("always and\n  frob", MSIGN_E_INVALID, 13, "line 2 column 3: unknown keyword frob");
	ERR("always never", MSIGN_E_INVALID, 7, "expected and, or or the end of the requirement but found 'never'");
	ERR("always garbage", MSIGN_E_INVALID, 7, "unknown keyword garbage");
	ERR("always )", MSIGN_E_INVALID, 7, "found ')'");
	ERR("identifier and", MSIGN_E_INVALID, 11, "and is a keyword: as an identifier write it in quotes");
	ERR("exists", MSIGN_E_INVALID, 0, "keyword exists cannot start a requirement");
	ERR("(always", MSIGN_E_INVALID, 7, "expected ')' but found the end of the text");
	ERR("always /* open", MSIGN_E_INVALID, 7, "comment is not closed");
	ERR("always \001", MSIGN_E_INVALID, 7, "unexpected byte 0x01");
	ERR("always @", MSIGN_E_INVALID, 7, "unexpected character '@'");
	ERR("", MSIGN_E_INVALID, 0, "expected a requirement but found the end of the text");
	ERR("info[a] = <2001-13-01 00:00:00 +0000>", MSIGN_E_INVALID, 10, "date is not");
	ERR("info[a] = <2001-02-29 00:00:00 +0000>", MSIGN_E_INVALID, 10, "date is not");
	ERR("info[a] = *<2001-01-01 00:00:00 +0000>", MSIGN_E_INVALID, 11, "expected the value to compare with but found '<2001-01-01 00:00:00 +0000>'");
	ERR("identifier H\"" H20 "\"", MSIGN_E_INVALID, 11, "expected an identifier but found 'H\"0102030405060708090a0b0c0d0e0f1011121314...'");
	ERR("info[a] = timestamp x", MSIGN_E_INVALID, 20, "expected a quoted date after timestamp");
	ERR("certificate leaf[field.1.x]", MSIGN_E_INVALID, 17, "is not dotted decimal numbers");
	ERR("certificate leaf[field.1.2.]", MSIGN_E_INVALID, 17, "is not dotted decimal numbers");
	ERR("certificate leaf[field.3.1]", MSIGN_E_INVALID, 17, "first arc 3 is not 0, 1 or 2");
	ERR("certificate leaf[field.1.40]", MSIGN_E_INVALID, 17, "second arc 40 is not below 40");
	ERR("certificate leaf[field.1]", MSIGN_E_INVALID, 17, "at least two arcs");
	ERR("certificate leaf[field.1.99999999999999999999]", MSIGN_E_INVALID, 17, "larger than 64 bits");
	ERR("certificate 2147483648 trusted", MSIGN_E_INVALID, 12, "certificate slot is out of range");
	ERR("certificate middle trusted", MSIGN_E_INVALID, 12, "expected a certificate slot");
	ERR("certificate leaf", MSIGN_E_INVALID, 16, "expected '[', '=' or trusted after the certificate slot");
	ERR("certificate leaf[subject.CN", MSIGN_E_INVALID, 27, "expected ']' after the certificate field");
	ERR("info[a = b", MSIGN_E_INVALID, 7, "expected ']' after the key");
	ERR("anchor", MSIGN_E_INVALID, 6, "expected apple, trusted or a hash after anchor");
	ERR("platform = x", MSIGN_E_INVALID, 11, "expected a platform number");
	ERR("platform = 2147483648", MSIGN_E_INVALID, 11, "a platform number is out of range");
	/* sets */
	ERR("designated => always", MSIGN_E_INVALID, 0, "keyword designated cannot start");
	check_err("designated always", 17, MSIGN_REQ_COMPILE_ANY, MSIGN_E_INVALID, 11,
		  "expected '=>' after the requirement type");
	check_err("host => always host => never", 28, MSIGN_REQ_COMPILE_ANY, MSIGN_E_INVALID, 15,
		  "requirement type 1 is given twice");
	check_err("4294967296 => always", 20, MSIGN_REQ_COMPILE_ANY, MSIGN_E_INVALID, 0,
		  "requirement type is out of range");
	check_err("host => always )", 16, MSIGN_REQ_COMPILE_ANY, MSIGN_E_INVALID, 15,
		  "expected a requirement type");
	/* a NUL inside the text is a byte like any other, not its end */
	check_err("always\0and never", 16, 0, MSIGN_E_INVALID, 6, "unexpected byte 0x00");
}

/* s repeated n times, then tail */
static char *repeat(const char *head, size_t n, const char *mid, const char *tail)
{
	size_t hl = strlen(head), ml = strlen(mid), tl = strlen(tail);
	char *p = malloc(hl + n * ml + tl + 1);
	assert_non_null(p);
	memcpy(p, head, hl);
	for (size_t i = 0; i < n; i++)
		memcpy(p + hl + i * ml, mid, ml);
	memcpy(p + hl + n * ml, tail, tl + 1);
	return p;
}

/* Compiles (and the decompiler reads it back), or fails with LIMIT. */
static void depth_case(char *text, bool ok)
{
	uint8_t *b = NULL;
	size_t n = 0;
	struct msign_diag d;
	msign_diag_clear(&d);
	int rc = msign_req_compile(text, strlen(text), 0, &b, &n, &d);
	if (ok) {
		if (rc != 0)
			fail_msg("%.40s...: %s", text, d.msg);
		char *t = NULL;
		assert_int_equal(msign_req_decompile(b, n, &t, &d), 0);
		free(t);
	} else {
		assert_int_equal(rc, MSIGN_E_LIMIT);
		assert_non_null(strstr(d.msg, "nests deeper than 1024 levels"));
	}
	free(b);
	free(text);
}

static void test_limits(void **state)
{
	(void)state;
	/* MSIGN_REQ_MAX_DEPTH levels, counted as the decompiler counts */
	char *s = repeat("", 1024, "(", "always");
	char *t = repeat(s, 1024, ")", "");
	free(s);
	depth_case(t, true);
	s = repeat("", 1025, "(", "always");
	t = repeat(s, 1025, ")", "");
	free(s);
	depth_case(t, false);
	depth_case(repeat("", 1024, "! ", "always"), true);
	depth_case(repeat("", 1025, "! ", "always"), false);
	depth_case(repeat("", 1024, "always and ", "always"), true);
	depth_case(repeat("", 1025, "always and ", "always"), false);
	depth_case(repeat("", 1024, "always or ", "always"), true);
	depth_case(repeat("", 1025, "always or ", "always"), false);
	/* MSIGN_REQ_MAX_OPS opcodes, as the decompiler counts them: 100
	 * groups of 500 named codes or-ed (999 opcodes each) and-ed (99),
	 * shallow enough for the depth limit, plus one or two nots. */
	char *g = repeat("(", 499, "(x) or ", "(x))");
	char *gs = repeat(g, 99, " and ", "");
	free(g);
	size_t glen = strlen("(") + 499 * strlen("(x) or ") + strlen("(x))");
	/* gs is one group and 99 separators; fill in the other 99 groups */
	char *all = malloc(100 * glen + 99 * 5 + 8);
	assert_non_null(all);
	size_t k = 0;
	memcpy(all + k, "! ", 2);
	k += 2;
	for (int i = 0; i < 100; i++) {
		if (i != 0) {
			memcpy(all + k, " and ", 5);
			k += 5;
		}
		memcpy(all + k, gs, glen);
		k += glen;
	}
	all[k] = '\0';
	free(gs);
	uint8_t *b = NULL;
	size_t n = 0;
	struct msign_diag d;
	msign_diag_clear(&d);
	assert_int_equal(msign_req_compile(all, k, 0, &b, &n, &d), 0); /* 100000 */
	t = NULL;
	assert_int_equal(msign_req_decompile(b, n, &t, &d), 0);
	free(t);
	free(b);
	all[1] = '!'; /* "!!": 100001 */
	msign_diag_clear(&d);
	assert_int_equal(msign_req_compile(all, k, 0, &b, &n, &d), MSIGN_E_LIMIT);
	assert_non_null(strstr(d.msg, "more than 100000 opcodes"));
	free(all);
	/* MSIGN_REQ_MAX_TEXT_LEN bytes of text: the length is refused first */
	size_t huge = MSIGN_REQ_MAX_TEXT_LEN + 1;
	char *h = malloc(huge);
	assert_non_null(h);
	memset(h, ' ', huge);
	check_err(h, huge, 0, MSIGN_E_LIMIT, 0, "requirement text of 1048577 bytes exceeds the 1048576-byte limit");
	memcpy(h, "always", 6); /* at the limit: compiles */
	assert_int_equal(msign_req_compile(h, huge - 1, 0, &b, &n, NULL), 0);
	assert_int_equal(n, 16);
	free(b);
	free(h);
}

static void test_arguments(void **state)
{
	(void)state;
	uint8_t *b = NULL;
	size_t n = 0;
	struct msign_diag d;
	msign_diag_clear(&d);
	assert_int_equal(msign_req_compile("always", 6, 0, NULL, &n, &d), MSIGN_E_ARG);
	assert_int_equal(msign_req_compile("always", 6, 0, &b, NULL, NULL), MSIGN_E_ARG);
	assert_int_equal(msign_req_compile(NULL, 1, 0, &b, &n, NULL), MSIGN_E_ARG);
	assert_int_equal(msign_reqset_compile(NULL, 1, 0, &b, &n, NULL), MSIGN_E_ARG);
	assert_int_equal(msign_req_compile(NULL, 0, MSIGN_REQ_COMPILE_ANY, &b, &n, NULL), 0);
	assert_string_equal(hex(b, n), "fade0c01 0000000c 00000000");
	free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_constants),
		cmocka_unit_test(test_operands),
		cmocka_unit_test(test_match_ops),
		cmocka_unit_test(test_precedence),
		cmocka_unit_test(test_sets),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_arguments),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
