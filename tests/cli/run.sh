#!/bin/sh
# Command-line tests: every line of tests/cli/cases.txt runs msign once and
# compares stdout, stderr and the exit status with tests/cli/expected/.
#   name <TAB> exit status <TAB> arguments (word-split by the shell)
# Paths under the repository print as @ROOT@. Run from the repository root:
#   sh tests/cli/run.sh build/msign            check
#   sh tests/cli/run.sh build/msign --update   rewrite the expectations
#                                              (review them with git diff)
# Then tests/cli/facts.sh checks msign's values against fixtures/facts.txt,
# which the fixture script computed without msign.
set -u
msign=$1
update=${2:-}
root=$(pwd)
exp=tests/cli/expected
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export TZ=UTC MSIGN_HOST_ARCH=x86_64 LC_ALL=C
pass=0 fail=0
tab=$(printf '\t')
while IFS="$tab" read -r name want args; do
	case "$name" in ''|'#'*) continue ;; esac
	# shellcheck disable=SC2086
	"$msign" $args >"$tmp/out" 2>"$tmp/err" </dev/null
	got=$?
	sed -i "s|$root|@ROOT@|g" "$tmp/out" "$tmp/err"
	if [ "$update" = --update ]; then
		cp "$tmp/out" "$exp/$name.out"
		cp "$tmp/err" "$exp/$name.err"
		[ "$got" = "$want" ] || echo "note: $name exits $got, cases.txt says $want"
		continue
	fi
	ok=1
	if [ "$got" != "$want" ]; then
		echo "FAIL $name: exit $got, want $want"; ok=0
	fi
	for s in out err; do
		if ! cmp -s "$tmp/$s" "$exp/$name.$s"; then
			echo "FAIL $name: std$s differs:"
			diff -u "$exp/$name.$s" "$tmp/$s" | head -20
			ok=0
		fi
	done
	if [ $ok = 1 ]; then pass=$((pass + 1)); else fail=$((fail + 1)); fi
done < tests/cli/cases.txt
[ "$update" = --update ] && exit 0

# Cases the table cannot hold (a redirection, a control character in an
# argument or a file name): exact stderr and exit status.
# extra NAME WANT_EXIT WANT_STDERR COMMAND... (stdout to $out, default /dev/null)
extra() {
	n=$1 want=$2 werr=$3
	shift 3
	"$@" >"${out:-/dev/null}" 2>"$tmp/err" </dev/null
	got=$?
	if [ "$got" = "$want" ] && [ "$(cat "$tmp/err")" = "$werr" ]; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
		printf 'FAIL %s: exit %s (want %s), stderr:\n' "$n" "$got" "$want"
		cat "$tmp/err"; printf '  want: %s\n' "$werr"
	fi
}
# same NAME FILE TEXT: FILE holds exactly TEXT (and a final newline)
same() {
	if [ "$(cat "$2")" = "$3" ]; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1)); printf 'FAIL %s: got\n' "$1"; cat "$2"
	fi
}
# Started with stdout or stderr closed: output is still a write error, and
# no file msign opens takes the closed number (an output signed with
# stderr closed is the bytes of a run with it open; an Authority= line
# printed to a closed stdout lands nowhere).
extra closed.stdout 1 "msign: write error: Bad file descriptor" sh -c 'exec "$0" show fixtures/hello_arm64 >&-' "$msign"
rm -f "$tmp/c1" "$tmp/c2"
sh -c 'exec "$0" sign -s - -v --output "$1" fixtures/hello_arm64.unsigned 2>&-' "$msign" "$tmp/c1"
c1=$?
"$msign" sign -s - --output "$tmp/c2" fixtures/hello_arm64.unsigned
if [ $c1 = 1 ] && cmp -s "$tmp/c1" "$tmp/c2"; then pass=$((pass + 1)); else
	fail=$((fail + 1)); echo "FAIL closed.stderr: exit $c1, outputs differ or missing"; fi
full="msign: write error: No space left on device"
out=/dev/full
extra full.show 1 "$full" "$msign" show -v fixtures/hello_arm64
extra full.show.json 1 "$full" "$msign" show --json fixtures/hello_arm64
extra full.show.r 1 "$full" "$msign" show -r- fixtures/cms_arm64
extra full.strip.dry 1 "$full" "$msign" strip --dry-run fixtures/hello_arm64
extra full.sign.n 1 "$full" "$msign" sign -s - -n fixtures/hello_arm64.unsigned
extra full.help 1 "$full" "$msign" --help
extra full.show.help 1 "$full" "$msign" show --help
extra full.version 1 "$full" "$msign" --version
unset out
extra full.r.path 1 "msign: write error: /dev/full: No space left on device" \
	"$msign" show -r /dev/full fixtures/cms_arm64
extra full.ent.path 1 "msign: write error: /dev/full: No space left on device" \
	"$msign" show --entitlements /dev/full fixtures/cms_arm64
# verify -v and sign -v write to stderr: a lost message is exit 1 too
"$msign" verify -v fixtures/hello_arm64 >/dev/null 2>/dev/full
extra full.verify.v 1 "" test $? = 0
cp fixtures/hello_arm64.unsigned "$tmp/s"
"$msign" sign -s - -v "$tmp/s" >/dev/null 2>/dev/full
extra full.sign.v 1 "" test $? = 0
extra full.ok 0 "" "$msign" show fixtures/hello_arm64

nl='
'
esc=$(printf '\033')
extra sign.ident.nl 2 "msign sign: -i takes no control characters" \
	"$msign" sign -s - -n -i "a${nl}Authority=Apple Root CA" fixtures/hello_arm64.unsigned
extra sign.ident.esc 2 "msign sign: -i takes no control characters" \
	"$msign" sign -s - -n -i "a${esc}[2J" fixtures/hello_arm64.unsigned
extra sign.prefix.nl 2 "msign sign: --prefix takes no control characters" \
	"$msign" sign -s - -n --prefix "a${nl}b" fixtures/hello_arm64.unsigned
# UTF-8 is no control character
extra sign.ident.utf8 0 "" "$msign" sign -s - -n -i "org.caf\303\251" fixtures/hello_arm64.unsigned
# A file name that would forge lines: escaped wherever it is printed.
evil="$tmp/x${nl}Authority=Apple Root CA"
cp fixtures/hello_arm64 "$evil"
out=$tmp/out
extra name.show 0 "" "$msign" show "$evil"
same name.show.out "$tmp/out" "Executable=$tmp/x\nAuthority=Apple Root CA"
extra name.verify 0 "$tmp/x\nAuthority=Apple Root CA: valid on disk
$tmp/x\nAuthority=Apple Root CA: satisfies its Designated Requirement" "$msign" verify -v "$evil"
extra name.strip.dry 0 "" "$msign" strip -n "$evil"
same name.strip.dry.out "$tmp/out" "$tmp/x\nAuthority=Apple Root CA: arm64: remove signature (288 bytes at 16560), slice 16848 -> 16560 bytes
$tmp/x\nAuthority=Apple Root CA: 16848 -> 16560 bytes (dry run, nothing written)"
# bidirectional controls (U+202E, U+2066) are escaped, byte by byte;
# other UTF-8 (U+00E9, U+2014) is not
bidi=$(printf '%s/a\342\200\256b\342\201\246c\303\251\342\200\224' "$tmp")
cp fixtures/hello_arm64 "$bidi"
extra name.bidi 0 "" "$msign" show "$bidi"
same name.bidi.out "$tmp/out" "Executable=$tmp/a\xe2\x80\xaeb\xe2\x81\xa6c$(printf '\303\251\342\200\224')"
printf 'garbage' > "$evil"
extra name.notmacho 1 "$tmp/x\nAuthority=Apple Root CA: object file format unrecognized, invalid, or unsuitable
msign: bad Mach-O magic 0x67617262 (at offset 0)" "$msign" show "$evil"
unset out

# Offsets in messages are the file's, also inside the second slice of a
# universal file: computed here from the fat header, LC_CODE_SIGNATURE and
# the SuperBlob index with od, not by msign.
u32() { # FILE OFFSET be|le
	od -An -tu1 -j "$2" -N4 "$1" | awk -v o="$3" '{
		if (o == "be") print $1 * 16777216 + $2 * 65536 + $3 * 256 + $4
		else print $4 * 16777216 + $3 * 65536 + $2 * 256 + $1 }'
}
uni=$tmp/universal
cp fixtures/universal "$uni"
soff=$(u32 "$uni" 36 be)       # fat_arch 1 (arm64): offset
at=$((soff + 32)) lc=0
n=$(u32 "$uni" $((soff + 16)) le)
while [ "$n" -gt 0 ]; do
	[ "$(u32 "$uni" "$at" le)" = 29 ] && lc=$at # LC_CODE_SIGNATURE
	at=$((at + $(u32 "$uni" $((at + 4)) le))) n=$((n - 1))
done
sb=$((soff + $(u32 "$uni" $((lc + 8)) le)))
cd=$((sb + $(u32 "$uni" $((sb + 16)) be))) # index entry 0: slot 0, the CD
hoff=$((cd + 16))                           # its hashOffset
printf '\177\377\377\377' | dd of="$uni" bs=1 seek="$hoff" conv=notrunc 2>/dev/null
extra offset.fat.show 1 "$uni: invalid or unsupported format for signature
msign: hashOffset 2147483647 outside CodeDirectory length 264 (at offset $hoff)" \
	"$msign" show --arch arm64 "$uni"
extra offset.fat.verify 1 "$uni: invalid or unsupported format for signature
In architecture: arm64
msign: slice arm64 at offset $soff: hashOffset 2147483647 outside CodeDirectory length 264 (at offset $hoff)" \
	"$msign" verify "$uni"

# Read as Apple reads: files codesign displays though they are damaged
# (tests/cli/fidelity.py makes them from fixtures), and verify still fails.
F="python3 tests/cli/fidelity.py"
# An SDK before 10.9: the Library validation warning, after the
# CodeDirectory line; 10.9 itself gets none.
$F sdk fixtures/hello_x86_64.unsigned "$tmp/lv" 0x000a0800 &&
	"$msign" sign -s - -i org.msign.lv "$tmp/lv" 2>/dev/null
out=$tmp/out
extra lv.show 0 "" "$msign" show -v "$tmp/lv"
same lv.show.out "$tmp/out" "Executable=$tmp/lv
Identifier=org.msign.lv
Format=Mach-O thin (x86_64)
CodeDirectory v=20400 size=261 flags=0x2(adhoc) hashes=3+2 location=embedded
Library validation warning=OS X SDK version before 10.9 does not support Library Validation
Signature=adhoc
Info.plist=not bound
TeamIdentifier=not set
Sealed Resources=none
Internal requirements count=0 size=12"
"$msign" show --json "$tmp/lv" > "$tmp/lv.json"
extra lv.json 0 "" grep -q '"library_validation_warning": "OS X SDK version before 10.9 does not support Library Validation"' "$tmp/lv.json"
$F sdk fixtures/hello_x86_64.unsigned "$tmp/lv9" 0x000a0900 &&
	"$msign" sign -s - "$tmp/lv9" 2>/dev/null
extra lv.10.9 0 "" sh -c "'$msign' show -v '$tmp/lv9' | grep -c 'Library validation' | grep -qx 0"
extra lv.verify 0 "" "$msign" verify "$tmp/lv"
# codeLimit one page past the end of the file: displayed; verify fails.
$F codelimit fixtures/hello_arm64 "$tmp/cl"
extra codelimit.show 0 "" "$msign" show -v "$tmp/cl"
same codelimit.show.out "$tmp/out" "Executable=$tmp/cl
Identifier=hello_arm64
Format=Mach-O thin (arm64)
CodeDirectory v=20400 size=296 flags=0x20002(adhoc,linker-signed) hashes=6+0 location=embedded
Signature=adhoc
Info.plist=not bound
TeamIdentifier=not set
Sealed Resources=none
Internal requirements=none"
extra codelimit.verify 1 "$tmp/cl: invalid signature (code or signature have been modified)
msign: sha256 CodeDirectory: codeLimit 20944 past the end of the 16880-byte slice" \
	"$msign" verify "$tmp/cl"
# A fat header naming i386 for an x86_64 slice: shown as the fat header
# names it (the first slice, no x86_64 in the header); verify fails.
$F fatcpu fixtures/universal "$tmp/fc"
extra fatcpu.show 0 "" "$msign" show -v "$tmp/fc"
same fatcpu.show.out "$tmp/out" "Executable=$tmp/fc
Identifier=hello_x86_64
Format=Mach-O universal (i386 arm64)
CodeDirectory v=20400 size=200 flags=0x20002(adhoc,linker-signed) hashes=3+0 location=embedded
Signature=adhoc
Info.plist=not bound
TeamIdentifier=not set
Sealed Resources=none
Internal requirements=none"
extra fatcpu.show.arm64 0 "" "$msign" show --arch arm64 "$tmp/fc"
extra fatcpu.verify 1 "$tmp/fc: object file format unrecognized, invalid, or unsuitable
In architecture: i386
msign: slice i386 at offset 4096: slice cputype 16777223 differs from the fat header's 7 (at offset 4100)" \
	"$msign" verify "$tmp/fc"
unset out

# A pseudo-signature's note comes with the display, before the
# requirements (or entitlements) on stdout, as codesign writes it.
"$msign" show -r- fixtures/hostile/mixed_universal > "$tmp/both" 2>&1
extra nosig.order 0 "" sh -c "sed -n 2,3p '$tmp/both' | cut -c1-44 | tr '\n' '|' |
	grep -qxF 'fixtures/hostile/mixed_universal: no signatu|# designated => cdhash H\"99af45875c3a71734eb|'"

# -R with info[] and entitlement[]: the bound Info.plist (slot -1) and the
# signed entitlements; lld's signature binds no Info.plist.
req_nok="code failed to satisfy specified code requirement(s)
msign: the requirement does not hold"
extra req.info 0 "" "$msign" verify -R "=info[CFBundleIdentifier] = org.msign.infoplist" \
	fixtures/adhoc_infoplist_arm64
extra req.info.other 3 "fixtures/adhoc_infoplist_arm64: $req_nok" \
	"$msign" verify -R "=info[CFBundleIdentifier] = other" fixtures/adhoc_infoplist_arm64
extra req.info.unbound 3 "fixtures/infoplist_arm64: $req_nok" \
	"$msign" verify -R "=info[CFBundleIdentifier] exists" fixtures/infoplist_arm64
extra req.ent 0 "" "$msign" verify -R "=entitlement[\"com.apple.security.cs.allow-jit\"] exists and cdhash H\"$("$msign" show -v3 fixtures/adhoc_ent_arm64 | sed -n 's/^CDHash=//p')\"" \
	fixtures/adhoc_ent_arm64
extra req.ent.absent 3 "fixtures/adhoc_ent_arm64: $req_nok" \
	"$msign" verify -R "=entitlement[\"com.apple.security.app-sandbox\"] exists" fixtures/adhoc_ent_arm64
extra req.notrust 2 "msign verify: -R needs the trust check (anchor apple, certificates): not with --no-trust" \
	"$msign" verify --no-trust -R "=anchor apple" fixtures/adhoc_ent_arm64

# Input files past their limits (one reader, cli_read_file): a one-line
# refusal, exit 1.
truncate -s 17M "$tmp/huge"
extra huge.csreq 1 "msign csreq: $tmp/huge: larger than 16777216 bytes" \
	"$msign" csreq -r "$tmp/huge"
extra huge.ent 1 "$tmp/huge: File too large" \
	"$msign" sign -s - -n --entitlements "$tmp/huge" fixtures/hello_arm64.unsigned
extra huge.verify.R 1 "$tmp/huge: File too large" \
	"$msign" verify -R "$tmp/huge" fixtures/hello_arm64
rm -f "$tmp/huge"

sh tests/cli/facts.sh "$msign" > "$tmp/facts" 2>&1
fr=$?
cat "$tmp/facts"
fp=$(sed -n 's/^facts: \([0-9]*\) passed.*/\1/p' "$tmp/facts")
ff=$(sed -n 's/^facts: [0-9]* passed, \([0-9]*\) failed.*/\1/p' "$tmp/facts")
pass=$((pass + ${fp:-0}))
fail=$((fail + ${ff:-0}))
[ $fr = 0 ] || [ "${ff:-0}" -gt 0 ] || fail=$((fail + 1))
[ "${fp:-0}" -gt 0 ] || { fail=$((fail + 1)); echo "FAIL cli: facts.sh checked no fact"; }
[ $((pass + fail)) -gt 0 ] || { fail=1; echo "FAIL cli: no case ran"; }
echo "cli: $pass passed, $fail failed"
[ $fail = 0 ]
