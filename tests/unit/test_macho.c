/* Cursor, thin Mach-O and universal parsing, arch names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "builder.h"
#include "universal.h"
#include "base/cur.h"
#include "macho/macho.h"
#include "fixture.h"

static uint8_t file[TB_FILE_LEN];

static void t_cur_getters(void **st)
{
	(void)st;
	const uint8_t b[] = { 1, 2, 3, 4, 5, 6, 7, 8, 0 };
	struct msign_cur c = msign_cur_make(b, 8);
	uint32_t v;
	assert_int_equal(msign_cur_get_be32(&c, &v), 0);
	assert_int_equal(v, 0x01020304);
	assert_int_equal(msign_cur_get_le32(&c, &v), 0);
	assert_int_equal(v, 0x08070605);
	/* at the end: a failing getter changes nothing */
	assert_int_equal(msign_cur_get_be32(&c, &v), MSIGN_E_TRUNCATED);
	assert_int_equal(c.off, 8);
	uint64_t w;
	assert_int_equal(msign_cur_peek_be64(&c, 1, &w), MSIGN_E_TRUNCATED);
	assert_int_equal(msign_cur_peek_be64(&c, 0, &w), 0);
	assert_true(w == 0x0102030405060708ull);
	struct msign_cur sub;
	assert_int_equal(msign_cur_sub(&c, 4, 5, &sub), MSIGN_E_BAD_RANGE);
	assert_int_equal(msign_cur_sub(&c, UINT64_MAX, 2, &sub), MSIGN_E_BAD_RANGE);
	assert_int_equal(msign_cur_sub(&c, 4, 4, &sub), 0);
	assert_int_equal(sub.len, 4);
	const char *s;
	size_t sl;
	struct msign_cur z = msign_cur_make(b, 9);
	assert_int_equal(msign_cur_cstring(&z, 0, 100, &s, &sl), 0);
	assert_int_equal(sl, 8);
	assert_int_equal(msign_cur_cstring(&c, 0, 100, &s, &sl), MSIGN_E_TRUNCATED);
	assert_int_equal(msign_cur_cstring(&z, 0, 4, &s, &sl), MSIGN_E_TRUNCATED);
	assert_int_equal(msign_cur_cstring(&z, 9, 4, &s, &sl), MSIGN_E_BAD_RANGE);
}

static void t_thin(void **st)
{
	(void)st;
	size_t n = tb_build(file);
	struct msign_image *img;
	struct msign_diag d = { 0 };
	assert_int_equal(msign_image_parse(file, n, &img, &d), 0);
	assert_false(img->is_fat);
	assert_int_equal(img->nslices, 1);
	const struct msign_slice *s = &img->slices[0];
	assert_true(s->is64);
	assert_false(s->big_endian);
	assert_int_equal(s->ncmds, 3);
	assert_int_equal(s->nsegments, 2);
	assert_int_equal(s->text_seg, 0);
	assert_int_equal(s->linkedit_seg, 1);
	assert_true(s->has_codesig);
	assert_int_equal(s->cs_dataoff, TB_SIG_OFF);
	assert_int_equal(s->cs_datasize, TB_SB_LEN);
	assert_string_equal(msign_arch_name(s->cputype, s->cpusubtype), "arm64");
	msign_image_free(img);
}

static int parse_err(size_t n, struct msign_diag *d)
{
	struct msign_image *img = NULL;
	msign_diag_clear(d);
	int r = msign_image_parse(file, n, &img, d);
	msign_image_free(img);
	return r;
}

static void t_thin_errors(void **st)
{
	(void)st;
	struct msign_diag d;
	size_t n = tb_build(file);
	assert_int_equal(parse_err(0, &d), MSIGN_E_TRUNCATED);
	assert_int_equal(parse_err(20, &d), MSIGN_E_TRUNCATED);
	assert_string_equal(d.msg, "need 32 bytes for the Mach-O header but only 20");
	tb_le32(file + 16, 4); /* ncmds lies: one more than present */
	assert_int_equal(parse_err(n, &d), MSIGN_E_TRUNCATED);
	tb_le32(file + 16, 2); /* fewer: leftover bytes in sizeofcmds */
	assert_int_equal(parse_err(n, &d), MSIGN_E_INVALID);
	tb_le32(file + 16, 0xffffffff);
	assert_int_equal(parse_err(n, &d), MSIGN_E_LIMIT);
	tb_build(file);
	tb_le32(file + 20, 0x7fffffff);
	assert_int_equal(parse_err(n, &d), MSIGN_E_BAD_RANGE);
	tb_build(file);
	tb_le32(file + 32 + 4, 0); /* cmdsize 0 would loop forever */
	assert_int_equal(parse_err(n, &d), MSIGN_E_BAD_RANGE);
	tb_build(file);
	tb_le32(file + 32 + 4, 0xfffffff8);
	assert_int_equal(parse_err(n, &d), MSIGN_E_BAD_RANGE);
	tb_build(file);
	tb_le32(file + 32 + 72 + 72 + 4, 8); /* LC_CODE_SIGNATURE too small */
	tb_le32(file + 20, TB_CMDS_SIZE - 8);
	assert_int_equal(parse_err(n, &d), MSIGN_E_BAD_RANGE);
	tb_build(file);
	tb_le32(file, 0x12345678);
	assert_int_equal(parse_err(n, &d), MSIGN_E_BAD_MAGIC);
	assert_string_equal(d.msg, "bad Mach-O magic 0x78563412");
}

/* A fat file of two copies of the thin image. */
static uint8_t fat[0x2000 + 2 * 0x4000];

static size_t build_fat(uint32_t nfat, uint32_t off2)
{
	memset(fat, 0, sizeof(fat));
	tb_build(file);
	tb_be32(fat, 0xcafebabe);
	tb_be32(fat + 4, nfat);
	uint8_t *a = fat + 8;
	tb_be32(a, 0x01000007); tb_be32(a + 4, 3);
	tb_be32(a + 8, 0x2000); tb_be32(a + 12, TB_FILE_LEN); tb_be32(a + 16, 13);
	a += 20;
	tb_be32(a, 0x0100000c); tb_be32(a + 4, 0x80000002);
	tb_be32(a + 8, off2); tb_be32(a + 12, TB_FILE_LEN); tb_be32(a + 16, 14);
	memcpy(fat + 0x2000, file, TB_FILE_LEN);
	tb_le32(fat + 0x2000 + 4, 0x01000007); /* x86_64 */
	tb_le32(fat + 0x2000 + 8, 3);
	if (off2 + TB_FILE_LEN <= sizeof(fat)) {
		memcpy(fat + off2, file, TB_FILE_LEN);
		tb_le32(fat + off2 + 8, 0x80000002); /* arm64e */
	}
	return 0x2000 + 0x4000 + TB_FILE_LEN;
}

static void t_fat(void **st)
{
	(void)st;
	size_t n = build_fat(2, 0x6000);
	struct msign_image *img;
	struct msign_diag d = { 0 };
	assert_int_equal(msign_image_parse(fat, n, &img, &d), 0);
	assert_true(img->is_fat);
	assert_int_equal(img->nslices, 2);
	assert_int_equal(img->slices[0].err, 0);
	assert_int_equal(img->slices[1].err, 0);
	assert_int_equal(img->slices[1].off, 0x6000);
	char buf[40];
	assert_string_equal(msign_arch_label(img->slices[1].cputype,
					     img->slices[1].cpusubtype, buf,
					     sizeof(buf)), "arm64e");
	uint32_t order[2];
	msign_image_sorted(img, order);
	/* arm64e's subtype is negative as int32: still after x86_64 by cputype */
	assert_int_equal(order[0], 0);
	assert_int_equal(order[1], 1);
	setenv("MSIGN_HOST_ARCH", "arm64", 1);
	assert_int_equal(msign_image_default_slice(img), 1);
	setenv("MSIGN_HOST_ARCH", "x86_64", 1);
	assert_int_equal(msign_image_default_slice(img), 0);
	setenv("MSIGN_HOST_ARCH", "other", 1);
	assert_int_equal(msign_image_default_slice(img), 0);
	assert_int_equal(msign_image_find_arch(img, "arm64e"), 1);
	assert_int_equal(msign_image_find_arch(img, "arm64"), -1);
	msign_image_free(img);
}

static void t_fat_errors(void **st)
{
	(void)st;
	struct msign_image *img = NULL;
	struct msign_diag d = { 0 };
	size_t n = build_fat(0xffffffff, 0x6000);
	assert_int_equal(msign_image_parse(fat, n, &img, &d), MSIGN_E_LIMIT);
	assert_string_equal(d.msg, "fat header claims 4294967295 architectures (1 to 64 accepted)");
	n = build_fat(2, 0x3000); /* overlaps slice 0 */
	msign_diag_clear(&d);
	assert_int_equal(msign_image_parse(fat, n, &img, &d), MSIGN_E_INVALID);
	assert_string_equal(d.msg, "fat slices 0 and 1 overlap");
	n = build_fat(2, 0x7fffffff); /* outside: that slice only is broken */
	msign_diag_clear(&d);
	assert_int_equal(msign_image_parse(fat, n, &img, &d), 0);
	assert_int_equal(img->slices[0].err, 0);
	assert_int_equal(img->slices[1].err, MSIGN_E_BAD_RANGE);
	msign_image_free(img);
	n = build_fat(2, 0x10); /* inside the fat header */
	assert_int_equal(msign_image_parse(fat, n, &img, &d), MSIGN_E_BAD_RANGE);
}

/* A damaged second slice of fixtures/universal: the slice's error names
 * the damaged field by its offset in the file, not in the slice. */
static void t_fat_file_offsets(void **st)
{
	(void)st;
	size_t len;
	uint8_t *f = load("universal", &len);
	uint64_t off = uv_slice_off(f, 1);
	assert_true(off > 0 && off != uv_slice_off(f, 0) && off + 32 < len);
	uint8_t *keep = malloc(len);
	assert_non_null(keep);
	memcpy(keep, f, len);
	const struct {
		const char *what;
		uint64_t at;      /* the damaged field, in the file */
		uint32_t value;
		int code;
		uint64_t report;  /* the offset the error must name */
	} cases[] = {
		/* the slice's own cputype against the fat header's (arm64) */
		{ "cputype", off + 4, 0x01000007, MSIGN_E_INVALID, off + 4 },
		{ "ncmds", off + 16, 0xffffffff, MSIGN_E_LIMIT, off + 16 },
		{ "sizeofcmds", off + 20, 0x7fffffff, MSIGN_E_BAD_RANGE, off + 20 },
		/* a load command's size: the command that holds it is named */
		{ "cmdsize", off + 32 + 4, 0, MSIGN_E_BAD_RANGE, off + 32 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memcpy(f, keep, len);
		tb_le32(f + cases[i].at, cases[i].value);
		struct msign_image *img = NULL;
		struct msign_diag d;
		msign_diag_clear(&d);
		assert_int_equal(msign_image_parse(f, len, &img, &d), 0);
		assert_int_equal(d.code, 0); /* the container is fine */
		assert_int_equal(img->slices[0].err, 0);
		const struct msign_slice *s = &img->slices[1];
		if (s->err != cases[i].code || s->diag.file_off != cases[i].report)
			fail_msg("%s: got %d at %llu (%s), want %d at %llu",
				 cases[i].what, s->err,
				 (unsigned long long)s->diag.file_off, s->diag.msg,
				 cases[i].code, (unsigned long long)cases[i].report);
		msign_image_free(img);
	}
	free(keep);
	free(f);
}

static void t_arch_names(void **st)
{
	(void)st;
	char buf[40];
	assert_string_equal(msign_arch_name(7, 3), "i386");
	assert_string_equal(msign_arch_name(0x01000007, 8), "x86_64h");
	assert_string_equal(msign_arch_name(0x01000007, (int32_t)0x80000003), "x86_64");
	assert_string_equal(msign_arch_name(12, 9), "armv7");
	assert_string_equal(msign_arch_name(12, 11), "armv7s");
	assert_string_equal(msign_arch_name(0x0200000c, 1), "arm64_32");
	assert_string_equal(msign_arch_name(18, 10), "ppc7400");
	assert_string_equal(msign_arch_name(18, 77), "ppc"); /* family fallback */
	assert_string_equal(msign_arch_label(0x30303030, 0x30303030, buf,
					     sizeof(buf)), "(808464432:808464432)");
	assert_string_equal(msign_arch_label(99, -5, buf, sizeof(buf)), "(99:-5)");
	int32_t ct, sub;
	assert_true(msign_arch_from_name("arm64e", &ct, &sub));
	assert_int_equal(ct, 0x0100000c);
	assert_int_equal(sub, 2);
	assert_false(msign_arch_from_name("vax", &ct, &sub));
}

/* The host the default slice follows: the environment, then the hardware
 * (macOS's hw.optional.arm64, so an x86_64 build under Rosetta is on an
 * arm64 host), then the build. The sysctl itself runs only on a Mac. */
static void t_host_family(void **st)
{
	(void)st;
	assert_string_equal(msign_host_family_pick(NULL, -1, "x86_64"), "x86_64");
	assert_string_equal(msign_host_family_pick(NULL, 0, "x86_64"), "x86_64");
	assert_string_equal(msign_host_family_pick(NULL, 1, "x86_64"), "arm64");
	assert_string_equal(msign_host_family_pick("", 1, "other"), "arm64");
	assert_string_equal(msign_host_family_pick("other", 1, "x86_64"), "other");
	assert_string_equal(msign_host_family_pick("x86_64", -1, "arm64"), "x86_64");
	assert_string_equal(msign_host_family_pick(NULL, -1, "other"), "other");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_cur_getters),
		cmocka_unit_test(t_thin),
		cmocka_unit_test(t_thin_errors),
		cmocka_unit_test(t_fat),
		cmocka_unit_test(t_fat_errors),
		cmocka_unit_test(t_fat_file_offsets),
		cmocka_unit_test(t_arch_names),
		cmocka_unit_test(t_host_family),
	};
	return cmocka_run_group_tests_name("macho", tests, NULL, NULL);
}
