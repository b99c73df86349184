/* SuperBlob and CodeDirectory validation, CDHash, page checks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>
#include <openssl/sha.h>

#include "builder.h"
#include "universal.h"
#include "sig/codesign.h"
#include "sig/req.h"
#include "sig/cms.h"
#include "sig/ent.h"
#include "hash/hash.h"
#include "fixture.h"

static uint8_t file[TB_FILE_LEN];
static struct msign_sig sig;

#define SB (file + TB_SIG_OFF)
#define CD (SB + TB_CD_OFF)

static void fill_page_hashes(void)
{
	for (uint32_t i = 0; i < 2; i++)
		SHA256(file + i * TB_PAGE, TB_PAGE, CD + TB_HASH_OFF + 32 * i);
}

static int parse(struct msign_diag *d)
{
	struct msign_image *img = NULL;
	msign_diag_clear(d);
	int r = msign_image_parse(file, TB_FILE_LEN, &img, d);
	if (r == 0)
		r = msign_sig_parse(&img->slices[0], &sig, d);
	msign_image_free(img);
	return r;
}

static void t_good(void **st)
{
	(void)st;
	tb_build(file);
	fill_page_hashes();
	struct msign_diag d;
	assert_int_equal(parse(&d), 0);
	assert_int_equal(sig.ncds, 1);
	const struct msign_codedir *cd = &sig.cds[0];
	assert_int_equal(cd->version, 0x20400);
	assert_int_equal(cd->flags, MSIGN_CS_ADHOC);
	assert_int_equal(cd->ncode, 2);
	assert_int_equal(cd->hash_type, MSIGN_CS_HASHTYPE_SHA256);
	assert_string_equal(cd->ident, TB_IDENT);
	assert_null(cd->team);
	assert_int_equal(cd->exec_seg_limit, 0x2000);
	assert_int_equal(cd->exec_seg_flags, 1);
	uint8_t want[32];
	SHA256(CD, TB_CD_LEN, want);
	assert_int_equal(cd->cdhash_len, 32);
	assert_memory_equal(cd->cdhash, want, 32);
	assert_null(sig.requirements);
	assert_null(sig.cms);
	/* the same without the CDHash: every other field identical */
	struct msign_codedir with = *cd;
	struct msign_image *img = NULL;
	assert_int_equal(msign_image_parse(file, TB_FILE_LEN, &img, NULL), 0);
	assert_int_equal(msign_sig_parse_ex(&img->slices[0], &sig,
					    MSIGN_SIG_NO_CDHASH, NULL), 0);
	msign_image_free(img);
	assert_int_equal(sig.cds[0].cdhash_len, 0);
	memcpy(with.cdhash, sig.cds[0].cdhash, sizeof(with.cdhash));
	with.cdhash_len = 0;
	assert_memory_equal(&with, &sig.cds[0], sizeof(with));
}

static void t_bad_pages(void **st)
{
	(void)st;
	tb_build(file);
	fill_page_hashes();
	struct msign_image *img = NULL;
	assert_int_equal(msign_image_parse(file, TB_FILE_LEN, &img, NULL), 0);
	assert_int_equal(msign_sig_parse(&img->slices[0], &sig, NULL), 0);
	uint32_t bad = 99;
	assert_int_equal(msign_codedir_count_bad_pages(img, &sig.cds[0],
						       &img->slices[0], &bad,
						       NULL), 0);
	assert_int_equal(bad, 0);
	file[TB_PAGE + 100] ^= 1; /* page 1 */
	assert_int_equal(msign_codedir_count_bad_pages(img, &sig.cds[0],
						       &img->slices[0], &bad,
						       NULL), 0);
	assert_int_equal(bad, 1);
	msign_image_free(img);
}

struct bad_case {
	const char *what;
	size_t at;      /* offset in the file of a big-endian u32 */
	uint32_t value;
	int code;
	const char *msg;
};

static void t_errors(void **st)
{
	(void)st;
	const size_t sb = TB_SIG_OFF, cd = TB_SIG_OFF + TB_CD_OFF;
	const struct bad_case cases[] = {
		{ "sb magic", sb, 0x796c645f, MSIGN_E_BAD_MAGIC,
		  "bad SuperBlob magic 0x796c645f" },
		{ "sb count", sb + 8, 0x7fffffff, MSIGN_E_LIMIT,
		  "SuperBlob count 2147483647 exceeds the limit of 64" },
		{ "sb length", sb + 4, 0xffffffff, MSIGN_E_BAD_RANGE, NULL },
		{ "sb length small", sb + 4, 4, MSIGN_E_BAD_RANGE, NULL },
		{ "blob offset", sb + 16, 0x80000000, MSIGN_E_BAD_RANGE,
		  "blob 0 (type 0x0) offset 2147483648 past SuperBlob length 196" },
		{ "cd length", cd + 4, 0xffffffff, MSIGN_E_BAD_RANGE, NULL },
		{ "cd hashOffset", cd + 16, 0x7fffffff, MSIGN_E_BAD_RANGE,
		  "hashOffset 2147483647 outside CodeDirectory length 168" },
		{ "cd identOffset", cd + 20, 1000, MSIGN_E_BAD_RANGE,
		  "identOffset 1000 is not a string inside CodeDirectory length 168" },
		{ "cd nCodeSlots", cd + 28, 1002, MSIGN_E_BAD_RANGE, NULL },
		{ "cd nCodeSlots vs limit", cd + 28, 1, MSIGN_E_INVALID,
		  "nCodeSlots 1 inconsistent with codeLimit 8192 (page size 2^12 wants 2)" },
		{ "cd nSpecial", cd + 24, 0xffffffff, MSIGN_E_BAD_RANGE, NULL },
		{ "cd version", cd + 8, 0x10000, MSIGN_E_UNSUPPORTED,
		  "CodeDirectory version 0x10000 not supported" },
		{ "cd hash size", cd + 36, 0x14020000, MSIGN_E_INVALID, NULL },
		{ "cd hash type", cd + 36, 0x20090000, MSIGN_E_UNSUPPORTED, NULL },
		{ "cd magic", cd, 0xfade0c01, MSIGN_E_BAD_MAGIC, NULL },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		tb_build(file);
		tb_be32(file + cases[i].at, cases[i].value);
		struct msign_diag d;
		int r = parse(&d);
		if (r != cases[i].code)
			fail_msg("%s: got %d (%s), want %d", cases[i].what, r,
				 d.msg, cases[i].code);
		if (cases[i].msg != NULL)
			assert_string_equal(d.msg, cases[i].msg);
	}
}

static void t_not_signed_and_outside(void **st)
{
	(void)st;
	struct msign_diag d;
	tb_build(file);
	tb_le32(file + 32 + 144 + 8, TB_FILE_LEN); /* dataoff at EOF */
	assert_int_equal(parse(&d), MSIGN_E_BAD_RANGE);
	tb_build(file);
	tb_le32(file + 32 + 144 + 12, 0); /* datasize 0 */
	assert_int_equal(parse(&d), MSIGN_E_TRUNCATED);
	assert_string_equal(d.msg, "signature of 0 bytes is too small for a SuperBlob");
	tb_build(file);
	tb_le32(file + 32 + 144, 0x99); /* not LC_CODE_SIGNATURE any more */
	assert_int_equal(parse(&d), MSIGN_E_NOT_SIGNED);
}

/* Apple's CodeDirectory order: slot 0 first, else the code is unsigned. */
static void t_cd_slots(void **st)
{
	(void)st;
	struct msign_diag d;
	tb_build(file);
	tb_be32(file + TB_SIG_OFF + 12, 0x1000); /* only an alternate CD */
	assert_int_equal(parse(&d), MSIGN_E_NOT_SIGNED);
	assert_string_equal(d.msg, "signature has no CodeDirectory in slot 0");
	tb_build(file);
	tb_be32(file + TB_SIG_OFF + 12, 0x1001);
	assert_int_equal(parse(&d), MSIGN_E_NOT_SIGNED);
	tb_build(file);
	/* a codeLimit past the slice cannot describe this file */
	tb_be32(file + TB_SIG_OFF + TB_CD_OFF + 32, 0xffffff00);
	assert_true(parse(&d) != 0);
}

static void t_slot_access(void **st)
{
	(void)st;
	tb_build(file);
	fill_page_hashes();
	struct msign_diag d;
	assert_int_equal(parse(&d), 0);
	const struct msign_codedir *cd = &sig.cds[0];
	assert_non_null(msign_codedir_slot(cd, 0));
	assert_non_null(msign_codedir_slot(cd, 1));
	assert_null(msign_codedir_slot(cd, 2));
	assert_null(msign_codedir_slot(cd, -1));
	assert_true(msign_codedir_slot_present(cd, 0));
	assert_false(msign_codedir_slot_present(cd, -1));
	assert_string_equal(msign_hashtype_name(1), "sha1");
	assert_null(msign_hashtype_name(9));
	assert_int_equal(msign_hashtype_size(4), 48);
}

/* The signature of the second slice of fixtures/universal, damaged: the
 * error names the damaged field by its offset in the file (slice offset +
 * dataoff + blob offset + field), whichever parser found it. */
static void t_fat_file_offsets(void **st)
{
	(void)st;
	size_t len;
	uint8_t *f = load("universal", &len);
	uint64_t off = uv_slice_off(f, 1);
	uint64_t lc = uv_cmd_off(f, off, 0x1d);
	uint64_t sb = uv_sb_off(f, off);
	uint64_t cd = uv_blob_off(f, sb, 0);
	assert_true(off > 0 && lc > off && sb > off && cd > sb && cd + 64 < len);
	uint8_t *keep = malloc(len);
	assert_non_null(keep);
	memcpy(keep, f, len);
	const struct {
		const char *what;
		uint64_t at;   /* the damaged field, in the file */
		uint32_t value;
		int code;
	} cases[] = {
		{ "SuperBlob magic", sb, 0xfade0cc1, MSIGN_E_BAD_MAGIC },
		{ "SuperBlob count", sb + 8, 0x7fffffff, MSIGN_E_LIMIT },
		{ "CodeDirectory magic", cd, 0xfade0c01, MSIGN_E_BAD_MAGIC },
		{ "CodeDirectory version", cd + 8, 0x10000, MSIGN_E_UNSUPPORTED },
		{ "hashOffset", cd + 16, 0x7fffffff, MSIGN_E_BAD_RANGE },
		{ "identOffset", cd + 20, 0xffff0000, MSIGN_E_BAD_RANGE },
		{ "nCodeSlots", cd + 28, 0x00100000, MSIGN_E_BAD_RANGE },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memcpy(f, keep, len);
		tb_be32(f + cases[i].at, cases[i].value);
		struct msign_image *img = NULL;
		struct msign_diag d;
		msign_diag_clear(&d);
		assert_int_equal(msign_image_parse(f, len, &img, &d), 0);
		assert_int_equal(img->slices[1].err, 0);
		assert_int_equal(img->slices[1].off, off);
		int r = msign_sig_parse(&img->slices[1], &sig, &d);
		if (r != cases[i].code || d.file_off != cases[i].at)
			fail_msg("%s: got %d at %llu (%s), want %d at %llu",
				 cases[i].what, r, (unsigned long long)d.file_off,
				 d.msg, cases[i].code,
				 (unsigned long long)cases[i].at);
		/* the other slice, undamaged, still parses */
		msign_diag_clear(&d);
		assert_int_equal(msign_sig_parse(&img->slices[0], &sig, &d), 0);
		msign_image_free(img);
	}
	/* LC_CODE_SIGNATURE pointing past the slice: the command is named */
	memcpy(f, keep, len);
	tb_le32(f + lc + 8, 0x7fff0000);
	struct msign_image *img = NULL;
	struct msign_diag d;
	msign_diag_clear(&d);
	assert_int_equal(msign_image_parse(f, len, &img, &d), 0);
	assert_int_equal(msign_sig_parse(&img->slices[1], &sig, &d), MSIGN_E_BAD_RANGE);
	assert_int_equal(d.file_off, lc);
	msign_image_free(img);
	free(keep);
	free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_good),
		cmocka_unit_test(t_bad_pages),
		cmocka_unit_test(t_errors),
		cmocka_unit_test(t_not_signed_and_outside),
		cmocka_unit_test(t_cd_slots),
		cmocka_unit_test(t_slot_access),
		cmocka_unit_test(t_fat_file_offsets),
	};
	return cmocka_run_group_tests_name("codedir", tests, NULL, NULL);
}
