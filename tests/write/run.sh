#!/bin/sh
# msign strip/sign writing files: what --output may name, long names, who
# may replace what, owner/group/mode/xattrs/ACLs kept, hard links, and the
# sweep of stale temporaries. Runs as root (it sets up files of another
# user, nobody, and runs msign as nobody): a check that cannot be set up
# fails, it is never skipped. Run from the repository root:
#   sh tests/write/run.sh build/msign
# Ends with "write: N passed, M failed".
set -u
msign=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
fx=$(pwd)/fixtures
# Under the build folder (next to msign), not /tmp: it must hold xattrs
# and ACLs, and nobody must reach it.
t=$(mktemp -d "$(dirname "$msign")/write-test.XXXXXX")
chmod 755 "$t"
bg=""
trap '[ -n "$bg" ] && kill $bg 2>/dev/null; rm -rf "$t"' EXIT
export TZ=UTC MSIGN_HOST_ARCH=x86_64 LC_ALL=C
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
check() { if eval "$1"; then ok; else bad "$2"; fi; }
# as_nobody CMD...: run as uid/gid 65534 with no other groups.
as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups -- "$@"; }
# the exact stderr of the last run
err_is() { [ "$(cat "$t/err")" = "$1" ]; }
signed=$fx/strip/exe_arm64          # ld64.lld-signed arm64 executable
unsigned=$fx/strip/exe_arm64.unsigned

check "[ \"\$(id -u)\" = 0 ]" "this suite runs as root (it sets up another user's files)"
for tool in setpriv setfattr getfattr setfacl getfacl flock timeout mknod mkfifo; do
	check "command -v $tool > /dev/null" "$tool is installed (attr, acl, util-linux, coreutils)"
done
check "setfattr -n user.probe -v 1 '$t' && setfacl -m u:nobody:r '$t'" "$t holds xattrs and ACLs"
setfacl -b "$t"; setfattr -x user.probe "$t"
check "as_nobody test -x '$t'" "nobody can reach $t"

# ---- what --output may name ----------------------------------------------
# A character device: refused, nothing written, still a device. A private
# node with /dev/null's numbers is tried first, so that a build that would
# replace it cannot replace the system's /dev/null.
cp "$signed" "$t/f"
mknod "$t/null" c 1 3
"$msign" strip --output "$t/null" "$t/f" 2> "$t/err"
check "[ $? = 1 ] && err_is '$t/f: cannot write $t/null: not a regular file'" "strip --output to a device: refused"
check "[ -c '$t/null' ] && cmp -s '$t/f' '$signed'" "strip --output to a device: still a device, input intact"
if [ -c "$t/null" ]; then
	"$msign" strip --output /dev/null "$t/f" 2> "$t/err"
	check "[ $? = 1 ] && err_is '$t/f: cannot write /dev/null: not a regular file'" "strip --output /dev/null: refused"
	"$msign" sign -s - -f --output /dev/null "$t/f" 2> "$t/err"
	check "[ $? = 1 ] && err_is '$t/f: replacing existing signature
$t/f: cannot write /dev/null: not a regular file'" "sign --output /dev/null: refused"
	check "[ -c /dev/null ]" "/dev/null is still a character device"
	ln -s /dev/null "$t/tonull"
	"$msign" strip --output "$t/tonull" "$t/f" 2> "$t/err"
	check "[ $? = 1 ] && err_is '$t/f: cannot write $t/tonull: not a regular file'" "strip --output to a symlink to /dev/null: refused"
	check "[ -L '$t/tonull' ] && [ -c /dev/null ]" "symlink to /dev/null: link and device kept"
else
	bad "the private device was replaced: /dev/null not tried"
fi
check "[ -z \"\$(ls -A '$t' | grep msign)\" ]" "refused outputs leave no temporary"
# A FIFO: refused at once (timeout: an open would wait for a reader).
mkfifo "$t/fifo"
timeout 10 "$msign" strip --output "$t/fifo" "$t/f" 2> "$t/err"
check "[ $? = 1 ] && err_is '$t/f: cannot write $t/fifo: not a regular file' && [ -p '$t/fifo' ]" "strip --output to a FIFO: refused, no hang"
timeout 10 "$msign" sign -s - -f --output "$t/fifo" "$t/f" 2> "$t/err"
check "[ $? = 1 ] && [ \"\$(tail -n 1 '$t/err')\" = '$t/f: cannot write $t/fifo: not a regular file' ] && [ -p '$t/fifo' ]" "sign --output to a FIFO: refused, no hang"
# ...and as the file to strip in place.
timeout 10 "$msign" strip "$t/fifo" 2> "$t/err"
check "[ $? = 1 ] && err_is '$t/fifo: not a regular file' && [ -p '$t/fifo' ]" "strip of a FIFO: refused, no hang"
# A folder.
mkdir "$t/dir"
"$msign" strip --output "$t/dir" "$t/f" 2> "$t/err"
check "[ $? = 1 ] && err_is '$t/f: cannot write $t/dir: not a regular file' && [ -z \"\$(ls -A '$t/dir')\" ]" "strip --output to a folder: refused"
# A symlink to a regular file is followed (its target is written).
cp "$signed" "$t/target"; ln -s target "$t/tolink"
"$msign" strip --output "$t/tolink" "$t/f" 2> "$t/err"
check "[ $? = 0 ] && [ ! -s '$t/err' ] && [ -L '$t/tolink' ] && [ \"\$(stat -c %s '$t/target')\" = \"\$(stat -c %s '$unsigned')\" ]" "strip --output to a symlink to a file: its target written"
rm -f "$t/target" "$t/tolink"

# ---- long names ----------------------------------------------------------
# 250 bytes: ".NAME.msign.PID.XXXXXX" would exceed NAME_MAX (255).
long=$(printf 'x%.0s' $(seq 250))
cp "$signed" "$t/$long"
"$msign" strip "$t/$long" 2> "$t/err"
check "[ $? = 0 ] && [ ! -s '$t/err' ] && [ \"\$(stat -c %s '$t/$long')\" = \"\$(stat -c %s '$unsigned')\" ]" "250-byte name: stripped"
"$msign" sign -s - "$t/$long" 2> "$t/err"
check "[ $? = 0 ] && [ ! -s '$t/err' ] && '$msign' verify '$t/$long'" "250-byte name: signed and verifies"
# Multi-byte characters (2 bytes each): the cut must not split one.
u=$(printf '\303\251%.0s' $(seq 125))
cp "$signed" "$t/$u"
"$msign" strip "$t/$u" 2> "$t/err"
check "[ $? = 0 ] && [ ! -s '$t/err' ]" "250-byte UTF-8 name: stripped"
check "[ \"\$(ls -A '$t' | grep -c msign)\" = 0 ]" "long names: no temporary left"
# A run killed mid-write leaves a temporary for a long name (ulimit -f);
# a writer for another long name with the same first 240 bytes keeps it,
# the next writer for the same name removes it.
la=$(printf 'l%.0s' $(seq 240))a lb=$(printf 'l%.0s' $(seq 240))b
cp "$signed" "$t/$la"; cp "$signed" "$t/$lb"
sh -c 'ulimit -f 4; "$0" strip "$1"; exit $?' "$msign" "$t/$la" 2> /dev/null
check "[ $? != 0 ] && [ \"\$(ls -A '$t' | grep -c msign)\" = 1 ] && cmp -s '$t/$la' '$signed'" "killed mid-write on a long name: original intact, temporary left"
"$msign" strip "$t/$lb"
check "[ $? = 0 ] && [ \"\$(ls -A '$t' | grep -c msign)\" = 1 ]" "long names: another name's temporary kept"
"$msign" strip "$t/$la"
check "[ $? = 0 ] && [ \"\$(ls -A '$t' | grep -c msign)\" = 0 ]" "long names: own stale temporary swept"
rm -f "$t/$long" "$t/$u" "$t/$la" "$t/$lb"

# ---- who may replace what (as nobody) -------------------------------------
# A 0444 file of nobody's, in nobody's folder: refused, not replaced.
mkdir "$t/own"; chown nobody:nogroup "$t/own"
cp "$signed" "$t/own/ro"; chown nobody:nogroup "$t/own/ro"; chmod 444 "$t/own/ro"
ino=$(stat -c %i "$t/own/ro")
as_nobody "$msign" strip "$t/own/ro" 2> "$t/err"
check "[ $? = 1 ] && err_is '$t/own/ro: cannot write $t/own/ro: Permission denied'" "nobody strips a 0444 file: refused"
as_nobody "$msign" sign -s - -f "$t/own/ro" 2> "$t/err"
check "[ $? = 1 ] && [ \"\$(tail -n 1 '$t/err')\" = '$t/own/ro: cannot write $t/own/ro: Permission denied' ]" "nobody signs a 0444 file: refused"
check "[ \"\$(stat -c %i:%a '$t/own/ro')\" = '$ino:444' ] && cmp -s '$t/own/ro' '$signed'" "0444 file: same inode, mode and bytes"
# Root's file in a world-writable folder: refused, still root's.
mkdir "$t/ww"; chmod 777 "$t/ww"
cp "$signed" "$t/ww/rootfile"; chmod 644 "$t/ww/rootfile"
as_nobody "$msign" strip "$t/ww/rootfile" 2> "$t/err"
check "[ $? = 1 ] && err_is '$t/ww/rootfile: cannot write $t/ww/rootfile: Permission denied'" "nobody strips root's file in a 0777 folder: refused"
as_nobody "$msign" sign -s - -f "$t/ww/rootfile" 2> /dev/null
check "[ $? = 1 ] && [ \"\$(stat -c %U:%a '$t/ww/rootfile')\" = root:644 ] && cmp -s '$t/ww/rootfile' '$signed'" "root's file: still root's, bytes intact"
check "[ -z \"\$(ls -A '$t/ww' '$t/own' | grep msign)\" ]" "refusals leave no temporary"
# Root's file that nobody may write (0666): written, but the owner cannot
# be kept: one warning line, exit 0.
cp "$signed" "$t/ww/shared"; chmod 666 "$t/ww/shared"
as_nobody "$msign" strip "$t/ww/shared" 2> "$t/err"
check "[ $? = 0 ] && err_is '$t/ww/shared: warning: could not keep its owner, group'" "nobody strips root's 0666 file: owner not kept, said"
check "[ \"\$(stat -c %U:%G:%a '$t/ww/shared')\" = nobody:nogroup:666 ]" "root's 0666 file: now nobody's, mode kept"

# ---- owner, group, mode -------------------------------------------------
# Set-gid and set-uid files of nobody's, stripped by nobody: kept (the mode
# is set after the last write, which would clear them).
cp "$signed" "$t/own/sg"; chown nobody:nogroup "$t/own/sg"; chmod 2755 "$t/own/sg"
cp "$signed" "$t/own/su"; chown nobody:nogroup "$t/own/su"; chmod 4755 "$t/own/su"
as_nobody "$msign" strip "$t/own/sg" 2> "$t/err"
check "[ $? = 0 ] && [ ! -s '$t/err' ] && [ \"\$(stat -c %U:%G:%a '$t/own/sg')\" = nobody:nogroup:2755 ]" "nobody strips a set-gid file: group and mode kept"
as_nobody "$msign" sign -s - "$t/own/sg" 2> "$t/err"
check "[ $? = 0 ] && [ ! -s '$t/err' ] && [ \"\$(stat -c %U:%G:%a '$t/own/sg')\" = nobody:nogroup:2755 ]" "nobody signs a set-gid file: group and mode kept"
as_nobody "$msign" strip "$t/own/su" 2> "$t/err"
check "[ $? = 0 ] && [ ! -s '$t/err' ] && [ \"\$(stat -c %U:%G:%a '$t/own/su')\" = nobody:nogroup:4755 ]" "nobody strips a set-uid file: mode kept"
# Set-gid for a group nobody is not in: cannot be kept; the bit is dropped
# with the group (it would name nobody's group), and said.
cp "$signed" "$t/own/sgroot"; chown nobody:root "$t/own/sgroot"; chmod 2755 "$t/own/sgroot"
as_nobody "$msign" strip "$t/own/sgroot" 2> "$t/err"
check "[ $? = 0 ] && err_is '$t/own/sgroot: warning: could not keep its group, set-id bits'" "set-gid, foreign group: warning"
check "[ \"\$(stat -c %U:%G:%a '$t/own/sgroot')\" = nobody:nogroup:755 ]" "set-gid, foreign group: bit dropped with the group"
# Root writing nobody's set-gid file with another group: all kept.
cp "$signed" "$t/sg2"; chown nobody:daemon "$t/sg2"; chmod 2750 "$t/sg2"
"$msign" strip "$t/sg2" 2> "$t/err"
check "[ $? = 0 ] && [ ! -s '$t/err' ] && [ \"\$(stat -c %U:%G:%a '$t/sg2')\" = nobody:daemon:2750 ]" "root strips nobody's set-gid file: owner, group, mode kept"
# The temporary is 0600 and root's while it is written: stopped mid-write,
# it is not yet nobody's.
cp "$signed" "$t/sg3"; chown nobody:daemon "$t/sg3"; chmod 2755 "$t/sg3"
sh -c 'ulimit -f 4; "$0" strip "$1"; exit $?' "$msign" "$t/sg3" 2> /dev/null
check "[ \"\$(stat -c %U:%a \"\$(ls -d '$t'/.sg3.msign.*)\")\" = root:600 ]" "temporary stays 0600 and the caller's until the end"
rm -f "$t"/.sg3.msign.*

# ---- extended attributes and ACLs --------------------------------------
cp "$signed" "$t/xa"
setfattr -n user.x -v 1 "$t/xa"; setfacl -m u:nobody:r "$t/xa"
"$msign" strip "$t/xa" 2> "$t/err"
check "[ $? = 0 ] && [ ! -s '$t/err' ] && [ \"\$(getfattr --only-values -n user.x '$t/xa' 2>/dev/null)\" = 1 ]" "strip keeps user.x"
check "getfacl -cp '$t/xa' 2>/dev/null | grep -qx 'user:nobody:r--'" "strip keeps the ACL"
"$msign" sign -s - "$t/xa" 2> "$t/err"
check "[ $? = 0 ] && [ ! -s '$t/err' ] && [ \"\$(getfattr --only-values -n user.x '$t/xa' 2>/dev/null)\" = 1 ] && getfacl -cp '$t/xa' 2>/dev/null | grep -qx 'user:nobody:r--'" "sign keeps user.x and the ACL"
# A folder's default ACL is not added to a file that had no ACL.
mkdir "$t/dacl"; setfacl -d -m u:nobody:rwx "$t/dacl"
cp "$signed" "$t/dacl/f"; setfacl -b "$t/dacl/f"; chmod 640 "$t/dacl/f"
"$msign" strip "$t/dacl/f"
check "[ $? = 0 ] && [ -z \"\$(getfattr -m - -d '$t/dacl/f' 2>/dev/null | grep posix_acl)\" ] && [ \"\$(stat -c %a '$t/dacl/f')\" = 640 ]" "no ACL inherited from the folder's default"

# ---- hard links: the rename breaks them, as codesign's does -------------
cp "$signed" "$t/h1"; ln "$t/h1" "$t/h2"
"$msign" strip "$t/h1"
check "[ $? = 0 ] && [ \"\$(stat -c %h '$t/h2')\" = 1 ] && [ \"\$(stat -c %h '$t/h1')\" = 1 ]" "hard link: each name has one link afterwards"
check "cmp -s '$t/h2' '$signed' && ! cmp -s '$t/h1' '$signed'" "hard link: the other name keeps the old bytes"

# ---- stale temporaries ---------------------------------------------------
# Owned by the file's owner (nobody), no live writer: removed when root
# writes that file.
cp "$signed" "$t/o"; chown nobody:nogroup "$t/o"
touch "$t/.o.msign.12345.abcdef"; chown nobody:nogroup "$t/.o.msign.12345.abcdef"
# Held by a live writer (a lock held by a background flock) whose pid does
# not exist in this namespace: kept.
# (the subshell becomes sleep, which holds the lock: killing it frees it)
( exec 9> "$t/.o.msign.99999999.zzzzzz"; flock 9; exec sleep 60 ) &
bg=$!
i=0; while flock -n "$t/.o.msign.99999999.zzzzzz" true 2>/dev/null && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
check "! flock -n '$t/.o.msign.99999999.zzzzzz' true" "the background writer holds its lock"
# Not our names, or not regular files: kept.
touch "$t/.o.msign.backup" "$t/.o.msign.1.abcdefg" "$t/.o.msign.x1.abcdef" "$t/.oo.msign.1.abcdef"
ln -s o "$t/.o.msign.2.abcdef"; mkfifo "$t/.o.msign.3.abcdef"
# Another user's (daemon), neither ours nor the file owner's: kept.
touch "$t/.o.msign.4.abcdef"; chown daemon "$t/.o.msign.4.abcdef"
timeout 20 "$msign" strip "$t/o" 2> "$t/err"
check "[ $? = 0 ] && [ ! -s '$t/err' ]" "strip with stale temporaries around"
check "[ ! -e '$t/.o.msign.12345.abcdef' ]" "dead writer's temporary owned by the file's owner: removed"
check "[ -e '$t/.o.msign.99999999.zzzzzz' ]" "live writer's temporary: kept"
for n in .o.msign.backup .o.msign.1.abcdefg .o.msign.x1.abcdef .oo.msign.1.abcdef .o.msign.4.abcdef; do
	check "[ -f '$t/$n' ]" "non-matching or foreign $n: kept"
done
check "[ -L '$t/.o.msign.2.abcdef' ] && [ -p '$t/.o.msign.3.abcdef' ]" "symlink and FIFO with our names: kept"
kill $bg 2>/dev/null; wait $bg 2>/dev/null; bg=""
"$msign" sign -s - "$t/o" 2> /dev/null # (already stripped: sign writes)
check "[ ! -e '$t/.o.msign.99999999.zzzzzz' ]" "its writer gone, the temporary is removed"

# ---- a copy that fails while sign hashes ----------------------------------
# The output cannot grow past 2 MiB (ulimit -f, SIGXFSZ ignored: write
# fails with EFBIG): the reason is the copy's, not the hashers' "cannot
# read" that follows from it; nothing is left behind.
python3 "$(dirname "$0")/../safety/macho.py" grow "$unsigned" "$t/big" 8
sh -c "trap '' XFSZ; ulimit -f 4096; exec '$msign' sign -s - --output '$t/big.out' '$t/big'" 2> "$t/err.raw"
rc=$?
sed 's/\.msign\.[0-9]*\.[A-Za-z0-9]\{6\}:/.msign.PID.XXXXXX:/' "$t/err.raw" > "$t/err"
check "[ $rc = 1 ] && err_is '$t/big: cannot write $t/.big.out.msign.PID.XXXXXX: File too large'" "sign, copy fails (EFBIG): exit $rc, '$(cat "$t/err")'"
check "[ ! -e '$t/big.out' ] && [ -z \"\$(ls -A '$t' | grep 'big.out.msign')\" ]" "sign, copy fails: no output, no temporary"
rm -f "$t/big"

# ---- a link planted by another user in a sticky folder --------------------
# With fs.protected_symlinks (Debian's default; this machine may have it
# off: set for this check and put back), the kernel refuses root to follow
# nobody's link in a sticky world-writable folder. msign resolves the
# output through the kernel, so it refuses too instead of replacing the
# link's target (realpath(3) used to follow it).
ps_was=$(cat /proc/sys/fs/protected_symlinks)
mkdir -m 1777 "$t/sticky"
printf 'victim\n' > "$t/victim"
as_nobody ln -s "$t/victim" "$t/sticky/out"
if echo 1 > /proc/sys/fs/protected_symlinks; then
	"$msign" sign -s - --output "$t/sticky/out" "$unsigned" 2> "$t/err"
	rc=$?
	echo "$ps_was" > /proc/sys/fs/protected_symlinks
	check "[ $rc = 1 ] && err_is '$unsigned: cannot write $t/sticky/out: Permission denied'" "root --output through nobody's link in a sticky folder: refused (exit $rc, '$(cat "$t/err")')"
	check "[ \"\$(cat '$t/victim')\" = victim ] && [ -L '$t/sticky/out' ]" "the link's target is untouched"
else
	no "cannot set fs.protected_symlinks for the sticky-folder check"
fi

echo "write: $pass passed, $fail failed"
[ $fail = 0 ] && [ $pass -gt 0 ]
