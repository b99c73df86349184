/* Strip plans on in-memory images: Apple's removal rules. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include "builder.h"
#include "write/write.h"
#include "write/strip.h"
#include "hash/hash.h"
#include "sign/sign.h"
#include "verify/verify.h"
#include "fixture.h"

static uint8_t file[TB_FILE_LEN];

/* Strip buf and return the rendered output (caller frees). */
static uint8_t *strip_mem(const uint8_t *buf, size_t len, size_t *out_len,
			  struct msign_strip_result *res, int *rc)
{
	struct msign_image *img = NULL;
	struct msign_plan plan;
	msign_plan_init(&plan);
	uint8_t *out = NULL;
	*rc = msign_image_parse(buf, len, &img, NULL);
	if (*rc == 0)
		*rc = msign_strip_plan(img, NULL, &plan, res, NULL);
	if (*rc == 0)
		*rc = msign_plan_render(&plan, buf, len, &out, NULL);
	*out_len = (size_t)plan.out_len;
	msign_plan_free(&plan);
	msign_image_free(img);
	return out;
}

static void t_thin(void **st)
{
	(void)st;
	tb_build(file);
	struct msign_strip_result res;
	size_t n;
	int rc;
	uint8_t *out = strip_mem(file, TB_FILE_LEN, &n, &res, &rc);
	assert_int_equal(rc, 0);
	assert_true(res.changed);
	assert_int_equal(n, TB_SIG_OFF);
	/* header: ncmds 3 -> 2, sizeofcmds 160 -> 144, freed 16 bytes zero */
	assert_int_equal(out[16], 2);
	assert_int_equal(out[20], 144);
	for (size_t i = 32 + 144; i < 32 + 160; i++)
		assert_int_equal(out[i], 0);
	/* __LINKEDIT (second segment) filesize = 8192 - 8192 = 0, vmsize kept */
	const uint8_t *le = out + 32 + 72;
	assert_memory_equal(le + 8, "__LINKEDIT", 10);
	for (int i = 0; i < 8; i++)
		assert_int_equal(le[48 + i], 0);
	assert_int_equal(le[32 + 1], 0x40); /* vmsize 0x4000 unchanged */
	/* everything else identical */
	assert_memory_equal(out + 32, file + 32, 72);
	assert_memory_equal(out + 512, file + 512, TB_SIG_OFF - 512);
	/* idempotent: stripping again changes nothing */
	size_t n2;
	uint8_t *again = strip_mem(out, n, &n2, &res, &rc);
	assert_int_equal(rc, 0);
	assert_false(res.changed);
	assert_int_equal(n2, n);
	assert_memory_equal(again, out, n);
	free(again);
	free(out);
}

static void t_refusals(void **st)
{
	(void)st;
	struct msign_strip_result res;
	size_t n;
	int rc;
	tb_build(file);
	tb_le32(file + 12, 1); /* MH_OBJECT */
	free(strip_mem(file, TB_FILE_LEN, &n, &res, &rc));
	assert_int_equal(rc, MSIGN_E_UNSUPPORTED);
	tb_build(file);
	tb_le32(file + 32 + 144 + 12, TB_SB_LEN - 8); /* ends 8 before EOF */
	free(strip_mem(file, TB_FILE_LEN, &n, &res, &rc));
	assert_int_equal(rc, MSIGN_E_LAYOUT);
	tb_build(file);
	tb_le32(file + 32 + 144 + 12, TB_SB_LEN - 7); /* 7 bytes: tolerated */
	free(strip_mem(file, TB_FILE_LEN, &n, &res, &rc));
	assert_int_equal(rc, 0);
	assert_int_equal(n, TB_SIG_OFF);
}

/* The string-table rule on a real lld fixture: new size = end of strings
 * when it lies 1..12 bytes before dataoff, else dataoff. */
static void t_strtab_padding(void **st)
{
	(void)st;
	size_t len;
	uint8_t *buf = load("hello_arm64", &len);
	struct msign_image *img = NULL;
	assert_int_equal(msign_image_parse(buf, len, &img, NULL), 0);
	const struct msign_slice *s = &img->slices[0];
	assert_true(s->has_symtab);
	uint32_t dataoff = s->cs_dataoff, stroff = s->stroff;
	msign_image_free(img);
	/* find LC_SYMTAB's strsize field: cmd 2 */
	size_t at = 32, strsize_at = 0;
	for (uint32_t i = 0; i < buf[16]; i++) {
		uint32_t cmd = buf[at] | (uint32_t)buf[at + 1] << 8;
		uint32_t size = buf[at + 4] | (uint32_t)buf[at + 5] << 8;
		if (cmd == 2)
			strsize_at = at + 20;
		at += size;
	}
	assert_true(strsize_at != 0);
	struct { uint32_t gap; uint32_t want; } cases[] = {
		{ 0, 0 }, { 1, 1 }, { 5, 5 }, { 12, 12 }, { 13, 0 }, { 200, 0 } };
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		tb_le32(buf + strsize_at, dataoff - stroff - cases[i].gap);
		struct msign_strip_result res;
		size_t n;
		int rc;
		free(strip_mem(buf, len, &n, &res, &rc));
		assert_int_equal(rc, 0);
		if (n != dataoff - cases[i].want)
			fail_msg("gap %u: size %zu, want %u", cases[i].gap, n,
				 dataoff - cases[i].want);
	}
	free(buf);
}

static void t_universal_layout(void **st)
{
	(void)st;
	size_t len;
	uint8_t *buf = load("universal", &len);
	struct msign_strip_result res;
	size_t n;
	int rc;
	uint8_t *out = strip_mem(buf, len, &n, &res, &rc);
	assert_int_equal(rc, 0);
	assert_int_equal(res.nslices, 2);
	/* x86_64 at 4096 (2^12), arm64 at the next 2^14 after its end */
	assert_int_equal(res.slices[0].new_off, 4096);
	assert_int_equal(res.slices[1].new_off, 16384);
	assert_int_equal(n, 16384 + res.slices[1].new_size);
	struct msign_image *img = NULL;
	assert_int_equal(msign_image_parse(out, n, &img, NULL), 0);
	assert_false(img->slices[0].has_codesig);
	assert_false(img->slices[1].has_codesig);
	msign_image_free(img);
	free(out);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_thin),
		cmocka_unit_test(t_refusals),
		cmocka_unit_test(t_strtab_padding),
		cmocka_unit_test(t_universal_layout),
	};
	return cmocka_run_group_tests_name("strip", tests, NULL, NULL);
}
