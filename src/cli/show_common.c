/* Facts about a displayed file shared by the text and JSON outputs. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

void show_format(const struct msign_image *img, char *out, size_t outlen)
{
	char lbl[40];
	if (!img->is_fat) {
		const struct msign_slice *s = &img->slices[0];
		snprintf(out, outlen, "Mach-O thin (%s)",
			 msign_arch_label(s->cputype, s->cpusubtype, lbl,
					  sizeof(lbl)));
		return;
	}
	uint32_t order[MSIGN_MAX_SLICES];
	msign_image_sorted(img, order);
	size_t used = (size_t)snprintf(out, outlen, "Mach-O universal (");
	for (uint32_t i = 0; i < img->nslices && used < outlen; i++) {
		const struct msign_slice *s = &img->slices[order[i]];
		used += (size_t)snprintf(out + used, outlen - used, "%s%s",
					 i ? " " : "",
					 msign_arch_label(s->cputype,
							  s->cpusubtype, lbl,
							  sizeof(lbl)));
	}
	if (used < outlen)
		snprintf(out + used, outlen - used, ")");
}

const char *show_sig_kind(const struct show_file *f)
{
	const struct msign_codedir *cd = &f->sig.cds[f->sig.best];
	if (cd->flags & MSIGN_CS_ADHOC)
		return "adhoc";
	if (f->sig.cms != NULL && f->sig.cms->len > 8)
		return "cms";
	return "none";
}

/* Append " or "-joined cdhash clauses of every CD of one signature. */
static int dr_add_cdhashes(char **buf, size_t *used, size_t *cap,
			   const struct msign_sig *sig)
{
	for (uint32_t i = 0; i < sig->ncds; i++) {
		char hex[41];
		cli_hex(sig->cds[i].cdhash, 20, hex);
		size_t need = *used + 64;
		if (need > *cap) {
			size_t ncap = need * 2;
			char *nb = realloc(*buf, ncap);
			if (nb == NULL)
				return -1;
			*buf = nb;
			*cap = ncap;
		}
		*used += (size_t)snprintf(*buf + *used, *cap - *used,
					  "%scdhash H\"%s\"",
					  *used ? " or " : "", hex);
	}
	return 0;
}

char *show_implicit_dr(const struct show_file *f)
{
	const struct msign_codedir *cd = &f->sig.cds[f->sig.best];
	if (f->has_cms) {
		char *out = NULL;
		if (msign_cms_designated(&f->cms, cd->ident, &out, NULL) == 0)
			return out;
		return NULL;
	}
	/* Ad-hoc (and CMS-less) code is designated by its cdhashes: the shown
	 * slice first, then every other signed slice in Format= order. */
	size_t used = 0, cap = 256;
	char *buf = malloc(cap);
	if (buf == NULL)
		return NULL;
	buf[0] = '\0';
	if (dr_add_cdhashes(&buf, &used, &cap, &f->sig) != 0)
		goto fail;
	uint32_t order[MSIGN_MAX_SLICES];
	msign_image_sorted(f->img, order);
	for (uint32_t i = 0; i < f->img->nslices; i++) {
		const struct msign_slice *o = &f->img->slices[order[i]];
		if (order[i] == f->slice_idx || o->err != 0)
			continue;
		struct msign_sig osig;
		if (msign_sig_parse(o, &osig, NULL) != 0)
			continue;
		if (dr_add_cdhashes(&buf, &used, &cap, &osig) != 0)
			goto fail;
	}
	return buf;
fail:
	free(buf);
	return NULL;
}

char *show_entitlements_xml(const struct show_file *f, int *err,
			    struct msign_diag *d)
{
	*err = 0;
	const struct msign_blob *x = f->sig.ent_xml;
	if (x != NULL) {
		/* The XML blob is shown as the signer wrote it. */
		size_t n = x->len - 8;
		char *out = malloc(n + 2);
		if (out == NULL) {
			*err = MSIGN_E_NOMEM;
			return NULL;
		}
		memcpy(out, x->data + 8, n);
		out[n] = '\0';
		return out;
	}
	if (f->sig.ent_der != NULL) {
		char *xml = NULL;
		size_t xlen = 0;
		*err = msign_ent_der_to_xml(f->sig.ent_der->data + 8,
					    f->sig.ent_der->len - 8, &xml,
					    &xlen, d);
		return *err ? NULL : xml;
	}
	return NULL;
}
