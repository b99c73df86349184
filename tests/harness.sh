#!/bin/sh
# Tests of the test harness, so that a suite cannot pass by checking
# nothing: a missing corpus under CI=true, an empty facts file, a unit
# binary or fuzz seed folder that runs no test, a fuzz input that crashes
# or hangs, a suite without its summary line, and the dependency hint for
# a non-root user.
# Run from the repository root:  sh tests/harness.sh build
# Ends with "harness: N passed, N failed".
set -u
B=${1:-build}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); }
no() { fail=$((fail + 1)); echo "FAIL $*"; }
# fails NAME COMMAND...: the command must exit non-zero
fails() { n=$1; shift; if "$@" > "$tmp/out" 2>&1; then no "$n: exit 0"; sed 's/^/  /' "$tmp/out" | tail -n 5; else ok; fi; }
# passes NAME COMMAND...: the command must exit 0
passes() { n=$1; shift; if "$@" > "$tmp/out" 2>&1; then ok; else no "$n: exit $?"; sed 's/^/  /' "$tmp/out" | tail -n 5; fi; }
# has NAME LINE: the last command's output holds exactly that line
has() { if grep -qxF -- "$2" "$tmp/out"; then ok; else no "$1: no line '$2'"; sed 's/^/  /' "$tmp/out" | tail -n 5; fi; }

# The corpus: a failure under CI=true, one line naming the skip otherwise.
fails "sign, no corpus, CI=true" env MSIGN_CORPUS=/nonexistent CI=true sh tests/sign/run.sh "$B/msign"
has "sign, no corpus, CI=true: says why" "FAIL sign: no corpus at /nonexistent (CI=true needs it; set MSIGN_CORPUS): verify, strip, sign, verify --strict, re-sign of each corpus file"
mkdir "$tmp/empty"
fails "sign, empty corpus, CI=true" env MSIGN_CORPUS="$tmp/empty" CI=true sh tests/sign/run.sh "$B/msign"
passes "sign, no corpus, no CI" env -u CI MSIGN_CORPUS=/nonexistent sh tests/sign/run.sh "$B/msign"
has "sign, no corpus: the skip is named" "sign: skipped, no corpus at /nonexistent (set MSIGN_CORPUS): verify, strip, sign, verify --strict, re-sign of each corpus file"

# Zero checks fail.
: > "$tmp/facts.txt"
fails "facts.sh, empty facts file" env MSIGN_FACTS="$tmp/facts.txt" sh tests/cli/facts.sh "$B/msign"
has "facts.sh, empty facts file: summary" "facts: 0 passed, 1 failed"
fails "unit runner, a binary without tests" sh tests/unit/run.sh /bin/true
fails "unit runner, a binary that fails without cmocka" sh tests/unit/run.sh /bin/false
fails "unit runner, no binary" sh tests/unit/run.sh
# fuzz_csreq's driver: its plan for one fixture ends well within 2 s
# (fuzz_bundle's, first by name, builds a tree on disk for every run).
r=$B/fuzz/fuzz_csreq-replay
fails "fuzz replay, missing path" "$r" /nonexistent
fails "fuzz replay, empty folder" "$r" "$tmp/empty"
passes "fuzz replay, one fixture" "$r" --budget 2 fixtures/hello_arm64
has "fuzz replay, one fixture: summary" "$(basename "$r"): covered: the whole plan"
fails "fuzz/replay.sh, no driver" sh fuzz/replay.sh 1 0
# a crash and a hang are failures that name the input
h=$B/tests/harness-replay
fails "fuzz replay, a crash" "$h" --jobs 2 fixtures/hello_arm64
has "fuzz replay, a crash: the input named" "harness-replay: worker 0 killed by signal 6 on fixtures/hello_arm64 with bytes 40-43 set to 7f ff ff ff"
fails "fuzz replay, a hang" env HARNESS_HANG=1 MSIGN_REPLAY_HANG_SECS=1 "$h" fixtures/hello_arm64
has "fuzz replay, a hang: the input named" "harness-replay: worker 0 hangs (1 s without a run) on fixtures/hello_arm64 with bytes 40-43 set to 7f ff ff ff"

# make check's runner: the last line must be the summary, with checks.
export CHECK_TALLY="$tmp/tally"
fails "suite.sh, zero checks" sh tools/suite.sh z sh -c 'echo "z: 0 passed, 0 failed"'
fails "suite.sh, no summary" sh tools/suite.sh n sh -c 'echo "n: 3 passed, 0 failed"; echo later'
fails "suite.sh, exit 1 with 0 failed" sh tools/suite.sh e sh -c 'echo "e: 3 passed, 0 failed"; exit 1'
fails "suite.sh, a failure" sh tools/suite.sh f sh -c 'echo "f: 3 passed, 1 failed"; exit 1'
sh tools/suite.sh m sh -c 'echo "m: 3 passed, 2 failed"; echo "make[1]: *** [Makefile:9: m] Error 1"; exit 2' > "$tmp/out" 2>&1
grep -q '^== m: 3 passed, 2 failed (' "$tmp/out" && ok || no "suite.sh: make's error line taken for the summary"
rm -f "$CHECK_TALLY"
passes "suite.sh, a good suite" sh tools/suite.sh g sh -c 'echo "g: 3 passed, 0 failed"'
passes "suite.sh --total" sh tools/suite.sh --total
check_last=$(tail -n 1 "$tmp/out")
[ "$check_last" = "check: 3 passed, 0 failed" ] && ok || no "suite.sh --total: last line '$check_last'"
unset CHECK_TALLY

# tools/deps.sh as a non-root user on a machine with only the build tools:
# build needs nothing more; test names the exact command, without sudo.
mkdir "$tmp/bin"
for c in sh uname pkg-config cc make ls mktemp rm tail cat; do
	p=$(command -v $c) && ln -s "$p" "$tmp/bin/$c"
done
printf '#!/bin/sh\necho 1000\n' > "$tmp/bin/id"
chmod +x "$tmp/bin/id"
passes "deps.sh build, build tools present" env PATH="$tmp/bin" sh tools/deps.sh build
fails "deps.sh test, test tools absent" env PATH="$tmp/bin" sh tools/deps.sh test
want="llvm-14 openssl softhsm2 libengine-pkcs11-openssl opensc curl diffutils mawk python3 binutils"
[ "$(uname -s)" = Linux ] && want="$want strace libelf1 zlib1g attr acl util-linux"
has "deps.sh test: the command to run as root" "deps: missing packages; as root run: apt-get update && apt-get install -y $want"

[ $((pass + fail)) -gt 0 ] || no "harness: no check ran"
echo "harness: $pass passed, $fail failed"
[ "$fail" = 0 ]
