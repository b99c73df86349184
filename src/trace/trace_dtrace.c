/* msign trace on macOS: the D program msign writes for the options given,
 * dtrace's command line, and the records the program prints.
 *
 * The program prints one record per completed call; msign formats it, so
 * both backends share one formatter. Records start with "msign:" and carry
 * only what the options need:
 *
 *   msign:b                                   tracing began (BEGIN)
 *   msign:c PID TID NAME ERRNO RET A0..A5 [REL] [ELAPSED] [CPU] SIDX STR[\tSIDX STR]
 *   msign:n NAME COUNT                        the -c aggregation (END)
 *   msign:x WSTATUS                           the target ended (proc:::exited)
 *
 * TID and A0..A5 are hexadecimal, the rest decimal; REL/ELAPSED/CPU are
 * present with -d/-e/-o, in microseconds. SIDX is the argument the string
 * STR replaces (-1: none); STR is dtrace's %S text (escaped, one line) and
 * runs to the end of the line, or to a raw tab that starts the second
 * string of a two-path call (rename, link...): %S writes a tab as \t, so
 * a raw one cannot come from a string. WSTATUS is the wait status xnu keeps for
 * the parent (p_xstat, proc:::exited's arg1): proc:::exit's reason is
 * CLD_EXITED even for a process a signal killed, so it cannot tell.
 * Other lines (ustack frames) pass through. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "trace/trace.h"

#define RECORD "msign:"
#define DTRACE_PATH "/usr/sbin/dtrace"
#define SPACES " \t\n\r\f\v"

/* ---- the D program -------------------------------------------------------- */

struct text {
	char *p;
	size_t len, cap;
	bool nomem;
};

__attribute__((format(printf, 2, 3)))
static void add(struct text *t, const char *fmt, ...)
{
	if (t->nomem)
		return;
	for (;;) {
		va_list ap;
		va_start(ap, fmt);
		int n = vsnprintf(t->p + t->len, t->cap - t->len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			t->nomem = true;
			return;
		}
		if ((size_t)n < t->cap - t->len) {
			t->len += (size_t)n;
			return;
		}
		size_t cap = 2 * t->cap + (size_t)n + 1;
		char *p = realloc(t->p, cap);
		if (p == NULL) {
			t->nomem = true;
			return;
		}
		t->p = p;
		t->cap = cap;
	}
}

/* Where a call's string argument is, and when it can be read. */
enum str_when {
	AT_RETURN,   /* a NUL-terminated name at argument idx */
	READ_BUF,    /* read: the buffer at arg1, as long as the return value */
	WRITE_BUF,   /* write: the buffer at arg1, as long as arg2 */
};

static const struct str_call {
	const char *name; /* macOS syscall provider function */
	int idx;
	enum str_when when;
	int idx2;         /* a second path (AT_RETURN), 0: none (never first) */
} str_calls[] = {
	{ "link", 0, AT_RETURN, 1 }, { "rename", 0, AT_RETURN, 1 },
	{ "symlink", 0, AT_RETURN, 1 }, { "symlinkat", 0, AT_RETURN, 2 },
	{ "linkat", 1, AT_RETURN, 3 }, { "renameat", 1, AT_RETURN, 3 },
	{ "renameatx_np", 1, AT_RETURN, 3 },
	{ "access", 0, AT_RETURN, 0 }, { "access_extended", 0, AT_RETURN, 0 },
	{ "acct", 0, AT_RETURN, 0 }, { "chdir", 0, AT_RETURN, 0 },
	{ "chflags", 0, AT_RETURN, 0 }, { "chmod", 0, AT_RETURN, 0 },
	{ "chmod_extended", 0, AT_RETURN, 0 }, { "chown", 0, AT_RETURN, 0 },
	{ "chroot", 0, AT_RETURN, 0 }, { "clonefile", 0, AT_RETURN, 0 },
	{ "exchangedata", 0, AT_RETURN, 0 }, { "execve", 0, AT_RETURN, 0 },
	{ "__mac_execve", 0, AT_RETURN, 0 }, { "getattrlist", 0, AT_RETURN, 0 },
	{ "getxattr", 0, AT_RETURN, 0 }, { "lchown", 0, AT_RETURN, 0 },
	{ "listxattr", 0, AT_RETURN, 0 },
	{ "lstat", 0, AT_RETURN, 0 }, { "lstat64", 0, AT_RETURN, 0 },
	{ "lstat_extended", 0, AT_RETURN, 0 }, { "lstat64_extended", 0, AT_RETURN, 0 },
	{ "mkdir", 0, AT_RETURN, 0 }, { "mkdir_extended", 0, AT_RETURN, 0 },
	{ "mkfifo", 0, AT_RETURN, 0 }, { "mkfifo_extended", 0, AT_RETURN, 0 },
	{ "mknod", 0, AT_RETURN, 0 }, { "open", 0, AT_RETURN, 0 },
	{ "open_nocancel", 0, AT_RETURN, 0 }, { "open_extended", 0, AT_RETURN, 0 },
	{ "open_dprotected_np", 0, AT_RETURN, 0 }, { "pathconf", 0, AT_RETURN, 0 },
	{ "readlink", 0, AT_RETURN, 0 }, { "removexattr", 0, AT_RETURN, 0 },
	{ "revoke", 0, AT_RETURN, 0 },
	{ "rmdir", 0, AT_RETURN, 0 }, { "setattrlist", 0, AT_RETURN, 0 },
	{ "setxattr", 0, AT_RETURN, 0 }, { "stat", 0, AT_RETURN, 0 },
	{ "stat64", 0, AT_RETURN, 0 }, { "stat_extended", 0, AT_RETURN, 0 },
	{ "stat64_extended", 0, AT_RETURN, 0 }, { "statfs", 0, AT_RETURN, 0 },
	{ "statfs64", 0, AT_RETURN, 0 },
	{ "truncate", 0, AT_RETURN, 0 },
	{ "undelete", 0, AT_RETURN, 0 }, { "unlink", 0, AT_RETURN, 0 },
	{ "unmount", 0, AT_RETURN, 0 }, { "utimes", 0, AT_RETURN, 0 },
	{ "sysctlbyname", 0, AT_RETURN, 0 },
	{ "openat", 1, AT_RETURN, 0 }, { "openat_nocancel", 1, AT_RETURN, 0 },
	{ "faccessat", 1, AT_RETURN, 0 }, { "fchmodat", 1, AT_RETURN, 0 },
	{ "fchownat", 1, AT_RETURN, 0 }, { "fstatat", 1, AT_RETURN, 0 },
	{ "fstatat64", 1, AT_RETURN, 0 },
	{ "mkdirat", 1, AT_RETURN, 0 }, { "mkfifoat", 1, AT_RETURN, 0 },
	{ "mknodat", 1, AT_RETURN, 0 }, { "readlinkat", 1, AT_RETURN, 0 },
	{ "unlinkat", 1, AT_RETURN, 0 }, { "getattrlistat", 1, AT_RETURN, 0 },
	{ "setattrlistat", 1, AT_RETURN, 0 }, { "utimensat", 1, AT_RETURN, 0 },
	{ "clonefileat", 1, AT_RETURN, 0 }, { "posix_spawn", 1, AT_RETURN, 0 },
	{ "read", 1, READ_BUF, 0 }, { "read_nocancel", 1, READ_BUF, 0 },
	{ "pread", 1, READ_BUF, 0 }, { "pread_nocancel", 1, READ_BUF, 0 },
	{ "write", 1, WRITE_BUF, 0 }, { "write_nocancel", 1, WRITE_BUF, 0 },
	{ "pwrite", 1, WRITE_BUF, 0 }, { "pwrite_nocancel", 1, WRITE_BUF, 0 },
};
#define NSTR_CALLS (sizeof(str_calls) / sizeof(str_calls[0]))

/* -t NAME traces NAME and, on macOS, NAME_nocancel. */
static bool wanted(const struct msign_trace_opts *o, const char *name)
{
	if (o->syscall == NULL)
		return true;
	size_t n = strlen(o->syscall);
	return strncmp(name, o->syscall, n) == 0 &&
	       (name[n] == '\0' || strcmp(name + n, "_nocancel") == 0);
}

static void probe_list(struct text *t, const struct msign_trace_opts *o,
		       const char *kind)
{
	if (o->syscall == NULL)
		add(t, "syscall:::%s", kind);
	else
		add(t, "syscall::%s:%s,\nsyscall::%s_nocancel:%s", o->syscall,
		    kind, o->syscall, kind);
}

/* The printf of one record; str (str2) is the D expression of the string
 * that replaces argument sidx (sidx2), NULL for none. */
static void record(struct text *t, const struct msign_trace_opts *o, int sidx,
		   const char *str, int sidx2, const char *str2)
{
	char two[32] = "";
	if (str2 != NULL)
		snprintf(two, sizeof(two), "\\t%d %%S", sidx2);
	add(t, "\tprintf(\"" RECORD "c %%d %%x %%s %%d %%d %%x %%x %%x %%x %%x %%x%s%s%s %%d%s%s\\n\",\n"
	       "\t    pid, tid, probefunc, errno, (int64_t)arg0,\n"
	       "\t    self->a0, self->a1, self->a2, self->a3, self->a4, self->a5,\n"
	       "\t    ",
	    o->relative ? " %d" : "", o->elapsed ? " %d" : "",
	    o->oncpu ? " %d" : "", str != NULL ? " %S" : "", two);
	if (o->relative)
		add(t, "(timestamp - msign_t0) / 1000, ");
	if (o->elapsed)
		add(t, "(timestamp - self->t) / 1000, ");
	if (o->oncpu)
		add(t, "(vtimestamp - self->vt) / 1000, ");
	add(t, "%d%s%s%s%s);\n", sidx, str != NULL ? ",\n\t    " : "",
	    str != NULL ? str : "", str2 != NULL ? ",\n\t    " : "",
	    str2 != NULL ? str2 : "");
	if (o->counts)
		add(t, "\t@msign_n[probefunc] = count();\n");
	if (o->stack)
		add(t, "\tustack();\n");
	add(t, "\tself->ok = 2;\n}\n\n"); /* printed; cleared by the last clause */
}

/* One return clause for the calls of str_calls matching (idx, when, idx2). */
static void str_clause(struct text *t, const struct msign_trace_opts *o,
		       int idx, enum str_when when, int idx2)
{
	bool any = false;
	for (size_t i = 0; i < NSTR_CALLS; i++) {
		const struct str_call *c = &str_calls[i];
		if (c->idx != idx || c->when != when || c->idx2 != idx2 ||
		    !wanted(o, c->name))
			continue;
		add(t, "%ssyscall::%s:return", any ? ",\n" : "", c->name);
		any = true;
	}
	if (!any)
		return;
	char expr[96], expr2[32];
	snprintf(expr2, sizeof(expr2), "copyinstr(self->a%d)", idx2);
	switch (when) {
	case AT_RETURN:
		add(t, "\n/self->ok == 1/\n{\n");
		snprintf(expr, sizeof(expr), "copyinstr(self->a%d)", idx);
		break;
	case READ_BUF:
		add(t, "\n/self->ok == 1 && (int64_t)arg0 > 0/\n{\n");
		snprintf(expr, sizeof(expr),
			 "copyinstr(self->a1, (int64_t)arg0 > %d ? %d : arg0)",
			 MSIGN_TRACE_STRSIZE, MSIGN_TRACE_STRSIZE);
		break;
	case WRITE_BUF:
		add(t, "\n/self->ok == 1 && (int64_t)self->a2 > 0/\n{\n");
		snprintf(expr, sizeof(expr),
			 "copyinstr(self->a1, (int64_t)self->a2 > %d ? %d : self->a2)",
			 MSIGN_TRACE_STRSIZE, MSIGN_TRACE_STRSIZE);
		break;
	}
	record(t, o, idx, expr, idx2, idx2 != 0 ? expr2 : NULL);
}

int msign_trace_dtrace_program(const struct msign_trace_opts *o, char **prog,
			       struct msign_diag *d)
{
	struct text t = { NULL, 0, 0, false };
	bool target = o->name == NULL; /* -c, -p and -W define $target */
	add(&t, "/* msign trace:%s%s%s%s%s%s%s%s%s */\n\n",
	    o->counts ? " -c" : "", o->relative ? " -d" : "",
	    o->elapsed ? " -e" : "", o->follow ? " -f" : "",
	    msign_trace_show_pid(o) ? " -l" : "", o->oncpu ? " -o" : "",
	    o->stack ? " -s" : "", o->syscall != NULL ? " -t " : "",
	    o->syscall != NULL ? o->syscall : "");
	add(&t, "uint64_t msign_t0;\n\n"
		"dtrace:::BEGIN\n{\n\tmsign_t0 = timestamp;\n"
		"\tprintf(\"" RECORD "b\\n\");\n}\n\n");

	probe_list(&t, o, "entry");
	/* -n: either name a prefix of the other, as dtruss matches; execname
	 * is the first MAXCOMLEN (16) bytes of a longer name. */
	if (!target)
		add(&t, "\n/substr(execname, 0, %zu) == \"%s\" ||\n"
			" execname == substr(\"%s\", 0, strlen(execname))/\n",
		    strlen(o->name), o->name, o->name);
	else if (o->follow)
		add(&t, "\n/pid == $target || progenyof($target)/\n");
	else
		add(&t, "\n/pid == $target/\n");
	add(&t, "{\n\tself->ok = 1;\n"
		"\tself->a0 = arg0;\n\tself->a1 = arg1;\n\tself->a2 = arg2;\n"
		"\tself->a3 = arg3;\n\tself->a4 = arg4;\n\tself->a5 = arg5;\n");
	if (o->elapsed)
		add(&t, "\tself->t = timestamp;\n");
	if (o->oncpu)
		add(&t, "\tself->vt = vtimestamp;\n");
	add(&t, "}\n\n");

	/* Calls with a string first; each sets self->ok to 2, so the generic
	 * clause after them prints only the rest (and a call whose string
	 * could not be read, dtrace having reported the error). The last
	 * clause frees every thread-local variable (assigning 0 does), or a
	 * long -f trace fills the dynamic variable space and drops lines. */
	str_clause(&t, o, 0, AT_RETURN, 0);
	str_clause(&t, o, 1, AT_RETURN, 0);
	str_clause(&t, o, 0, AT_RETURN, 1);
	str_clause(&t, o, 0, AT_RETURN, 2);
	str_clause(&t, o, 1, AT_RETURN, 3);
	str_clause(&t, o, 1, READ_BUF, 0);
	str_clause(&t, o, 1, WRITE_BUF, 0);
	probe_list(&t, o, "return");
	add(&t, "\n/self->ok == 1/\n{\n");
	record(&t, o, -1, NULL, 0, NULL);
	probe_list(&t, o, "return");
	add(&t, "\n/self->ok/\n{\n\tself->ok = 0;\n");
	for (int i = 0; i < MSIGN_TRACE_MAX_ARGS; i++)
		add(&t, "\tself->a%d = 0;\n", i);
	if (o->elapsed)
		add(&t, "\tself->t = 0;\n");
	if (o->oncpu)
		add(&t, "\tself->vt = 0;\n");
	add(&t, "}\n\n");

	/* proc:::exited fires in the exiting process with its wait status
	 * in arg1. (int)arg1, not args[1]: a D compiler without macOS's probe
	 * declarations (the one make check runs) refuses args[] there. */
	if (target)
		add(&t, "proc:::exited\n/pid == $target/\n{\n"
			"\tprintf(\"" RECORD "x %%d\\n\", (int)arg1);\n}\n");
	if (o->counts)
		add(&t, "\ndtrace:::END\n{\n"
			"\tprinta(\"" RECORD "n %%s %%@d\\n\", @msign_n);\n}\n");
	if (t.nomem) {
		free(t.p);
		return msign_diag_set(d, MSIGN_E_NOMEM, 0, "D program: out of memory");
	}
	*prog = t.p;
	return 0;
}

int msign_trace_dtrace_argv(const struct msign_trace_opts *o,
			    const char *prog, const char *exec_path,
			    const char *out_path, char ***argv,
			    struct msign_diag *d)
{
	/* dtrace -c takes one string and splits it at white space: only a
	 * command msign could not start itself (a Mach-O on Linux, a refused
	 * ptrace start) comes here, and each word must stay one word. */
	bool cmd = o->argv != NULL && o->argv[0] != NULL;
	if (cmd && exec_path != NULL && strpbrk(exec_path, SPACES) != NULL)
		return msign_diag_set(d, MSIGN_E_UNSUPPORTED, 0,
				      "dtrace -c splits the command at white space: '%.200s' cannot be run",
				      exec_path);
	for (size_t i = exec_path != NULL ? 1 : 0; cmd && o->argv[i] != NULL; i++)
		if (o->argv[i][0] == '\0' || strpbrk(o->argv[i], SPACES) != NULL)
			return msign_diag_set(d, MSIGN_E_UNSUPPORTED, 0,
					      "dtrace -c splits the command at white space: the argument '%.64s' cannot be passed",
					      o->argv[i]);
	struct msign_trace_argv a = { NULL, 0, false };
	char opt[64];
	const char *tool = o->dtrace;
	if (tool == NULL) /* Apple's place; else whatever PATH finds */
		tool = access(DTRACE_PATH, X_OK) == 0 ? DTRACE_PATH : "dtrace";
	msign_trace_argv_add(&a, tool);
	snprintf(opt, sizeof(opt), "dynvarsize=%s",
		 o->bufsize != NULL ? o->bufsize : "4m");
	msign_trace_argv_add(&a, "-x");
	msign_trace_argv_add(&a, opt);
	msign_trace_argv_add(&a, "-x");
	msign_trace_argv_add(&a, "evaltime=preinit");
	/* records reach msign ten times a second, not once (the default):
	 * the command msign started waits for the BEGIN record to run */
	msign_trace_argv_add(&a, "-x");
	msign_trace_argv_add(&a, "switchrate=10hz");
	msign_trace_argv_add(&a, "-Z");
	msign_trace_argv_add(&a, "-q");
	msign_trace_argv_add(&a, "-o");
	msign_trace_argv_add(&a, out_path);
	msign_trace_argv_add(&a, "-n");
	msign_trace_argv_add(&a, prog);
	if (cmd) {
		/* (words with white space were refused above) */
		size_t len = 1;
		for (size_t i = 0; o->argv[i] != NULL; i++)
			len += strlen(i == 0 && exec_path ? exec_path : o->argv[i]) + 1;
		char *c = malloc(len);
		if (c == NULL) {
			a.nomem = true;
		} else {
			c[0] = '\0';
			for (size_t i = 0; o->argv[i] != NULL; i++) {
				if (i > 0)
					strcat(c, " ");
				strcat(c, i == 0 && exec_path ? exec_path : o->argv[i]);
			}
			msign_trace_argv_add(&a, "-c");
			msign_trace_argv_add(&a, c);
			free(c);
		}
	} else if (o->pid != 0) {
		snprintf(opt, sizeof(opt), "%ld", o->pid);
		msign_trace_argv_add(&a, "-p");
		msign_trace_argv_add(&a, opt);
	} else if (o->wait_name != NULL) {
		msign_trace_argv_add(&a, "-W");
		msign_trace_argv_add(&a, o->wait_name);
	}
	if (msign_trace_argv_done(&a, argv) != 0)
		return msign_diag_set(d, MSIGN_E_NOMEM, 0, "dtrace command line: out of memory");
	return 0;
}

/* ---- reading the records ------------------------------------------------- */

/* A field cursor over one line: fields are separated by one space. */
struct fields {
	const char *p, *end;
};

static bool field(struct fields *f, const char **s, size_t *n)
{
	if (f->p >= f->end)
		return false;
	const char *sp = memchr(f->p, ' ', (size_t)(f->end - f->p));
	const char *e = sp != NULL ? sp : f->end;
	*s = f->p;
	*n = (size_t)(e - f->p);
	f->p = sp != NULL ? sp + 1 : f->end;
	return *n > 0;
}

/* Unsigned number in base 10 or 16, every character a digit, no overflow. */
static bool field_u64(struct fields *f, int base, uint64_t *v)
{
	const char *s;
	size_t n;
	if (!field(f, &s, &n) || n > 20)
		return false;
	uint64_t x = 0;
	for (size_t i = 0; i < n; i++) {
		int dg;
		char ch = s[i];
		if (ch >= '0' && ch <= '9')
			dg = ch - '0';
		else if (base == 16 && ch >= 'a' && ch <= 'f')
			dg = ch - 'a' + 10;
		else if (base == 16 && ch >= 'A' && ch <= 'F')
			dg = ch - 'A' + 10;
		else
			return false;
		if (__builtin_mul_overflow(x, (uint64_t)base, &x) ||
		    __builtin_add_overflow(x, (uint64_t)dg, &x))
			return false;
	}
	*v = x;
	return true;
}

static bool field_i64(struct fields *f, int64_t *v)
{
	bool neg = f->p < f->end && *f->p == '-';
	if (neg)
		f->p++;
	uint64_t u;
	if (!field_u64(f, 10, &u) || u > (uint64_t)INT64_MAX + neg)
		return false;
	*v = neg ? (int64_t)(0 - u) : (int64_t)u;
	return true;
}

static bool field_name(struct fields *f, char *out)
{
	const char *s;
	size_t n;
	if (!field(f, &s, &n) || n >= MSIGN_TRACE_NAME_LEN)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return false;
	memcpy(out, s, n);
	out[n] = '\0';
	return true;
}

/* %S output may end in an escaped NUL (dtrace copied the terminator);
 * the formatter adds its own, so drop it. */
static size_t drop_nul(const char *s, size_t n)
{
	if (n < 2 || s[n - 2] != '\\' || s[n - 1] != '0')
		return n;
	size_t bs = 0; /* backslashes before the 0: odd means an escape */
	while (bs < n - 1 && s[n - 2 - bs] == '\\')
		bs++;
	return bs % 2 == 1 ? n - 2 : n;
}

/* A read/write buffer the program copied only the start of (the D
 * program copies at most MSIGN_TRACE_STRSIZE bytes): the README's "...". */
static bool buffer_cut(const struct msign_trace_call *c, int sidx)
{
	for (size_t i = 0; i < NSTR_CALLS; i++) {
		const struct str_call *k = &str_calls[i];
		if (k->idx != sidx || strcmp(k->name, c->name) != 0)
			continue;
		if (k->when == READ_BUF)
			return c->ret > MSIGN_TRACE_STRSIZE;
		if (k->when == WRITE_BUF)
			return c->args[2].num > MSIGN_TRACE_STRSIZE;
		return false;
	}
	return false;
}

static bool call_record(struct msign_trace_session *s, struct fields *f)
{
	const struct msign_trace_opts *o = s->o;
	struct msign_trace_call c;
	memset(&c, 0, sizeof(c));
	uint64_t u;
	int64_t sidx;
	if (!field_i64(f, &c.pid) || !field_u64(f, 16, &c.tid) ||
	    !field_name(f, c.name) || !field_i64(f, &c.err) ||
	    !field_i64(f, &c.ret))
		return false;
	c.nargs = MSIGN_TRACE_MAX_ARGS;
	for (uint32_t i = 0; i < MSIGN_TRACE_MAX_ARGS; i++) {
		if (!field_u64(f, 16, &u))
			return false;
		c.args[i].kind = MSIGN_TRACE_NUM;
		c.args[i].num = u;
	}
	if ((o->relative && !field_u64(f, 10, &c.rel_us)) ||
	    (o->elapsed && !field_u64(f, 10, &c.elapsed_us)) ||
	    (o->oncpu && !field_u64(f, 10, &c.cpu_us)) || !field_i64(f, &sidx) ||
	    sidx < -1 || sidx >= MSIGN_TRACE_MAX_ARGS)
		return false;
	if (sidx >= 0) {
		const char *tab = memchr(f->p, '\t', (size_t)(f->end - f->p));
		const char *e = tab != NULL ? tab : f->end;
		struct msign_trace_arg *a = &c.args[sidx];
		a->kind = MSIGN_TRACE_STR;
		a->text = f->p;
		a->text_len = drop_nul(f->p, (size_t)(e - f->p));
		a->truncated = buffer_cut(&c, (int)sidx);
		if (tab != NULL) { /* the second path: "SIDX STR" after the tab */
			struct fields g = { tab + 1, f->end };
			int64_t sidx2;
			if (!field_i64(&g, &sidx2) || sidx2 <= sidx ||
			    sidx2 >= MSIGN_TRACE_MAX_ARGS)
				return false;
			struct msign_trace_arg *b = &c.args[sidx2];
			b->kind = MSIGN_TRACE_STR;
			b->text = g.p;
			b->text_len = drop_nul(g.p, (size_t)(g.end - g.p));
		}
	} else if (f->p != f->end) {
		return false;
	}
	msign_trace_session_start(s);
	msign_trace_print_call(s->out, o, &c);
	return true;
}

void msign_trace_dtrace_line(struct msign_trace_session *s, const char *line,
			     size_t len)
{
	const size_t rl = sizeof(RECORD) - 1;
	if (len < rl + 1 || memcmp(line, RECORD, rl) != 0) {
		/* ustack() frames and the blank line after them */
		if (s->o->stack || len > 0) {
			msign_trace_session_start(s);
			msign_trace_print_text(s->out, line, len);
		}
		return;
	}
	char type = line[rl];
	struct fields f = { line + rl + 1, line + len };
	if (f.p < f.end && *f.p == ' ')
		f.p++;
	else if (f.p != f.end)
		type = '?';
	char name[MSIGN_TRACE_NAME_LEN];
	uint64_t n;
	int64_t w;
	bool ok = false;
	switch (type) {
	case 'b':
		msign_trace_session_start(s);
		ok = f.p == f.end;
		break;
	case 'c':
		ok = call_record(s, &f);
		break;
	case 'n':
		ok = field_name(&f, name) && field_u64(&f, 10, &n) && f.p == f.end;
		if (ok)
			(void)msign_trace_counts_add(&s->counts, name, n);
		break;
	case 'x':
		/* A wait status: code << 8 for exit(code), the signal number
		 * (and 0x80 for a core) for a death by signal; 0x7f in the low
		 * bits is a stopped process, which has not ended. */
		ok = field_i64(&f, &w) && f.p == f.end && w >= 0 && w <= 0xffff &&
		     (w & 0x7f) != 0x7f;
		if (ok) {
			s->have_exit = true;
			s->exit_status = (w & 0x7f) == 0 ? (int)((w >> 8) & 0xff)
							 : 128 + (int)(w & 0x7f);
		}
		break;
	default:
		break;
	}
	if (!ok)
		s->bad_lines++;
}
