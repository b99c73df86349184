/* Ad-hoc signing on in-memory images, and the hashing engine. The
 * reference outputs are the lld-signed and codesign-style fixtures. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <openssl/sha.h>

#include "builder.h"
#include "universal.h"
#include "write/write.h"
#include "write/strip.h"
#include "hash/hash.h"
#include "sign/sign.h"
#include "verify/verify.h"
#include "fixture.h"

/* Strip, as msign strip does, in memory. */
static uint8_t *strip_mem(const uint8_t *buf, size_t len, size_t *out_len)
{
	struct msign_image *img = NULL;
	struct msign_plan plan;
	static struct msign_strip_result res;
	uint8_t *out = NULL;
	msign_plan_init(&plan);
	assert_int_equal(msign_image_parse(buf, len, &img, NULL), 0);
	assert_int_equal(msign_strip_plan(img, NULL, &plan, &res, NULL), 0);
	assert_int_equal(msign_plan_render(&plan, buf, len, &out, NULL), 0);
	*out_len = (size_t)plan.out_len;
	msign_plan_free(&plan);
	msign_image_free(img);
	return out;
}

/* Sign buf with o; returns the rendered output or NULL with *rc set. */
static uint8_t *sign_mem(const uint8_t *buf, size_t len,
			 const struct msign_sign_opts *o, size_t *out_len,
			 struct msign_sign_result *res, int *rc)
{
	struct msign_image *img = NULL;
	struct msign_plan plan;
	struct msign_diag d;
	uint8_t *out = NULL;
	msign_plan_init(&plan);
	msign_diag_clear(&d);
	*rc = msign_image_parse(buf, len, &img, &d);
	if (*rc == 0)
		*rc = msign_sign_plan(img, o, &plan, res, &d);
	if (*rc == 0)
		*rc = msign_plan_render(&plan, buf, len, &out, &d);
	*out_len = (size_t)plan.out_len;
	msign_plan_free(&plan);
	msign_image_free(img);
	return out;
}

static int verify_mem(const uint8_t *buf, size_t len,
		      struct msign_verify_result *vr)
{
	struct msign_image *img = NULL;
	int r = msign_image_parse(buf, len, &img, NULL);
	if (r)
		return r;
	struct msign_verify_opts vo = { .threads = 2, .strict = true };
	r = msign_verify_image(img, &vo, vr, NULL);
	msign_image_free(img);
	return r;
}

static struct msign_sign_result res;

static void t_lld_round_trip(void **st)
{
	(void)st;
	static const char *const names[] = {
		"hello_arm64", "hello_x86_64", "hello_arm64e",
		"libhello_arm64.dylib", "bundle_arm64.bundle",
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		size_t len, slen, n;
		int rc;
		uint8_t *want = load(names[i], &len);
		uint8_t *stripped = strip_mem(want, len, &slen);
		struct msign_sign_opts o = { .identifier = names[i],
					     .linker_signed = true };
		uint8_t *got = sign_mem(stripped, slen, &o, &n, &res, &rc);
		assert_int_equal(rc, 0);
		if (n != len || memcmp(got, want, len) != 0)
			fail_msg("%s: linker signature differs from lld's", names[i]);
		/* without -i the identifier is the file name, as lld's */
		o.identifier = NULL;
		o.file_name = names[i];
		free(got);
		got = sign_mem(stripped, slen, &o, &n, &res, &rc);
		assert_int_equal(rc, 0);
		assert_string_equal(res.identifier, names[i]);
		assert_memory_equal(got, want, len);
		free(got);
		free(stripped);
		free(want);
	}
}

static void t_universal_per_arch(void **st)
{
	(void)st;
	size_t len, slen, n1, n2;
	int rc;
	uint8_t *want = load("universal", &len);
	uint8_t *stripped = strip_mem(want, len, &slen);
	struct msign_sign_opts o = { .identifier = "hello_x86_64",
				     .linker_signed = true, .arch = "x86_64" };
	uint8_t *one = sign_mem(stripped, slen, &o, &n1, &res, &rc);
	assert_int_equal(rc, 0);
	assert_true(res.slices[0].target);
	assert_false(res.slices[1].target);
	o.identifier = "hello_arm64";
	o.arch = "arm64";
	uint8_t *two = sign_mem(one, n1, &o, &n2, &res, &rc);
	assert_int_equal(rc, 0);
	assert_int_equal(n2, len);
	assert_memory_equal(two, want, len);
	/* every slice at once: same identifier, slices laid out again */
	o.arch = NULL;
	free(two);
	two = sign_mem(stripped, slen, &o, &n2, &res, &rc);
	assert_int_equal(rc, 0);
	assert_int_equal(res.nslices, 2);
	assert_int_equal(res.slices[0].out_off, 4096);
	assert_int_equal(res.slices[1].out_off, 16384);
	struct msign_verify_result vr;
	assert_int_equal(verify_mem(two, n2, &vr), 0);
	free(two);
	free(one);
	free(stripped);
	free(want);
}

/* codesign -s - layout: byte for byte the fixtures csig.py wrote. */
static void t_codesign_layout(void **st)
{
	(void)st;
	size_t len, wlen, elen, n;
	int rc;
	uint8_t *in = load("hello_arm64.unsigned", &len);
	uint8_t *want = load("adhoc_ent_arm64", &wlen);
	char *ent = (char *)load("src/ent-adhoc.plist", &elen);
	struct msign_sign_opts o = { .identifier = "org.msign.adhoc",
				     .ent_xml = ent, .ent_len = elen,
				     .page_size = 16384 };
	uint8_t *got = sign_mem(in, len, &o, &n, &res, &rc);
	assert_int_equal(rc, 0);
	assert_int_equal(n, wlen);
	assert_memory_equal(got, want, wlen);
	assert_int_equal(res.slices[0].cd_version, 0x20400);
	/* arm64's default page is 16 KiB, as current codesign */
	o.page_size = 0;
	free(got);
	got = sign_mem(in, len, &o, &n, &res, &rc);
	assert_int_equal(rc, 0);
	assert_memory_equal(got, want, wlen);
	free(got);
	free(want);
	free(in);
	/* Info.plist bound in slot -1, identifier from CFBundleIdentifier */
	in = load("infoplist_arm64.unsigned", &len);
	want = load("adhoc_infoplist_arm64", &wlen);
	struct msign_sign_opts o2 = { .page_size = 4096, .file_name = "x/y" };
	got = sign_mem(in, len, &o2, &n, &res, &rc);
	assert_int_equal(rc, 0);
	assert_string_equal(res.identifier, "org.msign.infoplist");
	assert_int_equal(n, wlen);
	assert_memory_equal(got, want, wlen);
	free(got);
	free(want);
	free(in);
	free(ent);
}

static void t_force_and_idempotence(void **st)
{
	(void)st;
	size_t len, n1, n2;
	int rc;
	uint8_t *in = load("hello_x86_64", &len);
	struct msign_sign_opts o = { .file_name = "dir/hello.x86" };
	uint8_t *out = sign_mem(in, len, &o, &n1, &res, &rc);
	assert_null(out);
	assert_int_equal(rc, MSIGN_E_ALREADY_SIGNED);
	assert_true(res.already_signed);
	o.force = true;
	out = sign_mem(in, len, &o, &n1, &res, &rc);
	assert_int_equal(rc, 0);
	assert_true(res.replaced);
	/* "hello.x86" -> "hello", no dot: "-" + "UUID" + LC_UUID in hex */
	assert_true(strncmp(res.identifier, "hello-55554944", 14) == 0);
	assert_int_equal(strlen(res.identifier), 6 + 40);
	assert_int_equal(res.slices[0].page_size, 4096);
	uint8_t *again = sign_mem(out, n1, &o, &n2, &res, &rc);
	assert_int_equal(rc, 0);
	assert_int_equal(n1, n2);
	assert_memory_equal(out, again, n1);
	struct msign_verify_result vr;
	assert_int_equal(verify_mem(out, n1, &vr), 0);
	/* --prefix goes in front of a dotless name */
	o.prefix = "org.example.";
	free(again);
	again = sign_mem(in, len, &o, &n2, &res, &rc);
	assert_int_equal(rc, 0);
	assert_string_equal(res.identifier, "org.example.hello");
	free(again);
	free(out);
	free(in);
}

/* Builder image without LC_UUID or version: SHA-1 + SHA-256, v0x20100,
 * no exec segment, identifier from the load commands' SHA-1. */
static void t_old_platform(void **st)
{
	(void)st;
	static uint8_t file[TB_FILE_LEN];
	tb_build(file);
	size_t n1, n2;
	int rc;
	struct msign_sign_opts o = { .force = true, .file_name = "tool" };
	uint8_t *out = sign_mem(file, TB_FILE_LEN, &o, &n1, &res, &rc);
	assert_int_equal(rc, 0);
	const struct msign_sign_slice *s = &res.slices[0];
	assert_int_equal(s->ncds, 2);
	assert_int_equal(s->hash_types[0], MSIGN_CS_HASHTYPE_SHA1);
	assert_int_equal(s->hash_types[1], MSIGN_CS_HASHTYPE_SHA256);
	assert_int_equal(s->cd_version, 0x20100);
	assert_int_equal(s->page_size, 16384); /* arm64 */
	assert_int_equal(s->dataoff, TB_SIG_OFF);
	assert_true(strncmp(res.identifier, "tool-", 5) == 0);
	assert_int_equal(strlen(res.identifier), 5 + 40);
	char ident[sizeof(res.identifier)];
	strcpy(ident, res.identifier);
	struct msign_verify_result vr;
	assert_int_equal(verify_mem(out, n1, &vr), 0);
	assert_int_equal(vr.cds_checked, 2);
	/* re-signing keeps the identifier and the bytes */
	uint8_t *again = sign_mem(out, n1, &o, &n2, &res, &rc);
	assert_int_equal(rc, 0);
	assert_string_equal(res.identifier, ident);
	assert_int_equal(n1, n2);
	assert_memory_equal(out, again, n1);
	free(again);
	/* explicit digests and page size */
	o.hash_types = 1u << MSIGN_CS_HASHTYPE_SHA384;
	o.page_size = 4096;
	again = sign_mem(file, TB_FILE_LEN, &o, &n2, &res, &rc);
	assert_int_equal(rc, 0);
	assert_int_equal(res.slices[0].ncds, 1);
	assert_int_equal(res.slices[0].hash_types[0], MSIGN_CS_HASHTYPE_SHA384);
	assert_int_equal(verify_mem(again, n2, &vr), 0);
	free(again);
	free(out);
}

/* -o runtime: v0x20500 and the runtime version from the SDK; the flag
 * words land in the CD; get-task-allow adds ALLOW_UNSIGNED. */
static void t_runtime_and_flags(void **st)
{
	(void)st;
	size_t len, n;
	int rc;
	uint8_t *in = load("hello_arm64.unsigned", &len);
	static const char ent[] =
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<plist version=\"1.0\"><dict><key>get-task-allow</key><true/>"
		"<key>dynamic-codesigning</key><true/></dict></plist>\n";
	struct msign_sign_opts o = { .identifier = "a.b",
				     .cd_flags = MSIGN_CS_RUNTIME | 0x300,
				     .ent_xml = ent, .ent_len = sizeof(ent) - 1 };
	uint8_t *out = sign_mem(in, len, &o, &n, &res, &rc);
	assert_int_equal(rc, 0);
	assert_int_equal(res.slices[0].cd_version, 0x20500);
	struct msign_image *img = NULL;
	static struct msign_sig sig;
	assert_int_equal(msign_image_parse(out, n, &img, NULL), 0);
	assert_int_equal(msign_sig_parse(&img->slices[0], &sig, NULL), 0);
	const struct msign_codedir *cd = &sig.cds[0];
	assert_int_equal(cd->flags, MSIGN_CS_ADHOC | MSIGN_CS_RUNTIME | 0x300);
	assert_int_equal(cd->runtime, 0xb0000); /* SDK 11.0 */
	assert_int_equal(cd->exec_seg_flags, 0x1 | 0x10 | 0x40);
	assert_int_equal(cd->nspecial, 7);
	assert_non_null(sig.ent_xml);
	assert_non_null(sig.ent_der);
	assert_non_null(sig.cms);
	assert_int_equal(sig.cms->len, 8);
	assert_int_equal(sig.requirements->len, 12);
	msign_image_free(img);
	free(out);
	free(in);
}

static void t_refusals(void **st)
{
	(void)st;
	size_t len, n;
	int rc;
	uint8_t *in = load("hello_arm64.unsigned", &len);
	struct msign_sign_opts o = { .identifier = "x", .page_size = 3000 };
	assert_null(sign_mem(in, len, &o, &n, &res, &rc));
	assert_int_equal(rc, MSIGN_E_ARG);
	struct msign_sign_opts o2 = { .identifier = "x", .linker_signed = true,
				      .ent_xml = "<plist/>", .ent_len = 8 };
	assert_null(sign_mem(in, len, &o2, &n, &res, &rc));
	assert_int_equal(rc, MSIGN_E_ARG);
	struct msign_sign_opts o3 = { .identifier = "x", .arch = "ppc" };
	assert_null(sign_mem(in, len, &o3, &n, &res, &rc));
	assert_int_equal(rc, MSIGN_E_NOT_FOUND);
	struct msign_sign_opts o4 = { .identifier = "x", .ent_xml = "nope",
				      .ent_len = 4 };
	assert_null(sign_mem(in, len, &o4, &n, &res, &rc));
	assert_int_equal(rc, MSIGN_E_PLIST);
	/* for_notarization: the library refuses with the problems in one line */
	struct msign_sign_opts onz = { .identifier = "x", .for_notarization = true,
				       .cd_flags = MSIGN_CS_RUNTIME };
	struct msign_image *nzimg = NULL;
	struct msign_plan nzplan;
	struct msign_diag nzd;
	msign_plan_init(&nzplan);
	msign_diag_clear(&nzd);
	assert_int_equal(msign_image_parse(in, len, &nzimg, NULL), 0);
	assert_int_equal(msign_sign_plan(nzimg, &onz, &nzplan, &res, &nzd), MSIGN_E_ARG);
	assert_string_equal(nzd.msg, "not ready for notarization: an ad-hoc signature: "
			    "notarization needs a Developer ID Application certificate; "
			    "no secure timestamp (--timestamp)");
	msign_plan_free(&nzplan);
	msign_image_free(nzimg);
	struct msign_sign_opts o5 = { .file_name = "" };
	assert_null(sign_mem(in, len, &o5, &n, &res, &rc));
	assert_int_equal(rc, MSIGN_E_ARG);
	/* no room for LC_CODE_SIGNATURE: commands reach the first section */
	size_t at = 32;
	uint32_t ncmds = in[16], sizeofcmds = in[20] | (uint32_t)in[21] << 8;
	for (uint32_t i = 0; i < ncmds; i++)
		at += in[at + 4] | (uint32_t)in[at + 5] << 8;
	assert_int_equal(at, 32 + sizeofcmds);
	struct msign_image *img = NULL;
	assert_int_equal(msign_image_parse(in, len, &img, NULL), 0);
	uint64_t first = img->slices[0].first_section_off;
	msign_image_free(img);
	/* a fake command filling the padding up to the first section */
	uint32_t pad = (uint32_t)(first - at) & ~7u;
	tb_le32(in + at, 0x7fff); /* an unknown command */
	tb_le32(in + at + 4, pad);
	tb_le32(in + 16, ncmds + 1);
	tb_le32(in + 20, sizeofcmds + pad);
	struct msign_sign_opts o6 = { .identifier = "x" };
	assert_null(sign_mem(in, len, &o6, &n, &res, &rc));
	assert_int_equal(rc, MSIGN_E_INVALID);
	free(in);
	/* a filetype codesign refuses (strip's rule) */
	static uint8_t file[TB_FILE_LEN];
	tb_build(file);
	tb_le32(file + 12, 1);
	struct msign_sign_opts o7 = { .identifier = "x", .force = true };
	assert_null(sign_mem(file, TB_FILE_LEN, &o7, &n, &res, &rc));
	assert_int_equal(rc, MSIGN_E_UNSUPPORTED);
}

/* ---- the hashing engine --------------------------------------------------- */

/* Signing the second slice of a universal file that has no room for
 * LC_CODE_SIGNATURE: the error names sizeofcmds by its offset in the
 * file, not in the slice. */
static void t_fat_file_offsets(void **st)
{
	(void)st;
	size_t len;
	uint8_t *in = load("universal.unsigned", &len);
	uint64_t off = uv_slice_off(in, 1);
	uint32_t ncmds = uv_le32(in + off + 16), sizeofcmds = uv_le32(in + off + 20);
	uint64_t at = off + 32 + sizeofcmds;
	assert_int_equal(uv_cmd_off(in, off, 0x7fff), 0);
	struct msign_image *img = NULL;
	assert_int_equal(msign_image_parse(in, len, &img, NULL), 0);
	uint64_t first = off + img->slices[1].first_section_off;
	msign_image_free(img);
	/* an unknown command filling the padding up to the first section */
	uint32_t pad = (uint32_t)(first - at) & ~7u;
	assert_true(pad >= 8);
	tb_le32(in + at, 0x7fff);
	tb_le32(in + at + 4, pad);
	tb_le32(in + off + 16, ncmds + 1);
	tb_le32(in + off + 20, sizeofcmds + pad);
	struct msign_diag d;
	msign_diag_clear(&d);
	assert_int_equal(msign_image_parse(in, len, &img, &d), 0);
	struct msign_plan plan;
	msign_plan_init(&plan);
	struct msign_sign_opts o = { .identifier = "x", .arch = "arm64" };
	assert_int_equal(msign_sign_plan(img, &o, &plan, &res, &d), MSIGN_E_INVALID);
	assert_int_equal(d.code, MSIGN_E_INVALID);
	assert_int_equal(d.file_off, off + 20);
	msign_plan_free(&plan);
	msign_image_free(img);
	free(in);
}

static void t_hashpool_pieces(void **st)
{
	(void)st;
	enum { LEN = 3 * 4096 + 100 };
	static uint8_t flat[LEN], part_a[5000], part_b[LEN];
	for (size_t i = 0; i < LEN; i++)
		flat[i] = (uint8_t)(i * 7 + 3);
	memset(flat + 9000, 0, 1000); /* a zero run: piece without data */
	memcpy(part_a, flat, 5000);
	memcpy(part_b, flat + 10000, LEN - 10000);
	uint8_t want[4 * 32], got[4 * 32];
	for (int p = 0; p < 4; p++) {
		size_t end = (size_t)(p + 1) * 4096 < LEN ? (size_t)(p + 1) * 4096 : LEN;
		SHA256(flat + p * 4096, end - (size_t)p * 4096, want + 32 * p);
	}
	struct msign_hash_job j;
	memset(&j, 0, sizeof(j));
	j.npieces = 4;
	j.pieces[0] = (struct msign_piece){ .data = part_a, .len = 5000 };
	j.pieces[1] = (struct msign_piece){ .data = flat + 5000, .len = 4000 };
	j.pieces[2] = (struct msign_piece){ .data = NULL, .len = 1000 };
	j.pieces[3] = (struct msign_piece){ .data = part_b, .len = LEN - 10000 };
	j.limit = LEN;
	j.page_log2 = 12;
	j.hash_type = MSIGN_CS_HASHTYPE_SHA256;
	j.npages = 4;
	j.out = got;
	for (unsigned threads = 1; threads <= 4; threads++) {
		memset(got, 0, sizeof(got));
		assert_int_equal(msign_hash_run(&j, 1, threads, NULL), 0);
		assert_memory_equal(got, want, sizeof(want));
	}
	/* verify mode: one wrong stored hash */
	want[2 * 32 + 5] ^= 1;
	j.out = NULL;
	j.expect = want;
	assert_int_equal(msign_hash_run(&j, 1, 2, NULL), 0);
	assert_int_equal(j.nbad, 1);
	assert_int_equal(j.first_bad, 2);
	/* a subset of pages; page_log2 0 = one page over everything */
	j.first_page = 3;
	j.npages = 1;
	assert_int_equal(msign_hash_run(&j, 1, 1, NULL), 0);
	assert_int_equal(j.nbad, 0);
	uint8_t one[32];
	SHA256(flat, LEN, one);
	j.first_page = 0;
	j.page_log2 = 0;
	j.expect = one;
	assert_int_equal(msign_hash_run(&j, 1, 1, NULL), 0);
	assert_int_equal(j.nbad, 0);
	/* malformed jobs are refused, not run */
	j.limit = LEN + 1;
	assert_int_equal(msign_hash_run(&j, 1, 1, NULL), MSIGN_E_ARG);
	j.limit = LEN;
	j.page_log2 = 12;
	j.npages = 5;
	assert_int_equal(msign_hash_run(&j, 1, 1, NULL), MSIGN_E_ARG);
	j.npages = 4;
	j.hash_type = 9;
	assert_int_equal(msign_hash_run(&j, 1, 1, NULL), MSIGN_E_ARG);
	assert_true(msign_hash_default_threads() >= 1);
}

/* Many jobs of different types and sizes across threads give the same
 * hashes as one thread: 8 MiB so the pool really starts threads. */
static void t_hashpool_threads(void **st)
{
	(void)st;
	size_t len = 8u << 20;
	uint8_t *buf = malloc(len);
	assert_non_null(buf);
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(i ^ (i >> 9));
	static const uint8_t types[] = { MSIGN_CS_HASHTYPE_SHA1, MSIGN_CS_HASHTYPE_SHA256,
					 MSIGN_CS_HASHTYPE_SHA256_TRUNCATED,
					 MSIGN_CS_HASHTYPE_SHA384 };
	struct msign_hash_job jobs[4];
	uint8_t *out1[4], *out2[4];
	memset(jobs, 0, sizeof(jobs));
	for (int k = 0; k < 4; k++) {
		struct msign_hash_job *j = &jobs[k];
		j->npieces = 1;
		j->pieces[0] = (struct msign_piece){ .data = buf,
						     .len = len - (size_t)k * 777 };
		j->limit = j->pieces[0].len;
		j->page_log2 = k == 3 ? 14 : 12;
		j->hash_type = types[k];
		j->npages = (uint32_t)((j->limit + (1u << j->page_log2) - 1) >> j->page_log2);
		out1[k] = calloc(j->npages, 48);
		out2[k] = calloc(j->npages, 48);
		j->out = out1[k];
	}
	assert_int_equal(msign_hash_run(jobs, 4, 1, NULL), 0);
	for (int k = 0; k < 4; k++)
		jobs[k].out = out2[k];
	assert_int_equal(msign_hash_run(jobs, 4, 8, NULL), 0);
	for (int k = 0; k < 4; k++) {
		assert_memory_equal(out1[k], out2[k],
				    jobs[k].npages * msign_hashtype_size(types[k]));
		free(out1[k]);
		free(out2[k]);
	}
	free(buf);
}

/* Pieces read from a file (pread into the threads' buffers) hash like the
 * same bytes in memory: mixed with memory and zero pieces, at a file
 * offset, with pages smaller and larger than a read, on 1 to 3 threads. A
 * file shorter than its pieces is an I/O error, not a crash. */
static void t_hashpool_file(void **st)
{
	(void)st;
	enum { SKIP = 123, LEN = (3 << 20) + 777 };
	uint8_t *buf = malloc(LEN);
	assert_non_null(buf);
	for (size_t i = 0; i < LEN; i++)
		buf[i] = (uint8_t)((i * 2654435761u) >> 13);
	memset(buf + 5000, 0, 3000); /* given as a zero piece below */
	char path[] = "/tmp/msign-hashpool-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	unlink(path);
	uint8_t junk[SKIP] = { 0 };
	assert_int_equal(write(fd, junk, SKIP), SKIP);
	assert_int_equal(write(fd, buf, LEN), LEN);
	static const uint32_t logs[] = { 12, 14, 20, 21, 0 };
	for (size_t l = 0; l < sizeof(logs) / sizeof(logs[0]); l++) {
		uint32_t lg = logs[l];
		uint64_t psize = lg ? (uint64_t)1 << lg : LEN;
		uint32_t npages = (uint32_t)((LEN + psize - 1) / psize);
		uint8_t *want = malloc((size_t)npages * 32);
		uint8_t *got = malloc((size_t)npages * 32);
		assert_non_null(want);
		assert_non_null(got);
		for (uint32_t p = 0; p < npages; p++) {
			uint64_t end = (p + 1) * psize < LEN ? (p + 1) * psize : LEN;
			SHA256(buf + p * psize, (size_t)(end - p * psize), want + 32 * p);
		}
		struct msign_hash_job j;
		memset(&j, 0, sizeof(j));
		j.npieces = 4;
		j.pieces[0] = (struct msign_piece){ .data = buf, .len = 5000,
						    .in_file = true, .fd = fd,
						    .file_off = SKIP };
		j.pieces[1] = (struct msign_piece){ .data = NULL, .len = 3000 };
		j.pieces[2] = (struct msign_piece){ .data = buf + 8000, .len = 100000 };
		j.pieces[3] = (struct msign_piece){ .data = buf + 108000,
						    .len = LEN - 108000,
						    .in_file = true, .fd = fd,
						    .file_off = SKIP + 108000 };
		j.limit = LEN;
		j.page_log2 = lg;
		j.hash_type = MSIGN_CS_HASHTYPE_SHA256;
		j.npages = npages;
		j.out = got;
		for (unsigned threads = 1; threads <= 3; threads++) {
			memset(got, 0, (size_t)npages * 32);
			assert_int_equal(msign_hash_run(&j, 1, threads, NULL), 0);
			assert_memory_equal(got, want, (size_t)npages * 32);
		}
		free(want);
		free(got);
	}
	/* the file is 100 bytes short of what the last piece claims */
	assert_int_equal(ftruncate(fd, SKIP + LEN - 100), 0);
	uint8_t out[32 * 1024];
	struct msign_hash_job j;
	memset(&j, 0, sizeof(j));
	j.npieces = 1;
	j.pieces[0] = (struct msign_piece){ .data = buf, .len = LEN, .in_file = true,
					    .fd = fd, .file_off = SKIP };
	j.limit = LEN;
	j.page_log2 = 12;
	j.hash_type = MSIGN_CS_HASHTYPE_SHA256;
	j.npages = (LEN + 4095) / 4096;
	j.out = out;
	struct msign_diag d;
	msign_diag_clear(&d);
	assert_int_equal(msign_hash_run(&j, 1, 2, &d), MSIGN_E_IO);
	assert_string_equal(d.msg, "reading the file to hash its pages: it is "
				   "shorter than when it was opened");
	/* a file piece without a descriptor is refused before any work */
	j.pieces[0].fd = -1;
	assert_int_equal(msign_hash_run(&j, 1, 2, NULL), MSIGN_E_ARG);
	close(fd);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_lld_round_trip),
		cmocka_unit_test(t_hashpool_file),
		cmocka_unit_test(t_universal_per_arch),
		cmocka_unit_test(t_codesign_layout),
		cmocka_unit_test(t_force_and_idempotence),
		cmocka_unit_test(t_old_platform),
		cmocka_unit_test(t_runtime_and_flags),
		cmocka_unit_test(t_refusals),
		cmocka_unit_test(t_fat_file_offsets),
		cmocka_unit_test(t_hashpool_pieces),
		cmocka_unit_test(t_hashpool_threads),
	};
	return cmocka_run_group_tests_name("sign", tests, NULL, NULL);
}
