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
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#ifdef __linux__
#include <sys/syscall.h>
#endif
#include <unistd.h>

#include "base/diag.h"
#include "base/dirsafe.h"
#include "bundle/bundle_int.h"
#include "write/write.h"

#define MR_LINK_MAX 4096

static int mr_errno(struct msign_diag *d, const char *what, const char *name)
{
	int e = errno;
	return msign_diag_set(d, e == ENOMEM ? MSIGN_E_NOMEM : MSIGN_E_IO, 0,
			      "%s %s: %s", what, name, strerror(e));
}

/* Owner, extended attributes, mode and times of folder src onto dst;
 * returns the MSIGN_LOST_* bits of what the caller may not set (the copy
 * is then the caller's, as a file msign_edit_file writes would be). */
static uint32_t mr_dir_attrs(int src, int dst, const struct stat *st)
{
	uint32_t lost = 0;
	struct stat now;
	if (fstat(dst, &now) == 0 &&
	    (now.st_uid != st->st_uid || now.st_gid != st->st_gid) &&
	    fchown(dst, st->st_uid, st->st_gid) != 0) {
		if (now.st_uid != st->st_uid)
			lost |= MSIGN_LOST_OWNER;
		if (now.st_gid != st->st_gid && fchown(dst, (uid_t)-1, st->st_gid) != 0)
			lost |= MSIGN_LOST_GROUP;
	}
	lost |= msign_copy_xattrs(src, dst);
	mode_t mode = st->st_mode & 07777;
	if (lost & MSIGN_LOST_OWNER)
		mode &= ~(mode_t)S_ISUID;
	if (lost & MSIGN_LOST_GROUP)
		mode &= ~(mode_t)S_ISGID;
	(void)fchmod(dst, mode);
#ifdef __APPLE__
	struct timespec ts[2] = { st->st_atimespec, st->st_mtimespec };
#else
	struct timespec ts[2] = { st->st_atim, st->st_mtim };
#endif
	(void)futimens(dst, ts);
	return lost;
}

/* ---- what the copy was made from ---- */

static int mr_rec_add(struct mb_tree_rec *rec, const char *rel, const struct stat *st)
{
	if (rec == NULL)
		return 0;
	if (rec->n == rec->cap) {
		size_t cap = rec->cap ? rec->cap * 2 : 256;
		struct mb_tree_ent *v = realloc(rec->v, cap * sizeof(*v));
		if (v == NULL)
			return MSIGN_E_NOMEM;
		rec->v = v;
		rec->cap = cap;
	}
	char *r = strdup(rel);
	if (r == NULL)
		return MSIGN_E_NOMEM;
	struct mb_tree_ent *e = &rec->v[rec->n++];
	*e = (struct mb_tree_ent){ .rel = r, .dev = st->st_dev, .ino = st->st_ino,
				   .type = st->st_mode & S_IFMT };
	if (S_ISREG(st->st_mode)) {
		e->size = st->st_size;
#ifdef __APPLE__
		e->mtime = st->st_mtimespec;
		e->ctime = st->st_ctimespec;
#else
		e->mtime = st->st_mtim;
		e->ctime = st->st_ctim;
#endif
	}
	return 0;
}

void mb_tree_rec_free(struct mb_tree_rec *rec)
{
	for (size_t i = 0; i < rec->n; i++)
		free(rec->v[i].rel);
	free(rec->v);
	memset(rec, 0, sizeof(*rec));
}

static bool mr_ts_eq(struct timespec a, struct timespec b)
{
	return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec;
}

/* A regular file as it was recorded: its size and mtime (and, for a file
 * the copy could not link, its ctime: the copy would not see a change). */
static bool mr_same_content(const struct mb_tree_ent *was, const struct mb_tree_ent *now)
{
	if (was->type != S_IFREG)
		return true;
	return was->size == now->size && mr_ts_eq(was->mtime, now->mtime) &&
	       (!was->copied || mr_ts_eq(was->ctime, now->ctime));
}

static int mr_ent_cmp(const void *a, const void *b)
{
	return strcmp(((const struct mb_tree_ent *)a)->rel, ((const struct mb_tree_ent *)b)->rel);
}

/* A regular file: a hard link, or a copy where the system refuses one
 * (another file system, protected_hardlinks for a file of another user). */
static int mr_file(int sdir, int ddir, const char *name, const struct stat *st,
		   uint32_t *lost, bool *copied, struct msign_diag *d)
{
	if (linkat(sdir, name, ddir, name, 0) == 0)
		return 0;
	*copied = true;
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
		struct stat mine;
		mode_t mode = now.st_mode & 07777;
		if (fstat(out, &mine) == 0 &&
		    (mine.st_uid != now.st_uid || mine.st_gid != now.st_gid) &&
		    fchown(out, now.st_uid, now.st_gid) != 0) {
			/* a file of another user that cannot be linked here:
			 * the copy is the caller's, without set-id bits */
			*lost |= mine.st_uid != now.st_uid ? MSIGN_LOST_OWNER : 0;
			if (mine.st_gid != now.st_gid && fchown(out, (uid_t)-1, now.st_gid) != 0)
				*lost |= MSIGN_LOST_GROUP;
			mode &= ~(mode_t)(S_ISUID | S_ISGID);
		}
		*lost |= msign_copy_xattrs(in, out);
		if (fchmod(out, mode) != 0 || fsync(out) != 0)
			r = mr_errno(d, "cannot finish", name);
	}
	close(in);
	close(out);
	return r;
}

/* One folder of the tree: sdir copied into ddir (both open), rel its path
 * in the tree ("" for the top), every entry recorded in rec (may be NULL:
 * only recorded, nothing copied, when ddir is -1). */
struct mr_walk {
	struct mb_tree_rec *rec;
	uint32_t lost;
	char rel[PATH_MAX];
};

static int mr_copy(struct mr_walk *w, int sdir, int ddir, size_t rlen, unsigned depth,
		   struct msign_diag *d)
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
	bool copy = ddir >= 0;
	int r = 0;
	struct dirent *e;
	while (r == 0 && (errno = 0, e = readdir(dir)) != NULL) {
		const char *name = e->d_name;
		if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
			continue;
		size_t nl = strlen(name);
		if (rlen + nl + 2 > sizeof(w->rel)) {
			r = msign_diag_set(d, MSIGN_E_LIMIT, 0, "a path in the bundle is too long");
			break;
		}
		if (rlen > 0)
			w->rel[rlen] = '/';
		memcpy(w->rel + rlen + (rlen > 0), name, nl + 1);
		size_t sub_len = rlen + (rlen > 0) + nl;
		struct stat st;
		if (fstatat(sdir, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
			r = mr_errno(d, "cannot stat", name);
		} else if ((r = mr_rec_add(w->rec, w->rel, &st)) != 0) {
			r = msign_diag_set(d, r, 0, "out of memory");
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
			if (copy && (mkdirat(ddir, name, 0700) != 0 ||
				     (d2 = openat(ddir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
						  O_CLOEXEC)) < 0))
				r = mr_errno(d, "cannot create the folder", name);
			else if ((r = mr_copy(w, s2, copy ? d2 : -1, sub_len, depth + 1, d)) == 0 && copy)
				w->lost |= mr_dir_attrs(s2, d2, &st);
			if (d2 >= 0)
				close(d2);
			close(s2);
		} else if (!copy) {
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
			bool copied = false;
			r = mr_file(sdir, ddir, name, &st, &w->lost, &copied, d);
			if (copied && w->rec != NULL && w->rec->n > 0)
				w->rec->v[w->rec->n - 1].copied = true;
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
	w->rel[rlen] = '\0';
	return r;
}

int mb_mirror_create(const char *abs, char **mirror, struct mb_tree_rec *rec,
		     uint32_t *lost, struct msign_diag *d)
{
	*mirror = NULL;
	*lost = 0;
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
	/* mkdtemp: 0700 and the caller's. It stays so until mb_mirror_finish,
	 * so no one else can reach into the copy while msign writes in it. */
	if (mkdtemp(m) == NULL) {
		int r = mr_errno(d, "cannot create a folder beside", abs);
		close(src);
		free(m);
		return r;
	}
	int dst = open(m, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	struct mr_walk *w = calloc(1, sizeof(*w));
	int r = dst < 0 ? mr_errno(d, "cannot open", m)
		: w == NULL ? msign_diag_set(d, MSIGN_E_NOMEM, 0, "out of memory")
			    : mr_copy((w->rec = rec, w), src, dst, 0, 0, d);
	if (w != NULL)
		*lost = w->lost;
	free(w);
	if (dst >= 0)
		close(dst);
	close(src);
	if (r) {
		(void)mb_tree_remove(m);
		free(m);
		return r;
	}
	if (rec != NULL)
		qsort(rec->v, rec->n, sizeof(*rec->v), mr_ent_cmp);
	*mirror = m;
	return 0;
}

int mb_mirror_finish(const char *abs, const char *mirror, uint32_t *lost,
		     struct msign_diag *d)
{
	int src = open(abs, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	int dst = open(mirror, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;
	int r = 0;
	if (src < 0 || dst < 0 || fstat(src, &st) != 0)
		r = mr_errno(d, "cannot open", src < 0 ? abs : mirror);
	else
		*lost |= mr_dir_attrs(src, dst, &st);
	if (src >= 0)
		close(src);
	if (dst >= 0)
		close(dst);
	return r;
}

int mb_tree_same(const char *path, const struct mb_tree_rec *rec, struct msign_diag *d)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return mr_errno(d, "cannot open", path);
	struct mb_tree_rec now = { 0 };
	struct mr_walk *w = calloc(1, sizeof(*w));
	int r = w == NULL ? msign_diag_set(d, MSIGN_E_NOMEM, 0, "out of memory")
			  : mr_copy((w->rec = &now, w), fd, -1, 0, 0, d);
	free(w);
	close(fd);
	if (r == 0) {
		qsort(now.v, now.n, sizeof(*now.v), mr_ent_cmp);
		size_t i = 0, j = 0;
		const char *diff = NULL;
		while (diff == NULL && (i < rec->n || j < now.n)) {
			int c = i == rec->n ? 1 : j == now.n ? -1 : strcmp(rec->v[i].rel, now.v[j].rel);
			if (c < 0)
				diff = rec->v[i].rel; /* removed */
			else if (c > 0)
				diff = now.v[j].rel;  /* added */
			else if (rec->v[i].ino != now.v[j].ino || rec->v[i].dev != now.v[j].dev ||
				 rec->v[i].type != now.v[j].type || !mr_same_content(&rec->v[i], &now.v[j]))
				diff = rec->v[i].rel; /* replaced, or a copied file written */
			else
				i++, j++;
		}
		if (diff != NULL)
			r = msign_diag_set(d, MSIGN_E_IO, 0,
					   "the bundle changed while it was being signed (%s): signed nothing",
					   diff);
	}
	mb_tree_rec_free(&now);
	return r;
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
	(void)fchmod(fd, 0700); /* the copy is the caller's: make it removable */
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

int mb_parent_safe(const char *abs, struct msign_diag *d)
{
	char p[PATH_MAX], bad[PATH_MAX];
	size_t n = strlen(abs);
	if (n == 0 || n >= sizeof(p) || abs[0] != '/')
		return msign_diag_set(d, MSIGN_E_ARG, 0, "not an absolute path");
	memcpy(p, abs, n + 1);
	/* from the bundle's folder up to / */
	char *sl = strrchr(p, '/');
	sl[sl == p ? 1 : 0] = '\0';
	bool others;
	int r = msign_dir_chain_check(p, bad, sizeof(bad), &others);
	if (r == 1)
		return msign_diag_set(d, MSIGN_E_IO, 0,
				      "%s can be changed by %s, who could swap the copy msign "
				      "signs the bundle in (made beside it); sign as that user, "
				      "or move the bundle", bad,
				      others ? "other users" : "its owner");
	if (r == MSIGN_E_IO && errno == ENOTDIR)
		return msign_diag_set(d, MSIGN_E_IO, 0, "%s is not a folder", bad);
	if (r != 0)
		return mr_errno(d, "cannot stat", bad);
	return 0;
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
