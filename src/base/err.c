/* Error strings and the diagnostic setter used by every parser. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/diag.h"

/* What a user reads for each code: a short sentence, no trailing period,
 * stable (scripts and translations may key on it); the precise reason is
 * the diagnostic's msg. */
static const struct {
	int code;
	const char *text;
} err_table[] = {
	{ MSIGN_OK, "success" },
	{ MSIGN_E_TRUNCATED, "the file is truncated" },
	{ MSIGN_E_BAD_MAGIC, "not the expected structure (bad magic number)" },
	{ MSIGN_E_BAD_RANGE, "an offset or length points outside its container" },
	{ MSIGN_E_OVERFLOW, "a size or offset in the file is too large" },
	{ MSIGN_E_UNSUPPORTED, "unsupported format or version" },
	{ MSIGN_E_CRYPTO, "a cryptographic operation failed or the CMS signature is unreadable" },
	{ MSIGN_E_PLIST, "the property list (entitlements or Info.plist) is invalid" },
	{ MSIGN_E_VERIFY, "a hash does not match: the code or signature has been modified" },
	{ MSIGN_E_NOMEM, "out of memory" },
	{ MSIGN_E_IO, "the file cannot be read or written" },
	{ MSIGN_E_LIMIT, "a count in the file exceeds what msign accepts" },
	{ MSIGN_E_NOT_SIGNED, "code object is not signed at all" },
	{ MSIGN_E_NOT_FOUND, "the requested architecture or item is not present" },
	{ MSIGN_E_INVALID, "the file's structure is inconsistent" },
	{ MSIGN_E_ARG, "invalid argument" },
	{ MSIGN_E_INTERNAL, "internal error in libmsign (a bug; please report it)" },
	{ MSIGN_E_LAYOUT, "the signature is not where Apple's tools put it" },
	{ MSIGN_E_ALREADY_SIGNED, "the file is already signed (replacing it needs force)" },
};

const char *msign_strerror(int code)
{
	for (size_t i = 0; i < sizeof(err_table) / sizeof(err_table[0]); i++)
		if (err_table[i].code == code)
			return err_table[i].text;
	return "unknown error";
}

int msign_diag_set(struct msign_diag *d, int code, uint64_t off,
		   const char *fmt, ...)
{
	if (d == NULL || d->code != 0)
		return code;
	d->code = code;
	d->file_off = off;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(d->msg, sizeof(d->msg), fmt, ap);
	va_end(ap);
	if (n >= (int)sizeof(d->msg)) {
		/* Cut before a UTF-8 character the end would split (a long
		 * path): JSON output would show it as U+FFFD, text as bytes. */
		size_t end = sizeof(d->msg) - 1, k = 0;
		while (k < 3 && k < end &&
		       ((unsigned char)d->msg[end - 1 - k] & 0xc0) == 0x80)
			k++;
		unsigned char lead = (unsigned char)d->msg[end - 1 - k];
		size_t want = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
		if (k < end && lead >= 0xc0 && want > k + 1)
			d->msg[end - 1 - k] = '\0';
	}
	return code;
}

int msign_diag_done(struct msign_diag *d, int r)
{
	if (r < 0 && d != NULL) {
		if (d->code == 0)
			msign_diag_set(d, r, 0, "%s", msign_strerror(r));
		d->code = r;
	}
	return r;
}

void msign_diag_clear(struct msign_diag *d)
{
	if (d != NULL)
		memset(d, 0, sizeof(*d));
}
