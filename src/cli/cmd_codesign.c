/* msign codesign: Apple's codesign command line, for the build systems
 * that call `codesign` by name (msign run through a link named codesign,
 * or `msign codesign ARGS`). Nothing is signed, shown or checked here:
 * each file's operation becomes an argv for msign's own sign, verify,
 * show or strip, so the bytes written and the lines printed are those
 * commands' own. What is codesign's here: the option syntax (-v is the
 * verify operation or more verbosity), the streams (display on stderr,
 * -r- and --entitlements - on stdout), stopping at the first failing file
 * unless --continue, and exit codes 0, 1, 2 (usage), 3. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "msign/bundle.h"

#define CS_PREFIX "msign codesign: "
/* The most options a translated argv holds besides the file. */
#define CS_MAX_ARGS 48

enum cs_op { OP_NONE, OP_SIGN, OP_VERIFY, OP_DISPLAY, OP_REMOVE };

struct cs_cli {
	enum cs_op op;
	int vcount;            /* -v and --verify: codesign's one option */
	int verbose_set;       /* --verbose=N, else -1 */
	int verbose_add;       /* bare --verbose */
	const char *identity;
	const char *ident, *prefix, *flags, *reqs, *ent, *arch, *preserve;
	const char *test_req;  /* -R */
	const char *digest, *page_size, *keychain;
	const char *tsa_url;   /* --timestamp=URL */
	bool timestamp, timestamp_none, force, dry, strict, cont, der, all_archs, deep;
	const char *bundle_version; /* --bundle-version: bundles only */
	/* msign's own, passed through: where a certificate identity is */
	const char *key, *cert, *chain, *p12, *p12_pw_file, *signing_time;
};

/* An argv being built, and the strings it owns. */
struct cs_argv {
	char *v[CS_MAX_ARGS + 2];
	int n;
};

static void cs_usage(FILE *out)
{
	fprintf(out,
		"usage: codesign -s IDENTITY [-f] [-v...] [-i ID] [-o FLAGS] [-r REQS] [--deep]\n"
		"                [--entitlements FILE] [--timestamp[=URL]|--timestamp=none] FILE...\n"
		"       codesign -v [-v...] [--strict] [--deep] [-a ARCH] FILE...\n"
		"       codesign -d [-v...] [-r-] [--entitlements -] [-a ARCH] FILE...\n"
		"       codesign --remove-signature [-a ARCH] FILE...\n"
		"msign runs these as its sign, verify, show and strip commands. A\n"
		"certificate IDENTITY comes from --key KEY --cert CERT [--chain CHAIN] or\n"
		"--p12 FILE [--p12-password-file FILE], else from MSIGN_KEY, MSIGN_CERT,\n"
		"MSIGN_CHAIN or MSIGN_P12; no keychain is read. See 'man msign' (CODESIGN).\n");
}

static void cs_add(struct cs_argv *a, const char *s)
{
	/* every caller adds at most CS_MAX_ARGS options: a bug otherwise */
	if (a->n >= CS_MAX_ARGS + 1)
		abort();
	a->v[a->n++] = (char *)s;
	a->v[a->n] = NULL;
}

static void cs_add2(struct cs_argv *a, const char *opt, const char *val)
{
	if (val != NULL) {
		cs_add(a, opt);
		cs_add(a, val);
	}
}

static int cs_verbose(const struct cs_cli *c)
{
	/* -v named the operation when verify is the operation */
	int base = c->op == OP_VERIFY ? c->vcount - 1 : c->vcount;
	int v = c->verbose_set >= 0 ? c->verbose_set : base + c->verbose_add;
	return v < 0 ? 0 : v > 6 ? 6 : v;
}

/* Run fn with stdout on fd target (stderr, or /dev/null), then put it back. */
static int cs_run_redirected(int (*fn)(int, char **), struct cs_argv *a,
			     int target)
{
	fflush(stdout);
	int saved = dup(STDOUT_FILENO);
	if (saved < 0 || dup2(target, STDOUT_FILENO) < 0) {
		fprintf(stderr, CS_PREFIX "%s\n", strerror(errno));
		if (saved >= 0)
			close(saved);
		return 1;
	}
	int rc = fn(a->n, a->v);
	fflush(stdout);
	dup2(saved, STDOUT_FILENO);
	close(saved);
	return rc;
}

/* A temporary file show writes -r- or --entitlements - into, copied to
 * stdout after it (stdout is stderr while show runs). */
struct cs_tmp {
	char path[4096];
	bool made;
};

static int cs_tmp_make(struct cs_tmp *t)
{
	const char *dir = getenv("TMPDIR");
	if (dir == NULL || *dir == '\0')
		dir = "/tmp";
	snprintf(t->path, sizeof(t->path), "%s/msign-codesign-XXXXXX", dir);
	int fd = mkstemp(t->path);
	if (fd < 0) {
		fprintf(stderr, CS_PREFIX "%s: %s\n", cli_esc(t->path), strerror(errno));
		return -1;
	}
	close(fd);
	t->made = true;
	return 0;
}

static void cs_tmp_copy(const struct cs_tmp *t)
{
	FILE *fp = fopen(t->path, "rb");
	if (fp == NULL)
		return;
	char buf[65536];
	size_t n;
	while ((n = fread(buf, 1, sizeof(buf), fp)) > 0)
		fwrite(buf, 1, n, stdout);
	fclose(fp);
	fp = fopen(t->path, "wb"); /* empty for the next file */
	if (fp != NULL)
		fclose(fp);
}

static bool cs_is_stdout(const char *dest)
{
	return strcmp(dest, "-") == 0 || strcmp(dest, ":-") == 0;
}

static int cs_display(const struct cs_cli *c, const char *file,
		      struct cs_tmp *req_tmp, struct cs_tmp *ent_tmp)
{
	char vbuf[16];
	struct cs_argv a = { .n = 0 };
	snprintf(vbuf, sizeof(vbuf), "--verbose=%d", cs_verbose(c));
	cs_add(&a, "show");
	cs_add(&a, vbuf);
	cs_add2(&a, "--arch", c->arch);
	if (c->deep)
		cs_add(&a, "--deep");
	if (msign_is_bundle(file))
		cs_add2(&a, "--bundle-version", c->bundle_version);
	if (c->reqs != NULL)
		cs_add2(&a, "-r", cs_is_stdout(c->reqs) ? req_tmp->path : c->reqs);
	/* ":" asks codesign for the plist without the blob header, which is
	 * what show writes anyway */
	if (c->ent != NULL)
		cs_add2(&a, "--entitlements", cs_is_stdout(c->ent) ? ent_tmp->path
				: c->ent[0] == ':' ? c->ent + 1 : c->ent);
	cs_add(&a, "--");
	cs_add(&a, file);
	int rc = cs_run_redirected(cmd_show, &a, STDERR_FILENO);
	if (req_tmp->made)
		cs_tmp_copy(req_tmp);
	if (ent_tmp->made)
		cs_tmp_copy(ent_tmp);
	cli_flush_stdout();
	return rc;
}

static int cs_verify(const struct cs_cli *c, const char *file)
{
	struct cs_argv a = { .n = 0 };
	static const char *const vs[] = { "-v", "-vv", "-vvv", "-vvvv",
					  "-vvvvv", "-vvvvvv" };
	int v = cs_verbose(c);
	cs_add(&a, "verify");
	if (v > 0)
		cs_add(&a, vs[v - 1]);
	if (c->strict)
		cs_add(&a, "--strict");
	if (c->deep && msign_is_bundle(file))
		cs_add(&a, "--deep");
	if (msign_is_bundle(file))
		cs_add2(&a, "--bundle-version", c->bundle_version);
	cs_add2(&a, "--arch", c->arch);
	cs_add2(&a, "-R", c->test_req);
	cs_add(&a, "--");
	cs_add(&a, file);
	return cmd_verify(a.n, a.v);
}

static int cs_remove(const struct cs_cli *c, const char *file)
{
	struct cs_argv a = { .n = 0 };
	cs_add(&a, "strip");
	cs_add2(&a, "--arch", c->arch);
	if (c->dry)
		cs_add(&a, "--dry-run");
	cs_add(&a, "--");
	cs_add(&a, file);
	if (!c->dry)
		return cmd_strip(a.n, a.v);
	/* --dryrun writes nothing and says nothing; strip -n's plan goes */
	int null = open("/dev/null", O_WRONLY);
	int rc = null < 0 ? 1 : cs_run_redirected(cmd_strip, &a, null);
	if (null >= 0)
		close(null);
	return rc;
}

/* The identity's files: msign's own options, else the environment. */
static int cs_identity(struct cs_cli *c)
{
	if (c->key == NULL && c->cert == NULL && c->p12 == NULL) {
		const char *env_key = getenv("MSIGN_KEY");
		const char *env_cert = getenv("MSIGN_CERT");
		const char *env_p12 = getenv("MSIGN_P12");
		if (env_p12 != NULL && *env_p12 != '\0') {
			c->p12 = env_p12;
		} else if (env_key != NULL && *env_key != '\0' &&
			   env_cert != NULL && *env_cert != '\0') {
			c->key = env_key;
			c->cert = env_cert;
			const char *env_chain = getenv("MSIGN_CHAIN");
			if (c->chain == NULL && env_chain != NULL && *env_chain != '\0')
				c->chain = env_chain;
		} else {
			fprintf(stderr, CS_PREFIX "-s %s: msign reads no keychain%s; give "
					"--key and --cert (or --p12), or set MSIGN_KEY and "
					"MSIGN_CERT (or MSIGN_P12)\n",
				cli_esc(c->identity), c->keychain ? " (--keychain)" : "");
			return -1;
		}
	}
	if (c->p12_pw_file == NULL) {
		const char *env = getenv("MSIGN_P12_PASSWORD_FILE");
		if (env != NULL && *env != '\0')
			c->p12_pw_file = env;
	}
	return 0;
}

static int cs_sign(const struct cs_cli *c, const char *file)
{
	struct cs_argv a = { .n = 0 };
	bool adhoc = strcmp(c->identity, "-") == 0;
	char tsa[4200];
	cs_add(&a, "sign");
	cs_add2(&a, "-s", c->identity);
	if (c->force)
		cs_add(&a, "-f");
	cs_add2(&a, "-i", c->ident);
	cs_add2(&a, "--prefix", c->prefix);
	cs_add2(&a, "-o", c->flags);
	cs_add2(&a, "-r", c->reqs);
	cs_add2(&a, "--entitlements", c->ent);
	cs_add2(&a, "--digest", c->digest);
	cs_add2(&a, "--arch", c->arch);
	cs_add2(&a, "--page-size", c->page_size);
	cs_add2(&a, "--preserve-metadata", c->preserve);
	if (c->dry)
		cs_add(&a, "-n");
	if (cs_verbose(c) > 0)
		cs_add(&a, "-v");
	/* codesign --deep signs nested code with the same options, the
	 * entitlements included */
	if (c->deep && msign_is_bundle(file)) {
		cs_add(&a, "--deep");
		if (c->ent != NULL)
			cs_add(&a, "--deep-entitlements");
	}
	if (msign_is_bundle(file))
		cs_add2(&a, "--bundle-version", c->bundle_version);
	/* An ad-hoc signature has no CMS to hold a timestamp, nor a signer
	 * whose keys or signing time would matter: codesign ignores them. */
	if (!adhoc) {
		cs_add2(&a, "--key", c->key);
		cs_add2(&a, "--cert", c->cert);
		cs_add2(&a, "--chain", c->chain);
		cs_add2(&a, "--p12", c->p12);
		cs_add2(&a, "--p12-password-file", c->p12_pw_file);
		const char *t = c->signing_time ? c->signing_time
						: getenv("MSIGN_SIGNING_TIME");
		if (t != NULL && *t != '\0')
			cs_add2(&a, "--signing-time", t);
		const char *url = c->tsa_url ? c->tsa_url : getenv("MSIGN_TIMESTAMP_URL");
		if (c->timestamp_none) {
			cs_add(&a, "--timestamp=none");
		} else if (c->timestamp && url != NULL && *url != '\0') {
			snprintf(tsa, sizeof(tsa), "--timestamp=%s", url);
			cs_add(&a, tsa);
		} else if (c->timestamp) {
			cs_add(&a, "--timestamp");
		}
	}
	cs_add(&a, "--");
	cs_add(&a, file);
	if (!c->dry)
		return cmd_sign(a.n, a.v);
	int null = open("/dev/null", O_WRONLY);
	int rc = null < 0 ? 1 : cs_run_redirected(cmd_sign, &a, null);
	if (null >= 0)
		close(null);
	return rc;
}

/* Options codesign has whose work msign cannot do yet. */
static int cs_unsupported(const char *opt, const char *why)
{
	fprintf(stderr, CS_PREFIX "%s is not supported yet%s%s\n", opt,
		why ? ": " : "", why ? why : "");
	return 1;
}

static int cs_set_op(struct cs_cli *c, enum cs_op op, const char *name)
{
	if (c->op != OP_NONE && c->op != op) {
		fprintf(stderr, CS_PREFIX "%s: only one operation (-s, -d, --remove-signature, -v) at a time\n",
			name);
		return -1;
	}
	c->op = op;
	return 0;
}

enum {
	O_REMOVE = 256, O_VERBOSE, O_PREFIX, O_ENT, O_XML, O_DER, O_GENDER,
	O_TSA, O_DEEP, O_STRICT, O_ALLARCH, O_PRESERVE, O_DRY, O_DIGEST,
	O_KEYCHAIN, O_CONTINUE, O_PAGESIZE, O_KEY, O_CERT, O_CHAIN, O_P12,
	O_P12PW, O_STIME, O_HELP,
	/* codesign's, refused (argument or not) */
	O_NO_ARG_REFUSED, O_ARG_REFUSED, O_BUNDLE_VERSION,
};

static const struct option cs_longopts[] = {
	{ "sign", required_argument, NULL, 's' },
	{ "force", no_argument, NULL, 'f' },
	{ "verify", no_argument, NULL, 'v' },
	{ "verbose", optional_argument, NULL, O_VERBOSE },
	{ "display", no_argument, NULL, 'd' },
	{ "remove-signature", no_argument, NULL, O_REMOVE },
	{ "options", required_argument, NULL, 'o' },
	{ "identifier", required_argument, NULL, 'i' },
	{ "prefix", required_argument, NULL, O_PREFIX },
	{ "requirements", required_argument, NULL, 'r' },
	{ "test-requirement", required_argument, NULL, 'R' },
	{ "entitlements", required_argument, NULL, O_ENT },
	{ "xml", no_argument, NULL, O_XML },
	{ "der", no_argument, NULL, O_DER },
	{ "generate-entitlement-der", no_argument, NULL, O_GENDER },
	{ "timestamp", optional_argument, NULL, O_TSA },
	{ "deep", no_argument, NULL, O_DEEP },
	{ "strict", optional_argument, NULL, O_STRICT },
	{ "architecture", required_argument, NULL, 'a' },
	{ "all-architectures", no_argument, NULL, O_ALLARCH },
	{ "preserve-metadata", required_argument, NULL, O_PRESERVE },
	{ "dryrun", no_argument, NULL, O_DRY },
	{ "digest-algorithm", required_argument, NULL, O_DIGEST },
	{ "keychain", required_argument, NULL, O_KEYCHAIN },
	{ "continue", no_argument, NULL, O_CONTINUE },
	{ "pagesize", required_argument, NULL, 'P' },
	{ "detached", required_argument, NULL, 'D' },
	{ "file-list", required_argument, NULL, O_ARG_REFUSED },
	{ "detached-database", no_argument, NULL, O_NO_ARG_REFUSED },
	{ "hosting", no_argument, NULL, 'h' },
	{ "check-notarization", no_argument, NULL, O_NO_ARG_REFUSED },
	{ "bundle-version", required_argument, NULL, O_BUNDLE_VERSION },
	{ "extract-certificates", optional_argument, NULL, O_NO_ARG_REFUSED },
	{ "runtime-version", required_argument, NULL, O_ARG_REFUSED },
	{ "launch-constraint-self", required_argument, NULL, O_ARG_REFUSED },
	{ "launch-constraint-parent", required_argument, NULL, O_ARG_REFUSED },
	{ "launch-constraint-responsible", required_argument, NULL, O_ARG_REFUSED },
	{ "library-constraint", required_argument, NULL, O_ARG_REFUSED },
	/* msign's own: a certificate identity's files, the signing time */
	{ "key", required_argument, NULL, O_KEY },
	{ "cert", required_argument, NULL, O_CERT },
	{ "chain", required_argument, NULL, O_CHAIN },
	{ "p12", required_argument, NULL, O_P12 },
	{ "p12-password-file", required_argument, NULL, O_P12PW },
	{ "signing-time", required_argument, NULL, O_STIME },
	{ "help", no_argument, NULL, O_HELP },
	{ NULL, 0, NULL, 0 },
};

/* Parse into c. Returns -1 to go on, else the exit status. */
static int cs_parse(int argc, char **argv, struct cs_cli *c)
{
	int ch, idx;
	optind = 1;
	opterr = 0;
	/* "+": options stop at the first FILE, as codesign's BSD getopt */
	while ((ch = getopt_long(argc, argv, "+s:fvdr:R:i:o:a:D:P:h", cs_longopts,
				 &idx)) != -1) {
		const char *opt = argv[optind - 1];
		switch (ch) {
		case 's':
			if (cs_set_op(c, OP_SIGN, "-s") != 0)
				return EXIT_USAGE;
			c->identity = optarg;
			break;
		case 'd':
			if (cs_set_op(c, OP_DISPLAY, "-d") != 0)
				return EXIT_USAGE;
			break;
		case O_REMOVE:
			if (cs_set_op(c, OP_REMOVE, "--remove-signature") != 0)
				return EXIT_USAGE;
			break;
		case 'v': c->vcount++; break;
		case O_VERBOSE:
			if (optarg == NULL) {
				c->verbose_add++;
			} else {
				char *end;
				long n = strtol(optarg, &end, 10);
				if (*optarg == '\0' || *end != '\0' || n < 0 || n > 99) {
					fprintf(stderr, CS_PREFIX "--verbose takes a number\n");
					return EXIT_USAGE;
				}
				c->verbose_set = (int)n;
			}
			break;
		case 'f': c->force = true; break;
		case 'o': c->flags = optarg; break;
		case 'i': c->ident = optarg; break;
		case O_PREFIX: c->prefix = optarg; break;
		case 'r': c->reqs = optarg; break;
		case 'R': c->test_req = optarg; break; /* verify's exit 3 is codesign's */
		case O_ENT: c->ent = optarg; break;
		case O_XML: break; /* what show prints */
		case O_DER: c->der = true; break;
		case O_GENDER: break; /* msign always embeds DER next to XML */
		case O_TSA:
			if (optarg != NULL && strcmp(optarg, "none") == 0) {
				c->timestamp_none = true;
				c->timestamp = false;
			} else {
				c->timestamp = true;
				c->timestamp_none = false;
				c->tsa_url = optarg;
			}
			break;
		case O_DEEP: c->deep = true; break; /* bundles; files hold none */
		case O_BUNDLE_VERSION: c->bundle_version = optarg; break;
		case O_STRICT: c->strict = true; break;
		case 'a': c->arch = optarg; break;
		case O_ALLARCH: c->all_archs = true; break;
		case O_PRESERVE: c->preserve = optarg; break;
		case O_DRY: c->dry = true; break;
		case O_DIGEST: c->digest = optarg; break;
		case O_KEYCHAIN: c->keychain = optarg; break;
		case O_CONTINUE: c->cont = true; break;
		case 'P': c->page_size = optarg; break;
		case O_KEY: c->key = optarg; break;
		case O_CERT: c->cert = optarg; break;
		case O_CHAIN: c->chain = optarg; break;
		case O_P12: c->p12 = optarg; break;
		case O_P12PW: c->p12_pw_file = optarg; break;
		case O_STIME: c->signing_time = optarg; break;
		case O_HELP: cs_usage(stdout); return 0;
		case 'D':
			return cs_unsupported("-D/--detached", "msign writes embedded signatures only");
		case 'h':
			return cs_unsupported("-h/--hosting", "it reads running processes");
		case O_NO_ARG_REFUSED:
		case O_ARG_REFUSED:
			fprintf(stderr, CS_PREFIX "--%s is not supported yet\n",
				cs_longopts[idx].name);
			return 1;
		default:
			if (optopt != 0 && strchr("srRioaDP", optopt) != NULL)
				fprintf(stderr, CS_PREFIX "-%c needs an argument\n", optopt);
			else
				fprintf(stderr, CS_PREFIX "unknown option '%s'\n", cli_esc(opt));
			cs_usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (c->op == OP_NONE && c->vcount > 0)
		c->op = OP_VERIFY;
	return -1;
}

/* What the operation cannot take: one line naming the option. */
static int cs_check(const struct cs_cli *c)
{
	if (c->op == OP_DISPLAY && c->der)
		return cs_unsupported("--der", "show prints entitlements as XML");
	/* verify checks every slice anyway; show displays one */
	if (c->op == OP_DISPLAY && c->all_archs)
		return cs_unsupported("--all-architectures with -d", "show displays one slice (-a)");
	return -1;
}

int cmd_codesign(int argc, char **argv)
{
	struct cs_cli c;
	memset(&c, 0, sizeof(c));
	c.verbose_set = -1;
	int rc = cs_parse(argc, argv, &c);
	if (rc >= 0)
		return rc;
	if (c.op == OP_NONE || optind >= argc) {
		cs_usage(stderr);
		return EXIT_USAGE;
	}
	if ((rc = cs_check(&c)) >= 0)
		return rc;
	if (c.op == OP_SIGN && strcmp(c.identity, "-") != 0 && cs_identity(&c) != 0)
		return 1;
	struct cs_tmp req_tmp = { .made = false }, ent_tmp = { .made = false };
	if (c.op == OP_DISPLAY &&
	    ((c.reqs != NULL && cs_is_stdout(c.reqs) && cs_tmp_make(&req_tmp) != 0) ||
	     (c.ent != NULL && cs_is_stdout(c.ent) && cs_tmp_make(&ent_tmp) != 0))) {
		if (req_tmp.made)
			unlink(req_tmp.path);
		return 1;
	}
	rc = 0;
	for (int i = optind; i < argc; i++) {
		int r = 0;
		switch (c.op) {
		case OP_SIGN: r = cs_sign(&c, argv[i]); break;
		case OP_VERIFY: r = cs_verify(&c, argv[i]); break;
		case OP_DISPLAY: r = cs_display(&c, argv[i], &req_tmp, &ent_tmp); break;
		case OP_REMOVE: r = cs_remove(&c, argv[i]); break;
		case OP_NONE: break;
		}
		/* the most severe status (codesign: 3 over 1, usage over both) */
		if (r == EXIT_USAGE || (rc != EXIT_USAGE && r > rc))
			rc = r;
		/* codesign stops at the first failure unless --continue */
		if (r != 0 && (!c.cont || r == EXIT_USAGE))
			break;
	}
	if (req_tmp.made)
		unlink(req_tmp.path);
	if (ent_tmp.made)
		unlink(ent_tmp.path);
	return rc;
}
