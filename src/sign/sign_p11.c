/* PKCS#11 signing keys through OpenSSL: libp11's "pkcs11" ENGINE turns a
 * token's key into an EVP_PKEY whose signing happens on the token, so the
 * CMS code (sign_cms.c) uses it like a key read from a file.
 *
 * Why an ENGINE, deprecated in OpenSSL 3: Debian 12 ships OpenSSL 3.0 and
 * libp11's engine (libengine-pkcs11-openssl) but no PKCS#11 provider
 * (pkcs11-provider is packaged from Debian 13 on), and a provider is what
 * OpenSSL 3's store API would need. The deprecated calls stay in this one
 * file. The engine is found by OpenSSL's own lookup (OPENSSL_ENGINES, else
 * the ENGINESDIR libcrypto was built with), is never made a default and
 * never added to OpenSSL's engine list. The module is also opened here
 * directly, for what the engine does not tell (p11_token_scan), and closed
 * again. Once the identity is freed, nothing of it is left in the process
 * but OpenSSL's lazy init. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/opensslconf.h>
#include <openssl/err.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/diag.h"
#include "sign/sign_p11.h"

#ifndef OPENSSL_NO_ENGINE
#include <dlfcn.h>
#include <openssl/engine.h>
#include <openssl/ui.h>
#include <openssl/x509v3.h>

#define P11_MAX_SLOTS 64u
#define P11_MAX_CERTS 16u /* CA certificates taken from a token */
#define P11_LABEL_LEN 32u

struct msign_p11 {
	ENGINE *e;      /* a structural and a functional reference */
	UI_METHOD *ui;  /* the engine keeps a pointer to it */
};

/* The argument of libp11's LOAD_CERT_CTRL (its documented layout). */
struct p11_cert_params {
	const char *id;
	X509 *cert;
};

/* Every prompt fails: a PIN comes from the caller or the URI's
 * pin-source, never from the terminal. */
static int p11_no_prompt(UI *ui, UI_STRING *uis)
{
	(void)ui, (void)uis;
	return 0;
}

void msign_p11_release(struct msign_p11 *p11)
{
	if (p11 == NULL)
		return;
	if (p11->e != NULL) {
		ENGINE_finish(p11->e);
		ENGINE_free(p11->e);
	}
	UI_destroy_method(p11->ui);
	free(p11);
}

/* Why the engine gave no key, from the error queue (emptied): libp11
 * names a token's refusal by the PKCS#11 return value's name (CKR_PIN_*
 * as "PIN incorrect" ...), our refused prompt is UI's "processing
 * error", and a URI that matched nothing is "object not found". */
enum p11_why { P11_UNKNOWN, P11_SAID, P11_NO_OBJECT, P11_NO_MODULE };

static enum p11_why p11_why(const char **says, char *other, size_t other_len)
{
	static const struct {
		const char *reason, *says;
		enum p11_why why;
	} known[] = {
		{ "PIN incorrect", "the token refused the PIN (PIN incorrect)", P11_SAID },
		{ "PIN invalid", "the token refused the PIN (PIN invalid)", P11_SAID },
		{ "Invalid PIN length", "the token refused the PIN (invalid PIN length)", P11_SAID },
		{ "PIN locked", "the token's PIN is locked", P11_SAID },
		{ "PIN expired", "the token's PIN has expired", P11_SAID },
		{ "User pin not initialized", "the token's user PIN is not initialized", P11_SAID },
		{ "processing error",
		  "the token needs a PIN (--pkcs11-pin-file FILE or MSIGN_PKCS11_PIN)", P11_SAID },
		{ "object not found", NULL, P11_NO_OBJECT },
		{ "Unable to load PKCS#11 module", NULL, P11_NO_MODULE },
	};
	enum p11_why why = P11_UNKNOWN;
	unsigned long e;
	*says = NULL;
	other[0] = '\0';
	while ((e = ERR_get_error()) != 0) {
		const char *r = ERR_reason_error_string(e);
		/* the first reason, for a failure none of these explains */
		if (other[0] == '\0' && r != NULL)
			snprintf(other, other_len, "%s", r);
		for (size_t k = 0; r != NULL && why == P11_UNKNOWN &&
				   k < sizeof(known) / sizeof(known[0]); k++) {
			if (strcmp(r, known[k].reason) != 0)
				continue;
			*says = known[k].says;
			why = known[k].why;
		}
	}
	return why;
}

/* ---- the token, from its module ------------------------------------------- */

/* The engine says "object not found" for a token that is not there as for
 * a key that is not on it, and hands out one certificate, the URI's. So
 * the module is also asked directly, before the engine starts: is the
 * URI's token there, and which CA certificates does it hold (public
 * objects: no login)? These are the few PKCS#11 (v2.40) types that takes,
 * laid out as the standard lays them out on Unix (CK_ULONG is unsigned
 * long, no packing); only the front of the module's function list, up to
 * C_FindObjectsFinal, is read. */
typedef unsigned long p11_ulong;
struct p11_version {
	unsigned char major, minor;
};
struct p11_token_info {
	unsigned char label[P11_LABEL_LEN], manufacturer[32], model[16], serial[16];
	p11_ulong flags, counts[10];
	struct p11_version hardware, firmware;
	unsigned char utc_time[16];
};
struct p11_attr {
	p11_ulong type;
	void *value;
	p11_ulong len;
};
typedef void (*p11_unused)(void);
struct p11_functions {
	struct p11_version version;
	p11_ulong (*initialize)(void *args);
	p11_ulong (*finalize)(void *reserved);
	p11_unused get_info, get_function_list;
	p11_ulong (*get_slot_list)(unsigned char present, p11_ulong *slots, p11_ulong *n);
	p11_unused get_slot_info;
	p11_ulong (*get_token_info)(p11_ulong slot, struct p11_token_info *info);
	p11_unused mechanisms_to_set_pin[5];
	p11_ulong (*open_session)(p11_ulong slot, p11_ulong flags, void *app,
				  void *notify, p11_ulong *session);
	p11_ulong (*close_session)(p11_ulong session);
	p11_unused close_all_to_object_size[10];
	p11_ulong (*get_attribute_value)(p11_ulong session, p11_ulong object,
					 struct p11_attr *t, p11_ulong n);
	p11_unused set_attribute_value;
	p11_ulong (*find_objects_init)(p11_ulong session, struct p11_attr *t, p11_ulong n);
	p11_ulong (*find_objects)(p11_ulong session, p11_ulong *objects, p11_ulong max,
				  p11_ulong *n);
	p11_ulong (*find_objects_final)(p11_ulong session);
};
/* C_FindObjectsFinal is the 29th function of the list */
_Static_assert(offsetof(struct p11_functions, find_objects_final) ==
	       offsetof(struct p11_functions, initialize) + 28 * sizeof(p11_unused),
	       "PKCS#11 function list layout");
#define P11_CKR_OK 0x0ul
#define P11_CKR_ALREADY_INITIALIZED 0x191ul
#define P11_CKF_SERIAL_SESSION 0x4ul
#define P11_CKA_CLASS 0x0ul
#define P11_CKA_VALUE 0x11ul
#define P11_CKO_CERTIFICATE 0x1ul
#define P11_CERT_MAX (64u << 10)

static int p11_hex(char c)
{
	return c >= '0' && c <= '9' ? c - '0'
	     : c >= 'a' && c <= 'f' ? c - 'a' + 10
	     : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* The token attribute of uri, percent-decoded and padded with spaces as
 * CK_TOKEN_INFO holds labels; false when there is none or it does not
 * fit. */
static bool p11_uri_token(const char *uri, unsigned char label[P11_LABEL_LEN])
{
	const char *at = uri + strlen("pkcs11:");
	size_t path_len = strcspn(at, "?");
	while (path_len > 0) {
		size_t n = strcspn(at, ";?");
		if (n > 6 && strncmp(at, "token=", 6) == 0) {
			size_t k = 0;
			memset(label, ' ', P11_LABEL_LEN);
			for (size_t i = 6; i < n; i++) {
				int c = (unsigned char)at[i];
				if (c == '%') {
					int hi = i + 2 < n ? p11_hex(at[i + 1]) : -1;
					int lo = i + 2 < n ? p11_hex(at[i + 2]) : -1;
					if (hi < 0 || lo < 0)
						return false;
					c = hi << 4 | lo;
					i += 2;
				}
				if (k == P11_LABEL_LEN)
					return false;
				label[k++] = (unsigned char)c;
			}
			return true;
		}
		if (n >= path_len)
			break;
		at += n + 1;
		path_len -= n + 1;
	}
	return false;
}

/* The CA certificates among the certificate objects of the token in
 * slot, appended to cas (at most P11_MAX_CERTS; what cannot be read is
 * left out: the chain is checked when it is built). */
static void p11_token_cas(struct p11_functions *f, p11_ulong slot, STACK_OF(X509) *cas)
{
	p11_ulong s, objs[P11_MAX_CERTS], n = 0;
	p11_ulong cls = P11_CKO_CERTIFICATE;
	struct p11_attr t = { P11_CKA_CLASS, &cls, sizeof(cls) };
	if (f->open_session(slot, P11_CKF_SERIAL_SESSION, NULL, NULL, &s) != P11_CKR_OK)
		return;
	if (f->find_objects_init(s, &t, 1) == P11_CKR_OK) {
		if (f->find_objects(s, objs, P11_MAX_CERTS, &n) != P11_CKR_OK || n > P11_MAX_CERTS)
			n = 0;
		f->find_objects_final(s);
	}
	for (p11_ulong i = 0; i < n; i++) {
		struct p11_attr v = { P11_CKA_VALUE, NULL, 0 };
		if (f->get_attribute_value(s, objs[i], &v, 1) != P11_CKR_OK ||
		    v.len == 0 || v.len > P11_CERT_MAX || (v.value = malloc(v.len)) == NULL)
			continue;
		const unsigned char *der = v.value;
		X509 *x = f->get_attribute_value(s, objs[i], &v, 1) == P11_CKR_OK
			? d2i_X509(NULL, &der, (long)v.len) : NULL;
		free(v.value);
		if (x == NULL || X509_check_ca(x) == 0 || !sk_X509_push(cas, x))
			X509_free(x);
	}
	f->close_session(s);
	ERR_clear_error();
}

/* 1: module has a token labelled label (its CA certificates appended to
 * cas), 0: it has not, -1: cannot tell. The module is initialized and
 * finalized here only when no one else in the process has it initialized;
 * it is unloaded again either way. */
static int p11_token_scan(const char *module, const unsigned char label[P11_LABEL_LEN],
			  STACK_OF(X509) *cas)
{
	void *h = dlopen(module, RTLD_NOW | RTLD_LOCAL);
	if (h == NULL)
		return -1;
	p11_ulong (*get_list)(struct p11_functions **) = NULL;
	*(void **)&get_list = dlsym(h, "C_GetFunctionList");
	struct p11_functions *f = NULL;
	int r = -1;
	if (get_list == NULL || get_list(&f) != P11_CKR_OK || f == NULL ||
	    f->version.major < 2) {
		dlclose(h);
		return -1;
	}
	p11_ulong rv = f->initialize(NULL);
	if (rv == P11_CKR_OK || rv == P11_CKR_ALREADY_INITIALIZED) {
		p11_ulong slots[P11_MAX_SLOTS], n = P11_MAX_SLOTS;
		if (f->get_slot_list(1, slots, &n) == P11_CKR_OK && n <= P11_MAX_SLOTS) {
			r = 0;
			for (p11_ulong i = 0; i < n && r == 0; i++) {
				struct p11_token_info ti;
				if (f->get_token_info(slots[i], &ti) == P11_CKR_OK &&
				    memcmp(ti.label, label, P11_LABEL_LEN) == 0) {
					r = 1;
					p11_token_cas(f, slots[i], cas);
				}
			}
		}
		if (rv == P11_CKR_OK)
			f->finalize(NULL);
	}
	dlclose(h);
	return r;
}

/* The URI as messages show it: not at all when it holds a PIN. */
static const char *p11_shown(const char *uri)
{
	return strcasestr(uri, "pin-value") != NULL ? "(the URI)" : uri;
}

/* libp11's engine, set up for module and pin, in p (both references). */
static int p11_engine(const char *module, const char *pin, struct msign_p11 *p,
		      struct msign_diag *d)
{
	ENGINE *e = ENGINE_by_id("pkcs11");
	if (e == NULL) {
		ERR_clear_error();
		return msign_diag_set(d, MSIGN_E_UNSUPPORTED, 0,
				      "PKCS#11: OpenSSL has no pkcs11 engine (Debian: libengine-pkcs11-openssl)");
	}
	if ((p->ui = UI_create_method("msign: no PIN prompt")) == NULL ||
	    UI_method_set_reader(p->ui, p11_no_prompt) != 0) {
		ENGINE_free(e);
		return msign_diag_set(d, MSIGN_E_NOMEM, 0, "out of memory");
	}
	/* QUIET: libp11 writes its findings to stderr otherwise. */
	if (!ENGINE_ctrl_cmd_string(e, "QUIET", NULL, 0) ||
	    (module != NULL && !ENGINE_ctrl_cmd_string(e, "MODULE_PATH", module, 0)) ||
	    (pin != NULL && !ENGINE_ctrl_cmd_string(e, "PIN", pin, 0)) ||
	    !ENGINE_init(e)) {
		ENGINE_free(e);
		ERR_clear_error();
		return msign_diag_set(d, MSIGN_E_CRYPTO, 0, "PKCS#11: cannot start the pkcs11 engine");
	}
	p->e = e;
	return 0;
}

/* The engine gave no key: say why, in one line. tok: p11_token_scan's
 * answer (-1 when it was not asked). */
static int p11_no_key(const char *uri, const char *module, int tok, struct msign_diag *d)
{
	const char *says = NULL;
	char other[128], no_key[160];
	enum p11_why why = p11_why(&says, other, sizeof(other));
	if (why == P11_NO_MODULE)
		says = module != NULL ? "cannot load the PKCS#11 module"
				      : "cannot load the engine's default PKCS#11 module";
	else if (why == P11_NO_OBJECT)
		says = tok == 1 ? "no such private key object on the token"
				: "no such token, or no such private key object on it";
	else if (says == NULL) {
		snprintf(no_key, sizeof(no_key), "no private key (%s)",
			 other[0] ? other : "the engine says not why");
		says = no_key;
	}
	return msign_diag_set(d, MSIGN_E_NOT_FOUND, 0, "PKCS#11: %s: %s", p11_shown(uri), says);
}

int msign_p11_load(const char *uri, const char *module, const char *pin,
		   EVP_PKEY **key, X509 **cert, STACK_OF(X509) *cas,
		   struct msign_p11 **out, struct msign_diag *d)
{
	*key = NULL;
	if (cert != NULL)
		*cert = NULL;
	*out = NULL;
	/* libp11 would write the loader's message to stderr */
	if (module != NULL && access(module, R_OK) != 0)
		return msign_diag_set(d, MSIGN_E_IO, 0, "PKCS#11: %s: %s", module, strerror(errno));
	unsigned char label[P11_LABEL_LEN];
	int tok = module != NULL && p11_uri_token(uri, label)
		? p11_token_scan(module, label, cas) : -1;
	if (tok == 0)
		return msign_diag_set(d, MSIGN_E_NOT_FOUND, 0, "PKCS#11: %s: no such token",
				      p11_shown(uri));
	struct msign_p11 *p = calloc(1, sizeof(*p));
	if (p == NULL)
		return msign_diag_set(d, MSIGN_E_NOMEM, 0, "out of memory");
	int r = p11_engine(module, pin, p, d);
	if (r == 0 && (*key = ENGINE_load_private_key(p->e, uri, p->ui, NULL)) == NULL)
		r = p11_no_key(uri, module, tok, d);
	if (r == 0 && cert != NULL) {
		struct p11_cert_params cp = { uri, NULL };
		if (!ENGINE_ctrl_cmd(p->e, "LOAD_CERT_CTRL", 0, &cp, NULL, 1) || cp.cert == NULL)
			r = msign_diag_set(d, MSIGN_E_NOT_FOUND, 0,
					   "PKCS#11: %s: no certificate object on the token (give --cert)",
					   p11_shown(uri));
		*cert = cp.cert;
	}
	ERR_clear_error();
	if (r == 0) {
		*out = p;
		return 0;
	}
	EVP_PKEY_free(*key); /* before the engine that signs with it */
	*key = NULL;
	msign_p11_release(p);
	return r;
}

#else /* OPENSSL_NO_ENGINE */

int msign_p11_load(const char *uri, const char *module, const char *pin,
		   EVP_PKEY **key, X509 **cert, STACK_OF(X509) *cas,
		   struct msign_p11 **out, struct msign_diag *d)
{
	(void)uri, (void)module, (void)pin, (void)cas;
	*key = NULL;
	if (cert != NULL)
		*cert = NULL;
	*out = NULL;
	return msign_diag_set(d, MSIGN_E_UNSUPPORTED, 0,
			      "PKCS#11 is not supported in this build (OpenSSL without engines)");
}

void msign_p11_release(struct msign_p11 *p11)
{
	(void)p11;
}

#endif
