/* libFuzzer target: verify and sign on an in-memory file. The input is
 * verified as it is; then signed (the options picked by its last byte:
 * codesign or lld layout, entitlements, page size, digests), the plan is
 * rendered in memory and the result must verify. For a quarter of the
 * inputs the same bytes are also opened as a file (memfd), where pages are
 * read with pread: verdict and signed bytes must be identical; then the
 * file is changed behind an image opened from it (reading discipline).
 * Single-threaded, so each run stays cheap. */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "write/write.h"
#include "write/strip.h"
#include "hash/hash.h"
#include "sign/sign.h"
#include "verify/verify.h"
#include "fuzz_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char fz_ent[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	"<plist version=\"1.0\"><dict><key>get-task-allow</key><true/>"
	"<key>com.example.list</key><array><string>a</string></array>"
	"</dict></plist>\n";

/* Verify result as kind plus detail, for comparing two runs. */
struct fz_verdict {
	int rc, kind;
	char detail[sizeof(((struct msign_verify_result *)0)->detail)];
};

static void fz_verify(const struct msign_image *img, bool strict,
		      struct fz_verdict *v)
{
	struct msign_verify_opts vo = { .threads = 1, .strict = strict };
	struct msign_verify_result vr;
	v->rc = msign_verify_image(img, &vo, &vr, NULL);
	v->kind = vr.kind;
	memcpy(v->detail, vr.detail, sizeof(v->detail));
}

/* Sign img (the options picked by the input's last byte) and render the
 * result from data; NULL when sign refuses. The result must verify.
 * Without render, only the plan is made (the file behind img changed, so
 * its page hashes describe other bytes than data). */
static uint8_t *fz_sign(const struct msign_image *img, const uint8_t *data,
			size_t size, uint64_t *out_len, bool render)
{
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
			o.cd_flags = MSIGN_CS_RUNTIME;
	}
	if (sel & 16)
		o.page_size = 4096;
	if (sel & 32)
		o.hash_types = 1u << MSIGN_CS_HASHTYPE_SHA1 | 1u << MSIGN_CS_HASHTYPE_SHA256;
	static struct msign_sign_result res;
	struct msign_plan plan;
	msign_plan_init(&plan);
	uint8_t *out = NULL;
	if (msign_sign_plan(img, &o, &plan, &res, NULL) == 0 && render &&
	    msign_plan_render(&plan, data, size, &out, NULL) == 0) {
		*out_len = plan.out_len;
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
	msign_plan_free(&plan);
	return out;
}

/* The same bytes opened as a file (a memfd), so the hashing engine reads
 * them with pread: verify and sign must give exactly what they gave on
 * the in-memory image. */
static void fz_as_file(const uint8_t *data, size_t size, bool strict,
		       const struct fz_verdict *want, const uint8_t *want_out,
		       uint64_t want_len)
{
	int fd = fz_file(data, size);
	if (fd < 0)
		return;
	struct msign_image *img = NULL;
	if (msign_image_open_fd(fd, &img, NULL) == 0) {
		struct fz_verdict v;
		fz_verify(img, strict, &v);
		if (v.rc != want->rc || v.kind != want->kind ||
		    strcmp(v.detail, want->detail) != 0)
			abort();
		uint64_t len = 0;
		uint8_t *out = fz_sign(img, data, size, &len, true);
		if ((out == NULL) != (want_out == NULL) ||
		    (out != NULL && (len != want_len || memcmp(out, want_out, len) != 0)))
			abort();
		free(out);
		msign_image_free(img);
		img = NULL;
	}
	/* The reading discipline (half of these inputs, an eighth of all):
	 * open again, then change the file behind
	 * the image (cut it, or overwrite its first bytes). What was parsed
	 * is msign's own copy, so the verdict may only turn into a page
	 * mismatch or an I/O error, never a signal or another structural
	 * verdict; signing must not crash either. */
	if ((size & 8) == 0 && msign_image_open_fd(fd, &img, NULL) == 0) {
		uint8_t sel = size ? data[size / 2] : 0;
		if (sel & 1) {
			if (ftruncate(fd, (off_t)(size / 3)) != 0)
				abort();
		} else {
			static const uint8_t junk[512] = { 0xff, 0xfe, 0xfa, 0xde };
			size_t n = size < sizeof(junk) ? size : sizeof(junk);
			if (pwrite(fd, junk, n, (off_t)((sel >> 1) % 8) * 512) < 0)
				abort();
		}
		struct fz_verdict v;
		fz_verify(img, strict, &v);
		if (!(v.rc == want->rc && v.kind == want->kind) &&
		    !(v.rc == MSIGN_E_VERIFY && v.kind == MSIGN_VERIFY_MODIFIED) &&
		    v.rc != MSIGN_E_IO)
			abort();
		uint64_t len = 0;
		free(fz_sign(img, data, size, &len, false));
		msign_image_free(img);
	}
	close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct msign_image *img = NULL;
	if (msign_image_parse(data, size, &img, NULL) != 0)
		return 0;
	bool strict = (size & 1) != 0;
	struct fz_verdict v;
	fz_verify(img, strict, &v);
	uint64_t len = 0;
	uint8_t *out = fz_sign(img, data, size, &len, true);
	msign_image_free(img);
	/* a quarter of the inputs: the file path too (syscalls cost runs) */
	if ((size & 6) == 0)
		fz_as_file(data, size, strict, &v, out, len);
	free(out);
	return 0;
}
