/* Edit plans and their atomic execution (see sign.h).
 *
 * The destination is never modified in place: the output is built in a
 * temporary file in the same folder (so rename is atomic and, on macOS,
 * yields the new inode the kernel's signature cache needs), checked, then
 * renamed over the destination. Temporary files are named
 * ".<name>.msign.<pid>.XXXXXX" (a name too long for NAME_MAX is cut, see
 * wr_tmp_prefix). The writer holds flock(LOCK_EX) on its temporary for its
 * whole life; the next commit into the same folder removes a temporary of
 * the same name only when it can take that lock, i.e. when its writer is
 * gone, whatever PID namespace the writer ran in. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/file.h>
#include <unistd.h>
#ifdef __linux__
#include <linux/fs.h>
#include <sys/xattr.h>
#endif
#ifdef __APPLE__
#include <copyfile.h>
#endif

#include "base/cur.h"
#include "write/write.h"
#include "write/strip.h"
#include "hash/hash.h"
#include "sign/sign.h"
#include "verify/verify.h"

#define PLAN_MAX_ITEMS 4096u /* far above what strip/sign need */
#define COPY_CHUNK (1u << 20)
#define COPY_BURST (32u << 20) /* copied, then pushed to disk */
/* wr_copy's answer for an input that ended before a copied range did:
 * not an errno of any call (ENODATA is not returned by pread). */
#define WR_SHORT_INPUT ENODATA

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

int msign_plan_patch_adopt(struct msign_plan *p, uint64_t dst_off,
			   uint8_t *data, size_t len)
{
	int r = 0;
	if (plan_fits(p, dst_off, len) != 0)
		r = MSIGN_E_BAD_RANGE;
	else if (p->npatches == p->cap_patches) {
		uint32_t n = p->cap_patches ? 2 * p->cap_patches : 8;
		void *e = p->cap_patches >= PLAN_MAX_ITEMS
				  ? NULL : realloc(p->patches, n * sizeof(*p->patches));
		if (e == NULL) {
			r = p->cap_patches >= PLAN_MAX_ITEMS ? MSIGN_E_LIMIT
							     : MSIGN_E_NOMEM;
		} else {
			p->patches = e;
			p->cap_patches = n;
		}
	}
	if (r != 0) {
		free(data);
		return r;
	}
	p->patches[p->npatches++] = (struct msign_patch){ dst_off, data, len };
	return 0;
}

int msign_plan_patch(struct msign_plan *p, uint64_t dst_off,
		     const void *data, size_t len)
{
	uint8_t *copy = malloc(len ? len : 1);
	if (copy == NULL)
		return MSIGN_E_NOMEM;
	memcpy(copy, data, len);
	return msign_plan_patch_adopt(p, dst_off, copy, len);
}

/* Is [at, at + n) of img all zeros? Read from the file when img has one
 * (those bytes are not among the parts read at open). */
static int wr_zeros(const struct msign_image *img, uint64_t at, uint64_t n,
		    uint64_t *bad, struct msign_diag *d)
{
	uint8_t buf[4096];
	while (n > 0) {
		size_t k = n < sizeof(buf) ? (size_t)n : sizeof(buf);
		const uint8_t *p = img->data + at;
		if (img->fd >= 0) {
			ssize_t got = pread(img->fd, buf, k, (off_t)at);
			if (got < 0 && errno == EINTR)
				continue;
			if (got <= 0)
				return msign_diag_set(d, MSIGN_E_IO, at,
						      "reading the file: %s", got < 0 ? strerror(errno)
						      : "it is shorter than when it was opened");
			k = (size_t)got;
			p = buf;
		}
		for (size_t i = 0; i < k; i++)
			if (p[i] != 0) {
				*bad = at + i;
				return 1;
			}
		at += k;
		n -= k;
	}
	return 0;
}

/* Bytes of a universal file outside its header and slices (between them
 * or after the last) are lost when the slices are laid out again: allowed
 * only when they are zeros, the padding lipo writes. */
static int wr_fat_gaps(const struct msign_image *img, struct msign_diag *d)
{
	uint32_t idx[MSIGN_MAX_SLICES], n = 0;
	for (uint32_t i = 0; i < img->nslices && n < MSIGN_MAX_SLICES; i++) {
		if (img->slices[i].err != 0)
			return 0; /* the layout refuses it anyway */
		uint32_t k = n++;
		while (k > 0 && img->slices[idx[k - 1]].off > img->slices[i].off) {
			idx[k] = idx[k - 1];
			k--;
		}
		idx[k] = i;
	}
	uint64_t pos = msign_fat_header_len(img), bad = 0;
	for (uint32_t k = 0; k <= n; k++) {
		uint64_t end = k < n ? img->slices[idx[k]].off : img->len;
		int r = end > pos ? wr_zeros(img, pos, end - pos, &bad, d) : 0;
		if (r < 0)
			return r;
		if (r > 0)
			return msign_diag_set(d, MSIGN_E_INVALID, bad,
					      "non-zero bytes outside every slice, in [%llu, %llu), would be lost when the slices are laid out again",
					      (unsigned long long)pos, (unsigned long long)end);
		if (k < n)
			pos = img->slices[idx[k]].off + img->slices[idx[k]].size;
	}
	return 0;
}

int msign_fat_layout(const struct msign_image *img, const uint64_t *size,
		     uint64_t *off, uint64_t *total, struct msign_diag *d)
{
	uint64_t pos = msign_fat_header_len(img);
	int r = img->is_fat ? wr_fat_gaps(img, d) : 0;
	if (r)
		return r;
	for (uint32_t i = 0; i < img->nslices; i++) {
		if (img->is_fat) {
			if (img->slices[i].err != 0)
				return msign_diag_set(d, MSIGN_E_INVALID, 0,
						      "fat slice %u is damaged and cannot be laid out", i);
			uint64_t a = (uint64_t)1 << msign_fat_align(&img->slices[i]);
			pos = (pos + a - 1) & ~(a - 1);
			if (!img->fat64 && pos + size[i] > UINT32_MAX)
				return msign_diag_set(d, MSIGN_E_OVERFLOW, 0,
						      "slice %u would end past 4 GiB in a 32-bit fat file", i);
		}
		off[i] = pos;
		pos += size[i];
	}
	*total = pos;
	return 0;
}

int msign_plan_fat_header(struct msign_plan *p, const struct msign_image *img,
			  const uint64_t *off, const uint64_t *size)
{
	size_t len = msign_fat_header_len(img); /* checked at parse */
	size_t ent = img->fat64 ? MSIGN_FAT_ARCH64_LEN : MSIGN_FAT_ARCH32_LEN;
	uint8_t *h = malloc(len ? len : 1);
	if (h == NULL)
		return MSIGN_E_NOMEM;
	memcpy(h, img->data, len); /* magic, count, cputypes, aligns */
	for (uint32_t i = 0; i < img->nslices; i++) {
		uint8_t *a = h + MSIGN_FAT_HEADER_LEN + i * ent;
		uint32_t align = msign_fat_align(&img->slices[i]);
		if (img->fat64) {
			msign_put_be64(a + MSIGN_FAT_ARCH_OFF_OFFSET, off[i]);
			msign_put_be64(a + MSIGN_FAT_ARCH64_OFF_SIZE, size[i]);
			msign_put_be32(a + MSIGN_FAT_ARCH64_OFF_ALIGN, align);
		} else {
			msign_put_be32(a + MSIGN_FAT_ARCH_OFF_OFFSET, (uint32_t)off[i]);
			msign_put_be32(a + MSIGN_FAT_ARCH32_OFF_SIZE, (uint32_t)size[i]);
			msign_put_be32(a + MSIGN_FAT_ARCH32_OFF_ALIGN, align);
		}
	}
	return msign_plan_patch_adopt(p, 0, h, len);
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

/* Temporary names are ".<base>.msign.<pid>.XXXXXX" and must fit NAME_MAX
 * (255) for any valid base: the tail takes at most 24 bytes (a pid has at
 * most 10 digits), leaving 230 for "." and the base. A longer base is cut
 * (at a UTF-8 character boundary) and followed by "~" and 16 hex digits of
 * a hash of the whole base, so that the sweep for one long name does not
 * take another long name's temporaries for its own. */
#define WR_NAME_MAX 255
#define WR_TAIL_MAX (sizeof(".msign.") - 1 + 10 + sizeof(".XXXXXX") - 1)
#define WR_BASE_MAX (WR_NAME_MAX - 1 - WR_TAIL_MAX)
#define WR_HASH_LEN 17 /* "~" and 16 hex digits */

/* ".<base>.msign." (possibly cut) into out; its length, or -1. */
static int wr_tmp_prefix(const char *base, char *out, size_t outlen)
{
	size_t n = strlen(base);
	if (n <= WR_BASE_MAX) {
		int k = snprintf(out, outlen, ".%s.msign.", base);
		return k < 0 || (size_t)k >= outlen ? -1 : k;
	}
	uint64_t h = 0xcbf29ce484222325u; /* FNV-1a, 64-bit */
	for (size_t i = 0; i < n; i++)
		h = (h ^ (uint8_t)base[i]) * 0x100000001b3u;
	size_t cut = WR_BASE_MAX - WR_HASH_LEN;
	while (cut > 0 && ((uint8_t)base[cut] & 0xc0) == 0x80)
		cut--; /* do not split a multi-byte character */
	int k = snprintf(out, outlen, ".%.*s~%016llx.msign.", (int)cut, base,
			 (unsigned long long)h);
	return k < 0 || (size_t)k >= outlen ? -1 : k;
}

/* Remove temporaries of earlier commits to the same name whose writer is
 * gone (killed between creating and renaming): names of exactly our shape,
 * regular files owned by us or by the destination's owner (owner_uid; a
 * killed writer may already have given the file away), and only when no
 * writer holds the lock on them. The lock, not the pid in the name, tells
 * a live writer: a pid says nothing across PID namespaces. */
static void wr_sweep(const char *dir, const char *base, uid_t owner_uid)
{
	char prefix[WR_NAME_MAX + 1];
	int n = wr_tmp_prefix(base, prefix, sizeof(prefix));
	if (n < 0)
		return;
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *dp = dfd >= 0 ? fdopendir(dfd) : NULL;
	if (dp == NULL) {
		if (dfd >= 0)
			close(dfd);
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
		struct stat ls, fs;
		if (fstatat(dfd, name, &ls, AT_SYMLINK_NOFOLLOW) != 0 ||
		    !S_ISREG(ls.st_mode) ||
		    (ls.st_uid != geteuid() && ls.st_uid != owner_uid))
			continue;
		/* O_NONBLOCK: should the name become a FIFO meanwhile, the open
		 * must not wait; the inode check then skips it. */
		int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
					   O_CLOEXEC);
		if (fd < 0)
			continue;
		if (fstat(fd, &fs) == 0 && fs.st_dev == ls.st_dev &&
		    fs.st_ino == ls.st_ino && S_ISREG(fs.st_mode) &&
		    flock(fd, LOCK_EX | LOCK_NB) == 0)
			unlinkat(dfd, name, 0); /* under the lock: see wr_lock */
		close(fd);
	}
	closedir(dp);
}

#ifdef __linux__
/* Start writing [off, off + len) of out to disk now, so that the fsync at
 * the end finds less to do (with sign, while the pages are being hashed).
 * Only the in-kernel copy, which is Linux's, uses it. */
static void wr_push(int out, uint64_t off, uint64_t len)
{
	(void)sync_file_range(out, (off_t)off, (off_t)len, SYNC_FILE_RANGE_WRITE);
}
#endif

/* Durable on disk: on macOS fsync only reaches the drive, whose cache may
 * still lose the data; F_FULLFSYNC flushes that too. A file system that
 * does not support it (some network ones) gets the plain fsync. */
static int wr_sync(int fd)
{
#if defined(__APPLE__) && defined(F_FULLFSYNC)
	if (fcntl(fd, F_FULLFSYNC) == 0)
		return 0;
#endif
	return fsync(fd);
}

/* The copier's progress, for fill_fn's readers of the output. */
struct msign_out {
	pthread_mutex_t lock;
	pthread_cond_t moved;
	uint64_t done; /* every copied range below this offset is in fd */
	int err;       /* MSIGN_E_IO once the copy failed */
	int fd;
};

int msign_out_fd(const struct msign_out *out)
{
	return out->fd;
}

int msign_out_wait(struct msign_out *out, uint64_t end)
{
	pthread_mutex_lock(&out->lock);
	while (out->done < end && out->err == 0)
		pthread_cond_wait(&out->moved, &out->lock);
	int r = out->err;
	pthread_mutex_unlock(&out->lock);
	return r;
}

static void wr_progress(struct msign_out *out, uint64_t done, int err)
{
	if (out == NULL)
		return;
	pthread_mutex_lock(&out->lock);
	if (done > out->done)
		out->done = done;
	if (err != 0 && out->err == 0)
		out->err = err;
	pthread_cond_broadcast(&out->moved);
	pthread_mutex_unlock(&out->lock);
}

/* Copy [src, src + len) of in to dst of out; prog (when not NULL) learns
 * each burst as it lands. */
static int wr_copy_range(int in, int out, uint64_t src, uint64_t dst,
			 uint64_t len, struct msign_out *prog)
{
#ifdef __linux__
	/* In-kernel copy; reflinks where the file system can. In bursts, each
	 * pushed to disk once copied. */
	off_t so = (off_t)src, doff = (off_t)dst;
	while (len > 0) {
		uint64_t burst = len < COPY_BURST ? len : COPY_BURST;
		off_t at = doff;
		ssize_t n = copy_file_range(in, &so, out, &doff, (size_t)burst, 0);
		if (n <= 0)
			break;
		len -= (uint64_t)n;
		wr_push(out, (uint64_t)at, (uint64_t)n);
		wr_progress(prog, (uint64_t)doff, 0);
	}
	if (len == 0)
		return 0;
	src = (uint64_t)so;
	dst = (uint64_t)doff;
#endif
	/* On the heap, for this copy only: a static __thread buffer would
	 * cost every thread of every program linking libmsign 1 MiB. */
	uint8_t *buf = malloc(COPY_CHUNK);
	if (buf == NULL) {
		errno = ENOMEM;
		return -1;
	}
	int rc = 0;
	while (len > 0 && rc == 0) {
		size_t want = len > COPY_CHUNK ? COPY_CHUNK : (size_t)len;
		ssize_t r = pread(in, buf, want, (off_t)src);
		if (r == 0)
			errno = WR_SHORT_INPUT; /* cut short since it was opened */
		if (r <= 0) {
			rc = -1;
			break;
		}
		for (ssize_t w = 0; w < r;) {
			ssize_t k = pwrite(out, buf + w, (size_t)(r - w),
					   (off_t)dst + w);
			if (k <= 0) {
				rc = -1;
				break;
			}
			w += k;
		}
		if (rc != 0)
			break;
		src += (uint64_t)r;
		dst += (uint64_t)r;
		len -= (uint64_t)r;
		wr_progress(prog, dst, 0);
	}
	int e = errno;
	free(buf);
	errno = e;
	return rc;
}

/* A plan that keeps a prefix of the input in place can start from a clone
 * of the whole file (a reflink: no data copied) and be cut down. */
static bool wr_try_clone(const struct msign_extent *ext, uint32_t n, int in,
			 int out)
{
#if defined(__linux__) && defined(FICLONE)
	/* Cut back to the extent afterwards so the rest reads as zeros, as in
	 * msign_plan_render. */
	if (n == 1 && ext[0].src_off == 0 && ext[0].dst_off == 0 &&
	    ioctl(out, FICLONE, in) == 0 && ftruncate(out, (off_t)ext[0].len) == 0)
		return true;
#elif defined(__APPLE__)
	/* fcopyfile copies the data descriptor to descriptor, cloning on
	 * APFS where it can; clonefile(2) would need the temporary's name
	 * free, and it is held open (and locked) from the start. */
	if (n == 1 && ext[0].src_off == 0 && ext[0].dst_off == 0 &&
	    fcopyfile(in, out, NULL, COPYFILE_DATA) == 0 &&
	    ftruncate(out, (off_t)ext[0].len) == 0)
		return true;
#else
	(void)ext; (void)n; (void)in; (void)out;
#endif
	return false;
}

/* The copied ranges of the output: a clone when the plan allows, else
 * every extent. Returns errno (0 when done). Progress is published as the
 * copy goes when the extents ascend (sign's do), else once at the end. */
static int wr_copy(const struct msign_extent *ext, uint32_t n, int in, int out,
		   struct msign_out *prog)
{
	int e = 0;
	if (!wr_try_clone(ext, n, in, out)) {
		bool ascending = true;
		for (uint32_t i = 1; i < n; i++)
			ascending &= ext[i].dst_off >= ext[i - 1].dst_off + ext[i - 1].len;
		for (uint32_t i = 0; i < n && e == 0; i++)
			if (wr_copy_range(in, out, ext[i].src_off, ext[i].dst_off,
					  ext[i].len, ascending ? prog : NULL) != 0)
				e = errno ? errno : EIO;
	}
	wr_progress(prog, UINT64_MAX, e ? MSIGN_E_IO : 0);
	return e;
}

/* Size, patches, fsync: the output once its ranges are copied. */
static int wr_finish(const struct msign_plan *p, int out, const char *tmp,
		     struct msign_diag *d)
{
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
	if (wr_sync(out) != 0)
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
 * it exists (an output that does not exist yet is used as given). The
 * kernel follows the links (open O_PATH, then the descriptor's name), not
 * realpath(3), so its rules hold: fs.protected_symlinks refuses root a
 * link planted by another user in a sticky folder, and msign refuses too
 * (*err set) instead of writing where the link points. */
static char *wr_resolve(const char *dst_path, int *err)
{
	*err = 0;
#ifdef __linux__
	int fd = open(dst_path, O_PATH | O_CLOEXEC);
	if (fd < 0) {
		if (errno != ENOENT) {
			*err = errno;
			return NULL;
		}
		return strdup(dst_path); /* absent (or a link to nothing) */
	}
	char link[64], buf[PATH_MAX];
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	ssize_t n = readlink(link, buf, sizeof(buf) - 1);
	close(fd);
	if (n > 0 && buf[0] == '/') {
		buf[n] = '\0';
		return strdup(buf);
	}
	/* no /proc: the kernel let us follow it, realpath may too */
#endif
	char *real = realpath(dst_path, NULL);
	return real ? real : strdup(dst_path);
}

/* One commit in progress: the temporary file, and the thread copying the
 * plan's ranges into it while the caller fills in the patches. */
struct wr_commit {
	char *dst, *dir;
	char tmp[4096];
	int out;
	int in;
	struct stat src_st; /* owner, mode and attributes to keep: the input's */
	const struct msign_plan *plan; /* read again only in wr_end */
	struct msign_extent *ext; /* the ranges as they were at the start */
	uint32_t next;
	pthread_t copier;
	bool threaded;
	int copy_errno;
	struct msign_out prog;
};

static void wr_commit_free(struct wr_commit *c, bool unlink_tmp)
{
	if (c->out >= 0) {
		if (unlink_tmp)
			unlink(c->tmp);
		close(c->out); /* drops the lock: after the unlink, see wr_sweep */
	}
	free(c->ext);
	free(c->dir);
	free(c->dst);
	pthread_cond_destroy(&c->prog.moved);
	pthread_mutex_destroy(&c->prog.lock);
}

/* Lock the temporary just created for the rest of the commit. A sweeper
 * may have taken the lock and removed the name between mkstemp and here:
 * then the name no longer leads to our file (false: make another). A file
 * system without flock leaves it unlocked, and sweepers cannot lock it
 * either, so they keep it. */
static bool wr_lock(const struct wr_commit *c)
{
	while (flock(c->out, LOCK_EX) != 0)
		if (errno != EINTR)
			return true;
	struct stat fs, ls;
	return fstat(c->out, &fs) == 0 && lstat(c->tmp, &ls) == 0 &&
	       fs.st_dev == ls.st_dev && fs.st_ino == ls.st_ino;
}

/* The destination must be a regular file or absent (a device, FIFO or
 * folder is never replaced, nor opened), and one the caller may write: a
 * file it could not open for writing is not replaced behind its back. The
 * check is access(W_OK), not an open: a running executable cannot be
 * opened for writing (ETXTBSY) but is re-signed by rename, as codesign
 * does. *owner gets the destination's owner (-1 when absent). */
static int wr_check_dst(const char *dst, const char *dst_path, uid_t *owner,
			struct msign_diag *d)
{
	struct stat ds;
	*owner = (uid_t)-1;
	if (stat(dst, &ds) != 0) {
		if (errno == ENOENT)
			return 0;
		return wr_errno(d, "cannot write", dst_path);
	}
	if (!S_ISREG(ds.st_mode))
		return msign_diag_set(d, MSIGN_E_IO, 0,
				      "cannot write %s: not a regular file", dst_path);
	if (faccessat(AT_FDCWD, dst, W_OK, AT_EACCESS) != 0)
		return wr_errno(d, "cannot write", dst_path);
	*owner = ds.st_uid;
	return 0;
}

/* Temporary file beside dst, 0600 and the caller's until wr_end: no one
 * else can write into it while it is filled, hashed and checked. */
static int wr_begin(struct wr_commit *c, const struct msign_plan *p, int in,
		    const char *dst_path, struct msign_diag *d)
{
	memset(c, 0, sizeof(*c));
	c->out = -1;
	c->in = in;
	c->plan = p;
	pthread_mutex_init(&c->prog.lock, NULL);
	pthread_cond_init(&c->prog.moved, NULL);
	c->prog.fd = -1;
	if (fstat(in, &c->src_st) != 0)
		return wr_errno(d, "cannot stat", dst_path);
	const char *base = NULL;
	int rerr;
	c->dst = wr_resolve(dst_path, &rerr);
	if (rerr != 0) {
		errno = rerr;
		return wr_errno(d, "cannot write", dst_path);
	}
	c->dir = c->dst ? wr_dirname(c->dst, &base) : NULL;
	c->ext = malloc((p->nextents ? p->nextents : 1) * sizeof(*c->ext));
	if (c->dir == NULL || c->ext == NULL)
		return MSIGN_E_NOMEM;
	c->next = p->nextents;
	if (p->nextents)
		memcpy(c->ext, p->extents, p->nextents * sizeof(*c->ext));
	uid_t owner;
	int r = wr_check_dst(c->dst, dst_path, &owner, d);
	if (r != 0)
		return r;
	wr_sweep(c->dir, base, owner);
	char prefix[WR_NAME_MAX + 1];
	if (wr_tmp_prefix(base, prefix, sizeof(prefix)) < 0)
		return msign_diag_set(d, MSIGN_E_ARG, 0, "name too long: %s",
				      dst_path);
	for (int tries = 0; c->out < 0; tries++) {
		if (snprintf(c->tmp, sizeof(c->tmp), "%s/%s%ld.XXXXXX", c->dir,
			     prefix, (long)getpid()) >= (int)sizeof(c->tmp))
			return msign_diag_set(d, MSIGN_E_ARG, 0,
					      "path too long: %s", dst_path);
		c->out = mkostemp(c->tmp, O_CLOEXEC);
		if (c->out < 0)
			return wr_errno(d, "cannot create a temporary file in",
					c->dir);
		if (!wr_lock(c)) {
			close(c->out); /* swept before we locked it */
			c->out = -1;
			if (tries == 3)
				return msign_diag_set(d, MSIGN_E_IO, 0,
						      "cannot keep a temporary file in %s",
						      c->dir);
		}
	}
	c->prog.fd = c->out;
	return 0;
}

#ifdef __linux__
#define WR_ACL_ACCESS "system.posix_acl_access"

/* Extended attributes of in onto out (POSIX ACLs are the xattr
 * system.posix_acl_access on Linux). Returns the MSIGN_LOST_* bits of what
 * could not be set; a value out already has (a security label given at
 * creation) counts as kept. An ACL out inherited from the folder's default
 * ACL, which in does not have, is removed. */
uint32_t msign_copy_xattrs(int in, int out)
{
	uint32_t lost = 0;
	ssize_t n = flistxattr(in, NULL, 0);
	if (n < 0 && errno != ENOTSUP)
		lost |= MSIGN_LOST_XATTR;
	char *names = n > 0 ? malloc((size_t)n) : NULL;
	if (n > 0 && (names == NULL || (n = flistxattr(in, names, (size_t)n)) < 0))
		lost |= MSIGN_LOST_XATTR; /* or the list grew meanwhile */
	bool src_acl = false;
	for (ssize_t i = 0; n > 0 && i < n; i += (ssize_t)strlen(names + i) + 1) {
		const char *name = names + i;
		bool acl = strcmp(name, WR_ACL_ACCESS) == 0;
		src_acl = src_acl || acl;
		uint32_t bit = acl ? MSIGN_LOST_ACL : MSIGN_LOST_XATTR;
		ssize_t vl = fgetxattr(in, name, NULL, 0);
		char *v = vl >= 0 ? malloc(vl ? (size_t)vl : 1) : NULL;
		if (v == NULL || (vl = fgetxattr(in, name, v, (size_t)vl)) < 0) {
			lost |= bit;
		} else if (fsetxattr(out, name, v, (size_t)vl, 0) != 0) {
			char have[256];
			ssize_t hl = (size_t)vl <= sizeof(have)
					     ? fgetxattr(out, name, have, sizeof(have)) : -1;
			if (hl != vl || memcmp(have, v, (size_t)vl) != 0)
				lost |= bit;
		}
		free(v);
	}
	free(names);
	if (!src_acl)
		(void)fremovexattr(out, WR_ACL_ACCESS); /* none: ENODATA */
	return lost;
}
#else
#ifdef __APPLE__
/* macOS: the extended attributes and the ACL, by the system's own copier
 * (which knows the com.apple.* attributes and the ACL format). */
uint32_t msign_copy_xattrs(int in, int out)
{
	uint32_t lost = 0;
	if (fcopyfile(in, out, NULL, COPYFILE_XATTR) != 0)
		lost |= MSIGN_LOST_XATTR;
	if (fcopyfile(in, out, NULL, COPYFILE_ACL) != 0)
		lost |= MSIGN_LOST_ACL;
	return lost;
}
#else
uint32_t msign_copy_xattrs(int in, int out)
{
	(void)in; (void)out;
	return 0; /* no extended attributes known here */
}
#endif
#endif

/* The input's owner, group, extended attributes and mode onto the finished
 * temporary, in this order: chown clears set-id bits and file
 * capabilities, and an ACL rewrites the group bits, so the mode comes last.
 * What the caller may not set is dropped and reported in *lost. */
static int wr_keep_attrs(struct wr_commit *c, uint32_t *lost,
			 struct msign_diag *d)
{
	const struct stat *st = &c->src_st;
	struct stat now;
	*lost = 0;
	if (fstat(c->out, &now) != 0)
		return wr_errno(d, "cannot stat", c->tmp);
	if ((now.st_uid != st->st_uid || now.st_gid != st->st_gid) &&
	    fchown(c->out, st->st_uid, st->st_gid) != 0) {
		/* Only root gives a file away; a member may keep the group. */
		if (now.st_uid != st->st_uid)
			*lost |= MSIGN_LOST_OWNER;
		if (now.st_gid != st->st_gid &&
		    fchown(c->out, (uid_t)-1, st->st_gid) != 0)
			*lost |= MSIGN_LOST_GROUP;
	}
	*lost |= msign_copy_xattrs(c->in, c->out);
	mode_t mode = st->st_mode & 07777;
	/* A set-id bit on a file now owned by the caller would lend the
	 * caller's rights instead of the owner's: drop it, and say so. */
	if (*lost & MSIGN_LOST_OWNER)
		mode &= ~(mode_t)S_ISUID;
	if (*lost & MSIGN_LOST_GROUP)
		mode &= ~(mode_t)S_ISGID;
	if (fchmod(c->out, mode) != 0 || fstat(c->out, &now) != 0)
		return wr_errno(d, "cannot set the mode of", c->tmp);
	/* The kernel drops set-gid silently for a group the caller is not in. */
	if ((now.st_mode & 07777) != (st->st_mode & 07777))
		*lost |= MSIGN_LOST_SETID;
	return 0;
}

static void *wr_copier(void *arg)
{
	struct wr_commit *c = arg;
	c->copy_errno = wr_copy(c->ext, c->next, c->in, c->out, &c->prog);
	return NULL;
}

/* Copy the ranges in a thread (or, if none can be started, now: fill_fn
 * may wait for them). */
static void wr_copy_start(struct wr_commit *c)
{
	c->threaded = pthread_create(&c->copier, NULL, wr_copier, c) == 0;
	if (!c->threaded)
		wr_copier(c);
}

/* Wait for the copy (or make it now, when no thread was started). */
static int wr_copy_wait(struct wr_commit *c, struct msign_diag *d)
{
	if (c->threaded) {
		pthread_join(c->copier, NULL);
		c->threaded = false;
	} else if (c->prog.done == 0) { /* not started (no fill_fn) */
		c->copy_errno = wr_copy(c->ext, c->next, c->in, c->out, NULL);
	}
	if (c->copy_errno == WR_SHORT_INPUT)
		return msign_diag_set(d, MSIGN_E_IO, 0,
				      "the input is shorter than when it was opened: it changed while msign copied it");
	if (c->copy_errno != 0) {
		errno = c->copy_errno;
		return wr_errno(d, "cannot write", c->tmp);
	}
	return 0;
}

/* Giving up: let a started copy finish, its result unused. */
static void wr_copy_cancel(struct wr_commit *c)
{
	if (c->threaded)
		pthread_join(c->copier, NULL);
	c->threaded = false;
}

/* Patches, fsync, check, owner and mode, fsync, rename, fsync of the
 * folder: the plan is complete now, with the same copied ranges as at
 * wr_begin. Every step up to the rename can still fail with the
 * destination untouched. */
static int wr_end(struct wr_commit *c, msign_check_fn check, void *arg,
		  const char *dst_path, struct msign_diag *d)
{
	const struct msign_plan *p = c->plan;
	int r;
	uint32_t lost = 0;
	if (p->nextents != c->next ||
	    memcmp(p->extents, c->ext, c->next * sizeof(*c->ext)) != 0)
		return msign_diag_set(d, MSIGN_E_ARG, 0,
				      "the plan's copied ranges changed during the commit");
	if ((r = wr_finish(p, c->out, c->tmp, d)) != 0 ||
	    (r = wr_check(c->out, p->out_len, check, arg, d)) != 0 ||
	    (r = wr_keep_attrs(c, &lost, d)) != 0)
		return r;
	if (wr_sync(c->out) != 0) /* the owner and mode just set */
		return wr_errno(d, "cannot sync", c->tmp);
	/* Opened before the rename, so that failing to open it cannot leave a
	 * replaced file whose rename is not made durable. */
	int dfd = open(c->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return wr_errno(d, "cannot open the folder", c->dir);
	if (rename(c->tmp, c->dst) != 0) {
		r = wr_errno(d, "cannot replace", dst_path);
		close(dfd);
		return r;
	}
	close(c->out); /* the name is the destination's now: never unlink it */
	c->out = -1;
	if (wr_sync(dfd) != 0)
		r = wr_errno(d, "replaced, but cannot sync the folder of", dst_path);
	close(dfd);
	if (d != NULL)
		d->lost |= lost;
	return r;
}

/* Names of the MSIGN_LOST_* bits, for the caller's one-line warning. */
size_t msign_write_lost_text(uint32_t lost, char *buf, size_t len)
{
	static const struct {
		uint32_t bit;
		const char *name;
	} names[] = {
		{ MSIGN_LOST_OWNER, "owner" },
		{ MSIGN_LOST_GROUP, "group" },
		{ MSIGN_LOST_SETID, "set-id bits" },
		{ MSIGN_LOST_XATTR, "extended attributes" },
		{ MSIGN_LOST_ACL, "ACL" },
	};
	size_t at = 0;
	if (len > 0)
		buf[0] = '\0';
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!(lost & names[i].bit))
			continue;
		int k = snprintf(buf + at, at < len ? len - at : 0, "%s%s",
				 at ? ", " : "", names[i].name);
		if (k > 0)
			at += (size_t)k;
	}
	return at;
}

int msign_edit_file(const char *in_path, const char *out_path,
		    msign_plan_fn plan_fn, msign_fill_fn fill_fn, void *plan_arg,
		    msign_check_fn check, void *check_arg, struct msign_diag *d)
{
	/* One descriptor for the mapping the plan is computed from and the
	 * copies the commit makes: a file swapped in meanwhile is not mixed in. */
	int fd = msign_input_open(in_path, d);
	if (fd < 0)
		return fd;
	struct msign_image *img = NULL;
	int r = msign_image_open_fd(fd, &img, d);
	if (r) {
		close(fd);
		return r;
	}
	struct msign_plan plan;
	msign_plan_init(&plan);
	r = plan_fn(img, &plan, plan_arg, d);
	if (r == MSIGN_PLAN_UNCHANGED) {
		r = 0; /* nothing to write */
	} else if (r == 0) {
		struct wr_commit c;
		r = wr_begin(&c, &plan, fd, out_path, d);
		if (r == 0 && fill_fn != NULL) {
			/* the ranges are copied while fill_fn works */
			wr_copy_start(&c);
			r = fill_fn(img, &plan, &c.prog, plan_arg, d);
			/* fill_fn stopped because the copy failed: say why. Its
			 * own message ("reading the file to hash its pages:
			 * Input/output error") is only the consequence, and
			 * would win, being first. */
			if (r != 0 && c.prog.err != 0) {
				if (d != NULL)
					d->code = 0;
				r = wr_copy_wait(&c, d);
			}
		}
		if (r == 0)
			r = wr_copy_wait(&c, d);
		else
			wr_copy_cancel(&c);
		if (r == 0)
			r = wr_end(&c, check, check_arg, out_path, d);
		wr_commit_free(&c, r != 0);
	}
	msign_image_free(img);
	msign_plan_free(&plan);
	close(fd);
	return r;
}
