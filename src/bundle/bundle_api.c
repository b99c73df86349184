/* The public face of bundles (include/msign/bundle.h): reading a bundle
 * for display, signing and verifying it, over src/bundle's internals. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/diag.h"
#include "bundle/bundle_int.h"
#include "msign/bundle.h"
#include "sign/sign.h"
#include "verify/trust.h"
#include "verify/verify.h"

struct msign_bundle {
	struct mb_bundle b;
	char *exec;   /* absolute */
	char *format;
	char ident[1024];
	msign_info *info;
	struct msign_diag info_d;
	bool sealed;
	unsigned version;
	uint32_t rules, files;
	char **nested;
	uint32_t nnested;
};

bool msign_is_bundle(const char *path)
{
	struct stat st;
	return path != NULL && stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* codesign's Format= of a bundle (spec 3). */
static char *ba_format(bool app, const msign_info *info)
{
	const char *mach = info != NULL ? msign_info_format(info) : NULL;
	size_t n = (mach ? strlen(mach) : 0) + 32;
	char *f = malloc(n);
	if (f == NULL)
		return NULL;
	if (mach == NULL)
		snprintf(f, n, "%sbundle", app ? "app " : "");
	else
		snprintf(f, n, "%sbundle with %s", app ? "app " : "", mach);
	return f;
}

int msign_bundle_open_version(const char *path, const char *version,
			       msign_bundle **out, struct msign_diag *d)
{
	msign_diag_clear(d);
	if (out == NULL || path == NULL)
		return msign_diag_done(d, msign_diag_set(d, MSIGN_E_ARG, 0,
							 "msign_bundle_open: NULL argument"));
	*out = NULL;
	char *abs = realpath(path, NULL);
	if (abs == NULL)
		return msign_diag_done(d, msign_diag_set(d, MSIGN_E_IO, 0, "%s", strerror(errno)));
	msign_bundle *b = calloc(1, sizeof(*b));
	if (b == NULL) {
		free(abs);
		return msign_diag_done(d, MSIGN_E_NOMEM);
	}
	int r = mb_bundle_open(abs, version, &b->b, d);
	free(abs);
	if (r) {
		free(b);
		return msign_diag_done(d, r);
	}
	const char *rel = b->b.exec_rel != NULL ? b->b.exec_rel : b->b.info_rel;
	b->exec = rel != NULL ? mb_path_join(b->b.seal_root, rel) : strdup(b->b.seal_root);
	if (b->exec == NULL) {
		msign_bundle_free(b);
		return msign_diag_done(d, MSIGN_E_NOMEM);
	}
	msign_diag_clear(&b->info_d);
	if (b->b.exec_rel != NULL)
		(void)msign_info_open(b->exec, &b->info, &b->info_d);
	bool app = b->b.package_type != NULL && strcmp(b->b.package_type, "APPL") == 0;
	if ((b->format = ba_format(app, b->info)) == NULL) {
		msign_bundle_free(b);
		return msign_diag_done(d, MSIGN_E_NOMEM);
	}
	/* it returns the Info.plist's string, or the folder's name in ident */
	const char *id = mb_bundle_default_identifier(&b->b, b->ident, sizeof(b->ident));
	if (id != b->ident)
		snprintf(b->ident, sizeof(b->ident), "%s", id != NULL ? id : "");
	uint8_t *cr = NULL;
	size_t len = 0;
	struct mb_resources res;
	memset(&res, 0, sizeof(res));
	struct msign_diag cd;
	msign_diag_clear(&cd);
	if (mb_read_cr(b->b.root_fd, &cr, &len, &cd) == 0 && cr != NULL &&
	    mb_cr_parse(cr, len, &res, &cd) == 0 && res.has_rules && res.has_files) {
		b->sealed = true;
		b->version = res.has_files2 && res.has_rules2 ? 2 : 1;
		b->rules = (uint32_t)(b->version == 2 ? res.rules2.n : res.rules.n);
		b->files = (uint32_t)(b->version == 2 ? res.files2.n : res.files.n);
		const struct mb_seals *sl = b->version == 2 ? &res.files2 : &res.files;
		b->nested = calloc(sl->n ? sl->n : 1, sizeof(char *));
		for (size_t i = 0; b->nested != NULL && i < sl->n; i++)
			if (sl->v[i].kind == MB_SEAL_NESTED && sl->v[i].requirement != NULL &&
			    (b->nested[b->nnested] = strdup(sl->v[i].path)) != NULL)
				b->nnested++;
	}
	free(cr);
	mb_resources_free(&res);
	*out = b;
	return msign_diag_done(d, 0);
}

int msign_bundle_open(const char *path, msign_bundle **out, struct msign_diag *d)
{
	return msign_bundle_open_version(path, NULL, out, d);
}

void msign_bundle_free(msign_bundle *b)
{
	if (b == NULL)
		return;
	for (uint32_t i = 0; i < b->nnested; i++)
		free(b->nested[i]);
	free(b->nested);
	msign_info_free(b->info);
	free(b->format);
	free(b->exec);
	mb_bundle_close(&b->b);
	free(b);
}

const char *msign_bundle_kind(const msign_bundle *b)
{
	if (b->b.package_type != NULL && strcmp(b->b.package_type, "APPL") == 0)
		return "app";
	return b->b.kind == MB_KIND_VERSIONED ? "framework" : "bundle";
}

const char *msign_bundle_executable(const msign_bundle *b) { return b->exec; }
const char *msign_bundle_format(const msign_bundle *b) { return b->format; }
const char *msign_bundle_default_identifier(const msign_bundle *b) { return b->ident; }

bool msign_bundle_info_plist_entries(const msign_bundle *b, uint32_t *n)
{
	if (b->b.info == NULL)
		return false;
	if (n != NULL)
		*n = b->b.info_entries;
	return true;
}

const msign_info *msign_bundle_executable_info(const msign_bundle *b,
					       const struct msign_diag **d_out)
{
	if (d_out != NULL)
		*d_out = &b->info_d;
	return b->info;
}

bool msign_bundle_sealed_resources(const msign_bundle *b, unsigned *version,
				   uint32_t *rules, uint32_t *files)
{
	if (!b->sealed)
		return false;
	if (version != NULL)
		*version = b->version;
	if (rules != NULL)
		*rules = b->rules;
	if (files != NULL)
		*files = b->files;
	return true;
}

uint32_t msign_bundle_nested_count(const msign_bundle *b) { return b->nnested; }

const char *msign_bundle_nested(const msign_bundle *b, uint32_t i)
{
	return i < b->nnested ? b->nested[i] : NULL;
}

/* ---- signing ---- */

int msign_sign_bundle_opts(const char *path, const struct msign_sign_opts *o,
			   unsigned flags, char **subcomponent, struct msign_diag *d)
{
	struct mb_sign_out out;
	int r = mb_sign_bundle(path, o, flags, &out, d);
	if (subcomponent != NULL)
		*subcomponent = out.subcomponent;
	else
		free(out.subcomponent);
	return r;
}

/* ---- verifying ---- */

struct msign_bundle_report {
	struct mb_vresult vr;
	char **abs; /* problems' absolute paths */
};

int msign_verify_bundle(const char *path, const msign_verify_options *o,
			int *kind, msign_bundle_report **rep, struct msign_diag *d)
{
	msign_diag_clear(d);
	if (rep != NULL)
		*rep = NULL;
	if (path == NULL)
		return msign_diag_done(d, msign_diag_set(d, MSIGN_E_ARG, 0,
							 "msign_verify_bundle: NULL path"));
	struct msign_verify_opts vo;
	struct msign_trust_opts to;
	msign_verify_opts_of(o, &vo, &to);
	unsigned flags = msign_verify_options_flags(o);
	msign_bundle_report *r = calloc(1, sizeof(*r));
	if (r == NULL)
		return msign_diag_done(d, MSIGN_E_NOMEM);
	int rc = mb_verify_dir(path, &vo, flags & (MSIGN_VERIFY_F_DEEP |
						   MSIGN_VERIFY_F_STRICT_RESOURCES),
			       &r->vr, d);
	if (rc == 0 && (r->abs = calloc(r->vr.check.n + 1, sizeof(char *))) == NULL)
		rc = MSIGN_E_NOMEM;
	for (size_t i = 0; rc == 0 && i < r->vr.check.n; i++)
		if ((r->abs[i] = mb_path_join(r->vr.seal_root, r->vr.check.v[i].path)) == NULL)
			rc = MSIGN_E_NOMEM;
	if (rc == 0 && kind != NULL)
		*kind = r->vr.kind;
	if (rc == 0 && r->vr.kind != MSIGN_VERIFY_VALID) {
		msign_diag_clear(d);
		msign_diag_set(d, MSIGN_E_VERIFY, 0, "%s", r->vr.error);
		rc = MSIGN_E_VERIFY;
	}
	if (rep != NULL)
		*rep = r;
	else
		msign_bundle_report_free(r);
	return msign_diag_done(d, rc);
}

void msign_bundle_report_free(msign_bundle_report *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; r->abs != NULL && i < r->vr.check.n; i++)
		free(r->abs[i]);
	free(r->abs);
	mb_vresult_free(&r->vr);
	free(r);
}

const char *msign_bundle_report_error(const msign_bundle_report *r)
{
	return r->vr.error;
}

const char *msign_bundle_report_subcomponent(const msign_bundle_report *r)
{
	return r->vr.subcomponent;
}

uint32_t msign_bundle_report_problem_count(const msign_bundle_report *r)
{
	return r->abs != NULL ? (uint32_t)r->vr.check.n : 0;
}

int msign_bundle_report_problem(const msign_bundle_report *r, uint32_t i,
				const char **path)
{
	if (r->abs == NULL || i >= r->vr.check.n) {
		if (path != NULL)
			*path = NULL;
		return -1;
	}
	if (path != NULL)
		*path = r->abs[i];
	switch (r->vr.check.v[i].kind) {
	case MB_ADDED: return MSIGN_FILE_ADDED;
	case MB_MODIFIED: return MSIGN_FILE_MODIFIED;
	default: return MSIGN_FILE_MISSING;
	}
}

uint32_t msign_bundle_report_checked(const msign_bundle_report *r)
{
	return r->vr.files;
}

uint32_t msign_bundle_report_nested_checked(const msign_bundle_report *r)
{
	return r->vr.nested_checked;
}
