/* msign verify: codesign --verify at hash level. Messages and exit codes
 * are codesign's (spec section 4), written to stderr as codesign does;
 * after a failure one "msign: " line names what failed. */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "info/info_int.h"
#include "write/write.h"
#include "write/strip.h"
#include "hash/hash.h"
#include "sign/sign.h"
#include "verify/verify.h"

struct verify_cli {
	struct msign_verify_opts o;
	int verbose;
};

static void verify_usage(FILE *out)
{
	fprintf(out,
		"usage: msign verify [-v...] [--strict] [--arch NAME] [-j N] FILE...\n"
		"  -v, --verbose      say \"valid on disk\" (and more with -vv)\n"
		"      --strict       also require codesign's exact layout\n"
		"  -a, --arch NAME    check only this slice of a universal file\n"
		"  -j, --jobs N       hashing threads (default: online CPUs)\n");
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

static void verify_report_thin(const char *path, const struct verify_kind *k)
{
	/* An ad-hoc signature's implicit requirement is its own cdhash,
	 * satisfied by code that verifies; others need trust evaluation. */
	if (k->adhoc && !k->explicit_dr)
		fprintf(stderr, "%s: satisfies its Designated Requirement\n", path);
	else
		fprintf(stderr, "msign: designated requirement not evaluated "
				"(certificate trust is not checked yet)\n");
	if (!k->adhoc && !k->cms)
		fprintf(stderr, "msign: no adhoc flag and no CMS signature "
				"(a pseudo-signature): hashes valid\n");
	if (k->cms_unchecked)
		fprintf(stderr, "msign: the CMS signature has no signed attributes; "
				"its signature over the CodeDirectory is not checked yet\n");
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
		fprintf(stderr, "msign: %s: %s%s%s\n", msign_slice_arch(s), why,
			k[i].adhoc && !k[i].explicit_dr ? ""
				: "; designated requirement not evaluated "
				  "(certificate trust is not checked yet)",
			k[i].cms_unchecked ? "; no signed attributes: its signature "
					     "over the CodeDirectory is not checked yet" : "");
	}
}

static void verify_report_ok(const char *path, const struct verify_cli *c,
			     const struct msign_image *img,
			     const msign_info *info,
			     const struct msign_verify_result *res)
{
	if (c->verbose < 1)
		return;
	path = cli_esc(path);
	fprintf(stderr, "%s: valid on disk\n", path);
	if (img->is_fat) {
		verify_report_fat(path, img, info, c->o.arch);
	} else {
		struct verify_kind k;
		verify_slice_kind(msign_info_slice_at(info, 0), &k);
		verify_report_thin(path, &k);
	}
	if (c->verbose >= 2)
		fprintf(stderr, "msign: %u slice%s, %u CodeDirector%s, %llu code "
				"pages and %u special slots checked; %u special "
				"slots name bundle files and were not checked\n",
			res->slices_checked, res->slices_checked == 1 ? "" : "s",
			res->cds_checked, res->cds_checked == 1 ? "y" : "ies",
			(unsigned long long)res->pages_checked, res->slots_checked,
			res->slots_skipped);
}

static int verify_one(const char *path, const struct verify_cli *c)
{
	struct msign_diag d;
	msign_diag_clear(&d);
	struct msign_image *img = NULL;
	if (cli_open_image(path, &img) != 0)
		return 1;
	int r;
	struct msign_verify_opts o = c->o;
	static struct msign_verify_result res;
	r = msign_verify_image(img, &o, &res, &d);
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
		verify_report_ok(path, c, keep, info, &res);
		msign_info_free(info);
	} else if (r == 0) {
	} else if (r == MSIGN_E_VERIFY) {
		fprintf(stderr, "%s: %s\n", cli_esc(path),
			msign_verify_message(res.kind));
		if (res.universal) {
			char lbl[48];
			fprintf(stderr, "In architecture: %s\n",
				msign_arch_label(res.cputype, res.cpusubtype, lbl,
						 sizeof(lbl)));
		}
		fprintf(stderr, "msign: %s\n", cli_esc(res.detail));
		rc = 1;
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
	enum { OPT_STRICT = 256 };
	static const struct option longopts[] = {
		{ "verbose", no_argument, NULL, 'v' },
		{ "strict", no_argument, NULL, OPT_STRICT },
		{ "arch", required_argument, NULL, 'a' },
		{ "architecture", required_argument, NULL, 'a' },
		{ "jobs", required_argument, NULL, 'j' },
		{ "verify", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct verify_cli c;
	memset(&c, 0, sizeof(c));
	int ch;
	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "va:j:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'v': c.verbose++; break;
		case 'V': break; /* codesign's spelling of the operation */
		case OPT_STRICT: c.o.strict = true; break;
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
	int rc = 0;
	for (int i = optind; i < argc; i++)
		rc |= verify_one(argv[i], &c);
	return rc;
}
