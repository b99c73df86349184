/* msign: trust in a certificate signature (trust.c): the CMS signature
 * value, the RFC 3161 timestamp and the certificate chain to an anchor
 * (Apple's pinned roots or the caller's). Internal; verify.c calls it per
 * slice, after the hash-level CMS checks. */
#ifndef MSIGN_VERIFY_TRUST_H
#define MSIGN_VERIFY_TRUST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "msign/err.h"

/* Caller-supplied anchors (--anchor FILE.pem), loaded once. */
struct msign_trust_anchors;

/* Every certificate of every PEM file (one or more per file); an error
 * when a file holds none. *out is freed with msign_trust_anchors_free. */
int msign_trust_anchors_load(const char *const *files, unsigned nfiles,
			     struct msign_trust_anchors **out,
			     struct msign_diag *d);
void msign_trust_anchors_free(struct msign_trust_anchors *a);

struct msign_trust_opts {
	const struct msign_trust_anchors *anchors; /* NULL: Apple's only */
	int64_t now;           /* UTC seconds; 0: the clock (a test hook) */
	bool check_expiration; /* kSecCSConsiderExpiration */
};

enum msign_trust_time_source {
	MSIGN_TRUST_TIME_NOW = 0,
	MSIGN_TRUST_TIME_TIMESTAMP,
};

#define MSIGN_TRUST_MAX_CERTS 8

struct msign_trust_cert {
	char subject[160]; /* commonName, else the one-line subject */
	const char *role;  /* static: "leaf", "Apple root", "user anchor", ... */
	int64_t not_before, not_after;
};

struct msign_trust_result {
	int kind;          /* enum msign_verify_kind: VALID or why not */
	char detail[320];  /* one sentence when kind is not VALID */
	bool sig_ok;       /* the signer's signature value verifies */
	bool no_signed_attrs; /* old format: signature over the content */
	bool chain_ok;
	bool apple;        /* anchored by a pinned Apple root */
	bool expired_tolerated; /* outside validity, no timestamp: accepted */
	bool has_timestamp, timestamp_ok;
	int64_t timestamp;      /* genTime, when has_timestamp */
	int time_source;        /* enum msign_trust_time_source */
	int64_t validity_time;  /* the time the chain was checked at */
	uint32_t ncerts;        /* the chain, leaf first */
	struct msign_trust_cert certs[MSIGN_TRUST_MAX_CERTS];
	/* An Apple developer certificate (verifySignature's
	 * isAppleDeveloperCert: under an Apple root, a leaf marker 6.1.2,
	 * 6.1.12, 6.1.7 or 6.1.4, or Developer ID's 6.1.13 under a 6.2.6 CA)
	 * and the leaf's first subject OU, which the CodeDirectory's team
	 * identifier must equal (verify.c checks). */
	bool apple_developer;
	bool has_leaf_ou;
	char leaf_ou[64];
	uint32_t nts_certs;     /* the timestamp signer's chain */
	struct msign_trust_cert ts_certs[MSIGN_TRUST_MAX_CERTS];
};

/* Check the CMS SignedData der (already through msign_cms_parse) whose
 * detached content is content (the slot-0 CodeDirectory). 0 with
 * res->kind set (MSIGN_VERIFY_VALID, MODIFIED, UNTRUSTED, EXPIRED,
 * NOT_YET_VALID, BAD_FORMAT); a negative code when the check could not
 * run (memory). */
int msign_trust_check(const uint8_t *der, size_t len, const uint8_t *content,
		      size_t content_len, const struct msign_trust_opts *o,
		      struct msign_trust_result *res, struct msign_diag *d);

#endif
