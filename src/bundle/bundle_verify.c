/* Verifying a bundle (../shared/spec/bundles.md section 4): the main
 * executable's signature with its Info.plist and CodeResources bound by
 * slots -1 and -3, then every sealed resource and nested code against the
 * seal (check.c), then, as codesign's default strict validation does, the
 * bundle's structure. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/diag.h"
#include "bundle/bundle_int.h"
#include "macho/macho.h"
#include "msign/info.h"
#include "sig/req.h"
#include "verify/verify.h"

#define BV_DEPTH_MAX 16
/* Nested code without deep: its main executable's signature (quick) and
 * the seal's requirement, not its resources (kSecCSBasicValidateOnly). */
#define BV_BASIC 0x10000u

struct bv_level {
	const struct msign_verify_opts *o;
	unsigned bflags;
	const struct mb_bundle *b;
	struct mb_vresult *vr;
	struct mb_vresult *log; /* the top result: nested code's events */
	unsigned depth;
};

static int bv_verify(const char *path, const struct msign_verify_opts *o,
		     unsigned bflags, unsigned depth, struct mb_vresult *vr,
		     struct mb_vresult *log, struct msign_diag *d);

/* codesign -vvv --deep's lines: "--prepared:PATH" when nested code is
 * about to be checked, "--validated:PATH" when it passed. */
static void bv_event(struct mb_vresult *log, const char *what, const char *path)
{
	if (log->nevents == log->capevents) {
		size_t cap = log->capevents ? log->capevents * 2 : 16;
		char **v = realloc(log->events, cap * sizeof(*v));
		if (v == NULL)
			return; /* the lines are a report; the verdict stands */
		log->events = v;
		log->capevents = cap;
	}
	char *line = malloc(strlen(what) + strlen(path) + 1);
	if (line == NULL)
		return;
	strcpy(line, what);
	strcat(line, path);
	log->events[log->nevents++] = line;
}

static void bv_fail(struct mb_vresult *vr, int kind, const char *sentence)
{
	if (vr->kind != MSIGN_VERIFY_VALID)
		return; /* the first failure is the one reported */
	vr->kind = kind;
	snprintf(vr->error, sizeof(vr->error), "%s",
		 sentence != NULL ? sentence : msign_verify_message(kind));
}

int mb_read_sigfile(int root_fd, const char *name, size_t max, uint8_t **out,
		    size_t *len, struct msign_diag *d)
{
	*out = NULL;
	*len = 0;
	int dir = openat(root_fd, "_CodeSignature", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dir < 0)
		return 0;
	int fd = openat(dir, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	close(dir);
	if (fd < 0)
		return 0;
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return 0;
	}
	if (st.st_size < 0 || (uint64_t)st.st_size > max) {
		close(fd);
		return msign_diag_set(d, MSIGN_E_LIMIT, 0, "%s is larger than %zu bytes",
				      name, max);
	}
	size_t want = (size_t)st.st_size;
	uint8_t *buf = malloc(want ? want : 1);
	if (buf == NULL) {
		close(fd);
		return msign_diag_set(d, MSIGN_E_NOMEM, 0, "out of memory");
	}
	size_t got = 0;
	while (got < want) {
		ssize_t n = read(fd, buf + got, want - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	if (got != want) {
		free(buf);
		return msign_diag_set(d, MSIGN_E_IO, 0, "%s changed while being read", name);
	}
	*out = buf;
	*len = got;
	return 0;
}

/* _CodeSignature/CodeResources below the seal root, never through a link:
 * 0 and *out (NULL when there is none), or an I/O error. */
int mb_read_cr(int root_fd, uint8_t **out, size_t *len, struct msign_diag *d)
{
	return mb_read_sigfile(root_fd, "CodeResources", MB_MAX_CR_SIZE, out, len, d);
}

/* Nested code at rel must satisfy the requirement its seal records; deep,
 * it is verified fully (its own resources and nested code too). */
static int bv_nested(void *arg, int root_fd, const char *rel, bool is_dir,
		     const char *req, struct msign_diag *d)
{
	(void)root_fd;
	struct bv_level *lv = arg;
	lv->vr->nested_checked++;
	char *abs = mb_path_join(lv->b->seal_root, rel);
	if (abs == NULL)
		return msign_diag_set(d, MSIGN_E_NOMEM, 0, "out of memory");
	uint8_t *blob = NULL;
	size_t blen = 0;
	struct msign_diag rd;
	msign_diag_clear(&rd);
	if (req == NULL || msign_req_compile(req, strlen(req), 0, &blob, &blen, &rd) != 0) {
		free(abs);
		return MSIGN_E_VERIFY; /* a seal no code can satisfy */
	}
	if (lv->bflags & MB_VERIFY_SELF) {
		/* the signer's own check: the requirement it just recorded may
		 * need an anchor a hash-level check has not decided */
		free(blob);
		blob = NULL;
		blen = 0;
	}
	struct msign_verify_opts o = *lv->o;
	o.requirement = blob;
	o.requirement_len = blen;
	o.designated = false;
	o.trust_out = NULL;
	o.arch = NULL;
	o.bundle_version = NULL; /* the top bundle's alone */
	bool deep = (lv->bflags & MSIGN_VERIFY_F_DEEP) != 0;
	int r;
	struct mb_vresult sub;
	memset(&sub, 0, sizeof(sub));
	/* named as codesign names it: through Versions/Current */
	char *shown = mb_path_join(lv->b->shown_root, rel);
	if (shown == NULL) {
		free(abs);
		free(blob);
		return msign_diag_set(d, MSIGN_E_NOMEM, 0, "out of memory");
	}
	bv_event(lv->log, "--prepared:", shown);
	if (is_dir) {
		o.quick = !deep; /* shallow: its signature and requirement only */
		r = bv_verify(abs, &o, deep ? lv->bflags : BV_BASIC | (lv->bflags & MB_VERIFY_SELF),
			      lv->depth + 1, &sub, lv->log, d);
	} else {
		o.quick = !deep;
		struct msign_image *img = NULL;
		struct msign_verify_result *res = malloc(sizeof(*res));
		r = res == NULL ? MSIGN_E_NOMEM : msign_image_open(abs, &img, d);
		if (r == 0) {
			r = msign_verify_image(img, &o, res, d);
			if (r == MSIGN_E_VERIFY) {
				sub.kind = res->kind;
				snprintf(sub.error, sizeof(sub.error), "%s",
					 msign_verify_message(res->kind));
				r = 0;
			}
		} else if (r != MSIGN_E_NOMEM && r != MSIGN_E_IO) {
			sub.kind = MSIGN_VERIFY_BAD_MACHO;
			snprintf(sub.error, sizeof(sub.error), "%s",
				 msign_verify_message(MSIGN_VERIFY_BAD_MACHO));
			r = 0;
		}
		msign_image_free(img);
		free(res);
	}
	free(blob);
	if (r == 0 && sub.kind == MSIGN_VERIFY_REQUIREMENT)
		r = MSIGN_E_VERIFY; /* "file modified" */
	else if (r == 0 && sub.kind != MSIGN_VERIFY_VALID) {
		/* its own failure, in this subcomponent (the innermost one) */
		bv_fail(lv->vr, sub.kind, sub.error);
		if (lv->vr->subcomponent == NULL)
			lv->vr->subcomponent = sub.subcomponent != NULL ? strdup(sub.subcomponent)
									: strdup(shown);
		msign_diag_clear(d);
		r = msign_diag_set(d, MSIGN_E_INVALID, 0, "%s", sub.error);
	}
	if (r == 0)
		bv_event(lv->log, "--validated:", shown);
	free(shown);
	mb_vresult_free(&sub);
	free(abs);
	return r;
}

/* The hash types of the main executable's signature (every CodeDirectory
 * of the slice this host runs), as the seal's file entries must have. */
static uint32_t bv_hash_mask(const char *exec)
{
	msign_info *info = NULL;
	if (msign_info_open(exec, &info, NULL) != 0)
		return 0;
	const msign_info_slice *s = msign_info_slice_at(info, msign_info_default_slice(info));
	uint32_t mask = 0;
	for (uint32_t i = 0; s != NULL && i < msign_slice_cd_count(s); i++)
		mask |= 1u << msign_cd_hash_type(msign_slice_cd(s, i));
	msign_info_free(info);
	return mask;
}

static int bv_verify(const char *path, const struct msign_verify_opts *o,
		     unsigned bflags, unsigned depth, struct mb_vresult *vr,
		     struct mb_vresult *log, struct msign_diag *d)
{
	memset(vr, 0, sizeof(*vr));
	vr->kind = MSIGN_VERIFY_VALID;
	if (depth > BV_DEPTH_MAX)
		return msign_diag_set(d, MSIGN_E_LIMIT, 0,
				      "bundles nested more than %d deep", BV_DEPTH_MAX);
	char *abs = realpath(path, NULL);
	if (abs == NULL)
		return msign_diag_set(d, MSIGN_E_IO, 0, "%s", strerror(errno));
	struct mb_bundle b;
	struct msign_diag bd;
	msign_diag_clear(&bd);
	int r = mb_bundle_open(abs, depth == 0 ? o->bundle_version : NULL, &b, &bd);
	free(abs);
	/* (a version asked for that is not there: the caller's mistake, said
	 * as such, not a verdict on the bundle) */
	bool asked = depth == 0 && o->bundle_version != NULL &&
		     (r == MSIGN_E_ARG || r == MSIGN_E_NOT_FOUND);
	if (r == MSIGN_E_IO || r == MSIGN_E_NOMEM || asked) {
		if (d != NULL)
			*d = bd;
		return r;
	}
	if (r != 0) {
		bv_fail(vr, MSIGN_VERIFY_BUNDLE, NULL);
		return 0;
	}
	vr->bkind = b.kind;
	vr->is_app = b.package_type != NULL && strcmp(b.package_type, "APPL") == 0;
	vr->seal_root = strdup(b.seal_root);
	uint8_t *cr_bytes = NULL;
	size_t cr_len = 0;
	struct mb_resources cr;
	memset(&cr, 0, sizeof(cr));
	char *exec = NULL;
	struct msign_image *img = NULL;
	if (vr->seal_root == NULL) {
		r = msign_diag_set(d, MSIGN_E_NOMEM, 0, "out of memory");
		goto out;
	}
	uint32_t mask = 0;
	if ((b.exec_rel != NULL && (exec = mb_path_join(b.seal_root, b.exec_rel)) == NULL) ||
	    (vr->exec = malloc(sizeof(*vr->exec))) == NULL) {
		r = msign_diag_set(d, MSIGN_E_NOMEM, 0, "out of memory");
		goto out;
	}
	if ((r = mb_read_cr(b.root_fd, &cr_bytes, &cr_len, d)))
		goto out;
	/* 1. the main executable (an Info.plist-only bundle: the files of
	 * _CodeSignature, the Info.plist as the code), bound to its Info.plist
	 * and CodeResources */
	struct msign_verify_opts eo = *o;
	eo.bundle = !(bflags & BV_BASIC);
	if (b.exec_rel == NULL) {
		vr->detached = true;
		r = mb_detached_verify(&b, &eo, cr_bytes, cr_len, vr->exec, &mask, d);
	} else {
		struct msign_diag id;
		msign_diag_clear(&id);
		r = msign_image_open(exec, &img, &id);
		if (r == MSIGN_E_IO || r == MSIGN_E_NOMEM) {
			if (d != NULL)
				*d = id;
			goto out;
		}
		if (r != 0) {
			r = 0;
			bv_fail(vr, MSIGN_VERIFY_BAD_MACHO, NULL);
			goto out;
		}
		eo.info_plist = b.info;
		eo.info_plist_len = b.info_len;
		eo.resources = cr_bytes;
		eo.resources_len = cr_len;
		r = msign_verify_image(img, &eo, vr->exec, d);
		vr->has_exec_result = true;
	}
	if (r == MSIGN_E_VERIFY) {
		r = 0;
		bv_fail(vr, vr->exec->kind, NULL);
		goto out;
	}
	if (r || (bflags & BV_BASIC))
		goto out;
	if (exec != NULL)
		mask = bv_hash_mask(exec);
	/* 2. the seal */
	struct msign_diag pd;
	msign_diag_clear(&pd);
	if (cr_bytes == NULL || mb_cr_parse(cr_bytes, cr_len, &cr, &pd) != 0 ||
	    !cr.has_rules || !cr.has_files) {
		bv_fail(vr, cr_bytes == NULL ? MSIGN_VERIFY_NO_RESOURCES
					     : MSIGN_VERIFY_RESOURCE_DIR, NULL);
		goto out;
	}
	vr->sealed = true;
	vr->version = cr.has_files2 && cr.has_rules2 ? 2 : 1;
	vr->rules = (uint32_t)(vr->version == 2 ? cr.rules2.n : cr.rules.n);
	vr->files = (uint32_t)(vr->version == 2 ? cr.files2.n : cr.files.n);
	struct bv_level lv = { .o = o, .bflags = bflags, .b = &b, .vr = vr,
			       .log = log != NULL ? log : vr, .depth = depth };
	struct mb_check_opts co = {
		.hash_mask = mask,
		.strict = true, /* codesign's default (kSecCSStrictValidate) */
		.restrict_symlinks = (bflags & MSIGN_VERIFY_F_STRICT_RESOURCES) != 0,
		.restrict_sideband = (bflags & MSIGN_VERIFY_F_STRICT_RESOURCES) != 0,
		.threads = o->threads, .nested = bv_nested, .nested_arg = &lv };
	struct msign_diag cd;
	msign_diag_clear(&cd);
	int cr_r = mb_check_resources(&b, &cr, &co, &vr->check, &cd);
	if (cr_r != 0 && vr->kind == MSIGN_VERIFY_VALID) {
		if (cr_r == MSIGN_E_NOMEM || cr_r == MSIGN_E_IO) {
			if (d != NULL)
				*d = cd;
			r = cr_r;
			goto out;
		}
		bv_fail(vr, MSIGN_VERIFY_BUNDLE, vr->check.error[0] ? vr->check.error : cd.msg);
	}
	if (vr->check.error[0] != '\0')
		bv_fail(vr, MSIGN_VERIFY_BUNDLE, vr->check.error);
	if (vr->check.n > 0) {
		/* every problem nested code: codesign's "nested code is modified" */
		bool all_nested = true;
		const struct mb_seals *sl = vr->version == 2 ? &cr.files2 : &cr.files;
		for (size_t i = 0; i < vr->check.n && all_nested; i++) {
			const struct mb_problem *p = &vr->check.v[i];
			bool nested = false;
			for (size_t k = 0; p->kind == MB_MODIFIED && k < sl->n; k++)
				if (strcmp(sl->v[k].path, p->path) == 0)
					nested = sl->v[k].kind == MB_SEAL_NESTED;
			all_nested = nested;
		}
		bv_fail(vr, all_nested ? MSIGN_VERIFY_NESTED : MSIGN_VERIFY_RESOURCES, NULL);
	}
out:
	if (vr->has_exec_result && depth == 0)
		vr->img = img; /* the bytes the caller shows are the ones checked */
	else
		msign_image_free(img);
	free(exec);
	free(cr_bytes);
	mb_resources_free(&cr);
	mb_bundle_close(&b);
	return r;
}

int mb_verify_dir(const char *path, const struct msign_verify_opts *o,
		  unsigned bflags, struct mb_vresult *vr, struct msign_diag *d)
{
	return bv_verify(path, o, bflags, 0, vr, NULL, d);
}

void mb_vresult_free(struct mb_vresult *vr)
{
	for (size_t i = 0; i < vr->nevents; i++)
		free(vr->events[i]);
	free(vr->events);
	free(vr->subcomponent);
	free(vr->seal_root);
	msign_image_free(vr->img);
	free(vr->exec);
	mb_check_free(&vr->check);
	memset(vr, 0, sizeof(*vr));
}
