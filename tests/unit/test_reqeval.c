/* Unit tests for reqeval.c, the requirement evaluator. Requirements are
 * written as text and compiled with msign_req_compile; certificates are
 * made here with OpenSSL (a root, an intermediate and a leaf, each with
 * the subject fields and extensions a case needs); the corpus's Apple and
 * Developer ID signatures, when present ($MSIGN_CORPUS or
 * ../shared/corpus), must satisfy their own designated requirements.
 * Malformed blobs are hand-made words: each must give an error, never a
 * crash (make SAN=1 unit runs this under ASan and UBSan). */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <plist/plist.h>

#include "msign/info.h"
#include "msign/cs.h"
#include "sig/req.h"
#include "sig/reqeval.h"
#include "msign/err.h"

/* ---- certificates --------------------------------------------------------- */

#define OID_DEVID_LEAF "1.2.840.113635.100.6.1.13"
#define OID_DEVID_CA "1.2.840.113635.100.6.2.6"
#define OID_DEVID_DATE "1.2.840.113635.100.6.1.33"
#define OID_TS "1.2.3.4.5"   /* a timestamp field: UTF8String GeneralizedTime */
#define OID_POLICY "1.2.840.113635.100.5.1"

struct tcert {
	X509 *x;
	EVP_PKEY *key;
	uint8_t *der;
	size_t len;
};

/* A DER UTF8String of s as an extension's value. */
static void add_utf8_ext(X509 *x, const char *oid, const char *s)
{
	ASN1_UTF8STRING *u = ASN1_UTF8STRING_new();
	assert_true(ASN1_STRING_set(u, s, (int)strlen(s)));
	unsigned char *der = NULL;
	int n = i2d_ASN1_UTF8STRING(u, &der);
	assert_true(n > 0);
	ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
	assert_true(ASN1_OCTET_STRING_set(os, der, n));
	ASN1_OBJECT *o = OBJ_txt2obj(oid, 1);
	X509_EXTENSION *e = X509_EXTENSION_create_by_OBJ(NULL, o, 0, os);
	assert_non_null(e);
	assert_true(X509_add_ext(x, e, -1));
	X509_EXTENSION_free(e);
	ASN1_OBJECT_free(o);
	ASN1_OCTET_STRING_free(os);
	OPENSSL_free(der);
	ASN1_UTF8STRING_free(u);
}

/* Apple's marker extensions hold a DER NULL. */
static void add_null_ext(X509 *x, const char *oid)
{
	static const unsigned char null_der[] = { 0x05, 0x00 };
	ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
	assert_true(ASN1_OCTET_STRING_set(os, null_der, 2));
	ASN1_OBJECT *o = OBJ_txt2obj(oid, 1);
	X509_EXTENSION *e = X509_EXTENSION_create_by_OBJ(NULL, o, 0, os);
	assert_true(X509_add_ext(x, e, -1));
	X509_EXTENSION_free(e);
	ASN1_OBJECT_free(o);
	ASN1_OCTET_STRING_free(os);
}

static void add_conf_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX c;
	X509V3_set_ctx_nodb(&c);
	X509V3_set_ctx(&c, issuer, x, NULL, NULL, 0);
	X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &c, nid, value);
	assert_non_null(e);
	assert_true(X509_add_ext(x, e, -1));
	X509_EXTENSION_free(e);
}

/* Append a policy to the certificatePolicies extension (one extension:
 * a second would make OpenSSL's decoder refuse both). */
static void add_policy(X509 *x, const char *oid)
{
	int crit = 0;
	CERTIFICATEPOLICIES *cp = X509_get_ext_d2i(x, NID_certificate_policies, &crit, NULL);
	if (cp == NULL)
		cp = sk_POLICYINFO_new_null();
	POLICYINFO *pi = POLICYINFO_new();
	ASN1_OBJECT_free(pi->policyid);
	pi->policyid = OBJ_txt2obj(oid, 1);
	assert_true(sk_POLICYINFO_push(cp, pi) > 0);
	assert_true(X509_add1_ext_i2d(x, NID_certificate_policies, cp, 0, X509V3_ADD_REPLACE) == 1);
	CERTIFICATEPOLICIES_free(cp);
}

/* subj: "field", "value" pairs, NULL-ended (field as OpenSSL's short name
 * or a dotted OID). extras: called to add extensions. */
static void mk_cert(struct tcert *c, const char *const *subj, const struct tcert *issuer,
		    void (*extras)(X509 *x, X509 *iss))
{
	c->key = EVP_EC_gen("P-256");
	assert_non_null(c->key);
	c->x = X509_new();
	X509 *x = c->x;
	assert_true(X509_set_version(x, 2));
	ASN1_INTEGER_set(X509_get_serialNumber(x), 42);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600L * 24 * 365);
	X509_NAME *name = X509_get_subject_name(x);
	for (size_t i = 0; subj[i] != NULL; i += 2)
		if (!X509_NAME_add_entry_by_txt(name, subj[i], MBSTRING_UTF8,
						(const unsigned char *)subj[i + 1], -1, -1, 0))
			fail_msg("subject %s=%s", subj[i], subj[i + 1]);
	X509 *iss = issuer != NULL ? issuer->x : x;
	assert_true(X509_set_issuer_name(x, X509_get_subject_name(iss)));
	assert_true(X509_set_pubkey(x, c->key));
	if (extras != NULL)
		extras(x, iss);
	assert_true(X509_sign(x, issuer != NULL ? issuer->key : c->key, EVP_sha256()) > 0);
	unsigned char *der = NULL;
	int n = i2d_X509(x, &der);
	assert_true(n > 0);
	c->der = der;
	c->len = (size_t)n;
}

static void tcert_free(struct tcert *c)
{
	X509_free(c->x);
	EVP_PKEY_free(c->key);
	OPENSSL_free(c->der);
	memset(c, 0, sizeof(*c));
}

static void ext_root(X509 *x, X509 *iss)
{
	add_conf_ext(x, iss, NID_basic_constraints, "critical,CA:TRUE");
}

static void ext_inter(X509 *x, X509 *iss)
{
	add_conf_ext(x, iss, NID_basic_constraints, "critical,CA:TRUE");
	add_null_ext(x, OID_DEVID_CA);
}

static void ext_leaf(X509 *x, X509 *iss)
{
	add_null_ext(x, OID_DEVID_LEAF);
	add_policy(x, "2.5.29.32.0"); /* anyPolicy, then Apple's */
	add_policy(x, OID_POLICY);
	add_conf_ext(x, iss, NID_subject_alt_name, "email:alt@example.com");
	add_utf8_ext(x, OID_TS, "20200102030405Z");
	add_utf8_ext(x, "1.2.3.4.6", "not a date");
}

/* A Developer ID leaf whose account date is after the legacy cut-off. */
static void ext_leaf_new_account(X509 *x, X509 *iss)
{
	(void)iss;
	add_null_ext(x, OID_DEVID_LEAF);
	add_utf8_ext(x, OID_DEVID_DATE, "20200101000000Z");
}

static void ext_leaf_old_account(X509 *x, X509 *iss)
{
	(void)iss;
	add_utf8_ext(x, OID_DEVID_DATE, "20180101000000Z");
}

static void ext_leaf_bad_account(X509 *x, X509 *iss)
{
	(void)iss;
	add_utf8_ext(x, OID_DEVID_DATE, "yesterday");
}

static struct tcert root, inter, leaf, apple_inter;
static struct msign_req_cert chain[3], apple_chain[3];

static const char *const root_subj[] = { "CN", "Test Root CA", "O", "Test Org", "C", "US", NULL };
static const char *const inter_subj[] = { "CN", "Test Code Signing CA", "O", "Test Org", NULL };
static const char *const apple_inter_subj[] = {
	"CN", "Apple Code Signing Certification Authority", "O", "Apple Inc.", NULL };
static const char *const leaf_subj[] = {
	"CN", "First Name", "CN", "Developer ID Application: Example (TEAMID1234)",
	"OU", "TEAMID1234", "O", "Example Corp", "C", "FR", "L", "Paris",
	"ST", "Ile-de-France", "street", "1 Rue X", "UID", "uid42",
	"description", "desc", "emailAddress", "dev@example.com",
	"2.5.4.11.1", "collective OU", NULL };

static int setup(void **state)
{
	(void)state;
	mk_cert(&root, root_subj, NULL, ext_root);
	mk_cert(&inter, inter_subj, &root, ext_inter);
	mk_cert(&leaf, leaf_subj, &inter, ext_leaf);
	mk_cert(&apple_inter, apple_inter_subj, &root, ext_inter);
	struct tcert *c[3] = { &leaf, &inter, &root };
	for (int i = 0; i < 3; i++) {
		chain[i].der = c[i]->der;
		chain[i].len = c[i]->len;
	}
	apple_chain[0] = chain[0];
	apple_chain[1].der = apple_inter.der;
	apple_chain[1].len = apple_inter.len;
	apple_chain[2] = chain[2];
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	tcert_free(&root);
	tcert_free(&inter);
	tcert_free(&leaf);
	tcert_free(&apple_inter);
	return 0;
}

/* ---- context and helpers ----------------------------------------------------- */

static const char info_xml[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	"<plist version=\"1.0\"><dict>\n"
	"<key>CFBundleIdentifier</key><string>com.example.app</string>\n"
	"<key>CFBundleVersion</key><string>10.2</string>\n"
	"<key>Mixed</key><string>Hello World</string>\n"
	"<key>Num</key><integer>1</integer>\n"
	"<key>T</key><true/>\n"
	"<key>F</key><false/>\n"
	"<key>Arr</key><array><string>alpha</string><string>beta</string></array>\n"
	"<key>EmptyArr</key><array/>\n"
	"<key>Empty</key><string></string>\n"
	"<key>When</key><date>2020-01-01T00:00:00Z</date>\n"
	"<key>Data</key><data>AAEC</data>\n"
	"<key>Dict</key><dict><key>a</key><string>b</string></dict>\n"
	"</dict></plist>\n";

static const char ent_xml[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	"<plist version=\"1.0\"><dict>\n"
	"<key>com.apple.security.app-sandbox</key><true/>\n"
	"<key>com.apple.security.get-task-allow</key><false/>\n"
	"<key>com.apple.security.application-groups</key>"
	"<array><string>TEAMID1234.group</string></array>\n"
	"<key>team</key><string>TEAMID1234</string>\n"
	"</dict></plist>\n";

static const uint8_t cdhash20[20] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
				      13, 14, 15, 16, 17, 18, 19, 20 };
#define H20 "0102030405060708090a0b0c0d0e0f1011121314"

static struct msign_req_ctx base_ctx(void)
{
	struct msign_req_ctx c;
	memset(&c, 0, sizeof(c));
	c.ident = (const uint8_t *)"com.example.app";
	c.ident_len = strlen("com.example.app");
	c.cdhash = cdhash20;
	c.cdhash_len = sizeof(cdhash20);
	c.platform = 0;
	c.certs = chain;
	c.ncerts = 3;
	c.anchor = MSIGN_REQ_ANCHOR_NONE;
	c.info_plist = (const uint8_t *)info_xml;
	c.info_plist_len = strlen(info_xml);
	c.entitlements = (const uint8_t *)ent_xml;
	c.entitlements_len = strlen(ent_xml);
	return c;
}

static uint8_t *compile(const char *text, size_t *n)
{
	uint8_t *b = NULL;
	struct msign_diag d;
	msign_diag_clear(&d);
	if (msign_req_compile(text, strlen(text), 0, &b, n, &d) != 0)
		fail_msg("compile '%s': %s", text, d.msg);
	return b;
}

/* Evaluate text against c: the outcome (must not fail). */
static struct msign_req_outcome outcome(const char *text, const struct msign_req_ctx *c)
{
	size_t n;
	uint8_t *b = compile(text, &n);
	struct msign_req_outcome o;
	struct msign_diag d;
	msign_diag_clear(&d);
	int rc = msign_req_eval_outcome(b, n, c, &o, &d);
	if (rc != 0)
		fail_msg("eval '%s': %d %s", text, rc, d.msg);
	bool v = !o.value;
	assert_int_equal(msign_req_eval(b, n, c, &v, &d), 0);
	assert_int_equal(v, o.value);
	free(b);
	return o;
}

/* text must evaluate to want, known (no unknowable opcode mattered). */
static void is(const char *text, const struct msign_req_ctx *c, bool want)
{
	struct msign_req_outcome o = outcome(text, c);
	if (o.value != want || o.unknowable)
		fail_msg("'%s': value %d unknowable %d; want %d, known", text,
			 o.value, o.unknowable, want);
}

static void yes(const char *text, const struct msign_req_ctx *c) { is(text, c, true); }
static void no(const char *text, const struct msign_req_ctx *c) { is(text, c, false); }

/* text: offline value want, and the answer depends on an unknown. */
static void unknown(const char *text, const struct msign_req_ctx *c, bool want, unsigned op)
{
	struct msign_req_outcome o = outcome(text, c);
	if (o.value != want || !o.unknowable || (o.unknown_ops & op) == 0)
		fail_msg("'%s': value %d unknowable %d ops %#x; want %d, unknowable, %#x",
			 text, o.value, o.unknowable, o.unknown_ops, want, op);
}

static char *sha1_hex(const struct tcert *c)
{
	static char buf[4][41];
	static int k;
	uint8_t h[20];
	SHA1(c->der, c->len, h);
	char *o = buf[k++ & 3];
	for (int i = 0; i < 20; i++)
		snprintf(o + 2 * i, 3, "%02x", h[i]);
	return o;
}

/* ---- tests: constants, code directory ---------------------------------- */

static void test_constants(void **state)
{
	(void)state;
	struct msign_req_ctx c = base_ctx();
	yes("always", &c);
	yes("true", &c);
	no("never", &c);
	no("false", &c);
}

static void test_identifier(void **state)
{
	(void)state;
	struct msign_req_ctx c = base_ctx();
	yes("identifier \"com.example.app\"", &c);
	yes("identifier com.example.app", &c);
	no("identifier \"com.example.App\"", &c);  /* case-sensitive */
	no("identifier \"com.example.ap\"", &c);
	no("identifier \"com.example.app2\"", &c);
	c.ident = NULL; /* no CodeDirectory */
	no("identifier \"com.example.app\"", &c);
}

static void test_cdhash(void **state)
{
	(void)state;
	struct msign_req_ctx c = base_ctx();
	yes("cdhash H\"" H20 "\"", &c);
	no("cdhash H\"0102030405060708090a0b0c0d0e0f1011121300\"", &c);
	/* Apple's CFEqual: a full-length digest is not the 20-byte cdhash. */
	uint8_t full[32];
	memcpy(full, cdhash20, 20);
	memset(full + 20, 0xee, 12);
	c.cdhash = full;
	c.cdhash_len = 32;
	no("cdhash H\"" H20 "\"", &c);
	c = base_ctx();
	c.ident = NULL;
	no("cdhash H\"" H20 "\"", &c);
}

static void test_platform(void **state)
{
	(void)state;
	struct msign_req_ctx c = base_ctx();
	yes("platform = 0", &c);
	no("platform = 1", &c);
	c.platform = 2;
	yes("platform = 2", &c);
	no("platform = -2", &c);
	c.ident = NULL;
	no("platform = 2", &c);
}

/* ---- tests: anchors ------------------------------------------------------ */

static void test_anchor_apple_generic(void **state)
{
	(void)state;
	struct msign_req_ctx c = base_ctx();
	no("anchor apple generic", &c);
	c.anchor = MSIGN_REQ_ANCHOR_USER;
	no("anchor apple generic", &c);
	c.anchor = MSIGN_REQ_ANCHOR_APPLE;
	yes("anchor apple generic", &c);
	c.adhoc = true; /* ad-hoc code has no chain whatever the caller passed */
	no("anchor apple generic", &c);
	c.adhoc = false;
	c.ncerts = 0;
	no("anchor apple generic", &c);
}

static void test_anchor_apple(void **state)
{
	(void)state;
	struct msign_req_ctx c = base_ctx();
	c.anchor = MSIGN_REQ_ANCHOR_APPLE;
	/* The intermediate is not Apple's code signing CA. */
	no("anchor apple", &c);
	c.certs = apple_chain;
	yes("anchor apple", &c);
	c.anchor = MSIGN_REQ_ANCHOR_USER;
	no("anchor apple", &c);
	c.anchor = MSIGN_REQ_ANCHOR_APPLE;
	/* [Apple's CA, root]: slot -2 is the first certificate. */
	c.certs = &apple_chain[1];
	c.ncerts = 2;
	yes("anchor apple", &c);
	c.ncerts = 1; /* only the root: no intermediate */
	c.certs = &apple_chain[2];
	no("anchor apple", &c);
	c = base_ctx();
	c.in_trust_cache = true;
	yes("anchor apple", &c);
}

static void test_anchor_hash(void **state)
{
	(void)state;
	struct msign_req_ctx c = base_ctx();
	char text[256];
	snprintf(text, sizeof(text), "anchor = H\"%s\"", sha1_hex(&root));
	yes(text, &c);
	snprintf(text, sizeof(text), "certificate root = H\"%s\"", sha1_hex(&root));
	yes(text, &c);
	snprintf(text, sizeof(text), "certificate leaf = H\"%s\"", sha1_hex(&leaf));
	yes(text, &c);
	snprintf(text, sizeof(text), "certificate 1 = H\"%s\"", sha1_hex(&inter));
	yes(text, &c);
	snprintf(text, sizeof(text), "certificate -2 = H\"%s\"", sha1_hex(&inter));
	yes(text, &c);
	snprintf(text, sizeof(text), "certificate leaf = H\"%s\"", sha1_hex(&root));
	no(text, &c);
	snprintf(text, sizeof(text), "certificate 3 = H\"%s\"", sha1_hex(&root));
	no(text, &c);
	snprintf(text, sizeof(text), "certificate -4 = H\"%s\"", sha1_hex(&root));
	no(text, &c);
	c.adhoc = true;
	snprintf(text, sizeof(text), "anchor = H\"%s\"", sha1_hex(&root));
	no(text, &c);
}

static void test_trusted(void **state)
{
	(void)state;
	struct msign_req_ctx c = base_ctx();
	unknown("anchor trusted", &c, false, MSIGN_REQ_UNKNOWN_TRUSTED);
	unknown("certificate root trusted", &c, false, MSIGN_REQ_UNKNOWN_TRUSTED);
	c.anchor = MSIGN_REQ_ANCHOR_USER;
	yes("anchor trusted", &c);
	yes("certificate root trusted", &c);
	yes("certificate 2 trusted", &c);
	unknown("certificate leaf trusted", &c, false, MSIGN_REQ_UNKNOWN_TRUSTED);
	no("certificate 5 trusted", &c); /* no such certificate */
	c.anchor = MSIGN_REQ_ANCHOR_APPLE;
	yes("anchor trusted", &c);
	c.ncerts = 0;
	no("anchor trusted", &c);
}

/* ---- tests: certificate fields -------------------------------------------- */

static void test_cert_subject(void **state)
{
	(void)state;
	struct msign_req_ctx c = base_ctx();
	yes("certificate leaf[subject.OU] = TEAMID1234", &c);
	no("certificate leaf[subject.OU] = TEAMID123", &c);
	no("certificate leaf[subject.OU] = teamid1234", &c);
	yes("certificate leaf[subject.O] = \"Example Corp\"", &c);
	yes("certificate leaf[subject.C] = FR", &c);
	yes("certificate leaf[subject.L] = Paris", &c);
	yes("certificate leaf[subject.ST] = \"Ile-de-France\"", &c);
	yes("certificate leaf[subject.STREET] = \"1 Rue X\"", &c);
	yes("certificate leaf[subject.UID] = uid42", &c);
	yes("certificate leaf[subject.D] = desc", &c);
	yes("certificate leaf[\"subject.C-OU\"] = \"collective OU\"", &c);
	/* The last CN, as Apple's SecCertificateCopySubjectAttributeValue. */
	yes("certificate leaf[subject.CN] = \"Developer ID Application: Example (TEAMID1234)\"", &c);
	no("certificate leaf[subject.CN] = \"First Name\"", &c);
	yes("certificate leaf[subject.CN] = \"Developer ID Application:\"*", &c);
	yes("certificate leaf[subject.CN] ~ Example", &c);
	yes("certificate leaf[subject.CN] exists", &c);
	/* A missing attribute is false, absent included; so is an unknown key
	 * and Apple's table has no bare CN nor subject.emailAddress. */
	no("certificate 1[subject.OU] exists", &c);
	no("certificate 1[subject.OU] absent", &c);
	no("certificate leaf[CN] exists", &c);
	no("certificate leaf[subject.emailAddress] exists", &c);
	yes("certificate 1[subject.CN] = \"Test Code Signing CA\"", &c);
	yes("certificate root[subject.CN] = \"Test Root CA\"", &c);
	yes("certificate -1[subject.CN] = \"Test Root CA\"", &c);
	yes("certificate -2[subject.CN] = \"Test Code Signing CA\"", &c);
	yes("certificate -3[subject.OU] = TEAMID1234", &c);
	yes("certificate 2[subject.C] = US", &c);
	no("certificate 3[subject.CN] exists", &c);
	no("certificate -4[subject.CN] exists", &c);
	no("certificate 3[subject.CN] absent", &c);
}

static void test_cert_email(void **state)
{
	(void)state;
	struct msign_req_ctx c = base_ctx();
	yes("certificate leaf[email] = \"dev@example.com\"", &c);
	yes("certificate leaf[email] = \"alt@example.com\"", &c);
	yes("certificate leaf[email] = *example.com", &c);
	no("certificate leaf[email] = \"nobody@example.com\"", &c);
	yes("certificate leaf[email] exists", &c);
	/* Apple's empty array still "exists". */
	yes("certificate 1[email] exists", &c);
	no("certificate 1[email] = \"dev@example.com\"", &c);
}

static void test_cert_field_oid(void **state)
{
	(void)state;
	struct msign_req_ctx c = base_ctx();
	yes("certificate leaf[field." OID_DEVID_LEAF "] exists", &c);
	no("certificate leaf[field." OID_DEVID_LEAF "] absent", &c);
	no("certificate 1[field." OID_DEVID_LEAF "] exists", &c);
	yes("certificate 1[field." OID_DEVID_LEAF "] absent", &c);
	yes("certificate 1[field." OID_DEVID_CA "] exists", &c);
	no("certificate root[field." OID_DEVID_CA "] exists", &c);
	/* A present field is true, never equal to a string. */
	no("certificate leaf[field." OID_DEVID_LEAF "] = \"1\"", &c);
	/* No certificate: false either way. */
	no("certificate 7[field." OID_DEVID_LEAF "] absent", &c);
	no("certificate 7[field." OID_DEVID_LEAF "] exists", &c);
	/* basicConstraints is an extension like any other. */
	yes("certificate root[field.2.5.29.19] exists", &c);
	no("certificate leaf[field.2.5.29.19] exists", &c);
}

static void test_cert_policy(void **state)
{
	(void)state;
	struct msign_req_ctx c = base_ctx();
	yes("certificate leaf[policy." OID_POLICY "] exists", &c);
	no("certificate leaf[policy.1.2.840.113635.100.5.2] exists", &c);
	yes("certificate leaf[policy.1.2.840.113635.100.5.2] absent", &c);
	no("certificate 1[policy." OID_POLICY "] exists", &c);
	no("certificate 9[policy." OID_POLICY "] absent", &c);
}

static void test_cert_timestamp(void **state)
{
	(void)state;
	struct msign_req_ctx c = base_ctx();
	yes("certificate leaf[timestamp." OID_TS "] = <2020-01-02 03:04:05 +0000>", &c);
	no("certificate leaf[timestamp." OID_TS "] = <2020-01-02 03:04:06 +0000>", &c);
	yes("certificate leaf[timestamp." OID_TS "] < <2020-01-02 03:04:06 +0000>", &c);
	no("certificate leaf[timestamp." OID_TS "] < <2020-01-02 03:04:05 +0000>", &c);
	yes("certificate leaf[timestamp." OID_TS "] > <2020-01-02 03:04:04 +0000>", &c);
	no("certificate leaf[timestamp." OID_TS "] > <2020-01-02 03:04:05 +0000>", &c);
	yes("certificate leaf[timestamp." OID_TS "] <= <2020-01-02 03:04:05 +0000>", &c);
	no("certificate leaf[timestamp." OID_TS "] <= <2020-01-02 03:04:04 +0000>", &c);
	yes("certificate leaf[timestamp." OID_TS "] >= <2020-01-02 03:04:05 +0000>", &c);
	no("certificate leaf[timestamp." OID_TS "] >= <2020-01-02 03:04:06 +0000>", &c);
	yes("certificate leaf[timestamp." OID_TS "] exists", &c);
	no("certificate leaf[timestamp." OID_TS "] absent", &c);
	/* Present but not a date, missing, or no certificate: absent. */
	yes("certificate leaf[timestamp.1.2.3.4.6] absent", &c);
	no("certificate leaf[timestamp.1.2.3.4.6] exists", &c);
	yes("certificate 1[timestamp." OID_TS "] absent", &c);
	yes("certificate 8[timestamp." OID_TS "] absent", &c);
	no("certificate 8[timestamp." OID_TS "] < <2030-01-01 00:00:00 +0000>", &c);
}

/* ---- tests: Info.plist and entitlements -------------------------------- */

static void test_info_ops(void **state)
{
	(void)state;
	struct msign_req_ctx c = base_ctx();
	yes("info[CFBundleIdentifier] = \"com.example.app\"", &c);
	no("info[CFBundleIdentifier] = \"com.example.APP\"", &c);
	yes("info[CFBundleIdentifier] exists", &c);
	no("info[CFBundleIdentifier] absent", &c);
	yes("info[Missing] absent", &c);
	no("info[Missing] exists", &c);
	no("info[Missing] = x", &c);
	yes("info[Mixed] ~ \"lo Wo\"", &c);
	yes("info[Mixed] = *World*", &c);
	no("info[Mixed] ~ world", &c); /* case-sensitive */
	yes("info[Mixed] = Hello*", &c);
	no("info[Mixed] = World*", &c);
	no("info[Mixed] = \"Hello World and more\"*", &c);
	yes("info[Mixed] = *World", &c);
	no("info[Mixed] = *Hello", &c);
	no("info[Mixed] = *\"Hello World!\"", &c);
	yes("info[Mixed] = *\"Hello World\"", &c);
	/* Empty operands find nothing, as CFStringFind. */
	no("info[Mixed] ~ \"\"", &c);
	yes("info[Empty] = \"\"", &c);
	yes("info[Empty] exists", &c);
}

static void test_info_inequality(void **state)
{
	(void)state;
	struct msign_req_ctx c = base_ctx();
	/* CFBundleVersion "10.2": numeric comparison of digit runs. */
	yes("info[CFBundleVersion] > \"9.9\"", &c);
	yes("info[CFBundleVersion] < \"10.10\"", &c);
	no("info[CFBundleVersion] < \"10.2\"", &c);
	no("info[CFBundleVersion] > \"10.2\"", &c);
	yes("info[CFBundleVersion] <= \"10.2\"", &c);
	yes("info[CFBundleVersion] >= \"10.2\"", &c);
	yes("info[CFBundleVersion] >= \"010.2\"", &c); /* leading zeros */
	no("info[CFBundleVersion] <= \"10.1\"", &c);
	no("info[CFBundleVersion] >= \"10.3\"", &c);
	yes("info[CFBundleVersion] > \"10\"", &c);
	yes("info[Mixed] > \"Hello\"", &c);
	yes("info[Mixed] < \"Hellp\"", &c);
	/* Only strings compare: a number, a boolean, a date never do. */
	no("info[Num] < \"2\"", &c);
	no("info[Num] >= \"0\"", &c);
	no("info[T] > \"\"", &c);
	no("info[Missing] < \"1\"", &c);
}

static void test_info_types(void **state)
{
	(void)state;
	struct msign_req_ctx c = base_ctx();
	/* CFEqual against a CFString: no conversion from numbers or booleans. */
	no("info[Num] = \"1\"", &c);
	yes("info[Num] exists", &c);
	no("info[T] = \"true\"", &c);
	no("info[T] = \"1\"", &c);
	yes("info[T] exists", &c);
	no("info[F] exists", &c); /* boolean false does not exist */
	no("info[F] absent", &c); /* ... and is not absent either */
	no("info[F] = \"false\"", &c);
	yes("info[Data] exists", &c);
	no("info[Data] = \"AAEC\"", &c);
	yes("info[Dict] exists", &c);
	no("info[Dict] = b", &c);
	/* Arrays: any item, then the array itself. */
	yes("info[Arr] = alpha", &c);
	yes("info[Arr] = beta", &c);
	no("info[Arr] = gamma", &c);
	yes("info[Arr] = bet*", &c);
	yes("info[Arr] exists", &c);
	yes("info[EmptyArr] exists", &c);
	no("info[EmptyArr] = x", &c);
	/* The legacy opcode (info[key] = value, opInfoKeyValue) is built by
	 * hand in test_info_legacy_opcode. */
}

static void test_info_dates(void **state)
{
	(void)state;
	struct msign_req_ctx c = base_ctx();
	yes("info[When] = <2020-01-01 00:00:00 +0000>", &c);
	no("info[When] = <2020-01-01 00:00:01 +0000>", &c);
	yes("info[When] < <2020-01-01 00:00:01 +0000>", &c);
	no("info[When] < <2020-01-01 00:00:00 +0000>", &c);
	yes("info[When] > <2019-12-31 23:59:59 +0000>", &c);
	no("info[When] > <2020-01-01 00:00:00 +0000>", &c);
	yes("info[When] <= <2020-01-01 00:00:00 +0000>", &c);
	no("info[When] <= <2019-12-31 23:59:59 +0000>", &c);
	yes("info[When] >= <2020-01-01 00:00:00 +0000>", &c);
	no("info[When] >= <2020-01-01 00:00:01 +0000>", &c);
	/* A date only matches a date, a string never matches a date. */
	no("info[When] = \"2020-01-01\"", &c);
	no("info[CFBundleVersion] < <2030-01-01 00:00:00 +0000>", &c);
	no("info[Missing] >= <2000-01-01 00:00:00 +0000>", &c);
}

/* Hand-made blob: {magic, length, kind 1} then words. */
static uint8_t *blob_of(const uint32_t *w, size_t nw, size_t *n)
{
	*n = 12 + 4 * nw;
	uint8_t *b = malloc(*n);
	assert_non_null(b);
	uint32_t hdr[3] = { MSIGN_CSMAGIC_REQUIREMENT, (uint32_t)*n, 1 };
	for (size_t i = 0; i < 3 + nw; i++) {
		uint32_t v = i < 3 ? hdr[i] : w[i - 3];
		b[4 * i] = (uint8_t)(v >> 24);
		b[4 * i + 1] = (uint8_t)(v >> 16);
		b[4 * i + 2] = (uint8_t)(v >> 8);
		b[4 * i + 3] = (uint8_t)v;
	}
	return b;
}

#define W4(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))

static bool eval_words(const uint32_t *w, size_t nw, const struct msign_req_ctx *c)
{
	size_t n;
	uint8_t *b = blob_of(w, nw, &n);
	bool v = false;
	struct msign_diag d;
	msign_diag_clear(&d);
	int rc = msign_req_eval(b, n, c, &v, &d);
	if (rc != 0)
		fail_msg("eval words: %d %s", rc, d.msg);
	free(b);
	return v;
}

static void test_info_legacy_opcode(void **state)
{
	(void)state;
	struct msign_req_ctx c = base_ctx();
	/* opInfoKeyValue (5): key "T" ... "Num"; value. */
	const uint32_t mixed[] = { 5, 5, W4('M', 'i', 'x', 'e'), W4('d', 0, 0, 0),
				   11, W4('H', 'e', 'l', 'l'), W4('o', ' ', 'W', 'o'),
				   W4('r', 'l', 'd', 0) };
	assert_true(eval_words(mixed, sizeof(mixed) / 4, &c));
	const uint32_t other[] = { 5, 5, W4('M', 'i', 'x', 'e'), W4('d', 0, 0, 0),
				   5, W4('H', 'e', 'l', 'l'), W4('o', 0, 0, 0) };
	assert_false(eval_words(other, sizeof(other) / 4, &c));
}

static void test_info_binary_and_absent(void **state)
{
	(void)state;
	struct msign_req_ctx c = base_ctx();
	/* The same Info.plist as a binary plist. */
	plist_t p = NULL;
	plist_from_xml(info_xml, (uint32_t)strlen(info_xml), &p);
	assert_non_null(p);
	char *bin = NULL;
	uint32_t blen = 0;
	plist_to_bin(p, &bin, &blen);
	plist_free(p);
	assert_non_null(bin);
	c.info_plist = (const uint8_t *)bin;
	c.info_plist_len = blen;
	yes("info[CFBundleIdentifier] = \"com.example.app\"", &c);
	yes("info[Arr] = beta", &c);
	yes("info[When] = <2020-01-01 00:00:00 +0000>", &c);
	free(bin);
	/* No Info.plist: every key is absent. */
	c.info_plist = NULL;
	c.info_plist_len = 0;
	yes("info[CFBundleIdentifier] absent", &c);
	no("info[CFBundleIdentifier] exists", &c);
	/* A key holding a NUL cannot be in the plist. */
	c = base_ctx();
	yes("info[0x5400] absent", &c);
	/* A binary plist string "a\0b": libplist 2.2 keeps it only up to the
	 * NUL (a known difference: Apple's CFString holds all three), and the
	 * evaluator reads it by pointer and length, never through the
	 * asserting plist_get_string_val. */
	static const uint8_t nul_bplist[] = {
		'b', 'p', 'l', 'i', 's', 't', '0', '0', 0xd1, 1, 2, 0x51, 'K',
		0x53, 'a', 0, 'b', 8, 11, 13, 0, 0, 0, 0, 0, 0, 1, 1,
		0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0,
		0, 0, 0, 0, 0, 0, 0, 17 };
	c.info_plist = nul_bplist;
	c.info_plist_len = sizeof(nul_bplist);
	yes("info[K] exists", &c);
	no("info[K] = 0x610062", &c);
	yes("info[K] = a", &c);
}

static void test_entitlements(void **state)
{
	(void)state;
	struct msign_req_ctx c = base_ctx();
	yes("entitlement[\"com.apple.security.app-sandbox\"] exists", &c);
	no("entitlement[\"com.apple.security.app-sandbox\"] absent", &c);
	no("entitlement[\"com.apple.security.get-task-allow\"] exists", &c);
	no("entitlement[\"com.apple.security.get-task-allow\"] absent", &c);
	yes("entitlement[\"com.apple.security.application-groups\"] = \"TEAMID1234.group\"", &c);
	yes("entitlement[\"com.apple.security.application-groups\"] = TEAMID1234*", &c);
	yes("entitlement[team] = TEAMID1234", &c);
	no("entitlement[team] = TEAMID", &c);
	yes("entitlement[missing] absent", &c);
	no("entitlement[missing] exists", &c);
	c.entitlements = NULL;
	c.entitlements_len = 0;
	yes("entitlement[team] absent", &c);
	no("entitlement[team] = TEAMID1234", &c);
}

/* ---- tests: logic, unknowns, legacy, named ----------------------------- */

static void test_logic(void **state)
{
	(void)state;
	struct msign_req_ctx c = base_ctx();
	yes("always and always", &c);
	no("always and never", &c);
	no("never and always", &c);
	yes("never or always", &c);
	yes("always or never", &c);
	no("never or never", &c);
	yes("! never", &c);
	no("! always", &c);
	yes("! ! always", &c);
	yes("identifier com.example.app and (platform = 1 or info[T] exists)", &c);
	no("identifier com.example.app and ! (platform = 1 or info[T] exists)", &c);
	yes("never or never or never or always", &c);
	no("always and always and always and never", &c);
}

static void test_unknowable(void **state)
{
	(void)state;
	struct msign_req_ctx c = base_ctx();
	unknown("notarized", &c, false, MSIGN_REQ_UNKNOWN_NOTARIZED);
	/* Apple's offline answer for ! notarized is true, but it depends. */
	unknown("! notarized", &c, true, MSIGN_REQ_UNKNOWN_NOTARIZED);
	unknown("always and notarized", &c, false, MSIGN_REQ_UNKNOWN_NOTARIZED);
	unknown("never or notarized", &c, false, MSIGN_REQ_UNKNOWN_NOTARIZED);
	/* Decided without it: known. */
	no("never and notarized", &c);
	yes("notarized or always", &c);
	yes("always or notarized", &c);
	no("! (always or notarized)", &c);
	/* Named fragments live in Security.framework. */
	unknown("anchor apple fragment", &c, false, MSIGN_REQ_UNKNOWN_NAMED);
	unknown("(fragment)", &c, false, MSIGN_REQ_UNKNOWN_NAMED);
}

static void test_legacy(void **state)
{
	(void)state;
	struct msign_req_ctx c = base_ctx();
	/* No Developer ID date, no timestamp: syspolicyd's list decides. */
	unknown("legacy", &c, false, MSIGN_REQ_UNKNOWN_LEGACY);
	/* A secure timestamp before 2019-06-01 passes. */
	c.has_secure_timestamp = true;
	c.secure_timestamp = 1546300800; /* 2019-01-01 */
	yes("legacy", &c);
	c.secure_timestamp = 1559347200; /* 2019-06-01 exactly: not before */
	unknown("legacy", &c, false, MSIGN_REQ_UNKNOWN_LEGACY);
	/* No cdhash: the list cannot be asked. */
	c.ident = NULL;
	no("legacy", &c);
	/* An account made after the cut-off fails, whatever the timestamp. */
	struct tcert l2;
	static const char *const s2[] = { "CN", "new", NULL };
	mk_cert(&l2, s2, &inter, ext_leaf_new_account);
	struct msign_req_cert ch2[3] = { { l2.der, l2.len }, chain[1], chain[2] };
	c = base_ctx();
	c.certs = ch2;
	c.has_secure_timestamp = true;
	c.secure_timestamp = 1546300800;
	no("legacy", &c);
	tcert_free(&l2);
	/* An old account falls through to the timestamp. */
	mk_cert(&l2, s2, &inter, ext_leaf_old_account);
	ch2[0].der = l2.der;
	ch2[0].len = l2.len;
	yes("legacy", &c);
	tcert_free(&l2);
	/* A date that does not parse fails. */
	mk_cert(&l2, s2, &inter, ext_leaf_bad_account);
	ch2[0].der = l2.der;
	ch2[0].len = l2.len;
	no("legacy", &c);
	tcert_free(&l2);
	/* No leaf at all fails. */
	c = base_ctx();
	c.adhoc = true;
	no("legacy", &c);
}

static void test_devid_designated(void **state)
{
	(void)state;
	struct msign_req_ctx c = base_ctx();
	const char *dr = "identifier \"com.example.app\" and anchor apple generic and "
			 "certificate 1[field." OID_DEVID_CA "] /* exists */ and "
			 "certificate leaf[field." OID_DEVID_LEAF "] /* exists */ and "
			 "certificate leaf[subject.OU] = TEAMID1234";
	no(dr, &c); /* the test root is no Apple root */
	c.anchor = MSIGN_REQ_ANCHOR_APPLE;
	yes(dr, &c);
	c.certs = apple_chain; /* its intermediate carries the 6.2.6 mark too */
	yes(dr, &c);
	c.ident = (const uint8_t *)"com.example.other";
	c.ident_len = strlen("com.example.other");
	no(dr, &c);
}

static void test_reqset(void **state)
{
	(void)state;
	struct msign_req_ctx c = base_ctx();
	const char *text = "host => never\ndesignated => identifier \"com.example.app\"\n"
			   "library => always\n";
	uint8_t *b = NULL;
	size_t n = 0;
	struct msign_diag d;
	msign_diag_clear(&d);
	assert_int_equal(msign_reqset_compile(text, strlen(text), 0, &b, &n, &d), 0);
	bool found = false;
	struct msign_req_outcome o;
	assert_int_equal(msign_reqset_eval(b, n, MSIGN_REQ_TYPE_DESIGNATED, &c, &found, &o, &d), 0);
	assert_true(found);
	assert_true(o.value);
	assert_int_equal(msign_reqset_eval(b, n, 1, &c, &found, &o, &d), 0);
	assert_true(found);
	assert_false(o.value);
	assert_int_equal(msign_reqset_eval(b, n, 5, &c, &found, &o, &d), 0);
	assert_false(found);
	assert_false(o.value);
	c.ident = (const uint8_t *)"x";
	c.ident_len = 1;
	assert_int_equal(msign_reqset_eval(b, n, MSIGN_REQ_TYPE_DESIGNATED, &c, &found, &o, &d), 0);
	assert_true(found);
	assert_false(o.value);
	/* Hostile set headers: counts, offsets, lengths. */
	uint8_t *h = malloc(n);
	assert_non_null(h);
	static const struct { size_t at; uint32_t v; } bad[] = {
		{ 0, 0xfade0c00 }, { 4, 0 }, { 4, 11 }, { 4, 0xffffffff },
		{ 8, 0xffffffff }, { 8, 0x7fffffff }, { 8, 1000 },
		{ 16, 0 }, { 16, 12 }, { 16, 0xffffffff }, { 24, 0x7fffffff },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memcpy(h, b, n);
		h[bad[i].at] = (uint8_t)(bad[i].v >> 24);
		h[bad[i].at + 1] = (uint8_t)(bad[i].v >> 16);
		h[bad[i].at + 2] = (uint8_t)(bad[i].v >> 8);
		h[bad[i].at + 3] = (uint8_t)bad[i].v;
		msign_diag_clear(&d);
		int rc = msign_reqset_eval(h, n, MSIGN_REQ_TYPE_DESIGNATED, &c, &found, &o, &d);
		if (rc >= 0)
			fail_msg("set word at %zu = %#x: rc %d", bad[i].at, bad[i].v, rc);
		assert_true(d.msg[0] != '\0');
	}
	for (size_t k = 0; k < n; k++) { /* every truncation */
		msign_diag_clear(&d);
		assert_true(msign_reqset_eval(b, k, MSIGN_REQ_TYPE_DESIGNATED, &c, &found, &o, &d) < 0);
	}
	free(h);
	free(b);
}

/* ---- tests: malformed blobs and contexts ------------------------------- */

static void expect_err(const uint8_t *b, size_t n, const struct msign_req_ctx *c,
		       int code, const char *msg)
{
	struct msign_diag d;
	msign_diag_clear(&d);
	bool v = true;
	int rc = msign_req_eval(b, n, c, &v, &d);
	if (rc != code || (msg != NULL && strstr(d.msg, msg) == NULL))
		fail_msg("rc %d '%s'; want %d '%s'", rc, d.msg, code, msg ? msg : "");
	assert_false(v);
	assert_null(strchr(d.msg, '\n'));
}

static void test_malformed_header(void **state)
{
	(void)state;
	struct msign_req_ctx c = base_ctx();
	const uint32_t t[] = { 1 };
	size_t n;
	uint8_t *b = blob_of(t, 1, &n);
	expect_err(b, 0, &c, MSIGN_E_TRUNCATED, "header");
	expect_err(b, 11, &c, MSIGN_E_TRUNCATED, "header");
	expect_err(NULL, 0, &c, MSIGN_E_TRUNCATED, NULL);
	b[3] = 0x01; /* a set's magic */
	expect_err(b, n, &c, MSIGN_E_BAD_MAGIC, "magic");
	b[3] = 0x00;
	static const uint32_t lens[] = { 0, 11, 17, 0x7fffffff, 0x80000000, 0xffffffff };
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		b[4] = (uint8_t)(lens[i] >> 24);
		b[5] = (uint8_t)(lens[i] >> 16);
		b[6] = (uint8_t)(lens[i] >> 8);
		b[7] = (uint8_t)lens[i];
		expect_err(b, n, &c, lens[i] < 12 ? MSIGN_E_INVALID : MSIGN_E_BAD_RANGE, "length");
	}
	b[7] = 16;
	b[6] = b[5] = b[4] = 0;
	b[11] = 2; /* lwcrForm */
	expect_err(b, n, &c, MSIGN_E_UNSUPPORTED, "kind");
	/* Header only: no opcode. */
	b[11] = 1;
	b[7] = 12;
	expect_err(b, 12, &c, MSIGN_E_TRUNCATED, "opcode");
	bool v;
	assert_int_equal(msign_req_eval(NULL, 4, &c, &v, NULL), MSIGN_E_ARG);
	assert_int_equal(msign_req_eval(b, n, NULL, &v, NULL), MSIGN_E_ARG);
	assert_int_equal(msign_req_eval(b, n, &c, NULL, NULL), MSIGN_E_ARG);
	free(b);
}

static void test_malformed_operands(void **state)
{
	(void)state;
	struct msign_req_ctx c = base_ctx();
	size_t n;
	uint8_t *b;
	/* identifier with a huge length */
	static const uint32_t huge[][2] = { { 2, 0xffffffff }, { 2, 0x7fffffff }, { 2, 5 },
					    { 8, 0x80000000 }, { 10, 0xfffffffc } };
	for (size_t i = 0; i < sizeof(huge) / sizeof(huge[0]); i++) {
		b = blob_of(huge[i], 2, &n);
		expect_err(b, n, &c, MSIGN_E_TRUNCATED, "remain");
		free(b);
	}
	/* anchor hash of 19 bytes: Apple's getSHA1 refuses it. */
	const uint32_t h19[] = { 4, 0xffffffff, 19, 0, 0, 0, 0, 0 };
	b = blob_of(h19, sizeof(h19) / 4, &n);
	expect_err(b, n, &c, MSIGN_E_INVALID, "SHA-1");
	free(b);
	/* unknown opcode without a generic flag */
	const uint32_t unk[] = { 99 };
	b = blob_of(unk, 1, &n);
	expect_err(b, n, &c, MSIGN_E_UNSUPPORTED, "opcode 99");
	free(b);
	/* generic skip whose length runs past the end */
	const uint32_t skip[] = { 0x40000063, 0x100 };
	b = blob_of(skip, 2, &n);
	expect_err(b, n, &c, MSIGN_E_TRUNCATED, "skips");
	free(b);
	/* and with one operand */
	const uint32_t and1[] = { 6, 1 };
	b = blob_of(and1, 2, &n);
	expect_err(b, n, &c, MSIGN_E_TRUNCATED, "opcode");
	free(b);
	/* a date match with 4 of its 8 bytes */
	const uint32_t date[] = { 10, 1, W4('T', 0, 0, 0), 9, 0 };
	b = blob_of(date, sizeof(date) / 4, &n);
	expect_err(b, n, &c, MSIGN_E_TRUNCATED, "timestamp");
	free(b);
}

static void test_generic_opcodes(void **state)
{
	(void)state;
	struct msign_req_ctx c = base_ctx();
	/* generic-false: skipped and false */
	const uint32_t gf[] = { 0x80000063, 4, 0xdeadbeef };
	assert_false(eval_words(gf, 3, &c));
	const uint32_t ngf[] = { 9, 0x80000063, 0 };
	assert_true(eval_words(ngf, 3, &c));
	/* generic-skip: the next expression stands in its place */
	const uint32_t gs[] = { 0x40000063, 0, 0x40000064, 4, 7, 1 };
	assert_true(eval_words(gs, 6, &c));
	/* known opcodes ignore the flag byte */
	const uint32_t flagged[] = { 0x40000001 };
	assert_true(eval_words(flagged, 1, &c));
	/* an unknown match operation takes a data item and never matches */
	const uint32_t um[] = { 10, 1, W4('T', 0, 0, 0), 99, 1, W4('x', 0, 0, 0) };
	assert_false(eval_words(um, sizeof(um) / 4, &c));
	const uint32_t num[] = { 9, 10, 1, W4('T', 0, 0, 0), 99, 0 };
	assert_true(eval_words(num, sizeof(num) / 4, &c));
	/* a last data item may end the blob unpadded */
	size_t n;
	const uint32_t id[] = { 2, 15, W4('c', 'o', 'm', '.'), W4('e', 'x', 'a', 'm'),
				W4('p', 'l', 'e', '.'), W4('a', 'p', 'p', 0) };
	uint8_t *b = blob_of(id, sizeof(id) / 4, &n);
	b[7] = (uint8_t)(n - 1);
	bool v = false;
	assert_int_equal(msign_req_eval(b, n - 1, &c, &v, NULL), 0);
	assert_true(v);
	free(b);
}

static void test_limits(void **state)
{
	(void)state;
	struct msign_req_ctx c = base_ctx();
	/* Nesting: 2000 nots, then true. */
	size_t nw = 2001;
	uint32_t *w = calloc(nw, 4);
	assert_non_null(w);
	for (size_t i = 0; i < nw - 1; i++)
		w[i] = 9;
	w[nw - 1] = 1;
	size_t n;
	uint8_t *b = blob_of(w, nw, &n);
	expect_err(b, n, &c, MSIGN_E_LIMIT, "deeper");
	free(b);
	/* 1000 nots evaluate (even: true). */
	b = blob_of(w + 1000, nw - 1000, &n);
	bool v = false;
	assert_int_equal(msign_req_eval(b, n, &c, &v, NULL), 0);
	assert_true(v);
	free(b);
	free(w);
	/* Opcode count: a run of generic-skips costs no stack but counts. */
	nw = 2 * (MSIGN_REQ_MAX_OPS + 1) + 1;
	w = calloc(nw, 4);
	assert_non_null(w);
	for (size_t i = 0; i + 1 < nw; i += 2)
		w[i] = 0x40000063;
	w[nw - 1] = 1;
	b = blob_of(w, nw, &n);
	expect_err(b, n, &c, MSIGN_E_LIMIT, "opcodes");
	free(b);
	free(w);
}

/* Every truncation and every word set to hostile values, for a blob that
 * uses every opcode: an error or an answer, never a crash. */
static void test_mutations(void **state)
{
	(void)state;
	struct msign_req_ctx c = base_ctx();
	c.anchor = MSIGN_REQ_ANCHOR_USER;
	const char *text =
		"identifier \"com.example.app\" and anchor apple and anchor apple generic and "
		"anchor = H\"" H20 "\" and cdhash H\"" H20 "\" and "
		"(info[CFBundleVersion] >= \"1\" or info[When] < <2030-01-01 00:00:00 +0000>) and "
		"entitlement[team] = TEAM* and certificate leaf[subject.OU] = *ID1234 and "
		"certificate 1[field." OID_DEVID_CA "] exists and certificate leaf[policy." OID_POLICY "] absent and "
		"certificate leaf[timestamp." OID_TS "] > <2000-01-01 00:00:00 +0000> and "
		"! (anchor trusted or certificate 1 trusted) and platform = 1 and notarized and legacy and "
		"anchor apple frag or (frag) or info[Arr] ~ lph";
	size_t n;
	uint8_t *b = compile(text, &n);
	struct msign_diag d;
	struct msign_req_outcome o;
	for (size_t k = 0; k < n; k++) {
		msign_diag_clear(&d);
		assert_true(msign_req_eval_outcome(b, k, &c, &o, &d) < 0);
		assert_true(d.msg[0] != '\0');
	}
	uint8_t *m = malloc(n);
	assert_non_null(m);
	static const uint32_t vals[] = { 0, 1, 0x7fffffff, 0x80000000, 0xffffffff, 3, 6, 9, 14, 0x40000063 };
	unsigned errors = 0, answers = 0;
	/* Half the values at each word, the other half at the next (make
	 * check's time under ASan; every certificate is decoded per run). */
	for (size_t at = 12; at + 4 <= n; at += 4) {
		for (size_t i = (at / 4) % 2; i < sizeof(vals) / sizeof(vals[0]); i += 2) {
			memcpy(m, b, n);
			m[at] = (uint8_t)(vals[i] >> 24);
			m[at + 1] = (uint8_t)(vals[i] >> 16);
			m[at + 2] = (uint8_t)(vals[i] >> 8);
			m[at + 3] = (uint8_t)vals[i];
			msign_diag_clear(&d);
			int rc = msign_req_eval_outcome(m, n, &c, &o, &d);
			if (rc < 0) {
				errors++;
				assert_true(d.msg[0] != '\0');
			} else {
				answers++;
			}
		}
	}
	assert_true(errors > 0 && answers > 0);
	free(m);
	free(b);
}

static void test_bad_context(void **state)
{
	(void)state;
	struct msign_req_ctx c = base_ctx();
	size_t n;
	uint8_t *b = compile("info[x] exists", &n);
	c.info_plist = (const uint8_t *)"not a plist";
	c.info_plist_len = strlen("not a plist");
	expect_err(b, n, &c, MSIGN_E_PLIST, "Info.plist");
	static const char arr[] = "<plist><array><string>a</string></array></plist>";
	c.info_plist = (const uint8_t *)arr;
	c.info_plist_len = strlen(arr);
	expect_err(b, n, &c, MSIGN_E_PLIST, "not a dictionary");
	free(b);
	/* A plist nobody asks about is never parsed. */
	bool v = false;
	b = compile("always", &n);
	assert_int_equal(msign_req_eval(b, n, &c, &v, NULL), 0);
	assert_true(v);
	/* A certificate that is not DER. */
	struct msign_req_cert junk[2] = { chain[0], { (const uint8_t *)"junk", 4 } };
	c = base_ctx();
	c.certs = junk;
	c.ncerts = 2;
	expect_err(b, n, &c, MSIGN_E_CRYPTO, "certificate 1");
	/* A certificate with a trailing byte. */
	uint8_t *tail = malloc(leaf.len + 1);
	memcpy(tail, leaf.der, leaf.len);
	tail[leaf.len] = 0;
	junk[1].der = tail;
	junk[1].len = leaf.len + 1;
	expect_err(b, n, &c, MSIGN_E_CRYPTO, "not DER");
	free(tail);
	c.ncerts = 65;
	expect_err(b, n, &c, MSIGN_E_LIMIT, "limit");
	c.certs = NULL;
	c.ncerts = 1;
	expect_err(b, n, &c, MSIGN_E_ARG, NULL);
	free(b);
}

/* ---- tests: the corpus's own signatures --------------------------------- */

struct corpus_sig {
	msign_info *info;
	struct msign_req_ctx ctx;
	struct msign_req_cert certs[16];
	uint8_t *der[16];
	const uint8_t *reqset;
	size_t reqset_len;
	const char *dr;     /* designated requirement text, explicit or not */
	bool dr_implicit;
	uint8_t cdhash[20];
};

static const char *corpus_dir(void)
{
	const char *d = getenv("MSIGN_CORPUS");
	return d != NULL && *d != '\0' ? d : "../shared/corpus";
}

/* The chain of the CMS blob of the default slice of name, leaf first. */
static bool corpus_load(const char *name, struct corpus_sig *s)
{
	memset(s, 0, sizeof(*s));
	char path[1024];
	snprintf(path, sizeof(path), "%s/%s", corpus_dir(), name);
	FILE *fp = fopen(path, "rb");
	if (fp == NULL) {
		print_message("skipped: no %s (set MSIGN_CORPUS)\n", path);
		return false;
	}
	struct msign_diag d;
	msign_diag_clear(&d);
	assert_int_equal(msign_info_open(path, &s->info, &d), 0);
	const msign_info_slice *sl = msign_info_slice_at(s->info, msign_info_default_slice(s->info));
	assert_non_null(sl);
	const msign_info_cd *cd = msign_slice_chosen_cd(sl);
	assert_non_null(cd);
	const char *ident = msign_cd_identifier(cd);
	s->ctx.ident = (const uint8_t *)ident;
	s->ctx.ident_len = strlen(ident);
	size_t hl = 0;
	const uint8_t *h = msign_cd_cdhash(cd, &hl);
	assert_true(hl >= 20);
	memcpy(s->cdhash, h, 20);
	s->ctx.cdhash = s->cdhash;
	s->ctx.cdhash_len = 20;
	s->ctx.platform = msign_cd_platform(cd);
	time_t ts;
	if (msign_slice_timestamp(sl, &ts)) {
		s->ctx.has_secure_timestamp = true;
		s->ctx.secure_timestamp = (int64_t)ts;
	}
	s->reqset = msign_slice_requirements(sl, &s->reqset_len);
	s->dr = msign_slice_designated_requirement(sl, &s->dr_implicit);
	/* The CMS blob's bytes from the file; none, empty (ad-hoc) or without
	 * certificates: no chain. */
	uint32_t type, magic, off, len;
	bool have = false;
	for (uint32_t i = 0; !have && msign_slice_blob(sl, i, &type, &magic, &off, &len); i++)
		have = type == 0x10000;
	if (!have || len <= 8) {
		fclose(fp);
		s->ctx.adhoc = true;
		return true;
	}
	uint8_t *blob = malloc(len);
	assert_non_null(blob);
	assert_int_equal(fseek(fp, (long)(msign_slice_offset(sl) + msign_slice_sig_offset(sl) + off), SEEK_SET), 0);
	assert_int_equal(fread(blob, 1, len, fp), len);
	fclose(fp);
	const unsigned char *p = blob + 8;
	CMS_ContentInfo *cms = d2i_CMS_ContentInfo(NULL, &p, (long)len - 8);
	STACK_OF(X509) *all = cms != NULL ? CMS_get1_certs(cms) : NULL;
	if (all == NULL || sk_X509_num(all) == 0) {
		ERR_clear_error();
		sk_X509_pop_free(all, X509_free);
		CMS_ContentInfo_free(cms);
		free(blob);
		s->ctx.adhoc = true;
		return true;
	}
	/* Leaf: issuer of no other certificate; then up by issuer. */
	X509 *cur = NULL;
	for (int i = 0; cur == NULL && i < sk_X509_num(all); i++) {
		X509 *x = sk_X509_value(all, i);
		bool issues = false;
		for (int j = 0; j < sk_X509_num(all); j++)
			if (j != i && X509_check_issued(x, sk_X509_value(all, j)) == X509_V_OK)
				issues = true;
		if (!issues)
			cur = x;
	}
	assert_non_null(cur);
	size_t nc = 0;
	while (cur != NULL && nc < 16) {
		unsigned char *der = NULL;
		int dl = i2d_X509(cur, &der);
		assert_true(dl > 0);
		s->der[nc] = der;
		s->certs[nc].der = der;
		s->certs[nc].len = (size_t)dl;
		nc++;
		X509 *up = NULL;
		for (int j = 0; up == NULL && j < sk_X509_num(all); j++) {
			X509 *x = sk_X509_value(all, j);
			if (x != cur && X509_check_issued(x, cur) == X509_V_OK)
				up = x;
		}
		cur = up;
	}
	/* The anchor: Apple Root CA by its pinned SHA-256, as the caller's
	 * trust code would decide. */
	static const uint8_t apple_root_sha256[32] = {
		0xb0, 0xb1, 0x73, 0x0e, 0xcb, 0xc7, 0xff, 0x45, 0x05, 0x14, 0x2c, 0x49,
		0xf1, 0x29, 0x5e, 0x6e, 0xda, 0x6b, 0xca, 0xed, 0x7e, 0x2c, 0x68, 0xc5,
		0xbe, 0x91, 0xb5, 0xa1, 0x10, 0x01, 0xf0, 0x24 };
	uint8_t rh[32];
	SHA256(s->certs[nc - 1].der, s->certs[nc - 1].len, rh);
	s->ctx.anchor = memcmp(rh, apple_root_sha256, 32) == 0 ? MSIGN_REQ_ANCHOR_APPLE
							       : MSIGN_REQ_ANCHOR_NONE;
	s->ctx.certs = s->certs;
	s->ctx.ncerts = nc;
	sk_X509_pop_free(all, X509_free);
	CMS_ContentInfo_free(cms);
	free(blob);
	return true;
}

static void corpus_free(struct corpus_sig *s)
{
	for (size_t i = 0; i < 16; i++)
		OPENSSL_free(s->der[i]);
	msign_info_free(s->info);
}

static void corpus_designated(const char *name, bool want)
{
	struct corpus_sig s;
	if (!corpus_load(name, &s))
		return;
	assert_int_equal(s.ctx.anchor, MSIGN_REQ_ANCHOR_APPLE);
	bool found = false;
	struct msign_req_outcome o;
	struct msign_diag d;
	msign_diag_clear(&d);
	int rc = msign_reqset_eval(s.reqset, s.reqset_len, MSIGN_REQ_TYPE_DESIGNATED,
				   &s.ctx, &found, &o, &d);
	if (rc != 0)
		fail_msg("%s: %s", name, d.msg);
	assert_true(found);
	assert_int_equal(o.value, want);
	assert_false(o.unknowable);
	/* Without the Apple anchor it fails. */
	s.ctx.anchor = MSIGN_REQ_ANCHOR_NONE;
	assert_int_equal(msign_reqset_eval(s.reqset, s.reqset_len, MSIGN_REQ_TYPE_DESIGNATED,
					   &s.ctx, &found, &o, &d), 0);
	assert_false(o.value);
	corpus_free(&s);
}

static void test_corpus_devid(void **state)
{
	(void)state;
	corpus_designated("devid_frida_forker-macos-arm64e", true);
	struct corpus_sig s;
	if (!corpus_load("devid_frida_forker-macos-arm64e", &s))
		return;
	yes("anchor apple generic and certificate leaf[field." OID_DEVID_LEAF "] /* exists */ and "
	    "certificate 1[field." OID_DEVID_CA "] /* exists */ and "
	    "certificate leaf[subject.OU] = \"753PE4AG6F\"", &s.ctx);
	no("certificate leaf[subject.OU] = \"753PE4AG6G\"", &s.ctx);
	no("anchor apple", &s.ctx);
	yes("certificate leaf[subject.CN] = \"Developer ID Application:\"*", &s.ctx);
	yes("certificate 1[subject.CN] = \"Developer ID Certification Authority\"", &s.ctx);
	yes("certificate root[subject.CN] = \"Apple Root CA\"", &s.ctx);
	yes("certificate root[subject.O] = \"Apple Inc.\"", &s.ctx);
	yes("cdhash H\"ac1278c0e717bdaac11b4792836b89b750b4b38e\"", &s.ctx);
	yes("identifier \"forker-macos\"", &s.ctx);
	/* Its Developer ID date is before legacy's account cut-off, its
	 * timestamp (2024) after the timestamp cut-off: the list decides. */
	yes("certificate leaf[timestamp." OID_DEVID_DATE "] < <2019-04-07 00:00:00 +0000>", &s.ctx);
	yes("certificate leaf[timestamp." OID_DEVID_DATE "] > <2000-01-01 00:00:00 +0000>", &s.ctx);
	assert_true(s.ctx.has_secure_timestamp);
	unknown("legacy", &s.ctx, false, MSIGN_REQ_UNKNOWN_LEGACY);
	/* With a timestamp before 2019-06-01 it would pass. */
	s.ctx.secure_timestamp = 1546300800;
	yes("legacy", &s.ctx);
	corpus_free(&s);
	/* VMware's: no Developer ID date, timestamp 2019-06-18. */
	if (!corpus_load("devid_libexpat_vmware_fat.dylib", &s))
		return;
	yes("certificate leaf[timestamp." OID_DEVID_DATE "] absent", &s.ctx);
	assert_true(s.ctx.has_secure_timestamp);
	unknown("legacy", &s.ctx, false, MSIGN_REQ_UNKNOWN_LEGACY);
	corpus_free(&s);
}

static void test_corpus_apple(void **state)
{
	(void)state;
	corpus_designated("apple_ls-sequoia_fat", true);
	struct corpus_sig s;
	if (!corpus_load("apple_ls-sequoia_fat", &s))
		return;
	yes("anchor apple", &s.ctx);
	yes("anchor apple generic", &s.ctx);
	no("certificate leaf[field." OID_DEVID_LEAF "] exists", &s.ctx);
	corpus_free(&s);
}

/* Each signed file of the corpus against its own designated requirement
 * (the embedded one, else the one codesign derives: cdhashes for ad-hoc
 * code, the leaf's hash for self-signed code). The caller's anchor is the
 * Apple root by pinned hash. The fake CA's must fail: its root is not
 * Apple's. */
static void test_corpus_all(void **state)
{
	(void)state;
	static const struct {
		const char *name;
		bool want;
	} files[] = {
		{ "adhoc_frida_exception-catcher-macos-arm64e", true },
		{ "adhoc_iossim_InsecurePasswordStore_ent", true },
		{ "adhoc_iossim_WheresMyBrowser_arm64", true },
		{ "apple_cat-macos_fat", true },
		{ "apple_libswiftCoreFoundation_ios.dylib", true },
		{ "apple_ls-m1_fat", true },
		{ "apple_ls-osx_x86_64_sha1", true },
		{ "apple_ls-sequoia_fat", true },
		{ "apple_mac-ls2_x86_64", true },
		{ "apple_mac-ls3_fat", true },
		{ "apple_mac-ls_x86_64_sha1", true },
		{ "apple_true_fat3_ppc_sha1", true },
		{ "dev_catalyst_modernobjc_fat_runtime", true },
		{ "dev_frida_simple-agent-ios_fat3.dylib", true },
		{ "dev_frida_sleeper-ios_fat3", true },
		{ "dev_frida_sleeper-tvos", true },
		{ "dev_frida_sleeper-watchos", true },
		{ "dev_ios_BatteryLife_arm64", true },
		{ "dev_ios_MASTestApp_arm64", true },
		{ "dev_ios_TestRTTI-arm64e", true },
		{ "dev_macos_TestMacOS-arm64e_runtime_TAMPERED", true },
		{ "dev_macos_TestSwiftObjc_runtime", true },
		{ "devid_frida_forker-macos-arm64e", true },
		{ "devid_libexpat_vmware_fat.dylib", true },
		{ "fakeca_ios_TrollStore_fat", false },
		{ "linker_ClassCpp_arm64", true },
		{ "mixed_frida_sleeper-macos_fat3", true },
		{ "selfsigned_frida_forker-tvos", true },
		{ "selfsigned_ios_FileDP_armv7_sha1", true },
		{ "selfsigned_r2_libr_flag.dylib", true },
	};
	unsigned ran = 0;
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		struct corpus_sig s;
		if (!corpus_load(files[i].name, &s))
			continue;
		if (s.dr == NULL)
			fail_msg("%s: no designated requirement", files[i].name);
		size_t n;
		uint8_t *b = compile(s.dr, &n);
		struct msign_req_outcome o;
		struct msign_diag d;
		msign_diag_clear(&d);
		if (msign_req_eval_outcome(b, n, &s.ctx, &o, &d) != 0)
			fail_msg("%s: %s", files[i].name, d.msg);
		if (o.value != files[i].want || o.unknowable)
			fail_msg("%s: '%s' is %d (unknowable %d), want %d", files[i].name,
				 s.dr, o.value, o.unknowable, files[i].want);
		/* The embedded set says the same through msign_reqset_eval. */
		bool found = false;
		if (!s.dr_implicit) {
			assert_int_equal(msign_reqset_eval(s.reqset, s.reqset_len,
							   MSIGN_REQ_TYPE_DESIGNATED, &s.ctx,
							   &found, &o, &d), 0);
			assert_true(found);
			assert_int_equal(o.value, files[i].want);
		}
		/* Another cdhash and identifier: every one of them fails. */
		s.cdhash[0] ^= 1;
		s.ctx.ident = (const uint8_t *)"not.the.identifier";
		s.ctx.ident_len = strlen("not.the.identifier");
		assert_int_equal(msign_req_eval_outcome(b, n, &s.ctx, &o, &d), 0);
		assert_false(o.value);
		free(b);
		corpus_free(&s);
		ran++;
	}
	print_message("corpus: %u designated requirements evaluated\n", ran);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_constants),
		cmocka_unit_test(test_identifier),
		cmocka_unit_test(test_cdhash),
		cmocka_unit_test(test_platform),
		cmocka_unit_test(test_anchor_apple_generic),
		cmocka_unit_test(test_anchor_apple),
		cmocka_unit_test(test_anchor_hash),
		cmocka_unit_test(test_trusted),
		cmocka_unit_test(test_cert_subject),
		cmocka_unit_test(test_cert_email),
		cmocka_unit_test(test_cert_field_oid),
		cmocka_unit_test(test_cert_policy),
		cmocka_unit_test(test_cert_timestamp),
		cmocka_unit_test(test_info_ops),
		cmocka_unit_test(test_info_inequality),
		cmocka_unit_test(test_info_types),
		cmocka_unit_test(test_info_dates),
		cmocka_unit_test(test_info_legacy_opcode),
		cmocka_unit_test(test_info_binary_and_absent),
		cmocka_unit_test(test_entitlements),
		cmocka_unit_test(test_logic),
		cmocka_unit_test(test_unknowable),
		cmocka_unit_test(test_legacy),
		cmocka_unit_test(test_devid_designated),
		cmocka_unit_test(test_reqset),
		cmocka_unit_test(test_malformed_header),
		cmocka_unit_test(test_malformed_operands),
		cmocka_unit_test(test_generic_opcodes),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_mutations),
		cmocka_unit_test(test_bad_context),
		cmocka_unit_test(test_corpus_devid),
		cmocka_unit_test(test_corpus_apple),
		cmocka_unit_test(test_corpus_all),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
