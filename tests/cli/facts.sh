#!/bin/sh
# Checks msign's displayed values against fixtures/facts.txt, which
# fixtures/tools/facts.py computed from llvm-otool, dd and openssl alone.
# Every fact of a signed fixture that show prints is compared with the line
# msign prints for it (best CodeDirectory for CD fields; all CDs for
# CDHashes; -v6 slot hashes). Prints "facts: N passed, M failed"; fails
# when a fact differs or when no fact was checked (MSIGN_FACTS: another
# facts file, for the harness test).
set -u
msign=$1
export TZ=UTC MSIGN_HOST_ARCH=x86_64 LC_ALL=C
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
facts=${MSIGN_FACTS:-fixtures/facts.txt}

expect() { # expect FILE LINE KEY-for-report
	if grep -qxF -- "$2" "$1"; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
		echo "FACT FAIL $3: no line '$2'"
	fi
}

# Timestamps in codesign's en_US form, from date(1), not from msign.
us_date() { date -u -d "@$1" '+%b %-d, %Y at %-I:%M:%S %p'; }

check_slice() { # fixture, key prefix ("" or "arm64."), arch option
	fx=$1 pre=$2 out=$tmp/out
	# shellcheck disable=SC2086
	"$msign" show -vvvvvv $3 "fixtures/$fx" > "$out" 2>/dev/null
	"$msign" show --json $3 "fixtures/$fx" 2>/dev/null | sed 's/^ *//' > "$tmp/json"
	grep "^$fx $pre" "$facts" | sed "s/^$fx $pre//" > "$tmp/facts"
	best=$(sed -n 's/^best_hash //p' "$tmp/facts")
	ts=""
	while read -r key val; do
		r="$fx $pre$key"
		case "$key" in
		identifier) expect "$out" "Identifier=$val" "$r" ;;
		format) [ -z "$pre" ] && expect "$out" "Format=$val" "$r" ;;
		cdhash) expect "$out" "CDHash=$val" "$r" ;;
		cms_digest) expect "$out" "CMSDigest=$val" "$r" ;;
		hash_choices) expect "$out" "Hash choices=$val" "$r" ;;
		cdhash_*) expect "$out" "CandidateCDHashFull ${key#cdhash_}=$val" "$r" ;;
		sha1.cdhash|sha256.cdhash) expect "$out" "CandidateCDHash ${key%.cdhash}=$val" "$r" ;;
		team) expect "$out" "TeamIdentifier=$val" "$r" ;;
		signature) [ "$val" = adhoc ] && expect "$out" "Signature=adhoc" "$r" ;;
		signature_size) expect "$out" "Signature size=$val" "$r" ;;
		info_plist) expect "$out" "Info.plist=$val" "$r" ;;
		info_plist_entries) expect "$out" "Info.plist entries=$val" "$r" ;;
		authority_*) expect "$out" "Authority=$val" "$r" ;;
		timestamp_unix) ts=$val; expect "$out" "Timestamp=$(us_date "$val")" "$r" ;;
		signing_time_unix)
			expect "$tmp/json" "\"signing_time\": \"$(date -u -d "@$val" +%Y-%m-%dT%H:%M:%SZ)\"," "$r" ;;
		leaf_sha1|inter_sha1|root_sha1)
			expect "$tmp/json" "\"sha1\": \"$val\"," "$r" ;;
		"$best".cd_version) expect "$out" "$(grep '^CodeDirectory v=' "$out" | grep "v=$val ")" "$r" ;;
		"$best".cd_size) grep -q "^CodeDirectory v=[0-9a-f]* size=$val " "$out" && pass=$((pass + 1)) || { fail=$((fail + 1)); echo "FACT FAIL $r"; } ;;
		"$best".flags) grep -q "^CodeDirectory .* flags=$val(" "$out" && pass=$((pass + 1)) || { fail=$((fail + 1)); echo "FACT FAIL $r"; } ;;
		"$best".exec_seg_base) expect "$out" "Executable Segment base=$val" "$r" ;;
		"$best".exec_seg_limit) expect "$out" "Executable Segment limit=$val" "$r" ;;
		"$best".exec_seg_flags) expect "$out" "Executable Segment flags=$val" "$r" ;;
		"$best".page_size) expect "$out" "Page size=$val" "$r" ;;
		"$best".runtime) expect "$out" "Runtime Version=$val" "$r" ;;
		"$best".special-*) expect "$out" "$(printf '%6d=%s' "-${key#"$best".special-}" "$val")" "$r" ;;
		"$best".code-*) expect "$out" "$(printf '%6d=%s' "${key#"$best".code-}" "$val")" "$r" ;;
		esac
	done < "$tmp/facts"
	ncode=$(sed -n "s/^$best.ncode //p" "$tmp/facts")
	nspec=$(sed -n "s/^$best.nspecial //p" "$tmp/facts")
	grep -q "^CodeDirectory .* hashes=$ncode+$nspec location=embedded$" "$out" &&
		pass=$((pass + 1)) || { fail=$((fail + 1)); echo "FACT FAIL $fx ${pre}hashes"; }
	count=$(sed -n 's/^reqs_count //p' "$tmp/facts")
	size=$(sed -n 's/^reqs_size //p' "$tmp/facts")
	[ -n "$count" ] && expect "$out" "Internal requirements count=$count size=$size" "$fx reqs"
	: "$ts"
}

for fx in $(awk '$2 == "signed" && $3 == "yes" {print $1}' "$facts" | sort -u); do
	check_slice "$fx" "" ""
done
for fx in $(awk '$2 == "slices" {print $1}' "$facts"); do
	for a in $(sed -n "s/^$fx slices //p" "$facts"); do
		grep -qx "$fx $a.signed yes" "$facts" || continue
		check_slice "$fx" "$a." "--arch $a"
	done
done
[ $((pass + fail)) -gt 0 ] || { fail=1; echo "FACT FAIL: no fact checked from $facts"; }
echo "facts: $pass passed, $fail failed"
[ $fail = 0 ]
