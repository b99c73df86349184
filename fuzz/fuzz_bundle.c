/* libFuzzer target: bundle trees. The input describes a folder, which is
 * built on disk and then opened, sealed, written, parsed, checked and
 * verified (src/bundle, spec bundles.md).
 *
 * Input format (fuzz/make-bundle-seeds.py writes it):
 *   byte 0      configuration, bits:
 *                 0-1  bundle folder name: B.app, B.framework, B, b.bundle
 *                 2-3  seal hash types: SHA-256; SHA-1; SHA-1 + SHA-256;
 *                      SHA-256 + SHA-384
 *                 4    strict walk (fifos refused)
 *                 5    no version-1 seal (files, rules)
 *                 6    no version-2 seal (files2, rules2); 5 and 6: both
 *                 7    verify with --deep and the strict resource checks
 *   then up to FZ_MAX_RECORDS records, until the input ends:
 *     op (1 byte, taken modulo FZ_OPS), name length n (1 byte), n bytes of
 *     name, payload length m (2 bytes, little-endian; cut to what is
 *     left), m bytes of payload.
 * A name is a path below the bundle folder: split at '/', empty, "." and
 * ".." components dropped, cut at a NUL; anything else stays (newlines,
 * non-UTF-8, ".lproj", ".framework"). Every folder on the way is created
 * and opened without following links, so the harness itself never writes
 * outside its folder; link targets are the payload, as given (absolute,
 * "..", dangling, loops). Ops:
 *   DIR     a folder (and its parents)
 *   FILE    a file holding the payload (0644); EXEC the same, 0755
 *   APPEND  the payload appended to a file (created if missing)
 *   ZEROS   as many zero bytes appended as the payload's first two bytes
 *           say (little-endian): a seed's Mach-O stays small that way
 *   LINK    a symbolic link to the payload (up to a NUL)
 *   INFO    NAME/Info.plist; payload byte 0 mod 3: 0 the rest as is,
 *           1 an XML and 2 a binary plist of the rest's "key=value" lines
 *           (strings; a line without '=' is key = true)
 *   CR      NAME/_CodeSignature/CodeResources holding the payload, which
 *           is also parsed on its own (the last one counts)
 *   NESTED  a shallow bundle at NAME: an Info.plist naming its executable
 *           (NAME's last component without extension), which is a copy
 *           of the tree's file named by the payload (none: Info.plist only)
 *   SIGN    msign_sign_bundle on the tree as it is now (payload byte 0
 *           bit 0: MSIGN_BUNDLE_DEEP); at most FZ_MAX_SIGNS per input
 *   REMOVE  unlink NAME (a folder only when empty)
 *   FIFO    a named pipe
 *   XATTR   an extended attribute on NAME: payload byte 0 picks
 *           user.com.apple.ResourceFork, user.com.apple.FinderInfo or
 *           user.fuzz; the rest is the value
 *
 * Then, with no crash, leak, hang or huge allocation allowed:
 * mb_bundle_open; mb_seal_build with a nested-code callback that returns a
 * fixed cdhash and requirement, and again with one returning
 * MSIGN_E_NOT_SIGNED; mb_cr_write of the first seal, mb_cr_parse of those
 * bytes and mb_cr_write again (same bytes, else abort); mb_cr_parse of
 * the input's CodeResources (and the same round trip when it writes);
 * mb_check_resources of the unchanged tree against the seal just built
 * (and its reparsed copy): no problem and no error allowed, else abort;
 * against the input's seal; msign_bundle_open and msign_verify_bundle;
 * when the last record was a SIGN that succeeded, the tree must verify.
 * The tree is removed with mb_tree_remove (links never followed).
 *
 * The folder: mkdtemp under $TMPDIR (or /tmp) once per process, its name
 * reused; it is removed after every input (the replay's workers end with
 * _exit, which would leave it behind otherwise). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <plist/plist.h>

#include "bundle/bundle.h"
#include "bundle/bundle_int.h"
#include "msign/bundle.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FZ_MAX_RECORDS 64
#define FZ_MAX_SIGNS 2
#define FZ_MAX_FILE (1u << 20) /* ZEROS and APPEND stop growing a file here */

enum fz_op {
	FZ_DIR, FZ_FILE, FZ_EXEC, FZ_APPEND, FZ_ZEROS, FZ_LINK, FZ_INFO, FZ_CR,
	FZ_NESTED, FZ_SIGN, FZ_REMOVE, FZ_FIFO, FZ_XATTR, FZ_OPS
};

/* MSIGN_FUZZ_BUNDLE_DEBUG set: each step's outcome on stderr, for
 * checking what a seed reaches. */
static int fz_debug = -1;
#define FZ_DBG(...) \
	do { \
		if (fz_debug > 0) \
			fprintf(stderr, "fuzz_bundle: " __VA_ARGS__); \
	} while (0)

static char fz_work[PATH_MAX]; /* the process's folder ("" before the first) */

/* The folder for this input: created on the first input, recreated under
 * the same name afterwards (a fresh one when that name was taken). */
static int fz_work_make(void)
{
	if (fz_work[0] != '\0' && mkdir(fz_work, 0700) == 0)
		return 0;
	const char *tmp = getenv("TMPDIR");
	if (tmp == NULL || tmp[0] == '\0')
		tmp = "/tmp";
	if (snprintf(fz_work, sizeof(fz_work), "%s/msign-fuzz-bundle-XXXXXX", tmp) >=
	    (int)sizeof(fz_work))
		return -1;
	return mkdtemp(fz_work) != NULL ? 0 : -1;
}

/* Everything in the folder, then the folder. */
static void fz_work_remove(void)
{
	DIR *dir = opendir(fz_work);
	if (dir != NULL) {
		struct dirent *e;
		while ((e = readdir(dir)) != NULL) {
			if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
				continue;
			char p[PATH_MAX];
			if (snprintf(p, sizeof(p), "%s/%s", fz_work, e->d_name) <
			    (int)sizeof(p))
				(void)mb_tree_remove(p);
		}
		closedir(dir);
	}
	/* A leftover would make the next input see another tree. */
	if (rmdir(fz_work) != 0 && errno != ENOENT)
		abort();
}

/* The input's name as a path below the bundle: components joined by '/',
 * empty, "." and ".." dropped, cut at a NUL. */
static void fz_name(const uint8_t *p, size_t n, char *out, size_t cap)
{
	size_t o = 0, i = 0;
	while (i < n && p[i] != 0) {
		size_t s = i;
		while (i < n && p[i] != 0 && p[i] != '/')
			i++;
		size_t len = i - s;
		bool dot = (len == 1 && p[s] == '.') || (len == 2 && p[s] == '.' && p[s + 1] == '.');
		if (len > 0 && !dot && o + len + 2 < cap) {
			if (o > 0)
				out[o++] = '/';
			memcpy(out + o, p + s, len);
			o += len;
		}
		if (i < n && p[i] == '/')
			i++;
	}
	out[o] = '\0';
}

/* The folder holding rel's last component, opened (and created) below
 * root without following a link; *last points into rel. -1 when rel is
 * empty or a component is no folder. */
static int fz_parent(int root, const char *rel, bool create, const char **last)
{
	if (rel[0] == '\0')
		return -1;
	int fd = dup(root);
	const char *p = rel;
	for (const char *slash; fd >= 0 && (slash = strchr(p, '/')) != NULL; p = slash + 1) {
		char comp[NAME_MAX + 1];
		size_t len = (size_t)(slash - p);
		if (len > NAME_MAX) {
			close(fd);
			return -1;
		}
		memcpy(comp, p, len);
		comp[len] = '\0';
		if (create)
			(void)mkdirat(fd, comp, 0755);
		int sub = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		close(fd);
		fd = sub;
	}
	*last = p;
	return fd;
}

/* A regular file at rel (opened without following a link), flags as
 * open's; its folders are created only for O_CREAT (a source named by a
 * payload may be far deeper than mb_tree_remove goes). -1 when it cannot
 * be opened. */
static int fz_open(int root, const char *rel, int flags, mode_t mode)
{
	const char *last;
	int dir = fz_parent(root, rel, (flags & O_CREAT) != 0, &last);
	if (dir < 0)
		return -1;
	int fd = openat(dir, last, flags | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, mode);
	close(dir);
	struct stat st;
	if (fd >= 0 && (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))) {
		close(fd);
		fd = -1;
	}
	return fd;
}

static void fz_write(int root, const char *rel, const uint8_t *p, size_t n,
		     bool append, mode_t mode)
{
	int fd = fz_open(root, rel, O_WRONLY | O_CREAT | (append ? O_APPEND : O_TRUNC), mode);
	if (fd < 0)
		return;
	struct stat st;
	if (fstat(fd, &st) == 0 && (uint64_t)st.st_size + n <= FZ_MAX_FILE &&
	    write(fd, p, n) != (ssize_t)n) {
		/* a short write leaves a shorter file: a tree like any other */
	}
	close(fd);
}

/* rel joined to a folder name ("" joins to nothing). */
static void fz_join(char *out, size_t cap, const char *dir, const char *rel)
{
	if (snprintf(out, cap, "%s%s%s", dir, dir[0] ? "/" : "", rel) >= (int)cap)
		out[0] = '\0';
}

/* An XML (binary) plist of "key=value" lines; *out malloc'd by libplist. */
static void fz_plist(const uint8_t *p, size_t n, bool binary, char **out, uint32_t *len)
{
	plist_t dict = plist_new_dict();
	size_t i = 0;
	while (i < n) {
		size_t s = i;
		while (i < n && p[i] != '\n')
			i++;
		char line[512];
		size_t ll = i - s < sizeof(line) - 1 ? i - s : sizeof(line) - 1;
		memcpy(line, p + s, ll);
		line[ll] = '\0';
		i++;
		if (strlen(line) == 0)
			continue;
		char *eq = strchr(line, '=');
		if (eq != NULL) {
			*eq = '\0';
			plist_dict_set_item(dict, line, plist_new_string(eq + 1));
		} else {
			plist_dict_set_item(dict, line, plist_new_bool(1));
		}
	}
	if (binary)
		plist_to_bin(dict, out, len);
	else
		plist_to_xml(dict, out, len);
	plist_free(dict);
}

static void fz_info(int root, const char *dir, const uint8_t *p, size_t n)
{
	char rel[MB_MAX_PATH + 16];
	fz_join(rel, sizeof(rel), dir, "Info.plist");
	if (n == 0 || p[0] % 3 == 0) {
		fz_write(root, rel, p + (n > 0), n - (n > 0), false, 0644);
		return;
	}
	char *pl = NULL;
	uint32_t len = 0;
	fz_plist(p + 1, n - 1, p[0] % 3 == 2, &pl, &len);
	if (pl != NULL)
		fz_write(root, rel, (const uint8_t *)pl, len, false, 0644);
	free(pl);
}

/* A copy of the tree's file src at dst (at most FZ_MAX_FILE bytes). */
static void fz_copy(int root, const char *src, const char *dst)
{
	int fd = fz_open(root, src, O_RDONLY, 0);
	if (fd < 0)
		return;
	uint8_t *buf = malloc(FZ_MAX_FILE);
	ssize_t n = buf ? read(fd, buf, FZ_MAX_FILE) : -1;
	close(fd);
	if (n >= 0)
		fz_write(root, dst, buf, (size_t)n, false, 0755);
	free(buf);
}

static void fz_nested(int root, const char *rel, const uint8_t *p, size_t n, unsigned k)
{
	const char *base = strrchr(rel, '/') ? strrchr(rel, '/') + 1 : rel;
	char exe[NAME_MAX + 1];
	size_t bl = strnlen(base, NAME_MAX);
	memcpy(exe, base, bl);
	exe[bl] = '\0';
	char *dot = strrchr(exe, '.');
	if (dot != NULL && dot != exe)
		*dot = '\0';
	char src[MB_MAX_PATH];
	fz_name(p, n, src, sizeof(src));
	char lines[NAME_MAX + 128];
	int len = snprintf(lines, sizeof(lines),
			   "CFBundleIdentifier=org.fuzz.nested%u\nCFBundlePackageType=BNDL\n%s%s",
			   k, src[0] ? "CFBundleExecutable=" : "", src[0] ? exe : "");
	char *pl = NULL;
	uint32_t pl_len = 0;
	fz_plist((const uint8_t *)lines, (size_t)len, false, &pl, &pl_len);
	char path[MB_MAX_PATH + NAME_MAX + 16];
	fz_join(path, sizeof(path), rel, "Info.plist");
	if (pl != NULL)
		fz_write(root, path, (const uint8_t *)pl, pl_len, false, 0644);
	free(pl);
	if (src[0]) {
		fz_join(path, sizeof(path), rel, exe);
		fz_copy(root, src, path);
	}
}

/* 0 when msign_sign_bundle signed the tree. */
static int fz_sign(const char *bundle, const uint8_t *p, size_t n)
{
	msign_sign_options *o = msign_sign_options_new();
	if (o == NULL)
		return -1;
	(void)msign_sign_options_set_threads(o, 1);
	(void)msign_sign_options_set_force(o, true);
	unsigned flags = n > 0 && (p[0] & 1) ? MSIGN_BUNDLE_DEEP : 0;
	char *sub = NULL;
	struct msign_diag d;
	msign_diag_clear(&d);
	int r = msign_sign_bundle(bundle, o, flags, &sub, &d);
	FZ_DBG("sign: %d %s%s%s\n", r, d.msg, sub ? " in " : "", sub ? sub : "");
	free(sub);
	msign_sign_options_free(o);
	return r;
}

static void fz_remove(int root, const char *rel)
{
	const char *last;
	int dir = fz_parent(root, rel, false, &last);
	if (dir < 0)
		return;
	if (unlinkat(dir, last, 0) != 0)
		(void)unlinkat(dir, last, AT_REMOVEDIR);
	close(dir);
}

static void fz_xattr(int root, const char *rel, const uint8_t *p, size_t n)
{
	static const char *const names[] = { "user.com.apple.ResourceFork",
					     "user.com.apple.FinderInfo", "user.fuzz" };
	int fd = fz_open(root, rel, O_RDONLY, 0);
	if (fd < 0)
		return;
	const char *name = names[n > 0 ? p[0] % 3 : 0];
	(void)fsetxattr(fd, name, n > 1 ? p + 1 : (const uint8_t *)"", n > 1 ? n - 1 : 0, 0);
	close(fd);
}

/* Build the tree the records describe below root (a folder at path);
 * the last CR payload in *cr; true when the last record was a SIGN that
 * succeeded (the tree is then as msign signed it). */
static bool fz_build(const char *path, int *rootp, const uint8_t *data, size_t size,
		     const uint8_t **cr, size_t *cr_len)
{
	int root = *rootp;
	bool signed_last = false;
	size_t at = 1;
	unsigned signs = 0;
	for (unsigned k = 0; k < FZ_MAX_RECORDS && at + 2 <= size; k++) {
		uint8_t op = data[at] % FZ_OPS;
		size_t nlen = data[at + 1];
		at += 2;
		if (nlen > size - at)
			nlen = size - at;
		const uint8_t *name = data + at;
		at += nlen;
		size_t plen = 0;
		if (size - at >= 2) {
			plen = (size_t)data[at] | (size_t)data[at + 1] << 8;
			at += 2;
		} else {
			at = size;
		}
		if (plen > size - at)
			plen = size - at;
		const uint8_t *pay = data + at;
		at += plen;
		char rel[MB_MAX_PATH];
		fz_name(name, nlen, rel, sizeof(rel));
		char sub[MB_MAX_PATH + 64];
		signed_last = false;
		switch (op) {
		case FZ_DIR:
			fz_join(sub, sizeof(sub), rel, "x");
			{
				const char *last;
				int fd = fz_parent(root, sub, true, &last);
				if (fd >= 0)
					close(fd);
			}
			break;
		case FZ_FILE:
		case FZ_EXEC:
			fz_write(root, rel, pay, plen, false, op == FZ_EXEC ? 0755 : 0644);
			break;
		case FZ_APPEND:
			fz_write(root, rel, pay, plen, true, 0644);
			break;
		case FZ_ZEROS: {
			size_t z = plen >= 2 ? (size_t)pay[0] | (size_t)pay[1] << 8 : 0;
			uint8_t *zeros = calloc(1, z ? z : 1);
			if (zeros != NULL)
				fz_write(root, rel, zeros, z, true, 0644);
			free(zeros);
			break;
		}
		case FZ_LINK: {
			char target[PATH_MAX];
			size_t tl = strnlen((const char *)pay, plen < sizeof(target) - 1 ? plen : sizeof(target) - 1);
			memcpy(target, pay, tl);
			target[tl] = '\0';
			const char *last;
			int fd = fz_parent(root, rel, true, &last);
			if (fd >= 0) {
				(void)symlinkat(target, fd, last);
				close(fd);
			}
			break;
		}
		case FZ_INFO:
			fz_info(root, rel, pay, plen);
			break;
		case FZ_CR:
			fz_join(sub, sizeof(sub), rel, "_CodeSignature/CodeResources");
			fz_write(root, sub, pay, plen, false, 0644);
			*cr = pay;
			*cr_len = plen;
			break;
		case FZ_NESTED:
			if (rel[0])
				fz_nested(root, rel, pay, plen, k);
			break;
		case FZ_SIGN:
			if (signs++ < FZ_MAX_SIGNS) {
				signed_last = fz_sign(path, pay, plen) == 0;
				/* signing exchanged the folder: the new tree is at path */
				close(root);
				root = *rootp = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
							   O_CLOEXEC);
				if (root < 0)
					return false;
			}
			break;
		case FZ_REMOVE:
			fz_remove(root, rel);
			break;
		case FZ_FIFO: {
			const char *last;
			int fd = fz_parent(root, rel, true, &last);
			if (fd >= 0) {
				(void)mkfifoat(fd, last, 0644);
				close(fd);
			}
			break;
		}
		case FZ_XATTR:
			fz_xattr(root, rel, pay, plen);
			break;
		}
	}
	return signed_last;
}

/* ---- nested-code callbacks ------------------------------------------------ */

static int fz_nested_ok(void *arg, int root_fd, const char *rel, bool is_dir,
			uint8_t cdhash[20], char **req, struct msign_diag *d)
{
	(void)arg, (void)root_fd, (void)is_dir, (void)d;
	memset(cdhash, 0xa5, 20);
	/* the requirement names the path: XML escaping of what the walk found */
	size_t n = strlen(rel) + 64;
	*req = malloc(n);
	if (*req == NULL)
		return MSIGN_E_NOMEM;
	snprintf(*req, n, "identifier \"%s\" and anchor apple", rel);
	return 0;
}

static int fz_nested_unsigned(void *arg, int root_fd, const char *rel, bool is_dir,
			      uint8_t cdhash[20], char **req, struct msign_diag *d)
{
	(void)arg, (void)root_fd, (void)is_dir, (void)cdhash, (void)req;
	return msign_diag_set(d, MSIGN_E_NOT_SIGNED, 0, "%s: not signed", rel);
}

static int fz_check_ok(void *arg, int root_fd, const char *rel, bool is_dir,
		       const char *req, struct msign_diag *d)
{
	(void)arg, (void)root_fd, (void)rel, (void)is_dir, (void)req, (void)d;
	return 0;
}

/* Odd path lengths do not satisfy their requirement, even ones fail. */
static int fz_check_mixed(void *arg, int root_fd, const char *rel, bool is_dir,
			  const char *req, struct msign_diag *d)
{
	(void)arg, (void)root_fd, (void)is_dir, (void)req;
	if (strlen(rel) % 2)
		return MSIGN_E_VERIFY;
	return msign_diag_set(d, MSIGN_E_INVALID, 0, "nested code %s is broken", rel);
}

/* ---- the checks ----------------------------------------------------------- */

/* write(cr) -> parse -> write: the same bytes, else abort. The reparsed
 * copy in *again (caller frees) when it was made; 0 when cr wrote. */
static int fz_round_trip(const struct mb_resources *cr, struct mb_resources *again)
{
	uint8_t *b1 = NULL, *b2 = NULL;
	size_t l1 = 0, l2 = 0;
	struct msign_diag d;
	msign_diag_clear(&d);
	if (mb_cr_write(cr, &b1, &l1, &d) != 0)
		return -1;
	if (mb_cr_parse(b1, l1, again, &d) != 0)
		abort(); /* the writer wrote what the parser refuses */
	if (mb_cr_write(again, &b2, &l2, &d) != 0 || l1 != l2 || memcmp(b1, b2, l1) != 0)
		abort(); /* the file changes when read and written back */
	free(b1);
	free(b2);
	return 0;
}

/* The unchanged tree against a seal made from it: nothing added,
 * modified or missing, no error. */
static void fz_check_clean(const struct mb_bundle *b, const struct mb_resources *cr,
			   uint32_t mask, bool strict)
{
	/* A strict check refuses a version-1-only seal as an obsolete
	 * envelope (spec 4): a verdict on the seal's version, not a problem
	 * of the tree, so such a seal is checked without strict. */
	struct mb_check_opts co = { .hash_mask = mask,
				    .strict = strict && cr->has_files2, .threads = 1,
				    .nested = fz_check_ok };
	struct mb_check c;
	struct msign_diag d;
	msign_diag_clear(&d);
	int r = mb_check_resources(b, cr, &co, &c, &d);
	FZ_DBG("clean check: %d %s, %zu problems%s%s, error \"%s\"\n", r, d.msg, c.n,
	       c.n ? ", first " : "", c.n ? c.v[0].path : "", c.error);
	if (r != 0 || c.n != 0 || c.error[0] != '\0')
		abort();
	mb_check_free(&c);
}

static void fz_bundle(const char *path, const uint8_t *cr_in, size_t cr_len, uint8_t cfg)
{
	static const uint32_t masks[4] = {
		MSIGN_SIGN_HASH_SHA256, MSIGN_SIGN_HASH_SHA1,
		MSIGN_SIGN_HASH_SHA1 | MSIGN_SIGN_HASH_SHA256,
		MSIGN_SIGN_HASH_SHA256 | MSIGN_SIGN_HASH_SHA384 };
	uint32_t mask = masks[(cfg >> 2) & 3];
	bool strict = (cfg & 0x10) != 0;
	bool v1 = (cfg & 0x20) == 0, v2 = (cfg & 0x40) == 0;
	if (!v1 && !v2)
		v1 = v2 = true;
	struct msign_diag d;
	msign_diag_clear(&d);
	/* the input's own CodeResources, whatever the tree */
	struct mb_resources in;
	memset(&in, 0, sizeof(in));
	int r = cr_in != NULL ? mb_cr_parse(cr_in, cr_len, &in, &d) : 1;
	bool in_ok = r == 0;
	if (cr_in != NULL)
		FZ_DBG("parse: %d %s (files %zu, files2 %zu)\n", r, d.msg, in.files.n,
		       in.files2.n);
	if (in_ok) {
		struct mb_resources again;
		memset(&again, 0, sizeof(again));
		r = fz_round_trip(&in, &again);
		FZ_DBG("round trip: %d\n", r);
		mb_resources_free(&again);
	}
	struct mb_bundle b;
	memset(&b, 0, sizeof(b));
	msign_diag_clear(&d);
	r = mb_bundle_open(path, NULL, &b, &d);
	FZ_DBG("open: %d %s\n", r, d.msg);
	if (r == 0) {
		struct mb_seal_opts so = { .hash_mask = mask, .threads = 1, .strict = strict,
					   .v1 = v1, .v2 = v2, .nested = fz_nested_ok };
		struct mb_resources built, again;
		memset(&built, 0, sizeof(built));
		memset(&again, 0, sizeof(again));
		msign_diag_clear(&d);
		r = mb_seal_build(&b, &so, &built, &d);
		FZ_DBG("seal: %d %s (files %zu, files2 %zu)\n", r, d.msg, built.files.n,
		       built.files2.n);
		if (r == 0) {
			fz_check_clean(&b, &built, mask, strict);
			if (fz_round_trip(&built, &again) == 0)
				fz_check_clean(&b, &again, mask, strict);
		}
		mb_resources_free(&built);
		mb_resources_free(&again);
		so.nested = fz_nested_unsigned;
		memset(&built, 0, sizeof(built));
		msign_diag_clear(&d);
		r = mb_seal_build(&b, &so, &built, &d);
		FZ_DBG("seal, nested unsigned: %d %s\n", r, d.msg);
		mb_resources_free(&built);
		if (in_ok) {
			struct mb_check_opts co = {
				.hash_mask = mask, .strict = strict, .threads = 1,
				.restrict_symlinks = (cfg & 0x80) != 0,
				.restrict_sideband = (cfg & 0x80) != 0,
				.nested = (cfg & 1) ? fz_check_mixed : fz_check_ok };
			struct mb_check c;
			msign_diag_clear(&d);
			r = mb_check_resources(&b, &in, &co, &c, &d);
			FZ_DBG("check: %d %zu problems, error \"%s\"\n", r, c.n, c.error);
			mb_check_free(&c); /* filled or emptied, also on failure */
		}
		char ident[256];
		(void)mb_bundle_default_identifier(&b, ident, sizeof(ident));
		mb_bundle_close(&b);
	}
	mb_resources_free(&in);
	msign_bundle *pb = NULL;
	if (msign_bundle_open(path, &pb, &d) == 0) {
		(void)msign_bundle_format(pb);
		(void)msign_bundle_default_identifier(pb);
		for (uint32_t i = 0; i < msign_bundle_nested_count(pb); i++)
			(void)msign_bundle_nested(pb, i);
		msign_bundle_free(pb);
	}
	msign_verify_options *vo = msign_verify_options_new();
	if (vo != NULL && (cfg & 0x80))
		(void)msign_verify_options_set_flags(vo, MSIGN_VERIFY_F_DEEP |
							 MSIGN_VERIFY_F_STRICT_RESOURCES);
	int kind = 0;
	msign_bundle_report *rep = NULL;
	msign_diag_clear(&d);
	r = vo != NULL ? msign_verify_bundle(path, vo, &kind, &rep, &d) : -1;
	FZ_DBG("verify: %d kind %d \"%s\" %u problems\n", r, kind,
	       rep ? msign_bundle_report_error(rep) : "", rep ? msign_bundle_report_problem_count(rep) : 0);
	if (r >= 0 && rep != NULL) {
		for (uint32_t i = 0; i < msign_bundle_report_problem_count(rep); i++) {
			const char *p;
			(void)msign_bundle_report_problem(rep, i, &p);
		}
	}
	msign_bundle_report_free(rep);
	msign_verify_options_free(vo);
}

/* A tree msign just signed, unchanged, must verify (default flags: what
 * signing itself checks in its copy before the exchange). */
static void fz_valid(const char *path)
{
	int kind = -1;
	struct msign_diag d;
	msign_diag_clear(&d);
	int r = msign_verify_bundle(path, NULL, &kind, NULL, &d);
	FZ_DBG("verify after sign: %d kind %d %s\n", r, kind, d.msg);
	if (r != 0 || kind != MSIGN_VERIFY_VALID)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const roots[4] = { "B.app", "B.framework", "B", "b.bundle" };
	if (fz_debug < 0)
		fz_debug = getenv("MSIGN_FUZZ_BUNDLE_DEBUG") != NULL;
	if (size < 1 || fz_work_make() != 0)
		return 0;
	char path[PATH_MAX];
	int root = -1;
	if (snprintf(path, sizeof(path), "%s/%s", fz_work, roots[data[0] & 3]) <
		    (int)sizeof(path) && mkdir(path, 0755) == 0)
		root = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (root >= 0) {
		const uint8_t *cr = NULL;
		size_t cr_len = 0;
		bool signed_last = fz_build(path, &root, data, size, &cr, &cr_len);
		if (root >= 0)
			close(root);
		fz_bundle(path, cr, cr_len, data[0]);
		if (signed_last)
			fz_valid(path);
	}
	fz_work_remove();
	return 0;
}
