/* PKCS#11 signing keys through OpenSSL: libp11's "pkcs11" ENGINE turns a
 * token's key into an EVP_PKEY whose signing happens on the token, so the
 * CMS code (sign_cms.c) uses it like a key read from a file.
 *
 * Why an ENGINE, deprecated in OpenSSL 3: Debian 12 ships OpenSSL 3.0 and
 * libp11's engine (libengine-pkcs11-openssl) but no PKCS#11 provider
 * (pkcs11-provider is packaged from Debian 13 on), and a provider is
 * what OpenSSL 3's store API would need. The deprecated calls stay in
 * this one file. The engine is found by OpenSSL's own lookup (OPENSSL_ENGINES, else
 * the ENGINESDIR libcrypto was built with), is never made a default and is
 * never added to OpenSSL's engine list: once the identity is freed,
 * nothing of it is left in the process but OpenSSL's lazy init. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/opensslconf.h>
#include <openssl/err.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/diag.h"
#include "sign/sign_p11.h"

#ifndef OPENSSL_NO_ENGINE
#include <openssl/engine.h>
#include <openssl/ui.h>

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
 * error". NULL: none of these. */
static const char *p11_why(const char *module)
{
	static const struct { const char *reason, *says; } known[] = {
		{ "PIN incorrect", "the token refused the PIN (PIN incorrect)" },
		{ "PIN invalid", "the token refused the PIN (PIN invalid)" },
		{ "Invalid PIN length", "the token refused the PIN (invalid PIN length)" },
		{ "PIN locked", "the token's PIN is locked" },
		{ "PIN expired", "the token's PIN has expired" },
		{ "User pin not initialized", "the token's user PIN is not initialized" },
		{ "processing error", "the token needs a PIN (--pkcs11-pin-file FILE or MSIGN_PKCS11_PIN)" },
		{ "object not found", "no such token, or no private key object on it" },
		{ "Unable to load PKCS#11 module", NULL },
	};
	const char *found = NULL;
	bool no_module = false;
	unsigned long e;
	while ((e = ERR_get_error()) != 0) {
		const char *r = ERR_reason_error_string(e);
		for (size_t k = 0; r != NULL && found == NULL && !no_module &&
				   k < sizeof(known) / sizeof(known[0]); k++)
			if (strcmp(r, known[k].reason) == 0) {
				found = known[k].says;
				no_module = found == NULL;
			}
	}
	if (no_module)
		return module != NULL ? "cannot load the PKCS#11 module"
				      : "cannot load the engine's default PKCS#11 module";
	return found;
}

/* The URI as messages show it: not at all when it holds a PIN. */
static const char *p11_shown(const char *uri)
{
	return strcasestr(uri, "pin-value") != NULL ? "(the URI)" : uri;
}

int msign_p11_load(const char *uri, const char *module, const char *pin,
		   EVP_PKEY **key, X509 **cert, struct msign_p11 **out,
		   struct msign_diag *d)
{
	*key = NULL;
	if (cert != NULL)
		*cert = NULL;
	*out = NULL;
	struct msign_p11 *p = calloc(1, sizeof(*p));
	if (p == NULL)
		return msign_diag_set(d, MSIGN_E_NOMEM, 0, "out of memory");
	int r = 0;
	/* libp11 would write the loader's message to stderr */
	if (module != NULL && access(module, R_OK) != 0) {
		r = msign_diag_set(d, MSIGN_E_IO, 0, "PKCS#11: %s: %s", module, strerror(errno));
		goto fail;
	}
	ENGINE *e = ENGINE_by_id("pkcs11");
	if (e == NULL) {
		ERR_clear_error();
		r = msign_diag_set(d, MSIGN_E_UNSUPPORTED, 0,
				   "PKCS#11: OpenSSL has no pkcs11 engine (Debian: libengine-pkcs11-openssl)");
		goto fail;
	}
	if ((p->ui = UI_create_method("msign: no PIN prompt")) == NULL ||
	    UI_method_set_reader(p->ui, p11_no_prompt) != 0) {
		ENGINE_free(e);
		r = msign_diag_set(d, MSIGN_E_NOMEM, 0, "out of memory");
		goto fail;
	}
	/* QUIET: libp11 writes its findings to stderr otherwise. */
	if (!ENGINE_ctrl_cmd_string(e, "QUIET", NULL, 0) ||
	    (module != NULL && !ENGINE_ctrl_cmd_string(e, "MODULE_PATH", module, 0)) ||
	    (pin != NULL && !ENGINE_ctrl_cmd_string(e, "PIN", pin, 0)) ||
	    !ENGINE_init(e)) {
		ENGINE_free(e);
		ERR_clear_error();
		r = msign_diag_set(d, MSIGN_E_CRYPTO, 0,
				   "PKCS#11: cannot start the pkcs11 engine");
		goto fail;
	}
	p->e = e;
	*key = ENGINE_load_private_key(e, uri, p->ui, NULL);
	if (*key == NULL) {
		const char *why = p11_why(module);
		r = msign_diag_set(d, MSIGN_E_NOT_FOUND, 0, "PKCS#11: %s: %s",
				   p11_shown(uri), why ? why : "no private key");
		goto fail;
	}
	if (cert != NULL) {
		struct p11_cert_params cp = { uri, NULL };
		if (!ENGINE_ctrl_cmd(e, "LOAD_CERT_CTRL", 0, &cp, NULL, 1) || cp.cert == NULL) {
			ERR_clear_error();
			r = msign_diag_set(d, MSIGN_E_NOT_FOUND, 0,
					   "PKCS#11: %s: no certificate object on the token (give --cert)",
					   p11_shown(uri));
			goto fail;
		}
		*cert = cp.cert;
	}
	*out = p;
	return 0;
fail:
	EVP_PKEY_free(*key);
	*key = NULL;
	msign_p11_release(p);
	ERR_clear_error();
	return r;
}

#else /* OPENSSL_NO_ENGINE */

int msign_p11_load(const char *uri, const char *module, const char *pin,
		   EVP_PKEY **key, X509 **cert, struct msign_p11 **out,
		   struct msign_diag *d)
{
	(void)uri, (void)module, (void)pin;
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
