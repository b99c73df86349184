/* Certificates made at run time with OpenSSL itself, for the unit tests
 * that need a chain (test_cms.c, test_api.c): include after cmocka.h and
 * OpenSSL's x509v3.h. */
#ifndef MSIGN_TEST_PKI_H
#define MSIGN_TEST_PKI_H

static void add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
	X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	assert_non_null(ext);
	assert_int_equal(X509_add_ext(x, ext, -1), 1);
	X509_EXTENSION_free(ext);
}

/* An Apple-style marker: the OID with a DER NULL as its value. */
static void add_marker(X509 *x, const char *oid)
{
	static const unsigned char der_null[] = { 0x05, 0x00 };
	ASN1_OBJECT *obj = OBJ_txt2obj(oid, 1);
	ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
	ASN1_OCTET_STRING_set(os, der_null, sizeof(der_null));
	X509_EXTENSION *ext = X509_EXTENSION_create_by_OBJ(NULL, obj, 0, os);
	assert_non_null(ext);
	X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	ASN1_OCTET_STRING_free(os);
	ASN1_OBJECT_free(obj);
}

static void name_add(X509_NAME *n, const char *field, const char *value)
{
	if (value != NULL)
		assert_int_equal(X509_NAME_add_entry_by_txt(n, field, MBSTRING_UTF8,
				 (const unsigned char *)value, -1, -1, 0), 1);
}

/* issuer NULL: self-signed. */
static X509 *make_cert(const char *cn, const char *ou, const char *o,
		       EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key,
		       bool ca, const char *marker, bool tsa)
{
	static long serial = 1;
	X509 *x = X509_new();
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), serial++);
	X509_gmtime_adj(X509_getm_notBefore(x), -86400);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400L * 365);
	X509_NAME *n = X509_get_subject_name(x);
	name_add(n, "C", "US");
	name_add(n, "O", o);
	name_add(n, "OU", ou);
	name_add(n, "CN", cn);
	X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : n);
	X509_set_pubkey(x, key);
	X509 *iss = issuer ? issuer : x;
	add_ext(x, iss, NID_subject_key_identifier, "hash");
	add_ext(x, iss, NID_authority_key_identifier, "keyid:always");
	add_ext(x, iss, NID_basic_constraints, ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
	if (ca)
		add_ext(x, iss, NID_key_usage, "critical,keyCertSign,cRLSign");
	if (tsa)
		add_ext(x, iss, NID_ext_key_usage, "critical,timeStamping");
	if (marker)
		add_marker(x, marker);
	assert_true(X509_sign(x, issuer_key ? issuer_key : key, EVP_sha256()) > 0);
	return x;
}

#endif
