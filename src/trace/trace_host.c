/* msign trace --unsign: which copy of a command this Mac can run and
 * dtrace can trace (README, "The signature obstacle and --unsign").
 *
 * The host facts come through one seam (msign_trace_host_read, called once
 * by the command line); the decision from them is a pure function of the
 * facts and the file's slices, so the tests can play any Mac. The order,
 * from Apple's sources:
 *  - xnu's exec_mach_imgact (bsd/kern/kern_exec.c, macOS 11 and later)
 *    refuses an arm64e image of pointer-auth ABI version 0 unless it is a
 *    platform binary or the -arm64e_preview_abi boot-arg is set. Apple's
 *    own programs are exactly that (cpusubtype 0x80000002), and an ad-hoc
 *    copy is no platform binary. With the boot-arg the arm64e copy runs:
 *    it is the original's code as it is, so it comes first.
 *  - Without it, the same code marked plain arm64 (CPU_SUBTYPE_ARM64_ALL)
 *    is loaded without pointer authentication for the process (the
 *    IMGPF_NOJOP path), which MacPorts' trace mode relies on; a plain
 *    arm64 slice of the file, where there is one, needs no rewriting.
 *  - Only an x86_64 slice left: it runs under Rosetta, and Apple's dtrace
 *    does not trace a translated process it starts itself (-c), so the
 *    copy is started suspended and handed to dtrace by PID.
 *  - Nothing of these: no copy can be traced, and msign says which
 *    setting would let dtrace trace the original. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#ifdef __APPLE__
#include <spawn.h>
#include <sys/sysctl.h>
#endif
#ifdef __linux__
#include <stdint.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#endif

#include "macho/macho.h"
#include "trace/trace.h"

#define SUBTYPE_MASK 0xff000000u /* capability bits (ABI, version) */
#define SUBTYPE_ARM64_ALL 0
#define SUBTYPE_ARM64_V8 1
#define BOOTARG_PREVIEW "-arm64e_preview_abi"

/* A boot-arg is a whole word of kern.bootargs. */
static bool has_word(const char *s, const char *w)
{
	size_t n = strlen(w);
	for (const char *p = s; (p = strstr(p, w)) != NULL; p += n) {
		bool start = p == s || p[-1] == ' ' || p[-1] == '\t';
		char e = p[n];
		if (start && (e == '\0' || e == ' ' || e == '\t' || e == '\n'))
			return true;
	}
	return false;
}

void msign_trace_host_parse(struct msign_trace_host *h, const char *arch,
			    const char *translated, const char *bootargs)
{
	memset(h, 0, sizeof(*h));
	if (arch != NULL && strcmp(arch, "arm64") == 0)
		h->arch = MSIGN_TRACE_HOST_ARM64;
	else if (arch != NULL && strcmp(arch, "x86_64") == 0)
		h->arch = MSIGN_TRACE_HOST_X86_64;
	h->translated = translated != NULL && strcmp(translated, "1") == 0;
	h->arm64e_preview = bootargs != NULL && has_word(bootargs, BOOTARG_PREVIEW);
}

void msign_trace_host_read(struct msign_trace_host *h)
{
	int hw_arm64 = -1; /* unknown */
	const char *translated = getenv("MSIGN_HOST_TRANSLATED");
	const char *bootargs = getenv("MSIGN_HOST_BOOTARGS");
#ifdef __APPLE__
	/* kern.bootargs and sysctl.proc_translated are readable without
	 * root; csrutil's state is not (it needs root and csrutil itself), so
	 * whether dtrace is exempt from SIP is not asked: dtrace says so. */
	char bbuf[4096];
	int v = 0;
	size_t len = sizeof(v);
	if (sysctlbyname("hw.optional.arm64", &v, &len, NULL, 0) == 0)
		hw_arm64 = v == 1;
	if (translated == NULL) {
		v = 0;
		len = sizeof(v);
		/* absent (ENOENT) on Intel Macs: not translated */
		if (sysctlbyname("sysctl.proc_translated", &v, &len, NULL, 0) == 0)
			translated = v == 1 ? "1" : "0";
	}
	if (bootargs == NULL) {
		len = sizeof(bbuf) - 1;
		if (sysctlbyname("kern.bootargs", bbuf, &len, NULL, 0) == 0) {
			bbuf[len < sizeof(bbuf) ? len : sizeof(bbuf) - 1] = '\0';
			bootargs = bbuf;
		}
	}
#endif
	msign_trace_host_parse(h, msign_host_family_pick(getenv("MSIGN_HOST_ARCH"),
							 hw_arm64, msign_host_built_for()),
			       translated, bootargs);
}

void msign_trace_plan_for(const struct msign_trace_host *h,
			  const struct msign_image *img,
			  struct msign_trace_plan *plan)
{
	memset(plan, 0, sizeof(*plan));
	plan->slice = -1;
	/* An Intel Mac (or any other host) runs the copy it always had. */
	if (h->arch != MSIGN_TRACE_HOST_ARM64)
		return;
	/* A translated msign starts dtrace translated too (a universal
	 * program started from Rosetta runs its x86_64 slice). */
	if (h->translated) {
		plan->kind = MSIGN_TRACE_PLAN_TRANSLATED;
		return;
	}
	int plain = -1, other = -1, x86 = -1;
	for (uint32_t i = 0; img != NULL && i < img->nslices; i++) {
		const struct msign_slice *sl = &img->slices[i];
		if (sl->err != 0 || sl->big_endian)
			continue;
		uint32_t sub = (uint32_t)sl->cpusubtype & ~SUBTYPE_MASK;
		if (sl->cputype == MSIGN_CPU_TYPE_ARM64) {
			if (sub == SUBTYPE_ARM64_ALL || sub == SUBTYPE_ARM64_V8) {
				if (plain < 0)
					plain = (int)i;
			} else if (other < 0) {
				other = (int)i; /* arm64e, or a subtype newer still */
			}
		} else if (sl->cputype == MSIGN_CPU_TYPE_X86_64 && x86 < 0) {
			x86 = (int)i;
		}
	}
	plan->fat = img != NULL && img->is_fat;
	if (plain >= 0 || other >= 0) {
		if (h->arm64e_preview)
			return; /* MSIGN_TRACE_PLAN_COPY: arm64e runs as it is */
		plan->kind = MSIGN_TRACE_PLAN_ARM64;
		plan->slice = plain >= 0 ? plain : other;
		plan->rewrite = plain < 0;
		plan->cpusubtype = img->slices[plan->slice].cpusubtype;
		return;
	}
	if (x86 >= 0) {
		plan->kind = MSIGN_TRACE_PLAN_SUSPENDED;
		plan->slice = x86;
		plan->cpusubtype = img->slices[x86].cpusubtype;
		return;
	}
	plan->kind = MSIGN_TRACE_PLAN_NONE;
}

const char *msign_trace_plan_text(enum msign_trace_plan_kind kind)
{
	switch (kind) {
	case MSIGN_TRACE_PLAN_COPY:
		return "every slice, arm64 and arm64e signed ad hoc";
	case MSIGN_TRACE_PLAN_ARM64:
		return "a thin arm64 copy, signed ad hoc";
	case MSIGN_TRACE_PLAN_SUSPENDED:
		return "the x86_64 copy, started suspended and traced by PID";
	case MSIGN_TRACE_PLAN_NONE:
		return "no slice this Mac runs";
	case MSIGN_TRACE_PLAN_TRANSLATED:
		return "msign runs under Rosetta";
	}
	return "unknown";
}

/* ---- starting a command suspended ------------------------------------------ */

enum msign_trace_start msign_trace_start_for(enum msign_trace_os os,
					     enum msign_trace_target kind)
{
	switch (os) {
	case MSIGN_TRACE_OS_MACOS:
		return MSIGN_TRACE_START_SPAWN;
	case MSIGN_TRACE_OS_LINUX:
		/* Linux cannot exec a Mach-O: the stand-in's -c plays it */
		return kind == MSIGN_TRACE_TARGET_OTHER ? MSIGN_TRACE_START_PTRACE
							: MSIGN_TRACE_START_DTRACE_C;
	case MSIGN_TRACE_OS_OTHER:
		break;
	}
	return MSIGN_TRACE_START_DTRACE_C;
}

enum msign_trace_start msign_trace_start_here(enum msign_trace_target kind)
{
#if defined(__APPLE__)
	return msign_trace_start_for(MSIGN_TRACE_OS_MACOS, kind);
#elif defined(__linux__)
	return msign_trace_start_for(MSIGN_TRACE_OS_LINUX, kind);
#else
	return msign_trace_start_for(MSIGN_TRACE_OS_OTHER, kind);
#endif
}

#if defined(__APPLE__) || defined(__linux__)
/* argv with the file msign classified as argv[0] (as dtrace -c ran it);
 * the strings are argv's. NULL: out of memory. */
static char **argv_at(const char *path, char *const *argv)
{
	size_t n = 0;
	while (argv[n] != NULL)
		n++;
	char **v = calloc(n + 1, sizeof(*v));
	if (v != NULL) {
		memcpy(v, argv, n * sizeof(*v));
		v[0] = (char *)path;
	}
	return v;
}
#endif

/* macOS: Apple's POSIX_SPAWN_START_SUSPENDED loads the image and leaves
 * the process stopped before any of it has run; kill(pid, SIGCONT)
 * resumes it (xnu's own tests do so). */
#ifdef __APPLE__
extern char **environ;

bool msign_trace_can_start_suspended(void)
{
	return true;
}

int msign_trace_spawn_suspended(const char *path, char *const *argv,
				pid_t *pid, struct msign_diag *d)
{
	char **v = argv_at(path, argv);
	if (v == NULL)
		return msign_diag_set(d, MSIGN_E_NOMEM, 0, "out of memory");
	posix_spawnattr_t a;
	posix_spawn_file_actions_t fa;
	sigset_t def;
	sigemptyset(&def);
	sigaddset(&def, SIGPIPE); /* msign ignores it; the command must not */
	int e = posix_spawn_file_actions_init(&fa);
	if (e != 0) {
		free(v);
		return msign_diag_set(d, MSIGN_E_NOMEM, 0, "out of memory");
	}
	/* the command gets stdin, stdout and stderr, and no other
	 * descriptor of msign's (Apple's POSIX_SPAWN_CLOEXEC_DEFAULT) */
	for (int fd = 0; fd <= 2 && e == 0; fd++)
		if (fcntl(fd, F_GETFD) != -1)
			e = posix_spawn_file_actions_addinherit_np(&fa, fd);
	if (e == 0)
		e = posix_spawnattr_init(&a);
	if (e == 0) {
		e = posix_spawnattr_setflags(&a, (short)(POSIX_SPAWN_START_SUSPENDED |
							 POSIX_SPAWN_SETSIGDEF |
							 POSIX_SPAWN_CLOEXEC_DEFAULT));
		if (e == 0)
			e = posix_spawnattr_setsigdefault(&a, &def);
		if (e == 0)
			e = posix_spawn(pid, path, &fa, &a, v, environ);
		posix_spawnattr_destroy(&a);
	}
	posix_spawn_file_actions_destroy(&fa);
	free(v);
	if (e != 0)
		return msign_diag_set(d, e == ENOENT ? MSIGN_E_NOT_FOUND : MSIGN_E_IO,
				      0, "cannot run %s: %s", path, strerror(e));
	return 0;
}
#elif defined(__linux__)
/* Linux: what START_SUSPENDED does, with ptrace. The child asks to be
 * traced and execs; the kernel stops it with SIGTRAP once the new image
 * is in place, before its first instruction; msign detaches with SIGSTOP
 * in place of that SIGTRAP, so it stays stopped (an ordinary stop,
 * SIGCONT resumes it) and nothing of msign's traces it any more: dtrace
 * -p, or strace, may attach. */
extern char **environ;

/* What the child reports through its close-on-exec pipe. */
struct start_report {
	int stage; /* START_TRACEME or START_EXEC */
	int err;   /* errno */
};
#define START_TRACEME 1
#define START_EXEC 2
#define START_FD 3 /* the pipe's end in the child: all above it closed */

bool msign_trace_can_start_suspended(void)
{
	return false; /* no Mach-O runs here */
}

/* Child side, between fork and exec: async-signal-safe calls only. */
static void start_child(int rep_fd, const char *path, char *const *v,
			pid_t parent)
{
	struct start_report rep = { START_EXEC, 0 };
	/* msign gone (SIGKILL, a signal it does not catch): the command goes
	 * too, stopped or running, rather than run on untraced (it keeps this
	 * across exec; a set-ID program drops it, and runs without its
	 * privileges under ptrace anyway) */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent)
		_exit(127);
	if (rep_fd != START_FD) {
		if (dup2(rep_fd, START_FD) < 0)
			_exit(127);
		rep_fd = START_FD;
	}
	(void)fcntl(rep_fd, F_SETFD, FD_CLOEXEC); /* dup2 cleared it */
	/* every descriptor above 2 but the report pipe: the trace pipe,
	 * --output's file, whatever msign's caller left open */
#ifdef SYS_close_range
	if (syscall(SYS_close_range, START_FD + 1, ~0u, 0) != 0)
#endif
	{
		struct rlimit rl;
		long max = getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
				   rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < (1u << 20)
			   ? (long)rl.rlim_cur : 1L << 20;
		for (long fd = START_FD + 1; fd < max; fd++)
			(void)close((int)fd);
	}
	signal(SIGPIPE, SIG_DFL); /* msign ignores it; the command must not */
	msign_trace_guard_child();
	if (ptrace(PTRACE_TRACEME, 0, NULL, NULL) != 0) {
		rep.stage = START_TRACEME;
	} else {
		execve(path, v, environ);
		rep.stage = START_EXEC;
	}
	rep.err = errno;
	ssize_t w = write(rep_fd, &rep, sizeof(rep));
	(void)w;
	_exit(127);
}

static pid_t wait_for(pid_t p, int *st, int flags)
{
	pid_t w;
	while ((w = waitpid(p, st, flags)) < 0 && errno == EINTR)
		;
	return w;
}

int msign_trace_spawn_suspended(const char *path, char *const *argv,
				pid_t *pid, struct msign_diag *d)
{
	char **v = argv_at(path, argv);
	if (v == NULL)
		return msign_diag_set(d, MSIGN_E_NOMEM, 0, "out of memory");
	int rp[2];
	if (pipe(rp) != 0) {
		int e = errno;
		free(v);
		return msign_diag_set(d, MSIGN_E_IO, 0, "pipe: %s", strerror(e));
	}
	(void)fcntl(rp[0], F_SETFD, FD_CLOEXEC);
	(void)fcntl(rp[1], F_SETFD, FD_CLOEXEC);
	(void)fcntl(rp[0], F_SETFL, fcntl(rp[0], F_GETFL) | O_NONBLOCK);
	pid_t self = getpid();
	pid_t p = fork();
	if (p == 0)
		start_child(rp[1], path, v, self);
	int fork_err = errno;
	free(v);
	close(rp[1]);
	if (p < 0) {
		close(rp[0]);
		return msign_diag_set(d, MSIGN_E_IO, 0, "fork: %s", strerror(fork_err));
	}
	struct start_report rep = { 0, 0 };
	size_t got = 0;
	int st = 0;
	bool stopped = false;
	for (;;) {
		if (wait_for(p, &st, 0) != p) {
			int e = errno;
			close(rp[0]);
			(void)kill(p, SIGKILL);
			(void)wait_for(p, NULL, 0);
			return msign_diag_set(d, MSIGN_E_IO, 0, "waitpid: %s", strerror(e));
		}
		if (!WIFSTOPPED(st))
			break; /* it ended: its report says why */
		int sig = WSTOPSIG(st);
		if (sig == SIGTRAP) {
			/* the exec stop, if exec closed the pipe: at its end now */
			ssize_t r = read(rp[0], (char *)&rep + got, sizeof(rep) - got);
			if (r == 0) {
				stopped = true;
				break;
			}
			if (r > 0)
				got += (size_t)r;
		}
		/* a signal before the exec (^C, a SIGTRAP someone sent): passed
		 * on, as if nobody traced it */
		(void)ptrace(PTRACE_CONT, p, NULL, (void *)(intptr_t)sig);
	}
	if (stopped) {
		close(rp[0]);
		/* SIGSTOP replaces the SIGTRAP: an ordinary stop from here */
		if (ptrace(PTRACE_DETACH, p, NULL, (void *)(intptr_t)SIGSTOP) != 0 ||
		    wait_for(p, &st, WUNTRACED) != p || !WIFSTOPPED(st)) {
			int e = errno;
			(void)kill(p, SIGKILL);
			(void)wait_for(p, NULL, 0);
			return msign_diag_set(d, MSIGN_E_IO, 0,
					      "%s: not left stopped after its exec: %s",
					      path, strerror(e));
		}
		*pid = p;
		return 0;
	}
	/* it exited: the rest of its report (its write came before _exit) */
	while (got < sizeof(rep)) {
		ssize_t r = read(rp[0], (char *)&rep + got, sizeof(rep) - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(rp[0]);
	if (got == sizeof(rep) && rep.stage == START_TRACEME)
		return msign_diag_set(d, MSIGN_E_UNSUPPORTED, 0,
				      "ptrace(PTRACE_TRACEME): %s", strerror(rep.err));
	if (got == sizeof(rep) && rep.stage == START_EXEC)
		return msign_diag_set(d, rep.err == ENOENT ? MSIGN_E_NOT_FOUND : MSIGN_E_IO,
				      0, "cannot run %s: %s", path, strerror(rep.err));
	return msign_diag_set(d, MSIGN_E_IO, 0, "cannot run %s: it ended before its exec",
			      path);
}
#else
/* Nowhere else does msign start a process suspended: dtrace -c. */
bool msign_trace_can_start_suspended(void)
{
	return false;
}

int msign_trace_spawn_suspended(const char *path, char *const *argv,
				pid_t *pid, struct msign_diag *d)
{
	(void)argv;
	*pid = -1;
	return msign_diag_set(d, MSIGN_E_UNSUPPORTED, 0,
			      "%s: starting a process suspended needs macOS or Linux", path);
}
#endif
