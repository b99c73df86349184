#!/bin/sh
# Command-line tests of certificate signing, msign sign -s IDENTITY (run
# from the repository root):  sh tests/cms/run.sh build/msign
# A test PKI is made here with the openssl command, nothing of it cached:
# a root, a Developer ID-like intermediate (1.2.840.113635.100.6.2.6), an
# RSA leaf "Developer ID Application: ..." (1.2.840.113635.100.6.1.13,
# OU = the team, EKU codeSigning), a second leaf and an EC P-256 leaf
# (both EC: quick to make) and a PKCS#12 of the RSA identity. Checked with values computed apart from
# msign (openssl cms -verify, hashlib over the extracted CodeDirectory):
#  - thin, universal and linker-signed inputs: the CMS verifies against
#    the root, show's Authority lines, team, flags and designated
#    requirement, msign verify;
#  - the CMS structure (tests/cms/cms.py outline: types, OIDs, lengths
#    definite or not, values masked) equals a corpus Developer ID
#    signature's without its timestamp; certificates in DER SET order;
#  - the designated requirement's bytes against codesign's (corpus);
#  - the cdhashes plist, --signing-time reproducibility, the reserved room;
#  - p12 (file and environment password), EC, identity matching errors,
#    a wrong key, a timestamp that cannot be had;
#  - PKCS#11: RSA and EC keys on a SoftHSM token (softhsm2, opensc's
#    pkcs11-tool, libp11's engine), the RSA signature equal to the file
#    key's, and its errors (PIN, objects, module, engine, argv).
# Ends with "cms: N passed, M failed"; exits non-zero on a failure or when
# no check ran.
set -u
msign=$1
. tests/corpus.sh
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export LC_ALL=C MSIGN_HOST_ARCH=x86_64
unset MSIGN_P12_PASSWORD
pass=0 fail=0
FX=fixtures
H="python3 tests/cms/cms.py"

ok() { pass=$((pass + 1)); }
no() { fail=$((fail + 1)); echo "FAIL $*"; }
check() { # description, then a command that must succeed
	d=$1; shift
	if "$@"; then ok; else no "$d"; fi
}
# expect DESC RC STDERR-FIRST-LINE command...: exit status and message
expect() {
	d=$1 want_rc=$2 want_err=$3; shift 3
	"$@" > /dev/null 2> "$tmp/err"
	rc=$?
	first=$(head -n 1 "$tmp/err")
	if [ "$rc" = "$want_rc" ] && [ "$first" = "$want_err" ]; then ok; else
		no "$d: exit $rc, '$first' (want $want_rc, '$want_err')"; fi
}

# ---- the PKI --------------------------------------------------------------
P=$tmp/pki
mkdir -p "$P"
cat > "$P/ext.cnf" <<'CNF'
[req]
distinguished_name = dn
[dn]
[root]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[inter]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
1.2.840.113635.100.6.2.6 = DER:05:00
[leaf]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = critical,codeSigning
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
1.2.840.113635.100.6.1.13 = DER:05:00
CNF
TEAM=TEAMID1234
CN="Developer ID Application: Test Name ($TEAM)"
CN2="Developer ID Application: Other Name ($TEAM)"
CNEC="Developer ID Application: Elliptic Name ($TEAM)"
mkpki() {
	cfg="-config $P/ext.cnf"
	openssl req $cfg -x509 -newkey rsa:2048 -nodes -keyout "$P/root.key" \
		-out "$P/root.pem" -days 3650 -subj "/CN=Test Root CA/O=msign test" \
		-extensions root &&
	openssl req $cfg -new -newkey rsa:2048 -nodes -keyout "$P/inter.key" \
		-out "$P/inter.csr" -subj "/CN=Test Developer ID Certification Authority/O=msign test" &&
	openssl x509 -req -in "$P/inter.csr" -CA "$P/root.pem" -CAkey "$P/root.key" \
		-set_serial 2 -days 3650 -extfile "$P/ext.cnf" -extensions inter \
		-out "$P/inter.pem" &&
	for l in "leaf:rsa:2048:$CN" "leaf2:ec:$CN2" "leafec:ec:$CNEC"; do
		name=${l%%:*} rest=${l#*:}
		case $rest in
		rsa:*) kopt="-newkey rsa:2048"; cn=${rest#rsa:2048:} ;;
		ec:*) kopt="-newkey ec -pkeyopt ec_paramgen_curve:P-256"; cn=${rest#ec:} ;;
		esac
		openssl req $cfg -new $kopt -nodes -keyout "$P/$name.key" -out "$P/$name.csr" \
			-subj "/UID=$TEAM/CN=$cn/OU=$TEAM/O=Test/C=US" &&
		openssl x509 -req -in "$P/$name.csr" -CA "$P/inter.pem" -CAkey "$P/inter.key" \
			-set_serial $(od -An -N4 -tu4 /dev/urandom | tr -d ' ') -days 3650 \
			-extfile "$P/ext.cnf" -extensions leaf -out "$P/$name.pem" || return 1
	done
	cat "$P/inter.pem" "$P/root.pem" > "$P/chain.pem" &&
	printf 'p12 secret\n' > "$P/pw" &&
	openssl pkcs12 -export -inkey "$P/leaf.key" -in "$P/leaf.pem" \
		-certfile "$P/chain.pem" -passout "file:$P/pw" -out "$P/id.p12"
}
if ! mkpki > "$tmp/pki.log" 2>&1; then
	cat "$tmp/pki.log"
	no "test PKI"
	echo "cms: $pass passed, $fail failed"
	exit 1
fi
ID="--key $P/leaf.key --cert $P/leaf.pem --chain $P/chain.pem"
T=2024-05-03T13:41:47Z

# CMS of slice $2 of $1 into $tmp/x.*; verified against the root.
cms_verifies() {
	$H extract "$1" "$2" "$tmp/x" > "$tmp/x.sizes" &&
	openssl cms -verify -binary -inform DER -in "$tmp/x.cms" -content "$tmp/x.cd" \
		-CAfile "$P/root.pem" -purpose any -out /dev/null 2> "$tmp/x.err"
}
show_has() { # FILE, then lines show -v4 must print
	f=$1; shift
	"$msign" show -vvvv "$f" > "$tmp/show" 2>&1
	for l in "$@"; do
		grep -qxF "$l" "$tmp/show" || {
			echo "  missing: $l"
			grep -F "${l%%[= ]*}" "$tmp/show" | sed 's/^/  shown:   /'
			return 1
		}
	done
}
# codesign's designated requirement for a chain to a root that is not
# Apple's (DRMaker's nonAppleAnchor): the leaf's Organization ("Test")
# differs from its issuer's, so the leaf itself is pinned by its SHA-1,
# here from openssl, not msign.
sha1_of() { openssl x509 -in "$1" -noout -fingerprint -sha1 | sed 's/.*=//; s/://g' | tr A-F a-f; }
DR="designated => identifier \"hello_arm64\" and certificate leaf = H\"$(sha1_of "$P/leaf.pem")\""
AUTH1="Authority=$CN"
AUTH2="Authority=Test Developer ID Certification Authority"
AUTH3="Authority=Test Root CA"

# ---- 1. thin, with -o runtime ------------------------------------------------
out=$tmp/hello.signed
check "sign thin" "$msign" sign -s "Test Name" $ID --signing-time $T -o runtime \
	--output "$out" $FX/hello_arm64.unsigned
check "thin: openssl cms -verify" cms_verifies "$out" 0
check "thin: show -v4" show_has "$out" "$AUTH1" "$AUTH2" "$AUTH3" \
	"TeamIdentifier=$TEAM" "Signed Time=May 3, 2024 at 1:41:47 PM" \
	"CodeDirectory v=20500 size=247 flags=0x10000(runtime) hashes=2+2 location=embedded" \
	"Internal requirements count=1 size=88"
check "thin: msign verify" "$msign" verify --anchor "$P/root.pem" "$out"
"$msign" show -r- "$out" > "$tmp/dr" 2>&1
check "thin: designated requirement" grep -qxF "$DR" "$tmp/dr"
check "thin: cdhashes plist" $H plist "$tmp/x.cms" "$tmp/x.cd0"
# messageDigest and CDHashes2 hold SHA-256 of the CD (hashlib, not msign)
cdsha=$(python3 -c 'import hashlib,sys; print(hashlib.sha256(open(sys.argv[1],"rb").read()).hexdigest().upper())' "$tmp/x.cd")
n=$(openssl asn1parse -inform DER -in "$tmp/x.cms" | grep -c "OCTET STRING *\[HEX DUMP\]:$cdsha\$")
check "thin: messageDigest and CDHashes2 are SHA-256(CD) ($n)" [ "$n" = 2 ]
# The SuperBlob ends with the CMS blob; datasize, reserved before
# signing, holds it (codesign: the rest is zeros).
set -- $(cat "$tmp/x.sizes")
check "thin: SuperBlob ends at the CMS blob ($2 = $3 <= $1)" [ "$2" = "$3" -a "$3" -le "$1" ]
# codesign's room: 18000 bytes for the CMS payload, datasize padded to 16
cmslen=$(wc -c < "$tmp/x.cms")
want=$(( ($2 - cmslen + 18000 + 15) / 16 * 16 ))
check "thin: datasize $1 reserves codesign's 18000 bytes ($want)" [ "$1" = "$want" ]

# ---- 2. structure against a corpus Developer ID signature --------------------
$H outline "$tmp/x.cms" > "$tmp/ours.outline"
if corpus_ready cms "the structure comparison with a Developer ID signature"; then
	set -- $($H extract "$corpus/devid_frida_forker-macos-arm64e" 0 "$tmp/apple")
	alen=$(wc -c < "$tmp/apple.cms")
	check "codesign's datasize $1 = SuperBlob $2 - CMS $alen + 18000" \
		[ "$1" = $(( ($2 - alen + 18000 + 15) / 16 * 16 )) ]
	$H outline "$tmp/apple.cms" --no-unsigned > "$tmp/apple.outline"
	if diff "$tmp/apple.outline" "$tmp/ours.outline" > "$tmp/diff"; then ok; else
		cat "$tmp/diff"; no "CMS outline differs from the corpus' Developer ID signature"; fi
fi
# The designated requirement's bytes: what msign csreq compiles from its
# text (the compiler's output is pinned to Apple's bytes for every corpus
# requirement set by csreq-test).
"$msign" csreq -r "=$DR" -b "$tmp/dr.bin" 2> /dev/null
got=$($H reqs "$out" 0)
check "requirement set equals the compiled designated requirement" \
	[ "$(od -An -v -tx1 "$tmp/dr.bin" | tr -d ' \n')" = "$got" ]
# Certificates: leaf, intermediate, root, in DER SET order (encodings
# ascending, as in every corpus signature)
for c in leaf inter root; do
	openssl x509 -in "$P/$c.pem" -outform DER | od -An -v -tx1 | tr -d ' \n'; echo
done | sort > "$tmp/want.certs"
$H certs "$tmp/x.cms" > "$tmp/got.certs"
check "certificates: leaf, intermediate, root in DER order" cmp -s "$tmp/want.certs" "$tmp/got.certs"
check "no SMIMECapabilities" sh -c "! grep -q 'SMIMECapabilities\|1.2.840.113549.1.9.15' '$tmp/ours.outline'"

# ---- 3. reproducible with --signing-time; a CD without runtime -----------------
"$msign" sign -s "$CN" $ID --signing-time $T --output "$tmp/r1" $FX/hello_arm64.unsigned
"$msign" sign -s "$CN" $ID --signing-time $T --output "$tmp/r2" $FX/hello_arm64.unsigned
check "--signing-time: identical bytes" cmp -s "$tmp/r1" "$tmp/r2"
check "no runtime: CD 0x20400 with team, no adhoc flag" show_has "$tmp/r1" \
	"CodeDirectory v=20400 size=239 flags=0x0(none) hashes=2+2 location=embedded" \
	"TeamIdentifier=$TEAM"
"$msign" sign -s "$CN" $ID --signing-time 2024-05-03T13:41:48Z --output "$tmp/r3" $FX/hello_arm64.unsigned
check "another signing time: other bytes" sh -c "! cmp -s '$tmp/r1' '$tmp/r3'"

sign_none() {
	"$msign" sign -s "$CN" $ID --signing-time none --output "$1" $FX/hello_arm64.unsigned
}
check "--signing-time none" sign_none "$tmp/n1"
sign_none "$tmp/n2"
check "--signing-time none: identical bytes" cmp -s "$tmp/n1" "$tmp/n2"
check "--signing-time none: CMS verifies" cms_verifies "$tmp/n1" 0
$H outline "$tmp/x.cms" | grep OBJECT | sed -n '/contentType/,/100.9.1/p' | tr -s ' ' > "$tmp/n.attrs"
printf '%s\n' " OBJECT contentType def" " OBJECT pkcs7-data def" " OBJECT messageDigest def" \
	" OBJECT 1.2.840.113635.100.9.2 def" " OBJECT sha256 def" " OBJECT 1.2.840.113635.100.9.1 def" > "$tmp/n.want"
check "--signing-time none: no signingTime attribute" cmp -s "$tmp/n.want" "$tmp/n.attrs"
check "--signing-time none: msign verify" "$msign" verify --anchor "$P/root.pem" "$tmp/n1"

# ---- 3b. two CodeDirectories: both in the plist and in CDHashes2 ---------------
check "sign --digest sha1,sha256" "$msign" sign -s "$CN" $ID --digest sha1,sha256 \
	--output "$tmp/two" $FX/hello_arm64.unsigned
check "two CDs: CMS over the SHA-1 CD in slot 0 verifies" cms_verifies "$tmp/two" 0
check "two CDs: cdhashes plist" $H plist "$tmp/x.cms" "$tmp/x.cd0" "$tmp/x.cd1"
sha1cd=$(python3 -c 'import hashlib,sys; print(hashlib.sha1(open(sys.argv[1],"rb").read()).hexdigest().upper())' "$tmp/x.cd0")
sha2cd=$(python3 -c 'import hashlib,sys; print(hashlib.sha256(open(sys.argv[1],"rb").read()).hexdigest().upper())' "$tmp/x.cd1")
openssl asn1parse -inform DER -in "$tmp/x.cms" > "$tmp/two.asn1"
check "two CDs: CDHashes2 holds SHA-1 and SHA-256 of their CDs" sh -c \
	"grep -q ':$sha1cd\$' '$tmp/two.asn1' && grep -q ':$sha2cd\$' '$tmp/two.asn1'"
check "two CDs: msign verify" "$msign" verify --anchor "$P/root.pem" "$tmp/two"

# ---- 4. universal, linker-signed -------------------------------------------------
check "sign universal" "$msign" sign -s "Test Name" $ID --output "$tmp/uni" $FX/universal.unsigned
check "universal: slice 0 CMS verifies" cms_verifies "$tmp/uni" 0
check "universal: slice 1 CMS verifies" cms_verifies "$tmp/uni" 1
check "universal: msign verify" "$msign" verify --anchor "$P/root.pem" "$tmp/uni"
cp $FX/hello_arm64 "$tmp/lk"
check "linker-signed input is linker-signed" show_has "$tmp/lk" \
	"CodeDirectory v=20400 size=264 flags=0x20002(adhoc,linker-signed) hashes=5+0 location=embedded"
check "sign a linker-signed file (-f)" "$msign" sign -f -s "Test Name" $ID "$tmp/lk"
check "linker-signed: CMS verifies" cms_verifies "$tmp/lk" 0
check "linker-signed: now a certificate signature" show_has "$tmp/lk" "$AUTH1" "$AUTH3" \
	"TeamIdentifier=$TEAM"
check "linker-signed: msign verify" "$msign" verify --anchor "$P/root.pem" "$tmp/lk"

check "entitlements with an identity" "$msign" sign -s "Test Name" $ID \
	--entitlements $FX/src/ent-cms.plist --output "$tmp/ent" $FX/hello_arm64.unsigned
check "entitlements: CMS verifies" cms_verifies "$tmp/ent" 0
check "entitlements: msign verify" "$msign" verify --anchor "$P/root.pem" "$tmp/ent"
check "entitlements: hashes=2+7" show_has "$tmp/ent" \
	"CodeDirectory v=20400 size=399 flags=0x0(none) hashes=2+7 location=embedded"
"$msign" sign -n -s "Test Name" $ID --output "$tmp/dry" $FX/hello_arm64.unsigned > "$tmp/dry.out"
check "dry run with an identity: described, nothing written" sh -c \
	"grep -q 'dry run, nothing written' '$tmp/dry.out' && [ ! -e '$tmp/dry' ]"

# ---- 5. PKCS#12, EC --------------------------------------------------------------
check "p12, password file" "$msign" sign -s "Test Name" --p12 "$P/id.p12" \
	--p12-password-file "$P/pw" --signing-time $T --output "$tmp/p12a" $FX/hello_arm64.unsigned
check "p12: same bytes as PEM" cmp -s "$tmp/r1" "$tmp/p12a"
check "p12, password from MSIGN_P12_PASSWORD" env MSIGN_P12_PASSWORD="p12 secret" \
	"$msign" sign -s "Test Name" --p12 "$P/id.p12" --output "$tmp/p12b" $FX/hello_arm64.unsigned
check "p12: CMS verifies" cms_verifies "$tmp/p12b" 0
"$msign" sign -s "Test Name" --p12 "$P/id.p12" --output "$tmp/p12c" $FX/hello_arm64.unsigned 2> "$tmp/err"
check "p12, no password: an error, no output" sh -c "grep -q 'wrong password' '$tmp/err' && [ ! -e '$tmp/p12c' ]"
check "EC P-256" "$msign" sign -s "Elliptic" --key "$P/leafec.key" --cert "$P/leafec.pem" \
	--chain "$P/chain.pem" --output "$tmp/ec" $FX/hello_arm64.unsigned
check "EC: CMS verifies" cms_verifies "$tmp/ec" 0
check "EC: msign verify" "$msign" verify --anchor "$P/root.pem" "$tmp/ec"
$H outline "$tmp/x.cms" > "$tmp/ec.outline"
check "EC: ecdsa-with-SHA256" grep -q "^ *OBJECT ecdsa-with-SHA256 def$" "$tmp/ec.outline"

# ---- 5b. PKCS#11 (softhsm2) -------------------------------------------------------
# A SoftHSM token in $tmp, the RSA and EC leaf keys imported into it with
# softhsm2-util, their certificates written next to them with opensc's
# pkcs11-tool (same CKA_ID and label). The RSA signature is deterministic
# (PKCS#1 v1.5): with a fixed signing time the token's signature must be
# the file key's, byte for byte.
K=$tmp/p11
mkdir -p "$K/tokens"
printf 'directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n' \
	"$K/tokens" > "$K/softhsm2.conf"
export SOFTHSM2_CONF="$K/softhsm2.conf"
unset MSIGN_PKCS11_PIN MSIGN_PKCS11_MODULE
MOD=/usr/lib/softhsm/libsofthsm2.so
printf '1234\n' > "$K/pin"
printf '9999\n' > "$K/badpin"
printf '1234' > "$K/pinsrc" # libp11 takes a pin-source file whole
mktoken() {
	softhsm2-util --init-token --free --label msign --pin 1234 --so-pin 5678 &&
	for o in leaf:devid:01 leafec:devec:02 leaf2:nocert:03; do
		f=${o%%:*} rest=${o#*:}; label=${rest%%:*} id=${rest#*:}
		openssl pkcs8 -topk8 -nocrypt -in "$P/$f.key" -out "$K/$f.pk8" &&
		softhsm2-util --import "$K/$f.pk8" --token msign --label $label --id $id \
			--pin 1234 || return 1
		[ $label = nocert ] && continue
		openssl x509 -in "$P/$f.pem" -outform DER -out "$K/$f.der" &&
		pkcs11-tool --module "$MOD" --token-label msign --login --pin 1234 \
			--write-object "$K/$f.der" --type cert --id $id --label $label || return 1
	done
	for c in inter:10 root:11; do # the issuers, as certificate objects only
		openssl x509 -in "$P/${c%:*}.pem" -outform DER -out "$K/${c%:*}.der" &&
		pkcs11-tool --module "$MOD" --token-label msign --login --pin 1234 \
			--write-object "$K/${c%:*}.der" --type cert --id ${c#*:} --label ${c%:*} || return 1
	done
}
if ! mktoken > "$K/log" 2>&1; then
	cat "$K/log"
	no "PKCS#11: a softhsm2 token (softhsm2, opensc: sh tools/deps.sh test)"
else
	U='pkcs11:token=msign;object=devid'
	P11="--pkcs11-module $MOD --pkcs11-pin-file $K/pin"
	"$msign" sign -s "$CN" $ID --signing-time $T --output "$tmp/p11ref" $FX/hello_arm64.unsigned
	check "pkcs11 RSA: signed" "$msign" sign -s "$CN" --pkcs11 "$U" $P11 --chain "$P/chain.pem" \
		--signing-time $T --output "$tmp/p11a" $FX/hello_arm64.unsigned
	check "pkcs11 RSA: openssl cms -verify" cms_verifies "$tmp/p11a" 0
	check "pkcs11 RSA: show -v4" show_has "$tmp/p11a" "$AUTH1" "$AUTH2" "$AUTH3" \
		"TeamIdentifier=$TEAM" "Signed Time=May 3, 2024 at 1:41:47 PM"
	check "pkcs11 RSA: msign verify" "$msign" verify --anchor "$P/root.pem" "$tmp/p11a"
	check "pkcs11 RSA: the file key's bytes" cmp -s "$tmp/p11ref" "$tmp/p11a"
	check "pkcs11: module and PIN from the environment, certificate from --cert" \
		env MSIGN_PKCS11_MODULE=$MOD MSIGN_PKCS11_PIN=1234 "$msign" sign -s "Test Name" \
		--pkcs11 "$U" --cert "$P/leaf.pem" --chain "$P/chain.pem" --signing-time $T \
		--output "$tmp/p11b" $FX/hello_arm64.unsigned
	check "pkcs11, --cert: the same bytes" cmp -s "$tmp/p11ref" "$tmp/p11b"
	check "pkcs11, the issuers from the token (no --chain)" "$msign" sign -s "$CN" \
		--pkcs11 "$U" $P11 --signing-time $T --output "$tmp/p11t" $FX/hello_arm64.unsigned
	check "pkcs11, the token's issuers: openssl cms -verify" cms_verifies "$tmp/p11t" 0
	check "pkcs11, the token's issuers: the same bytes" cmp -s "$tmp/p11ref" "$tmp/p11t"
	# no module named: the engine's default, p11-kit's proxy (the engine's
	# package depends on p11-kit), which loads the module softhsm2-common
	# registers with p11-kit
	check "pkcs11, the engine's default module" "$msign" sign -s "$CN" --pkcs11 "$U" \
		--pkcs11-pin-file "$K/pin" --chain "$P/chain.pem" --signing-time $T \
		--output "$tmp/p11d" $FX/hello_arm64.unsigned
	check "pkcs11, default module: the same bytes" cmp -s "$tmp/p11ref" "$tmp/p11d"
	leafsha1=$(openssl x509 -in "$P/leaf.pem" -noout -fingerprint -sha1 | sed 's/.*=//; s/://g')
	check "pkcs11, the PIN from the URI's pin-source" "$msign" sign -s "$leafsha1" \
		--pkcs11 "$U?pin-source=file:$K/pinsrc" --pkcs11-module $MOD --chain "$P/chain.pem" \
		--signing-time $T --output "$tmp/p11c" $FX/hello_arm64.unsigned
	check "pkcs11, pin-source, by SHA-1: the same bytes" cmp -s "$tmp/p11ref" "$tmp/p11c"
	check "pkcs11 EC P-256: signed" "$msign" sign -s "Elliptic" \
		--pkcs11 'pkcs11:token=msign;object=devec' $P11 --chain "$P/chain.pem" \
		--output "$tmp/p11ec" $FX/hello_arm64.unsigned
	check "pkcs11 EC: openssl cms -verify" cms_verifies "$tmp/p11ec" 0
	$H outline "$tmp/x.cms" > "$tmp/p11ec.outline"
	check "pkcs11 EC: ecdsa-with-SHA256" grep -q "^ *OBJECT ecdsa-with-SHA256 def$" "$tmp/p11ec.outline"
	check "pkcs11 EC: show -v4" show_has "$tmp/p11ec" "Authority=$CNEC" "$AUTH2" "$AUTH3" \
		"TeamIdentifier=$TEAM"
	check "pkcs11 EC: msign verify" "$msign" verify --anchor "$P/root.pem" "$tmp/p11ec"
	check "pkcs11 universal" "$msign" sign -s "$CN" --pkcs11 "$U" $P11 --chain "$P/chain.pem" \
		--output "$tmp/p11uni" $FX/universal.unsigned
	check "pkcs11 universal: slice 1 CMS verifies" cms_verifies "$tmp/p11uni" 1
	# errors: one line, exit 1, the file as it was
	cp $FX/hello_arm64.unsigned "$tmp/p11in"
	pe() { # DESC RC LINE, then sign's arguments after -s
		d=$1 rc=$2 line=$3; shift 3
		expect "pkcs11, $d" "$rc" "$line" "$msign" sign "$@" "$tmp/p11in"
		check "pkcs11, $d: file unchanged" cmp -s $FX/hello_arm64.unsigned "$tmp/p11in"
	}
	pe "wrong PIN" 1 "msign sign: PKCS#11: $U: the token refused the PIN (PIN incorrect)" \
		-s "$CN" --pkcs11 "$U" --pkcs11-module $MOD --pkcs11-pin-file "$K/badpin"
	pe "no PIN" 1 "msign sign: PKCS#11: $U: the token needs a PIN (--pkcs11-pin-file FILE or MSIGN_PKCS11_PIN)" \
		-s "$CN" --pkcs11 "$U" --pkcs11-module $MOD
	pe "no such key object" 1 "msign sign: PKCS#11: pkcs11:token=msign;object=nope: no such private key object on the token" \
		-s "$CN" --pkcs11 'pkcs11:token=msign;object=nope' $P11
	pe "no such token" 1 "msign sign: PKCS#11: pkcs11:token=other;object=devid: no such token" \
		-s "$CN" --pkcs11 'pkcs11:token=other;object=devid' $P11
	pe "no certificate object" 1 "msign sign: PKCS#11: pkcs11:token=msign;object=nocert: no certificate object on the token (give --cert)" \
		-s "Other" --pkcs11 'pkcs11:token=msign;object=nocert' $P11
	pe "a certificate not of the key" 1 "msign sign: the private key does not belong to \"$CN2\"" \
		-s "Other" --pkcs11 "$U" $P11 --cert "$P/leaf2.pem"
	pe "IDENTITY is not the token's leaf" 1 "msign sign: Elliptic: no identity found" \
		-s "Elliptic" --pkcs11 "$U" $P11
	pe "no such module" 1 "msign sign: PKCS#11: $K/none.so: No such file or directory" \
		-s "$CN" --pkcs11 "$U" --pkcs11-module "$K/none.so" --pkcs11-pin-file "$K/pin"
	OPENSSL_ENGINES=$K/none; export OPENSSL_ENGINES # where OpenSSL looks for engines
	pe "no pkcs11 engine" 1 "msign sign: PKCS#11: OpenSSL has no pkcs11 engine (Debian: libengine-pkcs11-openssl)" \
		-s "$CN" --pkcs11 "$U" $P11
	unset OPENSSL_ENGINES
	pe "pin-value on the command line" 2 "msign sign: a PIN is never taken from the command line (--pkcs11-pin-file FILE or MSIGN_PKCS11_PIN)" \
		-s "$CN" --pkcs11 "$U?pin-value=1234" --pkcs11-module $MOD
	pe "--pkcs11-pin" 2 "msign sign: a PIN is never taken from the command line (--pkcs11-pin-file FILE or MSIGN_PKCS11_PIN)" \
		-s "$CN" --pkcs11 "$U" --pkcs11-pin=1234
	pe "--pkcs11 and --key" 2 "msign sign: --pkcs11, --key or --p12: one of them" \
		-s "$CN" --pkcs11 "$U" $P11 --key "$P/leaf.key" --cert "$P/leaf.pem"
	pe "not a PKCS#11 URI" 2 "msign sign: --pkcs11 takes a PKCS#11 URI (pkcs11:token=...;object=...)" \
		-s "$CN" --pkcs11 "token=msign" $P11
	pe "--pkcs11 with -s -" 2 "msign sign: -s - is ad hoc: no key, certificate or timestamp" \
		-s - --pkcs11 "$U" $P11
fi

# ---- 6. identities and errors ----------------------------------------------------
cat "$P/leaf.pem" "$P/leaf2.pem" > "$P/two.pem"
two="--key $P/leaf.key --cert $P/two.pem --chain $P/chain.pem"
sha1=$(openssl x509 -in "$P/leaf.pem" -noout -fingerprint -sha1 | sed 's/.*=//; s/://g')
check "by SHA-1 among two leaves" "$msign" sign -s "$sha1" $two --output "$tmp/s1" $FX/hello_arm64.unsigned
check "by exact CN among two leaves" "$msign" sign -s "$CN" $two --output "$tmp/s2" $FX/hello_arm64.unsigned
check "by unique substring" "$msign" sign -s "Test Name" $two --output "$tmp/s3" $FX/hello_arm64.unsigned
expect "ambiguous" 1 "msign sign: Developer ID Application: ambiguous (matches \"$CN\" and \"$CN2\")" \
	"$msign" sign -s "Developer ID Application" $two --output "$tmp/e" $FX/hello_arm64.unsigned
expect "no match" 1 "msign sign: Nobody: no identity found" \
	"$msign" sign -s Nobody $ID --output "$tmp/e" $FX/hello_arm64.unsigned
expect "wrong key" 1 "msign sign: the private key does not belong to \"$CN2\"" \
	"$msign" sign -s "Other" $two --output "$tmp/e" $FX/hello_arm64.unsigned
expect "EC key, RSA leaf" 1 "msign sign: the private key does not belong to \"$CN\"" \
	"$msign" sign -s "Test Name" --key "$P/leafec.key" --cert "$P/leaf.pem" --output "$tmp/e" $FX/hello_arm64.unsigned
expect "-s - with a key" 2 "msign sign: -s - is ad hoc: no key, certificate or timestamp" \
	"$msign" sign -s - --key "$P/leaf.key" --output "$tmp/e" $FX/hello_arm64.unsigned
expect "identity without a key" 2 "msign sign: -s IDENTITY needs --key and --cert, --p12 or --pkcs11" \
	"$msign" sign -s "Test Name" --output "$tmp/e" $FX/hello_arm64.unsigned
expect "identity and --linker-signed" 2 "msign sign: --linker-signed is ad hoc (-s -)" \
	"$msign" sign -s "Test Name" $ID --linker-signed --output "$tmp/e" $FX/hello_arm64.unsigned
expect "bad --signing-time" 2 "msign sign: --signing-time takes YYYY-MM-DDTHH:MM:SSZ (UTC) or none" \
	"$msign" sign -s "Test Name" $ID --signing-time 2024-02-30T00:00:00Z $FX/hello_arm64.unsigned
expect "no password on the command line" 2 "msign sign: a password is never taken from the command line (--p12-password-file FILE or MSIGN_P12_PASSWORD)" \
	"$msign" sign -s "Test Name" --p12 "$P/id.p12" --p12-password=x $FX/hello_arm64.unsigned
check "errors wrote nothing" [ ! -e "$tmp/e" ]
# A timestamp that cannot be had fails the signing (nothing listens on
# port 9 of localhost).
"$msign" sign -s "Test Name" $ID --timestamp=http://127.0.0.1:9/ --output "$tmp/ts" \
	$FX/hello_arm64.unsigned 2> "$tmp/err"
rc=$?
check "unreachable TSA: exit 1 ($rc), no output" [ "$rc" = 1 -a ! -e "$tmp/ts" ]
check "--timestamp=none" "$msign" sign -s "Test Name" $ID --timestamp=none --output "$tmp/tsn" \
	$FX/hello_arm64.unsigned

# -r REQ: an explicit requirement set (text, a text file, a compiled
# file), embedded byte for byte as msign csreq compiles it, shown by show
# -r- without an implicit line, and still verifying.
REQ='designated => identifier "org.msign.req" and anchor apple generic and certificate leaf[subject.OU] = TEAM1'
"$msign" csreq -r "=$REQ" -b "$tmp/req.bin"
printf '%s\n' "$REQ" > "$tmp/req.txt"
req_is() { # FILE: its slot-2 set is req.bin's bytes and show -r- prints REQ
	[ "$($H reqs "$1" 0)" = "$(od -An -v -tx1 "$tmp/req.bin" | tr -d ' \n')" ] &&
	[ "$("$msign" show -r- "$1" 2>/dev/null)" = "$(printf 'Executable=%s\n%s' "$(realpath "$1")" "$REQ")" ]
}
check "-r =TEXT, ad hoc" "$msign" sign -s - -r "=$REQ" --output "$tmp/r1" $FX/hello_arm64.unsigned
check "-r =TEXT: the set csreq compiles, shown as given" req_is "$tmp/r1"
check "-r =TEXT: verifies" "$msign" verify --anchor "$P/root.pem" "$tmp/r1"
check "-r FILE (text), identity" "$msign" sign -s "Test Name" $ID -r "$tmp/req.txt" \
	--output "$tmp/r2" $FX/hello_arm64.unsigned
check "-r FILE (text): the set, shown" req_is "$tmp/r2"
check "-r FILE (text): openssl cms -verify" cms_verifies "$tmp/r2" 0
check "-r FILE (compiled)" "$msign" sign -s - -r "$tmp/req.bin" --output "$tmp/r3" \
	$FX/hello_arm64.unsigned
check "-r FILE (compiled): the set, shown" req_is "$tmp/r3"
expect "-r with a syntax error" 1 "msign sign: -r: requirement text, line 1 column 14: expected a requirement but found the end of the text" \
	"$msign" sign -s - -r "=designated =>" --output "$tmp/r4" $FX/hello_arm64.unsigned
printf '\372\336\014\000\000\000\000\010' > "$tmp/one.bin"
expect "-r with one requirement, not a set" 1 "msign sign: $tmp/one.bin: a single requirement, not a requirement set (compile it with \"designated => \" in front)" \
	"$msign" sign -s - -r "$tmp/one.bin" --output "$tmp/r4" $FX/hello_arm64.unsigned
expect "-r and --linker-signed" 2 "msign sign: --linker-signed takes no entitlements, requirements or -o flags" \
	"$msign" sign -s - --linker-signed -r "=$REQ" --output "$tmp/r4" $FX/hello_arm64.unsigned
check "-r errors wrote nothing" [ ! -e "$tmp/r4" ]

# A self-signed identity (openssl req -x509 makes it a CA, and a lone
# certificate is its own anchor): DRMaker pins the root when it has an
# Organization; no OU, so no team identifier.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout "$P/solo.key" -out "$P/solo.pem" -days 30 \
	-subj "/CN=Solo Signer/O=Solo Org" > /dev/null 2>&1
check "self-signed identity: signed" "$msign" sign -s "Solo" --key "$P/solo.key" \
	--cert "$P/solo.pem" --signing-time $T --output "$tmp/solo" $FX/hello_arm64.unsigned
"$msign" show -r- "$tmp/solo" > "$tmp/dr" 2>&1
check "self-signed identity: designated requirement pins the root" grep -qxF \
	"designated => identifier \"hello_arm64\" and certificate root = H\"$(sha1_of "$P/solo.pem")\"" "$tmp/dr"
check "self-signed identity: one Authority, no team" show_has "$tmp/solo" \
	"Authority=Solo Signer" "TeamIdentifier=not set"

# --preserve-metadata when re-signing: an ad-hoc signature with an
# identifier, entitlements, a requirement set, flags and a hardened-runtime
# version gives them to the certificate signature that replaces it. The
# runtime version is told apart from the SDK the new signature would take
# by patching LC_BUILD_VERSION's sdk (11.0 -> 15.0) after the first signing.
cat > "$tmp/ent.plist" <<'PL'
<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
	<key>com.apple.security.app-sandbox</key>
	<true/>
</dict>
</plist>
PL
KEEP_REQ='designated => identifier "org.msign.kept" and anchor apple generic'
"$msign" sign -s - -i org.msign.kept --entitlements "$tmp/ent.plist" -o kill,runtime \
	-r "=$KEEP_REQ" --output "$tmp/pm" $FX/hello_arm64.unsigned
python3 - "$tmp/pm" <<'PY'
import struct, sys
b = bytearray(open(sys.argv[1], 'rb').read())
ncmds = struct.unpack_from('<I', b, 16)[0]
off = 32
for _ in range(ncmds):
    cmd, size = struct.unpack_from('<II', b, off)
    if cmd == 0x32:  # LC_BUILD_VERSION: platform, minos, sdk
        struct.pack_into('<I', b, off + 16, 0x000f0000)
    off += size
open(sys.argv[1], 'wb').write(b)
PY
cp "$tmp/pm" "$tmp/pm2"
check "--preserve-metadata: re-signed" "$msign" sign -f -s "Test Name" $ID --signing-time $T \
	--preserve-metadata=identifier,entitlements,requirements,flags,runtime "$tmp/pm"
check "--preserve-metadata: identifier, flags, runtime 11.0 kept" show_has "$tmp/pm" \
	"Identifier=org.msign.kept" "Runtime Version=11.0.0" "TeamIdentifier=$TEAM" \
	"CodeDirectory v=20500 size=410 flags=0x10200(kill,runtime) hashes=2+7 location=embedded"
"$msign" show -r- "$tmp/pm" > "$tmp/dr" 2>&1
check "--preserve-metadata: the requirement set kept" grep -qxF "$KEEP_REQ" "$tmp/dr"
"$msign" show --entitlements - "$tmp/pm" > "$tmp/ent.out" 2>&1
check "--preserve-metadata: the entitlements kept" grep -qF "com.apple.security.app-sandbox" "$tmp/ent.out"
check "--preserve-metadata: verifies" "$msign" verify --anchor "$P/root.pem" "$tmp/pm"
# Explicit options win; without runtime the SDK (now 15.0) is taken.
check "--preserve-metadata with -i and -o" "$msign" sign -f -s "Test Name" $ID \
	-i org.msign.new -o runtime --preserve-metadata=identifier,flags "$tmp/pm2"
check "--preserve-metadata: -i, -o and the SDK's runtime" show_has "$tmp/pm2" \
	"Identifier=org.msign.new" "Runtime Version=15.0.0" \
	"CodeDirectory v=20500 size=249 flags=0x10000(runtime) hashes=2+2 location=embedded"
expect "--preserve-metadata=bogus" 2 "msign sign: --preserve-metadata takes identifier,entitlements,requirements,flags,runtime" \
	"$msign" sign -f -s - --preserve-metadata=bogus "$tmp/pm2"

# --for-notarization lists every problem it can know offline, exit 1,
# nothing written.
cat > "$tmp/gta.plist" <<'PL'
<?xml version="1.0" encoding="UTF-8"?>
<plist version="1.0"><dict><key>com.apple.security.get-task-allow</key><true/></dict></plist>
PL
"$msign" sign -s - --for-notarization --entitlements "$tmp/gta.plist" \
	--output "$tmp/nz" $FX/hello_arm64.unsigned 2> "$tmp/nz.err"
rc=$?
printf '%s\n' "$FX/hello_arm64.unsigned: not ready for notarization (4 problems):" \
	"  an ad-hoc signature: notarization needs a Developer ID Application certificate" \
	"  the hardened runtime is not enabled (-o runtime)" \
	"  no secure timestamp (--timestamp)" \
	"  the entitlements grant com.apple.security.get-task-allow" > "$tmp/nz.want"
check "--for-notarization, ad hoc: exit 1 ($rc), every problem" \
	sh -c "[ $rc = 1 ] && cmp -s '$tmp/nz.want' '$tmp/nz.err' && [ ! -e '$tmp/nz' ]"
"$msign" sign -s Solo --key "$P/solo.key" --cert "$P/solo.pem" --for-notarization \
	-o runtime --digest sha1 --output "$tmp/nz" $FX/hello_arm64.unsigned 2> "$tmp/nz.err"
rc=$?
printf '%s\n' "$FX/hello_arm64.unsigned: not ready for notarization (3 problems):" \
	"  \"Solo Signer\" is no Developer ID Application certificate (no extension 1.2.840.113635.100.6.1.13)" \
	"  no secure timestamp (--timestamp)" \
	"  no SHA-256 CodeDirectory (--digest)" > "$tmp/nz.want"
check "--for-notarization, self-signed: exit 1 ($rc), every problem" \
	sh -c "[ $rc = 1 ] && cmp -s '$tmp/nz.want' '$tmp/nz.err' && [ ! -e '$tmp/nz' ]"

# ---- trust: the chain to an anchor, the signature value, expiration -------
# Independent check first: openssl verify agrees the test chain is good.
check "openssl verify: the test leaf chains to the root" \
	openssl verify -CAfile "$P/root.pem" -untrusted "$P/inter.pem" "$P/leaf.pem"
expect "no anchor: untrusted" 1 "$out: signature is valid but signer is not trusted" \
	"$msign" verify "$out"
check "MSIGN_ANCHORS names the anchor when --anchor does not" \
	env MSIGN_ANCHORS="$P/pw:$P/root.pem" "$msign" verify --anchor "$P/root.pem" "$out"
expect "MSIGN_ANCHORS: every file is read (one holds no certificate)" 1 \
	"msign verify: $P/pw: no PEM certificate in the anchor file" \
	env MSIGN_ANCHORS="$P/root.pem:$P/pw" "$msign" verify "$out"
check "MSIGN_ANCHORS=ROOT: trusted" env MSIGN_ANCHORS="$P/root.pem" "$msign" verify "$out"
# Requirements against msign's own signature, under the test root: its
# designated requirement (the leaf pinned by SHA-1) holds; -R evaluates.
"$msign" verify -v --anchor "$P/root.pem" "$out" 2> "$tmp/err"
check "verify -v: satisfies its designated requirement" \
	grep -qxF "$out: satisfies its Designated Requirement" "$tmp/err"
expect "-R anchor apple: exit 3" 3 "$out: code failed to satisfy specified code requirement(s)" \
	"$msign" verify --anchor "$P/root.pem" -R "=anchor apple generic" "$out"
check "-R the root's SHA-1 and the team: exit 0" "$msign" verify --anchor "$P/root.pem" \
	-R "=certificate root = H\"$(sha1_of "$P/root.pem")\" and certificate leaf[subject.OU] = $TEAM and anchor trusted" "$out"
printf 'identifier "hello_arm64" and certificate 1[field.1.2.840.113635.100.6.2.6] exists\n' > "$tmp/req.txt"
check "-R FILE of text" "$msign" verify --anchor "$P/root.pem" -R "$tmp/req.txt" "$out"
"$msign" csreq -r "=identifier other" -b "$tmp/req.bin" 2> /dev/null
expect "-R FILE compiled, false: exit 3" 3 "$out: code failed to satisfy specified code requirement(s)" \
	"$msign" verify --anchor "$P/root.pem" -R "$tmp/req.bin" "$out"
check "--anchor FILE with two certificates (intermediate + root)" \
	"$msign" verify --anchor "$P/chain.pem" "$out"
expect "--anchor with no certificate" 1 "msign verify: $P/pw: no PEM certificate in the anchor file" \
	"$msign" verify --anchor "$P/pw" "$out"
# The signature value flipped (last byte of the RSA signature before the
# zero padding): codesign's "modified", whatever the chain.
flip_sig() {
	python3 - "$1" "$2" "$tmp/x.cms" <<'PY'
import sys, subprocess
src, dst, cms = sys.argv[1:4]
out = subprocess.run(['openssl', 'asn1parse', '-inform', 'DER', '-in', cms],
                     capture_output=True, text=True).stdout.splitlines()
sig = None
for ln in out:
    if 'OCTET STRING' in ln and 'l= 256' in ln:
        sig = bytes.fromhex(ln.split('[HEX DUMP]:')[1])
data = bytearray(open(src, 'rb').read())
i = data.find(sig)
assert sig and i > 0 and data.find(sig, i + 1) < 0
data[i + 100] ^= 1
open(dst, 'wb').write(data)
PY
}
$H extract "$out" 0 "$tmp/x" > /dev/null
check "flip a byte of the signature value" flip_sig "$out" "$tmp/flipped"
expect "signature value flipped: modified" 1 "$tmp/flipped: invalid signature (code or signature have been modified)" \
	"$msign" verify --anchor "$P/root.pem" "$tmp/flipped"
check "--no-trust: the flipped signature value passes the hash checks" \
	"$msign" verify --no-trust "$tmp/flipped"

# CDHashes2 names the SHA-256 CD's full CDHash: one flipped bit there is
# "modified" (verify.c), before the signature value is looked at.
flip_cdh2() {
	python3 - "$1" "$2" <<'PY'
import sys
src, dst = sys.argv[1:3]
data = bytearray(open(src, 'rb').read())
pre = bytes.fromhex('0609608648016503040201' '0420')
i = data.find(pre)
assert i > 0 and data.find(pre, i + 1) < 0
data[i + len(pre)] ^= 1
open(dst, 'wb').write(data)
PY
}
check "flip a bit of the CDHashes2 hash" flip_cdh2 "$out" "$tmp/cdh2"
expect "CDHashes2 flipped: modified" 1 "$tmp/cdh2: invalid signature (code or signature have been modified)" \
	"$msign" verify --no-trust "$tmp/cdh2"
"$msign" verify --no-trust "$tmp/cdh2" 2> "$tmp/err"
check "CDHashes2 flipped: the detail names it" grep -qxF \
	"msign: the sha256 CodeDirectory's CDHash is not in the CMS CDHashes2 attribute" "$tmp/err"
# An expired leaf (openssl ca with dates in the past; no faketime).
mkdir -p "$P/ca" && : > "$P/ca/index.txt" && echo 1000 > "$P/ca/serial"
cat > "$P/ca.cnf" <<CNF
[ca]
default_ca = c
[c]
database = $P/ca/index.txt
new_certs_dir = $P/ca
serial = $P/ca/serial
default_md = sha256
policy = p
unique_subject = no
[p]
commonName = supplied
CNF
check "openssl ca: an expired leaf (2020-2021)" sh -c "openssl ca -batch -config '$P/ca.cnf' \
	-cert '$P/inter.pem' -keyfile '$P/inter.key' -in '$P/leaf.csr' -notext \
	-startdate 20200101000000Z -enddate 20210101000000Z -extfile '$P/ext.cnf' \
	-extensions leaf -out '$P/old.pem' > '$tmp/ca.log' 2>&1"
expect "openssl verify: the old leaf has expired" 2 "error 10 at 0 depth lookup: certificate has expired" \
	sh -c "openssl verify -CAfile '$P/root.pem' -untrusted '$P/inter.pem' '$P/old.pem' 2>&1 | sed -n 2p >&2; exit 2"
# (-attime cannot show it valid: the root is made today, after 2021)
check "openssl verify -no_check_time: the old leaf's chain is otherwise good" \
	openssl verify -no_check_time -CAfile "$P/root.pem" -untrusted "$P/inter.pem" "$P/old.pem"
OLD="--key $P/leaf.key --cert $P/old.pem --chain $P/chain.pem"
check "sign with the expired leaf" "$msign" sign -s "Test Name" $OLD \
	--output "$tmp/old" $FX/hello_arm64.unsigned
# codesign tolerates expiration without a timestamp (SecStaticCode::
# verifySignature retries with CSSM_TP_ACTION_ALLOW_EXPIRED) ...
"$msign" verify -v --anchor "$P/root.pem" "$tmp/old" > /dev/null 2> "$tmp/err"
check "expired, no timestamp: valid (exit $?), as codesign" grep -qxF \
	"msign: signer trusted: 3 certificates to Test Root CA (user anchor), checked at the current time; a certificate is outside its validity and there is no timestamp: accepted, as codesign does" "$tmp/err"
# ... unless expiration is asked for (kSecCSConsiderExpiration).
expect "expired, no timestamp, --check-expiration" 1 "$tmp/old: CSSMERR_TP_CERT_EXPIRED" \
	"$msign" verify --check-expiration --anchor "$P/root.pem" "$tmp/old"
# A leaf valid only from 2040: not yet valid; tolerated without a
# timestamp as Apple tolerates it ("this also allows postdated certs").
check "openssl ca: a leaf valid from 2040" sh -c "openssl ca -batch -config '$P/ca.cnf' \
	-cert '$P/inter.pem' -keyfile '$P/inter.key' -in '$P/leaf.csr' -notext \
	-startdate 20400101000000Z -enddate 20410101000000Z -extfile '$P/ext.cnf' \
	-extensions leaf -out '$P/future.pem' >> '$tmp/ca.log' 2>&1"
check "sign with the postdated leaf" "$msign" sign -s "Test Name" \
	--key "$P/leaf.key" --cert "$P/future.pem" --chain "$P/chain.pem" \
	--output "$tmp/future" $FX/hello_arm64.unsigned
check "postdated, no timestamp: valid, as codesign" \
	"$msign" verify --anchor "$P/root.pem" "$tmp/future"
expect "postdated, --check-expiration" 1 "$tmp/future: CSSMERR_TP_CERT_NOT_VALID_YET" \
	"$msign" verify --check-expiration --anchor "$P/root.pem" "$tmp/future"
# A leaf for TLS servers, not for code: Apple's code-signing policy says no.
printf '%s\n' "[srv]" "basicConstraints = critical,CA:FALSE" \
	"keyUsage = critical,digitalSignature" "extendedKeyUsage = serverAuth" > "$P/srv.cnf"
check "openssl ca: a serverAuth leaf" sh -c "openssl ca -batch -config '$P/ca.cnf' \
	-cert '$P/inter.pem' -keyfile '$P/inter.key' -in '$P/leaf.csr' -notext \
	-days 30 -extfile '$P/srv.cnf' -extensions srv -out '$P/srv.pem' >> '$tmp/ca.log' 2>&1"
check "sign with the serverAuth leaf" "$msign" sign -s "Test Name" \
	--key "$P/leaf.key" --cert "$P/srv.pem" --chain "$P/chain.pem" \
	--output "$tmp/srv" $FX/hello_arm64.unsigned
expect "serverAuth leaf: not trusted" 1 "$tmp/srv: signature is valid but signer is not trusted" \
	"$msign" verify --anchor "$P/root.pem" "$tmp/srv"
"$msign" verify --anchor "$P/root.pem" "$tmp/srv" 2> "$tmp/err"
check "serverAuth leaf: the detail says why" grep -qxF \
	"msign: the signer's certificate is not for code signing: its extended key usage does not include codeSigning" "$tmp/err"
# Past the good leaf's validity (test hook MSIGN_VERIFY_NOW, year 2051):
# without a timestamp it is expired; with one (inside the validity) the
# chain is checked at the timestamp's time and passes.
expect "leaf expired at MSIGN_VERIFY_NOW, no timestamp" 1 "$out: CSSMERR_TP_CERT_EXPIRED" \
	env MSIGN_VERIFY_NOW=2556144000 "$msign" verify --check-expiration --anchor "$P/root.pem" "$out"
expect "MSIGN_VERIFY_NOW that is no number" 2 "msign verify: MSIGN_VERIFY_NOW takes seconds since 1970" \
	env MSIGN_VERIFY_NOW=soon "$msign" verify "$out"

# A secure timestamp from a TSA on 127.0.0.1 (tests/tsa/setup.sh: openssl
# ts -reply): the token is over the signature value (openssl ts -verify
# against the TSA's root), show prints its genTime as Timestamp= (the date
# openssl reads from the token, formatted by date(1)), and the CMS still
# verifies against the signer's root.
. tests/tsa/setup.sh
srv=""
trap '[ -n "$srv" ] && kill "$srv" 2>/dev/null; rm -rf "$tmp"' EXIT
if tsa_start "$tmp/tsa"; then
	check "--timestamp=URL: signed" "$msign" sign -s "Test Name" $ID \
		--timestamp="$U/good" --output "$tmp/tsd" $FX/hello_arm64.unsigned
	check "timestamped: openssl cms -verify" cms_verifies "$tmp/tsd" 0
	check "timestamped: the token's attribute" $H token "$tmp/x.cms" "$tmp/tok"
	check "timestamped: openssl ts -verify over the signature value" \
		openssl ts -verify -data "$tmp/tok.sig" -in "$tmp/tok.tst" -token_in \
		-CAfile "$tmp/tsa/tsa-root.pem"
	gen=$(openssl ts -reply -in "$tmp/tok.tst" -token_in -text 2>/dev/null |
		sed -n 's/^Time stamp: //p')
	want=$(TZ=UTC date -u -d "$gen" '+%b %-d, %Y at %-I:%M:%S %p' 2>/dev/null)
	ts_shown() { [ -n "$gen" ] && [ -n "$want" ] && TZ=UTC show_has "$tmp/tsd" "Timestamp=$want"; }
	check "timestamped: show's Timestamp= is the token's genTime ($gen)" ts_shown
	check "--for-notarization: Developer ID, runtime, timestamp: signed" \
		"$msign" sign -s "Test Name" $ID -o runtime --for-notarization \
		--timestamp="$U/good" --output "$tmp/nzok" $FX/hello_arm64.unsigned
	check "--for-notarization: the result verifies" "$msign" verify --anchor "$P/root.pem" --anchor "$tmp/tsa/tsa-root.pem" "$tmp/nzok"
	check "timestamped: msign verify" "$msign" verify --anchor "$P/root.pem" --anchor "$tmp/tsa/tsa-root.pem" "$tmp/tsd"
	# The token's imprint (SHA-256 of the signature value) with one bit
	# flipped: "modified", before the token's signature is looked at.
	flip_imprint() {
		python3 - "$1" "$2" "$3" <<'PY'
import hashlib, sys
src, sigf, dst = sys.argv[1:4]
h = hashlib.sha256(open(sigf, 'rb').read()).digest()
data = bytearray(open(src, 'rb').read())
i = data.find(h)
assert i > 0 and data.find(h, i + 1) < 0
data[i + 5] ^= 1
open(dst, 'wb').write(data)
PY
	}
	check "flip a bit of the timestamp's imprint" flip_imprint "$tmp/tsd" "$tmp/tok.sig" "$tmp/tsbad"
	expect "timestamp imprint flipped: modified" 1 "$tmp/tsbad: invalid signature (code or signature have been modified)" \
		"$msign" verify --anchor "$P/root.pem" --anchor "$tmp/tsa/tsa-root.pem" "$tmp/tsbad"
	"$msign" verify --anchor "$P/root.pem" --anchor "$tmp/tsa/tsa-root.pem" "$tmp/tsbad" 2> "$tmp/err"
	check "timestamp imprint flipped: the detail names it" grep -q \
		"^msign: the timestamp's imprint does not match the signature value" "$tmp/err"
	expect "timestamped: the TSA's root is no anchor" 1 "$tmp/tsd: signature is valid but signer is not trusted" \
		"$msign" verify --anchor "$P/root.pem" "$tmp/tsd"
	check "timestamped, at MSIGN_VERIFY_NOW past the leaf's validity: checked at the timestamp" \
		env MSIGN_VERIFY_NOW=2556144000 "$msign" verify --check-expiration \
		--anchor "$P/root.pem" --anchor "$tmp/tsa/tsa-root.pem" "$tmp/tsd"
	"$msign" verify --json --anchor "$P/root.pem" --anchor "$tmp/tsa/tsa-root.pem" "$tmp/tsd" > "$tmp/tsd.json"
	check "timestamped: --json says the time used was the timestamp's" \
		python3 -c 'import json,sys; t=json.load(open(sys.argv[1]))["slices"][0]["trust"]; sys.exit(not (t["timestamp_valid"] and t["validity_time_source"] == "timestamp" and t["validity_time"] == t["timestamp"] and [c["role"] for c in t["timestamp_chain"]][-1] == "user anchor"))' "$tmp/tsd.json"
	check "sign with the expired leaf and a timestamp (now: outside its validity)" \
		"$msign" sign -s "Test Name" $OLD --timestamp="$U/good" --output "$tmp/oldts" $FX/hello_arm64.unsigned
	expect "expired at the timestamp's time: expired even without --check-expiration" 1 "$tmp/oldts: CSSMERR_TP_CERT_EXPIRED" \
		"$msign" verify --anchor "$P/root.pem" --anchor "$tmp/tsa/tsa-root.pem" "$tmp/oldts"
else
	no "$tsa_err"
fi

echo "cms: $pass passed, $fail failed"
[ "$fail" = 0 ] && [ "$pass" -gt 0 ]
