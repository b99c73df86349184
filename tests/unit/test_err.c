/* Error codes: every enum msign_err value has a sentence; the diagnostic
 * setter keeps the first error. Run from the repository root (as
 * tests/unit/run.sh does): the enum is read from include/msign/err.h, so
 * a code added there without a text fails here. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "base/diag.h"
#include "msign/err.h"

#define MAX_CODES 256

/* The values of every "MSIGN_OK = 0," and "MSIGN_E_NAME = -N," line of
 * the public header, and their names. */
static size_t header_codes(int *codes, char names[][64])
{
	FILE *fp = fopen("include/msign/err.h", "r");
	if (fp == NULL)
		fail_msg("cannot open include/msign/err.h (run from the repository root)");
	char line[512];
	size_t n = 0;
	while (fgets(line, sizeof(line), fp) != NULL && n < MAX_CODES) {
		char name[64];
		int v;
		if (sscanf(line, " %63[A-Z0-9_] = %d ,", name, &v) == 2 &&
		    strncmp(name, "MSIGN_", 6) == 0) {
			codes[n] = v;
			snprintf(names[n], sizeof(names[n]), "%s", name);
			n++;
		}
	}
	fclose(fp);
	return n;
}

static void t_every_code_has_a_sentence(void **st)
{
	(void)st;
	int codes[MAX_CODES];
	char names[MAX_CODES][64];
	size_t n = header_codes(codes, names);
	assert_true(n >= 18); /* MSIGN_OK .. MSIGN_E_LAYOUT at least */
	int lowest = 0;
	for (size_t i = 0; i < n; i++) {
		const char *t = msign_strerror(codes[i]);
		assert_non_null(t);
		size_t len = strlen(t);
		if (len == 0 || strstr(t, "unknown") != NULL)
			fail_msg("%s (%d) has no text: \"%s\"", names[i], codes[i], t);
		/* a sentence to put after "PATH: ": lower case, no period */
		if (t[len - 1] == '.' || t[0] < 'a' || t[0] > 'z')
			fail_msg("%s: \"%s\" should start in lower case and end without a period",
				 names[i], t);
		for (size_t j = 0; j < i; j++) {
			if (codes[j] == codes[i])
				fail_msg("%s and %s share the value %d", names[j],
					 names[i], codes[i]);
			if (strcmp(msign_strerror(codes[j]), t) == 0)
				fail_msg("%s and %s share the text \"%s\"", names[j],
					 names[i], t);
		}
		if (codes[i] < lowest)
			lowest = codes[i];
	}
	/* The codes are 0, -1, ... -N without a gap, and nothing else has
	 * a text: the table and the enum hold the same values. */
	assert_int_equal((size_t)(1 - lowest), n);
	assert_string_equal(msign_strerror(lowest - 1), "unknown error");
	assert_string_equal(msign_strerror(1), "unknown error");
	assert_string_equal(msign_strerror(MSIGN_E_LAYOUT),
			    "the signature is not where Apple's tools put it");
	assert_string_equal(msign_strerror(MSIGN_E_IO),
			    "the file cannot be read or written");
}

/* A message cut at MSIGN_DIAG_MSG_LEN never ends inside a UTF-8
 * character: for each place the end can fall in a 2-, 3- and 4-byte
 * character, the message is the bytes before that character. */
static void t_diag_cut_utf8(void **st)
{
	(void)st;
	static const char *chr[] = { "\xc3\xa9", "\xe2\x80\x94", "\xf0\x9f\x98\x80" };
	for (size_t c = 0; c < 3; c++) {
		size_t w = strlen(chr[c]);
		for (size_t pre = MSIGN_DIAG_MSG_LEN - 1 - w; pre < MSIGN_DIAG_MSG_LEN; pre++) {
			char text[2 * MSIGN_DIAG_MSG_LEN];
			memset(text, 'a', pre);
			snprintf(text + pre, sizeof(text) - pre, "%sbbbbbbbb", chr[c]);
			struct msign_diag d;
			msign_diag_clear(&d);
			msign_diag_set(&d, MSIGN_E_IO, 0, "%s", text);
			size_t len = strlen(d.msg);
			/* the character fits whole, or is left out whole */
			size_t keep = pre + w <= MSIGN_DIAG_MSG_LEN - 1 ? MSIGN_DIAG_MSG_LEN - 1
				      : pre;
			assert_int_equal(len, keep);
			assert_memory_equal(d.msg, text, len);
		}
	}
	/* bytes that are not UTF-8 at the end are kept as they are */
	char raw[MSIGN_DIAG_MSG_LEN + 8];
	memset(raw, 0x80, sizeof(raw) - 1);
	raw[sizeof(raw) - 1] = '\0';
	struct msign_diag d;
	msign_diag_clear(&d);
	msign_diag_set(&d, MSIGN_E_IO, 0, "%s", raw);
	assert_int_equal(strlen(d.msg), MSIGN_DIAG_MSG_LEN - 1);
}

static void t_diag_first_error_wins(void **st)
{
	(void)st;
	struct msign_diag d;
	msign_diag_clear(&d);
	assert_int_equal(msign_diag_set(&d, MSIGN_E_TRUNCATED, 12, "first %d", 1),
			 MSIGN_E_TRUNCATED);
	assert_int_equal(msign_diag_set(&d, MSIGN_E_BAD_MAGIC, 99, "second"),
			 MSIGN_E_BAD_MAGIC);
	assert_int_equal(d.code, MSIGN_E_TRUNCATED);
	assert_int_equal(d.file_off, 12);
	assert_string_equal(d.msg, "first 1");
	assert_int_equal(msign_diag_set(NULL, MSIGN_E_LIMIT, 0, "x"), MSIGN_E_LIMIT);
	msign_diag_clear(&d);
	assert_int_equal(d.code, 0);
	assert_string_equal(d.msg, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_every_code_has_a_sentence),
		cmocka_unit_test(t_diag_first_error_wins),
		cmocka_unit_test(t_diag_cut_utf8),
	};
	return cmocka_run_group_tests_name("err", tests, NULL, NULL);
}
