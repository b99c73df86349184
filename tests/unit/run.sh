#!/bin/sh
# Runs the cmocka binaries given, from the repository root:
#   sh tests/unit/run.sh build/tests/test_*
# cmocka's own lines pass through. Ends with "unit: N passed, N failed":
# cmocka's counts, plus one failure for each binary that exits non-zero
# without cmocka's FAILED line (a crash, a sanitizer report) or that ran
# no test at all. Exits non-zero on any failure or when nothing ran.
set -u
export MSIGN_FIXTURES=${MSIGN_FIXTURES:-fixtures}
out=$(mktemp)
trap 'rm -f "$out"' EXIT
pass=0 fail=0
for t in "$@"; do
	"$t" > "$out" 2>&1
	rc=$?
	cat "$out"
	p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test(s)\.$/\1/p' "$out")
	f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test(s), listed below:$/\1/p' "$out")
	pass=$((pass + ${p:-0}))
	fail=$((fail + ${f:-0}))
	if [ "$rc" != 0 ] && [ "${f:-0}" = 0 ]; then
		fail=$((fail + 1)); echo "FAIL $t: exit $rc without a cmocka verdict"
	elif [ -z "$p$f" ]; then
		fail=$((fail + 1)); echo "FAIL $t: ran no test"
	fi
done
[ $# -gt 0 ] || { fail=$((fail + 1)); echo "FAIL unit: no test binary given"; }
echo "unit: $pass passed, $fail failed"
[ "$fail" = 0 ] && [ "$pass" -gt 0 ]
