/* Verification on in-memory images: the fixtures, every byte of a signed
 * range flipped, tampered blobs, CMS digests, strict layout. */
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

#include "write/write.h"
#include "write/strip.h"
#include "hash/hash.h"
#include "sign/sign.h"
#include "verify/verify.h"
#include "fixture.h"

static struct msign_verify_result vr;

/* MSIGN_VERIFY_* kind, or -1 when the container does not parse. */
static int kind_of(const uint8_t *buf, size_t len, bool strict, bool quick)
{
	struct msign_image *img = NULL;
	if (msign_image_parse(buf, len, &img, NULL) != 0)
		return -1;
	struct msign_verify_opts o = { .threads = 1, .strict = strict,
				       .quick = quick };
	int r = msign_verify_image(img, &o, &vr, NULL);
	msign_image_free(img);
	if (r == 0)
		return MSIGN_VERIFY_VALID;
	if (r != MSIGN_E_VERIFY)
		fail_msg("verify could not run: %d", r);
	assert_int_not_equal(vr.kind, MSIGN_VERIFY_VALID);
	return vr.kind;
}

static int kind_file(const char *name, bool strict)
{
	size_t len;
	uint8_t *buf = load(name, &len);
	int k = kind_of(buf, len, strict, false);
	free(buf);
	return k;
}

static void t_fixtures(void **st)
{
	(void)st;
	static const char *const good[] = {
		"hello_arm64", "hello_x86_64", "hello_arm64e",
		"libhello_arm64.dylib", "bundle_arm64.bundle", "infoplist_arm64",
		"universal", "cms_arm64", "cms_arm64_ber", "cms_sha256only_arm64",
		"adhoc_ent_arm64", "adhoc_infoplist_arm64",
	};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (kind_file(good[i], true) != MSIGN_VERIFY_VALID)
			fail_msg("%s: %s", good[i], vr.detail);
	static const struct {
		const char *name;
		int kind;
	} bad[] = {
		{ "bad_empty", -1 },
		{ "bad_trunc_header", -1 },
		{ "bad_ncmds", -1 },
		{ "bad_sizeofcmds", -1 },
		{ "bad_fat_count", -1 },
		{ "bad_fat_overlap", -1 },
		{ "bad_fat_outside", MSIGN_VERIFY_BAD_MACHO },
		{ "bad_sb_count", MSIGN_VERIFY_BAD_FORMAT },
		{ "bad_sb_magic", MSIGN_VERIFY_BAD_FORMAT },
		{ "bad_blob_offset", MSIGN_VERIFY_BAD_FORMAT },
		{ "bad_cd_hashoff", MSIGN_VERIFY_BAD_FORMAT },
		{ "bad_cd_identoff", MSIGN_VERIFY_BAD_FORMAT },
		{ "bad_cd_nslots", MSIGN_VERIFY_BAD_FORMAT },
		{ "bad_cd_version", MSIGN_VERIFY_BAD_VERSION },
		{ "bad_cms_garbage", MSIGN_VERIFY_BAD_FORMAT },
		{ "bad_lc_sig_outside", MSIGN_VERIFY_BAD_FORMAT },
		{ "bad_page_tampered", MSIGN_VERIFY_MODIFIED },
		{ "hello_arm64.unsigned", MSIGN_VERIFY_NOT_SIGNED },
		{ "universal.unsigned", MSIGN_VERIFY_NOT_SIGNED },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int k = kind_file(bad[i].name, false);
		if (k != bad[i].kind)
			fail_msg("%s: kind %d, want %d (%s)", bad[i].name, k,
				 bad[i].kind, vr.detail);
	}
	kind_file("bad_page_tampered", false);
	assert_non_null(strstr(vr.detail, "code page 0 of 5 (file bytes 0-4095)"));
	kind_file("universal.unsigned", false);
	assert_true(vr.universal);
	assert_int_equal(vr.slice, 0); /* x86_64 first in Format= order */
	assert_string_equal(msign_verify_message(MSIGN_VERIFY_MODIFIED),
			    "invalid signature (code or signature have been modified)");
}

/* Every byte of hello_arm64's signed range flipped in turn: verify never
 * passes, and a page mismatch names the page that holds the byte. Flips
 * in the load commands may also break the container instead. */
static void t_flip_every_byte(void **st)
{
	(void)st;
	size_t len;
	uint8_t *buf = load("hello_arm64", &len);
	const size_t limit = 16560, cmds_end = 32 + 768;
	char want[64];
	for (size_t off = 0; off < limit; off++) {
		buf[off] ^= 0x20;
		int k = kind_of(buf, len, false, false);
		buf[off] ^= 0x20;
		if (k == MSIGN_VERIFY_VALID)
			fail_msg("flip at %zu still verifies", off);
		if (k != MSIGN_VERIFY_MODIFIED) {
			if (off >= cmds_end)
				fail_msg("flip at %zu: kind %d (%s)", off, k, vr.detail);
			continue;
		}
		snprintf(want, sizeof(want), "code page %zu of 5 (file bytes %zu-",
			 off / 4096, off / 4096 * 4096);
		if (strstr(vr.detail, want) == NULL)
			fail_msg("flip at %zu: %s", off, vr.detail);
	}
	/* the stored hash of page 3 (CD at 16560+24, hashes at +104) */
	buf[16560 + 24 + 104 + 3 * 32 + 7] ^= 1;
	assert_int_equal(kind_of(buf, len, false, false), MSIGN_VERIFY_MODIFIED);
	assert_non_null(strstr(vr.detail, "code page 3 of 5"));
	free(buf);
}

/* Recompute special slot n's hash in a single-CD signature after its blob
 * was edited, so only the blob's content is wrong. */
static void reseal(uint8_t *buf, uint32_t sig_off, uint32_t n)
{
	const uint8_t *sb = buf + sig_off;
	uint32_t count = (uint32_t)sb[8] << 24 | sb[9] << 16 | sb[10] << 8 | sb[11];
	uint8_t *cd = NULL;
	const uint8_t *blob = NULL;
	for (uint32_t i = 0; i < count; i++) {
		const uint8_t *e = sb + 12 + 8 * i;
		uint32_t type = (uint32_t)e[0] << 24 | e[1] << 16 | e[2] << 8 | e[3];
		uint32_t off = (uint32_t)e[4] << 24 | e[5] << 16 | e[6] << 8 | e[7];
		if (type == 0)
			cd = buf + sig_off + off;
		if (type == n)
			blob = sb + off;
	}
	assert_non_null(cd);
	assert_non_null(blob);
	uint32_t blen = (uint32_t)blob[4] << 24 | blob[5] << 16 | blob[6] << 8 | blob[7];
	uint32_t hash_off = (uint32_t)cd[16] << 24 | cd[17] << 16 | cd[18] << 8 | cd[19];
	SHA256(blob, blen, cd + hash_off - 32 * n);
}

static uint8_t *find(uint8_t *buf, size_t len, uint32_t magic)
{
	uint8_t m[4] = { (uint8_t)(magic >> 24), (uint8_t)(magic >> 16),
			 (uint8_t)(magic >> 8), (uint8_t)magic };
	for (size_t i = 0; i + 4 <= len; i++)
		if (memcmp(buf + i, m, 4) == 0)
			return buf + i;
	return NULL;
}

/* Requirements, entitlements XML and DER, Info.plist: each named. */
static void t_special_slots(void **st)
{
	(void)st;
	size_t len;
	uint8_t *buf = load("adhoc_ent_arm64", &len);
	const uint32_t sig_off = 16560;
	static const struct {
		uint32_t magic, at, slot;
	} cases[] = {
		{ 0xfade0c01, 9, 2 },   /* requirement count */
		{ 0xfade7171, 60, 5 },  /* inside the XML */
		{ 0xfade7172, 20, 7 },  /* inside the DER */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t *b = find(buf + sig_off, len - sig_off, cases[i].magic);
		assert_non_null(b);
		b[cases[i].at] ^= 1;
		assert_int_equal(kind_of(buf, len, false, false),
				 MSIGN_VERIFY_MODIFIED);
		char want[32];
		snprintf(want, sizeof(want), "special slot -%u", cases[i].slot);
		if (strstr(vr.detail, want) == NULL)
			fail_msg("slot %u: %s", cases[i].slot, vr.detail);
		b[cases[i].at] ^= 1;
	}
	assert_int_equal(kind_of(buf, len, true, false), MSIGN_VERIFY_VALID);
	/* the DER says something else than the XML, both sealed */
	uint8_t *der = find(buf + sig_off, len - sig_off, 0xfade7172);
	uint8_t *t = find(der, 93, 0x0101ff00); /* first BOOLEAN true */
	if (t == NULL)
		t = find(der, 93, 0x0101ff30);
	assert_non_null(t);
	t[2] = 0;
	reseal(buf, sig_off, 7);
	assert_int_equal(kind_of(buf, len, false, false), MSIGN_VERIFY_ENT_BLOB);
	t[2] = 0xff;
	reseal(buf, sig_off, 7);
	/* XML that is no plist */
	uint8_t *xml = find(buf + sig_off, len - sig_off, 0xfade7171);
	xml[8] = 'X';
	reseal(buf, sig_off, 5);
	assert_int_equal(kind_of(buf, len, false, false), MSIGN_VERIFY_ENT_PLIST);
	free(buf);
	/* Info.plist: a changed byte of the bound section */
	buf = load("adhoc_infoplist_arm64", &len);
	struct msign_image *img = NULL;
	assert_int_equal(msign_image_parse(buf, len, &img, NULL), 0);
	size_t at = (size_t)img->slices[0].info_plist_off + 100;
	msign_image_free(img);
	buf[at] ^= 1;
	assert_int_equal(kind_of(buf, len, false, false), MSIGN_VERIFY_INFO_PLIST);
	assert_non_null(strstr(vr.detail, "special slot -1 (Info.plist)"));
	free(buf);
}

/* CMS: the messageDigest covers the slot-0 CD, the cdhashes every CD. */
static void t_cms(void **st)
{
	(void)st;
	size_t len;
	uint8_t *buf = load("cms_arm64", &len);
	assert_int_equal(kind_of(buf, len, true, false), MSIGN_VERIFY_VALID);
	assert_true(vr.cms);
	assert_true(vr.explicit_dr);
	assert_int_equal(vr.cds_checked, 2);
	/* a byte of each CodeDirectory's identifier */
	struct msign_image *img = NULL;
	static struct msign_sig sig;
	assert_int_equal(msign_image_parse(buf, len, &img, NULL), 0);
	assert_int_equal(msign_sig_parse(&img->slices[0], &sig, NULL), 0);
	assert_int_equal(sig.ncds, 2);
	size_t at[2];
	for (int k = 0; k < 2; k++)
		at[k] = (size_t)(sig.cds[k].blob - buf) + sig.cds[k].ident_off + 1;
	msign_image_free(img);
	buf[at[0]] ^= 1; /* the SHA-1 CD in slot 0: signed by the CMS */
	assert_int_equal(kind_of(buf, len, false, false), MSIGN_VERIFY_MODIFIED);
	assert_non_null(strstr(vr.detail, "CMS messageDigest does not match the sha1 CodeDirectory"));
	buf[at[0]] ^= 1;
	buf[at[1]] ^= 1; /* the alternate: only in the cdhashes attribute */
	assert_int_equal(kind_of(buf, len, false, false), MSIGN_VERIFY_MODIFIED);
	assert_non_null(strstr(vr.detail, "sha256 CodeDirectory (slot 0x1000)'s CDHash"));
	free(buf);
}

/* An image opened from a file: the CDHashes are of the CodeDirectories as
 * they were read at open (the ones whose slots are compared), not of what
 * the file holds by the time the pages are hashed. */
static int kind_path_changed(const char *path, size_t at, uint8_t was,
			     uint8_t now)
{
	struct msign_image *img = NULL;
	FILE *fp = fopen(path, "r+b");
	assert_non_null(fp);
	assert_int_equal(fseek(fp, (long)at, SEEK_SET), 0);
	assert_int_equal(fputc(was, fp), was);
	assert_int_equal(fflush(fp), 0);
	assert_int_equal(msign_image_open(path, &img, NULL), 0);
	assert_int_equal(fseek(fp, (long)at, SEEK_SET), 0);
	assert_int_equal(fputc(now, fp), now); /* behind the open image */
	assert_int_equal(fclose(fp), 0);
	struct msign_verify_opts o = { .threads = 1 };
	int r = msign_verify_image(img, &o, &vr, NULL);
	msign_image_free(img);
	return r == 0 ? MSIGN_VERIFY_VALID : r == MSIGN_E_VERIFY ? vr.kind : -1;
}

static void t_cdhash_of_snapshot(void **st)
{
	(void)st;
	size_t len;
	uint8_t *buf = load("cms_arm64", &len);
	struct msign_image *img = NULL;
	static struct msign_sig sig;
	assert_int_equal(msign_image_parse(buf, len, &img, NULL), 0);
	assert_int_equal(msign_sig_parse(&img->slices[0], &sig, NULL), 0);
	size_t at = (size_t)(sig.cds[1].blob - buf) + sig.cds[1].ident_off + 1;
	msign_image_free(img);
	char path[] = "/tmp/msign-test-verify.XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, buf, len), (ssize_t)len);
	close(fd);
	uint8_t good = buf[at], bad = (uint8_t)(good ^ 1);
	/* damaged when opened, repaired behind the image: still damaged */
	assert_int_equal(kind_path_changed(path, at, bad, good), MSIGN_VERIFY_MODIFIED);
	assert_non_null(strstr(vr.detail, "sha256 CodeDirectory (slot 0x1000)'s CDHash"));
	/* intact when opened, damaged behind it: what was read verifies */
	assert_int_equal(kind_path_changed(path, at, good, bad), MSIGN_VERIFY_VALID);
	unlink(path);
	free(buf);
}

static void t_strict_quick_arch(void **st)
{
	(void)st;
	size_t len;
	uint8_t *buf = load("hello_arm64", &len);
	uint8_t *longer = calloc(1, len + 16);
	memcpy(longer, buf, len);
	assert_int_equal(kind_of(longer, len + 16, false, false), MSIGN_VERIFY_VALID);
	assert_int_equal(kind_of(longer, len + 16, true, false), MSIGN_VERIFY_STRICT);
	free(longer);
	/* quick: the header page and the last page only */
	buf[2 * 4096 + 5] ^= 1;
	assert_int_equal(kind_of(buf, len, false, true), MSIGN_VERIFY_VALID);
	assert_int_equal(vr.pages_checked, 2);
	assert_int_equal(kind_of(buf, len, false, false), MSIGN_VERIFY_MODIFIED);
	buf[2 * 4096 + 5] ^= 1;
	buf[16500] ^= 1; /* the last page */
	assert_int_equal(kind_of(buf, len, false, true), MSIGN_VERIFY_MODIFIED);
	free(buf);
	/* one slice of a universal file; an absent arch */
	buf = load("universal", &len);
	buf[4096 + 5000] ^= 1; /* x86_64 page 1 */
	struct msign_image *img = NULL;
	assert_int_equal(msign_image_parse(buf, len, &img, NULL), 0);
	struct msign_verify_opts o = { .arch = "arm64" };
	assert_int_equal(msign_verify_image(img, &o, &vr, NULL), 0);
	assert_int_equal(vr.slices_checked, 1);
	o.arch = "x86_64";
	assert_int_equal(msign_verify_image(img, &o, &vr, NULL), MSIGN_E_VERIFY);
	assert_non_null(strstr(vr.detail, "slice x86_64 at offset 4096: sha256 CodeDirectory: code page 1 of 3 (file bytes 8192-12287)"));
	o.arch = "ppc";
	assert_int_equal(msign_verify_image(img, &o, &vr, NULL), MSIGN_E_NOT_FOUND);
	msign_image_free(img);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_fixtures),
		cmocka_unit_test(t_flip_every_byte),
		cmocka_unit_test(t_special_slots),
		cmocka_unit_test(t_cms),
		cmocka_unit_test(t_cdhash_of_snapshot),
		cmocka_unit_test(t_strict_quick_arch),
	};
	return cmocka_run_group_tests_name("verify", tests, NULL, NULL);
}
