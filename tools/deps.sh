#!/bin/sh
# Installs missing Debian packages for one job:
#   sh tools/deps.sh build   compile libmsign and msign (make, make demo)
#   sh tools/deps.sh test    build + what the test suites run (make check)
#   sh tools/deps.sh fuzz    build + clang's libFuzzer (make fuzz)
#   sh tools/deps.sh bench   build + clang, lld, llvm-14 (make bench)
# As root with apt-get: installs them. Otherwise prints the exact command
# for a minimal Debian (no sudo there) and exits 1.
# strace is a test dependency, not a build one: msign builds and runs
# without it; only `msign trace` on Linux needs it at run time, and it says
# so when it is missing. The trace suite runs it, so `test` installs it.
set -u
what=${1:-build}
missing=""
need() { case " $missing " in *" $1 "*) ;; *) missing="$missing $1" ;; esac; }
have_pc() { pkg-config --exists "$1" 2>/dev/null; }
have() { command -v "$1" >/dev/null 2>&1; }
# A library package without a command to look for: dpkg's word.
have_deb() { [ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null)" = installed ]; }
linux=false
[ "$(uname -s)" = Linux ] && linux=true

# build: cc and make, pkg-config, and the four libraries the Makefile's
# PKGS names (libcurl: the RFC 3161 client, src/sign/tsa.c).
have cc || need build-essential
have make || need build-essential
have pkg-config || need pkg-config
have_pc libcrypto || need libssl-dev
have_pc libplist-2.0 || need libplist-dev
have_pc jansson || need libjansson-dev
have_pc libcurl || need libcurl4-openssl-dev

# macOS: Homebrew's names for the build set; the test tools of the Linux
# suites (llvm-14, strace, softhsm2, ...) are not asked for there. Not run
# on a Mac yet (see the README's macOS section).
if [ "$(uname -s)" = Darwin ]; then
	brew=""
	for p in $missing; do
		case $p in
		build-essential) echo "deps: no compiler; run: xcode-select --install" >&2; exit 1 ;;
		libssl-dev) brew="$brew openssl@3" ;;
		libplist-dev) brew="$brew libplist" ;;
		libjansson-dev) brew="$brew jansson" ;;
		libcurl4-openssl-dev) brew="$brew curl" ;;
		*) brew="$brew $p" ;;
		esac
	done
	[ "$what" = test ] && ! have_pc cmocka && brew="$brew cmocka"
	[ -z "$brew" ] && exit 0
	echo "deps: missing; run: brew install$brew" >&2
	case $brew in *openssl@3*|*curl*)
		echo "deps: and, for the keg-only ones: export PKG_CONFIG_PATH=\"\$(brew --prefix openssl@3)/lib/pkgconfig:\$(brew --prefix curl)/lib/pkgconfig:\$PKG_CONFIG_PATH\"" >&2 ;;
	esac
	exit 1
fi

case $what in
build) ;;
test)
	# Every tool the suites call that a minimal Debian may lack (the
	# rest, grep sed od dd stat cp date mktemp du ..., is Essential).
	have_pc cmocka || need libcmocka-dev                    # tests/unit
	have llvm-otool-14 || need llvm-14                      # tests/strip
	have llvm-lipo-14 || need llvm-14
	have openssl || need openssl                            # tests/sign asn1parse
	# tests/cms: a SoftHSM token, libp11's engine that msign --pkcs11
	# loads through OpenSSL (found in libcrypto's ENGINESDIR), and
	# opensc's pkcs11-tool to put certificates on the token
	have softhsm2-util || need softhsm2
	engdir=$(openssl version -e 2>/dev/null | sed -n 's/^ENGINESDIR: "\(.*\)"$/\1/p')
	[ -n "$engdir" ] && [ -e "$engdir/pkcs11.so" ] || need libengine-pkcs11-openssl
	have pkcs11-tool || need opensc
	have curl || need curl                                  # tools/macos-gate.sh: Zig
	have cmp || need diffutils                              # every suite
	have awk || need mawk
	have python3 || need python3                            # tests/safety/macho.py
	have nm || need binutils                                # tests/install: exports
	have readelf || need binutils                           # and imports of libmsign.so
	if $linux; then
		have strace || need strace                      # tests/trace
		have_deb libelf1 || need libelf1                # tests/trace: the D
		have_deb zlib1g || need zlib1g                  # compiler's runtime
		have setfattr || need attr                      # xattr tests
		have getfattr || need attr
		have setfacl || need acl                        # ACL tests
		have getfacl || need acl
		for c in runuser setpriv flock; do              # privilege, locking
			have $c || need util-linux
		done
	fi
	;;
fuzz)
	have clang || need clang
	# libFuzzer's runtime (clang recommends it; a no-recommends install lacks it)
	ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-*.a >/dev/null 2>&1 ||
		need libclang-rt-14-dev
	;;
bench)
	# bench/run.sh links its large inputs with clang + ld64.lld-14
	have clang || need clang
	have ld64.lld-14 || need lld
	have llvm-lipo-14 || need llvm-14
	;;
*)
	echo "usage: sh tools/deps.sh build|test|fuzz|bench" >&2
	exit 2
	;;
esac

[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ] && have apt-get; then
	echo "deps ($what): installing$missing" >&2
	log=$(mktemp)
	export DEBIAN_FRONTEND=noninteractive
	if apt-get update -q > "$log" 2>&1 &&
		apt-get install -y -q --no-install-recommends $missing >> "$log" 2>&1 < /dev/null; then
		rm -f "$log"
		exit 0
	fi
	tail -n 20 "$log" >&2
	rm -f "$log"
	echo "deps ($what): apt-get install$missing failed" >&2
	exit 1
fi
echo "deps: missing packages; as root run: apt-get update && apt-get install -y$missing" >&2
exit 1
