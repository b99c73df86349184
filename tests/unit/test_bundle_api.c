/* msign/bundle.h through the public headers only: sign a small bundle,
 * read it back, verify it, tamper with it and read the report. */
#include <errno.h>
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

#include "msign/msign.h"
#include "fixture.h"

static char g_base[256];

static const char *at(const char *rel)
{
	static char p[4][1024];
	static int k;
	k = (k + 1) % 4;
	snprintf(p[k], sizeof(p[k]), "%s/%s", g_base, rel);
	return p[k];
}

static void put(const char *rel, const void *data, size_t len)
{
	FILE *f = fopen(at(rel), "wb");
	if (f == NULL)
		fail_msg("cannot write %s: %s", at(rel), strerror(errno));
	assert_int_equal(fwrite(data, 1, len, f), len);
	fclose(f);
}

static void puts_(const char *rel, const char *text)
{
	put(rel, text, strlen(text));
}

static const char plist[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<plist version=\"1.0\">\n<dict>\n"
	"\t<key>CFBundleExecutable</key>\n\t<string>x</string>\n"
	"\t<key>CFBundleIdentifier</key>\n\t<string>org.msign.api</string>\n"
	"</dict>\n</plist>\n";

static int setup(void **st)
{
	(void)st;
	snprintf(g_base, sizeof(g_base), "/tmp/msign-bapi-XXXXXX");
	if (mkdtemp(g_base) == NULL)
		return -1;
	const char *dirs[] = { "A.bundle", "A.bundle/Contents", "A.bundle/Contents/MacOS",
			       "A.bundle/Contents/Resources" };
	for (size_t i = 0; i < 4; i++)
		if (mkdir(at(dirs[i]), 0755) != 0)
			return -1;
	return 0;
}

static int teardown(void **st)
{
	(void)st;
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", g_base);
	return system(cmd) == 0 ? 0 : -1;
}

static void make_bundle(void)
{
	size_t n;
	uint8_t *exe = load("hello_arm64.unsigned", &n);
	put("A.bundle/Contents/MacOS/x", exe, n);
	free(exe);
	puts_("A.bundle/Contents/Info.plist", plist);
	puts_("A.bundle/Contents/Resources/a.txt", "a\n");
}

static void t_sign_read_verify(void **st)
{
	(void)st;
	make_bundle();
	const char *b = at("A.bundle");
	assert_true(msign_is_bundle(b));
	assert_false(msign_is_bundle(at("A.bundle/Contents/Info.plist")));
	struct msign_diag d;
	char *sub = NULL;
	assert_int_equal(msign_sign_bundle(b, NULL, 0, &sub, &d), 0);
	assert_null(sub);

	msign_bundle *mb = NULL;
	assert_int_equal(msign_bundle_open(b, &mb, &d), 0);
	assert_string_equal(msign_bundle_kind(mb), "bundle");
	assert_string_equal(msign_bundle_format(mb), "bundle with Mach-O thin (arm64)");
	assert_string_equal(msign_bundle_default_identifier(mb), "org.msign.api");
	uint32_t n = 0, rules = 0, files = 0;
	unsigned version = 0;
	assert_true(msign_bundle_info_plist_entries(mb, &n));
	assert_int_equal(n, 2);
	assert_true(msign_bundle_sealed_resources(mb, &version, &rules, &files));
	assert_int_equal(version, 2);
	assert_int_equal(rules, 13);
	assert_int_equal(files, 1); /* Resources/a.txt */
	assert_int_equal(msign_bundle_nested_count(mb), 0);
	const msign_info *info = msign_bundle_executable_info(mb, NULL);
	assert_non_null(info);
	const msign_info_cd *cd = msign_slice_chosen_cd(msign_info_slice_at(info, 0));
	assert_string_equal(msign_cd_identifier(cd), "org.msign.api");
	assert_non_null(msign_cd_slot_hash(cd, -1)); /* Info.plist bound */
	assert_non_null(msign_cd_slot_hash(cd, -3)); /* CodeResources bound */
	msign_bundle_free(mb);

	int kind = -1;
	msign_bundle_report *rep = NULL;
	assert_int_equal(msign_verify_bundle(b, NULL, &kind, &rep, &d), 0);
	assert_int_equal(kind, MSIGN_VERIFY_VALID);
	assert_string_equal(msign_bundle_report_error(rep), "");
	assert_int_equal(msign_bundle_report_problem_count(rep), 0);
	assert_int_equal(msign_bundle_report_checked(rep), 1);
	msign_bundle_report_free(rep);

	/* a file modified, one added, one missing: in that order */
	puts_("A.bundle/Contents/Resources/a.txt", "A\n");
	puts_("A.bundle/Contents/Resources/b.txt", "b\n");
	rep = NULL;
	assert_int_equal(msign_verify_bundle(b, NULL, &kind, &rep, &d), MSIGN_E_VERIFY);
	assert_int_equal(kind, MSIGN_VERIFY_RESOURCES);
	assert_string_equal(msign_bundle_report_error(rep), msign_verify_message(kind));
	assert_int_equal(msign_bundle_report_problem_count(rep), 2);
	const char *p = NULL;
	char want[1024];
	assert_int_equal(msign_bundle_report_problem(rep, 0, &p), MSIGN_FILE_ADDED);
	char *real = realpath(g_base, NULL); /* the report's paths are resolved */
	assert_non_null(real);
	snprintf(want, sizeof(want), "%s/A.bundle/Contents/Resources/b.txt", real);
	assert_string_equal(p, want);
	assert_int_equal(msign_bundle_report_problem(rep, 1, &p), MSIGN_FILE_MODIFIED);
	snprintf(want, sizeof(want), "%s/A.bundle/Contents/Resources/a.txt", real);
	assert_string_equal(p, want);
	assert_int_equal(msign_bundle_report_problem(rep, 2, &p), -1);
	assert_null(p);
	msign_bundle_report_free(rep);
	free(real);

	/* the Info.plist changed: slot -1 */
	puts_("A.bundle/Contents/Info.plist", "<plist/>\n");
	assert_int_equal(msign_verify_bundle(b, NULL, &kind, NULL, &d), MSIGN_E_VERIFY);
	assert_int_not_equal(kind, MSIGN_VERIFY_VALID);
}

/* Unsigned nested code: refused, named, the bundle left as it was. */
static void t_unsigned_nested(void **st)
{
	(void)st;
	make_bundle();
	assert_int_equal(mkdir(at("A.bundle/Contents/Frameworks"), 0755), 0);
	size_t n;
	uint8_t *lib = load("libhello_arm64.dylib.unsigned", &n);
	put("A.bundle/Contents/Frameworks/libz.dylib", lib, n);
	free(lib);
	struct msign_diag d;
	char *sub = NULL;
	assert_int_equal(msign_sign_bundle(at("A.bundle"), NULL, 0, &sub, &d),
			 MSIGN_E_NOT_SIGNED);
	assert_string_equal(d.msg, "code object is not signed at all");
	assert_non_null(sub);
	assert_non_null(strstr(sub, "/A.bundle/Contents/Frameworks/libz.dylib"));
	free(sub);
	struct stat sb;
	assert_int_equal(stat(at("A.bundle/Contents/_CodeSignature"), &sb), -1);
	/* deep: signed first */
	sub = NULL;
	assert_int_equal(msign_sign_bundle(at("A.bundle"), NULL, MSIGN_BUNDLE_DEEP, &sub, &d), 0);
	assert_null(sub);
	msign_bundle *mb = NULL;
	assert_int_equal(msign_bundle_open(at("A.bundle"), &mb, &d), 0);
	assert_int_equal(msign_bundle_nested_count(mb), 1);
	assert_string_equal(msign_bundle_nested(mb, 0), "Frameworks/libz.dylib");
	assert_null(msign_bundle_nested(mb, 1));
	msign_bundle_free(mb);
	assert_int_equal(msign_verify_bundle(at("A.bundle"), NULL, NULL, NULL, &d), 0);
	/* bad arguments */
	assert_int_equal(msign_sign_bundle(NULL, NULL, 0, NULL, &d), MSIGN_E_ARG);
	assert_int_equal(msign_sign_bundle(at("A.bundle"), NULL, 0x80, NULL, &d), MSIGN_E_ARG);
	msign_sign_options *o = msign_sign_options_new();
	assert_non_null(o);
	assert_int_equal(msign_sign_options_add_nested_entitlements(o, "/abs", "<x/>", 4),
			 MSIGN_E_ARG);
	assert_int_equal(msign_sign_options_add_nested_entitlements(o, "Contents/X", "<x/>", 0),
			 MSIGN_E_ARG);
	msign_sign_options_free(o);
}

/* A framework with Versions/A and Versions/B (Current): the options'
 * bundle version picks A for signing, verifying and reading; the default
 * stays B. */
static void t_bundle_version(void **st)
{
	(void)st;
	const char *dirs[] = { "F.framework", "F.framework/Versions",
			       "F.framework/Versions/A", "F.framework/Versions/A/Resources",
			       "F.framework/Versions/B", "F.framework/Versions/B/Resources" };
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		assert_int_equal(mkdir(at(dirs[i]), 0755), 0);
	size_t n;
	uint8_t *lib = load("libhello_arm64.dylib.unsigned", &n);
	put("F.framework/Versions/A/x", lib, n);
	put("F.framework/Versions/B/x", lib, n);
	free(lib);
	puts_("F.framework/Versions/A/Resources/Info.plist", plist);
	puts_("F.framework/Versions/B/Resources/Info.plist", plist);
	assert_int_equal(symlink("B", at("F.framework/Versions/Current")), 0);
	assert_int_equal(symlink("Versions/Current/x", at("F.framework/x")), 0);
	assert_int_equal(symlink("Versions/Current/Resources", at("F.framework/Resources")), 0);

	struct msign_diag d;
	msign_sign_options *so = msign_sign_options_new();
	assert_non_null(so);
	assert_int_equal(msign_sign_options_set_bundle_version(so, ""), MSIGN_E_ARG);
	assert_int_equal(msign_sign_options_set_bundle_version(so, "A"), 0);
	assert_int_equal(msign_sign_bundle(at("F.framework"), so, 0, NULL, &d), 0);
	msign_sign_options_free(so);
	struct stat sb;
	assert_int_equal(stat(at("F.framework/Versions/A/_CodeSignature/CodeResources"), &sb), 0);
	assert_int_equal(stat(at("F.framework/Versions/B/_CodeSignature"), &sb), -1);

	msign_verify_options *vo = msign_verify_options_new();
	assert_non_null(vo);
	int kind = -1;
	/* the default, B, is not signed */
	assert_int_equal(msign_verify_bundle(at("F.framework"), vo, &kind, NULL, &d), MSIGN_E_VERIFY);
	assert_int_equal(kind, MSIGN_VERIFY_NOT_SIGNED);
	assert_int_equal(msign_verify_options_set_bundle_version(vo, "A"), 0);
	assert_int_equal(msign_verify_bundle(at("F.framework"), vo, &kind, NULL, &d), 0);
	assert_int_equal(kind, MSIGN_VERIFY_VALID);
	assert_int_equal(msign_verify_options_set_bundle_version(vo, "C"), 0);
	assert_int_equal(msign_verify_bundle(at("F.framework"), vo, &kind, NULL, &d),
			 MSIGN_E_NOT_FOUND);
	assert_string_equal(d.msg, "there is no Versions/C");
	msign_verify_options_free(vo);

	msign_bundle *mb = NULL;
	assert_int_equal(msign_bundle_open_version(at("F.framework"), "A", &mb, &d), 0);
	assert_non_null(strstr(msign_bundle_executable(mb), "/F.framework/Versions/A/x"));
	msign_bundle_free(mb);
	assert_int_equal(msign_bundle_open_version(at("F.framework"), NULL, &mb, &d), 0);
	assert_non_null(strstr(msign_bundle_executable(mb), "/F.framework/Versions/B/x"));
	msign_bundle_free(mb);
	assert_int_equal(msign_bundle_open_version(at("F.framework"), "../A", &mb, &d), MSIGN_E_ARG);
	assert_null(mb);
	assert_int_equal(msign_bundle_open_version(at("A.bundle"), "A", &mb, &d), MSIGN_E_NOT_FOUND);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(t_sign_read_verify, setup, teardown),
		cmocka_unit_test_setup_teardown(t_unsigned_nested, setup, teardown),
		cmocka_unit_test_setup_teardown(t_bundle_version, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
