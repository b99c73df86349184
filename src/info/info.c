/* The signing-information model (include/msign/info.h): everything
 * codesign -d knows about a file, read once at open from the parsers of
 * the lower layers (macho, sig) and kept immutable, so that a handle may
 * be shared between threads; the digests are computed on first use under
 * the handle's lock. This file builds the model; info_slice.c reads it. */
#include <plist/plist.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/plist_guard.h"
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

/* ---- building ------------------------------------------------------------ */

/* The CodeDirectory's digest, computed once (caller holds the lock). */
int msign_info_cd_hash_locked(struct msign_info_cd *c)
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
		if (msign_info_cd_hash_locked(&is->cds[i]) != 0)
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
char *msign_info_implicit_dr(struct msign_info *info, uint32_t idx)
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
	/* Nor one the guard refuses (too deep, a shared-object bomb). */
	struct msign_plist_limits lim = msign_plist_ent_limits;
	lim.max_size = INFO_ENT_MAX_LEN;
	plist_t root = NULL;
	if (msign_plist_parse((const uint8_t *)is->ent_xml, is->ent_xml_len, &lim, &root,
			      NULL) < 0)
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
		is->blob_diag.file_off = is->s->off + is->s->cs_dataoff +
					 sig->blob_err_off;
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
		if (is->s->err != 0 && is->s->cpu_mismatch) {
			is->own = *is->s; /* displayed as Apple displays it */
			is->own.err = 0;
			is->s = &is->own;
		}
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
		/* NOT_SIGNED keeps its reason: no LC_CODE_SIGNATURE, or a
		 * signature without a CodeDirectory in slot 0. */
		if (is->sig_err == 0 && load_sig(info, is) != 0)
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

