/* msign sign: ad-hoc signatures as `codesign -s -` writes them,
 * ld64.lld's linker signature (--linker-signed), or certificate
 * signatures with an identity read from PEM or PKCS#12 files or a key on
 * a PKCS#11 token. Options are spelled like codesign's; a password or PIN
 * never comes from the command line (it would show in ps and the shell's
 * history). */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "sig/req.h"
#include "write/write.h"
#include "write/strip.h"
#include "hash/hash.h"
#include "sign/sign.h"
#include "sign/sign_cms.h"
#include "sign/tsa.h"
#include "verify/verify.h"
#include "bundle/bundle_int.h"
#include "msign/bundle.h"

#define ENT_FILE_MAX (1u << 20)

#define PASSWORD_MAX 1024u
#define PIN_ARGV "a PIN is never taken from the command line (--pkcs11-pin-file FILE or MSIGN_PKCS11_PIN)"

struct sign_cli {
	struct msign_sign_opts o;
	const char *output;
	int verbose;
	bool dry;
	struct msign_identity_src src;
	const char *p12_password_file;
	const char *pin_file;
	struct msign_tsa_opts tsa;
	bool timestamp;
	char *password;
	char *pin;
	unsigned preserve;      /* PRESERVE_* */
	bool flags_given;       /* -o was given */
	bool deep;              /* --deep: nested code of bundles first */
	bool deep_ent;          /* --deep-entitlements */
	const char *ent_map;    /* --entitlements-for FILE */
	struct msign_nested_ent nested[256];
	char *nested_buf[2 * 256]; /* what nested[] points into */
	uint32_t nnested_buf;
};

/* --preserve-metadata: what an old signature lends the new one, unless
 * the command line gives it (codesign: explicit options win). */
#define PRESERVE_IDENTIFIER 0x1u
#define PRESERVE_ENTITLEMENTS 0x2u
#define PRESERVE_REQUIREMENTS 0x4u
#define PRESERVE_FLAGS 0x8u
#define PRESERVE_RUNTIME 0x10u

static void sign_usage(FILE *out)
{
	fprintf(out,
		"usage: msign sign -s - [-i ID] [--entitlements FILE] [-o FLAGS] [--digest LIST]\n"
		"                  [--linker-signed] [-f] [--arch NAME] [--output OUT] [-n] FILE...\n"
		"       msign sign -s IDENTITY (--key KEY.pem --cert CERT.pem [--chain CHAIN.pem]\n"
		"                  | --p12 FILE [--p12-password-file FILE]\n"
		"                  | --pkcs11 URI [--pkcs11-module SO] [--pkcs11-pin-file FILE]\n"
		"                    [--cert CERT.pem] [--chain CHAIN.pem]) [--signing-time T]\n"
		"                  [--timestamp[=URL] | --timestamp=none] [options] FILE...\n"
		"  -s, --sign -             ad-hoc signature\n"
		"  -s, --sign IDENTITY      certificate signature by the leaf whose CN is\n"
		"                           IDENTITY or holds it, or whose SHA-1 it is (hex)\n"
		"      --key FILE           its private key (PEM, RSA or ECDSA P-256)\n"
		"      --cert FILE          its certificate(s) (PEM)\n"
		"      --chain FILE         the issuers up to the root (PEM), carried in the CMS\n"
		"      --p12 FILE           key and certificates from a PKCS#12 file instead\n"
		"      --p12-password-file FILE  its password (first line); else the\n"
		"                           environment's MSIGN_P12_PASSWORD; else empty\n"
		"      --pkcs11 URI         the private key on a PKCS#11 token (RFC 7512,\n"
		"                           pkcs11:token=...;object=...); its certificate from\n"
		"                           the token under the same URI unless --cert is given\n"
		"      --pkcs11-module SO   the token's PKCS#11 module; else the environment's\n"
		"                           MSIGN_PKCS11_MODULE; else the engine's default\n"
		"      --pkcs11-pin-file FILE  the PIN (first line); else the environment's\n"
		"                           MSIGN_PKCS11_PIN; else the URI's pin-source\n"
		"      --signing-time T     signingTime, YYYY-MM-DDTHH:MM:SSZ (default: now),\n"
		"                           or none: no signingTime attribute\n"
		"      --timestamp[=URL]    RFC 3161 timestamp (default URL: Apple's);\n"
		"                           failing to get one fails the signing\n"
		"      --timestamp=none     no timestamp (the default)\n"
		"  -i, --identifier ID      identifier (default: codesign's rule)\n"
		"      --prefix PREFIX      put in front of a default identifier without a dot\n"
		"      --entitlements FILE  XML plist, embedded as XML and as DER\n"
		"  -r, --requirements REQ   the requirement set to embed: =TEXT in Apple's\n"
		"                           language (\"designated => ...\"), or a file of\n"
		"                           text or of a compiled set (as msign csreq -b)\n"
		"  -o, --options FLAGS      runtime,library,kill,hard,host,expires,restrict,\n"
		"                           enforcement,library-validation or a number\n"
		"      --digest LIST        sha1,sha256,sha384 (also --digest-algorithm)\n"
		"      --linker-signed      the signature ld64/lld write (adhoc,linker-signed)\n"
		"  -f, --force              replace an existing signature\n"
		"      --preserve-metadata=LIST  re-signing: take identifier, entitlements,\n"
		"                           requirements, flags, runtime (comma-separated)\n"
		"                           from the old signature unless given here\n"
		"      --for-notarization   refuse, listing every problem, what Apple's notary\n"
		"                           service would refuse (Developer ID Application leaf,\n"
		"                           -o runtime, --timestamp, SHA-256, no get-task-allow)\n"
		"  -a, --arch NAME          sign only this slice of a universal file\n"
		"      --output OUT         write to OUT instead of FILE (one FILE only)\n"
		"      --page-size N        code page size in bytes (default: 16384 for\n"
		"                           arm64 slices, 4096 otherwise and for --linker-signed)\n"
		"  -j, --jobs N             hashing threads (default: online CPUs)\n"
		"      --deep               a bundle's nested code first, from the inside out:\n"
		"                           what is unsigned (with -f, all), with the same\n"
		"                           identity and options, its own identifier\n"
		"      --entitlements-for FILE  entitlements per nested code, lines\n"
		"                           PATH=PLIST (PATH inside the bundle)\n"
		"      --deep-entitlements  nested code gets --entitlements too (as\n"
		"                           codesign --deep does it)\n"
		"      --bundle-version V   a framework's Versions/V, not the version\n"
		"                           Versions/Current names\n"
		"  -n, --dry-run            compute the signature, print it, write nothing\n"
		"  -v, --verbose            say what was signed\n"
		"Without -r, a certificate signature embeds the designated requirement codesign\n"
		"derives for the identity's chain (Apple, Apple Development, Developer ID, or\n"
		"another anchor pinned by SHA-1) and the leaf's OU as team identifier.\n");
}

struct sign_name {
	const char *name;
	uint32_t bit;
};

/* OR into *bits the bit of every comma-separated name in arg; with
 * numeric, a number (C syntax) stands for its own bits. -1 on anything
 * else. */
static int sign_name_list(const char *arg, const struct sign_name *names,
			  size_t n, bool numeric, uint32_t *bits)
{
	char *copy = strdup(arg), *save = NULL;
	if (copy == NULL)
		return -1;
	int r = 0;
	for (char *t = strtok_r(copy, ",", &save); t != NULL && r == 0;
	     t = strtok_r(NULL, ",", &save)) {
		bool found = false;
		for (size_t i = 0; i < n; i++)
			if (strcmp(t, names[i].name) == 0) {
				*bits |= names[i].bit;
				found = true;
			}
		if (found)
			continue;
		char *end;
		errno = 0;
		unsigned long v = numeric ? strtoul(t, &end, 0) : 0;
		if (!numeric || *t == '\0' || *end != '\0' || errno != 0 ||
		    v > UINT32_MAX)
			r = -1;
		else
			*bits |= (uint32_t)v;
	}
	free(copy);
	return r;
}

static int sign_flag_names(const char *arg, uint32_t *flags)
{
	static const struct sign_name names[] = {
		{ "host", 0x1 },        { "hard", 0x100 },
		{ "kill", 0x200 },      { "expires", 0x400 },
		{ "restrict", 0x800 },  { "enforcement", 0x1000 },
		{ "library", 0x2000 },  { "library-validation", 0x2000 },
		{ "runtime", MSIGN_CS_RUNTIME },
	};
	return sign_name_list(arg, names, sizeof(names) / sizeof(names[0]),
			      true, flags);
}

static int sign_digests(const char *arg, uint32_t *mask)
{
	static const struct sign_name names[] = {
		{ "sha1", 1u << MSIGN_CS_HASHTYPE_SHA1 },
		{ "sha256", 1u << MSIGN_CS_HASHTYPE_SHA256 },
		{ "sha384", 1u << MSIGN_CS_HASHTYPE_SHA384 },
	};
	int r = sign_name_list(arg, names, sizeof(names) / sizeof(names[0]),
			       false, mask);
	return *mask == 0 ? -1 : r;
}

static int sign_preserve_names(const char *arg, unsigned *mask)
{
	static const struct sign_name names[] = {
		{ "identifier", PRESERVE_IDENTIFIER },
		{ "entitlements", PRESERVE_ENTITLEMENTS },
		{ "requirements", PRESERVE_REQUIREMENTS },
		{ "flags", PRESERVE_FLAGS },
		{ "runtime", PRESERVE_RUNTIME },
	};
	uint32_t bits = 0;
	int r = sign_name_list(arg, names, sizeof(names) / sizeof(names[0]),
			       false, &bits);
	*mask |= bits;
	return bits == 0 ? -1 : r;
}

static int sign_number(const char *arg, uint32_t lo, uint32_t hi, uint32_t *out)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(arg, &end, 10);
	if (*arg == '\0' || *end != '\0' || errno != 0 || v < lo || v > hi)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

/* none, or YYYY-MM-DDTHH:MM:SSZ, UTC; signingTime is a UTCTime, years 1950-2049. */
static int sign_time(const char *arg, int64_t *out)
{
	if (strcmp(arg, "none") == 0) {
		*out = MSIGN_SIGN_TIME_NONE;
		return 0;
	}
	struct tm tm;
	memset(&tm, 0, sizeof(tm));
	int n = 0;
	if (sscanf(arg, "%4d-%2d-%2dT%2d:%2d:%2dZ%n", &tm.tm_year, &tm.tm_mon,
		   &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) != 6 ||
	    n != 20 || arg[n] != '\0' || tm.tm_year < 1950 || tm.tm_year > 2049)
		return -1;
	struct tm want = tm;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	time_t t = timegm(&tm);
	/* timegm normalizes 02-30 into March: a date that moved was no date */
	if (tm.tm_year != want.tm_year - 1900 || tm.tm_mon != want.tm_mon - 1 ||
	    tm.tm_mday != want.tm_mday || tm.tm_hour != want.tm_hour ||
	    tm.tm_min != want.tm_min || tm.tm_sec != want.tm_sec)
		return -1;
	*out = (int64_t)t;
	return 0;
}

/* A secret: the first line of path, else the environment's env, else
 * dflt (NULL: none). */
static int sign_secret(const char *path, const char *env, const char *dflt,
		       char **out)
{
	*out = NULL;
	if (path == NULL) {
		const char *v = getenv(env);
		if (v == NULL)
			v = dflt;
		if (v == NULL)
			return 0;
		*out = strdup(v);
		return *out != NULL ? 0 : -1;
	}
	FILE *fp = fopen(path, "r");
	if (fp == NULL) {
		fprintf(stderr, "%s: %s\n", cli_esc(path), strerror(errno));
		return -1;
	}
	/* no copy of the secret in stdio's buffer, which fclose does not wipe */
	setvbuf(fp, NULL, _IONBF, 0);
	char *buf = calloc(1, PASSWORD_MAX + 1);
	if (buf != NULL && fgets(buf, (int)PASSWORD_MAX + 1, fp) == NULL)
		buf[0] = '\0';
	fclose(fp);
	if (buf == NULL)
		return -1;
	buf[strcspn(buf, "\r\n")] = '\0';
	*out = buf;
	return 0;
}

static void sign_wipe(char **secret)
{
	if (*secret == NULL)
		return;
	/* it has done its work: do not leave it in the heap */
	cli_wipe(*secret, strlen(*secret));
	free(*secret);
	*secret = NULL;
}

static int sign_load_identity(struct sign_cli *c, const char *identity,
			      struct msign_sign_identity **id)
{
	if (c->src.p12_path != NULL &&
	    sign_secret(c->p12_password_file, "MSIGN_P12_PASSWORD", "", &c->password) != 0)
		return -1;
	c->src.p12_password = c->password;
	if (c->src.pkcs11_uri != NULL) {
		if (sign_secret(c->pin_file, "MSIGN_PKCS11_PIN", NULL, &c->pin) != 0)
			return -1;
		if (c->src.pkcs11_module == NULL)
			c->src.pkcs11_module = getenv("MSIGN_PKCS11_MODULE");
	}
	c->src.pkcs11_pin = c->pin;
	struct msign_diag d;
	msign_diag_clear(&d);
	int r = msign_identity_load(&c->src, identity, id, &d);
	/* the key is loaded (a token's session is logged in): no later
	 * step needs the secrets */
	sign_wipe(&c->password);
	sign_wipe(&c->pin);
	c->src.p12_password = c->src.pkcs11_pin = NULL;
	if (r != 0) {
		fprintf(stderr, "msign sign: %s\n", cli_esc(d.msg));
		return -1;
	}
	c->o.identity = *id;
	c->o.tsa = c->timestamp ? &c->tsa : NULL;
	return 0;
}

static char *sign_read_file(const char *path, size_t *len)
{
	uint8_t *buf = NULL;
	return cli_read_file(path, false, ENT_FILE_MAX, &buf, len) == 0 ? (char *)buf : NULL;
}

static void sign_report(const char *path, const struct msign_image *img,
			const struct msign_sign_result *res, uint64_t out_len)
{
	char lbl[48];
	path = cli_esc(path);
	for (uint32_t i = 0; i < res->nslices; i++) {
		const struct msign_sign_slice *ss = &res->slices[i];
		const struct msign_slice *s = &img->slices[i];
		const char *arch = msign_arch_label(s->cputype, s->cpusubtype,
						    lbl, sizeof(lbl));
		if (!ss->target) {
			printf("%s: %s: unchanged\n", path, arch);
			continue;
		}
		printf("%s: %s: CodeDirectory v=%x, %u page%s of %u bytes, hashes ",
		       path, arch, ss->cd_version, (ss->dataoff + ss->page_size - 1) / ss->page_size,
		       ss->dataoff > ss->page_size ? "s" : "", ss->page_size);
		for (uint32_t k = 0; k < ss->ncds; k++)
			printf("%s%s", k ? "," : "", msign_hashtype_name(ss->hash_types[k]));
		printf("; signature %u bytes at %u; slice at %llu, %llu bytes\n",
		       ss->datasize, ss->dataoff, (unsigned long long)ss->out_off,
		       (unsigned long long)ss->out_size);
	}
	printf("%s: identifier %s; %llu -> %llu bytes (dry run, nothing written)\n",
	       path, cli_esc(res->identifier), (unsigned long long)img->len,
	       (unsigned long long)out_len);
}

/* The old signature's metadata the options do not give, from the slice
 * codesign -d shows (codesign takes it from the main architecture; every
 * slice of a universal file gets the same identifier and flags). The
 * copies live in *keep until the file is signed. */
static int sign_preserve(const char *path, const struct sign_cli *c,
			 struct msign_sign_opts *o, msign_info **keep)
{
	struct msign_diag d;
	msign_diag_clear(&d);
	if (msign_info_open(path, keep, &d) != 0) {
		fprintf(stderr, "%s: %s\n", cli_esc(path), cli_esc(d.msg));
		return -1;
	}
	const msign_info_slice *s =
		msign_info_slice_at(*keep, msign_info_default_slice(*keep));
	const msign_info_cd *cd = s ? msign_slice_chosen_cd(s) : NULL;
	if (s == NULL || msign_slice_sig_status(s, NULL) != 0 || cd == NULL)
		return 0; /* nothing to preserve: signed as if new */
	uint32_t flags = msign_cd_flags(cd);
	uint32_t runtime = 0;
	if ((c->preserve & PRESERVE_IDENTIFIER) && o->identifier == NULL)
		o->identifier = msign_cd_identifier(cd);
	if ((c->preserve & PRESERVE_ENTITLEMENTS) && o->ent_xml == NULL)
		o->ent_xml = msign_slice_entitlements_xml(s, &o->ent_len);
	if ((c->preserve & PRESERVE_REQUIREMENTS) && o->requirements == NULL)
		o->requirements = msign_slice_requirements(s, &o->requirements_len);
	if ((c->preserve & PRESERVE_FLAGS) && !c->flags_given && !o->linker_signed)
		o->cd_flags = flags & MSIGN_SIGN_FLAGS;
	if ((c->preserve & PRESERVE_RUNTIME) && msign_cd_runtime(cd, &runtime))
		o->runtime_version = runtime;
	return 0;
}

/* --for-notarization: every problem, one a line, before anything is hashed. */
static int sign_notary(const char *path, const struct msign_sign_opts *o)
{
	char list[2048];
	unsigned n = 0;
	struct msign_diag d;
	msign_diag_clear(&d);
	if (msign_sign_notary_problems(o, list, sizeof(list), &n, &d) != 0) {
		fprintf(stderr, "%s: %s\n", cli_esc(path), cli_esc(d.msg));
		return -1;
	}
	if (n == 0)
		return 0;
	fprintf(stderr, "%s: not ready for notarization (%u problem%s):\n",
		cli_esc(path), n, n == 1 ? "" : "s");
	for (char *line = strtok(list, "\n"); line != NULL; line = strtok(NULL, "\n"))
		fprintf(stderr, "  %s\n", cli_esc(line));
	return -1;
}

/* Plan only: the signature is computed (every page hashed) and described. */
static int sign_dry(const char *path, const struct msign_sign_opts *o,
		    const struct msign_image *img, struct msign_diag *d)
{
	static struct msign_sign_result res;
	struct msign_plan plan;
	msign_plan_init(&plan);
	int r = msign_sign_plan(img, o, &plan, &res, d);
	if (r == 0)
		sign_report(path, img, &res, plan.out_len);
	msign_plan_free(&plan);
	if (res.already_signed) {
		fprintf(stderr, "%s: is already signed\n", cli_esc(path));
		return 1;
	}
	if (r != 0) {
		fprintf(stderr, "%s: %s\n", cli_esc(path), cli_esc(d->msg));
		return 1;
	}
	return 0;
}

/* --entitlements-for FILE: lines "PATH=PLIST", PATH the nested code's
 * path relative to the bundle's folder, PLIST an entitlements file
 * (relative to FILE's folder unless absolute); empty lines and lines
 * starting with '#' are skipped. */
static int sign_ent_map(struct sign_cli *c)
{
	enum { MAP_MAX = 1 << 20, ENT_MAX = 1 << 20 };
	uint8_t *buf = NULL;
	size_t n = 0;
	if (cli_read_file(c->ent_map, false, MAP_MAX, &buf, &n) != 0) {
		fprintf(stderr, "%s: %s\n", cli_esc(c->ent_map), strerror(errno));
		return -1;
	}
	const char *slash = strrchr(c->ent_map, '/');
	int dirlen = slash != NULL ? (int)(slash - c->ent_map) : 1;
	const char *dir = slash != NULL ? c->ent_map : ".";
	int lineno = 0, rc = 0;
	char *save = NULL;
	char *text = malloc(n + 1);
	if (text == NULL) {
		free(buf);
		fprintf(stderr, "msign sign: out of memory\n");
		return -1;
	}
	memcpy(text, buf, n);
	text[n] = '\0';
	free(buf);
	if (memchr(text, '\0', n) != NULL) {
		fprintf(stderr, "%s: a NUL byte in the file\n", cli_esc(c->ent_map));
		free(text);
		return -1;
	}
	for (char *line = strtok_r(text, "\n", &save); line != NULL && rc == 0;
	     line = strtok_r(NULL, "\n", &save)) {
		lineno++;
		if (line[0] == '\0' || line[0] == '#')
			continue;
		char *eq = strchr(line, '=');
		if (eq == NULL || eq == line || eq[1] == '\0' || line[0] == '/') {
			fprintf(stderr, "%s:%d: not PATH=PLIST (PATH relative to the bundle)\n",
				cli_esc(c->ent_map), lineno);
			rc = -1;
			break;
		}
		*eq = '\0';
		const char *plist = eq + 1;
		char path[4096];
		if (plist[0] == '/')
			snprintf(path, sizeof(path), "%s", plist);
		else
			snprintf(path, sizeof(path), "%.*s/%s", dirlen, dir, plist);
		uint8_t *ent = NULL;
		size_t elen = 0;
		if (c->o.n_nested_ent == 256) {
			fprintf(stderr, "%s: at most 256 paths\n", cli_esc(c->ent_map));
			rc = -1;
		} else if (cli_read_file(path, false, ENT_MAX, &ent, &elen) != 0 || elen == 0) {
			fprintf(stderr, "%s: %s\n", cli_esc(path),
				elen == 0 && ent != NULL ? "empty file" : strerror(errno));
			free(ent);
			rc = -1;
		} else {
			char *rel = strdup(line);
			if (rel == NULL) {
				free(ent);
				rc = -1;
				break;
			}
			c->nested_buf[c->nnested_buf++] = rel;
			c->nested_buf[c->nnested_buf++] = (char *)ent;
			struct msign_nested_ent *e = &c->nested[c->o.n_nested_ent++];
			e->rel = rel;
			e->xml = (const char *)ent;
			e->len = elen;
		}
	}
	free(text);
	c->o.nested_ent = c->nested;
	return rc;
}

static int sign_bundle_one(const char *path, struct sign_cli *c)
{
	if (c->output != NULL || c->dry || c->preserve != 0 || c->o.linker_signed ||
	    c->o.arch != NULL) {
		fprintf(stderr, "%s: a bundle is signed in place: no --output, --dry-run, "
				"--preserve-metadata, --linker-signed or --arch\n", cli_esc(path));
		return EXIT_USAGE;
	}
	struct msign_diag d;
	msign_diag_clear(&d);
	msign_bundle *b = NULL;
	if (msign_bundle_open_version(path, c->o.bundle_version, &b, &d) != 0) {
		fprintf(stderr, "%s: %s\n", cli_esc(path), cli_esc(d.msg));
		return 1;
	}
	struct msign_sign_opts o = c->o;
	if (o.for_notarization && sign_notary(msign_bundle_executable(b), &o) != 0) {
		msign_bundle_free(b);
		return 1;
	}
	const msign_info *info = msign_bundle_executable_info(b, NULL);
	bool was_signed = false;
	for (uint32_t i = 0; info != NULL && i < msign_info_slice_count(info); i++)
		was_signed = was_signed ||
			     msign_slice_sig_status(msign_info_slice_at(info, i), NULL) !=
				     MSIGN_E_NOT_SIGNED;
	msign_bundle_free(b);
	bool plist_signed = false;
	char plist_ident[1024];
	if (info == NULL && mb_detached_probe(path, c->o.bundle_version, &plist_signed, plist_ident,
					      sizeof(plist_ident)))
		was_signed = plist_signed; /* Info.plist only: _CodeSignature's files */
	if (was_signed && o.force)
		fprintf(stderr, "%s: replacing existing signature\n", cli_esc(path));
	char *sub = NULL;
	unsigned flags = (c->deep ? MSIGN_BUNDLE_DEEP : 0) |
			 (c->deep_ent ? MSIGN_BUNDLE_NESTED_ENTITLEMENTS : 0);
	int r = msign_sign_bundle_opts(path, &o, flags, &sub, &d);
	if (r != 0) {
		fprintf(stderr, "%s: %s\n", cli_esc(path),
			r == MSIGN_E_ALREADY_SIGNED ? "is already signed" : cli_esc(d.msg));
		if (sub != NULL)
			fprintf(stderr, "In subcomponent: %s\n", cli_esc(sub));
		free(sub);
		return 1;
	}
	free(sub);
	if (d.lost != 0) { /* written all the same: exit 0 */
		char what[128];
		msign_write_lost_text(d.lost, what, sizeof(what));
		fprintf(stderr, "%s: warning: could not keep the %s of some of its files\n",
			cli_esc(path), what);
	}
	if (c->verbose > 0 &&
	    msign_bundle_open_version(path, c->o.bundle_version, &b, &d) == 0) {
		const msign_info *fi = msign_bundle_executable_info(b, NULL);
		const msign_info_slice *s = fi != NULL
			? msign_info_slice_at(fi, msign_info_default_slice(fi)) : NULL;
		const msign_info_cd *cd = s != NULL ? msign_slice_chosen_cd(s) : NULL;
		if (fi == NULL)
			(void)mb_detached_probe(path, c->o.bundle_version, &plist_signed, plist_ident,
						sizeof(plist_ident));
		fprintf(stderr, "%s: signed %s [%s]\n", cli_esc(path),
			msign_bundle_format(b),
			cli_esc(cd != NULL ? msign_cd_identifier(cd)
				: fi == NULL ? plist_ident : ""));
		msign_bundle_free(b);
	}
	return 0;
}

static int sign_one(const char *path, struct sign_cli *c)
{
	if (msign_is_bundle(path))
		return sign_bundle_one(path, c);
	if (c->deep || c->ent_map != NULL || c->o.bundle_version != NULL) {
		fprintf(stderr, "%s: --deep, --entitlements-for and --bundle-version are for bundles (folders)\n",
			cli_esc(path));
		return EXIT_USAGE;
	}
	struct msign_diag d;
	msign_diag_clear(&d);
	struct msign_image *img = NULL;
	if (cli_open_image(path, &img) != 0)
		return 1;
	int r;
	char *format = msign_image_format(img);
	if (format == NULL) {
		msign_image_free(img);
		fprintf(stderr, "%s: out of memory\n", cli_esc(path));
		return 1;
	}
	bool any_signed = false;
	int only = c->o.arch ? msign_image_find_arch(img, c->o.arch) : -1;
	for (uint32_t i = 0; i < img->nslices; i++)
		if ((only < 0 || (uint32_t)only == i) && img->slices[i].err == 0)
			any_signed = any_signed || img->slices[i].has_codesig;
	struct msign_sign_opts o = c->o;
	o.file_name = path;
	msign_info *old = NULL;
	if ((c->preserve != 0 && sign_preserve(path, c, &o, &old) != 0) ||
	    (o.for_notarization && sign_notary(path, &o) != 0)) {
		msign_info_free(old);
		msign_image_free(img);
		free(format);
		return 1;
	}
	if (c->dry) {
		r = sign_dry(path, &o, img, &d);
		msign_info_free(old);
		msign_image_free(img);
		free(format);
		return r;
	}
	msign_image_free(img);
	if (any_signed && o.force)
		fprintf(stderr, "%s: replacing existing signature\n", cli_esc(path));
	static struct msign_sign_result res;
	r = msign_sign_run(path, c->output ? c->output : path, &o, &res, &d);
	msign_info_free(old);
	if (r != 0 || res.already_signed)
		free(format);
	if (res.already_signed) {
		fprintf(stderr, "%s: is already signed\n", cli_esc(path));
		return 1;
	}
	if (r != 0) {
		fprintf(stderr, "%s: %s\n", cli_esc(path), cli_esc(d.msg));
		return 1;
	}
	if (d.lost != 0) { /* written all the same: exit 0 */
		char what[128];
		msign_write_lost_text(d.lost, what, sizeof(what));
		fprintf(stderr, "%s: warning: could not keep its %s\n",
			c->output ? c->output : path, what);
	}
	if (c->verbose > 0)
		fprintf(stderr, "%s: signed %s [%s]\n",
			cli_esc(c->output ? c->output : path), format,
			cli_esc(res.identifier));
	free(format);
	return 0;
}

/* -r REQ as codesign takes it: "=TEXT", or a file holding the text or a
 * compiled requirement set (magic 0xfade0c01). The set goes into the
 * signature as it is; a file's set is decompiled first, so a damaged one
 * is refused here. */
static int sign_requirements(const char *arg, struct sign_cli *c)
{
	struct msign_diag d;
	msign_diag_clear(&d);
	const char *what = arg;
	char *text = NULL;
	size_t len;
	int r;
	uint8_t *blob = NULL;
	size_t blob_len = 0;
	if (arg[0] == '=') {
		r = msign_reqset_compile(arg + 1, strlen(arg + 1), 0, &blob, &blob_len, &d);
		what = "-r";
	} else if ((text = sign_read_file(arg, &len)) == NULL) {
		fprintf(stderr, "%s: %s\n", cli_esc(arg), strerror(errno));
		return -1;
	} else if (len >= 4 && (uint8_t)text[0] == 0xfa && (uint8_t)text[1] == 0xde &&
		   (uint8_t)text[2] == 0x0c) {
		char *dump = NULL;
		uint32_t n;
		bool dr;
		r = (uint8_t)text[3] != 0x01
			? msign_diag_set(&d, MSIGN_E_BAD_MAGIC, 0,
					 "a single requirement, not a requirement set (compile it with \"designated => \" in front)")
			: msign_reqset_decompile((const uint8_t *)text, len, &dump, &n, &dr, &d);
		free(dump);
		if (r == 0) {
			blob = (uint8_t *)text;
			blob_len = len;
			text = NULL;
		}
	} else {
		r = msign_reqset_compile(text, len, 0, &blob, &blob_len, &d);
	}
	free(text);
	if (r != 0) {
		fprintf(stderr, "msign sign: %s: %s\n", cli_esc(what), cli_esc(d.msg));
		return -1;
	}
	c->o.requirements = blob; /* freed with the entitlements, at cmd_sign's end */
	c->o.requirements_len = blob_len;
	return 0;
}

static int sign_parse(int argc, char **argv, struct sign_cli *c,
		      const char **identity, int *done)
{
	enum { OPT_ENT = 256, OPT_DIGEST, OPT_LINKER, OPT_OUTPUT, OPT_PAGE,
	       OPT_PREFIX, OPT_KEY, OPT_CERT, OPT_CHAIN, OPT_P12, OPT_P12_PW,
	       OPT_TIME, OPT_TSA, OPT_PW_ARGV, OPT_P11, OPT_P11_MOD, OPT_P11_PIN,
	       OPT_PIN_ARGV, OPT_PRESERVE, OPT_NOTARY, OPT_DEEP, OPT_ENT_MAP, OPT_DEEP_ENT,
	       OPT_BUNDLE_VERSION };
	const char *req_arg = NULL;
	static const struct option longopts[] = {
		{ "sign", required_argument, NULL, 's' },
		{ "identifier", required_argument, NULL, 'i' },
		{ "prefix", required_argument, NULL, OPT_PREFIX },
		{ "entitlements", required_argument, NULL, OPT_ENT },
		{ "requirements", required_argument, NULL, 'r' },
		{ "options", required_argument, NULL, 'o' },
		{ "digest", required_argument, NULL, OPT_DIGEST },
		{ "digest-algorithm", required_argument, NULL, OPT_DIGEST },
		{ "linker-signed", no_argument, NULL, OPT_LINKER },
		{ "force", no_argument, NULL, 'f' },
		{ "arch", required_argument, NULL, 'a' },
		{ "architecture", required_argument, NULL, 'a' },
		{ "output", required_argument, NULL, OPT_OUTPUT },
		{ "page-size", required_argument, NULL, OPT_PAGE },
		{ "jobs", required_argument, NULL, 'j' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "key", required_argument, NULL, OPT_KEY },
		{ "cert", required_argument, NULL, OPT_CERT },
		{ "chain", required_argument, NULL, OPT_CHAIN },
		{ "p12", required_argument, NULL, OPT_P12 },
		{ "p12-password-file", required_argument, NULL, OPT_P12_PW },
		{ "signing-time", required_argument, NULL, OPT_TIME },
		{ "timestamp", optional_argument, NULL, OPT_TSA },
		{ "preserve-metadata", required_argument, NULL, OPT_PRESERVE },
		{ "for-notarization", no_argument, NULL, OPT_NOTARY },
		{ "deep", no_argument, NULL, OPT_DEEP },
		{ "entitlements-for", required_argument, NULL, OPT_ENT_MAP },
		{ "deep-entitlements", no_argument, NULL, OPT_DEEP_ENT },
		{ "bundle-version", required_argument, NULL, OPT_BUNDLE_VERSION },
		/* spelled out so that getopt does not take it for an
		 * abbreviation of --p12-password-file, and refused */
		{ "p12-password", required_argument, NULL, OPT_PW_ARGV },
		{ "pkcs11", required_argument, NULL, OPT_P11 },
		{ "pkcs11-module", required_argument, NULL, OPT_P11_MOD },
		{ "pkcs11-pin-file", required_argument, NULL, OPT_P11_PIN },
		{ "pkcs11-pin", required_argument, NULL, OPT_PIN_ARGV },
		{ NULL, 0, NULL, 0 },
	};
	const char *ent_path = NULL;
	int ch;
	optind = 1;
	opterr = 0;
	*done = -1;
	while ((ch = getopt_long(argc, argv, "s:i:o:fa:j:nvhr:", longopts, NULL)) != -1) {
		const char *bad = NULL;
		switch (ch) {
		case 's': *identity = optarg; break;
		case 'i': c->o.identifier = optarg; break;
		case OPT_PREFIX: c->o.prefix = optarg; break;
		case OPT_ENT: ent_path = optarg; break;
		case 'r': req_arg = optarg; break;
		case 'o':
			if (sign_flag_names(optarg, &c->o.cd_flags) != 0)
				bad = "-o takes runtime,library,kill,hard,... or a number";
			c->flags_given = true;
			break;
		case OPT_PRESERVE:
			if (sign_preserve_names(optarg, &c->preserve) != 0)
				bad = "--preserve-metadata takes identifier,entitlements,requirements,flags,runtime";
			break;
		case OPT_NOTARY: c->o.for_notarization = true; break;
		case OPT_DEEP: c->deep = true; break;
		case OPT_ENT_MAP: c->ent_map = optarg; break;
		case OPT_DEEP_ENT: c->deep_ent = true; break;
		case OPT_BUNDLE_VERSION: c->o.bundle_version = optarg; break;
		case OPT_DIGEST:
			if (sign_digests(optarg, &c->o.hash_types) != 0)
				bad = "--digest takes sha1, sha256 or sha384, comma-separated";
			break;
		case OPT_LINKER: c->o.linker_signed = true; break;
		case 'f': c->o.force = true; break;
		case 'a': c->o.arch = optarg; break;
		case OPT_OUTPUT: c->output = optarg; break;
		case OPT_PAGE:
			if (sign_number(optarg, 512, 1u << 24, &c->o.page_size) != 0 ||
			    (c->o.page_size & (c->o.page_size - 1)) != 0)
				bad = "--page-size takes a power of two from 512 to 16777216";
			break;
		case 'j': {
			uint32_t n = 0;
			if (sign_number(optarg, 1, 256, &n) != 0)
				bad = "-j takes 1 to 256";
			c->o.threads = n;
			break;
		}
		case 'n': c->dry = true; break;
		case 'v': c->verbose++; break;
		case OPT_KEY: c->src.key_path = optarg; break;
		case OPT_CERT: c->src.cert_path = optarg; break;
		case OPT_CHAIN: c->src.chain_path = optarg; break;
		case OPT_P12: c->src.p12_path = optarg; break;
		case OPT_P12_PW: c->p12_password_file = optarg; break;
		case OPT_PW_ARGV:
			bad = "a password is never taken from the command line (--p12-password-file FILE or MSIGN_P12_PASSWORD)";
			break;
		case OPT_P11:
			c->src.pkcs11_uri = optarg;
			if (strncasecmp(optarg, "pkcs11:", 7) != 0)
				bad = "--pkcs11 takes a PKCS#11 URI (pkcs11:token=...;object=...)";
			else if (strcasestr(optarg, "pin-value") != NULL)
				bad = PIN_ARGV;
			break;
		case OPT_P11_MOD: c->src.pkcs11_module = optarg; break;
		case OPT_P11_PIN: c->pin_file = optarg; break;
		case OPT_PIN_ARGV: bad = PIN_ARGV; break;
		case OPT_TIME:
			if (sign_time(optarg, &c->o.signing_time) != 0)
				bad = "--signing-time takes YYYY-MM-DDTHH:MM:SSZ (UTC) or none";
			break;
		case OPT_TSA:
			c->timestamp = optarg == NULL || strcmp(optarg, "none") != 0;
			c->tsa.url = optarg != NULL && c->timestamp ? optarg : NULL;
			break;
		case 'h': sign_usage(stdout); *done = 0; return 0;
		default:
			fprintf(stderr, "msign sign: invalid option '%s'\n",
				cli_esc(argv[optind - 1]));
			sign_usage(stderr);
			*done = EXIT_USAGE;
			return 0;
		}
		if (bad != NULL) {
			fprintf(stderr, "msign sign: %s\n", bad);
			*done = EXIT_USAGE;
			return 0;
		}
	}
	/* They would go into the CodeDirectory and forge lines in the output
	 * of every tool that prints it. */
	const char *badname = c->o.identifier && cli_has_control(c->o.identifier)
		? "-i" : c->o.prefix && cli_has_control(c->o.prefix) ? "--prefix" : NULL;
	if (badname != NULL) {
		fprintf(stderr, "msign sign: %s takes no control characters\n", badname);
		*done = EXIT_USAGE;
		return 0;
	}
	if (ent_path != NULL) {
		size_t len = 0;
		char *xml = sign_read_file(ent_path, &len);
		if (xml == NULL) {
			fprintf(stderr, "%s: %s\n", cli_esc(ent_path), strerror(errno));
			*done = 1;
			return 0;
		}
		c->o.ent_xml = xml;
		c->o.ent_len = len;
	}
	if (req_arg != NULL && sign_requirements(req_arg, c) != 0) {
		*done = 1;
		return 0;
	}
	return optind;
}

int cmd_sign(int argc, char **argv)
{
	struct sign_cli c;
	memset(&c, 0, sizeof(c));
	c.o.signing_time = MSIGN_SIGN_TIME_NOW;
	struct msign_sign_identity *id = NULL;
	const char *identity = NULL;
	int done;
	int first = sign_parse(argc, argv, &c, &identity, &done);
	int rc = done;
	if (done >= 0)
		goto out;
	rc = EXIT_USAGE;
	if (identity == NULL || first >= argc ||
	    (c.output != NULL && argc - first != 1)) {
		if (c.output != NULL && argc - first > 1)
			fprintf(stderr, "msign sign: --output takes one FILE\n");
		sign_usage(stderr);
		goto out;
	}
	bool adhoc = strcmp(identity, "-") == 0;
	bool cert_opts = c.src.key_path || c.src.cert_path || c.src.chain_path ||
			 c.src.p12_path || c.p12_password_file || c.timestamp ||
			 c.src.pkcs11_uri || c.src.pkcs11_module || c.pin_file;
	if (adhoc && cert_opts) {
		fprintf(stderr, "msign sign: -s - is ad hoc: no key, certificate or timestamp\n");
		goto out;
	}
	if (c.o.linker_signed && !adhoc) {
		fprintf(stderr, "msign sign: --linker-signed is ad hoc (-s -)\n");
		goto out;
	}
	if (c.o.linker_signed && (c.o.ent_xml != NULL || c.o.cd_flags != 0 ||
				  c.o.requirements != NULL)) {
		fprintf(stderr, "msign sign: --linker-signed takes no entitlements, requirements or -o flags\n");
		goto out;
	}
	if (!adhoc && c.src.pkcs11_uri != NULL &&
	    (c.src.key_path != NULL || c.src.p12_path != NULL)) {
		fprintf(stderr, "msign sign: --pkcs11, --key or --p12: one of them\n");
		goto out;
	}
	if (!adhoc && c.src.p12_path == NULL && c.src.pkcs11_uri == NULL &&
	    (c.src.key_path == NULL || c.src.cert_path == NULL)) {
		fprintf(stderr, "msign sign: -s IDENTITY needs --key and --cert, --p12 or --pkcs11\n");
		goto out;
	}
	if (!adhoc && c.src.p12_path != NULL &&
	    (c.src.key_path != NULL || c.src.cert_path != NULL)) {
		fprintf(stderr, "msign sign: --p12, or --key and --cert, not both\n");
		goto out;
	}
	if (!adhoc && sign_load_identity(&c, identity, &id) != 0) {
		rc = 1;
		goto out;
	}
	if (c.ent_map != NULL && sign_ent_map(&c) != 0) {
		rc = 1;
		goto out;
	}
	rc = 0;
	for (int i = first; i < argc; i++)
		rc |= sign_one(argv[i], &c);
out:
	for (uint32_t i = 0; i < c.nnested_buf; i++)
		free(c.nested_buf[i]);
	free((char *)c.o.ent_xml);
	free((uint8_t *)c.o.requirements);
	msign_identity_free(id);
	sign_wipe(&c.password);
	sign_wipe(&c.pin);
	return rc;
}
