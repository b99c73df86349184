#!/bin/sh
# The RFC 3161 client, src/sign/tsa.c, against a TSA on 127.0.0.1
# (tests/tsa/server.py: `openssl ts -reply` with a key and certificate made
# here, and modes that misbehave), driven by tests/tsa/tsa_client.c:
#   sh tests/tsa/run.sh build     (needs build/tests/tsa_client)
# A good token must pass `openssl ts -verify` against the test root; every
# failure is pinned: exit code (-MSIGN_E_*), message, and how many
# requests the server saw. Ends with "tsa: N passed, M failed"; exits
# non-zero on a failure or when no check ran.
set -u
B=$1
client=$B/tests/tsa_client
tmp=$(mktemp -d)
srv=""
cleanup() {
	[ -n "$srv" ] && kill "$srv" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
export LC_ALL=C
# The server is reached directly; one check sets a proxy on purpose.
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY no_proxy NO_PROXY
pass=0 fail=0
ok() { pass=$((pass + 1)); }
no() { fail=$((fail + 1)); echo "FAIL $*"; }

# ---- a test TSA: root CA, a TSA certificate it issued, the server ------
. tests/tsa/setup.sh
tsa_start "$tmp/tsa" || { no "$tsa_err"; echo "tsa: $pass passed, $fail failed"; exit 1; }
printf 'the signature value a CMS signer would timestamp\n' > "$tmp/data"

# run MODE-PATH OPTS... : the client against $U/PATH; sets $out, $rc and
# $seen (requests the server logged for this run).
run() {
	url=$1; shift
	: > "$D/log"
	out=$("$client" "$url" "$tmp/data" "$tmp/token" "$@" 2> "$tmp/client.err")
	rc=$?
	seen=$(wc -l < "$D/log" | tr -d ' ')
}
# expect DESCRIPTION EXIT REQUESTS OUTPUT
expect() {
	if [ "$rc" = "$2" ] && [ "$seen" = "$3" ] && [ "$out" = "$4" ]; then ok; else
		no "$1: exit $rc, $seen requests, '$out' $(cat "$tmp/client.err") (want $2, $3, '$4')"; fi
}

# ---- the good case --------------------------------------------------------
before=$(date +%s)
run "$U/good" 5 1 10
after=$(date +%s)
gen=${out#ok }
if [ "$rc" = 0 ] && [ "$seen" = 1 ] && [ "$gen" -ge $((before - 2)) ] 2>/dev/null &&
	[ "$gen" -le $((after + 2)) ]; then ok; else
	no "good: exit $rc, $seen requests, '$out' $(cat "$tmp/client.err") (want 0, 1, ok $before..$after)"; fi
# the request as sent: the content type, and a TimeStampReq openssl reads
# as version 1, SHA-256 of the data, a nonce, certReq
log=$(cat "$D/log")
[ "$log" = "/good application/timestamp-query $(wc -c < "$D/last.tsq" | tr -d ' ')" ] && ok ||
	no "good: logged '$log'"
openssl ts -query -in "$D/last.tsq" -text > "$tmp/req.txt" 2>/dev/null
digest=$(openssl dgst -sha256 -r "$tmp/data" | cut -c1-64)
got=$(sed -n '/^Message data:/,/^Policy OID/p' "$tmp/req.txt" | sed -n 's/^ *[0-9a-f]\{4\} - //p' |
	cut -c1-47 | tr -d ' \n-')
grep -qx "Version: 1" "$tmp/req.txt" && grep -qx "Hash Algorithm: sha256" "$tmp/req.txt" &&
	grep -qx "Certificate required: yes" "$tmp/req.txt" &&
	grep -q "^Nonce: 0x[0-9A-F]\{1,16\}$" "$tmp/req.txt" && [ "$got" = "$digest" ] && ok ||
	no "good: the request: $(tr '\n' ' ' < "$tmp/req.txt") (digest '$got', want '$digest')"
if openssl ts -verify -data "$tmp/data" -in "$tmp/token" -token_in \
	-CAfile "$D/tsa-root.pem" > "$tmp/verify.out" 2>&1 &&
	grep -qx "Verification: OK" "$tmp/verify.out"; then ok; else
	no "good: openssl ts -verify: $(cat "$tmp/verify.out")"; fi
# genTime as openssl prints it, in Unix seconds
t=$(openssl ts -reply -in "$tmp/token" -token_in -token_out -text 2>/dev/null |
	sed -n 's/^Time stamp: //p')
[ -n "$t" ] && [ "$(date -u -d "$t" +%s)" = "$gen" ] && ok ||
	no "good: genTime $gen, openssl says '$t'"
# the token is the ContentInfo alone: its first element is id-signedData
openssl asn1parse -inform DER -in "$tmp/token" 2>/dev/null | sed -n 2p |
	grep -q "OBJECT *:pkcs7-signedData" && ok || no "good: token is not a SignedData ContentInfo"
# a token verifies only against its data
printf 'other data\n' > "$tmp/other"
openssl ts -verify -data "$tmp/other" -in "$tmp/token" -token_in \
	-CAfile "$D/tsa-root.pem" > /dev/null 2>&1 && no "good: token verifies other data" || ok
# two requests, two nonces
cp "$tmp/token" "$tmp/token1"
run "$U/good" 5 1 10
n1=$(openssl ts -reply -in "$tmp/token1" -token_in -token_out -text 2>/dev/null | sed -n 's/^Nonce: //p')
n2=$(openssl ts -reply -in "$tmp/token" -token_in -token_out -text 2>/dev/null | sed -n 's/^Nonce: //p')
[ "$rc" = 0 ] && [ -n "$n1" ] && [ "$n1" != "$n2" ] && ok || no "nonces: '$n1' then '$n2'"
# through a proxy from the environment: the server, asked for an absolute URL
out=$(http_proxy=$U "$client" http://tsa.invalid/good "$tmp/data" "$tmp/token" 5 1 10 2>&1)
rc=$?
[ "$rc" = 0 ] && grep -q "^http://tsa.invalid/good " "$D/log" && ok ||
	no "http_proxy: exit $rc, '$out', log $(cat "$D/log")"

# ---- retries: HTTP 5xx and connection errors, with the delay doubling ----
run "$U/fail500/2/a" 5 3 10
[ "$rc" = 0 ] && [ "$seen" = 3 ] && ok || no "500 twice then good: exit $rc, $seen requests, '$out'"
run "$U/fail500/3/b" 5 3 10
expect "500 three times" 10 3 "$U/fail500/3/b: HTTP 500 after 3 attempts"
run "$U/503" 5 2 10
expect "503" 10 2 "$U/503: HTTP 503 after 2 attempts"
# delays 200 + 400 ms between three attempts: at least 0.6 s in all
s0=$(date +%s%N)
run "$U/503" 5 3 200
s1=$(date +%s%N)
ms=$(( (s1 - s0) / 1000000 ))
[ "$rc" = 10 ] && [ "$seen" = 3 ] && [ "$ms" -ge 600 ] && ok ||
	no "503 backoff: exit $rc, $seen requests, $ms ms (want >= 600)"
run "$U/404" 5 3 10
expect "404, not retried" 10 1 "$U/404: HTTP 404"
free=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
run "http://127.0.0.1:$free/good" 5 3 10
expect "connection refused" 10 0 "http://127.0.0.1:$free/good: Couldn't connect to server after 3 attempts"
run "$U/hang" 1 1 10
expect "no answer" 10 1 "$U/hang: Timeout was reached after 1 attempt"

# ---- replies that fail their checks: never retried ----------------------
run "$U/imprint" 5 3 10
expect "other imprint" 6 1 "$U/imprint: TSA reply: the imprint differs from the request's"
run "$U/nonce" 5 3 10
expect "other nonce" 6 1 "$U/nonce: TSA reply: the nonce differs from the request's"
run "$U/nocert" 5 3 10
expect "no certificate" 6 1 "$U/nocert: TSA reply: the token carries no certificate though the request asked for it"
run "$U/reject" 5 3 10
expect "rejection" 6 1 "$U/reject: TSA refused the request: status 2 (rejection) \"Message digest algorithm is not supported.\""
run "$U/notoken" 5 3 10
expect "granted, no token" 6 1 "$U/notoken: TSA reply: status granted but no token"
run "$U/trailing" 5 3 10
expect "trailing byte" 6 1 "$U/trailing: TSA reply has 1 bytes after the TimeStampResp"
run "$U/garbage" 5 3 10
expect "garbage" 6 1 "$U/garbage: TSA reply is not a TimeStampResp (first byte 0x74, not SEQUENCE)"
run "$U/big" 5 3 10
expect "2 MiB with a length" 11 1 "$U/big: reply larger than 1048576 bytes"
run "$U/bigstream" 5 3 10
expect "2 MiB streamed" 11 1 "$U/bigstream: reply larger than 1048576 bytes"

# ---- options ------------------------------------------------------------
run "ftp://127.0.0.1:$port/good" 5 1 10
expect "not http" 15 0 "timestamp server 'ftp://127.0.0.1:$port/good' is not an http or https URL"
run "$U/good" 5 11 10
expect "too many attempts" 15 0 "timestamp options: timeout 5 s (at most 600), 11 attempts (at most 10), delay 10 ms (at most 60000)"
# credentials in the URL stay out of the message
run "http://user:secret@127.0.0.1:$port/404" 5 1 10
expect "credentials" 10 1 "$U/404: HTTP 404"

if [ -s "$tmp/server.err" ]; then no "the server wrote: $(tail -n 5 "$tmp/server.err")"; fi
[ $((pass + fail)) -gt 0 ] || no "tsa: no check ran"
echo "tsa: $pass passed, $fail failed"
[ "$fail" = 0 ]
