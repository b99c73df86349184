/* A bundle is signed in a copy beside it, then exchanged with it in one
 * rename: a failure at any point leaves the original tree as it was. The
 * copy is made of hard links (files msign rewrites are replaced by a
 * rename in the copy, so the original's inodes never change), folders
 * recreated with their mode, owner and extended attributes, symbolic
 * links recreated with their target string. Everything goes through
 * descriptors opened with O_NOFOLLOW: a link in the tree is never
 * followed, and a folder swapped for a link meanwhile fails the copy. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/diag.h"
#include "bundle/bundle_int.h"
#include "write/write.h"

#define MR_LINK_MAX 4096

static int mr_errno(struct msign_diag *d, const char *what, const char *name)
{
	int e = errno;
	return msign_diag_set(d, e == ENOMEM ? MSIGN_E_NOMEM : MSIGN_E_IO, 0,
			      "%s %s: %s", what, name, strerror(e));
}

/* Owner, extended attributes and mode of folder src onto dst (what the
 * caller may not set is left as it is: the copy is the caller's). */
static void mr_dir_attrs(int src, int dst, const struct stat *st)
{
	struct stat now;
	if (fstat(dst, &now) == 0 &&
	    (now.st_uid != st->st_uid || now.st_gid != st->st_gid) &&
	    fchown(dst, st->st_uid, st->st_gid) != 0)
		(void)fchown(dst, (uid_t)-1, st->st_gid);
	(void)msign_copy_xattrs(src, dst);
	(void)fchmod(dst, st->st_mode & 07777);
}

/* A regular file: a hard link, or a copy where the system refuses one
 * (another file system, protected_hardlinks for a file of another user). */
static int mr_file(int sdir, int ddir, const char *name, const struct stat *st,
		   struct msign_diag *d)
{
	if (linkat(sdir, name, ddir, name, 0) == 0)
		return 0;
	if (errno != EPERM && errno != EXDEV && errno != EMLINK && errno != EACCES &&
	    errno != ENOTSUP && errno != EOPNOTSUPP)
		return mr_errno(d, "cannot link", name);
	int in = openat(sdir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (in < 0)
		return mr_errno(d, "cannot open", name);
	struct stat now;
	if (fstat(in, &now) != 0 || !S_ISREG(now.st_mode) || now.st_ino != st->st_ino) {
		close(in);
		return msign_diag_set(d, MSIGN_E_IO, 0, "%s changed while being copied", name);
	}
	int out = openat(ddir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (out < 0) {
		close(in);
		return mr_errno(d, "cannot create", name);
	}
	char buf[1 << 16];
	int r = 0;
	for (;;) {
		ssize_t n = read(in, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = mr_errno(d, "cannot read", name);
			break;
		}
		if (n == 0)
			break;
		for (ssize_t off = 0; off < n;) {
			ssize_t w = write(out, buf + off, (size_t)(n - off));
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0) {
				r = mr_errno(d, "cannot write", name);
				break;
			}
			off += w;
		}
		if (r)
			break;
	}
	if (r == 0) {
		(void)fchown(out, now.st_uid, now.st_gid);
		(void)msign_copy_xattrs(in, out);
		if (fchmod(out, now.st_mode & 07777) != 0 || fsync(out) != 0)
			r = mr_errno(d, "cannot finish", name);
	}
	close(in);
	close(out);
	return r;
}

static int mr_copy(int sdir, int ddir, unsigned depth, struct msign_diag *d)
{
	if (depth > MB_MAX_DEPTH)
		return msign_diag_set(d, MSIGN_E_LIMIT, 0,
				      "the bundle is more than %d folders deep", MB_MAX_DEPTH);
	int fd = dup(sdir);
	if (fd < 0)
		return mr_errno(d, "cannot read", "a folder");
	DIR *dir = fdopendir(fd);
	if (dir == NULL) {
		close(fd);
		return mr_errno(d, "cannot read", "a folder");
	}
	rewinddir(dir);
	int r = 0;
	struct dirent *e;
	while (r == 0 && (errno = 0, e = readdir(dir)) != NULL) {
		const char *name = e->d_name;
		if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
			continue;
		struct stat st;
		if (fstatat(sdir, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
			r = mr_errno(d, "cannot stat", name);
		} else if (S_ISDIR(st.st_mode)) {
			int s2 = openat(sdir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (s2 < 0) {
				r = errno == EACCES
					    ? msign_diag_set(d, MSIGN_E_IO, 0,
							     "the code cannot be read by the verifier (file system permissions etc.): %s",
							     name)
					    : mr_errno(d, "cannot open", name);
				continue;
			}
			int d2 = -1;
			if (mkdirat(ddir, name, 0700) != 0 ||
			    (d2 = openat(ddir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
				r = mr_errno(d, "cannot create the folder", name);
			else if ((r = mr_copy(s2, d2, depth + 1, d)) == 0)
				mr_dir_attrs(s2, d2, &st);
			if (d2 >= 0)
				close(d2);
			close(s2);
		} else if (S_ISLNK(st.st_mode)) {
			char target[MR_LINK_MAX + 1];
			ssize_t n = readlinkat(sdir, name, target, MR_LINK_MAX);
			if (n < 0 || n >= MR_LINK_MAX)
				r = n < 0 ? mr_errno(d, "cannot read the link", name)
					  : msign_diag_set(d, MSIGN_E_LIMIT, 0,
							   "symbolic link %s is too long", name);
			else {
				target[n] = '\0';
				if (symlinkat(target, ddir, name) != 0)
					r = mr_errno(d, "cannot create the link", name);
			}
		} else if (S_ISREG(st.st_mode)) {
			r = mr_file(sdir, ddir, name, &st, d);
		} else {
			/* a FIFO, socket or device: copied as a hard link, so
			 * that the seal and the check see (and refuse) it */
			if (linkat(sdir, name, ddir, name, 0) != 0)
				r = mr_errno(d, "cannot link", name);
		}
	}
	if (r == 0 && errno != 0 && e == NULL)
		r = mr_errno(d, "cannot read", "a folder");
	closedir(dir);
	return r;
}

int mb_mirror_create(const char *abs, char **mirror, struct msign_diag *d)
{
	*mirror = NULL;
	const char *slash = strrchr(abs, '/');
	if (slash == NULL || slash[1] == '\0')
		return msign_diag_set(d, MSIGN_E_ARG, 0, "not an absolute folder path");
	size_t plen = (size_t)(slash - abs);
	const char *base = slash + 1;
	size_t need = plen + strlen(base) + 32;
	char *m = malloc(need);
	if (m == NULL)
		return msign_diag_set(d, MSIGN_E_NOMEM, 0, "out of memory");
	snprintf(m, need, "%.*s/.%s.msign-XXXXXX", (int)plen, abs, base);
	int src = open(abs, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (src < 0) {
		int r = mr_errno(d, "cannot open", abs);
		free(m);
		return r;
	}
	if (mkdtemp(m) == NULL) {
		int r = mr_errno(d, "cannot create a folder beside", abs);
		close(src);
		free(m);
		return r;
	}
	int dst = open(m, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	int r = dst < 0 ? mr_errno(d, "cannot open", m) : mr_copy(src, dst, 0, d);
	if (r == 0) {
		struct stat st;
		if (fstat(src, &st) == 0)
			mr_dir_attrs(src, dst, &st);
	}
	if (dst >= 0)
		close(dst);
	close(src);
	if (r) {
		(void)mb_tree_remove(m);
		free(m);
		return r;
	}
	*mirror = m;
	return 0;
}

/* Remove everything below the folder dfd, links never followed. A folder
 * the caller may read but not write is made writable first (the copy is
 * the caller's own). */
static int mr_remove_below(int dfd, unsigned depth)
{
	if (depth > MB_MAX_DEPTH + 2)
		return -1;
	int fd = dup(dfd);
	DIR *dir = fd >= 0 ? fdopendir(fd) : NULL;
	if (dir == NULL) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	int r = 0;
	struct dirent *e;
	while ((e = readdir(dir)) != NULL) {
		const char *name = e->d_name;
		if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
			continue;
		if (unlinkat(dfd, name, 0) == 0)
			continue;
		int sub = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (sub < 0) {
			r = -1;
			continue;
		}
		(void)fchmod(sub, 0700);
		if (mr_remove_below(sub, depth + 1) != 0)
			r = -1;
		close(sub);
		if (unlinkat(dfd, name, AT_REMOVEDIR) != 0)
			r = -1;
	}
	closedir(dir);
	return r;
}

int mb_tree_remove(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return unlink(path) == 0 || errno == ENOENT ? 0 : -1;
	int r = mr_remove_below(fd, 0);
	close(fd);
	return rmdir(path) == 0 && r == 0 ? 0 : -1;
}

#ifdef __APPLE__
#include <stdio.h> /* renamex_np, RENAME_SWAP */
#endif

int mb_exchange(const char *a, const char *b, struct msign_diag *d)
{
#if defined(__APPLE__) && defined(RENAME_SWAP)
	if (renamex_np(a, b, RENAME_SWAP) == 0)
		return 0;
	if (errno != ENOTSUP && errno != EINVAL)
		return mr_errno(d, "cannot exchange", a);
#elif defined(__linux__) && defined(SYS_renameat2)
	/* RENAME_EXCHANGE (2): both names stay valid at every instant */
	if (syscall(SYS_renameat2, AT_FDCWD, a, AT_FDCWD, b, 2u) == 0)
		return 0;
	if (errno != ENOSYS && errno != EINVAL)
		return mr_errno(d, "cannot exchange", a);
#endif
	/* No exchange on this file system: a moved aside, b put in place, a
	 * back if that fails. Between the two renames a is absent. */
	size_t n = strlen(a) + 16;
	char *aside = malloc(n);
	if (aside == NULL)
		return msign_diag_set(d, MSIGN_E_NOMEM, 0, "out of memory");
	snprintf(aside, n, "%s.msign-old", a);
	int r = 0;
	if (rename(a, aside) != 0)
		r = mr_errno(d, "cannot move aside", a);
	else if (rename(b, a) != 0) {
		r = mr_errno(d, "cannot put in place", a);
		(void)rename(aside, a);
	} else if (rename(aside, b) != 0)
		r = mr_errno(d, "cannot move the old copy to", b);
	free(aside);
	return r;
}

char *mb_path_join(const char *a, const char *b)
{
	size_t n = strlen(a) + strlen(b) + 2;
	char *p = malloc(n);
	if (p != NULL)
		snprintf(p, n, "%s/%s", a, b);
	return p;
}

int mb_sync_parent(const char *abs)
{
	const char *slash = strrchr(abs, '/');
	if (slash == NULL)
		return -1;
	char parent[PATH_MAX];
	size_t plen = slash == abs ? 1 : (size_t)(slash - abs);
	if (plen >= sizeof(parent))
		return -1;
	memcpy(parent, abs, plen);
	parent[plen] = '\0';
	int fd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int r = fsync(fd);
	close(fd);
	return r;
}
