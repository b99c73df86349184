/* msign show: what `codesign -d` prints, line for line (see
 * ../shared/spec/codesign-display.md). Lines go to stdout (codesign uses
 * stderr); errors go to stderr as "<path>: <codesign's message>", followed
 * by one "msign: " line with the precise reason. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define MSG_SIGFORMAT "invalid or unsupported format for signature"
#define MSG_UNSIGNED "code object is not signed at all"
#define MAX_VERBOSE 6

struct show_opts {
	int verbose;
	const char *arch;
	const char *req_out;  /* "-" or a path */
	const char *ent_out;  /* "-", ":-" or a path */
	bool json;
};

static void show_usage(FILE *out)
{
	fprintf(out,
		"usage: msign show [-v...|--verbose=N] [--arch NAME] [-r-] "
		"[--entitlements -] [--json] FILE...\n"
		"  -v, --verbose[=N]     more detail (repeat, or N from 0 to 6)\n"
		"  -a, --arch NAME       show this slice of a universal file\n"
		"  -r-, --requirements - print the requirements (and the implicit\n"
		"                        designated requirement)\n"
		"  --entitlements -      print the entitlements as an XML plist\n"
		"                        (':-' is accepted too)\n"
		"  --json                every field of every slice, one JSON\n"
		"                        document per file\n"
		"  -d, --display         accepted for codesign compatibility\n");
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

static void print_slots(const struct msign_codedir *cd, int verbose)
{
	char hex[2 * MSIGN_MAX_HASH_LEN + 1];
	int64_t last = verbose >= 6 ? (int64_t)cd->ncode : 0;
	for (int64_t n = -(int64_t)cd->nspecial; n < last; n++) {
		cli_hex(msign_codedir_slot(cd, n), cd->hash_size, hex);
		printf("%6lld=%s\n", (long long)n, hex);
	}
}

static void print_hashes(const struct show_file *f, int v)
{
	const struct msign_sig *sig = &f->sig;
	const struct msign_codedir *cd = &sig->cds[sig->best];
	char hex[2 * MSIGN_MAX_HASH_LEN + 1];
	if (v >= 3) {
		printf("Hash type=%s size=%u\n", msign_hashtype_name(cd->hash_type),
		       cd->hash_size);
		for (uint32_t i = 0; i < sig->ncds; i++) {
			const struct msign_codedir *c = &sig->cds[i];
			const char *n = msign_hashtype_name(c->hash_type);
			cli_hex(c->cdhash, 20, hex);
			printf("CandidateCDHash %s=%s\n", n, hex);
			cli_hex(c->cdhash, c->cdhash_len, hex);
			printf("CandidateCDHashFull %s=%s\n", n, hex);
		}
		printf("Hash choices=");
		for (uint32_t i = 0; i < sig->ncds; i++)
			printf("%s%s", i ? "," : "",
			       msign_hashtype_name(sig->cds[i].hash_type));
		printf("\n");
		uint8_t dg[32];
		if (msign_sig_cms_digest(sig, dg) == 0) {
			cli_hex(dg, 32, hex);
			printf("CMSDigest=%s\nCMSDigestType=2\n", hex);
		}
	}
	if (v >= 4 && cd->version >= MSIGN_CS_SUPPORTSEXECSEG)
		printf("Executable Segment base=%llu\n"
		       "Executable Segment limit=%llu\n"
		       "Executable Segment flags=0x%llx\n",
		       (unsigned long long)cd->exec_seg_base,
		       (unsigned long long)cd->exec_seg_limit,
		       (unsigned long long)cd->exec_seg_flags);
	if (v >= 4) {
		if (cd->page_log2 == 0)
			printf("Page size=none\n");
		else
			printf("Page size=%u\n", 1u << cd->page_log2);
	}
	if (v >= 5)
		print_slots(cd, v);
}

static void print_launch(const struct msign_sig *sig)
{
	static const char *const names[4] = {
		"Launch Constraint (self)", "Launch Constraint (parent)",
		"Launch Constraint (responsible)", "Library Constraint" };
	bool any = false;
	for (int i = 0; i < 4; i++)
		any = any || sig->launch[i] != NULL;
	if (!any)
		return;
	printf("Launch Constraints:\n");
	for (int i = 0; i < 4; i++)
		if (sig->launch[i] != NULL)
			printf("\t%s: %u bytes\n", names[i], sig->launch[i]->len);
}

static void print_signer(const struct show_file *f, int v)
{
	const char *kind = show_sig_kind(f);
	if (strcmp(kind, "adhoc") == 0) {
		printf("Signature=adhoc\n");
	} else if (strcmp(kind, "cms") == 0) {
		printf("Signature size=%u\n", f->sig.cms->len - 8);
	}
	if (!f->has_cms)
		return;
	if (v >= 2)
		for (uint32_t i = 0; i < f->cms.ncerts; i++)
			printf("Authority=%s\n", cli_esc(f->cms.chain[i].cn));
	char date[64];
	if (f->cms.has_timestamp) {
		cli_date(f->cms.timestamp_time, date, sizeof(date));
		printf("Timestamp=%s\n", date);
	} else if (f->cms.has_signing_time) {
		cli_date(f->cms.signing_time, date, sizeof(date));
		printf("Signed Time=%s\n", date);
	}
}

static void print_info_plist(const struct show_file *f)
{
	const struct msign_codedir *cd = &f->sig.cds[f->sig.best];
	uint32_t n;
	if (f->s->has_info_plist &&
	    msign_codedir_slot_present(cd, -(int64_t)MSIGN_CSSLOT_INFOSLOT) &&
	    msign_plist_count_entries(f->s->data + f->s->info_plist_off,
				      (size_t)f->s->info_plist_size, &n,
				      NULL) == 0)
		printf("Info.plist entries=%u\n", n);
	else
		printf("Info.plist=not bound\n");
}

static void print_tail(const struct show_file *f)
{
	const struct msign_codedir *cd = &f->sig.cds[f->sig.best];
	print_info_plist(f);
	if (cd->team != NULL)
		printf("TeamIdentifier=%s\n", cli_esc(cd->team));
	else
		printf("TeamIdentifier=not set\n");
	if (cd->version >= MSIGN_CS_SUPPORTSRUNTIME && cd->runtime != 0)
		printf("Runtime Version=%u.%u.%u\n", cd->runtime >> 16,
		       (cd->runtime >> 8) & 0xff, cd->runtime & 0xff);
	printf("Sealed Resources=none\n");
	const struct msign_blob *rq = f->sig.requirements;
	if (rq != NULL && rq->len >= 12)
		printf("Internal requirements count=%u size=%u\n",
		       f->sig.req_count, rq->len);
	else
		printf("Internal requirements=none\n");
}

static void print_text(const struct show_file *f, int v)
{
	const struct msign_sig *sig = &f->sig;
	const struct msign_codedir *cd = &sig->cds[sig->best];
	char buf[1024];
	printf("Executable=%s\n", cli_esc(f->exec_path));
	if (v < 1)
		return;
	printf("Identifier=%s\n", cli_esc(cd->ident));
	show_format(f->img, buf, sizeof(buf));
	printf("Format=%s\n", buf);
	cli_cd_flags(cd->flags, buf, sizeof(buf));
	printf("CodeDirectory v=%x size=%u flags=0x%x(%s) hashes=%u+%u "
	       "location=embedded\n",
	       cd->version, cd->len, cd->flags, buf, cd->ncode, cd->nspecial);
	if (cd->platform != 0)
		printf("Platform identifier=%u\n", cd->platform);
	if (v >= 4 && f->s->has_version)
		printf("VersionPlatform=%u\nVersionMin=%u\nVersionSDK=%u\n",
		       f->s->version_platform, f->s->version_min,
		       f->s->version_sdk);
	print_hashes(f, v);
	if (v >= 3) {
		print_launch(sig);
		char hex[41];
		cli_hex(cd->cdhash, 20, hex);
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
	char *text = NULL, *dr = NULL;
	uint32_t count = 0;
	bool has_dr = false;
	struct msign_diag d;
	msign_diag_clear(&d);
	const struct msign_blob *rq = f->sig.requirements;
	if (rq != NULL &&
	    msign_reqset_decompile(rq->data, rq->len, &text, &count, &has_dr,
				   &d) != 0)
		return fail(f->path, MSG_SIGFORMAT, &d);
	size_t tlen = text ? strlen(text) : 0;
	if (!has_dr) {
		dr = show_implicit_dr(f);
		if (dr == NULL) {
			free(text);
			return fail(f->path, MSG_SIGFORMAT, NULL);
		}
		size_t need = tlen + strlen(dr) + 32;
		char *all = realloc(text, need);
		if (all == NULL) {
			free(text);
			free(dr);
			return 1;
		}
		text = all;
		tlen += (size_t)snprintf(text + tlen, need - tlen,
					 "# designated => %s\n", dr);
		free(dr);
	}
	int r = write_text(dest, text, tlen);
	free(text);
	return r == 0 ? 0 : 1;
}

static int print_entitlements(const struct show_file *f, const char *dest)
{
	int err;
	struct msign_diag d;
	msign_diag_clear(&d);
	char *xml = show_entitlements_xml(f, &err, &d);
	if (err != 0)
		return fail(f->path, "invalid entitlements blob", &d);
	if (xml == NULL)
		return 0; /* none: nothing printed, not an error */
	int r = write_text(dest, xml, strlen(xml));
	free(xml);
	return r == 0 ? 0 : 1;
}

/* Open, choose the slice, validate its signature. Returns 0, or 1 with
 * f->error (codesign's message) and f->reason set; f->img stays open when
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
	int r = msign_image_open(f->path, &f->img, &d);
	if (r == MSIGN_E_IO) {
		snprintf(f->reason, sizeof(f->reason), "%s", d.msg);
		f->error = f->reason;
		return 1;
	}
	if (r != 0)
		return load_fail(f, MSG_FORMAT, &d);
	char *rp = realpath(f->path, NULL);
	f->exec_path = rp ? rp : strdup(f->path);
	if (f->exec_path == NULL)
		return load_fail(f, "out of memory", NULL);
	if (o->arch != NULL) {
		int i = msign_image_find_arch(f->img, o->arch);
		if (i < 0) {
			snprintf(f->arch_msg, sizeof(f->arch_msg),
				 "architecture %s not present", o->arch);
			return load_fail(f, f->arch_msg, NULL);
		}
		f->slice_idx = (uint32_t)i;
	} else {
		f->slice_idx = msign_image_default_slice(f->img);
	}
	f->s = &f->img->slices[f->slice_idx];
	f->slice_chosen = true;
	if (f->s->err != 0)
		return load_fail(f, MSG_FORMAT, &f->s->diag);
	r = msign_sig_parse(f->s, &f->sig, &d);
	if (r == MSIGN_E_NOT_SIGNED)
		return load_fail(f, MSG_UNSIGNED, NULL);
	if (r != 0)
		return load_fail(f, MSG_SIGFORMAT, &d);
	f->sig_ok = true;
	const struct msign_blob *cms = f->sig.cms;
	if (cms != NULL && cms->len > 8) {
		msign_diag_clear(&d);
		f->cms_err = msign_cms_parse(cms->data + 8, cms->len - 8,
					     &f->cms, &d);
		f->has_cms = f->cms_err == 0;
		snprintf(f->cms_msg, sizeof(f->cms_msg), "%s", d.msg);
	}
	return 0;
}

/* Errors found after the lines were printed: a damaged CMS or blob. */
static int late_errors(const struct show_file *f)
{
	if (f->cms_err != 0) {
		fprintf(stderr, "%s: %s\nmsign: CMS signature: %s\n",
			cli_esc(f->path), MSG_SIGFORMAT, cli_esc(f->cms_msg));
		return 1;
	}
	if (f->sig.blob_err != 0) {
		fprintf(stderr, "%s: %s\nmsign: %s\n", cli_esc(f->path),
			MSG_SIGFORMAT, cli_esc(f->sig.blob_err_msg));
		return 1;
	}
	return 0;
}

static int show_one(const char *path, const struct show_opts *o)
{
	struct show_file f;
	memset(&f, 0, sizeof(f));
	f.path = path;
	int rc = load_file(&f, o);
	if (o->json) {
		rc |= show_json(stdout, &f);
	} else if (rc == 0) {
		print_text(&f, o->verbose);
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
		if (rc == 0 && !o->json && strcmp(show_sig_kind(&f), "none") == 0)
			fprintf(stderr, "%s: no signature\n", cli_esc(path));
		rc |= late_errors(&f);
	}
	if (f.has_cms)
		msign_cms_info_free(&f.cms);
	free(f.exec_path);
	msign_image_free(f.img);
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
	enum { OPT_ENT = 256, OPT_JSON };
	static const struct option longopts[] = {
		{ "verbose", optional_argument, NULL, 'v' },
		{ "arch", required_argument, NULL, 'a' },
		{ "architecture", required_argument, NULL, 'a' },
		{ "requirements", required_argument, NULL, 'r' },
		{ "entitlements", required_argument, NULL, OPT_ENT },
		{ "json", no_argument, NULL, OPT_JSON },
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
