# Sourced by the suites that need a time-stamping authority on 127.0.0.1
# (tests/tsa/run.sh, tests/cms/run.sh):
#   . tests/tsa/setup.sh; tsa_start DIR || fail "$tsa_err"
# makes a test root and a TSA certificate it issued (EC P-256, EKU
# timeStamping, critical) in DIR, an `openssl ts` config, starts
# tests/tsa/server.py on a free port and sets $U (its URL), $srv (its pid,
# for the caller's trap to kill) and $D (DIR). DIR/tsa-root.pem verifies
# its tokens.
tsa_section() { # name, digests
	cat <<EOC
[ $1 ]
serial = $D/serial
crypto_device = builtin
signer_digest = sha256
default_policy = 1.2.3.4.1
digests = $2
accuracy = secs:1
ordering = no
tsa_name = yes
ess_cert_id_alg = sha256
EOC
}
tsa_start() {
	D=$1
	mkdir -p "$D"
	ec="-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes"
	# shellcheck disable=SC2086
	openssl req -x509 $ec -keyout "$D/root.key" -out "$D/tsa-root.pem" -days 2 \
		-subj "/CN=msign test TSA root" -addext "basicConstraints=critical,CA:TRUE" \
		-addext "keyUsage=critical,keyCertSign" 2>/dev/null &&
		openssl req -new $ec -keyout "$D/tsa.key" -out "$D/tsa.csr" \
			-subj "/CN=msign test TSA" 2>/dev/null &&
		printf '%s\n' "basicConstraints=CA:FALSE" "keyUsage=critical,digitalSignature" \
			"extendedKeyUsage=critical,timeStamping" > "$D/ext" &&
		openssl x509 -req -in "$D/tsa.csr" -CA "$D/tsa-root.pem" -CAkey "$D/root.key" \
			-set_serial 2 -days 2 -extfile "$D/ext" -out "$D/tsa.crt" 2>/dev/null ||
		{ tsa_err="making the test TSA's key and certificate"; return 1; }
	echo 01 > "$D/serial"
	{ echo "[ tsa ]"; echo "default_tsa = tsa_good"
	  tsa_section tsa_good "sha256, sha384, sha512"; tsa_section tsa_reject "sha512"; } > "$D/tsa.conf"
	python3 tests/tsa/server.py "$D" 2> "$D/server.err" &
	srv=$!
	i=0
	while [ ! -s "$D/port" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
	port=$(cat "$D/port" 2>/dev/null)
	[ -n "$port" ] || { tsa_err="the test TSA did not start: $(cat "$D/server.err")"; return 1; }
	U=http://127.0.0.1:$port
}
