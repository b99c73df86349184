/* msign trace: dtruss's command line (shared/spec/trace.md), on macOS
 * through dtrace and on Linux through strace. The trace goes to stderr
 * (or --output FILE); msign exits with the traced command's status. */
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "trace/trace.h"

#define EXIT_CANNOT_RUN 126 /* as a shell says it */
#define EXIT_NOT_FOUND 127
/* Setting a boot-arg on Apple Silicon needs Reduced Security (Recovery). */
#define BOOTARG_HOW "-arm64e_preview_abi in the boot-args (sudo nvram " \
	"boot-args=-arm64e_preview_abi, which Apple Silicon takes only with " \
	"Reduced Security set in Recovery)"

static void trace_usage(FILE *out)
{
	fprintf(out,
		"usage: msign trace [-acdeflLos] [-b SIZE] [-t SYSCALL] [--unsign] [--output FILE]\n"
		"                   { -p PID | -n NAME | -W NAME | COMMAND [ARG...] }\n"
		"  -a          all details: -c -d -e -f -l, and -o with dtrace\n"
		"  -b SIZE     dtrace dynamic variable space (default 4m)\n"
		"  -c          a count of each call at the end\n"
		"  -d          RELATIVE: microseconds since the trace began\n"
		"  -e          ELAPSD: microseconds each call took\n"
		"  -f          follow the children too\n"
		"  -l / -L     force / hide the PID/THRD column\n"
		"  -n NAME     every process whose name starts with NAME, or\n"
		"              is the start of it, as dtruss matches (dtrace)\n"
		"  -o          CPU: on-CPU microseconds of each call (dtrace)\n"
		"  -p PID      attach to a running process\n"
		"  -s          the user stack after each call\n"
		"  -t SYSCALL  only this call (exec means execve); on Linux macOS\n"
		"              names map to Linux calls (open: open, openat)\n"
		"  -W NAME     wait for a process named NAME to start (dtrace)\n"
		"  --unsign    trace an unsigned private copy of a command dtrace may\n"
		"              not control (Apple platform binaries, restricted code);\n"
		"              on Apple Silicon an arm64 copy (arm64e marked arm64),\n"
		"              arm64e with -arm64e_preview_abi in the boot-args, or\n"
		"              for x86_64-only code an x86_64 copy\n"
		"  --output FILE  the trace into FILE instead of stderr\n"
		"Backend: dtrace on macOS, strace elsewhere; MSIGN_TRACE_BACKEND=dtrace|strace\n"
		"chooses, MSIGN_DTRACE and MSIGN_STRACE name the programs to run. With\n"
		"dtrace msign starts COMMAND itself, stopped, hands dtrace its PID (-p),\n"
		"resumes it when the trace begins and exits with its status; it is\n"
		"killed if dtrace ends first.\n"
		"The host (for --unsign's copy): MSIGN_HOST_ARCH=x86_64|arm64|other,\n"
		"MSIGN_HOST_BOOTARGS and MSIGN_HOST_TRANSLATED=0|1 stand in for the\n"
		"sysctls hw.optional.arm64, kern.bootargs and sysctl.proc_translated.\n");
}

/* The command line again, for the advice to run it with --unsign. */
static void print_argv(FILE *out, char *const *argv)
{
	for (size_t i = 0; argv != NULL && argv[i] != NULL; i++)
		fprintf(out, " %s", cli_esc(argv[i]));
}

static void explain_denied(const struct msign_trace_opts *o,
			   const struct msign_trace_result *res)
{
	if (o->argv == NULL) {
		fprintf(stderr,
			"msign trace: dtrace may not control process %ld: System Integrity Protection "
			"guards Apple platform binaries and restricted code; a running process cannot be "
			"copied, but 'sudo msign trace --unsign COMMAND' starts an unsigned copy\n",
			o->pid);
	} else if (res->copied && res->plan.kind == MSIGN_TRACE_PLAN_ARM64 &&
		   res->plan.rewrite) {
		/* the next thing to try is the arm64e code as it is */
		fprintf(stderr,
			"msign trace: dtrace refused even the arm64 copy of %s; with " BOOTARG_HOW
			" msign traces an arm64e copy instead, or csrutil enable --without dtrace "
			"(from Recovery) lets dtrace trace the original\n",
			cli_esc(res->target_path));
	} else if (res->copied) {
		fprintf(stderr,
			"msign trace: dtrace refused even the unsigned copy of %s; "
			"System Integrity Protection may have to be relaxed (csrutil enable --without dtrace)\n",
			cli_esc(res->target_path));
	} else if (res->target == MSIGN_TRACE_TARGET_OTHER) {
		fprintf(stderr,
			"msign trace: dtrace may not trace %s, which is not a Mach-O file: the program "
			"that runs it (a script's interpreter) is probably an Apple platform binary; "
			"trace an unsigned copy of that with 'sudo msign trace --unsign INTERPRETER %s'\n",
			cli_esc(res->target_path), cli_esc(res->target_path));
	} else {
		fprintf(stderr,
			"msign trace: dtrace may not trace %s (%s) while System Integrity Protection "
			"is on; --unsign traces an unsigned private copy instead: sudo msign trace --unsign",
			cli_esc(res->target_path), msign_trace_target_text(res->target));
		print_argv(stderr, o->argv);
		fputc('\n', stderr);
	}
}

/* --unsign found no copy this Mac can trace: one line, what would help. */
static void explain_no_copy(const struct msign_trace_result *res)
{
	if (res->plan.kind == MSIGN_TRACE_PLAN_TRANSLATED)
		fprintf(stderr,
			"msign trace: this msign runs under Rosetta, and the dtrace and copy it "
			"starts would too: trace %s with an arm64 build of msign\n",
			cli_esc(res->target_path));
	else
		fprintf(stderr,
			"msign trace: %s has no arm64, arm64e or x86_64 code, so no copy of it "
			"runs on this Mac; only csrutil enable --without dtrace (from Recovery) "
			"lets dtrace trace the original\n",
			cli_esc(res->target_path));
}

static int parse_backend(struct msign_trace_opts *o)
{
	const char *b = getenv("MSIGN_TRACE_BACKEND");
	if (b == NULL || b[0] == '\0')
		o->backend = MSIGN_TRACE_AUTO;
	else if (strcmp(b, "dtrace") == 0)
		o->backend = MSIGN_TRACE_DTRACE;
	else if (strcmp(b, "strace") == 0)
		o->backend = MSIGN_TRACE_STRACE;
	else {
		fprintf(stderr, "msign trace: MSIGN_TRACE_BACKEND=%s: dtrace or strace\n",
			cli_esc(b));
		return -1;
	}
	return 0;
}

int cmd_trace(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "unsign", no_argument, NULL, 'U' },
		{ "output", required_argument, NULL, 'O' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct msign_trace_opts o;
	memset(&o, 0, sizeof(o));
	const char *output = NULL;
	int ch;
	/* '+': options end at the command, whose own options are its own */
	while ((ch = getopt_long(argc, argv, "+ab:cdefhlLn:op:st:W:", longopts,
				 NULL)) != -1) {
		char *end;
		switch (ch) {
		case 'a': o.all = true; break;
		case 'b': o.bufsize = optarg; break;
		case 'c': o.counts = true; break;
		case 'd': o.relative = true; break;
		case 'e': o.elapsed = true; break;
		case 'f': o.follow = true; break;
		case 'l': o.pid_column = 1; break;
		case 'L': o.pid_column = -1; break;
		case 'n': o.name = optarg; break;
		case 'o': o.oncpu = true; break;
		case 's': o.stack = true; break;
		case 't': o.syscall = optarg; break;
		case 'W': o.wait_name = optarg; break;
		case 'U': o.unsign = true; break;
		case 'O': output = optarg; break;
		case 'p':
			o.pid = strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || o.pid <= 0 ||
			    o.pid > INT_MAX) {
				fprintf(stderr, "msign trace: -p %s: not a process ID\n",
					cli_esc(optarg));
				return EXIT_USAGE;
			}
			break;
		case 'h':
			trace_usage(stdout);
			return 0;
		default:
			trace_usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind < argc)
		o.argv = argv + optind;
	if (parse_backend(&o) != 0)
		return EXIT_USAGE;
	/* once, before anything runs: which copy --unsign makes */
	msign_trace_host_read(&o.host);
	o.dtrace = getenv("MSIGN_DTRACE");
	o.strace = getenv("MSIGN_STRACE");
	if (o.dtrace != NULL && o.dtrace[0] == '\0')
		o.dtrace = NULL;
	if (o.strace != NULL && o.strace[0] == '\0')
		o.strace = NULL;

	FILE *out = stderr;
	/* The traced command writes to the same stderr: whole lines in one
	 * write each, so its messages never land inside a trace line
	 * (stderr is unbuffered, and the lines are printed piece by piece). */
	static char errbuf[1 << 17];
	if (output == NULL)
		setvbuf(stderr, errbuf, _IOLBF, sizeof(errbuf));
	if (output != NULL && (out = fopen(output, "w")) == NULL) {
		perror(cli_esc(output));
		return 1;
	}
	/* the trace file is msign's: neither dtrace, strace nor the command
	 * gets its descriptor */
	if (out != stderr)
		(void)fcntl(fileno(out), F_SETFD, FD_CLOEXEC);
	struct msign_trace_result res;
	struct msign_diag d;
	msign_diag_clear(&d);
	int r = msign_trace_run(&o, out, stderr, &res, &d);
	/* The trace not written is a failure, whatever the command did. */
	bool lost = out != stderr && cli_close_out(out, output) != 0;
	if (r != 0) {
		fprintf(stderr, "msign trace: %s\n",
			cli_esc(d.code ? d.msg : msign_strerror(r)));
		if (res.bad_command) /* before usage: a Mach-O on Linux is 126 */
			return r == MSIGN_E_NOT_FOUND ? EXIT_NOT_FOUND : EXIT_CANNOT_RUN;
		/* (after the copy: not the command line's fault) */
		if (!res.copied && (r == MSIGN_E_ARG || r == MSIGN_E_UNSUPPORTED) &&
		    res.plan.kind != MSIGN_TRACE_PLAN_SUSPENDED)
			return EXIT_USAGE;
		if (r == MSIGN_E_NOT_FOUND) /* the tool itself */
			fprintf(stderr, "msign trace: %s\n",
				o.backend == MSIGN_TRACE_STRACE
					? "strace is needed on Linux (Debian: apt-get install strace), or set MSIGN_STRACE"
					: "dtrace comes with macOS at /usr/sbin/dtrace; MSIGN_DTRACE names another");
		return 1;
	}
	switch (res.problem) {
	case MSIGN_TRACE_PROBLEM_ROOT:
		fprintf(stderr, "msign trace: dtrace needs root: run it again with sudo (sudo msign trace ...)\n");
		return 1;
	case MSIGN_TRACE_PROBLEM_NOT_PERMITTED:
		explain_denied(&o, &res);
		return 1;
	case MSIGN_TRACE_PROBLEM_NO_COPY:
		explain_no_copy(&res);
		return 1;
	case MSIGN_TRACE_PROBLEM_NONE:
		break;
	}
	return lost ? 1 : res.status;
}
