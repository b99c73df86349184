#!/bin/sh
# install-test: libmsign as something other programs build on.
#   sh tests/install/run.sh build
# make install DESTDIR=$tmp PREFIX=/usr; the installed library exports
# exactly the functions its installed headers declare and imports no
# printing, exiting or signal function; each installed header compiles
# on its own; examples/cdhashes.c is built
# against that tree through pkg-config, linked dynamically and against
# libmsign.a, and run on every fixture and every corpus file, its lines
# compared with what the installed `msign show -v3 --arch A` prints for
# the same slice; make uninstall then leaves no file of msign's. No
# `codesign` link unless INSTALL_CODESIGN_LINK=1, which installs one.
# Last line: "install: N passed, N failed".
set -u
B=${1:-build}
root=$(pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
no() { fail=$((fail + 1)); echo "FAIL $*"; }
ok() { pass=$((pass + 1)); }
# same NAME FILE_GOT FILE_WANT
same() {
	if cmp -s "$2" "$3"; then ok; else
		no "$1:"; diff -u "$3" "$2" | head -20
	fi
}
corpus_fail=no
. tests/corpus.sh

dest=$tmp/dest
if ! make -s --no-print-directory install DESTDIR="$dest" PREFIX=/usr B="$B" \
	>"$tmp/log" 2>&1; then
	no "make install DESTDIR=$dest PREFIX=/usr:"; cat "$tmp/log"
	echo "install: $pass passed, $((fail)) failed"; exit 1
fi
ok
lib=$dest/usr/lib
inc=$dest/usr/include/msign
msign=$dest/usr/bin/msign
version=$(sed -n 's/^#define MSIGN_VERSION_STRING "\(.*\)"$/\1/p' "$inc/version.h")
abi=$(sed -n 's/^#define MSIGN_ABI \([0-9]*\)$/\1/p' "$inc/version.h") # the soname's number

# ---- what is installed -------------------------------------------------
# The headers are include/msign/*.h, no more (src/trace/trace.h stays
# behind); the library files and links, the page, the .pc.
(cd include/msign && ls) > "$tmp/hdr.want"
(cd "$inc" && ls) > "$tmp/hdr.got"
same "installed headers" "$tmp/hdr.got" "$tmp/hdr.want"
# Apple's constants only behind MSIGN_: a program may include these and
# <kern/cs_blobs.h> (CSMAGIC_*, CSSLOT_*, CS_*) together.
if grep -hE '^[[:space:]]*#[[:space:]]*define[[:space:]]+(CS|CSMAGIC|CSSLOT)_' "$inc"/*.h > "$tmp/clash"; then
	no "installed headers define Apple's names: $(head -n 3 "$tmp/clash" | tr '\n' ' ')"
else ok; fi
[ "$(readlink "$lib/libmsign.so")" = "libmsign.so.$abi" ] &&
	[ "$(readlink "$lib/libmsign.so.$abi")" = "libmsign.so.$version" ] &&
	[ -f "$lib/libmsign.so.$version" ] && [ -f "$lib/libmsign.a" ] &&
	[ -f "$dest/usr/share/man/man1/msign.1" ] && ok ||
	no "library files: $(ls -l "$lib" | tr '\n' ' ')"
soname=$(readelf -d "$lib/libmsign.so.$version" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
[ "$soname" = "libmsign.so.$abi" ] && ok || no "soname '$soname', want libmsign.so.$abi"
[ "$("$msign" --version)" = "msign $version" ] && ok ||
	no "msign --version: '$("$msign" --version)', want 'msign $version'"
grep -qx 'libdir=/usr/lib' "$lib/pkgconfig/msign.pc" &&
	grep -qx 'includedir=/usr/include' "$lib/pkgconfig/msign.pc" && ok ||
	no "msign.pc dirs: $(cat "$lib/pkgconfig/msign.pc")"

# No codesign link by default; INSTALL_CODESIGN_LINK=1 installs one that
# runs msign's codesign front end, and uninstall takes it away again.
[ ! -e "$dest/usr/bin/codesign" ] && [ ! -L "$dest/usr/bin/codesign" ] && ok ||
	no "a default install put $(ls -l "$dest/usr/bin/codesign")"
dest2=$tmp/dest-link
if make -s --no-print-directory install DESTDIR="$dest2" PREFIX=/usr B="$B" \
	INSTALL_CODESIGN_LINK=1 >"$tmp/log" 2>&1; then ok; else
	no "make install INSTALL_CODESIGN_LINK=1:"; cat "$tmp/log"; fi
[ "$(readlink "$dest2/usr/bin/codesign")" = msign ] && ok ||
	no "INSTALL_CODESIGN_LINK=1: codesign -> '$(readlink "$dest2/usr/bin/codesign")', want msign"
LD_LIBRARY_PATH=$dest2/usr/lib "$dest2/usr/bin/codesign" -dvv fixtures/hello_arm64 >"$tmp/cs.out" 2>"$tmp/cs.err"
rc=$?
LD_LIBRARY_PATH=$dest2/usr/lib "$dest2/usr/bin/msign" show -vv fixtures/hello_arm64 >"$tmp/cs.want" 2>&1
[ "$rc" = 0 ] && [ ! -s "$tmp/cs.out" ] && [ -s "$tmp/cs.want" ] && cmp -s "$tmp/cs.err" "$tmp/cs.want" && ok ||
	no "installed codesign -dvv: exit $rc, stderr $(head -n 2 "$tmp/cs.err")"
if make -s --no-print-directory uninstall DESTDIR="$dest2" PREFIX=/usr B="$B" >"$tmp/log" 2>&1 &&
	[ -z "$(cd "$dest2" && find . ! -type d)" ]; then ok; else
	no "uninstall after INSTALL_CODESIGN_LINK=1 left: $(cd "$dest2" && find . ! -type d)"; fi

# ---- the library's boundary -------------------------------------------
# Exports: the functions the installed headers declare, both ways (a name
# missing from src/libmsign.map fails too), and nothing else: no version
# node or other symbol.
cat "$inc"/*.h | grep -o 'msign_[a-z0-9_]*[[:space:]]*(' |
	sed 's/[[:space:]]*($//' | sort -u > "$tmp/declared"
nm -D --defined-only "$lib/libmsign.so" | awk '{ print $3 }' > "$tmp/exports.raw"
sed 's/@.*//' "$tmp/exports.raw" | sort -u > "$tmp/exports"
same "exported symbols = declared functions" "$tmp/exports" "$tmp/declared"
grep '@' "$tmp/exports.raw" > "$tmp/versioned"
[ ! -s "$tmp/versioned" ] && ok || no "versioned exports: $(cat "$tmp/versioned")"
# Imports: no printing, exiting, aborting or signal function.
nm -D --undefined-only "$lib/libmsign.so" | awk '{ print $2 }' | sed 's/@.*//' |
	grep -Ex '(__)?(v?[fd]?printf|printf_chk|fprintf_chk|puts|fputs|fputc|putc|putchar|fwrite|perror|psignal|exit|_exit|_Exit|quick_exit|abort|__assert_fail|err|errx|warn|warnx|sigaction|signal|sigprocmask|raise|kill|fork|vfork|execv|execvp|execve|open_memstream)' \
	> "$tmp/bad_imports"
[ ! -s "$tmp/bad_imports" ] && ok || no "libmsign imports $(tr '\n' ' ' < "$tmp/bad_imports")"
# jansson is the command's: neither the library nor its .pc names it.
if readelf -d "$lib/libmsign.so" | grep -q jansson ||
	grep -q jansson "$lib/pkgconfig/msign.pc"; then
	no "libmsign or msign.pc needs jansson"
else ok; fi

CC=${CC:-cc}
# Each installed header compiles on its own (C11, pedantic): none leans on
# another being included first, or on the source tree's include/.
for h in "$inc"/*.h; do
	printf '#include <msign/%s>\nint msign_header_alone;\n' "${h##*/}" > "$tmp/alone.c"
	if $CC -std=c11 -Wall -Wextra -Werror -pedantic -I"$dest/usr/include" \
		-fsyntax-only "$tmp/alone.c" 2>"$tmp/cc.err"; then ok; else
		no "msign/${h##*/} alone:"; head -5 "$tmp/cc.err"; fi
done

# ---- examples/cdhashes.c against the installed tree --------------------
export PKG_CONFIG_SYSROOT_DIR="$dest"
export PKG_CONFIG_LIBDIR="$lib/pkgconfig:$(pkg-config --variable pc_path pkg-config)"
# The static build links libmsign.a and, as shared libraries, what the .pc
# names: Requires.private's modules with their own Libs, and Libs.private.
# Not `pkg-config --static`: that also asks for the private libraries of
# those modules (libcurl's list nghttp2, ssh2, ldap, ... whose -dev
# packages Debian's libcurl4-openssl-dev does not pull in), which only a
# fully static link needs.
cflags=$(pkg-config --cflags msign) && libs=$(pkg-config --libs msign) &&
	priv=$(pkg-config --print-requires-private msign | tr '\n' ' ') &&
	slibs="$(pkg-config --libs msign $priv) $(sed -n 's/^Libs.private: //p' "$lib/pkgconfig/msign.pc")" ||
	no "pkg-config msign"
# Requires.private is the Makefile's LIB_PKGS, libcurl among them
case " $priv " in *" libcurl "*) ok ;; *) no "msign.pc Requires.private: '$priv'" ;; esac
# -Iinclude must not be what makes it build: only the DESTDIR's headers.
# shellcheck disable=SC2086
if $CC -std=c11 -Wall -Wextra -Werror -Wshadow -Wformat=2 -o "$tmp/cdh-dyn" examples/cdhashes.c $cflags $libs \
	2>"$tmp/cc.err"; then ok; else no "dynamic build:"; cat "$tmp/cc.err"; fi
# libmsign.a, with the private dependencies the .pc names (libplist has
# no static archive on Debian, so a fully static link is not attempted).
slibs_a=$(echo "$slibs" | sed 's/-lmsign\b/-l:libmsign.a/')
# shellcheck disable=SC2086
if $CC -std=c11 -Wall -Wextra -Werror -Wshadow -Wformat=2 -o "$tmp/cdh-static" examples/cdhashes.c $cflags $slibs_a \
	2>"$tmp/cc.err"; then ok; else no "static build:"; cat "$tmp/cc.err"; fi
readelf -d "$tmp/cdh-dyn" 2>/dev/null | grep -q "NEEDED.*\[libmsign.so.$abi\]" && ok ||
	no "cdh-dyn does not need libmsign.so.$abi"
readelf -d "$tmp/cdh-static" 2>/dev/null | grep -q "NEEDED.*libmsign" &&
	no "cdh-static needs libmsign.so" || ok
# The dynamic one runs with the DESTDIR library, not another.
LD_LIBRARY_PATH=$lib ldd "$tmp/cdh-dyn" 2>/dev/null | grep -q "libmsign.so.$abi => $lib/" && ok ||
	no "cdh-dyn does not load $lib/libmsign.so.$abi"

# docs/api.md's examples compile against the installed headers as they
# stand (each ```c block that includes <msign/...>, on its own; they
# define static functions only).
awk -v dir="$tmp" '/^```c$/ { n++; f = dir "/api" n ".c"; on = 1; next }
	/^```$/ { on = 0 } on { print > f }' docs/api.md
nblocks=$(ls "$tmp"/api*.c 2>/dev/null | wc -l)
[ "$nblocks" -ge 3 ] && ok || no "docs/api.md: $nblocks C examples, want at least 3"
for f in "$tmp"/api*.c; do
	grep -q '^#include <msign/' "$f" || continue
	# shellcheck disable=SC2086
	if $CC -std=c11 -Wall -Wextra -Werror -Wno-unused-function -c -o "$f.o" "$f" $cflags \
		2>"$tmp/cc.err"; then ok; else no "docs/api.md example $(basename "$f"):"; cat "$tmp/cc.err"; fi
done

# What `msign show` says about each file, as cdhashes would print it
# (tests/install/want.py: one process for all files), then cdhashes'
# output, its stderr line count and exit status compared with that: one
# stderr line per unreadable slice or file, exit 1 exactly when there was
# one.
set --
for f in fixtures/* fixtures/*/*; do [ -f "$f" ] && set -- "$@" "$f"; done
if corpus_ready install "cdhashes on the Apple-signed corpus"; then
	for f in "$corpus"/*; do [ -f "$f" ] && set -- "$@" "$f"; done
fi
mkdir "$tmp/want"
python3 "$(dirname "$0")/want.py" "$msign" "$tmp/want" "$@" ||
	no "want.py failed"
nfiles=0 nlines=0 i=0
for f in "$@"; do
	nerr=$(cat "$tmp/want/$i.nerr" 2>/dev/null || echo missing)
	wantrc=0; [ "$nerr" != 0 ] && wantrc=1
	nlines=$((nlines + $(wc -l < "$tmp/want/$i.want")))
	for bin in cdh-dyn cdh-static; do
		LD_LIBRARY_PATH=$lib "$tmp/$bin" "$f" > "$tmp/got" 2>"$tmp/got.err"
		rc=$?
		nl=$(wc -l < "$tmp/got.err")
		if [ "$rc" = "$wantrc" ] && [ "$nl" = "$nerr" ] && cmp -s "$tmp/got" "$tmp/want/$i.want"; then
			ok
		else
			no "$bin $f: exit $rc (want $wantrc), $nl stderr lines (want $nerr)"
			diff -u "$tmp/want/$i.want" "$tmp/got" | head -10; head -3 "$tmp/got.err"
		fi
	done
	i=$((i + 1)) nfiles=$((nfiles + 1))
done
echo "install: cdhashes compared on $nfiles files, $nlines signed slices"
# A run where every file failed on both sides would prove nothing.
[ "$nlines" -gt 0 ] && ok || no "no signed slice compared"

# ---- uninstall ---------------------------------------------------------
# A file msign did not install stays; every one it did goes.
touch "$lib/not-msign"
if make -s --no-print-directory uninstall DESTDIR="$dest" PREFIX=/usr B="$B" >"$tmp/log" 2>&1; then
	ok; else no "make uninstall:"; cat "$tmp/log"; fi
(cd "$dest" && find . ! -type d) > "$tmp/left"
echo ./usr/lib/not-msign > "$tmp/left.want"
same "files left after make uninstall" "$tmp/left" "$tmp/left.want"

echo "install: $pass passed, $fail failed"
[ "$fail" = 0 ] && [ "$pass" -gt 0 ]
