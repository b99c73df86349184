/* Trust in a certificate signature: what Apple's SecStaticCode::
 * verifySignature (libsecurity_codesigning, StaticCode.cpp) decides with
 * CMSDecoder and SecTrust, done with OpenSSL in a context of our own.
 *
 *  1. The signer's certificate (issuer+serial or subject key id) among
 *     the carried ones, and its signature value: over the signed
 *     attributes, or over the content itself for old signatures without
 *     them (verify.c has compared messageDigest and the cdhashes).
 *  2. An RFC 3161 token (unsigned attribute id-aa-timeStampToken): its
 *     imprint over the signature value, its own signature and its
 *     signer's chain to the same anchors; when the signature is Apple's,
 *     the timestamp's chain must be Apple's too (verifySignature: "if the
 *     signature itself draws to Apple, then so must the timestamp").
 *  3. The chain from the signer through the carried certificates to an
 *     anchor: a carried certificate whose SHA-256 is a pinned Apple root
 *     (cms.c), or one of the caller's --anchor certificates. A
 *     self-signed certificate that only says "Apple" is no anchor.
 *  4. The leaf: Apple's code-signing policy (SecPolicyCreateCodeSigning:
 *     key usage digitalSignature or nonRepudiation when present, EKU
 *     codeSigning or any when present; Apple's code-signing EKU
 *     1.2.840.113635.100.4.1 also counts) and, under an Apple root, one
 *     of Apple's code-signing leaf markers (trust_apple_leaf below).
 *
 * The time (verifySignature): with a valid timestamp, the chain is
 * checked at its genTime and a certificate outside its validity then is
 * CSSMERR_TP_CERT_EXPIRED / _NOT_VALID_YET. Without one, Apple checks at
 * the current time and, when the only failure is expiration (or not yet
 * valid), evaluates again allowing it ("retry validation while tolerating
 * expiration", CSSM_TP_ACTION_ALLOW_EXPIRED); the signature is then
 * valid unless the caller asked for kSecCSConsiderExpiration, which
 * validateDirectory turns into CSSMERR_TP_CERT_EXPIRED. msign does the
 * same (check_expiration). The signingTime attribute is the signer's own
 * claim and decides nothing here.
 *
 * Revocation (OCSP, CRL) is not checked: codesign does it only with
 * network access and kSecCSEnforceRevocationChecks. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/pkcs7.h>
#include <openssl/ts.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "msign/verify.h"
#include "sig/cms.h"
#include "verify/trust.h"

/* Larger than any real chain (3-4); bounds the work a hostile CMS costs. */
#define TRUST_MAX_DEPTH 8
#define OID_APPLE_EKU_CODESIGN "1.2.840.113635.100.4.1"

/* Apple's code-signing leaf markers: one must be in a leaf under an Apple
 * root. The names are Apple's (certextensions / the Apple PKI CPS; the
 * implicit designated requirements in cms.c use 6.1.9, 6.1.13, 6.22). */
static const char *const apple_leaf_oids[] = {
	"1.2.840.113635.100.6.1.2",  /* iPhone Developer / Apple Development */
	"1.2.840.113635.100.6.1.3",  /* iPhone Distribution */
	"1.2.840.113635.100.6.1.4",  /* iPhone OS App Store (submission) */
	"1.2.840.113635.100.6.1.7",  /* Mac App Store application (submission) */
	"1.2.840.113635.100.6.1.9",  /* Mac App Store (Apple's re-signing) */
	"1.2.840.113635.100.6.1.12", /* Mac Developer / Apple Development */
	"1.2.840.113635.100.6.1.13", /* Developer ID Application */
	"1.2.840.113635.100.6.1.25.1", /* TestFlight distribution */
	"1.2.840.113635.100.6.22",   /* Software Signing (Apple's own code) */
};

struct msign_trust_anchors {
	STACK_OF(X509) *certs;
};

static const char *trust_ossl_reason(void)
{
	unsigned long e = ERR_peek_last_error();
	const char *r = e ? ERR_reason_error_string(e) : NULL;
	ERR_clear_error();
	return r ? r : "no reason given";
}

int msign_trust_anchors_load(const char *const *files, unsigned nfiles,
			     struct msign_trust_anchors **out,
			     struct msign_diag *d)
{
	*out = NULL;
	struct msign_trust_anchors *a = calloc(1, sizeof(*a));
	if (a == NULL || (a->certs = sk_X509_new_null()) == NULL) {
		free(a);
		return MSIGN_E_NOMEM;
	}
	for (unsigned i = 0; i < nfiles; i++) {
		BIO *b = BIO_new_file(files[i], "r");
		if (b == NULL) {
			ERR_clear_error();
			msign_trust_anchors_free(a);
			return msign_diag_set(d, MSIGN_E_IO, 0,
					      "%s: cannot open the anchor file", files[i]);
		}
		int n = 0;
		X509 *x;
		while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL) {
			if (!sk_X509_push(a->certs, x)) {
				X509_free(x);
				BIO_free(b);
				msign_trust_anchors_free(a);
				return MSIGN_E_NOMEM;
			}
			n++;
		}
		ERR_clear_error(); /* the end of the file reads as an error */
		BIO_free(b);
		if (n == 0) {
			msign_trust_anchors_free(a);
			return msign_diag_set(d, MSIGN_E_ARG, 0,
					      "%s: no PEM certificate in the anchor file",
					      files[i]);
		}
	}
	*out = a;
	return 0;
}

void msign_trust_anchors_free(struct msign_trust_anchors *a)
{
	if (a == NULL)
		return;
	sk_X509_pop_free(a->certs, X509_free);
	free(a);
}

static void trust_fail(struct msign_trust_result *res, int kind,
		       const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void trust_fail(struct msign_trust_result *res, int kind,
		       const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(res->detail, sizeof(res->detail), fmt, ap);
	va_end(ap);
	res->kind = kind;
}

static bool trust_has_ext(X509 *x, const char *oid)
{
	ASN1_OBJECT *obj = OBJ_txt2obj(oid, 1);
	bool has = obj != NULL && X509_get_ext_by_OBJ(x, obj, -1) >= 0;
	ASN1_OBJECT_free(obj);
	return has;
}

static bool trust_is_pinned(X509 *x)
{
	uint8_t h[32];
	unsigned int n = 0;
	if (!X509_digest(x, EVP_sha256(), h, &n) || n != 32) {
		ERR_clear_error();
		return false;
	}
	return msign_cms_is_apple_root(h);
}

static bool trust_is_user_anchor(const struct msign_trust_opts *o, X509 *x)
{
	if (o->anchors == NULL)
		return false;
	for (int i = 0; i < sk_X509_num(o->anchors->certs); i++)
		if (X509_cmp(sk_X509_value(o->anchors->certs, i), x) == 0)
			return true;
	return false;
}

static int64_t trust_asn1_time(const ASN1_TIME *t)
{
	struct tm tm;
	memset(&tm, 0, sizeof(tm));
	if (t == NULL || !ASN1_TIME_to_tm(t, &tm)) {
		ERR_clear_error();
		return 0;
	}
	return (int64_t)timegm(&tm);
}

/* What a certificate is in the chain, for -v and --json. */
static const char *trust_role(const struct msign_trust_opts *o, X509 *x,
			      int depth, int top)
{
	if (trust_is_pinned(x))
		return "Apple root";
	if (trust_is_user_anchor(o, x))
		return "user anchor";
	if (depth == 0)
		return "leaf";
	if (trust_has_ext(x, "1.2.840.113635.100.6.2.6"))
		return "Developer ID CA";
	if (trust_has_ext(x, "1.2.840.113635.100.6.2.1"))
		return "Apple WWDR CA";
	return depth == top ? "root (not an anchor)" : "intermediate";
}

static void trust_describe(const struct msign_trust_opts *o,
			   STACK_OF(X509) *chain, struct msign_trust_cert *out,
			   uint32_t *n)
{
	int num = sk_X509_num(chain);
	*n = 0;
	for (int i = 0; i < num && *n < MSIGN_TRUST_MAX_CERTS; i++) {
		X509 *x = sk_X509_value(chain, i);
		struct msign_trust_cert *c = &out[(*n)++];
		char *cn = NULL;
		if (msign_x509_subject_field(x, NID_commonName, &cn, NULL) == 0 &&
		    cn != NULL)
			snprintf(c->subject, sizeof(c->subject), "%s", cn);
		else
			X509_NAME_oneline(X509_get_subject_name(x), c->subject,
					  (int)sizeof(c->subject));
		free(cn);
		c->role = trust_role(o, x, i, num - 1);
		c->not_before = trust_asn1_time(X509_get0_notBefore(x));
		c->not_after = trust_asn1_time(X509_get0_notAfter(x));
	}
	ERR_clear_error();
}

/* A store holding only the anchors: the caller's, and the carried
 * certificates (of the signature and of its timestamp) that are pinned
 * Apple roots. PARTIAL_CHAIN: a caller may anchor an intermediate, as
 * SecTrustSetAnchorCertificates allows. */
static X509_STORE *trust_store(const struct msign_trust_opts *o,
			       STACK_OF(X509) *carried, STACK_OF(X509) *more,
			       int64_t at, bool no_time)
{
	X509_STORE *st = X509_STORE_new();
	if (st == NULL)
		return NULL;
	bool ok = true;
	for (int i = 0; o->anchors && i < sk_X509_num(o->anchors->certs); i++)
		ok = ok && X509_STORE_add_cert(st, sk_X509_value(o->anchors->certs, i));
	STACK_OF(X509) *lists[2] = { carried, more };
	for (int k = 0; k < 2; k++)
		for (int i = 0; lists[k] && i < sk_X509_num(lists[k]); i++) {
			X509 *x = sk_X509_value(lists[k], i);
			if (trust_is_pinned(x))
				ok = ok && X509_STORE_add_cert(st, x);
		}
	X509_VERIFY_PARAM *p = X509_STORE_get0_param(st);
	X509_VERIFY_PARAM_set_depth(p, TRUST_MAX_DEPTH);
	X509_VERIFY_PARAM_set_flags(p, X509_V_FLAG_PARTIAL_CHAIN);
	if (no_time)
		X509_VERIFY_PARAM_set_flags(p, X509_V_FLAG_NO_CHECK_TIME);
	else
		X509_VERIFY_PARAM_set_time(p, (time_t)at);
	ERR_clear_error(); /* a duplicate anchor is not an error */
	if (!ok) {
		X509_STORE_free(st);
		return NULL;
	}
	return st;
}

/* Apple marks its own extensions critical (the leaf markers
 * 1.2.840.113635.100.6.1.x); Apple's verifier knows them, OpenSSL does
 * not. Accept an unhandled critical extension only when every critical
 * extension OpenSSL does not support is under Apple's arc. */
static int trust_verify_cb(int ok, X509_STORE_CTX *ctx)
{
	if (ok || X509_STORE_CTX_get_error(ctx) != X509_V_ERR_UNHANDLED_CRITICAL_EXTENSION)
		return ok;
	X509 *x = X509_STORE_CTX_get_current_cert(ctx);
	ASN1_OBJECT *apple = OBJ_txt2obj("1.2.840.113635", 1);
	bool all_apple = x != NULL && apple != NULL;
	for (int i = 0; all_apple && i < X509_get_ext_count(x); i++) {
		X509_EXTENSION *e = X509_get_ext(x, i);
		if (!X509_EXTENSION_get_critical(e) || X509_supported_extension(e))
			continue;
		const ASN1_OBJECT *o = X509_EXTENSION_get_object(e);
		/* the arc's content octets are a prefix of the OID's */
		int al = OBJ_length(apple);
		all_apple = (int)OBJ_length(o) > al &&
			    memcmp(OBJ_get0_data(o), OBJ_get0_data(apple), (size_t)al) == 0;
	}
	ASN1_OBJECT_free(apple);
	if (all_apple)
		X509_STORE_CTX_set_error(ctx, X509_V_OK);
	return all_apple;
}

static bool trust_time_error(int e)
{
	return e == X509_V_ERR_CERT_HAS_EXPIRED ||
	       e == X509_V_ERR_CERT_NOT_YET_VALID;
}

/* Build and check the chain of leaf at time `at`. 0: done, with *err the
 * X509_V_ code (X509_V_OK when trusted) and *chain a copy of the chain
 * built (leaf first) or NULL. */
static int trust_chain(const struct msign_trust_opts *o, X509 *leaf,
		       STACK_OF(X509) *carried, STACK_OF(X509) *more,
		       int64_t at, bool no_time, int *err, int *err_depth,
		       STACK_OF(X509) **chain)
{
	*chain = NULL;
	X509_STORE *st = trust_store(o, carried, more, at, no_time);
	X509_STORE_CTX *ctx = st ? X509_STORE_CTX_new() : NULL;
	STACK_OF(X509) *untrusted = sk_X509_dup(carried);
	int r = 0;
	for (int i = 0; untrusted && more && i < sk_X509_num(more); i++)
		if (!sk_X509_push(untrusted, sk_X509_value(more, i)))
			r = MSIGN_E_NOMEM;
	if (st == NULL || ctx == NULL || untrusted == NULL || r != 0 ||
	    !X509_STORE_CTX_init(ctx, st, leaf, untrusted)) {
		r = MSIGN_E_NOMEM;
		goto out;
	}
	X509_STORE_CTX_set_verify_cb(ctx, trust_verify_cb);
	int ok = X509_verify_cert(ctx);
	*err = ok == 1 ? X509_V_OK : X509_STORE_CTX_get_error(ctx);
	if (ok != 1 && *err == X509_V_OK)
		*err = X509_V_ERR_UNSPECIFIED;
	*err_depth = X509_STORE_CTX_get_error_depth(ctx);
	STACK_OF(X509) *built = X509_STORE_CTX_get0_chain(ctx);
	if (built != NULL)
		*chain = X509_chain_up_ref(built);
out:
	ERR_clear_error();
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(st);
	sk_X509_free(untrusted);
	return r;
}

/* Under an Apple root: a leaf marker, or a leaf issued by Apple's own
 * "Apple Code Signing Certification Authority" (Software Signing
 * certificates before the 6.22 marker existed, e.g. 2009-2015: Apple's
 * "anchor apple" code). The issuer's name is trustworthy here: the chain
 * to the pinned root has been verified. */
static bool trust_apple_leaf(X509 *leaf, const struct msign_trust_result *res)
{
	for (size_t i = 0; i < sizeof(apple_leaf_oids) / sizeof(apple_leaf_oids[0]); i++)
		if (trust_has_ext(leaf, apple_leaf_oids[i]))
			return true;
	return res->ncerts == 3 &&
	       strcmp(res->certs[1].subject, "Apple Code Signing Certification Authority") == 0;
}

/* SecPolicyCreateCodeSigning's leaf rules. NULL when met, else why not. */
static const char *trust_leaf_policy(X509 *leaf)
{
	uint32_t ku = X509_get_key_usage(leaf); /* UINT32_MAX: no extension */
	if (ku != UINT32_MAX &&
	    (ku & (KU_DIGITAL_SIGNATURE | KU_NON_REPUDIATION)) == 0)
		return "its key usage allows neither digitalSignature nor nonRepudiation";
	uint32_t xku = X509_get_extended_key_usage(leaf);
	if (xku != UINT32_MAX && (xku & (XKU_CODE_SIGN | XKU_ANYEKU)) == 0) {
		/* Apple's own code-signing EKU, which OpenSSL has no bit for. */
		EXTENDED_KEY_USAGE *eku =
			X509_get_ext_d2i(leaf, NID_ext_key_usage, NULL, NULL);
		bool apple = false;
		ASN1_OBJECT *want = OBJ_txt2obj(OID_APPLE_EKU_CODESIGN, 1);
		for (int i = 0; eku && want && i < sk_ASN1_OBJECT_num(eku); i++)
			apple = apple || OBJ_cmp(sk_ASN1_OBJECT_value(eku, i), want) == 0;
		ASN1_OBJECT_free(want);
		sk_ASN1_OBJECT_pop_free(eku, ASN1_OBJECT_free);
		ERR_clear_error();
		if (!apple)
			return "its extended key usage does not include codeSigning";
	}
	return NULL;
}

/* Step 2: the timestamp token, if any. 0 with res->kind untouched when
 * there is none or it is good (res->timestamp set); res->kind set when
 * it is bad. */
static int trust_timestamp(const struct msign_trust_opts *o,
			   CMS_SignerInfo *si, STACK_OF(X509) *carried,
			   struct msign_trust_result *res)
{
	int i = CMS_unsigned_get_attr_by_NID(si, NID_id_smime_aa_timeStampToken, -1);
	if (i < 0)
		return 0;
	res->has_timestamp = true;
	X509_ATTRIBUTE *a = CMS_unsigned_get_attr(si, i);
	ASN1_TYPE *v = a ? X509_ATTRIBUTE_get0_type(a, 0) : NULL;
	if (v == NULL || v->type != V_ASN1_SEQUENCE) {
		trust_fail(res, MSIGN_VERIFY_BAD_FORMAT,
			   "the timestamp attribute is not a SEQUENCE");
		return 0;
	}
	const unsigned char *p = v->value.sequence->data;
	PKCS7 *p7 = d2i_PKCS7(NULL, &p, v->value.sequence->length);
	TS_TST_INFO *tst = p7 ? PKCS7_to_TS_TST_INFO(p7) : NULL;
	ASN1_OCTET_STRING *sig = CMS_SignerInfo_get0_signature(si); /* the imprint's data */
	int r = 0;
	TS_VERIFY_CTX *vc = NULL;
	STACK_OF(X509) *ts_certs = NULL, *ts_chain = NULL;
	if (tst == NULL || sig == NULL) {
		trust_fail(res, MSIGN_VERIFY_BAD_FORMAT,
			   "the timestamp token is unreadable: %s", trust_ossl_reason());
		goto out;
	}
	res->timestamp = trust_asn1_time(TS_TST_INFO_get_time(tst));
	/* The imprint first: a token over other bytes is a modified
	 * signature, whoever signed it. */
	vc = TS_VERIFY_CTX_new();
	BIO *data = BIO_new_mem_buf(ASN1_STRING_get0_data(sig),
				    ASN1_STRING_length(sig));
	if (vc == NULL || data == NULL) {
		BIO_free(data);
		r = MSIGN_E_NOMEM;
		goto out;
	}
	TS_VERIFY_CTX_set_flags(vc, TS_VFY_VERSION | TS_VFY_DATA);
	TS_VERIFY_CTX_set_data(vc, data); /* vc owns it */
	if (TS_RESP_verify_token(vc, p7) != 1) {
		trust_fail(res, MSIGN_VERIFY_MODIFIED,
			   "the timestamp's imprint does not match the signature value (%s)",
			   trust_ossl_reason());
		goto out;
	}
	/* The token's own signature and its signer's chain, at genTime. */
	STACK_OF(X509) *carried_ts = p7->d.sign ? p7->d.sign->cert : NULL;
	X509_STORE *st = trust_store(o, carried, carried_ts, res->timestamp, false);
	/* Up-referenced: the context frees its stack with the certificates. */
	STACK_OF(X509) *untrusted = X509_chain_up_ref(carried);
	if (st == NULL || untrusted == NULL) {
		X509_STORE_free(st);
		sk_X509_pop_free(untrusted, X509_free);
		r = MSIGN_E_NOMEM;
		goto out;
	}
	TS_VERIFY_CTX_free(vc);
	vc = TS_VERIFY_CTX_new();
	if (vc == NULL) {
		X509_STORE_free(st);
		sk_X509_pop_free(untrusted, X509_free);
		r = MSIGN_E_NOMEM;
		goto out;
	}
	TS_VERIFY_CTX_set_flags(vc, TS_VFY_SIGNATURE);
	TS_VERIFY_CTX_set_store(vc, st);        /* vc owns both */
	TS_VERIFY_CTX_set_certs(vc, untrusted);
	if (TS_RESP_verify_token(vc, p7) != 1) {
		unsigned long e = ERR_peek_last_error();
		const char *data_s = NULL;
		int flags = 0;
		ERR_peek_last_error_data(&data_s, &flags);
		trust_fail(res, MSIGN_VERIFY_UNTRUSTED,
			   "the timestamp's signature or its signer's chain does not verify: %s%s%s",
			   e ? ERR_reason_error_string(e) : "no reason given",
			   (flags & ERR_TXT_STRING) && data_s ? ": " : "",
			   (flags & ERR_TXT_STRING) && data_s ? data_s : "");
		ERR_clear_error();
		goto out;
	}
	/* Describe the timestamp signer's chain (and learn its anchor). */
	ts_certs = PKCS7_get0_signers(p7, untrusted, 0);
	X509 *tsa = sk_X509_num(ts_certs) > 0 ? sk_X509_value(ts_certs, 0) : NULL;
	int err = X509_V_OK, depth = 0;
	if (tsa != NULL &&
	    (r = trust_chain(o, tsa, carried, carried_ts, res->timestamp, false,
			     &err, &depth, &ts_chain)) != 0)
		goto out;
	if (ts_chain != NULL)
		trust_describe(o, ts_chain, res->ts_certs, &res->nts_certs);
	res->timestamp_ok = true;
out:
	ERR_clear_error();
	sk_X509_pop_free(ts_chain, X509_free);
	sk_X509_free(ts_certs);
	TS_VERIFY_CTX_free(vc);
	TS_TST_INFO_free(tst);
	PKCS7_free(p7);
	return r;
}

/* ---- the signed attributes as they were signed -------------------------
 * OpenSSL re-encodes signedAttrs before checking the signature, sorting
 * every SET OF into DER order; Apple's signer does not sort the values of
 * its CDHashes2 attribute (sha256 before sha1), so the signature is over
 * other bytes. Apple's verifier hashes what was sent; so do we: a small
 * BER walk (definite or indefinite lengths) to the first SignerInfo's
 * [0] signedAttrs, whose bytes are hashed with the tag made SET (0x31). */
#define BER_MAX_DEPTH 12

struct ber {
	uint8_t tag;
	size_t hdr, len; /* header length; content length (indefinite: as walked) */
	size_t total;    /* header + content (+ end-of-contents) */
};

static int ber_read(const uint8_t *p, size_t n, struct ber *b, int depth);

/* The content of an indefinite element: children up to 00 00. */
static int ber_indef(const uint8_t *p, size_t n, size_t *used, int depth)
{
	size_t at = 0;
	for (;;) {
		if (n - at >= 2 && p[at] == 0 && p[at + 1] == 0) {
			*used = at;
			return 0;
		}
		struct ber c;
		if (at >= n || ber_read(p + at, n - at, &c, depth + 1) != 0)
			return -1;
		at += c.total;
	}
}

static int ber_read(const uint8_t *p, size_t n, struct ber *b, int depth)
{
	if (depth > BER_MAX_DEPTH || n < 2 || (p[0] & 0x1f) == 0x1f)
		return -1;
	b->tag = p[0];
	size_t at = 2;
	uint8_t l0 = p[1];
	if (l0 == 0x80) {
		if ((p[0] & 0x20) == 0) /* only constructed may be indefinite */
			return -1;
		size_t used;
		if (ber_indef(p + 2, n - 2, &used, depth) != 0)
			return -1;
		b->hdr = 2;
		b->len = used;
		b->total = 2 + used + 2;
		return 0;
	}
	size_t len = l0;
	if (l0 & 0x80) {
		size_t k = l0 & 0x7f;
		if (k == 0 || k > 4 || n - 2 < k)
			return -1;
		len = 0;
		for (size_t i = 0; i < k; i++)
			len = (len << 8) | p[2 + i];
		at += k;
	}
	if (len > n - at)
		return -1;
	b->hdr = at;
	b->len = len;
	b->total = at + len;
	return 0;
}

/* Enter element b at p: its content window. */
static void ber_enter(const uint8_t **p, size_t *n, const struct ber *b)
{
	*p += b->hdr;
	*n = b->len;
}

/* The raw [0] signedAttrs of the first SignerInfo, or NULL. */
static const uint8_t *trust_raw_attrs(const uint8_t *der, size_t len,
				      size_t *out_len)
{
	const uint8_t *p = der;
	size_t n = len;
	struct ber b;
	/* ContentInfo SEQUENCE, contentType OID, [0] EXPLICIT, SignedData */
	if (ber_read(p, n, &b, 0) || b.tag != 0x30) return NULL;
	ber_enter(&p, &n, &b);
	if (ber_read(p, n, &b, 1) || b.tag != 0x06) return NULL;
	p += b.total; n -= b.total;
	if (ber_read(p, n, &b, 1) || b.tag != 0xa0) return NULL;
	ber_enter(&p, &n, &b);
	if (ber_read(p, n, &b, 2) || b.tag != 0x30) return NULL;
	ber_enter(&p, &n, &b);
	/* version, digestAlgorithms, encapContentInfo, [0] certs, [1] crls,
	 * then signerInfos SET */
	for (;;) {
		if (n == 0 || ber_read(p, n, &b, 3)) return NULL;
		/* digestAlgorithms is a SET too: signerInfos is the last
		 * element (then the end, or an end-of-contents). */
		if (b.tag == 0x31 &&
		    (b.total == n || (n - b.total >= 2 && p[b.total] == 0 &&
				      p[b.total + 1] == 0)))
			break;
		p += b.total; n -= b.total;
	}
	ber_enter(&p, &n, &b);
	if (ber_read(p, n, &b, 4) || b.tag != 0x30) return NULL; /* SignerInfo */
	ber_enter(&p, &n, &b);
	for (int i = 0; i < 3; i++) { /* version, sid, digestAlgorithm */
		if (ber_read(p, n, &b, 5)) return NULL;
		p += b.total; n -= b.total;
	}
	if (ber_read(p, n, &b, 5) || b.tag != 0xa0) return NULL;
	*out_len = b.total;
	return p;
}

/* The digest the signer names (NULL when OpenSSL does not know it). */
static const EVP_MD *trust_signer_md(CMS_SignerInfo *si)
{
	X509_ALGOR *dig = NULL;
	const ASN1_OBJECT *alg = NULL;
	CMS_SignerInfo_get0_algs(si, NULL, NULL, &dig, NULL);
	if (dig != NULL)
		X509_ALGOR_get0(&alg, NULL, NULL, dig);
	return alg ? EVP_get_digestbyobj(alg) : NULL;
}

/* The signature value over the signed attributes as sent. 1 good, 0 bad,
 * -1 when the bytes cannot be found. */
static int trust_raw_verify(const uint8_t *der, size_t len, CMS_SignerInfo *si,
			    X509 *signer)
{
	size_t alen = 0;
	const uint8_t *a = trust_raw_attrs(der, len, &alen);
	const EVP_MD *md = trust_signer_md(si);
	EVP_PKEY *key = X509_get0_pubkey(signer);
	ASN1_OCTET_STRING *sig = CMS_SignerInfo_get0_signature(si);
	/* Only definite lengths here: an indefinite [0] would need its
	 * children re-framed, and Apple writes these definite. */
	if (a == NULL || alen < 2 || a[1] == 0x80 || md == NULL || key == NULL ||
	    sig == NULL)
		return -1;
	uint8_t *copy = malloc(alen);
	EVP_MD_CTX *mc = EVP_MD_CTX_new();
	int ok = -1;
	if (copy != NULL && mc != NULL) {
		memcpy(copy, a, alen);
		copy[0] = 0x31; /* signed as SET OF, sent as [0] IMPLICIT */
		ok = EVP_DigestVerifyInit(mc, NULL, md, NULL, key) == 1 &&
		     EVP_DigestVerify(mc, ASN1_STRING_get0_data(sig),
				      (size_t)ASN1_STRING_length(sig), copy, alen) == 1;
	}
	free(copy);
	EVP_MD_CTX_free(mc);
	ERR_clear_error();
	return ok;
}

static X509 *trust_signer(CMS_SignerInfo *si, STACK_OF(X509) *certs)
{
	for (int i = 0; i < sk_X509_num(certs); i++)
		if (CMS_SignerInfo_cert_cmp(si, sk_X509_value(certs, i)) == 0)
			return sk_X509_value(certs, i);
	return NULL;
}

/* Step 1. 0 with res->kind set when the signature value is bad. */
static int trust_signature(const uint8_t *der, size_t len, CMS_SignerInfo *si,
			   X509 *signer, const uint8_t *content,
			   size_t content_len, struct msign_trust_result *res)
{
	CMS_SignerInfo_set1_signer_cert(si, signer);
	res->no_signed_attrs = CMS_signed_get_attr_count(si) <= 0;
	/* Either encoding signed by the signer's key is the same parsed
	 * attributes: the bytes as sent (Apple's way), or OpenSSL's DER
	 * re-encoding (which also covers padding schemes such as PSS that
	 * the raw check does not set up). */
	int raw = res->no_signed_attrs ? 1 : trust_raw_verify(der, len, si, signer);
	if (raw != 1 && CMS_SignerInfo_verify(si) != 1) {
		trust_fail(res, MSIGN_VERIFY_MODIFIED,
			   "the CMS signature value over the signed attributes does not verify with the signer's key (%s)",
			   trust_ossl_reason());
		return 0;
	}
	if (content_len > INT32_MAX) {
		trust_fail(res, MSIGN_VERIFY_BAD_FORMAT,
			   "the signed CodeDirectory is too large");
		return 0;
	}
	/* With signed attributes verify.c compared messageDigest to the
	 * content's hash. Without (old signatures), the signature value is
	 * over the content itself, with the digest algorithm named. */
	if (!res->no_signed_attrs) {
		res->sig_ok = true;
		return 0;
	}
	const EVP_MD *md = trust_signer_md(si);
	EVP_PKEY *key = X509_get0_pubkey(signer);
	ASN1_OCTET_STRING *sig = CMS_SignerInfo_get0_signature(si);
	if (md == NULL || key == NULL || sig == NULL) {
		trust_fail(res, MSIGN_VERIFY_BAD_FORMAT,
			   "the CMS signer's digest algorithm or key is unusable");
		ERR_clear_error();
		return 0;
	}
	EVP_MD_CTX *mc = EVP_MD_CTX_new();
	if (mc == NULL)
		return MSIGN_E_NOMEM;
	int ok = EVP_DigestVerifyInit(mc, NULL, md, NULL, key) == 1 &&
		 EVP_DigestVerify(mc, ASN1_STRING_get0_data(sig),
				  (size_t)ASN1_STRING_length(sig), content,
				  content_len) == 1;
	EVP_MD_CTX_free(mc);
	if (!ok)
		trust_fail(res, MSIGN_VERIFY_MODIFIED,
			   "the CMS signature value over the CodeDirectory does not verify with the signer's key (%s)",
			   trust_ossl_reason());
	else
		res->sig_ok = true;
	ERR_clear_error();
	return 0;
}

static const char *trust_kind_word(int kind)
{
	return kind == MSIGN_VERIFY_EXPIRED ? "expired" : "not yet valid";
}

/* isAppleDeveloperCert's requirements (StaticCode.cpp: WWDRRequirement,
 * MACWWDRRequirement, developerID, distributionCertificate,
 * iPhoneDistributionCert), on the chain just verified. */
static void trust_developer(X509 *leaf, STACK_OF(X509) *certs,
			    struct msign_trust_result *res)
{
	if (!res->apple)
		return;
	static const char *const marks[] = {
		"1.2.840.113635.100.6.1.2", "1.2.840.113635.100.6.1.12",
		"1.2.840.113635.100.6.1.7", "1.2.840.113635.100.6.1.4",
	};
	bool dev = false;
	for (size_t i = 0; i < sizeof(marks) / sizeof(marks[0]); i++)
		dev = dev || trust_has_ext(leaf, marks[i]);
	if (!dev && trust_has_ext(leaf, "1.2.840.113635.100.6.1.13")) {
		/* certificate 1: the leaf's issuer among the carried ones */
		for (int i = 0; i < sk_X509_num(certs); i++) {
			X509 *c = sk_X509_value(certs, i);
			if (X509_check_issued(c, leaf) == X509_V_OK &&
			    trust_has_ext(c, "1.2.840.113635.100.6.2.6"))
				dev = true;
		}
		ERR_clear_error();
	}
	res->apple_developer = dev;
	char *ou = NULL;
	if (msign_x509_subject_field(leaf, NID_organizationalUnitName, &ou, NULL) == 0 &&
	    ou != NULL) {
		res->has_leaf_ou = true;
		snprintf(res->leaf_ou, sizeof(res->leaf_ou), "%s", ou);
	}
	free(ou);
	ERR_clear_error();
}

/* Step 3 and 4. */
static int trust_evaluate(const struct msign_trust_opts *o, X509 *signer,
			  STACK_OF(X509) *certs, int64_t now,
			  struct msign_trust_result *res)
{
	int64_t at = res->timestamp_ok ? res->timestamp : now;
	res->time_source = res->timestamp_ok ? MSIGN_TRUST_TIME_TIMESTAMP
					     : MSIGN_TRUST_TIME_NOW;
	res->validity_time = at;
	int err = X509_V_OK, depth = 0;
	STACK_OF(X509) *chain = NULL;
	int r = trust_chain(o, signer, certs, NULL, at, false, &err, &depth, &chain);
	if (r != 0)
		return r;
	if (trust_time_error(err)) {
		int kind = err == X509_V_ERR_CERT_HAS_EXPIRED ? MSIGN_VERIFY_EXPIRED
							      : MSIGN_VERIFY_NOT_YET_VALID;
		if (res->timestamp_ok || o->check_expiration) {
			if (chain != NULL)
				trust_describe(o, chain, res->certs, &res->ncerts);
			int idx = depth >= 0 && (uint32_t)depth < res->ncerts ? depth : -1;
			trust_fail(res, kind,
				   "certificate %d (%s) of the signer's chain is %s at the %s",
				   depth, idx >= 0 ? res->certs[idx].subject : "?",
				   trust_kind_word(kind),
				   res->timestamp_ok ? "timestamp's time" : "current time");
			sk_X509_pop_free(chain, X509_free);
			return 0;
		}
		/* Apple's retry, tolerating expiration. */
		sk_X509_pop_free(chain, X509_free);
		chain = NULL;
		res->expired_tolerated = true;
		if ((r = trust_chain(o, signer, certs, NULL, at, true, &err, &depth,
				     &chain)) != 0)
			return r;
	}
	if (chain != NULL)
		trust_describe(o, chain, res->certs, &res->ncerts);
	int top = chain ? sk_X509_num(chain) - 1 : -1;
	X509 *anchor = top >= 0 ? sk_X509_value(chain, top) : NULL;
	res->apple = err == X509_V_OK && anchor != NULL && trust_is_pinned(anchor);
	sk_X509_pop_free(chain, X509_free);
	if (err != X509_V_OK) {
		trust_fail(res, MSIGN_VERIFY_UNTRUSTED,
			   "the signer's chain does not reach a trusted anchor: certificate %d: %s",
			   depth, X509_verify_cert_error_string(err));
		return 0;
	}
	const char *why = trust_leaf_policy(signer);
	if (why != NULL) {
		trust_fail(res, MSIGN_VERIFY_UNTRUSTED,
			   "the signer's certificate is not for code signing: %s", why);
		return 0;
	}
	if (res->apple && !trust_apple_leaf(signer, res)) {
		trust_fail(res, MSIGN_VERIFY_UNTRUSTED,
			   "the signer's certificate under an Apple root carries none of Apple's code-signing leaf markers (1.2.840.113635.100.6.1.x, 6.22)");
		return 0;
	}
	if (res->apple && res->has_timestamp && res->nts_certs > 0 &&
	    strcmp(res->ts_certs[res->nts_certs - 1].role, "Apple root") != 0) {
		trust_fail(res, MSIGN_VERIFY_UNTRUSTED,
			   "the signature draws to Apple but its timestamp does not");
		return 0;
	}
	res->chain_ok = true;
	trust_developer(signer, certs, res);
	return 0;
}

int msign_trust_check(const uint8_t *der, size_t len, const uint8_t *content,
		      size_t content_len, const struct msign_trust_opts *o,
		      struct msign_trust_result *res, struct msign_diag *d)
{
	memset(res, 0, sizeof(*res));
	res->kind = MSIGN_VERIFY_VALID;
	if (len > INT32_MAX)
		return msign_diag_set(d, MSIGN_E_LIMIT, 0, "CMS payload too large");
	const unsigned char *p = der;
	CMS_ContentInfo *cms = d2i_CMS_ContentInfo(NULL, &p, (long)len);
	if (cms == NULL) {
		trust_fail(res, MSIGN_VERIFY_BAD_FORMAT,
			   "the CMS signature is not a ContentInfo: %s", trust_ossl_reason());
		return 0;
	}
	int64_t now = o->now != 0 ? o->now : (int64_t)time(NULL);
	STACK_OF(CMS_SignerInfo) *sis = CMS_get0_SignerInfos(cms);
	CMS_SignerInfo *si = sk_CMS_SignerInfo_num(sis) > 0
				     ? sk_CMS_SignerInfo_value(sis, 0) : NULL;
	STACK_OF(X509) *certs = CMS_get1_certs(cms);
	X509 *signer = si ? trust_signer(si, certs) : NULL;
	int r = 0;
	if (si == NULL)
		trust_fail(res, MSIGN_VERIFY_BAD_FORMAT, "the SignedData has no SignerInfo");
	else if (signer == NULL)
		trust_fail(res, MSIGN_VERIFY_UNTRUSTED,
			   "the signer's certificate is not among the %d carried",
			   sk_X509_num(certs));
	else if ((r = trust_signature(der, len, si, signer, content, content_len, res)) == 0 &&
		 res->kind == MSIGN_VERIFY_VALID &&
		 (r = trust_timestamp(o, si, certs, res)) == 0 &&
		 res->kind == MSIGN_VERIFY_VALID)
		r = trust_evaluate(o, signer, certs, now, res);
	sk_X509_pop_free(certs, X509_free);
	CMS_ContentInfo_free(cms);
	ERR_clear_error();
	return r;
}
