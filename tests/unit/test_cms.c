/* CMS parsing and the implicit designated requirement.
 *
 * Every signature here is made at run time with OpenSSL itself: throwaway
 * P-256 keys, a root, an intermediate and a leaf, a detached SignedData over
 * a fake CodeDirectory with a fixed signingTime and Apple's cdhashes plist
 * attribute, as DER and as indefinite-length BER. The Apple cases of the
 * designated requirement fill struct msign_cms_info by hand, since no test
 * can hold a certificate whose SHA-256 is Apple's root. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/cms.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <openssl/ts.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "sig/codesign.h"
#include "sig/req.h"
#include "sig/cms.h"
#include "sig/ent.h"
#include "hash/hash.h"
#include "pki.h"

#define T_SIGNING 1620464791   /* 2021-05-08 09:06:31 UTC: a UTCTime */
#define T_STAMP 1714743708     /* 2024-05-03 13:41:48 UTC */
#define T_2051 2556144000      /* 2051-01-01: encoded as GeneralizedTime */

static const uint8_t content[] = "a fake CodeDirectory blob\xfa\xde\x0c\x02";
static const uint8_t cd1[20] = { 0x11, 0x22, 0x33, [19] = 0x44 };
static const uint8_t cd2[20] = { 0xaa, 0xbb, [18] = 0xcc, 0xdd };

struct pki {
	EVP_PKEY *root_key, *ca_key, *leaf_key, *other_key;
	X509 *root, *ca, *leaf, *other;
};

static struct pki pki;

static int setup(void **state)
{
	(void)state;
	pki.root_key = EVP_EC_gen("P-256");
	pki.ca_key = EVP_EC_gen("P-256");
	pki.leaf_key = EVP_EC_gen("P-256");
	pki.other_key = EVP_EC_gen("P-256");
	pki.root = make_cert("Example Root", NULL, "Example Org", pki.root_key,
			     NULL, NULL, true, NULL, false);
	pki.ca = make_cert("Example CA", NULL, "Example Org", pki.ca_key, pki.root,
			   pki.root_key, true, "1.2.840.113635.100.6.2.6", false);
	pki.leaf = make_cert("Example Leaf", "TEAM123", "Example Org", pki.leaf_key,
			     pki.ca, pki.ca_key, false, "1.2.840.113635.100.6.1.13", false);
	pki.other = make_cert("Timestamp Authority", NULL, "Other Org", pki.other_key,
			      NULL, NULL, false, NULL, true);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	X509_free(pki.root); X509_free(pki.ca); X509_free(pki.leaf); X509_free(pki.other);
	EVP_PKEY_free(pki.root_key); EVP_PKEY_free(pki.ca_key);
	EVP_PKEY_free(pki.leaf_key); EVP_PKEY_free(pki.other_key);
	return 0;
}

static int fixed_time(TS_RESP_CTX *ctx, void *data, long *sec, long *usec)
{
	(void)ctx; (void)data;
	*sec = T_STAMP;
	*usec = 0;
	return 1;
}

/* An RFC 3161 token from a throwaway TSA (pki.other) at T_STAMP. */
static void add_timestamp(CMS_SignerInfo *si)
{
	uint8_t hash[32];
	SHA256(content, sizeof(content), hash);
	TS_REQ *req = TS_REQ_new();
	TS_MSG_IMPRINT *mi = TS_MSG_IMPRINT_new();
	X509_ALGOR *alg = X509_ALGOR_new();
	X509_ALGOR_set0(alg, OBJ_nid2obj(NID_sha256), V_ASN1_NULL, NULL);
	TS_MSG_IMPRINT_set_algo(mi, alg); /* copies */
	X509_ALGOR_free(alg);
	TS_MSG_IMPRINT_set_msg(mi, hash, sizeof(hash));
	TS_REQ_set_version(req, 1);
	TS_REQ_set_msg_imprint(req, mi);
	BIO *rb = BIO_new(BIO_s_mem());
	assert_int_equal(i2d_TS_REQ_bio(rb, req), 1);

	TS_RESP_CTX *ctx = TS_RESP_CTX_new();
	ASN1_OBJECT *policy = OBJ_txt2obj("1.2.3.4.1", 1);
	assert_int_equal(TS_RESP_CTX_set_signer_cert(ctx, pki.other), 1);
	assert_int_equal(TS_RESP_CTX_set_signer_key(ctx, pki.other_key), 1);
	TS_RESP_CTX_set_def_policy(ctx, policy);
	TS_RESP_CTX_add_md(ctx, EVP_sha256());
	TS_RESP_CTX_set_signer_digest(ctx, EVP_sha256());
	TS_RESP_CTX_set_time_cb(ctx, fixed_time, NULL);
	TS_RESP *resp = TS_RESP_create_response(ctx, rb);
	assert_non_null(resp);
	PKCS7 *tok = TS_RESP_get_token(resp);
	assert_non_null(tok);
	unsigned char *der = NULL;
	int n = i2d_PKCS7(tok, &der);
	assert_true(n > 0);
	assert_int_equal(CMS_unsigned_add1_attr_by_NID(si, NID_id_smime_aa_timeStampToken,
						       V_ASN1_SEQUENCE, der, n), 1);
	OPENSSL_free(der);
	TS_RESP_free(resp);
	TS_RESP_CTX_free(ctx);
	ASN1_OBJECT_free(policy);
	BIO_free(rb);
	TS_MSG_IMPRINT_free(mi);
	TS_REQ_free(req);
}

struct sign_opts {
	bool ber;        /* indefinite-length streaming encoding */
	bool no_certs;
	bool timestamp;
	time_t when;
	size_t pad;      /* zero bytes appended, as Apple pads the blob */
};

static uint8_t *make_cms(const struct sign_opts *o, size_t *len)
{
	static const char plist[] =
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<plist version=\"1.0\"><dict><key>cdhashes</key><array>"
		"<data>ESIzAAAAAAAAAAAAAAAAAAAAAEQ=</data>"
		"<data>qrsAAAAAAAAAAAAAAAAAAAAAzN0=</data>"
		"</array></dict></plist>\n";
	int flags = CMS_DETACHED | CMS_BINARY | CMS_PARTIAL | (o->ber ? CMS_STREAM : 0);
	BIO *in = BIO_new_mem_buf(content, sizeof(content));
	CMS_ContentInfo *cms = CMS_sign(NULL, NULL, NULL, NULL, flags);
	CMS_SignerInfo *si = CMS_add1_signer(cms, pki.leaf, pki.leaf_key, EVP_sha256(),
					     flags | CMS_NOCERTS);
	assert_non_null(si);
	if (!o->no_certs) { /* carried out of order, with an unrelated one */
		CMS_add1_cert(cms, pki.root);
		CMS_add1_cert(cms, pki.other);
		CMS_add1_cert(cms, pki.leaf);
		CMS_add1_cert(cms, pki.ca);
	}
	ASN1_TIME *t = ASN1_TIME_set(NULL, o->when);
	assert_int_equal(t->type, o->when >= T_2051 ? V_ASN1_GENERALIZEDTIME : V_ASN1_UTCTIME);
	assert_int_equal(CMS_signed_add1_attr_by_NID(si, NID_pkcs9_signingTime, t->type, t, -1), 1);
	ASN1_TIME_free(t);
	ASN1_OBJECT *obj = OBJ_txt2obj("1.2.840.113635.100.9.1", 1);
	assert_int_equal(CMS_signed_add1_attr_by_OBJ(si, obj, V_ASN1_OCTET_STRING,
						     plist, (int)strlen(plist)), 1);
	ASN1_OBJECT_free(obj);

	BIO *out = BIO_new(BIO_s_mem());
	if (o->ber) {
		assert_int_equal(i2d_CMS_bio_stream(out, cms, in, flags), 1);
	} else {
		assert_int_equal(CMS_final(cms, in, NULL, flags), 1);
		if (o->timestamp)
			add_timestamp(si);
		assert_int_equal(i2d_CMS_bio(out, cms), 1);
	}
	char *p;
	long n = BIO_get_mem_data(out, &p);
	uint8_t *buf = calloc(1, (size_t)n + o->pad);
	memcpy(buf, p, (size_t)n);
	*len = (size_t)n + o->pad;
	BIO_free(out);
	BIO_free(in);
	CMS_ContentInfo_free(cms);
	return buf;
}

static void der_hash(X509 *x, const EVP_MD *md, uint8_t *out)
{
	unsigned char *der = NULL;
	int n = i2d_X509(x, &der);
	EVP_Digest(der, (size_t)n, out, NULL, md, NULL);
	OPENSSL_free(der);
}

static void check_cert(const struct msign_cert *c, X509 *x, const char *cn,
		       const char *ou, const char *org, bool self_signed)
{
	uint8_t h1[20], h256[32];
	der_hash(x, EVP_sha1(), h1);
	der_hash(x, EVP_sha256(), h256);
	assert_string_equal(c->cn, cn);
	if (ou) assert_string_equal(c->ou, ou); else assert_null(c->ou);
	assert_string_equal(c->org, org);
	assert_memory_equal(c->sha1, h1, 20);
	assert_memory_equal(c->sha256, h256, 32);
	assert_int_equal(c->self_signed, self_signed);
	assert_false(c->apple_root);
	assert_false(c->apple_wwdr_ca);
}

static void check_common(const struct msign_cms_info *info, time_t when)
{
	uint8_t digest[32];
	SHA256(content, sizeof(content), digest);
	assert_int_equal(info->ncerts, 3);
	assert_int_equal(info->nall_certs, 4);
	check_cert(&info->chain[0], pki.leaf, "Example Leaf", "TEAM123", "Example Org", false);
	check_cert(&info->chain[1], pki.ca, "Example CA", NULL, "Example Org", false);
	check_cert(&info->chain[2], pki.root, "Example Root", NULL, "Example Org", true);
	assert_true(info->chain[0].apple_devid_leaf);
	assert_false(info->chain[0].apple_devid_ca);
	assert_true(info->chain[1].apple_devid_ca);
	assert_false(info->chain[2].apple_devid_leaf);
	assert_true(info->has_signing_time);
	assert_int_equal(info->signing_time, when);
	assert_int_equal(info->digest_nid, NID_sha256);
	assert_int_equal(info->message_digest_len, 32);
	assert_memory_equal(info->message_digest, digest, 32);
	assert_int_equal(info->ncdhashes, 2);
	assert_memory_equal(info->cdhashes[0], cd1, 20);
	assert_memory_equal(info->cdhashes[1], cd2, 20);
}

static void test_parse_der(void **state)
{
	(void)state;
	struct sign_opts o = { .when = T_SIGNING };
	size_t len;
	uint8_t *der = make_cms(&o, &len);
	struct msign_cms_info info;
	struct msign_diag d = { 0 };
	assert_int_not_equal(der[1], 0x80); /* definite length */
	assert_int_equal(msign_cms_parse(der, len, &info, &d), 0);
	check_common(&info, T_SIGNING);
	assert_false(info.has_timestamp);
	msign_cms_info_free(&info);
	free(der);
}

static void test_parse_ber_padded(void **state)
{
	(void)state;
	struct sign_opts o = { .ber = true, .when = T_SIGNING, .pad = 13 };
	size_t len;
	uint8_t *ber = make_cms(&o, &len);
	struct msign_cms_info info;
	assert_int_equal(ber[0], 0x30);
	assert_int_equal(ber[1], 0x80); /* indefinite length, as Apple writes */
	assert_int_equal(msign_cms_parse(ber, len, &info, NULL), 0);
	check_common(&info, T_SIGNING);
	msign_cms_info_free(&info);
	free(ber);
}

static void test_generalized_time(void **state)
{
	(void)state;
	struct sign_opts o = { .when = T_2051 };
	size_t len;
	uint8_t *der = make_cms(&o, &len);
	struct msign_cms_info info;
	assert_int_equal(msign_cms_parse(der, len, &info, NULL), 0);
	check_common(&info, T_2051);
	msign_cms_info_free(&info);
	free(der);
}

static void test_timestamp(void **state)
{
	(void)state;
	struct sign_opts o = { .when = T_SIGNING, .timestamp = true };
	size_t len;
	uint8_t *der = make_cms(&o, &len);
	struct msign_cms_info info;
	struct msign_diag d = { 0 };
	assert_int_equal(msign_cms_parse(der, len, &info, &d), 0);
	check_common(&info, T_SIGNING);
	assert_true(info.has_timestamp);
	assert_int_equal(info.timestamp_time, T_STAMP);
	msign_cms_info_free(&info);
	free(der);
}

static void hex(char *out, const uint8_t *h)
{
	for (int i = 0; i < 20; i++)
		sprintf(out + 2 * i, "%02x", h[i]);
}

/* All three certificates carry "Example Org": Apple pins the root. */
static void test_designated_from_parse(void **state)
{
	(void)state;
	struct sign_opts o = { .when = T_SIGNING };
	size_t len;
	uint8_t *der = make_cms(&o, &len);
	struct msign_cms_info info;
	char *dr = NULL, want[200], h[41];
	assert_int_equal(msign_cms_parse(der, len, &info, NULL), 0);
	assert_int_equal(msign_cms_designated(&info, "com.example.app", &dr, NULL), 0);
	hex(h, info.chain[2].sha1);
	snprintf(want, sizeof(want),
		 "identifier \"com.example.app\" and certificate root = H\"%s\"", h);
	assert_string_equal(dr, want);
	free(dr);
	msign_cms_info_free(&info);
	free(der);
}

static void test_no_certs(void **state)
{
	(void)state;
	struct sign_opts o = { .when = T_SIGNING, .no_certs = true };
	size_t len;
	uint8_t *der = make_cms(&o, &len);
	struct msign_cms_info info;
	struct msign_diag d = { 0 };
	char *dr = NULL;
	assert_int_equal(msign_cms_parse(der, len, &info, NULL), 0);
	assert_int_equal(info.ncerts, 0);
	assert_int_equal(info.nall_certs, 0);
	assert_int_equal(msign_cms_designated(&info, "x", &dr, &d), MSIGN_E_NOT_FOUND);
	assert_null(dr);
	msign_cms_info_free(&info);
	free(der);
}

static void expect_err(const uint8_t *p, size_t len, int code)
{
	struct msign_cms_info info;
	struct msign_diag d = { 0 };
	assert_int_equal(msign_cms_parse(p, len, &info, &d), code);
	assert_int_equal(d.code, code);
	assert_true(d.msg[0] != '\0');
	assert_int_equal(info.ncerts, 0);
	msign_cms_info_free(&info);
}

static void test_garbage(void **state)
{
	(void)state;
	static const uint8_t junk[] = "this is not a CMS signature at all";
	static const uint8_t zeros[64];
	uint8_t *big = calloc(1, (1u << 20) + 1);
	expect_err(junk, 0, MSIGN_E_CRYPTO);
	expect_err(junk, sizeof(junk), MSIGN_E_CRYPTO);
	expect_err(zeros, sizeof(zeros), MSIGN_E_CRYPTO);
	expect_err(big, (1u << 20) + 1, MSIGN_E_LIMIT);
	free(big);

	/* A ContentInfo that is not SignedData. */
	BIO *in = BIO_new_mem_buf(content, sizeof(content));
	CMS_ContentInfo *data = CMS_data_create(in, CMS_BINARY);
	unsigned char *der = NULL;
	int n = i2d_CMS_ContentInfo(data, &der);
	expect_err(der, (size_t)n, MSIGN_E_CRYPTO);
	OPENSSL_free(der);
	CMS_ContentInfo_free(data);
	BIO_free(in);
}

/* Every prefix of a good signature, and the good one followed by a
 * non-zero byte, is an error; flipping any byte never crashes. */
static void test_truncated_and_flipped(void **state)
{
	(void)state;
	struct sign_opts o = { .when = T_SIGNING, .timestamp = true, .pad = 1 };
	size_t len;
	uint8_t *der = make_cms(&o, &len);
	struct msign_cms_info info;
	for (size_t n = 0; n + 1 < len; n++)
		expect_err(der, n, MSIGN_E_CRYPTO);
	der[len - 1] = 0x01;
	expect_err(der, len, MSIGN_E_CRYPTO);
	der[len - 1] = 0x00;
	/* every third byte: make check's time (ASan); make fuzz goes further */
	for (size_t i = 0; i < len; i += 3) {
		der[i] ^= 0x41;
		int r = msign_cms_parse(der, len, &info, NULL);
		assert_true(r == 0 || r == MSIGN_E_CRYPTO || r == MSIGN_E_LIMIT);
		msign_cms_info_free(&info);
		der[i] ^= 0x41;
	}
	free(der);
}

/* ---- designated requirement from hand-filled chains ------------------- */

static struct msign_cms_info apple_chain(uint32_t n)
{
	struct msign_cms_info info;
	memset(&info, 0, sizeof(info));
	info.ncerts = n;
	info.chain[n - 1].apple_root = true;
	info.chain[n - 1].self_signed = true;
	return info;
}

static void expect_dr(const struct msign_cms_info *info, const char *ident,
		      const char *want)
{
	char *dr = NULL;
	assert_int_equal(msign_cms_designated(info, ident, &dr, NULL), 0);
	assert_string_equal(dr, want);
	free(dr);
}

static void test_dr_developer_id(void **state)
{
	(void)state;
	struct msign_cms_info info = apple_chain(3);
	char ou[] = "432ZXYXDNY";
	info.chain[0].ou = ou;
	info.chain[0].apple_devid_leaf = true;
	info.chain[1].apple_devid_ca = true;
	expect_dr(&info, "org.example",
		  "identifier \"org.example\" and anchor apple generic and "
		  "certificate 1[field.1.2.840.113635.100.6.2.6] /* exists */ and "
		  "certificate leaf[field.1.2.840.113635.100.6.1.13] /* exists */ and "
		  "certificate leaf[subject.OU] = \"432ZXYXDNY\"");
	char bare[] = "EQHXZ8M8AV";
	info.chain[0].ou = bare;
	expect_dr(&info, "com.google.Chrome",
		  "identifier \"com.google.Chrome\" and anchor apple generic and "
		  "certificate 1[field.1.2.840.113635.100.6.2.6] /* exists */ and "
		  "certificate leaf[field.1.2.840.113635.100.6.1.13] /* exists */ and "
		  "certificate leaf[subject.OU] = EQHXZ8M8AV");
	/* DRMaker asks for exactly leaf, intermediate, anchor. */
	struct msign_cms_info four = apple_chain(4);
	four.chain[1].apple_devid_ca = true;
	expect_dr(&four, "org.example", "identifier \"org.example\" and anchor apple");
}

static void test_dr_wwdr(void **state)
{
	(void)state;
	struct msign_cms_info info = apple_chain(3);
	char cn[] = "Apple Development: Jane Doe (AB12CD34EF)";
	info.chain[0].cn = cn;
	info.chain[1].apple_wwdr_ca = true;
	info.chain[1].apple_devid_ca = true; /* the WWDR marker is checked first */
	expect_dr(&info, "com.example.ios",
		  "identifier \"com.example.ios\" and anchor apple generic and "
		  "certificate leaf[subject.CN] = \"Apple Development: Jane Doe (AB12CD34EF)\" "
		  "and certificate 1[field.1.2.840.113635.100.6.2.1] /* exists */");
	char odd[] = "say \"hi\" \\ bye";
	info.chain[0].cn = odd;
	expect_dr(&info, "a.b",
		  "identifier \"a.b\" and anchor apple generic and "
		  "certificate leaf[subject.CN] = \"say \\\"hi\\\" \\\\ bye\" "
		  "and certificate 1[field.1.2.840.113635.100.6.2.1] /* exists */");
	char plain[] = "Simple";
	info.chain[0].cn = plain;
	expect_dr(&info, "a.b",
		  "identifier \"a.b\" and anchor apple generic and "
		  "certificate leaf[subject.CN] = Simple "
		  "and certificate 1[field.1.2.840.113635.100.6.2.1] /* exists */");
}

static void test_dr_apple(void **state)
{
	(void)state;
	struct msign_cms_info info = apple_chain(3);
	expect_dr(&info, "com.apple.ls", "identifier \"com.apple.ls\" and anchor apple");
	/* Apple's Dumper quotes only what needs it; "forker" needs nothing,
	 * a keyword or a leading digit needs quotes, non-ASCII prints as hex. */
	expect_dr(&info, "forker", "identifier forker and anchor apple");
	expect_dr(&info, "root", "identifier \"root\" and anchor apple");
	expect_dr(&info, "1abc", "identifier \"1abc\" and anchor apple");
	expect_dr(&info, "", "identifier \"\" and anchor apple");
	expect_dr(&info, "caf\xc3\xa9", "identifier 0x636166c3a9 and anchor apple");
	expect_dr(&info, "q\"b\\", "identifier \"q\\\"b\\\\\" and anchor apple");
}

static struct msign_cms_info org_chain(const char *o0, const char *o1, const char *o2)
{
	static char orgs[3][32];
	const char *src[3] = { o0, o1, o2 };
	struct msign_cms_info info;
	memset(&info, 0, sizeof(info));
	info.ncerts = 3;
	for (int i = 0; i < 3; i++) {
		memset(info.chain[i].sha1, 0x10 * (i + 1), 20);
		if (src[i]) {
			snprintf(orgs[i], sizeof(orgs[i]), "%s", src[i]);
			info.chain[i].org = orgs[i];
		}
	}
	info.chain[2].self_signed = true;
	return info;
}

static void test_dr_non_apple(void **state)
{
	(void)state;
	struct msign_cms_info info = org_chain("Acme", "Acme", "Root Inc");
	expect_dr(&info, "com.acme.tool",
		  "identifier \"com.acme.tool\" and certificate 1 = "
		  "H\"2020202020202020202020202020202020202020\"");
	info = org_chain("Acme", "Acme", "Acme");
	expect_dr(&info, "com.acme.tool",
		  "identifier \"com.acme.tool\" and certificate root = "
		  "H\"3030303030303030303030303030303030303030\"");
	info = org_chain("Acme", "Other", "Acme");
	expect_dr(&info, "com.acme.tool",
		  "identifier \"com.acme.tool\" and certificate leaf = "
		  "H\"1010101010101010101010101010101010101010\"");
	info = org_chain(NULL, NULL, NULL);
	expect_dr(&info, "com.acme.tool",
		  "identifier \"com.acme.tool\" and certificate leaf = "
		  "H\"1010101010101010101010101010101010101010\"");
	/* A lone self-signed certificate: with an Organization it is the
	 * anchor, without one it stays the leaf. */
	info = org_chain("Solo", NULL, NULL);
	info.ncerts = 1;
	expect_dr(&info, "solo.app",
		  "identifier \"solo.app\" and certificate root = "
		  "H\"1010101010101010101010101010101010101010\"");
	info.chain[0].org = NULL;
	expect_dr(&info, "solo.app",
		  "identifier \"solo.app\" and certificate leaf = "
		  "H\"1010101010101010101010101010101010101010\"");
}

/* The chain a signer holds (X509s, leaf first) gives the text the
 * parsed CMS gives: here every certificate is "Example Org", so the
 * root is pinned by its SHA-1 (computed by OpenSSL, not by msign). */
static void test_dr_from_chain(void **state)
{
	(void)state;
	X509 *chain[3] = { pki.leaf, pki.ca, pki.root };
	uint8_t sha1[20];
	der_hash(pki.root, EVP_sha1(), sha1);
	char h[41], want[128];
	hex(h, sha1);
	snprintf(want, sizeof(want), "identifier \"org.example\" and certificate root = H\"%s\"", h);
	char *dr = NULL;
	assert_int_equal(msign_cms_chain_designated(chain, 3, "org.example", &dr, NULL), 0);
	assert_string_equal(dr, want);
	free(dr);
	/* the leaf alone: its Organization makes it the anchor of a chain of one */
	der_hash(pki.leaf, EVP_sha1(), sha1);
	hex(h, sha1);
	snprintf(want, sizeof(want), "identifier \"org.example\" and certificate root = H\"%s\"", h);
	assert_int_equal(msign_cms_chain_designated(chain, 1, "org.example", &dr, NULL), 0);
	assert_string_equal(dr, want);
	free(dr);
	assert_int_equal(msign_cms_chain_designated(chain, 0, "x", &dr, NULL), MSIGN_E_ARG);
	assert_int_equal(msign_cms_chain_designated(NULL, 1, "x", &dr, NULL), MSIGN_E_ARG);
}

static void test_args(void **state)
{
	(void)state;
	struct msign_cms_info info;
	char *dr = (char *)1;
	assert_int_equal(msign_cms_parse(NULL, 5, &info, NULL), MSIGN_E_ARG);
	assert_int_equal(msign_cms_parse(content, 5, NULL, NULL), MSIGN_E_ARG);
	assert_int_equal(msign_cms_designated(NULL, "x", &dr, NULL), MSIGN_E_ARG);
	msign_cms_info_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_der),
		cmocka_unit_test(test_parse_ber_padded),
		cmocka_unit_test(test_generalized_time),
		cmocka_unit_test(test_timestamp),
		cmocka_unit_test(test_designated_from_parse),
		cmocka_unit_test(test_no_certs),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_truncated_and_flipped),
		cmocka_unit_test(test_dr_developer_id),
		cmocka_unit_test(test_dr_wwdr),
		cmocka_unit_test(test_dr_apple),
		cmocka_unit_test(test_dr_non_apple),
		cmocka_unit_test(test_dr_from_chain),
		cmocka_unit_test(test_args),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
