/* msign: digests (OpenSSL EVP) and the parallel page-hashing engine. */
#ifndef MSIGN_HASH_HASH_H
#define MSIGN_HASH_HASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "macho/macho.h"
#include "msign/err.h"
#include "sig/codesign.h"

struct evp_md_st; /* OpenSSL's EVP_MD, for the files that include evp.h */
/* OpenSSL's digest for a CS_HASHTYPE_*, fetched for many digests (free it
 * with EVP_MD_free). MSIGN_E_UNSUPPORTED for an unknown type,
 * MSIGN_E_CRYPTO when OpenSSL has no such digest. */
int msign_hash_md(uint8_t hash_type, struct evp_md_st **md,
		  struct msign_diag *d);
/* OpenSSL's NID of the digest a CS_HASHTYPE_* computes (NID_undef, 0,
 * when unknown): the OID a CMS attribute names the hash by. */
int msign_hashtype_nid(uint8_t type);
/* Hash helpers (OpenSSL EVP). out must hold MSIGN_MAX_HASH_LEN. */
int msign_hash(uint8_t hash_type, const uint8_t *data, size_t len,
	       uint8_t *out, uint32_t *out_len);
/* Digest by OpenSSL NID (for the CMS messageDigest); out holds 64 bytes. */
int msign_hash_nid(int nid, const uint8_t *data, size_t len, uint8_t *out,
		   uint32_t *out_len);
/* SHA-256 of data, as used by CMSDigest. */
int msign_sha256(const uint8_t *data, size_t len, uint8_t out[32]);
/* Number of code pages whose hash differs from the file (for --json). */
int msign_codedir_count_bad_pages(const struct msign_image *img,
				  const struct msign_codedir *cd,
				  const struct msign_slice *s,
				  uint32_t *bad, struct msign_diag *d);


struct msign_out;
/* ---- hashing engine (hashpool.c) ----------------------------------------
 * Page hashes for sign and verify. The bytes a CodeDirectory covers are
 * given as pieces laid end to end (memory, or zeros), cut into fixed pages
 * from offset 0 and spread over threads in chunks: one EVP context per
 * thread, nothing allocated per page. Sign writes the hashes straight into
 * the CodeDirectory it builds; verify compares them with the stored ones
 * and records the mismatches. */
#define MSIGN_HASH_MAX_PIECES 4

struct msign_piece {
	const uint8_t *data; /* NULL: zeros */
	uint64_t len;
	/* in_file: the same bytes are [file_off, file_off + len) of fd. The
	 * pool then reads them with pread into a per-thread buffer instead of
	 * through the mapping: on Linux, mapping 4 KiB page-cache pages costs
	 * more CPU than copying them (README, "Hashing"), resident memory
	 * stays at the buffers, and a file cut short meanwhile is an I/O
	 * error rather than SIGBUS. */
	bool in_file;
	int fd;
	uint64_t file_off;
	/* in_file in an output being copied: each read waits until the copy
	 * has passed it (NULL: the file is complete). */
	struct msign_out *gate;
};

/* The piece for [data, data + len) of img: in_file when img was opened from
 * a file and the range lies in its mapping, plain memory otherwise. */
struct msign_piece msign_image_piece(const struct msign_image *img,
				     const uint8_t *data, uint64_t len);

struct msign_hash_job {
	struct msign_piece pieces[MSIGN_HASH_MAX_PIECES];
	uint32_t npieces;
	uint64_t limit;       /* bytes covered: the pieces' total length */
	uint32_t page_log2;   /* 0: one page over [0, limit) */
	uint8_t hash_type;    /* CS_HASHTYPE_* */
	uint32_t first_page;  /* pages [first_page, first_page + npages) */
	uint32_t npages;
	uint8_t *out;          /* sign: hash_size bytes per page (page 0 first) */
	const uint8_t *expect; /* verify: the stored hashes, same layout */
	/* verify results */
	uint64_t nbad;      /* pages whose hash differs */
	uint64_t first_bad; /* lowest such page, UINT64_MAX when none */
};

/* The job that checks every code page of cd against slice s of img, so
 * that verify and show's count of bad pages hash the same bytes. */
void msign_hash_job_codedir(struct msign_hash_job *j,
			    const struct msign_image *img,
			    const struct msign_slice *s,
			    const struct msign_codedir *cd);
/* Online CPUs (at least 1). */
unsigned msign_hash_default_threads(void);
/* Run every job; threads 0 means msign_hash_default_threads(). Small
 * workloads run on the calling thread. */
int msign_hash_run(struct msign_hash_job *jobs, uint32_t njobs,
		   unsigned threads, struct msign_diag *d);

#endif
