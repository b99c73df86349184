#!/bin/sh
# make bench, strip part: removing the signature of a 1 GiB file against
# one sequential copy of it (cp), on the build folder's file system, and,
# when run as root with xfsprogs present, on a loop-mounted XFS with
# reflinks, where msign starts from a clone of the file.
# Needs build/bench/big_arm64 and big_universal (made by bench/run.sh).
set -eu
msign=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
timeit=$(dirname "$msign")/timeit
dir=build/bench
runs=${BENCH_STRIP_RUNS:-5}

median() { sort -n | sed -n "$(( (runs + 1) / 2 ))p"; }
# Wall microseconds of one run of a command (bench/timeit.c).
once_us() { "$timeit" 1 "$@" | awk '{ printf "%d", $1 / 1000 }'; }

# bench_on FOLDER FILE LABEL: median us of cp and of msign strip.
bench_on() {
	d=$1 f=$2 label=$3
	cp "$f" "$d/src"
	sync
	i=0; : > "$d/cp.t"; : > "$d/st.t"; : > "$d/rp.t"
	while [ $i -lt "$runs" ]; do
		rm -f "$d/copy"
		once_us sh -c 'cp "$1" "$2" && sync "$2"' sh "$d/src" "$d/copy" >> "$d/cp.t"
		echo >> "$d/cp.t"
		# the same durable replacement done by hand: copy, fsync, rename
		# over an existing file (whose blocks are then freed)
		cp --reflink=auto "$d/src" "$d/old"; sync
		once_us sh -c 'cp "$1" "$2" && sync "$2" && mv "$2" "$3"' sh \
			"$d/src" "$d/new" "$d/old" >> "$d/rp.t"
		echo >> "$d/rp.t"
		rm -f "$d/old"
		# strip works on its own copy; making it is not timed
		cp --reflink=auto "$d/src" "$d/victim"; sync
		once_us "$msign" strip "$d/victim" >> "$d/st.t"
		echo >> "$d/st.t"
		i=$((i + 1))
	done
	c=$(median < "$d/cp.t"); s=$(median < "$d/st.t"); p=$(median < "$d/rp.t")
	fs=$(df -T "$d" | awk 'NR == 2 {print $2}')
	printf 'strip %-14s on %-4s: msign strip %8d us | cp+fsync %8d us (ratio %s) | cp+fsync+mv over old %8d us (ratio %s)\n' \
		"$label" "$fs" "$s" "$c" "$(awk -v s="$s" -v c="$c" 'BEGIN { printf "%.2f", s / c }')" \
		"$p" "$(awk -v s="$s" -v c="$p" 'BEGIN { printf "%.2f", s / c }')"
	rm -f "$d/src" "$d/copy" "$d/victim" "$d/cp.t" "$d/st.t" "$d/rp.t"
}

mkdir -p "$dir/strip"
bench_on "$dir/strip" "$dir/big_arm64" "1GiB-thin"
bench_on "$dir/strip" "$dir/big_universal" "1GiB-universal"

if [ "$(id -u)" = 0 ] && command -v mkfs.xfs >/dev/null 2>&1; then
	img=$dir/xfs.img mnt=$dir/xfs
	mkdir -p "$mnt"
	truncate -s 4G "$img"
	if mkfs.xfs -q -f -m reflink=1 "$img" && mount -o loop "$img" "$mnt" 2>/dev/null; then
		bench_on "$mnt" "$dir/big_arm64" "1GiB-thin"
		bench_on "$mnt" "$dir/big_universal" "1GiB-universal"
		umount "$mnt"
	else
		echo "strip on xfs: skipped (loop mount not permitted here)"
	fi
	rm -f "$img"
else
	echo "strip on xfs: skipped (needs root and xfsprogs)"
fi
