/* libFuzzer target: verify and sign on an in-memory file. The input is
 * verified as it is; then signed (the options picked by its last byte:
 * codesign or lld layout, entitlements, page size, digests), the plan is
 * rendered in memory and the result must verify. Single-threaded and
 * without file I/O, so each run stays cheap. */
#include <stdlib.h>
#include <string.h>

#include "msign/sign.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char fz_ent[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	"<plist version=\"1.0\"><dict><key>get-task-allow</key><true/>"
	"<key>com.example.list</key><array><string>a</string></array>"
	"</dict></plist>\n";

static void fz_verify(const uint8_t *data, size_t size, bool strict)
{
	struct msign_image *img = NULL;
	if (msign_image_parse(data, size, &img, NULL) != 0)
		return;
	struct msign_verify_opts vo = { .threads = 1, .strict = strict };
	struct msign_verify_result vr;
	(void)msign_verify_image(img, &vo, &vr, NULL);
	msign_image_free(img);
}

static void fz_sign(const uint8_t *data, size_t size)
{
	struct msign_image *img = NULL;
	if (msign_image_parse(data, size, &img, NULL) != 0)
		return;
	uint8_t sel = size ? data[size - 1] : 0;
	struct msign_sign_opts o = { .identifier = (sel & 1) ? NULL : "org.fuzz",
				     .file_name = "fuzzed.bin", .force = true,
				     .threads = 1 };
	if (sel & 2) {
		o.linker_signed = true;
	} else {
		if (sel & 4) {
			o.ent_xml = fz_ent;
			o.ent_len = sizeof(fz_ent) - 1;
		}
		if (sel & 8)
			o.cd_flags = CS_RUNTIME;
	}
	if (sel & 16)
		o.page_size = 4096;
	if (sel & 32)
		o.hash_types = 1u << CS_HASHTYPE_SHA1 | 1u << CS_HASHTYPE_SHA256;
	static struct msign_sign_result res;
	struct msign_plan plan;
	msign_plan_init(&plan);
	uint8_t *out = NULL;
	if (msign_sign_plan(img, &o, &plan, &res, NULL) == 0 &&
	    msign_plan_render(&plan, data, size, &out, NULL) == 0) {
		struct msign_image *signed_img = NULL;
		struct msign_verify_opts vo = { .threads = 1, .quick = true };
		struct msign_verify_result vr;
		/* What sign wrote must parse and verify: anything else is a
		 * signer bug, and crashing makes the fuzzer keep the input. */
		if (msign_image_parse(out, (size_t)plan.out_len, &signed_img, NULL) != 0 ||
		    msign_verify_image(signed_img, &vo, &vr, NULL) != 0)
			abort();
		msign_image_free(signed_img);
	}
	free(out);
	msign_plan_free(&plan);
	msign_image_free(img);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fz_verify(data, size, (size & 1) != 0);
	fz_sign(data, size);
	return 0;
}
