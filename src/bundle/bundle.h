/* msign: bundles (../shared/spec/bundles.md): classification, resource
 * rules, the directory walk, seals, CodeResources read and written as
 * CoreFoundation writes it, and the resource check of verify.
 *
 * Internal to libmsign (hidden symbols). Prefix mb_. Everything here takes
 * a struct msign_diag *d (may be NULL) and returns 0 or a negative
 * MSIGN_E_*; nothing prints. Paths inside a bundle are relative to the
 * seal root, '/'-separated, without "./", exactly the bytes the file
 * system returned. */
#ifndef MSIGN_BUNDLE_BUNDLE_H
#define MSIGN_BUNDLE_BUNDLE_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "msign/err.h"

/* ---- limits (hostile trees) ---------------------------------------------- */
#define MB_MAX_DEPTH 128            /* directory levels below the seal root */
#define MB_MAX_ENTRIES 1000000u     /* items walked, seals in one list */
#define MB_MAX_PATH 4096            /* bytes of a relative path */
#define MB_MAX_CR_SIZE (64u << 20)  /* bytes of a CodeResources file read */
#define MB_MAX_RULES 4096u          /* rules in one dictionary */
#define MB_MAX_HASH_TYPES 4         /* hash, hash2, hash3, hash4 */

/* ---- resource rules (spec 2.2, 2.3) -------------------------------------- */
#define MB_RULE_OMIT 1u
#define MB_RULE_OPTIONAL 2u
#define MB_RULE_NESTED 4u

struct mb_rule {
	char *pattern;   /* the key, as written (a POSIX extended regex) */
	uint32_t flags;  /* MB_RULE_* */
	double weight;   /* 1 when the rule has none */
	bool bare_true;  /* the value is <true/> (written so) */
	bool bare_false; /* the value is <false/> (omit) */
	bool has_weight; /* a weight key is written */
	bool compiled;
	regex_t re;      /* REG_EXTENDED | REG_NOSUB */
};

struct mb_rules {
	struct mb_rule *v;
	size_t n;
};

/* The templates a signer writes (spec 2.2): MB_TPL_A (a resources
 * directory: macOS deep bundles and frameworks) or MB_TPL_B (shallow),
 * version 1 ("rules") or 2 ("rules2"). Compiled. */
enum mb_template { MB_TPL_A, MB_TPL_B };
int mb_rules_template(struct mb_rules *r, enum mb_template t, int version,
		      struct msign_diag *d);
/* Compile every pattern (a bad regex: MSIGN_E_INVALID naming it). */
int mb_rules_compile(struct mb_rules *r, struct msign_diag *d);
void mb_rules_free(struct mb_rules *r);

/* Exclusions applied before the rules (spec 2.2, adjustResources):
 * ^_CodeSignature$, ^CodeResources$, ^_MASReceipt$ and the main
 * executable's path (regex-escaped; NULL: none). */
struct mb_exclusions {
	regex_t re[4];
	size_t n;
};
int mb_exclusions_init(struct mb_exclusions *x, const char *main_exec_rel,
		       struct msign_diag *d);
void mb_exclusions_free(struct mb_exclusions *x);

enum mb_match { MB_MATCH_NONE, MB_MATCH_EXCLUDED, MB_MATCH_RULE };
/* The best rule for path (spec 2.3: highest weight; on equal weight an
 * omit rule wins, else the first). *best is set for MB_MATCH_RULE. */
enum mb_match mb_match(const struct mb_exclusions *x, const struct mb_rules *r,
		       const char *path, const struct mb_rule **best);

/* ---- seals (spec 2.5) ----------------------------------------------------- */
enum mb_seal_kind { MB_SEAL_FILE, MB_SEAL_SYMLINK, MB_SEAL_NESTED };

struct mb_seal {
	char *path;
	enum mb_seal_kind kind;
	bool optional;
	/* v1 dictionaries always write optional (true or false); v2 writes it
	 * only when true. bare: the value is a lone <data> (v1 file without
	 * flags; v2 {hash} alone and not optional). */
	bool bare;
	/* MB_SEAL_FILE: digests by CS hash type (1 SHA-1 "hash", 2 SHA-256
	 * "hash2", 3 "hash3", 4 SHA-384 "hash4"); bit (1 << type) in mask. */
	uint32_t hash_mask;
	uint8_t hash[MB_MAX_HASH_TYPES + 1][48];
	/* MB_SEAL_SYMLINK */
	char *symlink;
	/* MB_SEAL_NESTED */
	uint8_t cdhash[20];
	bool has_cdhash;
	char *requirement;
};

struct mb_seals {
	struct mb_seal *v; /* sorted by path as CFStringCompare (UTF-16) */
	size_t n, cap;
};

/* CodeResources: which of the four top-level keys exist, and their content.
 * Unknown keys in the file are ignored by the reader. */
struct mb_resources {
	bool has_files, has_files2, has_rules, has_rules2;
	struct mb_seals files, files2;
	struct mb_rules rules, rules2;
};

void mb_resources_free(struct mb_resources *cr);
/* Sort a list as CoreFoundation sorts dictionary keys (UTF-16 code units;
 * invalid UTF-8 sorts by bytes after valid), dropping nothing. */
void mb_seals_sort(struct mb_seals *s);
/* UTF-16 order of two UTF-8 strings (<0, 0, >0). */
int mb_cfstring_compare(const char *a, const char *b);

/* The XML plist, byte for byte as CFPropertyListCreateData (spec 2.6):
 * *out malloc'd. Keys present as has_* say, rules as the structs hold
 * them (bare_true, has_weight ...). */
int mb_cr_write(const struct mb_resources *cr, uint8_t **out, size_t *len,
		struct msign_diag *d);
/* Parse a CodeResources file (XML or binary plist, at most MB_MAX_CR_SIZE):
 * MSIGN_E_PLIST when it is not a dictionary; a rules/files key of the
 * wrong type leaves has_* false. Seals of an unknown shape are kept as
 * MB_SEAL_FILE with hash_mask 0 (verify reports them modified). Rules
 * compiled (a bad regex: MSIGN_E_INVALID). */
int mb_cr_parse(const uint8_t *data, size_t len, struct mb_resources *cr,
		struct msign_diag *d);

/* ---- the bundle (spec 1) -------------------------------------------------- */
enum mb_kind { MB_KIND_DEEP, MB_KIND_VERSIONED, MB_KIND_SHALLOW };

struct mb_bundle {
	enum mb_kind kind;
	char *path;          /* as given, no trailing '/' */
	char *seal_root;     /* path of the seal root: path, path/Contents,
			      * path/Versions/<real version> */
	char *shown_root;    /* the seal root as codesign names nested code in
			      * --prepared:, --validated: and In subcomponent:
			      * lines: path/Versions/Current for a versioned
			      * bundle found through Current, else seal_root */
	int root_fd;         /* O_DIRECTORY descriptor of the seal root */
	char *info_rel;      /* "Info.plist", "Resources/Info.plist"; NULL: none */
	char *exec_rel;      /* "MacOS/x", "x"; NULL: Info.plist-only bundle */
	bool has_resources_dir; /* template A, else B */
	/* Info.plist: its bytes (slot -1) and facts */
	uint8_t *info;
	size_t info_len;
	uint32_t info_entries;  /* top-level keys */
	char *bundle_id;        /* CFBundleIdentifier, NULL when none */
	char *bundle_name;      /* CFBundleName */
	char *package_type;     /* CFBundlePackageType */
	/* For the strict structure checks (spec 4 step 3, 5): */
	int top_fd;          /* O_DIRECTORY descriptor of path itself */
	char *version;       /* versioned: the version directory's name */
	bool info_regular;   /* Info.plist is a regular file, not a symlink */
	bool exec_regular;   /* the main executable likewise */
};

/* Classify and open path (a directory). version: a framework's version
 * ("A"; NULL: Versions/Current). MSIGN_E_UNSUPPORTED "bundle format
 * unrecognized, invalid, or unsuitable" when it is none of the kinds. */
int mb_bundle_open(const char *path, const char *version, struct mb_bundle *b,
		   struct msign_diag *d);
void mb_bundle_close(struct mb_bundle *b);
/* Default identifier (spec 3): CFBundleIdentifier, CFBundleName, the
 * directory name without its extension. */
const char *mb_bundle_default_identifier(const struct mb_bundle *b,
					 char *buf, size_t len);

/* ---- the walk and sealing (spec 2.4, 2.5) -------------------------------- */

/* What the caller computes for a nested item (a directory bundle or a
 * Mach-O file) at rel, opened from root_fd: its cdhash and designated
 * requirement text (*req malloc'd). MSIGN_E_NOT_SIGNED when it is not
 * signed (the sealer then fails with "code object is not signed at all",
 * d->msg naming rel). */
typedef int (*mb_nested_fn)(void *arg, int root_fd, const char *rel,
			    bool is_dir, uint8_t cdhash[20], char **req,
			    struct msign_diag *d);

struct mb_seal_opts {
	uint32_t hash_mask;     /* CS hash types of the signature being made */
	unsigned threads;       /* file hashing; 0: online CPUs */
	bool strict;            /* refuse fifos/sockets/devices, detritus */
	bool v1;                /* write files (and rules) */
	bool v2;                /* write files2 (and rules2) */
	mb_nested_fn nested;
	void *nested_arg;
};

/* Build the CodeResources content for b with the template of its kind:
 * walk with rules2 for files2, with rules for files. */
int mb_seal_build(const struct mb_bundle *b, const struct mb_seal_opts *o,
		  struct mb_resources *out, struct msign_diag *d);

/* ---- the resource check of verify (spec 4, step 2 and 3) ---------------- */

enum mb_problem_kind { MB_ADDED, MB_MODIFIED, MB_MISSING };
struct mb_problem {
	enum mb_problem_kind kind;
	char *path; /* relative to the seal root */
};

/* Verifying a nested entry: 0 when the item at rel satisfies req (and,
 * deep, verifies fully); MSIGN_E_VERIFY when it does not satisfy it (a
 * "file modified" problem); any other error aborts the check with
 * "In subcomponent: <path>" (d->msg set by the callback). */
typedef int (*mb_nested_check_fn)(void *arg, int root_fd, const char *rel,
				  bool is_dir, const char *req,
				  struct msign_diag *d);

struct mb_check_opts {
	uint32_t hash_mask;        /* hash types the signature has */
	bool strict;               /* obsolete envelopes, structure */
	bool restrict_symlinks;    /* --strict: symlink targets */
	bool restrict_sideband;    /* --strict: resource forks, FinderInfo */
	unsigned threads;
	mb_nested_check_fn nested;
	void *nested_arg;
};

struct mb_check {
	struct mb_problem *v; /* added, then modified, then missing */
	size_t n, cap;
	/* The first structural failure (obsolete envelope, unsealed root
	 * contents, bad symlink, ...): Apple's sentence, "" when none. */
	char error[256];
	char subcomponent[MB_MAX_PATH]; /* nested code that failed, or "" */
};
int mb_check_resources(const struct mb_bundle *b,
		       const struct mb_resources *cr,
		       const struct mb_check_opts *o, struct mb_check *out,
		       struct msign_diag *d);
void mb_check_free(struct mb_check *c);

#endif
