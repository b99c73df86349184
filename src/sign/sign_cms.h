/* msign: signing identities and the CMS signature of a certificate
 * signature (sign_cms.c; OpenSSL stays inside it). */
#ifndef MSIGN_SIGN_SIGN_CMS_H
#define MSIGN_SIGN_SIGN_CMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "msign/err.h"
#include "sig/codesign.h"

struct msign_sign_identity;
struct msign_tsa_opts;

/* Where an identity is read from: a PEM key and certificate (plus issuers
 * in chain_path), a PKCS#12 file and its password (never from argv), or
 * a key on a PKCS#11 token (an RFC 7512 URI, the module, the PIN), whose
 * certificate is the token's under the same URI unless cert_path names
 * one, and whose issuers may be on the token too. */
struct msign_identity_src {
	const char *key_path, *cert_path, *chain_path;
	const char *p12_path, *p12_password;
	const char *pkcs11_uri, *pkcs11_module, *pkcs11_pin;
};

/* Load the identity whose leaf certificate want names: its subject CN,
 * a substring of it found in one leaf only, or its SHA-1 in hex. The key
 * must be RSA or ECDSA P-256 and belong to the leaf. The leaf's issuers
 * are taken from the files, to the root. */
int msign_identity_load(const struct msign_identity_src *src, const char *want,
			struct msign_sign_identity **out, struct msign_diag *d);
void msign_identity_free(struct msign_sign_identity *id);
/* The designated requirement codesign embeds for this identity's chain
 * and identifier ident: malloc'd text without "designated => ". */
int msign_identity_designated(const struct msign_sign_identity *id,
			      const char *ident, char **text, struct msign_diag *d);
/* The leaf's subject CN ("" when none), for messages. */
const char *msign_identity_name(const struct msign_sign_identity *id);
/* Does the leaf carry Developer ID Application's marker (extension
 * 1.2.840.113635.100.6.1.13)? */
bool msign_identity_devid_app(const struct msign_sign_identity *id);
/* The leaf's subject OU, or NULL. */
const char *msign_identity_team(const struct msign_sign_identity *id);
/* Bytes to reserve for the CMS blob's payload before anything is hashed
 * (datasize is in the hashed header): codesign's 18000, or more when the
 * chain and timestamp may need it; always at least the real size. */
size_t msign_identity_cms_reserve(const struct msign_sign_identity *id,
				  uint32_t ncds, bool timestamp);

struct msign_cms_cd {
	uint8_t hash_type;      /* the CD's CS_HASHTYPE_* */
	uint8_t hash[MSIGN_MAX_HASH_LEN]; /* the CD's full hash (cdhash) */
	uint32_t hash_len;
};

struct msign_cms_in {
	const uint8_t *cd;      /* the slot-0 CodeDirectory: the content */
	size_t cd_len;
	const struct msign_cms_cd *cds; /* every CD, in slot order */
	uint32_t ncds;
	int64_t signing_time;   /* seconds since 1970, UTC */
	bool no_signing_time;   /* no signingTime attribute at all */
	const struct msign_tsa_opts *tsa; /* NULL: no timestamp */
};

/* The CMS (DER, malloc'd) codesign writes for in. */
int msign_identity_sign(const struct msign_sign_identity *id,
			const struct msign_cms_in *in, uint8_t **out,
			size_t *out_len, struct msign_diag *d);

#endif
