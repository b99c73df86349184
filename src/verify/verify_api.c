/* The public face of verification (include/msign/verify.h): an options
 * handle (flags, slice, the caller's anchors, a requirement) over struct
 * msign_verify_opts and msign_verify_image. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/diag.h"
#include "sig/req.h"
#include "verify/trust.h"
#include "verify/verify.h"
#include "msign/bundle.h"

#define VA_FLAGS (MSIGN_VERIFY_F_STRICT | MSIGN_VERIFY_F_NO_TRUST | \
		  MSIGN_VERIFY_F_CHECK_EXPIRATION | MSIGN_VERIFY_F_DESIGNATED | \
		  MSIGN_VERIFY_F_DEEP | MSIGN_VERIFY_F_STRICT_RESOURCES)
#define VA_MAX_ANCHOR_FILES 64u

struct msign_verify_options {
	unsigned flags;
	char *arch;
	char *anchor_files[VA_MAX_ANCHOR_FILES];
	unsigned nanchor_files;
	struct msign_trust_anchors *anchors; /* every file above, loaded */
	uint8_t *req;
	size_t req_len;
	char *bundle_version;
};

msign_verify_options *msign_verify_options_new(void)
{
	return calloc(1, sizeof(struct msign_verify_options));
}

void msign_verify_options_free(msign_verify_options *o)
{
	if (o == NULL)
		return;
	free(o->arch);
	free(o->bundle_version);
	for (unsigned i = 0; i < o->nanchor_files; i++)
		free(o->anchor_files[i]);
	msign_trust_anchors_free(o->anchors);
	free(o->req);
	free(o);
}

int msign_verify_options_set_flags(msign_verify_options *o, unsigned flags)
{
	if (o == NULL || (flags & ~(unsigned)VA_FLAGS) != 0)
		return MSIGN_E_ARG;
	o->flags = flags;
	return 0;
}

int msign_verify_options_set_arch(msign_verify_options *o, const char *arch)
{
	if (o == NULL || (arch != NULL && arch[0] == '\0'))
		return MSIGN_E_ARG;
	char *copy = arch ? strdup(arch) : NULL;
	if (arch != NULL && copy == NULL)
		return MSIGN_E_NOMEM;
	free(o->arch);
	o->arch = copy;
	return 0;
}

int msign_verify_options_set_bundle_version(msign_verify_options *o,
					     const char *version)
{
	if (o == NULL || (version != NULL && version[0] == '\0'))
		return MSIGN_E_ARG;
	char *copy = version ? strdup(version) : NULL;
	if (version != NULL && copy == NULL)
		return MSIGN_E_NOMEM;
	free(o->bundle_version);
	o->bundle_version = copy;
	return 0;
}

int msign_verify_options_add_anchors(msign_verify_options *o, const char *pem_path,
				     struct msign_diag *d)
{
	msign_diag_clear(d);
	if (o == NULL || pem_path == NULL)
		return msign_diag_set(d, MSIGN_E_ARG, 0, "no options or no anchor file");
	if (o->nanchor_files == VA_MAX_ANCHOR_FILES)
		return msign_diag_set(d, MSIGN_E_LIMIT, 0, "at most %u anchor files",
				      VA_MAX_ANCHOR_FILES);
	char *copy = strdup(pem_path);
	if (copy == NULL)
		return msign_diag_set(d, MSIGN_E_NOMEM, 0, "out of memory");
	/* Loaded again with the new file, so that a file without a
	 * certificate fails here and the handle keeps its previous set. */
	o->anchor_files[o->nanchor_files] = copy;
	struct msign_trust_anchors *a = NULL;
	int r = msign_trust_anchors_load((const char *const *)o->anchor_files,
					 o->nanchor_files + 1, &a, d);
	if (r != 0) {
		free(copy);
		o->anchor_files[o->nanchor_files] = NULL;
		return r;
	}
	o->nanchor_files++;
	msign_trust_anchors_free(o->anchors);
	o->anchors = a;
	return 0;
}

int msign_verify_options_set_requirement(msign_verify_options *o, const char *text,
					 size_t len, struct msign_diag *d)
{
	msign_diag_clear(d);
	if (o == NULL)
		return msign_diag_set(d, MSIGN_E_ARG, 0, "no options");
	uint8_t *blob = NULL;
	size_t blob_len = 0;
	if (text != NULL) {
		int r = msign_req_compile(text, len, 0, &blob, &blob_len, d);
		if (r != 0)
			return r;
	}
	free(o->req);
	o->req = blob;
	o->req_len = blob_len;
	return 0;
}

int msign_verify_file_with(const char *path, const msign_verify_options *vo,
			   int *kind, struct msign_diag *d)
{
	msign_diag_clear(d);
	if (path == NULL)
		return msign_diag_done(d, msign_diag_set(d, MSIGN_E_ARG, 0, "msign_verify_file: NULL path"));
	unsigned flags = vo ? vo->flags : 0;
	if ((flags & MSIGN_VERIFY_F_NO_TRUST) &&
	    (flags & MSIGN_VERIFY_F_DESIGNATED || (vo && vo->req)))
		return msign_diag_done(d, msign_diag_set(d, MSIGN_E_ARG, 0,
							 "a requirement needs the trust check (its anchor)"));
	struct msign_image *img = NULL;
	int r = msign_image_open(path, &img, d);
	if (r == MSIGN_E_IO || r == MSIGN_E_NOMEM)
		return msign_diag_done(d, r);
	if (r != 0) { /* the container itself: codesign's "format unrecognized" */
		if (kind != NULL)
			*kind = MSIGN_VERIFY_BAD_MACHO;
		return msign_diag_done(d, MSIGN_E_VERIFY);
	}
	struct msign_trust_opts to = {
		.check_expiration = (flags & MSIGN_VERIFY_F_CHECK_EXPIRATION) != 0,
		.anchors = vo ? vo->anchors : NULL };
	struct msign_verify_opts o = {
		.strict = (flags & MSIGN_VERIFY_F_STRICT) != 0,
		.arch = vo ? vo->arch : NULL,
		.trust = (flags & MSIGN_VERIFY_F_NO_TRUST) ? NULL : &to,
		.requirement = vo ? vo->req : NULL,
		.requirement_len = vo ? vo->req_len : 0,
		.designated = (flags & MSIGN_VERIFY_F_DESIGNATED) != 0 };
	struct msign_verify_result *res = malloc(sizeof(*res));
	if (res == NULL) {
		msign_image_free(img);
		return msign_diag_done(d, MSIGN_E_NOMEM);
	}
	r = msign_verify_image(img, &o, res, d);
	if (r == 0 && o.designated && res->dr_failed_slice >= 0) {
		/* valid on disk, but its designated requirement does not hold */
		r = MSIGN_E_VERIFY;
		res->kind = MSIGN_VERIFY_DESIGNATED;
		res->slice = res->dr_failed_slice;
		snprintf(res->detail, sizeof(res->detail), "%s",
			 res->dr_detail[0] ? res->dr_detail
					   : "the designated requirement does not hold");
	}
	if (r == 0 && kind != NULL)
		*kind = MSIGN_VERIFY_VALID;
	if (r == MSIGN_E_VERIFY) {
		if (kind != NULL)
			*kind = res->kind;
		uint64_t at = res->slice >= 0 ? img->slices[res->slice].off : 0;
		msign_diag_clear(d);
		msign_diag_set(d, MSIGN_E_VERIFY, at, "%s", res->detail);
	}
	free(res);
	msign_image_free(img);
	return msign_diag_done(d, r);
}

void msign_verify_opts_of(const msign_verify_options *vo, struct msign_verify_opts *o,
			  struct msign_trust_opts *to)
{
	unsigned flags = vo ? vo->flags : 0;
	memset(to, 0, sizeof(*to));
	to->check_expiration = (flags & MSIGN_VERIFY_F_CHECK_EXPIRATION) != 0;
	to->anchors = vo ? vo->anchors : NULL;
	memset(o, 0, sizeof(*o));
	o->strict = (flags & MSIGN_VERIFY_F_STRICT) != 0;
	o->arch = vo ? vo->arch : NULL;
	o->trust = (flags & MSIGN_VERIFY_F_NO_TRUST) ? NULL : to;
	o->requirement = vo ? vo->req : NULL;
	o->requirement_len = vo ? vo->req_len : 0;
	o->designated = (flags & MSIGN_VERIFY_F_DESIGNATED) != 0;
	o->bundle_version = vo ? vo->bundle_version : NULL;
}

unsigned msign_verify_options_flags(const msign_verify_options *vo)
{
	return vo ? vo->flags : 0;
}

int msign_verify_file(const char *path, const char *arch, unsigned flags,
		      int *kind, struct msign_diag *d)
{
	if ((flags & ~(MSIGN_VERIFY_F_STRICT | MSIGN_VERIFY_F_NO_TRUST |
		       MSIGN_VERIFY_F_CHECK_EXPIRATION)) != 0) {
		msign_diag_clear(d);
		return msign_diag_done(d, msign_diag_set(d, MSIGN_E_ARG, 0,
							 "msign_verify_file: unknown flags 0x%x", flags));
	}
	struct msign_verify_options o = { .flags = flags, .arch = (char *)arch };
	return msign_verify_file_with(path, &o, kind, d);
}
