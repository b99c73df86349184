/* msign: resource rules (spec bundles.md 2.2, 2.3): the default templates,
 * the exclusions applied before them, and the choice of the best rule.
 *
 * Matching uses POSIX regcomp/regexec, as Security does: REG_EXTENDED |
 * REG_NOSUB, no REG_NEWLINE, so '.' matches a newline and '$' is the end
 * of the string. The library never calls setlocale: in the C locale (the
 * default of every program that does not call it) regexec sees bytes, so
 * a name that is not valid UTF-8 matches byte-wise ('.' matches any byte
 * but NUL). A program that sets a UTF-8 locale itself gets glibc's
 * multibyte matching, where '.' and bracket expressions do not match a
 * byte that starts no valid character: such a path may then match fewer
 * rules (`^.*` still matches, being satisfied by the empty prefix). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/diag.h"
#include "bundle/bundle.h"

/* ---- templates ------------------------------------------------------------ */

struct tpl_rule {
	const char *pattern;
	uint32_t flags;
	double weight;    /* 0: none written (the rule weighs 1) */
	bool bare_true;   /* <true/> */
};

/* Spec 2.2 A: a bundle with a resources directory. */
static const struct tpl_rule tpl_a1[] = {
	{ "^Resources/", 0, 0, true },
	{ "^Resources/.*\\.lproj/", MB_RULE_OPTIONAL, 1000, false },
	{ "^Resources/.*\\.lproj/locversion.plist$", MB_RULE_OMIT, 1100, false },
	{ "^Resources/Base\\.lproj/", 0, 1010, false },
	{ "^version.plist$", 0, 0, true },
};

static const struct tpl_rule tpl_a2[] = {
	{ ".*\\.dSYM($|/)", 0, 11, false },
	{ "^(.*/)?\\.DS_Store$", MB_RULE_OMIT, 2000, false },
	{ "^(Frameworks|SharedFrameworks|PlugIns|Plug-ins|XPCServices|Helpers|MacOS"
	  "|Library/(Automator|Spotlight|LoginItems))/", MB_RULE_NESTED, 10, false },
	{ "^.*", 0, 0, true },
	{ "^Info\\.plist$", MB_RULE_OMIT, 20, false },
	{ "^PkgInfo$", MB_RULE_OMIT, 20, false },
	{ "^Resources/", 0, 20, false },
	{ "^Resources/.*\\.lproj/", MB_RULE_OPTIONAL, 1000, false },
	{ "^Resources/.*\\.lproj/locversion.plist$", MB_RULE_OMIT, 1100, false },
	{ "^Resources/Base\\.lproj/", 0, 1010, false },
	{ "^[^/]+$", MB_RULE_NESTED, 10, false },
	{ "^embedded\\.provisionprofile$", 0, 20, false },
	{ "^version\\.plist$", 0, 20, false },
};

/* Spec 2.2 B: a shallow bundle, current codesign (no nested rule). */
static const struct tpl_rule tpl_b1[] = {
	{ "^.*", 0, 0, true },
	{ "^.*\\.lproj/", MB_RULE_OPTIONAL, 1000, false },
	{ "^.*\\.lproj/locversion.plist$", MB_RULE_OMIT, 1100, false },
	{ "^Base\\.lproj/", 0, 1010, false },
	{ "^version.plist$", 0, 0, true },
};

static const struct tpl_rule tpl_b2[] = {
	{ ".*\\.dSYM($|/)", 0, 11, false },
	{ "^(.*/)?\\.DS_Store$", MB_RULE_OMIT, 2000, false },
	{ "^.*", 0, 0, true },
	{ "^.*\\.lproj/", MB_RULE_OPTIONAL, 1000, false },
	{ "^.*\\.lproj/locversion.plist$", MB_RULE_OMIT, 1100, false },
	{ "^Base\\.lproj/", 0, 1010, false },
	{ "^Info\\.plist$", MB_RULE_OMIT, 20, false },
	{ "^PkgInfo$", MB_RULE_OMIT, 20, false },
	{ "^embedded\\.provisionprofile$", 0, 20, false },
	{ "^version\\.plist$", 0, 20, false },
};

#define TPL_N(a) (sizeof(a) / sizeof((a)[0]))

int mb_rules_template(struct mb_rules *r, enum mb_template t, int version,
		      struct msign_diag *d)
{
	const struct tpl_rule *src;
	size_t n;

	if (r == NULL)
		return msign_diag_set(d, MSIGN_E_ARG, 0, "mb_rules_template: NULL rules");
	r->v = NULL;
	r->n = 0;
	if (t == MB_TPL_A && version == 1) {
		src = tpl_a1;
		n = TPL_N(tpl_a1);
	} else if (t == MB_TPL_A && version == 2) {
		src = tpl_a2;
		n = TPL_N(tpl_a2);
	} else if (t == MB_TPL_B && version == 1) {
		src = tpl_b1;
		n = TPL_N(tpl_b1);
	} else if (t == MB_TPL_B && version == 2) {
		src = tpl_b2;
		n = TPL_N(tpl_b2);
	} else {
		return msign_diag_set(d, MSIGN_E_ARG, 0,
				      "no rule template %d for version %d", (int)t, version);
	}
	r->v = calloc(n, sizeof(*r->v));
	if (r->v == NULL)
		return msign_diag_set(d, MSIGN_E_NOMEM, 0, "out of memory (%zu rules)", n);
	for (size_t i = 0; i < n; i++) {
		struct mb_rule *u = &r->v[i];
		u->pattern = strdup(src[i].pattern);
		if (u->pattern == NULL) {
			mb_rules_free(r);
			return msign_diag_set(d, MSIGN_E_NOMEM, 0, "out of memory (rule pattern)");
		}
		r->n = i + 1;
		u->flags = src[i].flags;
		u->bare_true = src[i].bare_true;
		u->has_weight = src[i].weight != 0;
		u->weight = u->has_weight ? src[i].weight : 1;
	}
	int rc = mb_rules_compile(r, d);
	if (rc < 0)
		mb_rules_free(r);
	return rc;
}

/* ---- compiling ------------------------------------------------------------ */

/* s for a one-line message: control and non-ASCII bytes as \xNN, cut to
 * what fits in cap with "..." when longer. */
static void quote(char *buf, size_t cap, const char *s)
{
	size_t o = 0;
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
		char tmp[5];
		int k = (*p < 0x20 || *p >= 0x7f || *p == '\\')
			? snprintf(tmp, sizeof(tmp), *p == '\\' ? "\\\\" : "\\x%02x", *p)
			: snprintf(tmp, sizeof(tmp), "%c", *p);
		if (o + (size_t)k + 4 > cap) {
			memcpy(buf + o, "...", 3);
			o += 3;
			break;
		}
		memcpy(buf + o, tmp, (size_t)k);
		o += (size_t)k;
	}
	buf[o] = '\0';
}

/* glibc's regcomp takes memory and time that grow with the square of the
 * pattern's size (measured: 16 MB and 16 ms for 2 KB of "()"), and a
 * bounded repetition {m,n} copies its operand max(m,n) times: one hostile
 * rule of 40 bytes can ask for gigabytes. So the size of a pattern is its
 * length times the product of its bounds (an over-estimate: braces inside
 * brackets count too), and a rule set may sum to at most
 * RULES_COST_MAX of squared sizes: 2048 bytes in one rule, or thousands
 * of template-sized ones (the templates cost 1/100 of it). */
#define RULES_COST_MAX (1ull << 22)
#define PATTERN_SIZE_MAX 2048ull

/* The size described above, capped just above PATTERN_SIZE_MAX; *backref
 * when the pattern has a back-reference \1-\9 (glibc's extension to
 * ERE, whose matching can take exponential time). */
static uint64_t pattern_size(const char *p, bool *backref)
{
	uint64_t len = strnlen(p, PATTERN_SIZE_MAX + 1), mult = 1;
	*backref = false;
	if (len > PATTERN_SIZE_MAX)
		return PATTERN_SIZE_MAX + 1;
	for (size_t i = 0; p[i] != '\0'; i++) {
		if (p[i] == '\\') {
			if (p[i + 1] >= '1' && p[i + 1] <= '9')
				*backref = true;
			if (p[i + 1] != '\0')
				i++;
			continue;
		}
		if (p[i] != '{')
			continue;
		uint64_t bound = 0;
		for (size_t j = i + 1; p[j] != '\0' && p[j] != '}'; j++) {
			if (p[j] >= '0' && p[j] <= '9') {
				uint64_t v = 0;
				while (p[j] >= '0' && p[j] <= '9' && v <= PATTERN_SIZE_MAX)
					v = v * 10 + (uint64_t)(p[j++] - '0');
				bound = v + 1 > bound ? v + 1 : bound; /* {m,} = m + 1 */
				j--;
			} else if (p[j] != ',') {
				break;
			}
		}
		if (bound > 1)
			mult *= bound;
		if (mult > PATTERN_SIZE_MAX || len * mult > PATTERN_SIZE_MAX)
			return PATTERN_SIZE_MAX + 1;
	}
	return len * mult > PATTERN_SIZE_MAX ? PATTERN_SIZE_MAX + 1 : len * mult;
}

int mb_rules_compile(struct mb_rules *r, struct msign_diag *d)
{
	if (r == NULL || (r->v == NULL && r->n > 0))
		return msign_diag_set(d, MSIGN_E_ARG, 0, "mb_rules_compile: NULL rules");
	if (r->n > MB_MAX_RULES)
		return msign_diag_set(d, MSIGN_E_LIMIT, 0, "%zu resource rules (limit %u)",
				      r->n, MB_MAX_RULES);
	uint64_t cost = 0;
	for (size_t i = 0; i < r->n; i++) {
		struct mb_rule *u = &r->v[i];
		if (u->pattern == NULL)
			return msign_diag_set(d, MSIGN_E_ARG, 0, "rule %zu has no pattern", i);
		bool backref;
		uint64_t size = pattern_size(u->pattern, &backref);
		char q[96];
		if (backref) {
			quote(q, sizeof(q), u->pattern);
			return msign_diag_set(d, MSIGN_E_UNSUPPORTED, 0,
					      "resource rule \"%s\" has a back-reference", q);
		}
		cost += size * size;
		if (size > PATTERN_SIZE_MAX || cost > RULES_COST_MAX) {
			quote(q, sizeof(q), u->pattern);
			return msign_diag_set(d, MSIGN_E_LIMIT, 0,
					      "resource rules too large to compile (at \"%s\", %zu of %zu rules)",
					      q, i + 1, r->n);
		}
	}
	for (size_t i = 0; i < r->n; i++) {
		struct mb_rule *u = &r->v[i];
		if (u->compiled)
			continue;
		int e = regcomp(&u->re, u->pattern, REG_EXTENDED | REG_NOSUB);
		if (e != 0) {
			char q[96], why[80];
			quote(q, sizeof(q), u->pattern);
			regerror(e, NULL, why, sizeof(why));
			return msign_diag_set(d, MSIGN_E_INVALID, 0,
					      "resource rule \"%s\" is not a valid regular expression (%s)",
					      q, why);
		}
		u->compiled = true;
	}
	return 0;
}

void mb_rules_free(struct mb_rules *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; r->v != NULL && i < r->n; i++) {
		if (r->v[i].compiled)
			regfree(&r->v[i].re);
		free(r->v[i].pattern);
	}
	free(r->v);
	r->v = NULL;
	r->n = 0;
}

/* ---- exclusions ----------------------------------------------------------- */

static const char *const fixed_exclusions[] = {
	"^_CodeSignature$", "^CodeResources$", "^_MASReceipt$",
};

int mb_exclusions_init(struct mb_exclusions *x, const char *main_exec_rel,
		       struct msign_diag *d)
{
	if (x == NULL)
		return msign_diag_set(d, MSIGN_E_ARG, 0, "mb_exclusions_init: NULL exclusions");
	x->n = 0;
	for (size_t i = 0; i < 3; i++) {
		if (regcomp(&x->re[i], fixed_exclusions[i], REG_EXTENDED | REG_NOSUB) != 0) {
			mb_exclusions_free(x);
			return msign_diag_set(d, MSIGN_E_INTERNAL, 0,
					      "exclusion %s does not compile", fixed_exclusions[i]);
		}
		x->n = i + 1;
	}
	if (main_exec_rel == NULL)
		return 0;
	size_t len = strnlen(main_exec_rel, MB_MAX_PATH + 1);
	if (len > MB_MAX_PATH) {
		mb_exclusions_free(x);
		return msign_diag_set(d, MSIGN_E_LIMIT, 0,
				      "main executable path longer than %d bytes", MB_MAX_PATH);
	}
	/* "^" + every byte escaped at most + "$" + NUL: no overflow at
	 * len <= MB_MAX_PATH. */
	char *pat = malloc(2 * len + 3);
	if (pat == NULL) {
		mb_exclusions_free(x);
		return msign_diag_set(d, MSIGN_E_NOMEM, 0, "out of memory (%zu bytes)", 2 * len + 3);
	}
	size_t o = 0;
	pat[o++] = '^';
	for (size_t i = 0; i < len; i++) {
		if (strchr("\\[]{}().+*?^$|", main_exec_rel[i]) != NULL)
			pat[o++] = '\\';
		pat[o++] = main_exec_rel[i];
	}
	pat[o++] = '$';
	pat[o] = '\0';
	int e = regcomp(&x->re[3], pat, REG_EXTENDED | REG_NOSUB);
	if (e != 0) {
		/* Possible only for bytes the locale rejects (see the top). */
		char q[96];
		quote(q, sizeof(q), main_exec_rel);
		free(pat);
		mb_exclusions_free(x);
		return msign_diag_set(d, MSIGN_E_INVALID, 0,
				      "main executable path \"%s\" gives no usable exclusion", q);
	}
	free(pat);
	x->n = 4;
	return 0;
}

void mb_exclusions_free(struct mb_exclusions *x)
{
	if (x == NULL)
		return;
	for (size_t i = 0; i < x->n && i < 4; i++)
		regfree(&x->re[i]);
	x->n = 0;
}

/* ---- matching ------------------------------------------------------------- */

static bool rule_omits(const struct mb_rule *u)
{
	return u->bare_false || (u->flags & MB_RULE_OMIT) != 0;
}

enum mb_match mb_match(const struct mb_exclusions *x, const struct mb_rules *r,
		       const char *path, const struct mb_rule **best)
{
	if (best != NULL)
		*best = NULL;
	if (path == NULL)
		return MB_MATCH_NONE;
	for (size_t i = 0; x != NULL && i < x->n && i < 4; i++)
		if (regexec(&x->re[i], path, 0, NULL, 0) == 0)
			return MB_MATCH_EXCLUDED;
	const struct mb_rule *win = NULL;
	for (size_t i = 0; r != NULL && r->v != NULL && i < r->n; i++) {
		const struct mb_rule *u = &r->v[i];
		if (!u->compiled || regexec(&u->re, path, 0, NULL, 0) != 0)
			continue;
		/* Spec 2.3: the heaviest; on a tie an omit rule beats one
		 * that is not, otherwise the first stays. */
		if (win == NULL || u->weight > win->weight ||
		    (u->weight == win->weight && rule_omits(u) && !rule_omits(win)))
			win = u;
	}
	if (win == NULL)
		return MB_MATCH_NONE;
	if (best != NULL)
		*best = win;
	return MB_MATCH_RULE;
}
