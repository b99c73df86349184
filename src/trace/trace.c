/* msign trace, the part both backends share: the option model, dtruss's
 * line format, the -c table, sessions and argument vectors. Running the
 * tool is trace_run.c. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "trace/trace.h"

/* ---- options ------------------------------------------------------------ */

static bool name_ok(const char *s, size_t max)
{
	size_t n = 0;
	for (; s[n] != '\0'; n++)
		if (!((s[n] >= 'a' && s[n] <= 'z') || (s[n] >= 'A' && s[n] <= 'Z') ||
		      (s[n] >= '0' && s[n] <= '9') || s[n] == '_'))
			return false;
	return n > 0 && n < max;
}

/* dtrace's dynvarsize: digits and an optional k/m/g. */
static bool size_ok(const char *s)
{
	size_t n = strspn(s, "0123456789");
	if (n == 0 || n > 12)
		return false;
	return s[n] == '\0' ||
	       (strchr("kKmMgG", s[n]) != NULL && s[n + 1] == '\0');
}

/* macOS calls Linux names otherwise, or replaces with newer calls that
 * glibc uses (open is openat there, stat is newfstatat or statx,
 * nanosleep is clock_nanosleep); NAME_nocancel is NAME. */
static const struct {
	const char *macos, *linux_calls;
} linux_names[] = {
	{ "open", "open,openat" },
	{ "stat", "stat,newfstatat,statx" },
	{ "stat64", "stat,newfstatat,statx" },
	{ "lstat", "lstat,newfstatat,statx" },
	{ "lstat64", "lstat,newfstatat,statx" },
	{ "fstat", "fstat,newfstatat,statx" },
	{ "fstat64", "fstat,newfstatat,statx" },
	{ "fstatat", "newfstatat,statx" },
	{ "fstatat64", "newfstatat,statx" },
	{ "nanosleep", "nanosleep,clock_nanosleep" },
	{ "getdirentries64", "getdents64" },
	{ "fork", "fork,clone,clone3" },
	{ "select", "select,pselect6" },
};

static void map_linux(struct msign_trace_opts *o)
{
	char base[MSIGN_TRACE_NAME_LEN];
	size_t n = strlen(o->syscall);
	const size_t nc = sizeof("_nocancel") - 1;
	snprintf(base, sizeof(base), "%s", o->syscall);
	bool nocancel = n > nc && strcmp(base + n - nc, "_nocancel") == 0;
	if (nocancel)
		base[n - nc] = '\0';
	const char *to = nocancel ? base : NULL;
	for (size_t i = 0; i < sizeof(linux_names) / sizeof(linux_names[0]); i++)
		if (strcmp(base, linux_names[i].macos) == 0)
			to = linux_names[i].linux_calls;
	if (to == NULL)
		return;
	snprintf(o->linux_names, sizeof(o->linux_names), "%s", to);
	o->syscall_macos = o->syscall;
	o->syscall = o->linux_names;
}

int msign_trace_opts_finish(struct msign_trace_opts *o, struct msign_diag *d)
{
	if (o->backend == MSIGN_TRACE_AUTO) {
#ifdef __APPLE__
		o->backend = MSIGN_TRACE_DTRACE;
#else
		o->backend = MSIGN_TRACE_STRACE;
#endif
	}
	bool dtrace = o->backend == MSIGN_TRACE_DTRACE;
	if (o->all) {
		o->counts = o->relative = o->elapsed = o->follow = true;
		if (o->pid_column == 0)
			o->pid_column = 1;
		o->oncpu = o->oncpu || dtrace; /* strace cannot measure it */
	}
	bool cmd = o->argv != NULL && o->argv[0] != NULL;
	int ntargets = (o->pid != 0) + (o->name != NULL) +
		       (o->wait_name != NULL) + cmd;
	if (ntargets != 1)
		return msign_diag_set(d, MSIGN_E_ARG, 0, "%s",
				      ntargets == 0 ? "nothing to trace: give a command, -p PID, -n NAME or -W NAME"
						    : "give only one of a command, -p PID, -n NAME, -W NAME");
	if (o->pid < 0 || o->pid > INT_MAX)
		return msign_diag_set(d, MSIGN_E_ARG, 0, "-p %ld: not a process ID",
				      o->pid);
	if (o->syscall != NULL) {
		if (strcmp(o->syscall, "exec") == 0)
			o->syscall = "execve";
		if (!name_ok(o->syscall, MSIGN_TRACE_NAME_LEN - 16))
			return msign_diag_set(d, MSIGN_E_ARG, 0,
					      "-t '%.64s': a system call name is letters, digits and _",
					      o->syscall);
	}
	if (o->bufsize != NULL && !size_ok(o->bufsize))
		return msign_diag_set(d, MSIGN_E_ARG, 0,
				      "-b '%.64s': a size is digits with an optional k, m or g",
				      o->bufsize);
	if (o->unsign && !cmd)
		return msign_diag_set(d, MSIGN_E_ARG, 0,
				      "--unsign needs a command: a running process cannot be copied");
	if (!dtrace) {
		if (o->syscall != NULL && o->syscall_macos == NULL)
			map_linux(o);
		const char *what = o->oncpu ? "-o (on-CPU time)"
				   : o->name != NULL ? "-n NAME"
				   : o->wait_name != NULL ? "-W NAME" : NULL;
		if (what != NULL)
			return msign_diag_set(d, MSIGN_E_UNSUPPORTED, 0,
					      "%s needs dtrace (macOS); strace cannot do it%s",
					      what, o->oncpu ? "" : " (attach with -p PID instead)");
		return 0;
	}
	if (o->name != NULL) {
		/* It becomes a D string literal. */
		for (const char *p = o->name; *p != '\0'; p++)
			if (*p < 0x20 || *p > 0x7e || *p == '"' || *p == '\\')
				return msign_diag_set(d, MSIGN_E_ARG, 0,
						      "-n: a process name without quotes, backslashes or control characters");
		if (o->name[0] == '\0' || strlen(o->name) > 255)
			return msign_diag_set(d, MSIGN_E_ARG, 0, "-n: empty or too long");
	}
	if (o->wait_name != NULL && o->wait_name[0] == '\0')
		return msign_diag_set(d, MSIGN_E_ARG, 0, "-W: empty process name");
	/* (arguments with white space: refused by msign_trace_dtrace_argv
	 * only where dtrace -c still runs the command) */
	return 0;
}

bool msign_trace_show_pid(const struct msign_trace_opts *o)
{
	if (o->pid_column != 0)
		return o->pid_column > 0;
	return o->follow || o->name != NULL;
}

/* ---- dtruss's line format ------------------------------------------------ */

/* The name without a macOS _nocancel suffix, into buf. */
static const char *base_name(const char *name, char *buf, size_t len)
{
	size_t n = strlen(name);
	const size_t sl = sizeof("_nocancel") - 1;
	if (n > sl && n < len && strcmp(name + n - sl, "_nocancel") == 0) {
		memcpy(buf, name, n - sl);
		buf[n - sl] = '\0';
		return buf;
	}
	return name;
}

static bool in_list(const char *name, const char *const *list)
{
	for (; *list != NULL; list++)
		if (strcmp(name, *list) == 0)
			return true;
	return false;
}

static const char *const six_args[] = {
	"mmap", "mmap2", "pread", "pwrite", "pread64", "pwrite64", "preadv",
	"pwritev", "preadv2", "pwritev2", "select", "pselect", "pselect6",
	"sysctl", "kdebug_trace64",
	/* the *at calls */
	"openat", "openat2", "faccessat", "faccessat2", "fchmodat",
	"fchmodat2", "fchownat", "fstatat", "fstatat64", "newfstatat",
	"futimesat", "linkat", "mkdirat", "mkfifoat", "mknodat", "readlinkat",
	"renameat", "renameat2", "renameatx_np", "symlinkat", "unlinkat",
	"utimensat", "execveat", "name_to_handle_at", "open_by_handle_at",
	"statx", "getattrlistat", "setattrlistat", "clonefileat",
	"fclonefileat", NULL
};

uint32_t msign_trace_arg_count(const char *name)
{
	char buf[MSIGN_TRACE_NAME_LEN];
	const char *b = base_name(name, buf, sizeof(buf));
	if (strcmp(b, "sysctlbyname") == 0)
		return 5;
	return in_list(b, six_args) ? 6 : 3;
}

/* Calls whose string argument at idx is data, not a NUL-terminated name. */
static const struct {
	const char *name;
	uint32_t idx;
} buffer_args[] = {
	{ "read", 1 }, { "write", 1 }, { "pread", 1 }, { "pwrite", 1 },
	{ "pread64", 1 }, { "pwrite64", 1 }, { "recvfrom", 1 },
	{ "sendto", 1 }, { "recv", 1 }, { "send", 1 }, { "getrandom", 0 },
	{ "getentropy", 0 }, { "readlink", 1 }, { "readlinkat", 2 },
	{ "getxattr", 2 }, { "lgetxattr", 2 }, { "fgetxattr", 2 },
	{ "setxattr", 2 }, { "lsetxattr", 2 }, { "fsetxattr", 2 },
};

enum msign_trace_str_kind msign_trace_str_kind(const char *name, uint32_t idx)
{
	char buf[MSIGN_TRACE_NAME_LEN];
	const char *b = base_name(name, buf, sizeof(buf));
	if (strcmp(b, "sysctlbyname") == 0 && idx == 0)
		return MSIGN_TRACE_BARE;
	for (size_t i = 0; i < sizeof(buffer_args) / sizeof(buffer_args[0]); i++)
		if (buffer_args[i].idx == idx && strcmp(b, buffer_args[i].name) == 0)
			return MSIGN_TRACE_BUFFER;
	return MSIGN_TRACE_PATH;
}

/* Returns that are addresses or masks print in hex. */
static bool ret_hex(const char *name)
{
	static const char *const hex_ret[] = { "mmap", "mmap2", "mremap", "brk",
					       "shmat", "sigprocmask",
					       "rt_sigprocmask", NULL };
	char buf[MSIGN_TRACE_NAME_LEN];
	return in_list(base_name(name, buf, sizeof(buf)), hex_ret);
}

/* Tool text is already escaped; anything that is still not printable
 * ASCII is escaped again so no byte from a traced program reaches a
 * terminal raw. */
static void put_text(FILE *out, const char *p, size_t n)
{
	size_t run = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)p[i];
		if (ch >= 0x20 && ch < 0x7f)
			continue;
		fwrite(p + run, 1, i - run, out);
		fprintf(out, "\\%03o", ch);
		run = i + 1;
	}
	fwrite(p + run, 1, n - run, out);
}

void msign_trace_print_text(FILE *out, const char *line, size_t len)
{
	put_text(out, line, len);
	fputc('\n', out);
}

static void put_arg(FILE *out, const struct msign_trace_call *c, uint32_t i)
{
	const struct msign_trace_arg *a = &c->args[i];
	switch (a->kind) {
	case MSIGN_TRACE_NUM:
		fprintf(out, "0x%llX", (unsigned long long)a->num);
		return;
	case MSIGN_TRACE_TEXT:
		put_text(out, a->text, a->text_len);
		return;
	case MSIGN_TRACE_STR:
		break;
	}
	enum msign_trace_str_kind k = msign_trace_str_kind(c->name, i);
	if (k == MSIGN_TRACE_BARE) {
		put_text(out, a->text, a->text_len);
		return;
	}
	fputc('"', out);
	put_text(out, a->text, a->text_len);
	if (k == MSIGN_TRACE_PATH && !a->truncated)
		fputs("\\0", out);
	fputs(a->truncated ? "\"..." : "\"", out);
}

void msign_trace_print_header(FILE *out, const struct msign_trace_opts *o)
{
	if (msign_trace_show_pid(o))
		fprintf(out, "%5s/%6s ", "PID", "THRD");
	if (o->relative)
		fprintf(out, "%8s ", "RELATIVE");
	if (o->elapsed)
		fprintf(out, "%7s ", "ELAPSD");
	if (o->oncpu)
		fprintf(out, "%6s ", "CPU");
	fputs("SYSCALL(args) \t\t = return\n", out);
}

void msign_trace_print_call(FILE *out, const struct msign_trace_opts *o,
			    const struct msign_trace_call *c)
{
	if (msign_trace_show_pid(o))
		fprintf(out, "%5lld/0x%llx:  ", (long long)c->pid,
			(unsigned long long)c->tid);
	if (o->relative)
		fprintf(out, "%8llu ", (unsigned long long)c->rel_us);
	if (o->elapsed)
		fprintf(out, "%7llu ", (unsigned long long)c->elapsed_us);
	if (o->oncpu)
		fprintf(out, "%6llu ", (unsigned long long)c->cpu_us);
	fputs(c->name, out);
	fputc('(', out);
	uint32_t n = msign_trace_arg_count(c->name);
	for (uint32_t i = 0; i < n; i++) {
		if (i > 0)
			fputs(", ", out);
		if (i < c->nargs)
			put_arg(out, c, i);
		else
			fputs("0x0", out);
	}
	if (ret_hex(c->name) && c->err == 0)
		fprintf(out, ")\t\t = 0x%llX %lld\n", (unsigned long long)c->ret,
			(long long)c->err);
	else
		fprintf(out, ")\t\t = %lld %lld\n", (long long)c->ret,
			(long long)c->err);
}

/* ---- the -c table ---------------------------------------------------------- */

static uint32_t name_hash(const char *s)
{
	uint32_t h = 2166136261u; /* FNV-1a */
	for (; *s != '\0'; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	return h;
}

int msign_trace_counts_add(struct msign_trace_counts *t, const char *name,
			   uint64_t n)
{
	if (t->slots == NULL) {
		t->nslots = 2 * MSIGN_TRACE_MAX_NAMES; /* load stays <= 1/2 */
		t->slots = calloc(t->nslots, sizeof(*t->slots));
		if (t->slots == NULL)
			return MSIGN_E_NOMEM;
	}
	uint32_t mask = t->nslots - 1;
	uint32_t i = name_hash(name) & mask;
	for (; t->slots[i] != 0; i = (i + 1) & mask) {
		struct msign_trace_count *e = &t->v[t->slots[i] - 1];
		if (strcmp(e->name, name) == 0) {
			e->n += n;
			return 0;
		}
	}
	if (t->len >= MSIGN_TRACE_MAX_NAMES || strlen(name) >= MSIGN_TRACE_NAME_LEN) {
		t->dropped += n;
		return 0;
	}
	if (t->len == t->cap) {
		uint32_t cap = t->cap ? 2 * t->cap : 64;
		struct msign_trace_count *v = realloc(t->v, cap * sizeof(*v));
		if (v == NULL)
			return MSIGN_E_NOMEM;
		t->v = v;
		t->cap = cap;
	}
	struct msign_trace_count *e = &t->v[t->len];
	snprintf(e->name, sizeof(e->name), "%s", name);
	e->n = n;
	t->slots[i] = ++t->len;
	return 0;
}

static int count_cmp(const void *a, const void *b)
{
	const struct msign_trace_count *x = a, *y = b;
	if (x->n != y->n)
		return x->n < y->n ? -1 : 1;
	return strcmp(x->name, y->name);
}

void msign_trace_counts_print(FILE *out, struct msign_trace_counts *t)
{
	fprintf(out, "\n%-32s %16s\n", "CALL", "COUNT");
	struct msign_trace_count *v = NULL;
	if (t->len > 0 && (v = malloc(t->len * sizeof(*v))) != NULL) {
		memcpy(v, t->v, t->len * sizeof(*v));
		qsort(v, t->len, sizeof(*v), count_cmp);
		for (uint32_t i = 0; i < t->len; i++)
			fprintf(out, "%-32s %16llu\n", v[i].name,
				(unsigned long long)v[i].n);
		free(v);
	}
	if (t->dropped > 0)
		fprintf(out, "%-32s %16llu\n", "(other)",
			(unsigned long long)t->dropped);
}

void msign_trace_counts_free(struct msign_trace_counts *t)
{
	free(t->v);
	free(t->slots);
	memset(t, 0, sizeof(*t));
}

/* ---- sessions ------------------------------------------------------------- */

void msign_trace_session_init(struct msign_trace_session *s,
			      const struct msign_trace_opts *o, FILE *out)
{
	memset(s, 0, sizeof(*s));
	s->o = o;
	s->out = out;
	s->main_pid = o->pid;
}

void msign_trace_session_free(struct msign_trace_session *s)
{
	for (uint32_t i = 0; i < s->npending; i++)
		free(s->pending[i].text);
	free(s->pending);
	msign_trace_counts_free(&s->counts);
	s->pending = NULL;
	s->npending = 0;
}

void msign_trace_session_start(struct msign_trace_session *s)
{
	if (s->started)
		return;
	s->started = true;
	msign_trace_print_header(s->out, s->o);
}

void msign_trace_argv_add(struct msign_trace_argv *a, const char *s)
{
	if (a->nomem)
		return;
	char **v = realloc(a->v, (a->n + 2) * sizeof(*v));
	char *c = strdup(s);
	if (v != NULL)
		a->v = v;
	if (v == NULL || c == NULL) {
		free(c);
		a->nomem = true;
		return;
	}
	v[a->n++] = c;
	v[a->n] = NULL;
}

int msign_trace_argv_done(struct msign_trace_argv *a, char ***out)
{
	if (a->nomem || a->v == NULL) {
		if (a->v != NULL)
			a->v[a->n] = NULL;
		msign_trace_argv_free(a->v);
		*out = NULL;
		return MSIGN_E_NOMEM;
	}
	*out = a->v;
	return 0;
}

void msign_trace_argv_free(char **argv)
{
	for (size_t i = 0; argv != NULL && argv[i] != NULL; i++)
		free(argv[i]);
	free(argv);
}

