/* Digests through OpenSSL's EVP interface (SHA-NI where the CPU has it).
 * OpenSSL is also known to hash/hashpool.c, sig/cms.c, sign/sign_cms.c and
 * sign/tsa.c, and to no other file. */
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <string.h>

#include "sig/codesign.h"
#include "sig/req.h"
#include "sig/cms.h"
#include "sig/ent.h"
#include "hash/hash.h"

/* The one table of CodeDirectory hash types: codesign's name, the bytes a
 * CD keeps of the digest, and the digest OpenSSL computes. */
static const struct hash_kind {
	uint8_t type;
	const char *name;
	uint32_t size;
	const char *md; /* OpenSSL's name, for EVP_MD_fetch */
} hash_kinds[] = {
	{ MSIGN_CS_HASHTYPE_SHA1, "sha1", 20, "SHA1" },
	{ MSIGN_CS_HASHTYPE_SHA256, "sha256", 32, "SHA256" },
	{ MSIGN_CS_HASHTYPE_SHA256_TRUNCATED, "sha256-truncated", 20, "SHA256" },
	{ MSIGN_CS_HASHTYPE_SHA384, "sha384", 48, "SHA384" },
};

static const struct hash_kind *hash_kind(uint8_t type)
{
	for (size_t i = 0; i < sizeof(hash_kinds) / sizeof(hash_kinds[0]); i++)
		if (hash_kinds[i].type == type)
			return &hash_kinds[i];
	return NULL;
}

const char *msign_hashtype_name(uint8_t type)
{
	const struct hash_kind *k = hash_kind(type);
	return k != NULL ? k->name : NULL;
}

uint32_t msign_hashtype_size(uint8_t type)
{
	const struct hash_kind *k = hash_kind(type);
	return k != NULL ? k->size : 0;
}

/* Fetched explicitly: OpenSSL 3 would otherwise fetch the digest again at
 * every EVP_DigestInit, which the page hasher does once per page. */
int msign_hashtype_nid(uint8_t type)
{
	const struct hash_kind *k = hash_kind(type);
	return k != NULL ? OBJ_txt2nid(k->md) : NID_undef;
}

int msign_hash_md(uint8_t type, EVP_MD **md, struct msign_diag *d)
{
	const struct hash_kind *k = hash_kind(type);
	*md = NULL;
	if (k == NULL)
		return msign_diag_set(d, MSIGN_E_UNSUPPORTED, 0,
				      "unknown hash type %u", type);
	*md = EVP_MD_fetch(NULL, k->md, NULL);
	if (*md == NULL)
		return msign_diag_set(d, MSIGN_E_CRYPTO, 0, "OpenSSL has no %s",
				      k->md);
	return 0;
}

int msign_hash(uint8_t hash_type, const uint8_t *data, size_t len,
	       uint8_t *out, uint32_t *out_len)
{
	EVP_MD *md;
	int r = msign_hash_md(hash_type, &md, NULL);
	if (r)
		return r;
	uint8_t full[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	r = EVP_Digest(data, len, full, &n, md, NULL) == 1 ? 0 : MSIGN_E_CRYPTO;
	EVP_MD_free(md);
	if (r)
		return r;
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

int msign_hash_nid(int nid, const uint8_t *data, size_t len, uint8_t *out,
		   uint32_t *out_len)
{
	const EVP_MD *md = EVP_get_digestbynid(nid);
	unsigned int n = 0;
	if (md == NULL)
		return MSIGN_E_UNSUPPORTED;
	if (EVP_Digest(data, len, out, &n, md, NULL) != 1)
		return MSIGN_E_CRYPTO;
	*out_len = n;
	return 0;
}
