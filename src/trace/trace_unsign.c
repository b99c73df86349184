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
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

/* arm64 macOS runs nothing unsigned: the arm64 and arm64e slices of the
 * copy are signed ad hoc by msign's signer. Other slices stay unsigned;
 * on any other host the arm64 signature is simply never looked at. */
static int adhoc_arm64(const char *path, const char *base,
		       struct msign_diag *d)
{
	struct msign_image *img = NULL;
	int r = msign_image_open(path, &img, d);
	if (r != 0)
		return r;
	char arch[MSIGN_MAX_SLICES][16];
	uint32_t n = 0;
	for (uint32_t i = 0; i < img->nslices; i++) {
		const struct msign_slice *sl = &img->slices[i];
		const char *name = msign_arch_name(sl->cputype, sl->cpusubtype);
		if (sl->err == 0 && sl->cputype == MSIGN_CPU_TYPE_ARM64 &&
		    name != NULL)
			snprintf(arch[n++], sizeof(arch[0]), "%s", name);
	}
	msign_image_free(img);
	for (uint32_t i = 0; i < n && r == 0; i++) {
		struct msign_sign_opts so;
		struct msign_sign_result res;
		memset(&so, 0, sizeof(so));
		so.file_name = base;
		so.arch = arch[i];
		so.force = true;
		r = msign_sign_run(path, path, &so, &res, d);
	}
	return r;
}

/* The thin arm64 copy: one slice of the file, its cpusubtype rewritten
 * to CPU_SUBTYPE_ARM64_ALL (capability bits, the pointer-auth ABI and its
 * version, cleared too) when it was arm64e. The slice is looked up again
 * in the file being copied, which may have changed since the plan. */
struct thin_arg {
	const struct msign_trace_plan *plan;
};

#define MH_CPUSUBTYPE_OFF 8 /* mach_header: magic, cputype, cpusubtype */

static int thin_plan(const struct msign_image *img, struct msign_plan *plan,
		     void *arg, struct msign_diag *d)
{
	const struct thin_arg *t = arg;
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

/* What was written is one arm64 Mach-O of the subtype planned. */
static int thin_check(const uint8_t *data, size_t len, void *arg,
		      struct msign_diag *d)
{
	const struct thin_arg *t = arg;
	struct msign_image *img = NULL;
	int r = msign_image_parse(data, len, &img, d);
	if (r != 0)
		return r;
	if (img->is_fat || img->nslices != 1 || img->slices[0].err != 0 ||
	    img->slices[0].cputype != MSIGN_CPU_TYPE_ARM64 ||
	    (t->plan->rewrite && img->slices[0].cpusubtype != 0))
		r = msign_diag_set(d, MSIGN_E_INTERNAL, 0,
				   "the arm64 copy is not the thin arm64 file planned");
	msign_image_free(img);
	return r;
}

int msign_trace_unsign_copy(const char *target, const char *dir,
			    const struct msign_trace_plan *plan, char *copy,
			    size_t copy_len, struct msign_diag *d)
{
	const char *base = strrchr(target, '/');
	base = base != NULL ? base + 1 : target;
	if ((size_t)snprintf(copy, copy_len, "%s/%s", dir, base) >= copy_len) {
		copy[0] = '\0';
		return msign_diag_set(d, MSIGN_E_LIMIT, 0, "%s/%s: path too long",
				      dir, base);
	}
	struct msign_strip_result res;
	const char *from = target;
	int r = 0;
	if (plan != NULL && plan->kind == MSIGN_TRACE_PLAN_ARM64) {
		/* the slice first, then its signature removed in place */
		struct thin_arg t = { plan };
		r = msign_edit_file(target, copy, thin_plan, NULL, &t,
				    thin_check, &t, d);
		from = copy;
	} else if (plan != NULL && plan->kind != MSIGN_TRACE_PLAN_COPY &&
		   plan->kind != MSIGN_TRACE_PLAN_SUSPENDED) {
		copy[0] = '\0';
		return msign_diag_set(d, MSIGN_E_ARG, 0, "%s: no copy to make (%s)",
				      target, msign_trace_plan_text(plan->kind));
	}
	if (r == 0)
		r = msign_strip_run(from, copy, NULL, &res, d);
	if (r != 0) {
		(void)unlink(copy);
		copy[0] = '\0';
		return r;
	}
	/* A set-ID copy would be restricted again (and a set-ID file in a
	 * temporary folder is nothing to leave around). */
	if (chmod(copy, 0700) != 0) {
		r = msign_diag_set(d, MSIGN_E_IO, 0, "chmod %s: %s", copy,
				   strerror(errno));
		(void)unlink(copy);
		copy[0] = '\0';
		return r;
	}
	if ((r = adhoc_arm64(copy, base, d)) != 0) {
		(void)unlink(copy);
		copy[0] = '\0';
		return r;
	}
	return 0;
}

/* ---- signals while a trace runs -------------------------------------------- */

static volatile sig_atomic_t g_signal;
static volatile sig_atomic_t g_forward;  /* the signal to pass on */
static volatile sig_atomic_t g_nforward; /* how many were sent to msign */
static const int guarded[] = { SIGINT, SIGTERM, SIGHUP };
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

void msign_trace_guard_end(void)
{
	for (size_t i = 0; i < sizeof(guarded) / sizeof(guarded[0]); i++)
		sigaction(guarded[i], &g_old[i], NULL);
	sigaction(SIGPIPE, &g_old_pipe, NULL);
	sigaction(SIGCHLD, &g_old_chld, NULL);
}
