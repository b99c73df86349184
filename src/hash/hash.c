/* Digests through OpenSSL's EVP interface (SHA-NI where the CPU has it).
 * The only file besides cms.c and entitlements.c that knows OpenSSL. */
#include <openssl/evp.h>
#include <string.h>

#include "sig/codesign.h"
#include "sig/req.h"
#include "sig/cms.h"
#include "sig/ent.h"
#include "hash/hash.h"

static const EVP_MD *hash_md(uint8_t type)
{
	switch (type) {
	case MSIGN_CS_HASHTYPE_SHA1: return EVP_sha1();
	case MSIGN_CS_HASHTYPE_SHA256:
	case MSIGN_CS_HASHTYPE_SHA256_TRUNCATED: return EVP_sha256();
	case MSIGN_CS_HASHTYPE_SHA384: return EVP_sha384();
	default: return NULL;
	}
}

const char *msign_hashtype_name(uint8_t type)
{
	switch (type) {
	case MSIGN_CS_HASHTYPE_SHA1: return "sha1";
	case MSIGN_CS_HASHTYPE_SHA256: return "sha256";
	case MSIGN_CS_HASHTYPE_SHA256_TRUNCATED: return "sha256-truncated";
	case MSIGN_CS_HASHTYPE_SHA384: return "sha384";
	default: return NULL;
	}
}

uint32_t msign_hashtype_size(uint8_t type)
{
	switch (type) {
	case MSIGN_CS_HASHTYPE_SHA1: return 20;
	case MSIGN_CS_HASHTYPE_SHA256: return 32;
	case MSIGN_CS_HASHTYPE_SHA256_TRUNCATED: return 20;
	case MSIGN_CS_HASHTYPE_SHA384: return 48;
	default: return 0;
	}
}

int msign_hash(uint8_t hash_type, const uint8_t *data, size_t len,
	       uint8_t *out, uint32_t *out_len)
{
	const EVP_MD *md = hash_md(hash_type);
	if (md == NULL)
		return MSIGN_E_UNSUPPORTED;
	uint8_t full[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	if (EVP_Digest(data, len, full, &n, md, NULL) != 1)
		return MSIGN_E_CRYPTO;
	uint32_t want = msign_hashtype_size(hash_type);
	memcpy(out, full, want);
	*out_len = want;
	return 0;
}

int msign_sha256(const uint8_t *data, size_t len, uint8_t out[32])
{
	unsigned int n = 0;
	return EVP_Digest(data, len, out, &n, EVP_sha256(), NULL) == 1
		       ? 0 : MSIGN_E_CRYPTO;
}

int msign_sig_cms_digest(const struct msign_sig *sig, uint8_t out[32])
{
	const struct msign_codedir *low = &sig->cds[sig->lowest];
	if (low->hash_type == MSIGN_CS_HASHTYPE_SHA256) {
		memcpy(out, low->cdhash, 32);
		return 0;
	}
	return msign_sha256(low->blob, low->len, out);
}
