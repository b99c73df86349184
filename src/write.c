/* Edit plans and their atomic execution (see sign.h).
 *
 * The destination is never modified in place: the output is built in a
 * temporary file in the same folder (so rename is atomic and, on macOS,
 * yields the new inode the kernel's signature cache needs), checked, then
 * renamed over the destination. Temporary files are named
 * ".<name>.msign.<pid>.XXXXXX"; one left behind by a killed process is
 * removed by the next commit into the same folder once its pid is gone. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#ifdef __linux__
#include <linux/fs.h>
#endif

#include "msign/sign.h"

#define PLAN_MAX_ITEMS 4096u /* far above what strip/sign need */
#define COPY_CHUNK (1u << 20)

void msign_plan_init(struct msign_plan *p)
{
	memset(p, 0, sizeof(*p));
}

void msign_plan_free(struct msign_plan *p)
{
	for (uint32_t i = 0; i < p->npatches; i++)
		free(p->patches[i].data);
	free(p->patches);
	free(p->extents);
	memset(p, 0, sizeof(*p));
}

static int plan_fits(const struct msign_plan *p, uint64_t off, uint64_t len)
{
	uint64_t end;
	if (__builtin_add_overflow(off, len, &end) || end > p->out_len)
		return MSIGN_E_BAD_RANGE;
	return 0;
}

int msign_plan_copy(struct msign_plan *p, uint64_t src_off, uint64_t dst_off,
		    uint64_t len)
{
	if (plan_fits(p, dst_off, len) != 0)
		return MSIGN_E_BAD_RANGE;
	if (p->nextents == p->cap_extents) {
		if (p->cap_extents >= PLAN_MAX_ITEMS)
			return MSIGN_E_LIMIT;
		uint32_t n = p->cap_extents ? 2 * p->cap_extents : 8;
		void *e = realloc(p->extents, n * sizeof(*p->extents));
		if (e == NULL)
			return MSIGN_E_NOMEM;
		p->extents = e;
		p->cap_extents = n;
	}
	p->extents[p->nextents++] = (struct msign_extent){ src_off, dst_off, len };
	return 0;
}

int msign_plan_patch(struct msign_plan *p, uint64_t dst_off,
		     const void *data, size_t len)
{
	if (plan_fits(p, dst_off, len) != 0)
		return MSIGN_E_BAD_RANGE;
	if (p->npatches == p->cap_patches) {
		if (p->cap_patches >= PLAN_MAX_ITEMS)
			return MSIGN_E_LIMIT;
		uint32_t n = p->cap_patches ? 2 * p->cap_patches : 8;
		void *e = realloc(p->patches, n * sizeof(*p->patches));
		if (e == NULL)
			return MSIGN_E_NOMEM;
		p->patches = e;
		p->cap_patches = n;
	}
	uint8_t *copy = malloc(len ? len : 1);
	if (copy == NULL)
		return MSIGN_E_NOMEM;
	memcpy(copy, data, len);
	p->patches[p->npatches++] = (struct msign_patch){ dst_off, copy, len };
	return 0;
}

int msign_plan_render(const struct msign_plan *p, const uint8_t *src,
		      size_t src_len, uint8_t **out, struct msign_diag *d)
{
	*out = NULL;
	uint8_t *buf = calloc(1, p->out_len ? (size_t)p->out_len : 1);
	if (buf == NULL)
		return MSIGN_E_NOMEM;
	for (uint32_t i = 0; i < p->nextents; i++) {
		const struct msign_extent *e = &p->extents[i];
		if (e->src_off > src_len || e->len > src_len - e->src_off ||
		    plan_fits(p, e->dst_off, e->len) != 0) {
			free(buf);
			return msign_diag_set(d, MSIGN_E_BAD_RANGE, e->src_off,
					      "plan copies %llu bytes from offset %llu of a %zu-byte input",
					      (unsigned long long)e->len,
					      (unsigned long long)e->src_off, src_len);
		}
		memcpy(buf + e->dst_off, src + e->src_off, (size_t)e->len);
	}
	for (uint32_t i = 0; i < p->npatches; i++) {
		if (plan_fits(p, p->patches[i].dst_off, p->patches[i].len) != 0) {
			free(buf);
			return MSIGN_E_BAD_RANGE;
		}
		memcpy(buf + p->patches[i].dst_off, p->patches[i].data,
		       p->patches[i].len);
	}
	*out = buf;
	return 0;
}

/* ---- files -------------------------------------------------------------- */

static int wr_errno(struct msign_diag *d, const char *what, const char *path)
{
	int e = errno;
	return msign_diag_set(d, MSIGN_E_IO, 0, "%s %s: %s", what, path,
			      strerror(e));
}

/* Split path into its folder (malloc'd) and base name (points into path). */
static char *wr_dirname(const char *path, const char **base)
{
	const char *slash = strrchr(path, '/');
	*base = slash ? slash + 1 : path;
	if (slash == NULL)
		return strdup(".");
	if (slash == path)
		return strdup("/");
	return strndup(path, (size_t)(slash - path));
}

/* Remove temporaries of earlier commits to the same name whose process is
 * gone (killed between writing and renaming). Only names of exactly our
 * shape, ".<base>.msign.<pid>.XXXXXX", that are regular files of ours. */
static void wr_sweep(const char *dir, const char *base)
{
	DIR *dp = opendir(dir);
	if (dp == NULL)
		return;
	char prefix[512];
	int n = snprintf(prefix, sizeof(prefix), ".%s.msign.", base);
	if (n < 0 || (size_t)n >= sizeof(prefix)) {
		closedir(dp);
		return;
	}
	struct dirent *e;
	while ((e = readdir(dp)) != NULL) {
		const char *name = e->d_name;
		if (strncmp(name, prefix, (size_t)n) != 0)
			continue;
		const char *p = name + n, *digits = p;
		while (*p >= '0' && *p <= '9')
			p++;
		if (p == digits || p - digits > 10 || *p != '.' || strlen(p + 1) != 6)
			continue;
		long pid = strtol(digits, NULL, 10);
		if (pid <= 0 || kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue; /* its writer may still be running */
		char path[4096];
		struct stat st;
		if (snprintf(path, sizeof(path), "%s/%s", dir, name) >=
			    (int)sizeof(path) ||
		    lstat(path, &st) != 0 || !S_ISREG(st.st_mode) ||
		    st.st_uid != geteuid())
			continue;
		unlink(path);
	}
	closedir(dp);
}

static int wr_copy_range(int in, int out, uint64_t src, uint64_t dst,
			 uint64_t len)
{
#ifdef __linux__
	/* In-kernel copy; reflinks where the file system can. */
	off_t so = (off_t)src, doff = (off_t)dst;
	while (len > 0) {
		ssize_t n = copy_file_range(in, &so, out, &doff,
					    len > SSIZE_MAX ? SSIZE_MAX : (size_t)len, 0);
		if (n <= 0)
			break;
		len -= (uint64_t)n;
	}
	if (len == 0)
		return 0;
	src = (uint64_t)so;
	dst = (uint64_t)doff;
#endif
	static __thread uint8_t buf[COPY_CHUNK];
	while (len > 0) {
		size_t want = len > COPY_CHUNK ? COPY_CHUNK : (size_t)len;
		ssize_t r = pread(in, buf, want, (off_t)src);
		if (r <= 0)
			return -1;
		for (ssize_t w = 0; w < r;) {
			ssize_t k = pwrite(out, buf + w, (size_t)(r - w),
					   (off_t)dst + w);
			if (k <= 0)
				return -1;
			w += k;
		}
		src += (uint64_t)r;
		dst += (uint64_t)r;
		len -= (uint64_t)r;
	}
	return 0;
}

/* A plan that keeps a prefix of the input in place can start from a clone
 * of the whole file (a reflink: no data copied) and be cut down. */
static bool wr_try_clone(const struct msign_plan *p, int in, int out)
{
#if defined(__linux__) && defined(FICLONE)
	/* Cut back to the extent afterwards so the rest reads as zeros, as in
	 * msign_plan_render. */
	if (p->nextents == 1 && p->extents[0].src_off == 0 &&
	    p->extents[0].dst_off == 0 && ioctl(out, FICLONE, in) == 0 &&
	    ftruncate(out, (off_t)p->extents[0].len) == 0)
		return true;
#else
	(void)p; (void)in; (void)out;
#endif
	return false;
}

static int wr_fill(const struct msign_plan *p, int in, int out,
		   const char *tmp, struct msign_diag *d)
{
	if (!wr_try_clone(p, in, out)) {
		for (uint32_t i = 0; i < p->nextents; i++) {
			const struct msign_extent *e = &p->extents[i];
			if (wr_copy_range(in, out, e->src_off, e->dst_off,
					  e->len) != 0)
				return wr_errno(d, "cannot write", tmp);
		}
	}
	if (ftruncate(out, (off_t)p->out_len) != 0)
		return wr_errno(d, "cannot size", tmp);
	for (uint32_t i = 0; i < p->npatches; i++) {
		const struct msign_patch *pt = &p->patches[i];
		for (size_t w = 0; w < pt->len;) {
			ssize_t k = pwrite(out, pt->data + w, pt->len - w,
					   (off_t)(pt->dst_off + w));
			if (k <= 0)
				return wr_errno(d, "cannot write", tmp);
			w += (size_t)k;
		}
	}
	if (fsync(out) != 0)
		return wr_errno(d, "cannot sync", tmp);
	return 0;
}

static int wr_check(int fd, uint64_t len, msign_check_fn check, void *arg,
		    struct msign_diag *d)
{
	if (check == NULL)
		return 0;
	if (len == 0)
		return check((const uint8_t *)"", 0, arg, d);
	void *m = mmap(NULL, (size_t)len, PROT_READ, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED)
		return msign_diag_set(d, MSIGN_E_IO, 0, "cannot map the result: %s",
				      strerror(errno));
	int r = check(m, (size_t)len, arg, d);
	munmap(m, (size_t)len);
	return r;
}

/* Replace a symbolic link's target, not the link: resolve dst first when
 * it exists (an output that does not exist yet is used as given). */
static char *wr_resolve(const char *dst_path)
{
	char *real = realpath(dst_path, NULL);
	return real ? real : strdup(dst_path);
}

int msign_plan_commit_fd(const struct msign_plan *p, int in,
			 const char *dst_path, msign_check_fn check, void *arg,
			 struct msign_diag *d)
{
	struct stat st;
	if (fstat(in, &st) != 0)
		return wr_errno(d, "cannot stat", dst_path);
	const char *base;
	char *dst = wr_resolve(dst_path);
	char *dir = dst ? wr_dirname(dst, &base) : NULL;
	char tmp[4096];
	int out = -1, r = MSIGN_E_NOMEM;
	if (dir == NULL)
		goto done;
	wr_sweep(dir, base);
	if (snprintf(tmp, sizeof(tmp), "%s/.%s.msign.%ld.XXXXXX", dir, base,
		     (long)getpid()) >= (int)sizeof(tmp)) {
		r = msign_diag_set(d, MSIGN_E_ARG, 0, "path too long: %s", dst_path);
		goto done;
	}
	out = mkstemp(tmp);
	if (out < 0) {
		r = wr_errno(d, "cannot create a temporary file in", dir);
		goto done;
	}
	/* Owner first (it may clear set-id bits), then the mode; the owner is
	 * best effort: only root can give a file away. */
	if (fchown(out, st.st_uid, st.st_gid) != 0) {
		/* not permitted: the file stays ours */
	}
	if (fchmod(out, st.st_mode & 07777) != 0) {
		r = wr_errno(d, "cannot set the mode of", tmp);
		goto fail;
	}
	if ((r = wr_fill(p, in, out, tmp, d)) != 0 ||
	    (r = wr_check(out, p->out_len, check, arg, d)) != 0)
		goto fail;
	if (rename(tmp, dst) != 0) {
		r = wr_errno(d, "cannot replace", dst_path);
		goto fail;
	}
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd); /* make the rename itself durable */
		close(dfd);
	}
	r = 0;
	goto done;
fail:
	unlink(tmp);
done:
	if (out >= 0)
		close(out);
	free(dir);
	free(dst);
	return r;
}

int msign_plan_commit(const struct msign_plan *p, const char *src_path,
		      const char *dst_path, msign_check_fn check, void *arg,
		      struct msign_diag *d)
{
	int in = open(src_path, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return wr_errno(d, "cannot open", src_path);
	int r = msign_plan_commit_fd(p, in, dst_path, check, arg, d);
	close(in);
	return r;
}

int msign_edit_file(const char *in_path, const char *out_path,
		    msign_plan_fn plan_fn, void *plan_arg, msign_check_fn check,
		    void *check_arg, struct msign_diag *d)
{
	/* One descriptor for the mapping the plan is computed from and the
	 * copies the commit makes: a file swapped in meanwhile is not mixed in. */
	int fd = open(in_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return msign_diag_set(d, MSIGN_E_IO, 0, "%s", strerror(errno));
	struct msign_image *img = NULL;
	int r = msign_image_open_fd(fd, &img, d);
	if (r) {
		close(fd);
		return r;
	}
	struct msign_plan plan;
	msign_plan_init(&plan);
	r = plan_fn(img, &plan, plan_arg, d);
	msign_image_free(img);
	if (r == MSIGN_PLAN_UNCHANGED)
		r = 0; /* nothing to write */
	else if (r == 0)
		r = msign_plan_commit_fd(&plan, fd, out_path, check, check_arg, d);
	msign_plan_free(&plan);
	close(fd);
	return r;
}
