#!/bin/sh
# Hostile and changing inputs (run from the repository root):
#   sh tests/safety/run.sh build/msign
#  - FIFOs and devices as inputs are refused at once, without blocking;
#  - a file that another process cuts and rewrites while show --json and
#    verify read it never raises a signal (exit 0 or 1 only);
#  - a file that another process writes into while it is signed: every
#    run that exits 0 leaves a result that verifies, in place and with
#    --output (10 runs each on a 72 MiB file);
#  - bytes after __LINKEDIT, or non-zero bytes outside a universal file's
#    slices, are refused, the file untouched;
#  - a fat64 header claiming 2^30 alignment does not blow the file up;
#  - peak memory of verify -j 64 stays bounded;
#  - a sparse file claiming a 1 GiB signature costs no 1 GiB of memory.
# Ends with "safety: N passed, M failed"; exits non-zero on a failure or
# when no check ran.
set -u
msign=$1
here=$(dirname "$0")
tmp=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$tmp"' EXIT
export LC_ALL=C MSIGN_HOST_ARCH=x86_64
pass=0 fail=0
FX=fixtures
ok() { pass=$((pass + 1)); }
no() { fail=$((fail + 1)); echo "FAIL $*"; }
# expect STATUS STDERR-LINE command...: exact exit status and stderr
expect() {
	want_rc=$1 want_err=$2; shift 2
	"$@" > "$tmp/out" 2> "$tmp/err" < /dev/null
	rc=$?
	got=$(cat "$tmp/err")
	if [ "$rc" = "$want_rc" ] && [ "$got" = "$want_err" ]; then ok; else
		no "$*: exit $rc, stderr '$got' (want $want_rc, '$want_err')"; fi
}
size() { stat -c %s "$1"; }

echo "safety: non-regular inputs"
mkfifo "$tmp/fifo"
for c in "show" "show --json" "verify" "strip" "sign -s -"; do
	# shellcheck disable=SC2086
	expect 1 "$tmp/fifo: not a regular file" timeout 10 "$msign" $c "$tmp/fifo"
done
expect 1 "/dev/null: not a regular file" timeout 10 "$msign" verify /dev/null
expect 1 "/dev/zero: not a regular file" timeout 10 "$msign" sign -s - /dev/zero

echo "safety: bytes after __LINKEDIT"
cp "$FX/hello_arm64.unsigned" "$tmp/trail"
printf 'precious trailing data' >> "$tmp/trail"
cp "$tmp/trail" "$tmp/trail.orig"
n=$(size "$FX/hello_arm64.unsigned")
expect 1 "$tmp/trail: the __LINKEDIT segment does not cover the end of the file (can't be processed): 22 bytes after it at offset $n would be lost" \
	"$msign" sign -s - "$tmp/trail"
if cmp -s "$tmp/trail" "$tmp/trail.orig"; then ok; else no "trailing data: file changed"; fi
expect 1 "$tmp/trail: the __LINKEDIT segment does not cover the end of the file (can't be processed): 22 bytes after it at offset $n would be lost" \
	"$msign" sign -s - --output "$tmp/trail.out" "$tmp/trail"
if [ ! -e "$tmp/trail.out" ]; then ok; else no "trailing data: --output written"; fi

echo "safety: a universal file with data outside its slices"
cp "$FX/universal" "$tmp/fatjunk"
printf 'appended data' >> "$tmp/fatjunk"
cp "$tmp/fatjunk" "$tmp/fatjunk.orig"
u=$(size "$FX/universal")
expect 1 "$tmp/fatjunk: replacing existing signature
$tmp/fatjunk: non-zero bytes outside every slice, in [$u, $((u + 13))), would be lost when the slices are laid out again" \
	"$msign" sign -f -s - "$tmp/fatjunk"
expect 1 "$tmp/fatjunk: object file format unrecognized, invalid, or unsuitable
msign: non-zero bytes outside every slice, in [$u, $((u + 13))), would be lost when the slices are laid out again (at offset $u)" \
	"$msign" strip "$tmp/fatjunk"
if cmp -s "$tmp/fatjunk" "$tmp/fatjunk.orig"; then ok; else no "fat data outside slices: file changed"; fi
# zeros there are padding: laid out again without them
cp "$FX/universal" "$tmp/fatpad"
head -c 4096 /dev/zero >> "$tmp/fatpad"
expect 0 "" "$msign" strip --output "$tmp/fatpad.out" "$tmp/fatpad"

echo "safety: fat64 header claiming 2^30 alignment"
python3 "$here/macho.py" fat64 "$FX/universal" "$tmp/fat30" 30
in=$(size "$tmp/fat30")
"$msign" strip --output "$tmp/fat30.stripped" "$tmp/fat30"
"$msign" sign -f -s - --output "$tmp/fat30.signed" "$tmp/fat30" 2>/dev/null
for f in stripped signed; do
	out=$(size "$tmp/fat30.$f" 2>/dev/null || echo missing)
	# the signatures are smaller than 2 KiB each here
	if [ "$out" != missing ] && [ "$out" -le $((in + 4096)) ]; then ok; else
		no "fat30 $f: $in -> $out bytes"; fi
done
expect 0 "" "$msign" verify --strict "$tmp/fat30.signed"
# the first slice stays where the input had it (llvm-lipo reads the result)
first() { od -An -tx1 -j 16 -N 8 "$1" | tr -d ' \n'; }
if llvm-lipo-14 -info "$tmp/fat30.signed" >/dev/null 2>&1 &&
   [ "$(first "$tmp/fat30.signed")" = "$(first "$tmp/fat30")" ]; then ok; else
	no "fat30 signed: first slice at 0x$(first "$tmp/fat30.signed"), input 0x$(first "$tmp/fat30")"; fi

echo "safety: a 72 MiB file"
python3 "$here/macho.py" grow "$FX/hello_arm64.unsigned" "$tmp/big.unsigned" 72
"$msign" sign -s - --output "$tmp/big" "$tmp/big.unsigned" || no "sign big"

echo "safety: file cut and rewritten while show --json and verify read it"
cp "$tmp/big" "$tmp/cut"
python3 "$here/macho.py" cutter "$tmp/cut" 60 &
cutter=$!
sig=0 runs=0
for i in 1 2 3 4 5 6 7 8 9 10; do
	for c in "show --json" "verify"; do
		# shellcheck disable=SC2086
		"$msign" $c "$tmp/cut" > /dev/null 2> "$tmp/err"
		rc=$?
		runs=$((runs + 1))
		if [ $rc -gt 1 ]; then sig=$((sig + 1)); echo "  $c: exit $rc: $(head -c 200 "$tmp/err")"; fi
	done
done
kill $cutter 2>/dev/null; wait $cutter 2>/dev/null
if [ $sig = 0 ]; then ok; else no "truncation: $sig of $runs runs ended by a signal or exit > 1"; fi

# SAFETY_RUNS runs of sign (default 10; make check's ASan round takes 5:
# most of a run is waiting for the writer) with --output OUT, or in place
# when OUT is empty, while another process overwrites random blocks of the
# input.
wruns=${SAFETY_RUNS:-10}
echo "safety: file written into while it is signed ($wruns + $wruns runs)"
under_writer() {
	what=$1 out=$2 good=0 verified=0
	for i in $(seq 1 "$wruns"); do
		cp "$tmp/big.unsigned" "$tmp/w"
		rm -f "$tmp/w.ready"
		python3 "$here/macho.py" writer "$tmp/w" 30 &
		w=$!
		n=0
		while [ ! -e "$tmp/w.ready" ] && [ $n -lt 100 ]; do sleep 0.1; n=$((n + 1)); done
		[ -e "$tmp/w.ready" ] || no "$what run $i: the writer did not start"
		sleep 0.1 # a few blocks written already
		if "$msign" sign -s - ${out:+--output "$out"} "$tmp/w" 2> "$tmp/err"; then
			good=$((good + 1))
			if "$msign" verify "${out:-$tmp/w}" 2>> "$tmp/err"; then
				verified=$((verified + 1))
			else
				echo "  run $i: signed, does not verify: $(tail -n 1 "$tmp/err")"
			fi
		fi
		kill $w 2>/dev/null; wait $w 2>/dev/null
		rm -f "$tmp/w.out"
	done
	if [ $good = "$wruns" ] && [ $verified = "$wruns" ]; then ok; else
		no "$what under a writer: $good of $wruns signed, $verified of them verify"; fi
}
under_writer --output "$tmp/w.out"
under_writer "in place" ""

echo "safety: peak memory of verify -j 64"
# The CodeDirectory of the 72 MiB file is 144 KiB; the bound is a base of
# 12 MiB plus 512 KiB per thread (a 64 KiB read buffer and a stack, with
# room to spare).
rss=$(python3 -c 'import resource, subprocess, sys
r = subprocess.run(sys.argv[1:]).returncode
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss if r == 0 else -1)' \
	"$msign" verify -j 64 "$tmp/big")
limit=$((12 * 1024 + 64 * 512))
if [ "$rss" -gt 0 ] && [ "$rss" -le $limit ]; then ok; else
	no "verify -j 64: peak RSS $rss KiB (limit $limit KiB)"; fi
echo "safety: verify -j 64 peak RSS $rss KiB"

echo "safety: a sparse file claiming a 1 GiB SuperBlob"
# The signature is read into memory msign owns: the file's hole must not
# become 1 GiB of zeros there (it did: show took 1 GiB and seconds).
python3 "$here/macho.py" sparse "$FX/hello_arm64" "$tmp/sparse" 1024
# show prints it (exit 0); verify finds page 0 changed (exit 1)
for c in "0 show" "1 verify"; do
	# shellcheck disable=SC2086
	rss=$(python3 -c 'import resource, subprocess, sys
r = subprocess.run(sys.argv[2:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss if r == int(sys.argv[1]) else -1)' \
		${c% *} "$msign" ${c#* } "$tmp/sparse")
	if [ "$rss" -gt 0 ] && [ "$rss" -le $((32 * 1024)) ]; then ok; else
		no "${c#* } of a sparse file: peak RSS $rss KiB (limit 32768 KiB; -1: wrong exit status)"; fi
done
rm -f "$tmp/sparse"

echo "safety: $pass passed, $fail failed"
[ $fail = 0 ] && [ $pass -gt 0 ]
