/* The accessors of the signing-information model (include/msign/info.h):
 * plain reads of what info.c fixed at open, except the digests, which are
 * computed on first use under the handle's lock (info_int.h). */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "hash/hash.h"
#include "info/info_int.h"
#include "sig/req.h"

/* LC_BUILD_VERSION's platform number for macOS (LC_VERSION_MIN_MACOSX maps
 * to it too), and the first SDK whose code can be library-validated, 10.9
 * packed as xxxx.yy.zz. */
#define MSIGN_PLATFORM_MACOS 1u
#define MSIGN_SDK_LIBRARY_VALIDATION 0x000a0900u

static const struct msign_diag no_error;

/* ---- a slice ------------------------------------------------------------- */

/* The slice's signature when it is usable, else NULL. */
static const struct msign_sig *sig_of(const msign_info_slice *s)
{
	return s->s->err == 0 && s->sig_err == 0 ? &s->sig : NULL;
}

static int status(const struct msign_diag *have, const struct msign_diag **d)
{
	if (d != NULL)
		*d = have;
	return have->code;
}

const char *msign_slice_arch(const msign_info_slice *s) { return s->arch; }
int32_t msign_slice_cputype(const msign_info_slice *s) { return s->s->cputype; }
int32_t msign_slice_cpusubtype(const msign_info_slice *s) { return s->s->cpusubtype; }
uint64_t msign_slice_offset(const msign_info_slice *s) { return s->s->off; }
uint64_t msign_slice_size(const msign_info_slice *s) { return s->s->size; }

int msign_slice_macho_status(const msign_info_slice *s,
			     const struct msign_diag **d)
{
	if (s->s->err == 0)
		return status(&no_error, d);
	if (d != NULL)
		*d = &s->s->diag;
	return s->s->err;
}

uint32_t msign_slice_filetype(const msign_info_slice *s)
{
	return s->s->err == 0 ? s->s->filetype : 0;
}

bool msign_slice_build_version(const msign_info_slice *s, uint32_t *platform,
			       uint32_t *minos, uint32_t *sdk)
{
	if (s->s->err != 0 || !s->s->has_version)
		return false;
	if (platform != NULL)
		*platform = s->s->version_platform;
	if (minos != NULL)
		*minos = s->s->version_min;
	if (sdk != NULL)
		*sdk = s->s->version_sdk;
	return true;
}

const char *msign_slice_library_validation_warning(const msign_info_slice *s)
{
	uint32_t platform = 0, sdk = 0;
	if (!msign_slice_build_version(s, &platform, NULL, &sdk) ||
	    platform != MSIGN_PLATFORM_MACOS || sdk >= MSIGN_SDK_LIBRARY_VALIDATION)
		return NULL;
	return "OS X SDK version before 10.9 does not support Library Validation";
}

int msign_slice_sig_status(const msign_info_slice *s,
			   const struct msign_diag **d)
{
	if (s->s->err != 0)
		return msign_slice_macho_status(s, d);
	if (d != NULL)
		*d = &s->sig_diag;
	return s->sig_err;
}

uint32_t msign_slice_sig_offset(const msign_info_slice *s)
{
	return sig_of(s) ? s->s->cs_dataoff : 0;
}

uint32_t msign_slice_sig_size(const msign_info_slice *s)
{
	return sig_of(s) ? s->s->cs_datasize : 0;
}

uint32_t msign_slice_blob_count(const msign_info_slice *s)
{
	return sig_of(s) ? s->sig.nblobs : 0;
}

bool msign_slice_blob(const msign_info_slice *s, uint32_t i, uint32_t *type,
		      uint32_t *magic, uint32_t *offset, uint32_t *length)
{
	if (sig_of(s) == NULL || i >= s->sig.nblobs)
		return false;
	const struct msign_blob *b = &s->sig.blobs[i];
	if (type != NULL)
		*type = b->type;
	if (magic != NULL)
		*magic = b->magic;
	if (offset != NULL)
		*offset = b->off;
	if (length != NULL)
		*length = b->len;
	return true;
}

uint32_t msign_slice_cd_count(const msign_info_slice *s)
{
	return sig_of(s) ? s->sig.ncds : 0;
}

const msign_info_cd *msign_slice_cd(const msign_info_slice *s, uint32_t i)
{
	return sig_of(s) && i < s->sig.ncds ? &s->cds[i] : NULL;
}

uint32_t msign_slice_chosen_cd_index(const msign_info_slice *s)
{
	return sig_of(s) ? (uint32_t)s->sig.best : 0;
}

const msign_info_cd *msign_slice_chosen_cd(const msign_info_slice *s)
{
	return sig_of(s) ? &s->cds[s->sig.best] : NULL;
}

bool msign_slice_cms_digest(const msign_info_slice *s, uint8_t out[32])
{
	if (sig_of(s) == NULL || s->sig.ncds == 0)
		return false;
	struct msign_info *info = s->info;
	struct msign_info_slice *w = (struct msign_info_slice *)s; /* lazy part */
	pthread_mutex_lock(&info->lock);
	if (!w->cms_digest_done) {
		/* SHA-256 of the lowest hash type's CD: its CDHash when that
		 * CD is itself SHA-256, so a large CD is hashed once. */
		struct msign_info_cd *low = &w->cds[w->sig.lowest];
		if (low->cd.hash_type == MSIGN_CS_HASHTYPE_SHA256) {
			w->has_cms_digest = msign_info_cd_hash_locked(low) == 0;
			if (w->has_cms_digest)
				memcpy(w->cms_digest, low->cd.cdhash, 32);
		} else {
			w->has_cms_digest = msign_sha256(low->cd.blob, low->cd.len,
							 w->cms_digest) == 0;
		}
		w->cms_digest_done = true;
	}
	bool have = w->has_cms_digest;
	pthread_mutex_unlock(&info->lock);
	if (have)
		memcpy(out, s->cms_digest, 32);
	return have;
}

enum msign_sig_kind msign_slice_sig_kind(const msign_info_slice *s)
{
	return sig_of(s) ? s->kind : MSIGN_SIG_NONE;
}

bool msign_slice_cms_present(const msign_info_slice *s)
{
	return sig_of(s) && s->sig.cms != NULL;
}

uint32_t msign_slice_cms_size(const msign_info_slice *s)
{
	return sig_of(s) && s->sig.cms != NULL ? msign_blob_payload_len(s->sig.cms) : 0;
}

int msign_slice_cms_status(const msign_info_slice *s,
			   const struct msign_diag **d)
{
	return status(sig_of(s) ? &s->cms_diag : &no_error, d);
}

uint32_t msign_slice_cert_count(const msign_info_slice *s)
{
	return sig_of(s) && s->has_cms ? s->cms.ncerts : 0;
}

const msign_info_cert *msign_slice_cert(const msign_info_slice *s,
					uint32_t i)
{
	return i < msign_slice_cert_count(s) ? &s->certs[i] : NULL;
}

uint32_t msign_slice_cert_carried(const msign_info_slice *s)
{
	return sig_of(s) && s->has_cms ? s->cms.nall_certs : 0;
}

bool msign_slice_signing_time(const msign_info_slice *s, time_t *t)
{
	if (!(sig_of(s) && s->has_cms && s->cms.has_signing_time))
		return false;
	if (t != NULL)
		*t = s->cms.signing_time;
	return true;
}

bool msign_slice_timestamp(const msign_info_slice *s, time_t *t)
{
	if (!(sig_of(s) && s->has_cms && s->cms.has_timestamp))
		return false;
	if (t != NULL)
		*t = s->cms.timestamp_time;
	return true;
}

const uint8_t *msign_slice_message_digest(const msign_info_slice *s,
					  size_t *len)
{
	bool have = sig_of(s) && s->has_cms && s->cms.message_digest_len > 0;
	if (len != NULL)
		*len = have ? s->cms.message_digest_len : 0;
	return have ? s->cms.message_digest : NULL;
}

const uint8_t *msign_slice_requirements(const msign_info_slice *s,
					size_t *len)
{
	const struct msign_blob *rq = sig_of(s) ? s->sig.requirements : NULL;
	if (len != NULL)
		*len = rq != NULL ? rq->len : 0;
	return rq != NULL ? rq->data : NULL;
}

uint32_t msign_slice_requirement_count(const msign_info_slice *s)
{
	return sig_of(s) ? s->sig.req_count : 0;
}

const char *msign_slice_requirements_text(const msign_info_slice *s)
{
	return sig_of(s) ? s->req_text : NULL;
}

int msign_slice_requirements_status(const msign_info_slice *s,
				    const struct msign_diag **d)
{
	return status(sig_of(s) ? &s->req_diag : &no_error, d);
}

const char *msign_slice_designated_requirement(const msign_info_slice *s,
					       bool *implicit)
{
	if (implicit != NULL)
		*implicit = false;
	if (sig_of(s) == NULL)
		return NULL;
	if (s->dr != NULL)
		return s->dr; /* explicit, fixed at open */
	/* A damaged set may hide an explicit one, and a damaged CMS names no
	 * signer: neither gets a requirement derived in its place. */
	if (s->req_diag.code != 0 || s->cms_diag.code != 0)
		return NULL;
	struct msign_info *info = s->info;
	struct msign_info_slice *w = (struct msign_info_slice *)s; /* lazy part */
	pthread_mutex_lock(&info->lock);
	if (!w->implicit_done) {
		/* Needs every slice's CDHashes (ad-hoc code). */
		w->implicit = msign_info_implicit_dr(info, (uint32_t)(w - info->slices));
		w->implicit_done = true;
	}
	const char *dr = w->implicit;
	pthread_mutex_unlock(&info->lock);
	if (implicit != NULL)
		*implicit = dr != NULL;
	return dr;
}

const char *msign_slice_entitlements_xml(const msign_info_slice *s,
					 size_t *len)
{
	const char *x = sig_of(s) ? s->ent_xml : NULL;
	if (len != NULL)
		*len = x != NULL ? s->ent_xml_len : 0;
	return x;
}

const uint8_t *msign_slice_entitlements_der(const msign_info_slice *s,
					    size_t *len)
{
	const struct msign_blob *b = sig_of(s) ? s->sig.ent_der : NULL;
	if (len != NULL)
		*len = b != NULL ? msign_blob_payload_len(b) : 0;
	return b != NULL ? msign_blob_payload(b) : NULL;
}

int msign_slice_entitlements_status(const msign_info_slice *s,
				    const struct msign_diag **d)
{
	return status(sig_of(s) ? &s->ent_diag : &no_error, d);
}

uint32_t msign_slice_entitlement_count(const msign_info_slice *s)
{
	return sig_of(s) ? s->nents : 0;
}

const char *msign_slice_entitlement_key(const msign_info_slice *s,
					uint32_t i)
{
	return i < msign_slice_entitlement_count(s) ? s->ents[i].key : NULL;
}

static const struct info_ent *ent_find(const msign_info_slice *s,
				       const char *key)
{
	for (uint32_t i = 0; key != NULL && i < msign_slice_entitlement_count(s);
	     i++)
		if (strcmp(s->ents[i].key, key) == 0)
			return &s->ents[i];
	return NULL;
}

enum msign_ent_type msign_slice_entitlement_type(const msign_info_slice *s,
						 const char *key)
{
	const struct info_ent *e = ent_find(s, key);
	return e != NULL ? e->type : MSIGN_ENT_ABSENT;
}

bool msign_slice_entitlement_bool(const msign_info_slice *s, const char *key)
{
	const struct info_ent *e = ent_find(s, key);
	return e != NULL && e->type == MSIGN_ENT_BOOL && e->b;
}

const char *msign_slice_entitlement_string(const msign_info_slice *s,
					   const char *key)
{
	const struct info_ent *e = ent_find(s, key);
	return e != NULL && e->type == MSIGN_ENT_STRING ? e->str : NULL;
}

bool msign_slice_info_plist(const msign_info_slice *s, uint32_t *entries)
{
	bool bound = sig_of(s) && s->info_plist;
	if (entries != NULL)
		*entries = bound ? s->info_plist_entries : 0;
	return bound;
}

const uint8_t *msign_slice_launch_constraint(const msign_info_slice *s,
					     unsigned which, size_t *len)
{
	const struct msign_blob *b =
		sig_of(s) && which < 4 ? s->sig.launch[which] : NULL;
	if (len != NULL)
		*len = b != NULL ? b->len : 0;
	return b != NULL ? b->data : NULL;
}

int msign_slice_blob_status(const msign_info_slice *s,
			    const struct msign_diag **d)
{
	return status(sig_of(s) ? &s->blob_diag : &no_error, d);
}

/* ---- a CodeDirectory ------------------------------------------------------ */

uint32_t msign_cd_slot(const msign_info_cd *cd) { return cd->cd.slot; }
uint32_t msign_cd_version(const msign_info_cd *cd) { return cd->cd.version; }
uint32_t msign_cd_size(const msign_info_cd *cd) { return cd->cd.len; }
uint32_t msign_cd_flags(const msign_info_cd *cd) { return cd->cd.flags; }
uint8_t msign_cd_hash_type(const msign_info_cd *cd) { return cd->cd.hash_type; }
uint8_t msign_cd_hash_size(const msign_info_cd *cd) { return cd->cd.hash_size; }
const char *msign_cd_identifier(const msign_info_cd *cd) { return cd->cd.ident; }
const char *msign_cd_team(const msign_info_cd *cd) { return cd->cd.team; }
uint8_t msign_cd_platform(const msign_info_cd *cd) { return cd->cd.platform; }
uint32_t msign_cd_code_slots(const msign_info_cd *cd) { return cd->cd.ncode; }
uint32_t msign_cd_special_slots(const msign_info_cd *cd) { return cd->cd.nspecial; }

uint32_t msign_cd_page_size(const msign_info_cd *cd)
{
	return cd->cd.page_log2 ? 1u << cd->cd.page_log2 : 0;
}

uint64_t msign_cd_code_limit(const msign_info_cd *cd)
{
	return msign_codedir_limit(&cd->cd);
}

bool msign_cd_exec_segment(const msign_info_cd *cd, uint64_t *base,
			   uint64_t *limit, uint64_t *flags)
{
	if (cd->cd.version < MSIGN_CS_SUPPORTSEXECSEG)
		return false;
	if (base != NULL)
		*base = cd->cd.exec_seg_base;
	if (limit != NULL)
		*limit = cd->cd.exec_seg_limit;
	if (flags != NULL)
		*flags = cd->cd.exec_seg_flags;
	return true;
}

bool msign_cd_runtime(const msign_info_cd *cd, uint32_t *version)
{
	if (cd->cd.version < MSIGN_CS_SUPPORTSRUNTIME)
		return false;
	if (version != NULL)
		*version = cd->cd.runtime;
	return true;
}

const uint8_t *msign_cd_cdhash(const msign_info_cd *cd, size_t *len)
{
	struct msign_info_cd *w = (struct msign_info_cd *)cd; /* lazy part */
	pthread_mutex_lock(&cd->info->lock);
	bool have = msign_info_cd_hash_locked(w) == 0;
	pthread_mutex_unlock(&cd->info->lock);
	if (len != NULL)
		*len = have ? cd->cd.cdhash_len : 0;
	return have ? cd->cd.cdhash : NULL;
}

const uint8_t *msign_cd_slot_hash(const msign_info_cd *cd, int64_t n)
{
	return msign_codedir_slot(&cd->cd, n);
}

int msign_info_cd_pages_mismatched(const msign_info *info,
				   const msign_info_slice *s,
				   const msign_info_cd *cd, uint32_t *bad,
				   struct msign_diag *d)
{
	if (info == NULL || s == NULL || cd == NULL || bad == NULL)
		return msign_diag_set(d, MSIGN_E_ARG, 0,
				      "msign_info_cd_pages_mismatched: NULL argument");
	/* The three handles must be one file's, slice's and CD's. */
	bool mine = false;
	for (uint32_t i = 0; sig_of(s) != NULL && i < s->sig.ncds; i++)
		mine = mine || cd == &s->cds[i];
	if (s->info != info || !mine)
		return msign_diag_set(d, MSIGN_E_ARG, 0,
				      "msign_info_cd_pages_mismatched: the slice or CodeDirectory is not this file's");
	return msign_codedir_count_bad_pages(info->img, &cd->cd, s->s, bad, d);
}

/* ---- a certificate --------------------------------------------------------- */

const char *msign_cert_common_name(const msign_info_cert *c) { return c->c.cn; }
const char *msign_cert_org_unit(const msign_info_cert *c) { return c->c.ou; }
const char *msign_cert_organization(const msign_info_cert *c) { return c->c.org; }
const uint8_t *msign_cert_sha1(const msign_info_cert *c) { return c->c.sha1; }
const uint8_t *msign_cert_sha256(const msign_info_cert *c) { return c->c.sha256; }

uint32_t msign_cert_roles(const msign_info_cert *c)
{
	return (c->c.self_signed ? MSIGN_CERT_SELF_SIGNED : 0) |
	       (c->c.apple_root ? MSIGN_CERT_APPLE_ROOT : 0) |
	       (c->c.apple_wwdr_ca ? MSIGN_CERT_APPLE_WWDR_CA : 0) |
	       (c->c.apple_devid_ca ? MSIGN_CERT_APPLE_DEVID_CA : 0) |
	       (c->c.apple_devid_leaf ? MSIGN_CERT_APPLE_DEVID_LEAF : 0);
}

/* ---- names ---------------------------------------------------------------- */

const char *msign_hash_type_name(uint8_t type)
{
	return msign_hashtype_name(type);
}

const char *msign_requirement_type_name(uint32_t type)
{
	return msign_req_type_name(type);
}

size_t msign_cd_flags_text(uint32_t flags, char *buf, size_t len)
{
	static const struct {
		uint32_t bit;
		const char *name;
	} names[] = {
		{ MSIGN_CS_HOST, "host" },
		{ MSIGN_CS_ADHOC, "adhoc" },
		{ MSIGN_CS_HARD, "hard" },
		{ MSIGN_CS_KILL, "kill" },
		{ MSIGN_CS_CHECK_EXPIRATION, "expires" },
		{ MSIGN_CS_RESTRICT, "restrict" },
		{ MSIGN_CS_ENFORCEMENT, "enforcement" },
		{ MSIGN_CS_REQUIRE_LV, "library-validation" },
		{ MSIGN_CS_RUNTIME, "runtime" },
		{ MSIGN_CS_LINKER_SIGNED, "linker-signed" },
	};
	char tmp[256];
	size_t used = 0;
	uint32_t left = flags;
	tmp[0] = '\0';
	if (flags == 0)
		used = (size_t)snprintf(tmp, sizeof(tmp), "none");
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!(flags & names[i].bit))
			continue;
		left &= ~names[i].bit;
		used += (size_t)snprintf(tmp + used, sizeof(tmp) - used, "%s%s",
					 used ? "," : "", names[i].name);
	}
	if (left != 0)
		snprintf(tmp + used, sizeof(tmp) - used, "%s???",
			 used ? "," : "");
	return (size_t)snprintf(buf, len, "%s", tmp);
}
