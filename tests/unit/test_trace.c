/* msign trace: dtruss's line format, the -c table, option checks, the D
 * program, dtrace records and strace lines (recorded, then hostile), the
 * signature obstacle on fixtures. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <fcntl.h>
#include <time.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "fixture.h"

#include "sig/codesign.h"
#include "sig/req.h"
#include "sig/cms.h"
#include "sig/ent.h"
#include "hash/hash.h"
#include "trace/trace.h"
#include "msign/verify.h"

/* ---- helpers ----------------------------------------------------------- */

struct capture {
	char *text;
	size_t len;
	FILE *fp;
};

static void cap_open(struct capture *c)
{
	c->text = NULL;
	c->len = 0;
	c->fp = open_memstream(&c->text, &c->len);
	assert_non_null(c->fp);
}

/* Close and return the text (freed by the next cap_open's caller). */
static char *cap_close(struct capture *c)
{
	fclose(c->fp);
	return c->text;
}

static struct msign_trace_opts opts_for(enum msign_trace_backend b)
{
	struct msign_trace_opts o;
	memset(&o, 0, sizeof(o));
	o.backend = b;
	return o;
}

/* Feed lines (separated by \n) through a backend; return what it printed. */
static char *feed(const struct msign_trace_opts *o, bool dtrace,
		  const char *lines, uint64_t *bad)
{
	struct capture c;
	cap_open(&c);
	struct msign_trace_session s;
	msign_trace_session_init(&s, o, c.fp);
	s.started = true; /* no header: the lines alone */
	for (const char *p = lines; *p != '\0';) {
		const char *nl = strchr(p, '\n');
		size_t n = nl != NULL ? (size_t)(nl - p) : strlen(p);
		if (dtrace)
			msign_trace_dtrace_line(&s, p, n);
		else
			msign_trace_strace_line(&s, p, n);
		p += n + (nl != NULL);
	}
	if (o->counts)
		msign_trace_counts_print(c.fp, &s.counts);
	if (bad != NULL)
		*bad = s.bad_lines;
	msign_trace_session_free(&s);
	return cap_close(&c);
}

static const char *fixture(const char *name, char *buf, size_t len)
{
	const char *dir = getenv("MSIGN_FIXTURES");
	snprintf(buf, len, "%s/%s", dir ? dir : "fixtures", name);
	return buf;
}

/* ---- the line format ----------------------------------------------------- */

static void t_format_spec(void **st)
{
	(void)st;
	struct msign_trace_opts o = opts_for(MSIGN_TRACE_DTRACE);
	struct capture c;
	cap_open(&c);
	msign_trace_print_header(c.fp, &o);
	struct msign_trace_call k;
	memset(&k, 0, sizeof(k));
	strcpy(k.name, "access");
	k.nargs = 3;
	k.args[0] = (struct msign_trace_arg){ MSIGN_TRACE_STR, 0,
		"/AppleInternal/XBS/.isChrooted", 30, false };
	k.ret = -1;
	k.err = 2;
	msign_trace_print_call(c.fp, &o, &k);
	memset(&k, 0, sizeof(k));
	strcpy(k.name, "mmap");
	k.nargs = 6;
	uint64_t mm[6] = { 0, 0x2000, 1, 0x40001, 3, 0 };
	for (int i = 0; i < 6; i++)
		k.args[i].num = mm[i];
	k.ret = 0x10FB37000;
	msign_trace_print_call(c.fp, &o, &k);
	memset(&k, 0, sizeof(k));
	strcpy(k.name, "getpid");
	k.ret = 83854;
	msign_trace_print_call(c.fp, &o, &k);
	memset(&k, 0, sizeof(k));
	strcpy(k.name, "sysctlbyname");
	k.nargs = 6;
	k.args[0] = (struct msign_trace_arg){ MSIGN_TRACE_STR, 0,
		"kern.osvariant_status", 21, false };
	k.args[1].num = 0x15;
	k.args[2].num = 0x7FF7B04D5710;
	k.args[3].num = 0x7FF7B04D5708;
	msign_trace_print_call(c.fp, &o, &k);
	assert_string_equal(cap_close(&c),
		"SYSCALL(args) \t\t = return\n"
		"access(\"/AppleInternal/XBS/.isChrooted\\0\", 0x0, 0x0)\t\t = -1 2\n"
		"mmap(0x0, 0x2000, 0x1, 0x40001, 0x3, 0x0)\t\t = 0x10FB37000 0\n"
		"getpid(0x0, 0x0, 0x0)\t\t = 83854 0\n"
		"sysctlbyname(kern.osvariant_status, 0x15, 0x7FF7B04D5710, 0x7FF7B04D5708, 0x0)\t\t = 0 0\n");
	free(c.text);
}

static void t_format_columns(void **st)
{
	(void)st;
	struct msign_trace_opts o = opts_for(MSIGN_TRACE_DTRACE);
	o.pid_column = 1;
	o.relative = o.elapsed = o.oncpu = true;
	struct capture c;
	cap_open(&c);
	msign_trace_print_header(c.fp, &o);
	struct msign_trace_call k;
	memset(&k, 0, sizeof(k));
	strcpy(k.name, "write_nocancel");
	k.pid = 501;
	k.tid = 0xabc;
	k.rel_us = 12;
	k.elapsed_us = 3;
	k.cpu_us = 2;
	k.nargs = 3;
	k.args[0].num = 1;
	/* a control byte the tool failed to escape is escaped here */
	k.args[1] = (struct msign_trace_arg){ MSIGN_TRACE_STR, 0, "hi\\n\033", 5, false };
	k.args[2].num = 3;
	k.ret = 3;
	msign_trace_print_call(c.fp, &o, &k);
	memset(&k, 0, sizeof(k));
	strcpy(k.name, "read");
	k.nargs = 3;
	k.args[1] = (struct msign_trace_arg){ MSIGN_TRACE_STR, 0, "abc", 3, true };
	k.args[2] = (struct msign_trace_arg){ MSIGN_TRACE_TEXT, 0, "{a=1}", 5, false };
	msign_trace_print_call(c.fp, &o, &k);
	assert_string_equal(cap_close(&c),
		"  PID/  THRD RELATIVE  ELAPSD    CPU SYSCALL(args) \t\t = return\n"
		"  501/0xabc:        12       3      2 write_nocancel(0x1, \"hi\\n\\033\", 0x3)\t\t = 3 0\n"
		"    0/0x0:         0       0      0 read(0x0, \"abc\"..., {a=1})\t\t = 0 0\n");
	free(c.text);
}

static void t_arg_rules(void **st)
{
	(void)st;
	assert_int_equal(msign_trace_arg_count("getpid"), 3);
	assert_int_equal(msign_trace_arg_count("mmap"), 6);
	assert_int_equal(msign_trace_arg_count("openat"), 6);
	assert_int_equal(msign_trace_arg_count("openat_nocancel"), 6);
	assert_int_equal(msign_trace_arg_count("pread_nocancel"), 6);
	assert_int_equal(msign_trace_arg_count("newfstatat"), 6);
	assert_int_equal(msign_trace_arg_count("select"), 6);
	assert_int_equal(msign_trace_arg_count("sysctlbyname"), 5);
	assert_int_equal(msign_trace_arg_count("creat"), 3);
	assert_int_equal(msign_trace_arg_count("_nocancel"), 3);
	assert_int_equal(msign_trace_str_kind("open", 0), MSIGN_TRACE_PATH);
	assert_int_equal(msign_trace_str_kind("read_nocancel", 1), MSIGN_TRACE_BUFFER);
	assert_int_equal(msign_trace_str_kind("readlinkat", 1), MSIGN_TRACE_PATH);
	assert_int_equal(msign_trace_str_kind("readlinkat", 2), MSIGN_TRACE_BUFFER);
	assert_int_equal(msign_trace_str_kind("sysctlbyname", 0), MSIGN_TRACE_BARE);
}

static void t_counts(void **st)
{
	(void)st;
	struct msign_trace_counts t;
	memset(&t, 0, sizeof(t));
	assert_int_equal(msign_trace_counts_add(&t, "read", 3), 0);
	assert_int_equal(msign_trace_counts_add(&t, "close", 1), 0);
	assert_int_equal(msign_trace_counts_add(&t, "access", 1), 0);
	assert_int_equal(msign_trace_counts_add(&t, "read", 1), 0);
	struct capture c;
	cap_open(&c);
	msign_trace_counts_print(c.fp, &t);
	assert_string_equal(cap_close(&c),
		"\nCALL                                        COUNT\n"
		"access                                          1\n"
		"close                                           1\n"
		"read                                            4\n");
	free(c.text);
	/* a flood of names: the table stays bounded */
	char name[32];
	for (int i = 0; i < MSIGN_TRACE_MAX_NAMES + 10; i++) {
		snprintf(name, sizeof(name), "call%d", i);
		assert_int_equal(msign_trace_counts_add(&t, name, 2), 0);
	}
	assert_int_equal(t.len, MSIGN_TRACE_MAX_NAMES);
	assert_int_equal(t.dropped, 2 * 13);
	msign_trace_counts_free(&t);
}

/* ---- options ----------------------------------------------------------------- */

static void t_opts(void **st)
{
	(void)st;
	char *argv[] = { "du", "-h", NULL };
	struct msign_diag d;
	struct msign_trace_opts o = opts_for(MSIGN_TRACE_STRACE);
	msign_diag_clear(&d);
	assert_int_equal(msign_trace_opts_finish(&o, &d), MSIGN_E_ARG); /* no target */
	o.argv = argv;
	o.all = true;
	o.syscall = "exec";
	assert_int_equal(msign_trace_opts_finish(&o, NULL), 0);
	assert_string_equal(o.syscall, "execve");
	assert_true(o.counts && o.relative && o.elapsed && o.follow);
	assert_false(o.oncpu); /* strace cannot */
	assert_true(msign_trace_show_pid(&o));
	o.pid_column = -1;
	assert_false(msign_trace_show_pid(&o));

	o = opts_for(MSIGN_TRACE_DTRACE);
	o.argv = argv;
	o.all = true;
	assert_int_equal(msign_trace_opts_finish(&o, NULL), 0);
	assert_true(o.oncpu);

	o = opts_for(MSIGN_TRACE_STRACE);
	o.argv = argv;
	o.oncpu = true;
	assert_int_equal(msign_trace_opts_finish(&o, NULL), MSIGN_E_UNSUPPORTED);
	o = opts_for(MSIGN_TRACE_STRACE);
	o.name = "sshd";
	assert_int_equal(msign_trace_opts_finish(&o, NULL), MSIGN_E_UNSUPPORTED);
	o = opts_for(MSIGN_TRACE_DTRACE);
	o.argv = argv;
	o.pid = 12;
	assert_int_equal(msign_trace_opts_finish(&o, NULL), MSIGN_E_ARG); /* two */
	o.pid = 0;
	o.syscall = "open) { exit(0); } syscall::read";
	assert_int_equal(msign_trace_opts_finish(&o, NULL), MSIGN_E_ARG);
	o.syscall = NULL;
	o.bufsize = "4m -x destructive";
	assert_int_equal(msign_trace_opts_finish(&o, NULL), MSIGN_E_ARG);
	o.bufsize = "512k";
	assert_int_equal(msign_trace_opts_finish(&o, NULL), 0);
	o = opts_for(MSIGN_TRACE_DTRACE);
	o.name = "x\" || 1 || \"";
	assert_int_equal(msign_trace_opts_finish(&o, NULL), MSIGN_E_ARG);
	/* white space is refused only where dtrace -c runs the command
	 * (msign_trace_dtrace_argv, t_argv) */
	char *spaced[] = { "sh", "-c", "exit 7", NULL };
	o = opts_for(MSIGN_TRACE_DTRACE);
	o.argv = spaced;
	assert_int_equal(msign_trace_opts_finish(&o, NULL), 0);
	o = opts_for(MSIGN_TRACE_DTRACE);
	o.pid = 5;
	o.unsign = true;
	assert_int_equal(msign_trace_opts_finish(&o, NULL), MSIGN_E_ARG);
}

static void t_argv(void **st)
{
	(void)st;
	char *argv[] = { "du", "-h", "/tmp", NULL };
	struct msign_trace_opts o = opts_for(MSIGN_TRACE_STRACE);
	o.argv = argv;
	o.follow = o.relative = o.stack = true;
	o.syscall = "openat";
	assert_int_equal(msign_trace_opts_finish(&o, NULL), 0);
	char **v = NULL;
	assert_int_equal(msign_trace_strace_argv(&o, NULL, "/t/f", &v, NULL), 0);
	const char *want[] = { "strace", "-o", "/t/f", "-qq", "-X", "raw", "-e",
			       "verbose=none", "-e", "signal=none", "-s", "256",
			       "-f", "-ttt", "-T", "-k", "-e", "trace=openat",
			       "--", "du", "-h", "/tmp", NULL };
	for (size_t i = 0; want[i] != NULL; i++)
		assert_string_equal(v[i], want[i]);
	msign_trace_argv_free(v);
	assert_null(o.syscall_macos);

	/* macOS names Linux calls otherwise: mapped, each name "?" so an
	 * architecture without it (arm64: no stat) is no error */
	o = opts_for(MSIGN_TRACE_STRACE);
	o.argv = argv;
	o.syscall = "stat64";
	assert_int_equal(msign_trace_opts_finish(&o, NULL), 0);
	assert_string_equal(o.syscall_macos, "stat64");
	assert_string_equal(o.syscall, "stat,newfstatat,statx");
	assert_int_equal(msign_trace_strace_argv(&o, NULL, "/t/f", &v, NULL), 0);
	assert_string_equal(v[13], "trace=?stat,?newfstatat,?statx");
	msign_trace_argv_free(v);
	o = opts_for(MSIGN_TRACE_STRACE);
	o.argv = argv;
	o.syscall = "write_nocancel";
	assert_int_equal(msign_trace_opts_finish(&o, NULL), 0);
	assert_string_equal(o.syscall, "write");
	o = opts_for(MSIGN_TRACE_STRACE);
	o.argv = argv;
	o.syscall = "open_nocancel";
	assert_int_equal(msign_trace_opts_finish(&o, NULL), 0);
	assert_string_equal(o.syscall, "open,openat");
	o = opts_for(MSIGN_TRACE_STRACE); /* "_nocancel" alone is no name */
	o.argv = argv;
	o.syscall = "_nocancel";
	assert_int_equal(msign_trace_opts_finish(&o, NULL), 0);
	assert_null(o.syscall_macos);
	o = opts_for(MSIGN_TRACE_DTRACE); /* dtrace keeps macOS's names */
	o.argv = argv;
	o.syscall = "open";
	assert_int_equal(msign_trace_opts_finish(&o, NULL), 0);
	assert_string_equal(o.syscall, "open");
	assert_null(o.syscall_macos);

	o = opts_for(MSIGN_TRACE_DTRACE);
	o.argv = argv;
	o.dtrace = "/x/dtrace";
	o.bufsize = "8m";
	assert_int_equal(msign_trace_opts_finish(&o, NULL), 0);
	assert_int_equal(msign_trace_dtrace_argv(&o, "PROG", "/usr/bin/du",
						 "/t/f", &v, NULL), 0);
	const char *dwant[] = { "/x/dtrace", "-x", "dynvarsize=8m", "-x",
				"evaltime=preinit", "-x", "switchrate=10hz", "-Z", "-q",
				"-o", "/t/f", "-n", "PROG", "-c", "/usr/bin/du -h /tmp", NULL };
	for (size_t i = 0; dwant[i] != NULL; i++)
		assert_string_equal(v[i], dwant[i]);
	assert_null(v[15]);
	msign_trace_argv_free(v);
	assert_int_equal(msign_trace_dtrace_argv(&o, "PROG", "/Applications/My App",
						 "/t/f", &v, NULL), MSIGN_E_UNSUPPORTED);

	/* -c splits at white space: a word with any, or an empty one, is
	 * refused there; the same command started by msign (-p) passes */
	char *spaced[] = { "sh", "-c", "exit 7", NULL };
	char *empty[] = { "printf", "", NULL };
	struct msign_diag dg;
	msign_diag_clear(&dg);
	o = opts_for(MSIGN_TRACE_DTRACE);
	o.argv = spaced;
	assert_int_equal(msign_trace_opts_finish(&o, NULL), 0);
	assert_int_equal(msign_trace_dtrace_argv(&o, "PROG", "/bin/sh", "/t/f",
						 &v, &dg), MSIGN_E_UNSUPPORTED);
	assert_string_equal(dg.msg, "dtrace -c splits the command at white space: the argument 'exit 7' cannot be passed");
	o.argv = empty;
	assert_int_equal(msign_trace_dtrace_argv(&o, "PROG", "/usr/bin/printf",
						 "/t/f", &v, NULL), MSIGN_E_UNSUPPORTED);
	o.argv = NULL;
	o.pid = 4242;
	assert_int_equal(msign_trace_dtrace_argv(&o, "PROG", NULL, "/t/f", &v, NULL), 0);
	assert_string_equal(v[13], "-p");
	assert_string_equal(v[14], "4242");
	assert_null(v[15]);
	msign_trace_argv_free(v);
}

/* ---- the D program and its records ----------------------------------------- */

static void t_dtrace_program(void **st)
{
	(void)st;
	char *argv[] = { "du", NULL };
	struct msign_trace_opts o = opts_for(MSIGN_TRACE_DTRACE);
	o.argv = argv;
	o.syscall = "read";
	assert_int_equal(msign_trace_opts_finish(&o, NULL), 0);
	char *p = NULL;
	assert_int_equal(msign_trace_dtrace_program(&o, &p, NULL), 0);
	assert_non_null(strstr(p, "syscall::read:entry,\nsyscall::read_nocancel:entry\n/pid == $target/\n"));
	assert_non_null(strstr(p, "syscall::read:return,\nsyscall::read_nocancel:return\n/self->ok == 1 && (int64_t)arg0 > 0/"));
	assert_non_null(strstr(p, "copyinstr(self->a1, (int64_t)arg0 > 256 ? 256 : arg0)"));
	assert_null(strstr(p, "syscall:::"));
	assert_null(strstr(p, "pread")); /* -t read is read alone */
	assert_null(strstr(p, "@msign_n"));
	assert_null(strstr(p, "timestamp - self->t"));
	/* the wait status, from proc:::exited (proc:::exit says CLD_EXITED
	 * for a signal death too) */
	assert_non_null(strstr(p, "proc:::exited\n/pid == $target/\n{\n\tprintf(\"msign:x %d\\n\", (int)arg1);\n}\n"));
	assert_null(strstr(p, "proc:::exit\n"));
	assert_null(strstr(p, "args["));
	/* the last return clause frees every thread-local variable */
	assert_non_null(strstr(p, "syscall::read:return,\nsyscall::read_nocancel:return\n/self->ok/\n{\n"
				  "\tself->ok = 0;\n\tself->a0 = 0;\n\tself->a1 = 0;\n\tself->a2 = 0;\n"
				  "\tself->a3 = 0;\n\tself->a4 = 0;\n\tself->a5 = 0;\n}\n"));
	free(p);

	o = opts_for(MSIGN_TRACE_DTRACE);
	o.name = "du";
	o.counts = o.oncpu = true;
	assert_int_equal(msign_trace_opts_finish(&o, NULL), 0);
	assert_int_equal(msign_trace_dtrace_program(&o, &p, NULL), 0);
	/* -n: a prefix match either way, as dtruss's */
	assert_non_null(strstr(p, "syscall:::entry\n/substr(execname, 0, 2) == \"du\" ||\n"
				  " execname == substr(\"du\", 0, strlen(execname))/\n"));
	/* -e/-o: their variables are freed too */
	assert_non_null(strstr(p, "\tself->a5 = 0;\n\tself->vt = 0;\n}\n"));
	assert_non_null(strstr(p, "self->vt = vtimestamp;"));
	assert_non_null(strstr(p, "@msign_n[probefunc] = count();"));
	assert_null(strstr(p, "$target")); /* -n has none */
	assert_null(strstr(p, "self->t = timestamp;"));
	free(p);
}

static void t_dtrace_records(void **st)
{
	(void)st;
	struct msign_trace_opts o = opts_for(MSIGN_TRACE_DTRACE);
	uint64_t bad;
	char *out = feed(&o, true,
		"msign:c 1 2 openat_nocancel 0 3 fffffffffffffffe 7f00 1000000 0 0 0 1 /etc/hosts\n"
		"msign:c 1 2 write 0 6 1 7f00 6 0 0 0 1 hello\\n\\0\n"
		"msign:c 1 2 stat64 0 0 7f00 7f10 0 0 0 0 0 a\\\\0\n"
		"msign:c 1 2 mmap 12 -1 0 4000 3 1002 ffffffffffffffff 0 -1\n"
		"              libsystem_kernel.dylib`__mmap+0xa\n"
		"\n"
		"msign:x 1792\n", &bad);
	assert_string_equal(out,
		"openat_nocancel(0xFFFFFFFFFFFFFFFE, \"/etc/hosts\\0\", 0x1000000, 0x0, 0x0, 0x0)\t\t = 3 0\n"
		"write(0x1, \"hello\\n\", 0x6)\t\t = 6 0\n"
		"stat64(\"a\\\\0\\0\", 0x7F10, 0x0)\t\t = 0 0\n"
		"mmap(0x0, 0x4000, 0x3, 0x1002, 0xFFFFFFFFFFFFFFFF, 0x0)\t\t = -1 12\n"
		"              libsystem_kernel.dylib`__mmap+0xa\n");
	assert_int_equal(bad, 0);
	free(out);

	/* the exit record is a wait status: exit(7), SIGKILL, SIGSEGV with a
	 * core; a stopped process or a value no wait status has is refused */
	struct msign_trace_session s;
	msign_trace_session_init(&s, &o, stderr);
	s.started = true;
	msign_trace_dtrace_line(&s, "msign:x 1792", 12);
	assert_true(s.have_exit);
	assert_int_equal(s.exit_status, 7);
	msign_trace_dtrace_line(&s, "msign:x 9", 9);
	assert_int_equal(s.exit_status, 137);
	msign_trace_dtrace_line(&s, "msign:x 139", 11);
	assert_int_equal(s.exit_status, 139);
	msign_trace_dtrace_line(&s, "msign:x 0", 9);
	assert_int_equal(s.exit_status, 0);
	assert_int_equal(s.bad_lines, 0);
	msign_trace_dtrace_line(&s, "msign:x 4991", 12); /* stopped, SIGSTOP */
	msign_trace_dtrace_line(&s, "msign:x 65536", 13);
	msign_trace_dtrace_line(&s, "msign:x -1", 10);
	assert_int_equal(s.exit_status, 0);
	assert_int_equal(s.bad_lines, 3);
	msign_trace_session_free(&s);

	/* records that lie: each is refused and counted, nothing printed */
	out = feed(&o, true,
		"msign:c 1 2 open 0 3 0 0 0 0 0 0 7 /x\n"          /* sidx 7 */
		"msign:c 1 2 open 0 3 0 0 0 0 0 0 -2 /x\n"
		"msign:c 1 2 open 0 3 0 0 0 0 0 -1 trailing\n"
		"msign:c 1 2 open 0 3 0 0 0 0 0\n"                /* short */
		"msign:c 1 2 op-en 0 3 0 0 0 0 0 0 -1\n"
		"msign:c 1 2 open 0 3 10000000000000000 0 0 0 0 0 -1\n" /* 17 digits */
		"msign:c 1 2 open 0 99999999999999999999 0 0 0 0 0 0 -1\n"
		"msign:c 1 2 open 0 -9223372036854775809 0 0 0 0 0 0 -1\n"
		"msign:c 1 2 aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa 0 3 0 0 0 0 0 0 -1\n"
		"msign:c -  2 open 0 3 0 0 0 0 0 0 -1\n"
		"msign:n read\n"
		"msign:x 1 7 0\n"                                  /* the old record */
		"msign:q\n"
		"msign:bx\n"
		"msign:c 1 2 rename 0 0 0 0 0 0 0 0 0 /a\t0 /b\n" /* second <= first */
		"msign:c 1 2 rename 0 0 0 0 0 0 0 0 0 /a\t6 /b\n" /* beyond a5 */
		"msign:c 1 2 rename 0 0 0 0 0 0 0 0 0 /a\tx /b\n"
		"msign:c 1 2 rename 0 0 0 0 0 0 0 0 0 /a\t\n", &bad);
	assert_string_equal(out, "");
	assert_int_equal(bad, 18);
	free(out);
	/* two-path calls: both strings, the second after a raw tab (%S
	 * writes a tab in a string as \t); read/write buffers the program cut
	 * at 256 bytes end in "..." (the length is the return / arg2) */
	out = feed(&o, true,
		"msign:c 1 2 rename 0 0 7f00 7f10 0 0 0 0 0 /a b\\0\t1 /c\\td\\0\n"
		"msign:c 1 2 renameat 0 0 3 7f00 4 7f10 0 0 1 old\t3 new\n"
		"msign:c 1 2 symlinkat 0 0 7f00 5 7f10 0 0 0 0 target\t2 link\n"
		"msign:c 1 2 read 0 257 3 7f00 1000 0 0 0 1 abc\n"
		"msign:c 1 2 read 0 256 3 7f00 1000 0 0 0 1 abc\n"
		"msign:c 1 2 write_nocancel 0 256 1 7f00 100 0 0 0 1 xyz\n"
		"msign:c 1 2 write 0 -1 1 7f00 101 0 0 0 1 xyz\n",
		&bad);
	assert_string_equal(out,
		"rename(\"/a b\\0\", \"/c\\td\\0\", 0x0)\t\t = 0 0\n"
		"renameat(0x3, \"old\\0\", 0x4, \"new\\0\", 0x0, 0x0)\t\t = 0 0\n"
		"symlinkat(\"target\\0\", 0x5, \"link\\0\", 0x0, 0x0, 0x0)\t\t = 0 0\n"
		"read(0x3, \"abc\"..., 0x1000)\t\t = 257 0\n"
		"read(0x3, \"abc\", 0x1000)\t\t = 256 0\n"
		"write_nocancel(0x1, \"xyz\", 0x100)\t\t = 256 0\n"
		"write(0x1, \"xyz\"..., 0x101)\t\t = -1 0\n");
	assert_int_equal(bad, 0);
	free(out);
	/* ...but the largest values that fit are taken */
	out = feed(&o, true,
		"msign:c 1 ffffffffffffffff getpid 0 -9223372036854775808 ffffffffffffffff 0 0 0 0 0 -1\n",
		&bad);
	assert_string_equal(out,
		"getpid(0xFFFFFFFFFFFFFFFF, 0x0, 0x0)\t\t = -9223372036854775808 0\n");
	assert_int_equal(bad, 0);
	free(out);
}

/* ---- strace lines ----------------------------------------------------------- */

static void t_strace_recorded(void **st)
{
	(void)st;
	struct msign_trace_opts o = opts_for(MSIGN_TRACE_STRACE);
	o.counts = true;
	char *out = feed(&o, false,
		"execve(\"/usr/bin/du\", 0x7ffd881ebb50, 0x7ffd881ebb70 /* 20 vars */) = 0\n"
		"brk(NULL)               = 0x560136c4a000\n"
		"mmap(NULL, 8192, 0x3, 0x22, -1, 0) = 0x7fdcdd476000\n"
		"access(\"/etc/ld.so.preload\", 0x4) = -1 ENOENT (No such file or directory)\n"
		"openat(-100, \"/etc/ld.so.cache\", 0x80000) = 3\n"
		"openat(-100, \"/x\", 0x241, 0644) = -1 EACCES (Permission denied)\n"
		"read(3, \"\\177ELF\\2\\1\\1\\3\\0\\0\\0\\0\\0\\0\\0\\0\\3\\0>\\0\\1\\0\\0\\0\\20t\\2\\0\\0\\0\\0\\0\"..., 832) = 832\n"
		"clone(child_stack=NULL, flags=0x1200011, child_tidptr=0x7f6c1a6f7a10) = 4143\n"
		"poll([{fd=3, events=0x1}], 1, 0) = 1 ([{fd=3, revents=0x1}])\n"
		"wait4(-1, 0x7ffc50bd9cbc, 0, NULL) = ? ERESTARTSYS (To be restarted if SA_RESTART is set)\n"
		"restart_syscall(<... resuming interrupted clock_nanosleep ...>) = 0\n"
		"rt_sigprocmask(0x2, 0x7ffd5e3c7f80, NULL, 8) = 0\n"
		"ioctl(1, 0x5401, 0x7ffc) = -1 ERRNO_777 (Unknown error 777)\n"
		"getpid()                = 4876\n"
		"--- SIGCHLD {si_signo=17, si_code=1} ---\n"
		"exit_group(0)           = ?\n"
		"+++ exited with 0 +++\n", NULL);
	assert_string_equal(out,
		"execve(\"/usr/bin/du\\0\", 0x7FFD881EBB50, 0x7FFD881EBB70)\t\t = 0 0\n"
		"brk(0x0, 0x0, 0x0)\t\t = 0x560136C4A000 0\n"
		"mmap(0x0, 0x2000, 0x3, 0x22, 0xFFFFFFFFFFFFFFFF, 0x0)\t\t = 0x7FDCDD476000 0\n"
		"access(\"/etc/ld.so.preload\\0\", 0x4, 0x0)\t\t = -1 2\n"
		"openat(0xFFFFFFFFFFFFFF9C, \"/etc/ld.so.cache\\0\", 0x80000, 0x0, 0x0, 0x0)\t\t = 3 0\n"
		"openat(0xFFFFFFFFFFFFFF9C, \"/x\\0\", 0x241, 0x1A4, 0x0, 0x0)\t\t = -1 13\n"
		"read(0x3, \"\\177ELF\\2\\1\\1\\3\\0\\0\\0\\0\\0\\0\\0\\0\\3\\0>\\0\\1\\0\\0\\0\\20t\\2\\0\\0\\0\\0\\0\"..., 0x340)\t\t = 832 0\n"
		"clone(0x0, 0x1200011, 0x7F6C1A6F7A10)\t\t = 4143 0\n"
		"poll([{fd=3, events=0x1}], 0x1, 0x0)\t\t = 1 0\n"
		"wait4(0xFFFFFFFFFFFFFFFF, 0x7FFC50BD9CBC, 0x0)\t\t = -1 512\n"
		"restart_syscall(<... resuming interrupted clock_nanosleep ...>, 0x0, 0x0)\t\t = 0 0\n"
		"rt_sigprocmask(0x2, 0x7FFD5E3C7F80, 0x0)\t\t = 0x0 0\n"
		"ioctl(0x1, 0x5401, 0x7FFC)\t\t = -1 777\n"
		"getpid(0x0, 0x0, 0x0)\t\t = 4876 0\n"
		"\nCALL                                        COUNT\n"
		"access                                          1\n"
		"brk                                             1\n"
		"clone                                           1\n"
		"execve                                          1\n"
		"getpid                                          1\n"
		"ioctl                                           1\n"
		"mmap                                            1\n"
		"poll                                            1\n"
		"read                                            1\n"
		"restart_syscall                                 1\n"
		"rt_sigprocmask                                  1\n"
		"wait4                                           1\n"
		"openat                                          2\n");
	free(out);
}

static void t_strace_follow(void **st)
{
	(void)st;
	struct msign_trace_opts o = opts_for(MSIGN_TRACE_STRACE);
	o.follow = o.relative = o.elapsed = true;
	o.pid_column = 1;
	struct capture c;
	cap_open(&c);
	struct msign_trace_session s;
	msign_trace_session_init(&s, &o, c.fp);
	s.started = true;
	s.t0_us = 1795705366000000ull;
	const char *lines[] = {
		"7142  1795705366.761403 vfork( <unfinished ...>",
		"7143  1795705366.761500 execve(\"/usr/bin/ls\", 0x55c3, 0x55c4 <unfinished ...>",
		"7142  1795705366.762000 <... vfork resumed>) = 7143 <0.000700>",
		"7143  1795705366.763000 <... execve resumed>) = 0 <0.001600>",
		"7143  1795705366.764000 exit_group(0)     = ?",
		"7142  1795705366.765000 wait4(-1,  <unfinished ...>",
		"7142  1795705366.766000 <... wait4 resumed>0x7ffc, 0, NULL) = 7143 <0.001000>",
		"[pid  7144] 1795705366.767000 getpid() = 7144 <0.000001>",
		/* a resumed call whose start was never seen (attached late) */
		"7145  1795705366.768000 <... read resumed>\"x\", 1) = 1 <0.000002>",
		" > /usr/lib/libc.so.6(__getpid+0x7) [0xd54e7]",
	};
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
		msign_trace_strace_line(&s, lines[i], strlen(lines[i]));
	assert_int_equal(s.npending, 0);
	msign_trace_session_free(&s);
	assert_string_equal(cap_close(&c),
		" 7142/0x1be6:    762103     700 vfork(0x0, 0x0, 0x0)\t\t = 7143 0\n"
		" 7143/0x1be7:    763100    1600 execve(\"/usr/bin/ls\\0\", 0x55C3, 0x55C4)\t\t = 0 0\n"
		" 7142/0x1be6:    766000    1000 wait4(0xFFFFFFFFFFFFFFFF, 0x7FFC, 0x0)\t\t = 7143 0\n"
		" 7144/0x1be8:    767001       1 getpid(0x0, 0x0, 0x0)\t\t = 7144 0\n"
		" 7145/0x1be9:         0       2 read(\"x\\0\", 0x1, 0x0)\t\t = 1 0\n"
		" > /usr/lib/libc.so.6(__getpid+0x7) [0xd54e7]\n");
	free(c.text);
}

static void t_strace_hostile(void **st)
{
	(void)st;
	struct msign_trace_opts o = opts_for(MSIGN_TRACE_STRACE);
	o.follow = true;
	struct msign_trace_call c;
	const char *calls[] = {
		"openat(-100, \"/unterminated, 0) = 3",
		"openat(-100, \"/x\\\", /* never closed ) = 3",
		"read(3, {{{{{, 1) = 1",
		"read(3, ]) = 1",
		"getpid(",
		"getpid() =",
		"getpid() = ",
		"getpid() = 0x",
		"getpid() = 99999999999999999999999",
		"getpid() = 12abc",
		"getpid() = ? ",
		"getpid() 3",
		"(3) = 1",
		"restart_syscall(<... never closed) = 0",
	};
	for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]); i++)
		assert_int_equal(msign_trace_strace_parse_call(calls[i], strlen(calls[i]), &c),
				 MSIGN_E_INVALID);
	/* numbers that do not fit are kept as text, never wrapped */
	const char *big = "lseek(3, 99999999999999999999, -99999999999999999999) = 0 <x>";
	assert_int_equal(msign_trace_strace_parse_call(big, strlen(big), &c), 0);
	assert_int_equal(c.nargs, 3);
	assert_int_equal(c.args[1].kind, MSIGN_TRACE_TEXT);
	assert_int_equal(c.args[2].kind, MSIGN_TRACE_TEXT);
	/* more than six arguments: six kept, no overflow */
	const char *many = "x(1, 2, 3, 4, 5, 6, 7, 8, 9) = 0";
	assert_int_equal(msign_trace_strace_parse_call(many, strlen(many), &c), 0);
	assert_int_equal(c.nargs, 6);
	assert_true(c.args[5].num == 6);

	/* whole lines: garbage, NUL bytes, a deep nest, a flood of pending
	 * calls; nothing crashes and the pending table stays bounded */
	struct capture cap;
	cap_open(&cap);
	struct msign_trace_session s;
	msign_trace_session_init(&s, &o, cap.fp);
	s.started = true;
	char *line = malloc(MSIGN_TRACE_MAX_LINE);
	assert_non_null(line);
	memset(line, '(', MSIGN_TRACE_MAX_LINE);
	memcpy(line, "1 read", 6);
	msign_trace_strace_line(&s, line, MSIGN_TRACE_MAX_LINE);
	memset(line, '"', MSIGN_TRACE_MAX_LINE);
	msign_trace_strace_line(&s, line, MSIGN_TRACE_MAX_LINE);
	const char nul[] = "1 read(3, \"a\0b\", 3) = 3";
	msign_trace_strace_line(&s, nul, sizeof(nul) - 1);
	for (uint32_t i = 0; i < MSIGN_TRACE_MAX_PENDING + 100; i++) {
		int n = snprintf(line, 64, "%u read(3,  <unfinished ...>", i + 1);
		msign_trace_strace_line(&s, line, (size_t)n);
	}
	assert_int_equal(s.npending, MSIGN_TRACE_MAX_PENDING);
	/* two halves that would make the joined line too long */
	const size_t half = MSIGN_TRACE_MAX_LINE / 2 + 100;
	int n = snprintf(line, 64, "1 read(");
	memset(line + n, 'x', half);
	memcpy(line + n + half, " <unfinished ...>", 17);
	msign_trace_strace_line(&s, line, (size_t)n + half + 17);
	n = snprintf(line, 64, "1 <... read resumed>");
	memset(line + n, 'x', half);
	msign_trace_strace_line(&s, line, (size_t)n + half);
	assert_int_equal(s.long_lines, 1);
	assert_int_equal(s.npending, MSIGN_TRACE_MAX_PENDING - 1);
	const char *junk[] = { "", "1", "1 ", "[pid", "[pid 12", "<... ", "<... x",
			       "<... read resumed", "1 <... read resumed>",
			       "99999999999999999999999 getpid() = 1" };
	for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++)
		msign_trace_strace_line(&s, junk[i], strlen(junk[i]));
	msign_trace_session_free(&s);
	free(line);
	char *out = cap_close(&cap);
	/* the NUL byte inside the string is escaped, not printed */
	assert_non_null(strstr(out, "read(0x3, \"a\\000b\", 0x3)\t\t = 3 0\n"));
	free(out);
}

/* ---- the signature obstacle ------------------------------------------------- */

static void t_classify(void **st)
{
	(void)st;
	char p[512];
	enum msign_trace_target k;
	assert_int_equal(msign_trace_classify(fixture("universal", p, sizeof(p)), &k, NULL), 0);
	assert_int_equal(k, MSIGN_TRACE_TARGET_SIGNED);
	assert_int_equal(msign_trace_classify(fixture("universal.unsigned", p, sizeof(p)), &k, NULL), 0);
	assert_int_equal(k, MSIGN_TRACE_TARGET_UNSIGNED);
	assert_int_equal(msign_trace_classify(fixture("adhoc_ent_arm64", p, sizeof(p)), &k, NULL), 0);
	assert_int_equal(k, MSIGN_TRACE_TARGET_SIGNED);
	/* hardened runtime without get-task-allow (and not Apple's CMS) */
	assert_int_equal(msign_trace_classify(fixture("cms_arm64", p, sizeof(p)), &k, NULL), 0);
	assert_int_equal(k, MSIGN_TRACE_TARGET_RESTRICTED);
	assert_int_equal(msign_trace_classify(fixture("README.md", p, sizeof(p)), &k, NULL), 0);
	assert_int_equal(k, MSIGN_TRACE_TARGET_OTHER);
	assert_int_equal(msign_trace_classify(fixture("bad_trunc_header", p, sizeof(p)), &k, NULL), 0);
	assert_int_equal(k, MSIGN_TRACE_TARGET_OTHER);
	assert_int_equal(msign_trace_classify("/nonexistent/x", &k, NULL), MSIGN_E_IO);

	/* a platform identifier in the CodeDirectory; a set-user-ID file */
	struct msign_image *img = NULL;
	size_t len = 0;
	uint8_t *buf = load("hello_arm64", &len);
	assert_int_equal(msign_image_parse(buf, len, &img, NULL), 0);
	struct msign_sig sig;
	assert_int_equal(msign_sig_parse(&img->slices[0], &sig, NULL), 0);
	size_t cd_off = (size_t)(sig.cds[0].blob - buf);
	msign_image_free(img);
	buf[cd_off + 38] = 14; /* CodeDirectory platform */
	char tmp[] = "/tmp/msign-test-platform.XXXXXX"; /* reused below */
	int fd = mkstemp(tmp);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, buf, len), (ssize_t)len);
	close(fd);
	free(buf);
	assert_int_equal(msign_trace_classify(tmp, &k, NULL), 0);
	assert_int_equal(k, MSIGN_TRACE_TARGET_PLATFORM);
	unlink(tmp);
	strcpy(tmp, "/tmp/msign-test-setuid.XXXXXX");
	fd = mkstemp(tmp);
	assert_true(fd >= 0);
	FILE *in = fopen(fixture("universal.unsigned", p, sizeof(p)), "rb");
	assert_non_null(in);
	char chunk[4096];
	size_t got;
	while ((got = fread(chunk, 1, sizeof(chunk), in)) > 0)
		assert_int_equal(write(fd, chunk, got), (ssize_t)got);
	fclose(in);
	assert_int_equal(fchmod(fd, 04755), 0);
	close(fd);
	assert_int_equal(msign_trace_classify(tmp, &k, NULL), 0);
	assert_int_equal(k, MSIGN_TRACE_TARGET_RESTRICTED);
	unlink(tmp);
	assert_string_equal(msign_trace_target_text(MSIGN_TRACE_TARGET_PLATFORM),
			    "an Apple platform binary");
}

static void t_unsign_copy(void **st)
{
	(void)st;
	char src[512], copy[PATH_MAX + 300];
	struct msign_trace_dir td;
	struct msign_diag d;
	msign_diag_clear(&d);
	assert_int_equal(msign_trace_dir_make(&td, "/tmp", &d), 0);
	fixture("universal", src, sizeof(src));
	assert_int_equal(msign_trace_unsign_copy(&td, src, NULL, copy, sizeof(copy), &d), 0);
	char want[PATH_MAX + 300];
	snprintf(want, sizeof(want), "%s/universal", td.path);
	assert_string_equal(copy, want);
	assert_int_equal(access(copy, X_OK), 0);
	struct stat sb;
	assert_int_equal(lstat(copy, &sb), 0);
	assert_true(S_ISREG(sb.st_mode));
	assert_int_equal(sb.st_mode & 07777, 0700);
	struct msign_image *img = NULL;
	assert_int_equal(msign_image_open(copy, &img, NULL), 0);
	assert_int_equal(img->nslices, 2);
	for (uint32_t i = 0; i < img->nslices; i++) {
		struct msign_sig sig;
		int r = msign_sig_parse(&img->slices[i], &sig, NULL);
		if (img->slices[i].cputype == MSIGN_CPU_TYPE_ARM64) {
			/* arm64 macOS runs nothing unsigned: signed ad hoc */
			assert_int_equal(r, 0);
			assert_true(sig.cds[sig.best].flags & MSIGN_CS_ADHOC);
		} else {
			assert_int_equal(r, MSIGN_E_NOT_SIGNED);
		}
	}
	msign_image_free(img);
	int kind = -1;
	assert_int_equal(msign_verify_file(copy, "arm64", 0, &kind, NULL), 0);
	enum msign_trace_target k;
	assert_int_equal(msign_trace_classify(src, &k, NULL), 0);
	assert_int_equal(k, MSIGN_TRACE_TARGET_SIGNED); /* the source is untouched */
	/* a second copy of the same name is refused (O_EXCL), the first kept */
	assert_int_equal(msign_trace_unsign_copy(&td, src, NULL, want, sizeof(want), &d),
			 MSIGN_E_IO);
	assert_string_equal(want, "");
	assert_int_equal(access(copy, X_OK), 0);
	assert_int_equal(unlink(copy), 0);
	/* a link planted under the copy's name is not followed */
	char victim[] = "/tmp/msign-test-victim.XXXXXX";
	int vfd = mkstemp(victim);
	assert_true(vfd >= 0);
	close(vfd);
	assert_int_equal(symlink(victim, copy), 0);
	assert_int_equal(msign_trace_unsign_copy(&td, src, NULL, want, sizeof(want), &d),
			 MSIGN_E_IO);
	assert_int_equal(stat(victim, &sb), 0);
	assert_int_equal(sb.st_size, 0);
	assert_int_equal(unlink(copy), 0);
	assert_int_equal(unlink(victim), 0);
	/* a file that is not a Mach-O cannot be stripped: an error, no copy */
	assert_int_not_equal(msign_trace_unsign_copy(&td, fixture("README.md", src, sizeof(src)),
						     NULL, copy, sizeof(copy), NULL), 0);
	assert_string_equal(copy, "");
	/* the folder goes with what was named; it was empty */
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s", td.path);
	const char *none[] = { "universal", "trace.fifo", NULL };
	assert_int_equal(msign_trace_dir_remove(&td, none, &d), 0);
	assert_int_equal(td.parent, -1);
	assert_int_not_equal(access(path, F_OK), 0);
}

/* The private folder: made only where no one else can rename it away
 * (every folder above, not only TMPDIR), private, and gone afterwards. */
static void t_trace_dir(void **st)
{
	(void)st;
	char base[] = "/tmp/msign-test-tdir.XXXXXX", sub[128], deep[160];
	assert_non_null(mkdtemp(base));
	struct msign_trace_dir td;
	struct msign_diag d;
	msign_diag_clear(&d);
	/* 0700 whatever the umask (0277 would make mkdtemp's 0500) */
	mode_t um = umask(0277);
	assert_int_equal(msign_trace_dir_make(&td, base, &d), 0);
	umask(um);
	struct stat sb;
	assert_int_equal(fstat(td.fd, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0700);
	assert_int_equal(strncmp(td.path, base, strlen(base)), 0);
	assert_int_equal(msign_trace_dir_remove(&td, NULL, &d), 0);
	/* others may write the folder above TMPDIR: refused, nothing made */
	snprintf(sub, sizeof(sub), "%s/open", base);
	snprintf(deep, sizeof(deep), "%s/open/mine", base);
	assert_int_equal(mkdir(sub, 0777), 0);
	assert_int_equal(chmod(sub, 0777), 0);
	assert_int_equal(mkdir(deep, 0700), 0);
	msign_diag_clear(&d);
	assert_int_equal(msign_trace_dir_make(&td, deep, &d), MSIGN_E_IO);
	char want[512];
	snprintf(want, sizeof(want),
		 "TMPDIR %s: %s may be written by others and is not sticky, so msign's folder there could be swapped; set TMPDIR to a private folder",
		 deep, sub);
	assert_string_equal(d.msg, want);
	assert_int_equal(td.parent, -1);
	assert_int_equal(rmdir(deep), 0); /* empty: nothing was made in it */
	/* sticky: fine */
	assert_int_equal(chmod(sub, 01777), 0);
	assert_int_equal(mkdir(deep, 0700), 0);
	assert_int_equal(msign_trace_dir_make(&td, deep, &d), 0);
	assert_int_equal(msign_trace_dir_remove(&td, NULL, &d), 0);
	/* a link as TMPDIR is resolved: the folders checked are the real ones */
	char ln[160];
	snprintf(ln, sizeof(ln), "%s/link", base);
	assert_int_equal(symlink(deep, ln), 0);
	assert_int_equal(msign_trace_dir_make(&td, ln, &d), 0);
	assert_int_equal(strncmp(td.path, deep, strlen(deep)), 0);
	assert_int_equal(msign_trace_dir_remove(&td, NULL, &d), 0);
	/* a folder another user owns (root can make one): refused */
	if (geteuid() == 0) {
		assert_int_equal(chown(deep, 65534, 65534), 0);
		msign_diag_clear(&d);
		assert_int_equal(msign_trace_dir_make(&td, deep, &d), MSIGN_E_IO);
		snprintf(want, sizeof(want),
			 "TMPDIR %s: %s belongs to another user, so msign's folder there could be swapped; set TMPDIR to a private folder",
			 deep, deep);
		assert_string_equal(d.msg, want);
	} else {
		fprintf(stderr, "t_trace_dir: not root: a folder of another user not made, not checked\n");
	}
	/* not a folder; missing */
	char file[160];
	snprintf(file, sizeof(file), "%s/file", base);
	int ffd = open(file, O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_true(ffd >= 0);
	close(ffd);
	msign_diag_clear(&d);
	assert_int_equal(msign_trace_dir_make(&td, file, &d), MSIGN_E_IO);
	snprintf(want, sizeof(want), "TMPDIR %s: not a folder", file);
	assert_string_equal(d.msg, want);
	assert_int_equal(unlink(file), 0);
	msign_diag_clear(&d);
	assert_int_equal(msign_trace_dir_make(&td, "/nonexistent/x", &d), MSIGN_E_IO);
	assert_string_equal(d.msg, "TMPDIR /nonexistent/x: No such file or directory");
	assert_int_equal(unlink(ln), 0);
	assert_int_equal(rmdir(deep), 0);
	assert_int_equal(rmdir(sub), 0);
	assert_int_equal(rmdir(base), 0);
}

/* ---- which copy --unsign makes (the host seam and the plan) ------------- */

static void t_host_parse(void **st)
{
	(void)st;
	struct msign_trace_host h;
	msign_trace_host_parse(&h, "arm64", "1", "-arm64e_preview_abi");
	assert_int_equal(h.arch, MSIGN_TRACE_HOST_ARM64);
	assert_true(h.translated);
	assert_true(h.arm64e_preview);
	msign_trace_host_parse(&h, "x86_64", "0", "debug=0x100");
	assert_int_equal(h.arch, MSIGN_TRACE_HOST_X86_64);
	assert_false(h.translated);
	assert_false(h.arm64e_preview);
	msign_trace_host_parse(&h, "other", NULL, NULL);
	assert_int_equal(h.arch, MSIGN_TRACE_HOST_OTHER);
	assert_false(h.translated);
	assert_false(h.arm64e_preview);
	msign_trace_host_parse(&h, NULL, "yes", "");
	assert_int_equal(h.arch, MSIGN_TRACE_HOST_OTHER);
	assert_false(h.translated); /* only sysctl's "1" */
	/* the boot-arg is a whole word of kern.bootargs, wherever it is */
	static const struct { const char *args; bool on; } ba[] = {
		{ "debug=0x100 -arm64e_preview_abi", true },
		{ "-arm64e_preview_abi amfi=0x80", true },
		{ "a\t-arm64e_preview_abi\tb", true },
		{ "-arm64e_preview_abi\n", true },
		{ "-arm64e_preview_abix", false },
		{ "x-arm64e_preview_abi", false },
		{ "-arm64e_preview_ab", false },
		{ "arm64e_preview_abi", false },
		{ "x-arm64e_preview_abi -arm64e_preview_abi", true },
	};
	for (size_t i = 0; i < sizeof(ba) / sizeof(ba[0]); i++) {
		msign_trace_host_parse(&h, "arm64", NULL, ba[i].args);
		if (h.arm64e_preview != ba[i].on)
			fail_msg("boot-args '%s': %d", ba[i].args, h.arm64e_preview);
	}
}

/* The environment's hooks, as msign reads them once (no sysctl here). */
static void t_host_read(void **st)
{
	(void)st;
	struct msign_trace_host h;
	setenv("MSIGN_HOST_ARCH", "arm64", 1);
	setenv("MSIGN_HOST_BOOTARGS", "-v -arm64e_preview_abi", 1);
	setenv("MSIGN_HOST_TRANSLATED", "1", 1);
	msign_trace_host_read(&h);
	assert_int_equal(h.arch, MSIGN_TRACE_HOST_ARM64);
	assert_true(h.arm64e_preview);
	assert_true(h.translated);
	unsetenv("MSIGN_HOST_ARCH");
	unsetenv("MSIGN_HOST_BOOTARGS");
	unsetenv("MSIGN_HOST_TRANSLATED");
	msign_trace_host_read(&h);
#if defined(__APPLE__)
	(void)h; /* the sysctls answer there */
#elif defined(__x86_64__)
	assert_int_equal(h.arch, MSIGN_TRACE_HOST_X86_64);
#elif defined(__aarch64__)
	assert_int_equal(h.arch, MSIGN_TRACE_HOST_ARM64);
#else
	assert_int_equal(h.arch, MSIGN_TRACE_HOST_OTHER);
#endif
#ifndef __APPLE__
	assert_false(h.translated);
	assert_false(h.arm64e_preview);
#endif
}

/* Slices as the plan sees them: cputype, cpusubtype, err. */
#define X86 { MSIGN_CPU_TYPE_X86_64, (int32_t)0x80000003, 0 }
#define ARM64E { MSIGN_CPU_TYPE_ARM64, (int32_t)0x80000002, 0 }
#define ARM64E_V1 { MSIGN_CPU_TYPE_ARM64, (int32_t)0x81000002, 0 }
#define ARM64 { MSIGN_CPU_TYPE_ARM64, 0, 0 }
#define ARM64V8 { MSIGN_CPU_TYPE_ARM64, 1, 0 }
#define ARM64E_BAD { MSIGN_CPU_TYPE_ARM64, (int32_t)0x80000002, MSIGN_E_TRUNCATED }
#define I386 { 7, 3, 0 }
#define PPC { MSIGN_CPU_TYPE_PPC, 0, 0 }

struct fake_slice {
	int32_t type, sub;
	int err;
};

enum { H_OTHER, H_INTEL, H_AS, H_AS_BOOTARG, H_AS_ROSETTA, H_AS_BOTH, NHOSTS };
#define K(kind) MSIGN_TRACE_PLAN_##kind

static void t_plan(void **st)
{
	(void)st;
	static const struct {
		const char *name;
		uint32_t n;
		struct fake_slice s[3];
		/* per host: kind, slice, rewrite (the slice and rewrite only
		 * for ARM64 / SUSPENDED) */
		struct { enum msign_trace_plan_kind kind; int slice; bool rewrite; } want[NHOSTS];
	} cases[] = {
		{ "Apple's universal x86_64 + arm64e", 2, { X86, ARM64E }, {
			{ K(COPY), -1, 0 }, { K(COPY), -1, 0 }, { K(ARM64), 1, 1 },
			{ K(COPY), -1, 0 }, { K(TRANSLATED), -1, 0 }, { K(TRANSLATED), -1, 0 } } },
		{ "arm64e only", 1, { ARM64E }, {
			{ K(COPY), -1, 0 }, { K(COPY), -1, 0 }, { K(ARM64), 0, 1 },
			{ K(COPY), -1, 0 }, { K(TRANSLATED), -1, 0 }, { K(TRANSLATED), -1, 0 } } },
		{ "arm64e of ABI version 1", 1, { ARM64E_V1 }, {
			{ K(COPY), -1, 0 }, { K(COPY), -1, 0 }, { K(ARM64), 0, 1 },
			{ K(COPY), -1, 0 }, { K(TRANSLATED), -1, 0 }, { K(TRANSLATED), -1, 0 } } },
		{ "x86_64 + arm64: the arm64 slice as it is", 2, { X86, ARM64 }, {
			{ K(COPY), -1, 0 }, { K(COPY), -1, 0 }, { K(ARM64), 1, 0 },
			{ K(COPY), -1, 0 }, { K(TRANSLATED), -1, 0 }, { K(TRANSLATED), -1, 0 } } },
		{ "arm64e before arm64: arm64 kept", 3, { ARM64E, X86, ARM64 }, {
			{ K(COPY), -1, 0 }, { K(COPY), -1, 0 }, { K(ARM64), 2, 0 },
			{ K(COPY), -1, 0 }, { K(TRANSLATED), -1, 0 }, { K(TRANSLATED), -1, 0 } } },
		{ "arm64 v8", 1, { ARM64V8 }, {
			{ K(COPY), -1, 0 }, { K(COPY), -1, 0 }, { K(ARM64), 0, 0 },
			{ K(COPY), -1, 0 }, { K(TRANSLATED), -1, 0 }, { K(TRANSLATED), -1, 0 } } },
		{ "x86_64 only", 1, { X86 }, {
			{ K(COPY), -1, 0 }, { K(COPY), -1, 0 }, { K(SUSPENDED), 0, 0 },
			{ K(SUSPENDED), 0, 0 }, { K(TRANSLATED), -1, 0 }, { K(TRANSLATED), -1, 0 } } },
		{ "a damaged arm64e slice is not run", 2, { ARM64E_BAD, X86 }, {
			{ K(COPY), -1, 0 }, { K(COPY), -1, 0 }, { K(SUSPENDED), 1, 0 },
			{ K(SUSPENDED), 1, 0 }, { K(TRANSLATED), -1, 0 }, { K(TRANSLATED), -1, 0 } } },
		{ "i386 + ppc: nothing runs", 2, { I386, PPC }, {
			{ K(COPY), -1, 0 }, { K(COPY), -1, 0 }, { K(NONE), -1, 0 },
			{ K(NONE), -1, 0 }, { K(TRANSLATED), -1, 0 }, { K(TRANSLATED), -1, 0 } } },
		{ "no slices", 0, { I386 }, {
			{ K(COPY), -1, 0 }, { K(COPY), -1, 0 }, { K(NONE), -1, 0 },
			{ K(NONE), -1, 0 }, { K(TRANSLATED), -1, 0 }, { K(TRANSLATED), -1, 0 } } },
	};
	static const struct { const char *arch, *translated, *bootargs; } hosts[NHOSTS] = {
		[H_OTHER] = { "other", NULL, NULL },
		[H_INTEL] = { "x86_64", "0", "-arm64e_preview_abi" }, /* ignored there */
		[H_AS] = { "arm64", "0", "debug=0x100" },
		[H_AS_BOOTARG] = { "arm64", "0", "-arm64e_preview_abi" },
		[H_AS_ROSETTA] = { "arm64", "1", NULL },
		[H_AS_BOTH] = { "arm64", "1", "-arm64e_preview_abi" },
	};
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		struct msign_slice sl[3];
		memset(sl, 0, sizeof(sl));
		for (uint32_t i = 0; i < cases[c].n; i++) {
			sl[i].cputype = cases[c].s[i].type;
			sl[i].cpusubtype = cases[c].s[i].sub;
			sl[i].err = cases[c].s[i].err;
			sl[i].is64 = true;
		}
		struct msign_image img;
		memset(&img, 0, sizeof(img));
		img.is_fat = cases[c].n > 1;
		img.nslices = cases[c].n;
		img.slices = sl;
		for (int h = 0; h < NHOSTS; h++) {
			struct msign_trace_host host;
			msign_trace_host_parse(&host, hosts[h].arch, hosts[h].translated,
					       hosts[h].bootargs);
			struct msign_trace_plan p;
			msign_trace_plan_for(&host, &img, &p);
			if (p.kind != cases[c].want[h].kind || p.slice != cases[c].want[h].slice ||
			    p.rewrite != cases[c].want[h].rewrite)
				fail_msg("%s, host %d: kind %d slice %d rewrite %d", cases[c].name, h,
					 p.kind, p.slice, p.rewrite);
			if (p.slice >= 0 && p.cpusubtype != sl[p.slice].cpusubtype)
				fail_msg("%s, host %d: subtype %x", cases[c].name, h,
					 (unsigned)p.cpusubtype);
			assert_int_equal(p.fat, h >= H_AS && h <= H_AS_BOOTARG &&
						 cases[c].n > 1);
		}
	}
	/* an unreadable file (no image): the copy as always, or nothing */
	struct msign_trace_host host;
	struct msign_trace_plan p;
	msign_trace_host_parse(&host, "x86_64", NULL, NULL);
	msign_trace_plan_for(&host, NULL, &p);
	assert_int_equal(p.kind, MSIGN_TRACE_PLAN_COPY);
	msign_trace_host_parse(&host, "arm64", NULL, NULL);
	msign_trace_plan_for(&host, NULL, &p);
	assert_int_equal(p.kind, MSIGN_TRACE_PLAN_NONE);
}

static uint32_t rd_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static void wr_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* Apple's layout of a system program: x86_64 at 4096, arm64e at 16384
 * (fixtures/hello_x86_64 and hello_arm64e, cpusubtype 0x80000002). */
static uint8_t *make_universal(size_t *len, uint8_t **arm_out, size_t *arm_len)
{
	size_t xl, al;
	uint8_t *x = load("hello_x86_64", &xl);
	uint8_t *a = load("hello_arm64e", &al);
	assert_true(xl <= 16384 - 4096);
	*len = 16384 + al;
	uint8_t *f = calloc(1, *len);
	assert_non_null(f);
	wr_be32(f, 0xcafebabe);
	wr_be32(f + 4, 2);
	uint32_t ent[2][5] = {
		{ rd_le32(x + 4), rd_le32(x + 8), 4096, (uint32_t)xl, 12 },
		{ rd_le32(a + 4), rd_le32(a + 8), 16384, (uint32_t)al, 14 },
	};
	for (int i = 0; i < 2; i++)
		for (int j = 0; j < 5; j++)
			wr_be32(f + 8 + 20 * i + 4 * j, ent[i][j]);
	memcpy(f + 4096, x, xl);
	memcpy(f + 16384, a, al);
	free(x);
	*arm_out = a;
	*arm_len = al;
	return f;
}

static void t_unsign_copy_arm64(void **st)
{
	(void)st;
	char dir[] = "/tmp/msign-test-trace.XXXXXX", src[1100], copy[1100];
	assert_non_null(mkdtemp(dir));
	size_t len, al;
	uint8_t *arm;
	uint8_t *f = make_universal(&len, &arm, &al);
	snprintf(src, sizeof(src), "%s/src", dir);
	FILE *fp = fopen(src, "wb");
	assert_non_null(fp);
	assert_int_equal(fwrite(f, 1, len, fp), len);
	assert_int_equal(fclose(fp), 0);
	struct msign_trace_dir out;
	assert_int_equal(msign_trace_dir_make(&out, dir, NULL), 0);

	struct msign_image *img = NULL;
	assert_int_equal(msign_image_open(src, &img, NULL), 0);
	struct msign_trace_host host;
	msign_trace_host_parse(&host, "arm64", "0", "");
	struct msign_trace_plan p;
	msign_trace_plan_for(&host, img, &p);
	msign_image_free(img);
	assert_int_equal(p.kind, MSIGN_TRACE_PLAN_ARM64);
	assert_int_equal(p.slice, 1);
	assert_true(p.rewrite);

	struct msign_diag d;
	msign_diag_clear(&d);
	assert_int_equal(msign_trace_unsign_copy(&out, src, &p, copy, sizeof(copy), &d), 0);
	/* thin, arm64 of subtype 0 (no capability bits), signed ad hoc, and
	 * the arm64e slice's code byte for byte */
	size_t cl;
	uint8_t *c = load_path(copy, &cl);
	assert_int_equal(rd_le32(c), 0xfeedfacfu);
	assert_int_equal(rd_le32(c + 4), 0x0100000cu);
	assert_int_equal(rd_le32(c + 8), 0);
	assert_int_equal(rd_le32(arm + 8), 0x80000002u); /* the source's */
	assert_int_equal(msign_image_open(copy, &img, NULL), 0);
	assert_false(img->is_fat);
	const struct msign_slice *sl = &img->slices[0];
	struct msign_sig sig;
	assert_int_equal(msign_sig_parse(sl, &sig, NULL), 0);
	assert_true(sig.cds[sig.best].flags & MSIGN_CS_ADHOC);
	uint64_t from = sl->first_section_off;
	uint64_t to = sl->segments[sl->linkedit_seg].fileoff;
	assert_true(from > 0 && from < to && to <= al);
	assert_memory_equal(c + from, arm + from, to - from);
	msign_image_free(img);
	int kind = -1;
	assert_int_equal(msign_verify_file(copy, NULL, 0, &kind, NULL), 0);
	struct stat sb;
	assert_int_equal(stat(copy, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0700);
	free(c);
	assert_int_equal(unlink(copy), 0);

	/* a plan that no longer fits the file (it changed): an error, no copy */
	struct msign_trace_plan bad = p;
	bad.slice = 0; /* the x86_64 slice */
	assert_int_equal(msign_trace_unsign_copy(&out, src, &bad, copy, sizeof(copy), &d),
			 MSIGN_E_INVALID);
	assert_string_equal(copy, "");
	bad.slice = 7;
	assert_int_equal(msign_trace_unsign_copy(&out, src, &bad, copy, sizeof(copy), &d),
			 MSIGN_E_INVALID);
	bad.kind = MSIGN_TRACE_PLAN_NONE;
	assert_int_equal(msign_trace_unsign_copy(&out, src, &bad, copy, sizeof(copy), &d),
			 MSIGN_E_ARG);
	/* a plain arm64 slice is taken as it is: fixtures/universal */
	char uni[512];
	assert_int_equal(msign_image_open(fixture("universal", uni, sizeof(uni)), &img, NULL), 0);
	msign_trace_plan_for(&host, img, &p);
	msign_image_free(img);
	assert_int_equal(p.kind, MSIGN_TRACE_PLAN_ARM64);
	assert_false(p.rewrite);
	assert_int_equal(msign_trace_unsign_copy(&out, uni, &p, copy, sizeof(copy), &d), 0);
	assert_int_equal(msign_image_open(copy, &img, NULL), 0);
	assert_false(img->is_fat);
	assert_int_equal(img->slices[0].cputype, MSIGN_CPU_TYPE_ARM64);
	assert_int_equal(img->slices[0].cpusubtype, 0);
	msign_image_free(img);
	assert_int_equal(msign_verify_file(copy, NULL, 0, &kind, NULL), 0);
	assert_int_equal(unlink(copy), 0);
	/* nothing else was left in the folder */
	assert_int_equal(msign_trace_dir_remove(&out, NULL, NULL), 0);
	assert_int_equal(unlink(src), 0);
	assert_int_equal(rmdir(dir), 0);
	free(arm);
	free(f);
}

/* The signal guard: a signal sent to msign is noted (once per signal,
 * for the run loop to pass on), errno is what it was, an ignored signal
 * stays ignored, and everything is restored at the end. */
/* ---- how a command is started for dtrace ------------------------------------ */

static void t_start_for(void **st)
{
	(void)st;
	enum msign_trace_target all[] = {
		MSIGN_TRACE_TARGET_OTHER, MSIGN_TRACE_TARGET_UNSIGNED,
		MSIGN_TRACE_TARGET_SIGNED, MSIGN_TRACE_TARGET_RESTRICTED,
		MSIGN_TRACE_TARGET_PLATFORM,
	};
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		/* macOS starts everything itself; another OS nothing */
		assert_int_equal(msign_trace_start_for(MSIGN_TRACE_OS_MACOS, all[i]),
				 MSIGN_TRACE_START_SPAWN);
		assert_int_equal(msign_trace_start_for(MSIGN_TRACE_OS_OTHER, all[i]),
				 MSIGN_TRACE_START_DTRACE_C);
		/* Linux what it can exec; a Mach-O goes to the stand-in's -c */
		assert_int_equal(msign_trace_start_for(MSIGN_TRACE_OS_LINUX, all[i]),
				 i == 0 ? MSIGN_TRACE_START_PTRACE
					: MSIGN_TRACE_START_DTRACE_C);
	}
#ifdef __linux__
	assert_int_equal(msign_trace_start_here(MSIGN_TRACE_TARGET_OTHER),
			 MSIGN_TRACE_START_PTRACE);
	assert_int_equal(msign_trace_start_here(MSIGN_TRACE_TARGET_PLATFORM),
			 MSIGN_TRACE_START_DTRACE_C);
	assert_false(msign_trace_can_start_suspended()); /* no Mach-O here */
#endif
}

#ifdef __linux__
/* Field 3 of /proc/PID/stat, the state letter, or 0. */
static char proc_state(pid_t pid)
{
	char path[64], buf[512];
	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return 0;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	char *p = strrchr(buf, ')');
	return p != NULL && p[1] == ' ' ? p[2] : 0;
}
#endif

/* The Linux start: stopped after exec (its image already the command's),
 * descriptors 0-2 only, resumed by SIGCONT, its own exit status; a file
 * that cannot run is one line. */
static void t_spawn_suspended(void **st)
{
	(void)st;
#ifndef __linux__
	skip();
#else
	char *argv[] = { "sh", "-c", "exit 3", NULL };
	int extra = open("/dev/null", O_RDONLY); /* not close-on-exec */
	assert_true(extra > 2);
	pid_t pid = -1;
	struct msign_diag d;
	msign_diag_clear(&d);
	int r = msign_trace_spawn_suspended("/bin/sh", argv, &pid, &d);
	close(extra);
	if (r == MSIGN_E_UNSUPPORTED) { /* the test itself runs under ptrace */
		print_message("ptrace start refused here: %s\n", d.msg);
		skip();
	}
	assert_int_equal(r, 0);
	assert_int_equal(proc_state(pid), 'T');
	char path[64], exe[4096], want[4096];
	snprintf(path, sizeof(path), "/proc/%ld/exe", (long)pid);
	ssize_t n = readlink(path, exe, sizeof(exe) - 1);
	assert_true(n > 0);
	exe[n] = '\0';
	assert_non_null(realpath("/bin/sh", want));
	assert_string_equal(exe, want);
	snprintf(path, sizeof(path), "/proc/%ld/fd", (long)pid);
	DIR *dir = opendir(path);
	assert_non_null(dir);
	unsigned fds = 0, count = 0;
	for (struct dirent *e; (e = readdir(dir)) != NULL;) {
		if (e->d_name[0] == '.')
			continue;
		long fd = strtol(e->d_name, NULL, 10);
		count++;
		if (fd >= 0 && fd < 3)
			fds |= 1u << fd;
	}
	closedir(dir);
	assert_int_equal(count, 3);
	assert_int_equal(fds, 7u);
	/* still stopped: it has not run */
	struct timespec ts = { 0, 20 * 1000 * 1000 };
	nanosleep(&ts, NULL);
	int w = 0;
	assert_int_equal(waitpid(pid, &w, WNOHANG), 0);
	assert_int_equal(kill(pid, SIGCONT), 0);
	assert_int_equal(waitpid(pid, &w, 0), pid);
	assert_true(WIFEXITED(w));
	assert_int_equal(WEXITSTATUS(w), 3);

	msign_diag_clear(&d);
	assert_int_equal(msign_trace_spawn_suspended("/nonexistent/x", argv, &pid, &d),
			 MSIGN_E_NOT_FOUND);
	assert_string_equal(d.msg, "cannot run /nonexistent/x: No such file or directory");
	msign_diag_clear(&d);
	assert_int_equal(msign_trace_spawn_suspended("/", argv, &pid, &d), MSIGN_E_IO);
	assert_string_equal(d.msg, "cannot run /: Permission denied");
	/* no child left behind by the failures */
	assert_int_equal(waitpid(-1, &w, WNOHANG), -1);
	assert_int_equal(errno, ECHILD);
#endif
}

static void t_guard(void **st)
{
	(void)st;
	struct sigaction ign, old, dfl, old_int;
	memset(&ign, 0, sizeof(ign));
	ign.sa_handler = SIG_IGN;
	sigemptyset(&ign.sa_mask);
	assert_int_equal(sigaction(SIGHUP, &ign, &old), 0);
	/* SIGINT as a terminal gives it: a shell's background job (make
	 * check's lanes) inherits it ignored, and the guard keeps that */
	dfl = ign;
	dfl.sa_handler = SIG_DFL;
	assert_int_equal(sigaction(SIGINT, &dfl, &old_int), 0);
	msign_trace_guard_begin();
	struct sigaction now;
	assert_int_equal(sigaction(SIGHUP, NULL, &now), 0);
	assert_true((now.sa_flags & SA_SIGINFO) == 0 && now.sa_handler == SIG_IGN);
	assert_int_equal(sigaction(SIGTERM, NULL, &now), 0);
	assert_true(now.sa_flags & SA_SIGINFO);
	unsigned seen = 0;
	assert_int_equal(msign_trace_guard_forward(&seen), 0);
	errno = EDOM;
	/* delivered before kill returns (one thread, not blocked) */
	assert_int_equal(kill(getpid(), SIGTERM), 0);
	assert_int_equal(errno, EDOM);
	assert_int_equal(msign_trace_guard_signal(), SIGTERM);
	assert_int_equal(msign_trace_guard_forward(&seen), SIGTERM);
	assert_int_equal(seen, 1);
	assert_int_equal(msign_trace_guard_forward(&seen), 0); /* once */
	errno = ERANGE;
	assert_int_equal(kill(getpid(), SIGINT), 0);
	assert_int_equal(errno, ERANGE);
	assert_int_equal(msign_trace_guard_forward(&seen), SIGINT);
	msign_trace_guard_end();
	assert_int_equal(sigaction(SIGTERM, NULL, &now), 0);
	assert_true((now.sa_flags & SA_SIGINFO) == 0 && now.sa_handler == SIG_DFL);
	assert_int_equal(sigaction(SIGPIPE, NULL, &now), 0);
	assert_true(now.sa_handler == SIG_DFL);
	assert_int_equal(sigaction(SIGHUP, &old, NULL), 0);
	assert_int_equal(sigaction(SIGINT, &old_int, NULL), 0);
}

static void t_which(void **st)
{
	(void)st;
	char out[4096];
	struct msign_diag d;
	msign_diag_clear(&d);
	assert_int_equal(msign_trace_which("sh", out, sizeof(out), &d), 0);
	assert_int_equal(access(out, X_OK), 0);
	assert_int_equal(msign_trace_which("no-such-command-xyz", out, sizeof(out), &d),
			 MSIGN_E_NOT_FOUND);
	assert_string_equal(d.msg, "no-such-command-xyz: command not found");
	assert_int_equal(msign_trace_which("/nonexistent/x", out, sizeof(out), NULL),
			 MSIGN_E_NOT_FOUND);
	assert_int_equal(msign_trace_which("", out, sizeof(out), NULL), MSIGN_E_NOT_FOUND);
	assert_int_equal(msign_trace_which("sh", out, 4, NULL), MSIGN_E_NOT_FOUND);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_format_spec),
		cmocka_unit_test(t_format_columns),
		cmocka_unit_test(t_arg_rules),
		cmocka_unit_test(t_counts),
		cmocka_unit_test(t_opts),
		cmocka_unit_test(t_argv),
		cmocka_unit_test(t_dtrace_program),
		cmocka_unit_test(t_dtrace_records),
		cmocka_unit_test(t_strace_recorded),
		cmocka_unit_test(t_strace_follow),
		cmocka_unit_test(t_strace_hostile),
		cmocka_unit_test(t_classify),
		cmocka_unit_test(t_unsign_copy),
		cmocka_unit_test(t_trace_dir),
		cmocka_unit_test(t_host_parse),
		cmocka_unit_test(t_host_read),
		cmocka_unit_test(t_plan),
		cmocka_unit_test(t_unsign_copy_arm64),
		cmocka_unit_test(t_start_for),
		cmocka_unit_test(t_spawn_suspended),
		cmocka_unit_test(t_guard),
		cmocka_unit_test(t_which),
	};
	return cmocka_run_group_tests_name("trace", tests, NULL, NULL);
}
