#!/bin/sh
# make bench, bundle part: sealing a bundle (spec bundles.md) with
# `msign sign -s - -f BUNDLE`, and `msign verify BUNDLE`, on two apps
# built in build/bench/bundle/ (kept between runs; remove it to rebuild):
#   many.app   10,000 files of 4 KiB: 100 folders of 95 in Resources/,
#              plus 10 .lproj folders of 50 (per-file cost: files/s)
#   large.app  4 files of 256 MiB in Resources/ (BENCH_BUNDLE_LARGE_MIB;
#              128 when the disk has less than 3 GiB free): hashing, GB/s
# Each app's main executable is fixtures/hello_arm64.unsigned with an
# Info.plist. Page cache warm (every file read once before), one warm-up
# run, then the median (and best) of BENCH_BUNDLE_RUNS (5) runs timed by
# bench/timeit.c around fork and wait.
#
# The limit for large.app is OpenSSL's rate on all CPUs, measured just
# before each line (`openssl speed -evp ALG -bytes 16384 -multi CPUS`),
# for every digest each byte goes through: the seal writes files (SHA-1)
# and files2 (the executable's hash types: SHA-256 for this arm64 one),
# computed in one read; signing then verifies its copy (files2's types
# again) before the exchange; verify checks files2's types. Times per
# byte add up: limit = 1 / (1/r1 + 1/r2 + ...). The ratio is GB/s over it.
# Reproduce: make bench   (needs openssl and python3)
set -eu
msign=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
timeit=$(dirname "$msign")/timeit
runs=${BENCH_BUNDLE_RUNS:-5}
dir=build/bench/bundle
cpus=$(nproc)
mkdir -p "$dir"

large_mib=${BENCH_BUNDLE_LARGE_MIB:-}
if [ -z "$large_mib" ]; then
	free_kib=$(df -Pk "$dir" | awk 'NR == 2 { print $4 }')
	large_mib=256
	[ "$free_kib" -lt 3145728 ] && large_mib=128
fi

# app DIR: the skeleton (Info.plist, main executable), unsigned.
app() {
	mkdir -p "$1/Contents/MacOS" "$1/Contents/Resources"
	name=$(basename "$1" .app)
	cat > "$1/Contents/Info.plist" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
	<key>CFBundleExecutable</key>
	<string>$name</string>
	<key>CFBundleIdentifier</key>
	<string>org.msign.bench.$name</string>
	<key>CFBundlePackageType</key>
	<string>APPL</string>
</dict>
</plist>
EOF
	cp fixtures/hello_arm64.unsigned "$1/Contents/MacOS/$name"
	chmod 0755 "$1/Contents/MacOS/$name"
}

many=$dir/many.app
if [ ! -f "$dir/many.done" ]; then
	rm -rf "$many" "$dir/many.done"
	app "$many"
	# distinct contents per file (a counter in every 16 bytes), written by
	# one python3 process: a shell loop would take minutes
	python3 - "$many/Contents/Resources" <<'EOF'
import os, sys
root = sys.argv[1]
def put(path, k):
    with open(path, "wb") as f:
        f.write(b"".join(b"%08d:%06d\n" % (k, i) for i in range(256)))
k = 0
for d in range(100):
    os.makedirs("%s/d%02d" % (root, d))
    for i in range(95):
        put("%s/d%02d/f%02d.dat" % (root, d, i), k); k += 1
for lang in ("Base", "en", "fr", "de", "es", "it", "ja", "ko", "pt", "zh_CN"):
    os.makedirs("%s/%s.lproj" % (root, lang))
    for i in range(50):
        put("%s/%s.lproj/s%02d.strings" % (root, lang, i), k); k += 1
assert k == 10000
EOF
	: > "$dir/many.done"
fi

large=$dir/large.app
if [ ! -f "$dir/large.done-$large_mib" ]; then
	rm -rf "$large"
	app "$large"
	for i in 1 2 3 4; do
		# text, not a hole (as in bench/run.sh), different per file
		yes "msign-bench-bundle-$i" | head -c $((large_mib * 1048576)) \
			> "$large/Contents/Resources/big$i.dat"
	done
	rm -f "$dir"/large.done-*
	: > "$dir/large.done-$large_mib"
fi

# OpenSSL's rate of one digest in GB/s over $2 seconds on all CPUs
# ("sha256  1984597.22k" = 1000s of bytes per second, all processes).
openssl_rate() {
	openssl speed -evp "$1" -bytes 16384 -seconds "$2" -multi "$cpus" 2>/dev/null |
		awk -v h="$1" '$1 == h { sub(/k$/, "", $2); printf "%.3f", $2 * 1000 / 1e9 }'
}

# The limit for a list of digests each byte goes through ("sha1 sha256
# sha256"): time per byte adds up, 1 / (1/r1 + 1/r2 + ...), each rate
# measured now. Prints "LIMIT FORMULA".
limit() {
	r1=- r256=-
	case " $* " in *" sha1 "*) r1=$(openssl_rate sha1 1) ;; esac
	case " $* " in *" sha256 "*) r256=$(openssl_rate sha256 1) ;; esac
	echo "$@" | awk -v r1="$r1" -v r256="$r256" '{
		t = 0; f = ""
		for (i = 1; i <= NF; i++) {
			r = $i == "sha1" ? r1 : r256
			t += 1 / r
			f = f (i > 1 ? "," : "") $i ":" r
		}
		printf "%.3f %s\n", 1 / t, (NF > 1 ? "1/(" f ")" : f)
	}'
}

warm() {
	find "$1" -type f -exec cat {} + > /dev/null
}

# The digests in files2 (hash = sha1, hash2 = sha256; hash3, hash4
# would need other openssl rates, and this executable never asks for them).
files2_types() {
	python3 - "$1/Contents/_CodeSignature/CodeResources" <<'EOF'
import plistlib, sys
cr = plistlib.load(open(sys.argv[1], "rb"))
keys = set()
for v in cr["files2"].values():
    keys |= set(v) if isinstance(v, dict) else set()
names = {"hash": "sha1", "hash2": "sha256", "hash3": "sha256t", "hash4": "sha384"}
print(" ".join(names[k] for k in sorted(keys) if k in names))
EOF
}

# One record: label, bundle, bytes sealed, files, the digests each byte
# goes through ("sha1 sha256"), then the command (one warm-up + $runs
# timed runs, page cache warm). many.app lines show files/s and the time
# per file; large.app lines GB/s (10^9 bytes per second) and the ratio to
# the openssl limit for those digests, measured just before.
measure() {
	label=$1 b=$2 bytes=$3 files=$4 digests=$5
	shift 5
	warm "$b"
	lim=- parts=-
	if [ "$files" -lt 100 ]; then
		set -- $(limit $digests) "$@"
		lim=$1 parts=$2
		shift 2
	fi
	out=$("$timeit" -w "$runs" "$@") || { printf '  %-32s failed\n' "$label"; return 0; }
	set -- $out
	awk -v l="$label" -v med="$1" -v best="$2" -v rss="$3" -v by="$bytes" \
		-v n="$files" -v lim="$lim" -v parts="$parts" 'BEGIN {
		s = med / 1e9
		printf "  %-32s %7.3f s (best %.3f s)", l, s, best / 1e9
		if (lim == "-")
			printf " %6.0f files/s %5.0f us/file", n / s, s * 1e6 / n
		else
			printf " %5.2f GB/s %4.2f of %.2f GB/s = %s", by / med,
				by / med / lim, lim, parts
		printf "  RSS %d MiB\n", rss / 1024
	}'
}

echo "bundle bench: $cpus CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg), $runs runs (median)"
"$msign" sign -s - -f "$many" > /dev/null 2>&1
v2=$(files2_types "$many")
# Signing hashes every file twice: the seal (files: SHA-1, files2: the
# executable's types, one read) and the verification of the copy before
# the exchange (files2's types); verify hashes files2's types.
seal=$(echo "sha1 $v2" | tr ' ' '\n' | sort -u | tr '\n' ' ')
sign_digests="$seal $v2"
echo "seal: files sha1, files2 $v2 (main executable hello_arm64); rates: openssl speed -evp ALG -bytes 16384 -multi $cpus, GB/s"
many_bytes=$(find "$many/Contents/Resources" -type f -printf '%s\n' | awk '{ s += $1 } END { print s }')
large_bytes=$(find "$large/Contents/Resources" -type f -printf '%s\n' | awk '{ s += $1 } END { print s }')
echo "many.app: 10000 files, $many_bytes bytes; large.app: 4 files, $large_bytes bytes (${large_mib} MiB each)"
echo "sign: seal (spec 2.4-2.6) in a hard-link copy, sign the executable, verify the copy, exchange"
measure "sign many.app (10,000 x 4 KiB)" "$many" "$many_bytes" 10000 "$sign_digests" "$msign" sign -s - -f "$many"
measure "verify many.app" "$many" "$many_bytes" 10000 "$v2" "$msign" verify "$many"
measure "sign large.app (4 x $large_mib MiB)" "$large" "$large_bytes" 4 "$sign_digests" "$msign" sign -s - -f "$large"
measure "verify large.app" "$large" "$large_bytes" 4 "$v2" "$msign" verify "$large"
