#!/bin/sh
# make bench, sign part: msign sign and msign verify on a 1 GiB file (an
# arm64 executable whose __DATA carries 1 GiB, linker-signed by ld64.lld),
# next to OpenSSL's own single-core SHA-256 rate measured in the same run
# (`openssl speed -evp sha256 -bytes 4096 -seconds 3`). Prints GB/s
# (10^9 bytes per second), the ratio to the single-core rate, the target
# 0.9 x CPUs x single-core, and the peak resident memory of each command.
# Medians of BENCH_SIGN_RUNS (5) runs after one warm-up run, page cache
# warm, timed by bench/timeit.c around fork and wait.
# Reproduce: make bench   (needs clang, ld64.lld-14 and openssl)
set -eu
msign=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
timeit=$(dirname "$msign")/timeit
dir=build/bench
runs=${BENCH_SIGN_RUNS:-5}
mkdir -p "$dir/sign"

if [ ! -s "$dir/big_arm64" ]; then
	lld=$(command -v ld64.lld-14 || command -v ld64.lld)
	printf 'int main(void){return 0;}\n' > "$dir/m.c"
	clang -target arm64-apple-macos11 -c "$dir/m.c" -o "$dir/m.o"
	# text, not a hole (as in bench/run.sh, which usually made it already)
	yes msign-bench-payload | head -c 1073741824 > "$dir/payload"
	"$lld" -arch arm64 -platform_version macos 11.0 11.0 -adhoc_codesign \
		-sectcreate __DATA __payload "$dir/payload" -o "$dir/big_arm64" "$dir/m.o"
	rm -f "$dir/payload"
fi
big=$dir/sign/big
cp "$dir/big_arm64" "$big"
sync
size=$(stat -c %s "$big")
cpus=$(nproc)

gbps() { awk -v b="$size" -v ns="$1" 'BEGIN { printf "%.2f", b / ns }'; }

# One line: label, then the command (one warm-up + $runs timed runs).
bench() {
	label=$1; shift
	out=$("$timeit" -w "$runs" "$@") || { echo "$label: failed"; return 1; }
	ns=${out%% *}
	kb=${out##* }
	g=$(gbps "$ns")
	printf '%-44s %7.3f s %6s GB/s  %5s x single core  peak RSS %d MiB\n' "$label" \
		"$(awk -v ns="$ns" 'BEGIN { printf "%.3f", ns / 1e9 }')" "$g" \
		"$(awk -v g="$g" -v s="$single" 'BEGIN { printf "%.2f", g / s }')" \
		$((kb / 1024))
}

# OpenSSL's single-core rate, "sha256  1984597.22k" = 1000s of bytes/s.
k=$(openssl speed -evp sha256 -bytes 4096 -seconds 3 2>/dev/null |
	awk '$1 == "sha256" { sub(/k$/, "", $2); print $2 }')
single=$(awk -v k="$k" 'BEGIN { printf "%.2f", k * 1000 / 1e9 }')
target=$(awk -v s="$single" -v n="$cpus" 'BEGIN { printf "%.2f", 0.9 * n * s }')
echo "sign bench: $size-byte arm64 file, $cpus CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "openssl speed -evp sha256 -bytes 4096: $single GB/s on one core; target 0.9 x $cpus x $single = $target GB/s"

bench "verify (lld's signature, 4 KiB pages)" "$msign" verify "$big"
bench "verify -j 1 (one thread)" "$msign" verify -j 1 "$big"
bench "sign -n (hash only, 16 KiB pages)" "$msign" sign -n -f -s - "$big"
bench "sign (hash + atomic write + fsync)" "$msign" sign -f -s - "$big"
bench "verify (msign's signature, 16 KiB pages)" "$msign" verify "$big"
bench "sign --linker-signed -n (4 KiB pages)" "$msign" sign -n -f -s - --linker-signed "$big"
rm -f "$big"
