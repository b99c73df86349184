#!/bin/sh
# msign strip: byte identity with the unsigned links, idempotence, options,
# refusals, and atomic writes under failure. Run from the repository root:
#   sh tests/strip/run.sh build/msign
# Ends with "strip: N passed, M failed".
set -u
msign=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
fx=$(pwd)/fixtures/strip
t=$(mktemp -d)
trap 'chmod -R u+w "$t" 2>/dev/null; rm -rf "$t"' EXIT
export TZ=UTC MSIGN_HOST_ARCH=x86_64 LC_ALL=C
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
check() { if eval "$1"; then ok; else bad "$2"; fi; }
otool=$(command -v llvm-otool-14 || command -v llvm-otool || true)
lipo=$(command -v llvm-lipo-14 || command -v llvm-lipo || true)
# test dependencies (tools/deps.sh test): missing, their checks fail
[ -n "$otool" ] || bad "llvm-otool not found: otool checks not run (sh tools/deps.sh test)"
[ -n "$lipo" ] || bad "llvm-lipo not found: lipo checks not run (sh tools/deps.sh test)"

# Differences allowed: the 8 bytes of __LINKEDIT.vmsize in each slice
# (segment_command_64: segname at +8, vmsize at +32).
only_vmsize_differs() { # stripped unsigned
	allowed=""
	for at in $(grep -obUa __LINKEDIT "$1" | cut -d: -f1); do
		i=0; while [ $i -lt 8 ]; do allowed="$allowed $((at + 25 + i))"; i=$((i + 1)); done
	done
	[ "$(stat -c %s "$1")" = "$(stat -c %s "$2")" ] || return 1
	for off in $(cmp -l "$1" "$2" | awk '{print $1}'); do
		case " $allowed " in *" $off "*) ;; *) return 1 ;; esac
	done
}

for f in exe_arm64 exe_x86_64 libstrip.dylib plugin.bundle universal; do
	cp "$fx/$f" "$t/$f"
	chmod 751 "$t/$f"
	ino=$(stat -c %i "$t/$f")
	"$msign" strip "$t/$f" > "$t/out" 2>&1
	check "[ $? = 0 ] && [ ! -s '$t/out' ]" "$f: strip exits 0 silently"
	check "only_vmsize_differs '$t/$f' '$fx/$f.unsigned'" "$f: equals the unsigned link but vmsize"
	check "[ \$(stat -c %a '$t/$f') = 751 ]" "$f: mode kept"
	check "[ \$(stat -c %i '$t/$f') != $ino ]" "$f: replaced by a new inode"
	cp "$t/$f" "$t/$f.once"
	"$msign" strip "$t/$f" 2> "$t/err"
	check "[ $? = 0 ] && cmp -s '$t/$f' '$t/$f.once'" "$f: idempotent"
	check "grep -qx '$t/$f: code object is not signed at all (left unchanged)' '$t/err'" "$f: second strip notes unsigned"
	"$msign" show "$t/$f" 2> "$t/err"
	check "[ $? = 1 ] && grep -qx '$t/$f: code object is not signed at all' '$t/err'" "$f: show says unsigned"
	if [ -n "$otool" ]; then
		check "'$otool' -l '$t/$f' > /dev/null 2>&1" "$f: llvm-otool reads it"
		check "! '$otool' -l '$t/$f' | grep -q LC_CODE_SIGNATURE" "$f: no LC_CODE_SIGNATURE"
	fi
	[ -n "$lipo" ] && check "'$lipo' -info '$t/$f' > /dev/null 2>&1" "$f: llvm-lipo reads it"
done

# --dry-run writes nothing and says what would change.
cp "$fx/universal" "$t/u"
"$msign" strip --dry-run "$t/u" > "$t/out"
check "cmp -s '$t/u' '$fx/universal'" "dry-run leaves the file"
check "grep -qx '$t/u: x86_64: remove signature (224 bytes at 8368), slice 8592 -> 8368 bytes' '$t/out'" "dry-run x86_64 line"
check "grep -qx '$t/u: 33232 -> 32944 bytes (dry run, nothing written)' '$t/out'" "dry-run total line"

# --arch strips one slice; the other keeps its signature.
"$msign" strip --arch arm64 "$t/u"
check "[ $? = 0 ]" "--arch arm64 exits 0"
"$msign" show --arch arm64 "$t/u" > /dev/null 2>&1
check "[ $? = 1 ]" "--arch arm64: arm64 unsigned"
"$msign" show -v --arch x86_64 "$t/u" > "$t/out" 2>&1
check "grep -qx 'Signature=adhoc' '$t/out'" "--arch arm64: x86_64 still signed"
"$msign" strip --arch ppc "$t/u" 2> "$t/err"
check "[ $? = 1 ] && grep -qx '$t/u: architecture ppc not present' '$t/err'" "--arch absent"

# --output writes elsewhere, the input stays as it was.
cp "$fx/exe_arm64" "$t/in"
"$msign" strip --output "$t/outfile" "$t/in"
check "cmp -s '$t/in' '$fx/exe_arm64' && only_vmsize_differs '$t/outfile' '$fx/exe_arm64.unsigned'" "--output"

# Refusals leave the file untouched.
cp "$fx/hello_arm64.o" "$t/obj.o"
"$msign" strip "$t/obj.o" 2> "$t/err"
check "[ $? = 1 ] && grep -qx '$t/obj.o: mach-o filetype (1) does not support code signing' '$t/err' && cmp -s '$t/obj.o' '$fx/hello_arm64.o'" "object file refused"
{ cat "$fx/exe_arm64"; head -c 64 /dev/zero; } > "$t/trail"
cp "$t/trail" "$t/trail.orig"
"$msign" strip "$t/trail" 2> "$t/err"
check "[ $? = 1 ] && grep -qx '$t/trail: LC_CODE_SIGNATURE does not point to end of file' '$t/err' && cmp -s '$t/trail' '$t/trail.orig'" "signature not at the end"
head -c 100 "$fx/exe_arm64" > "$t/short"
"$msign" strip "$t/short" 2> "$t/err"
check "[ $? = 1 ] && grep -qx '$t/short: object file format unrecognized, invalid, or unsuitable' '$t/err'" "damaged header"

# Faults. A write limit kills the process (SIGXFSZ) while it writes the
# temporary file: the original is intact, the temporary stays behind...
cp "$fx/exe_arm64" "$t/f"
# (a shell in between reports the signal, to /dev/null)
sh -c 'ulimit -f 4; "$0" strip "$1"; exit $?' "$msign" "$t/f" 2> /dev/null
check "[ $? != 0 ] && cmp -s '$t/f' '$fx/exe_arm64'" "killed mid-write: original intact"
check "ls -A '$t' | grep -q '^\\.f\\.msign\\.'" "killed mid-write: temporary left (the scenario happened)"
# ...and the next run removes it.
"$msign" strip "$t/f"
check "[ $? = 0 ] && ! ls -A '$t' | grep -q 'msign'" "next run sweeps the stale temporary"
# The sweep removes only its own temporaries, never look-alike files.
cp "$fx/exe_arm64" "$t/k"
touch "$t/.k.msign.backup" "$t/.k.msign.1.notes.txt" "$t/.k.msign.99999999.abcdef"
"$msign" strip "$t/k"
check "[ -e '$t/.k.msign.backup' ] && [ -e '$t/.k.msign.1.notes.txt' ]" "sweep leaves look-alike files"
check "[ ! -e '$t/.k.msign.99999999.abcdef' ]" "sweep removes a dead writer's temporary"
rm -f "$t"/.k.msign.*
# A symbolic link: its target is stripped, the link stays a link.
cp "$fx/exe_arm64" "$t/real"
ln -s real "$t/link"
"$msign" strip "$t/link"
check "[ -L '$t/link' ] && only_vmsize_differs '$t/real' '$fx/exe_arm64.unsigned'" "symlink: target stripped, link kept"
# A folder where no temporary file can be created.
cp "$fx/exe_arm64" "$t/g"
"$msign" strip --output /proc/msign-cannot-write "$t/g" 2> "$t/err"
check "[ $? = 1 ] && cmp -s '$t/g' '$fx/exe_arm64'" "unwritable folder (/proc): error, input intact"
# Root may write anywhere, so as root the refusal is checked as nobody
# (setpriv, util-linux) in nobody's own read-only folder.
mkdir "$t/ro"; cp "$fx/exe_arm64" "$t/ro/h"
if [ "$(id -u)" != 0 ]; then
	chmod 555 "$t/ro"
	"$msign" strip "$t/ro/h" 2> /dev/null
	rc=$?
	chmod 755 "$t/ro"
else
	chmod 711 "$t"; chown -R nobody "$t/ro"; chmod 555 "$t/ro"
	setpriv --reuid=65534 --regid=65534 --clear-groups -- "$msign" strip "$t/ro/h" 2> /dev/null
	rc=$?
	chmod 755 "$t/ro"
fi
check "[ $rc = 1 ] && cmp -s '$t/ro/h' '$fx/exe_arm64'" "read-only folder: error (exit $rc), file intact"

[ $((pass + fail)) -gt 0 ] || bad "strip: no check ran"
echo "strip: $pass passed, $fail failed"
[ $fail = 0 ]
