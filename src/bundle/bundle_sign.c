/* Signing a bundle (../shared/spec/bundles.md sections 3, 4 and 6): nested
 * code first when deep (from the inside out: the walk meets a nested item
 * before its bundle is sealed, and signs it then), the seal built over
 * the bytes on disk, CodeResources written, and the main executable
 * signed with slot -1 = H(Info.plist) and slot -3 = H(those very
 * CodeResources bytes). All of it happens in a copy of the bundle
 * (mirror.c), which is verified before it is exchanged with the bundle. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <dirent.h>

#include "base/diag.h"
#include "bundle/bundle_int.h"
#include "macho/macho.h"
#include "msign/info.h"
#include "sign/sign.h"

#define BS_DEPTH_MAX 16 /* bundles inside bundles */

struct bs_run {
	const struct msign_sign_opts *top;
	unsigned flags;
	const char *orig;   /* the bundle's absolute path */
	const char *mirror; /* the copy being signed */
	char *sub;          /* the nested code that failed, as the caller knows it */
	struct mb_sign_out *out;
};

struct bs_level {
	struct bs_run *run;
	const struct mb_bundle *b;
	unsigned depth;
};

static int bs_sign_dir(struct bs_run *run, const char *abs, unsigned depth,
		       struct msign_diag *d);

/* path in the copy -> the same path in the bundle the caller named */
static char *bs_orig_path(const struct bs_run *run, const char *abs)
{
	size_t ml = strlen(run->mirror);
	const char *rest = strncmp(abs, run->mirror, ml) == 0 ? abs + ml : "";
	size_t n = strlen(run->orig) + strlen(rest) + 1;
	char *p = malloc(n);
	if (p != NULL)
		snprintf(p, n, "%s%s", run->orig, rest);
	return p;
}

static int bs_not_signed(struct bs_run *run, const char *abs, struct msign_diag *d)
{
	if (run->sub == NULL)
		run->sub = bs_orig_path(run, abs);
	msign_diag_clear(d);
	return msign_diag_set(d, MSIGN_E_NOT_SIGNED, 0, "code object is not signed at all");
}

static int bs_join(char *out, size_t len, const char *dir, const char *rel,
		   struct msign_diag *d)
{
	int n = snprintf(out, len, "%s/%s", dir, rel);
	if (n < 0 || (size_t)n >= len)
		return msign_diag_set(d, MSIGN_E_LIMIT, 0, "a path in the bundle is too long");
	return 0;
}

/* Does the Mach-O at path hold a signature in some slice? Not Mach-O at
 * all (a script, a text file): false, as an unsigned file. */
static int bs_is_signed(const char *path, bool *sig, struct msign_diag *d)
{
	*sig = false;
	struct msign_image *img = NULL;
	struct msign_diag dd;
	msign_diag_clear(&dd);
	int r = msign_image_open(path, &img, &dd);
	if (r == MSIGN_E_IO || r == MSIGN_E_NOMEM) {
		if (d != NULL)
			*d = dd;
		return r;
	}
	if (r != 0)
		return 0;
	for (uint32_t i = 0; i < img->nslices; i++)
		*sig = *sig || img->slices[i].has_codesig;
	msign_image_free(img);
	return 0;
}

/* The main executable of the nested bundle at abs, into exec; for an
 * Info.plist-only bundle (*plist) the signature's CodeDirectory file. */
static int bs_nested_exec(const char *abs, char *exec, size_t len, bool *plist,
			  struct msign_diag *d)
{
	struct mb_bundle nb;
	int r = mb_bundle_open(abs, NULL, &nb, d);
	if (r)
		return r;
	*plist = nb.exec_rel == NULL;
	r = bs_join(exec, len, nb.seal_root,
		    *plist ? "_CodeSignature/CodeDirectory" : nb.exec_rel, d);
	mb_bundle_close(&nb);
	return r;
}

/* The seal of a nested Info.plist-only bundle: its best CodeDirectory's
 * cdhash and its designated requirement (spec 2.5). */
static int bs_seal_of_plist(struct bs_run *run, const char *abs, uint8_t cdhash[20],
			    char **req, struct msign_diag *d)
{
	struct mb_bundle nb;
	struct mb_detached *x = malloc(sizeof(*x));
	int r = x == NULL ? MSIGN_E_NOMEM : mb_bundle_open(abs, NULL, &nb, d);
	if (r) {
		free(x);
		if (run->sub == NULL)
			run->sub = bs_orig_path(run, abs);
		return r == MSIGN_E_NOMEM ? msign_diag_set(d, r, 0, "out of memory") : r;
	}
	struct msign_diag xd;
	msign_diag_clear(&xd);
	bool implicit;
	r = mb_detached_read(nb.root_fd, x, &xd);
	if (r == MSIGN_E_IO || r == MSIGN_E_NOMEM) {
		if (d != NULL)
			*d = xd;
	} else if (r != 0) {
		r = bs_not_signed(run, abs, d);
	} else {
		memcpy(cdhash, x->sig.cds[x->sig.best].cdhash, 20);
		r = mb_detached_designated(x, req, &implicit, d);
	}
	if (r != 0 && run->sub == NULL)
		run->sub = bs_orig_path(run, abs);
	mb_detached_free(x);
	free(x);
	mb_bundle_close(&nb);
	return r;
}

/* The options nested code is signed with (deep): the caller's, without
 * this bundle's identifier, requirements or bound files; entitlements
 * only those given for its path (or, as codesign, the caller's). */
static void bs_nested_opts(const struct bs_run *run, const char *abs,
			   struct msign_sign_opts *so)
{
	*so = *run->top;
	so->identifier = NULL;
	so->requirements = NULL;
	so->requirements_len = 0;
	so->info_plist = NULL;
	so->resources = NULL;
	so->arch = NULL;
	so->bundle_version = NULL; /* the top bundle's alone */
	if (!(run->flags & MSIGN_BUNDLE_NESTED_ENTITLEMENTS)) {
		so->ent_xml = NULL;
		so->ent_len = 0;
	}
	size_t ml = strlen(run->mirror);
	const char *rel = strncmp(abs, run->mirror, ml) == 0 && abs[ml] == '/'
				  ? abs + ml + 1 : NULL;
	for (uint32_t i = 0; rel != NULL && i < run->top->n_nested_ent; i++)
		if (strcmp(run->top->nested_ent[i].rel, rel) == 0) {
			so->ent_xml = run->top->nested_ent[i].xml;
			so->ent_len = run->top->nested_ent[i].len;
		}
}

static int bs_sign_file(struct bs_run *run, const char *abs, struct msign_diag *d)
{
	struct msign_sign_opts so;
	bs_nested_opts(run, abs, &so);
	so.file_name = abs;
	so.force = true; /* only reached for unsigned code, or with force */
	struct msign_sign_result *res = malloc(sizeof(*res));
	if (res == NULL)
		return msign_diag_set(d, MSIGN_E_NOMEM, 0, "out of memory");
	int r = msign_sign_run(abs, abs, &so, res, d);
	free(res);
	if (r == MSIGN_E_BAD_MAGIC || r == MSIGN_E_TRUNCATED)
		return bs_not_signed(run, abs, d); /* not Mach-O: cannot sign it */
	if (r != 0 && run->sub == NULL)
		run->sub = bs_orig_path(run, abs);
	return r;
}

/* What the seal records for nested code as it is now on disk: the cdhash
 * of the chosen CodeDirectory of the slice this host runs, and its
 * designated requirement's text (spec 2.5). */
static int bs_seal_of(struct bs_run *run, const char *abs, const char *exec,
		      uint8_t cdhash[20], char **req, struct msign_diag *d)
{
	msign_info *info = NULL;
	struct msign_diag dd;
	msign_diag_clear(&dd);
	int r = msign_info_open(exec, &info, &dd);
	if (r == MSIGN_E_IO || r == MSIGN_E_NOMEM) {
		if (d != NULL)
			*d = dd;
		if (run->sub == NULL)
			run->sub = bs_orig_path(run, abs);
		return r;
	}
	if (r != 0)
		return bs_not_signed(run, abs, d);
	const msign_info_slice *s = msign_info_slice_at(info, msign_info_default_slice(info));
	const msign_info_cd *cd = s != NULL ? msign_slice_chosen_cd(s) : NULL;
	size_t hl = 0;
	const uint8_t *h = cd != NULL ? msign_cd_cdhash(cd, &hl) : NULL;
	if (h == NULL || hl < 20 || msign_slice_sig_status(s, NULL) != 0) {
		msign_info_free(info);
		return bs_not_signed(run, abs, d);
	}
	memcpy(cdhash, h, 20);
	const char *dr = msign_slice_designated_requirement(s, NULL);
	*req = dr != NULL ? strdup(dr) : NULL;
	msign_info_free(info);
	if (*req == NULL) {
		if (run->sub == NULL)
			run->sub = bs_orig_path(run, abs);
		return msign_diag_set(d, dr == NULL ? MSIGN_E_INVALID : MSIGN_E_NOMEM, 0,
				      "the designated requirement of nested code cannot be read");
	}
	return 0;
}

static int bs_nested(void *arg, int root_fd, const char *rel, bool is_dir,
		     uint8_t cdhash[20], char **req, struct msign_diag *d)
{
	(void)root_fd; /* the copy is msign's own: paths are safe in it */
	struct bs_level *lv = arg;
	struct bs_run *run = lv->run;
	char abs[PATH_MAX], exec[PATH_MAX];
	int r = bs_join(abs, sizeof(abs), lv->b->seal_root, rel, d);
	if (r)
		return r;
	bool plist = false;
	if (is_dir) {
		r = bs_nested_exec(abs, exec, sizeof(exec), &plist, d);
		if (r == MSIGN_E_NOT_SIGNED || r == MSIGN_E_UNSUPPORTED)
			return bs_not_signed(run, abs, d);
		if (r)
			return r;
	} else {
		snprintf(exec, sizeof(exec), "%s", abs);
	}
	if (run->flags & MSIGN_BUNDLE_DEEP) {
		bool sig;
		struct stat st;
		if (plist)
			sig = lstat(exec, &st) == 0;
		else if ((r = bs_is_signed(exec, &sig, d)))
			return r;
		if (!sig || run->top->force) {
			r = is_dir ? bs_sign_dir(run, abs, lv->depth + 1, d)
				   : bs_sign_file(run, abs, d);
			if (r)
				return r;
		}
	}
	return plist ? bs_seal_of_plist(run, abs, cdhash, req, d)
		     : bs_seal_of(run, abs, exec, cdhash, req, d);
}

int mb_sigdir_open(int root_fd, struct msign_diag *d)
{
	if (mkdirat(root_fd, "_CodeSignature", 0755) != 0 && errno != EEXIST)
		return msign_diag_set(d, MSIGN_E_IO, 0, "cannot create _CodeSignature: %s",
				      strerror(errno));
	int dir = openat(root_fd, "_CodeSignature",
			 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dir < 0)
		return msign_diag_set(d, MSIGN_E_IO, 0, "cannot open _CodeSignature: %s",
				      strerror(errno));
	return dir;
}

void mb_sigdir_clean(int dir, const char *const *keep, size_t nkeep)
{
	int dup_fd = dup(dir);
	DIR *ds = dup_fd >= 0 ? fdopendir(dup_fd) : NULL;
	if (ds == NULL && dup_fd >= 0)
		close(dup_fd);
	for (struct dirent *e; ds != NULL && (e = readdir(ds)) != NULL;) {
		struct stat st;
		bool kept = strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0;
		for (size_t i = 0; i < nkeep && !kept; i++)
			kept = strcmp(e->d_name, keep[i]) == 0;
		if (kept || fstatat(dir, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
		    S_ISDIR(st.st_mode))
			continue;
		(void)unlinkat(dir, e->d_name, 0);
	}
	if (ds != NULL)
		closedir(ds);
}

int mb_sigdir_write(int dir, const char *name, const uint8_t *data, size_t len,
		    struct msign_diag *d)
{
	char tmpname[64];
	int n = snprintf(tmpname, sizeof(tmpname), ".%s.msign", name);
	if (n < 0 || (size_t)n >= sizeof(tmpname))
		return msign_diag_set(d, MSIGN_E_INTERNAL, 0, "signature file name too long");
	(void)unlinkat(dir, tmpname, 0);
	int fd = openat(dir, tmpname, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return msign_diag_set(d, MSIGN_E_IO, 0, "cannot create %s: %s", name,
				      strerror(errno));
	int r = 0;
	for (size_t off = 0; off < len && r == 0;) {
		ssize_t w = write(fd, data + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			r = msign_diag_set(d, MSIGN_E_IO, 0, "cannot write %s: %s", name,
					   strerror(errno));
		else
			off += (size_t)w;
	}
	if (r == 0 && (fchmod(fd, 0644) != 0 || fsync(fd) != 0))
		r = msign_diag_set(d, MSIGN_E_IO, 0, "cannot write %s: %s", name, strerror(errno));
	close(fd);
	if (r == 0 && renameat(dir, tmpname, dir, name) != 0)
		r = msign_diag_set(d, MSIGN_E_IO, 0, "cannot write %s: %s", name, strerror(errno));
	if (r != 0)
		(void)unlinkat(dir, tmpname, 0);
	else
		(void)fsync(dir);
	return r;
}

/* _CodeSignature/CodeResources in the seal root: a new file renamed over
 * the old one; the folder keeps nothing else (the signature of a Mach-O
 * main executable uses no other file there). */
static int bs_write_cr(const struct mb_bundle *b, const uint8_t *data, size_t len,
		       struct msign_diag *d)
{
	int dir = mb_sigdir_open(b->root_fd, d);
	if (dir < 0)
		return dir;
	static const char *const keep[] = { "CodeResources" };
	mb_sigdir_clean(dir, keep, 1);
	int r = mb_sigdir_write(dir, "CodeResources", data, len, d);
	close(dir);
	return r;
}

/* An Info.plist-only bundle (spec 1, 6): sealed as any other, then its
 * signature written as files of _CodeSignature (bundle_plist.c). */
static int bs_sign_plist(struct bs_run *run, const struct mb_bundle *b,
			 const struct msign_sign_opts *so, unsigned depth,
			 struct msign_diag *d)
{
	uint8_t *bytes = NULL;
	size_t len = 0;
	struct stat st;
	bool sig = fstatat(b->root_fd, "_CodeSignature/CodeDirectory", &st,
			   AT_SYMLINK_NOFOLLOW) == 0;
	int r;
	if (sig && !so->force && depth == 0)
		return msign_diag_set(d, MSIGN_E_ALREADY_SIGNED, 0, "is already signed");
	struct bs_level lv = { .run = run, .b = b, .depth = depth };
	struct mb_seal_opts sealo = {
		.hash_mask = mb_detached_hash_mask(so), .threads = so->threads,
		.strict = true, .v1 = true, .v2 = true, .nested = bs_nested,
		.nested_arg = &lv };
	struct mb_resources cr;
	memset(&cr, 0, sizeof(cr));
	r = mb_seal_build(b, &sealo, &cr, d);
	if (r == MSIGN_E_NOT_SIGNED) { /* the walk names it; run->sub has it */
		msign_diag_clear(d);
		msign_diag_set(d, r, 0, "code object is not signed at all");
	}
	if (r == 0 && (r = mb_cr_write(&cr, &bytes, &len, d)) == 0)
		r = mb_detached_sign(b, so, so->identifier, bytes, len, d);
	if (r == 0 && depth == 0 && run->out != NULL) {
		snprintf(run->out->identifier, sizeof(run->out->identifier), "%s",
			 so->identifier);
		run->out->is_app = b->package_type != NULL &&
				   strcmp(b->package_type, "APPL") == 0;
	}
	free(bytes);
	mb_resources_free(&cr);
	return r;
}

static int bs_sign_dir(struct bs_run *run, const char *abs, unsigned depth,
		       struct msign_diag *d)
{
	if (depth > BS_DEPTH_MAX)
		return msign_diag_set(d, MSIGN_E_LIMIT, 0,
				      "bundles nested more than %d deep", BS_DEPTH_MAX);
	struct mb_bundle b;
	int r = mb_bundle_open(abs, depth == 0 ? run->top->bundle_version : NULL, &b, d);
	if (r) {
		if (depth > 0 && run->sub == NULL)
			run->sub = bs_orig_path(run, abs);
		return r;
	}
	struct msign_sign_opts so;
	if (depth == 0)
		so = *run->top;
	else
		bs_nested_opts(run, abs, &so);
	char ident[1024], exec[PATH_MAX];
	uint8_t *bytes = NULL;
	size_t len = 0;
	struct mb_resources cr;
	memset(&cr, 0, sizeof(cr));
	struct msign_sign_result *res = NULL;
	/* A bundle's identifier is explicit: never the ad-hoc suffix. */
	if (so.identifier == NULL) {
		/* the folder's name as the caller named it, not the copy's
		 * ".NAME.msign-XXXXXX" */
		char *orig = bs_orig_path(run, abs), *copy = b.path;
		if (orig == NULL) {
			r = msign_diag_set(d, MSIGN_E_NOMEM, 0, "out of memory");
			goto out;
		}
		b.path = orig;
		so.identifier = mb_bundle_default_identifier(&b, ident, sizeof(ident));
		b.path = copy;
		free(orig);
	}
	if (b.exec_rel == NULL) {
		r = bs_sign_plist(run, &b, &so, depth, d);
		if (r != 0 && depth > 0 && run->sub == NULL)
			run->sub = bs_orig_path(run, abs);
		goto out;
	}
	if ((r = bs_join(exec, sizeof(exec), b.seal_root, b.exec_rel, d)))
		goto out;
	so.file_name = exec;
	struct msign_image *img = NULL;
	if ((r = msign_image_open(exec, &img, d)))
		goto out;
	bool sig = false;
	for (uint32_t i = 0; i < img->nslices; i++)
		sig = sig || img->slices[i].has_codesig;
	uint32_t mask = msign_sign_hash_mask(img, &so);
	msign_image_free(img);
	if (sig && !so.force && depth == 0) {
		r = msign_diag_set(d, MSIGN_E_ALREADY_SIGNED, 0, "is already signed");
		goto out;
	}
	so.force = true;
	struct bs_level lv = { .run = run, .b = &b, .depth = depth };
	struct mb_seal_opts sealo = {
		.hash_mask = mask, .threads = so.threads, .strict = true,
		.v1 = true, .v2 = true, .nested = bs_nested, .nested_arg = &lv };
	r = mb_seal_build(&b, &sealo, &cr, d);
	if (r == MSIGN_E_NOT_SIGNED) { /* the walk names it; run->sub has it */
		msign_diag_clear(d);
		msign_diag_set(d, r, 0, "code object is not signed at all");
	}
	if (r ||
	    (r = mb_cr_write(&cr, &bytes, &len, d)) ||
	    (r = bs_write_cr(&b, bytes, len, d)))
		goto out;
	so.info_plist = b.info;
	so.info_plist_len = b.info_len;
	so.resources = bytes;
	so.resources_len = len;
	if ((res = malloc(sizeof(*res))) == NULL) {
		r = msign_diag_set(d, MSIGN_E_NOMEM, 0, "out of memory");
		goto out;
	}
	r = msign_sign_run(exec, exec, &so, res, d);
	if (r == 0 && depth == 0 && run->out != NULL) {
		snprintf(run->out->identifier, sizeof(run->out->identifier), "%s",
			 res->identifier);
		run->out->is_app = b.package_type != NULL &&
				   strcmp(b.package_type, "APPL") == 0;
	}
	if (r != 0 && depth > 0 && run->sub == NULL)
		run->sub = bs_orig_path(run, abs);
out:
	free(res);
	free(bytes);
	mb_resources_free(&cr);
	mb_bundle_close(&b);
	return r;
}

int mb_sign_bundle(const char *path, const struct msign_sign_opts *o,
		   unsigned flags, struct mb_sign_out *out, struct msign_diag *d)
{
	memset(out, 0, sizeof(*out));
	char *abs = realpath(path, NULL);
	if (abs == NULL)
		return msign_diag_set(d, MSIGN_E_IO, 0, "%s", strerror(errno));
	struct stat st;
	if (lstat(abs, &st) != 0 || !S_ISDIR(st.st_mode)) {
		free(abs);
		return msign_diag_set(d, MSIGN_E_ARG, 0, "not a folder");
	}
	/* codesign writes in the bundle: so must its caller be able to (the
	 * copy and the exchange also need its parent folder) */
	if (access(abs, W_OK) != 0) {
		int r = msign_diag_set(d, MSIGN_E_IO, 0, "%s", strerror(errno));
		free(abs);
		return r;
	}
	int pr = mb_parent_safe(abs, d);
	if (pr != 0) {
		free(abs);
		return pr;
	}
	char *mirror = NULL;
	struct mb_tree_rec rec = { 0 };
	uint32_t lost = 0;
	int r = mb_mirror_create(abs, &mirror, &rec, &lost, d);
	if (r) {
		free(abs);
		return r;
	}
	struct bs_run run = { .top = o, .flags = flags, .orig = abs, .mirror = mirror,
			      .out = out };
	r = bs_sign_dir(&run, mirror, 0, d);
	if (r == 0) {
		/* verify before replace: the copy must be what a verifier accepts */
		struct mb_vresult vr;
		struct msign_verify_opts vo = { .threads = o->threads,
						.bundle_version = o->bundle_version };
		int vk = mb_verify_dir(mirror, &vo, MB_VERIFY_SELF, &vr, d);
		if (vk == 0 && vr.kind != MSIGN_VERIFY_VALID)
			vk = msign_diag_set(d, MSIGN_E_INTERNAL, 0,
					    "the signed bundle does not verify: %s", vr.error);
		mb_vresult_free(&vr);
		r = vk;
	}
	/* Nothing the bundle got meanwhile may be lost: it must hold what the
	 * copy was made from, before the exchange and (the old tree, now under
	 * the copy's name) after it; else it is put back. */
	if (r == 0)
		r = mb_tree_same(abs, &rec, d);
	if (r == 0)
		r = mb_mirror_finish(abs, mirror, &lost, d);
	bool exchanged = false;
	if (r == 0 && (r = mb_exchange(abs, mirror, d)) == 0) {
		exchanged = true;
		if ((r = mb_tree_same(mirror, &rec, d)) != 0) {
			struct msign_diag back;
			msign_diag_clear(&back);
			if (mb_exchange(abs, mirror, &back) == 0)
				exchanged = false;
		}
	}
	if (r == 0)
		(void)mb_sync_parent(abs);
	/* after the exchange the copy's name holds the old tree */
	if (mb_tree_remove(mirror) != 0 && r == 0 && exchanged) {
		msign_diag_clear(d);
		r = msign_diag_set(d, MSIGN_E_IO, 0,
				   "replaced, but cannot remove the old tree %s", mirror);
	}
	if (r == 0 && d != NULL)
		d->lost |= lost;
	mb_tree_rec_free(&rec);
	out->subcomponent = run.sub;
	free(mirror);
	free(abs);
	return r;
}
