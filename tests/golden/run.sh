#!/bin/sh
# show goldens: the exact stdout, stderr and exit status of `msign show`
# for every fixture and every file of the corpus, at -v0..6 (and -v3 with
# arm64 as the host), -r-, --entitlements - and --json. Written by the code
# before the signing-information model moved into the library, and kept
# as the test that show prints the same bytes after any refactoring.
#   sh tests/golden/run.sh build/msign            check
#   sh tests/golden/run.sh build/msign --update   rewrite (review: git diff)
# The corpus part runs when the corpus is present (tests/corpus.sh).
# GOLDEN_ARGS="--verbose=0 --json ..." runs only those option sets and
# compares them with their sections of the goldens (make check does so
# under ASan, where every run costs several times more).
set -u
msign=$1
update=${2:-}
root=$(pwd)
exp=tests/golden/expected
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export TZ=UTC LC_ALL=C
pass=0 fail=0
no() { echo "FAIL $1"; fail=$((fail + 1)); }
corpus_fail=no
. tests/corpus.sh

# One input: every option set into $tmp/got, one section each.
all_args='--verbose=0|--verbose=1|--verbose=2|--verbose=3|--verbose=4|--verbose=5|--verbose=6|arm64:--verbose=3|-r-|--entitlements -|--json'
sel=${GOLDEN_ARGS:-}
[ -n "$sel" ] && [ "$update" = --update ] && { echo "golden: --update takes every option set"; exit 2; }
run_one() { # FILE, into $wt/got ($wt: the worker's folder)
	: >"$wt/got"
	IFS='|'
	# shellcheck disable=SC2086
	set -- $all_args
	unset IFS
	for args in "$@"; do
		if [ -n "$sel" ]; then
			case "|$sel|" in *"|$args|"*) ;; *) continue ;; esac
		fi
		host=x86_64
		case "$args" in arm64:*) host=arm64 args=${args#arm64:} ;; esac
		# shellcheck disable=SC2086
		MSIGN_HOST_ARCH=$host "$msign" show $args "$f" \
			>"$wt/out" 2>"$wt/err" </dev/null
		rc=$?
		{
			printf '### host=%s show %s\nexit %s\n--- stdout\n' \
				"$host" "$args" "$rc"
			cat "$wt/out"
			printf -- '--- stderr\n'
			cat "$wt/err"
		} >>"$wt/got"
	done
	sed -i -e "s|$root|@ROOT@|g" -e "s|$corpus|@CORPUS@|g" "$wt/got"
}

# The files of LIST (of DIR, set SETNAME) in folder WT: "PASS FAIL" into
# WT/count when done.
check_list() { # LIST DIR SETNAME WT
	wt=$4 p=0 fl=0
	mkdir -p "$wt"
	while read -r f; do
		rel=${f#"$2"/}
		name=$(printf '%s' "$rel" | tr / %)
		run_one "$f"
		if [ "$update" = --update ]; then
			cp "$wt/got" "$exp/$3/$name"
			continue
		fi
		want=$exp/$3/$name
		if [ -n "$sel" ] && [ -f "$want" ]; then
			# only the selected sections of the golden
			awk -v sel="|$sel|" '/^### host=/ {
				a = $0; sub(/^### host=[^ ]* show /, "", a)
				h = $0; sub(/^### host=/, "", h); sub(/ .*/, "", h)
				if (h == "arm64") a = "arm64:" a
				keep = index(sel, "|" a "|") > 0 } keep' "$want" > "$wt/want"
			want=$wt/want
		fi
		if cmp -s "$wt/got" "$want"; then
			p=$((p + 1))
		else
			fl=$((fl + 1))
			{ echo "FAIL $3/$rel: show output differs from $exp/$3/$name:"
			  diff -u "$want" "$wt/got" | head -20; } > "$wt/fail.$fl"
		fi
	done <"$1"
	echo "$p $fl" > "$wt/count"
}

# Two workers (GOLDEN_JOBS), each on every other file: the suites run one
# after the other, so the second core is otherwise idle.
check_set() { # DIR SETNAME
	mkdir -p "$exp/$2"
	find "$1" -type f | LC_ALL=C sort | while read -r f; do
		case "$f" in
		*.c|*.h|*.py|*.sh|*.md|*.txt|*/src/*|*/pki/*|*/tools/*) continue ;;
		esac
		echo "$f"
	done >"$tmp/list"
	jobs=${GOLDEN_JOBS:-2}
	w=0
	while [ "$w" -lt "$jobs" ]; do
		awk -v j="$jobs" -v w="$w" 'NR % j == w' "$tmp/list" > "$tmp/list.$w"
		rm -rf "$tmp/w$w"
		check_list "$tmp/list.$w" "$1" "$2" "$tmp/w$w" &
		w=$((w + 1))
	done
	wait
	w=0
	while [ "$w" -lt "$jobs" ]; do
		if [ -f "$tmp/w$w/count" ]; then
			read -r p fl < "$tmp/w$w/count"
			pass=$((pass + p)) fail=$((fail + fl))
			cat "$tmp/w$w"/fail.* 2>/dev/null
		else
			no "$2: worker $w stopped before its end"
		fi
		w=$((w + 1))
	done
	# An expectation whose input is gone is a test that no longer runs.
	for e in "$exp/$2"/*; do
		[ -e "$e" ] || continue
		rel=$(basename "$e" | tr % /)
		[ -f "$1/$rel" ] || no "$e: no input $1/$rel"
	done
}

check_set fixtures fixtures
if corpus_ready golden "show goldens of the corpus"; then
	check_set "$corpus" corpus
fi
# msign verify on the corpus, certificate trust included: every intact
# Apple, Developer ID and Apple Development signature verifies (exit 0);
# the tampered one is "modified"; the fake CA and self-signed ones are not
# trusted (exit 1), with the failing slice named for a universal file.
verify_corpus() { # FILE RC FIRST-MESSAGE [SECOND-LINE]
	f=$corpus/$1
	"$msign" verify "$f" > /dev/null 2> "$tmp/verr"
	rc=$?
	l1=$(sed -n 1p "$tmp/verr") l2=$(sed -n 2p "$tmp/verr")
	want1=${3:+$f: $3}
	if [ "$rc" = "$2" ] && [ "$l1" = "$want1" ] && { [ -z "${4:-}" ] || [ "$l2" = "$4" ]; }; then
		pass=$((pass + 1))
	else
		no "verify $1: exit $rc, '$l1' '$l2' (want $2, '$want1' '${4:-}')"
	fi
}
if corpus_ready golden "msign verify (trust) of the corpus"; then
	for f in apple_cat-macos_fat apple_libswiftCoreFoundation_ios.dylib apple_ls-m1_fat \
		apple_ls-osx_x86_64_sha1 apple_ls-sequoia_fat apple_mac-ls2_x86_64 apple_mac-ls3_fat \
		apple_mac-ls_x86_64_sha1 apple_true_fat3_ppc_sha1 devid_libexpat_vmware_fat.dylib \
		devid_frida_forker-macos-arm64e mixed_frida_sleeper-macos_fat3 dev_ios_TestRTTI-arm64e \
		dev_ios_BatteryLife_arm64 dev_ios_MASTestApp_arm64 dev_catalyst_modernobjc_fat_runtime \
		dev_macos_TestSwiftObjc_runtime dev_frida_sleeper-ios_fat3 \
		dev_frida_simple-agent-ios_fat3.dylib dev_frida_sleeper-watchos dev_frida_sleeper-tvos; do
		verify_corpus "$f" 0 ""
	done
	# -v: each satisfies its designated requirement (explicit or implicit),
	# evaluated against its chain and cdhash; ad-hoc and linker-signed too.
	for f in apple_ls-sequoia_fat apple_true_fat3_ppc_sha1 devid_frida_forker-macos-arm64e \
		devid_libexpat_vmware_fat.dylib dev_ios_BatteryLife_arm64 dev_ios_MASTestApp_arm64 \
		dev_catalyst_modernobjc_fat_runtime mixed_frida_sleeper-macos_fat3 \
		adhoc_iossim_WheresMyBrowser_arm64 linker_ClassCpp_arm64 selfsigned_frida_forker-tvos; do
		a=
		[ "$f" = selfsigned_frida_forker-tvos ] && a=--no-trust # DR needs trust: not evaluated
		"$msign" verify -v $a "$corpus/$f" > /dev/null 2> "$tmp/verr"
		rc=$? l2=$(sed -n 2p "$tmp/verr")
		want="$corpus/$f: satisfies its Designated Requirement"
		[ -n "$a" ] && want="msign: designated requirement not evaluated (--no-trust)"
		if [ "$rc" = 0 ] && [ "$l2" = "$want" ]; then pass=$((pass + 1)); else
			no "verify -v $f: exit $rc, '$l2'"; fi
	done
	# -R REQ (codesign's -R): exit 0 when it holds, 3 with codesign's line
	verify_req() { # FILE RC REQ
		"$msign" verify -R "$3" "$corpus/$1" > /dev/null 2> "$tmp/verr"
		rc=$? l1=$(sed -n 1p "$tmp/verr")
		want=""
		[ "$2" = 3 ] && want="$corpus/$1: code failed to satisfy specified code requirement(s)"
		if [ "$rc" = "$2" ] && [ "$l1" = "$want" ]; then pass=$((pass + 1)); else
			no "verify -R '$3' $1: exit $rc, '$l1' (want $2)"; fi
	}
	verify_req apple_ls-sequoia_fat 0 '=anchor apple'
	verify_req apple_mac-ls_x86_64_sha1 0 '=anchor apple and identifier com.apple.ls'
	verify_req devid_frida_forker-macos-arm64e 3 '=anchor apple'
	verify_req devid_frida_forker-macos-arm64e 0 '=anchor apple generic and certificate leaf[subject.OU] = 753PE4AG6F'
	verify_req devid_frida_forker-macos-arm64e 3 '=anchor apple generic and certificate leaf[subject.OU] = 0000000000'
	verify_req dev_ios_BatteryLife_arm64 0 '=anchor apple generic and certificate 1[field.1.2.840.113635.100.6.2.1] exists'
	verify_req dev_ios_BatteryLife_arm64 3 '=anchor apple generic and certificate 1[field.1.2.840.113635.100.6.2.6] exists'
	verify_req apple_ls-sequoia_fat 0 '=identifier "com.apple.ls"'
	verify_req apple_ls-sequoia_fat 3 '=identifier "x"'
	verify_req adhoc_iossim_WheresMyBrowser_arm64 3 '=anchor apple generic'
	# --json carries both verdicts
	json_req() { # FILE REQ|"" PYTHON-EXPRESSION over d (the document)
		if [ -n "$2" ]; then "$msign" verify --json -R "$2" "$corpus/$1"
		else "$msign" verify --json "$corpus/$1"; fi > "$tmp/vj" 2>/dev/null
		if python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(not eval(sys.argv[2]))' "$tmp/vj" "$3"; then
			pass=$((pass + 1)); else no "verify --json $1 ($2): not $3"; fi
	}
	json_req apple_ls-sequoia_fat "" 'd["designated_requirement"]["satisfied"] and d["test_requirement"] is None'
	json_req devid_frida_forker-macos-arm64e "=anchor apple" 'not d["valid"] and d["test_requirement"] == {"satisfied": False, "depends_on_apple_services": False}'
	json_req devid_frida_forker-macos-arm64e "=notarized" 'd["test_requirement"]["depends_on_apple_services"]'
	json_req dev_ios_BatteryLife_arm64 "=anchor apple generic" 'd["valid"] and d["test_requirement"]["satisfied"] and d["designated_requirement"]["satisfied"]'
	verify_corpus dev_macos_TestMacOS-arm64e_runtime_TAMPERED 1 \
		"invalid signature (code or signature have been modified)"
	verify_corpus fakeca_ios_TrollStore_fat 1 "signature is valid but signer is not trusted" \
		"In architecture: arm64e"
	for f in selfsigned_frida_forker-tvos selfsigned_r2_libr_flag.dylib selfsigned_ios_FileDP_armv7_sha1; do
		verify_corpus "$f" 1 "signature is valid but signer is not trusted"
	done
	# --json: an Apple developer certificate (its OU must be the CD's
	# team) for Developer ID and Apple Development, not for Apple's own
	# Software Signing; the time used: the timestamp's when there is one.
	json_trust() { # FILE, then a Python expression over t (slice 0's trust)
		"$msign" verify --json "$corpus/$1" > "$tmp/vj" 2>/dev/null
		if python3 -c 'import json,sys; t=json.load(open(sys.argv[1]))["slices"][0]["trust"]; sys.exit(not eval(sys.argv[2]))' "$tmp/vj" "$2"; then
			pass=$((pass + 1)); else no "verify --json $1: not $2"; fi
	}
	json_trust devid_frida_forker-macos-arm64e 't["apple_developer"] and t["leaf_ou"] == "753PE4AG6F" and t["validity_time_source"] == "timestamp" and [c["role"] for c in t["chain"]] == ["leaf", "Developer ID CA", "Apple root"]'
	json_trust dev_ios_MASTestApp_arm64 't["apple_developer"] and t["leaf_ou"] == "D4WYSK5293" and t["validity_time_source"] == "now" and t["expired_tolerated"]'
	json_trust apple_ls-sequoia_fat 'not t["apple_developer"] and t["apple_anchor"] and t["timestamp"] is None'
fi
[ "$update" = --update ] && exit 0
echo "golden: $pass passed, $fail failed"
[ "$fail" = 0 ] && [ "$pass" -gt 0 ]
