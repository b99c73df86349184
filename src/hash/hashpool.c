/* The page-hashing engine shared by sign and verify.
 *
 * Every job's pages are cut into chunks of about CHUNK_BYTES; the chunks of
 * all jobs form one queue that worker threads drain with an atomic counter,
 * so a universal file's small and large slices, or a SHA-1 and a SHA-256
 * CodeDirectory, keep all cores busy together. Each thread owns one EVP
 * context and one read buffer for the whole run; digests are fetched once
 * per run. A page that spans pieces (sign's rewritten header next to the
 * untouched file) is fed to the digest piece by piece. Pieces that are in
 * a file are read with pread, a chunk at a time, into the thread's buffer:
 * on Linux that is cheaper than faulting the page cache into the mapping
 * and dropping it again (bench/sign.sh), and a file cut short while we
 * hash is an error instead of SIGBUS. Nothing is allocated per page. */
#include <errno.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "write/write.h"
#include "write/strip.h"
#include "hash/hash.h"
#include "sign/sign.h"
#include "verify/verify.h"

#define CHUNK_BYTES (1u << 18)
#define READ_BYTES (1u << 16) /* per pread: the copy stays in L2 (bench/sign.sh) */
#define INLINE_BYTES (2u << 20)  /* below this, threads cost more than they give */
#define MAX_THREADS 256u
#define MAX_HASH_TYPE MSIGN_CS_HASHTYPE_SHA384 /* the highest there is */

static const uint8_t hp_zeros[16384];

struct hp_run {
	struct msign_hash_job *jobs;
	uint32_t njobs;
	uint64_t *chunk_first; /* first queue index of each job; [njobs] = total */
	uint32_t *chunk_pages; /* pages per chunk of each job */
	EVP_MD *md[MAX_HASH_TYPE + 1];
	bool any_file;
	atomic_uint_fast64_t next;
	pthread_mutex_t lock;  /* guards the jobs' results */
	atomic_int err;        /* first MSIGN_E_* of any thread */
	atomic_int read_errno; /* for MSIGN_E_IO: 0 = the file was too short */
};

/* One worker's state. The buffer holds [lo, hi) of piece p (offsets
 * within the piece). */
struct hp_thread {
	EVP_MD_CTX *ctx;
	uint8_t *buf;
	const struct msign_piece *p;
	uint64_t lo, hi;
};

unsigned msign_hash_default_threads(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	if (n < 1)
		return 1;
	return n > (long)MAX_THREADS ? MAX_THREADS : (unsigned)n;
}

struct msign_piece msign_image_piece(const struct msign_image *img,
				     const uint8_t *data, uint64_t len)
{
	struct msign_piece p = { .data = data, .len = len, .fd = -1 };
	uintptr_t base = (uintptr_t)img->data, at = (uintptr_t)data;
	if (img->fd >= 0 && at >= base && at - base <= img->len &&
	    len <= img->len - (at - base)) {
		p.in_file = true;
		p.fd = img->fd;
		p.file_off = at - base;
	}
	return p;
}

void msign_hash_job_codedir(struct msign_hash_job *j,
			    const struct msign_image *img,
			    const struct msign_slice *s,
			    const struct msign_codedir *cd)
{
	uint64_t limit = msign_codedir_limit(cd);
	memset(j, 0, sizeof(*j));
	j->npieces = 1;
	j->pieces[0] = msign_image_piece(img, s->data, limit);
	j->limit = limit;
	j->page_log2 = cd->page_log2;
	j->hash_type = cd->hash_type;
	j->expect = msign_codedir_slot(cd, 0);
	j->npages = cd->ncode;
}

static void hp_fail(struct hp_run *run, int err, int read_errno)
{
	int none = 0;
	if (atomic_compare_exchange_strong(&run->err, &none, err))
		atomic_store(&run->read_errno, read_errno);
}

/* Fill t's buffer with [from, to) of file piece p, to - from <= READ_BYTES. */
static int hp_read(struct hp_run *run, struct hp_thread *t,
		   const struct msign_piece *p, uint64_t from, uint64_t to)
{
	uint64_t got = 0;
	t->p = NULL;
	if (p->gate != NULL && msign_out_wait(p->gate, p->file_off + to) != 0) {
		hp_fail(run, MSIGN_E_IO, EIO);
		return -1;
	}
	while (got < to - from) {
		ssize_t n = pread(p->fd, t->buf + got, (size_t)(to - from - got),
				  (off_t)(p->file_off + from + got));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			hp_fail(run, MSIGN_E_IO, n < 0 ? errno : 0);
			return -1;
		}
		got += (uint64_t)n;
	}
	t->p = p;
	t->lo = from;
	t->hi = to;
	return 0;
}

/* Feed [start, end) of job j to the digest; reads of file pieces stop at
 * c_end, the end of the chunk being hashed. */
static int hp_update(struct hp_run *run, struct hp_thread *t,
		     const struct msign_hash_job *j, uint64_t start,
		     uint64_t end, uint64_t c_end)
{
	uint64_t at = 0;
	for (uint32_t i = 0; i < j->npieces && start < end; i++) {
		const struct msign_piece *p = &j->pieces[i];
		uint64_t p_end = at + p->len;
		while (start < end && start < p_end) {
			uint64_t from = start - at;
			uint64_t n = (end < p_end ? end : p_end) - start;
			const uint8_t *src;
			if (p->data == NULL) {
				src = hp_zeros;
				if (n > sizeof(hp_zeros))
					n = sizeof(hp_zeros);
			} else if (p->in_file) {
				if (t->p != p || from < t->lo || from >= t->hi) {
					uint64_t to = (c_end < p_end ? c_end : p_end) - at;
					if (to <= from || to - from > READ_BYTES)
						to = from + READ_BYTES < p->len
							     ? from + READ_BYTES : p->len;
					if (hp_read(run, t, p, from, to) != 0)
						return -1;
				}
				src = t->buf + (from - t->lo);
				if (n > t->hi - from)
					n = t->hi - from;
			} else {
				src = p->data + from;
			}
			if (EVP_DigestUpdate(t->ctx, src, (size_t)n) != 1) {
				hp_fail(run, MSIGN_E_CRYPTO, 0);
				return -1;
			}
			start += n;
		}
		at = p_end;
	}
	if (start != end) { /* the pieces must cover the page */
		hp_fail(run, MSIGN_E_ARG, 0);
		return -1;
	}
	return 0;
}

static void hp_mismatch(struct hp_run *run, struct msign_hash_job *j,
			uint64_t page)
{
	pthread_mutex_lock(&run->lock);
	j->nbad++;
	if (page < j->first_bad)
		j->first_bad = page;
	pthread_mutex_unlock(&run->lock);
}

static void hp_chunk(struct hp_run *run, struct hp_thread *t, uint32_t ji,
		     uint64_t chunk)
{
	struct msign_hash_job *j = &run->jobs[ji];
	const EVP_MD *md = run->md[j->hash_type];
	uint32_t hs = msign_hashtype_size(j->hash_type);
	uint64_t first = j->first_page +
			 (chunk - run->chunk_first[ji]) * run->chunk_pages[ji];
	uint64_t last = first + run->chunk_pages[ji];
	if (last > (uint64_t)j->first_page + j->npages)
		last = (uint64_t)j->first_page + j->npages;
	uint64_t psize = j->page_log2 ? (uint64_t)1 << j->page_log2 : j->limit;
	uint64_t c_end = last * psize < j->limit ? last * psize : j->limit;
	for (uint64_t pg = first; pg < last; pg++) {
		uint64_t start = pg * psize;
		uint64_t end = start + psize < j->limit ? start + psize : j->limit;
		uint8_t h[EVP_MAX_MD_SIZE];
		unsigned int n;
		if (start > end || EVP_DigestInit_ex2(t->ctx, md, NULL) != 1) {
			hp_fail(run, MSIGN_E_CRYPTO, 0);
			return;
		}
		if (hp_update(run, t, j, start, end, c_end) != 0)
			return;
		if (EVP_DigestFinal_ex(t->ctx, h, &n) != 1) {
			hp_fail(run, MSIGN_E_CRYPTO, 0);
			return;
		}
		if (j->out != NULL)
			memcpy(j->out + pg * hs, h, hs);
		if (j->expect != NULL && memcmp(j->expect + pg * hs, h, hs) != 0)
			hp_mismatch(run, j, pg);
	}
}

static void *hp_worker(void *arg)
{
	struct hp_run *run = arg;
	struct hp_thread t = { .ctx = EVP_MD_CTX_new() };
	if (run->any_file)
		t.buf = malloc(READ_BYTES);
	if (t.ctx == NULL || (run->any_file && t.buf == NULL)) {
		hp_fail(run, t.ctx == NULL ? MSIGN_E_CRYPTO : MSIGN_E_NOMEM, 0);
		goto out;
	}
	uint64_t total = run->chunk_first[run->njobs];
	uint32_t ji = 0;
	for (;;) {
		uint64_t c = atomic_fetch_add(&run->next, 1);
		if (c >= total || atomic_load(&run->err) != 0)
			break;
		/* Chunks are handed out in order: the job index only grows. */
		while (c >= run->chunk_first[ji + 1])
			ji++;
		hp_chunk(run, &t, ji, c);
	}
out:
	EVP_MD_CTX_free(t.ctx);
	free(t.buf);
	return NULL;
}

static int hp_prepare(struct hp_run *run, uint64_t *bytes,
		      struct msign_diag *d)
{
	uint64_t q = 0;
	*bytes = 0;
	for (uint32_t i = 0; i < run->njobs; i++) {
		struct msign_hash_job *j = &run->jobs[i];
		j->nbad = 0;
		j->first_bad = UINT64_MAX;
		uint64_t covered = 0;
		bool bad_piece = false;
		for (uint32_t k = 0; k < j->npieces && k < MSIGN_HASH_MAX_PIECES; k++) {
			const struct msign_piece *p = &j->pieces[k];
			covered += p->len;
			if (p->in_file && (p->fd < 0 || p->data == NULL ||
					   p->file_off > UINT64_MAX - p->len))
				bad_piece = true;
			run->any_file |= p->in_file;
		}
		if (j->npieces > MSIGN_HASH_MAX_PIECES || covered != j->limit ||
		    bad_piece ||
		    j->page_log2 > 30 || j->hash_type > MAX_HASH_TYPE ||
		    msign_hashtype_size(j->hash_type) == 0)
			return msign_diag_set(d, MSIGN_E_ARG, 0,
					      "hash job %u is malformed", i);
		uint64_t psize = j->page_log2 ? (uint64_t)1 << j->page_log2
					      : (j->limit ? j->limit : 1);
		uint64_t want = msign_codedir_pages(j->limit, j->page_log2);
		if ((uint64_t)j->first_page + j->npages > want)
			return msign_diag_set(d, MSIGN_E_ARG, 0,
					      "hash job %u asks for pages past its limit", i);
		uint32_t per = psize >= CHUNK_BYTES ? 1 : (uint32_t)(CHUNK_BYTES / psize);
		run->chunk_pages[i] = per;
		run->chunk_first[i] = q;
		q += (j->npages + per - 1) / per;
		*bytes += j->npages * psize;
		int r;
		if (run->md[j->hash_type] == NULL &&
		    (r = msign_hash_md(j->hash_type, &run->md[j->hash_type], d)))
			return r;
	}
	run->chunk_first[run->njobs] = q;
	return 0;
}

static int hp_spawn(struct hp_run *run, unsigned threads)
{
	pthread_t tid[MAX_THREADS];
	unsigned started = 0;
	for (unsigned i = 1; i < threads; i++) {
		if (pthread_create(&tid[started], NULL, hp_worker, run) != 0)
			break; /* fewer threads: the others take the work */
		started++;
	}
	hp_worker(run);
	for (unsigned i = 0; i < started; i++)
		pthread_join(tid[i], NULL);
	return 0;
}

int msign_hash_run(struct msign_hash_job *jobs, uint32_t njobs,
		   unsigned threads, struct msign_diag *d)
{
	if (njobs == 0)
		return 0;
	struct hp_run run;
	memset(&run, 0, sizeof(run));
	run.jobs = jobs;
	run.njobs = njobs;
	run.chunk_first = calloc((size_t)njobs + 1, sizeof(*run.chunk_first));
	run.chunk_pages = calloc(njobs, sizeof(*run.chunk_pages));
	atomic_init(&run.next, 0);
	atomic_init(&run.err, 0);
	atomic_init(&run.read_errno, 0);
	int r = MSIGN_E_NOMEM;
	uint64_t bytes;
	if (run.chunk_first == NULL || run.chunk_pages == NULL ||
	    pthread_mutex_init(&run.lock, NULL) != 0)
		goto out_free;
	if ((r = hp_prepare(&run, &bytes, d)) != 0)
		goto out;
	if (threads == 0)
		threads = msign_hash_default_threads();
	if (threads > MAX_THREADS)
		threads = MAX_THREADS;
	uint64_t chunks = run.chunk_first[njobs];
	if (threads > chunks)
		threads = chunks > 0 ? (unsigned)chunks : 1;
	if (threads <= 1 || bytes < INLINE_BYTES)
		hp_worker(&run);
	else
		hp_spawn(&run, threads);
	r = atomic_load(&run.err);
	if (r == MSIGN_E_IO) {
		int e = atomic_load(&run.read_errno);
		msign_diag_set(d, r, 0, "reading the file to hash its pages: %s",
			       e ? strerror(e) : "it is shorter than when it was opened");
	} else if (r == MSIGN_E_NOMEM) {
		msign_diag_set(d, r, 0, "out of memory for the page hashers");
	} else if (r != 0) {
		msign_diag_set(d, r, 0, "page hashing failed in OpenSSL");
	}
out:
	pthread_mutex_destroy(&run.lock);
out_free:
	for (int i = 0; i <= MAX_HASH_TYPE; i++)
		EVP_MD_free(run.md[i]);
	free(run.chunk_first);
	free(run.chunk_pages);
	return r;
}

int msign_codedir_count_bad_pages(const struct msign_image *img,
				  const struct msign_codedir *cd,
				  const struct msign_slice *s,
				  uint32_t *bad, struct msign_diag *d)
{
	uint64_t limit = msign_codedir_limit(cd);
	*bad = 0;
	if (limit > s->size)
		return msign_diag_set(d, MSIGN_E_BAD_RANGE, 0,
				      "codeLimit %llu past the %llu-byte slice",
				      (unsigned long long)limit,
				      (unsigned long long)s->size);
	/* Pages that start at or past codeLimit hash nothing of the file:
	 * they count as mismatched. */
	uint64_t have = msign_codedir_pages(limit, cd->page_log2);
	struct msign_hash_job j;
	msign_hash_job_codedir(&j, img, s, cd);
	if (have < j.npages)
		j.npages = (uint32_t)have;
	int r = j.npages ? msign_hash_run(&j, 1, 0, d) : 0;
	if (r == 0)
		*bad = (uint32_t)j.nbad + (cd->ncode - j.npages);
	return r;
}
