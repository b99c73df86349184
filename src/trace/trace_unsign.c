/* msign trace --unsign: the signature obstacle (shared/spec/trace.md).
 *
 * With System Integrity Protection on, dtrace may not control Apple
 * platform binaries, nor code whose signature restricts it. A private copy
 * without the signature is ordinary code again. This module decides what a
 * target is, makes the copy with msign's own strip (on Apple Silicon the
 * copy trace_host.c plans: a thin arm64 one, say), and keeps the
 * temporary folder from outliving a Ctrl-C: signals are caught while a
 * trace runs, so every exit goes through the cleanup in msign_trace_run. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/dirsafe.h"
#include "sig/codesign.h"
#include "sig/req.h"
#include "sig/cms.h"
#include "sig/ent.h"
#include "hash/hash.h"
#include "write/write.h"
#include "write/strip.h"
#include "sign/sign.h"
#include "verify/verify.h"
#include "trace/trace.h"

#define GET_TASK_ALLOW "com.apple.security.get-task-allow"

/* ---- what the target is --------------------------------------------------- */

static bool leaf_is_apple_software(const struct msign_cms_info *ci)
{
	if (ci->ncerts == 0 || ci->chain[0].cn == NULL ||
	    strcmp(ci->chain[0].cn, "Software Signing") != 0)
		return false;
	for (uint32_t i = 0; i < ci->ncerts; i++)
		if (ci->chain[i].apple_root)
			return true;
	return false;
}

/* <key>com.apple.security.get-task-allow</key> followed by <true/>. */
static bool allows_task(const struct msign_sig *sig)
{
	const struct msign_blob *b = sig->ent_xml;
	if (b == NULL || b->len <= MSIGN_BLOB_HEADER_LEN)
		return false;
	const char *x = (const char *)msign_blob_payload(b);
	size_t n = msign_blob_payload_len(b);
	const char *k = memmem(x, n, GET_TASK_ALLOW "</key>",
			       sizeof(GET_TASK_ALLOW "</key>") - 1);
	if (k == NULL)
		return false;
	size_t at = (size_t)(k - x) + sizeof(GET_TASK_ALLOW "</key>") - 1;
	while (at < n && strchr(" \t\r\n", x[at]) != NULL)
		at++;
	return n - at >= 7 && memcmp(x + at, "<true/>", 7) == 0;
}

static enum msign_trace_target classify_slice(const struct msign_slice *sl)
{
	for (uint32_t i = 0; i < sl->nsegments; i++)
		if (strcmp(sl->segments[i].name, "__RESTRICT") == 0)
			return MSIGN_TRACE_TARGET_RESTRICTED;
	struct msign_sig sig;
	int r = msign_sig_parse(sl, &sig, NULL);
	if (r == MSIGN_E_NOT_SIGNED)
		return MSIGN_TRACE_TARGET_UNSIGNED;
	if (r != 0)
		return MSIGN_TRACE_TARGET_SIGNED; /* damaged: dtrace decides */
	const struct msign_codedir *cd = &sig.cds[sig.best];
	if (cd->platform != 0)
		return MSIGN_TRACE_TARGET_PLATFORM;
	if (sig.cms != NULL && sig.cms->len > MSIGN_BLOB_HEADER_LEN) {
		struct msign_cms_info ci;
		memset(&ci, 0, sizeof(ci));
		if (msign_cms_parse(msign_blob_payload(sig.cms),
				    msign_blob_payload_len(sig.cms), &ci,
				    NULL) == 0) {
			bool apple = leaf_is_apple_software(&ci);
			msign_cms_info_free(&ci);
			if (apple)
				return MSIGN_TRACE_TARGET_PLATFORM;
		}
	}
	if ((cd->flags & MSIGN_CS_RESTRICT) != 0 ||
	    ((cd->flags & MSIGN_CS_RUNTIME) != 0 && !allows_task(&sig)))
		return MSIGN_TRACE_TARGET_RESTRICTED;
	return MSIGN_TRACE_TARGET_SIGNED;
}

int msign_trace_classify(const char *path, enum msign_trace_target *kind,
			 struct msign_diag *d)
{
	*kind = MSIGN_TRACE_TARGET_OTHER;
	struct stat st;
	if (stat(path, &st) != 0)
		return msign_diag_set(d, MSIGN_E_IO, 0, "%s: %s", path,
				      strerror(errno));
	struct msign_image *img = NULL;
	if (msign_image_open(path, &img, NULL) != 0)
		return 0; /* not a Mach-O we can read: a script, an ELF file */
	enum msign_trace_target k = MSIGN_TRACE_TARGET_UNSIGNED;
	for (uint32_t i = 0; i < img->nslices; i++) {
		if (img->slices[i].err != 0)
			continue;
		enum msign_trace_target s = classify_slice(&img->slices[i]);
		if (s > k) /* PLATFORM > RESTRICTED > SIGNED > UNSIGNED, by value */
			k = s;
	}
	msign_image_free(img);
	_Static_assert(MSIGN_TRACE_TARGET_PLATFORM > MSIGN_TRACE_TARGET_RESTRICTED &&
		       MSIGN_TRACE_TARGET_RESTRICTED > MSIGN_TRACE_TARGET_SIGNED &&
		       MSIGN_TRACE_TARGET_SIGNED > MSIGN_TRACE_TARGET_UNSIGNED,
		       "the order classify relies on");
	if ((st.st_mode & (S_ISUID | S_ISGID)) != 0 &&
	    k < MSIGN_TRACE_TARGET_RESTRICTED)
		k = MSIGN_TRACE_TARGET_RESTRICTED;
	*kind = k;
	return 0;
}

const char *msign_trace_target_text(enum msign_trace_target kind)
{
	switch (kind) {
	case MSIGN_TRACE_TARGET_OTHER:
		return "not a Mach-O file";
	case MSIGN_TRACE_TARGET_UNSIGNED:
		return "an unsigned Mach-O file";
	case MSIGN_TRACE_TARGET_SIGNED:
		return "a signed Mach-O file";
	case MSIGN_TRACE_TARGET_PLATFORM:
		return "an Apple platform binary";
	case MSIGN_TRACE_TARGET_RESTRICTED:
		return "restricted by its signature or mode (restrict flag, hardened runtime, __RESTRICT, set-ID bit)";
	}
	return "unknown";
}

/* ---- the copy ---------------------------------------------------------------- */

/* The thin arm64 copy: one slice of the file, its cpusubtype rewritten
 * to CPU_SUBTYPE_ARM64_ALL (capability bits, the pointer-auth ABI and its
 * version, cleared too) when it was arm64e. The slice is looked up again
 * in the bytes read for the copy, which may differ from the plan's. */
struct thin_arg {
	const struct msign_trace_plan *plan;
};

#define MH_CPUSUBTYPE_OFF 8 /* mach_header: magic, cputype, cpusubtype */
#define COPY_MAX ((uint64_t)2 << 30) /* read whole into memory: bounded */

static int thin_plan(const struct msign_image *img, struct msign_plan *plan,
		     const struct thin_arg *t, struct msign_diag *d)
{
	int i = t->plan->slice;
	if (i < 0 || (uint32_t)i >= img->nslices)
		return msign_diag_set(d, MSIGN_E_INVALID, 0,
				      "slice %d: not in the file (it changed?)", i);
	const struct msign_slice *sl = &img->slices[i];
	if (sl->err != 0 || sl->cputype != MSIGN_CPU_TYPE_ARM64 ||
	    sl->big_endian || !sl->is64 || sl->size < MSIGN_MH_HEADER64_LEN)
		return msign_diag_set(d, MSIGN_E_INVALID, sl->off,
				      "slice %d: no longer a readable arm64 slice", i);
	plan->out_len = sl->size;
	int r = msign_plan_copy(plan, sl->off, 0, sl->size);
	if (r == 0 && t->plan->rewrite) {
		static const uint8_t all[4] = { 0, 0, 0, 0 }; /* little-endian */
		r = msign_plan_patch(plan, MH_CPUSUBTYPE_OFF, all, sizeof(all));
	}
	return r;
}

/* The copy while it is made: its bytes, in memory msign owns, parsed. */
struct mem {
	uint8_t *buf;
	size_t len;
	struct msign_image *img;
};

static void mem_free(struct mem *m)
{
	msign_image_free(m->img);
	free(m->buf);
	memset(m, 0, sizeof(*m));
}

/* The file's bytes, read once through one descriptor (a file that
 * changes meanwhile gives whatever was read, which is then checked like
 * any input). */
static int mem_read(struct mem *m, const char *path, struct msign_diag *d)
{
	int fd = msign_input_open(path, d);
	if (fd < 0)
		return fd;
	struct stat st;
	int r = 0;
	if (fstat(fd, &st) != 0)
		r = msign_diag_set(d, MSIGN_E_IO, 0, "%s: %s", path, strerror(errno));
	else if (st.st_size < 0 || (uint64_t)st.st_size > COPY_MAX)
		r = msign_diag_set(d, MSIGN_E_LIMIT, 0,
				   "%s: %lld bytes, more than msign copies for tracing (2 GiB)",
				   path, (long long)st.st_size);
	size_t n = r == 0 ? (size_t)st.st_size : 0, got = 0;
	if (r == 0 && (m->buf = malloc(n > 0 ? n : 1)) == NULL)
		r = MSIGN_E_NOMEM;
	while (r == 0 && got < n) {
		ssize_t k = pread(fd, m->buf + got, n - got, (off_t)got);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			r = msign_diag_set(d, MSIGN_E_IO, 0, "%s: %s", path,
					   strerror(errno));
		else if (k == 0)
			r = msign_diag_set(d, MSIGN_E_IO, 0,
					   "%s: shorter than its size while read (it changed)",
					   path);
		else
			got += (size_t)k;
	}
	close(fd);
	m->len = n;
	if (r == 0)
		r = msign_image_parse(m->buf, m->len, &m->img, d);
	return r;
}

/* The plan's output replaces m (the plan's source). */
static int mem_apply(struct mem *m, struct msign_plan *plan, struct msign_diag *d)
{
	uint8_t *out = NULL;
	int r = msign_plan_render(plan, m->buf, m->len, &out, d);
	size_t len = (size_t)plan->out_len;
	msign_plan_free(plan);
	if (r != 0)
		return r;
	mem_free(m);
	m->buf = out;
	m->len = len;
	return msign_image_parse(m->buf, m->len, &m->img, d);
}

/* What the tools run: one arm64 Mach-O of the subtype planned (a thin
 * copy), every arm64/arm64e slice signed ad hoc and verifying, every
 * other slice unsigned. */
static int mem_check(const struct mem *m, const struct msign_trace_plan *plan,
		     struct msign_diag *d)
{
	const struct msign_image *img = m->img;
	if (plan != NULL && plan->kind == MSIGN_TRACE_PLAN_ARM64 &&
	    (img->is_fat || img->nslices != 1 || img->slices[0].err != 0 ||
	     img->slices[0].cputype != MSIGN_CPU_TYPE_ARM64 ||
	     (plan->rewrite && img->slices[0].cpusubtype != 0)))
		return msign_diag_set(d, MSIGN_E_INTERNAL, 0,
				      "the arm64 copy is not the thin arm64 file planned");
	for (uint32_t i = 0; i < img->nslices; i++) {
		const struct msign_slice *sl = &img->slices[i];
		if (sl->err != 0)
			return msign_diag_set(d, MSIGN_E_INTERNAL, 0,
					      "slice %u of the copy does not parse", i);
		if (sl->cputype != MSIGN_CPU_TYPE_ARM64) {
			if (sl->has_codesig)
				return msign_diag_set(d, MSIGN_E_INTERNAL, 0,
						      "slice %u of the copy is still signed", i);
			continue;
		}
		struct msign_verify_opts vo = {
			.arch = msign_arch_name(sl->cputype, sl->cpusubtype) };
		struct msign_verify_result vr;
		int r = vo.arch == NULL ? MSIGN_E_VERIFY
					: msign_verify_image(img, &vo, &vr, d);
		if (r != 0)
			return msign_diag_set(d, MSIGN_E_INTERNAL, 0,
					      "slice %u of the copy does not verify", i);
	}
	return 0;
}

/* arm64 macOS runs nothing unsigned: the arm64 and arm64e slices are
 * signed ad hoc by msign's signer, one after the other. */
static int mem_adhoc_arm64(struct mem *m, const char *base, struct msign_diag *d)
{
	char arch[MSIGN_MAX_SLICES][16];
	uint32_t n = 0;
	for (uint32_t i = 0; i < m->img->nslices; i++) {
		const struct msign_slice *sl = &m->img->slices[i];
		const char *name = msign_arch_name(sl->cputype, sl->cpusubtype);
		if (sl->err == 0 && sl->cputype == MSIGN_CPU_TYPE_ARM64 &&
		    name != NULL)
			snprintf(arch[n++], sizeof(arch[0]), "%s", name);
	}
	int r = 0;
	for (uint32_t i = 0; i < n && r == 0; i++) {
		struct msign_sign_opts so;
		struct msign_sign_result res;
		struct msign_plan plan;
		memset(&so, 0, sizeof(so));
		so.file_name = base;
		so.arch = arch[i];
		so.force = true;
		msign_plan_init(&plan);
		r = msign_sign_plan(m->img, &so, &plan, &res, d);
		if (r == 0)
			r = mem_apply(m, &plan, d);
		else
			msign_plan_free(&plan);
	}
	return r;
}

/* m into a new file name in td, through td's descriptor. */
static int mem_write(const struct mem *m, const struct msign_trace_dir *td,
		     const char *name, struct msign_diag *d)
{
	int fd = openat(td->fd, name,
			O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0700);
	if (fd < 0)
		return msign_diag_set(d, MSIGN_E_IO, 0, "%s/%s: %s", td->path, name,
				      strerror(errno));
	int r = 0;
	for (size_t done = 0; r == 0 && done < m->len;) {
		ssize_t k = write(fd, m->buf + done, m->len - done);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			r = msign_diag_set(d, MSIGN_E_IO, 0, "%s/%s: %s", td->path,
					   name, k < 0 ? strerror(errno) : "nothing written");
		else
			done += (size_t)k;
	}
	/* exactly 0700 whatever the umask; never set-ID (it would be
	 * restricted again, and is nothing to leave in a temporary folder) */
	struct stat st;
	if (r == 0 && (fchmod(fd, 0700) != 0 || fstat(fd, &st) != 0))
		r = msign_diag_set(d, MSIGN_E_IO, 0, "%s/%s: %s", td->path, name,
				   strerror(errno));
	if (r == 0 && (!S_ISREG(st.st_mode) || st.st_nlink != 1 ||
		       st.st_uid != geteuid() || (uint64_t)st.st_size != m->len))
		r = msign_diag_set(d, MSIGN_E_IO, 0,
				   "%s/%s: not the file msign wrote", td->path, name);
	if (close(fd) != 0 && r == 0)
		r = msign_diag_set(d, MSIGN_E_IO, 0, "%s/%s: %s", td->path, name,
				   strerror(errno));
	if (r != 0)
		(void)unlinkat(td->fd, name, 0);
	return r;
}

int msign_trace_unsign_copy(const struct msign_trace_dir *td,
			    const char *target,
			    const struct msign_trace_plan *plan, char *copy,
			    size_t copy_len, struct msign_diag *d)
{
	copy[0] = '\0';
	const char *base = strrchr(target, '/');
	base = base != NULL ? base + 1 : target;
	if (base[0] == '\0' || strlen(base) > NAME_MAX)
		return msign_diag_set(d, MSIGN_E_ARG, 0, "%s: no file name", target);
	if (plan != NULL && plan->kind != MSIGN_TRACE_PLAN_ARM64 &&
	    plan->kind != MSIGN_TRACE_PLAN_COPY &&
	    plan->kind != MSIGN_TRACE_PLAN_SUSPENDED)
		return msign_diag_set(d, MSIGN_E_ARG, 0, "%s: no copy to make (%s)",
				      target, msign_trace_plan_text(plan->kind));
	char path[PATH_MAX + NAME_MAX + 2];
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", td->path, base) >= sizeof(path) ||
	    strlen(path) >= copy_len)
		return msign_diag_set(d, MSIGN_E_LIMIT, 0, "%s/%s: path too long",
				      td->path, base);
	struct mem m = { NULL, 0, NULL };
	struct msign_plan pl;
	int r = mem_read(&m, target, d);
	if (r == 0 && plan != NULL && plan->kind == MSIGN_TRACE_PLAN_ARM64) {
		/* the slice first, then its signature removed */
		struct thin_arg t = { plan };
		msign_plan_init(&pl);
		r = thin_plan(m.img, &pl, &t, d);
		if (r == 0)
			r = mem_apply(&m, &pl, d);
		else
			msign_plan_free(&pl);
	}
	if (r == 0) {
		struct msign_strip_result sres;
		msign_plan_init(&pl);
		r = msign_strip_plan(m.img, NULL, &pl, &sres, d);
		if (r == 0 && sres.changed)
			r = mem_apply(&m, &pl, d);
		else
			msign_plan_free(&pl);
	}
	if (r == 0)
		r = mem_adhoc_arm64(&m, base, d);
	if (r == 0)
		r = mem_check(&m, plan, d);
	if (r == 0)
		r = mem_write(&m, td, base, d);
	mem_free(&m);
	if (r == 0)
		snprintf(copy, copy_len, "%s", path);
	return r;
}

/* ---- the private folder ---------------------------------------------------- */

int msign_trace_dir_make(struct msign_trace_dir *td, const char *tmp,
			 struct msign_diag *d)
{
	td->parent = td->fd = -1;
	td->name[0] = td->path[0] = '\0';
	char real[PATH_MAX], bad[PATH_MAX];
	if (realpath(tmp, real) == NULL)
		return msign_diag_set(d, MSIGN_E_IO, 0, "TMPDIR %s: %s", tmp,
				      strerror(errno));
	/* The tools get the folder's path (dtrace runs the copy by name):
	 * nobody but the caller and root may be able to rename a folder on
	 * the way to it. */
	bool others;
	int r = msign_dir_chain_check(real, bad, sizeof(bad), &others);
	if (r == 1)
		return msign_diag_set(d, MSIGN_E_IO, 0,
				      "TMPDIR %s: %s %s, so msign's folder there could be swapped; set TMPDIR to a private folder",
				      tmp, bad,
				      others ? "may be written by others and is not sticky"
					     : "belongs to another user");
	if (r != 0 && errno == ENOTDIR && strcmp(bad, real) == 0)
		return msign_diag_set(d, MSIGN_E_IO, 0, "TMPDIR %s: not a folder", tmp);
	if (r != 0)
		return msign_diag_set(d, MSIGN_E_IO, 0, "TMPDIR %s: %s: %s", tmp, bad,
				      strerror(errno));
	char dir[PATH_MAX];
	if ((size_t)snprintf(dir, sizeof(dir), "%s/msign-trace.XXXXXX",
			     strcmp(real, "/") == 0 ? "" : real) >= sizeof(dir))
		return msign_diag_set(d, MSIGN_E_LIMIT, 0, "TMPDIR %s: too long", tmp);
	td->parent = open(real, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (td->parent < 0)
		return msign_diag_set(d, MSIGN_E_IO, 0, "TMPDIR %s: %s", tmp,
				      strerror(errno));
	if (mkdtemp(dir) == NULL) {
		r = msign_diag_set(d, MSIGN_E_IO, 0, "mkdtemp %s: %s", dir,
				   strerror(errno));
		close(td->parent);
		td->parent = -1;
		return r;
	}
	snprintf(td->name, sizeof(td->name), "%s", strrchr(dir, '/') + 1);
	snprintf(td->path, sizeof(td->path), "%s", dir);
	/* ours, private, and not a link */
	struct stat st;
	td->fd = openat(td->parent, td->name,
			O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	/* 0700 whatever the umask (0277 would leave it unwritable) */
	if (td->fd < 0 || fstat(td->fd, &st) != 0 || !S_ISDIR(st.st_mode) ||
	    st.st_uid != geteuid() || (st.st_mode & 077) != 0 ||
	    fchmod(td->fd, 0700) != 0) {
		(void)unlinkat(td->parent, td->name, AT_REMOVEDIR);
		if (td->fd >= 0)
			close(td->fd);
		close(td->parent);
		td->parent = td->fd = -1;
		return msign_diag_set(d, MSIGN_E_IO, 0,
				      "%s: not the private folder mkdtemp made", dir);
	}
	return 0;
}

int msign_trace_dir_remove(struct msign_trace_dir *td,
			   const char *const *entries, struct msign_diag *d)
{
	if (td->parent < 0)
		return 0;
	for (size_t i = 0; entries != NULL && entries[i] != NULL; i++)
		if (entries[i][0] != '\0')
			(void)unlinkat(td->fd, entries[i], 0);
	close(td->fd);
	int r = 0;
	if (unlinkat(td->parent, td->name, AT_REMOVEDIR) != 0)
		r = msign_diag_set(d, MSIGN_E_IO, 0, "cannot remove %s: %s",
				   td->path, strerror(errno));
	close(td->parent);
	td->parent = td->fd = -1;
	return r;
}

/* ---- signals while a trace runs -------------------------------------------- */

static volatile sig_atomic_t g_signal;
static volatile sig_atomic_t g_forward;  /* the signal to pass on */
static volatile sig_atomic_t g_nforward; /* how many were sent to msign */
static const int guarded[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
static struct sigaction g_old[sizeof(guarded) / sizeof(guarded[0])];
static struct sigaction g_old_pipe, g_old_chld;

/* Only notes the signal: the run loop passes it on between its waitpid
 * calls, so it never reaches a PID already reaped (and perhaps reused). */
static void on_signal(int sig, siginfo_t *si, void *ctx)
{
	(void)ctx;
	int e = errno; /* nothing here should touch it; keep it so anyway */
	g_signal = sig;
	/* ^C on a terminal reaches the whole foreground group, the tool and
	 * the command included; only a signal sent to msign alone is passed
	 * on. */
	if (si != NULL && (si->si_code == SI_USER || si->si_code == SI_QUEUE)) {
		g_forward = sig;
		g_nforward = g_nforward + 1;
	}
	errno = e;
}

void msign_trace_guard_begin(void)
{
	g_signal = 0;
	g_forward = 0;
	g_nforward = 0;
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_signal;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(guarded) / sizeof(guarded[0]); i++) {
		/* A signal the caller ignores (nohup) stays ignored, for msign
		 * and for the command, which inherits SIG_IGN across exec but
		 * would get SIG_DFL in place of msign's handler. */
		sigaction(guarded[i], NULL, &g_old[i]);
		if ((g_old[i].sa_flags & SA_SIGINFO) == 0 &&
		    g_old[i].sa_handler == SIG_IGN)
			continue;
		sigaction(guarded[i], &sa, NULL);
	}
	/* A reader of the trace that goes away (| head) must not kill msign
	 * before the cleanup; the tools get the default back when started. */
	sa.sa_handler = SIG_IGN;
	sa.sa_flags = 0;
	sigaction(SIGPIPE, &sa, &g_old_pipe);
	/* An inherited SIG_IGN would reap the tool unseen, and with it the
	 * command's exit status. */
	sa.sa_handler = SIG_DFL;
	sigaction(SIGCHLD, &sa, &g_old_chld);
}

int msign_trace_guard_forward(unsigned *seen)
{
	unsigned n = (unsigned)g_nforward;
	if (n == *seen)
		return 0;
	*seen = n;
	return (int)g_forward;
}

int msign_trace_guard_signal(void)
{
	return (int)g_signal;
}

void msign_trace_guard_child(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(guarded) / sizeof(guarded[0]); i++)
		if ((g_old[i].sa_flags & SA_SIGINFO) != 0 ||
		    g_old[i].sa_handler != SIG_IGN)
			sigaction(guarded[i], &sa, NULL);
}

void msign_trace_guard_end(void)
{
	for (size_t i = 0; i < sizeof(guarded) / sizeof(guarded[0]); i++)
		sigaction(guarded[i], &g_old[i], NULL);
	sigaction(SIGPIPE, &g_old_pipe, NULL);
	sigaction(SIGCHLD, &g_old_chld, NULL);
}
