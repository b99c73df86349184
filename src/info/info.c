/* The signing-information model (include/msign/info.h): everything
 * codesign -d knows about a file, computed once at open from the parsers
 * of the lower layers (macho, sig) and kept immutable, so the accessors
 * are plain reads and a handle may be shared between threads. */
#include <plist/plist.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hash/hash.h"
#include "info/info_int.h"
#include "macho/macho.h"
#include "msign/info.h"
#include "sig/cms.h"
#include "sig/codesign.h"
#include "sig/ent.h"
#include "sig/req.h"

/* An entitlements dictionary larger than this is not parsed into keys
 * (its XML is still available); Apple's largest are a few KiB. */
#define INFO_ENT_MAX_LEN (16u << 20)

/* The digests (CDHash, CMSDigest, the implicit designated requirement
 * built from CDHashes) are computed on first use, under the handle's
 * lock: show of one small slice of a universal file must not hash the
 * megabytes of another slice's CodeDirectory. Everything else is fixed at
 * open. */
struct msign_info_cd {
	struct msign_codedir cd;
	struct msign_info *info;
	bool hashed; /* cd.cdhash holds the digest (cd.cdhash_len != 0) */
};

struct msign_info_cert {
	struct msign_cert c;
};

struct info_ent {
	char *key;
	enum msign_ent_type type;
	bool b;
	char *str; /* MSIGN_ENT_STRING */
};

struct msign_info_slice {
	struct msign_info *info; /* its file, for the lock */
	const struct msign_slice *s;
	char arch[40];

	int sig_err; /* 0, MSIGN_E_NOT_SIGNED, or the damage */
	struct msign_diag sig_diag;
	struct msign_sig sig;
	struct msign_info_cd cds[MSIGN_MAX_CDS];
	bool cms_digest_done, has_cms_digest; /* lazy, under info->lock */
	uint8_t cms_digest[32];
	enum msign_sig_kind kind;

	bool has_cms;
	struct msign_diag cms_diag; /* code != 0: the CMS blob is damaged */
	struct msign_cms_info cms;
	struct msign_info_cert certs[MSIGN_CMS_MAX_CERTS];

	struct msign_diag req_diag;
	char *req_text;
	char *dr;          /* the explicit one, fixed at open */
	char *implicit;    /* derived when dr is NULL: lazy, under the lock */
	bool implicit_done;

	char *ent_xml;
	size_t ent_xml_len;
	struct msign_diag ent_diag;
	struct info_ent *ents;
	uint32_t nents;

	bool info_plist;
	uint32_t info_plist_entries;

	struct msign_diag blob_diag;
};

struct msign_info {
	pthread_mutex_t lock; /* the lazy digests */
	struct msign_image *img;
	char *format;
	uint32_t default_slice;
	struct msign_info_slice *slices; /* img->nslices */
};

static const struct msign_diag no_error;

/* ---- building ------------------------------------------------------------ */

/* The CodeDirectory's digest, computed once (caller holds the lock). */
static int cd_hash_locked(struct msign_info_cd *c)
{
	if (c->hashed)
		return 0;
	int r = msign_hash(c->cd.hash_type, c->cd.blob, c->cd.len,
			   c->cd.cdhash, &c->cd.cdhash_len);
	if (r == 0)
		c->hashed = true;
	return r;
}

/* Append the " or "-joined cdhash clauses of one signature to *buf. */
static int dr_add_cdhashes(char **buf, size_t *used, size_t *cap,
			   struct msign_info_slice *is)
{
	static const char hexd[] = "0123456789abcdef";
	for (uint32_t i = 0; i < is->sig.ncds; i++) {
		if (cd_hash_locked(&is->cds[i]) != 0)
			return MSIGN_E_CRYPTO;
		const uint8_t *h = is->cds[i].cd.cdhash;
		size_t need = *used + 64;
		if (need > *cap) {
			size_t ncap = need * 2;
			char *nb = realloc(*buf, ncap);
			if (nb == NULL)
				return MSIGN_E_NOMEM;
			*buf = nb;
			*cap = ncap;
		}
		char hex[41];
		for (int k = 0; k < 20; k++) {
			hex[2 * k] = hexd[h[k] >> 4];
			hex[2 * k + 1] = hexd[h[k] & 0xf];
		}
		hex[40] = '\0';
		*used += (size_t)snprintf(*buf + *used, *cap - *used,
					  "%scdhash H\"%s\"",
					  *used ? " or " : "", hex);
	}
	return 0;
}

/* The designated requirement codesign derives when the set has none: the
 * signer's anchor and leaf for a CMS signature; for other code its
 * CDHashes, this slice's first, then every other signed slice's in
 * Format= order. */
static char *implicit_dr(struct msign_info *info, uint32_t idx)
{
	struct msign_info_slice *is = &info->slices[idx];
	if (is->has_cms) {
		char *out = NULL;
		const struct msign_codedir *cd = &is->sig.cds[is->sig.best];
		if (msign_cms_designated(&is->cms, cd->ident, &out, NULL) == 0)
			return out;
		return NULL;
	}
	size_t used = 0, cap = 256;
	char *buf = malloc(cap);
	if (buf == NULL)
		return NULL;
	buf[0] = '\0';
	if (dr_add_cdhashes(&buf, &used, &cap, is) != 0)
		goto fail;
	uint32_t order[MSIGN_MAX_SLICES];
	msign_image_sorted(info->img, order);
	for (uint32_t i = 0; i < info->img->nslices; i++) {
		struct msign_info_slice *o = &info->slices[order[i]];
		if (order[i] == idx || o->s->err != 0 || o->sig_err != 0)
			continue;
		if (dr_add_cdhashes(&buf, &used, &cap, o) != 0)
			goto fail;
	}
	return buf;
fail:
	free(buf);
	return NULL;
}

/* Not plist_get_string_val: libplist 2.2 asserts (aborts) on a string
 * holding a NUL byte, which a hostile plist can carry. */
static char *dup_plist_string(plist_t node)
{
	uint64_t len = 0;
	const char *v = plist_get_string_ptr(node, &len);
	if (v == NULL || len > INFO_ENT_MAX_LEN || memchr(v, 0, (size_t)len))
		return NULL;
	return strndup(v, (size_t)len);
}

/* The top-level keys of the entitlements dictionary. A plist that does
 * not parse leaves the list empty: the XML text is what was signed, and
 * its damage shows in msign_slice_entitlements_status only when the DER
 * form does not convert (as codesign -d). */
static int load_ent_dict(struct msign_info_slice *is)
{
	/* A NUL byte in the text would cut a key short in libplist's parser
	 * ("a\0b" read as "a"): such a dictionary is not listed at all. */
	if (is->ent_xml == NULL || is->ent_xml_len == 0 ||
	    is->ent_xml_len > INFO_ENT_MAX_LEN ||
	    memchr(is->ent_xml, 0, is->ent_xml_len) != NULL)
		return 0;
	plist_t root = NULL;
	plist_from_memory(is->ent_xml, (uint32_t)is->ent_xml_len, &root);
	if (root == NULL)
		return 0;
	int rc = 0;
	if (plist_get_node_type(root) != PLIST_DICT)
		goto out;
	uint32_t n = plist_dict_get_size(root);
	if (n == 0)
		goto out;
	is->ents = calloc(n, sizeof(*is->ents));
	if (is->ents == NULL) {
		rc = MSIGN_E_NOMEM;
		goto out;
	}
	plist_dict_iter it = NULL;
	plist_dict_new_iter(root, &it);
	for (uint32_t i = 0; i < n && it != NULL; i++) {
		char *key = NULL;
		plist_t val = NULL;
		plist_dict_next_item(root, it, &key, &val);
		if (key == NULL)
			break;
		struct info_ent *e = &is->ents[is->nents];
		e->key = strdup(key);
		free(key);
		if (e->key == NULL) {
			rc = MSIGN_E_NOMEM;
			break;
		}
		is->nents++;
		switch (plist_get_node_type(val)) {
		case PLIST_BOOLEAN: {
			uint8_t b = 0;
			plist_get_bool_val(val, &b);
			e->type = MSIGN_ENT_BOOL;
			e->b = b != 0;
			break;
		}
		case PLIST_STRING:
			e->type = MSIGN_ENT_STRING;
			e->str = dup_plist_string(val); /* NULL: see above */
			break;
		case PLIST_UINT: e->type = MSIGN_ENT_INTEGER; break;
		case PLIST_ARRAY: e->type = MSIGN_ENT_ARRAY; break;
		case PLIST_DICT: e->type = MSIGN_ENT_DICT; break;
		default: e->type = MSIGN_ENT_OTHER; break;
		}
		if (rc != 0)
			break;
	}
	free(it);
out:
	plist_free(root);
	return rc;
}

/* Entitlements: the XML blob as the signer wrote it, else the DER blob
 * converted. */
static int load_entitlements(struct msign_info_slice *is)
{
	const struct msign_blob *x = is->sig.ent_xml;
	if (x != NULL) {
		size_t n = msign_blob_payload_len(x);
		is->ent_xml = malloc(n + 1);
		if (is->ent_xml == NULL)
			return MSIGN_E_NOMEM;
		memcpy(is->ent_xml, msign_blob_payload(x), n);
		is->ent_xml[n] = '\0';
		is->ent_xml_len = n;
	} else if (is->sig.ent_der != NULL) {
		int r = msign_ent_der_to_xml(msign_blob_payload(is->sig.ent_der),
					     msign_blob_payload_len(is->sig.ent_der),
					     &is->ent_xml, &is->ent_xml_len,
					     &is->ent_diag);
		if (r == MSIGN_E_NOMEM)
			return r;
		if (r != 0) {
			is->ent_diag.file_off += is->s->off + is->s->cs_dataoff +
						 is->sig.ent_der->off + MSIGN_BLOB_HEADER_LEN;
			return 0;
		}
	}
	return load_ent_dict(is);
}

/* Facts of one signed slice that need no other slice. The blob parsers
 * see one blob: their offsets are moved to the file here. */
static int load_sig(struct msign_info *info, struct msign_info_slice *is)
{
	struct msign_sig *sig = &is->sig;
	for (uint32_t i = 0; i < sig->ncds; i++) {
		is->cds[i].cd = sig->cds[i];
		is->cds[i].info = info;
	}
	const struct msign_codedir *cd = &sig->cds[sig->best];
	if (cd->flags & MSIGN_CS_ADHOC)
		is->kind = MSIGN_SIG_ADHOC;
	else if (sig->cms != NULL && sig->cms->len > MSIGN_BLOB_HEADER_LEN)
		is->kind = MSIGN_SIG_CMS;
	else
		is->kind = MSIGN_SIG_NONE;
	if (sig->cms != NULL && sig->cms->len > MSIGN_BLOB_HEADER_LEN) {
		int r = msign_cms_parse(msign_blob_payload(sig->cms),
					msign_blob_payload_len(sig->cms),
					&is->cms, &is->cms_diag);
		if (r == MSIGN_E_NOMEM)
			return r;
		is->has_cms = r == 0;
		if (r != 0)
			is->cms_diag.file_off += is->s->off + is->s->cs_dataoff +
						 sig->cms->off + MSIGN_BLOB_HEADER_LEN;
		for (uint32_t i = 0; is->has_cms && i < is->cms.ncerts; i++)
			is->certs[i].c = is->cms.chain[i];
	}
	if (sig->blob_err != 0) {
		is->blob_diag.code = sig->blob_err;
		snprintf(is->blob_diag.msg, sizeof(is->blob_diag.msg), "%s",
			 sig->blob_err_msg);
	}
	const struct msign_blob *rq = sig->requirements;
	if (rq != NULL) {
		uint32_t count = 0;
		bool has_dr = false;
		int r = msign_reqset_decompile_dr(rq->data, rq->len,
						  &is->req_text, &count,
						  &has_dr, &is->dr,
						  &is->req_diag);
		if (r == MSIGN_E_NOMEM)
			return r;
		if (r != 0)
			is->req_diag.file_off += is->s->off +
						 is->s->cs_dataoff + rq->off;
	}
	const struct msign_slice *s = is->s;
	uint32_t n;
	if (s->has_info_plist &&
	    msign_codedir_slot_present(cd, -(int64_t)MSIGN_CSSLOT_INFOSLOT) &&
	    msign_plist_count_entries(s->data + s->info_plist_off,
				      (size_t)s->info_plist_size, &n,
				      NULL) == 0) {
		is->info_plist = true;
		is->info_plist_entries = n;
	}
	return load_entitlements(is);
}

static void free_slice(struct msign_info_slice *is)
{
	if (is->has_cms)
		msign_cms_info_free(&is->cms);
	free(is->req_text);
	free(is->dr);
	free(is->implicit);
	free(is->ent_xml);
	for (uint32_t i = 0; i < is->nents; i++) {
		free(is->ents[i].key);
		free(is->ents[i].str);
	}
	free(is->ents);
}

void msign_info_free(msign_info *info)
{
	if (info == NULL)
		return;
	for (uint32_t i = 0; info->slices != NULL && i < info->img->nslices;
	     i++)
		free_slice(&info->slices[i]);
	free(info->slices);
	free(info->format);
	msign_image_free(info->img);
	pthread_mutex_destroy(&info->lock);
	free(info);
}

int msign_info_adopt(struct msign_image *img, msign_info **out,
		     struct msign_diag *d)
{
	struct msign_info *info = calloc(1, sizeof(*info));
	if (info == NULL) {
		msign_image_free(img);
		return msign_diag_set(d, MSIGN_E_NOMEM, 0, "out of memory");
	}
	if (pthread_mutex_init(&info->lock, NULL) != 0) {
		free(info);
		msign_image_free(img);
		return msign_diag_set(d, MSIGN_E_NOMEM, 0, "out of memory");
	}
	info->img = img;
	info->slices = calloc(img->nslices, sizeof(*info->slices));
	info->format = msign_image_format(img);
	if (info->slices == NULL || info->format == NULL)
		goto nomem;
	info->default_slice = msign_image_default_slice(img);
	for (uint32_t i = 0; i < img->nslices; i++) {
		struct msign_info_slice *is = &info->slices[i];
		is->info = info;
		is->s = &img->slices[i];
		char lbl[sizeof(is->arch)];
		snprintf(is->arch, sizeof(is->arch), "%s",
			 msign_arch_label(is->s->cputype, is->s->cpusubtype,
					  lbl, sizeof(lbl)));
		if (is->s->err != 0)
			continue;
		is->sig_err = msign_sig_parse_ex(is->s, &is->sig,
						 MSIGN_SIG_NO_CDHASH,
						 &is->sig_diag);
		if (is->sig_err == MSIGN_E_NOMEM)
			goto nomem;
		if (is->sig_err == MSIGN_E_NOT_SIGNED)
			msign_diag_clear(&is->sig_diag);
		else if (is->sig_err == 0 && load_sig(info, is) != 0)
			goto nomem;
	}
	*out = info;
	return 0;
nomem:
	msign_info_free(info);
	return msign_diag_set(d, MSIGN_E_NOMEM, 0, "out of memory");
}

int msign_info_open(const char *path, msign_info **out, struct msign_diag *d)
{
	if (path == NULL || out == NULL)
		return msign_diag_set(d, MSIGN_E_ARG, 0,
				      "msign_info_open: NULL argument");
	*out = NULL;
	struct msign_image *img = NULL;
	int r = msign_image_open(path, &img, d);
	if (r != 0)
		return r;
	return msign_info_adopt(img, out, d);
}

int msign_info_open_fd(int fd, msign_info **out, struct msign_diag *d)
{
	if (fd < 0 || out == NULL)
		return msign_diag_set(d, MSIGN_E_ARG, 0,
				      "msign_info_open_fd: bad argument");
	*out = NULL;
	struct msign_image *img = NULL;
	int r = msign_image_open_fd(fd, &img, d);
	if (r != 0)
		return r;
	return msign_info_adopt(img, out, d);
}

/* ---- the file ------------------------------------------------------------ */

bool msign_info_is_universal(const msign_info *info)
{
	return info->img->is_fat;
}

const char *msign_info_format(const msign_info *info)
{
	return info->format;
}

uint32_t msign_info_slice_count(const msign_info *info)
{
	return info->img->nslices;
}

const msign_info_slice *msign_info_slice_at(const msign_info *info,
					    uint32_t i)
{
	return i < info->img->nslices ? &info->slices[i] : NULL;
}

uint32_t msign_info_default_slice(const msign_info *info)
{
	return info->default_slice;
}

int msign_info_find_arch(const msign_info *info, const char *arch)
{
	return arch != NULL ? msign_image_find_arch(info->img, arch) : -1;
}

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
			w->has_cms_digest = cd_hash_locked(low) == 0;
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
	struct msign_info *info = s->info;
	struct msign_info_slice *w = (struct msign_info_slice *)s; /* lazy part */
	pthread_mutex_lock(&info->lock);
	if (!w->implicit_done) {
		/* Needs every slice's CDHashes (ad-hoc code). */
		w->implicit = implicit_dr(info, (uint32_t)(w - info->slices));
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
	bool have = cd_hash_locked(w) == 0;
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
