/* Code requirements against one verified slice: the facts of its
 * signature handed to the evaluator (sig/reqeval.h) as Apple's
 * Requirement::Context holds them, for `verify -R` and for the designated
 * requirement `verify -v` reports on. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/diag.h"
#include "sig/cms.h"
#include "sig/req.h"
#include "verify/verify_req.h"

/* The requirement context of in; certs has room for MSIGN_CMS_MAX_CERTS. */
static void vr_ctx(const struct msign_verify_req_in *in,
		   struct msign_req_cert *certs, struct msign_req_ctx *ctx)
{
	const struct msign_sig *sig = in->sig;
	const struct msign_codedir *cd = &sig->cds[sig->best];
	memset(ctx, 0, sizeof(*ctx));
	ctx->ident = (const uint8_t *)cd->ident;
	ctx->ident_len = cd->ident ? strlen(cd->ident) : 0;
	/* Apple's cdhash: the chosen CodeDirectory's, cut to 20 bytes */
	ctx->cdhash = cd->cdhash;
	ctx->cdhash_len = cd->cdhash_len < MSIGN_CDHASH_LEN ? cd->cdhash_len
							    : MSIGN_CDHASH_LEN;
	ctx->platform = cd->platform;
	ctx->adhoc = (cd->flags & MSIGN_CS_ADHOC) != 0;
	if (in->cms != NULL && !ctx->adhoc) {
		for (uint32_t i = 0; i < in->cms->ncerts && i < MSIGN_CMS_MAX_CERTS; i++) {
			certs[i].der = in->cms->chain[i].der;
			certs[i].len = in->cms->chain[i].der_len;
		}
		ctx->certs = certs;
		ctx->ncerts = in->cms->ncerts;
		ctx->has_secure_timestamp = in->cms->has_timestamp && in->timestamp_ok;
		ctx->secure_timestamp = (int64_t)in->cms->timestamp_time;
	}
	ctx->anchor = in->anchor;
	/* The Info.plist the signature binds (special slot 1, its hash
	 * checked by verify before this runs). */
	const struct msign_slice *s = in->s;
	if (s->has_info_plist && msign_codedir_slot_present(cd, -1)) {
		ctx->info_plist = s->data + s->info_plist_off;
		ctx->info_plist_len = (size_t)s->info_plist_size;
	}
	if (sig->ent_xml != NULL && sig->ent_xml->len > MSIGN_BLOB_HEADER_LEN) {
		ctx->entitlements = sig->ent_xml->data + MSIGN_BLOB_HEADER_LEN;
		ctx->entitlements_len = sig->ent_xml->len - MSIGN_BLOB_HEADER_LEN;
	}
}

int msign_verify_req_eval(const struct msign_verify_req_in *in,
			  const uint8_t *req, size_t len,
			  struct msign_req_outcome *out, struct msign_diag *d)
{
	struct msign_req_cert certs[MSIGN_CMS_MAX_CERTS];
	struct msign_req_ctx ctx;
	vr_ctx(in, certs, &ctx);
	return msign_req_eval_outcome(req, len, &ctx, out, d);
}

/* The implicit designated requirement as a compiled blob: codesign's form
 * for the chain, or the slice's own cdhash for code without one. */
static int vr_implicit(const struct msign_verify_req_in *in, uint8_t **blob,
		       size_t *blob_len, struct msign_diag *d)
{
	const struct msign_codedir *cd = &in->sig->cds[in->sig->best];
	char *text = NULL;
	int r;
	bool adhoc = (cd->flags & MSIGN_CS_ADHOC) != 0;
	if (!adhoc && in->cms != NULL && in->cms->ncerts > 0) {
		r = msign_cms_designated(in->cms, cd->ident ? cd->ident : "", &text, d);
		if (r)
			return r;
	} else {
		/* Ad-hoc code: codesign names every slice's cdhashes; this
		 * slice's is the one that can hold here. */
		size_t n = cd->cdhash_len < MSIGN_CDHASH_LEN ? cd->cdhash_len
							     : MSIGN_CDHASH_LEN;
		if ((text = malloc(sizeof("cdhash H\"\"") + 2 * n)) == NULL)
			return msign_diag_set(d, MSIGN_E_NOMEM, 0, "out of memory");
		char *w = text + sprintf(text, "cdhash H\"");
		for (size_t i = 0; i < n; i++)
			w += sprintf(w, "%02x", cd->cdhash[i]);
		strcpy(w, "\"");
	}
	r = msign_req_compile(text, strlen(text), 0, blob, blob_len, d);
	free(text);
	return r;
}

int msign_verify_dr_eval(const struct msign_verify_req_in *in, bool *implicit,
			 struct msign_req_outcome *out, struct msign_diag *d)
{
	struct msign_req_cert certs[MSIGN_CMS_MAX_CERTS];
	struct msign_req_ctx ctx;
	vr_ctx(in, certs, &ctx);
	*implicit = false;
	const struct msign_blob *rq = in->sig->requirements;
	if (rq != NULL) {
		bool found = false;
		int r = msign_reqset_eval(rq->data, rq->len, MSIGN_REQ_TYPE_DESIGNATED,
					  &ctx, &found, out, d);
		if (r || found)
			return r;
	}
	*implicit = true;
	uint8_t *blob = NULL;
	size_t blob_len = 0;
	int r = vr_implicit(in, &blob, &blob_len, d);
	if (r == 0)
		r = msign_req_eval_outcome(blob, blob_len, &ctx, out, d);
	free(blob);
	return r;
}
