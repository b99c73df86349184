/* Error strings and the diagnostic setter used by every parser. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/diag.h"

static const struct {
	int code;
	const char *text;
} err_table[] = {
	{ MSIGN_OK, "success" },
	{ MSIGN_E_TRUNCATED, "data truncated" },
	{ MSIGN_E_BAD_MAGIC, "bad magic number" },
	{ MSIGN_E_BAD_RANGE, "offset or length out of range" },
	{ MSIGN_E_OVERFLOW, "integer overflow" },
	{ MSIGN_E_UNSUPPORTED, "unsupported format or version" },
	{ MSIGN_E_CRYPTO, "cryptographic or CMS error" },
	{ MSIGN_E_PLIST, "invalid property list" },
	{ MSIGN_E_VERIFY, "hash mismatch" },
	{ MSIGN_E_NOMEM, "out of memory" },
	{ MSIGN_E_IO, "input/output error" },
	{ MSIGN_E_LIMIT, "hard limit exceeded" },
	{ MSIGN_E_NOT_SIGNED, "code object is not signed at all" },
	{ MSIGN_E_NOT_FOUND, "not found" },
	{ MSIGN_E_INVALID, "invalid structure" },
	{ MSIGN_E_ARG, "invalid argument" },
	{ MSIGN_E_INTERNAL, "internal error (a bug in libmsign)" },
	{ MSIGN_E_ALREADY_SIGNED, "is already signed" },
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
	vsnprintf(d->msg, sizeof(d->msg), fmt, ap);
	va_end(ap);
	return code;
}

void msign_diag_clear(struct msign_diag *d)
{
	if (d != NULL)
		memset(d, 0, sizeof(*d));
}
