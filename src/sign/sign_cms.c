/* Certificate signing (spec section 3): the signing identity and the CMS
 * signature codesign writes.
 *
 * An identity is a private key, its leaf certificate and the issuers up
 * to the root, read from PEM files or a PKCS#12 file. The CMS is a
 * detached SignedData over the slot-0 CodeDirectory, SHA-256, signed
 * attributes contentType, signingTime, messageDigest, the cdhashes plist
 * (1.2.840.113635.100.9.1) and CDHashes2 (1.2.840.113635.100.9.2), no
 * SMIMECapabilities. DER orders a SET OF by encoding, so the attributes
 * and certificates come out in DER order whatever order they are added
 * in; Apple's encoder does the same (the corpus' Developer ID signatures
 * hold CDHashes2 before the longer plist, and the certificates shortest
 * first). OpenSSL is included here and nowhere else in the signer. */
#include <ctype.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/diag.h"
#include "sig/cms.h"
#include "sign/sign_cms.h"
#include "sign/sign_p11.h"
#include "sign/tsa.h"
#include "hash/hash.h"
#include "base/cur.h"
#include "sig/ent.h"

#define SC_MAX_CERTS 64u     /* certificates read from one file */
#define SC_MAX_CHAIN 10u     /* issuers followed from the leaf */
#define SC_FILE_MAX (1u << 20)
#define SC_CMS_OVERHEAD 1024u /* SignedData, SignerInfo, attributes */
#define SC_CMS_PER_CD 160u    /* one plist <data> and one CDHashes2 entry */
#define SC_TSA_RESERVE 8192u  /* a token with its TSA's chain */
/* What codesign reserves for the CMS: SecCodeSigner's cmssize, 18000 in
 * current versions (9000 in 2014's CodeSigner.cpp). The corpus' 2024
 * Developer ID signature has datasize 18688 = 680 bytes of other blobs,
 * index and header + 8 + 18000, exactly. */
#define SC_CMS_CODESIGN 18000u
#define SC_TEAM_MAX 63u

struct msign_sign_identity {
	EVP_PKEY *key;
	X509 *leaf;
	STACK_OF(X509) *chain; /* the leaf's issuer first, up to the root */
	char team[SC_TEAM_MAX + 1]; /* subject OU; "" when none */
	char cn[256];          /* subject CN, for messages */
	bool devid_app;        /* the leaf has Developer ID Application's marker */
	size_t certs_len;      /* DER bytes of the leaf and the chain */
	struct msign_p11 *p11; /* a token key's engine; freed after key */
};

/* The first OpenSSL error as the reason, and a clean error queue: the
 * library leaves nothing behind for the caller's next OpenSSL call. */
static int sc_ossl(struct msign_diag *d, int code, const char *what)
{
	unsigned long e = ERR_peek_error();
	char buf[160];
	ERR_error_string_n(e, buf, sizeof(buf));
	ERR_clear_error();
	if (e == 0)
		return msign_diag_set(d, code, 0, "%s", what);
	return msign_diag_set(d, code, 0, "%s (%s)", what, buf);
}

/* A file read whole (at most SC_FILE_MAX bytes), and a read-only BIO
 * over those bytes: no copy of key material is made that sc_close would
 * not wipe. */
struct sc_file {
	char *buf;
	size_t len;
	BIO *bio;
};

static void sc_close(struct sc_file *f)
{
	BIO_free(f->bio);
	if (f->buf != NULL)
		OPENSSL_cleanse(f->buf, f->len);
	free(f->buf);
	memset(f, 0, sizeof(*f));
}

static int sc_open(const char *path, struct sc_file *f, struct msign_diag *d)
{
	memset(f, 0, sizeof(*f));
	FILE *fp = fopen(path, "rb");
	if (fp == NULL)
		return msign_diag_set(d, MSIGN_E_IO, 0, "%s: cannot open", path);
	f->buf = malloc(SC_FILE_MAX + 1);
	f->len = f->buf ? fread(f->buf, 1, SC_FILE_MAX + 1, fp) : 0;
	bool err = ferror(fp) != 0;
	fclose(fp);
	int r = 0;
	if (f->buf == NULL)
		r = msign_diag_set(d, MSIGN_E_NOMEM, 0, "out of memory");
	else if (err || f->len > SC_FILE_MAX)
		r = msign_diag_set(d, MSIGN_E_IO, 0, "%s: %s", path,
				   err ? "read error" : "larger than 1 MiB");
	else if ((f->bio = BIO_new_mem_buf(f->buf, (int)f->len)) == NULL)
		r = sc_ossl(d, MSIGN_E_NOMEM, "out of memory");
	if (r)
		sc_close(f);
	return r;
}

/* Never a prompt: an encrypted PEM key is refused, not asked for. */
static int sc_no_password(char *buf, int size, int rw, void *u)
{
	(void)buf, (void)size, (void)rw, (void)u;
	return -1;
}

/* Every certificate of a PEM file, appended to pool. */
static int sc_read_certs(const char *path, STACK_OF(X509) *pool,
			 struct msign_diag *d)
{
	struct sc_file f;
	int r = sc_open(path, &f, d);
	if (r)
		return r;
	int n = 0;
	X509 *x;
	while ((x = PEM_read_bio_X509(f.bio, NULL, sc_no_password, NULL)) != NULL) {
		if (n++ >= (int)SC_MAX_CERTS || !sk_X509_push(pool, x)) {
			X509_free(x);
			sc_close(&f);
			return msign_diag_set(d, MSIGN_E_LIMIT, 0,
					      "%s: more than %u certificates", path, SC_MAX_CERTS);
		}
	}
	ERR_clear_error(); /* the end of the file reads as "no start line" */
	sc_close(&f);
	if (n == 0)
		return msign_diag_set(d, MSIGN_E_CRYPTO, 0,
				      "%s: no PEM certificate", path);
	return 0;
}

static int sc_read_key(const char *path, EVP_PKEY **key, struct msign_diag *d)
{
	struct sc_file f;
	int r = sc_open(path, &f, d);
	if (r)
		return r;
	*key = PEM_read_bio_PrivateKey(f.bio, NULL, sc_no_password, NULL);
	sc_close(&f);
	if (*key == NULL)
		return sc_ossl(d, MSIGN_E_CRYPTO, "cannot read the private key (PEM, not encrypted)");
	return 0;
}

static int sc_read_p12(const char *path, const char *password, EVP_PKEY **key,
		       STACK_OF(X509) *pool, struct msign_diag *d)
{
	struct sc_file f;
	int r = sc_open(path, &f, d);
	if (r)
		return r;
	PKCS12 *p12 = d2i_PKCS12_bio(f.bio, NULL);
	sc_close(&f);
	if (p12 == NULL)
		return sc_ossl(d, MSIGN_E_CRYPTO, "not a PKCS#12 file");
	X509 *cert = NULL;
	STACK_OF(X509) *ca = NULL;
	int ok = PKCS12_parse(p12, password ? password : "", key, &cert, &ca);
	PKCS12_free(p12);
	if (!ok)
		return sc_ossl(d, MSIGN_E_CRYPTO,
			       "cannot read the PKCS#12 file (wrong password?)");
	if (cert != NULL && !sk_X509_push(pool, cert)) {
		X509_free(cert);
		r = MSIGN_E_NOMEM;
	}
	while (sk_X509_num(ca) > 0) {
		X509 *x = sk_X509_shift(ca);
		if (r || sk_X509_num(pool) >= (int)SC_MAX_CERTS || !sk_X509_push(pool, x)) {
			X509_free(x);
			r = r ? r : MSIGN_E_LIMIT;
		}
	}
	sk_X509_free(ca);
	if (*key == NULL)
		return msign_diag_set(d, MSIGN_E_CRYPTO, 0, "%s holds no private key", path);
	return r ? msign_diag_set(d, r, 0, "%s: too many certificates", path) : 0;
}

/* Apple's marker of a Developer ID Application leaf certificate. */
#define SC_OID_DEVID_APP "1.2.840.113635.100.6.1.13"

/* A subject field as UTF-8 into out ("" when absent); false when it
 * does not fit or holds control characters (it is printed and, for the
 * OU, written into the CodeDirectory). */
static bool sc_name_field(X509 *x, int nid, char *out, size_t outlen)
{
	out[0] = '\0';
	char *u = NULL;
	size_t n = 0;
	if (msign_x509_subject_field(x, nid, &u, &n) != 0)
		return false;
	if (u == NULL)
		return true;
	bool ok = n < outlen;
	for (size_t k = 0; ok && k < n; k++)
		ok = (unsigned char)u[k] >= 0x20 && u[k] != 0x7f;
	if (ok)
		memcpy(out, u, n + 1);
	free(u);
	return ok;
}

/* Does IDENTITY name x: its CN exactly (2), a part of it (1), its SHA-1
 * in hex (3), or not (0). */
static int sc_match(X509 *x, const char *want)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	if (strlen(want) == 40 && X509_digest(x, EVP_sha1(), md, &mdlen) && mdlen == 20) {
		char hex[41];
		for (unsigned k = 0; k < 20; k++)
			snprintf(hex + 2 * k, 3, "%02x", md[k]);
		if (strcasecmp(hex, want) == 0)
			return 3;
	}
	char cn[256];
	if (!sc_name_field(x, NID_commonName, cn, sizeof(cn)) || cn[0] == '\0')
		return 0;
	if (strcmp(cn, want) == 0)
		return 2;
	return strstr(cn, want) != NULL ? 1 : 0;
}

/* The leaf IDENTITY names among the pool's end-entity certificates: the
 * best kind of match wins; two certificates matching as well is an error. */
static int sc_pick_leaf(STACK_OF(X509) *pool, const char *want, X509 **leaf,
			struct msign_diag *d)
{
	int best = 0, nbest = 0;
	X509 *pick = NULL, *other = NULL;
	/* Issuers are no identities, unless no end-entity certificate
	 * matches: a self-signed identity (openssl req -x509) is a CA. */
	for (int pass = 0; pass < 2 && pick == NULL; pass++) {
		for (int i = 0; i < sk_X509_num(pool); i++) {
			X509 *x = sk_X509_value(pool, i);
			if ((X509_check_ca(x) != 0) != (pass == 1))
				continue;
			int m = sc_match(x, want);
			if (m == 0 || m < best)
				continue;
			if (m > best) {
				best = m;
				nbest = 0;
				pick = x;
			} else if (X509_cmp(x, pick) != 0) {
				other = x;
			} else {
				continue; /* the same certificate twice */
			}
			nbest++;
		}
	}
	if (pick == NULL)
		return msign_diag_set(d, MSIGN_E_NOT_FOUND, 0,
				      "%s: no identity found", want);
	if (nbest > 1) {
		char a[256], b[256];
		sc_name_field(pick, NID_commonName, a, sizeof(a));
		sc_name_field(other, NID_commonName, b, sizeof(b));
		return msign_diag_set(d, MSIGN_E_ARG, 0,
				      "%s: ambiguous (matches \"%s\" and \"%s\")", want, a, b);
	}
	*leaf = pick;
	return 0;
}

/* The issuers of leaf found in pool, leaf's issuer first, to a
 * self-issued root or as far as the pool goes. */
static int sc_chain(X509 *leaf, STACK_OF(X509) *pool, STACK_OF(X509) *chain)
{
	X509 *cur = leaf;
	for (unsigned depth = 0; depth < SC_MAX_CHAIN; depth++) {
		if (X509_check_issued(cur, cur) == X509_V_OK)
			return 0;
		X509 *up = NULL;
		for (int i = 0; i < sk_X509_num(pool) && up == NULL; i++) {
			X509 *c = sk_X509_value(pool, i);
			if (c != leaf && X509_check_issued(c, cur) == X509_V_OK &&
			    sk_X509_find(chain, c) < 0)
				up = c;
		}
		if (up == NULL)
			return 0;
		if (!X509_up_ref(up))
			return MSIGN_E_CRYPTO;
		if (!sk_X509_push(chain, up)) {
			X509_free(up);
			return MSIGN_E_NOMEM;
		}
		cur = up;
	}
	return 0;
}

static size_t sc_der_len(X509 *x)
{
	int n = i2d_X509(x, NULL);
	return n > 0 ? (size_t)n : 0;
}

void msign_identity_free(struct msign_sign_identity *id)
{
	if (id == NULL)
		return;
	EVP_PKEY_free(id->key);
	msign_p11_release(id->p11);
	X509_free(id->leaf);
	sk_X509_pop_free(id->chain, X509_free);
	free(id);
}

static int sc_load(struct msign_sign_identity *id,
		   const struct msign_identity_src *src, const char *want,
		   STACK_OF(X509) *pool, struct msign_diag *d)
{
	int r;
	if (src->pkcs11_uri != NULL) {
		if (src->key_path != NULL || src->p12_path != NULL)
			return msign_diag_set(d, MSIGN_E_ARG, 0,
					      "a PKCS#11 key or a key file, not both");
		X509 *tok = NULL;
		if ((r = msign_p11_load(src->pkcs11_uri, src->pkcs11_module,
					src->pkcs11_pin, &id->key,
					src->cert_path ? NULL : &tok, pool, &id->p11, d)))
			return r;
		if (tok != NULL && !sk_X509_push(pool, tok)) {
			X509_free(tok);
			return msign_diag_set(d, MSIGN_E_NOMEM, 0, "out of memory");
		}
		if (src->cert_path != NULL && (r = sc_read_certs(src->cert_path, pool, d)))
			return r;
	} else if (src->p12_path != NULL) {
		if (src->key_path != NULL || src->cert_path != NULL)
			return msign_diag_set(d, MSIGN_E_ARG, 0,
					      "a PKCS#12 file or a key and a certificate, not both");
		if ((r = sc_read_p12(src->p12_path, src->p12_password, &id->key, pool, d)))
			return r;
	} else {
		if (src->key_path == NULL || src->cert_path == NULL)
			return msign_diag_set(d, MSIGN_E_ARG, 0,
					      "a certificate signature needs --key and --cert, or --p12");
		if ((r = sc_read_key(src->key_path, &id->key, d)) ||
		    (r = sc_read_certs(src->cert_path, pool, d)))
			return r;
	}
	if (src->chain_path != NULL && (r = sc_read_certs(src->chain_path, pool, d)))
		return r;
	if (!EVP_PKEY_is_a(id->key, "RSA") &&
	    !(EVP_PKEY_is_a(id->key, "EC") && EVP_PKEY_get_bits(id->key) == 256))
		return msign_diag_set(d, MSIGN_E_UNSUPPORTED, 0,
				      "the private key is neither RSA nor ECDSA P-256");
	X509 *leaf = NULL;
	if ((r = sc_pick_leaf(pool, want, &leaf, d)))
		return r;
	char *cn = id->cn;
	sc_name_field(leaf, NID_commonName, id->cn, sizeof(id->cn));
	id->devid_app = msign_x509_has_ext(leaf, SC_OID_DEVID_APP);
	if (X509_check_private_key(leaf, id->key) != 1) {
		ERR_clear_error();
		return msign_diag_set(d, MSIGN_E_ARG, 0,
				      "the private key does not belong to \"%s\"", cn);
	}
	if (!sc_name_field(leaf, NID_organizationalUnitName, id->team, sizeof(id->team)))
		return msign_diag_set(d, MSIGN_E_UNSUPPORTED, 0,
				      "\"%s\": the subject OU is no team identifier", cn);
	if (!X509_up_ref(leaf))
		return sc_ossl(d, MSIGN_E_CRYPTO, "certificate");
	id->leaf = leaf;
	if ((id->chain = sk_X509_new_null()) == NULL ||
	    (r = sc_chain(leaf, pool, id->chain)) != 0)
		return sc_ossl(d, id->chain ? r : MSIGN_E_NOMEM, "certificate chain");
	id->certs_len = sc_der_len(leaf);
	for (int i = 0; i < sk_X509_num(id->chain); i++)
		id->certs_len += sc_der_len(sk_X509_value(id->chain, i));
	return 0;
}

int msign_identity_load(const struct msign_identity_src *src, const char *want,
			struct msign_sign_identity **out, struct msign_diag *d)
{
	*out = NULL;
	struct msign_sign_identity *id = calloc(1, sizeof(*id));
	STACK_OF(X509) *pool = sk_X509_new_null();
	int r = id && pool ? sc_load(id, src, want, pool, d)
			   : msign_diag_set(d, MSIGN_E_NOMEM, 0, "out of memory");
	sk_X509_pop_free(pool, X509_free);
	ERR_clear_error();
	if (r) {
		msign_identity_free(id);
		return r;
	}
	*out = id;
	return 0;
}

int msign_identity_designated(const struct msign_sign_identity *id,
			      const char *ident, char **text, struct msign_diag *d)
{
	X509 *chain[MSIGN_CMS_MAX_CERTS];
	uint32_t n = 0;
	chain[n++] = id->leaf;
	for (int i = 0; i < sk_X509_num(id->chain) && n < MSIGN_CMS_MAX_CERTS; i++)
		chain[n++] = sk_X509_value(id->chain, i);
	return msign_cms_chain_designated(chain, n, ident, text, d);
}

const char *msign_identity_name(const struct msign_sign_identity *id)
{
	return id->cn;
}

bool msign_identity_devid_app(const struct msign_sign_identity *id)
{
	return id->devid_app;
}

const char *msign_identity_team(const struct msign_sign_identity *id)
{
	return id->team[0] != '\0' ? id->team : NULL;
}

size_t msign_identity_cms_reserve(const struct msign_sign_identity *id,
				  uint32_t ncds, bool timestamp)
{
	/* codesign's fixed room, unless our estimate is larger: fixed parts
	 * of the SignedData plus what grows, the certificates, each
	 * CodeDirectory's hashes, the signature (a key's size in bytes; an
	 * ECDSA signature is at most 72) and a timestamp token. The blob is
	 * written at its real length; the rest stays zero, as in codesign's
	 * output (datasize 18688 for a SuperBlob of 9674). */
	size_t sig = (size_t)EVP_PKEY_get_size(id->key);
	size_t est = SC_CMS_OVERHEAD + id->certs_len + (size_t)ncds * SC_CMS_PER_CD +
		     sig + (timestamp ? SC_TSA_RESERVE : 0);
	return est > SC_CMS_CODESIGN ? est : SC_CMS_CODESIGN;
}

/* ---- the CMS ------------------------------------------------------------- */

/* The value of 1.2.840.113635.100.9.1, formatted as Apple's plist writer
 * formats it: each CodeDirectory's hash cut to 20 bytes, in CD order. */
static char *sc_cdhashes_plist(const struct msign_cms_cd *cds, uint32_t n,
			       size_t *len)
{
	static const char head[] =
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" "
		"\"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n"
		"<plist version=\"1.0\">\n<dict>\n\t<key>cdhashes</key>\n\t<array>\n";
	static const char tail[] = "\t</array>\n</dict>\n</plist>\n";
	size_t cap = sizeof(head) + sizeof(tail) + (size_t)n * 64;
	char *s = malloc(cap);
	if (s == NULL)
		return NULL;
	size_t at = (size_t)snprintf(s, cap, "%s", head);
	for (uint32_t k = 0; k < n; k++) {
		unsigned char b64[32];
		EVP_EncodeBlock(b64, cds[k].hash, MSIGN_CDHASH_LEN);
		at += (size_t)snprintf(s + at, cap - at,
				       "\t\t<data>\n\t\t%s\n\t\t</data>\n", b64);
	}
	at += (size_t)snprintf(s + at, cap - at, "%s", tail);
	*len = at;
	return s;
}

/* CDHashes2 values: SEQUENCE { hash OID, OCTET STRING full hash } per CD. */
static X509_ATTRIBUTE *sc_cdhashes2(const struct msign_cms_cd *cds, uint32_t n)
{
	ASN1_OBJECT *oid = OBJ_txt2obj("1.2.840.113635.100.9.2", 1);
	X509_ATTRIBUTE *attr = NULL;
	bool ok = oid != NULL;
	for (uint32_t k = 0; ok && k < n; k++) {
		int nid = msign_hashtype_nid(cds[k].hash_type);
		const ASN1_OBJECT *h = nid != NID_undef ? OBJ_nid2obj(nid) : NULL;
		int olen = h ? i2d_ASN1_OBJECT(h, NULL) : -1;
		uint8_t seq[128];
		size_t body = (size_t)olen + 2 + cds[k].hash_len;
		if (olen <= 0 || cds[k].hash_len > MSIGN_MAX_HASH_LEN || body > 127) {
			ok = false;
			break;
		}
		seq[0] = 0x30;
		seq[1] = (uint8_t)body;
		unsigned char *p = seq + 2;
		i2d_ASN1_OBJECT(h, &p);
		*p++ = 0x04;
		*p++ = (uint8_t)cds[k].hash_len;
		memcpy(p, cds[k].hash, cds[k].hash_len);
		int len = (int)body + 2;
		if (attr == NULL)
			ok = (attr = X509_ATTRIBUTE_create_by_OBJ(NULL, oid, V_ASN1_SEQUENCE,
								  seq, len)) != NULL;
		else
			ok = X509_ATTRIBUTE_set1_data(attr, V_ASN1_SEQUENCE, seq, len) == 1;
	}
	ASN1_OBJECT_free(oid);
	if (!ok) {
		X509_ATTRIBUTE_free(attr);
		return NULL;
	}
	return attr;
}

/* Algorithm identifiers as Apple writes them: SHA-256 with a NULL
 * parameter, and for RSA sha256WithRSAEncryption where OpenSSL writes
 * rsaEncryption. Neither is covered by the signature. */
static int sc_apple_algs(const struct msign_sign_identity *id, CMS_SignerInfo *si)
{
	X509_ALGOR *dig = NULL, *sig = NULL;
	CMS_SignerInfo_get0_algs(si, NULL, NULL, &dig, &sig);
	if (dig == NULL || sig == NULL ||
	    !X509_ALGOR_set0(dig, OBJ_nid2obj(NID_sha256), V_ASN1_NULL, NULL))
		return 0;
	if (EVP_PKEY_is_a(id->key, "RSA"))
		return X509_ALGOR_set0(sig, OBJ_nid2obj(NID_sha256WithRSAEncryption),
				       V_ASN1_NULL, NULL);
	return 1;
}

static int sc_timestamp(CMS_SignerInfo *si, const struct msign_tsa_opts *tsa,
			struct msign_diag *d)
{
	ASN1_OCTET_STRING *sv = CMS_SignerInfo_get0_signature(si);
	uint8_t *tok = NULL;
	size_t tok_len = 0;
	int r = msign_tsa_request(tsa, ASN1_STRING_get0_data(sv),
				  (size_t)ASN1_STRING_length(sv), &tok, &tok_len, NULL, d);
	if (r)
		return r;
	ASN1_OBJECT *o = OBJ_txt2obj("1.2.840.113549.1.9.16.2.14", 1);
	if (tok_len > INT32_MAX || o == NULL ||
	    !CMS_unsigned_add1_attr_by_OBJ(si, o, V_ASN1_SEQUENCE, tok, (int)tok_len))
		r = sc_ossl(d, MSIGN_E_CRYPTO, "cannot add the timestamp");
	ASN1_OBJECT_free(o);
	free(tok);
	return r;
}

/* DER order of SET OF: the encodings compared as octet strings. */
struct sc_enc {
	unsigned char *p;
	int n;
};

static int sc_enc_cmp(const void *a, const void *b)
{
	const struct sc_enc *x = a, *y = b;
	int r = memcmp(x->p, y->p, (size_t)(x->n < y->n ? x->n : y->n));
	return r != 0 ? r : (x->n > y->n) - (x->n < y->n);
}

/* --signing-time none: OpenSSL 3.0 always stamps a signingTime (3.2 has
 * CMS_NO_SIGNING_TIME), so it is taken out again and the remaining
 * attributes, DER-encoded as the SET OF they go out as, are signed anew. */
static int sc_resign_without_time(const struct msign_sign_identity *id,
				  CMS_SignerInfo *si, struct msign_diag *d)
{
	int idx = CMS_signed_get_attr_by_NID(si, NID_pkcs9_signingTime, -1);
	if (idx >= 0)
		X509_ATTRIBUTE_free(CMS_signed_delete_attr(si, idx));
	int count = CMS_signed_get_attr_count(si);
	if (count <= 0 || count > 16)
		return msign_diag_set(d, MSIGN_E_INTERNAL, 0, "%d signed attributes", count);
	struct sc_enc enc[16];
	size_t body = 0;
	int r = 0, i;
	for (i = 0; i < count; i++) {
		enc[i].p = NULL;
		enc[i].n = i2d_X509_ATTRIBUTE(CMS_signed_get_attr(si, i), &enc[i].p);
		if (enc[i].n <= 0) {
			r = sc_ossl(d, MSIGN_E_CRYPTO, "cannot encode the signed attributes");
			break;
		}
		body += (size_t)enc[i].n;
	}
	unsigned char *buf = NULL, *sig = NULL;
	size_t hdr = body < 0x80 ? 2 : body < 0x100 ? 3 : body < 0x10000 ? 4 : 0;
	if (r == 0 && hdr == 0)
		r = msign_diag_set(d, MSIGN_E_LIMIT, 0, "signed attributes too large");
	if (r == 0 && (buf = malloc(hdr + body)) == NULL)
		r = msign_diag_set(d, MSIGN_E_NOMEM, 0, "out of memory");
	if (r == 0) {
		qsort(enc, (size_t)count, sizeof(enc[0]), sc_enc_cmp);
		buf[0] = 0x31;
		if (hdr == 2)
			buf[1] = (uint8_t)body;
		else if (hdr == 3)
			buf[1] = 0x81, buf[2] = (uint8_t)body;
		else
			buf[1] = 0x82, buf[2] = (uint8_t)(body >> 8), buf[3] = (uint8_t)body;
		size_t at = hdr;
		for (int k = 0; k < count; k++) {
			memcpy(buf + at, enc[k].p, (size_t)enc[k].n);
			at += (size_t)enc[k].n;
		}
		EVP_MD_CTX *m = EVP_MD_CTX_new();
		size_t sig_len = 0;
		if (m == NULL || EVP_DigestSignInit(m, NULL, EVP_sha256(), NULL, id->key) != 1 ||
		    EVP_DigestSign(m, NULL, &sig_len, buf, at) != 1 ||
		    (sig = malloc(sig_len)) == NULL ||
		    EVP_DigestSign(m, sig, &sig_len, buf, at) != 1 || sig_len > INT32_MAX ||
		    !ASN1_STRING_set(CMS_SignerInfo_get0_signature(si), sig, (int)sig_len))
			r = sc_ossl(d, MSIGN_E_CRYPTO, "cannot sign");
		EVP_MD_CTX_free(m);
	}
	for (int k = 0; k < i; k++)
		OPENSSL_free(enc[k].p);
	free(buf);
	free(sig);
	return r;
}

static int sc_build(const struct msign_sign_identity *id,
		    const struct msign_cms_in *in, CMS_ContentInfo *cms,
		    struct msign_diag *d)
{
	const unsigned fl = CMS_PARTIAL | CMS_DETACHED | CMS_BINARY | CMS_NOSMIMECAP;
	CMS_SignerInfo *si = CMS_add1_signer(cms, id->leaf, id->key, EVP_sha256(), fl);
	if (si == NULL)
		return sc_ossl(d, MSIGN_E_CRYPTO, "cannot add the signer");
	for (int i = 0; i < sk_X509_num(id->chain); i++)
		if (!CMS_add1_cert(cms, sk_X509_value(id->chain, i)))
			return sc_ossl(d, MSIGN_E_CRYPTO, "cannot add a certificate");
	/* Added before CMS_final, or OpenSSL would stamp the current time
	 * (without one, a fixed time all the same: it is taken out below). */
	ASN1_TIME *t = ASN1_TIME_set(NULL, in->no_signing_time ? 0
							       : (time_t)in->signing_time);
	int ok = t != NULL && CMS_signed_add1_attr_by_NID(si, NID_pkcs9_signingTime,
							  t->type, t, -1);
	ASN1_TIME_free(t);
	if (!ok)
		return sc_ossl(d, MSIGN_E_CRYPTO, "cannot add the signing time");
	size_t plen = 0;
	char *plist = sc_cdhashes_plist(in->cds, in->ncds, &plen);
	ASN1_OBJECT *o = OBJ_txt2obj("1.2.840.113635.100.9.1", 1);
	ok = plist != NULL && o != NULL &&
	     CMS_signed_add1_attr_by_OBJ(si, o, V_ASN1_OCTET_STRING, plist, (int)plen);
	ASN1_OBJECT_free(o);
	free(plist);
	X509_ATTRIBUTE *h2 = ok ? sc_cdhashes2(in->cds, in->ncds) : NULL;
	ok = h2 != NULL && CMS_signed_add1_attr(si, h2);
	X509_ATTRIBUTE_free(h2);
	if (!ok)
		return sc_ossl(d, MSIGN_E_CRYPTO, "cannot add the CodeDirectory hashes");
	if (in->cd_len > INT32_MAX)
		return msign_diag_set(d, MSIGN_E_LIMIT, 0, "CodeDirectory too large");
	BIO *content = BIO_new_mem_buf(in->cd, (int)in->cd_len);
	ok = content != NULL && CMS_final(cms, content, NULL, CMS_DETACHED | CMS_BINARY);
	BIO_free(content);
	if (!ok || !sc_apple_algs(id, si))
		return sc_ossl(d, MSIGN_E_CRYPTO, "cannot sign");
	int r = in->no_signing_time ? sc_resign_without_time(id, si, d) : 0;
	if (r)
		return r;
	return in->tsa != NULL ? sc_timestamp(si, in->tsa, d) : 0;
}

/* ---- Apple's framing ----------------------------------------------------- */

/* DigestAlgorithmIdentifiers SET { SEQUENCE { sha256, NULL } }, as Apple
 * writes it; OpenSSL leaves the NULL out and gives no way to ask for it. */
static const uint8_t SC_DIGEST_ALGS_APPLE[] = {
	0x31, 0x0f, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65,
	0x03, 0x04, 0x02, 0x01, 0x05, 0x00 };
static const uint8_t SC_DIGEST_ALGS_OSSL[] = {
	0x31, 0x0d, 0x30, 0x0b, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65,
	0x03, 0x04, 0x02, 0x01 };
/* The detached encapContentInfo { id-data } (OpenSSL's, definite). */
static const uint8_t SC_ECI_DER[] = { 0x30, 0x0b, 0x06, 0x09, 0x2a, 0x86, 0x48,
				      0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01 };
static const uint8_t SC_OID_SIGNED_DATA[] = { 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86,
					      0xf7, 0x0d, 0x01, 0x07, 0x02 };
static const uint8_t SC_VERSION_1[] = { 0x02, 0x01, 0x01 };
#define SC_INDEF 0x80u

/* OpenSSL's DER in the BER framing codesign writes: ContentInfo, its [0],
 * SignedData and encapContentInfo with indefinite lengths (as in every
 * corpus signature), the digest algorithm with its NULL; the certificates
 * and the SignerInfo, everything signed, byte for byte. Only our own
 * output is read here, but through the checked DER reader all the same. */
static int sc_apple_framing(const uint8_t *der, size_t len, uint8_t **out,
			    size_t *out_len, struct msign_diag *d)
{
	struct msign_cur c = msign_cur_make(der, len);
	struct msign_der_tl ci, oid, ctx, sd, ver, algs, eci, certs, sis;
	if (msign_der_tl(&c, len, &ci, NULL) || ci.tag != MSIGN_DER_SEQUENCE ||
	    msign_der_tl(&c, ci.end, &oid, NULL) ||
	    oid.end - oid.off != sizeof(SC_OID_SIGNED_DATA) ||
	    memcmp(der + oid.off, SC_OID_SIGNED_DATA, sizeof(SC_OID_SIGNED_DATA)) ||
	    msign_cur_skip(&c, oid.len) ||
	    msign_der_tl(&c, ci.end, &ctx, NULL) || ctx.tag != 0xa0 ||
	    msign_der_tl(&c, ctx.end, &sd, NULL) || sd.tag != MSIGN_DER_SEQUENCE ||
	    msign_der_tl(&c, sd.end, &ver, NULL) || msign_cur_skip(&c, ver.len) ||
	    msign_der_tl(&c, sd.end, &algs, NULL) || msign_cur_skip(&c, algs.len) ||
	    msign_der_tl(&c, sd.end, &eci, NULL) || msign_cur_skip(&c, eci.len) ||
	    msign_der_tl(&c, sd.end, &certs, NULL) || certs.tag != 0xa0 ||
	    msign_cur_skip(&c, certs.len) ||
	    msign_der_tl(&c, sd.end, &sis, NULL) || sis.tag != MSIGN_DER_SET ||
	    sis.end != sd.end || sd.end != ctx.end || ctx.end != ci.end ||
	    ci.end != len ||
	    ver.end - ver.off != sizeof(SC_VERSION_1) ||
	    memcmp(der + ver.off, SC_VERSION_1, sizeof(SC_VERSION_1)) ||
	    algs.end - algs.off != sizeof(SC_DIGEST_ALGS_OSSL) ||
	    memcmp(der + algs.off, SC_DIGEST_ALGS_OSSL, sizeof(SC_DIGEST_ALGS_OSSL)) ||
	    eci.end - eci.off != sizeof(SC_ECI_DER) ||
	    memcmp(der + eci.off, SC_ECI_DER, sizeof(SC_ECI_DER)))
		return msign_diag_set(d, MSIGN_E_INTERNAL, 0,
				      "OpenSSL's SignedData is not in the expected form");
	static const uint8_t indef_seq[] = { MSIGN_DER_SEQUENCE, SC_INDEF };
	static const uint8_t indef_ctx[] = { 0xa0, SC_INDEF };
	static const uint8_t eoc[2] = { 0, 0 };
	struct { const uint8_t *p; size_t n; } part[] = {
		{ indef_seq, 2 }, { SC_OID_SIGNED_DATA, sizeof(SC_OID_SIGNED_DATA) },
		{ indef_ctx, 2 }, { indef_seq, 2 }, { SC_VERSION_1, sizeof(SC_VERSION_1) },
		{ SC_DIGEST_ALGS_APPLE, sizeof(SC_DIGEST_ALGS_APPLE) },
		{ indef_seq, 2 }, { SC_ECI_DER + 2, sizeof(SC_ECI_DER) - 2 }, { eoc, 2 },
		{ der + certs.off, sis.end - certs.off }, /* certificates, signerInfos */
		{ eoc, 2 }, { eoc, 2 }, { eoc, 2 },
	};
	size_t n = 0;
	for (size_t i = 0; i < sizeof(part) / sizeof(part[0]); i++)
		n += part[i].n;
	uint8_t *b = malloc(n);
	if (b == NULL)
		return msign_diag_set(d, MSIGN_E_NOMEM, 0, "out of memory");
	size_t at = 0;
	for (size_t i = 0; i < sizeof(part) / sizeof(part[0]); i++) {
		memcpy(b + at, part[i].p, part[i].n);
		at += part[i].n;
	}
	*out = b;
	*out_len = n;
	return 0;
}

int msign_identity_sign(const struct msign_sign_identity *id,
			const struct msign_cms_in *in, uint8_t **out,
			size_t *out_len, struct msign_diag *d)
{
	*out = NULL;
	*out_len = 0;
	CMS_ContentInfo *cms = CMS_sign(NULL, NULL, NULL, NULL,
					CMS_PARTIAL | CMS_DETACHED | CMS_BINARY);
	int r = cms ? sc_build(id, in, cms, d)
		    : sc_ossl(d, MSIGN_E_CRYPTO, "cannot start a CMS signature");
	unsigned char *der = NULL;
	int n = r == 0 ? i2d_CMS_ContentInfo(cms, &der) : 0;
	if (r == 0 && n <= 0)
		r = sc_ossl(d, MSIGN_E_CRYPTO, "cannot encode the CMS signature");
	if (r == 0)
		r = sc_apple_framing(der, (size_t)n, out, out_len, d);
	OPENSSL_free(der);
	CMS_ContentInfo_free(cms);
	ERR_clear_error();
	return r;
}
