/* The public face of signing and stripping (include/msign/sign.h): an
 * opaque options handle that validates each value when it is set and
 * owns copies of its strings, over struct msign_sign_opts and the
 * whole-file runs msign_sign_run / msign_strip_run. What a run reports
 * besides its code (struct msign_sign_result, msign_strip_result) stays
 * inside: those structs have fixed arrays and are no stable interface. */
#include <stdlib.h>
#include <string.h>

#include "base/diag.h"
#include "sig/req.h"
#include "sign/sign.h"
#include "sign/sign_cms.h"
#include "sign/tsa.h"
#include "write/strip.h"
#include "bundle/bundle_int.h"

#define API_NAME_MAX 1023u       /* identifier bytes (sign.c's buffer - 1) */
#define API_ENT_MAX (1u << 20)   /* entitlements XML, as entitlements.c */
#define API_PAGE_MIN (1u << 9)
#define API_PAGE_MAX (1u << 24)
#define API_HASHES (MSIGN_SIGN_HASH_SHA1 | MSIGN_SIGN_HASH_SHA256 | \
		    MSIGN_SIGN_HASH_SHA256_TRUNCATED | MSIGN_SIGN_HASH_SHA384)

/* signingTime is a UTCTime in Apple's signatures: 1950 to 2049. */
#define API_TIME_MIN (-631152000LL)  /* 1950-01-01T00:00:00Z */
#define API_TIME_MAX 2524607999LL    /* 2049-12-31T23:59:59Z */

#define API_NESTED_MAX 256u

struct msign_sign_options {
	/* The strings of o point into the copies below (or are NULL). */
	struct msign_sign_opts o;
	char *identifier, *prefix, *ent_xml, *arch, *tsa_url, *bundle_version;
	uint8_t *reqs;
	struct msign_tsa_opts tsa; /* o.tsa points here when on */
	struct msign_nested_ent nested[API_NESTED_MAX]; /* strings owned */
};

msign_sign_options *msign_sign_options_new(void)
{
	msign_sign_options *o = calloc(1, sizeof(struct msign_sign_options));
	if (o != NULL)
		o->o.signing_time = MSIGN_SIGN_TIME_NOW;
	return o;
}

void msign_sign_options_free(msign_sign_options *o)
{
	if (o == NULL)
		return;
	free(o->identifier);
	free(o->prefix);
	free(o->ent_xml);
	free(o->arch);
	free(o->bundle_version);
	free(o->tsa_url);
	free(o->reqs);
	for (uint32_t i = 0; i < o->o.n_nested_ent; i++) {
		free((char *)o->nested[i].rel);
		free((char *)o->nested[i].xml);
	}
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

int msign_sign_options_set_bundle_version(msign_sign_options *o,
					   const char *version)
{
	if (o == NULL || (version != NULL && version[0] == '\0'))
		return MSIGN_E_ARG;
	if (version == NULL) {
		free(o->bundle_version);
		o->bundle_version = NULL;
		o->o.bundle_version = NULL;
		return 0;
	}
	int r = api_copy(&o->bundle_version, version, strlen(version));
	if (r == 0)
		o->o.bundle_version = o->bundle_version;
	return r;
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

/* ---- certificate signatures ---------------------------------------------- */

static int api_identity(const struct msign_identity_src *src, const char *name,
			msign_sign_identity **out, struct msign_diag *d)
{
	msign_diag_clear(d);
	if (out == NULL || name == NULL)
		return msign_diag_done(d, msign_diag_set(d, MSIGN_E_ARG, 0,
							 "a signing identity needs a name and a place to go"));
	return msign_diag_done(d, msign_identity_load(src, name, out, d));
}

int msign_sign_identity_load_pem(const char *key_path, const char *cert_path,
				 const char *chain_path, const char *name,
				 msign_sign_identity **out, struct msign_diag *d)
{
	if (out != NULL)
		*out = NULL;
	if (key_path == NULL || cert_path == NULL) {
		msign_diag_clear(d);
		return msign_diag_done(d, msign_diag_set(d, MSIGN_E_ARG, 0,
							 "a PEM identity needs a key and a certificate"));
	}
	struct msign_identity_src src = { .key_path = key_path,
					  .cert_path = cert_path,
					  .chain_path = chain_path };
	return api_identity(&src, name, out, d);
}

int msign_sign_identity_load_p12(const char *p12_path, const char *password,
				 const char *name, msign_sign_identity **out,
				 struct msign_diag *d)
{
	if (out != NULL)
		*out = NULL;
	if (p12_path == NULL) {
		msign_diag_clear(d);
		return msign_diag_done(d, msign_diag_set(d, MSIGN_E_ARG, 0,
							 "a PKCS#12 identity needs its file"));
	}
	struct msign_identity_src src = { .p12_path = p12_path,
					  .p12_password = password ? password : "" };
	return api_identity(&src, name, out, d);
}

void msign_sign_identity_free(msign_sign_identity *id)
{
	msign_identity_free(id);
}

const char *msign_sign_identity_common_name(const msign_sign_identity *id)
{
	return id != NULL ? msign_identity_name(id) : NULL;
}

const char *msign_sign_identity_team(const msign_sign_identity *id)
{
	return id != NULL ? msign_identity_team(id) : NULL;
}

int msign_sign_options_set_identity(msign_sign_options *o,
				    const msign_sign_identity *id)
{
	if (o == NULL)
		return MSIGN_E_ARG;
	o->o.identity = id;
	return 0;
}

int msign_sign_options_set_signing_time(msign_sign_options *o, int64_t when)
{
	if (o == NULL || (when != MSIGN_SIGN_TIME_NOW && when != MSIGN_SIGN_TIME_NONE &&
			  (when < API_TIME_MIN || when > API_TIME_MAX)))
		return MSIGN_E_ARG;
	o->o.signing_time = when;
	return 0;
}

int msign_sign_options_set_timestamp(msign_sign_options *o, bool on,
				     const char *url)
{
	if (o == NULL || (url != NULL && strncmp(url, "http://", 7) != 0 &&
			  strncmp(url, "https://", 8) != 0))
		return MSIGN_E_ARG;
	if (!on) {
		o->o.tsa = NULL;
		return 0;
	}
	char *copy = NULL;
	if (url != NULL && api_copy(&copy, url, strlen(url)) != 0)
		return MSIGN_E_NOMEM;
	free(o->tsa_url);
	o->tsa_url = copy;
	memset(&o->tsa, 0, sizeof(o->tsa));
	o->tsa.url = copy; /* NULL: Apple's */
	o->o.tsa = &o->tsa;
	return 0;
}

int msign_sign_options_set_requirements(msign_sign_options *o,
					const uint8_t *set, size_t len)
{
	if (o == NULL)
		return MSIGN_E_ARG;
	if (set == NULL) {
		free(o->reqs);
		o->reqs = NULL;
		o->o.requirements = NULL;
		o->o.requirements_len = 0;
		return 0;
	}
	if (len < 12 || len > UINT32_MAX)
		return MSIGN_E_ARG;
	char *text = NULL;
	uint32_t count = 0;
	bool dr = false;
	/* decoded now, so that a damaged set fails here, not when signing */
	uint32_t blen = (uint32_t)set[4] << 24 | (uint32_t)set[5] << 16 |
			(uint32_t)set[6] << 8 | set[7];
	int r = set[0] == 0xfa && set[1] == 0xde && set[2] == 0x0c && set[3] == 0x01 &&
			blen == len
		? msign_reqset_decompile(set, len, &text, &count, &dr, NULL)
		: MSIGN_E_ARG;
	free(text);
	if (r != 0)
		return r;
	uint8_t *copy = malloc(len);
	if (copy == NULL)
		return MSIGN_E_NOMEM;
	memcpy(copy, set, len);
	free(o->reqs);
	o->reqs = copy;
	o->o.requirements = copy;
	o->o.requirements_len = len;
	return 0;
}

int msign_sign_options_set_for_notarization(msign_sign_options *o, bool on)
{
	if (o == NULL)
		return MSIGN_E_ARG;
	o->o.for_notarization = on;
	return 0;
}

int msign_sign_file(const char *in_path, const char *out_path,
		    const msign_sign_options *o, struct msign_diag *d)
{
	msign_diag_clear(d);
	if (in_path == NULL || out_path == NULL)
		return msign_diag_done(d, msign_diag_set(d, MSIGN_E_ARG, 0,
							 "msign_sign_file: NULL path"));
	struct msign_sign_opts so;
	if (o != NULL)
		so = o->o;
	else
		memset(&so, 0, sizeof(so));
	so.file_name = in_path; /* the default identifier's source */
	struct msign_sign_result *res = malloc(sizeof(*res));
	if (res == NULL)
		return msign_diag_done(d, MSIGN_E_NOMEM);
	int r = msign_sign_run(in_path, out_path, &so, res, d);
	free(res);
	return msign_diag_done(d, r);
}

int msign_strip_file(const char *in_path, const char *out_path,
		     const char *arch, struct msign_diag *d)
{
	msign_diag_clear(d);
	if (in_path == NULL || out_path == NULL)
		return msign_diag_done(d, msign_diag_set(d, MSIGN_E_ARG, 0,
							 "msign_strip_file: NULL path"));
	struct msign_strip_result *res = malloc(sizeof(*res));
	if (res == NULL)
		return msign_diag_done(d, MSIGN_E_NOMEM);
	int r = msign_strip_run(in_path, out_path, arch, res, d);
	free(res);
	return msign_diag_done(d, r);
}

int msign_sign_options_add_nested_entitlements(msign_sign_options *o,
					       const char *rel, const char *xml,
					       size_t len)
{
	if (o == NULL || rel == NULL || xml == NULL || len == 0 || len > API_ENT_MAX ||
	    rel[0] == '\0' || rel[0] == '/' || strlen(rel) > 4096)
		return MSIGN_E_ARG;
	if (o->o.n_nested_ent == API_NESTED_MAX)
		return MSIGN_E_LIMIT;
	char *r = strdup(rel), *x = NULL;
	if (r == NULL || api_copy(&x, xml, len) != 0) {
		free(r);
		return MSIGN_E_NOMEM;
	}
	struct msign_nested_ent *e = &o->nested[o->o.n_nested_ent++];
	e->rel = r;
	e->xml = x;
	e->len = len;
	o->o.nested_ent = o->nested;
	return 0;
}

int msign_sign_bundle(const char *path, const msign_sign_options *o,
		      unsigned flags, char **subcomponent, struct msign_diag *d)
{
	msign_diag_clear(d);
	if (subcomponent != NULL)
		*subcomponent = NULL;
	if (path == NULL || (flags & ~(MSIGN_BUNDLE_DEEP | MSIGN_BUNDLE_NESTED_ENTITLEMENTS)))
		return msign_diag_done(d, msign_diag_set(d, MSIGN_E_ARG, 0,
							 "msign_sign_bundle: NULL path or unknown flag"));
	struct msign_sign_opts so;
	if (o != NULL)
		so = o->o;
	else
		memset(&so, 0, sizeof(so));
	return msign_diag_done(d, msign_sign_bundle_opts(path, &so, flags, subcomponent, d));
}
