/* The resource check of verify (spec 4 steps 2 and 3, spec 5): the strict
 * structure of the bundle, the strength of the resource envelope, then the
 * walk of spec 2.4 (walk.c, the one sealing uses) with the file's own rules,
 * every walked item compared with its seal.
 *
 * Deterministic by construction: items and seals are taken in path order
 * (strcmp: byte order, which for UTF-8 is code point order), nested code is
 * checked in that order, files are hashed in parallel but judged in that
 * order afterwards. So the problem list (added, then modified, then
 * missing, each sorted by path) and the first structural failure do not
 * depend on the threads or on readdir's order. A structural failure
 * (mb_check.error) stops the check and leaves the problem list empty. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/diag.h"
#include "bundle/bundle.h"
#include "bundle/walk.h"
#include "sig/codesign.h"

#define MC_SHA1 (1u << MSIGN_CS_HASHTYPE_SHA1)
#define MC_DIR_FLAGS (O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)

static const char mc_root[] = "unsealed contents present in the bundle root";
static const char mc_fwroot[] =
	"unsealed contents present in the root directory of an embedded framework";
static const char mc_regular[] =
	"the main executable or Info.plist must be a regular file (no symlinks, etc.)";
static const char mc_weak_custom[] = "resource envelope is obsolete (custom omit rules)";
static const char mc_weak_v1[] = "resource envelope is obsolete (version 1 signature)";
static const char mc_nores[] =
	"code has no resources but signature indicates they must be present";
static const char mc_badlink[] = "invalid destination for symbolic link in bundle";
static const char mc_detritus[] =
	"resource fork, Finder information, or similar detritus not allowed";

static int mc_why(char *why, int code, const char *sentence)
{
	snprintf(why, MW_WHY_LEN, "%s", sentence);
	return code;
}

/* ---- strict structure ----------------------------------------------------- */

/* Each entry of the directory at fd (fd stays open) to fn; fn returns
 * false to fail the check with sentence. */
typedef bool (*mc_entry_fn)(void *arg, int fd, const char *name, const struct stat *st);

static int mc_each(int fd, mc_entry_fn fn, void *arg, const char *sentence, char *why,
		   struct msign_diag *d)
{
	int dfd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *dir = dfd >= 0 ? fdopendir(dfd) : NULL;
	if (dir == NULL) {
		int e = errno;
		if (dfd >= 0)
			close(dfd);
		return msign_diag_set(d, MSIGN_E_IO, 0, "cannot read a bundle directory: %s",
				      strerror(e));
	}
	int r = 0;
	size_t count = 0;
	struct dirent *de;
	while (r == 0 && (errno = 0, de = readdir(dir)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		struct stat st;
		if (++count > MB_MAX_ENTRIES)
			r = msign_diag_set(d, MSIGN_E_LIMIT, 0, "a directory of more than %u entries",
					   MB_MAX_ENTRIES);
		else if (fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
			r = msign_diag_set(d, MSIGN_E_IO, 0, "cannot stat %s: %s", de->d_name,
					   strerror(errno));
		else if (!fn(arg, fd, de->d_name, &st))
			r = mc_why(why, MSIGN_E_INVALID, sentence);
	}
	if (r == 0 && errno != 0)
		r = msign_diag_set(d, MSIGN_E_IO, 0, "cannot read a bundle directory: %s",
				   strerror(errno));
	closedir(dir);
	return r;
}

static bool mc_plain_file(const struct stat *st)
{
	return S_ISREG(st->st_mode) && (st->st_mode & 0111) == 0;
}

/* Spec 1: a deep bundle's root holds Contents and four plain files. */
static bool mc_deep_entry(void *arg, int fd, const char *name, const struct stat *st)
{
	(void)arg;
	(void)fd;
	static const char *const plain[] = { ".LSOverride", ".DS_Store", "Icon\r",
					     ".SoftwareDepot.tracking" };
	if (strcmp(name, "Contents") == 0)
		return S_ISDIR(st->st_mode);
	for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++)
		if (strcmp(name, plain[i]) == 0)
			return mc_plain_file(st);
	return false;
}

/* The files a signature may have in _CodeSignature. */
static bool mc_codesig_entry(void *arg, int fd, const char *name, const struct stat *st)
{
	(void)arg;
	(void)fd;
	static const char *const names[] = {
		"CodeResources", "CodeDirectory", "CodeRequirements",
		"CodeRequirements-1", "CodeRequirements-2", "CodeRequirements-3",
		"CodeRequirements-4", "CodeRequirements-5", "CodeSignature",
		"CodeEntitlements", "CodeEntitlementDER",
	};
	if (!S_ISREG(st->st_mode))
		return false;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(name, names[i]) == 0)
			return true;
	return false;
}

/* "A" or "./A" with A a plain name: A (in place), else NULL. */
static const char *mc_version_target(char *t)
{
	if (strncmp(t, "./", 2) == 0)
		t += 2;
	if (t[0] == '\0' || strcmp(t, ".") == 0 || strcmp(t, "..") == 0 || strchr(t, '/'))
		return NULL;
	return t;
}

struct mc_fw {
	const char *current; /* the name Versions/Current links to */
};

/* Spec 5: a framework root entry other than Versions is a symlink to
 * Versions/Current/<name> or Versions/<current>/<name> (either maybe
 * "./"-prefixed); .DS_Store and module.map may be plain files. */
static bool mc_fw_entry(void *arg, int fd, const char *name, const struct stat *st)
{
	const struct mc_fw *fw = arg;
	if (strcmp(name, "Versions") == 0)
		return S_ISDIR(st->st_mode);
	if ((strcmp(name, ".DS_Store") == 0 || strcmp(name, "module.map") == 0) &&
	    S_ISREG(st->st_mode))
		return true;
	if (!S_ISLNK(st->st_mode))
		return false;
	char t[MB_MAX_PATH + 1];
	ssize_t n = readlinkat(fd, name, t, sizeof(t) - 1);
	if (n < 0)
		return false;
	t[n] = '\0';
	const char *p = strncmp(t, "./", 2) == 0 ? t + 2 : t;
	if (strncmp(p, "Versions/", 9) != 0)
		return false;
	p += 9;
	size_t cl = strlen(fw->current);
	if (strncmp(p, "Current/", 8) == 0)
		p += 8;
	else if (strncmp(p, fw->current, cl) == 0 && p[cl] == '/')
		p += cl + 1;
	else
		return false;
	return strcmp(p, name) == 0;
}

static int mc_framework_root(int top_fd, char *why, struct msign_diag *d)
{
	int vfd = openat(top_fd, "Versions", MC_DIR_FLAGS);
	if (vfd < 0)
		return mc_why(why, MSIGN_E_INVALID, mc_fwroot);
	char t[256];
	struct stat st;
	ssize_t n = readlinkat(vfd, "Current", t, sizeof(t) - 1);
	const char *cur = NULL;
	if (n > 0) {
		t[n] = '\0';
		cur = mc_version_target(t);
	}
	/* Current names a version directory that exists (so there is one) */
	bool ok = cur != NULL && fstatat(vfd, cur, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		  S_ISDIR(st.st_mode);
	close(vfd);
	if (!ok)
		return mc_why(why, MSIGN_E_INVALID, mc_fwroot);
	struct mc_fw fw = { cur };
	return mc_each(top_fd, mc_fw_entry, &fw, mc_fwroot, why, d);
}

int mc_structure(const struct mb_bundle *b, bool codesig, char why[MW_WHY_LEN],
		 struct msign_diag *d)
{
	int r = 0;
	if (codesig) {
		int fd = openat(b->root_fd, "_CodeSignature", MC_DIR_FLAGS);
		if (fd >= 0) {
			r = mc_each(fd, mc_codesig_entry, NULL, mc_root, why, d);
			close(fd);
		} else if (errno != ENOENT) {
			r = mc_why(why, MSIGN_E_INVALID, mc_root); /* a symlink or a file */
		}
	}
	if (r == 0 && b->kind == MB_KIND_DEEP)
		r = mc_each(b->top_fd, mc_deep_entry, NULL, mc_root, why, d);
	if (r == 0 && b->kind == MB_KIND_VERSIONED)
		r = mc_framework_root(b->top_fd, why, d);
	if (r == 0 && ((b->exec_rel != NULL && !b->exec_regular) ||
		       (b->info_rel != NULL && !b->info_regular)))
		r = mc_why(why, MSIGN_E_INVALID, mc_regular);
	return r;
}

/* ---- the envelope --------------------------------------------------------- */

/* Spec 4 step 2: the catch-all rule is there as <true/>, and nothing is
 * omitted but what a bundle may omit. */
static bool mc_weak_rules(const struct mb_rules *rules, int version, bool resources_dir)
{
	const char *catch_all = version == 1 ? "^Resources/" : "^.*";
	const char *locversion = resources_dir ? "^Resources/.*\\.lproj/locversion.plist$"
					       : "^.*\\.lproj/locversion.plist$";
	const char *allowed[] = { "^(.*/)?\\.DS_Store$", "^Info\\.plist$", "^PkgInfo$",
				  locversion };
	bool covers_all = false;
	for (size_t i = 0; i < rules->n; i++) {
		const struct mb_rule *ru = &rules->v[i];
		if (strcmp(ru->pattern, catch_all) == 0 && ru->bare_true)
			covers_all = true;
		if (!(ru->flags & MB_RULE_OMIT) && !ru->bare_false)
			continue;
		bool ok = false;
		for (size_t k = 0; k < sizeof(allowed) / sizeof(allowed[0]); k++)
			ok = ok || strcmp(ru->pattern, allowed[k]) == 0;
		if (!ok)
			return true;
	}
	return !covers_all;
}

/* ---- the seal index -------------------------------------------------------- */

struct mc_index {
	const struct mb_seal **v; /* sorted by path (strcmp), ties by position */
	size_t n;
};

static int mc_ix_cmp(const void *a, const void *b)
{
	const struct mb_seal *x = *(const struct mb_seal *const *)a;
	const struct mb_seal *y = *(const struct mb_seal *const *)b;
	int c = strcmp(x->path, y->path);
	return c != 0 ? c : (x > y) - (x < y);
}

static int mc_index_make(struct mc_index *x, const struct mb_seals *s,
			 struct msign_diag *d)
{
	x->n = 0;
	x->v = malloc((s->n ? s->n : 1) * sizeof(*x->v));
	if (x->v == NULL)
		return msign_diag_set(d, MSIGN_E_NOMEM, 0, "out of memory (%zu seals)", s->n);
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i].path != NULL)
			x->v[x->n++] = &s->v[i];
	if (x->n > 1)
		qsort(x->v, x->n, sizeof(x->v[0]), mc_ix_cmp);
	return 0;
}

/* The first seal whose path is >= key (compared on keylen bytes when
 * prefix). */
static size_t mc_lower(const struct mc_index *x, const char *key, size_t keylen,
		       bool prefix)
{
	size_t lo = 0, hi = x->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const char *p = x->v[mid]->path;
		int c = prefix ? strncmp(p, key, keylen) : strcmp(p, key);
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* ---- symlink destinations ------------------------------------------------- */

/* A sealed path, or a directory holding one (an .lproj link). */
static bool mc_sealed(const struct mc_index *x, const char *path, const char *exec_rel)
{
	if (exec_rel != NULL && strcmp(path, exec_rel) == 0)
		return true; /* the "soft target" (spec 2.2) */
	size_t i = mc_lower(x, path, 0, false);
	if (i < x->n && strcmp(x->v[i]->path, path) == 0)
		return true;
	size_t len = strlen(path);
	char dir[MB_MAX_PATH + 2];
	if (len + 1 >= sizeof(dir))
		return false;
	memcpy(dir, path, len);
	memcpy(dir + len, "/", 2);
	i = mc_lower(x, dir, len + 1, true);
	return i < x->n && strncmp(x->v[i]->path, dir, len + 1) == 0;
}

/* Lexically resolve target against base (a '/'-separated directory, ""
 * for the top) into out. ".." above the top: false, or with clamp stays
 * at the top (as "/.." is "/"). */
static bool mc_resolve(const char *base, const char *target, bool clamp, char *out,
		       size_t cap)
{
	size_t n = 0;
	out[0] = '\0';
	for (int pass = 0; pass < 2; pass++) {
		const char *p = pass == 0 ? base : target;
		while (*p != '\0') {
			const char *e = strchr(p, '/');
			size_t len = e ? (size_t)(e - p) : strlen(p);
			if (len == 2 && p[0] == '.' && p[1] == '.') {
				if (n == 0 && !clamp)
					return false;
				char *s = strrchr(out, '/');
				n = s ? (size_t)(s - out) : 0;
				out[n] = '\0';
			} else if (len > 0 && !(len == 1 && p[0] == '.')) {
				if (n + 1 + len >= cap)
					return false;
				if (n)
					out[n++] = '/';
				memcpy(out + n, p, len);
				n += len;
				out[n] = '\0';
			}
			p += len;
			if (*p == '/')
				p++;
		}
	}
	return true;
}

/* Spec 4, kSecCSRestrictSymlinks: a sealed path of this bundle, or
 * absolute under /System/ or /Library/ (after resolving "..", so that
 * /System/../etc is not taken for /System). A relative target is resolved
 * from the link's folder as the bundle's folder sees it ("NAME.app/
 * Contents/..."), so that "../../Contents/Resources/x" and
 * "../../../NAME.app/Contents/Resources/x" are the sealed x they name.
 * Links into an enclosing bundle are not known here and fail. */
static bool mc_link_ok(const struct mb_bundle *b, const struct mc_index *x,
		       const char *rel, const char *target, const char *exec_rel)
{
	char buf[2 * MB_MAX_PATH + 2];
	if (target[0] == '/') {
		if (!mc_resolve("", target + 1, true, buf, sizeof(buf)))
			return false;
		return strncmp(buf, "System/", 7) == 0 || strncmp(buf, "Library/", 8) == 0;
	}
	/* the seal root below the bundle's folder, with the folder's name */
	const char *name = strrchr(b->path, '/');
	name = name != NULL ? name + 1 : b->path;
	size_t plen = strlen(b->path);
	const char *below = strncmp(b->seal_root, b->path, plen) == 0 &&
				    (b->seal_root[plen] == '/' || b->seal_root[plen] == '\0')
			    ? b->seal_root + plen : "";
	const char *slash = strrchr(rel, '/');
	char dir[2 * MB_MAX_PATH + 1], root[MB_MAX_PATH + 1];
	int rl = snprintf(root, sizeof(root), "%s%s", name, below);
	if (rl < 0 || (size_t)rl >= sizeof(root))
		return false;
	int dl = snprintf(dir, sizeof(dir), "%s/%.*s", root, slash ? (int)(slash - rel) : 0, rel);
	if (dl < 0 || (size_t)dl >= sizeof(dir))
		return false;
	if (!mc_resolve(dir, target, false, buf, sizeof(buf)))
		return false;
	size_t n = (size_t)rl;
	if (strncmp(buf, root, n) != 0 || buf[n] != '/' || buf[n + 1] == '\0')
		return false;
	return mc_sealed(x, buf + n + 1, exec_rel);
}

/* ---- the check ------------------------------------------------------------ */

enum mc_state { MC_OK, MC_ADDED, MC_MODIFIED, MC_HASH, MC_NESTED, MC_LINK };

struct mc_item {
	const struct mb_seal *seal; /* NULL: no seal (added) */
	enum mc_state st;
	size_t job;
};

struct mc_ctx {
	const struct mb_bundle *b;
	const struct mb_check_opts *o;
	struct mb_check *out;
	struct msign_diag *d;
	char *why;
	uint32_t need;         /* hash types every file seal must match */
	struct mw_items items;
	struct mc_item *it;
	struct mc_index ix;
	bool *visited;         /* by position in ix */
	struct mw_hjob *jobs;
	size_t njobs;
};

static int mc_push(struct mb_check *c, enum mb_problem_kind kind, const char *path,
		   struct msign_diag *d)
{
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 16;
		struct mb_problem *v = realloc(c->v, cap * sizeof(*v));
		if (v == NULL)
			return msign_diag_set(d, MSIGN_E_NOMEM, 0, "out of memory");
		c->v = v;
		c->cap = cap;
	}
	c->v[c->n].kind = kind;
	c->v[c->n].path = strdup(path);
	if (c->v[c->n].path == NULL)
		return msign_diag_set(d, MSIGN_E_NOMEM, 0, "out of memory");
	c->n++;
	return 0;
}

/* Each item against its seal, by the seal's kind (what was sealed decides
 * how it is checked), as far as it goes without reading a file. */
static void mc_match_item(struct mc_ctx *c, size_t i)
{
	const struct mw_item *e = &c->items.v[i];
	struct mc_item *m = &c->it[i];
	size_t k = mc_lower(&c->ix, e->rel, 0, false);
	if (k >= c->ix.n || strcmp(c->ix.v[k]->path, e->rel) != 0) {
		m->st = MC_ADDED;
		return;
	}
	m->seal = c->ix.v[k];
	for (size_t j = k; j < c->ix.n && strcmp(c->ix.v[j]->path, e->rel) == 0; j++)
		c->visited[j] = true;
	const struct mb_seal *s = m->seal;
	bool regular = e->kind == MW_FILE || e->kind == MW_NESTED_FILE;
	switch (s->kind) {
	case MB_SEAL_FILE:
		if (!regular || c->need == 0 || (s->hash_mask & c->need) != c->need) {
			m->st = MC_MODIFIED;
			return;
		}
		m->st = MC_HASH;
		m->job = c->njobs;
		c->jobs[c->njobs].rel = e->rel;
		c->jobs[c->njobs].mask = c->need;
		c->jobs[c->njobs].sideband = c->o->restrict_sideband;
		c->jobs[c->njobs].size_hint = e->size;
		c->njobs++;
		return;
	case MB_SEAL_SYMLINK:
		if (e->kind != MW_SYMLINK || s->symlink == NULL || strcmp(s->symlink, e->target) != 0)
			m->st = MC_MODIFIED;
		else
			m->st = c->o->restrict_symlinks ? MC_LINK : MC_OK;
		return;
	case MB_SEAL_NESTED:
		m->st = e->kind == MW_SYMLINK || s->requirement == NULL ? MC_MODIFIED : MC_NESTED;
		return;
	}
	m->st = MC_MODIFIED;
}

/* Nested code, in path order: the first failure other than "does not
 * satisfy its requirement" ends the check. */
static int mc_nested_pass(struct mc_ctx *c)
{
	for (size_t i = 0; i < c->items.n; i++) {
		struct mc_item *m = &c->it[i];
		if (m->st != MC_NESTED)
			continue;
		const char *rel = c->items.v[i].rel;
		if (c->o->nested == NULL)
			return msign_diag_set(c->d, MSIGN_E_ARG, 0,
					      "nested code %s sealed, but no nested callback given", rel);
		int r = c->o->nested(c->o->nested_arg, c->b->root_fd, rel,
				     c->items.v[i].kind == MW_NESTED_DIR, m->seal->requirement,
				     c->d);
		if (r == MSIGN_E_VERIFY) {
			m->st = MC_MODIFIED;
			continue;
		}
		if (r < 0) {
			snprintf(c->out->subcomponent, sizeof(c->out->subcomponent), "%s", rel);
			return msign_diag_set(c->d, r, 0, "nested code %s: %s", rel,
					      msign_strerror(r));
		}
		m->st = MC_OK;
	}
	return 0;
}

/* Hashed files and symlink destinations judged in path order. */
static int mc_judge(struct mc_ctx *c)
{
	for (size_t i = 0; i < c->items.n; i++) {
		struct mc_item *m = &c->it[i];
		const struct mw_item *e = &c->items.v[i];
		if (m->st == MC_LINK) {
			m->st = mc_link_ok(c->b, &c->ix, e->rel, e->target, mw_main_rel(c->b)) ? MC_OK
											: MC_MODIFIED;
			if (m->st == MC_MODIFIED)
				return mc_why(c->why, MSIGN_E_INVALID, mc_badlink);
			continue;
		}
		if (m->st != MC_HASH)
			continue;
		const struct mw_hjob *j = &c->jobs[m->job];
		if (j->status == MW_H_IOERR)
			return msign_diag_set(c->d, MSIGN_E_IO, 0, "cannot read %s: %s", e->rel,
					      j->err_no ? strerror(j->err_no) : "I/O error");
		if (j->status == MW_H_OK && j->has_sideband)
			return mc_why(c->why, MSIGN_E_INVALID, mc_detritus);
		bool same = j->status == MW_H_OK;
		for (unsigned t = 1; same && t <= MB_MAX_HASH_TYPES; t++)
			if (c->need & (1u << t))
				same = memcmp(j->hash[t], m->seal->hash[t],
					      msign_hashtype_size((uint8_t)t)) == 0;
		m->st = same ? MC_OK : MC_MODIFIED;
	}
	return 0;
}

static int mc_report(struct mc_ctx *c)
{
	int r = 0;
	for (size_t i = 0; r == 0 && i < c->items.n; i++)
		if (c->it[i].st == MC_ADDED)
			r = mc_push(c->out, MB_ADDED, c->items.v[i].rel, c->d);
	for (size_t i = 0; r == 0 && i < c->items.n; i++)
		if (c->it[i].st == MC_MODIFIED)
			r = mc_push(c->out, MB_MODIFIED, c->items.v[i].rel, c->d);
	for (size_t k = 0; r == 0 && k < c->ix.n; k++) {
		if (c->visited[k] || c->ix.v[k]->optional)
			continue;
		/* one line for a path however often the file repeats it */
		if (k > 0 && strcmp(c->ix.v[k - 1]->path, c->ix.v[k]->path) == 0)
			continue;
		r = mc_push(c->out, MB_MISSING, c->ix.v[k]->path, c->d);
	}
	return r;
}

/* Structure and envelope (step 3, then step 2's envelope). */
static int mc_preflight(const struct mb_bundle *b, const struct mb_resources *cr,
			const struct mb_check_opts *o, char *why, struct msign_diag *d)
{
	bool v2 = cr->has_files2;
	int r = o->strict ? mc_structure(b, true, why, d) : 0;
	if (r == 0 && (v2 ? !cr->has_rules2 : !(cr->has_files && cr->has_rules)))
		r = mc_why(why, MSIGN_E_INVALID, mc_nores);
	if (r == 0 && o->strict &&
	    mc_weak_rules(v2 ? &cr->rules2 : &cr->rules, v2 ? 2 : 1, b->has_resources_dir))
		r = mc_why(why, MSIGN_E_INVALID, mc_weak_custom);
	if (r == 0 && o->strict && !v2)
		r = mc_why(why, MSIGN_E_INVALID, mc_weak_v1);
	return r;
}

int mb_check_resources(const struct mb_bundle *b, const struct mb_resources *cr,
		       const struct mb_check_opts *o, struct mb_check *out,
		       struct msign_diag *d)
{
	if (b == NULL || cr == NULL || o == NULL || out == NULL)
		return msign_diag_set(d, MSIGN_E_ARG, 0, "mb_check_resources: NULL argument");
	memset(out, 0, sizeof(*out));
	if (o->hash_mask & ~MW_HASH_TYPES_ALL)
		return msign_diag_set(d, MSIGN_E_ARG, 0, "mb_check_resources: hash type mask 0x%x",
				      o->hash_mask);
	char why[MW_WHY_LEN] = "";
	bool v2 = cr->has_files2;
	struct mc_ctx c = { .b = b, .o = o, .out = out, .d = d, .why = why,
			    .need = v2 ? o->hash_mask : MC_SHA1 };
	struct mb_exclusions x;
	bool have_x = false;
	int r = mc_preflight(b, cr, o, why, d);
	if (r == 0) {
		r = mb_exclusions_init(&x, mw_main_rel(b), d);
		have_x = r == 0;
	}
	if (r == 0) {
		struct mw_walk_opts wo = { &x, v2 ? &cr->rules2 : &cr->rules, !v2, o->strict };
		r = mw_walk(b->root_fd, &wo, &c.items, why, d);
	}
	if (r == 0)
		r = mc_index_make(&c.ix, v2 ? &cr->files2 : &cr->files, d);
	if (r == 0) {
		size_t n = c.items.n ? c.items.n : 1;
		c.it = calloc(n, sizeof(*c.it));
		c.jobs = calloc(n, sizeof(*c.jobs));
		c.visited = calloc(c.ix.n ? c.ix.n : 1, sizeof(*c.visited));
		if (c.it == NULL || c.jobs == NULL || c.visited == NULL)
			r = msign_diag_set(d, MSIGN_E_NOMEM, 0, "out of memory (%zu items)", n);
	}
	for (size_t i = 0; r == 0 && i < c.items.n; i++)
		mc_match_item(&c, i);
	if (r == 0)
		r = mc_nested_pass(&c);
	if (r == 0)
		r = mw_hash_files(b->root_fd, c.jobs, c.njobs, o->threads, d);
	if (r == 0)
		r = mc_judge(&c);
	if (r == 0)
		r = mc_report(&c);
	free(c.it);
	free(c.jobs);
	free(c.visited);
	free(c.ix.v);
	mw_items_free(&c.items);
	if (have_x)
		mb_exclusions_free(&x);
	if (r < 0) {
		char sub[sizeof(out->subcomponent)];
		memcpy(sub, out->subcomponent, sizeof(sub));
		mb_check_free(out);
		memcpy(out->subcomponent, sub, sizeof(sub));
		if (why[0] != '\0') {
			/* Structural: a verdict, not an error of the check. */
			snprintf(out->error, sizeof(out->error), "%s", why);
			return 0;
		}
	}
	return r;
}

void mb_check_free(struct mb_check *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->n; i++)
		free(c->v[i].path);
	free(c->v);
	memset(c, 0, sizeof(*c));
}
