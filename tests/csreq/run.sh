#!/bin/sh
# csreq-test: the requirement compiler against Apple's own bytes, and the
# msign csreq command.
#   sh tests/csreq/run.sh BUILD_DIR
# 1. Every requirement set signed into the corpus (every signed slice of
#    every file, read by tests/csreq/reqsets.c through the library):
#    decompile it (csreq -t), compile that text (csreq -r =TEXT -b) and
#    compare with the signed bytes exactly; -t of the compiled bytes gives
#    the same text again. Each file checked is named.
# 2. The command: exit codes, messages and bytes written by hand from the
#    binary format (requirement.h), not by the compiler.
# Last line: "csreq: N passed, N failed".
set -u
B=$1
msign=$B/msign
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
no() { fail=$((fail + 1)); echo "FAIL $*"; }
ok() { pass=$((pass + 1)); }
corpus_fail=no
. tests/corpus.sh

# ---- 1. round trip of the corpus ---------------------------------------
if corpus_ready csreq "the round trip of the corpus's requirement sets"; then
	mkdir "$tmp/sets"
	"$B/tests/reqsets" "$tmp/sets" "$corpus"/* > "$tmp/list" || no "reqsets failed"
	sets=0 files=""
	while read -r n slice file; do
		sets=$((sets + 1))
		name=${file##*/}
		bin=$tmp/sets/$n.bin
		if ! "$msign" csreq -r "$bin" -t > "$tmp/text" 2>"$tmp/err"; then
			no "$name slice $slice: decompile: $(cat "$tmp/err")"; continue
		fi
		text=$(cat "$tmp/text")
		if ! "$msign" csreq -r "=$text" -b "$tmp/out.bin" 2>"$tmp/err"; then
			no "$name slice $slice: compile: $(cat "$tmp/err")"; continue
		fi
		if cmp -s "$bin" "$tmp/out.bin"; then ok; else
			no "$name slice $slice: compiled bytes differ from the signed ones"
			od -An -tx1 "$bin" | head -n 4; od -An -tx1 "$tmp/out.bin" | head -n 4
			continue
		fi
		"$msign" csreq -r "$tmp/out.bin" -t > "$tmp/text2" 2>&1
		if cmp -s "$tmp/text" "$tmp/text2"; then ok; else
			no "$name slice $slice: -t of the compiled bytes differs"
		fi
		case " $files " in *" $name "*) ;; *) files="$files $name" ;; esac
	done < "$tmp/list"
	[ "$sets" -gt 0 ] || no "no requirement set found in $corpus"
	echo "csreq: $sets requirement sets round-tripped exactly from:$files"
fi

# ---- 2. the command ----------------------------------------------------
# run EXPECTED_EXIT ARGS...: stdout in $tmp/o, stderr in $tmp/e
run() {
	code=$1; shift
	"$msign" csreq "$@" > "$tmp/o" 2> "$tmp/e"; got=$?
	if [ "$got" = "$code" ]; then ok; else no "csreq $*: exit $got, not $code"; fi
}
# same WHAT FILE EXPECTED_TEXT
same() {
	if [ "$(cat "$2")" = "$3" ]; then ok; else
		no "$1: got '$(cat "$2")', expected '$3'"
	fi
}
hex() { od -An -tx1 -v "$1" | tr -d ' \n'; }

# identifier "com.x" and anchor apple: and, ident, len 5 + 3 padding, apple anchor
want=fade0c000000002400000001000000060000000200000005636f6d2e7800000000000003
run 0 -r '=identifier "com.x" and anchor apple' -b "$tmp/b1"
same "-b of identifier and anchor apple" /dev/stdin "$want" <<EOT
$(hex "$tmp/b1")
EOT
run 0 -r '=identifier "com.x" and anchor apple' -b -
same "-b - writes the same bytes" /dev/stdin "$want" <<EOT
$(hex "$tmp/o")
EOT
run 0 -r "$tmp/b1" -t
same "-t of a binary file" "$tmp/o" 'identifier "com.x" and anchor apple'
printf 'designated => anchor apple generic\nhost => identifier h\n' > "$tmp/t1"
run 0 -r "$tmp/t1" -t
same "-t of a text file holding a set (sorted by type)" "$tmp/o" 'host => identifier h
designated => anchor apple generic'
# set: count 1, designated at 20, requirement {and-less}: apple generic anchor
run 0 -r '=designated => anchor apple generic' -b -
same "a set's bytes" /dev/stdin fade0c0100000024000000010000000300000014fade0c0000000010000000010000000f <<EOT
$(hex "$tmp/o")
EOT
run 0 -r '=anchor apple'
same "no -b nor -t: nothing printed" "$tmp/o" ''
# an empty text is the empty set ad-hoc signatures carry
run 0 -r '=' -b -
same "the empty set" /dev/stdin fade0c010000000c00000000 <<EOT
$(hex "$tmp/o")
EOT
run 1 -r '=identifier "com.x" and'
same "syntax error message" "$tmp/e" 'msign csreq: requirement text, line 1 column 23: expected a requirement but found the end of the text'
run 1 -r '=identifier "unterminated'
same "unterminated string" "$tmp/e" 'msign csreq: requirement text, line 1 column 12: string is not terminated by "'
printf '\372\336\014\000\000\000\000\100' > "$tmp/badbin"
run 1 -r "$tmp/badbin" -t
same "truncated binary" "$tmp/e" 'msign csreq: requirement needs a 12-byte header but only 8 bytes are present'
run 1 -r "$tmp/missing"
same "missing file" "$tmp/e" "msign csreq: $tmp/missing: No such file or directory"
run 2
run 2 -t
run 2 -r '=anchor apple' extra
run 2 -x
run 2 -r '=anchor apple' -b - -t
run 0 --help
grep -q '^usage: msign csreq' "$tmp/o" && ok || no "--help prints the usage"

echo "csreq: $pass passed, $fail failed"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
