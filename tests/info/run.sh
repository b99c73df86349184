#!/bin/sh
# info-test: the library's signing-information model (msign/info.h),
# through a program that uses the public headers only (tests/info/dump.c).
#   sh tests/info/run.sh BUILD_DIR
# 1. For every fixture in fixtures/facts.txt (computed by the fixture
#    script from llvm-otool, dd and openssl, without msign), each fact
#    whose key the dump prints must be one of its lines, and each key the
#    dump prints for a signed slice must be one facts.txt has for it
#    (new keys are a test to write).
# 2. The parsed entitlements dictionary of the signed fixtures equals the
#    source plist the fixture script signed, read by python's plistlib.
# 3. The designated requirement: the explicit one the fixture script
#    (fixtures/tools/csig.py, designated_requirement) compiled for the CMS
#    fixtures, else codesign's implicit cdhash form.
# Last line: "info: N passed, N failed".
set -u
B=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
no() { fail=$((fail + 1)); echo "FAIL $*"; }
ok() { pass=$((pass + 1)); }
export MSIGN_HOST_ARCH=x86_64 LC_ALL=C
dump=$B/tests/info-dump
facts=fixtures/facts.txt
# Keys the dump prints that facts.txt holds under another form or not at
# all (they are checked below or by other suites).
extra='^([a-z0-9_]+\.)?(ent\..*|designated|(sha1|sha256)\.(special|code)-[0-9]+)$'

for fx in $(awk '!/^#/ { print $1 }' "$facts" | sort -u); do
	[ -f "fixtures/$fx" ] || { no "$fx: in facts.txt, not in fixtures/"; continue; }
	"$dump" "fixtures/$fx" > "$tmp/got" 2>"$tmp/err"
	grep "^$fx " "$facts" | cut -d' ' -f2- > "$tmp/facts"
	keys=$(cut -d' ' -f1 "$tmp/got" | sort -u)
	# 1a: each fact with a key the dump knows is a line of the dump.
	while read -r key val; do
		if printf '%s\n' "$keys" | grep -qxF -- "$key"; then
			if grep -qxF -- "$key $val" "$tmp/got"; then ok; else
				no "$fx: fact '$key $val'; the model says '$(grep "^$key " "$tmp/got" | head -n 1)'"
			fi
		fi
	done < "$tmp/facts"
	# 1b: slot hashes, which facts.txt lists per CodeDirectory too.
	grep -E '(special|code)-[0-9]+ ' "$tmp/facts" > "$tmp/slots"
	while read -r key val; do
		grep -qxF -- "$key $val" "$tmp/got" && ok || no "$fx: slot fact '$key $val' not in the model"
	done < "$tmp/slots"
	# 1c: no key without a fact, for fixtures the script describes in full.
	if grep -q '^signed yes' "$tmp/facts" || grep -q '\.signed yes' "$tmp/facts"; then
		cut -d' ' -f1 "$tmp/facts" | sort -u > "$tmp/fkeys"
		printf '%s\n' "$keys" | grep -Ev "$extra" | grep -vxF -f "$tmp/fkeys" > "$tmp/unknown"
		[ ! -s "$tmp/unknown" ] && ok || no "$fx: keys without a fact: $(tr '\n' ' ' < "$tmp/unknown")"
	fi
done

# 2: entitlements, against the plist the fixture was signed with.
ent_want() { # PLIST -> "ent.KEY TYPE[ VALUE]" lines, plist order
	python3 - "$1" <<'PY'
import plistlib, sys
with open(sys.argv[1], 'rb') as f:
    d = plistlib.load(f, dict_type=dict)
for k, v in d.items():
    if isinstance(v, bool): print(f"ent.{k} bool {'true' if v else 'false'}")
    elif isinstance(v, str): print(f"ent.{k} string {v}")
    elif isinstance(v, int): print(f"ent.{k} integer")
    elif isinstance(v, list): print(f"ent.{k} array")
    elif isinstance(v, dict): print(f"ent.{k} dict")
    else: print(f"ent.{k} other")
PY
}
for pair in adhoc_ent_arm64:ent-adhoc cms_arm64:ent-cms cms_arm64_ber:ent-cms; do
	fx=${pair%%:*} src=fixtures/src/${pair#*:}.plist
	ent_want "$src" > "$tmp/want"
	"$dump" "fixtures/$fx" | grep '^ent\.' > "$tmp/got"
	if [ -s "$tmp/want" ] && cmp -s "$tmp/got" "$tmp/want"; then ok; else
		no "$fx: entitlements differ from $src:"; diff -u "$tmp/want" "$tmp/got" | head -20
	fi
done
# A slice without entitlements lists none.
[ -z "$("$dump" fixtures/hello_arm64 | grep '^ent\.')" ] && ok || no "hello_arm64 lists entitlements"

# 3: designated requirements.
for fx in cms_arm64 cms_sha256only_arm64; do
	id=$(sed -n "s/^$fx identifier //p" "$facts")
	team=$(sed -n "s/^$fx team //p" "$facts")
	want="identifier \"$id\" and anchor apple generic and certificate leaf[subject.OU] = $team"
	got=$("$dump" "fixtures/$fx" | sed -n 's/^designated //p')
	[ -n "$id" ] && [ -n "$team" ] && [ "$got" = "$want" ] && ok || no "$fx: designated '$got', want '$want' (explicit)"
done
# Ad-hoc universal: each slice's own cdhash first, then the other's, in
# Format= order, from facts.txt's per-slice cdhashes.
a=$(sed -n 's/^universal x86_64\.cdhash //p' "$facts")
b=$(sed -n 's/^universal arm64\.cdhash //p' "$facts")
"$dump" fixtures/universal | grep -F 'designated ' > "$tmp/got"
printf '%s\n' "x86_64.designated implicit cdhash H\"$a\" or cdhash H\"$b\"" \
	"arm64.designated implicit cdhash H\"$b\" or cdhash H\"$a\"" > "$tmp/want"
[ -n "$a" ] && [ -n "$b" ] && cmp -s "$tmp/got" "$tmp/want" && ok ||
	{ no "universal: designated requirements:"; diff -u "$tmp/want" "$tmp/got"; }

# A file that is not Mach-O: one line, exit 1.
printf 'not a mach-o file' > "$tmp/junk"
out=$("$dump" "$tmp/junk"); rc=$?
[ $rc = 1 ] && [ "$out" = "error $(echo "$out" | sed 's/^error //')" ] && [ -n "$out" ] && ok ||
	no "junk: exit $rc, '$out'"

echo "info: $pass passed, $fail failed"
[ "$fail" = 0 ] && [ "$pass" -gt 0 ]
