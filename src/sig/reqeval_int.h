/* Internal to the requirement evaluator: its match operations
 * (reqeval_match.c) and its certificate helpers (reqeval_x509.c, the one
 * file of the three that speaks OpenSSL's X509); reqeval.c reads the blob
 * and the plists. */
#ifndef MSIGN_SIG_REQEVAL_INT_H
#define MSIGN_SIG_REQEVAL_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- match operations (reqeval_match.c) --------------------------------- */

/* A match operation and its operand, as read from the blob. */
struct msign_rqe_match {
	uint32_t op;        /* REQ_MATCH_* (or unknown: never matches) */
	const uint8_t *v;   /* string operand */
	size_t n;
	bool str_ok;        /* Apple could make a CFString of it (UTF-8) */
	double date;        /* date operand, CFAbsoluteTime */
};

/* What a candidate value is, when it is not a plist node. */
enum msign_rqe_cand {
	RQE_NULL,   /* Apple's kCFNull: no such value */
	RQE_STRING, /* a string (s, n) */
	RQE_OTHER,  /* present, not a string nor a date (true, number, ...) */
	RQE_DATE,   /* a date */
};

bool msign_rqe_utf8_valid(const uint8_t *p, size_t n);
/* One non-array candidate against m; is_false: the boolean false, which
 * does not "exist"; date for RQE_DATE. */
bool msign_rqe_match_scalar(const struct msign_rqe_match *m,
			    enum msign_rqe_cand k, const uint8_t *s, size_t n,
			    bool is_false, double date);
/* A libplist node (plist_t; NULL: absent) against m, arrays item by item. */
bool msign_rqe_match_plist(const struct msign_rqe_match *m, void *node,
			   unsigned depth);

/* ---- certificates (reqeval_x509.c) -------------------------------------- */

struct x509_st; /* OpenSSL's X509 */

/* 2001-01-01 (CFAbsoluteTime zero) in days after 1970-01-01. */
#define MSIGN_RQE_CF_EPOCH_DAYS 11323
#define MSIGN_RQE_CF_EPOCH_SECS (11323LL * 86400)

/* A few strings (a certificate's e-mail addresses), malloc'd each. */
#define MSIGN_RQE_MAX_STRS 32
struct msign_rqe_strs {
	size_t n;
	char *s[MSIGN_RQE_MAX_STRS];
	size_t len[MSIGN_RQE_MAX_STRS];
};

/* One DER certificate, all of der consumed; NULL when it does not parse. */
struct x509_st *msign_rqe_x509_parse(const uint8_t *der, size_t len);
void msign_rqe_x509_free(struct x509_st *x);
/* 0 or MSIGN_E_CRYPTO. */
int msign_rqe_sha1(const uint8_t *p, size_t n, uint8_t out[20]);
/* The last subject attribute of type oid (dotted) as UTF-8 (malloc'd):
 * 0 found, 1 absent, <0 error. */
int msign_rqe_subject_last(struct x509_st *x, const char *oid, char **out,
			   size_t *n);
/* An extension / a certificate policy whose OID's DER contents are oid. */
bool msign_rqe_has_ext(struct x509_st *x, const uint8_t *oid, size_t n);
bool msign_rqe_has_policy(struct x509_st *x, const uint8_t *oid, size_t n);
/* The extension's value read as a UTF8String holding a GeneralizedTime:
 * 0 and *cf_abs (seconds after 2001-01-01 UTC), 1 no such extension, 2
 * present but no date. */
int msign_rqe_ext_date(struct x509_st *x, const uint8_t *oid, size_t n,
		       double *cf_abs);
/* The Developer ID date (1.2.840.113635.100.6.1.33), as msign_rqe_ext_date
 * (without Apple's time-zero quirk of certificateCopyFieldDate). */
int msign_rqe_devid_date(struct x509_st *x, double *cf_abs);
/* Subject emailAddress attributes, then subjectAltName rfc822Names. */
int msign_rqe_emails(struct x509_st *x, struct msign_rqe_strs *out);
void msign_rqe_strs_free(struct msign_rqe_strs *s);
/* GeneralizedTime text (YYYYMMDDHHMMSS[.f](Z|+hhmm|-hhmm)) to seconds
 * after 2001-01-01 UTC. */
bool msign_rqe_gentime(const uint8_t *p, size_t n, double *cf_abs);

#endif
