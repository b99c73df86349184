/* msign verify: codesign --verify: hashes, and for certificate
 * signatures the CMS signature value, timestamp and certificate chain
 * (src/verify/trust.c). Messages and exit codes are codesign's (spec
 * section 4), written to stderr as codesign does; after a failure one
 * "msign: " line names what failed. --json writes one document per file
 * to stdout. */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "info/info_int.h"
#include "write/write.h"
#include "write/strip.h"
#include "hash/hash.h"
#include "sign/sign.h"
#include "verify/verify.h"
#include "sig/req.h"
#include "bundle/bundle_int.h"
#include "msign/bundle.h"

#define VERIFY_MAX_ANCHORS 64

struct verify_cli {
	struct msign_verify_opts o;
	struct msign_trust_opts t;
	int verbose;
	bool json;
	bool deep; /* bundles: nested code fully (--deep) */
	const char *anchor_files[VERIFY_MAX_ANCHORS];
	unsigned nanchors;
};

static void verify_usage(FILE *out)
{
	fprintf(out,
		"usage: msign verify [-v...] [--strict] [--deep] [--bundle-version V] [--arch NAME]\n"
		"                    [-j N] [--anchor FILE.pem]... [-R REQ] [--check-expiration]\n"
		"                    [--no-trust] [--json] FILE|BUNDLE...\n"
		"  -v, --verbose        say \"valid on disk\" (and more with -vv); for a\n"
		"                       bundle, each file added, modified or missing\n"
		"      --strict         also require codesign's exact layout; in a bundle,\n"
		"                       symbolic links that stay inside it, no resource\n"
		"                       forks or Finder information\n"
		"      --deep           a bundle's nested code fully, recursively (else its\n"
		"                       signature and the requirement its seal records)\n"
		"      --bundle-version V  a framework's Versions/V, not the version\n"
		"                       Versions/Current names\n"
		"  -a, --arch NAME      check only this slice of a universal file\n"
		"  -j, --jobs N         hashing threads (default: online CPUs)\n"
		"      --anchor FILE    also trust the PEM certificate(s) in FILE as\n"
		"                       anchors, besides Apple's roots (repeatable)\n"
		"      --check-expiration  fail a certificate outside its validity\n"
		"                       even without a timestamp (kSecCSConsiderExpiration)\n"
		"      --no-trust       hashes only: no signature value or chain check\n"
		"  -R, --test-requirement REQ  also require REQ (=TEXT in Apple's language,\n"
		"                       or a file of text or of a compiled requirement);\n"
		"                       exit 3 when it does not hold\n"
		"      --json           the verdict per slice, with the chain, as JSON\n"
		"                       on stdout\n"
		"MSIGN_ANCHORS=FILE[:FILE...] names anchors when no --anchor is given\n"
		"(as codesign, which has no such option, is run).\n"
		"MSIGN_VERIFY_NOW=SECONDS (a test hook) sets the current time.\n");
}

/* What -v says about one slice, from the library's model of the image
 * that was verified (msign_verify_result describes the last slice
 * checked only). */
struct verify_kind {
	bool adhoc, cms, cms_unchecked, explicit_dr;
};

static void verify_slice_kind(const msign_info_slice *s,
			      struct verify_kind *k)
{
	memset(k, 0, sizeof(*k));
	if (msign_slice_sig_status(s, NULL) != 0)
		return;
	k->adhoc = msign_slice_sig_kind(s) == MSIGN_SIG_ADHOC;
	k->cms = msign_slice_cms_size(s) > 0;
	k->cms_unchecked = k->cms && msign_slice_cms_status(s, NULL) == 0 &&
			   msign_slice_message_digest(s, NULL) == NULL;
	/* A damaged requirement set counts as an explicit requirement: it is
	 * not evaluated, so not said to be satisfied. */
	bool implicit;
	k->explicit_dr = (msign_slice_designated_requirement(s, &implicit) != NULL &&
			  !implicit) ||
			 msign_slice_requirements_status(s, NULL) != 0;
}

/* One line on a checked certificate signature: its anchor and time. */
static void verify_trust_line(const char *arch, const struct msign_trust_result *t)
{
	const struct msign_trust_cert *top = t->ncerts ? &t->certs[t->ncerts - 1] : NULL;
	fprintf(stderr, "msign: %s%ssigner trusted: %u certificate%s to %s (%s), checked at %s%s\n",
		arch ? arch : "", arch ? ": " : "", t->ncerts,
		t->ncerts == 1 ? "" : "s", top ? cli_esc(top->subject) : "?",
		top ? top->role : "?",
		t->time_source == MSIGN_TRUST_TIME_TIMESTAMP ? "the timestamp's time"
							       : "the current time",
		t->expired_tolerated
			? "; a certificate is outside its validity and there is no "
			  "timestamp: accepted, as codesign does" : "");
}

/* The designated requirement's verdict, when it was evaluated (trust on):
 * codesign's line, and exit 3 when a slice does not satisfy it. */
static int verify_report_dr(const char *path, const struct msign_image *img,
			    const struct msign_verify_result *res)
{
	if (res->dr_failed_slice < 0) {
		fprintf(stderr, "%s: satisfies its Designated Requirement\n", path);
		if (res->dr_unknowable)
			fprintf(stderr, "msign: as far as can be known offline "
					"(notarization and trust settings are Apple's)\n");
		return 0;
	}
	fprintf(stderr, "%s: does not satisfy its designated Requirement\n", path);
	const struct msign_slice *s = &img->slices[res->dr_failed_slice];
	char lbl[48];
	if (img->is_fat)
		fprintf(stderr, "In architecture: %s\n",
			msign_arch_label(s->cputype, s->cpusubtype, lbl, sizeof(lbl)));
	if (res->dr_detail[0] != '\0')
		fprintf(stderr, "msign: %s\n", cli_esc(res->dr_detail));
	else if (res->dr_unknowable)
		fprintf(stderr, "msign: it may hold where Apple's services answer "
				"(notarization, trust settings)\n");
	return EXIT_REQUIREMENT;
}

static void verify_report_thin(const char *path, const struct verify_kind *k)
{
	/* An ad-hoc signature's implicit requirement is its own cdhash,
	 * satisfied by code that verifies; others need the requirement
	 * evaluator, which --no-trust leaves out (it needs the anchor). */
	if (k->adhoc && !k->explicit_dr)
		fprintf(stderr, "%s: satisfies its Designated Requirement\n", path);
	else
		fprintf(stderr, "msign: designated requirement not evaluated (--no-trust)\n");
	if (!k->adhoc && !k->cms)
		fprintf(stderr, "msign: no adhoc flag and no CMS signature "
				"(a pseudo-signature): hashes valid\n");
}

/* Universal: the requirement line when every slice satisfies it, then one
 * line per checked slice, in Format= order, naming its kind. */
static void verify_report_fat(const char *path, const struct msign_image *img,
			      const msign_info *info, const char *only)
{
	uint32_t order[MSIGN_MAX_SLICES];
	struct verify_kind k[MSIGN_MAX_SLICES];
	bool all_dr = true;
	int sel = only ? msign_image_find_arch(img, only) : -1;
	msign_image_sorted(img, order);
	for (uint32_t i = 0; i < img->nslices; i++) {
		if (sel >= 0 && (uint32_t)sel != order[i])
			continue;
		verify_slice_kind(msign_info_slice_at(info, order[i]), &k[i]);
		all_dr = all_dr && k[i].adhoc && !k[i].explicit_dr;
	}
	if (all_dr)
		fprintf(stderr, "%s: satisfies its Designated Requirement\n", path);
	for (uint32_t i = 0; i < img->nslices; i++) {
		if (sel >= 0 && (uint32_t)sel != order[i])
			continue;
		const msign_info_slice *s = msign_info_slice_at(info, order[i]);
		const char *why = !k[i].adhoc && !k[i].cms
			? "no adhoc flag and no CMS signature (a pseudo-signature): hashes valid"
			: k[i].adhoc ? "ad-hoc signature" : "CMS signature";
		fprintf(stderr, "msign: %s: %s%s\n", msign_slice_arch(s), why,
			k[i].adhoc && !k[i].explicit_dr ? ""
				: "; designated requirement not evaluated");
	}
}

static int verify_report_ok(const char *path, const struct verify_cli *c,
			    const struct msign_image *img,
			    const msign_info *info,
			    const struct msign_verify_result *res)
{
	if (c->verbose < 1)
		return 0;
	path = cli_esc(path);
	fprintf(stderr, "%s: valid on disk\n", path);
	int rc = 0;
	if (c->o.designated) {
		rc = verify_report_dr(path, img, res);
		if (!img->is_fat) {
			struct verify_kind k;
			verify_slice_kind(msign_info_slice_at(info, 0), &k);
			if (!k.adhoc && !k.cms)
				fprintf(stderr, "msign: no adhoc flag and no CMS signature "
						"(a pseudo-signature): hashes valid\n");
		}
	} else if (img->is_fat) {
		verify_report_fat(path, img, info, c->o.arch);
	} else {
		struct verify_kind k;
		verify_slice_kind(msign_info_slice_at(info, 0), &k);
		verify_report_thin(path, &k);
		if (k.cms_unchecked && c->o.trust == NULL)
			fprintf(stderr, "msign: the CMS signature has no signed attributes; "
					"with --no-trust its signature over the CodeDirectory "
					"is not checked\n");
	}
	uint32_t order[MSIGN_MAX_SLICES];
	msign_image_sorted(img, order);
	for (uint32_t i = 0; c->o.trust_out && i < img->nslices; i++) {
		const struct msign_trust_result *t = &c->o.trust_out[order[i]];
		char lbl[48];
		const struct msign_slice *s = &img->slices[order[i]];
		if (t->chain_ok)
			verify_trust_line(img->is_fat ? msign_arch_label(s->cputype,
						s->cpusubtype, lbl, sizeof(lbl)) : NULL, t);
	}
	if (c->verbose >= 2)
		fprintf(stderr, "msign: %u slice%s, %u CodeDirector%s, %llu code "
				"pages and %u special slots checked; %u special "
				"slots name bundle files and were not checked\n",
			res->slices_checked, res->slices_checked == 1 ? "" : "s",
			res->cds_checked, res->cds_checked == 1 ? "y" : "ies",
			(unsigned long long)res->pages_checked, res->slots_checked,
			res->slots_skipped);
	return rc;
}

/* An Info.plist-only bundle (no slices): its signature's verdicts. The
 * designated requirement of ad-hoc code is the cdhash of its chosen
 * CodeDirectory, which holds whenever the files verify. */
static int verify_report_detached(const char *path, const struct verify_cli *c,
				  const struct msign_verify_result *res)
{
	if (c->verbose < 1)
		return 0;
	path = cli_esc(path);
	fprintf(stderr, "%s: valid on disk\n", path);
	int rc = 0;
	if (c->o.designated && res->dr_failed_slice >= 0) {
		fprintf(stderr, "%s: does not satisfy its designated Requirement\n", path);
		if (res->dr_detail[0] != '\0')
			fprintf(stderr, "msign: %s\n", cli_esc(res->dr_detail));
		rc = EXIT_REQUIREMENT;
	} else if (c->o.designated || (res->adhoc && !res->explicit_dr)) {
		fprintf(stderr, "%s: satisfies its Designated Requirement\n", path);
		if (res->dr_unknowable)
			fprintf(stderr, "msign: as far as can be known offline "
					"(notarization and trust settings are Apple's)\n");
	} else {
		fprintf(stderr, "msign: designated requirement not evaluated (--no-trust)\n");
	}
	if (res->pseudo)
		fprintf(stderr, "msign: no adhoc flag and no CMS signature "
				"(a pseudo-signature): hashes valid\n");
	if (c->o.trust_out != NULL && c->o.trust_out[0].chain_ok)
		verify_trust_line(NULL, &c->o.trust_out[0]);
	if (c->verbose >= 2)
		fprintf(stderr, "msign: the Info.plist as code: %u CodeDirector%s, %llu code "
				"page%s and %u special slots checked\n",
			res->cds_checked, res->cds_checked == 1 ? "y" : "ies",
			(unsigned long long)res->pages_checked,
			res->pages_checked == 1 ? "" : "s", res->slots_checked);
	return rc;
}

static json_t *verify_cert_json(const struct msign_trust_cert *c)
{
	return json_pack("{s:s, s:s, s:I, s:I}", "subject", c->subject, "role",
			 c->role, "not_before", (json_int_t)c->not_before,
			 "not_after", (json_int_t)c->not_after);
}

static json_t *verify_trust_json(const struct msign_trust_result *t)
{
	json_t *chain = json_array(), *ts_chain = json_array();
	for (uint32_t i = 0; i < t->ncerts; i++)
		json_array_append_new(chain, verify_cert_json(&t->certs[i]));
	for (uint32_t i = 0; i < t->nts_certs; i++)
		json_array_append_new(ts_chain, verify_cert_json(&t->ts_certs[i]));
	json_t *o = json_pack("{s:b, s:b, s:b, s:b, s:b, s:s, s:I, s:o, s:o}",
			      "signature_valid", t->sig_ok,
			      "signed_attributes", !t->no_signed_attrs,
			      "chain_trusted", t->chain_ok, "apple_anchor", t->apple,
			      "expired_tolerated", t->expired_tolerated,
			      "validity_time_source",
			      t->time_source == MSIGN_TRUST_TIME_TIMESTAMP ? "timestamp" : "now",
			      "validity_time", (json_int_t)t->validity_time,
			      "chain", chain, "timestamp_chain", ts_chain);
	json_object_set_new(o, "timestamp",
			    t->has_timestamp ? json_integer(t->timestamp) : json_null());
	json_object_set_new(o, "timestamp_valid", json_boolean(t->timestamp_ok));
	json_object_set_new(o, "apple_developer", json_boolean(t->apple_developer));
	json_object_set_new(o, "leaf_ou", t->has_leaf_ou ? cli_json_str(t->leaf_ou) : json_null());
	json_object_set_new(o, "verdict", json_string(msign_verify_message(t->kind)));
	if (t->kind != MSIGN_VERIFY_VALID)
		json_object_set_new(o, "detail", cli_json_str(t->detail));
	return o;
}

/* --json: the file's verdict, then per checked slice its trust verdict. */
static json_t *verify_json(const char *path, const struct msign_image *img,
			    const struct verify_cli *c, int r,
			    const struct msign_verify_result *res, const bool *checked)
{
	json_t *slices = json_array();
	uint32_t order[MSIGN_MAX_SLICES];
	msign_image_sorted(img, order);
	for (uint32_t i = 0; i < img->nslices; i++) {
		const struct msign_slice *s = &img->slices[order[i]];
		char lbl[48];
		const struct msign_trust_result *t = &c->o.trust_out[order[i]];
		json_t *o = json_pack("{s:s}", "arch",
				      msign_arch_label(s->cputype, s->cpusubtype,
						       lbl, sizeof(lbl)));
		json_object_set_new(o, "trust", checked[order[i]]
				    ? verify_trust_json(t) : json_null());
		json_array_append_new(slices, o);
	}
	bool ok = r == 0;
	json_t *doc = json_pack("{s:o, s:b, s:s, s:o}", "path", cli_json_str(path), "valid", ok,
				"message", ok ? "valid on disk"
					      : r == MSIGN_E_VERIFY ? msign_verify_message(res->kind)
								    : msign_strerror(r),
				"slices", slices);
	if (r == MSIGN_E_VERIFY)
		json_object_set_new(doc, "detail", cli_json_str(res->detail));
	/* The requirements' verdicts: the designated one per file (every
	 * slice's must hold), -R's when given; null when not evaluated. */
	json_t *dr = json_null();
	if (c->o.designated && (r == 0 || res->dr_checked > 0)) {
		dr = json_pack("{s:b, s:b}", "satisfied", res->dr_failed_slice < 0,
			       "depends_on_apple_services", res->dr_unknowable);
		if (res->dr_failed_slice >= 0) {
			char lbl[48];
			const struct msign_slice *s = &img->slices[res->dr_failed_slice];
			json_object_set_new(dr, "failing_arch", json_string(
				msign_arch_label(s->cputype, s->cpusubtype, lbl, sizeof(lbl))));
		}
		if (res->dr_detail[0] != '\0')
			json_object_set_new(dr, "detail", cli_json_str(res->dr_detail));
	}
	json_object_set_new(doc, "designated_requirement", dr);
	json_t *rq = json_null();
	if (c->o.requirement != NULL && (r == 0 || res->kind == MSIGN_VERIFY_REQUIREMENT))
		rq = json_pack("{s:b, s:b}", "satisfied", r == 0,
			       "depends_on_apple_services", res->req_unknowable);
	json_object_set_new(doc, "test_requirement", rq);
	return doc;
}

static void verify_json_print(json_t *doc)
{
	char *text = doc != NULL ? json_dumps(doc, JSON_INDENT(2) | JSON_ENSURE_ASCII) : NULL;
	if (text != NULL)
		printf("%s\n", text);
	free(text);
	json_decref(doc);
}

/* -R REQ as codesign takes it: "=TEXT", or a file holding the text or a
 * compiled requirement (magic 0xfade0c00). */
static int verify_requirement(const char *arg, uint8_t **blob, size_t *len)
{
	struct msign_diag d;
	msign_diag_clear(&d);
	int r;
	if (arg[0] == '=') {
		r = msign_req_compile(arg + 1, strlen(arg + 1), 0, blob, len, &d);
	} else {
		enum { REQ_FILE_MAX = 1 << 20 };
		uint8_t *buf = NULL;
		size_t n = 0;
		if (cli_read_file(arg, false, REQ_FILE_MAX, &buf, &n) != 0) {
			fprintf(stderr, "%s: %s\n", cli_esc(arg), strerror(errno));
			return -1;
		}
		if (n >= 8 && buf[0] == 0xfa && buf[1] == 0xde && buf[2] == 0x0c &&
		    buf[3] == 0x00) {
			char *text = NULL; /* decoded now: a damaged one is refused here */
			r = msign_req_decompile(buf, n, &text, &d);
			free(text);
			if (r == 0) {
				*blob = buf;
				*len = n;
				return 0;
			}
		} else {
			r = msign_req_compile((const char *)buf, n, 0, blob, len, &d);
		}
		free(buf);
	}
	if (r != 0) {
		fprintf(stderr, "msign verify: -R: %s\n", cli_esc(d.msg));
		return -1;
	}
	return 0;
}

/* One file's trust verdicts per slice; unchecked slices keep kind VALID
 * and no chain, so they are marked apart (kind -1). */
static struct msign_trust_result verify_trust[MSIGN_MAX_SLICES];
static bool verify_checked[MSIGN_MAX_SLICES];

static void verify_trust_begin(struct verify_cli *c)
{
	memset(verify_trust, 0, sizeof(verify_trust));
	for (uint32_t i = 0; i < MSIGN_MAX_SLICES; i++)
		verify_trust[i].kind = -1;
	c->o.trust_out = c->o.trust ? verify_trust : NULL;
}

static void verify_trust_end(void)
{
	for (uint32_t i = 0; i < MSIGN_MAX_SLICES; i++)
		verify_checked[i] = verify_trust[i].kind != -1;
}

static const char *const problem_words[] = { "added", "modified", "missing" };

static json_t *verify_bundle_json(const char *path, const struct mb_vresult *vr)
{
	static const char *const kinds[] = { "app", "framework", "bundle" };
	json_t *probs = json_array();
	for (size_t i = 0; i < vr->check.n; i++) {
		const struct mb_problem *p = &vr->check.v[i];
		size_t n = strlen(vr->seal_root) + strlen(p->path) + 2;
		char *abs = malloc(n);
		if (abs == NULL)
			continue;
		snprintf(abs, n, "%s/%s", vr->seal_root, p->path);
		json_array_append_new(probs, json_pack("{s:s, s:o}", "kind",
						       problem_words[p->kind], "path",
						       cli_json_str(abs)));
		free(abs);
	}
	json_t *b = json_pack("{s:o, s:s, s:b, s:o, s:o, s:i}", "path", cli_json_str(path),
			      "kind", vr->is_app ? kinds[0]
				      : vr->bkind == MB_KIND_VERSIONED ? kinds[1] : kinds[2],
			      "valid", vr->kind == MSIGN_VERIFY_VALID,
			      "message", cli_json_str(vr->kind == MSIGN_VERIFY_VALID
							  ? "valid on disk" : vr->error),
			      "problems", probs,
			      "nested_checked", (int)vr->nested_checked);
	json_object_set_new(b, "sealed_resources", vr->sealed
		? json_pack("{s:i, s:i, s:i}", "version", (int)vr->version,
			    "rules", (int)vr->rules, "files", (int)vr->files)
		: json_null());
	json_object_set_new(b, "subcomponent", cli_json_str(vr->subcomponent));
	return b;
}

static int verify_bundle_one(const char *path, struct verify_cli *c)
{
	struct msign_diag d;
	msign_diag_clear(&d);
	verify_trust_begin(c);
	struct msign_verify_opts o = c->o;
	unsigned bflags = (c->deep ? MSIGN_VERIFY_F_DEEP : 0) |
			  (c->o.strict ? MSIGN_VERIFY_F_STRICT_RESOURCES : 0);
	struct mb_vresult vr;
	int r = mb_verify_dir(path, &o, bflags, &vr, &d);
	if (r != 0) {
		fprintf(stderr, "%s: %s\n", cli_esc(path),
			cli_esc(d.code != 0 ? d.msg : msign_strerror(r)));
		mb_vresult_free(&vr);
		return 1;
	}
	verify_trust_end();
	/* the main executable's model, for the lines and JSON files get */
	struct msign_image *img = NULL;
	msign_info *info = NULL;
	if (vr.has_exec_result && vr.img != NULL) {
		img = vr.img; /* the model owns it now (or frees it on failure) */
		vr.img = NULL;
		if (msign_info_adopt(img, &info, NULL) != 0) {
			info = NULL;
			img = NULL;
		}
	}
	bool ok = vr.kind == MSIGN_VERIFY_VALID;
	if (c->json) {
		json_t *doc = img != NULL && info != NULL
			? verify_json(path, img, c, ok ? 0 : MSIGN_E_VERIFY, vr.exec, verify_checked)
			: json_pack("{s:o, s:b, s:o}", "path", cli_json_str(path), "valid", ok,
				    "message", cli_json_str(ok ? "valid on disk" : vr.error));
		if (doc != NULL && !ok) {
			json_object_set_new(doc, "valid", json_false());
			json_object_set_new(doc, "message", cli_json_str(vr.error));
		}
		if (doc != NULL)
			json_object_set_new(doc, "bundle", verify_bundle_json(path, &vr));
		verify_json_print(doc);
	}
	int rc = 0;
	/* codesign -vvv --deep: each nested code as it was checked */
	for (size_t i = 0; c->deep && c->verbose >= 2 && i < vr.nevents; i++)
		fprintf(stderr, "%s\n", cli_esc(vr.events[i]));
	if (ok && img != NULL && info != NULL) {
		rc = verify_report_ok(path, c, img, info, vr.exec);
	} else if (ok && vr.detached) {
		rc = verify_report_detached(path, c, vr.exec);
	} else if (!ok) {
		fprintf(stderr, "%s: %s\n", cli_esc(path), cli_esc(vr.error));
		rc = vr.kind == MSIGN_VERIFY_REQUIREMENT ? EXIT_REQUIREMENT : 1;
		if (vr.subcomponent != NULL)
			fprintf(stderr, "In subcomponent: %s\n", cli_esc(vr.subcomponent));
		bool exec_failed = (vr.has_exec_result || vr.detached) &&
				   vr.exec->kind == vr.kind &&
				   vr.exec->kind != MSIGN_VERIFY_VALID && vr.subcomponent == NULL;
		if (exec_failed && vr.exec->universal) {
			char lbl[48];
			fprintf(stderr, "In architecture: %s\n",
				msign_arch_label(vr.exec->cputype, vr.exec->cpusubtype, lbl,
						 sizeof(lbl)));
		}
		if (exec_failed)
			fprintf(stderr, "msign: %s\n", cli_esc(vr.exec->detail));
		for (size_t i = 0; c->verbose >= 1 && i < vr.check.n; i++)
			fprintf(stderr, "file %s: %s/%s\n", problem_words[vr.check.v[i].kind],
				cli_esc(vr.seal_root), cli_esc(vr.check.v[i].path));
	} else {
		fprintf(stderr, "%s: cannot read its main executable\n", cli_esc(path));
		rc = 1;
	}
	msign_info_free(info);
	mb_vresult_free(&vr);
	return rc;
}

static int verify_one(const char *path, struct verify_cli *c)
{
	if (msign_is_bundle(path))
		return verify_bundle_one(path, c);
	struct msign_diag d;
	msign_diag_clear(&d);
	struct msign_image *img = NULL;
	if (cli_open_image(path, &img) != 0)
		return 1;
	int r;
	static struct msign_verify_result res;
	verify_trust_begin(c);
	struct msign_verify_opts o = c->o;
	r = msign_verify_image(img, &o, &res, &d);
	verify_trust_end();
	if (c->json)
		verify_json_print(verify_json(path, img, c, r, &res, verify_checked));
	int rc = 0;
	if (r == 0 && c->verbose >= 1) {
		msign_info *info = NULL;
		struct msign_image *keep = img;
		img = NULL; /* the model owns it now */
		if (msign_info_adopt(keep, &info, &d) != 0) {
			fprintf(stderr, "%s: %s\n", cli_esc(path),
				cli_esc(d.msg));
			return 1;
		}
		rc = verify_report_ok(path, c, keep, info, &res);
		msign_info_free(info);
	} else if (r == 0) {
	} else if (r == MSIGN_E_VERIFY) {
		fprintf(stderr, "%s: %s\n", cli_esc(path),
			msign_verify_message(res.kind));
		rc = res.kind == MSIGN_VERIFY_REQUIREMENT ? EXIT_REQUIREMENT : 1;
		if (res.universal) {
			char lbl[48];
			fprintf(stderr, "In architecture: %s\n",
				msign_arch_label(res.cputype, res.cpusubtype, lbl,
						 sizeof(lbl)));
		}
		fprintf(stderr, "msign: %s\n", cli_esc(res.detail));
	} else {
		fprintf(stderr, "%s: %s\n", cli_esc(path),
			cli_esc(d.code != 0 ? d.msg : msign_strerror(r)));
		rc = 1;
	}
	msign_image_free(img);
	return rc;
}

int cmd_verify(int argc, char **argv)
{
	enum { OPT_STRICT = 256, OPT_ANCHOR, OPT_CHECK_EXP, OPT_NO_TRUST, OPT_JSON, OPT_DEEP,
	       OPT_BUNDLE_VERSION };
	static const struct option longopts[] = {
		{ "verbose", no_argument, NULL, 'v' },
		{ "strict", no_argument, NULL, OPT_STRICT },
		{ "deep", no_argument, NULL, OPT_DEEP },
		{ "bundle-version", required_argument, NULL, OPT_BUNDLE_VERSION },
		{ "arch", required_argument, NULL, 'a' },
		{ "architecture", required_argument, NULL, 'a' },
		{ "jobs", required_argument, NULL, 'j' },
		{ "verify", no_argument, NULL, 'V' },
		{ "anchor", required_argument, NULL, OPT_ANCHOR },
		{ "check-expiration", no_argument, NULL, OPT_CHECK_EXP },
		{ "no-trust", no_argument, NULL, OPT_NO_TRUST },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "test-requirement", required_argument, NULL, 'R' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static struct verify_cli c;
	memset(&c, 0, sizeof(c));
	bool no_trust = false;
	int ch;
	optind = 1;
	opterr = 0;
	const char *req_arg = NULL;
	while ((ch = getopt_long(argc, argv, "va:j:hR:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'v': c.verbose++; break;
		case 'V': break; /* codesign's spelling of the operation */
		case OPT_STRICT: c.o.strict = true; break;
		case OPT_DEEP: c.deep = true; break;
		case OPT_BUNDLE_VERSION: c.o.bundle_version = optarg; break;
		case OPT_ANCHOR:
			if (c.nanchors == VERIFY_MAX_ANCHORS) {
				fprintf(stderr, "msign verify: at most %d --anchor files\n",
					VERIFY_MAX_ANCHORS);
				return EXIT_USAGE;
			}
			c.anchor_files[c.nanchors++] = optarg;
			break;
		case OPT_CHECK_EXP: c.t.check_expiration = true; break;
		case OPT_NO_TRUST: no_trust = true; break;
		case OPT_JSON: c.json = true; break;
		case 'R': req_arg = optarg; break;
		case 'a': c.o.arch = optarg; break;
		case 'j': {
			char *end;
			errno = 0;
			long n = strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || errno != 0 ||
			    n < 1 || n > 256) {
				fprintf(stderr, "msign verify: -j takes 1 to 256\n");
				return EXIT_USAGE;
			}
			c.o.threads = (unsigned)n;
			break;
		}
		case 'h': verify_usage(stdout); return 0;
		default:
			fprintf(stderr, "msign verify: invalid option '%s'\n",
				cli_esc(argv[optind - 1]));
			verify_usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		verify_usage(stderr);
		return EXIT_USAGE;
	}
	if (req_arg != NULL && no_trust) {
		fprintf(stderr, "msign verify: -R needs the trust check (anchor apple, "
				"certificates): not with --no-trust\n");
		return EXIT_USAGE;
	}
	uint8_t *req = NULL;
	size_t req_len = 0;
	if (req_arg != NULL && verify_requirement(req_arg, &req, &req_len) != 0)
		return 1;
	c.o.requirement = req;
	c.o.requirement_len = req_len;
	/* codesign -v evaluates the designated requirement; it needs the
	 * anchor trust decides */
	c.o.designated = (c.verbose >= 1 || c.json) && !no_trust;
	const char *now = getenv("MSIGN_VERIFY_NOW"); /* test hook, see usage */
	if (now != NULL && *now != '\0') {
		char *end;
		errno = 0;
		long long v = strtoll(now, &end, 10);
		if (*end != '\0' || errno != 0 || v <= 0) {
			fprintf(stderr, "msign verify: MSIGN_VERIFY_NOW takes seconds since 1970\n");
			return EXIT_USAGE;
		}
		c.t.now = (int64_t)v;
	}
	/* codesign has no --anchor: through a codesign link (or a script
	 * that cannot change its command line) the environment names them,
	 * colon-separated, when the command line does not. */
	char *env_anchors = NULL;
	const char *ea = getenv("MSIGN_ANCHORS");
	if (c.nanchors == 0 && ea != NULL && *ea != '\0') {
		if ((env_anchors = strdup(ea)) == NULL) {
			fprintf(stderr, "msign verify: out of memory\n");
			return 1;
		}
		char *save = NULL;
		for (char *t = strtok_r(env_anchors, ":", &save);
		     t != NULL && c.nanchors < VERIFY_MAX_ANCHORS; t = strtok_r(NULL, ":", &save))
			c.anchor_files[c.nanchors++] = t;
	}
	struct msign_trust_anchors *anchors = NULL;
	if (c.nanchors > 0) {
		struct msign_diag d;
		msign_diag_clear(&d);
		if (msign_trust_anchors_load(c.anchor_files, c.nanchors, &anchors, &d) != 0) {
			fprintf(stderr, "msign verify: %s\n", cli_esc(d.msg));
			free(env_anchors);
			free(req);
			return 1;
		}
		c.t.anchors = anchors;
	}
	c.o.trust = no_trust ? NULL : &c.t;
	int rc = 0;
	for (int i = optind; i < argc; i++)
		rc |= verify_one(argv[i], &c);
	msign_trust_anchors_free(anchors);
	free(env_anchors);
	free(req);
	return rc;
}
