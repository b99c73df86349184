/* msign trace on Linux: strace runs the command (or attaches with -p) and
 * writes into msign's FIFO with options that make its lines regular:
 *
 *   -qq                no attach/exit messages
 *   -X raw             constants and flags as numbers, not names
 *   -e verbose=none    structures as their addresses, as dtruss shows them
 *   -e signal=none     no signal lines
 *   -s 256             buffers up to dtrace's default strsize (paths are
 *                      always printed whole)
 *   -f, -ttt -T, -T, -k, -e trace=NAME   for -f, -d, -e, -s, -t
 *
 * Each line `[PID] [SEC.USEC] name(args) = ret [ERRNO (text)] [<ELAPSED>]`
 * becomes dtruss's `name(args)\t\t = ret errno`. Calls that never return
 * (exit_group: `= ?`) are neither printed nor counted, which is also what
 * strace -c counts; `<unfinished ...>` / `<... resumed>` pairs from -f
 * are joined per thread. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "trace/trace.h"

/* Linux errno names strace prints, with their asm-generic numbers (x86,
 * arm, arm64, riscv, s390, loongarch; alpha, mips, parisc and sparc
 * number some differently). 512 and up are kernel-internal codes strace
 * shows for interrupted calls. */
static const char *const errno_names[] = {
	NULL, "EPERM", "ENOENT", "ESRCH", "EINTR", "EIO", "ENXIO", "E2BIG",
	"ENOEXEC", "EBADF", "ECHILD", "EAGAIN", "ENOMEM", "EACCES", "EFAULT",
	"ENOTBLK", "EBUSY", "EEXIST", "EXDEV", "ENODEV", "ENOTDIR", "EISDIR",
	"EINVAL", "ENFILE", "EMFILE", "ENOTTY", "ETXTBSY", "EFBIG", "ENOSPC",
	"ESPIPE", "EROFS", "EMLINK", "EPIPE", "EDOM", "ERANGE", "EDEADLK",
	"ENAMETOOLONG", "ENOLCK", "ENOSYS", "ENOTEMPTY", "ELOOP", NULL,
	"ENOMSG", "EIDRM", "ECHRNG", "EL2NSYNC", "EL3HLT", "EL3RST", "ELNRNG",
	"EUNATCH", "ENOCSI", "EL2HLT", "EBADE", "EBADR", "EXFULL", "ENOANO",
	"EBADRQC", "EBADSLT", NULL, "EBFONT", "ENOSTR", "ENODATA", "ETIME",
	"ENOSR", "ENONET", "ENOPKG", "EREMOTE", "ENOLINK", "EADV", "ESRMNT",
	"ECOMM", "EPROTO", "EMULTIHOP", "EDOTDOT", "EBADMSG", "EOVERFLOW",
	"ENOTUNIQ", "EBADFD", "EREMCHG", "ELIBACC", "ELIBBAD", "ELIBSCN",
	"ELIBMAX", "ELIBEXEC", "EILSEQ", "ERESTART", "ESTRPIPE", "EUSERS",
	"ENOTSOCK", "EDESTADDRREQ", "EMSGSIZE", "EPROTOTYPE", "ENOPROTOOPT",
	"EPROTONOSUPPORT", "ESOCKTNOSUPPORT", "EOPNOTSUPP", "EPFNOSUPPORT",
	"EAFNOSUPPORT", "EADDRINUSE", "EADDRNOTAVAIL", "ENETDOWN",
	"ENETUNREACH", "ENETRESET", "ECONNABORTED", "ECONNRESET", "ENOBUFS",
	"EISCONN", "ENOTCONN", "ESHUTDOWN", "ETOOMANYREFS", "ETIMEDOUT",
	"ECONNREFUSED", "EHOSTDOWN", "EHOSTUNREACH", "EALREADY",
	"EINPROGRESS", "ESTALE", "EUCLEAN", "ENOTNAM", "ENAVAIL", "EISNAM",
	"EREMOTEIO", "EDQUOT", "ENOMEDIUM", "EMEDIUMTYPE", "ECANCELED",
	"ENOKEY", "EKEYEXPIRED", "EKEYREVOKED", "EKEYREJECTED", "EOWNERDEAD",
	"ENOTRECOVERABLE", "ERFKILL", "EHWPOISON",
};

static const char *const errno_internal[] = {
	"ERESTARTSYS", "ERESTARTNOINTR", "ERESTARTNOHAND", "ENOIOCTLCMD",
	"ERESTART_RESTARTBLOCK", "EPROBE_DEFER", "EOPENSTALE", "ENOPARAM",
};

/* The number of an errno name; -1 when unknown. */
static int64_t errno_number(const char *s, size_t n)
{
	const size_t nn = sizeof(errno_names) / sizeof(errno_names[0]);
	for (size_t i = 0; i < nn; i++)
		if (errno_names[i] != NULL && strlen(errno_names[i]) == n &&
		    memcmp(errno_names[i], s, n) == 0)
			return (int64_t)i;
	for (size_t i = 0; i < sizeof(errno_internal) / sizeof(errno_internal[0]); i++)
		if (strlen(errno_internal[i]) == n && memcmp(errno_internal[i], s, n) == 0)
			return 512 + (int64_t)i;
	if (n == 11 && memcmp(s, "EWOULDBLOCK", 11) == 0)
		return 11;
	if (n == 9 && memcmp(s, "EDEADLOCK", 9) == 0)
		return 35;
	/* strace's name for a number it does not know: ERRNO_777 */
	if (n > 6 && n <= 12 && memcmp(s, "ERRNO_", 6) == 0) {
		int64_t v = 0;
		for (size_t i = 6; i < n; i++) {
			if (s[i] < '0' || s[i] > '9')
				return -1;
			v = v * 10 + (s[i] - '0');
		}
		return v;
	}
	return -1;
}

/* ---- the command line ------------------------------------------------------ */

int msign_trace_strace_argv(const struct msign_trace_opts *o,
			    const char *exec_path, const char *out_path,
			    char ***argv, struct msign_diag *d)
{
	struct msign_trace_argv a = { NULL, 0, false };
	static const char *const fixed[] = { "-qq", "-X", "raw", "-e",
					     "verbose=none", "-e",
					     "signal=none", "-s", "256" };
	_Static_assert(MSIGN_TRACE_STRSIZE == 256, "-s above is the strsize");
	char buf[MSIGN_TRACE_NAME_LEN + 128];
	msign_trace_argv_add(&a, o->strace != NULL ? o->strace : "strace");
	msign_trace_argv_add(&a, "-o");
	msign_trace_argv_add(&a, out_path);
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		msign_trace_argv_add(&a, fixed[i]);
	if (o->follow)
		msign_trace_argv_add(&a, "-f");
	if (o->relative)
		msign_trace_argv_add(&a, "-ttt");
	if (o->relative || o->elapsed)
		msign_trace_argv_add(&a, "-T");
	if (o->stack)
		msign_trace_argv_add(&a, "-k");
	if (o->syscall != NULL && o->syscall_macos != NULL) {
		/* "?name": not an error where this architecture lacks the
		 * call (arm64 has no open or stat) */
		size_t w = (size_t)snprintf(buf, sizeof(buf), "trace=");
		for (const char *p = o->syscall; *p != '\0' && w < sizeof(buf);) {
			size_t n = strcspn(p, ",");
			w += (size_t)snprintf(buf + w, sizeof(buf) - w, "%s?%.*s",
					      w > 6 ? "," : "", (int)n, p);
			p += n + (p[n] == ',');
		}
		msign_trace_argv_add(&a, "-e");
		msign_trace_argv_add(&a, buf);
	} else if (o->syscall != NULL) {
		snprintf(buf, sizeof(buf), "trace=%s", o->syscall);
		msign_trace_argv_add(&a, "-e");
		msign_trace_argv_add(&a, buf);
	}
	if (o->pid != 0) {
		snprintf(buf, sizeof(buf), "%ld", o->pid);
		msign_trace_argv_add(&a, "-p");
		msign_trace_argv_add(&a, buf);
	} else if (o->argv != NULL) {
		msign_trace_argv_add(&a, "--");
		for (size_t i = 0; o->argv[i] != NULL; i++)
			msign_trace_argv_add(&a, i == 0 && exec_path != NULL
							 ? exec_path : o->argv[i]);
	}
	if (msign_trace_argv_done(&a, argv) != 0)
		return msign_diag_set(d, MSIGN_E_NOMEM, 0, "strace command line: out of memory");
	return 0;
}

/* ---- one call -------------------------------------------------------------- */

static bool is_ident(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	       (ch >= '0' && ch <= '9') || ch == '_';
}

/* p at an opening quote: the position after the closing one, or NULL. */
static const char *skip_string(const char *p, const char *end)
{
	for (p++; p < end; p++) {
		if (*p == '\\') {
			if (end - p < 2)
				return NULL;
			p++;
		} else if (*p == '"') {
			return p + 1;
		}
	}
	return NULL;
}

/* A number as strace prints it: -12, 0x7f00, 0644 (a mode), 42. */
static bool parse_num(const char *p, const char *end, uint64_t *v)
{
	bool neg = p < end && *p == '-';
	p += neg;
	if (p >= end)
		return false;
	unsigned base = 10;
	if (end - p > 2 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		base = 16;
		p += 2;
	} else if (end - p > 1 && p[0] == '0') {
		base = 8;
		p++;
	}
	uint64_t x = 0;
	for (; p < end; p++) {
		unsigned dg;
		if (*p >= '0' && *p <= '9')
			dg = (unsigned)(*p - '0');
		else if (*p >= 'a' && *p <= 'f')
			dg = (unsigned)(*p - 'a') + 10;
		else if (*p >= 'A' && *p <= 'F')
			dg = (unsigned)(*p - 'A') + 10;
		else
			return false;
		if (dg >= base || __builtin_mul_overflow(x, (uint64_t)base, &x) ||
		    __builtin_add_overflow(x, (uint64_t)dg, &x))
			return false;
	}
	*v = neg ? 0 - x : x;
	return true;
}

static void trim(const char **a, const char **b)
{
	while (*a < *b && **a == ' ')
		++*a;
	while (*b > *a && (*b)[-1] == ' ')
		--*b;
}

/* One argument of strace's list: `name=` prefixes (clone's) and trailing
 * comments go; then a string, NULL, a number or anything else as text. */
static void classify(const char *a, const char *b, struct msign_trace_arg *arg)
{
	trim(&a, &b);
	if (b - a >= 4 && b[-1] == '/' && b[-2] == '*') {
		for (const char *q = b - 3; q > a; q--)
			if (q[-1] == '/' && q[0] == '*') {
				b = q - 1;
				break;
			}
		trim(&a, &b);
	}
	const char *q = a;
	while (q < b && ((*q >= 'a' && *q <= 'z') || *q == '_'))
		q++;
	if (q > a && q + 1 < b && q[0] == '=' && q[1] != '=')
		a = q + 1;
	memset(arg, 0, sizeof(*arg));
	arg->kind = MSIGN_TRACE_TEXT;
	arg->text = a;
	arg->text_len = (size_t)(b - a);
	if (a < b && *a == '"') {
		const char *e = skip_string(a, b);
		if (e != NULL && (e == b || (b - e == 3 && memcmp(e, "...", 3) == 0))) {
			arg->kind = MSIGN_TRACE_STR;
			arg->text = a + 1;
			arg->text_len = (size_t)(e - a - 2);
			arg->truncated = e != b;
		}
		return;
	}
	if (b - a == 4 && memcmp(a, "NULL", 4) == 0) {
		arg->kind = MSIGN_TRACE_NUM;
		return;
	}
	if (parse_num(a, b, &arg->num))
		arg->kind = MSIGN_TRACE_NUM;
}

/* p just after `name(`: fills c->args, returns the position after the
 * closing parenthesis, or NULL. */
static const char *split_args(const char *p, const char *end,
			      struct msign_trace_call *c)
{
	const char *start = p;
	unsigned depth = 0;
	while (p < end) {
		char ch = *p;
		if (ch == '"') {
			if ((p = skip_string(p, end)) == NULL)
				return NULL;
			continue;
		}
		if (ch == '/' && end - p > 1 && p[1] == '*') {
			const char *e = p + 2;
			while (end - e > 1 && !(e[0] == '*' && e[1] == '/'))
				e++;
			if (end - e < 2)
				return NULL;
			p = e + 2;
			continue;
		}
		if (ch == '<' && end - p > 3 && memcmp(p + 1, "...", 3) == 0) {
			/* restart_syscall(<... resuming interrupted read ...>) */
			const char *e = memchr(p, '>', (size_t)(end - p));
			if (e == NULL)
				return NULL;
			p = e + 1;
			continue;
		}
		bool last = ch == ')' && depth == 0;
		if (last || (ch == ',' && depth == 0)) {
			const char *a = start, *b = p;
			trim(&a, &b);
			if (a < b || !last || c->nargs > 0) {
				if (c->nargs < MSIGN_TRACE_MAX_ARGS)
					classify(start, p, &c->args[c->nargs]);
				if (c->nargs < UINT32_MAX)
					c->nargs++;
			}
			if (last)
				return p + 1;
			start = p + 1;
		} else if (ch == '(' || ch == '[' || ch == '{') {
			depth++;
		} else if (ch == ')' || ch == ']' || ch == '}') {
			if (depth == 0)
				return NULL;
			depth--;
		}
		p++;
	}
	return NULL;
}

/* "0.000266" (seconds) in microseconds. */
static bool parse_secs(const char *p, const char *end, uint64_t *us)
{
	const char *dot = memchr(p, '.', (size_t)(end - p));
	if (dot == NULL || dot == p || dot - p > 12 || end - dot - 1 > 9 ||
	    end - dot < 2)
		return false;
	uint64_t s = 0, f = 0;
	for (const char *q = p; q < dot; q++) {
		if (*q < '0' || *q > '9')
			return false;
		s = s * 10 + (uint64_t)(*q - '0');
	}
	int digits = 0;
	for (const char *q = dot + 1; q < end; q++, digits++) {
		if (*q < '0' || *q > '9')
			return false;
		if (digits < 6)
			f = f * 10 + (uint64_t)(*q - '0');
	}
	for (; digits < 6; digits++)
		f *= 10;
	*us = s * 1000000u + f;
	return true;
}

int msign_trace_strace_parse_call(const char *line, size_t len,
				  struct msign_trace_call *c)
{
	const char *p = line, *end = line + len;
	memset(c, 0, sizeof(*c));
	size_t n = 0;
	while (p + n < end && is_ident(p[n]))
		n++;
	if (n == 0 || n >= MSIGN_TRACE_NAME_LEN || p + n >= end || p[n] != '(')
		return MSIGN_E_INVALID;
	memcpy(c->name, p, n);
	c->name[n] = '\0';
	if ((p = split_args(p + n + 1, end, c)) == NULL)
		return MSIGN_E_INVALID;
	if (c->nargs > MSIGN_TRACE_MAX_ARGS)
		c->nargs = MSIGN_TRACE_MAX_ARGS;
	/* -T: the time spent, "<0.000012>", closes the line */
	if (end > p && end[-1] == '>') {
		const char *lt = end - 1;
		while (lt > p && *lt != '<')
			lt--;
		if (*lt == '<' && parse_secs(lt + 1, end - 1, &c->elapsed_us))
			end = lt;
	}
	while (p < end && *p == ' ')
		p++;
	if (end - p < 2 || p[0] != '=' || p[1] != ' ')
		return MSIGN_E_INVALID;
	p += 2;
	const char *tok = p;
	while (p < end && *p != ' ')
		p++;
	bool unknown = p - tok == 1 && *tok == '?';
	uint64_t ret = 0;
	if (!unknown && !parse_num(tok, p, &ret))
		return MSIGN_E_INVALID;
	c->ret = (int64_t)ret;
	while (p < end && *p == ' ')
		p++;
	const char *e = p;
	while (e < end && ((*e >= 'A' && *e <= 'Z') || (*e >= '0' && *e <= '9') ||
			   *e == '_'))
		e++;
	if (e > p && *p == 'E' && (e == end || *e == ' ')) {
		c->err = errno_number(p, (size_t)(e - p));
		if (unknown) /* = ? ERESTARTSYS: interrupted, to be restarted */
			c->ret = -1;
	} else if (unknown) {
		return MSIGN_E_INVALID; /* never returned (exit_group) */
	}
	return 0;
}

/* ---- a line ------------------------------------------------------------------ */

static struct msign_trace_pending *pending_find(struct msign_trace_session *s,
						uint64_t tid)
{
	for (uint32_t i = 0; i < s->npending; i++)
		if (s->pending[i].tid == tid)
			return &s->pending[i];
	return NULL;
}

static void pending_drop(struct msign_trace_session *s,
			 struct msign_trace_pending *e)
{
	free(e->text);
	*e = s->pending[--s->npending];
}

static void pending_add(struct msign_trace_session *s, uint64_t tid,
			uint64_t ts, const char *text, size_t len)
{
	struct msign_trace_pending *e = pending_find(s, tid);
	if (e != NULL)
		pending_drop(s, e);
	if (s->npending >= MSIGN_TRACE_MAX_PENDING)
		return;
	if (s->npending % 64 == 0) {
		struct msign_trace_pending *v =
			realloc(s->pending, (s->npending + 64) * sizeof(*v));
		if (v == NULL)
			return;
		s->pending = v;
	}
	char *t = malloc(len);
	if (t == NULL)
		return;
	memcpy(t, text, len);
	s->pending[s->npending++] = (struct msign_trace_pending){ tid, ts, len, t };
}

/* The process a thread belongs to, from /proc while the trace runs. */
static int64_t tgid_of(struct msign_trace_session *s, uint64_t tid)
{
	if (!s->live)
		return (int64_t)tid;
	uint64_t *e = s->tgid_cache[tid % MSIGN_TRACE_TGID_CACHE];
	if (e[0] == tid && e[1] != 0)
		return (int64_t)e[1];
	char path[64], buf[512];
	snprintf(path, sizeof(path), "/proc/%llu/status", (unsigned long long)tid);
	int64_t tgid = (int64_t)tid;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		ssize_t n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		buf[n > 0 ? n : 0] = '\0';
		const char *t = strstr(buf, "\nTgid:");
		if (t != NULL)
			tgid = strtoll(t + 6, NULL, 10);
		if (tgid <= 0)
			tgid = (int64_t)tid;
	}
	e[0] = tid;
	e[1] = (uint64_t)tgid;
	return tgid;
}

/* A parsed call of thread tid that entered at ts: counted and printed. */
static void emit(struct msign_trace_session *s, struct msign_trace_call *c,
		 uint64_t tid, uint64_t ts)
{
	const struct msign_trace_opts *o = s->o;
	c->tid = tid;
	c->pid = o->follow ? tgid_of(s, tid) : (int64_t)tid;
	if (o->relative) {
		uint64_t t = ts + c->elapsed_us;
		c->rel_us = t > s->t0_us ? t - s->t0_us : 0;
	}
	msign_trace_session_start(s);
	if (o->counts)
		(void)msign_trace_counts_add(&s->counts, c->name, 1);
	msign_trace_print_call(s->out, o, c);
}

/* "<... NAME resumed>REST": the thread's unfinished start, then REST. */
static void resumed(struct msign_trace_session *s, uint64_t tid,
		    const char *p, const char *end)
{
	const char *name = p + 5, *q = name;
	while (q < end && is_ident(*q))
		q++;
	size_t n = (size_t)(q - name);
	if (n == 0 || n >= MSIGN_TRACE_NAME_LEN || end - q < 9 ||
	    memcmp(q, " resumed>", 9) != 0)
		return;
	q += 9;
	size_t rest = (size_t)(end - q);
	struct msign_trace_pending *e = pending_find(s, tid);
	bool match = e != NULL && e->len > n && memcmp(e->text, name, n) == 0 &&
		     e->text[n] == '(';
	size_t head = match ? e->len : n + 1;
	if (head > MSIGN_TRACE_MAX_LINE || rest > MSIGN_TRACE_MAX_LINE - head) {
		s->long_lines++;
	} else {
		char *t = malloc(head + rest);
		if (t != NULL) {
			if (match) {
				memcpy(t, e->text, head);
			} else {
				memcpy(t, name, n);
				t[n] = '(';
			}
			memcpy(t + head, q, rest);
			struct msign_trace_call c;
			if (msign_trace_strace_parse_call(t, head + rest, &c) == 0)
				emit(s, &c, tid, match ? e->ts_us : 0);
			free(t);
		}
	}
	if (e != NULL)
		pending_drop(s, e);
}

void msign_trace_strace_line(struct msign_trace_session *s, const char *line,
			     size_t len)
{
	const struct msign_trace_opts *o = s->o;
	const char *p = line, *end = line + len;
	uint64_t tid = (uint64_t)s->main_pid, ts = 0;
	if (o->follow) {
		/* "4876  " with -o; "[pid  4876] " on a terminal */
		const char *q = p;
		if (end - q > 5 && memcmp(q, "[pid ", 5) == 0)
			for (q += 5; q < end && *q == ' '; q++)
				;
		uint64_t v = 0;
		const char *digits = q;
		while (q < end && *q >= '0' && *q <= '9' && q - digits < 12)
			v = v * 10 + (uint64_t)(*q++ - '0');
		if (q > digits && q < end && (*q == ' ' || *q == ']')) {
			tid = v;
			p = q + (*q == ']');
			while (p < end && *p == ' ')
				p++;
		}
	}
	if (o->relative) {
		const char *sp = memchr(p, ' ', (size_t)(end - p));
		if (sp != NULL && parse_secs(p, sp, &ts))
			p = sp + 1;
	}
	size_t n = (size_t)(end - p);
	if (n >= 4 && (memcmp(p, "+++ ", 4) == 0 || memcmp(p, "--- ", 4) == 0))
		return; /* exits and signals */
	if (n > 5 && memcmp(p, "<... ", 5) == 0) {
		resumed(s, tid, p, end);
		return;
	}
	static const char unfinished[] = " <unfinished ...>";
	const size_t ul = sizeof(unfinished) - 1;
	if (n > ul && memcmp(end - ul, unfinished, ul) == 0) {
		pending_add(s, tid, ts, p, n - ul);
		return;
	}
	struct msign_trace_call c;
	if (msign_trace_strace_parse_call(p, n, &c) == 0) {
		emit(s, &c, tid, ts);
		return;
	}
	if (n > 0 && !(n > 4 && memcmp(p, "??? ", 4) == 0) &&
	    (p[0] == ' ' || !is_ident(p[0]) || memchr(p, '(', n) == NULL)) {
		/* -k stack frames (" > lib(fn+0x1) [0x2]") and anything else
		 * strace says that is not a call */
		msign_trace_session_start(s);
		msign_trace_print_text(s->out, p, n);
	}
}
