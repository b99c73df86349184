/* The page-hashing engine shared by sign and verify.
 *
 * Every job's pages are cut into chunks of about CHUNK_BYTES; the chunks of
 * all jobs form one queue that worker threads drain with an atomic counter,
 * so a universal file's small and large slices, or a SHA-1 and a SHA-256
 * CodeDirectory, keep all cores busy together. Each thread owns one EVP
 * context for the whole run; digests are fetched once per run. A page that
 * spans pieces (sign's rewritten header next to the untouched file) is fed
 * to the digest piece by piece: nothing is copied or allocated per page. */
#include <openssl/evp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "msign/sign.h"

#define CHUNK_BYTES (1u << 20)
#define INLINE_BYTES (2u << 20)  /* below this, threads cost more than they give */
#define MAX_THREADS 256u
#define MAX_HASH_TYPE 4

static const uint8_t hp_zeros[16384];

struct hp_run {
	struct msign_hash_job *jobs;
	uint32_t njobs;
	uint64_t *chunk_first; /* first queue index of each job; [njobs] = total */
	uint32_t *chunk_pages; /* pages per chunk of each job */
	EVP_MD *md[MAX_HASH_TYPE + 1];
	atomic_uint_fast64_t next;
	pthread_mutex_t lock;  /* guards the jobs' results */
	atomic_int err;
	long sys_page;
};

unsigned msign_hash_default_threads(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	if (n < 1)
		return 1;
	return n > (long)MAX_THREADS ? MAX_THREADS : (unsigned)n;
}

static const char *hp_md_name(uint8_t type)
{
	switch (type) {
	case CS_HASHTYPE_SHA1: return "SHA1";
	case CS_HASHTYPE_SHA256:
	case CS_HASHTYPE_SHA256_TRUNCATED: return "SHA256";
	case CS_HASHTYPE_SHA384: return "SHA384";
	default: return NULL;
	}
}

static int hp_update(EVP_MD_CTX *ctx, const struct msign_hash_job *j,
		     uint64_t start, uint64_t end)
{
	uint64_t at = 0;
	for (uint32_t i = 0; i < j->npieces && start < end; i++) {
		const struct msign_piece *p = &j->pieces[i];
		uint64_t p_end = at + p->len;
		if (start < p_end) {
			uint64_t from = start - at;
			uint64_t n = (end < p_end ? end : p_end) - start;
			if (p->data != NULL) {
				if (EVP_DigestUpdate(ctx, p->data + from, (size_t)n) != 1)
					return -1;
			} else {
				for (uint64_t k = 0; k < n;) {
					size_t m = n - k > sizeof(hp_zeros)
							   ? sizeof(hp_zeros) : (size_t)(n - k);
					if (EVP_DigestUpdate(ctx, hp_zeros, m) != 1)
						return -1;
					k += m;
				}
			}
			start += n;
		}
		at = p_end;
	}
	return start == end ? 0 : -1; /* the pieces must cover the page */
}

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22 /* Linux 5.14 */
#endif

/* madvise(advice) on the whole system pages of [start, end) of the pieces
 * that are file mappings: populated in one call before they are hashed
 * (cheaper than a fault per page), dropped after. Failures only cost
 * speed (older kernels, other systems). */
static void hp_advise(const struct hp_run *run,
		      const struct msign_hash_job *j, uint64_t start,
		      uint64_t end, int advice)
{
	uintptr_t mask = (uintptr_t)run->sys_page - 1;
	uint64_t at = 0;
	for (uint32_t i = 0; i < j->npieces; i++) {
		const struct msign_piece *p = &j->pieces[i];
		uint64_t p_end = at + p->len;
		if (p->release && p->data != NULL && start < p_end && end > at) {
			uint64_t from = start > at ? start - at : 0;
			uint64_t to = (end < p_end ? end : p_end) - at;
			uintptr_t lo = (uintptr_t)(p->data + from);
			uintptr_t hi = (uintptr_t)(p->data + to);
			/* populate partial pages too; drop only whole ones */
			uintptr_t a = advice == MADV_DONTNEED ? (lo + mask) & ~mask
							      : lo & ~mask;
			uintptr_t b = advice == MADV_DONTNEED ? hi & ~mask
							      : (hi + mask) & ~mask;
			if (a < b)
				(void)madvise((void *)a, b - a, advice);
		}
		at = p_end;
	}
}

static void hp_fail(struct hp_run *run)
{
	atomic_store(&run->err, MSIGN_E_CRYPTO);
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

static void hp_chunk(struct hp_run *run, EVP_MD_CTX *ctx, uint32_t ji,
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
	if (first < last)
		hp_advise(run, j, first * psize, c_end, MADV_POPULATE_READ);
	for (uint64_t pg = first; pg < last; pg++) {
		uint64_t start = pg * psize;
		uint64_t end = start + psize < j->limit ? start + psize : j->limit;
		uint8_t h[EVP_MAX_MD_SIZE];
		unsigned int n;
		if (start > end || EVP_DigestInit_ex2(ctx, md, NULL) != 1 ||
		    hp_update(ctx, j, start, end) != 0 ||
		    EVP_DigestFinal_ex(ctx, h, &n) != 1) {
			hp_fail(run);
			return;
		}
		if (j->out != NULL)
			memcpy(j->out + pg * hs, h, hs);
		if (j->expect != NULL && memcmp(j->expect + pg * hs, h, hs) != 0)
			hp_mismatch(run, j, pg);
	}
	if (first < last)
		hp_advise(run, j, first * psize, c_end, MADV_DONTNEED);
}

static void *hp_worker(void *arg)
{
	struct hp_run *run = arg;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	if (ctx == NULL) {
		hp_fail(run);
		return NULL;
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
		hp_chunk(run, ctx, ji, c);
	}
	EVP_MD_CTX_free(ctx);
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
		for (uint32_t k = 0; k < j->npieces && k < MSIGN_HASH_MAX_PIECES; k++)
			covered += j->pieces[k].len;
		if (j->npieces > MSIGN_HASH_MAX_PIECES || covered != j->limit ||
		    j->page_log2 > 30 || j->hash_type > MAX_HASH_TYPE ||
		    hp_md_name(j->hash_type) == NULL)
			return msign_diag_set(d, MSIGN_E_ARG, 0,
					      "hash job %u is malformed", i);
		uint64_t psize = j->page_log2 ? (uint64_t)1 << j->page_log2
					      : (j->limit ? j->limit : 1);
		uint64_t want = j->page_log2 ? (j->limit + psize - 1) >> j->page_log2
					     : (j->limit > 0);
		if ((uint64_t)j->first_page + j->npages > want)
			return msign_diag_set(d, MSIGN_E_ARG, 0,
					      "hash job %u asks for pages past its limit", i);
		uint32_t per = psize >= CHUNK_BYTES ? 1 : (uint32_t)(CHUNK_BYTES / psize);
		run->chunk_pages[i] = per;
		run->chunk_first[i] = q;
		q += (j->npages + per - 1) / per;
		*bytes += j->npages * psize;
		if (run->md[j->hash_type] == NULL) {
			run->md[j->hash_type] = EVP_MD_fetch(NULL,
				hp_md_name(j->hash_type), NULL);
			if (run->md[j->hash_type] == NULL)
				return msign_diag_set(d, MSIGN_E_CRYPTO, 0,
						      "OpenSSL has no %s",
						      hp_md_name(j->hash_type));
		}
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
	run.sys_page = sysconf(_SC_PAGESIZE);
	if (run.sys_page <= 0)
		run.sys_page = 4096;
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
	if (r != 0)
		msign_diag_set(d, r, 0, "page hashing failed in OpenSSL");
out:
	pthread_mutex_destroy(&run.lock);
out_free:
	for (int i = 0; i <= MAX_HASH_TYPE; i++)
		EVP_MD_free(run.md[i]);
	free(run.chunk_first);
	free(run.chunk_pages);
	return r;
}

int msign_hash_nid(int nid, const uint8_t *data, size_t len, uint8_t *out,
		   uint32_t *out_len)
{
	const EVP_MD *md = EVP_get_digestbynid(nid);
	unsigned int n = 0;
	if (md == NULL)
		return MSIGN_E_UNSUPPORTED;
	if (EVP_Digest(data, len, out, &n, md, NULL) != 1)
		return MSIGN_E_CRYPTO;
	*out_len = n;
	return 0;
}
