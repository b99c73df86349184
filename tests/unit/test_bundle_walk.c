/* Bundles on disk (spec bundles.md 1, 2.4, 2.5, 4, 5): classification,
 * the walk and its seals, and the resource check of verify.
 *
 * Every test builds its trees in a fresh mkdtemp folder. Expected seals
 * are written out by hand from the spec's rules, their digests computed
 * here with OpenSSL's one-shot SHA1/SHA256 from the bytes the test wrote. */
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
#include <sys/xattr.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/sha.h>
#include <plist/plist.h>

#include "bundle/bundle.h"
#include "bundle/walk.h"
#include "bundle/bundle_int.h"

#define SHA1_BIT (1u << 1)
#define SHA256_BIT (1u << 2)

/* ---- the scratch tree ------------------------------------------------------ */

static char g_base[256];

static const char *P(const char *rel)
{
	static char buf[4][8192];
	static int k;
	k = (k + 1) % 4;
	snprintf(buf[k], sizeof(buf[k]), "%s/%s", g_base, rel);
	return buf[k];
}

static void mkd(const char *rel)
{
	char p[8192];
	snprintf(p, sizeof(p), "%s", P(rel));
	for (char *s = p + strlen(g_base) + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0755) != 0 && errno != EEXIST)
			fail_msg("mkdir %s: %s", p, strerror(errno));
		*s = '/';
	}
	if (mkdir(p, 0755) != 0 && errno != EEXIST)
		fail_msg("mkdir %s: %s", p, strerror(errno));
}

static void parent(const char *rel)
{
	char d[4096];
	snprintf(d, sizeof(d), "%s", rel);
	char *s = strrchr(d, '/');
	if (s != NULL) {
		*s = '\0';
		mkd(d);
	}
}

static void wr(const char *rel, const void *data, size_t len)
{
	parent(rel);
	int fd = open(P(rel), O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		fail_msg("create %s: %s", rel, strerror(errno));
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
}

static void wrs(const char *rel, const char *s)
{
	wr(rel, s, strlen(s));
}

static void sym(const char *rel, const char *target)
{
	parent(rel);
	if (symlink(target, P(rel)) != 0)
		fail_msg("symlink %s: %s", rel, strerror(errno));
}

static void rm(const char *rel)
{
	if (unlink(P(rel)) != 0)
		fail_msg("unlink %s: %s", rel, strerror(errno));
}

/* Remove name in dfd and all below it, by descriptors: the trees hold
 * paths longer than PATH_MAX, which nftw cannot name. */
static int setup(void **st)
{
	(void)st;
	snprintf(g_base, sizeof(g_base), "/tmp/msign-bw-XXXXXX");
	return mkdtemp(g_base) ? 0 : -1;
}

static int teardown(void **st)
{
	(void)st;
	return mb_tree_remove(g_base); /* by descriptors, links never followed */
}

/* ---- Info.plist --------------------------------------------------------- */

/* A binary plist (libplist writes it) of the given string pairs. */
static void info_bin(const char *rel, const char *const *kv, size_t n)
{
	plist_t d = plist_new_dict();
	for (size_t i = 0; i + 1 < n; i += 2)
		plist_dict_set_item(d, kv[i], plist_new_string(kv[i + 1]));
	char *bin = NULL;
	uint32_t len = 0;
	plist_to_bin(d, &bin, &len);
	assert_non_null(bin);
	assert_memory_equal(bin, "bplist00", 8);
	wr(rel, bin, len);
	free(bin);
	plist_free(d);
}

static void info_xml(const char *rel, const char *dict_body)
{
	char buf[4096];
	snprintf(buf, sizeof(buf),
		 "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		 "<!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" "
		 "\"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n"
		 "<plist version=\"1.0\">\n<dict>\n%s</dict>\n</plist>\n", dict_body);
	wrs(rel, buf);
}

/* ---- fixtures ------------------------------------------------------------ */

static const char cafe[] = "Resources/caf\xc3\xa9.txt";

/* The deep app of the brief. */
static void build_deep(void)
{
	static const char *const kv[] = {
		"CFBundleExecutable", "exe", "CFBundleIdentifier", "com.example.app",
		"CFBundleName", "App", "CFBundlePackageType", "APPL",
	};
	info_bin("App.app/Contents/Info.plist", kv, 8);
	wrs("App.app/Contents/PkgInfo", "APPL????");
	wrs("App.app/Contents/MacOS/exe", "main executable");
	wrs("App.app/Contents/MacOS/helper", "helper tool");
	wrs("App.app/Contents/Resources/en.lproj/Localizable.strings", "en strings\n");
	wrs("App.app/Contents/Resources/en.lproj/locversion.plist", "locversion");
	wrs("App.app/Contents/Resources/Base.lproj/Main.nib", "nib\n");
	sym("App.app/Contents/Resources/fr_CA.lproj", "en.lproj");
	wrs("App.app/Contents/Resources/.DS_Store", "ds store");
	wrs("App.app/Contents/Resources/a&<b>.txt", "amp");
	wrs("App.app/Contents/Resources/caf\xc3\xa9.txt", "cafe");
	mkd("App.app/Contents/Resources/empty/deeper");
	sym("App.app/Contents/Resources/out", "../../../../etc/passwd");
	wrs("App.app/Contents/Resources/Inner.app/Contents/MacOS/inner", "inner app");
	wrs("App.app/Contents/Frameworks/Foo.framework/Versions/A/Foo", "foo framework");
	wrs("App.app/Contents/_CodeSignature/CodeResources", "old seal");
	wrs("App.app/Contents/version.plist", "version");
}

/* The versioned framework: Versions/A, Current -> A, root symlinks. */
static void build_framework(const char *current)
{
	info_xml("Foo.framework/Versions/A/Resources/Info.plist",
		 "\t<key>CFBundleExecutable</key>\n\t<string>Foo</string>\n"
		 "\t<key>CFBundleIdentifier</key>\n\t<string>com.example.Foo</string>\n");
	wrs("Foo.framework/Versions/A/Foo", "framework binary");
	wrs("Foo.framework/Versions/A/Resources/en.lproj/x.strings", "x strings");
	sym("Foo.framework/Versions/Current", current);
	sym("Foo.framework/Foo", "Versions/Current/Foo");
	sym("Foo.framework/Resources", "Versions/Current/Resources");
}

/* An iOS-style app: everything at the root, no Resources directory. */
static void build_shallow(void)
{
	info_xml("Shallow.app/Info.plist",
		 "\t<key>CFBundleExecutable</key>\n\t<string>Shallow</string>\n"
		 "\t<key>CFBundleIdentifier</key>\n\t<string>com.example.shallow</string>\n");
	wrs("Shallow.app/Shallow", "shallow binary");
	wrs("Shallow.app/PkgInfo", "APPL????");
	wrs("Shallow.app/Frameworks/Bar.framework/Bar", "bar binary");
	wrs("Shallow.app/Frameworks/Bar.framework/Info.plist", "bar info");
	wrs("Shallow.app/en.lproj/a.strings", "a strings");
	wrs("Shallow.app/Base.lproj/b.nib", "b nib");
	wrs("Shallow.app/_CodeSignature/CodeResources", "old");
}

static void open_ok(const char *rel, struct mb_bundle *b)
{
	struct msign_diag d = { 0 };
	int r = mb_bundle_open(P(rel), NULL, b, &d);
	if (r != 0)
		fail_msg("mb_bundle_open %s: %d %s", rel, r, d.msg);
}

/* ---- nested callbacks ------------------------------------------------------ */

struct nest_log {
	int n;
	char rel[8][256];
	bool is_dir[8];
	const char *unsigned_rel;    /* seal: MSIGN_E_NOT_SIGNED for it */
	const char *verify_rel;      /* check: MSIGN_E_VERIFY for it */
	const char *fail_rel;        /* check: MSIGN_E_INVALID for it */
	void (*hook)(void);          /* run at the first call (races) */
};

static void nest_record(struct nest_log *l, const char *rel, bool is_dir)
{
	assert_true(l->n < 8);
	snprintf(l->rel[l->n], sizeof(l->rel[0]), "%s", rel);
	l->is_dir[l->n] = is_dir;
	if (l->n++ == 0 && l->hook != NULL)
		l->hook();
}

static void fake_cdhash(const char *rel, uint8_t out[20])
{
	uint8_t md[32];
	SHA256((const uint8_t *)rel, strlen(rel), md);
	memcpy(out, md, 20);
}

static int seal_nested(void *arg, int root_fd, const char *rel, bool is_dir,
		       uint8_t cdhash[20], char **req, struct msign_diag *d)
{
	struct nest_log *l = arg;
	assert_true(root_fd >= 0);
	nest_record(l, rel, is_dir);
	if (l->unsigned_rel != NULL && strcmp(rel, l->unsigned_rel) == 0) {
		if (d != NULL && d->code == 0) {
			d->code = MSIGN_E_NOT_SIGNED;
			snprintf(d->msg, sizeof(d->msg), "no LC_CODE_SIGNATURE");
		}
		return MSIGN_E_NOT_SIGNED;
	}
	fake_cdhash(rel, cdhash);
	char buf[300];
	snprintf(buf, sizeof(buf), "identifier \"%s\"", rel);
	*req = strdup(buf);
	return 0;
}

static int check_nested(void *arg, int root_fd, const char *rel, bool is_dir,
			const char *req, struct msign_diag *d)
{
	struct nest_log *l = arg;
	assert_true(root_fd >= 0);
	nest_record(l, rel, is_dir);
	char want[300];
	snprintf(want, sizeof(want), "identifier \"%s\"", rel);
	assert_string_equal(req, want);
	if (l->verify_rel != NULL && strcmp(rel, l->verify_rel) == 0)
		return MSIGN_E_VERIFY;
	if (l->fail_rel != NULL && strcmp(rel, l->fail_rel) == 0) {
		if (d != NULL && d->code == 0) {
			d->code = MSIGN_E_INVALID;
			snprintf(d->msg, sizeof(d->msg), "nested signature is broken");
		}
		return MSIGN_E_INVALID;
	}
	return 0;
}

/* ---- expected seals ------------------------------------------------------- */

struct exp {
	const char *path;
	enum mb_seal_kind kind;
	bool optional, bare;
	const char *data; /* file bytes, symlink target */
};

static void expect_seals(const struct mb_seals *s, const struct exp *e, size_t n,
			 uint32_t mask)
{
	for (size_t i = 0; i < s->n && i < n; i++)
		if (strcmp(s->v[i].path, e[i].path) != 0)
			fail_msg("seal %zu: %s, expected %s", i, s->v[i].path, e[i].path);
	assert_int_equal(s->n, n);
	for (size_t i = 0; i < n; i++) {
		const struct mb_seal *v = &s->v[i];
		if (v->kind != e[i].kind || v->optional != e[i].optional || v->bare != e[i].bare)
			fail_msg("%s: kind %d optional %d bare %d, expected %d %d %d", v->path,
				 v->kind, v->optional, v->bare, e[i].kind, e[i].optional,
				 e[i].bare);
		if (v->kind == MB_SEAL_FILE) {
			assert_int_equal(v->hash_mask, mask);
			uint8_t md[32];
			if (mask & SHA1_BIT) {
				SHA1((const uint8_t *)e[i].data, strlen(e[i].data), md);
				assert_memory_equal(v->hash[1], md, 20);
			}
			if (mask & SHA256_BIT) {
				SHA256((const uint8_t *)e[i].data, strlen(e[i].data), md);
				assert_memory_equal(v->hash[2], md, 32);
			}
		} else if (v->kind == MB_SEAL_SYMLINK) {
			assert_string_equal(v->symlink, e[i].data);
		} else {
			uint8_t cd[20];
			fake_cdhash(v->path, cd);
			assert_true(v->has_cdhash);
			assert_memory_equal(v->cdhash, cd, 20);
			char want[300];
			snprintf(want, sizeof(want), "identifier \"%s\"", v->path);
			assert_string_equal(v->requirement, want);
		}
	}
}

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const struct exp deep_files2[] = {
	{ "Frameworks/Foo.framework", MB_SEAL_NESTED, false, false, NULL },
	{ "MacOS/helper", MB_SEAL_NESTED, false, false, NULL },
	{ "Resources/Base.lproj/Main.nib", MB_SEAL_FILE, false, false, "nib\n" },
	{ "Resources/Inner.app/Contents/MacOS/inner", MB_SEAL_FILE, false, false, "inner app" },
	{ "Resources/a&<b>.txt", MB_SEAL_FILE, false, false, "amp" },
	{ cafe, MB_SEAL_FILE, false, false, "cafe" },
	{ "Resources/en.lproj/Localizable.strings", MB_SEAL_FILE, true, false, "en strings\n" },
	{ "Resources/fr_CA.lproj", MB_SEAL_SYMLINK, false, false, "en.lproj" },
	{ "Resources/out", MB_SEAL_SYMLINK, false, false, "../../../../etc/passwd" },
	{ "version.plist", MB_SEAL_FILE, false, false, "version" },
};

static const struct exp deep_files[] = {
	{ "Resources/.DS_Store", MB_SEAL_FILE, false, true, "ds store" },
	{ "Resources/Base.lproj/Main.nib", MB_SEAL_FILE, false, true, "nib\n" },
	{ "Resources/Inner.app/Contents/MacOS/inner", MB_SEAL_FILE, false, true, "inner app" },
	{ "Resources/a&<b>.txt", MB_SEAL_FILE, false, true, "amp" },
	{ cafe, MB_SEAL_FILE, false, true, "cafe" },
	{ "Resources/en.lproj/Localizable.strings", MB_SEAL_FILE, true, false, "en strings\n" },
	{ "version.plist", MB_SEAL_FILE, false, true, "version" },
};

static struct mb_seal_opts seal_opts(struct nest_log *l, uint32_t mask)
{
	struct mb_seal_opts o = { .hash_mask = mask, .threads = 1, .v1 = true, .v2 = true,
				  .nested = seal_nested, .nested_arg = l };
	return o;
}

static void seal_ok(const struct mb_bundle *b, const struct mb_seal_opts *o,
		    struct mb_resources *out)
{
	struct msign_diag d = { 0 };
	int r = mb_seal_build(b, o, out, &d);
	if (r != 0)
		fail_msg("mb_seal_build: %d %s", r, d.msg);
}

/* ---- classification -------------------------------------------------------- */

static void test_classify_deep(void **st)
{
	(void)st;
	build_deep();
	struct mb_bundle b;
	open_ok("App.app/", &b); /* the trailing '/' is dropped */
	assert_int_equal(b.kind, MB_KIND_DEEP);
	assert_string_equal(b.path, P("App.app"));
	assert_string_equal(b.seal_root, P("App.app/Contents"));
	assert_string_equal(b.info_rel, "Info.plist");
	assert_string_equal(b.exec_rel, "MacOS/exe");
	assert_true(b.has_resources_dir);
	assert_true(b.info_regular && b.exec_regular);
	assert_null(b.version);
	assert_int_equal(b.info_entries, 4);
	assert_string_equal(b.bundle_id, "com.example.app");
	assert_string_equal(b.bundle_name, "App");
	assert_string_equal(b.package_type, "APPL");
	/* the bytes as on disk (slot -1 hashes them) */
	struct stat s;
	assert_int_equal(stat(P("App.app/Contents/Info.plist"), &s), 0);
	assert_int_equal(b.info_len, (size_t)s.st_size);
	assert_memory_equal(b.info, "bplist00", 8);
	char buf[64];
	assert_string_equal(mb_bundle_default_identifier(&b, buf, sizeof(buf)),
			    "com.example.app");
	struct stat rs;
	assert_int_equal(fstat(b.root_fd, &rs), 0);
	assert_int_equal(stat(P("App.app/Contents"), &s), 0);
	assert_true(rs.st_ino == s.st_ino && rs.st_dev == s.st_dev);
	mb_bundle_close(&b);
	assert_int_equal(b.root_fd, -1);
	mb_bundle_close(&b); /* twice is harmless */
}

static void test_classify_xml_and_identifier(void **st)
{
	(void)st;
	info_xml("Named.bundle/Contents/Info.plist",
		 "\t<key>CFBundleName</key>\n\t<string>Nom</string>\n"
		 "\t<key>CFBundleExecutable</key>\n\t<string>bin</string>\n"
		 "\t<key>Other</key>\n\t<integer>3</integer>\n");
	wrs("Named.bundle/Contents/MacOS/bin", "b");
	struct mb_bundle b;
	char buf[64];
	open_ok("Named.bundle", &b);
	assert_int_equal(b.info_entries, 3);
	assert_null(b.bundle_id);
	assert_null(b.package_type);
	assert_string_equal(mb_bundle_default_identifier(&b, buf, sizeof(buf)), "Nom");
	mb_bundle_close(&b);

	/* no identifier, no name: the directory's name without extension;
	 * no CFBundleExecutable: an Info.plist-only bundle */
	info_xml("Plain.thing.plugin/Contents/Info.plist",
		 "\t<key>CFBundleVersion</key>\n\t<string>1</string>\n");
	open_ok("Plain.thing.plugin", &b);
	assert_null(b.exec_rel);
	assert_string_equal(b.info_rel, "Info.plist");
	assert_string_equal(mb_bundle_default_identifier(&b, buf, sizeof(buf)), "Plain.thing");
	assert_null(mb_bundle_default_identifier(&b, buf, 5)); /* does not fit */
	mb_bundle_close(&b);
}

static void test_classify_framework(void **st)
{
	(void)st;
	build_framework("A");
	struct mb_bundle b;
	open_ok("Foo.framework", &b);
	assert_int_equal(b.kind, MB_KIND_VERSIONED);
	assert_string_equal(b.seal_root, P("Foo.framework/Versions/A"));
	assert_string_equal(b.version, "A");
	assert_string_equal(b.info_rel, "Resources/Info.plist");
	assert_string_equal(b.exec_rel, "Foo");
	assert_true(b.has_resources_dir);
	assert_string_equal(b.bundle_id, "com.example.Foo");
	mb_bundle_close(&b);

	/* "./A" is the same; an explicit version picks it */
	rm("Foo.framework/Versions/Current");
	sym("Foo.framework/Versions/Current", "./A");
	open_ok("Foo.framework", &b);
	assert_string_equal(b.version, "A");
	mb_bundle_close(&b);
	struct msign_diag d = { 0 };
	assert_int_equal(mb_bundle_open(P("Foo.framework"), "A", &b, &d), 0);
	assert_string_equal(b.seal_root, P("Foo.framework/Versions/A"));
	mb_bundle_close(&b);
	assert_int_equal(mb_bundle_open(P("Foo.framework"), "B", &b, &d), MSIGN_E_NOT_FOUND);

	/* Current must name an entry of Versions */
	static const char *const bad[] = { "../../etc", "A/Resources", "..", "/tmp" };
	for (size_t i = 0; i < N(bad); i++) {
		rm("Foo.framework/Versions/Current");
		sym("Foo.framework/Versions/Current", bad[i]);
		memset(&d, 0, sizeof(d));
		assert_int_equal(mb_bundle_open(P("Foo.framework"), NULL, &b, &d),
				 MSIGN_E_INVALID);
		assert_int_equal(b.root_fd, -1);
	}
}

static void test_classify_shallow_and_errors(void **st)
{
	(void)st;
	build_shallow();
	struct mb_bundle b;
	open_ok("Shallow.app", &b);
	assert_int_equal(b.kind, MB_KIND_SHALLOW);
	assert_string_equal(b.seal_root, P("Shallow.app"));
	assert_string_equal(b.info_rel, "Info.plist");
	assert_string_equal(b.exec_rel, "Shallow");
	assert_false(b.has_resources_dir);
	mb_bundle_close(&b);

	/* spec 1: a top-level Resources directory is the old layout */
	info_xml("Old.bundle/Resources/Info.plist",
		 "\t<key>CFBundleExecutable</key>\n\t<string>old</string>\n");
	wrs("Old.bundle/old", "o");
	open_ok("Old.bundle", &b);
	assert_int_equal(b.kind, MB_KIND_SHALLOW);
	assert_true(b.has_resources_dir);
	assert_string_equal(b.info_rel, "Resources/Info.plist");
	mb_bundle_close(&b);

	struct msign_diag d = { 0 };
	mkd("Empty.app/stuff");
	assert_int_equal(mb_bundle_open(P("Empty.app"), NULL, &b, &d), MSIGN_E_UNSUPPORTED);
	assert_string_equal(d.msg, "bundle format unrecognized, invalid, or unsuitable");

	static const char *const bad[] = { "", ".", "..", "a/b", "../x" };
	for (size_t i = 0; i < N(bad); i++) {
		char body[256];
		snprintf(body, sizeof(body),
			 "\t<key>CFBundleExecutable</key>\n\t<string>%s</string>\n", bad[i]);
		info_xml("Bad.app/Info.plist", body);
		memset(&d, 0, sizeof(d));
		assert_int_equal(mb_bundle_open(P("Bad.app"), NULL, &b, &d), MSIGN_E_INVALID);
	}
	info_xml("Bad.app/Info.plist",
		 "\t<key>CFBundleExecutable</key>\n\t<string>gone</string>\n");
	assert_int_equal(mb_bundle_open(P("Bad.app"), NULL, &b, &d), MSIGN_E_NOT_FOUND);
	wrs("Bad.app/Info.plist", "not a plist");
	assert_int_equal(mb_bundle_open(P("Bad.app"), NULL, &b, &d), MSIGN_E_PLIST);
	wrs("Bad.app/Info.plist", "<plist version=\"1.0\"><array/></plist>");
	assert_int_equal(mb_bundle_open(P("Bad.app"), NULL, &b, &d), MSIGN_E_PLIST);
	rm("Bad.app/Info.plist");
	assert_int_equal(mkfifo(P("Bad.app/Info.plist"), 0644), 0);
	assert_int_equal(mb_bundle_open(P("Bad.app"), NULL, &b, &d), MSIGN_E_INVALID);
	wrs("NotADir", "x");
	assert_int_equal(mb_bundle_open(P("NotADir"), NULL, &b, &d), MSIGN_E_UNSUPPORTED);
}

/* ---- sealing --------------------------------------------------------------- */

/* A binary plist of n arrays, each holding the next (the last empty, or
 * with cycle holding the first): libplist would recurse n deep. With
 * twice, each holds the next two times: a tree of 2^n nodes. */
static void chain_bplist2(const char *rel, uint32_t n, bool cycle, bool twice)
{
	size_t cap = 8 + (size_t)n * 13 + 32;
	uint8_t *b = malloc(cap);
	assert_non_null(b);
	size_t len = 8;
	memcpy(b, "bplist00", 8);
	uint32_t *off = malloc(n * sizeof(*off));
	assert_non_null(off);
	for (uint32_t i = 0; i < n; i++) {
		off[i] = (uint32_t)len;
		if (i + 1 == n && !cycle) {
			b[len++] = 0xa0;
			continue;
		}
		uint32_t next = i + 1 == n ? 0 : i + 1;
		b[len++] = twice ? 0xa2 : 0xa1;
		for (int rep = 0; rep < (twice ? 2 : 1); rep++)
			for (int k = 3; k >= 0; k--)
				b[len++] = (uint8_t)(next >> (8 * k));
	}
	uint64_t table = len;
	for (uint32_t i = 0; i < n; i++)
		for (int k = 3; k >= 0; k--)
			b[len++] = (uint8_t)(off[i] >> (8 * k));
	memset(b + len, 0, 32);
	b[len + 6] = 4; /* offset size */
	b[len + 7] = 4; /* reference size */
	for (int k = 0; k < 8; k++) {
		b[len + 8 + k] = (uint8_t)((uint64_t)n >> (56 - 8 * k));
		b[len + 24 + k] = (uint8_t)(table >> (56 - 8 * k));
	}
	wr(rel, b, len + 32);
	free(off);
	free(b);
}

static void chain_bplist(const char *rel, uint32_t n, bool cycle)
{
	chain_bplist2(rel, n, cycle, false);
}

/* libplist 2.2 recurses without limit: nesting is refused before it. */
static void test_classify_hostile_nesting(void **st)
{
	(void)st;
	wrs("N.app/N", "n");
	struct mb_bundle b;
	struct msign_diag d = { 0 };
	for (int deep = 0; deep < 2; deep++) {
		size_t n = deep ? 300000 : 100;
		size_t len = 300 + n * 17;
		char *x = malloc(len);
		assert_non_null(x);
		char *p = x + sprintf(x, "<?xml version=\"1.0\"?>\n<!-- </array> --><plist version=\"1.0\">"
				      "<dict><key>CFBundleExecutable</key><string>N</string><key>a</key>");
		for (size_t i = 0; i < n; i++)
			p += sprintf(p, "<array >");
		p += sprintf(p, "<array/>");
		for (size_t i = 0; i < n; i++)
			p += sprintf(p, "</array>");
		p += sprintf(p, "</dict></plist>\n");
		wr("N.app/Info.plist", x, (size_t)(p - x));
		free(x);
		memset(&d, 0, sizeof(d));
		int r = mb_bundle_open(P("N.app"), NULL, &b, &d);
		if (deep) {
			assert_int_equal(r, MSIGN_E_LIMIT);
		} else {
			assert_int_equal(r, 0);
			assert_int_equal(b.info_entries, 2);
			mb_bundle_close(&b);
		}
	}
	chain_bplist("N.app/Info.plist", 300000, false);
	assert_int_equal(mb_bundle_open(P("N.app"), NULL, &b, &d), MSIGN_E_LIMIT);
	chain_bplist("N.app/Info.plist", 3, true);
	assert_int_equal(mb_bundle_open(P("N.app"), NULL, &b, &d), MSIGN_E_LIMIT);
	/* 60 deep but 2^60 nodes as libplist's tree */
	chain_bplist2("N.app/Info.plist", 60, false, true);
	assert_int_equal(mb_bundle_open(P("N.app"), NULL, &b, &d), MSIGN_E_LIMIT);
	/* 100 deep is a plist (an array, so not a bundle's Info.plist) */
	chain_bplist("N.app/Info.plist", 100, false);
	memset(&d, 0, sizeof(d));
	assert_int_equal(mb_bundle_open(P("N.app"), NULL, &b, &d), MSIGN_E_PLIST);
	assert_non_null(strstr(d.msg, "not a dictionary"));
}

static void test_seal_deep(void **st)
{
	(void)st;
	build_deep();
	struct mb_bundle b;
	open_ok("App.app", &b);
	struct nest_log l = { 0 };
	struct mb_seal_opts o = seal_opts(&l, SHA1_BIT | SHA256_BIT);
	struct mb_resources cr;
	seal_ok(&b, &o, &cr);
	assert_true(cr.has_files && cr.has_files2 && cr.has_rules && cr.has_rules2);
	assert_int_equal(cr.rules.n, 5);   /* template A */
	assert_int_equal(cr.rules2.n, 13);
	expect_seals(&cr.files2, deep_files2, N(deep_files2), SHA1_BIT | SHA256_BIT);
	expect_seals(&cr.files, deep_files, N(deep_files), SHA1_BIT);
	/* exactly the nested items, in path order, each once */
	assert_int_equal(l.n, 2);
	assert_string_equal(l.rel[0], "Frameworks/Foo.framework");
	assert_true(l.is_dir[0]);
	assert_string_equal(l.rel[1], "MacOS/helper");
	assert_false(l.is_dir[1]);
	mb_resources_free(&cr);

	/* SHA-256 only, v2 only: no files, rules kept */
	memset(&l, 0, sizeof(l));
	o = seal_opts(&l, SHA256_BIT);
	o.v1 = false;
	seal_ok(&b, &o, &cr);
	assert_false(cr.has_files);
	assert_true(cr.has_rules && cr.has_files2);
	expect_seals(&cr.files2, deep_files2, N(deep_files2), SHA256_BIT);
	mb_resources_free(&cr);

	/* v1 only (--legacy-signing): no nested calls */
	memset(&l, 0, sizeof(l));
	o = seal_opts(&l, SHA1_BIT);
	o.v2 = false;
	seal_ok(&b, &o, &cr);
	assert_false(cr.has_files2 || cr.has_rules2);
	expect_seals(&cr.files, deep_files, N(deep_files), SHA1_BIT);
	assert_int_equal(l.n, 0);
	mb_resources_free(&cr);
	mb_bundle_close(&b);
}

static void test_seal_framework_and_shallow(void **st)
{
	(void)st;
	build_framework("A");
	struct mb_bundle b;
	open_ok("Foo.framework", &b);
	struct nest_log l = { 0 };
	struct mb_seal_opts o = seal_opts(&l, SHA1_BIT);
	struct mb_resources cr;
	seal_ok(&b, &o, &cr);
	/* Resources/Info.plist is sealed in both (spec 2.5); SHA-1 only: bare */
	static const struct exp fw2[] = {
		{ "Resources/Info.plist", MB_SEAL_FILE, false, true, NULL },
		{ "Resources/en.lproj/x.strings", MB_SEAL_FILE, true, false, "x strings" },
	};
	struct exp e2[2];
	memcpy(e2, fw2, sizeof(e2));
	char info[1024] = { 0 };
	assert_true(b.info_len < sizeof(info));
	memcpy(info, b.info, b.info_len);
	e2[0].data = info;
	expect_seals(&cr.files2, e2, 2, SHA1_BIT);
	expect_seals(&cr.files, e2, 2, SHA1_BIT); /* v1: same forms here */
	assert_int_equal(l.n, 0);
	mb_resources_free(&cr);
	mb_bundle_close(&b);

	/* an Info.plist-only framework: its Info.plist is the excluded
	 * "main executable", at Resources/Info.plist in the version */
	info_xml("P.framework/Versions/A/Resources/Info.plist",
		 "\t<key>CFBundleIdentifier</key>\n\t<string>p</string>\n");
	wrs("P.framework/Versions/A/Resources/r.txt", "r");
	sym("P.framework/Versions/Current", "A");
	open_ok("P.framework", &b);
	assert_null(b.exec_rel);
	seal_ok(&b, &o, &cr);
	static const struct exp p2[] = {
		{ "Resources/r.txt", MB_SEAL_FILE, false, true, "r" },
	};
	expect_seals(&cr.files2, p2, 1, SHA1_BIT);
	expect_seals(&cr.files, p2, 1, SHA1_BIT);
	mb_resources_free(&cr);
	mb_bundle_close(&b);

	build_shallow();
	open_ok("Shallow.app", &b);
	o = seal_opts(&l, SHA1_BIT | SHA256_BIT);
	seal_ok(&b, &o, &cr);
	assert_int_equal(cr.rules.n, 5); /* template B */
	assert_int_equal(cr.rules2.n, 10);
	/* template B: no nested rule, Frameworks sealed file by file */
	static const struct exp sh2[] = {
		{ "Base.lproj/b.nib", MB_SEAL_FILE, false, false, "b nib" },
		{ "Frameworks/Bar.framework/Bar", MB_SEAL_FILE, false, false, "bar binary" },
		{ "Frameworks/Bar.framework/Info.plist", MB_SEAL_FILE, false, false, "bar info" },
		{ "en.lproj/a.strings", MB_SEAL_FILE, true, false, "a strings" },
	};
	expect_seals(&cr.files2, sh2, N(sh2), SHA1_BIT | SHA256_BIT);
	char xml[1024] = { 0 };
	memcpy(xml, b.info, b.info_len);
	const struct exp sh1[] = {
		{ "Base.lproj/b.nib", MB_SEAL_FILE, false, true, "b nib" },
		{ "Frameworks/Bar.framework/Bar", MB_SEAL_FILE, false, true, "bar binary" },
		{ "Frameworks/Bar.framework/Info.plist", MB_SEAL_FILE, false, true, "bar info" },
		{ "Info.plist", MB_SEAL_FILE, false, true, xml },
		{ "PkgInfo", MB_SEAL_FILE, false, true, "APPL????" },
		{ "en.lproj/a.strings", MB_SEAL_FILE, true, false, "a strings" },
	};
	expect_seals(&cr.files, sh1, N(sh1), SHA1_BIT);
	assert_int_equal(l.n, 0);
	mb_resources_free(&cr);
	mb_bundle_close(&b);
}

/* Many files, one larger than the read buffer, over four threads: the
 * same seals as one thread, and as OpenSSL computes them here. */
static void test_seal_threads(void **st)
{
	(void)st;
	info_xml("T.app/Info.plist", "\t<key>CFBundleExecutable</key>\n\t<string>T</string>\n");
	wrs("T.app/T", "t");
	enum { NF = 40 };
	static char data[NF][64];
	struct exp e[NF + 1];
	static char names[NF][32];
	for (int i = 0; i < NF; i++) {
		/* in path order already: the expected list is sorted */
		snprintf(names[i], sizeof(names[i]), "d%d/f%02d", i / 14, i);
		snprintf(data[i], sizeof(data[i]), "file number %d", i);
		char rel[64];
		snprintf(rel, sizeof(rel), "T.app/%s", names[i]);
		wrs(rel, data[i]);
		e[i] = (struct exp){ names[i], MB_SEAL_FILE, false, false, data[i] };
	}
	/* 2.5 MiB + 7 bytes: three reads */
	size_t big_len = (5u << 19) + 7;
	char *big = malloc(big_len + 1);
	assert_non_null(big);
	for (size_t i = 0; i < big_len; i++)
		big[i] = (char)('a' + i % 26);
	big[big_len] = '\0';
	wr("T.app/zbig", big, big_len);
	e[NF] = (struct exp){ "zbig", MB_SEAL_FILE, false, false, big };

	struct mb_bundle b;
	open_ok("T.app", &b);
	struct nest_log l = { 0 };
	for (unsigned threads = 1; threads <= 4; threads += 3) {
		struct mb_seal_opts o = seal_opts(&l, SHA1_BIT | SHA256_BIT);
		o.threads = threads;
		o.v1 = false;
		struct mb_resources cr;
		seal_ok(&b, &o, &cr);
		expect_seals(&cr.files2, e, NF + 1, SHA1_BIT | SHA256_BIT);
		mb_resources_free(&cr);
	}
	mb_bundle_close(&b);
	free(big);
}

static void test_seal_unsigned_nested(void **st)
{
	(void)st;
	build_deep();
	struct mb_bundle b;
	open_ok("App.app", &b);
	struct nest_log l = { .unsigned_rel = "Frameworks/Foo.framework" };
	struct mb_seal_opts o = seal_opts(&l, SHA256_BIT);
	struct mb_resources cr;
	struct msign_diag d = { 0 };
	assert_int_equal(mb_seal_build(&b, &o, &cr, &d), MSIGN_E_NOT_SIGNED);
	assert_int_equal(d.code, MSIGN_E_NOT_SIGNED);
	assert_string_equal(d.msg,
			    "code object is not signed at all (In subcomponent: Frameworks/Foo.framework)");
	assert_int_equal(l.n, 1); /* stopped there */
	assert_int_equal(cr.files2.n, 0);
	assert_null(cr.files2.v);
	/* no callback at all: a caller's mistake, said so */
	o.nested = NULL;
	memset(&d, 0, sizeof(d));
	assert_int_equal(mb_seal_build(&b, &o, &cr, &d), MSIGN_E_ARG);
	mb_bundle_close(&b);
}

/* A shallow bundle whose root holds what the test adds. */
static void build_small(void)
{
	info_xml("S.app/Info.plist", "\t<key>CFBundleExecutable</key>\n\t<string>S</string>\n");
	wrs("S.app/S", "s");
	wrs("S.app/a.txt", "a");
}

static int seal_small(struct mb_seal_opts *o, struct msign_diag *d, struct mb_resources *cr)
{
	struct mb_bundle b;
	open_ok("S.app", &b);
	memset(d, 0, sizeof(*d));
	int r = mb_seal_build(&b, o, cr, d);
	mb_bundle_close(&b);
	return r;
}

static void test_seal_limits_and_types(void **st)
{
	(void)st;
	build_small();
	struct nest_log l = { 0 };
	struct mb_seal_opts o = seal_opts(&l, SHA256_BIT);
	struct mb_resources cr;
	struct msign_diag d;

	/* 128 directories below the root are walked, 129 are too many */
	int fd = open(P("S.app"), O_RDONLY | O_DIRECTORY);
	assert_true(fd >= 0);
	for (int i = 0; i < 128; i++) {
		assert_int_equal(mkdirat(fd, "d", 0755), 0);
		int next = openat(fd, "d", O_RDONLY | O_DIRECTORY);
		close(fd);
		fd = next;
		assert_true(fd >= 0);
	}
	int leaf = openat(fd, "leaf", O_WRONLY | O_CREAT, 0644);
	assert_true(leaf >= 0);
	close(leaf);
	assert_int_equal(seal_small(&o, &d, &cr), 0);
	assert_int_equal(cr.files2.n, 2); /* a.txt and d/d/.../leaf */
	assert_int_equal(strlen(cr.files2.v[1].path), 128 * 2 + 4);
	mb_resources_free(&cr);
	assert_int_equal(mkdirat(fd, "d", 0755), 0);
	close(fd);
	assert_int_equal(seal_small(&o, &d, &cr), MSIGN_E_LIMIT);
	assert_non_null(strstr(d.msg, "more than 128 directories deep"));

	/* a relative path of more than 4096 bytes */
	teardown(NULL);
	setup(NULL);
	build_small();
	char name[256];
	memset(name, 'n', 255);
	name[255] = '\0';
	fd = open(P("S.app"), O_RDONLY | O_DIRECTORY);
	for (int i = 0; i < 16; i++) { /* 16 * 256 - 1 = 4095 bytes */
		assert_int_equal(mkdirat(fd, name, 0755), 0);
		int next = openat(fd, name, O_RDONLY | O_DIRECTORY);
		close(fd);
		fd = next;
		assert_true(fd >= 0);
	}
	assert_int_equal(seal_small(&o, &d, &cr), 0);
	mb_resources_free(&cr);
	leaf = openat(fd, "x", O_WRONLY | O_CREAT, 0644); /* 4097 */
	assert_true(leaf >= 0);
	close(leaf);
	close(fd);
	assert_int_equal(seal_small(&o, &d, &cr), MSIGN_E_LIMIT);
	assert_non_null(strstr(d.msg, "longer than 4096 bytes"));

	/* a fifo: skipped, or with strict the sentence */
	teardown(NULL);
	setup(NULL);
	build_small();
	assert_int_equal(mkfifo(P("S.app/pipe"), 0644), 0);
	assert_int_equal(seal_small(&o, &d, &cr), 0);
	assert_int_equal(cr.files2.n, 1);
	assert_string_equal(cr.files2.v[0].path, "a.txt");
	mb_resources_free(&cr);
	o.strict = true;
	assert_int_equal(seal_small(&o, &d, &cr), MSIGN_E_UNSUPPORTED);
	assert_string_equal(d.msg,
			    "unsupported resource found (something not a directory, file or symlink)");
	o.strict = false;
	rm("S.app/pipe");

	/* a .DS_Store symlink fails, wherever it is */
	sym("S.app/sub/.DS_Store", "x");
	assert_int_equal(seal_small(&o, &d, &cr), MSIGN_E_INVALID);
	assert_string_equal(d.msg, ".DS_Store files cannot be a symlink");
	rm("S.app/sub/.DS_Store");

	/* arguments */
	o.hash_mask = 1u << 5;
	assert_int_equal(seal_small(&o, &d, &cr), MSIGN_E_ARG);
	o.hash_mask = 0;
	assert_int_equal(seal_small(&o, &d, &cr), MSIGN_E_ARG);
}

/* The race: after the walk listed a file, it becomes a symlink to
 * /etc/passwd (the nested callback runs between the walk and the
 * hashing). The hasher must refuse it, never read through it. */
static void swap_file_for_passwd(void)
{
	rm("App.app/Contents/Resources/a&<b>.txt");
	sym("App.app/Contents/Resources/a&<b>.txt", "/etc/passwd");
}

static void swap_dir_for_etc(void)
{
	char from[8192], to[8192];
	snprintf(from, sizeof(from), "%s", P("App.app/Contents/Resources/en.lproj"));
	snprintf(to, sizeof(to), "%s", P("moved.lproj"));
	assert_int_equal(rename(from, to), 0);
	sym("App.app/Contents/Resources/en.lproj", "/etc");
}

static void test_seal_race(void **st)
{
	(void)st;
	build_deep();
	struct mb_bundle b;
	open_ok("App.app", &b);
	struct nest_log l = { .hook = swap_file_for_passwd };
	struct mb_seal_opts o = seal_opts(&l, SHA256_BIT);
	struct mb_resources cr;
	struct msign_diag d = { 0 };
	assert_int_equal(mb_seal_build(&b, &o, &cr, &d), MSIGN_E_IO);
	assert_string_equal(d.msg, "file changed while sealing: Resources/a&<b>.txt");
	assert_int_equal(cr.files2.n, 0);

	memset(&l, 0, sizeof(l));
	l.hook = swap_dir_for_etc;
	memset(&d, 0, sizeof(d));
	/* Localizable.strings is now "beneath" a symlink to /etc */
	assert_int_equal(mb_seal_build(&b, &o, &cr, &d), MSIGN_E_IO);
	assert_non_null(strstr(d.msg, "file changed while sealing: "));
	mb_bundle_close(&b);

	/* the helper itself */
	int root = open(P("App.app/Contents"), O_RDONLY | O_DIRECTORY);
	assert_true(root >= 0);
	errno = 0;
	assert_int_equal(mb_openat_beneath(root, "Resources/a&<b>.txt", O_RDONLY | O_NOFOLLOW), -1);
	assert_int_equal(errno, ELOOP);
	assert_int_equal(mb_openat_beneath(root, "Resources/en.lproj/passwd", O_RDONLY), -1);
	assert_true(errno == ELOOP || errno == ENOTDIR);
	assert_int_equal(mb_openat_beneath(root, "Resources/../MacOS/exe", O_RDONLY), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(mb_openat_beneath(root, "/etc/passwd", O_RDONLY), -1);
	int ok = mb_openat_beneath(root, "MacOS/exe", O_RDONLY | O_NOFOLLOW);
	assert_true(ok >= 0);
	char buf[32] = { 0 };
	assert_int_equal(read(ok, buf, sizeof(buf) - 1), 15);
	assert_string_equal(buf, "main executable");
	close(ok);
	close(root);
}

/* ---- the check ------------------------------------------------------------- */

/* Seal b as a signer would (v1 + v2, SHA-1 + SHA-256), and read the
 * CodeResources back as a verifier would. */
static void seal_round_trip(const struct mb_bundle *b, struct mb_resources *cr)
{
	struct nest_log l = { 0 };
	struct mb_seal_opts o = seal_opts(&l, SHA1_BIT | SHA256_BIT);
	struct mb_resources made;
	seal_ok(b, &o, &made);
	uint8_t *xml = NULL;
	size_t len = 0;
	struct msign_diag d = { 0 };
	assert_int_equal(mb_cr_write(&made, &xml, &len, &d), 0);
	mb_resources_free(&made);
	assert_int_equal(mb_cr_parse(xml, len, cr, &d), 0);
	free(xml);
}

static struct mb_check_opts check_opts(struct nest_log *l)
{
	struct mb_check_opts o = { .hash_mask = SHA1_BIT | SHA256_BIT, .threads = 2,
				   .nested = check_nested, .nested_arg = l };
	return o;
}

struct prob {
	enum mb_problem_kind kind;
	const char *path;
};

static void expect_problems(const struct mb_check *c, const struct prob *p, size_t n)
{
	for (size_t i = 0; i < c->n && i < n; i++)
		if (c->v[i].kind != p[i].kind || strcmp(c->v[i].path, p[i].path) != 0)
			fail_msg("problem %zu: %d %s, expected %d %s", i, c->v[i].kind,
				 c->v[i].path, p[i].kind, p[i].path);
	if (c->n != n)
		fail_msg("%zu problems, expected %zu (first extra: %s)", c->n, n,
			 c->n > n ? c->v[n].path : p[c->n].path);
}

static void check_ok(const struct mb_bundle *b, const struct mb_resources *cr,
		     const struct mb_check_opts *o, struct mb_check *c)
{
	struct msign_diag d = { 0 };
	int r = mb_check_resources(b, cr, o, c, &d);
	if (r != 0)
		fail_msg("mb_check_resources: %d %s", r, d.msg);
}

static void test_check_problems(void **st)
{
	(void)st;
	build_deep();
	struct mb_bundle b;
	open_ok("App.app", &b);
	struct mb_resources cr;
	seal_round_trip(&b, &cr);
	struct nest_log l = { 0 };
	struct mb_check_opts o = check_opts(&l);
	struct mb_check c;

	check_ok(&b, &cr, &o, &c);
	expect_problems(&c, NULL, 0);
	assert_string_equal(c.error, "");
	assert_int_equal(l.n, 2);
	assert_string_equal(l.rel[0], "Frameworks/Foo.framework");
	assert_true(l.is_dir[0]);
	assert_string_equal(l.rel[1], "MacOS/helper");
	assert_false(l.is_dir[1]);
	mb_check_free(&c);

	wrs("App.app/Contents/Resources/new.txt", "new");
	wrs("App.app/Contents/Resources/zz/added", "new");
	wrs("App.app/Contents/Resources/a&<b>.txt", "AMP"); /* same size, other bytes */
	rm("App.app/Contents/Resources/en.lproj/Localizable.strings"); /* optional */
	rm("App.app/Contents/version.plist");
	rm("App.app/Contents/Resources/fr_CA.lproj");
	sym("App.app/Contents/Resources/fr_CA.lproj", "fr.lproj");
	rm("App.app/Contents/Resources/caf\xc3\xa9.txt");
	sym("App.app/Contents/Resources/caf\xc3\xa9.txt", "a&<b>.txt");
	wrs("App.app/Contents/Resources/.DS_Store", "changed"); /* omitted in v2 */
	wrs("App.app/Contents/PkgInfo", "changed");              /* omitted */
	memset(&l, 0, sizeof(l));
	l.verify_rel = "MacOS/helper";
	check_ok(&b, &cr, &o, &c);
	static const struct prob want[] = {
		{ MB_ADDED, "Resources/new.txt" },
		{ MB_ADDED, "Resources/zz/added" },
		{ MB_MODIFIED, "MacOS/helper" },
		{ MB_MODIFIED, "Resources/a&<b>.txt" },
		{ MB_MODIFIED, cafe },
		{ MB_MODIFIED, "Resources/fr_CA.lproj" },
		{ MB_MISSING, "version.plist" },
	};
	expect_problems(&c, want, N(want));
	assert_string_equal(c.error, "");
	mb_check_free(&c);

	/* the same with one thread: the same list */
	o.threads = 1;
	memset(&l, 0, sizeof(l));
	l.verify_rel = "MacOS/helper";
	check_ok(&b, &cr, &o, &c);
	expect_problems(&c, want, N(want));
	mb_check_free(&c);

	/* version 1 (no files2): its own rules and seals; symlinks ignored */
	cr.has_files2 = false;
	memset(&l, 0, sizeof(l));
	check_ok(&b, &cr, &o, &c);
	static const struct prob want1[] = {
		{ MB_ADDED, "Resources/new.txt" },
		{ MB_ADDED, "Resources/zz/added" },
		{ MB_MODIFIED, "Resources/.DS_Store" },
		{ MB_MODIFIED, "Resources/a&<b>.txt" },
		{ MB_MISSING, cafe },
		{ MB_MISSING, "version.plist" },
	};
	expect_problems(&c, want1, N(want1));
	assert_int_equal(l.n, 0);
	mb_check_free(&c);
	cr.has_files2 = true;

	/* a nested failure other than the requirement aborts, naming it */
	memset(&l, 0, sizeof(l));
	l.fail_rel = "Frameworks/Foo.framework";
	struct msign_diag d = { 0 };
	assert_int_equal(mb_check_resources(&b, &cr, &o, &c, &d), MSIGN_E_INVALID);
	assert_string_equal(c.subcomponent, "Frameworks/Foo.framework");
	assert_string_equal(d.msg, "nested signature is broken");
	assert_int_equal(c.n, 0);
	mb_check_free(&c);

	/* a nested entry that is now a symlink: modified, not called */
	char from[8192];
	snprintf(from, sizeof(from), "%s", P("App.app/Contents/MacOS/helper"));
	assert_int_equal(rename(from, P("helper.moved")), 0);
	sym("App.app/Contents/MacOS/helper", "../../../helper.moved");
	memset(&l, 0, sizeof(l));
	check_ok(&b, &cr, &o, &c);
	assert_int_equal(l.n, 1);
	assert_int_equal(c.v[2].kind, MB_MODIFIED);
	assert_string_equal(c.v[2].path, "MacOS/helper");
	mb_check_free(&c);

	/* a signature whose hash types the seals lack: every file modified */
	o.hash_mask = 1u << 4;
	memset(&l, 0, sizeof(l));
	check_ok(&b, &cr, &o, &c);
	size_t modified = 0;
	for (size_t i = 0; i < c.n; i++)
		modified += c.v[i].kind == MB_MODIFIED;
	assert_int_equal(modified, 6); /* Base, Inner, a&<b>, cafe, fr_CA, helper */
	mb_check_free(&c);
	mb_resources_free(&cr);
	mb_bundle_close(&b);
}

/* The race of the check: a file whose bytes are /etc/passwd's becomes a
 * symlink to /etc/passwd after the walk. Read through the link, it
 * would match its seal; refused, it is modified. */
static void swap_copy_for_passwd(void)
{
	rm("App.app/Contents/Resources/a&<b>.txt");
	sym("App.app/Contents/Resources/a&<b>.txt", "/etc/passwd");
}

static void test_check_race(void **st)
{
	(void)st;
	build_deep();
	uint8_t *pw = NULL;
	size_t pw_len = 0;
	{
		FILE *fp = fopen("/etc/passwd", "rb");
		assert_non_null(fp);
		pw = malloc(1 << 20);
		pw_len = fread(pw, 1, 1 << 20, fp);
		fclose(fp);
		assert_true(pw_len > 0);
	}
	wr("App.app/Contents/Resources/a&<b>.txt", pw, pw_len);
	struct mb_bundle b;
	open_ok("App.app", &b);
	struct mb_resources cr;
	seal_round_trip(&b, &cr);
	struct nest_log l = { .hook = swap_copy_for_passwd };
	struct mb_check_opts o = check_opts(&l);
	struct mb_check c;
	check_ok(&b, &cr, &o, &c);
	static const struct prob want[] = { { MB_MODIFIED, "Resources/a&<b>.txt" } };
	expect_problems(&c, want, 1);
	mb_check_free(&c);
	mb_resources_free(&cr);
	mb_bundle_close(&b);
	free(pw);
}

/* Open, seal, check strict; the error sentence ("" when none). */
static void strict_error(const char *rel, char *out, size_t cap)
{
	struct mb_bundle b;
	open_ok(rel, &b);
	struct mb_resources cr;
	seal_round_trip(&b, &cr);
	struct nest_log l = { 0 };
	struct mb_check_opts o = check_opts(&l);
	o.strict = true;
	struct mb_check c;
	check_ok(&b, &cr, &o, &c);
	snprintf(out, cap, "%s", c.error);
	if (c.error[0] != '\0')
		assert_int_equal(c.n, 0);
	mb_check_free(&c);
	mb_resources_free(&cr);
	mb_bundle_close(&b);
}

static void test_check_strict_structure(void **st)
{
	(void)st;
	static const char root[] = "unsealed contents present in the bundle root";
	static const char fwroot[] =
		"unsealed contents present in the root directory of an embedded framework";
	static const char regular[] =
		"the main executable or Info.plist must be a regular file (no symlinks, etc.)";
	char e[256];
	build_deep();
	strict_error("App.app", e, sizeof(e));
	assert_string_equal(e, "");
	/* the four plain files are allowed at the root */
	wrs("App.app/.DS_Store", "d");
	wrs("App.app/Icon\r", "i");
	wrs("App.app/.LSOverride", "l");
	wrs("App.app/.SoftwareDepot.tracking", "t");
	strict_error("App.app", e, sizeof(e));
	assert_string_equal(e, "");
	assert_int_equal(chmod(P("App.app/Icon\r"), 0755), 0); /* not a plain file */
	strict_error("App.app", e, sizeof(e));
	assert_string_equal(e, root);
	assert_int_equal(chmod(P("App.app/Icon\r"), 0644), 0);
	wrs("App.app/README", "r");
	strict_error("App.app", e, sizeof(e));
	assert_string_equal(e, root);
	rm("App.app/README");
	/* _CodeSignature: only the signature's own files */
	wrs("App.app/Contents/_CodeSignature/CodeRequirements-1", "r");
	strict_error("App.app", e, sizeof(e));
	assert_string_equal(e, "");
	wrs("App.app/Contents/_CodeSignature/notes.txt", "n");
	strict_error("App.app", e, sizeof(e));
	assert_string_equal(e, root);
	rm("App.app/Contents/_CodeSignature/notes.txt");
	sym("App.app/Contents/_CodeSignature/CodeSignature", "CodeResources");
	strict_error("App.app", e, sizeof(e));
	assert_string_equal(e, root);
	rm("App.app/Contents/_CodeSignature/CodeSignature");
	/* a symlinked Info.plist is read (as CFBundle does) but refused */
	char from[8192];
	snprintf(from, sizeof(from), "%s", P("App.app/Contents/Info.plist"));
	assert_int_equal(rename(from, P("App.app/Contents/Resources/Info.plist")), 0);
	sym("App.app/Contents/Info.plist", "Resources/Info.plist");
	strict_error("App.app", e, sizeof(e));
	assert_string_equal(e, regular);
	rm("App.app/Contents/Info.plist");
	snprintf(from, sizeof(from), "%s", P("App.app/Contents/Resources/Info.plist"));
	assert_int_equal(rename(from, P("App.app/Contents/Info.plist")), 0);
	rm("App.app/Contents/MacOS/exe");
	sym("App.app/Contents/MacOS/exe", "helper");
	strict_error("App.app", e, sizeof(e));
	assert_string_equal(e, regular);

	/* template B's omissions are the allowed ones for R = "" */
	build_shallow();
	strict_error("Shallow.app", e, sizeof(e));
	assert_string_equal(e, "");

	/* the framework root */
	build_framework("A");
	strict_error("Foo.framework", e, sizeof(e));
	assert_string_equal(e, "");
	sym("Foo.framework/Headers", "./Versions/A/Headers");
	wrs("Foo.framework/module.map", "m");
	strict_error("Foo.framework", e, sizeof(e));
	assert_string_equal(e, "");
	sym("Foo.framework/Other", "Versions/Current/Elsewhere");
	strict_error("Foo.framework", e, sizeof(e));
	assert_string_equal(e, fwroot);
	rm("Foo.framework/Other");
	wrs("Foo.framework/notes", "n");
	strict_error("Foo.framework", e, sizeof(e));
	assert_string_equal(e, fwroot);
	rm("Foo.framework/notes");
	/* Versions/Current a directory: a copy, not the framework layout */
	rm("Foo.framework/Versions/Current");
	wrs("Foo.framework/Versions/Current/Resources/Info.plist", "");
	info_xml("Foo.framework/Versions/Current/Resources/Info.plist",
		 "\t<key>CFBundleExecutable</key>\n\t<string>Foo</string>\n");
	wrs("Foo.framework/Versions/Current/Foo", "copy");
	strict_error("Foo.framework", e, sizeof(e));
	assert_string_equal(e, fwroot);
}

static void test_check_envelope(void **st)
{
	(void)st;
	build_deep();
	struct mb_bundle b;
	open_ok("App.app", &b);
	struct mb_resources cr;
	seal_round_trip(&b, &cr);
	struct nest_log l = { 0 };
	struct mb_check_opts o = check_opts(&l);
	o.strict = true;
	struct mb_check c;

	/* version 1 only */
	cr.has_files2 = false;
	check_ok(&b, &cr, &o, &c);
	assert_string_equal(c.error, "resource envelope is obsolete (version 1 signature)");
	mb_check_free(&c);
	cr.has_files2 = true;

	/* an omit rule that is not one of the allowed four */
	struct mb_rule *v = realloc(cr.rules2.v, (cr.rules2.n + 1) * sizeof(*v));
	assert_non_null(v);
	cr.rules2.v = v;
	memset(&v[cr.rules2.n], 0, sizeof(v[0]));
	v[cr.rules2.n].pattern = strdup("^Secret/");
	v[cr.rules2.n].flags = MB_RULE_OMIT;
	v[cr.rules2.n].weight = 30;
	cr.rules2.n++;
	check_ok(&b, &cr, &o, &c);
	assert_string_equal(c.error, "resource envelope is obsolete (custom omit rules)");
	mb_check_free(&c);
	o.strict = false; /* not strict: no opinion */
	check_ok(&b, &cr, &o, &c);
	assert_string_equal(c.error, "");
	mb_check_free(&c);
	o.strict = true;
	cr.rules2.n--;
	free(v[cr.rules2.n].pattern);

	/* the catch-all rule no longer plain <true/> */
	size_t k = 0;
	while (k < cr.rules2.n && strcmp(cr.rules2.v[k].pattern, "^.*") != 0)
		k++;
	assert_true(k < cr.rules2.n);
	assert_true(cr.rules2.v[k].bare_true);
	cr.rules2.v[k].bare_true = false;
	check_ok(&b, &cr, &o, &c);
	assert_string_equal(c.error, "resource envelope is obsolete (custom omit rules)");
	mb_check_free(&c);
	cr.rules2.v[k].bare_true = true;

	/* no rules at all */
	cr.has_rules2 = false;
	check_ok(&b, &cr, &o, &c);
	assert_string_equal(c.error,
			    "code has no resources but signature indicates they must be present");
	mb_check_free(&c);
	cr.has_rules2 = true;

	/* a fifo in a strict check */
	assert_int_equal(mkfifo(P("App.app/Contents/Resources/pipe"), 0644), 0);
	o.restrict_symlinks = false;
	check_ok(&b, &cr, &o, &c);
	assert_string_equal(c.error,
			    "unsupported resource found (something not a directory, file or symlink)");
	mb_check_free(&c);
	o.strict = false;
	check_ok(&b, &cr, &o, &c);
	assert_string_equal(c.error, "");
	assert_int_equal(c.n, 0);
	mb_check_free(&c);
	mb_resources_free(&cr);
	mb_bundle_close(&b);
}

/* Seal L.app with one more symlink, then check it with
 * restrict_symlinks: the error ("" when accepted). */
static void link_case(const char *rel, const char *target, char *out, size_t cap)
{
	char full[512];
	snprintf(full, sizeof(full), "L.app/%s", rel);
	sym(full, target);
	struct mb_bundle b;
	open_ok("L.app", &b);
	struct mb_resources cr;
	seal_round_trip(&b, &cr);
	struct nest_log l = { 0 };
	struct mb_check_opts o = check_opts(&l);
	o.restrict_symlinks = true;
	struct mb_check c;
	check_ok(&b, &cr, &o, &c);
	snprintf(out, cap, "%s", c.error);
	if (c.error[0] == '\0')
		assert_int_equal(c.n, 0);
	mb_check_free(&c);
	mb_resources_free(&cr);
	mb_bundle_close(&b);
	rm(full);
}

static void test_check_symlinks(void **st)
{
	(void)st;
	info_xml("L.app/Info.plist", "\t<key>CFBundleExecutable</key>\n\t<string>L</string>\n");
	wrs("L.app/L", "l");
	wrs("L.app/a.txt", "a");
	wrs("L.app/sub/b.txt", "b");
	wrs("L.app/en.lproj/x.strings", "x");
	static const char bad[] = "invalid destination for symbolic link in bundle";
	static const struct { const char *rel, *target; bool ok; } cases[] = {
		{ "l1", "a.txt", true },
		{ "sub/l2", "../a.txt", true },
		{ "sub/l3", "./b.txt", true },
		{ "fr.lproj", "en.lproj", true },      /* a directory of sealed files */
		{ "l4", "L", true },                   /* the main executable */
		{ "l5", "/System/x", true },
		{ "l6", "/Library/Frameworks/Y.framework", true },
		{ "l7", "../../etc/passwd", false },
		/* out through the bundle's own folder and back in: the sealed
		 * a.txt it resolves to (spec 4: it must resolve inside) */
		{ "sub/l8", "../../L.app/a.txt", true },
		{ "sub/l8b", "../../M.app/a.txt", false }, /* another folder */
		{ "sub/l8c", "../../../x/a.txt", false },  /* above the bundle */
		{ "l9", "/System/../etc/passwd", false },
		{ "l10", "/etc/passwd", false },
		{ "l11", "missing.txt", false },
		{ "l12", "Info.plist", false },        /* omitted, not sealed */
		{ "l13", "/System", false },
	};
	for (size_t i = 0; i < N(cases); i++) {
		char e[256];
		link_case(cases[i].rel, cases[i].target, e, sizeof(e));
		if (strcmp(e, cases[i].ok ? "" : bad) != 0)
			fail_msg("%s -> %s: \"%s\"", cases[i].rel, cases[i].target, e);
	}
}

static void test_sideband(void **st)
{
	(void)st;
	build_small();
	struct mb_bundle b;
	open_ok("S.app", &b);
	struct mb_resources cr;
	seal_round_trip(&b, &cr);
	static const uint8_t fi[32] = { 'T', 'E', 'X', 'T' };
	if (setxattr(P("S.app/a.txt"), "user.com.apple.FinderInfo", fi, sizeof(fi), 0) != 0)
		fail_msg("this file system keeps no user xattrs: %s", strerror(errno));
	/* an unrelated attribute is fine */
	assert_int_equal(setxattr(P("S.app/S"), "user.other", "x", 1, 0), 0);
	struct nest_log l = { 0 };
	struct mb_check_opts o = check_opts(&l);
	struct mb_check c;
	check_ok(&b, &cr, &o, &c);
	assert_string_equal(c.error, "");
	assert_int_equal(c.n, 0);
	mb_check_free(&c);
	o.restrict_sideband = true;
	check_ok(&b, &cr, &o, &c);
	assert_string_equal(c.error,
			    "resource fork, Finder information, or similar detritus not allowed");
	mb_check_free(&c);
	mb_resources_free(&cr);

	struct mb_seal_opts so = seal_opts(&l, SHA256_BIT);
	struct msign_diag d = { 0 };
	assert_int_equal(mb_seal_build(&b, &so, &cr, &d), 0); /* not strict */
	mb_resources_free(&cr);
	so.strict = true;
	assert_int_equal(mb_seal_build(&b, &so, &cr, &d), MSIGN_E_INVALID);
	assert_string_equal(d.msg,
			    "resource fork, Finder information, or similar detritus not allowed");
	/* on the bundle root too */
	assert_int_equal(removexattr(P("S.app/a.txt"), "user.com.apple.FinderInfo"), 0);
	assert_int_equal(setxattr(P("S.app"), "user.com.apple.ResourceFork", "r", 1, 0), 0);
	memset(&d, 0, sizeof(d));
	assert_int_equal(mb_seal_build(&b, &so, &cr, &d), MSIGN_E_INVALID);
	assert_string_equal(d.msg,
			    "resource fork, Finder information, or similar detritus not allowed");
	mb_bundle_close(&b);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_classify_deep),
		T(test_classify_xml_and_identifier),
		T(test_classify_framework),
		T(test_classify_shallow_and_errors),
		T(test_classify_hostile_nesting),
		T(test_seal_deep),
		T(test_seal_framework_and_shallow),
		T(test_seal_threads),
		T(test_seal_unsigned_nested),
		T(test_seal_limits_and_types),
		T(test_seal_race),
		T(test_check_problems),
		T(test_check_race),
		T(test_check_strict_structure),
		T(test_check_envelope),
		T(test_check_symlinks),
		T(test_sideband),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
