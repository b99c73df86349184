/* msign: `msign trace`, dtruss done properly (see shared/spec/trace.md).
 *
 * Two backends print the same lines, `name(args)\t\t = return errno`:
 * dtrace on macOS (msign writes the D program and reads what it prints)
 * and strace on Linux (msign translates strace's lines). Both tools write
 * their records into a pipe that msign reads while they run, so the
 * traced command keeps its own stdout and stderr.
 *
 * Part of the msign command, not of libmsign (it forks, execs, installs
 * signal handlers and prints): src/trace/ is built into the archive
 * build/libmsign-trace.a, linked into build/msign and the trace unit test
 * only, and this header is not installed. It prints only to the FILE*s it
 * is given: trace lines to `out`, the tools' own messages to `msgs`. It
 * never exits. Every line read from a tool is bounded by
 * MSIGN_TRACE_MAX_LINE and parsed as hostile text. */
#ifndef MSIGN_TRACE_H
#define MSIGN_TRACE_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "base/diag.h"
#include "macho/macho.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MSIGN_TRACE_MAX_LINE 65536  /* longer tool lines are skipped */
#define MSIGN_TRACE_MAX_ARGS 6      /* arguments a line can show */
#define MSIGN_TRACE_NAME_LEN 64     /* syscall name, NUL included */
#define MSIGN_TRACE_MAX_NAMES 4096  /* distinct names in the -c table */
#define MSIGN_TRACE_MAX_PENDING 4096 /* strace -f calls unfinished at once */
#define MSIGN_TRACE_STRSIZE 256     /* bytes of read/write buffers shown */

enum msign_trace_backend {
	MSIGN_TRACE_AUTO = 0, /* dtrace on macOS, strace elsewhere */
	MSIGN_TRACE_DTRACE,
	MSIGN_TRACE_STRACE,
};

/* The facts about the host that decide which copy --unsign makes. */
enum msign_trace_host_arch {
	MSIGN_TRACE_HOST_OTHER = 0,
	MSIGN_TRACE_HOST_X86_64,
	MSIGN_TRACE_HOST_ARM64,
};

struct msign_trace_host {
	enum msign_trace_host_arch arch;
	bool translated;     /* msign runs under Rosetta */
	bool arm64e_preview; /* -arm64e_preview_abi is in the boot-args */
};

/* dtruss's options. pid_column: 1 forced (-l), -1 suppressed (-L),
 * 0 dtruss's default (shown with -f or -n). */
struct msign_trace_opts {
	bool all;       /* -a: -c -d -e -f -l, and -o where dtrace runs */
	bool counts;    /* -c */
	bool relative;  /* -d */
	bool elapsed;   /* -e */
	bool follow;    /* -f */
	int pid_column; /* -l / -L */
	bool oncpu;     /* -o */
	bool stack;     /* -s */
	bool unsign;    /* --unsign */
	const char *bufsize;   /* -b, dtrace dynvarsize; "4m" when NULL */
	const char *syscall;   /* -t, NULL for every call; "exec" is execve */
	/* set by msign_trace_opts_finish for strace when Linux calls -t's
	 * macOS name otherwise: the name as given, and syscall then points
	 * to linux_names, the Linux calls comma-separated ("open,openat") */
	const char *syscall_macos;
	char linux_names[64];
	long pid;              /* -p, 0 when absent */
	const char *name;      /* -n */
	const char *wait_name; /* -W */
	char *const *argv;     /* the command, NULL-terminated, or NULL */
	enum msign_trace_backend backend;
	const char *dtrace;    /* the programs to run; NULL: /usr/sbin/dtrace */
	const char *strace;    /* (else dtrace on PATH), strace on PATH */
	/* the Mac the trace runs on (msign_trace_host_read): which copy
	 * --unsign makes; all zero is "other", the copy every slice kept */
	struct msign_trace_host host;
};

/* Check the options once, for the backend that will run (AUTO resolved),
 * and expand -a and dtruss's defaults: `exec` becomes execve, the PID
 * column follows -f/-n unless -l/-L. Names that end up in a D program or
 * a command line are checked here. */
int msign_trace_opts_finish(struct msign_trace_opts *o, struct msign_diag *d);
bool msign_trace_show_pid(const struct msign_trace_opts *o);

/* ---- one completed call, as both backends hand it to the formatter ---- */
enum msign_trace_arg_kind {
	MSIGN_TRACE_NUM,  /* printed 0x%llX */
	MSIGN_TRACE_STR,  /* a string: text is its escaped contents */
	MSIGN_TRACE_TEXT, /* printed as is (a structure strace decoded) */
};

struct msign_trace_arg {
	enum msign_trace_arg_kind kind;
	uint64_t num;
	const char *text; /* not NUL-terminated; points into the tool's line */
	size_t text_len;
	bool truncated;   /* STR: the tool printed only the start */
};

struct msign_trace_call {
	int64_t pid;
	uint64_t tid;
	char name[MSIGN_TRACE_NAME_LEN];
	uint32_t nargs;
	struct msign_trace_arg args[MSIGN_TRACE_MAX_ARGS];
	int64_t ret;
	int64_t err;       /* errno, 0 on success */
	uint64_t rel_us;   /* -d: from the start of the trace to the return */
	uint64_t elapsed_us; /* -e */
	uint64_t cpu_us;     /* -o */
};

/* How many arguments dtruss prints for a call: 3, or 6 for mmap, pread,
 * pwrite, select, the *at calls..., 5 for sysctlbyname. */
uint32_t msign_trace_arg_count(const char *name);
/* A string argument of this call is a path (printed "...\0"), a data
 * buffer (read/write: "...") or a bare name (sysctlbyname). */
enum msign_trace_str_kind { MSIGN_TRACE_PATH, MSIGN_TRACE_BUFFER,
			    MSIGN_TRACE_BARE };
enum msign_trace_str_kind msign_trace_str_kind(const char *name,
					       uint32_t idx);

/* The column header and one line, as dtruss prints them. */
void msign_trace_print_header(FILE *out, const struct msign_trace_opts *o);
void msign_trace_print_call(FILE *out, const struct msign_trace_opts *o,
			    const struct msign_trace_call *c);
/* A tool line passed on as is (stack frames), bytes that are not
 * printable ASCII escaped as \ooo, and a newline. */
void msign_trace_print_text(FILE *out, const char *line, size_t len);

/* ---- the -c table: CALL COUNT, ascending counts, then names ---------- */
struct msign_trace_count {
	char name[MSIGN_TRACE_NAME_LEN];
	uint64_t n;
};

struct msign_trace_counts {
	uint32_t len, cap;
	struct msign_trace_count *v;
	uint32_t nslots;   /* open-addressing index into v, power of two */
	uint32_t *slots;   /* 0 empty, else index + 1 */
	uint64_t dropped;  /* calls beyond MSIGN_TRACE_MAX_NAMES names */
};

int msign_trace_counts_add(struct msign_trace_counts *t, const char *name,
			   uint64_t n);
void msign_trace_counts_print(FILE *out, struct msign_trace_counts *t);
void msign_trace_counts_free(struct msign_trace_counts *t);

/* ---- reading a tool's output ------------------------------------------
 * A session turns the lines of one tool run into trace lines on `out`. */
/* strace -f: a call of thread tid still unfinished (its text so far). */
struct msign_trace_pending {
	uint64_t tid;
	uint64_t ts_us;
	size_t len;
	char *text;
};

#define MSIGN_TRACE_TGID_CACHE 64

struct msign_trace_session {
	const struct msign_trace_opts *o;
	FILE *out;
	struct msign_trace_counts counts;
	bool live;           /* a real run: /proc may be asked about tids */
	bool started;        /* the tool began tracing: header printed */
	uint64_t t0_us;      /* strace: wall clock when the trace began */
	int64_t main_pid;    /* strace without -f: the traced process */
	struct msign_trace_pending *pending;
	uint32_t npending;
	uint64_t tgid_cache[MSIGN_TRACE_TGID_CACHE][2]; /* strace: tid, tgid */
	bool have_exit;      /* dtrace: the target's end was recorded */
	int exit_status;     /* as a shell reports it: code or 128+signal */
	uint64_t bad_lines;  /* records that did not parse */
	uint64_t long_lines; /* lines over MSIGN_TRACE_MAX_LINE, skipped */
};

void msign_trace_session_init(struct msign_trace_session *s,
			      const struct msign_trace_opts *o, FILE *out);
void msign_trace_session_free(struct msign_trace_session *s);
/* Prints the header once (when the tool has started). */
void msign_trace_session_start(struct msign_trace_session *s);

/* One line of dtrace's -o stream (no newline): a record of msign's D
 * program is formatted, anything else (ustack frames) printed as is. */
void msign_trace_dtrace_line(struct msign_trace_session *s, const char *line,
			     size_t len);
/* One line of strace's -o output (no newline), translated. */
void msign_trace_strace_line(struct msign_trace_session *s, const char *line,
			     size_t len);
/* Parse the call part of a strace line ("openat(-100, \"/x\", 0) = 3")
 * into c; pointers in c point into line. 0, or MSIGN_E_INVALID when the
 * call did not return (`= ?`) or the text is not a call. */
int msign_trace_strace_parse_call(const char *line, size_t len,
				  struct msign_trace_call *c);

/* The D program for these options (malloc'd text). */
int msign_trace_dtrace_program(const struct msign_trace_opts *o, char **prog,
			       struct msign_diag *d);
/* dtrace's and strace's command lines (malloc'd, NULL-terminated; free
 * with msign_trace_argv_free). exec_path replaces argv[0] of the command;
 * out_path is where the tool writes its records. dtrace gets a command
 * as -c's one string, split at white space: a word holding any, or an
 * empty one, is MSIGN_E_UNSUPPORTED there (a command msign started
 * comes as o->pid, untouched). */
int msign_trace_dtrace_argv(const struct msign_trace_opts *o,
			    const char *prog, const char *exec_path,
			    const char *out_path, char ***argv,
			    struct msign_diag *d);
int msign_trace_strace_argv(const struct msign_trace_opts *o,
			    const char *exec_path, const char *out_path,
			    char ***argv, struct msign_diag *d);
void msign_trace_argv_free(char **argv);
/* Builds a NULL-terminated argv; a failed allocation is remembered and
 * reported once at the end (nomem), so callers add without checking. */
struct msign_trace_argv {
	char **v;
	size_t n;
	bool nomem;
};
void msign_trace_argv_add(struct msign_trace_argv *a, const char *s);
/* The finished argv in *out, or MSIGN_E_NOMEM (everything freed). */
int msign_trace_argv_done(struct msign_trace_argv *a, char ***out);

/* ---- the signature obstacle (trace_unsign.c) -------------------------- */
enum msign_trace_target {
	MSIGN_TRACE_TARGET_OTHER = 0, /* not a Mach-O (script, ELF, ...) */
	MSIGN_TRACE_TARGET_UNSIGNED,
	MSIGN_TRACE_TARGET_SIGNED,     /* signed; dtrace may control it */
	MSIGN_TRACE_TARGET_RESTRICTED, /* restrict flag, hardened runtime
					  without get-task-allow, __RESTRICT,
					  set-user/group-ID */
	MSIGN_TRACE_TARGET_PLATFORM,   /* an Apple platform binary */
};

/* What the file at path is, as far as dtrace's permission goes. Damaged
 * Mach-O files count as SIGNED (dtrace decides). */
int msign_trace_classify(const char *path, enum msign_trace_target *kind,
			 struct msign_diag *d);
const char *msign_trace_target_text(enum msign_trace_target kind);

/* ---- which copy this Mac can run and dtrace can trace (trace_host.c) ----
 * The host facts come through one seam, read once: the strings below as
 * the environment's test hooks or macOS's sysctls give them (NULL when
 * absent). arch: MSIGN_HOST_ARCH, else "arm64" when hw.optional.arm64 is
 * 1 (also under Rosetta), else what msign was built for; translated:
 * MSIGN_HOST_TRANSLATED, else sysctl.proc_translated ("1": yes);
 * bootargs: MSIGN_HOST_BOOTARGS, else kern.bootargs. Pure. */
void msign_trace_host_parse(struct msign_trace_host *h, const char *arch,
			    const char *translated, const char *bootargs);
/* The same from this process's environment and (macOS) sysctls. */
void msign_trace_host_read(struct msign_trace_host *h);

enum msign_trace_plan_kind {
	/* every slice kept, arm64 and arm64e signed ad hoc: any host but an
	 * Apple Silicon Mac, or one with the arm64e preview boot-arg */
	MSIGN_TRACE_PLAN_COPY = 0,
	/* a thin arm64 copy: the plain arm64 slice, else an arm64e one whose
	 * cpusubtype becomes CPU_SUBTYPE_ARM64_ALL, signed ad hoc */
	MSIGN_TRACE_PLAN_ARM64,
	/* x86_64 only on Apple Silicon: dtrace refuses a translated -c
	 * command, so the copy is started suspended and traced by PID */
	MSIGN_TRACE_PLAN_SUSPENDED,
	/* nothing this Mac runs natively or under Rosetta */
	MSIGN_TRACE_PLAN_NONE,
	/* msign itself runs under Rosetta, and so would dtrace */
	MSIGN_TRACE_PLAN_TRANSLATED,
};

struct msign_trace_plan {
	enum msign_trace_plan_kind kind;
	int slice;    /* ARM64, SUSPENDED: the slice the copy runs */
	int32_t cpusubtype; /* that slice's, as the file has it */
	bool rewrite; /* ARM64: its cpusubtype is rewritten */
	bool fat;     /* the file is universal */
};

/* Pure: the copy for this host and image (only its slices' cputype,
 * cpusubtype and err are looked at). */
void msign_trace_plan_for(const struct msign_trace_host *h,
			  const struct msign_image *img,
			  struct msign_trace_plan *plan);
const char *msign_trace_plan_text(enum msign_trace_plan_kind kind);

/* How a command traced with dtrace is started. msign starts it itself,
 * stopped before its first instruction, and hands dtrace `-p PID`: then
 * the command inherits no descriptor of msign's or dtrace's (not the
 * trace pipe), its arguments pass as they are, and its exit status is
 * msign's own wait status. dtrace -c (one string, split at white space;
 * the command inherits dtrace's descriptors) is left for what this host
 * cannot start so: a Mach-O on Linux (what the --unsign tests run). */
enum msign_trace_start {
	MSIGN_TRACE_START_DTRACE_C = 0, /* dtrace -c "CMD ARGS" */
	MSIGN_TRACE_START_SPAWN,  /* posix_spawn, POSIX_SPAWN_START_SUSPENDED */
	MSIGN_TRACE_START_PTRACE, /* fork, PTRACE_TRACEME, execve, detached
				     with SIGSTOP at the exec stop (Linux) */
};

enum msign_trace_os {
	MSIGN_TRACE_OS_OTHER = 0,
	MSIGN_TRACE_OS_MACOS,
	MSIGN_TRACE_OS_LINUX,
};

/* Pure: how an OS starts a command of this kind for dtrace. */
enum msign_trace_start msign_trace_start_for(enum msign_trace_os os,
					     enum msign_trace_target kind);
/* The same for the OS msign was built for. */
enum msign_trace_start msign_trace_start_here(enum msign_trace_target kind);

/* Start path (argv[0] replaced by path) stopped before its first
 * instruction, with descriptors 0, 1 and 2 only and SIGPIPE at its
 * default (signals the caller ignores stay ignored); SIGCONT resumes it.
 * macOS: POSIX_SPAWN_START_SUSPENDED. Linux: the ptrace start above; when
 * PTRACE_TRACEME is refused (msign itself under strace or gdb, ptrace
 * forbidden) nothing runs and the answer is MSIGN_E_UNSUPPORTED, for the
 * caller to fall back to dtrace -c. A file that cannot be executed is
 * MSIGN_E_NOT_FOUND or MSIGN_E_IO, "cannot run PATH: ...". Elsewhere
 * MSIGN_E_UNSUPPORTED. can_start_suspended: whether a Mach-O can be
 * started so (MSIGN_TRACE_PLAN_SUSPENDED: macOS only). */
bool msign_trace_can_start_suspended(void);
int msign_trace_spawn_suspended(const char *path, char *const *argv,
				pid_t *pid, struct msign_diag *d);

/* The private folder msign trace makes in $TMPDIR for the --unsign copy
 * (and the FIFO on a Linux without /proc). It is made, checked and
 * emptied through descriptors; its path, which the tools get, leads only
 * through folders the caller or root alone can change (base/dirsafe.h). */
struct msign_trace_dir {
	int parent;           /* $TMPDIR, open (-1: none made) */
	int fd;               /* the folder, open */
	char name[32];        /* its name in parent */
	char path[PATH_MAX];  /* $TMPDIR's real path / name */
};
/* Make it in tmp (shown as given in messages). */
int msign_trace_dir_make(struct msign_trace_dir *td, const char *tmp,
			 struct msign_diag *d);
/* Remove the entries named (NULL-terminated; absent ones are fine) and
 * the folder; closes both descriptors. */
int msign_trace_dir_remove(struct msign_trace_dir *td,
			   const char *const *entries, struct msign_diag *d);

/* The copy of target in td as plan says (NULL: MSIGN_TRACE_PLAN_COPY):
 * the file read once into memory, its signature stripped, its arm64 and
 * arm64e slices signed ad hoc (arm64 macOS runs nothing unsigned; other
 * slices stay unsigned), checked, and written to a new file in td (mode
 * 0700, named as target) through td's descriptor. Its path goes to copy
 * (copy_len), "" on error. */
int msign_trace_unsign_copy(const struct msign_trace_dir *td,
			    const char *target,
			    const struct msign_trace_plan *plan, char *copy,
			    size_t copy_len, struct msign_diag *d);

/* While a trace runs, SIGINT, SIGTERM and SIGHUP are caught instead of
 * killing msign, so the temporary folder is always removed (those the
 * caller ignores stay ignored). The handler only notes the signal; a
 * signal sent to msign alone (kill) is passed on by the run loop: to
 * dtrace, or with strace to the command itself (strace would detach and
 * leave it running); ^C on a terminal already reaches them. SIGPIPE is
 * ignored (a reader of the trace that goes away ends the tool instead)
 * and SIGCHLD is the default, so the tool's exit status cannot be reaped
 * away. Everything is restored at the end. */
void msign_trace_guard_begin(void);
int msign_trace_guard_signal(void);     /* last caught signal, 0 if none */
/* A signal sent to msign alone since *seen was updated (then updated), or
 * 0. */
int msign_trace_guard_forward(unsigned *seen);
void msign_trace_guard_end(void);
/* In a child between fork and exec (async-signal-safe): msign's handlers
 * back to the default (a terminal's Ctrl-C there must not be noted in the
 * child's copy of msign and lost); ignored signals stay ignored. */
void msign_trace_guard_child(void);

/* ---- running a trace --------------------------------------------------- */
enum msign_trace_problem {
	MSIGN_TRACE_PROBLEM_NONE = 0,
	MSIGN_TRACE_PROBLEM_ROOT,          /* dtrace needs root */
	MSIGN_TRACE_PROBLEM_NOT_PERMITTED, /* dtrace may not control the target */
	MSIGN_TRACE_PROBLEM_NO_COPY,       /* --unsign: no copy this Mac can
					      trace (res->plan says why) */
};

struct msign_trace_result {
	int status;   /* what msign exits with: the command's status */
	enum msign_trace_problem problem;
	enum msign_trace_target target; /* command mode with dtrace */
	bool copied;  /* an unsigned copy was traced (and removed) */
	struct msign_trace_plan plan; /* the copy's, when one was planned */
	bool bad_command; /* the error is about the command itself */
	int signal;   /* a signal msign caught, 0 if none */
	char target_path[4096]; /* the command's file, resolved */
};

/* Resolve a command name as execvp would (PATH when it has no '/').
 * MSIGN_E_NOT_FOUND: no such command; MSIGN_E_IO: not executable. */
int msign_trace_which(const char *cmd, char *out, size_t out_len,
		      struct msign_diag *d);

/* Run the trace: lines to out, the tools' messages to msgs. 0 when the
 * tool ran (res->status is the command's exit status, res->problem says
 * why dtrace could not trace), or a negative error with d filled:
 * MSIGN_E_NOT_FOUND for a missing command (res->bad_command) or a missing
 * dtrace/strace, MSIGN_E_ARG / MSIGN_E_UNSUPPORTED for options. */
int msign_trace_run(struct msign_trace_opts *o, FILE *out, FILE *msgs,
		    struct msign_trace_result *res, struct msign_diag *d);

#ifdef __cplusplus
}
#endif
#endif
