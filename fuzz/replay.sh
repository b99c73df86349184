#!/bin/sh
# make fuzz-replay: every replay driver given runs its fuzzing corpus as
# is and the fixtures mutated (fuzz/replay_main.c), progress shown live.
#   sh fuzz/replay.sh JOBS BUDGET build/fuzz/fuzz_*-replay
# Ends with "fuzz-replay: N passed, N failed" (N passed: inputs run
# without a crash, all drivers); non-zero on a crash or when nothing ran.
set -u
jobs=$1 budget=$2
shift 2
log=$(mktemp)
trap 'rm -f "$log"' EXIT
p=0 f=0
for t in "$@"; do
	n=$(basename "$t" -replay); n=${n#fuzz_}
	# fuzz_csreq reads text: a mutated Mach-O fixture fails at its first
	# byte, so its own seed texts are the ones mutated.
	set_args="--plain fuzz/corpus/$n --mutate fixtures"
	[ "$n" = csreq ] && set_args="--mutate fuzz/corpus/$n"
	# fuzz_bundle builds a tree on disk per run: its seeds as they are
	# only (~0.1 s; a mutated Mach-O fixture is no record stream, and the
	# mutations of its own seeds would spend the whole budget).
	[ "$n" = bundle ] && set_args="--plain fuzz/corpus/$n"
	# shellcheck disable=SC2086
	{ "$t" --jobs "$jobs" --budget "$budget" $set_args
	  echo "rc $?"; } | tee "$log" | grep -v '^rc [0-9]*$'
	last=$(grep -v '^rc ' "$log" | tail -n 1)
	tp=$(echo "$last" | sed -n 's/^[^ ]*: \([0-9]*\) passed, [0-9]* failed$/\1/p')
	tf=$(echo "$last" | sed -n 's/^[^ ]*: [0-9]* passed, \([0-9]*\) failed$/\1/p')
	p=$((p + ${tp:-0}))
	f=$((f + ${tf:-1}))
	grep -qx 'rc 0' "$log" || [ "${tf:-1}" -gt 0 ] || f=$((f + 1))
done
[ $# -gt 0 ] || { echo "FAIL fuzz-replay: no driver given"; f=$((f + 1)); }
echo "fuzz-replay: $p passed, $f failed"
[ "$f" = 0 ] && [ "$p" -gt 0 ]
