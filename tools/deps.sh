#!/bin/sh
# Installs the build and test dependencies on Debian when missing: with
# apt-get when root, otherwise prints the exact command to run.
pkgs="build-essential pkg-config libssl-dev libplist-dev libjansson-dev libcmocka-dev llvm-14 clang lld strace"
missing=""
have_pc() { pkg-config --exists "$1" 2>/dev/null; }
command -v cc >/dev/null 2>&1 || missing="$missing build-essential"
command -v pkg-config >/dev/null 2>&1 || missing="$missing pkg-config"
have_pc libcrypto || missing="$missing libssl-dev"
have_pc libplist-2.0 || missing="$missing libplist-dev"
have_pc jansson || missing="$missing libjansson-dev"
have_pc cmocka || missing="$missing libcmocka-dev"
# msign trace runs strace on Linux (and its tests run it).
[ "$(uname -s)" != Linux ] || command -v strace >/dev/null 2>&1 || missing="$missing strace"
# Tests read strip results back with LLVM's otool and lipo.
command -v llvm-otool-14 >/dev/null 2>&1 || missing="$missing llvm-14"
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
	echo "deps: installing$missing" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >/dev/null && apt-get install -y -qq $missing >/dev/null || {
		echo "deps: apt-get install$missing failed" >&2; exit 1; }
else
	echo "deps: missing packages. Run: sudo apt-get install -y$missing" >&2
	echo "deps: (all of them: sudo apt-get install -y $pkgs)" >&2
	exit 1
fi
