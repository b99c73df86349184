#!/bin/sh
# make check's two lanes, run at the same time on the two cores: the plain
# build and suites (then PLAIN_SUITES), and the ASan + UBSan build and
# suites. Each suite's whole output goes to its lane's log; the terminal
# gets each suite's start, heartbeat and result lines, prefixed by the
# lane. A failed suite's output is printed in full at the end.
#   sh tools/check.sh MAKE "SUITES" "PLAIN_SUITES"
# The tally ($CHECK_TALLY) gets both lanes' lines; the total comes last.
set -u
make=$1 suites=$2 plain_suites=$3
dir=$(dirname "$CHECK_TALLY")
mkdir -p "$dir"
plain_log=$dir/check-plain.log asan_log=$dir/check-asan.log

lane_plain() {
	fail=0
	sh tools/suite.sh --step build $make -s -j2 test-bins || fail=1
	for s in $suites $plain_suites; do
		sh tools/suite.sh "$s" $make -s --no-print-directory "$s" || fail=1
	done
	return $fail
}
lane_asan() {
	fail=0
	sh tools/suite.sh --step asan/build $make -s -j2 SAN=1 test-bins || fail=1
	for s in $suites; do
		sh tools/suite.sh "asan/$s" $make -s --no-print-directory SAN=1 "$s" || fail=1
	done
	return $fail
}
# The terminal shows a lane's "== " lines as they come.
show() { grep --line-buffered '^== ' | sed -u "s/^== /== [$1] /"; }

rcdir=$(mktemp -d)
trap 'rm -rf "$rcdir"' EXIT
# Ctrl-C: the lanes are background jobs, which a shell starts with SIGINT
# ignored; end them (and everything they started) with SIGTERM.
trap 'trap - INT TERM; kill 0 2>/dev/null; exit 130' INT TERM
{ lane_plain > "$plain_log" 2>&1; echo $? > "$rcdir/plain"; } &
p1=$!
{ lane_asan > "$asan_log" 2>&1; echo $? > "$rcdir/asan"; } &
p2=$!
# Follow both logs until their lane is done (GNU tail's --pid: it prints
# what is left and ends when the lane's process has).
tail -n +1 -F --pid="$p1" "$plain_log" 2>/dev/null | show plain &
tail -n +1 -F --pid="$p2" "$asan_log" 2>/dev/null | show asan &
wait
fail=0
for lane in plain asan; do
	rc=$(cat "$rcdir/$lane" 2>/dev/null || echo 1)
	[ "$rc" = 0 ] && continue
	fail=1
	log=$dir/check-$lane.log
	echo "== $lane lane failed; the failed suites' output ($log):"
	# Each failed suite's block: from its start line to its result line.
	awk '/^== .*: start$/ { buf = ""; name = $2 }
	     { buf = buf $0 "\n" }
	     /^== .*: (FAILED|exit [1-9])/ || (/^== .*: [0-9]+ passed, [0-9]+ failed/ && !/ 0 failed/) { printf "%s", buf; buf = "" }' "$log"
done
sh tools/suite.sh --total || fail=1
exit $fail
