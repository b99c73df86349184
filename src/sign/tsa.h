/* msign: RFC 3161 secure timestamps for CMS signatures (tsa.c).
 * The token a TSA returns goes, unchanged, into the signer's unsigned
 * attribute 1.2.840.113549.1.9.16.2.14 (id-aa-timeStampToken). */
#ifndef MSIGN_SIGN_TSA_H
#define MSIGN_SIGN_TSA_H

#include <stddef.h>
#include <stdint.h>

#include "msign/err.h"

/* Apple's service, which codesign uses for --timestamp without a URL. */
#define MSIGN_TSA_APPLE_URL "http://timestamp.apple.com/ts01"

struct msign_tsa_opts {
	const char *url;       /* NULL: MSIGN_TSA_APPLE_URL */
	unsigned timeout_s;    /* per attempt; 0: 30 */
	unsigned attempts;     /* 0: 3; a delay that doubles between them */
	/* Added after the rest (so initialisers written for the first three
	 * stay valid): the first delay between attempts; 0: 1000 ms. */
	unsigned retry_delay_ms;
};

/* Ask the TSA for a token over SHA-256(data) (data: the SignerInfo's
 * signature value), with a random nonce, and check the reply: HTTP 200,
 * status granted (or grantedWithMods), a SignedData token whose TSTInfo
 * has the same imprint (SHA-256 and digest) and nonce. *token gets the
 * TimeStampToken (a CMS ContentInfo, DER), malloc'd, *token_len its
 * length; *gen_time its genTime when gen_time is not NULL. Any failure is
 * a negative MSIGN_E_* with a one-sentence reason in d (never a token
 * that was not checked). Proxies come from the environment (libcurl's
 * http_proxy, https_proxy, no_proxy). */
int msign_tsa_request(const struct msign_tsa_opts *o, const uint8_t *data,
		      size_t len, uint8_t **token, size_t *token_len,
		      int64_t *gen_time, struct msign_diag *d);

#endif
