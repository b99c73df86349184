#!/usr/bin/env python3
"""Files with the properties of real ones that codesign displays and msign
used to refuse, made from the project's own fixtures (standard library only):

  fidelity.py sdk IN OUT SDK      IN with LC_BUILD_VERSION's sdk set to SDK
                                  (e.g. 0x000a0800, 10.8: before Library
                                  Validation)
  fidelity.py codelimit IN OUT    IN (thin, linker-signed) with a
                                  CodeDirectory whose codeLimit runs one page
                                  past the end of the file, nCodeSlots and the
                                  hash array grown to match (the new slots
                                  zero), LC_CODE_SIGNATURE and __LINKEDIT
                                  grown to hold the longer signature
  fidelity.py fatcpu IN OUT       IN (universal) whose first fat_arch names
                                  i386 (7, 3) while its slice is x86_64
"""
import struct
import sys

LC_SEGMENT_64, LC_CODE_SIGNATURE, LC_BUILD_VERSION = 0x19, 0x1d, 0x32


def commands(b):
    ncmds = struct.unpack_from('<I', b, 16)[0]
    off = 32
    for _ in range(ncmds):
        cmd, size = struct.unpack_from('<II', b, off)
        yield cmd, off
        off += size


def sdk(b, value):
    for cmd, off in commands(b):
        if cmd == LC_BUILD_VERSION:  # cmd, cmdsize, platform, minos, sdk
            struct.pack_into('<I', b, off + 16, value)
            return b
    sys.exit('no LC_BUILD_VERSION')


def codelimit(b):
    lc = next(off for cmd, off in commands(b) if cmd == LC_CODE_SIGNATURE)
    dataoff, datasize = struct.unpack_from('<II', b, lc + 8)
    sb = b[dataoff:dataoff + datasize]
    cdoff = struct.unpack_from('>I', sb, 16)[0]  # index entry 0: the CD
    cdlen = struct.unpack_from('>I', sb, cdoff + 4)[0]
    cd = bytearray(sb[cdoff:cdoff + cdlen])
    ncode = struct.unpack_from('>I', cd, 28)[0]
    page = 1 << cd[39]
    limit = len(b) + page
    n = (limit + page - 1) // page
    cd += bytes((n - ncode) * cd[36])  # hashSize per new slot
    struct.pack_into('>II', cd, 28, n, limit)  # nCodeSlots, codeLimit
    struct.pack_into('>I', cd, 4, len(cd))
    new = bytearray(sb[:cdoff]) + cd
    struct.pack_into('>I', new, 4, len(new))
    new += bytes(-len(new) % 16)
    out = bytearray(b[:dataoff]) + new
    struct.pack_into('<I', out, lc + 12, len(new))
    for cmd, off in commands(out):
        if cmd == LC_SEGMENT_64 and out[off + 8:off + 18] == b'__LINKEDIT':
            fileoff = struct.unpack_from('<Q', out, off + 40)[0]
            size = len(out) - fileoff
            struct.pack_into('<Q', out, off + 48, size)
            struct.pack_into('<Q', out, off + 32, (size + 0x3fff) // 0x4000 * 0x4000)
    return out


def fatcpu(b):
    struct.pack_into('>ii', b, 8, 7, 3)
    return b


def main():
    what, src, dst = sys.argv[1:4]
    b = bytearray(open(src, 'rb').read())
    if what == 'sdk':
        b = sdk(b, int(sys.argv[4], 0))
    elif what == 'codelimit':
        b = codelimit(b)
    elif what == 'fatcpu':
        b = fatcpu(b)
    else:
        sys.exit('unknown: ' + what)
    open(dst, 'wb').write(b)


main()
