#!/bin/sh
# Command-line tests of msign sign and msign verify (run from the
# repository root):  sh tests/sign/run.sh build/msign
#  - lld round trip: strip, then sign --linker-signed -i <lld's identifier>,
#    gives back ld64.lld's file byte for byte (identifiers from facts.txt);
#  - sign then verify every fixture, twice with -f: identical bytes;
#  - the corpus (tests/corpus.sh: MSIGN_CORPUS, default ../shared/corpus or
#    /work/shared/corpus; read only, used in place and copied to a
#    temporary folder; skipped with a note when absent, a failure under
#    CI=true): the
#    originals verify as expected, stripped copies sign, verify --strict
#    and re-sign identically;
#  - tampering: a flipped byte in a page, the CD, the requirements or the
#    entitlements is named; entitlements DER decoded by openssl asn1parse;
#  - codesign's messages and exit codes.
# Ends with "sign: N passed, M failed"; exits non-zero on a failure or
# when no check ran.
set -u
msign=$1
. tests/corpus.sh
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export LC_ALL=C MSIGN_HOST_ARCH=x86_64
pass=0 fail=0
FX=fixtures

ok() { pass=$((pass + 1)); }
no() { fail=$((fail + 1)); echo "FAIL $*"; }
check() { # description, then a command that must succeed
	d=$1; shift
	if "$@"; then ok; else no "$d"; fi
}
fact() { sed -n "s/^$1 $2 //p" $FX/facts.txt; }

# Flip the lowest bit of the byte at offset $2 of file $1.
flip() {
	v=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
	printf "$(printf '\\%03o' $((v ^ 1)))" |
		dd of="$1" bs=1 seek="$2" conv=notrunc 2>/dev/null
}
# Offset of the last occurrence of a 4-byte magic given as octal escapes.
magic_at() {
	grep -obUa "$(printf "$2")" "$1" | tail -n 1 | cut -d: -f1
}
be32_at() {
	od -An -tu1 -j "$2" -N4 "$1" |
		awk '{ print (($1 * 256 + $2) * 256 + $3) * 256 + $4 }'
}
# verify FILE, expecting exit status $2 and first stderr line $3
expect_verify() {
	"$msign" verify "$1" 2> "$tmp/err"
	rc=$?
	first=$(head -n 1 "$tmp/err")
	if [ "$rc" = "$2" ] && [ "$first" = "$3" ]; then ok; else
		no "verify $1: exit $rc, '$first' (want $2, '$3')"; fi
}

# ---- 1. ld64.lld's linker signature, byte for byte ----------------------
for f in hello_arm64 hello_x86_64 hello_arm64e libhello_arm64.dylib bundle_arm64.bundle; do
	cp "$FX/$f" "$tmp/$f"
	"$msign" strip "$tmp/$f" &&
		"$msign" sign -s - --linker-signed -i "$(fact "$f" identifier)" "$tmp/$f"
	check "lld round trip $f" cmp -s "$tmp/$f" "$FX/$f"
done
cp "$FX/universal" "$tmp/u"
"$msign" strip "$tmp/u"
for a in x86_64 arm64; do
	"$msign" sign -s - --linker-signed --arch "$a" \
		-i "$(fact universal "$a.identifier")" "$tmp/u"
done
check "lld round trip universal (per slice)" cmp -s "$tmp/u" "$FX/universal"

# ---- 2. sign + verify every fixture; -f twice gives the same bytes --------
signed="hello_arm64 hello_x86_64 hello_arm64e libhello_arm64.dylib
	bundle_arm64.bundle infoplist_arm64 universal cms_arm64 cms_arm64_ber
	cms_sha256only_arm64 adhoc_ent_arm64 adhoc_infoplist_arm64"
for f in $signed hello_arm64.unsigned universal.unsigned; do
	# (the CMS fixtures chain to the fixtures' test root: an anchor)
	case $f in *.unsigned) ;; *)
		check "verify original $f" "$msign" verify --strict --anchor "$FX/pki/root.pem" "$FX/$f" ;; esac
	cp "$FX/$f" "$tmp/s"
	"$msign" sign -f -s - "$tmp/s" 2>/dev/null
	check "sign+verify $f" "$msign" verify --strict "$tmp/s"
	cp "$tmp/s" "$tmp/s1"
	"$msign" sign -f -s - "$tmp/s" 2>/dev/null
	check "sign -f twice identical $f" cmp -s "$tmp/s" "$tmp/s1"
	"$msign" sign -f -s - -j 1 "$tmp/s" 2>/dev/null
	check "sign -j 1 identical $f" cmp -s "$tmp/s" "$tmp/s1"
done
expect_verify "$FX/hello_arm64.unsigned" 1 "$FX/hello_arm64.unsigned: code object is not signed at all"
"$msign" verify "$FX/universal.unsigned" 2> "$tmp/err"
check "unsigned universal names its arch" grep -qx "In architecture: x86_64" "$tmp/err"

# codesign defaults: SHA-256 only (macOS 11 target), 16 KiB pages on arm64
cp "$FX/hello_arm64.unsigned" "$tmp/h"
"$msign" sign -s - "$tmp/h"
"$msign" show -v4 "$tmp/h" > "$tmp/out"
check "ad-hoc defaults" grep -qx "CodeDirectory v=20400 size=259 flags=0x2(adhoc) hashes=2+2 location=embedded" "$tmp/out"
check "identifier h-UUID" grep -q "^Identifier=h-55554944" "$tmp/out"
check "page size 16384" grep -qx "Page size=16384" "$tmp/out"
"$msign" sign -s - "$tmp/h" 2> "$tmp/err"
check "already signed: exit 1" test $? = 1
check "already signed: message" grep -qx "$tmp/h: is already signed" "$tmp/err"
"$msign" sign -f -s - -o runtime,kill --digest sha1,sha256 "$tmp/h" 2> "$tmp/err"
check "replacing message" grep -qx "$tmp/h: replacing existing signature" "$tmp/err"
"$msign" show -v4 "$tmp/h" > "$tmp/out"
check "runtime,kill flags" grep -q "flags=0x10202(adhoc,kill,runtime)" "$tmp/out"
check "sha1,sha256" grep -qx "Hash choices=sha1,sha256" "$tmp/out"
check "runtime version" grep -qx "Runtime Version=11.0.0" "$tmp/out"
check "verify dual CDs" "$msign" verify --strict "$tmp/h"

# --output leaves the input alone and keeps the mode bits
cp "$FX/hello_x86_64.unsigned" "$tmp/in"
chmod 750 "$tmp/in"
"$msign" sign -s - --output "$tmp/out.bin" "$tmp/in"
check "--output: input untouched" cmp -s "$tmp/in" "$FX/hello_x86_64.unsigned"
check "--output: mode kept" test "$(stat -c %a "$tmp/out.bin")" = 750
check "--output: verifies" "$msign" verify "$tmp/out.bin"
# a refused signing changes nothing (the old signature does not end the file)
cp "$FX/bad_lc_sig_outside" "$tmp/bad"
"$msign" sign -f -s - "$tmp/bad" 2> "$tmp/err"
check "refused sign: exit 1" test $? = 1
check "refused sign: message" grep -qx "$tmp/bad: LC_CODE_SIGNATURE does not point to end of file" "$tmp/err"
check "refused sign: untouched" cmp -s "$tmp/bad" "$FX/bad_lc_sig_outside"
# -f replaces even a signature too damaged to read
cp "$FX/bad_cd_version" "$tmp/bad"
"$msign" sign -f -s - "$tmp/bad" 2>/dev/null
check "damaged signature replaced" "$msign" verify "$tmp/bad"

# ---- 3. messages and exit codes ------------------------------------------
expect_verify "$FX/bad_page_tampered" 1 "$FX/bad_page_tampered: invalid signature (code or signature have been modified)"
check "tampered page named" grep -qx "msign: sha256 CodeDirectory: code page 0 of 5 (file bytes 0-4095) does not match its hash (1 page differs)" "$tmp/err"
expect_verify "$FX/bad_cd_version" 1 "$FX/bad_cd_version: unsupported type or version of signature"
expect_verify "$FX/bad_sb_magic" 1 "$FX/bad_sb_magic: invalid or unsupported format for signature"
expect_verify "$FX/bad_empty" 1 "$FX/bad_empty: object file format unrecognized, invalid, or unsuitable"
expect_verify "$FX/hello_arm64" 0 ""
"$msign" verify -v "$FX/hello_arm64" 2> "$tmp/err"
check "verify -v" test "$(cat "$tmp/err")" = "$FX/hello_arm64: valid on disk
$FX/hello_arm64: satisfies its Designated Requirement"
"$msign" verify "$tmp/does-not-exist" 2>/dev/null
check "missing file: exit 1" test $? = 1
"$msign" verify 2>/dev/null
check "verify without FILE: exit 2" test $? = 2
"$msign" sign "$tmp/h" 2>/dev/null
check "sign without -s: exit 2" test $? = 2
"$msign" sign -s "Developer ID" "$tmp/h" 2>/dev/null
check "sign with a certificate: exit 2" test $? = 2
"$msign" sign -s - --page-size 1000 "$tmp/h" 2>/dev/null
check "bad page size: exit 2" test $? = 2

# ---- 4. tampering is named -----------------------------------------------
cp "$FX/hello_arm64.unsigned" "$tmp/t0"
"$msign" sign -s - -i org.example.t --entitlements "$FX/src/ent-adhoc.plist" \
	--page-size 4096 "$tmp/t0"
check "signed with entitlements verifies" "$msign" verify --strict "$tmp/t0"
for off in 100 900 5000 12287 16559; do
	cp "$tmp/t0" "$tmp/t"
	flip "$tmp/t" "$off"
	"$msign" verify "$tmp/t" 2> "$tmp/err"
	check "flip at $off fails" test $? = 1
	pg=$((off / 4096))
	check "flip at $off names page $pg" grep -q "code page $pg of 5 (file bytes $((pg * 4096))-" "$tmp/err"
done
for spec in 'requirements:\372\336\014\001:9:-2 (requirements)' \
	    'entitlements:\372\336\161\161:40:-5 (entitlements)' \
	    'DER entitlements:\372\336\161\162:12:-7 (DER entitlements)'; do
	name=${spec%%:*}; rest=${spec#*:}
	mg=${rest%%:*}; rest=${rest#*:}
	delta=${rest%%:*}; want=${rest#*:}
	cp "$tmp/t0" "$tmp/t"
	at=$(magic_at "$tmp/t" "$mg")
	flip "$tmp/t" $((at + delta))
	"$msign" verify "$tmp/t" 2> "$tmp/err"
	check "$name flip fails" grep -q "invalid signature (code or signature have been modified)" "$tmp/err"
	check "$name flip named" grep -q "special slot $want" "$tmp/err"
done
# a stored page hash in the CodeDirectory: that page is named
cp "$tmp/t0" "$tmp/t"
cd_at=$(magic_at "$tmp/t" '\372\336\014\002')
hash_off=$(be32_at "$tmp/t" $((cd_at + 16)))
flip "$tmp/t" $((cd_at + hash_off + 2 * 32 + 3))
"$msign" verify "$tmp/t" 2> "$tmp/err"
check "CD hash flip names page 2" grep -q "code page 2 of 5" "$tmp/err"
# a special slot hash in the CodeDirectory
cp "$tmp/t0" "$tmp/t"
flip "$tmp/t" $((cd_at + hash_off - 2 * 32 + 1))
"$msign" verify "$tmp/t" 2> "$tmp/err"
check "CD slot -2 flip named" grep -q "special slot -2 (requirements)" "$tmp/err"

# ---- 5. entitlements: slot 5 XML and slot 7 DER in Apple's form ---------
"$msign" show --entitlements - "$tmp/t0" | grep -v '^Executable=' > "$tmp/ent.xml"
check "entitlements XML embedded as given" cmp -s "$tmp/ent.xml" "$FX/src/ent-adhoc.plist"
# openssl is a test dependency (tools/deps.sh test): missing, it fails
if ! command -v openssl >/dev/null 2>&1; then
	no "openssl not found: DER entitlements not decoded (sh tools/deps.sh test)"
else
	at=$(magic_at "$tmp/t0" '\372\336\161\162')
	len=$(be32_at "$tmp/t0" $((at + 4)))
	dd if="$tmp/t0" of="$tmp/ent.der" bs=1 skip=$((at + 8)) count=$((len - 8)) 2>/dev/null
	openssl asn1parse -inform DER -in "$tmp/ent.der" > "$tmp/asn1" 2>&1
	check "asn1parse reads the DER" test $? = 0
	check "DER: [APPLICATION 16]" grep -q "d=0 .*cons: appl \[ 16 \]" "$tmp/asn1"
	check "DER: INTEGER 1" grep -q "d=1 .*prim: INTEGER *:01" "$tmp/asn1"
	check "DER: [CONTEXT 16] dict" grep -q "d=1 .*cons: cont \[ 16 \]" "$tmp/asn1"
	check "DER: sorted keys" test "$(grep -o 'UTF8STRING *:.*' "$tmp/asn1" | tr -s ' ')" = "UTF8STRING :com.apple.security.cs.allow-jit
UTF8STRING :com.apple.security.get-task-allow"
	check "DER: BOOLEAN true" test "$(grep -c 'BOOLEAN *:255' "$tmp/asn1")" = 2
fi

# ---- 6. the corpus -----------------------------------------------------------
if corpus_ready sign "verify, strip, sign, verify --strict, re-sign of each corpus file"; then
	for f in "$corpus"/*; do
		b=$(basename "$f")
		case $b in *.md) continue ;; esac
		case $b in
		unsigned_*|devid_frida_resident-agent-macos_fat4.dylib)
			want="code object is not signed at all" ;;
		bad_fuzzed_mach6*|bad_fuzzed_oobe*|bad_fuzzed_tests_65305*)
			want="object file format unrecognized, invalid, or unsuitable" ;;
		bad_TestMethods*|bad_fuzzed_mach10*|bad_fuzzed_mach12*|bad_taig*)
			want="invalid or unsupported format for signature" ;;
		bad_*|*_TAMPERED)
			want="invalid signature (code or signature have been modified)" ;;
		fakeca_*|selfsigned_*) # no Apple root, no --anchor
			want="signature is valid but signer is not trusted" ;;
		*) want="" ;;
		esac
		if [ -z "$want" ]; then
			expect_verify "$f" 0 ""
		else
			expect_verify "$f" 1 "$f: $want"
		fi
		# a stripped copy signs, verifies strictly, re-signs identically
		cp "$f" "$tmp/c"
		chmod u+w "$tmp/c"
		"$msign" strip "$tmp/c" 2>/dev/null || continue # damaged beyond removal
		if "$msign" sign -s - "$tmp/c" 2> "$tmp/err"; then ok; else
			no "corpus sign $b: $(cat "$tmp/err")"; continue; fi
		check "corpus verify $b" "$msign" verify --strict "$tmp/c"
		cp "$tmp/c" "$tmp/c1"
		"$msign" sign -f -s - "$tmp/c" 2>/dev/null
		check "corpus re-sign identical $b" cmp -s "$tmp/c" "$tmp/c1"
	done
fi

[ $((pass + fail)) -gt 0 ] || no "sign: no check ran"
echo "sign: $pass passed, $fail failed"
[ "$fail" = 0 ]
