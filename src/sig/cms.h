/* msign: the CMS SignedData of a signature: signer chain and times. */
#ifndef MSIGN_SIG_CMS_H
#define MSIGN_SIG_CMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include "msign/err.h"
#include "sig/codesign.h"

/* ---- CMS (cms.c) -------------------------------------------------------- */

#define MSIGN_CMS_MAX_CERTS 16

struct msign_cert {
	char *cn;   /* subject commonName, NULL if none */
	char *ou;   /* subject organizationalUnitName, NULL if none */
	char *org;  /* subject organizationName, NULL if none */
	uint8_t sha1[20];   /* of the DER certificate */
	uint8_t sha256[32];
	bool self_signed;
	bool apple_devid_leaf;   /* ext 1.2.840.113635.100.6.1.13 */
	bool apple_devid_ca;     /* ext 1.2.840.113635.100.6.2.6 */
	bool apple_wwdr_ca;      /* ext 1.2.840.113635.100.6.2.1 */
	bool apple_root;         /* SHA-256 equals a known Apple root */
	uint8_t *der;            /* the certificate (malloc'd), for requirements */
	size_t der_len;
};

struct msign_cms_info {
	uint32_t ncerts;  /* chain from the signer up, as far as carried */
	struct msign_cert chain[MSIGN_CMS_MAX_CERTS];
	uint32_t nall_certs; /* certificates carried in total */
	bool has_signing_time;
	time_t signing_time;   /* UTC seconds */
	bool has_timestamp;
	time_t timestamp_time; /* RFC 3161 genTime */
	uint8_t message_digest[MSIGN_MAX_HASH_LEN];
	uint32_t message_digest_len;
	int digest_nid;        /* OpenSSL NID of the signer's digest */
	uint32_t ncdhashes;    /* from the 1.2.840.113635.100.9.1 plist */
	uint8_t cdhashes[MSIGN_MAX_CDS][MSIGN_CDHASH_LEN];
	/* From the CDHashes2 attribute (1.2.840.113635.100.9.2): one full
	 * (untruncated) CDHash per CodeDirectory with its digest's NID.
	 * has_cdhashes2 even when it lists none. */
	bool has_cdhashes2;
	uint32_t ncdhashes2;
	struct {
		int nid;
		uint32_t len;
		uint8_t hash[MSIGN_MAX_HASH_LEN];
	} cdhashes2[MSIGN_MAX_CDS];
};

/* sha256 (of a DER certificate) is one of Apple's pinned roots: Apple
 * Root CA, - G2, - G3. The only anchors msign trusts on its own. */
bool msign_cms_is_apple_root(const uint8_t sha256[32]);

/* Parse a CMS SignedData (BER, indefinite lengths allowed). d->file_off
 * is relative to der, when it names a place at all. */
int msign_cms_parse(const uint8_t *der, size_t len,
		    struct msign_cms_info *info, struct msign_diag *d);
void msign_cms_info_free(struct msign_cms_info *info);
struct x509_st; /* OpenSSL's X509, for the files that include x509.h */
/* The first subject attribute nid of x as UTF-8 (malloc'd, *out NULL
 * when absent) and its length, which a NUL inside it makes longer than
 * strlen. 0, MSIGN_E_CRYPTO or MSIGN_E_NOMEM. */
int msign_x509_subject_field(struct x509_st *x, int nid, char **out,
			     size_t *len);
/* An ASN.1 string as UTF-8: malloc'd, NUL added, *n its length (a NUL
 * inside makes it longer than strlen). 0, MSIGN_E_CRYPTO or MSIGN_E_NOMEM. */
struct asn1_string_st;
int msign_asn1_utf8(const struct asn1_string_st *s, char **out, size_t *n);
/* Does x carry the extension of dotted OID oid? */
bool msign_x509_has_ext(struct x509_st *x, const char *oid);

/* The implicit designated requirement codesign derives for a certificate
 * signature of identifier ident (malloc'd text, no "designated =>"). */
int msign_cms_designated(const struct msign_cms_info *info, const char *ident,
			 char **out, struct msign_diag *d);
/* The same for a signer's chain (leaf first, each issuer after it, as the
 * CMS will carry it): the designated requirement codesign embeds when it
 * signs with that identity (DRMaker's rules, as msign_cms_designated). */
int msign_cms_chain_designated(struct x509_st *const *chain, uint32_t n,
			       const char *ident, char **out, struct msign_diag *d);

#endif
