/* The directory walk of spec 2.4, the parallel file hasher, and sealing
 * (spec 2.5: mb_seal_build). check.c runs the same walk and hasher.
 *
 * The walk never follows a symlink and never names a path to the kernel:
 * each directory is opened with openat(O_NOFOLLOW|O_DIRECTORY) relative
 * to its parent's descriptor, each entry is looked at with
 * fstatat(AT_SYMLINK_NOFOLLOW). The walk only lists; files are hashed
 * afterwards, each reopened component by component from the seal root
 * (mb_openat_beneath), so a file or directory swapped for a symlink in
 * between is refused, never followed. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#if defined(__APPLE__) && !__has_include(<sys/xattr.h>)
/* Darwin's, for header sets without sys/xattr.h (the macOS compile gate's
 * Zig headers); every SDK has the header. */
ssize_t flistxattr(int fd, char *namebuf, size_t size, int options);
#else
#include <sys/xattr.h>
#endif

#include "base/diag.h"
#include "bundle/bundle.h"
#include "bundle/walk.h"
#include "hash/hash.h"
#include "sig/codesign.h"

#define MW_READ_BYTES (1u << 16)   /* per-thread read buffer: 64 KiB stays in the
                                     * CPU cache between the copy and the hash */
#define MW_MAX_THREADS 64u
#define MW_INLINE_BYTES (1u << 20) /* auto threads: below this, one thread */

static const char mw_unsupported[] =
	"unsupported resource found (something not a directory, file or symlink)";
static const char mw_unreadable[] =
	"the code cannot be read by the verifier (file system permissions etc.)";
static const char mw_dsstore[] = ".DS_Store files cannot be a symlink";

static int mw_why(char *why, int code, const char *sentence)
{
	snprintf(why, MW_WHY_LEN, "%s", sentence);
	return code;
}

/* ---- opening beneath a directory ----------------------------------------- */

int mb_openat_beneath(int dir_fd, const char *rel, int flags)
{
	size_t len = rel ? strlen(rel) : 0;
	if (len == 0 || len > MB_MAX_PATH || rel[0] == '/') {
		errno = EINVAL;
		return -1;
	}
	int fd = dir_fd;
	const char *p = rel;
	for (;;) {
		const char *slash = strchr(p, '/');
		size_t n = slash ? (size_t)(slash - p) : strlen(p);
		char name[256];
		if (n == 0 || n >= sizeof(name) || (n == 1 && p[0] == '.') ||
		    (n == 2 && p[0] == '.' && p[1] == '.')) {
			if (fd != dir_fd)
				close(fd);
			errno = n >= sizeof(name) ? ENAMETOOLONG : EINVAL;
			return -1;
		}
		memcpy(name, p, n);
		name[n] = '\0';
		int next = openat(fd, name, slash ? O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
					    O_CLOEXEC : flags);
		int e = errno;
		if (fd != dir_fd)
			close(fd);
		if (next < 0 || slash == NULL) {
			errno = e;
			return next;
		}
		fd = next;
		p = slash + 1;
	}
}

/* ---- the walk ------------------------------------------------------------- */

struct mw_state {
	const struct mw_walk_opts *wo;
	struct mw_items *out;
	char *why;
	struct msign_diag *d;
	char path[MB_MAX_PATH + 1]; /* the current relative path */
	size_t path_len;
	char link[MB_MAX_PATH + 1];
	size_t entries;
};

void mw_items_free(struct mw_items *it)
{
	if (it == NULL)
		return;
	for (size_t i = 0; i < it->n; i++) {
		free(it->v[i].rel);
		free(it->v[i].target);
	}
	free(it->v);
	memset(it, 0, sizeof(*it));
}

static int mw_add(struct mw_state *s, enum mw_kind kind, uint32_t flags,
		  const char *target, uint64_t size)
{
	struct mw_items *it = s->out;
	if (it->n == it->cap) {
		size_t cap = it->cap ? it->cap * 2 : 64;
		struct mw_item *v = realloc(it->v, cap * sizeof(*v));
		if (v == NULL)
			return msign_diag_set(s->d, MSIGN_E_NOMEM, 0, "out of memory (%zu items)", cap);
		it->v = v;
		it->cap = cap;
	}
	struct mw_item *e = &it->v[it->n];
	memset(e, 0, sizeof(*e));
	e->rel = strdup(s->path);
	e->target = target ? strdup(target) : NULL;
	if (e->rel == NULL || (target && e->target == NULL)) {
		free(e->rel);
		free(e->target);
		return msign_diag_set(s->d, MSIGN_E_NOMEM, 0, "out of memory");
	}
	e->kind = kind;
	e->flags = flags;
	e->size = size;
	it->n++;
	return 0;
}

static int mw_dir(struct mw_state *s, int dfd, unsigned depth);

/* One entry of a directory: s->path already names it. */
static int mw_entry(struct mw_state *s, int dfd, const char *name, unsigned depth)
{
	struct stat st;
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
		if (errno == ENOENT) /* gone since readdir: nothing to seal */
			return 0;
		return msign_diag_set(s->d, MSIGN_E_IO, 0, "cannot stat %s: %s", s->path,
				      strerror(errno));
	}
	if (S_ISLNK(st.st_mode) && strcmp(name, ".DS_Store") == 0)
		return mw_why(s->why, MSIGN_E_INVALID, mw_dsstore);
	const struct mb_rule *rule = NULL;
	enum mb_match m = mb_match(s->wo->x, s->wo->rules, s->path, &rule);
	uint32_t flags = m == MB_MATCH_RULE && rule ? rule->flags : 0;
	bool sealed = m == MB_MATCH_RULE && !(flags & MB_RULE_OMIT);
	bool nested = sealed && (flags & MB_RULE_NESTED) && !s->wo->v1;

	if (S_ISDIR(st.st_mode)) {
		if (m == MB_MATCH_EXCLUDED)
			return 0;
		/* One nested bundle, not descended into; a v1 seal has no
		 * nested entries (its templates have no nested rule). */
		if (sealed && (flags & MB_RULE_NESTED) && strchr(name, '.') != NULL)
			return s->wo->v1 ? 0 : mw_add(s, MW_NESTED_DIR, flags, NULL, 0);
		if (depth >= MB_MAX_DEPTH)
			return msign_diag_set(s->d, MSIGN_E_LIMIT, 0,
					      "more than %d directories deep: %s", MB_MAX_DEPTH,
					      s->path);
		int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0) {
			if (errno == EACCES || errno == EPERM)
				return mw_why(s->why, MSIGN_E_IO, mw_unreadable);
			return msign_diag_set(s->d, MSIGN_E_IO, 0, "cannot open directory %s: %s",
					      s->path, strerror(errno));
		}
		return mw_dir(s, fd, depth + 1);
	}
	if (S_ISREG(st.st_mode)) {
		if (!sealed)
			return 0;
		return mw_add(s, nested ? MW_NESTED_FILE : MW_FILE, flags, NULL,
			      (uint64_t)st.st_size);
	}
	if (S_ISLNK(st.st_mode)) {
		if (!sealed || s->wo->v1) /* symlinks are never in files */
			return 0;
		ssize_t n = readlinkat(dfd, name, s->link, sizeof(s->link));
		if (n < 0)
			return msign_diag_set(s->d, MSIGN_E_IO, 0, "cannot read symlink %s: %s",
					      s->path, strerror(errno));
		if ((size_t)n > MB_MAX_PATH)
			return msign_diag_set(s->d, MSIGN_E_LIMIT, 0,
					      "symlink %s: target longer than %d bytes", s->path,
					      MB_MAX_PATH);
		s->link[n] = '\0';
		if (memchr(s->link, '\0', (size_t)n) != NULL)
			return msign_diag_set(s->d, MSIGN_E_INVALID, 0,
					      "symlink %s: target holds a NUL byte", s->path);
		return mw_add(s, MW_SYMLINK, flags, s->link, 0);
	}
	/* fifo, socket, device: never sealed; strict refuses the bundle */
	if (s->wo->strict && m != MB_MATCH_EXCLUDED)
		return mw_why(s->why, MSIGN_E_UNSUPPORTED, mw_unsupported);
	return 0;
}

/* Walk the directory open at dfd (taken over: closed here), whose path
 * relative to the seal root is s->path ("" for the root). */
static int mw_dir(struct mw_state *s, int dfd, unsigned depth)
{
	DIR *dir = fdopendir(dfd);
	if (dir == NULL) {
		int e = errno;
		close(dfd);
		return msign_diag_set(s->d, MSIGN_E_IO, 0, "cannot read directory %s: %s",
				      s->path[0] ? s->path : ".", strerror(e));
	}
	size_t base = s->path_len;
	int r = 0;
	for (;;) {
		errno = 0;
		struct dirent *de = readdir(dir);
		if (de == NULL) {
			if (errno != 0)
				r = errno == EACCES ? mw_why(s->why, MSIGN_E_IO, mw_unreadable)
						    : msign_diag_set(s->d, MSIGN_E_IO, 0,
								     "cannot read directory %s: %s",
								     base ? s->path : ".",
								     strerror(errno));
			break;
		}
		const char *name = de->d_name;
		if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
			continue;
		if (++s->entries > MB_MAX_ENTRIES) {
			r = msign_diag_set(s->d, MSIGN_E_LIMIT, 0,
					   "the bundle has more than %u entries", MB_MAX_ENTRIES);
			break;
		}
		size_t n = strlen(name);
		size_t need = base + (base ? 1 : 0) + n;
		if (need > MB_MAX_PATH) {
			r = msign_diag_set(s->d, MSIGN_E_LIMIT, 0,
					   "a path longer than %d bytes below %s", MB_MAX_PATH,
					   base ? s->path : ".");
			break;
		}
		if (base)
			s->path[base] = '/';
		memcpy(s->path + base + (base ? 1 : 0), name, n + 1);
		s->path_len = need;
		r = mw_entry(s, dirfd(dir), name, depth);
		s->path_len = base;
		s->path[base] = '\0';
		if (r < 0)
			break;
	}
	closedir(dir);
	return r;
}

static int mw_item_cmp(const void *a, const void *b)
{
	return strcmp(((const struct mw_item *)a)->rel, ((const struct mw_item *)b)->rel);
}

int mw_walk(int root_fd, const struct mw_walk_opts *wo, struct mw_items *out,
	    char why[MW_WHY_LEN], struct msign_diag *d)
{
	memset(out, 0, sizeof(*out));
	why[0] = '\0';
	struct mw_state *s = calloc(1, sizeof(*s));
	if (s == NULL)
		return msign_diag_set(d, MSIGN_E_NOMEM, 0, "out of memory");
	s->wo = wo;
	s->out = out;
	s->why = why;
	s->d = d;
	int r;
	int fd = openat(root_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		r = errno == EACCES ? mw_why(why, MSIGN_E_IO, mw_unreadable)
				    : msign_diag_set(d, MSIGN_E_IO, 0,
						     "cannot open the seal root: %s",
						     strerror(errno));
	else
		r = mw_dir(s, fd, 0);
	free(s);
	if (r < 0) {
		mw_items_free(out);
		return r;
	}
	if (out->n > 1)
		qsort(out->v, out->n, sizeof(out->v[0]), mw_item_cmp);
	return 0;
}

/* ---- sideband data -------------------------------------------------------- */

/* The names a resource fork and FinderInfo have. Linux keeps foreign
 * attributes in the user namespace (what netatalk, Samba's
 * vfs_fruit "user.com.apple.*" and copies from a Mac write); the bare
 * names are what macOS uses and what Linux would show if it ever let
 * them in. */
static bool mw_sideband_name(const char *n)
{
	static const char *const names[] = {
		"com.apple.ResourceFork", "com.apple.FinderInfo",
		"user.com.apple.ResourceFork", "user.com.apple.FinderInfo",
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(n, names[i]) == 0)
			return true;
	return false;
}

int mw_has_sideband(int fd)
{
	char small[1024];
	char *buf = small;
	size_t cap = sizeof(small);
	ssize_t n;
	for (;;) {
#ifdef __APPLE__
		n = flistxattr(fd, buf, cap, 0);
#else
		n = flistxattr(fd, buf, cap);
#endif
		if (n >= 0)
			break;
		if (errno == ENOTSUP) { /* no xattrs on this file system */
			n = 0;
			break;
		}
		if (errno != ERANGE || cap >= (1u << 20)) {
			if (buf != small)
				free(buf);
			return -1;
		}
		cap *= 4;
		char *nb = buf == small ? malloc(cap) : realloc(buf, cap);
		if (nb == NULL) {
			if (buf != small)
				free(buf);
			errno = ENOMEM;
			return -1;
		}
		buf = nb;
	}
	int found = 0;
	for (size_t at = 0; at < (size_t)n && !found;) {
		size_t len = strnlen(buf + at, (size_t)n - at);
		if (at + len == (size_t)n) /* the last name lacks its NUL */
			break;
		found = mw_sideband_name(buf + at);
		at += len + 1;
	}
	if (buf != small)
		free(buf);
	return found;
}

/* ---- the hasher ----------------------------------------------------------- */

struct mw_run {
	int root_fd;
	struct mw_hjob *jobs;
	size_t n;
	EVP_MD *md[MB_MAX_HASH_TYPES + 1];
	uint32_t size[MB_MAX_HASH_TYPES + 1];
	atomic_size_t next;
	atomic_int err; /* MSIGN_E_NOMEM / _CRYPTO of a worker */
};

/* One file: status, digests, sideband. */
static void mw_hash_one(struct mw_run *run, struct mw_hjob *j, EVP_MD_CTX **ctx,
			uint8_t *buf)
{
	int fd = mb_openat_beneath(run->root_fd, j->rel,
				   O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		/* A component that is now a symlink (ELOOP, or ENOTDIR for a
		 * directory one) or gone: the file changed under us. */
		bool changed = errno == ENOENT || errno == ELOOP || errno == ENOTDIR;
		j->status = changed ? MW_H_CHANGED : MW_H_IOERR;
		j->err_no = errno;
		return;
	}
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size < 0) {
		j->status = MW_H_CHANGED;
		close(fd);
		return;
	}
	if (j->sideband) {
		int sb = mw_has_sideband(fd);
		if (sb < 0) {
			j->status = MW_H_IOERR;
			j->err_no = errno;
			close(fd);
			return;
		}
		j->has_sideband = sb > 0;
	}
	for (unsigned t = 1; t <= MB_MAX_HASH_TYPES; t++)
		if ((j->mask & (1u << t)) && EVP_DigestInit_ex(ctx[t], run->md[t], NULL) != 1) {
			atomic_store(&run->err, MSIGN_E_CRYPTO);
			close(fd);
			return;
		}
	uint64_t want = (uint64_t)st.st_size, off = 0;
	while (off < want) {
		size_t chunk = want - off < MW_READ_BYTES ? (size_t)(want - off) : MW_READ_BYTES;
		ssize_t r = pread(fd, buf, chunk, (off_t)off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			j->status = r == 0 ? MW_H_CHANGED : MW_H_IOERR;
			j->err_no = r < 0 ? errno : 0;
			close(fd);
			return;
		}
		for (unsigned t = 1; t <= MB_MAX_HASH_TYPES; t++)
			if (j->mask & (1u << t))
				EVP_DigestUpdate(ctx[t], buf, (size_t)r);
		off += (uint64_t)r;
	}
	/* Grown meanwhile: what we hashed is not the file any more. */
	struct stat st2;
	if (fstat(fd, &st2) != 0 || st2.st_size != st.st_size) {
		j->status = MW_H_CHANGED;
		close(fd);
		return;
	}
	close(fd);
	for (unsigned t = 1; t <= MB_MAX_HASH_TYPES; t++) {
		if (!(j->mask & (1u << t)))
			continue;
		uint8_t full[EVP_MAX_MD_SIZE];
		unsigned int len = 0;
		if (EVP_DigestFinal_ex(ctx[t], full, &len) != 1 || len < run->size[t]) {
			atomic_store(&run->err, MSIGN_E_CRYPTO);
			return;
		}
		memcpy(j->hash[t], full, run->size[t]); /* truncated types keep 20 */
	}
	j->status = MW_H_OK;
}

static void *mw_worker(void *arg)
{
	struct mw_run *run = arg;
	EVP_MD_CTX *ctx[MB_MAX_HASH_TYPES + 1] = { NULL };
	uint8_t *buf = malloc(MW_READ_BYTES);
	bool ok = buf != NULL;
	for (unsigned t = 1; ok && t <= MB_MAX_HASH_TYPES; t++)
		if (run->md[t] != NULL && (ctx[t] = EVP_MD_CTX_new()) == NULL)
			ok = false;
	if (!ok)
		atomic_store(&run->err, MSIGN_E_NOMEM);
	while (ok && atomic_load(&run->err) == 0) {
		size_t i = atomic_fetch_add(&run->next, 1);
		if (i >= run->n)
			break;
		mw_hash_one(run, &run->jobs[i], ctx, buf);
	}
	for (unsigned t = 1; t <= MB_MAX_HASH_TYPES; t++)
		EVP_MD_CTX_free(ctx[t]);
	free(buf);
	return NULL;
}

int mw_hash_files(int root_fd, struct mw_hjob *jobs, size_t n, unsigned threads,
		  struct msign_diag *d)
{
	struct mw_run run = { .root_fd = root_fd, .jobs = jobs, .n = n };
	atomic_init(&run.next, 0);
	atomic_init(&run.err, 0);
	uint32_t mask = 0;
	uint64_t bytes = 0;
	for (size_t i = 0; i < n; i++) {
		mask |= jobs[i].mask;
		bytes += jobs[i].size_hint < UINT64_MAX - bytes ? jobs[i].size_hint
								 : UINT64_MAX - bytes;
		jobs[i].status = MW_H_IOERR;
		jobs[i].err_no = 0;
		jobs[i].has_sideband = false;
	}
	if (mask & ~MW_HASH_TYPES_ALL)
		return msign_diag_set(d, MSIGN_E_ARG, 0, "hash type mask 0x%x", mask);
	int r = 0;
	for (unsigned t = 1; r == 0 && t <= MB_MAX_HASH_TYPES; t++) {
		if (!(mask & (1u << t)))
			continue;
		r = msign_hash_md((uint8_t)t, &run.md[t], d);
		run.size[t] = msign_hashtype_size((uint8_t)t);
		if (r == 0 && (run.size[t] == 0 || run.size[t] > sizeof(jobs[0].hash[0])))
			r = msign_diag_set(d, MSIGN_E_INTERNAL, 0, "hash type %u of %u bytes",
					   t, run.size[t]);
	}
	if (r == 0 && n > 0) {
		bool spawn = true;
		if (threads == 0) {
			/* Auto: threads only pay for themselves on real work;
			 * an explicit count is always honoured (and tested). */
			threads = msign_hash_default_threads();
			spawn = bytes >= MW_INLINE_BYTES;
		}
		if (threads > MW_MAX_THREADS)
			threads = MW_MAX_THREADS;
		if (threads > n)
			threads = (unsigned)n;
		pthread_t tid[MW_MAX_THREADS];
		unsigned started = 0;
		if (spawn)
			for (; started + 1 < threads; started++)
				if (pthread_create(&tid[started], NULL, mw_worker, &run) != 0)
					break; /* fewer threads, same result */
		mw_worker(&run);
		for (unsigned i = 0; i < started; i++)
			pthread_join(tid[i], NULL);
		r = atomic_load(&run.err);
		if (r < 0)
			r = msign_diag_set(d, r, 0, r == MSIGN_E_NOMEM ? "out of memory while hashing"
								       : "OpenSSL failed to hash a file");
	}
	for (unsigned t = 1; t <= MB_MAX_HASH_TYPES; t++)
		EVP_MD_free(run.md[t]);
	return r;
}

/* ---- sealing (spec 2.5) --------------------------------------------------- */

const char *mw_main_rel(const struct mb_bundle *b)
{
	/* An Info.plist-only bundle's "main executable" is its Info.plist
	 * (spec 2.2): "Info.plist" in the seal root of a deep or shallow
	 * bundle, "Resources/Info.plist" in a framework version. */
	if (b->exec_rel != NULL)
		return b->exec_rel;
	return b->info_rel != NULL ? b->info_rel : "Info.plist";
}

#define MW_SHA1 (1u << MSIGN_CS_HASHTYPE_SHA1)

static const char mw_detritus[] =
	"resource fork, Finder information, or similar detritus not allowed";

/* A nested item's seal, from the caller's callback. */
static int sb_nested(const struct mb_seal_opts *o, int root_fd,
		     const struct mw_item *it, struct mb_seal *s,
		     struct msign_diag *d)
{
	if (o->nested == NULL)
		return msign_diag_set(d, MSIGN_E_ARG, 0,
				      "nested code %s found, but no nested callback given",
				      it->rel);
	char *req = NULL;
	int r = o->nested(o->nested_arg, root_fd, it->rel, it->kind == MW_NESTED_DIR,
			  s->cdhash, &req, d);
	if (r == MSIGN_E_NOT_SIGNED) {
		free(req);
		/* Apple's sentence, plus the subcomponent codesign names on
		 * the next line; the callback's own message gives way. */
		if (d != NULL)
			d->code = 0;
		return msign_diag_set(d, MSIGN_E_NOT_SIGNED, 0,
				      "code object is not signed at all (In subcomponent: %s)",
				      it->rel);
	}
	if (r < 0) {
		free(req);
		return msign_diag_set(d, r, 0, "nested code %s: %s", it->rel,
				      msign_strerror(r));
	}
	if (req == NULL)
		return msign_diag_set(d, MSIGN_E_INTERNAL, 0,
				      "nested code %s: the callback gave no requirement", it->rel);
	s->requirement = req;
	s->has_cdhash = true;
	return 0;
}

/* The files of both walks, once each, in path order: jobs[] and, for
 * each item, the index of its job (SIZE_MAX: not a file). */
static int sb_jobs(const struct mw_items *i2, const struct mw_items *i1,
		   uint32_t mask2, bool sideband, struct mw_hjob **jobs_out,
		   size_t *njobs, size_t *job2, size_t *job1, struct msign_diag *d)
{
	size_t cap = i2->n + i1->n;
	struct mw_hjob *jobs = calloc(cap ? cap : 1, sizeof(*jobs));
	if (jobs == NULL)
		return msign_diag_set(d, MSIGN_E_NOMEM, 0, "out of memory (%zu files)", cap);
	size_t a = 0, b = 0, n = 0;
	while (a < i2->n || b < i1->n) {
		const struct mw_item *x = a < i2->n ? &i2->v[a] : NULL;
		const struct mw_item *y = b < i1->n ? &i1->v[b] : NULL;
		int c = x == NULL ? 1 : y == NULL ? -1 : strcmp(x->rel, y->rel);
		bool fx = c <= 0 && x->kind == MW_FILE;
		bool fy = c >= 0 && y->kind == MW_FILE;
		if (c <= 0)
			job2[a] = SIZE_MAX;
		if (c >= 0)
			job1[b] = SIZE_MAX;
		if (fx || fy) {
			struct mw_hjob *j = &jobs[n];
			const struct mw_item *it = fx ? x : y;
			j->rel = it->rel;
			j->size_hint = it->size;
			j->sideband = sideband;
			j->mask = (fx ? mask2 : 0) | (fy ? MW_SHA1 : 0);
			if (fx)
				job2[a] = n;
			if (fy)
				job1[b] = n;
			n++;
		}
		if (c <= 0)
			a++;
		if (c >= 0)
			b++;
	}
	*jobs_out = jobs;
	*njobs = n;
	return 0;
}

/* Every hashed file read as it was listed, else the first failure (in
 * path order, so the message does not depend on the threads). */
static int sb_job_results(const struct mw_hjob *jobs, size_t n, bool strict,
			  char *why, struct msign_diag *d)
{
	for (size_t i = 0; i < n; i++) {
		const struct mw_hjob *j = &jobs[i];
		if (j->status == MW_H_CHANGED)
			return msign_diag_set(d, MSIGN_E_IO, 0, "file changed while sealing: %s",
					      j->rel);
		if (j->status != MW_H_OK)
			return msign_diag_set(d, MSIGN_E_IO, 0, "cannot read %s: %s", j->rel,
					      j->err_no ? strerror(j->err_no) : "I/O error");
		if (strict && j->has_sideband)
			return mw_why(why, MSIGN_E_INVALID, mw_detritus);
	}
	return 0;
}

static int sb_alloc(struct mb_seals *s, size_t n, struct msign_diag *d)
{
	s->v = calloc(n ? n : 1, sizeof(*s->v));
	if (s->v == NULL)
		return msign_diag_set(d, MSIGN_E_NOMEM, 0, "out of memory (%zu seals)", n);
	s->cap = n;
	return 0;
}

/* files2 (v2) from the v2 walk, seal i for item i; paths and targets move
 * into the seals (the jobs keep pointing at the same strings). The file
 * hashes come later (sb_hashes2). */
static int sb_files2(const struct mb_bundle *b, const struct mb_seal_opts *o,
		     struct mw_items *it, struct mb_seals *out, struct msign_diag *d)
{
	int r = sb_alloc(out, it->n, d);
	for (size_t i = 0; r == 0 && i < it->n; i++) {
		struct mw_item *e = &it->v[i];
		struct mb_seal *s = &out->v[out->n];
		s->optional = (e->flags & MB_RULE_OPTIONAL) != 0;
		if (e->kind == MW_NESTED_DIR || e->kind == MW_NESTED_FILE) {
			s->kind = MB_SEAL_NESTED;
			r = sb_nested(o, b->root_fd, e, s, d);
		} else if (e->kind == MW_SYMLINK) {
			s->kind = MB_SEAL_SYMLINK;
			s->symlink = e->target;
			e->target = NULL;
		} else {
			s->kind = MB_SEAL_FILE;
			s->hash_mask = o->hash_mask;
			s->bare = o->hash_mask == MW_SHA1 && !s->optional;
		}
		s->path = e->rel;
		e->rel = NULL;
		out->n++;
	}
	return r;
}

static void sb_hashes2(struct mb_seals *out, const struct mw_hjob *jobs,
		       const size_t *job, uint32_t mask)
{
	for (size_t i = 0; i < out->n; i++) {
		struct mb_seal *s = &out->v[i];
		if (s->kind != MB_SEAL_FILE)
			continue;
		for (unsigned t = 1; t <= MB_MAX_HASH_TYPES; t++)
			if (mask & (1u << t))
				memcpy(s->hash[t], jobs[job[i]].hash[t], sizeof(s->hash[t]));
	}
}

/* files (v1): regular files only, bare SHA-1 unless the rule has flags. */
static int sb_files1(struct mw_items *it, const struct mw_hjob *jobs,
		     const size_t *job, struct mb_seals *out, struct msign_diag *d)
{
	int r = sb_alloc(out, it->n, d);
	for (size_t i = 0; r == 0 && i < it->n; i++) {
		struct mw_item *e = &it->v[i];
		if (e->kind != MW_FILE)
			continue;
		struct mb_seal *s = &out->v[out->n];
		s->kind = MB_SEAL_FILE;
		s->optional = (e->flags & MB_RULE_OPTIONAL) != 0;
		s->bare = (e->flags & (MB_RULE_OPTIONAL | MB_RULE_NESTED)) == 0;
		s->hash_mask = MW_SHA1;
		memcpy(s->hash[MSIGN_CS_HASHTYPE_SHA1], jobs[job[i]].hash[MSIGN_CS_HASHTYPE_SHA1],
		       sizeof(s->hash[0]));
		s->path = e->rel;
		e->rel = NULL;
		out->n++;
	}
	return r;
}

/* Strict signing (spec 4, "Signing"): the structure checks of verify
 * except _CodeSignature's, and no sideband data on the bundle root (the
 * bundle directory and, when it is another, the seal root). */
static int sb_strict_root(const struct mb_bundle *b, char *why, struct msign_diag *d)
{
	int r = mc_structure(b, false, why, d);
	const int fds[2] = { b->top_fd, b->root_fd };
	for (size_t i = 0; r == 0 && i < 2; i++) {
		int sb = mw_has_sideband(fds[i]);
		if (sb < 0)
			r = msign_diag_set(d, MSIGN_E_IO, 0,
					   "cannot list the extended attributes of %s: %s",
					   b->path, strerror(errno));
		else if (sb > 0)
			r = mw_why(why, MSIGN_E_INVALID, mw_detritus);
	}
	return r;
}

int mb_seal_build(const struct mb_bundle *b, const struct mb_seal_opts *o,
		  struct mb_resources *out, struct msign_diag *d)
{
	if (b == NULL || o == NULL || out == NULL)
		return msign_diag_set(d, MSIGN_E_ARG, 0, "mb_seal_build: NULL argument");
	memset(out, 0, sizeof(*out));
	if (!o->v1 && !o->v2)
		return msign_diag_set(d, MSIGN_E_ARG, 0, "mb_seal_build: neither v1 nor v2");
	if ((o->hash_mask & ~MW_HASH_TYPES_ALL) || (o->v2 && o->hash_mask == 0))
		return msign_diag_set(d, MSIGN_E_ARG, 0,
				      "mb_seal_build: hash type mask 0x%x", o->hash_mask);
	char why[MW_WHY_LEN] = "";
	struct mw_items i2 = { 0 }, i1 = { 0 };
	struct mw_hjob *jobs = NULL;
	size_t njobs = 0, *job2 = NULL, *job1 = NULL;
	struct mb_exclusions x;
	bool have_x = false;
	enum mb_template tpl = b->has_resources_dir ? MB_TPL_A : MB_TPL_B;

	int r = o->strict ? sb_strict_root(b, why, d) : 0;
	if (r == 0) {
		r = mb_exclusions_init(&x, mw_main_rel(b), d);
		have_x = r == 0;
	}
	/* rules is always written (the reader wants it); rules2 with v2. */
	if (r == 0)
		r = mb_rules_template(&out->rules, tpl, 1, d);
	out->has_rules = r == 0;
	if (r == 0 && o->v2) {
		r = mb_rules_template(&out->rules2, tpl, 2, d);
		out->has_rules2 = r == 0;
	}
	if (r == 0 && o->v2) {
		struct mw_walk_opts wo = { &x, &out->rules2, false, o->strict };
		r = mw_walk(b->root_fd, &wo, &i2, why, d);
	}
	if (r == 0 && o->v1) {
		struct mw_walk_opts wo = { &x, &out->rules, true, o->strict };
		r = mw_walk(b->root_fd, &wo, &i1, why, d);
	}
	if (r == 0) {
		job2 = malloc((i2.n ? i2.n : 1) * sizeof(*job2));
		job1 = malloc((i1.n ? i1.n : 1) * sizeof(*job1));
		if (job2 == NULL || job1 == NULL)
			r = msign_diag_set(d, MSIGN_E_NOMEM, 0, "out of memory");
	}
	if (r == 0)
		r = sb_jobs(&i2, &i1, o->hash_mask, o->strict, &jobs, &njobs, job2, job1, d);
	/* Nested code first, in path order: an unsigned one fails before
	 * any file is read. Files are then reopened beneath the root, so
	 * whatever changed since the walk is refused, not followed. */
	if (r == 0 && o->v2) {
		r = sb_files2(b, o, &i2, &out->files2, d);
		out->has_files2 = true;
	}
	if (r == 0)
		r = mw_hash_files(b->root_fd, jobs, njobs, o->threads, d);
	if (r == 0)
		r = sb_job_results(jobs, njobs, o->strict, why, d);
	if (r == 0 && o->v2)
		sb_hashes2(&out->files2, jobs, job2, o->hash_mask);
	if (r == 0 && o->v1) {
		r = sb_files1(&i1, jobs, job1, &out->files, d);
		out->has_files = true;
	}
	if (r == 0) {
		mb_seals_sort(&out->files2);
		mb_seals_sort(&out->files);
	}
	free(jobs);
	free(job2);
	free(job1);
	mw_items_free(&i2);
	mw_items_free(&i1);
	if (have_x)
		mb_exclusions_free(&x);
	if (r < 0) {
		if (why[0] != '\0')
			msign_diag_set(d, r, 0, "%s", why);
		mb_resources_free(out);
		memset(out, 0, sizeof(*out));
	}
	return r;
}
