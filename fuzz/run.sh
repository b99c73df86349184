#!/bin/sh
# make fuzz: build every fuzz/fuzz_*.c with libFuzzer + ASan + UBSan (clang)
# and run each for FUZZ_SECONDS (default 300), seeded from fuzz/corpus/<t>
# and the fixtures. New inputs land in build-fuzz/corpus/<t>; crashes in
# build-fuzz/crash-*. Not part of `make check`. FUZZ_TARGETS="fuzz/fuzz_csreq.c"
# runs only those.
set -eu
secs=${FUZZ_SECONDS:-300}
jobs=${FUZZ_JOBS:-1}
out=build-fuzz
CC=${FUZZ_CC:-clang}
flags="-std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -Iinclude -Isrc"
libs="$(pkg-config --libs libcrypto libplist-2.0 libcurl jansson) -lpthread"
mkdir -p "$out"
# The library's sources (the Makefile's LIB_SRC): src/ holds only folders.
lib_src=$(ls src/*/*.c | grep -v -e '^src/cli/' -e '^src/trace/')
for t in ${FUZZ_TARGETS:-fuzz/fuzz_*.c}; do
	name=$(basename "$t" .c); name=${name#fuzz_}
	# shellcheck disable=SC2086
	$CC $flags -o "$out/fuzz_$name" "$t" $lib_src $libs
	mkdir -p "$out/corpus/$name"
	# fuzz_csreq reads requirement text: its words, not Mach-O magics,
	# and no Mach-O fixtures as seeds.
	dict=fuzz/macho.dict seeds=fixtures
	[ "$name" = csreq ] && dict=fuzz/csreq.dict seeds=
	# fuzz_bundle reads records that describe a folder (fuzz_bundle.c):
	# its own words (paths, plist and CodeResources keys), and no Mach-O
	# fixtures as seeds (their first bytes would be read as records); its
	# seeds carry a Mach-O as records. TMPDIR is where its trees are built
	# (a tmpfs such as /dev/shm makes the runs faster).
	[ "$name" = bundle ] && dict=fuzz/bundle.dict seeds=
	echo "fuzz: $name for ${secs}s" >&2
	# shellcheck disable=SC2086
	"$out/fuzz_$name" -max_total_time="$secs" -jobs="$jobs" -workers="$jobs" \
		-dict="$dict" -artifact_prefix="$out/" -max_len=262144 \
		"$out/corpus/$name" "fuzz/corpus/$name" $seeds
done
