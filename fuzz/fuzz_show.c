/* libFuzzer target: the whole show path, then strip, of the library on an in-memory
 * file: container, every slice's signature, CodeDirectories and their page
 * hashes, requirements, CMS, entitlements and the Info.plist count; for
 * some inputs also on the same bytes opened as a file that is then cut
 * to nothing behind the image. */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "sig/codesign.h"
#include "sig/req.h"
#include "sig/cms.h"
#include "sig/ent.h"
#include "hash/hash.h"
#include "write/write.h"
#include "write/strip.h"
#include "sign/sign.h"
#include "verify/verify.h"
#include "fuzz_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fz_sig(const struct msign_image *img, const struct msign_slice *s,
		   const struct msign_sig *sig)
{
	for (uint32_t i = 0; i < sig->ncds; i++) {
		uint32_t bad;
		msign_codedir_count_bad_pages(img, &sig->cds[i], s, &bad, NULL);
	}
	char *text = NULL;
	uint32_t count;
	bool has_dr;
	if (sig->requirements != NULL &&
	    msign_reqset_decompile(sig->requirements->data,
				   sig->requirements->len, &text, &count,
				   &has_dr, NULL) == 0)
		free(text);
	if (sig->cms != NULL && sig->cms->len > 8) {
		struct msign_cms_info ci;
		memset(&ci, 0, sizeof(ci));
		if (msign_cms_parse(sig->cms->data + 8, sig->cms->len - 8, &ci,
				    NULL) == 0) {
			char *dr = NULL;
			if (msign_cms_designated(&ci, sig->cds[0].ident, &dr,
						 NULL) == 0)
				free(dr);
			msign_cms_info_free(&ci);
		}
	}
	if (sig->ent_der != NULL) {
		char *xml = NULL;
		size_t xlen;
		if (msign_ent_der_to_xml(sig->ent_der->data + 8,
					 sig->ent_der->len - 8, &xml, &xlen,
					 NULL) == 0)
			free(xml);
	}
	if (s->has_info_plist) {
		uint32_t n;
		msign_plist_count_entries(s->data + s->info_plist_off,
					  (size_t)s->info_plist_size, &n, NULL);
	}
}

/* Strip in memory; a stripped slice that is still signed, or a result
 * that no longer parses, is a bug: abort so the fuzzer reports it. */
static void fz_strip(const struct msign_image *img, const uint8_t *data,
		     size_t size)
{
	struct msign_plan plan;
	static struct msign_strip_result res;
	msign_plan_init(&plan);
	uint8_t *out = NULL;
	if (msign_strip_plan(img, NULL, &plan, &res, NULL) == 0 &&
	    plan.out_len <= 4 * (uint64_t)size + 65536 &&
	    msign_plan_render(&plan, data, size, &out, NULL) == 0) {
		struct msign_image *o = NULL;
		if (msign_image_parse(out, (size_t)plan.out_len, &o, NULL) != 0)
			abort();
		for (uint32_t i = 0; i < o->nslices; i++)
			if (res.slices[i].was_signed &&
			    (o->slices[i].err != 0 || o->slices[i].has_codesig))
				abort();
		msign_image_free(o);
	}
	free(out);
	msign_plan_free(&plan);
}

/* Every reader of the show path over one image. */
static void fz_show(const struct msign_image *img)
{
	uint32_t order[MSIGN_MAX_SLICES];
	msign_image_sorted(img, order);
	(void)msign_image_default_slice(img);
	for (uint32_t i = 0; i < img->nslices; i++) {
		const struct msign_slice *s = &img->slices[i];
		char buf[40];
		(void)msign_arch_label(s->cputype, s->cpusubtype, buf, sizeof(buf));
		if (s->err != 0)
			continue;
		static struct msign_sig sig; /* large: keep it off the stack */
		if (msign_sig_parse(s, &sig, NULL) == 0)
			fz_sig(img, s, &sig);
	}
}

/* The same bytes opened as a file, which is then emptied behind the
 * image: the show path must still run on msign's own copy (no SIGBUS,
 * no read of the changed file but the page hashes, which fail). */
static void fz_as_file(const uint8_t *data, size_t size)
{
	int fd = fz_file(data, size);
	if (fd < 0)
		return;
	struct msign_image *img = NULL;
	if (msign_image_open_fd(fd, &img, NULL) == 0) {
		if (ftruncate(fd, 0) != 0)
			abort();
		fz_show(img);
		msign_image_free(img);
	}
	close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct msign_image *img = NULL;
	if (msign_image_parse(data, size, &img, NULL) != 0)
		return 0;
	fz_show(img);
	fz_strip(img, data, size);
	msign_image_free(img);
	/* an eighth of the inputs: the file path too (syscalls cost runs) */
	if ((size & 7) == 1)
		fz_as_file(data, size);
	return 0;
}
