/* The certificate questions the requirement evaluator asks (reqeval.c),
 * answered with OpenSSL as Apple's Security framework answers them
 * (SecCertificateCopySubjectAttributeValue, SecCertificateCopyExtensionValue,
 * SecPolicyCheckCertCertificatePolicy, certificateCopyFieldDate,
 * SecCertificateGetDeveloperIDDate, SecCertificateCopyEmailAddresses). */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "sig/cms.h"
#include "sig/req.h"
#include "sig/reqeval_int.h"
#include "msign/err.h"

X509 *msign_rqe_x509_parse(const uint8_t *der, size_t len)
{
	if (der == NULL || len == 0 || len > (size_t)INT32_MAX)
		return NULL;
	const unsigned char *p = der;
	X509 *x = d2i_X509(NULL, &p, (long)len);
	/* Trailing bytes would be a different certificate to Apple's hash. */
	if (x != NULL && p != der + len) {
		X509_free(x);
		x = NULL;
	}
	if (x == NULL)
		ERR_clear_error();
	return x;
}

void msign_rqe_x509_free(X509 *x)
{
	X509_free(x);
}

int msign_rqe_sha1(const uint8_t *p, size_t n, uint8_t out[20])
{
	unsigned int len = 0;
	if (!EVP_Digest(p, n, out, &len, EVP_sha1(), NULL) || len != 20) {
		ERR_clear_error();
		return MSIGN_E_CRYPTO;
	}
	return 0;
}

int msign_rqe_subject_last(X509 *x, const char *oid, char **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	ASN1_OBJECT *obj = OBJ_txt2obj(oid, 1);
	if (obj == NULL) {
		ERR_clear_error();
		return MSIGN_E_INTERNAL;
	}
	X509_NAME *name = X509_get_subject_name(x);
	/* Apple's SecCertificateCopySubjectAttributeValue gives the last
	 * attribute of the type, where OpenSSL's lookup starts from the first. */
	int last = -1;
	for (int i = X509_NAME_get_index_by_OBJ(name, obj, -1); i >= 0;
	     i = X509_NAME_get_index_by_OBJ(name, obj, i))
		last = i;
	ASN1_OBJECT_free(obj);
	if (last < 0)
		return 1;
	return msign_asn1_utf8(X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, last)),
		       out, n);
}

/* The first extension whose OID's DER contents are oid[0..n). */
static X509_EXTENSION *rx_ext(X509 *x, const uint8_t *oid, size_t n)
{
	int count = X509_get_ext_count(x);
	for (int i = 0; i < count; i++) {
		X509_EXTENSION *e = X509_get_ext(x, i);
		const ASN1_OBJECT *o = X509_EXTENSION_get_object(e);
		size_t olen = OBJ_length(o);
		const unsigned char *od = OBJ_get0_data(o);
		if (od != NULL && olen == n && memcmp(od, oid, n) == 0)
			return e;
	}
	return NULL;
}

bool msign_rqe_has_ext(X509 *x, const uint8_t *oid, size_t n)
{
	return rx_ext(x, oid, n) != NULL;
}

bool msign_rqe_has_policy(X509 *x, const uint8_t *oid, size_t n)
{
	int crit = 0;
	CERTIFICATEPOLICIES *cp = X509_get_ext_d2i(x, NID_certificate_policies, &crit, NULL);
	bool found = false;
	for (int i = 0; cp != NULL && i < sk_POLICYINFO_num(cp); i++) {
		const POLICYINFO *pi = sk_POLICYINFO_value(cp, i);
		size_t olen = OBJ_length(pi->policyid);
		const unsigned char *od = OBJ_get0_data(pi->policyid);
		if (od != NULL && olen == n && memcmp(od, oid, n) == 0)
			found = true;
	}
	CERTIFICATEPOLICIES_free(cp);
	ERR_clear_error();
	return found;
}

static bool rx_digits(const uint8_t *p, size_t n, unsigned *v)
{
	*v = 0;
	for (size_t i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return false;
		*v = *v * 10 + (unsigned)(p[i] - '0');
	}
	return true;
}

bool msign_rqe_gentime(const uint8_t *p, size_t n, double *cf_abs)
{
	/* YYYYMMDDHHMMSS, optional .fraction, then Z or +hhmm / -hhmm. */
	unsigned y, mo, d, h, mi, s;
	if (n < 15 || !rx_digits(p, 4, &y) || !rx_digits(p + 4, 2, &mo) ||
	    !rx_digits(p + 6, 2, &d) || !rx_digits(p + 8, 2, &h) ||
	    !rx_digits(p + 10, 2, &mi) || !rx_digits(p + 12, 2, &s))
		return false;
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60)
		return false;
	size_t i = 14;
	double frac = 0, scale = 0.1;
	if (p[i] == '.' || p[i] == ',') {
		size_t start = ++i;
		for (; i < n && p[i] >= '0' && p[i] <= '9'; i++, scale /= 10)
			frac += (p[i] - '0') * scale;
		if (i == start)
			return false;
	}
	int64_t offset = 0;
	if (i < n && p[i] == 'Z') {
		i++;
	} else if (i + 5 == n && (p[i] == '+' || p[i] == '-')) {
		unsigned oh, om;
		if (!rx_digits(p + i + 1, 2, &oh) || !rx_digits(p + i + 3, 2, &om) ||
		    oh > 23 || om > 59)
			return false;
		offset = (int64_t)(oh * 3600 + om * 60) * (p[i] == '+' ? 1 : -1);
		i += 5;
	} else {
		return false;
	}
	if (i != n)
		return false;
	int64_t t = (msign_req_days_from_civil(y, mo, d) - MSIGN_RQE_CF_EPOCH_DAYS) * 86400 +
		    h * 3600 + mi * 60 + s - offset;
	*cf_abs = (double)t + frac;
	return true;
}

/* The extension's value (OCTET STRING contents) as one DER UTF8String:
 * certificateCopyFieldDate and SecCertificateGetDeveloperIDDate read it so. */
static bool rx_ext_utf8(X509_EXTENSION *e, const uint8_t **s, size_t *n)
{
	const ASN1_OCTET_STRING *os = X509_EXTENSION_get_data(e);
	const uint8_t *p = ASN1_STRING_get0_data(os);
	int ilen = ASN1_STRING_length(os);
	if (p == NULL || ilen < 2)
		return false;
	size_t len = (size_t)ilen;
	if (p[0] != 0x0c)
		return false;
	size_t hdr = 2, body = p[1];
	if (p[1] & 0x80) {
		size_t nb = p[1] & 0x7fu;
		if (nb == 0 || nb > 4 || nb > len - 2)
			return false;
		body = 0;
		for (size_t i = 0; i < nb; i++)
			body = body << 8 | p[2 + i];
		hdr += nb;
	}
	if (body != len - hdr)
		return false;
	*s = p + hdr;
	*n = body;
	return true;
}

int msign_rqe_ext_date(X509 *x, const uint8_t *oid, size_t n, double *cf_abs)
{
	X509_EXTENSION *e = rx_ext(x, oid, n);
	if (e == NULL)
		return 1; /* no such extension */
	const uint8_t *s;
	size_t slen;
	if (!rx_ext_utf8(e, &s, &slen) || !msign_rqe_gentime(s, slen, cf_abs))
		return 2; /* present but not a date */
	/* certificateCopyFieldDate takes a time of exactly 0 for a failure. */
	return *cf_abs == 0.0 ? 2 : 0;
}

int msign_rqe_emails(X509 *x, struct msign_rqe_strs *out)
{
	out->n = 0;
	X509_NAME *name = X509_get_subject_name(x);
	int rc = 0;
	for (int i = X509_NAME_get_index_by_NID(name, NID_pkcs9_emailAddress, -1);
	     rc == 0 && i >= 0 && out->n < MSIGN_RQE_MAX_STRS;
	     i = X509_NAME_get_index_by_NID(name, NID_pkcs9_emailAddress, i)) {
		rc = msign_asn1_utf8(X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i)),
			     &out->s[out->n], &out->len[out->n]);
		if (rc == 0)
			out->n++;
	}
	GENERAL_NAMES *san = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	for (int i = 0; rc == 0 && san != NULL && i < sk_GENERAL_NAME_num(san) &&
			out->n < MSIGN_RQE_MAX_STRS; i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(san, i);
		if (g->type != GEN_EMAIL)
			continue;
		rc = msign_asn1_utf8(g->d.rfc822Name, &out->s[out->n], &out->len[out->n]);
		if (rc == 0)
			out->n++;
	}
	GENERAL_NAMES_free(san);
	ERR_clear_error();
	if (rc != 0)
		msign_rqe_strs_free(out);
	return rc;
}

void msign_rqe_strs_free(struct msign_rqe_strs *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->s[i]);
	s->n = 0;
}

int msign_rqe_devid_date(X509 *x, double *cf_abs)
{
	/* 1.2.840.113635.100.6.1.33, Apple's Developer ID account date. */
	static const uint8_t oid[] = { 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x63, 0x64,
				       0x06, 0x01, 0x21 };
	X509_EXTENSION *e = rx_ext(x, oid, sizeof(oid));
	if (e == NULL)
		return 1;
	const uint8_t *s;
	size_t slen;
	if (!rx_ext_utf8(e, &s, &slen) || !msign_rqe_gentime(s, slen, cf_abs))
		return 2;
	return 0;
}
