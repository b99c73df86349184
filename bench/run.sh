#!/bin/sh
# make bench: show reads headers and the signature, not the file. This
# builds a 1 GiB universal file (an arm64 slice whose __DATA carries 1 GiB,
# linker-signed by ld64.lld, plus the small x86_64 fixture) and compares
# the median wall time of `msign show -v4` on it and on a ~100 KiB file.
# Reproduce: make bench   (needs clang, ld64.lld-14, llvm-lipo-14)
set -eu
msign=${1:-build/msign}
timeit=$(dirname "$msign")/timeit
runs=${BENCH_RUNS:-31}
dir=build/bench
mkdir -p "$dir"
lld=$(command -v ld64.lld-14 || command -v ld64.lld)
lipo=$(command -v llvm-lipo-14 || command -v llvm-lipo)

if [ ! -s "$dir/big_universal" ]; then
	printf 'int main(void){return 0;}\n' > "$dir/m.c"
	clang -target arm64-apple-macos11 -c "$dir/m.c" -o "$dir/m.o"
	# A 1 GiB payload of text, not a hole: cp must not skip sparse ranges.
	yes msign-bench-payload | head -c 1073741824 > "$dir/payload"
	"$lld" -arch arm64 -platform_version macos 11.0 11.0 -adhoc_codesign \
		-sectcreate __DATA __payload "$dir/payload" -o "$dir/big_arm64" "$dir/m.o"
	# ~100 KiB: the same program with a 96 KiB payload.
	yes msign-bench-payload | head -c 98304 > "$dir/payload_small"
	"$lld" -arch arm64 -platform_version macos 11.0 11.0 -adhoc_codesign \
		-sectcreate __DATA __payload "$dir/payload_small" -o "$dir/small_arm64" "$dir/m.o"
	"$lipo" -create fixtures/hello_x86_64 "$dir/big_arm64" -output "$dir/big_universal"
	"$lipo" -create fixtures/hello_x86_64 "$dir/small_arm64" -output "$dir/small_universal"
	rm -f "$dir/payload" "$dir/payload_small"
fi

# Median wall time in microseconds of $runs runs of a command (timed by
# bench/timeit.c around fork and wait: no shell start-up counted).
median_us() {
	"$timeit" "$runs" "$@" | awk '{ printf "%d", $1 / 1000 }'
}

for arch in arm64 x86_64; do
	for f in small_universal big_universal; do
		size=$(stat -c %s "$dir/$f")
		# Drop the page cache effect of the first read: one warm-up run.
		"$msign" show -v4 --arch "$arch" "$dir/$f" > /dev/null
		m=$(median_us "$msign" show -v4 --arch "$arch" "$dir/$f")
		printf 'show -v4 --arch %-6s %-16s %11d bytes  median %6d us (%d runs)\n' \
			"$arch" "$f" "$size" "$m" "$runs"
	done
done
