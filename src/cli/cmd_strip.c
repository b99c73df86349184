/* msign strip: remove signatures exactly as codesign --remove-signature. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "write/write.h"
#include "write/strip.h"
#include "hash/hash.h"
#include "sign/sign.h"
#include "verify/verify.h"


static void strip_usage(FILE *out)
{
	fprintf(out,
		"usage: msign strip [--output OUT] [--arch NAME] [--dry-run] FILE...\n"
		"  -o, --output OUT   write the result to OUT (one FILE only)\n"
		"  -a, --arch NAME    strip only this slice of a universal file\n"
		"  -n, --dry-run      print what would change, write nothing\n");
}

static void strip_report(const char *path, const struct msign_image *img,
			 const struct msign_strip_result *res, const char *only)
{
	int sel = only ? msign_image_find_arch(img, only) : -1;
	path = cli_esc(path);
	char lbl[40];
	for (uint32_t i = 0; i < res->nslices; i++) {
		const struct msign_slice *s = &img->slices[i];
		const struct msign_strip_slice *ss = &res->slices[i];
		const char *arch = msign_arch_label(s->cputype, s->cpusubtype,
						    lbl, sizeof(lbl));
		if (ss->was_signed)
			printf("%s: %s: remove signature (%u bytes at %u), "
			       "slice %llu -> %llu bytes\n",
			       path, arch, s->cs_datasize, s->cs_dataoff,
			       (unsigned long long)ss->old_size,
			       (unsigned long long)ss->new_size);
		else if (sel >= 0 && (uint32_t)sel != i)
			printf("%s: %s: not selected, unchanged\n", path, arch);
		else
			printf("%s: %s: not signed, unchanged\n", path, arch);
		if (img->is_fat && ss->old_off != ss->new_off && res->changed)
			printf("%s: %s: slice moves from offset %llu to %llu\n",
			       path, arch, (unsigned long long)ss->old_off,
			       (unsigned long long)ss->new_off);
	}
}

static int strip_fail(const char *path, int r, const struct msign_diag *d)
{
	if (r == MSIGN_E_IO) {
		fprintf(stderr, "%s: %s\n", cli_esc(path), cli_esc(d->msg));
		return 1;
	}
	/* Apple's own wording where it has one, else the container message. */
	if (r == MSIGN_E_UNSUPPORTED || r == MSIGN_E_NOT_FOUND ||
	    r == MSIGN_E_LAYOUT) {
		fprintf(stderr, "%s: %s\n", cli_esc(path), cli_esc(d->msg));
		return 1;
	}
	fprintf(stderr, "%s: %s\n", cli_esc(path), MSG_FORMAT);
	if (d->code != 0)
		fprintf(stderr, "msign: %s (at offset %llu)\n", cli_esc(d->msg),
			(unsigned long long)d->file_off);
	return 1;
}

static int strip_dry(const char *path, const char *arch)
{
	struct msign_diag d;
	msign_diag_clear(&d);
	struct msign_image *img = NULL;
	int r = msign_image_open(path, &img, &d);
	if (r)
		return strip_fail(path, r, &d);
	struct msign_plan plan;
	msign_plan_init(&plan);
	static struct msign_strip_result res;
	r = msign_strip_plan(img, arch, &plan, &res, &d);
	if (r == 0) {
		strip_report(path, img, &res, arch);
		if (res.changed)
			printf("%s: %llu -> %llu bytes (dry run, nothing written)\n",
			       cli_esc(path), (unsigned long long)img->len,
			       (unsigned long long)plan.out_len);
	}
	msign_plan_free(&plan);
	msign_image_free(img);
	return r ? strip_fail(path, r, &d) : 0;
}

static int strip_one(const char *path, const char *out, const char *arch)
{
	struct msign_diag d;
	msign_diag_clear(&d);
	static struct msign_strip_result res;
	int r = msign_strip_run(path, out ? out : path, arch, &res, &d);
	if (r)
		return strip_fail(path, r, &d);
	if (d.lost != 0) { /* written all the same: exit 0 */
		char what[128];
		msign_write_lost_text(d.lost, what, sizeof(what));
		fprintf(stderr, "%s: warning: could not keep its %s\n",
			out ? out : path, what);
	}
	if (!res.changed)
		fprintf(stderr, "%s: code object is not signed at all "
				"(left unchanged)\n", cli_esc(path));
	return 0;
}

int cmd_strip(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "arch", required_argument, NULL, 'a' },
		{ "architecture", required_argument, NULL, 'a' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *out = NULL, *arch = NULL;
	bool dry = false;
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "o:a:nh", longopts, NULL)) != -1) {
		switch (c) {
		case 'o': out = optarg; break;
		case 'a': arch = optarg; break;
		case 'n': dry = true; break;
		case 'h': strip_usage(stdout); return 0;
		default:
			fprintf(stderr, "msign strip: invalid option '%s'\n",
				cli_esc(argv[optind - 1]));
			strip_usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc || (out != NULL && argc - optind != 1)) {
		if (out != NULL && argc - optind > 1)
			fprintf(stderr, "msign strip: --output takes one FILE\n");
		strip_usage(stderr);
		return EXIT_USAGE;
	}
	int rc = 0;
	for (int i = optind; i < argc; i++)
		rc |= dry ? strip_dry(argv[i], arch) : strip_one(argv[i], out, arch);
	return rc;
}
