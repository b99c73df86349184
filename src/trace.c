/* msign trace, the part both backends share: the option model, dtruss's
 * line format, the -c table, and the run itself (a tool writing into a
 * FIFO that msign reads while the tool runs).
 *
 * Why a FIFO: the traced command inherits the tool's stdout and stderr,
 * so the records cannot come on either; a regular file would grow with
 * every call of a long trace, a FIFO holds 64 KiB and makes the tool wait
 * for msign instead. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "msign/trace.h"

#define POLL_MS 50       /* how often a quiet run checks the tool's exit */
#define IDLE_MS 20       /* back-off after a FIFO read found no writer */
#define READ_CHUNK 65536
#define ERR_LINE 4096    /* tool messages are scanned in pieces this long */

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
	for (char *const *a = cmd ? o->argv : NULL; a != NULL && *a != NULL; a++)
		/* dtrace -c splits its one string at white space. */
		if ((*a)[0] == '\0' || strpbrk(*a, " \t\n\r\f\v") != NULL)
			return msign_diag_set(d, MSIGN_E_UNSUPPORTED, 0,
					      "dtrace -c splits the command at white space: the argument '%.64s' cannot be passed",
					      *a);
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

/* ---- running a tool --------------------------------------------------------- */

int msign_trace_which(const char *cmd, char *out, size_t out_len,
		      struct msign_diag *d)
{
	if (cmd[0] == '\0')
		return msign_diag_set(d, MSIGN_E_NOT_FOUND, 0, "'': command not found");
	if (strchr(cmd, '/') != NULL) {
		struct stat st;
		if (stat(cmd, &st) != 0)
			return msign_diag_set(d, MSIGN_E_NOT_FOUND, 0, "%s: %s", cmd,
					      strerror(errno));
		if (!S_ISREG(st.st_mode))
			return msign_diag_set(d, MSIGN_E_IO, 0, "%s: %s", cmd,
					      strerror(S_ISDIR(st.st_mode) ? EISDIR : EACCES));
		if (access(cmd, X_OK) != 0)
			return msign_diag_set(d, MSIGN_E_IO, 0, "%s: %s", cmd,
					      strerror(errno));
		if ((size_t)snprintf(out, out_len, "%s", cmd) >= out_len)
			return msign_diag_set(d, MSIGN_E_LIMIT, 0, "%s: path too long", cmd);
		return 0;
	}
	const char *path = getenv("PATH");
	if (path == NULL || path[0] == '\0')
		path = "/usr/bin:/bin";
	bool denied = false;
	for (const char *p = path;; p++) {
		size_t n = strcspn(p, ":");
		int w = n == 0 ? snprintf(out, out_len, "./%s", cmd)
			       : snprintf(out, out_len, "%.*s/%s", (int)n, p, cmd);
		struct stat st;
		if (w > 0 && (size_t)w < out_len && stat(out, &st) == 0 &&
		    S_ISREG(st.st_mode)) {
			if (access(out, X_OK) == 0)
				return 0;
			denied = true;
		}
		p += n;
		if (*p == '\0')
			break;
	}
	return msign_diag_set(d, denied ? MSIGN_E_IO : MSIGN_E_NOT_FOUND, 0,
			      denied ? "%s: Permission denied" : "%s: command not found",
			      cmd);
}

/* Splits a byte stream into lines of at most MSIGN_TRACE_MAX_LINE. */
struct line_reader {
	char *buf;
	size_t len;
	bool skipping; /* inside a line that was too long */
};

typedef void (*line_fn)(void *arg, const char *line, size_t len);

static void reader_feed(struct line_reader *r, const char *p, size_t n,
			line_fn fn, void *arg, uint64_t *long_lines)
{
	while (n > 0) {
		const char *nl = memchr(p, '\n', n);
		size_t seg = nl != NULL ? (size_t)(nl - p) : n;
		if (!r->skipping && seg > MSIGN_TRACE_MAX_LINE - r->len) {
			r->skipping = true;
			r->len = 0;
			++*long_lines;
		}
		if (!r->skipping) {
			if (nl != NULL && r->len == 0) {
				fn(arg, p, seg); /* whole line in place */
			} else {
				memcpy(r->buf + r->len, p, seg);
				r->len += seg;
				if (nl != NULL) {
					fn(arg, r->buf, r->len);
					r->len = 0;
				}
			}
		}
		if (nl == NULL)
			return;
		r->skipping = false;
		p += seg + 1;
		n -= seg + 1;
	}
}

/* What one run of a tool saw, and how its messages are passed on. */
struct run_ctx {
	struct msign_trace_session *s;
	FILE *msgs;
	bool dtrace;
	bool hide_denied;  /* a retry with an unsigned copy will follow */
	bool hide_sip;     /* an earlier attempt already showed the notice */
	bool denied, need_root;
	char err[ERR_LINE];
	size_t err_len;
	bool err_mid;      /* err holds the rest of a line partly passed on */
};

static void fifo_line(void *arg, const char *line, size_t len)
{
	struct run_ctx *x = arg;
	if (x->dtrace)
		msign_trace_dtrace_line(x->s, line, len);
	else
		msign_trace_strace_line(x->s, line, len);
}

static bool has(const char *s, size_t n, const char *what)
{
	size_t w = strlen(what);
	for (size_t i = 0; w <= n && i <= n - w; i++)
		if (memcmp(s + i, what, w) == 0)
			return true;
	return false;
}

/* A piece of the tool's stderr (a line, or ERR_LINE bytes of a longer
 * one): dtrace's own messages are recognised, everything is passed on. */
static void err_piece(struct run_ctx *x, const char *p, size_t n, bool line)
{
	bool dt = line && !x->err_mid && n >= 8 && memcmp(p, "dtrace: ", 8) == 0;
	if (dt && has(p, n, "Operation not permitted") &&
	    (has(p, n, "failed to execute") || has(p, n, "failed to grab") ||
	     has(p, n, "failed to create"))) {
		x->denied = true;
		if (x->hide_denied)
			return;
	}
	if (dt && has(p, n, "requires additional privileges"))
		x->need_root = true;
	if (dt && x->hide_sip && has(p, n, "system integrity protection is on"))
		return;
	fwrite(p, 1, n, x->msgs);
	if (line)
		fputc('\n', x->msgs);
}

static void err_flush_part(struct run_ctx *x)
{
	err_piece(x, x->err, x->err_len, false);
	x->err_len = 0;
	x->err_mid = true;
}

static void err_feed(struct run_ctx *x, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '\n') {
			err_piece(x, x->err, x->err_len, true);
			x->err_len = 0;
			x->err_mid = false;
			continue;
		}
		if (x->err_len == sizeof(x->err))
			err_flush_part(x);
		x->err[x->err_len++] = p[i];
	}
	/* The start of a line that cannot be dtrace's (the command's prompt)
	 * is shown now rather than at its newline. */
	size_t k = x->err_len < 8 ? x->err_len : 8;
	if (x->err_len > 0 && (x->err_mid || memcmp(x->err, "dtrace: ", k) != 0))
		err_flush_part(x);
	fflush(x->msgs);
}

/* The one process strace started (its pid for -l without -f). */
static int64_t first_child(pid_t tool)
{
	char path[64], buf[64];
	snprintf(path, sizeof(path), "/proc/%ld/task/%ld/children", (long)tool,
		 (long)tool);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	return strtoll(buf, NULL, 10);
}

static void set_flags(int fd, int fl, int fdfl)
{
	if (fl)
		(void)fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | fl);
	(void)fcntl(fd, F_SETFD, fcntl(fd, F_GETFD) | fdfl);
}

/* Start argv with stderr on errfd (or inherited); the exec error, if
 * any, comes back through a close-on-exec pipe. */
static int spawn(char *const *argv, int errfd, pid_t *pid, struct msign_diag *d)
{
	int ep[2];
	if (pipe(ep) != 0)
		return msign_diag_set(d, MSIGN_E_IO, 0, "pipe: %s", strerror(errno));
	set_flags(ep[0], 0, FD_CLOEXEC);
	set_flags(ep[1], 0, FD_CLOEXEC);
	pid_t p = fork();
	if (p < 0) {
		int e = errno;
		close(ep[0]);
		close(ep[1]);
		return msign_diag_set(d, MSIGN_E_IO, 0, "fork: %s", strerror(e));
	}
	if (p == 0) {
		if (errfd >= 0 && dup2(errfd, 2) < 0)
			_exit(127);
		signal(SIGPIPE, SIG_DFL);
		execvp(argv[0], argv);
		int e = errno;
		ssize_t w = write(ep[1], &e, sizeof(e));
		(void)w;
		_exit(127);
	}
	close(ep[1]);
	int e = 0;
	ssize_t n;
	do
		n = read(ep[0], &e, sizeof(e));
	while (n < 0 && errno == EINTR);
	close(ep[0]);
	if (n == (ssize_t)sizeof(e)) {
		while (waitpid(p, NULL, 0) < 0 && errno == EINTR)
			;
		return msign_diag_set(d, e == ENOENT ? MSIGN_E_NOT_FOUND : MSIGN_E_IO,
				      0, "cannot run %s: %s", argv[0], strerror(e));
	}
	*pid = p;
	return 0;
}

/* Read what is there; false at end of data (or no writer yet). */
static bool pump(int fd, char *buf, struct line_reader *r, struct run_ctx *x,
		 bool is_fifo, bool *got)
{
	for (int i = 0; i < 16; i++) { /* bounded: poll again in between */
		ssize_t n = read(fd, buf, READ_CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 && errno == EAGAIN;
		*got = true;
		if (is_fifo)
			reader_feed(r, buf, (size_t)n, fifo_line, x,
				    &x->s->long_lines);
		else
			err_feed(x, buf, (size_t)n);
		if (n < READ_CHUNK)
			return true;
	}
	return true;
}

/* Run one tool writing into fifo until it exits; *wstatus its status. */
static int run_tool(char *const *argv, const char *fifo, struct run_ctx *x,
		    int *wstatus, struct msign_diag *d)
{
	struct msign_trace_session *s = x->s;
	(void)unlink(fifo);
	if (mkfifo(fifo, 0600) != 0)
		return msign_diag_set(d, MSIGN_E_IO, 0, "mkfifo %s: %s", fifo,
				      strerror(errno));
	int ffd = open(fifo, O_RDONLY | O_NONBLOCK);
	int ep[2] = { -1, -1 };
	char *buf = malloc(READ_CHUNK);
	struct line_reader r = { malloc(MSIGN_TRACE_MAX_LINE), 0, false };
	int ret = 0;
	pid_t pid = -1;
	if (ffd < 0 || buf == NULL || r.buf == NULL) {
		ret = ffd < 0 ? msign_diag_set(d, MSIGN_E_IO, 0, "open %s: %s", fifo,
					       strerror(errno))
			      : MSIGN_E_NOMEM;
		goto out;
	}
	set_flags(ffd, 0, FD_CLOEXEC);
	if (x->dtrace) {
		if (pipe(ep) != 0) {
			ret = msign_diag_set(d, MSIGN_E_IO, 0, "pipe: %s",
					     strerror(errno));
			goto out;
		}
		set_flags(ep[0], O_NONBLOCK, FD_CLOEXEC);
		set_flags(ep[1], 0, FD_CLOEXEC); /* dup2 clears it on fd 2 */
	}
	if ((ret = spawn(argv, ep[1], &pid, d)) != 0)
		goto out;
	if (ep[1] >= 0) {
		close(ep[1]);
		ep[1] = -1;
	}
	msign_trace_guard_child(pid);
	bool done = false, fifo_idle = false, writer_seen = false;
	while (!done) {
		struct pollfd pf[2];
		nfds_t np = 0;
		if (!fifo_idle && ffd >= 0)
			pf[np++] = (struct pollfd){ ffd, POLLIN, 0 };
		if (ep[0] >= 0)
			pf[np++] = (struct pollfd){ ep[0], POLLIN, 0 };
		int pr = poll(pf, np, fifo_idle ? IDLE_MS : POLL_MS);
		fifo_idle = false;
		for (nfds_t i = 0; pr > 0 && i < np; i++) {
			if (pf[i].revents == 0)
				continue;
			bool got = false;
			bool more = pump(pf[i].fd, buf, &r, x, pf[i].fd == ffd, &got);
			if (pf[i].fd == ffd) {
				writer_seen = writer_seen || got ||
					      (pf[i].revents & POLLHUP);
				fifo_idle = !more;
				if (got && !x->dtrace) {
					if (s->main_pid == 0 && !s->o->follow &&
					    msign_trace_show_pid(s->o))
						s->main_pid = first_child(pid);
					msign_trace_session_start(s);
				}
			} else if (!more) {
				close(ep[0]); /* the tool and all its children closed it */
				ep[0] = -1;
			}
		}
		fflush(s->out);
		if (ffd >= 0 && ferror(s->out)) {
			/* Nobody reads the trace any more (| head): stop reading
			 * too, so the tool's next record ends it (EPIPE), as if
			 * it wrote into the closed pipe itself. */
			close(ffd);
			ffd = -1;
		}
		pid_t w = waitpid(pid, wstatus, WNOHANG);
		if (w == pid || (w < 0 && errno != EINTR))
			done = true;
	}
	/* Drain what the tool wrote before it exited; a child it left behind
	 * may still hold the pipes, so stop at the first empty read. */
	bool got = false, any = false;
	while (ffd >= 0 && pump(ffd, buf, &r, x, true, &got) && got) {
		any = true;
		got = false;
	}
	while (ep[0] >= 0 && pump(ep[0], buf, &r, x, false, &got) && got)
		got = false;
	if (r.len > 0 && !r.skipping)
		fifo_line(x, r.buf, r.len);
	if (x->err_len > 0)
		err_flush_part(x);
	x->err_mid = false;
	if (!x->dtrace && (writer_seen || any))
		msign_trace_session_start(s);
	fflush(s->out);
	fflush(x->msgs);
out:
	msign_trace_guard_child(0);
	if (ffd >= 0)
		close(ffd);
	if (ep[0] >= 0)
		close(ep[0]);
	if (ep[1] >= 0)
		close(ep[1]);
	(void)unlink(fifo);
	free(buf);
	free(r.buf);
	return ret;
}

static uint64_t now_us(void)
{
	struct timeval tv;
	gettimeofday(&tv, NULL);
	return (uint64_t)tv.tv_sec * 1000000u + (uint64_t)tv.tv_usec;
}

static int status_of(int w)
{
	if (WIFEXITED(w))
		return WEXITSTATUS(w);
	if (WIFSIGNALED(w))
		return 128 + WTERMSIG(w);
	return 1;
}

/* One attempt: build the tool's command line, run it, read its output. */
static int attempt(struct msign_trace_opts *o, const char *exec_path,
		   const char *fifo, struct run_ctx *x,
		   struct msign_trace_result *res, struct msign_diag *d)
{
	char **argv = NULL, *prog = NULL;
	int r;
	if (x->dtrace) {
		r = msign_trace_dtrace_program(o, &prog, d);
		if (r == 0)
			r = msign_trace_dtrace_argv(o, prog, exec_path, fifo, &argv, d);
	} else {
		r = msign_trace_strace_argv(o, exec_path, fifo, &argv, d);
	}
	free(prog);
	if (r != 0)
		return r;
	x->s->t0_us = now_us();
	int w = 0;
	r = run_tool(argv, fifo, x, &w, d);
	msign_trace_argv_free(argv);
	if (r != 0)
		return r;
	/* strace exits as its command did; dtrace's own status is not the
	 * command's, the D program recorded that (unless ^C ended it all). */
	int sig = msign_trace_guard_signal();
	if (!x->dtrace || (!x->s->have_exit && sig == 0))
		res->status = status_of(w);
	else
		res->status = x->s->have_exit ? x->s->exit_status : 128 + sig;
	if (x->s->bad_lines > 0)
		fprintf(x->msgs, "msign trace: %llu record(s) from %s could not be read\n",
			(unsigned long long)x->s->bad_lines, x->dtrace ? "dtrace" : "strace");
	if (x->s->long_lines > 0)
		fprintf(x->msgs, "msign trace: %llu line(s) longer than %d bytes skipped\n",
			(unsigned long long)x->s->long_lines, MSIGN_TRACE_MAX_LINE);
	return 0;
}

static bool is_macho(enum msign_trace_target t)
{
	return t != MSIGN_TRACE_TARGET_OTHER;
}

int msign_trace_run(struct msign_trace_opts *o, FILE *out, FILE *msgs,
		    struct msign_trace_result *res, struct msign_diag *d)
{
	memset(res, 0, sizeof(*res));
	int r = msign_trace_opts_finish(o, d);
	if (r != 0)
		return r;
	bool dtrace = o->backend == MSIGN_TRACE_DTRACE;
	bool cmd = o->argv != NULL && o->argv[0] != NULL;
	if (cmd && (r = msign_trace_which(o->argv[0], res->target_path,
					  sizeof(res->target_path), d)) != 0) {
		res->bad_command = true;
		return r;
	}
	if (cmd && dtrace &&
	    (r = msign_trace_classify(res->target_path, &res->target, d)) != 0)
		return r;

	const char *tmp = getenv("TMPDIR");
	char dir[PATH_MAX], fifo[PATH_MAX + 16], copy[PATH_MAX + 256];
	if (tmp == NULL || tmp[0] == '\0')
		tmp = "/tmp";
	if ((size_t)snprintf(dir, sizeof(dir), "%s/msign-trace.XXXXXX", tmp) >=
	    sizeof(dir))
		return msign_diag_set(d, MSIGN_E_LIMIT, 0, "TMPDIR too long");
	if (mkdtemp(dir) == NULL)
		return msign_diag_set(d, MSIGN_E_IO, 0, "mkdtemp %s: %s", dir,
				      strerror(errno));
	snprintf(fifo, sizeof(fifo), "%s/trace.fifo", dir);
	copy[0] = '\0';

	struct msign_trace_session s;
	msign_trace_session_init(&s, o, out);
	s.live = true;
	struct run_ctx x = { .s = &s, .msgs = msgs, .dtrace = dtrace };
	msign_trace_guard_begin();
	/* dtrace runs the file msign looked at; strace finds the command as
	 * typed, keeping argv[0] as the user wrote it. */
	const char *exec_path = cmd && dtrace ? res->target_path : NULL;
	bool want_copy = dtrace && o->unsign &&
			 (res->target == MSIGN_TRACE_TARGET_PLATFORM ||
			  res->target == MSIGN_TRACE_TARGET_RESTRICTED);
	for (int round = 0; round < 2; round++) {
		if (want_copy) {
			r = msign_trace_unsign_copy(res->target_path, dir, copy,
						    sizeof(copy), d);
			if (r != 0)
				break;
			res->copied = true;
			exec_path = copy;
		}
		if ((res->signal = msign_trace_guard_signal()) != 0) {
			res->status = 128 + res->signal;
			break;
		}
		x.hide_denied = dtrace && o->unsign && !res->copied &&
				is_macho(res->target);
		x.denied = x.need_root = false;
		if ((r = attempt(o, exec_path, fifo, &x, res, d)) != 0)
			break;
		if (x.denied && x.hide_denied && !s.started) {
			want_copy = true; /* dtrace refused: retry with a copy */
			x.hide_sip = true;
			continue;
		}
		if (x.need_root && !s.started)
			res->problem = MSIGN_TRACE_PROBLEM_ROOT;
		else if (x.denied && !s.started)
			res->problem = MSIGN_TRACE_PROBLEM_NOT_PERMITTED;
		break;
	}
	if (r == 0 && s.started && o->counts)
		msign_trace_counts_print(out, &s.counts);
	fflush(out);
	if (copy[0] != '\0')
		(void)unlink(copy);
	(void)unlink(fifo);
	if (rmdir(dir) != 0 && r == 0)
		fprintf(msgs, "msign trace: cannot remove %s: %s\n", dir,
			strerror(errno));
	if (res->signal == 0)
		res->signal = msign_trace_guard_signal();
	msign_trace_guard_end();
	msign_trace_session_free(&s);
	return r;
}
