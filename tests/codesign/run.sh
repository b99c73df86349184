#!/bin/sh
# codesign-test: msign run as `codesign` (a link named codesign to
# build/msign in a temporary folder), on the command lines of the README's
# "Run as codesign" table and on codesign's option syntax, each compared
# with the msign command it stands for:
#   - files it writes: byte-identical to what that msign command writes
#     (each side works on its own copy, with the same name, in its own
#     folder), and changed (or unchanged) as the operation says;
#   - display: its stderr identical to `msign show` at the same level
#     (show's stdout, then its stderr), its stdout exactly what show writes
#     for -r-/--entitlements -;
#   - verify, sign and strip messages: identical stderr; exit codes exact.
#   sh tests/codesign/run.sh build/msign
# Last line: "codesign: N passed, N failed".
set -u
msign=$1
tmp=$(mktemp -d)
srv=""
trap '[ -n "$srv" ] && kill "$srv" 2>/dev/null; rm -rf "$tmp"' EXIT
export TZ=UTC MSIGN_HOST_ARCH=x86_64 LC_ALL=C
unset MSIGN_KEY MSIGN_CERT MSIGN_CHAIN MSIGN_P12 MSIGN_P12_PASSWORD \
	MSIGN_P12_PASSWORD_FILE MSIGN_SIGNING_TIME MSIGN_TIMESTAMP_URL
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY no_proxy NO_PROXY
FX=$(pwd)/fixtures
M=$(cd "$(dirname "$msign")" && pwd)/$(basename "$msign")
mkdir "$tmp/bin"
ln -s "$M" "$tmp/bin/codesign"
cs=$tmp/bin/codesign
pass=0 fail=0
ok() { pass=$((pass + 1)); }
no() { fail=$((fail + 1)); echo "FAIL $*"; }

# A certificate identity (the fixtures' throw-away PKI) for -s NAME rows,
# in the environment variables the codesign front end reads.
cat "$FX/pki/inter.pem" "$FX/pki/root.pem" > "$tmp/chain.pem"
NAME="msign Test Signer: Example (MSIGNTEAM1)"
SHA1=$(openssl x509 -in "$FX/pki/leaf.pem" -noout -fingerprint -sha1 | sed 's/.*=//; s/://g')
IDENV="MSIGN_KEY=$FX/pki/leaf.key MSIGN_CERT=$FX/pki/leaf.pem MSIGN_CHAIN=$tmp/chain.pem MSIGN_SIGNING_TIME=2024-01-02T03:04:05Z"
IDOPT="--key $FX/pki/leaf.key --cert $FX/pki/leaf.pem --chain $tmp/chain.pem --signing-time 2024-01-02T03:04:05Z"
ENT=$FX/src/ent-adhoc.plist

# writes NAME WANT_RC CHANGE 'ENV' 'CODESIGN ARGS' 'MSIGN ARGS' FIXTURE...
#   Copies each FIXTURE into $tmp/NAME/cs and $tmp/NAME/ms; runs codesign
#   (the link, with the VAR=value words of ENV) in the first and msign in
#   the second, on the copies' names (ARGS eval'd, so quotes work). Both must exit
#   WANT_RC with the same stdout and stderr, the copies must be
#   byte-identical, and each differs from its fixture (CHANGE yes) or
#   equals it (no).
writes() {
	n=$1 want=$2 change=$3 csenv=$4 csargs=$5 msargs=$6
	shift 6
	d=$tmp/$n
	mkdir -p "$d/cs" "$d/ms"
	files=""
	for f in "$@"; do
		cp "$f" "$d/cs/"; cp "$f" "$d/ms/"
		files="$files ${f##*/}"
	done
	(cd "$d/cs" && eval "env $csenv \"\$cs\" $csargs $files") > "$d/cs.out" 2> "$d/cs.err" < /dev/null
	rc=$?
	(cd "$d/ms" && eval "\"\$M\" $msargs $files") > "$d/ms.out" 2> "$d/ms.err" < /dev/null
	mrc=$?
	good=1
	[ "$rc" = "$want" ] && [ "$mrc" = "$want" ] || { no "$n: exit $rc, msign $mrc, want $want"; good=0; }
	for s in out err; do
		cmp -s "$d/cs.$s" "$d/ms.$s" || {
			no "$n: std$s differs from msign's:"; diff "$d/ms.$s" "$d/cs.$s" | head -10; good=0; }
	done
	for f in "$@"; do
		b=${f##*/}
		cmp -s "$d/cs/$b" "$d/ms/$b" || { no "$n: $b differs from msign's"; good=0; }
		if cmp -s "$d/cs/$b" "$f"; then same=yes; else same=no; fi
		[ "$change" = yes ] && [ "$same" = yes ] && { no "$n: $b was not changed"; good=0; }
		[ "$change" = no ] && [ "$same" = no ] && { no "$n: $b was changed"; good=0; }
	done
	[ $good = 1 ] && ok
}

# display NAME WANT_RC 'CODESIGN ARGS' 'SHOW ARGS' ['SHOW ARGS FOR STDOUT']
#   codesign's stderr must be `msign show SHOW ARGS` (stdout then stderr:
#   show flushes its lines before an error); its stdout must be the file
#   `msign show ... ` writes with the third form, which names $tmp/want
#   for -r or --entitlements (else stdout must be empty).
display() {
	n=$1 want=$2 csargs=$3 showargs=$4 outargs=${5:-}
	eval "\"\$cs\" $csargs" > "$tmp/cs.out" 2> "$tmp/cs.err" < /dev/null
	rc=$?
	eval "\"\$M\" show $showargs" > "$tmp/want.err" 2>&1 < /dev/null
	mrc=$?
	: > "$tmp/want"
	[ -n "$outargs" ] && eval "\"\$M\" show $outargs" > /dev/null 2>&1
	good=1
	[ "$rc" = "$want" ] && [ "$mrc" = "$want" ] || { no "$n: exit $rc, show $mrc, want $want"; good=0; }
	cmp -s "$tmp/cs.err" "$tmp/want.err" || {
		no "$n: stderr is not show's:"; diff "$tmp/want.err" "$tmp/cs.err" | head -10; good=0; }
	cmp -s "$tmp/cs.out" "$tmp/want" || {
		no "$n: stdout:"; diff "$tmp/want" "$tmp/cs.out" | head -10; good=0; }
	[ -n "$outargs" ] && [ ! -s "$tmp/want" ] && { no "$n: show wrote nothing to compare"; good=0; }
	[ $good = 1 ] && ok
}

# refused NAME WANT_RC 'WANT STDERR' CODESIGN-ARGS...: exactly that one
# line (or, for usage errors, that line first) and nothing on stdout.
refused() {
	n=$1 want=$2 werr=$3
	shift 3
	"$cs" "$@" > "$tmp/r.out" 2> "$tmp/r.err" < /dev/null
	rc=$?
	first=$(head -n 1 "$tmp/r.err")
	lines=$(wc -l < "$tmp/r.err" | tr -d ' ')
	if [ "$rc" = "$want" ] && [ "$first" = "$werr" ] && [ ! -s "$tmp/r.out" ] &&
		{ [ "$want" = 2 ] || [ "$lines" = 1 ]; }; then ok; else
		no "$n: exit $rc (want $want), stderr:"; cat "$tmp/r.err"; echo "  want: $werr"; fi
}

# ---- Xcode's CodeSign step (build logs) --------------------------------
writes xcode.adhoc 0 yes "" "--force --sign - --timestamp=none --generate-entitlement-der" "sign -f -s -" "$FX/hello_arm64.unsigned"
writes xcode.adhoc.ent 0 yes "" "--force --sign - --entitlements $ENT --timestamp=none --generate-entitlement-der" "sign -f -s - --entitlements $ENT" "$FX/libhello_arm64.dylib"
writes xcode.identity 0 yes "$IDENV" "--force --sign $SHA1 -o runtime --timestamp=none --generate-entitlement-der" "sign -f -s $SHA1 -o runtime $IDOPT --timestamp=none" \
	"$FX/libhello_arm64.dylib"
# mapbox-gl-native's re-signing of Xcode's test frameworks
writes mapbox.preserve 0 yes "$IDENV" "--force --sign $SHA1 --deep --preserve-metadata=identifier,entitlements,flags --timestamp=none" \
	"sign -f -s $SHA1 --preserve-metadata=identifier,entitlements,flags $IDOPT --timestamp=none" \
	"$FX/adhoc_ent_arm64"

# ---- Homebrew's codesign_patched_binary ----------------------------------
writes brew.verify.tampered 1 no "" "--verify" "verify" "$FX/bad_page_tampered"
writes brew.verify.ok 0 no "" "--verify" "verify" "$FX/hello_arm64"
writes brew.resign 0 yes "" "--sign - --force --preserve-metadata=entitlements,requirements,flags,runtime" \
	"sign -s - -f --preserve-metadata=entitlements,requirements,flags,runtime" \
	"$FX/adhoc_ent_arm64" "$FX/universal"
refused brew.file-list 1 "msign codesign: --file-list is not supported yet" \
	--display --file-list - "$FX/hello_arm64"

# ---- the .NET SDK (Microsoft.NET.HostModel) -----------------------------
writes dotnet.sign 0 yes "" "-s -" "sign -s -" "$FX/hello_x86_64.unsigned"
writes dotnet.sign.signed 1 no "" "-s -" "sign -s -" "$FX/hello_x86_64"
writes dotnet.remove 0 yes "" "--remove-signature" "strip" "$FX/hello_x86_64" "$FX/universal"
writes dotnet.verify.unsigned 1 no "" "--verify" "verify" "$FX/hello_x86_64.unsigned"

# ---- electron/osx-sign ---------------------------------------------------
export MSIGN_ANCHORS=$FX/pki/root.pem # the fixtures' root, for both sides
# exit 3: cms_arm64's designated requirement asks for "anchor apple
# generic", which the fixtures' own root is not (codesign: "does not
# satisfy its designated Requirement")
writes electron.verify 3 no "" "--verify --deep --strict --verbose=2" "verify --strict -vv" "$FX/cms_arm64"
display electron.ent 0 "--display --entitlements :- $FX/cms_arm64" \
	"--verbose=0 $FX/cms_arm64" "--entitlements $tmp/want $FX/cms_arm64"

# ---- tauri-macos-sign, cargo-dist (a keychain they made: ignored, the
# ---- identity comes from MSIGN_*) -----------------------------------------
writes tauri.sign 0 yes "$IDENV" "--force -s \"$NAME\" --options runtime --keychain build.keychain --entitlements $ENT" "sign -f -s \"$NAME\" -o runtime --entitlements $ENT $IDOPT" \
	"$FX/hello_arm64.unsigned"
writes cargo-dist.sign 0 yes "$IDENV" "--sign \"$NAME\" --options runtime --keychain dist.keychain" "sign -s \"$NAME\" -o runtime $IDOPT" "$FX/hello_x86_64.unsigned"
refused cargo-dist.nokey 1 "msign codesign: -s $NAME: msign reads no keychain (--keychain); give --key and --cert (or --p12), or set MSIGN_KEY and MSIGN_CERT (or MSIGN_P12)" \
	--sign "$NAME" --options runtime --keychain dist.keychain "$FX/hello_x86_64.unsigned"

# ---- nixpkgs' sigtool codesign shim (-i, -s -, -f, -v) -------------------
writes sigtool.files 0 yes "" "-f -s - -v" "sign -f -s - -v" "$FX/hello_arm64" "$FX/hello_x86_64" "$FX/bundle_arm64.bundle"
writes sigtool.ident 0 yes "" "-i org.example.tool -s -" "sign -i org.example.tool -s -" "$FX/hello_arm64.unsigned"

# ---- CI scripts and codesign's captured outputs ---------------------------
for v in 0 1 2 3 4 5 6; do
	flags=-d; i=0
	while [ $i -lt $v ]; do flags=${flags}v; i=$((i + 1)); done
	display "display.$flags" 0 "$flags $FX/cms_arm64" "--verbose=$v $FX/cms_arm64"
done
display display.v4.universal 0 "-dv --verbose=4 $FX/universal" "--verbose=4 $FX/universal"
display display.unsigned 1 "-dv --verbose=4 $FX/hello_arm64.unsigned" "--verbose=4 $FX/hello_arm64.unsigned"
display display.r 0 "-d -r- $FX/cms_arm64" "--verbose=0 $FX/cms_arm64" "-r $tmp/want $FX/cms_arm64"
display display.ent.dash 0 "-d --entitlements - --xml $FX/adhoc_ent_arm64" \
	"--verbose=0 $FX/adhoc_ent_arm64" "--entitlements $tmp/want $FX/adhoc_ent_arm64"
display display.arch 0 "-dvvv -a arm64 $FX/universal" "--verbose=3 --arch arm64 $FX/universal"
display display.notmacho 1 "-dvvv $FX/bad_empty" "--verbose=3 $FX/bad_empty"
writes ci.verify.strict 0 no "" "--verify --strict" "verify --strict" "$FX/cms_arm64" "$FX/universal"
writes ci.verify.vvvv.unsigned 1 no "" "-vvvv" "verify -vvv" "$FX/universal.unsigned"
writes ci.verify.vv 0 no "" "-vv" "verify -v" "$FX/hello_arm64" "$FX/universal"
writes ci.verify.verbose 0 no "" "--verify --verbose" "verify -v" "$FX/adhoc_ent_arm64"
writes ci.fs 0 yes "" "-fs -" "sign -f -s -" "$FX/infoplist_arm64"

# ---- codesign's syntax: several files, --continue, -a, --dryrun -----------
# codesign stops at the first file that fails; --continue goes on.
writes multi.stop 1 no "" "-v" "verify" "$FX/hello_arm64" "$FX/bad_page_tampered"
d=$tmp/multi.stop2; mkdir -p "$d"
"$cs" -v "$FX/bad_page_tampered" "$FX/hello_arm64.unsigned" > /dev/null 2> "$d/err"
rc=$?
"$M" verify "$FX/bad_page_tampered" > /dev/null 2> "$d/want"
[ "$rc" = 1 ] && cmp -s "$d/err" "$d/want" && ok ||
	{ no "multi.stop2: exit $rc, went on past the first failure:"; cat "$d/err"; }
"$cs" -v --continue "$FX/bad_page_tampered" "$FX/hello_arm64.unsigned" > /dev/null 2> "$d/err"
rc=$?
"$M" verify "$FX/bad_page_tampered" "$FX/hello_arm64.unsigned" > /dev/null 2> "$d/want"
[ "$rc" = 1 ] && cmp -s "$d/err" "$d/want" && ok ||
	{ no "multi.continue: exit $rc:"; cat "$d/err"; }
writes arch.sign 0 yes "" "-s - -a arm64" "sign -s - --arch arm64" "$FX/universal.unsigned"
writes arch.remove 0 yes "" "--remove-signature --architecture x86_64" "strip --arch x86_64" "$FX/universal"
writes digest 0 yes "" "-s - --digest-algorithm=sha1,sha256" "sign -s - --digest sha1,sha256" "$FX/hello_arm64.unsigned"
writes options 0 yes "" "-s - -i org.example.t --prefix org.example. -o kill,hard -r=designated\\ =\\>\\ identifier\\ org.example.t" "sign -s - -i org.example.t --prefix org.example. -o kill,hard -r=designated\\ =\\>\\ identifier\\ org.example.t" \
	"$FX/hello_arm64.unsigned"
writes adhoc.timestamp 0 yes "" "-s - --timestamp" "sign -s -" "$FX/hello_arm64.unsigned"
writes joined 0 yes "" "-f -s-" "sign -f -s -" "$FX/hello_arm64"
writes allarch.verify 0 no "" "-v --all-architectures" "verify" "$FX/universal"
writes pagesize 0 yes "" "-s - -f -P 4096" "sign -s - -f --page-size 4096" "$FX/hello_arm64"
# --dryrun: what sign -n does (every page hashed, exit 0, file untouched),
# without sign -n's plan on stdout, which codesign does not print; a
# failure is reported as sign -n reports it.
cp "$FX/hello_arm64.unsigned" "$tmp/dry"
"$cs" -s - --dryrun "$tmp/dry" > "$tmp/o" 2> "$tmp/e"
rc=$?
[ "$rc" = 0 ] && [ ! -s "$tmp/o" ] && [ ! -s "$tmp/e" ] && cmp -s "$tmp/dry" "$FX/hello_arm64.unsigned" && ok ||
	no "dryrun: exit $rc, printed $(cat "$tmp/o" "$tmp/e")"
cp "$FX/hello_arm64" "$tmp/dry"
"$cs" -s - --dryrun "$tmp/dry" > "$tmp/o" 2> "$tmp/e"
rc=$?
"$M" sign -s - -n "$tmp/dry" > /dev/null 2> "$tmp/w"
[ "$rc" = 1 ] && [ ! -s "$tmp/o" ] && cmp -s "$tmp/e" "$tmp/w" && cmp -s "$tmp/dry" "$FX/hello_arm64" && ok ||
	no "dryrun.signed: exit $rc, stderr $(cat "$tmp/e")"

# The same through `msign codesign`.
"$M" codesign -d "$FX/hello_arm64" > "$tmp/o" 2> "$tmp/e"
rc=$?
"$M" show "$FX/hello_arm64" > "$tmp/w" 2>&1
[ "$rc" = 0 ] && [ ! -s "$tmp/o" ] && cmp -s "$tmp/e" "$tmp/w" && ok || no "msign codesign -d: exit $rc"

# A certificate signature with a secure timestamp (electron/osx-sign's
# --timestamp) from a TSA on 127.0.0.1 named by MSIGN_TIMESTAMP_URL: the
# token differs from run to run (nonce, time), so the comparison is the
# CodeDirectories (show -v3 but the path, the CMS size and time lines) and the
# request the TSA saw.
. tests/tsa/setup.sh
if tsa_start "$tmp/tsa"; then
	d=$tmp/electron.sign; mkdir -p "$d/cs" "$d/ms"
	cp "$FX/hello_arm64.unsigned" "$d/cs/app"; cp "$FX/hello_arm64.unsigned" "$d/ms/app"
	: > "$D/log"
	(cd "$d/cs" && env $IDENV MSIGN_TIMESTAMP_URL="$U/good" "$cs" --sign "$SHA1" --force --deep \
		--timestamp --options runtime --entitlements "$ENT" app) > "$d/cs.out" 2> "$d/cs.err"
	rc=$?
	seen=$(wc -l < "$D/log" | tr -d ' ')
	# shellcheck disable=SC2086
	(cd "$d/ms" && "$M" sign -s "$SHA1" -f --timestamp="$U/good" -o runtime --entitlements "$ENT" \
		$IDOPT app) > "$d/ms.out" 2> "$d/ms.err"
	mrc=$?
	for s in cs ms; do
		(cd "$d/$s" && "$M" show -v3 app) | grep -v -e '^Executable=' -e '^Signature size=' -e '^Timestamp=' > "$d/$s.show"
	done
	if [ "$rc" = 0 ] && [ "$mrc" = 0 ] && [ "$seen" = 1 ] && [ ! -s "$d/cs.err" ] &&
		cmp -s "$d/cs.show" "$d/ms.show" && "$M" show -v3 "$d/cs/app" | grep -q '^Timestamp=' &&
		"$M" verify --anchor "$FX/pki/root.pem" --anchor "$tmp/tsa/tsa-root.pem" "$d/cs/app"; then ok; else
		no "electron.sign: exit $rc/$mrc, TSA saw $seen requests:"; cat "$d/cs.err"
		diff "$d/ms.show" "$d/cs.show" | head; fi
else
	no "$tsa_err"
fi

# Several files' requirements follow one another on stdout; output that
# cannot be written is exit 1 on either stream.
"$cs" -d -r- "$FX/cms_arm64" "$FX/cms_sha256only_arm64" > "$tmp/o" 2> /dev/null
rc=$?
"$M" show -r "$tmp/w1" "$FX/cms_arm64" > /dev/null && "$M" show -r "$tmp/w2" "$FX/cms_sha256only_arm64" > /dev/null
cat "$tmp/w1" "$tmp/w2" > "$tmp/w"
[ "$rc" = 0 ] && [ -s "$tmp/w2" ] && cmp -s "$tmp/o" "$tmp/w" && ok || no "display.r.two: exit $rc"
"$cs" -d -r- "$FX/cms_arm64" > /dev/full 2> "$tmp/e"
rc=$?
[ "$rc" = 1 ] && [ "$(tail -n 1 "$tmp/e")" = "msign: write error: No space left on device" ] && ok ||
	no "display.r.full: exit $rc, $(cat "$tmp/e")"
"$cs" -dvvv "$FX/cms_arm64" 2> /dev/full
rc=$?
[ "$rc" = 1 ] && ok || no "display to a full stderr: exit $rc"
"$cs" -vv "$FX/hello_arm64" 2> /dev/full
rc=$?
[ "$rc" = 1 ] && ok || no "verify -vv to a full stderr: exit $rc"
# A name from the command line is escaped where it is printed.
nl='
'
refused name.escaped 1 "msign codesign: -s a\nAuthority=Apple Root CA: msign reads no keychain; give --key and --cert (or --p12), or set MSIGN_KEY and MSIGN_CERT (or MSIGN_P12)" \
	-s "a${nl}Authority=Apple Root CA" "$FX/hello_arm64.unsigned"

# ---- what msign cannot do yet: one line naming the option, exit 1 --------
# -R: the requirement evaluated by msign verify, codesign's exit 3
writes req.R.false 3 no "" "-v -R '=anchor apple'" "verify -v -R '=anchor apple'" "$FX/hello_arm64"
writes req.R.true 0 no "" "--verify -R='identifier hello_arm64'" "verify -R '=identifier hello_arm64'" "$FX/hello_arm64"
refused unsup.D 1 "msign codesign: -D/--detached is not supported yet: msign writes embedded signatures only" \
	-s - -D "$tmp/sig" "$FX/hello_arm64"
refused unsup.der 1 "msign codesign: --der is not supported yet: show prints entitlements as XML" \
	-d --entitlements - --der "$FX/adhoc_ent_arm64"
refused unsup.allarch.display 1 "msign codesign: --all-architectures with -d is not supported yet: show displays one slice (-a)" \
	-d --all-architectures "$FX/universal"
refused unsup.hosting 1 "msign codesign: -h/--hosting is not supported yet: it reads running processes" \
	-h 1
refused unsup.notarization 1 "msign codesign: --check-notarization is not supported yet" \
	-v --check-notarization "$FX/hello_arm64"
# usage errors: exit 2
refused usage.none 2 "usage: codesign -s IDENTITY [-f] [-v...] [-i ID] [-o FLAGS] [-r REQS] [--deep]"
refused usage.nofile 2 "usage: codesign -s IDENTITY [-f] [-v...] [-i ID] [-o FLAGS] [-r REQS] [--deep]" -dvvv
refused usage.noop 2 "usage: codesign -s IDENTITY [-f] [-v...] [-i ID] [-o FLAGS] [-r REQS] [--deep]" -f "$FX/hello_arm64"
refused usage.unknown 2 "msign codesign: unknown option '--frobnicate'" --frobnicate "$FX/hello_arm64"
refused usage.two 2 "msign codesign: -d: only one operation (-s, -d, --remove-signature, -v) at a time" \
	-s - -d "$FX/hello_arm64"
refused usage.noarg 2 "msign codesign: -s needs an argument" -s
refused usage.flags 2 "msign sign: -o takes runtime,library,kill,hard,... or a number" \
	-s - -o frob "$FX/hello_arm64.unsigned"

echo "codesign: $pass passed, $fail failed"
[ "$fail" = 0 ] && [ "$pass" -gt 0 ]
