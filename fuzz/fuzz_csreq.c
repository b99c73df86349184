/* libFuzzer target: the requirement compiler on arbitrary text. What
 * compiles must decompile, and the text the decompiler prints must compile
 * to the same bytes again (the promise of src/sig/req.h); a difference
 * aborts so the fuzzer reports it. The single-requirement and set entry
 * points run too, for their own error paths. */
#include <stdlib.h>
#include <string.h>

#include "sig/codesign.h"
#include "sig/req.h"

/* A requirement header, or a set header with no entry. */
#define REQ_FUZZ_MIN_BLOB 12u

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *fz_decompile(const uint8_t *blob, size_t len)
{
	char *text = NULL;
	uint32_t count;
	bool dr;
	uint32_t magic = (uint32_t)blob[0] << 24 | (uint32_t)blob[1] << 16 |
			 (uint32_t)blob[2] << 8 | blob[3];
	int rc = magic == MSIGN_CSMAGIC_REQUIREMENTS
			 ? msign_reqset_decompile(blob, len, &text, &count, &dr, NULL)
			 : msign_req_decompile(blob, len, &text, NULL);
	if (rc != 0)
		abort(); /* the compiler wrote what the decompiler refuses */
	return text;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	uint8_t *b = NULL;
	size_t n = 0;
	if (msign_req_compile(text, size, 0, &b, &n, NULL) == 0)
		free(b);
	if (msign_reqset_compile(text, size, 0, &b, &n, NULL) == 0)
		free(b);
	if (msign_req_compile(text, size, MSIGN_REQ_COMPILE_ANY, &b, &n, NULL) != 0)
		return 0;
	if (n < REQ_FUZZ_MIN_BLOB)
		abort();
	char *again_text = fz_decompile(b, n);
	uint8_t *b2 = NULL;
	size_t n2 = 0;
	struct msign_diag d;
	msign_diag_clear(&d);
	int rc = msign_req_compile(again_text, strlen(again_text), MSIGN_REQ_COMPILE_ANY,
				   &b2, &n2, &d);
	/* The printed text may be a few times longer than terse input ("cert"
	 * prints as "certificate", an empty match as a comment): only a text
	 * past the compiler's limit may fail for its length. */
	bool too_long = rc == MSIGN_E_LIMIT && strlen(again_text) > MSIGN_REQ_MAX_TEXT_LEN;
	if (!too_long && (rc != 0 || n2 != n || memcmp(b, b2, n) != 0))
		abort();
	free(b2);
	free(again_text);
	free(b);
	return 0;
}
