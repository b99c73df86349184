/* libFuzzer target: strip, then the whole show path (the signing-
 * information model and every accessor of it) on an in-memory file:
 * container, every slice's signature, CodeDirectories and their page
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
#include "info/info_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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

/* Every accessor of the model, for each slice. */
static void fz_slice(const msign_info *info, const msign_info_slice *s)
{
	volatile size_t sink = 0; /* keep the reads */
	uint32_t a, b, c, n;
	uint64_t x, y, z;
	size_t len;
	time_t t;
	uint8_t dg[32];
	sink += strlen(msign_slice_arch(s));
	(void)msign_slice_macho_status(s, NULL);
	(void)msign_slice_build_version(s, &a, &b, &c);
	if (msign_slice_sig_status(s, NULL) != 0)
		return;
	for (uint32_t i = 0; msign_slice_blob(s, i, &a, &b, &c, &n); i++)
		sink += n;
	for (uint32_t i = 0; i < msign_slice_cd_count(s); i++) {
		const msign_info_cd *cd = msign_slice_cd(s, i);
		sink += strlen(msign_cd_identifier(cd));
		if (msign_cd_team(cd) != NULL)
			sink += strlen(msign_cd_team(cd));
		(void)msign_cd_exec_segment(cd, &x, &y, &z);
		(void)msign_cd_runtime(cd, &a);
		(void)msign_cd_cdhash(cd, &len);
		for (int64_t k = -(int64_t)msign_cd_special_slots(cd); k < 1; k++)
			if (msign_cd_slot_hash(cd, k) == NULL)
				abort(); /* every slot the CD counts lies inside it */
		msign_info_cd_pages_mismatched(info, s, cd, &n, NULL);
	}
	(void)msign_slice_cms_digest(s, dg);
	for (uint32_t i = 0; i < msign_slice_cert_count(s); i++) {
		const msign_info_cert *ce = msign_slice_cert(s, i);
		if (msign_cert_common_name(ce) != NULL)
			sink += strlen(msign_cert_common_name(ce));
		sink += msign_cert_roles(ce);
	}
	(void)msign_slice_signing_time(s, &t);
	(void)msign_slice_timestamp(s, &t);
	(void)msign_slice_message_digest(s, &len);
	if (msign_slice_requirements_text(s) != NULL)
		sink += strlen(msign_slice_requirements_text(s));
	bool implicit;
	const char *dr = msign_slice_designated_requirement(s, &implicit);
	if (dr != NULL)
		sink += strlen(dr);
	const char *xml = msign_slice_entitlements_xml(s, &len);
	if (xml != NULL && strlen(xml) > len)
		abort();
	for (uint32_t i = 0; i < msign_slice_entitlement_count(s); i++) {
		const char *k = msign_slice_entitlement_key(s, i);
		if (msign_slice_entitlement_type(s, k) == MSIGN_ENT_ABSENT)
			abort(); /* a listed key is found */
		(void)msign_slice_entitlement_bool(s, k);
		(void)msign_slice_entitlement_string(s, k);
	}
	(void)msign_slice_info_plist(s, &n);
	for (unsigned w = 0; w < 4; w++)
		(void)msign_slice_launch_constraint(s, w, &len);
	(void)sink;
}

/* The show path: the model of img (which it takes) and every accessor. */
static void fz_show(struct msign_image *img)
{
	msign_info *info = NULL;
	if (msign_info_adopt(img, &info, NULL) != 0)
		return;
	(void)msign_info_format(info);
	(void)msign_info_default_slice(info);
	for (uint32_t i = 0; i < msign_info_slice_count(info); i++)
		fz_slice(info, msign_info_slice_at(info, i));
	msign_info_free(info);
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
	}
	close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct msign_image *img = NULL;
	if (msign_image_parse(data, size, &img, NULL) != 0)
		return 0;
	fz_strip(img, data, size);
	fz_show(img);
	/* an eighth of the inputs: the file path too (syscalls cost runs) */
	if ((size & 7) == 1)
		fz_as_file(data, size);
	return 0;
}
