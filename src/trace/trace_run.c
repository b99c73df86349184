/* msign trace: running a backend tool. The tool writes its records into a
 * pipe (strace opens /proc/MSIGN/fd/N, dtrace an inherited /dev/fd/N) that
 * msign reads while the tool runs; its own messages are scanned for the
 * failures msign explains (no root, "Operation not permitted").
 *
 * Why a pipe: the traced command inherits the tool's stdout and stderr,
 * so the records cannot come on either; a regular file would grow with
 * every call of a long trace, a pipe holds 64 KiB and makes the tool wait
 * for msign instead; and it has no path in $TMPDIR. A FIFO in a private
 * folder remains for Linux without /proc. */
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

#include "trace/trace.h"

#define POLL_MS 50       /* how often a quiet run checks the tool's exit */
#define IDLE_MS 20       /* back-off after a FIFO read found no writer */
#define READ_CHUNK 65536
#define ERR_LINE 4096    /* tool messages are scanned in pieces this long */
#define FIFO_NAME "trace.fifo" /* in the private folder, Linux without /proc */

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
	pid_t child;       /* the suspended copy dtrace -p traces, or 0 */
	int fifo_dir;      /* the private folder holding the FIFO, or -1 */
	bool resumed;      /* child: SIGCONT sent, once dtrace began */
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
	/* dtrace -p of msign's own child, alive and stopped: failing to grab
	 * it can only be a refusal (SIP), whatever reason dtrace gives (only
	 * -c's "failed to execute ...: Operation not permitted" was seen) */
	bool own_grab = x->child > 0 && has(p, n, "failed to grab");
	if (dt && (own_grab || (has(p, n, "Operation not permitted") &&
				(has(p, n, "failed to execute") || has(p, n, "failed to grab") ||
				 has(p, n, "failed to create"))))) {
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

/* Run one tool writing into fifo, or (fifo NULL) into the pipe whose
 * ends are tp[0] (nonblocking) and tp[1], until it exits; *wstatus its
 * status. The pipe's ends are closed here. */
static int run_tool(char *const *argv, const char *fifo, int tp[2],
		    struct run_ctx *x, int *wstatus, struct msign_diag *d)
{
	struct msign_trace_session *s = x->s;
	int ffd = tp[0];
	if (fifo != NULL) {
		/* made and opened through the folder's descriptor; the tool
		 * gets the path, which only the caller or root can change */
		(void)unlinkat(x->fifo_dir, FIFO_NAME, 0);
#ifdef __APPLE__ /* no mkfifoat before macOS 13; the FIFO is Linux's anyway */
		int mk = mkfifo(fifo, 0600);
#else
		int mk = mkfifoat(x->fifo_dir, FIFO_NAME, 0600);
#endif
		if (mk != 0)
			return msign_diag_set(d, MSIGN_E_IO, 0, "mkfifo %s: %s",
					      fifo, strerror(errno));
		struct stat fst;
		ffd = openat(x->fifo_dir, FIFO_NAME, O_RDONLY | O_NONBLOCK | O_NOFOLLOW);
		if (ffd >= 0 && (fstat(ffd, &fst) != 0 || !S_ISFIFO(fst.st_mode))) {
			close(ffd);
			ffd = -1;
			errno = EINVAL;
		}
	}
	int ep[2] = { -1, -1 };
	char *buf = malloc(READ_CHUNK);
	struct line_reader r = { malloc(MSIGN_TRACE_MAX_LINE), 0, false };
	int ret = 0;
	pid_t pid = -1;
	if (ffd < 0 || buf == NULL || r.buf == NULL) {
		ret = ffd < 0 ? msign_diag_set(d, MSIGN_E_IO, 0, "open %s: %s",
					       fifo != NULL ? fifo : "pipe",
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
	if (x->dtrace && tp[1] >= 0) { /* dtrace inherited it */
		close(tp[1]);
		tp[1] = -1;
	}
	bool done = false, fifo_idle = false, writer_seen = false;
	unsigned fwd_seen = 0;
	int fwd = 0; /* a signal for msign alone, not passed on yet */
	int64_t command = 0;
	while (!done) {
		/* Passed on here, before the waitpid below reaps the tool: never
		 * to a reaped PID. strace, told to stop, would detach and leave
		 * the command running untraced, so with strace the command gets
		 * the signal (with -p the tool does: the process is not ours). */
		int f = msign_trace_guard_forward(&fwd_seen);
		if (f != 0)
			fwd = f;
		if (x->child > 0 && !x->resumed && s->started) {
			(void)kill(x->child, SIGCONT); /* dtrace -p traces it now */
			x->resumed = true;
		}
		if (fwd != 0 && (x->dtrace || s->o->pid != 0)) {
			(void)kill(pid, fwd);
			/* dtrace -p would detach and leave msign's own copy
			 * running (not reaped yet: attempt waits for it) */
			if (x->child > 0)
				(void)kill(x->child, x->resumed ? fwd : SIGKILL);
			fwd = 0;
		} else if (fwd != 0) {
			if (command == 0)
				command = first_child(pid);
			if (command > 0) { /* else strace has not started it yet */
				(void)kill((pid_t)command, fwd);
				fwd = 0;
			}
		}
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
				if (got && tp[1] >= 0) {
					/* strace has it open: let go of
					 * msign's write end, so strace's
					 * exit hangs the pipe up at once */
					close(tp[1]);
					tp[1] = -1;
				}
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
	/* (with strace msign holds the pipe's write end until data comes,
	 * so a pipe that stayed quiet never hung up: strace ran, and the
	 * header is printed even when nothing was traced) */
	if (!x->dtrace && (writer_seen || any || fifo == NULL))
		msign_trace_session_start(s);
	fflush(s->out);
	fflush(x->msgs);
out:
	if (ffd >= 0)
		close(ffd);
	if (tp[1] >= 0)
		close(tp[1]);
	if (ep[0] >= 0)
		close(ep[0]);
	if (ep[1] >= 0)
		close(ep[1]);
	if (fifo != NULL)
		(void)unlinkat(x->fifo_dir, FIFO_NAME, 0);
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

/* The command msign started, once dtrace is gone: reaped, its wait
 * status in *w. Still there (never resumed: dtrace did not begin; or
 * running: dtrace ended first, failing or killed), it is killed first, as
 * dtrace kills a -c command it leaves behind: never left to run untraced,
 * and never waited for while signals to msign go unheard. *killed (if
 * given): it was still there, and msign killed it. */
static void reap_child(struct run_ctx *x, int *w, bool *killed)
{
	if (x->child <= 0)
		return;
	int st = 0;
	pid_t p;
	while ((p = waitpid(x->child, &st, WNOHANG)) < 0 && errno == EINTR)
		;
	if (p == 0) {
		(void)kill(x->child, SIGKILL);
		if (killed != NULL)
			*killed = true;
		while (waitpid(x->child, &st, 0) < 0 && errno == EINTR)
			;
	}
	if (w != NULL)
		*w = st;
	x->child = 0;
}

/* One attempt: build the tool's command line, run it, read its output. */
static int attempt(struct msign_trace_opts *o, const char *exec_path,
		   bool suspended, const char *fifo, struct run_ctx *x,
		   struct msign_trace_result *res, struct msign_diag *d)
{
	char **argv = NULL, *prog = NULL;
	int r;
	int tp[2] = { -1, -1 };
	char path[64];
	/* the command msign started suspended is traced as dtrace -p traces
	 * any PID, and it never sees the trace pipe (made after it) */
	struct msign_trace_opts po;
	x->child = 0;
	x->resumed = false;
	pid_t child = 0;
	if (suspended) {
		struct msign_diag sd; /* a refused ptrace start is no error */
		msign_diag_clear(&sd);
		r = msign_trace_spawn_suspended(exec_path, o->argv, &child, &sd);
		if (r == MSIGN_E_UNSUPPORTED && !res->copied) {
			/* Linux, PTRACE_TRACEME refused (msign under strace or
			 * gdb, or ptrace forbidden): dtrace -c, as before (not
			 * for a copy: the x86_64 one needs -p) */
			suspended = false;
		} else if (r != 0) {
			res->bad_command = r == MSIGN_E_NOT_FOUND || r == MSIGN_E_IO;
			return msign_diag_set(d, r, 0, "%s", sd.msg);
		}
	}
	if (suspended && msign_trace_guard_signal() != 0) {
		/* a signal while it was being started (^C to the whole group
		 * reached msign, not the child): it does not run */
		x->child = child;
		reap_child(x, NULL, NULL);
		res->status = 128 + msign_trace_guard_signal();
		return 0;
	}
	if (suspended) {
		x->child = child;
		po = *o;
		po.argv = NULL;
		po.pid = (long)child;
		o = &po;
		exec_path = NULL;
	}
	if (fifo == NULL) {
		/* No path in $TMPDIR. strace opens msign's own write end
		 * through /proc: neither strace nor the command inherits it
		 * (close-on-exec), and msign keeps it open until strace writes.
		 * dtrace (macOS has no /proc) inherits it and opens /dev/fd/N
		 * (a dup there). A command msign started is older than the
		 * pipe; only a -c command (the fallbacks) inherits it from
		 * dtrace, and could write records: the parser takes them as it
		 * takes everything, as hostile. */
		if (pipe(tp) != 0) {
			r = msign_diag_set(d, MSIGN_E_IO, 0, "pipe: %s", strerror(errno));
			reap_child(x, NULL, NULL);
			return r;
		}
		set_flags(tp[0], O_NONBLOCK, FD_CLOEXEC);
		if (x->dtrace) {
			snprintf(path, sizeof(path), "/dev/fd/%d", tp[1]);
		} else {
			set_flags(tp[1], 0, FD_CLOEXEC);
			snprintf(path, sizeof(path), "/proc/%ld/fd/%d",
				 (long)getpid(), tp[1]);
		}
	}
	const char *out_path = fifo != NULL ? fifo : path;
	if (x->dtrace) {
		r = msign_trace_dtrace_program(o, &prog, d);
		if (r == 0)
			r = msign_trace_dtrace_argv(o, prog, exec_path, out_path,
						    &argv, d);
	} else {
		r = msign_trace_strace_argv(o, exec_path, out_path, &argv, d);
	}
	free(prog);
	if (r != 0) {
		if (tp[0] >= 0) {
			close(tp[0]);
			close(tp[1]);
		}
		reap_child(x, NULL, NULL);
		return r;
	}
	x->s->t0_us = now_us();
	int w = 0;
	r = run_tool(argv, fifo, tp, x, &w, d);
	msign_trace_argv_free(argv);
	int cw = 0;
	bool have_child = x->child > 0, ran = x->resumed, killed = false;
	reap_child(x, &cw, &killed);
	if (r != 0)
		return r;
	/* strace exits as its command did; dtrace's own status is not the
	 * command's, the D program recorded that (unless ^C ended it all).
	 * A signal that ended the trace is the status, as a shell reports
	 * one (the command may have caught it and exited 0). msign's own
	 * suspended child: its wait status is the command's, whatever a
	 * msign:x record says. */
	int sig = msign_trace_guard_signal();
	if (have_child && sig == 0 && killed && ran)
		fprintf(x->msgs, "msign trace: dtrace ended before %s did, which was killed (as dtrace kills a command it started)\n",
			res->target_path);
	else if (have_child && sig == 0 && killed && status_of(w) == 0)
		/* (dtrace failing says why itself) */
		fprintf(x->msgs, "msign trace: dtrace ended before the trace began: %s was not run\n",
			res->target_path);
	else if (have_child && sig == 0 && !killed && !ran)
		fprintf(x->msgs, "msign trace: %s ran and ended before the trace began (continued from outside), untraced\n",
			res->target_path);
	if (have_child && killed && sig == 0)
		/* dtrace ended before it began, or before the command: the
		 * command was killed, dtrace's failure is the status */
		res->status = status_of(w) != 0 ? status_of(w) : 1;
	else if (have_child)
		res->status = sig != 0 ? 128 + sig : status_of(cw);
	else if (!x->dtrace)
		res->status = sig != 0 ? 128 + sig : status_of(w);
	else if (!x->s->have_exit && sig == 0)
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

/* Whether strace knows -t's name: `strace -e trace=NAME -V` parses the
 * filter and then prints its version, or says "invalid system call" and
 * exits 1. 1 known, 0 not, -1 cannot tell (no strace: said later). */
static int strace_knows(const struct msign_trace_opts *o)
{
	char filter[MSIGN_TRACE_NAME_LEN + 16];
	snprintf(filter, sizeof(filter), "trace=%s", o->syscall);
	const char *tool = o->strace != NULL ? o->strace : "strace";
	char *argv[] = { (char *)tool, "-e", filter, "-V", NULL };
	pid_t p = fork();
	if (p < 0)
		return -1;
	if (p == 0) {
		int nul = open("/dev/null", O_RDWR);
		if (nul < 0 || dup2(nul, 0) < 0 || dup2(nul, 1) < 0 ||
		    dup2(nul, 2) < 0)
			_exit(127);
		signal(SIGPIPE, SIG_DFL);
		execvp(tool, argv);
		_exit(127);
	}
	int w;
	while (waitpid(p, &w, 0) < 0)
		if (errno != EINTR)
			return -1;
	if (!WIFEXITED(w) || WEXITSTATUS(w) == 127)
		return -1;
	return WEXITSTATUS(w) == 0;
}

/* Which copy this host can trace (res->plan). */
static void plan_copy(const struct msign_trace_opts *o,
		      struct msign_trace_result *res)
{
	struct msign_image *img = NULL;
	/* a file msign cannot read: the copy as always, strip says why */
	if (msign_image_open(res->target_path, &img, NULL) != 0)
		img = NULL;
	msign_trace_plan_for(&o->host, img, &res->plan);
	msign_image_free(img);
}

/* A note on msgs when the copy is not the file as it is minus its
 * signatures. */
static void note_copy(const struct msign_trace_result *res, FILE *msgs)
{
	const struct msign_trace_plan *p = &res->plan;
	char buf[64];
	if (p->kind == MSIGN_TRACE_PLAN_ARM64 && p->rewrite)
		fprintf(msgs, "msign trace: tracing a copy of %s made of its %s slice marked plain arm64: this Mac runs arm64e code of Apple's preview ABI only in platform binaries or with -arm64e_preview_abi\n",
			res->target_path,
			msign_arch_label(MSIGN_CPU_TYPE_ARM64, p->cpusubtype, buf,
					 sizeof(buf)));
	else if (p->kind == MSIGN_TRACE_PLAN_ARM64 && p->fat)
		fprintf(msgs, "msign trace: tracing a copy of %s made of its arm64 slice\n",
			res->target_path);
	else if (p->kind == MSIGN_TRACE_PLAN_SUSPENDED)
		fprintf(msgs, "msign trace: %s has only x86_64 code, which runs under Rosetta here: tracing a copy started suspended, by PID (dtrace -c does not trace translated processes)\n",
			res->target_path);
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
	if (!dtrace && o->syscall_macos != NULL) {
		fprintf(msgs, "msign trace: -t %s traces ", o->syscall_macos);
		for (const char *p = o->syscall; *p != '\0'; p++)
			fputs(*p == ',' ? ", " : (char[2]){ *p, '\0' }, msgs);
		fputs(" on Linux\n", msgs);
	} else if (!dtrace && o->syscall != NULL && strace_knows(o) == 0) {
		return msign_diag_set(d, MSIGN_E_ARG, 0,
				      "-t %s: no system call of that name on Linux (strace knows none)",
				      o->syscall);
	}
	if (cmd && (r = msign_trace_which(o->argv[0], res->target_path,
					  sizeof(res->target_path), d)) != 0) {
		res->bad_command = true;
		return r;
	}
	if (cmd && dtrace &&
	    (r = msign_trace_classify(res->target_path, &res->target, d)) != 0)
		return r;
	/* strace would say "Exec format error" and exit 1: say what it is.
	 * (A file classify cannot read is left to strace.) */
	enum msign_trace_target kind;
	if (cmd && !dtrace &&
	    msign_trace_classify(res->target_path, &kind, NULL) == 0 &&
	    kind != MSIGN_TRACE_TARGET_OTHER) {
		res->bad_command = true;
		return msign_diag_set(d, MSIGN_E_UNSUPPORTED, 0,
				      "%s: a Mach-O program (macOS), which Linux cannot run: trace it on a Mac",
				      res->target_path);
	}

	/* On Apple Silicon some originals cannot be traced with -c however
	 * dtrace is allowed (x86_64 code under Rosetta, or dtrace started
	 * translated): their copy comes at once. */
	bool copy_now = false;
	if (dtrace && o->unsign && cmd && is_macho(res->target)) {
		plan_copy(o, res);
		enum msign_trace_plan_kind k = res->plan.kind;
		if (k == MSIGN_TRACE_PLAN_NONE || k == MSIGN_TRACE_PLAN_TRANSLATED) {
			res->problem = MSIGN_TRACE_PROBLEM_NO_COPY;
			return 0;
		}
		if (k == MSIGN_TRACE_PLAN_SUSPENDED && !msign_trace_can_start_suspended()) {
			return msign_diag_set(d, MSIGN_E_UNSUPPORTED, 0,
					   "%s has only x86_64 code, which an Apple Silicon Mac runs under Rosetta, and dtrace -c does not trace a translated process: msign starts it suspended and traces its PID, which needs macOS",
					   res->target_path);
		}
		if (k == MSIGN_TRACE_PLAN_SUSPENDED)
			copy_now = true;
	}

	/* The records come through a pipe (strace needs /proc for it, else
	 * a FIFO in a fresh folder); a folder is made only for that FIFO or
	 * for the --unsign copy. */
	const char *tmp = getenv("TMPDIR");
	struct msign_trace_dir td = { .parent = -1, .fd = -1 };
	char fifo[PATH_MAX + 16], copy[PATH_MAX + NAME_MAX + 2];
	fifo[0] = copy[0] = '\0';
	/* (MSIGN_TRACE_FIFO=1, a test hook: the FIFO, as without /proc) */
	const char *force_fifo = getenv("MSIGN_TRACE_FIFO");
	bool use_pipe = dtrace || (access("/proc/self/fd", X_OK) == 0 &&
				   (force_fifo == NULL || strcmp(force_fifo, "1") != 0));
	if (tmp == NULL || tmp[0] == '\0')
		tmp = "/tmp";
	/* (signals are caught from before the folder exists: a Ctrl-C now
	 * is seen after it is made, and it goes in the cleanup below) */
	msign_trace_guard_begin();
	if (!use_pipe || (dtrace && o->unsign && cmd)) {
		if ((r = msign_trace_dir_make(&td, tmp, d)) != 0) {
			if (msign_trace_guard_signal() != 0)
				res->signal = msign_trace_guard_signal();
			msign_trace_guard_end();
			return r;
		}
		snprintf(fifo, sizeof(fifo), "%s/" FIFO_NAME, td.path);
	}

	struct msign_trace_session s;
	msign_trace_session_init(&s, o, out);
	s.live = true;
	struct run_ctx x = { .s = &s, .msgs = msgs, .dtrace = dtrace, .fifo_dir = td.fd };
	/* dtrace runs the file msign looked at; strace finds the command as
	 * typed, keeping argv[0] as the user wrote it. */
	const char *exec_path = cmd && dtrace ? res->target_path : NULL;
	bool want_copy = copy_now || (dtrace && o->unsign &&
			 (res->target == MSIGN_TRACE_TARGET_PLATFORM ||
			  res->target == MSIGN_TRACE_TARGET_RESTRICTED));
	for (int round = 0; round < 2; round++) {
		if (want_copy) {
			note_copy(res, msgs);
			r = msign_trace_unsign_copy(&td, res->target_path, &res->plan,
						    copy, sizeof(copy), d);
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
		/* with dtrace msign starts the command itself where it can */
		bool suspended = dtrace && cmd &&
				 ((res->copied && res->plan.kind == MSIGN_TRACE_PLAN_SUSPENDED) ||
				  msign_trace_start_here(res->target) != MSIGN_TRACE_START_DTRACE_C);
		if ((r = attempt(o, exec_path, suspended, use_pipe ? NULL : fifo,
				 &x, res, d)) != 0)
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
	if (td.parent >= 0) {
		const char *base = strrchr(res->target_path, '/');
		const char *made[] = { copy[0] != '\0' ? base + 1 : "", FIFO_NAME, NULL };
		struct msign_diag rd;
		msign_diag_clear(&rd);
		if (msign_trace_dir_remove(&td, made, &rd) != 0 && r == 0)
			fprintf(msgs, "msign trace: %s\n", rd.msg);
	}
	if (res->signal == 0)
		res->signal = msign_trace_guard_signal();
	msign_trace_guard_end();
	msign_trace_session_free(&s);
	return r;
}
