/* msign show: what `codesign -d` prints, line for line (see
 * ../shared/spec/codesign-display.md). Lines go to stdout (codesign uses
 * stderr); errors go to stderr as "<path>: <codesign's message>", followed
 * by one "msign: " line with the precise reason. */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "bundle/bundle_int.h"
#include "sig/cms.h"
#include "sig/ent.h"
#include "sig/req.h"
#include "msign/bundle.h"

#define MSG_SIGFORMAT "invalid or unsupported format for signature"
#define MSG_UNSIGNED "code object is not signed at all"
#define MAX_VERBOSE 6

struct show_opts {
	int verbose;
	const char *arch;
	const char *req_out;  /* "-" or a path */
	const char *ent_out;  /* "-", ":-" or a path */
	bool json;
	bool deep;            /* a bundle's Nested= lines (codesign -d --deep) */
	const char *bundle_version; /* a framework's Versions/<this> */
};

static void show_usage(FILE *out)
{
	fprintf(out,
		"usage: msign show [-v...|--verbose=N] [--arch NAME] [-r-] "
		"[--entitlements -] [--json]\n"
		"                  [--deep] [--bundle-version V] FILE|BUNDLE...\n"
		"  -v, --verbose[=N]     more detail (repeat, or N from 0 to 6)\n"
		"  -a, --arch NAME       show this slice of a universal file\n"
		"  -r-, --requirements - print the requirements (and the implicit\n"
		"                        designated requirement)\n"
		"  --entitlements -      print the entitlements as an XML plist\n"
		"                        (':-' is accepted too)\n"
		"  --json                every field of every slice, one JSON\n"
		"                        document per file\n"
		"  -d, --display         accepted for codesign compatibility\n"
		"      --deep            a bundle's nested code, one Nested= line each\n"
		"      --bundle-version V  a framework's Versions/V, not the version\n"
		"                        Versions/Current names\n"
		"A BUNDLE (.app, .framework, ... folder, or its main executable's path)\n"
		"shows its main executable with the bundle's Format=, Info.plist and\n"
		"Sealed Resources lines.\n");
}

static int fail(const char *path, const char *msg, const struct msign_diag *d)
{
	cli_flush_stdout(); /* keep the order of the two streams on a terminal */
	fprintf(stderr, "%s: %s\n", cli_esc(path), msg);
	if (d != NULL && d->code != 0)
		fprintf(stderr, "msign: %s (at offset %llu)\n", cli_esc(d->msg),
			(unsigned long long)d->file_off);
	return 1;
}

static void print_slots(const msign_info_cd *cd, int verbose)
{
	char hex[2 * 64 + 1];
	int64_t last = verbose >= 6 ? (int64_t)msign_cd_code_slots(cd) : 0;
	for (int64_t n = -(int64_t)msign_cd_special_slots(cd); n < last; n++) {
		cli_hex(msign_cd_slot_hash(cd, n), msign_cd_hash_size(cd), hex);
		printf("%6lld=%s\n", (long long)n, hex);
	}
}

static void print_hashes(const struct show_file *f, int v)
{
	const msign_info_cd *cd = msign_slice_chosen_cd(f->s);
	uint32_t ncds = msign_slice_cd_count(f->s);
	char hex[2 * 64 + 1];
	if (v >= 3) {
		printf("Hash type=%s size=%u\n",
		       msign_hash_type_name(msign_cd_hash_type(cd)),
		       msign_cd_hash_size(cd));
		for (uint32_t i = 0; i < ncds; i++) {
			const msign_info_cd *c = msign_slice_cd(f->s, i);
			const char *n = msign_hash_type_name(msign_cd_hash_type(c));
			size_t len;
			const uint8_t *h = msign_cd_cdhash(c, &len);
			cli_hex(h, 20, hex);
			printf("CandidateCDHash %s=%s\n", n, hex);
			cli_hex(h, len, hex);
			printf("CandidateCDHashFull %s=%s\n", n, hex);
		}
		printf("Hash choices=");
		for (uint32_t i = 0; i < ncds; i++)
			printf("%s%s", i ? "," : "",
			       msign_hash_type_name(msign_cd_hash_type(
				       msign_slice_cd(f->s, i))));
		printf("\n");
		uint8_t dg[32];
		if (msign_slice_cms_digest(f->s, dg)) {
			cli_hex(dg, 32, hex);
			printf("CMSDigest=%s\nCMSDigestType=2\n", hex);
		}
	}
	uint64_t base, limit, flags;
	if (v >= 4 && msign_cd_exec_segment(cd, &base, &limit, &flags))
		printf("Executable Segment base=%llu\n"
		       "Executable Segment limit=%llu\n"
		       "Executable Segment flags=0x%llx\n",
		       (unsigned long long)base, (unsigned long long)limit,
		       (unsigned long long)flags);
	if (v >= 4) {
		if (msign_cd_page_size(cd) == 0)
			printf("Page size=none\n");
		else
			printf("Page size=%u\n", msign_cd_page_size(cd));
	}
	if (v >= 5)
		print_slots(cd, v);
}

static void print_launch(const msign_info_slice *s)
{
	static const char *const names[4] = {
		"Launch Constraint (self)", "Launch Constraint (parent)",
		"Launch Constraint (responsible)", "Library Constraint" };
	size_t len[4];
	bool any = false;
	for (unsigned i = 0; i < 4; i++)
		any = msign_slice_launch_constraint(s, i, &len[i]) != NULL ||
		      any;
	if (!any)
		return;
	printf("Launch Constraints:\n");
	for (unsigned i = 0; i < 4; i++)
		if (msign_slice_launch_constraint(s, i, NULL) != NULL)
			printf("\t%s: %zu bytes\n", names[i], len[i]);
}

static void print_signer(const struct show_file *f, int v)
{
	enum msign_sig_kind kind = msign_slice_sig_kind(f->s);
	if (kind == MSIGN_SIG_ADHOC)
		printf("Signature=adhoc\n");
	else if (kind == MSIGN_SIG_CMS)
		printf("Signature size=%u\n", msign_slice_cms_size(f->s));
	if (v >= 2)
		for (uint32_t i = 0; i < msign_slice_cert_count(f->s); i++)
			printf("Authority=%s\n",
			       cli_esc(msign_cert_common_name(
				       msign_slice_cert(f->s, i))));
	char date[64];
	time_t t;
	if (msign_slice_timestamp(f->s, &t)) {
		cli_date(t, date, sizeof(date));
		printf("Timestamp=%s\n", date);
	} else if (msign_slice_signing_time(f->s, &t)) {
		cli_date(t, date, sizeof(date));
		printf("Signed Time=%s\n", date);
	}
}

static void print_tail(const struct show_file *f)
{
	const msign_info_cd *cd = msign_slice_chosen_cd(f->s);
	uint32_t n;
	bool bound = f->bundle != NULL ? msign_cd_slot_hash(cd, -1) != NULL &&
					 msign_bundle_info_plist_entries(f->bundle, &n)
				       : msign_slice_info_plist(f->s, &n);
	if (bound)
		printf("Info.plist entries=%u\n", n);
	else
		printf("Info.plist=not bound\n");
	if (msign_cd_team(cd) != NULL)
		printf("TeamIdentifier=%s\n", cli_esc(msign_cd_team(cd)));
	else
		printf("TeamIdentifier=not set\n");
	uint32_t rt;
	if (msign_cd_runtime(cd, &rt) && rt != 0)
		printf("Runtime Version=%u.%u.%u\n", rt >> 16, (rt >> 8) & 0xff,
		       rt & 0xff);
	unsigned version;
	uint32_t rules, files;
	if (f->bundle != NULL &&
	    msign_bundle_sealed_resources(f->bundle, &version, &rules, &files))
		printf("Sealed Resources version=%u rules=%u files=%u\n", version, rules, files);
	else
		printf("Sealed Resources=none\n");
	size_t rlen;
	if (msign_slice_requirements(f->s, &rlen) != NULL && rlen >= 12)
		printf("Internal requirements count=%u size=%zu\n",
		       msign_slice_requirement_count(f->s), rlen);
	else
		printf("Internal requirements=none\n");
}

static void print_text(const struct show_file *f, int v)
{
	const msign_info_cd *cd = msign_slice_chosen_cd(f->s);
	char buf[1024];
	printf("Executable=%s\n", cli_esc(f->exec_path));
	if (v < 1)
		return;
	printf("Identifier=%s\n", cli_esc(msign_cd_identifier(cd)));
	printf("Format=%s\n", f->bundle != NULL ? msign_bundle_format(f->bundle)
					       : msign_info_format(f->info));
	msign_cd_flags_text(msign_cd_flags(cd), buf, sizeof(buf));
	printf("CodeDirectory v=%x size=%u flags=0x%x(%s) hashes=%u+%u "
	       "location=embedded\n",
	       msign_cd_version(cd), msign_cd_size(cd), msign_cd_flags(cd),
	       buf, msign_cd_code_slots(cd), msign_cd_special_slots(cd));
	if (msign_cd_platform(cd) != 0)
		printf("Platform identifier=%u\n", msign_cd_platform(cd));
	const char *lv = msign_slice_library_validation_warning(f->s);
	if (lv != NULL)
		printf("Library validation warning=%s\n", lv);
	uint32_t plat, minos, sdk;
	if (v >= 4 && msign_slice_build_version(f->s, &plat, &minos, &sdk))
		printf("VersionPlatform=%u\nVersionMin=%u\nVersionSDK=%u\n",
		       plat, minos, sdk);
	print_hashes(f, v);
	if (v >= 3) {
		print_launch(f->s);
		char hex[41];
		cli_hex(msign_cd_cdhash(cd, NULL), 20, hex);
		printf("CDHash=%s\n", hex);
	}
	print_signer(f, v);
	print_tail(f);
}

/* To stdout (checked at exit) or to the file dest, with a one-line
 * message when dest cannot be written. */
static int write_text(const char *dest, const char *text, size_t len)
{
	if (strcmp(dest, "-") == 0 || strcmp(dest, ":-") == 0) {
		fwrite(text, 1, len, stdout);
		return 0;
	}
	FILE *fp = fopen(dest, "w");
	if (fp == NULL) {
		fprintf(stderr, "msign: cannot write %s: %s\n", cli_esc(dest),
			strerror(errno));
		return -1;
	}
	fwrite(text, 1, len, fp);
	return cli_close_out(fp, dest);
}

static int print_requirements(const struct show_file *f, const char *dest)
{
	const struct msign_diag *d;
	if (msign_slice_requirements_status(f->s, &d) != 0)
		return fail(f->path, MSG_SIGFORMAT, d);
	bool implicit;
	const char *dr = msign_slice_designated_requirement(f->s, &implicit);
	if (dr == NULL)
		return fail(f->path, MSG_SIGFORMAT, NULL);
	const char *set = msign_slice_requirements_text(f->s);
	size_t slen = set != NULL ? strlen(set) : 0;
	size_t need = slen + (implicit ? strlen(dr) + 32 : 0) + 1;
	char *text = malloc(need);
	if (text == NULL)
		return 1;
	size_t tlen = (size_t)snprintf(text, need, "%s", set ? set : "");
	if (implicit)
		tlen += (size_t)snprintf(text + tlen, need - tlen,
					 "# designated => %s\n", dr);
	int r = write_text(dest, text, tlen);
	free(text);
	return r == 0 ? 0 : 1;
}

static int print_entitlements(const struct show_file *f, const char *dest)
{
	const struct msign_diag *d;
	if (msign_slice_entitlements_status(f->s, &d) != 0)
		return fail(f->path, "invalid entitlements blob", d);
	size_t len;
	const char *xml = msign_slice_entitlements_xml(f->s, &len);
	if (xml == NULL)
		return 0; /* none: nothing printed, not an error */
	return write_text(dest, xml, strlen(xml)) == 0 ? 0 : 1;
}

/* Open, choose the slice, validate its signature. Returns 0, or 1 with
 * f->error (codesign's message) and f->reason set; f->info stays open when
 * the container itself was readable, so --json can still describe it. */
static int load_fail(struct show_file *f, const char *msg,
		     const struct msign_diag *d)
{
	f->error = msg;
	if (d != NULL && d->code != 0)
		snprintf(f->reason, sizeof(f->reason), "%s (at offset %llu)",
			 d->msg, (unsigned long long)d->file_off);
	return 1;
}

static int load_file(struct show_file *f, const struct show_opts *o)
{
	struct msign_diag d;
	msign_diag_clear(&d);
	int r = msign_info_open(f->file, &f->info, &d);
	if (r == MSIGN_E_IO) {
		snprintf(f->reason, sizeof(f->reason), "%s", d.msg);
		f->error = f->reason;
		return 1;
	}
	if (r != 0)
		return load_fail(f, MSG_FORMAT, &d);
	char *rp = realpath(f->file, NULL);
	f->exec_path = rp ? rp : strdup(f->file);
	if (f->exec_path == NULL)
		return load_fail(f, "out of memory", NULL);
	if (o->arch != NULL) {
		int i = msign_info_find_arch(f->info, o->arch);
		if (i < 0) {
			snprintf(f->arch_msg, sizeof(f->arch_msg),
				 "architecture %s not present", o->arch);
			return load_fail(f, f->arch_msg, NULL);
		}
		f->slice_idx = (uint32_t)i;
	} else {
		f->slice_idx = msign_info_default_slice(f->info);
	}
	f->s = msign_info_slice_at(f->info, f->slice_idx);
	f->slice_chosen = true;
	const struct msign_diag *sd;
	if (msign_slice_macho_status(f->s, &sd) != 0)
		return load_fail(f, MSG_FORMAT, sd);
	r = msign_slice_sig_status(f->s, &sd);
	if (r == MSIGN_E_NOT_SIGNED)
		return load_fail(f, MSG_UNSIGNED, NULL);
	if (r != 0)
		return load_fail(f, MSG_SIGFORMAT, sd);
	f->sig_ok = true;
	return 0;
}

/* Errors found after the lines were printed: a damaged CMS or blob. */
static int late_errors(const struct show_file *f)
{
	const struct msign_diag *d;
	if (msign_slice_cms_status(f->s, &d) != 0) {
		fprintf(stderr, "%s: %s\nmsign: CMS signature: %s\n",
			cli_esc(f->path), MSG_SIGFORMAT, cli_esc(d->msg));
		return 1;
	}
	if (msign_slice_blob_status(f->s, &d) != 0) {
		fprintf(stderr, "%s: %s\nmsign: %s\n", cli_esc(f->path),
			MSG_SIGFORMAT, cli_esc(d->msg));
		return 1;
	}
	return 0;
}

/* The bundle whose main executable file is, if any: a deep bundle's
 * (Contents/MacOS/x), a framework's (Versions/A/x) or a shallow one's. */
static msign_bundle *show_bundle_of(const char *file)
{
	char *rp = realpath(file, NULL);
	if (rp == NULL)
		return NULL;
	msign_bundle *found = NULL;
	size_t n = strlen(rp);
	char *cand = malloc(n + 1);
	for (int up = 1; cand != NULL && up <= 3 && found == NULL; up++) {
		memcpy(cand, rp, n + 1);
		for (int k = 0; k < up; k++) {
			char *sl = strrchr(cand, '/');
			if (sl == NULL || sl == cand) {
				cand[0] = '\0';
				break;
			}
			*sl = '\0';
		}
		msign_bundle *b = NULL;
		if (cand[0] == '\0' || msign_bundle_open(cand, &b, NULL) != 0)
			continue;
		char *ex = realpath(msign_bundle_executable(b), NULL);
		if (ex != NULL && strcmp(ex, rp) == 0 &&
		    msign_bundle_executable_info(b, NULL) != NULL)
			found = b;
		else
			msign_bundle_free(b);
		free(ex);
	}
	free(cand);
	free(rp);
	return found;
}

/* An Info.plist-only bundle: codesign -d's lines from the files of
 * _CodeSignature (the info model reads Mach-O only). location=embedded as
 * codesign prints it for every signature that is not a detached one (the
 * bundle's own files are part of the code, README "msign show"). */
static void show_plist_lines(const msign_bundle *bundle, const struct mb_detached *x,
			     int v)
{
	const struct msign_sig *sig = &x->sig;
	const struct msign_codedir *cd = &sig->cds[sig->best];
	char buf[1024], hex[2 * MSIGN_MAX_HASH_LEN + 1];
	printf("Identifier=%s\n", cli_esc(cd->ident));
	printf("Format=%s\n", msign_bundle_format(bundle));
	msign_cd_flags_text(cd->flags, buf, sizeof(buf));
	printf("CodeDirectory v=%x size=%u flags=0x%x(%s) hashes=%u+%u location=embedded\n",
	       cd->version, cd->len, cd->flags, buf, cd->ncode, cd->nspecial);
	if (v >= 3) {
		printf("Hash type=%s size=%u\n", msign_hash_type_name(cd->hash_type),
		       cd->hash_size);
		for (uint32_t i = 0; i < sig->ncds; i++) {
			const struct msign_codedir *c = &sig->cds[i];
			const char *n = msign_hash_type_name(c->hash_type);
			cli_hex(c->cdhash, 20, hex);
			printf("CandidateCDHash %s=%s\n", n, hex);
			cli_hex(c->cdhash, c->cdhash_len, hex);
			printf("CandidateCDHashFull %s=%s\n", n, hex);
		}
		printf("Hash choices=");
		for (uint32_t i = 0; i < sig->ncds; i++)
			printf("%s%s", i ? "," : "", msign_hash_type_name(sig->cds[i].hash_type));
		printf("\n");
	}
	if (v >= 4) {
		if (cd->page_log2 == 0)
			printf("Page size=none\n");
		else
			printf("Page size=%u\n", 1u << cd->page_log2);
	}
	int64_t last = v >= 6 ? (int64_t)cd->ncode : 0;
	for (int64_t n = -(int64_t)cd->nspecial; v >= 5 && n < last; n++) {
		cli_hex(msign_codedir_slot(cd, n), cd->hash_size, hex);
		printf("%6lld=%s\n", (long long)n, hex);
	}
	if (v >= 3) {
		cli_hex(cd->cdhash, 20, hex);
		printf("CDHash=%s\n", hex);
	}
	if (x->len[MB_DF_CMS] > 0) {
		printf("Signature size=%zu\n", x->len[MB_DF_CMS]);
		struct msign_cms_info ci;
		memset(&ci, 0, sizeof(ci));
		if (msign_cms_parse(x->file[MB_DF_CMS], x->len[MB_DF_CMS], &ci, NULL) == 0) {
			for (uint32_t i = 0; v >= 2 && i < ci.ncerts && i < MSIGN_CMS_MAX_CERTS; i++)
				printf("Authority=%s\n", cli_esc(ci.chain[i].cn ? ci.chain[i].cn : ""));
			char date[64];
			if (ci.has_timestamp) {
				cli_date((time_t)ci.timestamp_time, date, sizeof(date));
				printf("Timestamp=%s\n", date);
			} else if (ci.has_signing_time) {
				cli_date((time_t)ci.signing_time, date, sizeof(date));
				printf("Signed Time=%s\n", date);
			}
		}
		msign_cms_info_free(&ci);
	} else if (cd->flags & MSIGN_CS_ADHOC) {
		printf("Signature=adhoc\n");
	}
	uint32_t n;
	if (msign_codedir_slot_present(cd, -1) && msign_bundle_info_plist_entries(bundle, &n))
		printf("Info.plist entries=%u\n", n);
	else
		printf("Info.plist=not bound\n");
	printf("TeamIdentifier=%s\n", cd->team != NULL ? cli_esc(cd->team) : "not set");
	if ((cd->flags & MSIGN_CS_RUNTIME) && cd->version >= MSIGN_CS_SUPPORTSRUNTIME &&
	    cd->runtime != 0)
		printf("Runtime Version=%u.%u.%u\n", cd->runtime >> 16,
		       (cd->runtime >> 8) & 0xff, cd->runtime & 0xff);
	unsigned version;
	uint32_t rules, files;
	if (msign_bundle_sealed_resources(bundle, &version, &rules, &files))
		printf("Sealed Resources version=%u rules=%u files=%u\n", version, rules, files);
	else
		printf("Sealed Resources=none\n");
	if (sig->requirements != NULL)
		printf("Internal requirements count=%u size=%u\n", sig->req_count,
		       sig->requirements->len);
	else
		printf("Internal requirements=none\n");
}

/* -r-: the requirement set as text, and the implicit designated one. */
static int show_plist_reqs(const char *path, const struct mb_detached *x, const char *dest)
{
	struct msign_diag d;
	msign_diag_clear(&d);
	char *set = NULL, *dr = NULL;
	uint32_t count;
	bool has, implicit = false;
	const struct msign_blob *rq = x->sig.requirements;
	int r = rq != NULL ? msign_reqset_decompile(rq->data, rq->len, &set, &count, &has, &d) : 0;
	if (r == 0)
		r = mb_detached_designated(x, &dr, &implicit, &d);
	if (r != 0) {
		free(set);
		return fail(path, MSG_SIGFORMAT, &d);
	}
	size_t need = (set ? strlen(set) : 0) + strlen(dr) + 32;
	char *text = malloc(need);
	int rc = 1;
	if (text != NULL) {
		size_t n = (size_t)snprintf(text, need, "%s", set ? set : "");
		if (implicit)
			n += (size_t)snprintf(text + n, need - n, "# designated => %s\n", dr);
		rc = write_text(dest, text, n) == 0 ? 0 : 1;
	}
	free(text);
	free(set);
	free(dr);
	return rc;
}

/* --entitlements: the XML file as the signer wrote it, else the DER one
 * decoded (as for a Mach-O); none: nothing. */
static int show_plist_ents(const char *path, const struct mb_detached *x, const char *dest)
{
	const struct msign_blob *xb = x->sig.ent_xml, *db = x->sig.ent_der;
	if (xb != NULL)
		return write_text(dest, (const char *)msign_blob_payload(xb),
				  msign_blob_payload_len(xb)) == 0 ? 0 : 1;
	if (db == NULL)
		return 0;
	char *xml = NULL;
	size_t len = 0;
	struct msign_diag d;
	msign_diag_clear(&d);
	if (msign_ent_der_to_xml(msign_blob_payload(db), msign_blob_payload_len(db), &xml,
				 &len, &d) != 0)
		return fail(path, "invalid entitlements blob", &d);
	int rc = write_text(dest, xml, len) == 0 ? 0 : 1;
	free(xml);
	return rc;
}

/* --json for an Info.plist-only bundle: what its _CodeSignature files say,
 * in the shape show_json gives a slice's signature where they share it. */
static int show_plist_json(const char *path, const msign_bundle *bundle,
			   const struct mb_detached *x, int r, const struct msign_diag *d)
{
	json_t *root = json_object();
	json_object_set_new(root, "path", cli_json_str(path));
	json_object_set_new(root, "executable", cli_json_str(msign_bundle_executable(bundle)));
	json_object_set_new(root, "format", json_string(msign_bundle_format(bundle)));
	if (r == MSIGN_E_NOT_SIGNED) {
		json_object_set_new(root, "error", json_string(MSG_UNSIGNED));
	} else if (r != 0) {
		json_object_set_new(root, "error", json_string(MSG_SIGFORMAT));
		json_object_set_new(root, "reason", cli_json_str(d->msg));
	} else {
		const struct msign_sig *sig = &x->sig;
		json_t *cds = json_array();
		char hex[2 * MSIGN_MAX_HASH_LEN + 1];
		for (uint32_t i = 0; i < sig->ncds; i++) {
			const struct msign_codedir *c = &sig->cds[i];
			cli_hex(c->cdhash, c->cdhash_len, hex);
			json_array_append_new(cds, json_pack(
				"{s:s, s:i, s:i, s:o, s:o, s:i, s:i, s:i, s:s}",
				"hash_type", msign_hash_type_name(c->hash_type),
				"version", (int)c->version, "flags", (int)c->flags,
				"identifier", cli_json_str(c->ident),
				"team_identifier", cli_json_str(c->team),
				"code_slots", (int)c->ncode, "special_slots", (int)c->nspecial,
				"size", (int)c->len, "cdhash", hex));
		}
		const struct msign_codedir *best = &sig->cds[sig->best];
		json_object_set_new(root, "signature", json_pack(
			"{s:s, s:o, s:i, s:o}",
			"kind", x->len[MB_DF_CMS] > 0 ? "cms"
				: (best->flags & MSIGN_CS_ADHOC) ? "adhoc" : "none",
			"identifier", cli_json_str(best->ident),
			"cms_size", (int)x->len[MB_DF_CMS], "code_directories", cds));
	}
	json_object_set_new(root, "bundle", cli_bundle_json(bundle));
	int e = json_dumpf(root, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	fputc('\n', stdout);
	json_decref(root);
	return e == 0 && r == 0 ? 0 : 1;
}

static int show_plist(const char *path, const msign_bundle *bundle, const struct show_opts *o)
{
	int v = o->verbose;
	struct mb_bundle b;
	struct mb_detached *x = malloc(sizeof(*x));
	struct msign_diag d;
	msign_diag_clear(&d);
	char *abs = realpath(path, NULL);
	int r = x == NULL || abs == NULL ? MSIGN_E_NOMEM
					  : mb_bundle_open(abs, o->bundle_version, &b, &d);
	free(abs);
	if (r != 0) {
		free(x);
		fprintf(stderr, "%s: %s\n", cli_esc(path), d.code ? cli_esc(d.msg) : msign_strerror(r));
		return 1;
	}
	r = mb_detached_read(b.root_fd, x, &d);
	if (o->json) {
		int jr = show_plist_json(path, bundle, x, r, &d);
		mb_detached_free(x);
		free(x);
		mb_bundle_close(&b);
		return jr;
	}
	if (r == 0 || r == MSIGN_E_NOT_SIGNED)
		printf("Executable=%s\n", cli_esc(msign_bundle_executable(bundle)));
	if (r == 0 && v >= 1)
		show_plist_lines(bundle, x, v);
	int rc = r == 0 ? 0 : 1;
	if (r == 0 && o->req_out != NULL)
		rc |= show_plist_reqs(path, x, o->req_out);
	if (r == 0 && o->ent_out != NULL)
		rc |= show_plist_ents(path, x, o->ent_out);
	cli_flush_stdout();
	if (r == MSIGN_E_NOT_SIGNED)
		fprintf(stderr, "%s: %s\n", cli_esc(path), MSG_UNSIGNED);
	else if (r != 0)
		fprintf(stderr, "%s: %s\nmsign: %s\n", cli_esc(path), MSG_SIGFORMAT, cli_esc(d.msg));
	mb_detached_free(x);
	free(x);
	mb_bundle_close(&b);
	return rc;
}

static int show_one(const char *path, const struct show_opts *o)
{
	struct show_file f;
	memset(&f, 0, sizeof(f));
	f.path = path;
	f.file = path;
	if (msign_is_bundle(path)) {
		struct msign_diag bd;
		msign_diag_clear(&bd);
		if (msign_bundle_open_version(path, o->bundle_version, &f.bundle, &bd) != 0) {
			fprintf(stderr, "%s: %s\n", cli_esc(path), cli_esc(bd.msg));
			return 1;
		}
		f.file = msign_bundle_executable(f.bundle);
		bool sig;
		char id[8];
		if (msign_bundle_executable_info(f.bundle, NULL) == NULL &&
		    mb_detached_probe(path, o->bundle_version, &sig, id, sizeof(id))) {
			int rc = show_plist(path, f.bundle, o);
			msign_bundle_free(f.bundle);
			return rc;
		}
	} else {
		f.bundle = show_bundle_of(path);
	}
	int rc = load_file(&f, o);
	if (o->json) {
		rc |= show_json(stdout, &f);
	} else if (rc == 0) {
		print_text(&f, o->verbose);
		/* codesign -d --deep: the nested code the seal records */
		for (uint32_t i = 0; o->deep && f.bundle != NULL &&
				     i < msign_bundle_nested_count(f.bundle); i++)
			printf("Nested=%s\n", cli_esc(msign_bundle_nested(f.bundle, i)));
		/* codesign's note comes with the display, before what goes
		 * to stdout after it (requirements, entitlements) */
		if (msign_slice_sig_kind(f.s) == MSIGN_SIG_NONE) {
			cli_flush_stdout();
			fprintf(stderr, "%s: no signature\n", cli_esc(path));
		}
		if (o->req_out != NULL)
			rc |= print_requirements(&f, o->req_out);
		if (o->ent_out != NULL)
			rc |= print_entitlements(&f, o->ent_out);
	}
	cli_flush_stdout();
	if (f.error != NULL) {
		fprintf(stderr, "%s: %s\n", cli_esc(path), cli_esc(f.error));
		if (f.reason[0] != '\0' && f.error != f.reason)
			fprintf(stderr, "msign: %s\n", cli_esc(f.reason));
	} else if (f.sig_ok) {
		rc |= late_errors(&f);
	}
	free(f.exec_path);
	msign_info_free(f.info);
	msign_bundle_free(f.bundle);
	return rc;
}

static int parse_verbose(const char *arg, int *out)
{
	char *end;
	long v = strtol(arg, &end, 10);
	if (*arg == '\0' || *end != '\0' || v < 0 || v > MAX_VERBOSE)
		return -1;
	*out = (int)v;
	return 0;
}

int cmd_show(int argc, char **argv)
{
	enum { OPT_ENT = 256, OPT_JSON, OPT_DEEP, OPT_BUNDLE_VERSION };
	static const struct option longopts[] = {
		{ "verbose", optional_argument, NULL, 'v' },
		{ "arch", required_argument, NULL, 'a' },
		{ "architecture", required_argument, NULL, 'a' },
		{ "requirements", required_argument, NULL, 'r' },
		{ "entitlements", required_argument, NULL, OPT_ENT },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "deep", no_argument, NULL, OPT_DEEP },
		{ "bundle-version", required_argument, NULL, OPT_BUNDLE_VERSION },
		{ "display", no_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct show_opts o = { 0 };
	int c;
	optind = 1;
	opterr = 0; /* our own message names the command */
	while ((c = getopt_long(argc, argv, "dv::a:r:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'd': break;
		case 'v':
			if (optarg == NULL || optarg[strspn(optarg, "v")] == '\0') {
				/* -vvv reaches here as -v with optarg "vv" */
				int n = 1 + (optarg ? (int)strlen(optarg) : 0);
				o.verbose = o.verbose + n > MAX_VERBOSE
						    ? MAX_VERBOSE : o.verbose + n;
			} else if (parse_verbose(optarg, &o.verbose) != 0) {
				fprintf(stderr, "msign show: --verbose takes 0 to 6\n");
				return EXIT_USAGE;
			}
			break;
		case 'a': o.arch = optarg; break;
		case 'r': o.req_out = optarg; break;
		case OPT_ENT: o.ent_out = optarg; break;
		case OPT_JSON: o.json = true; break;
		case OPT_DEEP: o.deep = true; break;
		case OPT_BUNDLE_VERSION: o.bundle_version = optarg; break;
		case 'h': show_usage(stdout); return 0;
		default:
			fprintf(stderr, "msign show: invalid option '%s'\n",
				cli_esc(argv[optind - 1]));
			show_usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		show_usage(stderr);
		return EXIT_USAGE;
	}
	int rc = 0;
	for (int i = optind; i < argc; i++)
		rc |= show_one(argv[i], &o);
	return rc;
}
