/* Bundle classification (spec 1): which kind of bundle a directory is,
 * where its seal root, Info.plist and main executable are, and the facts
 * of its Info.plist.
 *
 * Everything is opened through descriptors: the bundle directory once by
 * its path, every other step relative to it, with O_NOFOLLOW wherever a
 * symlink would lead somewhere else than the layout says (Contents,
 * Versions, the version directory, MacOS, Resources). Only the Info.plist
 * itself is read through a final symlink, as CFBundle does; the strict
 * check refuses such a bundle (info_regular). */
#include <errno.h>
#include <fcntl.h>
#include <plist/plist.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/diag.h"
#include "base/plist_guard.h"
#include "bundle/bundle.h"
#include "bundle/walk.h"

#define CL_MAX_INFO_SIZE (16u << 20)
#define CL_DIR_FLAGS (O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)

enum cl_what { CL_ABSENT, CL_DIR, CL_SYMLINK, CL_OTHER };

/* What name is in dir_fd, without following it. */
static enum cl_what cl_what(int dir_fd, const char *name)
{
	struct stat st;
	if (fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
		return CL_ABSENT;
	if (S_ISDIR(st.st_mode))
		return CL_DIR;
	return S_ISLNK(st.st_mode) ? CL_SYMLINK : CL_OTHER;
}

/* A single path component: not empty, ".", "..", no '/'. */
static bool cl_plain_name(const char *s)
{
	return s[0] != '\0' && strcmp(s, ".") != 0 && strcmp(s, "..") != 0 &&
	       strchr(s, '/') == NULL;
}

static char *cl_join(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	char *s = malloc(la + 1 + lb + 1);
	if (s != NULL) {
		memcpy(s, a, la);
		s[la] = '/';
		memcpy(s + la + 1, b, lb + 1);
	}
	return s;
}

/* The version directory of a framework: the explicit one, else the name
 * Versions/Current links to ("A" or "./A"; a real directory named Current
 * is its own version, as realpath would see it). */
static int cl_version_name(int vfd, const char *version, char *name,
			   size_t cap, struct msign_diag *d)
{
	if (version != NULL) {
		if (!cl_plain_name(version) || strlen(version) >= cap)
			return msign_diag_set(d, MSIGN_E_ARG, 0,
					      "bundle version \"%s\" is not a directory name",
					      version);
		strcpy(name, version);
		return 0;
	}
	enum cl_what w = cl_what(vfd, "Current");
	if (w == CL_DIR) {
		strcpy(name, "Current");
		return 0;
	}
	if (w != CL_SYMLINK)
		return msign_diag_set(d, MSIGN_E_INVALID, 0,
				      "Versions/Current is neither a symlink nor a directory");
	ssize_t n = readlinkat(vfd, "Current", name, cap);
	if (n < 0)
		return msign_diag_set(d, MSIGN_E_IO, 0, "cannot read Versions/Current: %s",
				      strerror(errno));
	if ((size_t)n >= cap)
		return msign_diag_set(d, MSIGN_E_INVALID, 0,
				      "Versions/Current's target is longer than %zu bytes", cap - 1);
	name[n] = '\0';
	if (memchr(name, '\0', (size_t)n) != NULL)
		return msign_diag_set(d, MSIGN_E_INVALID, 0,
				      "Versions/Current's target holds a NUL byte");
	if (strncmp(name, "./", 2) == 0)
		memmove(name, name + 2, (size_t)n - 1);
	if (!cl_plain_name(name))
		return msign_diag_set(d, MSIGN_E_INVALID, 0,
				      "Versions/Current points to \"%s\", not to a name in Versions",
				      name);
	return 0;
}

/* Read Info.plist (a regular file of at most CL_MAX_INFO_SIZE bytes)
 * through fd into memory we own. */
static int cl_read_all(int fd, const char *rel, uint8_t **out, size_t *len,
		       struct msign_diag *d)
{
	struct stat st;
	if (fstat(fd, &st) != 0)
		return msign_diag_set(d, MSIGN_E_IO, 0, "cannot stat %s: %s", rel,
				      strerror(errno));
	if (!S_ISREG(st.st_mode))
		return msign_diag_set(d, MSIGN_E_INVALID, 0, "%s is not a regular file", rel);
	if (st.st_size < 0 || (uint64_t)st.st_size > CL_MAX_INFO_SIZE)
		return msign_diag_set(d, MSIGN_E_LIMIT, 0, "%s of %lld bytes exceeds %u",
				      rel, (long long)st.st_size, CL_MAX_INFO_SIZE);
	size_t want = (size_t)st.st_size, got = 0;
	uint8_t *buf = malloc(want > 0 ? want : 1);
	if (buf == NULL)
		return msign_diag_set(d, MSIGN_E_NOMEM, 0, "out of memory (%zu bytes)", want);
	while (got < want) {
		ssize_t r = pread(fd, buf + got, want - got, (off_t)got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			int e = r < 0 ? errno : 0;
			free(buf);
			return msign_diag_set(d, MSIGN_E_IO, 0, "%s: %s", rel,
					      e ? strerror(e) : "file changed while being read");
		}
		got += (size_t)r;
	}
	*out = buf;
	*len = want;
	return 0;
}

/* A string value of the Info.plist dictionary, copied (NULL when absent
 * or not a string, as CFBundle ignores such values). */
static int cl_string(plist_t dict, const char *key, char **out,
		     struct msign_diag *d)
{
	*out = NULL;
	plist_t item = plist_dict_get_item(dict, key);
	if (item == NULL || plist_get_node_type(item) != PLIST_STRING)
		return 0;
	uint64_t len = 0;
	const char *s = plist_get_string_ptr(item, &len);
	if (s == NULL)
		return 0;
	if (strlen(s) != len)
		return msign_diag_set(d, MSIGN_E_INVALID, 0, "Info.plist %s holds a NUL byte",
				      key);
	*out = strdup(s);
	if (*out == NULL)
		return msign_diag_set(d, MSIGN_E_NOMEM, 0, "out of memory");
	return 0;
}

static int cl_parse_info(struct mb_bundle *b, char **exec, struct msign_diag *d)
{
	if (b->info_len == 0)
		return msign_diag_set(d, MSIGN_E_PLIST, 0, "%s is empty", b->info_rel);
	/* Nested 128 deep at most, no more nodes than bytes, no NUL in a
	 * string (base/plist_guard.h): an Info.plist is free-form, so
	 * roomier than a CodeResources. */
	struct msign_plist_limits lim = msign_plist_info_limits;
	lim.what = b->info_rel;
	lim.max_size = CL_MAX_INFO_SIZE;
	plist_t root = NULL;
	int r = msign_plist_parse(b->info, b->info_len, &lim, &root, d);
	if (r < 0)
		return r;
	if (plist_get_node_type(root) != PLIST_DICT)
		r = msign_diag_set(d, MSIGN_E_PLIST, 0, "%s is not a dictionary", b->info_rel);
	if (r == 0) {
		b->info_entries = plist_dict_get_size(root);
		r = cl_string(root, "CFBundleExecutable", exec, d);
	}
	if (r == 0)
		r = cl_string(root, "CFBundleIdentifier", &b->bundle_id, d);
	if (r == 0)
		r = cl_string(root, "CFBundleName", &b->bundle_name, d);
	if (r == 0)
		r = cl_string(root, "CFBundlePackageType", &b->package_type, d);
	plist_free(root);
	return r;
}

/* Info.plist at b->info_rel (set by the caller; cleared when there is
 * none), then the main executable it names. */
static int cl_info_and_exec(struct mb_bundle *b, const char *exec_dir,
			    struct msign_diag *d)
{
	const char *slash = strrchr(b->info_rel, '/');
	const char *leaf = slash ? slash + 1 : b->info_rel;
	int pfd = b->root_fd;
	if (slash != NULL) {
		char dir[64];
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - b->info_rel), b->info_rel);
		pfd = mb_openat_beneath(b->root_fd, dir, CL_DIR_FLAGS);
	}
	enum cl_what w = pfd >= 0 ? cl_what(pfd, leaf) : CL_ABSENT;
	int r = 0;
	if (w == CL_ABSENT) {
		free(b->info_rel);
		b->info_rel = NULL;
	} else {
		struct stat st;
		b->info_regular = fstatat(pfd, leaf, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
				  S_ISREG(st.st_mode);
		/* O_NONBLOCK: a FIFO must not hang the open; cl_read_all
		 * refuses anything but a regular file. */
		int fd = openat(pfd, leaf, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
		if (fd < 0)
			r = msign_diag_set(d, MSIGN_E_IO, 0, "cannot open %s: %s", b->info_rel,
					   strerror(errno));
		else {
			r = cl_read_all(fd, b->info_rel, &b->info, &b->info_len, d);
			close(fd);
		}
	}
	if (pfd >= 0 && pfd != b->root_fd)
		close(pfd);
	if (r < 0 || b->info_rel == NULL)
		return r;

	char *exec = NULL;
	r = cl_parse_info(b, &exec, d);
	if (r < 0 || exec == NULL) {
		free(exec);
		return r;
	}
	if (!cl_plain_name(exec)) {
		r = msign_diag_set(d, MSIGN_E_INVALID, 0,
				   "CFBundleExecutable \"%s\" is not a file name", exec);
		free(exec);
		return r;
	}
	b->exec_rel = exec_dir[0] ? cl_join(exec_dir, exec) : strdup(exec);
	if (b->exec_rel == NULL) {
		free(exec);
		return msign_diag_set(d, MSIGN_E_NOMEM, 0, "out of memory");
	}
	int efd = exec_dir[0] ? mb_openat_beneath(b->root_fd, exec_dir, CL_DIR_FLAGS)
			      : b->root_fd;
	struct stat st;
	if (efd < 0 || fstatat(efd, exec, &st, AT_SYMLINK_NOFOLLOW) != 0)
		r = msign_diag_set(d, MSIGN_E_NOT_FOUND, 0,
				   "main executable %s (CFBundleExecutable) not found",
				   b->exec_rel);
	else
		b->exec_regular = S_ISREG(st.st_mode);
	if (efd >= 0 && efd != b->root_fd)
		close(efd);
	free(exec);
	return r;
}

/* The seal root, kind and Info.plist place (spec 1). */
static int cl_layout(struct mb_bundle *b, const char *version, const char **exec_dir,
		     struct msign_diag *d)
{
	const char *info = "Info.plist";
	enum cl_what contents = cl_what(b->top_fd, "Contents");
	enum cl_what versions = cl_what(b->top_fd, "Versions");
	int vfd = -1;
	*exec_dir = "";
	if (contents == CL_DIR) {
		if (version != NULL)
			return msign_diag_set(d, MSIGN_E_NOT_FOUND, 0,
					      "no version %s: not a versioned bundle (it has Contents)",
					      version);
		b->kind = MB_KIND_DEEP;
		b->root_fd = openat(b->top_fd, "Contents", CL_DIR_FLAGS);
		b->seal_root = cl_join(b->path, "Contents");
		b->shown_root = strdup(b->seal_root);
		b->has_resources_dir = true;
		*exec_dir = "MacOS";
	} else if (contents != CL_ABSENT) {
		return msign_diag_set(d, MSIGN_E_UNSUPPORTED, 0,
				      "bundle format unrecognized, invalid, or unsuitable "
				      "(Contents is not a directory)");
	} else if (versions == CL_DIR && (vfd = openat(b->top_fd, "Versions", CL_DIR_FLAGS)) >= 0 &&
		   (version != NULL || cl_what(vfd, "Current") != CL_ABSENT)) {
		char name[256];
		int r = cl_version_name(vfd, version, name, sizeof(name), d);
		if (r == 0) {
			b->root_fd = openat(vfd, name, CL_DIR_FLAGS);
			if (b->root_fd < 0)
				r = msign_diag_set(d, version ? MSIGN_E_NOT_FOUND : MSIGN_E_INVALID, 0,
						   errno == ENOENT ? "there is no Versions/%s"
								   : "Versions/%s is not a directory",
						   name);
		}
		close(vfd);
		if (r < 0)
			return r;
		b->kind = MB_KIND_VERSIONED;
		b->version = strdup(name);
		char vrel[sizeof(name) + 10];
		snprintf(vrel, sizeof(vrel), "Versions/%s", name);
		b->seal_root = cl_join(b->path, vrel);
		b->shown_root = version == NULL ? cl_join(b->path, "Versions/Current")
						: strdup(b->seal_root);
		/* A version directory is CFBundle's old layout when it holds
		 * Resources/; without it, a flat bundle (spec 1). */
		b->has_resources_dir = cl_what(b->root_fd, "Resources") == CL_DIR;
	} else {
		if (vfd >= 0)
			close(vfd);
		if (version != NULL)
			return msign_diag_set(d, MSIGN_E_NOT_FOUND, 0,
					      "no version %s: not a versioned bundle", version);
		b->kind = MB_KIND_SHALLOW;
		b->root_fd = openat(b->top_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		b->seal_root = strdup(b->path);
		b->shown_root = strdup(b->path);
		/* Spec 1: a shallow bundle with a top-level Resources directory
		 * is CFBundle's old "version 0" layout: template A, and its
		 * Info.plist is Resources/Info.plist (source only; the spec
		 * says to avoid such bundles, we classify them as it says). */
		b->has_resources_dir = cl_what(b->root_fd, "Resources") == CL_DIR;
	}
	if (b->root_fd < 0)
		return msign_diag_set(d, MSIGN_E_IO, 0, "cannot open the seal root of %s: %s",
				      b->path, strerror(errno));
	if (b->kind != MB_KIND_DEEP && b->has_resources_dir)
		info = "Resources/Info.plist";
	b->info_rel = strdup(info);
	if (b->seal_root == NULL || b->shown_root == NULL || b->info_rel == NULL ||
	    (b->kind == MB_KIND_VERSIONED && b->version == NULL))
		return msign_diag_set(d, MSIGN_E_NOMEM, 0, "out of memory");
	return 0;
}

int mb_bundle_open(const char *path, const char *version, struct mb_bundle *b,
		   struct msign_diag *d)
{
	if (b == NULL)
		return msign_diag_set(d, MSIGN_E_ARG, 0, "mb_bundle_open: NULL argument");
	memset(b, 0, sizeof(*b));
	b->root_fd = -1;
	b->top_fd = -1;
	if (path == NULL || path[0] == '\0')
		return msign_diag_set(d, MSIGN_E_ARG, 0, "mb_bundle_open: no path");
	size_t len = strlen(path);
	while (len > 1 && path[len - 1] == '/')
		len--;
	b->path = strndup(path, len);
	if (b->path == NULL)
		return msign_diag_set(d, MSIGN_E_NOMEM, 0, "out of memory");
	int r = 0;
	b->top_fd = open(b->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (b->top_fd < 0)
		r = msign_diag_set(d, errno == ENOTDIR ? MSIGN_E_UNSUPPORTED : MSIGN_E_IO, 0,
				   "cannot open the bundle directory %s: %s", b->path,
				   strerror(errno));
	const char *exec_dir = "";
	if (r == 0)
		r = cl_layout(b, version, &exec_dir, d);
	if (r == 0)
		r = cl_info_and_exec(b, exec_dir, d);
	if (r == 0 && b->info_rel == NULL)
		r = msign_diag_set(d, MSIGN_E_UNSUPPORTED, 0,
				   "bundle format unrecognized, invalid, or unsuitable");
	if (r < 0)
		mb_bundle_close(b);
	return r;
}

void mb_bundle_close(struct mb_bundle *b)
{
	if (b == NULL)
		return;
	if (b->root_fd >= 0)
		close(b->root_fd);
	if (b->top_fd >= 0)
		close(b->top_fd);
	free(b->path);
	free(b->seal_root);
	free(b->shown_root);
	free(b->info_rel);
	free(b->exec_rel);
	free(b->info);
	free(b->bundle_id);
	free(b->bundle_name);
	free(b->package_type);
	free(b->version);
	memset(b, 0, sizeof(*b));
	b->root_fd = -1;
	b->top_fd = -1;
}

const char *mb_bundle_default_identifier(const struct mb_bundle *b, char *buf,
					 size_t len)
{
	if (b == NULL)
		return NULL;
	/* An empty string would make an empty identifier: take the next. */
	if (b->bundle_id != NULL && b->bundle_id[0] != '\0')
		return b->bundle_id;
	if (b->bundle_name != NULL && b->bundle_name[0] != '\0')
		return b->bundle_name;
	if (b->path == NULL || buf == NULL || len == 0)
		return NULL;
	const char *slash = strrchr(b->path, '/');
	const char *name = slash ? slash + 1 : b->path;
	const char *dot = strrchr(name, '.');
	/* "Foo.app" -> "Foo"; a leading dot is no extension (".app"). */
	size_t n = dot != NULL && dot != name ? (size_t)(dot - name) : strlen(name);
	if (n == 0 || n >= len)
		return NULL;
	memcpy(buf, name, n);
	buf[n] = '\0';
	return buf;
}
