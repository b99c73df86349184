/* The CMS signature blob (payload of the 0x10000 BlobWrapper) and the
 * implicit designated requirement derived from its certificate chain.
 *
 * All ASN.1 goes through OpenSSL: the payload is a ContentInfo SignedData
 * that Apple writes as BER with indefinite lengths, which OpenSSL's d2i
 * accepts. Apple also pads the blob with zero bytes after the structure.
 * Nothing here verifies the signature: show only reports what it carries. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/asn1.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pkcs7.h>
#include <openssl/ts.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <plist/plist.h>

#include "base/cur.h"
#include "base/plist_guard.h"
#include "sig/codesign.h"
#include "sig/req.h"
#include "sig/cms.h"
#include "sig/ent.h"
#include "hash/hash.h"
#include "sig/reqlang.h"

/* Real payloads are 4-9 KiB; anything this large is not a code signature. */
#define CMS_MAX_LEN (1u << 20)

#define OID_DEVID_LEAF "1.2.840.113635.100.6.1.13"
#define OID_DEVID_CA "1.2.840.113635.100.6.2.6"
#define OID_WWDR_CA "1.2.840.113635.100.6.2.1"
#define OID_CDHASHES_PLIST "1.2.840.113635.100.9.1"
#define OID_CDHASHES2 "1.2.840.113635.100.9.2"

/* SHA-256 of the DER of Apple's roots: the only anchors msign trusts on
 * its own (trust.c). Apple Root CA: recomputed from the root carried in
 * every Apple-signed corpus file (openssl x509 -fingerprint -sha256:
 * B0:B1:73:0E:...:F0:24). G2 and G3 are carried by no corpus file: these
 * are the SHA-256 fingerprints Apple publishes for AppleRootCA-G2.cer and
 * AppleRootCA-G3.cer at https://www.apple.com/certificateauthority/, the
 * same values independent projects that pin those downloaded files record
 * (C2:B9:B0:42:...:A0:50 and 63:34:3A:BF:...:91:79). */
static const uint8_t apple_roots[][32] = {
	{ /* Apple Root CA */
	  0xb0, 0xb1, 0x73, 0x0e, 0xcb, 0xc7, 0xff, 0x45, 0x05, 0x14, 0x2c,
	  0x49, 0xf1, 0x29, 0x5e, 0x6e, 0xda, 0x6b, 0xca, 0xed, 0x7e, 0x2c,
	  0x68, 0xc5, 0xbe, 0x91, 0xb5, 0xa1, 0x10, 0x01, 0xf0, 0x24 },
	{ /* Apple Root CA - G2 */
	  0xc2, 0xb9, 0xb0, 0x42, 0xdd, 0x57, 0x83, 0x0e, 0x7d, 0x11, 0x7d,
	  0xac, 0x55, 0xac, 0x8a, 0xe1, 0x94, 0x07, 0xd3, 0x8e, 0x41, 0xd8,
	  0x8f, 0x32, 0x15, 0xbc, 0x3a, 0x89, 0x04, 0x44, 0xa0, 0x50 },
	{ /* Apple Root CA - G3 */
	  0x63, 0x34, 0x3a, 0xbf, 0xb8, 0x9a, 0x6a, 0x03, 0xeb, 0xb5, 0x7e,
	  0x9b, 0x3f, 0x5f, 0xa7, 0xbe, 0x7c, 0x4f, 0x5c, 0x75, 0x6f, 0x30,
	  0x17, 0xb3, 0xa8, 0xc4, 0x88, 0xc3, 0x65, 0x3e, 0x91, 0x79 },
};

bool msign_cms_is_apple_root(const uint8_t sha256[32])
{
	for (size_t i = 0; i < sizeof(apple_roots) / sizeof(apple_roots[0]); i++)
		if (memcmp(sha256, apple_roots[i], 32) == 0)
			return true;
	return false;
}

/* The reason of OpenSSL's most recent error, and an empty queue after:
 * later callers must not see our leftovers. */
static const char *cms_ossl_reason(void)
{
	unsigned long e = ERR_peek_last_error();
	const char *r = e ? ERR_reason_error_string(e) : NULL;
	ERR_clear_error();
	return r ? r : "no reason given";
}

bool msign_x509_has_ext(X509 *x, const char *oid)
{
	ASN1_OBJECT *obj = OBJ_txt2obj(oid, 1);
	bool has = obj != NULL && X509_get_ext_by_OBJ(x, obj, -1) >= 0;
	ASN1_OBJECT_free(obj);
	ERR_clear_error();
	return has;
}

/* First subject attribute `nid` as a malloc'd UTF-8 string (NULL if none). */
int msign_x509_subject_field(X509 *x, int nid, char **out, size_t *len)
{
	X509_NAME *name = X509_get_subject_name(x);
	int i = X509_NAME_get_index_by_NID(name, nid, -1);
	*out = NULL;
	if (len != NULL)
		*len = 0;
	if (i < 0)
		return 0;
	size_t n = 0;
	int r = msign_asn1_utf8(X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i)),
				out, &n);
	if (r == 0 && len != NULL)
		*len = n;
	return r;
}

int msign_asn1_utf8(const ASN1_STRING *s, char **out, size_t *n)
{
	unsigned char *utf8 = NULL;
	int len = ASN1_STRING_to_UTF8(&utf8, s);
	*out = NULL;
	if (len < 0) {
		ERR_clear_error();
		return MSIGN_E_CRYPTO;
	}
	*out = malloc((size_t)len + 1);
	if (*out != NULL) {
		memcpy(*out, utf8, (size_t)len);
		(*out)[len] = '\0';
		*n = (size_t)len;
	}
	OPENSSL_free(utf8);
	return *out != NULL ? 0 : MSIGN_E_NOMEM;
}

/* Shown by show: a NUL inside the field ends it. */
static int cms_name_entry(X509 *x, int nid, char **out)
{
	return msign_x509_subject_field(x, nid, out, NULL);
}

static int cms_fill_cert(X509 *x, struct msign_cert *c, struct msign_diag *d)
{
	unsigned int n1 = 0, n256 = 0;
	if (cms_name_entry(x, NID_commonName, &c->cn) < 0 ||
	    cms_name_entry(x, NID_organizationalUnitName, &c->ou) < 0 ||
	    cms_name_entry(x, NID_organizationName, &c->org) < 0)
		return msign_diag_set(d, MSIGN_E_CRYPTO, 0,
				      "certificate subject is not convertible to UTF-8");
	if (!X509_digest(x, EVP_sha1(), c->sha1, &n1) ||
	    !X509_digest(x, EVP_sha256(), c->sha256, &n256) || n1 != 20 ||
	    n256 != 32)
		return msign_diag_set(d, MSIGN_E_CRYPTO, 0,
				      "cannot hash certificate: %s", cms_ossl_reason());
	int n = i2d_X509(x, NULL);
	if (n <= 0 || (c->der = malloc((size_t)n)) == NULL)
		return msign_diag_set(d, n <= 0 ? MSIGN_E_CRYPTO : MSIGN_E_NOMEM, 0,
				      "cannot encode a certificate");
	unsigned char *w = c->der;
	c->der_len = (size_t)i2d_X509(x, &w);
	c->self_signed = X509_self_signed(x, 0) == 1;
	c->apple_devid_leaf = msign_x509_has_ext(x, OID_DEVID_LEAF);
	c->apple_devid_ca = msign_x509_has_ext(x, OID_DEVID_CA);
	c->apple_wwdr_ca = msign_x509_has_ext(x, OID_WWDR_CA);
	c->apple_root = msign_cms_is_apple_root(c->sha256);
	ERR_clear_error();
	return 0;
}

/* The carried certificate that issued `cur`, skipping those already in the
 * chain (a loop). Prefer OpenSSL's issuer check (name plus key identifiers);
 * fall back to a plain name match for issuers it rejects on key usage. */
static X509 *cms_find_issuer(STACK_OF(X509) *certs, X509 *cur,
			     X509 *const *chain, uint32_t n)
{
	X509 *by_name = NULL;
	for (int i = 0; i < sk_X509_num(certs); i++) {
		X509 *cand = sk_X509_value(certs, i);
		bool seen = false;
		for (uint32_t k = 0; k < n; k++)
			seen = seen || X509_cmp(chain[k], cand) == 0;
		if (seen)
			continue;
		if (X509_check_issued(cand, cur) == X509_V_OK)
			return cand;
		if (by_name == NULL &&
		    X509_NAME_cmp(X509_get_subject_name(cand),
				  X509_get_issuer_name(cur)) == 0)
			by_name = cand;
	}
	return by_name;
}

static int cms_fill_chain(CMS_ContentInfo *cms, CMS_SignerInfo *si,
			  struct msign_cms_info *info, struct msign_diag *d)
{
	STACK_OF(X509) *certs = CMS_get1_certs(cms);
	X509 *chain[MSIGN_CMS_MAX_CERTS];
	X509 *cur = NULL;
	int r = 0;

	info->nall_certs = certs ? (uint32_t)sk_X509_num(certs) : 0;
	for (int i = 0; i < sk_X509_num(certs) && cur == NULL; i++)
		if (CMS_SignerInfo_cert_cmp(si, sk_X509_value(certs, i)) == 0)
			cur = sk_X509_value(certs, i);
	/* No signer certificate carried: show prints no Authority lines. */
	while (cur != NULL && info->ncerts < MSIGN_CMS_MAX_CERTS) {
		chain[info->ncerts] = cur;
		r = cms_fill_cert(cur, &info->chain[info->ncerts], d);
		info->ncerts++;
		if (r < 0 || info->chain[info->ncerts - 1].self_signed)
			break;
		cur = cms_find_issuer(certs, cur, chain, info->ncerts);
	}
	sk_X509_pop_free(certs, X509_free);
	ERR_clear_error();
	return r;
}

/* The first value of a signed (or unsigned) attribute. 0 with *v NULL when
 * the attribute is absent; an error when present but without a value. */
static int cms_attr(CMS_SignerInfo *si, bool is_signed, const ASN1_OBJECT *obj,
		    const char *what, ASN1_TYPE **v, struct msign_diag *d)
{
	int i = is_signed ? CMS_signed_get_attr_by_OBJ(si, obj, -1)
			  : CMS_unsigned_get_attr_by_OBJ(si, obj, -1);
	*v = NULL;
	if (i < 0)
		return 0;
	X509_ATTRIBUTE *a = is_signed ? CMS_signed_get_attr(si, i)
				      : CMS_unsigned_get_attr(si, i);
	*v = a ? X509_ATTRIBUTE_get0_type(a, 0) : NULL;
	if (*v == NULL)
		return msign_diag_set(d, MSIGN_E_CRYPTO, 0,
				      "%s attribute has no value", what);
	return 0;
}

static int cms_time(const ASN1_TIME *t, const char *what, time_t *out,
		    struct msign_diag *d)
{
	struct tm tm;
	memset(&tm, 0, sizeof(tm));
	if (!ASN1_TIME_to_tm(t, &tm)) {
		ERR_clear_error();
		return msign_diag_set(d, MSIGN_E_CRYPTO, 0,
				      "%s is not a valid UTCTime/GeneralizedTime", what);
	}
	*out = timegm(&tm);
	return 0;
}

static int cms_signing_time(CMS_SignerInfo *si, struct msign_cms_info *info,
			    struct msign_diag *d)
{
	ASN1_TYPE *v;
	int r = cms_attr(si, true, OBJ_nid2obj(NID_pkcs9_signingTime),
			 "signingTime", &v, d);
	if (r < 0 || v == NULL)
		return r;
	if (v->type != V_ASN1_UTCTIME && v->type != V_ASN1_GENERALIZEDTIME)
		return msign_diag_set(d, MSIGN_E_CRYPTO, 0,
				      "signingTime has ASN.1 type %d, not a time", v->type);
	r = cms_time(v->value.utctime, "signingTime", &info->signing_time, d);
	info->has_signing_time = r == 0;
	return r;
}

/* RFC 3161: the token is a ContentInfo SignedData whose content is TSTInfo. */
static int cms_timestamp(CMS_SignerInfo *si, struct msign_cms_info *info,
			 struct msign_diag *d)
{
	ASN1_TYPE *v;
	int r = cms_attr(si, false, OBJ_nid2obj(NID_id_smime_aa_timeStampToken),
			 "timeStampToken", &v, d);
	if (r < 0 || v == NULL)
		return r;
	if (v->type != V_ASN1_SEQUENCE)
		return msign_diag_set(d, MSIGN_E_CRYPTO, 0,
				      "timeStampToken has ASN.1 type %d, not a SEQUENCE",
				      v->type);
	const unsigned char *p = v->value.sequence->data;
	PKCS7 *p7 = d2i_PKCS7(NULL, &p, v->value.sequence->length);
	TS_TST_INFO *tst = p7 ? PKCS7_to_TS_TST_INFO(p7) : NULL;
	const ASN1_GENERALIZEDTIME *gt = tst ? TS_TST_INFO_get_time(tst) : NULL;
	if (gt == NULL)
		r = msign_diag_set(d, MSIGN_E_CRYPTO, 0,
				   "timeStampToken of %d bytes is unreadable: %s",
				   v->value.sequence->length, cms_ossl_reason());
	else
		r = cms_time(gt, "timestamp genTime", &info->timestamp_time, d);
	info->has_timestamp = r == 0;
	TS_TST_INFO_free(tst);
	PKCS7_free(p7);
	ERR_clear_error();
	return r;
}

static int cms_digest(CMS_SignerInfo *si, struct msign_cms_info *info,
		      struct msign_diag *d)
{
	X509_ALGOR *dig = NULL;
	const ASN1_OBJECT *alg = NULL;
	ASN1_TYPE *v;

	CMS_SignerInfo_get0_algs(si, NULL, NULL, &dig, NULL);
	if (dig != NULL)
		X509_ALGOR_get0(&alg, NULL, NULL, dig);
	info->digest_nid = alg ? OBJ_obj2nid(alg) : NID_undef;
	int r = cms_attr(si, true, OBJ_nid2obj(NID_pkcs9_messageDigest),
			 "messageDigest", &v, d);
	if (r < 0 || v == NULL)
		return r;
	if (v->type != V_ASN1_OCTET_STRING)
		return msign_diag_set(d, MSIGN_E_CRYPTO, 0,
				      "messageDigest has ASN.1 type %d, not an OCTET STRING",
				      v->type);
	int n = ASN1_STRING_length(v->value.octet_string);
	if (n < 0 || n > MSIGN_MAX_HASH_LEN)
		return msign_diag_set(d, MSIGN_E_LIMIT, 0,
				      "messageDigest of %d bytes exceeds %d", n,
				      MSIGN_MAX_HASH_LEN);
	memcpy(info->message_digest, ASN1_STRING_get0_data(v->value.octet_string),
	       (size_t)n);
	info->message_digest_len = (uint32_t)n;
	return 0;
}

/* Apple's attribute: an XML plist {cdhashes: [<data>...]}, one truncated
 * CDHash per CodeDirectory. */
static int cms_cdhash_plist(const ASN1_OCTET_STRING *os,
			    struct msign_cms_info *info, struct msign_diag *d)
{
	plist_t root = NULL;
	int r = 0;
	int n = ASN1_STRING_length(os);
	/* {cdhashes: [<data>...]}: 2 levels; the guard's reason is kept in
	 * the message, under this function's error code */
	static const struct msign_plist_limits lim = {
		.what = "cdhashes attribute", .max_depth = 4, .max_size = 1u << 20,
		.bytes_per_node = 0, .nul = MSIGN_PLIST_NUL_IN_VALUES,
	};
	struct msign_diag g = { 0 };
	if (n > 0 && msign_plist_guard(ASN1_STRING_get0_data(os), (size_t)n, &lim, &g) < 0)
		return msign_diag_set(d, MSIGN_E_CRYPTO, 0,
				      "cdhashes attribute (%d bytes) refused: %s", n, g.msg);
	plist_from_memory((const char *)ASN1_STRING_get0_data(os), (uint32_t)n, &root);
	plist_t arr = root && plist_get_node_type(root) == PLIST_DICT
			      ? plist_dict_get_item(root, "cdhashes") : NULL;
	if (arr == NULL || plist_get_node_type(arr) != PLIST_ARRAY) {
		r = msign_diag_set(d, MSIGN_E_CRYPTO, 0,
				   "cdhashes attribute (%d bytes) is not a plist dict with a cdhashes array",
				   n);
		goto out;
	}
	uint32_t count = plist_array_get_size(arr);
	if (count > MSIGN_MAX_CDS) {
		r = msign_diag_set(d, MSIGN_E_LIMIT, 0,
				   "cdhashes attribute lists %u hashes, more than %d",
				   count, MSIGN_MAX_CDS);
		goto out;
	}
	for (uint32_t i = 0; i < count; i++) {
		plist_t item = plist_array_get_item(arr, i);
		uint64_t len = 0;
		const char *p = plist_get_node_type(item) == PLIST_DATA
					? plist_get_data_ptr(item, &len) : NULL;
		if (p == NULL || len < MSIGN_CDHASH_LEN) {
			r = msign_diag_set(d, MSIGN_E_CRYPTO, 0,
					   "cdhashes entry %u is not data of at least %u bytes",
					   i, MSIGN_CDHASH_LEN);
			goto out;
		}
		memcpy(info->cdhashes[i], p, MSIGN_CDHASH_LEN);
	}
	info->ncdhashes = count;
out:
	plist_free(root);
	return r;
}

static int cms_cdhashes(CMS_SignerInfo *si, struct msign_cms_info *info,
			struct msign_diag *d)
{
	ASN1_OBJECT *obj = OBJ_txt2obj(OID_CDHASHES_PLIST, 1);
	ASN1_TYPE *v;
	if (obj == NULL)
		return msign_diag_set(d, MSIGN_E_NOMEM, 0, "cannot build OID");
	int r = cms_attr(si, true, obj, "cdhashes", &v, d);
	ASN1_OBJECT_free(obj);
	if (r < 0 || v == NULL)
		return r;
	if (v->type != V_ASN1_OCTET_STRING)
		return msign_diag_set(d, MSIGN_E_CRYPTO, 0,
				      "cdhashes attribute has ASN.1 type %d, not an OCTET STRING",
				      v->type);
	return cms_cdhash_plist(v->value.octet_string, info, d);
}

/* CDHashes2: every value of the attribute is a SEQUENCE { digest OID,
 * OCTET STRING CDHash }, one per CodeDirectory. */
static int cms_cdhash2_value(const ASN1_TYPE *v, uint32_t i,
			     struct msign_cms_info *info, struct msign_diag *d)
{
	if (v == NULL || v->type != V_ASN1_SEQUENCE)
		return msign_diag_set(d, MSIGN_E_CRYPTO, 0,
				      "CDHashes2 value %u is not a SEQUENCE", i);
	const unsigned char *p = v->value.sequence->data;
	long n = v->value.sequence->length;
	ASN1_SEQUENCE_ANY *seq = d2i_ASN1_SEQUENCE_ANY(NULL, &p, n);
	const ASN1_TYPE *oid = seq && sk_ASN1_TYPE_num(seq) == 2 ? sk_ASN1_TYPE_value(seq, 0) : NULL;
	const ASN1_TYPE *h = oid ? sk_ASN1_TYPE_value(seq, 1) : NULL;
	int r = 0;
	if (h == NULL || oid->type != V_ASN1_OBJECT || h->type != V_ASN1_OCTET_STRING ||
	    ASN1_STRING_length(h->value.octet_string) <= 0 ||
	    ASN1_STRING_length(h->value.octet_string) > MSIGN_MAX_HASH_LEN) {
		r = msign_diag_set(d, MSIGN_E_CRYPTO, 0,
				   "CDHashes2 value %u is not a digest OID and a hash of at most %d bytes",
				   i, MSIGN_MAX_HASH_LEN);
	} else {
		info->cdhashes2[i].nid = OBJ_obj2nid(oid->value.object);
		info->cdhashes2[i].len = (uint32_t)ASN1_STRING_length(h->value.octet_string);
		memcpy(info->cdhashes2[i].hash, ASN1_STRING_get0_data(h->value.octet_string),
		       info->cdhashes2[i].len);
	}
	sk_ASN1_TYPE_pop_free(seq, ASN1_TYPE_free);
	ERR_clear_error();
	return r;
}

static int cms_cdhashes2(CMS_SignerInfo *si, struct msign_cms_info *info,
			 struct msign_diag *d)
{
	ASN1_OBJECT *obj = OBJ_txt2obj(OID_CDHASHES2, 1);
	if (obj == NULL)
		return msign_diag_set(d, MSIGN_E_NOMEM, 0, "cannot build OID");
	int i = CMS_signed_get_attr_by_OBJ(si, obj, -1);
	ASN1_OBJECT_free(obj);
	if (i < 0)
		return 0;
	X509_ATTRIBUTE *a = CMS_signed_get_attr(si, i);
	int count = a ? X509_ATTRIBUTE_count(a) : 0;
	if (count < 0 || count > MSIGN_MAX_CDS)
		return msign_diag_set(d, MSIGN_E_LIMIT, 0,
				      "CDHashes2 attribute lists %d hashes, more than %d",
				      count, MSIGN_MAX_CDS);
	for (int k = 0; k < count; k++) {
		int r = cms_cdhash2_value(X509_ATTRIBUTE_get0_type(a, k), (uint32_t)k, info, d);
		if (r < 0)
			return r;
	}
	info->has_cdhashes2 = true;
	info->ncdhashes2 = (uint32_t)count;
	return 0;
}

/* Decode the ContentInfo and check that only zero padding follows it. */
static int cms_decode(const uint8_t *der, size_t len, CMS_ContentInfo **out,
		      struct msign_diag *d)
{
	const unsigned char *p = der;
	CMS_ContentInfo *cms = d2i_CMS_ContentInfo(NULL, &p, (long)len);
	if (cms == NULL)
		return msign_diag_set(d, MSIGN_E_CRYPTO, 0,
				      "CMS payload of %zu bytes is not a ContentInfo: %s",
				      len, cms_ossl_reason());
	struct msign_cur c = msign_cur_make(der, len);
	size_t used = (size_t)(p - der);
	const uint8_t *pad = NULL;
	size_t pad_len = len - used;
	if (msign_cur_seek(&c, used) < 0 ||
	    msign_cur_get_bytes(&c, pad_len, &pad) < 0) {
		CMS_ContentInfo_free(cms);
		return msign_diag_set(d, MSIGN_E_CRYPTO, 0,
				      "CMS decoder consumed %zu of %zu bytes", used, len);
	}
	for (size_t i = 0; i < pad_len; i++)
		if (pad[i] != 0) {
			CMS_ContentInfo_free(cms);
			return msign_diag_set(d, MSIGN_E_CRYPTO, used + i,
					      "non-zero byte 0x%02x after the %zu-byte CMS structure",
					      pad[i], used);
		}
	int type = OBJ_obj2nid(CMS_get0_type(cms));
	if (type != NID_pkcs7_signed) {
		CMS_ContentInfo_free(cms);
		return msign_diag_set(d, MSIGN_E_CRYPTO, 0,
				      "CMS content type is %s, not SignedData",
				      type == NID_undef ? "unknown" : OBJ_nid2sn(type));
	}
	*out = cms;
	return 0;
}

int msign_cms_parse(const uint8_t *der, size_t len,
		    struct msign_cms_info *info, struct msign_diag *d)
{
	CMS_ContentInfo *cms = NULL;
	int r;

	if (info != NULL) /* so msign_cms_info_free is safe after any error */
		memset(info, 0, sizeof(*info));
	if (info == NULL || (der == NULL && len > 0))
		return msign_diag_set(d, MSIGN_E_ARG, 0, "msign_cms_parse: NULL argument");
	if (len == 0)
		return msign_diag_set(d, MSIGN_E_CRYPTO, 0, "CMS payload is empty");
	if (len > CMS_MAX_LEN)
		return msign_diag_set(d, MSIGN_E_LIMIT, 0,
				      "CMS payload of %zu bytes exceeds the %u-byte limit",
				      len, CMS_MAX_LEN);
	r = cms_decode(der, len, &cms, d);
	if (r < 0)
		return r;
	STACK_OF(CMS_SignerInfo) *sis = CMS_get0_SignerInfos(cms);
	CMS_SignerInfo *si = sk_CMS_SignerInfo_num(sis) > 0
				     ? sk_CMS_SignerInfo_value(sis, 0) : NULL;
	if (si == NULL)
		r = msign_diag_set(d, MSIGN_E_CRYPTO, 0, "SignedData has no SignerInfo");
	if (r == 0)
		r = cms_fill_chain(cms, si, info, d);
	if (r == 0)
		r = cms_signing_time(si, info, d);
	if (r == 0)
		r = cms_timestamp(si, info, d);
	if (r == 0)
		r = cms_digest(si, info, d);
	if (r == 0)
		r = cms_cdhashes(si, info, d);
	if (r == 0)
		r = cms_cdhashes2(si, info, d);
	CMS_ContentInfo_free(cms);
	ERR_clear_error();
	if (r < 0)
		msign_cms_info_free(info);
	return r;
}

void msign_cms_info_free(struct msign_cms_info *info)
{
	if (info == NULL)
		return;
	for (size_t i = 0; i < MSIGN_CMS_MAX_CERTS; i++) {
		free(info->chain[i].cn);
		free(info->chain[i].ou);
		free(info->chain[i].org);
		free(info->chain[i].der);
	}
	memset(info, 0, sizeof(*info));
}

/* ---- implicit designated requirement ----------------------------------- */

/* The text is built in a growable buffer rather than a FILE (an
 * open_memstream would do): libmsign calls no stdio output function at all,
 * which tests/install/run.sh checks on the shared library's imports. */
struct dr_text {
	char *p;
	size_t len, cap;
	bool oom; /* a growth failed: the text is incomplete */
};

static void dr_put(struct dr_text *t, const char *s, size_t n)
{
	if (t->oom)
		return;
	if (n >= t->cap - t->len) { /* always room for the NUL */
		size_t cap = t->cap ? t->cap : 256;
		while (n >= cap - t->len) {
			if (cap > SIZE_MAX / 2) {
				t->oom = true;
				return;
			}
			cap *= 2;
		}
		char *np = realloc(t->p, cap);
		if (np == NULL) {
			t->oom = true;
			return;
		}
		t->p = np;
		t->cap = cap;
	}
	memcpy(t->p + t->len, s, n);
	t->len += n;
	t->p[t->len] = '\0';
}

static void dr_puts(struct dr_text *t, const char *s)
{
	dr_put(t, s, strlen(s));
}

static void dr_hex(struct dr_text *t, const uint8_t *b, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		char two[2] = { digits[b[i] >> 4], digits[b[i] & 15] };
		dr_put(t, two, 2);
	}
}

/* A value printed as the requirement language wants it (reqlang.h). */
static void dr_value(struct dr_text *t, const char *s)
{
	size_t n = strlen(s);
	enum msign_req_quoting mode =
		msign_req_value_quoting((const uint8_t *)s, n, false);
	if (mode == MSIGN_REQ_BARE) {
		dr_put(t, s, n);
	} else if (mode == MSIGN_REQ_QUOTED) {
		dr_puts(t, "\"");
		for (size_t i = 0; i < n; i++) {
			if (s[i] == '"' || s[i] == '\\')
				dr_puts(t, "\\");
			dr_put(t, &s[i], 1);
		}
		dr_puts(t, "\"");
	} else {
		dr_puts(t, "0x");
		dr_hex(t, (const uint8_t *)s, n);
	}
}

static bool dr_same(const char *a, const char *b)
{
	return a != NULL && b != NULL && strcmp(a, b) == 0;
}

/* DRMaker::appleAnchor: the iOS/Apple Development marker wins over the
 * Developer ID one; both need exactly leaf, one intermediate, anchor. */
/* The Developer ID clauses after the identifier. */
static void dr_devid(struct dr_text *t, const char *team)
{
	dr_puts(t, " and anchor apple generic and certificate 1[field." OID_DEVID_CA
	      "] /* exists */ and certificate leaf[field." OID_DEVID_LEAF
	      "] /* exists */ and certificate leaf[subject.OU] = ");
	dr_value(t, team);
}

static void dr_apple(struct dr_text *t, const struct msign_cms_info *info)
{
	const struct msign_cert *leaf = &info->chain[0];
	bool three = info->ncerts == 3;
	if (three && info->chain[1].apple_wwdr_ca) {
		dr_puts(t, " and anchor apple generic and certificate leaf[subject.CN] = ");
		dr_value(t, leaf->cn ? leaf->cn : "");
		dr_puts(t, " and certificate 1[field." OID_WWDR_CA "] /* exists */");
	} else if (three && info->chain[1].apple_devid_ca) {
		dr_devid(t, leaf->ou ? leaf->ou : "");
	} else {
		dr_puts(t, " and anchor apple");
	}
}

/* DRMaker::nonAppleAnchor: pin the highest certificate that still carries
 * the leaf's Organization; the leaf itself when it has none. */
static void dr_non_apple(struct dr_text *t, const struct msign_cms_info *info)
{
	const char *org = info->chain[0].org;
	uint32_t slot = 0;
	bool root = false;
	if (org != NULL) {
		while (slot + 1 < info->ncerts && dr_same(org, info->chain[slot + 1].org))
			slot++;
		root = slot == info->ncerts - 1;
	}
	if (root) {
		dr_puts(t, " and certificate root = H\"");
	} else if (slot == 0) {
		dr_puts(t, " and certificate leaf = H\"");
	} else {
		char num[48];
		snprintf(num, sizeof(num), " and certificate %u = H\"", slot);
		dr_puts(t, num);
	}
	dr_hex(t, info->chain[slot].sha1, 20);
	dr_puts(t, "\"");
}

int msign_cms_designated(const struct msign_cms_info *info, const char *ident,
			 char **out, struct msign_diag *d)
{
	if (info == NULL || ident == NULL || out == NULL)
		return msign_diag_set(d, MSIGN_E_ARG, 0, "msign_cms_designated: NULL argument");
	*out = NULL;
	if (info->ncerts == 0 || info->ncerts > MSIGN_CMS_MAX_CERTS)
		return msign_diag_set(d, MSIGN_E_NOT_FOUND, 0,
				      "no signer certificate chain (%u certificates)",
				      info->ncerts);
	struct dr_text t = { 0 };
	dr_puts(&t, "identifier ");
	dr_value(&t, ident);
	if (info->chain[info->ncerts - 1].apple_root)
		dr_apple(&t, info);
	else
		dr_non_apple(&t, info);
	if (t.oom) {
		free(t.p);
		return msign_diag_set(d, MSIGN_E_NOMEM, 0, "cannot build requirement text");
	}
	*out = t.p;
	return 0;
}

int msign_cms_chain_designated(struct x509_st *const *chain, uint32_t n,
			       const char *ident, char **out, struct msign_diag *d)
{
	if (chain == NULL || n == 0 || n > MSIGN_CMS_MAX_CERTS)
		return msign_diag_set(d, MSIGN_E_ARG, 0,
				      "a designated requirement needs 1 to %u certificates",
				      MSIGN_CMS_MAX_CERTS);
	struct msign_cms_info *info = calloc(1, sizeof(*info));
	if (info == NULL)
		return msign_diag_set(d, MSIGN_E_NOMEM, 0, "out of memory");
	int r = 0;
	for (uint32_t i = 0; i < n && r == 0; i++) {
		r = cms_fill_cert(chain[i], &info->chain[i], d);
		info->ncerts = i + 1;
	}
	if (r == 0)
		r = msign_cms_designated(info, ident, out, d);
	msign_cms_info_free(info);
	free(info);
	return r;
}
