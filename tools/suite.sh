#!/bin/sh
# make check's runner: one suite (or build step) at a time, with a start
# line, a heartbeat every 15 s, and the count kept in $CHECK_TALLY.
#   sh tools/suite.sh NAME COMMAND...        a suite: passes only when it
#       exits 0 and its last line is "WORD: N passed, N failed" with N
#       passed > 0 (WORD: one word, e.g. "sign:"); otherwise it counts as
#       failed, so a suite that stops early or checks nothing cannot pass.
#   sh tools/suite.sh --step NAME COMMAND... a step with no checks (builds)
#   sh tools/suite.sh --total                the table of CPU seconds, then
#       "check: N passed, N failed" over every suite, as the last line.
set -u
tally=${CHECK_TALLY:-build/check.tally}
step=false
if [ "${1:-}" = --total ]; then
	[ -s "$tally" ] || { echo "check: no suite ran"; echo "check: 0 passed, 1 failed"; exit 1; }
	echo "check: CPU seconds (user+sys) and wall seconds per suite:"
	awk '$6 == "step" { printf "  %-34s %26s %7.1f cpu %5d wall\n", $1, $3 ? "FAILED" : "(build)", $4, $5 }
	     $6 != "step" { printf "  %-34s %7d passed %4d failed %7.1f cpu %5d wall\n", $1, $2, $3, $4, $5 }
	     { p += $2; f += $3; c += $4; w += $5 }
	     END { printf "  %-34s %7d passed %4d failed %7.1f cpu %5d wall\n", "total", p, f, c, w
	           printf "check: %d passed, %d failed\n", p, f
	           exit (f > 0 || p == 0) }' "$tally"
	exit $?
fi
if [ "${1:-}" = --step ]; then step=true; shift; fi
name=$1; shift
mkdir -p "$(dirname "$tally")"
out=$(mktemp) rcf=$(mktemp) tf=$(mktemp)
echo "== $name: start"
t0=$(date +%s)
(
	i=0
	while sleep 15; do i=$((i + 15)); echo "== $name: still running, ${i} s"; done
) &
hb=$!
# times: the CPU the command's processes used (second line: children).
{ "$@" 2>&1; echo $? > "$rcf"; times > "$tf"; } | tee "$out"
kill "$hb" 2>/dev/null
wait "$hb" 2>/dev/null
rc=$(cat "$rcf")
wall=$(($(date +%s) - t0))
cpu=$(sed -n 2p "$tf" | awk '{ s = 0; for (i = 1; i <= 2; i++) { split($i, a, "m"); s += a[1] * 60 + a[2] } printf "%.1f", s }')
# make's own "make[1]: *** [...] Error 1" after a failed suite is not the
# suite's last line
last=$(grep -Ev '^g?make(\[[0-9]+\])?: \*\*\* ' "$out" | tail -n 1)
rm -f "$out" "$rcf" "$tf"
if $step; then
	echo "== $name: exit $rc (${cpu} s CPU, ${wall} s wall)"
	echo "$name 0 $([ "$rc" = 0 ] && echo 0 || echo 1) $cpu $wall step" >> "$tally"
	exit "$rc"
fi
p=$(printf '%s\n' "$last" | sed -n 's/^[^ ]*: \([0-9][0-9]*\) passed, \([0-9][0-9]*\) failed$/\1/p')
f=$(printf '%s\n' "$last" | sed -n 's/^[^ ]*: \([0-9][0-9]*\) passed, \([0-9][0-9]*\) failed$/\2/p')
why=""
if [ -z "$p" ]; then why="its last line is not 'NAME: N passed, N failed'"; p=0 f=1
elif [ "$rc" != 0 ] && [ "$f" = 0 ]; then why="exit $rc with 0 failed"; f=1
elif [ "$p" = 0 ] && [ "$f" = 0 ]; then why="it ran no check"; f=1
fi
echo "$name $p $f $cpu $wall" >> "$tally"
if [ -n "$why" ]; then
	echo "== $name: FAILED ($why); ${cpu} s CPU, ${wall} s wall"
	exit 1
fi
echo "== $name: $p passed, $f failed (${cpu} s CPU, ${wall} s wall)"
[ "$f" = 0 ]
