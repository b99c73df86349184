#!/bin/sh
# Command-line tests: every line of tests/cli/cases.txt runs msign once and
# compares stdout, stderr and the exit status with tests/cli/expected/.
#   name <TAB> exit status <TAB> arguments (word-split by the shell)
# Paths under the repository print as @ROOT@. Run from the repository root:
#   sh tests/cli/run.sh build/msign            check
#   sh tests/cli/run.sh build/msign --update   rewrite the expectations
#                                              (review them with git diff)
# Then tests/cli/facts.sh checks msign's values against fixtures/facts.txt,
# which the fixture script computed without msign.
set -u
msign=$1
update=${2:-}
root=$(pwd)
exp=tests/cli/expected
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export TZ=UTC MSIGN_HOST_ARCH=x86_64 LC_ALL=C
pass=0 fail=0
tab=$(printf '\t')
while IFS="$tab" read -r name want args; do
	case "$name" in ''|'#'*) continue ;; esac
	# shellcheck disable=SC2086
	"$msign" $args >"$tmp/out" 2>"$tmp/err" </dev/null
	got=$?
	sed -i "s|$root|@ROOT@|g" "$tmp/out" "$tmp/err"
	if [ "$update" = --update ]; then
		cp "$tmp/out" "$exp/$name.out"
		cp "$tmp/err" "$exp/$name.err"
		[ "$got" = "$want" ] || echo "note: $name exits $got, cases.txt says $want"
		continue
	fi
	ok=1
	if [ "$got" != "$want" ]; then
		echo "FAIL $name: exit $got, want $want"; ok=0
	fi
	for s in out err; do
		if ! cmp -s "$tmp/$s" "$exp/$name.$s"; then
			echo "FAIL $name: std$s differs:"
			diff -u "$exp/$name.$s" "$tmp/$s" | head -20
			ok=0
		fi
	done
	if [ $ok = 1 ]; then pass=$((pass + 1)); else fail=$((fail + 1)); fi
done < tests/cli/cases.txt
[ "$update" = --update ] && exit 0
sh tests/cli/facts.sh "$msign" > "$tmp/facts" 2>&1
fr=$?
cat "$tmp/facts"
fp=$(sed -n 's/^facts: \([0-9]*\) passed.*/\1/p' "$tmp/facts")
ff=$(sed -n 's/^facts: [0-9]* passed, \([0-9]*\) failed.*/\1/p' "$tmp/facts")
pass=$((pass + ${fp:-0}))
fail=$((fail + ${ff:-0}))
[ $fr = 0 ] || [ "${ff:-0}" -gt 0 ] || fail=$((fail + 1))
[ "${fp:-0}" -gt 0 ] || { fail=$((fail + 1)); echo "FAIL cli: facts.sh checked no fact"; }
[ $((pass + fail)) -gt 0 ] || { fail=1; echo "FAIL cli: no case ran"; }
echo "cli: $pass passed, $fail failed"
[ $fail = 0 ]
