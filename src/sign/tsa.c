/* msign: RFC 3161 client (tsa.h). One request, POSTed with libcurl, one
 * reply read into a capped buffer, checked with OpenSSL's TS API.
 *
 * Shape: build the TimeStampReq (tsa_req_build), post it until an
 * attempt gets an answer or the attempts run out (tsa_post), then check
 * the reply as hostile bytes (tsa_check): the DER frame by hand, so the
 * token we return is the TSA's own bytes and a refusal is reported as
 * one, then d2i_TS_RESP and field-by-field checks of the TSTInfo against
 * what we asked for.
 *
 * Error codes: MSIGN_E_ARG for options, MSIGN_E_IO for everything up to
 * an HTTP 200 (connection, timeout, HTTP status), MSIGN_E_LIMIT for a
 * reply over TSA_REPLY_MAX, MSIGN_E_CRYPTO for a 200 whose body is not a
 * granted, matching token, MSIGN_E_NOMEM.
 *
 * Not checked here: the token's signature and its certificate chain.
 * There is no trust anchor to check them against (the verifier of the
 * signed file has one); what we can check without one, that the TSA
 * answered our request (imprint and nonce), we do. */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <openssl/asn1.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pkcs7.h>
#include <openssl/rand.h>
#include <openssl/ts.h>
#include <openssl/x509.h>

#include "base/cur.h"
#include "base/diag.h"
#include "hash/hash.h"
#include "msign/version.h"
#include "sig/ent.h"
#include "sign/tsa.h"

/* A TimeStampResp is a few KiB (Apple's: ~5 KiB with its chain); the cap
 * keeps a hostile server from making us allocate without bound. */
#define TSA_REPLY_MAX (1u << 20)
#define TSA_TIMEOUT_DEFAULT_S 30u
#define TSA_TIMEOUT_MAX_S 600u
#define TSA_ATTEMPTS_DEFAULT 3u
#define TSA_ATTEMPTS_MAX 10u
#define TSA_DELAY_DEFAULT_MS 1000u
#define TSA_DELAY_MAX_MS 60000u
#define TSA_NONCE_LEN 8
/* Characters of the URL quoted in a message: the reason must fit in
 * MSIGN_DIAG_MSG_LEN after it. */
#define TSA_URL_SHOWN 120
#define TSA_TEXT_SHOWN 60

#define SHA256_LEN 32

/* curl_global_init is process-wide and not safe to race with itself, so
 * the library calls it once, through pthread_once, with the default flags
 * (a program that called it already is unaffected: calls are counted).
 * Never curl_global_cleanup: the library cannot know that nobody else in
 * the process still uses libcurl. */
static pthread_once_t tsa_curl_once = PTHREAD_ONCE_INIT;
static CURLcode tsa_curl_rc = CURLE_FAILED_INIT;

static void tsa_curl_init(void)
{
	tsa_curl_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* What we asked: kept to compare the reply with. */
struct tsa_req {
	uint8_t digest[SHA256_LEN];
	ASN1_INTEGER *nonce;
	unsigned char *der;
	int der_len;
};

/* The reply body, never more than TSA_REPLY_MAX bytes. */
struct tsa_body {
	uint8_t *p;
	size_t len, cap;
	bool over, nomem;
};

static void tsa_req_free(struct tsa_req *q)
{
	ASN1_INTEGER_free(q->nonce);
	OPENSSL_free(q->der);
}

static int tsa_req_build(const uint8_t *data, size_t len, struct tsa_req *q,
			 struct msign_diag *d)
{
	uint8_t rnd[TSA_NONCE_LEN];
	TS_REQ *req = NULL;
	TS_MSG_IMPRINT *mi = NULL;
	X509_ALGOR *alg = NULL;
	BIGNUM *bn = NULL;
	int r = MSIGN_E_CRYPTO;

	if (msign_sha256(data, len, q->digest) < 0)
		return msign_diag_set(d, MSIGN_E_CRYPTO, 0,
				      "timestamp request: SHA-256 of the signature failed");
	if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
		msign_diag_set(d, MSIGN_E_CRYPTO, 0,
			       "timestamp request: no random bytes for the nonce");
		goto out;
	}
	if ((bn = BN_bin2bn(rnd, sizeof(rnd), NULL)) == NULL ||
	    (q->nonce = BN_to_ASN1_INTEGER(bn, NULL)) == NULL ||
	    (req = TS_REQ_new()) == NULL || (mi = TS_MSG_IMPRINT_new()) == NULL ||
	    (alg = X509_ALGOR_new()) == NULL ||
	    /* parameters NULL, as RFC 5754 and `openssl ts -query` write them */
	    !X509_ALGOR_set0(alg, OBJ_nid2obj(NID_sha256), V_ASN1_NULL, NULL) ||
	    !TS_MSG_IMPRINT_set_algo(mi, alg) ||
	    !TS_MSG_IMPRINT_set_msg(mi, q->digest, SHA256_LEN) ||
	    !TS_REQ_set_version(req, 1) || !TS_REQ_set_msg_imprint(req, mi) ||
	    !TS_REQ_set_nonce(req, q->nonce) ||
	    /* the token must carry the TSA's certificate: Apple's verifier
	     * has no other way to find it */
	    !TS_REQ_set_cert_req(req, 1) ||
	    (q->der_len = i2d_TS_REQ(req, &q->der)) <= 0) {
		msign_diag_set(d, MSIGN_E_CRYPTO, 0,
			       "timestamp request: OpenSSL could not encode the TimeStampReq");
		goto out;
	}
	r = 0;
out:
	X509_ALGOR_free(alg);
	TS_MSG_IMPRINT_free(mi);
	TS_REQ_free(req);
	BN_free(bn);
	OPENSSL_cleanse(rnd, sizeof(rnd));
	return r;
}

static size_t tsa_write_cb(char *ptr, size_t size, size_t n, void *user)
{
	struct tsa_body *b = user;
	size_t k;

	if (__builtin_mul_overflow(size, n, &k) || k > TSA_REPLY_MAX - b->len) {
		b->over = true;
		return 0; /* fewer bytes than given: libcurl stops the transfer */
	}
	if (k > b->cap - b->len) {
		size_t cap = b->cap ? b->cap : 16384;
		while (cap - b->len < k)
			cap *= 2;
		if (cap > TSA_REPLY_MAX)
			cap = TSA_REPLY_MAX;
		uint8_t *p = realloc(b->p, cap);
		if (p == NULL) {
			b->nomem = true;
			return 0;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, ptr, k);
	b->len += k;
	return k;
}

/* Failures worth another attempt: the network or the server's state, not
 * what we sent or what a certificate says. */
static bool tsa_curl_retry(CURLcode cc)
{
	switch (cc) {
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		return true;
	default:
		return false;
	}
}

static void tsa_sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* The URL as messages show it: without user and password (a URL may
 * carry credentials), and NULL when libcurl cannot parse it or it is not
 * http or https. */
static char *tsa_url_shown(const char *url)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *shown = NULL, *out = NULL;

	if (u == NULL || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0))
		goto out;
	curl_url_set(u, CURLUPART_USER, NULL, 0);
	curl_url_set(u, CURLUPART_PASSWORD, NULL, 0);
	if (curl_url_get(u, CURLUPART_URL, &shown, 0) == CURLUE_OK)
		out = strdup(shown);
out:
	curl_free(scheme);
	curl_free(shown);
	curl_url_cleanup(u);
	return out;
}

struct tsa_ctx {
	const char *url;   /* as given, for libcurl */
	const char *shown; /* for messages */
	unsigned timeout_s, attempts, delay_ms;
};

/* POST q until an attempt gets an HTTP 200 with a body in b, an answer
 * that another attempt would not change, or the attempts run out. */
static int tsa_post(const struct tsa_ctx *c, const struct tsa_req *q,
		    struct tsa_body *b, struct msign_diag *d)
{
	struct curl_slist *hdr = NULL, *h2;
	CURL *h = curl_easy_init();
	char reason[96] = "";
	unsigned delay = c->delay_ms;
	int r = MSIGN_E_NOMEM;

	if (h == NULL ||
	    (hdr = curl_slist_append(NULL, "Content-Type: application/timestamp-query")) == NULL ||
	    (h2 = curl_slist_append(hdr, "Accept: application/timestamp-reply")) == NULL) {
		msign_diag_set(d, r, 0, "%.*s: cannot set up libcurl", TSA_URL_SHOWN, c->shown);
		goto out;
	}
	hdr = h2;
	/* NOSIGNAL: without it libcurl's resolver timeouts use SIGALRM, and a
	 * library must not touch signal dispositions. Proxies: libcurl reads
	 * http_proxy/https_proxy/no_proxy itself when CURLOPT_PROXY is unset.
	 * Redirects are not followed: a TSA answers where it is asked. */
	if (curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_URL, c->url) != CURLE_OK ||
#if LIBCURL_VERSION_NUM >= 0x075500
	    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK ||
#else
	    curl_easy_setopt(h, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS)) != CURLE_OK ||
#endif
	    curl_easy_setopt(h, CURLOPT_POST, 1L) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_POSTFIELDS, (const char *)q->der) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)q->der_len) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_USERAGENT, "msign/" MSIGN_VERSION_STRING) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_TIMEOUT, (long)c->timeout_s) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)TSA_REPLY_MAX) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, tsa_write_cb) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_WRITEDATA, b) != CURLE_OK) {
		r = msign_diag_set(d, MSIGN_E_IO, 0, "%.*s: libcurl refused an option",
				   TSA_URL_SHOWN, c->shown);
		goto out;
	}
	for (unsigned i = 1; i <= c->attempts; i++) {
		long http = 0;
		b->len = 0;
		b->over = b->nomem = false;
		CURLcode cc = curl_easy_perform(h);
		if (cc == CURLE_WRITE_ERROR && b->nomem) {
			r = msign_diag_set(d, MSIGN_E_NOMEM, 0, "%.*s: no memory for the reply",
					   TSA_URL_SHOWN, c->shown);
			goto out;
		}
		if (cc == CURLE_FILESIZE_EXCEEDED || (cc == CURLE_WRITE_ERROR && b->over)) {
			r = msign_diag_set(d, MSIGN_E_LIMIT, 0,
					   "%.*s: reply larger than %u bytes",
					   TSA_URL_SHOWN, c->shown, TSA_REPLY_MAX);
			goto out;
		}
		if (cc == CURLE_OK)
			curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &http);
		if (cc == CURLE_OK && http == 200) {
			r = 0;
			goto out;
		}
		if (cc == CURLE_OK && (http < 500 || http > 599)) {
			r = msign_diag_set(d, MSIGN_E_IO, 0, "%.*s: HTTP %ld",
					   TSA_URL_SHOWN, c->shown, http);
			goto out;
		}
		if (cc != CURLE_OK && !tsa_curl_retry(cc)) {
			r = msign_diag_set(d, MSIGN_E_IO, 0, "%.*s: %s", TSA_URL_SHOWN,
					   c->shown, curl_easy_strerror(cc));
			goto out;
		}
		if (cc == CURLE_OK)
			snprintf(reason, sizeof(reason), "HTTP %ld", http);
		else
			snprintf(reason, sizeof(reason), "%s", curl_easy_strerror(cc));
		if (i < c->attempts) {
			tsa_sleep_ms(delay);
			delay = delay > TSA_DELAY_MAX_MS / 2 ? TSA_DELAY_MAX_MS : delay * 2;
		}
	}
	r = msign_diag_set(d, MSIGN_E_IO, 0, "%.*s: %s after %u attempt%s",
			   TSA_URL_SHOWN, c->shown, reason, c->attempts,
			   c->attempts == 1 ? "" : "s");
out:
	curl_slist_free_all(hdr);
	curl_easy_cleanup(h);
	return r;
}

/* The TSA's status text (hostile bytes) as printable ASCII, cut short. */
static void tsa_status_text(const TS_STATUS_INFO *si, char *out, size_t out_len)
{
	const STACK_OF(ASN1_UTF8STRING) *st = TS_STATUS_INFO_get0_text(si);
	const ASN1_UTF8STRING *s = sk_ASN1_UTF8STRING_num(st) > 0
		? sk_ASN1_UTF8STRING_value(st, 0) : NULL;
	size_t n = 0;

	out[0] = '\0';
	if (s == NULL || out_len < 8)
		return;
	const unsigned char *p = ASN1_STRING_get0_data(s);
	int len = ASN1_STRING_length(s);
	out[n++] = ' ';
	out[n++] = '"';
	for (int i = 0; i < len && n + 2 < out_len && i < TSA_TEXT_SHOWN; i++)
		out[n++] = p[i] >= 0x20 && p[i] < 0x7f && p[i] != '"' ? (char)p[i] : '?';
	out[n++] = '"';
	out[n] = '\0';
}

static const char *tsa_status_name(long s)
{
	switch (s) {
	case TS_STATUS_REJECTION: return "rejection";
	case TS_STATUS_WAITING: return "waiting";
	case TS_STATUS_REVOCATION_WARNING: return "revocationWarning";
	case TS_STATUS_REVOCATION_NOTIFICATION: return "revocationNotification";
	default: return "unknown";
	}
}

/* genTime as seconds since 1970: the difference from the epoch, so no
 * time zone and no struct tm conversion of ours is involved. */
static bool tsa_unix_time(const ASN1_GENERALIZEDTIME *t, int64_t *out)
{
	ASN1_TIME *epoch = ASN1_TIME_set(NULL, 0);
	int day = 0, sec = 0;
	bool ok = epoch != NULL && ASN1_TIME_check(t) == 1 &&
		  ASN1_TIME_diff(&day, &sec, epoch, t) == 1;
	ASN1_TIME_free(epoch);
	if (ok)
		*out = (int64_t)day * 86400 + sec;
	return ok;
}

/* The TSTInfo against the request: version, imprint, nonce, and the
 * certificate certReq asked for. */
static int tsa_check_tst(const char *shown, const struct tsa_req *q,
			 TS_RESP *resp, int64_t *gen_time, struct msign_diag *d)
{
	PKCS7 *p7 = TS_RESP_get_token(resp);
	TS_TST_INFO *tst = TS_RESP_get_tst_info(resp);
	const ASN1_OBJECT *obj = NULL;
	int ptype = V_ASN1_UNDEF;

	if (p7 == NULL || tst == NULL || !PKCS7_type_is_signed(p7) || p7->d.sign == NULL)
		return msign_diag_set(d, MSIGN_E_CRYPTO, 0,
				      "%.*s: TSA reply: the token is not a SignedData with a TSTInfo",
				      TSA_URL_SHOWN, shown);
	if (TS_TST_INFO_get_version(tst) != 1)
		return msign_diag_set(d, MSIGN_E_CRYPTO, 0,
				      "%.*s: TSA reply: TSTInfo version %ld, not 1",
				      TSA_URL_SHOWN, shown, TS_TST_INFO_get_version(tst));
	TS_MSG_IMPRINT *mi = TS_TST_INFO_get_msg_imprint(tst);
	X509_ALGOR *alg = mi ? TS_MSG_IMPRINT_get_algo(mi) : NULL;
	ASN1_OCTET_STRING *md = mi ? TS_MSG_IMPRINT_get_msg(mi) : NULL;
	if (alg != NULL)
		X509_ALGOR_get0(&obj, &ptype, NULL, alg);
	if (obj == NULL || OBJ_obj2nid(obj) != NID_sha256 ||
	    (ptype != V_ASN1_UNDEF && ptype != V_ASN1_NULL))
		return msign_diag_set(d, MSIGN_E_CRYPTO, 0,
				      "%.*s: TSA reply: the imprint's algorithm is not SHA-256",
				      TSA_URL_SHOWN, shown);
	if (md == NULL || ASN1_STRING_length(md) != SHA256_LEN ||
	    memcmp(ASN1_STRING_get0_data(md), q->digest, SHA256_LEN) != 0)
		return msign_diag_set(d, MSIGN_E_CRYPTO, 0,
				      "%.*s: TSA reply: the imprint differs from the request's",
				      TSA_URL_SHOWN, shown);
	const ASN1_INTEGER *nonce = TS_TST_INFO_get_nonce(tst);
	if (nonce == NULL)
		return msign_diag_set(d, MSIGN_E_CRYPTO, 0,
				      "%.*s: TSA reply: no nonce, the request had one",
				      TSA_URL_SHOWN, shown);
	if (ASN1_INTEGER_cmp(nonce, q->nonce) != 0)
		return msign_diag_set(d, MSIGN_E_CRYPTO, 0,
				      "%.*s: TSA reply: the nonce differs from the request's",
				      TSA_URL_SHOWN, shown);
	if (sk_X509_num(p7->d.sign->cert) < 1)
		return msign_diag_set(d, MSIGN_E_CRYPTO, 0,
				      "%.*s: TSA reply: the token carries no certificate though the request asked for it",
				      TSA_URL_SHOWN, shown);
	int64_t t;
	if (!tsa_unix_time(TS_TST_INFO_get_time(tst), &t))
		return msign_diag_set(d, MSIGN_E_CRYPTO, 0,
				      "%.*s: TSA reply: genTime is not a valid time",
				      TSA_URL_SHOWN, shown);
	if (gen_time != NULL)
		*gen_time = t;
	return 0;
}

/* A TimeStampResp ::= SEQUENCE { status PKIStatusInfo, timeStampToken
 * ContentInfo OPTIONAL }, every byte of the body. The frame is walked
 * here so that a refusal is told apart from a broken reply (d2i_TS_RESP
 * fails either way) and so that the token returned is the TSA's bytes,
 * not OpenSSL's re-encoding of them. */
static int tsa_check(const char *shown, const struct tsa_req *q,
		     const struct tsa_body *b, uint8_t **token, size_t *token_len,
		     int64_t *gen_time, struct msign_diag *d)
{
	struct msign_cur c = msign_cur_make(b->p, b->len);
	struct msign_der_tl outer, st, tok = { 0 };
	bool has_tok = false;
	struct msign_diag dd = { 0 };
	TS_STATUS_INFO *si = NULL;
	TS_RESP *resp = NULL;
	char text[TSA_TEXT_SHOWN + 8];
	int r = MSIGN_E_CRYPTO;

	if (b->len == 0)
		return msign_diag_set(d, MSIGN_E_CRYPTO, 0, "%.*s: TSA reply is empty",
				      TSA_URL_SHOWN, shown);
	/* the first byte first: an HTML error page is not "truncated DER" */
	if (b->p[0] != MSIGN_DER_SEQUENCE)
		return msign_diag_set(d, MSIGN_E_CRYPTO, 0,
				      "%.*s: TSA reply is not a TimeStampResp (first byte 0x%02x, not SEQUENCE)",
				      TSA_URL_SHOWN, shown, b->p[0]);
	/* msign_der_tl leaves the cursor at the element's contents: the
	 * token's header is read from the end of the status */
	int e = msign_der_tl(&c, b->len, &outer, &dd);
	if (e == 0)
		e = msign_der_tl(&c, outer.end, &st, &dd);
	if (e == 0 && st.end < outer.end) {
		has_tok = true;
		c.off = st.end;
		e = msign_der_tl(&c, outer.end, &tok, &dd);
	}
	if (e < 0)
		return msign_diag_set(d, MSIGN_E_CRYPTO, 0,
				      "%.*s: TSA reply is not a DER TimeStampResp (%s)",
				      TSA_URL_SHOWN, shown, dd.msg);
	if (outer.tag != MSIGN_DER_SEQUENCE || st.tag != MSIGN_DER_SEQUENCE ||
	    (has_tok && tok.tag != MSIGN_DER_SEQUENCE))
		return msign_diag_set(d, MSIGN_E_CRYPTO, 0,
				      "%.*s: TSA reply is not a TimeStampResp (tag 0x%02x, not SEQUENCE)",
				      TSA_URL_SHOWN, shown,
				      outer.tag != MSIGN_DER_SEQUENCE ? outer.tag
				      : st.tag != MSIGN_DER_SEQUENCE ? st.tag : tok.tag);
	if (outer.end != b->len || (has_tok && tok.end != outer.end))
		return msign_diag_set(d, MSIGN_E_CRYPTO, 0,
				      "%.*s: TSA reply has %zu bytes after the TimeStampResp",
				      TSA_URL_SHOWN, shown,
				      outer.end != b->len ? b->len - outer.end : outer.end - tok.end);
	const unsigned char *p = b->p + st.off;
	if ((si = d2i_TS_STATUS_INFO(NULL, &p, (long)(st.end - st.off))) == NULL ||
	    p != b->p + st.end) {
		msign_diag_set(d, r, 0, "%.*s: TSA reply: the PKIStatusInfo is unreadable",
			       TSA_URL_SHOWN, shown);
		goto out;
	}
	long status = ASN1_INTEGER_get(TS_STATUS_INFO_get0_status(si));
	if (status != TS_STATUS_GRANTED && status != TS_STATUS_GRANTED_WITH_MODS) {
		tsa_status_text(si, text, sizeof(text));
		msign_diag_set(d, r, 0, "%.*s: TSA refused the request: status %ld (%s)%s",
			       TSA_URL_SHOWN, shown, status, tsa_status_name(status), text);
		goto out;
	}
	if (!has_tok) {
		msign_diag_set(d, r, 0, "%.*s: TSA reply: status granted but no token",
			       TSA_URL_SHOWN, shown);
		goto out;
	}
	p = b->p;
	if ((resp = d2i_TS_RESP(NULL, &p, (long)b->len)) == NULL || p != b->p + b->len) {
		msign_diag_set(d, r, 0,
			       "%.*s: TSA reply: the token is not a SignedData with a TSTInfo",
			       TSA_URL_SHOWN, shown);
		goto out;
	}
	if ((r = tsa_check_tst(shown, q, resp, gen_time, d)) < 0)
		goto out;
	*token_len = b->len - tok.off;
	if ((*token = malloc(*token_len)) == NULL) {
		r = msign_diag_set(d, MSIGN_E_NOMEM, 0, "%.*s: no memory for the token",
				   TSA_URL_SHOWN, shown);
		goto out;
	}
	memcpy(*token, b->p + tok.off, *token_len);
	r = 0;
out:
	TS_RESP_free(resp);
	TS_STATUS_INFO_free(si);
	return r;
}

int msign_tsa_request(const struct msign_tsa_opts *o, const uint8_t *data,
		      size_t len, uint8_t **token, size_t *token_len,
		      int64_t *gen_time, struct msign_diag *d)
{
	static const struct msign_tsa_opts defaults = { 0 };
	struct tsa_req q = { 0 };
	struct tsa_body b = { 0 };
	struct tsa_ctx c;
	char *shown = NULL;
	int r;

	if (o == NULL)
		o = &defaults;
	if (token == NULL || token_len == NULL || (data == NULL && len != 0))
		return msign_diag_set(d, MSIGN_E_ARG, 0,
				      "msign_tsa_request: token, token_len and data are required");
	*token = NULL;
	*token_len = 0;
	c.url = o->url != NULL ? o->url : MSIGN_TSA_APPLE_URL;
	c.timeout_s = o->timeout_s != 0 ? o->timeout_s : TSA_TIMEOUT_DEFAULT_S;
	c.attempts = o->attempts != 0 ? o->attempts : TSA_ATTEMPTS_DEFAULT;
	c.delay_ms = o->retry_delay_ms != 0 ? o->retry_delay_ms : TSA_DELAY_DEFAULT_MS;
	if (c.timeout_s > TSA_TIMEOUT_MAX_S || c.attempts > TSA_ATTEMPTS_MAX ||
	    c.delay_ms > TSA_DELAY_MAX_MS)
		return msign_diag_set(d, MSIGN_E_ARG, 0,
				      "timestamp options: timeout %u s (at most %u), %u attempts (at most %u), delay %u ms (at most %u)",
				      c.timeout_s, TSA_TIMEOUT_MAX_S, c.attempts, TSA_ATTEMPTS_MAX,
				      c.delay_ms, TSA_DELAY_MAX_MS);
	pthread_once(&tsa_curl_once, tsa_curl_init);
	if (tsa_curl_rc != CURLE_OK)
		return msign_diag_set(d, MSIGN_E_IO, 0, "libcurl did not initialise: %s",
				      curl_easy_strerror(tsa_curl_rc));
	if ((shown = tsa_url_shown(c.url)) == NULL)
		return msign_diag_set(d, MSIGN_E_ARG, 0,
				      "timestamp server '%.*s' is not an http or https URL",
				      TSA_URL_SHOWN, c.url);
	c.shown = shown;
	/* OpenSSL's error queue is the calling thread's: leave it as it was */
	ERR_set_mark();
	if ((r = tsa_req_build(data, len, &q, d)) == 0 &&
	    (r = tsa_post(&c, &q, &b, d)) == 0)
		r = tsa_check(shown, &q, &b, token, token_len, gen_time, d);
	ERR_pop_to_mark();
	tsa_req_free(&q);
	free(b.p);
	free(shown);
	return r;
}
