#!/usr/bin/env python3
"""Test-only Mach-O edits for tests/safety/run.sh (no msign code involved).

  macho.py grow IN OUT MIB     thin 64-bit little-endian unsigned Mach-O:
                               append MIB MiB of pseudo-random bytes inside
                               __LINKEDIT (filesize and vmsize follow), so
                               the result is signable and large.
  macho.py fat64 IN OUT ALIGN  universal file: rewrite its fat header as a
                               64-bit one with every slice's alignment set
                               to 2^ALIGN (slices stay where they are).
  macho.py writer FILE SECS    overwrite 4 KiB at random offsets of FILE
                               (past its first 64 KiB) until SECS pass;
                               FILE.ready appears once FILE is open.
  macho.py sparse IN OUT MIB   signed thin 64-bit Mach-O: its signature
                               (datasize, SuperBlob length, __LINKEDIT)
                               claims MIB MiB, the file is extended to
                               match with a hole (a few KiB on disk).
  macho.py cutter FILE SECS    cut the last 2 MiB of FILE for 10 ms, then
                               write them back, every 30 ms until SECS
                               pass.
"""
import os
import random
import struct
import sys
import time

LC_SEGMENT_64 = 0x19


def grow(src, dst, mib):
    b = bytearray(open(src, 'rb').read())
    magic, = struct.unpack_from('<I', b, 0)
    assert magic == 0xfeedfacf, 'thin 64-bit little-endian Mach-O expected'
    ncmds, = struct.unpack_from('<I', b, 16)
    at = 32
    for _ in range(ncmds):
        cmd, size = struct.unpack_from('<II', b, at)
        if cmd == LC_SEGMENT_64 and b[at + 8:at + 24].rstrip(b'\0') == b'__LINKEDIT':
            vmsize, fileoff, filesize = struct.unpack_from('<QQQ', b, at + 32)
            assert fileoff + filesize == len(b), '__LINKEDIT must end the file'
            extra = mib << 20
            filesize += extra
            vmsize = (filesize + 0x3fff) & ~0x3fff
            struct.pack_into('<QQQ', b, at + 32, vmsize, fileoff, filesize)
            rnd = random.Random(1)
            with open(dst, 'wb') as f:
                f.write(b)
                for _ in range(mib):
                    f.write(rnd.randbytes(1 << 20))
            return
        at += size
    sys.exit('no __LINKEDIT')


def fat64(src, dst, align):
    b = open(src, 'rb').read()
    magic, n = struct.unpack_from('>II', b, 0)
    assert magic == 0xcafebabe, '32-bit fat file expected'
    arches = [struct.unpack_from('>iiIII', b, 8 + 20 * i) for i in range(n)]
    hdr = struct.pack('>II', 0xcafebabf, n)
    for ct, st, off, size, _ in arches:
        hdr += struct.pack('>iiQQII', ct, st, off, size, align, 0)
    assert len(hdr) <= min(a[2] for a in arches), 'no room for a fat64 header'
    out = bytearray(b)
    out[:len(hdr)] = hdr
    open(dst, 'wb').write(out)


def sparse(src, dst, mib):
    b = bytearray(open(src, 'rb').read())
    ncmds, = struct.unpack_from('<I', b, 16)
    at, le, cs = 32, None, None
    for _ in range(ncmds):
        cmd, size = struct.unpack_from('<II', b, at)
        if cmd == LC_SEGMENT_64 and b[at + 8:at + 24].rstrip(b'\0') == b'__LINKEDIT':
            le = at
        if cmd == 0x1d:  # LC_CODE_SIGNATURE
            cs = at
        at += size
    assert le is not None and cs is not None, 'signed, with __LINKEDIT'
    dataoff, = struct.unpack_from('<I', b, cs + 8)
    ds = mib << 20
    struct.pack_into('<I', b, cs + 12, ds)
    fileoff, = struct.unpack_from('<Q', b, le + 40)
    filesize = dataoff + ds - fileoff
    struct.pack_into('<QQQ', b, le + 32, (filesize + 0x3fff) & ~0x3fff,
                     fileoff, filesize)
    struct.pack_into('>I', b, dataoff + 4, ds)  # the SuperBlob's length
    with open(dst, 'wb') as f:
        f.write(b)
        f.truncate(dataoff + ds)


def writer(path, secs):
    fd = os.open(path, os.O_WRONLY)
    size = os.fstat(fd).st_size
    # Opened: from now on this writes into this inode, even after a rename
    # replaced the name (the test waits for this mark before signing).
    open(path + '.ready', 'w').close()
    rnd = random.Random(os.getpid())
    end = time.time() + secs
    while time.time() < end:
        os.pwrite(fd, rnd.randbytes(4096), rnd.randrange(65536, size - 4096))


def cutter(path, secs):
    data = open(path, 'rb').read()
    cut = len(data) - (2 << 20)  # the signature and the last pages
    fd = os.open(path, os.O_WRONLY)
    end = time.time() + secs
    while time.time() < end:
        time.sleep(0.02)  # whole: readers open it and start
        os.ftruncate(fd, cut)
        time.sleep(0.01)  # cut: their reads of the end fail
        os.pwrite(fd, data[cut:], cut)


if __name__ == '__main__':
    op = sys.argv[1]
    if op == 'grow':
        grow(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    elif op == 'fat64':
        fat64(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    elif op == 'sparse':
        sparse(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    elif op == 'writer':
        writer(sys.argv[2], float(sys.argv[3]))
    elif op == 'cutter':
        cutter(sys.argv[2], float(sys.argv[3]))
    else:
        sys.exit(__doc__)
