#!/bin/sh
# make bench, sign part: msign sign and msign verify on a 1 GiB file (an
# arm64 executable whose __DATA carries 1 GiB, linker-signed by ld64.lld),
# next to OpenSSL's own single-core SHA-256 rate measured in the same run
# (`openssl speed -evp sha256 -bytes 4096 -seconds 3`). Prints GB/s
# (10^9 bytes per second), the ratio to the single-core rate, the target
# 0.9 x CPUs x single-core, and the peak resident memory of each command.
# Medians (and best) of BENCH_SIGN_RUNS (7) runs after one warm-up run,
# page cache warm, timed by bench/timeit.c around fork and wait. OpenSSL's
# rate is taken before and after; the ratios use the mean of the two.
#
# Two page-cache states, since Linux hashes them at different costs: the
# file as just written (cp: the cache holds it in 4 KiB pages, as after a
# link or a download), and the file as read back from disk (its cache
# dropped with dd iflag=nocache, then read: readahead makes large folios).
# Reproduce: make bench   (needs clang, ld64.lld-14 and openssl)
set -eu
msign=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
timeit=$(dirname "$msign")/timeit
dir=build/bench
runs=${BENCH_SIGN_RUNS:-7}
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

# One record: label, then the command (one warm-up + $runs timed runs):
# "label|median ns|best ns|peak RSS KiB", formatted by show() at the end,
# when the single-core rate after the runs is known.
bench() {
	label=$1; shift
	out=$("$timeit" -w "$runs" "$@") || { echo "$label|failed"; return 0; }
	set -- $out
	echo "$label|$1|$2|$3"
}

# The median is the figure; the best run is shown too, since on a shared
# VM other tenants only ever add time.
show() {
	awk -F'|' -v b="$size" -v s="$single" '
		NF == 1 { print; next }
		$2 == "failed" { printf "  %-42s failed\n", $1; next }
		{
			g = b / $2; best = b / $3
			printf "  %-42s %6.3f s %5.2f GB/s %5.2f x single core (best %5.2f x)  peak RSS %d MiB\n",
				$1, $2 / 1e9, g, g / s, best / s, $4 / 1024
		}'
}

# OpenSSL's single-core rate in GB/s ("sha256  1984597.22k" = 1000s of
# bytes per second).
openssl_rate() {
	openssl speed -evp sha256 -bytes 4096 -seconds 3 2>/dev/null |
		awk '$1 == "sha256" { sub(/k$/, "", $2); printf "%.2f", $2 * 1000 / 1e9 }'
}

hash_lines() {
	bench "verify (lld's signature, 4 KiB pages)" "$msign" verify "$big"
	bench "verify -j 1 (one thread)" "$msign" verify -j 1 "$big"
	bench "sign -n (hash only, 16 KiB pages)" "$msign" sign -n -f -s - "$big"
	bench "sign --linker-signed -n (4 KiB pages)" "$msign" sign -n -f -s - --linker-signed "$big"
}

before=$(openssl_rate)
echo "sign bench: $size-byte arm64 file, $cpus CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"
raw=$dir/sign/records
{
	echo "file just written (cp + sync):"
	hash_lines
	dd if="$big" iflag=nocache count=0 status=none
	cat "$big" > /dev/null
	echo "file read back from disk (cache dropped, then read once):"
	hash_lines
	echo "writing:"
	bench "sign (hash + atomic write + fsync)" "$msign" sign -f -s - "$big"
	bench "verify (msign's signature, 16 KiB pages)" "$msign" verify "$big"
} > "$raw"
after=$(openssl_rate)
single=$(awk -v a="$before" -v b="$after" 'BEGIN { printf "%.2f", (a + b) / 2 }')
target=$(awk -v s="$single" -v n="$cpus" 'BEGIN { printf "%.2f", 0.9 * n * s }')
echo "openssl speed -evp sha256 -bytes 4096 on one core: $before GB/s before, $after after, mean $single"
echo "target 0.9 x $cpus x $single = $target GB/s"
show < "$raw"
rm -f "$big" "$raw"
