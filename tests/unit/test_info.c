/* The signing-information model through its public API (msign/info.h):
 * handles, absent parts, names, and concurrent readers of one handle
 * (the lazily computed digests are taken under the handle's lock). */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "msign/msign.h"

static msign_info *open_fixture(const char *name)
{
	char path[512];
	const char *dir = getenv("MSIGN_FIXTURES");
	snprintf(path, sizeof(path), "%s/%s", dir ? dir : "fixtures", name);
	msign_info *info = NULL;
	struct msign_diag d;
	msign_diag_clear(&d);
	int r = msign_info_open(path, &info, &d);
	if (r != 0)
		fail_msg("%s: %s", path, d.msg);
	return info;
}

static void test_open_errors(void **state)
{
	(void)state;
	msign_info *info = (msign_info *)1;
	struct msign_diag d;
	msign_diag_clear(&d);
	assert_int_equal(msign_info_open("/nonexistent/x", &info, &d), MSIGN_E_IO);
	assert_null(info);
	assert_string_equal(d.msg, strerror(ENOENT)); /* the system's reason */
	msign_diag_clear(&d);
	assert_int_equal(msign_info_open(NULL, &info, &d), MSIGN_E_ARG);
	char tmpl[] = "/tmp/msign-info-XXXXXX";
	int fd = mkstemp(tmpl);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "#!/bin/sh\n", 10), 10);
	msign_diag_clear(&d);
	int r = msign_info_open(tmpl, &info, &d);
	assert_true(r < 0);
	assert_int_not_equal(r, MSIGN_E_IO);
	assert_int_not_equal(d.msg[0], '\0');
	msign_diag_clear(&d);
	assert_int_equal(msign_info_open_fd(-1, &info, &d), MSIGN_E_ARG);
	close(fd);
	unlink(tmpl);
	msign_info_free(NULL); /* allowed, as free(NULL) */
}

static void test_unsigned(void **state)
{
	(void)state;
	msign_info *info = open_fixture("hello_arm64.unsigned");
	assert_false(msign_info_is_universal(info));
	assert_int_equal(msign_info_slice_count(info), 1);
	assert_null(msign_info_slice_at(info, 1));
	const msign_info_slice *s = msign_info_slice_at(info, 0);
	const struct msign_diag *d = NULL;
	assert_int_equal(msign_slice_macho_status(s, &d), 0);
	assert_int_equal(d->code, 0);
	assert_int_equal(msign_slice_sig_status(s, NULL), MSIGN_E_NOT_SIGNED);
	/* Every signature accessor answers "none". */
	assert_int_equal(msign_slice_cd_count(s), 0);
	assert_null(msign_slice_chosen_cd(s));
	assert_null(msign_slice_cd(s, 0));
	uint8_t dg[32];
	assert_false(msign_slice_cms_digest(s, dg));
	assert_int_equal(msign_slice_sig_kind(s), MSIGN_SIG_NONE);
	assert_null(msign_slice_designated_requirement(s, NULL));
	assert_null(msign_slice_entitlements_xml(s, NULL));
	assert_int_equal(msign_slice_entitlement_count(s), 0);
	assert_int_equal(msign_slice_entitlement_type(s, "x"), MSIGN_ENT_ABSENT);
	assert_false(msign_slice_blob(s, 0, NULL, NULL, NULL, NULL));
	assert_string_equal(msign_info_format(info), "Mach-O thin (arm64)");
	assert_int_equal(msign_info_find_arch(info, "arm64"), 0);
	assert_int_equal(msign_info_find_arch(info, "x86_64"), -1);
	assert_int_equal(msign_info_find_arch(info, NULL), -1);
	msign_info_free(info);
}

static void test_entitlement_values(void **state)
{
	(void)state;
	msign_info *info = open_fixture("cms_arm64");
	const msign_info_slice *s = msign_info_slice_at(info, 0);
	assert_true(msign_slice_entitlement_bool(s, "com.apple.security.app-sandbox"));
	assert_false(msign_slice_entitlement_bool(s, "com.apple.security.get-task-allow"));
	/* A string is not a boolean, nor a boolean a string. */
	assert_false(msign_slice_entitlement_bool(s, "com.apple.developer.team-identifier"));
	assert_null(msign_slice_entitlement_string(s, "com.apple.security.app-sandbox"));
	assert_string_equal(msign_slice_entitlement_string(s, "com.apple.developer.team-identifier"),
			    "MSIGNTEAM1");
	assert_null(msign_slice_entitlement_key(s, msign_slice_entitlement_count(s)));
	assert_int_equal(msign_slice_sig_kind(s), MSIGN_SIG_CMS);
	assert_true(msign_slice_cms_present(s));
	const msign_info_cert *leaf = msign_slice_cert(s, 0);
	assert_non_null(leaf);
	assert_string_equal(msign_cert_org_unit(leaf), "MSIGNTEAM1");
	assert_int_equal(msign_cert_roles(leaf) & MSIGN_CERT_SELF_SIGNED, 0);
	const msign_info_cert *root = msign_slice_cert(s, msign_slice_cert_count(s) - 1);
	assert_int_equal(msign_cert_roles(root) & MSIGN_CERT_SELF_SIGNED, MSIGN_CERT_SELF_SIGNED);
	assert_int_equal(msign_cert_roles(root) & MSIGN_CERT_APPLE_ROOT, 0);
	bool implicit = true;
	assert_non_null(msign_slice_designated_requirement(s, &implicit));
	assert_false(implicit);
	msign_info_free(info);
}

/* A NUL byte inside the entitlements XML (here in a string value): the
 * library must not reach libplist's assertion on such strings, and lists
 * no keys rather than keys cut short at the NUL. */
static void test_entitlements_nul(void **state)
{
	(void)state;
	char path[512];
	const char *dir = getenv("MSIGN_FIXTURES");
	snprintf(path, sizeof(path), "%s/cms_arm64", dir ? dir : "fixtures");
	FILE *in = fopen(path, "rb");
	assert_non_null(in);
	static uint8_t buf[1 << 16];
	size_t n = fread(buf, 1, sizeof(buf), in);
	fclose(in);
	/* the XML blob's first <string>: put a NUL right after it */
	const char *tag = "<string>";
	uint8_t *at = memmem(buf, n, tag, strlen(tag));
	assert_non_null(at);
	at[strlen(tag) + 3] = 0;
	char tmpl[] = "/tmp/msign-info-nul-XXXXXX";
	int fd = mkstemp(tmpl);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, buf, n), (ssize_t)n);
	close(fd);
	msign_info *info = NULL;
	assert_int_equal(msign_info_open(tmpl, &info, NULL), 0);
	const msign_info_slice *s = msign_info_slice_at(info, 0);
	size_t len;
	const char *xml = msign_slice_entitlements_xml(s, &len);
	assert_non_null(xml);
	assert_true(strlen(xml) < len); /* the NUL is in the text */
	assert_int_equal(msign_slice_entitlement_count(s), 0);
	assert_int_equal(msign_slice_entitlement_type(s, "com.apple.security.app-sandbox"),
			 MSIGN_ENT_ABSENT);
	msign_info_free(info);
	unlink(tmpl);
}

/* A copy of a fixture with n bytes at off replaced; the path is static. */
static const char *mutated(const char *fixture, size_t off, const void *bytes,
			   size_t n)
{
	static char out[64];
	char path[512];
	const char *dir = getenv("MSIGN_FIXTURES");
	snprintf(path, sizeof(path), "%s/%s", dir ? dir : "fixtures", fixture);
	FILE *in = fopen(path, "rb");
	assert_non_null(in);
	static uint8_t buf[1 << 17];
	size_t len = fread(buf, 1, sizeof(buf), in);
	fclose(in);
	assert_true(off + n <= len);
	memcpy(buf + off, bytes, n);
	snprintf(out, sizeof(out), "/tmp/msign-info-mut-%d", (int)getpid());
	FILE *o = fopen(out, "wb");
	assert_non_null(o);
	assert_int_equal(fwrite(buf, 1, len, o), len);
	fclose(o);
	return out;
}

/* Parts whose damage must not be papered over (review findings). */
static void test_damage(void **state)
{
	(void)state;
	static const uint8_t plugin[4] = { 0, 0, 0, 5 }, far[4] = { 0, 0, 0xff, 0xf0 },
		alt[4] = { 0, 0, 0x10, 0 }, magic[4] = { 0xfa, 0xde, 0x71, 0x70 },
		sub9[4] = { 9, 0, 0, 0 };
	msign_info *info = NULL;
	bool implicit = true;
	/* A CMS that does not parse and no explicit DR (the set's entry made
	 * a plugin requirement, at SuperBlob 16560 + set 428 + 12): no DR,
	 * not the ad-hoc cdhash form. */
	assert_int_equal(msign_info_open(mutated("bad_cms_garbage", 17000, plugin, 4),
					 &info, NULL), 0);
	const msign_info_slice *s = msign_info_slice_at(info, 0);
	assert_int_not_equal(msign_slice_cms_status(s, NULL), 0);
	assert_null(msign_slice_designated_requirement(s, &implicit));
	assert_false(implicit);
	msign_info_free(info);
	/* A requirement set whose entry points outside it: its status says
	 * so, and no DR is derived in its place. */
	assert_int_equal(msign_info_open(mutated("cms_arm64", 17004, far, 4), &info, NULL), 0);
	s = msign_info_slice_at(info, 0);
	assert_int_not_equal(msign_slice_requirements_status(s, NULL), 0);
	assert_null(msign_slice_designated_requirement(s, NULL));
	msign_info_free(info);
	/* No CodeDirectory in slot 0 (entry 0 retyped 0x1000): not signed,
	 * with the reason kept. */
	assert_int_equal(msign_info_open(mutated("hello_arm64", 16572, alt, 4), &info, NULL), 0);
	const struct msign_diag *d = NULL;
	assert_int_equal(msign_slice_sig_status(msign_info_slice_at(info, 0), &d),
			 MSIGN_E_NOT_SIGNED);
	assert_int_not_equal(d->msg[0], '\0');
	msign_info_free(info);
	/* A blob with the wrong magic: its status names its offset in the
	 * file (the entitlements blob of mixed_universal's second slice). */
	assert_int_equal(msign_info_open(mutated("hostile/mixed_universal", 33488, magic, 4),
					 &info, NULL), 0);
	bool seen = false;
	for (uint32_t i = 0; i < msign_info_slice_count(info); i++) {
		if (msign_slice_blob_status(msign_info_slice_at(info, i), &d) == 0)
			continue;
		assert_int_equal(d->code, MSIGN_E_BAD_MAGIC);
		assert_int_equal(d->file_off, 33488);
		seen = true;
	}
	assert_true(seen);
	msign_info_free(info);
	/* An arch without a name is found by the label show prints. */
	assert_int_equal(msign_info_open(mutated("hello_arm64", 8, sub9, 4), &info, NULL), 0);
	assert_string_equal(msign_slice_arch(msign_info_slice_at(info, 0)), "(16777228:9)");
	assert_int_equal(msign_info_find_arch(info, "(16777228:9)"), 0);
	assert_int_equal(msign_info_find_arch(info, "(16777228:09)"), -1);
	assert_int_equal(msign_info_find_arch(info, "(16777228:9) "), -1);
	msign_info_free(info);
	char tmp[64];
	snprintf(tmp, sizeof(tmp), "/tmp/msign-info-mut-%d", (int)getpid());
	unlink(tmp);
}

/* pages_mismatched takes only one file's own slice and CD handles. */
static void test_foreign_handles(void **state)
{
	(void)state;
	msign_info *a = open_fixture("universal"), *b = open_fixture("hello_arm64");
	const msign_info_slice *sa = msign_info_slice_at(a, 0), *sa1 = msign_info_slice_at(a, 1);
	const msign_info_slice *sb = msign_info_slice_at(b, 0);
	uint32_t bad = 99;
	assert_int_equal(msign_info_cd_pages_mismatched(a, sa, msign_slice_cd(sa, 0), &bad, NULL), 0);
	assert_int_equal(bad, 0);
	assert_int_equal(msign_info_cd_pages_mismatched(a, sb, msign_slice_cd(sb, 0), &bad, NULL),
			 MSIGN_E_ARG);
	assert_int_equal(msign_info_cd_pages_mismatched(a, sa, msign_slice_cd(sa1, 0), &bad, NULL),
			 MSIGN_E_ARG);
	assert_int_equal(msign_info_cd_pages_mismatched(b, sb, msign_slice_cd(sa, 0), &bad, NULL),
			 MSIGN_E_ARG);
	msign_info_free(a);
	msign_info_free(b);
}

static void test_names(void **state)
{
	(void)state;
	char buf[64];
	assert_int_equal(msign_cd_flags_text(0, buf, sizeof(buf)), 4);
	assert_string_equal(buf, "none");
	msign_cd_flags_text(MSIGN_CS_ADHOC | MSIGN_CS_RUNTIME, buf, sizeof(buf));
	assert_string_equal(buf, "adhoc,runtime");
	msign_cd_flags_text(MSIGN_CS_ADHOC | 0x80000000u, buf, sizeof(buf));
	assert_string_equal(buf, "adhoc,???");
	/* snprintf's rules: truncated, NUL-terminated, the length wanted. */
	assert_int_equal(msign_cd_flags_text(MSIGN_CS_ADHOC | MSIGN_CS_LINKER_SIGNED,
					     buf, 6), strlen("adhoc,linker-signed"));
	assert_string_equal(buf, "adhoc");
	assert_string_equal(msign_hash_type_name(MSIGN_CS_HASHTYPE_SHA256), "sha256");
	assert_null(msign_hash_type_name(99));
	assert_string_equal(msign_requirement_type_name(3), "designated");
	assert_null(msign_requirement_type_name(99));
}

/* Readers on threads: each takes the lazy digests of every slice; all
 * must see the same bytes as one reader alone. */
struct reader {
	const msign_info *info;
	char out[4096];
};

static void *read_all(void *arg)
{
	struct reader *r = arg;
	size_t used = 0;
	for (uint32_t i = 0; i < msign_info_slice_count(r->info); i++) {
		const msign_info_slice *s = msign_info_slice_at(r->info, i);
		uint8_t dg[32];
		const char *dr = msign_slice_designated_requirement(s, NULL);
		used += (size_t)snprintf(r->out + used, sizeof(r->out) - used,
					 "%s|", dr ? dr : "-");
		if (msign_slice_cms_digest(s, dg))
			for (int k = 0; k < 32; k++)
				used += (size_t)snprintf(r->out + used, sizeof(r->out) - used,
							 "%02x", dg[k]);
		for (uint32_t c = 0; c < msign_slice_cd_count(s); c++) {
			size_t len;
			const uint8_t *h = msign_cd_cdhash(msign_slice_cd(s, c), &len);
			for (size_t k = 0; h != NULL && k < len; k++)
				used += (size_t)snprintf(r->out + used, sizeof(r->out) - used,
							 "%02x", h[k]);
		}
	}
	return NULL;
}

static void test_threads(void **state)
{
	(void)state;
	static struct reader one, many[4];
	const char *names[] = { "universal", "cms_arm64" };
	for (int n = 0; n < 2; n++) {
		msign_info *solo = open_fixture(names[n]);
		one.info = solo;
		read_all(&one);
		msign_info *info = open_fixture(names[n]);
		pthread_t t[4];
		for (int i = 0; i < 4; i++) {
			many[i].info = info;
			assert_int_equal(pthread_create(&t[i], NULL, read_all, &many[i]), 0);
		}
		for (int i = 0; i < 4; i++) {
			pthread_join(t[i], NULL);
			assert_string_equal(many[i].out, one.out);
		}
		assert_true(strlen(one.out) > 100);
		msign_info_free(info);
		msign_info_free(solo);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open_errors),
		cmocka_unit_test(test_unsigned),
		cmocka_unit_test(test_entitlement_values),
		cmocka_unit_test(test_entitlements_nul),
		cmocka_unit_test(test_damage),
		cmocka_unit_test(test_foreign_handles),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_threads),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
