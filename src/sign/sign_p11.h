/* msign: a signing key that stays on a PKCS#11 token, named by an RFC 7512
 * URI (sign_p11.c; only sign_cms.c includes this). */
#ifndef MSIGN_SIGN_SIGN_P11_H
#define MSIGN_SIGN_SIGN_P11_H

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "msign/err.h"

/* What keeps a token key usable: freed after the key, never before. */
struct msign_p11;

/* The private key uri names, and with cert != NULL the certificate the
 * same URI names, from the token that module (NULL: the engine's default)
 * gives access to, logging in with pin (NULL: none, or the URI's
 * pin-source). Never prompts. With a module and a token label in the URI,
 * the token's CA certificates are appended to cas (also on failure).
 * *p11 is to be released with msign_p11_release once *key is freed. */
int msign_p11_load(const char *uri, const char *module, const char *pin,
		   EVP_PKEY **key, X509 **cert, STACK_OF(X509) *cas,
		   struct msign_p11 **p11, struct msign_diag *d);
void msign_p11_release(struct msign_p11 *p11);

#endif
