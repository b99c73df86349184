#!/bin/sh
# msign trace, from the command line:
#  - real strace runs (Linux): -t, -c against strace -c, -f, exit status,
#    a missing command, columns, --output, -p when ptrace allows it;
#  - the dtrace backend with tests/trace/dtrace-standin in dtrace's place:
#    the arguments and D program msign gives it, msign's formatting of
#    recorded dtrace output byte for byte, dtrace's messages, no root, and
#    --unsign on fixtures/universal (the copy dtrace is asked to run has
#    no signature, and is gone afterwards, also after Ctrl-C); on Apple
#    Silicon (MSIGN_HOST_ARCH=arm64 and the host hooks) the copy's slices
#    and subtypes, read with llvm-lipo and llvm-otool, and each one-line
#    message; dtrace's descriptors; the command msign starts itself,
#    stopped (ptrace start), for dtrace -p: its state, image and
#    descriptors at dtrace's start, arguments with spaces, its wait status
#    over the records', nothing run when dtrace fails, Ctrl-C.
# Run from the repository root: sh tests/trace/run.sh build/msign
set -u
msign=$1
case $msign in /*) ;; *) msign=$(pwd)/$msign ;; esac
here=$(cd "$(dirname "$0")" && pwd)
root=$(pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export LC_ALL=C TZ=UTC MSIGN_HOST_ARCH=x86_64 TMPDIR="$tmp/tmpdir"
mkdir -p "$TMPDIR"
unset MSIGN_TRACE_BACKEND MSIGN_DTRACE MSIGN_STRACE
pass=0 fail=0
tab=$(printf '\t')

ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL $1"; shift; for l in "$@"; do echo "  $l"; done; }
# check NAME COMMAND...: passes when the command succeeds
check() { n=$1; shift; if "$@"; then ok; else bad "$n"; fi; }
# status NAME WANT GOT
status() { if [ "$2" = "$3" ]; then ok; else bad "$1: exit $3, want $2"; fi; }
# The temporary folders msign made must all be gone.
no_leftovers() {
	if [ -z "$(ls -A "$TMPDIR")" ]; then ok; else bad "$1: left $(ls "$TMPDIR")"; rm -rf "${TMPDIR:?}"/*; fi
}

# ---- strace backend -----------------------------------------------------
if command -v strace >/dev/null 2>&1; then
	dir=$tmp/tree
	mkdir -p "$dir/sub"
	echo hello > "$dir/a"
	echo world > "$dir/sub/b"

	# -t openat: header, then only openat lines, path strings, ret, errno
	"$msign" trace -t openat du -h "$dir" > "$tmp/out" 2> "$tmp/err"
	status "du -t openat" 0 $?
	check "du: its output stays on stdout" grep -q "$dir\$" "$tmp/out"
	check "du: header" [ "$(head -n 1 "$tmp/err")" = "SYSCALL(args) $tab$tab = return" ]
	if tail -n +2 "$tmp/err" | grep -v "^openat(0x[0-9A-F]*, \".*\\\\0\", 0x[0-9A-F]*, 0x[0-9A-F]*, 0x[0-9A-F]*, 0x[0-9A-F]*)$tab$tab = -\{0,1\}[0-9]* [0-9]*\$" > "$tmp/odd"; then
		bad "du: lines that are not openat(...) = ret errno" "$(head -n 3 "$tmp/odd")"
	else
		ok
	fi
	check "du: opens the folder" grep -q "^openat(0xFFFFFFFFFFFFFF9C, \"$dir\\\\0\", .* = [0-9][0-9]* 0\$" "$tmp/err"
	# The trace apart (--output): cat writes "cat: " and the rest of its
	# message in separate writes, and a trace line on the same stderr can
	# land between them (seen under ASan on a loaded machine).
	"$msign" trace --output "$tmp/tr" -t openat cat /nonexistent/x > "$tmp/out" 2> "$tmp/err"
	status "cat /nonexistent: cat's status" 1 $?
	check "failed openat: = -1 ENOENT" grep -qx "openat(0xFFFFFFFFFFFFFF9C, \"/nonexistent/x\\\\0\", 0x0, 0x0, 0x0, 0x0)$tab$tab = -1 2" "$tmp/tr"
	check "cat's message still on stderr" [ "$(cat "$tmp/err")" = "cat: /nonexistent/x: No such file or directory" ]

	# -c: the table, counted as strace -c counts
	"$msign" trace -c du -h "$dir" > /dev/null 2> "$tmp/err"
	status "du -c" 0 $?
	sed -n '/^CALL  *COUNT$/,$p' "$tmp/err" | tail -n +2 | awk '{print $1, $2}' | sort > "$tmp/ours"
	strace -c -o "$tmp/sc" du -h "$dir" > /dev/null 2>&1
	awk '/^-----/ {n++; next} n == 1 {print $NF, $4}' "$tmp/sc" | sort > "$tmp/theirs"
	if [ -s "$tmp/ours" ] && cmp -s "$tmp/ours" "$tmp/theirs"; then ok; else
		bad "-c counts differ from strace -c (ours, theirs)" "$(diff "$tmp/ours" "$tmp/theirs" | head -n 8)"
	fi
	check "-c table format" grep -q "^CALL                                        COUNT\$" "$tmp/err"
	check "-c rows %-32s %16d" grep -Eq "^openat {26} {16}[0-9]|^openat +[0-9]+\$" "$tmp/err"
	"$msign" trace -c -t openat du -h "$dir" > /dev/null 2> "$tmp/err"
	n=$(grep -c '^openat(' "$tmp/err")
	check "-c -t openat counts the lines" grep -Eq "^openat +$n\$" "$tmp/err"

	# -f: the children of sh -c 'ls; ls'
	"$msign" trace -f -t execve sh -c 'ls >/dev/null; ls >/dev/null' 2> "$tmp/err"
	status "-f" 0 $?
	check "-f: PID/THRD column by default" grep -q '^  PID/  THRD SYSCALL' "$tmp/err"
	pids=$(grep 'execve(' "$tmp/err" | sed 's|/.*||' | sort -u | wc -l)
	lss=$(grep -c 'execve(".*/ls\\0"' "$tmp/err")
	check "-f: three processes, two run ls" [ "$pids" = 3 ] && [ "$lss" = 2 ]
	"$msign" trace -t execve sh -c 'ls >/dev/null; ls >/dev/null' 2> "$tmp/err"
	check "without -f: only sh" [ "$(grep -c 'execve(' "$tmp/err")" = 1 ]

	# macOS names: mapped to the Linux calls, with a one-line note;
	# names Linux does not have: a usage error
	# (the trace apart from cat's message, which may come in pieces)
	"$msign" trace --output "$tmp/tr" -t open cat /nonexistent/x > /dev/null 2> "$tmp/err"
	check "-t open: the note" [ "$(head -n 1 "$tmp/err")" = "msign trace: -t open traces open, openat on Linux" ]
	check "-t open: openat traced" grep -qx "openat(0xFFFFFFFFFFFFFF9C, \"/nonexistent/x\\\\0\", 0x0, 0x0, 0x0, 0x0)$tab$tab = -1 2" "$tmp/tr"
	"$msign" trace -t nanosleep sleep 0.001 2> "$tmp/err"
	check "-t nanosleep: the note" [ "$(head -n 1 "$tmp/err")" = "msign trace: -t nanosleep traces nanosleep, clock_nanosleep on Linux" ]
	check "-t nanosleep: sleep's call" grep -Eq "^(clock_)?nanosleep\(" "$tmp/err"
	"$msign" trace -t bogus true > /dev/null 2> "$tmp/err"
	status "-t bogus" 2 $?
	check "-t bogus: one line" [ "$(cat "$tmp/err")" = "msign trace: -t bogus: no system call of that name on Linux (strace knows none)" ]

	# the exit status is the command's
	"$msign" trace sh -c 'exit 7' 2> /dev/null
	status "sh -c 'exit 7'" 7 $?
	"$msign" trace sh -c 'kill -TERM $$' 2> /dev/null
	status "killed by SIGTERM" 143 $?
	"$msign" trace -f sh -c 'kill -KILL $$' 2> /dev/null
	status "-f, killed by SIGKILL" 137 $?

	# a signal sent to msign alone ends the command (strace alone would
	# detach and let it run on), and msign exits 128 + N
	"$msign" trace -t execve sleep 9.731 2> "$tmp/err" &
	mp=$!
	i=0
	while [ $i -lt 100 ] && ! grep -q 'sleep' "$tmp/err" 2> /dev/null; do sleep 0.02; i=$((i + 1)); done
	kill -TERM $mp
	wait $mp
	status "SIGTERM to msign" 143 $?
	# (the pattern does not match grep's own command line)
	check "SIGTERM to msign: the command is gone" [ -z "$(grep -l 'sleep.9[.]731' /proc/[0-9]*/cmdline 2> /dev/null)" ]
	# a signal the caller ignores (nohup) stays ignored in the command
	(trap '' HUP; exec "$msign" trace -t getpid sh -c 'kill -HUP $$; echo alive') > "$tmp/out" 2> /dev/null
	status "nohup: HUP ignored" 0 $?
	check "nohup: the command lived on" [ "$(cat "$tmp/out")" = alive ]

	# a missing command
	"$msign" trace no-such-command-xyz > "$tmp/out" 2> "$tmp/err"
	status "missing command" 127 $?
	check "missing command: one clear line" [ "$(cat "$tmp/err")" = "msign trace: no-such-command-xyz: command not found" ]
	"$msign" trace ./no/such/file 2> "$tmp/err"
	status "missing file" 127 $?
	"$msign" trace "$dir" 2> "$tmp/err"
	status "a folder" 126 $?
	check "a folder: says so" [ "$(cat "$tmp/err")" = "msign trace: $dir: Is a directory" ]

	# the trace comes through a pipe: nothing of msign's in $TMPDIR for
	# the command to see, and no descriptor of it in the command
	sh -c 'ls -A "$TMPDIR"; ls /proc/$$/fd' > "$tmp/fd-plain"
	"$msign" trace -t getpid sh -c 'ls -A "$TMPDIR"; ls /proc/$$/fd' > "$tmp/fd-traced" 2> /dev/null
	check "\$TMPDIR empty, the command's descriptors its own" cmp -s "$tmp/fd-plain" "$tmp/fd-traced"
	check "\$TMPDIR empty: the command saw it" [ "$(head -n 1 "$tmp/fd-traced")" = 0 ]
	"$msign" trace --output "$tmp/tr" -t getpid sh -c 'ls -A "$TMPDIR"; ls /proc/$$/fd' > "$tmp/fd-traced" 2> /dev/null
	check "--output: the file's descriptor is not the command's" cmp -s "$tmp/fd-plain" "$tmp/fd-traced"

	# a Mach-O command: one line, 126, strace not run
	cp "$root/fixtures/universal" "$tmp/macho"
	chmod 755 "$tmp/macho"
	"$msign" trace "$tmp/macho" > "$tmp/out" 2> "$tmp/err"
	status "a Mach-O on Linux" 126 $?
	check "a Mach-O on Linux: one line" [ "$(cat "$tmp/err")" = "msign trace: $tmp/macho: a Mach-O program (macOS), which Linux cannot run: trace it on a Mac" ]

	# columns: -l -d -e; -L; --output
	"$msign" trace -l -d -e -t close true 2> "$tmp/err"
	check "-l -d -e header" [ "$(head -n 1 "$tmp/err")" = "  PID/  THRD RELATIVE  ELAPSD SYSCALL(args) $tab$tab = return" ]
	check "-l -d -e lines" grep -Eq "^ *[0-9]+/0x[0-9a-f]+:  +[0-9]+ +[0-9]+ close\(0x3, 0x0, 0x0\)$tab$tab = 0 0\$" "$tmp/err"
	"$msign" trace -f -L -t close true 2> "$tmp/err"
	check "-L hides the column" grep -q '^close(' "$tmp/err"
	"$msign" trace --output "$tmp/trace.txt" -t openat true 2> "$tmp/err"
	check "--output: the file has the trace" grep -q '^openat(' "$tmp/trace.txt"
	check "--output: stderr stays empty" [ ! -s "$tmp/err" ]
	# a trace that cannot be written is exit 1, whatever the command did
	"$msign" trace --output /dev/full -t openat true 2> "$tmp/err"
	status "--output /dev/full" 1 $?
	check "--output /dev/full: one msign line" [ "$(grep '^msign' "$tmp/err")" = "msign: write error: /dev/full" ]

	# no strace: says what to install
	MSIGN_STRACE=/nonexistent/strace "$msign" trace true 2> "$tmp/err"
	status "no strace" 1 $?
	check "no strace: the hint" grep -q 'apt-get install strace' "$tmp/err"

	# not available with strace: clear usage errors
	"$msign" trace -o true 2> "$tmp/err"
	status "-o on Linux" 2 $?
	check "-o: says why" grep -q 'needs dtrace' "$tmp/err"
	"$msign" trace -n sshd 2> /dev/null
	status "-n on Linux" 2 $?
	"$msign" trace 2> /dev/null
	status "nothing to trace" 2 $?

	# -p, where this machine lets strace attach
	sleep 3 &
	sp=$!
	"$msign" trace -p $sp > "$tmp/out" 2> "$tmp/err" &
	tp=$!
	sleep 0.5
	kill $sp 2> /dev/null
	wait $tp
	if grep -q 'Operation not permitted' "$tmp/err"; then
		echo "note: -p skipped, strace may not attach here ($(grep -m1 'not permitted' "$tmp/err"))"
	else
		check "-p: header" grep -q '^SYSCALL(args)' "$tmp/err"
	fi
	# a Linux without /proc (MSIGN_TRACE_FIFO=1 plays one): a FIFO in a
	# private folder, made through the folder's descriptor; the same lines
	"$msign" trace --output "$tmp/tr.pipe" -t openat cat /dev/null 2> /dev/null
	MSIGN_TRACE_FIFO=1 "$msign" trace --output "$tmp/tr.fifo" -t openat sh -c 'ls -ld "$TMPDIR"/msign-trace.*/trace.fifo "$TMPDIR"/msign-trace.* > "$0"; exec cat /dev/null' "$tmp/fifo.ls" 2> "$tmp/err"
	status "FIFO: the command's status" 0 $?
	check "FIFO: a FIFO, 0600, in a folder 0700" [ "$(cut -c1-10 "$tmp/fifo.ls" | tr '\n' ' ')" = "drwx------ prw------- " ]
	check "FIFO: cat's openat lines as through the pipe" [ "$(grep -c '/dev/null' "$tmp/tr.fifo")" = 1 ] &&
		[ "$(grep '/dev/null' "$tmp/tr.fifo")" = "$(grep '/dev/null' "$tmp/tr.pipe")" ]
	no_leftovers "strace runs"
else
	bad "strace is not installed (apt-get install strace)"
fi

# ---- dtrace backend, with the stand-in ----------------------------------
export MSIGN_TRACE_BACKEND=dtrace MSIGN_DTRACE="$here/dtrace-standin"
export STANDIN_DIR="$tmp/rec" STANDIN_MSIGN="$msign"
mkdir -p "$STANDIN_DIR/programs"
truebin=$(command -v ls)
shbin=$(command -v sh)

# the arguments msign gives dtrace: msign starts the command itself,
# stopped, and dtrace traces it by PID (never -c for what Linux can run)
rm -f "$STANDIN_DIR/target-proc"
STANDIN_FDS=1 "$msign" trace ls > /dev/null 2>&1
# (-o: the pipe msign reads, inherited: no path in $TMPDIR)
printf '%s\n' -x dynvarsize=4m -x evaltime=preinit -x switchrate=10hz -Z -q -o @pipe -n @program -p @pid > "$tmp/want"
sed -e 's|^/dev/fd/[0-9][0-9]*$|@pipe|' -e '$s|^[1-9][0-9]*$|@pid|' "$STANDIN_DIR/args" > "$tmp/got"
if cmp -s "$tmp/want" "$tmp/got"; then ok; else bad "dtrace arguments" "$(diff "$tmp/want" "$tmp/got")"; fi
# at dtrace's start the process was stopped ('T', not traced 't'), already
# ls's image, holding 0, 1 and 2 only (not the trace pipe)
printf '%s\n' T "$(readlink -f "$truebin")" 0 1 2 > "$tmp/want"
if cmp -s "$tmp/want" "$STANDIN_DIR/target-proc"; then ok; else
	bad "the command at dtrace's start: stopped, after exec, 0 1 2 only" "$(diff "$tmp/want" "$STANDIN_DIR/target-proc" 2>&1)"
fi
check "dtrace ran with nothing of msign's in \$TMPDIR" [ ! -s "$STANDIN_DIR/tmpdir" ]
# dtrace gets no descriptor of msign's but the pipe it writes (-o
# /dev/fd/N): what the stand-in has above 2, less what it has when started
# from here, is exactly N, a pipe (a -c command would inherit N from
# dtrace: the Mach-O runs below)
n=$(sed -n 's|^/dev/fd/\([0-9][0-9]*\)$|\1|p' "$STANDIN_DIR/args")
cp "$STANDIN_DIR/fds" "$tmp/fds-msign"
STANDIN_FDS=1 STANDIN_MODE=fds "$here/dtrace-standin"
if [ -n "$n" ] && [ "$(grep -vxFf "$STANDIN_DIR/fds" "$tmp/fds-msign" | sed 's/\[.*//')" = "$n pipe:" ]; then ok; else
	bad "dtrace's descriptors: only the trace pipe" "-o /dev/fd/$n" "$(cat "$tmp/fds-msign")" "without msign:" "$(cat "$STANDIN_DIR/fds")"
fi
cp "$STANDIN_DIR/fds" "$tmp/fds-base"
STANDIN_FDS=1 "$msign" trace --output "$tmp/trace.out" ls > /dev/null 2>&1
n=$(sed -n 's|^/dev/fd/\([0-9][0-9]*\)$|\1|p' "$STANDIN_DIR/args")
if [ -n "$n" ] && [ "$(grep -vxFf "$tmp/fds-base" "$STANDIN_DIR/fds" | sed 's/\[.*//')" = "$n pipe:" ]; then ok; else
	bad "--output: dtrace gets the trace pipe, not the file" "-o /dev/fd/$n" "$(cat "$STANDIN_DIR/fds")"
fi
"$msign" trace -b 16m -p 4242 2> /dev/null
check "-b and -p" [ "$(tr '\n' ' ' < "$STANDIN_DIR/args" | sed 's|-o [^ ]*|-o F|')" = "-x dynvarsize=16m -x evaltime=preinit -x switchrate=10hz -Z -q -o F -n @program -p 4242 " ]
check "-p: the program follows \$target" grep -q '^/pid == \$target/$' "$STANDIN_DIR/program.d"
"$msign" trace -W Safari 2> /dev/null
check "-W" [ "$(tail -n 2 "$STANDIN_DIR/args" | tr '\n' ' ')" = "-W Safari " ]
"$msign" trace -n du 2> /dev/null
check "-n: no -c/-p, execname in the program" [ "$(grep -A 2 '^syscall:::entry$' "$STANDIN_DIR/program.d" | tail -n 2)" = '/substr(execname, 0, 2) == "du" ||
 execname == substr("du", 0, strlen(execname))/' ]
# a name longer than execname's 16 bytes matches by its start, as in dtruss
"$msign" trace -n com.apple.WebKit.WebContent 2> /dev/null
check "-n: a long name, prefix match" grep -qx '/substr(execname, 0, 27) == "com.apple.WebKit.WebContent" ||' "$STANDIN_DIR/program.d"
check "-n: PID column" grep -q '^/\* msign trace: -l \*/$' "$STANDIN_DIR/program.d"
"$msign" trace -b '4m -x destructive' true 2> /dev/null
status "-b is checked" 2 $?
"$msign" trace -n 'a"b' 2> /dev/null
status "-n is checked" 2 $?
# arguments pass as they are (dtrace -c would split them at white space)
"$msign" trace sh -c "echo \"a b\" > $tmp/ab" 2> /dev/null
status "an argument with spaces: the command's status" 0 $?
check "an argument with spaces: intact" [ "$(cat "$tmp/ab" 2> /dev/null)" = "a b" ]

# the status of msign's own child is its wait status, whatever the D
# program's record says (msign:x 0 here); descriptors msign's caller left
# open (7) are not the command's either
printf 'msign:b\nmsign:x 0\n' > "$tmp/replay-x0"
rm -f "$STANDIN_DIR/target-proc"
STANDIN_REPLAY="$tmp/replay-x0" "$msign" trace sh -c 'exit 7' 2> /dev/null 7< /dev/null
status "sh -c 'exit 7' with msign:x 0: the wait status" 7 $?
check "the command holds 0 1 2 only, not msign's 7" [ "$(tail -n +3 "$STANDIN_DIR/target-proc" 2> /dev/null | tr '\n' ' ')" = "0 1 2 " ]
STANDIN_REPLAY="$tmp/replay-x0" "$msign" trace sh -c 'kill -TERM $$' 2> /dev/null
status "killed by SIGTERM, msign:x 0: 128 + 15" 143 $?
# a signal the caller ignores (nohup) stays ignored in the command
(trap '' HUP; exec "$msign" trace sh -c 'kill -HUP $$; echo alive') > "$tmp/out" 2> /dev/null
status "dtrace, nohup: HUP ignored" 0 $?
check "dtrace, nohup: the command lived on" [ "$(cat "$tmp/out")" = alive ]

# the program: the -t filter, and the options' columns
prog=$STANDIN_DIR/program.d
"$msign" trace -t openat true 2> /dev/null
check "-t: entry probes" grep -qx 'syscall::openat:entry,' "$prog"
check "-t: _nocancel too" grep -qx 'syscall::openat_nocancel:entry' "$prog"
check "-t: the path clause" grep -qF 'copyinstr(self->a1)' "$prog"
check "-t: nothing else traced" [ "$(grep -c 'syscall:::' "$prog")" = 0 ]
check "no -c: no aggregation" [ "$(grep -c '@msign_n' "$prog")" = 0 ]
"$msign" trace -t exec true 2> /dev/null
check "-t exec is execve" grep -qx 'syscall::execve:entry,' "$prog"
"$msign" trace -c -d -e -o -f -s true 2> /dev/null
check "all calls" grep -qx 'syscall:::entry' "$prog"
check "-c: count()" grep -qF '@msign_n[probefunc] = count();' "$prog"
check "-c: printa at END" grep -qF 'printa("msign:n %s %@d\n", @msign_n);' "$prog"
check "-d: RELATIVE" grep -qF '(timestamp - msign_t0) / 1000' "$prog"
check "-e: ELAPSD" grep -qF '(timestamp - self->t) / 1000' "$prog"
check "-o: CPU" grep -qF '(vtimestamp - self->vt) / 1000' "$prog"
check "-f: progenyof" grep -qF 'progenyof($target)' "$prog"
check "-s: ustack" grep -qF 'ustack();' "$prog"
check "records carry the three columns" grep -qF 'printf("msign:c %d %x %s %d %d %x %x %x %x %x %x %d %d %d %d %S\n",' "$prog"
"$msign" trace true 2> /dev/null
check "no options: no column" grep -qF 'printf("msign:c %d %x %s %d %d %x %x %x %x %x %x %d %S\n",' "$prog"
check "no options: no timestamps kept" [ "$(grep -c 'self->t = \|self->vt = \|ustack' "$prog")" = 0 ]

# two-path calls print both paths; the last return clause frees every
# self-> variable; read/write buffers cut at 256 bytes end in "..."
"$msign" trace -t rename true 2> /dev/null
check "-t rename: both paths" grep -qF 'printf("msign:c %d %x %s %d %d %x %x %x %x %x %x %d %S\t1 %S\n",' "$prog"
check "-t rename: copyinstr of both" [ "$(grep -c 'copyinstr(self->a[01])' "$prog")" = 2 ]
"$msign" trace -e -o true 2> /dev/null
check "every self-> variable freed at return" [ "$(sed -n '/^\/self->ok\/$/,/^}$/p' "$prog" | tr -d '\t' | tr '\n' ' ')" = "/self->ok/ { self->ok = 0; self->a0 = 0; self->a1 = 0; self->a2 = 0; self->a3 = 0; self->a4 = 0; self->a5 = 0; self->t = 0; self->vt = 0; } " ]
printf 'msign:b\nmsign:c 9 1 rename 0 0 7f00 7f10 0 0 0 0 0 /tmp/a\\0\t1 /tmp/b c\\0\nmsign:c 9 1 linkat 0 0 3 7f00 4 7f10 0 0 1 x\t3 y\nmsign:c 9 1 read_nocancel 0 300 3 7f00 1000 0 0 0 1 abc\nmsign:c 9 1 write 0 6 1 7f00 6 0 0 0 1 hello\\n\nmsign:x 0\n' > "$tmp/replay-two"
STANDIN_REPLAY="$tmp/replay-two" "$msign" trace --output "$tmp/got" true 2> /dev/null
printf '%s\n' "SYSCALL(args) $tab$tab = return" "rename(\"/tmp/a\\0\", \"/tmp/b c\\0\", 0x0)$tab$tab = 0 0" \
	"linkat(0x3, \"x\\0\", 0x4, \"y\\0\", 0x0, 0x0)$tab$tab = 0 0" \
	"read_nocancel(0x3, \"abc\"..., 0x1000)$tab$tab = 300 0" "write(0x1, \"hello\\n\", 0x6)$tab$tab = 6 0" > "$tmp/want"
if cmp -s "$tmp/want" "$tmp/got"; then ok; else bad "replay: two paths, the cut marker" "$(diff "$tmp/want" "$tmp/got")"; fi

# recorded dtrace output, formatted byte for byte (the command exits 7,
# as the records' msign:x says)
for c in spec all; do
	opts=
	[ $c = all ] && opts="-c -d -e -o -l -s"
	# shellcheck disable=SC2086
	STANDIN_REPLAY="$here/replay-$c.txt" STANDIN_STDERR="$here/dtrace-messages.txt" \
		"$msign" trace $opts --output "$tmp/got" sh -c 'exit 7' 2> "$tmp/err"
	status "replay $c: the command's status" 7 $?
	if cmp -s "$here/expected-$c.txt" "$tmp/got"; then ok; else
		bad "replay $c formatting" "$(diff "$here/expected-$c.txt" "$tmp/got" | head -n 12)"
	fi
	if cmp -s "$here/dtrace-messages.txt" "$tmp/err"; then ok; else
		bad "replay $c: dtrace's messages pass through" "$(diff "$here/dtrace-messages.txt" "$tmp/err" | head)"
	fi
done

# a process msign did not start (-p; PID 2147483647 is no process): its
# status is proc:::exited's wait status (15: SIGTERM; 0x8b: SIGSEGV with
# a core), as a shell says it; dtrace itself exits 0
printf 'msign:b\nmsign:c 9 1 getpid 0 9 0 0 0 0 0 0 -1\nmsign:x 15\n' > "$tmp/replay-sig"
STANDIN_REPLAY="$tmp/replay-sig" "$msign" trace -p 2147483647 2> "$tmp/err"
status "replay: killed by SIGTERM" 143 $?
check "replay: killed by SIGTERM, the trace" [ "$(tail -n 1 "$tmp/err")" = "getpid(0x0, 0x0, 0x0)$tab$tab = 9 0" ]
printf 'msign:b\nmsign:x 139\n' > "$tmp/replay-sig"
STANDIN_REPLAY="$tmp/replay-sig" "$msign" trace -p 2147483647 2> "$tmp/err"
status "replay: SIGSEGV, core dumped" 139 $?
check "replay: SIGSEGV, no complaint" [ "$(cat "$tmp/err")" = "SYSCALL(args) $tab$tab = return" ]

# no root: dtrace fails before BEGIN, so the command, started stopped,
# never runs (no side effect) and is gone (killed and reaped by msign)
rm -f "$tmp/side" "$STANDIN_DIR/target-proc"
STANDIN_MODE=noroot "$msign" trace sh -c ": noroot-4711; echo ran > $tmp/side" 2> "$tmp/err"
status "no root" 1 $?
check "no root: dtrace's message" grep -q 'DTrace requires additional privileges' "$tmp/err"
check "no root: says so" grep -q '^msign trace: dtrace needs root' "$tmp/err"
check "no root: the command was there, stopped" [ "$(head -n 1 "$STANDIN_DIR/target-proc" 2> /dev/null)" = T ]
check "no root: the command never ran" [ ! -e "$tmp/side" ]
# (the pattern does not match grep's own command line)
check "no root: no process left" [ -z "$(grep -l 'noroot-471[1]' /proc/[0-9]*/cmdline 2> /dev/null)" ]

# dtrace fails before BEGIN for a reason msign does not know: its status
# (3), not that of the command msign killed unstarted (137)
rm -f "$tmp/side"
STANDIN_MODE=fail "$msign" trace sh -c "echo ran > $tmp/side" 2> "$tmp/err"
status "dtrace fails before BEGIN: dtrace's status" 3 $?
check "dtrace fails before BEGIN: its message, nothing else" [ "$(cat "$tmp/err")" = "dtrace: failed to compile script: something msign does not know" ]
check "dtrace fails before BEGIN: the command never ran" [ ! -e "$tmp/side" ]

# msign started with stdin, stdout and stderr closed: the trace pipe does
# not take number 2 (dtrace's stderr), the command runs, traced
rm -f "$tmp/side"
sh -c 'exec "$0" trace --output "$1" sh -c "echo ran > $2" <&- >&- 2>&-' "$msign" "$tmp/closed.tr" "$tmp/side"
status "0, 1, 2 closed: the command's status" 0 $?
check "0, 1, 2 closed: the command ran" [ "$(cat "$tmp/side" 2> /dev/null)" = ran ]
check "0, 1, 2 closed: the trace's header" [ "$(head -n 1 "$tmp/closed.tr")" = "SYSCALL(args) $tab$tab = return" ]

# msign killed (SIGKILL, nothing to catch) while the command waits,
# stopped, for BEGIN: the command dies with it (Linux: PR_SET_PDEATHSIG),
# never run, rather than stay stopped or run on untraced
rm -f "$tmp/side" "$STANDIN_DIR/ppid"
STANDIN_MODE=slow "$msign" trace sh -c "echo ran > $tmp/side" 2> /dev/null &
i=0
while [ $i -lt 200 ] && [ ! -s "$STANDIN_DIR/ppid" ]; do sleep 0.02; i=$((i + 1)); done
read -r kmp kcp < "$STANDIN_DIR/ppid"
kill -KILL "$kmp"
wait $! 2> /dev/null
# (gone, or a zombie its new parent has not reaped yet)
alive() { s=$(sed 's/.*) //' "/proc/$1/stat" 2> /dev/null | cut -d' ' -f1); [ -n "$s" ] && [ "$s" != Z ]; }
dead() { ! alive "$1"; }
i=0
while [ $i -lt 100 ] && alive "$kcp"; do sleep 0.02; i=$((i + 1)); done
check "msign killed: the stopped command is gone" dead "$kcp"
check "msign killed: the command never ran" [ ! -e "$tmp/side" ]

# dtrace ending (status 0) before BEGIN: one line, exit 1, not run; and
# a command continued from outside (kill -CONT) that ends before BEGIN:
# one line, its own status (it ran, untraced)
rm -f "$tmp/side"
STANDIN_MODE=slow STANDIN_SLOW=0 "$msign" trace sh -c "echo ran > $tmp/side" 2> "$tmp/err"
status "dtrace ends, status 0, before BEGIN" 1 $?
check "dtrace ends, status 0, before BEGIN: one line, not run" [ "$(cat "$tmp/err")" = "msign trace: dtrace ended before the trace began: $shbin was not run" ] && [ ! -e "$tmp/side" ]
rm -f "$STANDIN_DIR/ppid"
STANDIN_MODE=slow STANDIN_SLOW=1 "$msign" trace sh -c "exit 5" 2> "$tmp/err" &
mp=$!
i=0
while [ $i -lt 200 ] && [ ! -s "$STANDIN_DIR/ppid" ]; do sleep 0.02; i=$((i + 1)); done
read -r _ kcp < "$STANDIN_DIR/ppid"
kill -CONT "$kcp"
wait $mp
status "continued from outside: its own status" 5 $?
check "continued from outside: one line" [ "$(cat "$tmp/err")" = "msign trace: $shbin ran and ended before the trace began (continued from outside), untraced" ]

# dtrace ending after BEGIN but before the command: the command is killed
# (never left running untraced, msign never deaf to signals), one line,
# dtrace's status (STANDIN_MODE=quit: BEGIN, then exit 4 at once)
rm -f "$tmp/side"
STANDIN_MODE=quit "$msign" trace sh -c "sleep 5; echo ran > $tmp/side" 2> "$tmp/err"
status "dtrace ends first: dtrace's status" 4 $?
check "dtrace ends first: one line" [ "$(grep '^msign trace:' "$tmp/err")" = "msign trace: dtrace ended before $shbin did, which was killed (as dtrace kills a command it started)" ]
sleep 0.1
check "dtrace ends first: no command left" [ -z "$(pgrep -f "sleep 5; echo ran > $tmp/side")" ]
check "dtrace ends first: it never finished" [ ! -e "$tmp/side" ]

# dtrace -p refusing msign's own child, for any reason: a refusal, said
# as one (the grab of a live, stopped child of msign's fails only so)
STANDIN_MODE=grabdeny "$msign" trace "$truebin" 2> "$tmp/err"
status "own child not grabbed: refused" 1 $?
l2=$(sed -n 2p "$tmp/err")
check "own child not grabbed: dtrace's line, then msign's" [ "$(wc -l < "$tmp/err")" = 2 ] && [ "${l2#"msign trace: dtrace may not trace $truebin, "}" != "$l2" ]

# Ctrl-C (SIGINT to the whole process group, as a terminal sends it) while
# tracing: the command, resumed at dtrace's BEGIN, ends too; exit 130
rm -f "$STANDIN_DIR/ppid"
STANDIN_MODE=sleep setsid -w env --default-signal=INT "$msign" trace sleep 9.613 2> /dev/null &
sp=$!
i=0
while [ $i -lt 200 ] && [ ! -s "$STANDIN_DIR/ppid" ]; do sleep 0.02; i=$((i + 1)); done
mp=$(cat "$STANDIN_DIR/ppid" 2> /dev/null)
cp=$(tail -n 1 "$STANDIN_DIR/args")
st=
i=0
while [ $i -lt 200 ]; do
	{ read -r l < "/proc/$cp/stat"; } 2> /dev/null && st=${l##*) } && st=${st%% *}
	[ -n "$st" ] && [ "$st" != T ] && break
	sleep 0.02
	i=$((i + 1))
done
check "Ctrl-C: the command ran (resumed) while traced" [ "$st" = S ] || [ "$st" = R ]
[ -n "$mp" ] && kill -INT "-$mp"
wait $sp
status "Ctrl-C: 128 + SIGINT" 130 $?
# SIGQUIT sent to msign alone ends it too (128 + 3), the command with it
rm -f "$STANDIN_DIR/ppid"
STANDIN_MODE=sleep env --default-signal=QUIT "$msign" trace sleep 7.31 2> /dev/null &
qp=$!
i=0
while [ $i -lt 200 ] && [ ! -s "$STANDIN_DIR/ppid" ]; do sleep 0.02; i=$((i + 1)); done
kill -QUIT $qp
wait $qp
status "SIGQUIT: 128 + SIGQUIT" 131 $?
check "SIGQUIT: the command is gone" [ -z "$(pgrep -f 'sleep 7[.]31')" ]
check "Ctrl-C: the command is gone" [ ! -e "/proc/$cp" ]
check "Ctrl-C: no sleep left" [ -z "$(grep -l 'sleep.9[.]613' /proc/[0-9]*/cmdline 2> /dev/null)" ]

# --unsign on a signed universal Mach-O
cp "$root/fixtures/universal" "$tmp/hello"
chmod 755 "$tmp/hello"
rm -f "$STANDIN_DIR/target"
"$msign" trace "$tmp/hello" 2> "$tmp/err"
status "signed, no --unsign" 1 $?
check "no --unsign: dtrace's refusal" grep -q 'failed to execute .*hello: Operation not permitted' "$tmp/err"
check "no --unsign: one message naming --unsign" [ "$(grep -c '^msign trace: .*--unsign' "$tmp/err")" = 1 ]
STANDIN_REPLAY="$here/replay-spec.txt" "$msign" trace --unsign "$tmp/hello" 2> "$tmp/err"
status "--unsign: the command's status" 7 $?
copy=$(head -n 1 "$STANDIN_DIR/target")
check "--unsign: dtrace ran a copy in a fresh folder" expr "$copy" : "$TMPDIR/msign-trace\.[^/]*/hello\$" > /dev/null
check "--unsign: the copy had no signature" [ "$(sed -n 2p "$STANDIN_DIR/target")" = "$copy: code object is not signed at all" ]
check "--unsign: the copy is gone" [ ! -e "$copy" ]
check "--unsign: the refusal is not shown" [ "$(grep -c 'Operation not permitted' "$tmp/err")" = 0 ]
check "--unsign: traced" grep -q '^getpid(0x0, 0x0, 0x0)' "$tmp/err"
check "--unsign: the original is untouched" cmp -s "$root/fixtures/universal" "$tmp/hello"
no_leftovers "--unsign"

# --unsign's folder only in a TMPDIR others cannot rename it out of: one
# that others may write needs the sticky bit
mkdir -p "$tmp/open" "$tmp/sticky"
chmod 777 "$tmp/open"
chmod 1777 "$tmp/sticky"
TMPDIR="$tmp/open" STANDIN_REPLAY="$here/replay-spec.txt" "$msign" trace --unsign "$tmp/hello" 2> "$tmp/err"
status "--unsign, TMPDIR others may write" 1 $?
check "--unsign, TMPDIR others may write: one line" [ "$(cat "$tmp/err")" = "msign trace: TMPDIR $tmp/open: $tmp/open may be written by others and is not sticky, so msign's folder there could be swapped; set TMPDIR to a private folder" ]
check "--unsign, TMPDIR others may write: nothing made there" [ -z "$(ls -A "$tmp/open")" ]
# ... and every folder above it: a private TMPDIR in that open folder is
# no better (the open folder's users can rename it away)
mkdir -m 700 "$tmp/open/mine"
TMPDIR="$tmp/open/mine" STANDIN_REPLAY="$here/replay-spec.txt" "$msign" trace --unsign "$tmp/hello" 2> "$tmp/err"
status "--unsign, TMPDIR in a folder others may write" 1 $?
check "--unsign, TMPDIR in a folder others may write: one line" [ "$(cat "$tmp/err")" = "msign trace: TMPDIR $tmp/open/mine: $tmp/open may be written by others and is not sticky, so msign's folder there could be swapped; set TMPDIR to a private folder" ]
check "--unsign, TMPDIR in a folder others may write: nothing made" [ -z "$(ls -A "$tmp/open/mine")" ]
rmdir "$tmp/open/mine"
TMPDIR="$tmp/sticky" STANDIN_REPLAY="$here/replay-spec.txt" "$msign" trace --unsign "$tmp/hello" 2> /dev/null
status "--unsign, sticky TMPDIR" 7 $?
check "--unsign, sticky TMPDIR: folder and copy gone" [ -z "$(ls -A "$tmp/sticky")" ]

# --unsign and Ctrl-C: the copy goes too
rm -f "$STANDIN_DIR/target"
# (a command started with & begins with SIGINT ignored, which msign keeps,
# as it must for nohup: give it the default back, as a terminal's job has)
STANDIN_MODE=sleep env --default-signal=INT "$msign" trace --unsign "$tmp/hello" 2> "$tmp/err" &
mp=$!
i=0
while [ $i -lt 100 ] && ! grep -q 'not signed' "$STANDIN_DIR/target" 2> /dev/null; do
	sleep 0.05
	i=$((i + 1))
done
copy=$(head -n 1 "$STANDIN_DIR/target" 2> /dev/null)
check "Ctrl-C: the copy existed while tracing" [ -n "$copy" ] && [ -e "$copy" ]
kill -INT $mp
wait $mp
status "Ctrl-C: 128 + SIGINT" 130 $?
check "Ctrl-C: the copy is gone" [ -n "$copy" ] && [ ! -e "$copy" ]
no_leftovers "Ctrl-C"

# a signal sent to msign goes on to dtrace before msign reaps it, never
# after (the PID could be another process's by then): msign's own kill and
# wait4 calls, recorded by strace, with SIGTERM sent twice
if command -v strace > /dev/null 2>&1; then
	rm -f "$STANDIN_DIR/ppid"
	# (LeakSanitizer cannot run under ptrace: off for this one, under SAN=1)
	STANDIN_MODE=sleep ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
		env --default-signal=TERM strace -f -qq -e trace=kill,wait4 -e signal=none \
		-o "$tmp/sig.log" "$msign" trace true 2> /dev/null &
	sp=$!
	i=0
	while [ $i -lt 200 ] && [ ! -s "$STANDIN_DIR/ppid" ]; do sleep 0.02; i=$((i + 1)); done
	mp=$(cat "$STANDIN_DIR/ppid" 2> /dev/null)
	[ -n "$mp" ] && kill -TERM "$mp" && kill -TERM "$mp" 2> /dev/null
	wait $sp
	status "SIGTERM to msign under strace: 128 + SIGTERM" 143 $?
	# msign under strace -f may not ptrace its child: dtrace -c instead
	check "under strace: PTRACE_TRACEME refused, dtrace -c" [ "$(tail -n 2 "$STANDIN_DIR/args" | head -n 1)" = -c ]
	# kill(P, ...) by msign after a wait4 of msign's returned P
	late=$(awk -v m="$mp" '$1 != m { next }
		/wait4\(|<\.\.\. wait4 resumed>/ && $NF ~ /^[0-9]+$/ && $NF > 0 { reaped[$NF] = 1 }
		/ kill\(/ { p = $2; sub(/^kill\(/, "", p); sub(/,.*/, "", p); if (p in reaped) print }
		/ kill\(/ { k++ } END { if (k == 0) print "no kill at all" }' "$tmp/sig.log")
	if [ -n "$mp" ] && [ -z "$late" ]; then ok; else bad "a signal to a reaped PID" "$late" "$(grep "^$mp " "$tmp/sig.log" | head -n 8)"; fi
	no_leftovers "signals under strace"
fi

# --unsign on Apple Silicon (MSIGN_HOST_ARCH=arm64 and the host hooks play
# one): Apple's programs are universal x86_64 + arm64e (cpusubtype
# 0x80000002, pointer-auth ABI version 0), built here from the fixtures
# with llvm-lipo; the copy dtrace is given is kept by the stand-in
# (STANDIN_KEEP) and read with llvm-lipo, llvm-otool and msign verify
lipo=$(command -v llvm-lipo-14 || command -v llvm-lipo || true)
otool=$(command -v llvm-otool-14 || command -v llvm-otool || true)
if [ -z "$lipo" ] || [ -z "$otool" ]; then
	bad "llvm-lipo / llvm-otool not found: the Apple Silicon --unsign checks need them (sh tools/deps.sh test)"
else
	mkdir -p "$tmp/as"
	"$lipo" -create "$root/fixtures/hello_x86_64" "$root/fixtures/hello_arm64e" -output "$tmp/as/hello"
	chmod 755 "$tmp/as/hello"
	cp "$tmp/as/hello" "$tmp/as/hello.orig"
	check "the universal fixture: x86_64 and arm64e" [ "$("$lipo" -info "$tmp/as/hello" | sed 's/.*: //')" = "x86_64 arm64e " ]
	kept=$tmp/as/kept
	# (otool -f/-h: one "cputype cpusubtype capabilities" line a slice)
	slices() { "$otool" -f "$1" | awk '/cputype/ {t=$2} /cpusubtype/ {s=$2} /capabilities/ {print t, s, $2}'; }
	header() { "$otool" -h "$1" | awk 'NR == 3 {print $2, $3, $4}'; }
	as() { MSIGN_HOST_ARCH=arm64 MSIGN_HOST_TRANSLATED=0 MSIGN_HOST_BOOTARGS=${bootargs-} STANDIN_KEEP=$kept "$@"; }

	# no boot-arg: a thin arm64 copy of the arm64e code, subtype 0
	rm -f "$kept"
	bootargs="debug=0x100" as env STANDIN_REPLAY="$here/replay-spec.txt" "$msign" trace --unsign "$tmp/as/hello" 2> "$tmp/err"
	status "Apple Silicon: the command's status" 7 $?
	check "Apple Silicon: one note on the copy" [ "$(grep -c '^msign trace:' "$tmp/err")" = 1 ] &&
		grep -qx "msign trace: tracing a copy of $tmp/as/hello made of its arm64e slice marked plain arm64: this Mac runs arm64e code of Apple's preview ABI only in platform binaries or with -arm64e_preview_abi" "$tmp/err"
	check "Apple Silicon: traced" grep -q '^getpid(0x0, 0x0, 0x0)' "$tmp/err"
	check "Apple Silicon: the copy is thin arm64" [ "$("$lipo" -info "$kept" 2>&1)" = "Non-fat file: $kept is architecture: arm64 " ]
	check "Apple Silicon: cputype 0x100000c, cpusubtype 0, no capability bits" [ "$(header "$kept")" = "16777228 0 0x00" ]
	"$msign" verify "$kept" 2> "$tmp/verr"
	status "Apple Silicon: the copy verifies" 0 $?
	check "Apple Silicon: the copy is signed ad hoc" sh -c "'$msign' show -v '$kept' 2>&1 | grep -q '^Signature=adhoc\$'"
	copy=$(head -n 1 "$STANDIN_DIR/target")
	check "Apple Silicon: dtrace ran the copy in a fresh folder" expr "$copy" : "$TMPDIR/msign-trace\.[^/]*/hello\$" > /dev/null
	check "Apple Silicon: the copy is gone" [ ! -e "$copy" ]
	check "Apple Silicon: the original is untouched" cmp -s "$tmp/as/hello" "$tmp/as/hello.orig"
	no_leftovers "Apple Silicon"

	# a universal file with a plain arm64 slice: that slice, as it is
	rm -f "$kept"
	as env STANDIN_REPLAY="$here/replay-spec.txt" "$msign" trace --unsign "$tmp/hello" 2> "$tmp/err"
	status "Apple Silicon, x86_64 + arm64" 7 $?
	check "Apple Silicon, x86_64 + arm64: the note" grep -qx "msign trace: tracing a copy of $tmp/hello made of its arm64 slice" "$tmp/err"
	check "Apple Silicon, x86_64 + arm64: thin arm64, subtype 0" [ "$(header "$kept")" = "16777228 0 0x00" ]
	"$msign" verify "$kept" 2> /dev/null
	status "Apple Silicon, x86_64 + arm64: verifies" 0 $?
	no_leftovers "Apple Silicon, x86_64 + arm64"

	# the boot-arg: the arm64e code as it is, every slice kept
	rm -f "$kept"
	bootargs="-v -arm64e_preview_abi" as env STANDIN_REPLAY="$here/replay-spec.txt" "$msign" trace --unsign "$tmp/as/hello" 2> "$tmp/err"
	status "boot-arg: the command's status" 7 $?
	check "boot-arg: no note" [ "$(grep -c '^msign trace:' "$tmp/err")" = 0 ]
	printf '%s\n' "16777223 3 0x80" "16777228 2 0x80" > "$tmp/want"
	slices "$kept" > "$tmp/got"
	if cmp -s "$tmp/want" "$tmp/got"; then ok; else bad "boot-arg: the copy keeps x86_64 and arm64e (0x80000002)" "$(diff "$tmp/want" "$tmp/got")"; fi
	"$msign" verify -a arm64e "$kept" 2> /dev/null
	status "boot-arg: the arm64e slice verifies" 0 $?
	"$msign" verify -a x86_64 "$kept" 2> "$tmp/verr"
	status "boot-arg: the x86_64 slice stays unsigned" 1 $?
	check "boot-arg: ... not signed at all" grep -q 'not signed at all' "$tmp/verr"
	no_leftovers "boot-arg"

	# an Intel Mac: the copy as before, both slices, arm64e untouched
	rm -f "$kept"
	MSIGN_HOST_ARCH=x86_64 STANDIN_KEEP=$kept STANDIN_REPLAY="$here/replay-spec.txt" "$msign" trace --unsign "$tmp/as/hello" 2> "$tmp/err"
	status "Intel: the command's status" 7 $?
	slices "$kept" > "$tmp/got"
	if cmp -s "$tmp/want" "$tmp/got"; then ok; else bad "Intel: the copy keeps x86_64 and arm64e" "$(diff "$tmp/want" "$tmp/got")"; fi
	check "Intel: no note" [ "$(grep -c '^msign trace:' "$tmp/err")" = 0 ]
	no_leftovers "Intel"

	# dtrace refuses even the arm64 copy: one line naming what is left
	STANDIN_MODE=deny as "$msign" trace --unsign "$tmp/as/hello" 2> "$tmp/err"
	status "the arm64 copy refused" 1 $?
	check "the arm64 copy refused: the boot-arg or csrutil" [ "$(grep '^msign trace: dtrace' "$tmp/err")" = "msign trace: dtrace refused even the arm64 copy of $tmp/as/hello; with -arm64e_preview_abi in the boot-args (sudo nvram boot-args=-arm64e_preview_abi, which Apple Silicon takes only with Reduced Security set in Recovery) msign traces an arm64e copy instead, or csrutil enable --without dtrace (from Recovery) lets dtrace trace the original" ]
	no_leftovers "the arm64 copy refused"

	# x86_64 only: Rosetta, where dtrace -c does not trace; by PID on
	# macOS only, so here one line, dtrace not run, nothing made
	cp "$root/fixtures/hello_x86_64" "$tmp/as/x86"
	chmod 755 "$tmp/as/x86"
	rm -f "$STANDIN_DIR/args"
	as "$msign" trace --unsign "$tmp/as/x86" > "$tmp/out" 2> "$tmp/err"
	status "x86_64 only on Apple Silicon, Linux" 1 $?
	check "x86_64 only: one line" [ "$(cat "$tmp/err")" = "msign trace: $tmp/as/x86 has only x86_64 code, which an Apple Silicon Mac runs under Rosetta, and dtrace -c does not trace a translated process: msign starts it suspended and traces its PID, which needs macOS" ]
	check "x86_64 only: dtrace not run" [ ! -e "$STANDIN_DIR/args" ]
	no_leftovers "x86_64 only"

	# msign under Rosetta: dtrace would be translated too
	MSIGN_HOST_ARCH=arm64 MSIGN_HOST_TRANSLATED=1 "$msign" trace --unsign "$tmp/as/hello" 2> "$tmp/err"
	status "Rosetta" 1 $?
	check "Rosetta: one line" [ "$(cat "$tmp/err")" = "msign trace: this msign runs under Rosetta, and the dtrace and copy it starts would too: trace $tmp/as/hello with an arm64 build of msign" ]
	check "Rosetta: dtrace not run" [ ! -e "$STANDIN_DIR/args" ]

	# no code this Mac runs (ppc64): one line, csrutil
	python3 -c 'import sys; d = bytearray(open(sys.argv[1], "rb").read()); d[4:12] = bytes.fromhex("1200000100000000"); open(sys.argv[2], "wb").write(d)' \
		"$root/fixtures/hello_x86_64" "$tmp/as/ppc"
	chmod 755 "$tmp/as/ppc"
	as "$msign" trace --unsign "$tmp/as/ppc" 2> "$tmp/err"
	status "no runnable slice" 1 $?
	check "no runnable slice: one line" [ "$(cat "$tmp/err")" = "msign trace: $tmp/as/ppc has no arm64, arm64e or x86_64 code, so no copy of it runs on this Mac; only csrutil enable --without dtrace (from Recovery) lets dtrace trace the original" ]
	check "no runnable slice: dtrace not run" [ ! -e "$STANDIN_DIR/args" ]
	no_leftovers "no runnable slice"
fi

# Every D program the runs above generated compiles with a real D compiler
# (shared/tools/dtrace-compile: libdtrace, no macOS probe list), in one
# dtrace process (`check FIRST -n SECOND -n ...`); only when that fails is
# each one compiled alone, to name it. $MSIGN_TOOLS, else ../shared/tools
# beside the repository, else /work/shared/tools; missing: a skip line,
# a failure under CI=true.
if [ -n "${MSIGN_TOOLS:-}" ]; then tools=$MSIGN_TOOLS
elif [ -d ../shared/tools ]; then tools=$(cd ../shared/tools && pwd)
else tools=/work/shared/tools
fi
dcheck=$tools/dtrace-compile/check
# one file per distinct program (the stand-in saved one per run)
cksum "$STANDIN_DIR"/programs/*.d | sort -k1,2 -u | while read -r _ _ p; do printf '%s\n' "$p"; done > "$tmp/progs"
nprog=$(wc -l < "$tmp/progs")
if [ "${TRACE_D_CHECK:-yes}" = no ]; then
	echo "trace: the $nprog D programs are compiled in the plain round (TRACE_D_CHECK=no)"
elif [ ! -x "$dcheck" ]; then
	if [ "${CI:-}" = true ]; then
		bad "no D compiler at $dcheck (CI=true needs it; set MSIGN_TOOLS)"
	else
		echo "trace: skipped, no D compiler at $dcheck (set MSIGN_TOOLS): compiling the $nprog D programs"
	fi
elif [ "$nprog" -lt 5 ]; then
	bad "D programs: only $nprog recorded by the stand-in"
else
	set --
	first=
	while read -r p; do
		if [ -z "$first" ]; then first=$p; else set -- "$@" -n "$(cat "$p")"; fi
	done < "$tmp/progs"
	if "$dcheck" "$first" "$@" > /dev/null 2> "$tmp/dc"; then ok; else
		while read -r p; do
			"$dcheck" "$p" < /dev/null > /dev/null 2> "$tmp/dc1" ||
				bad "D compiler rejects the program of '$(head -n 1 "$p")'" "$(sed 's/.*: in /in /' "$tmp/dc1" | tail -n 1)"
		done < "$tmp/progs"
		grep -q 'error while loading shared libraries' "$tmp/dc" &&
			bad "D compiler cannot start: $(head -n 1 "$tmp/dc") (sh tools/deps.sh test installs libelf1 zlib1g)"
	fi
fi

[ $((pass + fail)) -gt 0 ] || bad "trace: no check ran"
echo "trace: $pass passed, $fail failed"
[ $fail = 0 ]
