/* The public face of signing and stripping (include/msign/sign.h): an
 * opaque options handle that validates each value when it is set and
 * owns copies of its strings, over struct msign_sign_opts and the
 * whole-file runs msign_sign_run / msign_strip_run. What a run reports
 * besides its code (struct msign_sign_result, msign_strip_result) stays
 * inside: those structs have fixed arrays and are no stable interface. */
#include <stdlib.h>
#include <string.h>

#include "sign/sign.h"
#include "write/strip.h"

#define API_NAME_MAX 1023u       /* identifier bytes (sign.c's buffer - 1) */
#define API_ENT_MAX (1u << 20)   /* entitlements XML, as entitlements.c */
#define API_PAGE_MIN (1u << 9)
#define API_PAGE_MAX (1u << 24)
#define API_HASHES (MSIGN_SIGN_HASH_SHA1 | MSIGN_SIGN_HASH_SHA256 | \
		    MSIGN_SIGN_HASH_SHA256_TRUNCATED | MSIGN_SIGN_HASH_SHA384)

struct msign_sign_options {
	/* The strings of o point into the copies below (or are NULL). */
	struct msign_sign_opts o;
	char *identifier, *prefix, *ent_xml, *arch;
};

msign_sign_options *msign_sign_options_new(void)
{
	return calloc(1, sizeof(struct msign_sign_options));
}

void msign_sign_options_free(msign_sign_options *o)
{
	if (o == NULL)
		return;
	free(o->identifier);
	free(o->prefix);
	free(o->ent_xml);
	free(o->arch);
	free(o);
}

/* A copy of len bytes of s, NUL added; *out replaced only on success. */
static int api_copy(char **out, const char *s, size_t len)
{
	char *c = malloc(len + 1);
	if (c == NULL)
		return MSIGN_E_NOMEM;
	memcpy(c, s, len);
	c[len] = '\0';
	free(*out);
	*out = c;
	return 0;
}

/* A name that goes into the CodeDirectory: non-empty, at most
 * API_NAME_MAX bytes, no control character. */
static bool api_name_ok(const char *s)
{
	size_t n = 0;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++, n++)
		if (*p < 0x20 || *p == 0x7f || n >= API_NAME_MAX)
			return false;
	return n > 0;
}

/* Set *field (and the opts pointer that shows it) to a copy of s. */
static int api_set_name(char **field, const char **shown, const char *s)
{
	if (s == NULL) {
		free(*field);
		*field = NULL;
		*shown = NULL;
		return 0;
	}
	if (!api_name_ok(s))
		return MSIGN_E_ARG;
	int r = api_copy(field, s, strlen(s));
	if (r == 0)
		*shown = *field;
	return r;
}

int msign_sign_options_set_identifier(msign_sign_options *o, const char *id)
{
	return o ? api_set_name(&o->identifier, &o->o.identifier, id)
		 : MSIGN_E_ARG;
}

int msign_sign_options_set_identifier_prefix(msign_sign_options *o,
					     const char *prefix)
{
	return o ? api_set_name(&o->prefix, &o->o.prefix, prefix) : MSIGN_E_ARG;
}

int msign_sign_options_set_entitlements(msign_sign_options *o, const char *xml,
					size_t len)
{
	if (o == NULL)
		return MSIGN_E_ARG;
	if (xml == NULL) {
		free(o->ent_xml);
		o->ent_xml = NULL;
		o->o.ent_xml = NULL;
		o->o.ent_len = 0;
		return 0;
	}
	if (len == 0 || len > API_ENT_MAX)
		return MSIGN_E_ARG;
	int r = api_copy(&o->ent_xml, xml, len);
	if (r == 0) {
		o->o.ent_xml = o->ent_xml;
		o->o.ent_len = len;
	}
	return r;
}

int msign_sign_options_set_flags(msign_sign_options *o, uint32_t flags)
{
	if (o == NULL || (flags & ~(uint32_t)MSIGN_SIGN_FLAGS) != 0)
		return MSIGN_E_ARG;
	o->o.cd_flags = flags;
	return 0;
}

int msign_sign_options_set_hash_types(msign_sign_options *o, uint32_t mask)
{
	if (o == NULL || (mask & ~(uint32_t)API_HASHES) != 0)
		return MSIGN_E_ARG;
	o->o.hash_types = mask;
	return 0;
}

int msign_sign_options_set_page_size(msign_sign_options *o, uint32_t bytes)
{
	if (o == NULL || (bytes != 0 && ((bytes & (bytes - 1)) != 0 ||
					 bytes < API_PAGE_MIN ||
					 bytes > API_PAGE_MAX)))
		return MSIGN_E_ARG;
	o->o.page_size = bytes;
	return 0;
}

int msign_sign_options_set_force(msign_sign_options *o, bool force)
{
	if (o == NULL)
		return MSIGN_E_ARG;
	o->o.force = force;
	return 0;
}

int msign_sign_options_set_arch(msign_sign_options *o, const char *arch)
{
	if (o == NULL || (arch != NULL && arch[0] == '\0'))
		return MSIGN_E_ARG;
	if (arch == NULL) {
		free(o->arch);
		o->arch = NULL;
		o->o.arch = NULL;
		return 0;
	}
	int r = api_copy(&o->arch, arch, strlen(arch));
	if (r == 0)
		o->o.arch = o->arch;
	return r;
}

int msign_sign_options_set_threads(msign_sign_options *o, unsigned threads)
{
	if (o == NULL)
		return MSIGN_E_ARG;
	o->o.threads = threads;
	return 0;
}

int msign_sign_options_set_linker_signed(msign_sign_options *o, bool on)
{
	if (o == NULL)
		return MSIGN_E_ARG;
	o->o.linker_signed = on;
	return 0;
}

/* What sign.h promises of d after a failure: the code returned, and a
 * sentence even where the failing step set none (an allocation). */
static int api_done(int r, struct msign_diag *d)
{
	if (r < 0 && d != NULL) {
		if (d->code == 0)
			msign_diag_set(d, r, 0, "%s", msign_strerror(r));
		d->code = r;
	}
	return r;
}

int msign_sign_file(const char *in_path, const char *out_path,
		    const msign_sign_options *o, struct msign_diag *d)
{
	msign_diag_clear(d);
	if (in_path == NULL || out_path == NULL)
		return api_done(msign_diag_set(d, MSIGN_E_ARG, 0,
					       "msign_sign_file: NULL path"), d);
	struct msign_sign_opts so;
	if (o != NULL)
		so = o->o;
	else
		memset(&so, 0, sizeof(so));
	so.file_name = in_path; /* the default identifier's source */
	struct msign_sign_result *res = malloc(sizeof(*res));
	if (res == NULL)
		return api_done(MSIGN_E_NOMEM, d);
	int r = msign_sign_run(in_path, out_path, &so, res, d);
	free(res);
	return api_done(r, d);
}

int msign_strip_file(const char *in_path, const char *out_path,
		     const char *arch, struct msign_diag *d)
{
	msign_diag_clear(d);
	if (in_path == NULL || out_path == NULL)
		return api_done(msign_diag_set(d, MSIGN_E_ARG, 0,
					       "msign_strip_file: NULL path"), d);
	struct msign_strip_result *res = malloc(sizeof(*res));
	if (res == NULL)
		return api_done(MSIGN_E_NOMEM, d);
	int r = msign_strip_run(in_path, out_path, arch, res, d);
	free(res);
	return api_done(r, d);
}
