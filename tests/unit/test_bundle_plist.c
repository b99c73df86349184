/* Info.plist-only bundles (spec bundles.md 1 "Where the signature lives",
 * 3, 6): the signature written as files of _CodeSignature, read back, and
 * verified; hostile component files (truncated, flipped, fields set to
 * edge values, symlinks, duplicate hash types, bad counts) give an error
 * or a failed verdict, never a crash.
 *
 * Expected bytes are written out from the CodeDirectory layout
 * (codesign-display.md section 5), digests computed here with OpenSSL's
 * one-shot SHA1/SHA256 from the bytes the test wrote. */
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/sha.h>

#include "bundle/bundle_int.h"
#include "sign/sign.h"

static char g_base[256];

static const char *P(const char *rel)
{
	static char buf[4][1024];
	static int k;
	k = (k + 1) % 4;
	snprintf(buf[k], sizeof(buf[k]), "%s/%s", g_base, rel);
	return buf[k];
}

static void wr(const char *rel, const void *data, size_t len)
{
	int fd = open(P(rel), O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		fail_msg("create %s: %s", rel, strerror(errno));
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
}

static uint8_t *rd(const char *rel, size_t *len)
{
	FILE *f = fopen(P(rel), "rb");
	if (f == NULL)
		return NULL;
	uint8_t *b = malloc(1 << 16);
	assert_non_null(b);
	*len = fread(b, 1, 1 << 16, f);
	fclose(f);
	return b;
}

static int setup(void **st)
{
	(void)st;
	snprintf(g_base, sizeof(g_base), "/tmp/msign-bp-XXXXXX");
	if (mkdtemp(g_base) == NULL)
		return -1;
	return mkdir(P("X.bundle"), 0755) || mkdir(P("X.bundle/Contents"), 0755);
}

static int teardown(void **st)
{
	(void)st;
	return mb_tree_remove(g_base); /* by descriptors, links never followed */
}

static const char INFO[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<plist version=\"1.0\">\n<dict>\n"
	"\t<key>CFBundleIdentifier</key>\n\t<string>org.test.p</string>\n</dict>\n</plist>\n";
static const uint8_t CR[] = "not a plist: only its hash matters here";
static const uint8_t EMPTY_REQS[12] = { 0xfa, 0xde, 0x0c, 0x01, 0, 0, 0, 12, 0, 0, 0, 0 };

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* The bundle signed ad hoc (o's digests), open in *b. */
static void sign_it(struct mb_bundle *b, uint32_t hash_types)
{
	wr("X.bundle/Contents/Info.plist", INFO, strlen(INFO));
	struct msign_diag d = { 0 };
	assert_int_equal(mb_bundle_open(P("X.bundle"), NULL, b, &d), 0);
	assert_null(b->exec_rel);
	struct msign_sign_opts o = { .hash_types = hash_types };
	assert_int_equal(mb_detached_sign(b, &o, "org.test.p", CR, sizeof(CR), &d), 0);
}

static int verify(const struct mb_bundle *b, int *kind)
{
	struct msign_verify_opts o = { .bundle = true, .designated = true };
	struct msign_verify_result res;
	uint32_t mask;
	struct msign_diag d = { 0 };
	int r = mb_detached_verify(b, &o, CR, sizeof(CR), &res, &mask, &d);
	*kind = res.kind;
	return r;
}

/* One CodeDirectory file, byte for byte. */
static void check_cd(const char *rel, uint8_t type, size_t hs)
{
	size_t len;
	uint8_t *cd = rd(rel, &len);
	assert_non_null(cd);
	uint8_t hi[32], hr[32], hc[32];
	if (type == 1) {
		SHA1((const uint8_t *)INFO, strlen(INFO), hi);
		SHA1(EMPTY_REQS, sizeof(EMPTY_REQS), hr);
		SHA1(CR, sizeof(CR), hc);
	} else {
		SHA256((const uint8_t *)INFO, strlen(INFO), hi);
		SHA256(EMPTY_REQS, sizeof(EMPTY_REQS), hr);
		SHA256(CR, sizeof(CR), hc);
	}
	size_t hash_off = 48 + sizeof("org.test.p") + 3 * hs;
	assert_int_equal(len, hash_off + hs);
	assert_int_equal(be32(cd), 0xfade0c02u);
	assert_int_equal(be32(cd + 4), len);
	assert_int_equal(be32(cd + 8), 0x20100u);  /* scatter: no team, no exec segment */
	assert_int_equal(be32(cd + 12), 2u);       /* adhoc */
	assert_int_equal(be32(cd + 16), hash_off);
	assert_int_equal(be32(cd + 20), 48u);
	assert_int_equal(be32(cd + 24), 3u);       /* slots -1 .. -3 */
	assert_int_equal(be32(cd + 28), 1u);       /* one code slot */
	assert_int_equal(be32(cd + 32), strlen(INFO));
	assert_int_equal(cd[36], hs);
	assert_int_equal(cd[37], type);
	assert_int_equal(cd[38], 0);
	assert_int_equal(cd[39], 0);              /* pageSize 0: the whole file */
	assert_int_equal(be32(cd + 40), 0);
	assert_int_equal(be32(cd + 44), 0);
	assert_string_equal((const char *)cd + 48, "org.test.p");
	assert_memory_equal(cd + hash_off - 3 * hs, hc, hs);
	assert_memory_equal(cd + hash_off - 2 * hs, hr, hs);
	assert_memory_equal(cd + hash_off - 1 * hs, hi, hs);
	assert_memory_equal(cd + hash_off, hi, hs);
	free(cd);
}

static void test_sign_files(void **st)
{
	(void)st;
	mkdir(P("X.bundle/Contents/_CodeSignature"), 0755);
	wr("X.bundle/Contents/_CodeSignature/CodeEntitlements", "old", 3);
	struct mb_bundle b;
	sign_it(&b, 0);
	check_cd("X.bundle/Contents/_CodeSignature/CodeDirectory", 1, 20);
	check_cd("X.bundle/Contents/_CodeSignature/CodeRequirements-1", 2, 32);
	size_t len;
	uint8_t *f = rd("X.bundle/Contents/_CodeSignature/CodeRequirements", &len);
	assert_int_equal(len, sizeof(EMPTY_REQS));
	assert_memory_equal(f, EMPTY_REQS, len);
	free(f);
	f = rd("X.bundle/Contents/_CodeSignature/CodeResources", &len);
	assert_int_equal(len, sizeof(CR));
	assert_memory_equal(f, CR, len);
	free(f);
	f = rd("X.bundle/Contents/_CodeSignature/CodeSignature", &len);
	assert_int_equal(len, 0);
	free(f);
	/* spec 6: the old signature's other files are gone */
	assert_null(rd("X.bundle/Contents/_CodeSignature/CodeEntitlements", &len));
	int kind;
	assert_int_equal(verify(&b, &kind), 0);
	assert_int_equal(kind, MSIGN_VERIFY_VALID);

	struct mb_detached x;
	struct msign_diag d = { 0 };
	assert_int_equal(mb_detached_read(b.root_fd, &x, &d), 0);
	assert_int_equal(x.sig.ncds, 2);
	assert_int_equal(x.sig.cds[0].hash_type, 1);
	assert_int_equal(x.sig.cds[1].hash_type, 2);
	assert_int_equal(x.sig.best, 1);
	char *dr = NULL;
	bool implicit;
	assert_int_equal(mb_detached_designated(&x, &dr, &implicit, &d), 0);
	assert_true(implicit);
	/* cdhash H"<SHA-1 of CD>" or cdhash H"<SHA-256 of CD, 20 bytes>" */
	uint8_t h1[20], h2[32];
	SHA1(x.file[MB_DF_CD], x.len[MB_DF_CD], h1);
	SHA256(x.file[MB_DF_ALT], x.len[MB_DF_ALT], h2);
	char want[200], *w = want;
	w += sprintf(w, "cdhash H\"");
	for (int i = 0; i < 20; i++)
		w += sprintf(w, "%02x", h1[i]);
	w += sprintf(w, "\" or cdhash H\"");
	for (int i = 0; i < 20; i++)
		w += sprintf(w, "%02x", h2[i]);
	sprintf(w, "\"");
	assert_string_equal(dr, want);
	free(dr);
	mb_detached_free(&x);

	/* --digest sha256: one CodeDirectory, CodeRequirements-1 deleted */
	mb_bundle_close(&b);
	sign_it(&b, 1u << 2);
	check_cd("X.bundle/Contents/_CodeSignature/CodeDirectory", 2, 32);
	assert_null(rd("X.bundle/Contents/_CodeSignature/CodeRequirements-1", &len));
	assert_int_equal(verify(&b, &kind), 0);
	mb_bundle_close(&b);
}

/* What tampering with each file gives (spec 4 step 1). */
static void test_tamper(void **st)
{
	(void)st;
	struct mb_bundle b;
	sign_it(&b, 0);
	int kind;
	size_t len;
	uint8_t *cd = rd("X.bundle/Contents/_CodeSignature/CodeDirectory", &len);
	/* the code slot (the last hash) */
	cd[len - 1] ^= 1;
	wr("X.bundle/Contents/_CodeSignature/CodeDirectory", cd, len);
	assert_int_equal(verify(&b, &kind), MSIGN_E_VERIFY);
	assert_int_equal(kind, MSIGN_VERIFY_MODIFIED);
	cd[len - 1] ^= 1;
	wr("X.bundle/Contents/_CodeSignature/CodeDirectory", cd, len);
	assert_int_equal(verify(&b, &kind), 0);
	/* a byte more than the blob */
	cd[len] = 0;
	wr("X.bundle/Contents/_CodeSignature/CodeDirectory", cd, len + 1);
	assert_int_equal(verify(&b, &kind), MSIGN_E_VERIFY);
	assert_int_equal(kind, MSIGN_VERIFY_BAD_FORMAT);
	wr("X.bundle/Contents/_CodeSignature/CodeDirectory", cd, len);
	/* the same CodeDirectory twice: one hash type, two slots */
	wr("X.bundle/Contents/_CodeSignature/CodeRequirements-2", cd, len);
	struct mb_detached x;
	struct msign_diag d = { 0 };
	assert_int_equal(mb_detached_read(b.root_fd, &x, &d), MSIGN_E_INVALID);
	mb_detached_free(&x);
	assert_int_equal(unlink(P("X.bundle/Contents/_CodeSignature/CodeRequirements-2")), 0);
	/* a requirement set claiming more entries than it holds */
	uint8_t reqs[12];
	memcpy(reqs, EMPTY_REQS, sizeof(reqs));
	put32(reqs + 8, 0xffffffffu);
	wr("X.bundle/Contents/_CodeSignature/CodeRequirements", reqs, sizeof(reqs));
	memset(&d, 0, sizeof(d));
	assert_int_equal(mb_detached_read(b.root_fd, &x, &d), MSIGN_E_BAD_RANGE);
	mb_detached_free(&x);
	wr("X.bundle/Contents/_CodeSignature/CodeRequirements", EMPTY_REQS, sizeof(EMPTY_REQS));
	/* the Info.plist (slot -1 first), CodeResources (slot -3) */
	wr("X.bundle/Contents/Info.plist", INFO, strlen(INFO) - 1);
	free(b.info);
	b.info = (uint8_t *)strdup(INFO);
	b.info_len = strlen(INFO) - 1;
	assert_int_equal(verify(&b, &kind), MSIGN_E_VERIFY);
	assert_int_equal(kind, MSIGN_VERIFY_INFO_PLIST);
	b.info_len = strlen(INFO);
	struct msign_verify_opts o = { .bundle = true };
	struct msign_verify_result res;
	uint32_t mask;
	assert_int_equal(mb_detached_verify(&b, &o, NULL, 0, &res, &mask, &d),
			 MSIGN_E_VERIFY);
	assert_int_equal(res.kind, MSIGN_VERIFY_RESOURCE_DIR);
	assert_int_equal(mask, 1u << 1 | 1u << 2);
	/* an entitlements file no slot seals */
	static const uint8_t ent[8] = { 0xfa, 0xde, 0x71, 0x71, 0, 0, 0, 8 };
	wr("X.bundle/Contents/_CodeSignature/CodeEntitlements", ent, sizeof(ent));
	assert_int_equal(verify(&b, &kind), MSIGN_E_VERIFY);
	assert_int_equal(kind, MSIGN_VERIFY_MODIFIED);
	assert_int_equal(unlink(P("X.bundle/Contents/_CodeSignature/CodeEntitlements")), 0);
	/* a symlink is never followed: no CodeDirectory, not signed */
	assert_int_equal(rename(P("X.bundle/Contents/_CodeSignature/CodeDirectory"),
				P("X.bundle/cd")), 0);
	assert_int_equal(symlink("../../cd", P("X.bundle/Contents/_CodeSignature/CodeDirectory")), 0);
	assert_int_equal(verify(&b, &kind), MSIGN_E_VERIFY);
	assert_int_equal(kind, MSIGN_VERIFY_NOT_SIGNED);
	free(cd);
	mb_bundle_close(&b);
}

/* Every truncation and every single-bit flip of the CodeDirectory, and
 * its length, offset and count fields at the edge values: an error or a
 * verdict, never a crash (ASan and UBSan watch). */
static void test_hostile_cd(void **st)
{
	(void)st;
	struct mb_bundle b;
	sign_it(&b, 1u << 2);
	size_t len;
	uint8_t *cd = rd("X.bundle/Contents/_CodeSignature/CodeDirectory", &len);
	uint8_t *m = malloc(len);
	int kind;
	const char *f = "X.bundle/Contents/_CodeSignature/CodeDirectory";
	for (size_t n = 0; n < len; n++) {
		wr(f, cd, n);
		assert_int_equal(verify(&b, &kind), MSIGN_E_VERIFY);
		assert_true(kind == MSIGN_VERIFY_BAD_FORMAT || kind == MSIGN_VERIFY_BAD_VERSION);
	}
	unsigned valid = 0;
	for (size_t i = 0; i < len; i++) {
		memcpy(m, cd, len);
		m[i] ^= (uint8_t)(1u << (i % 8));
		wr(f, m, len);
		int r = verify(&b, &kind);
		assert_true(r == 0 || r == MSIGN_E_VERIFY);
		valid += r == 0;
	}
	/* only the identifier's bytes and unused fields change nothing a
	 * slot binds; a hash, a size or an offset always fails */
	assert_true(valid < len / 2);
	static const uint32_t edge[] = { 0, 1, 0x7fffffffu, 0x80000000u, 0xffffffffu };
	static const size_t fields[] = { 4, 16, 20, 24, 28, 32, 44 };
	for (size_t k = 0; k < sizeof(fields) / sizeof(fields[0]); k++)
		for (size_t e = 0; e < sizeof(edge) / sizeof(edge[0]) + 2; e++) {
			memcpy(m, cd, len);
			uint32_t v = e < 5 ? edge[e] : (uint32_t)(len + (e - 5));
			put32(m + fields[k], v);
			wr(f, m, len);
			int r = verify(&b, &kind);
			assert_true(r == 0 || r == MSIGN_E_VERIFY);
			/* only the original value verifies */
			if (r == 0 && v != be32(cd + fields[k]))
				fail_msg("field %zu = 0x%x verifies", fields[k], v);
		}
	free(m);
	free(cd);
	mb_bundle_close(&b);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_sign_files),
		T(test_tamper),
		T(test_hostile_cd),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
