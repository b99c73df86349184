#!/usr/bin/env python3
"""Helpers of tests/cms/run.sh (standard library and the openssl command).

  cms.py extract FILE SLICE PREFIX
      write PREFIX.cms (the CMS blob's payload), PREFIX.cd (slot 0) and
      PREFIX.cdN (every CodeDirectory, slot order) of slice SLICE; print
      "datasize SUPERBLOB_LENGTH CMS_BLOB_END CD_COUNT"
  cms.py outline CMS [--no-unsigned]
      the CMS structure from `openssl asn1parse`, values masked: depth,
      type, definite or indefinite length, OIDs; each certificate, the
      signer's issuer and serial, and (with --no-unsigned) the unsigned
      attributes collapsed
  cms.py reqs FILE SLICE
      the requirement set blob (slot 2) of slice SLICE, in hex
  cms.py certs CMS
      the certificates the CMS carries, in its order, one hex line each
  cms.py token CMS PREFIX
      write PREFIX.tst (the id-aa-timeStampToken attribute's value, a
      TimeStampToken) and PREFIX.sig (the SignerInfo's signature value,
      what the token must be over); exit 1 when the CMS has no token
  cms.py plist CMS CD...
      exit 0 when the 1.2.840.113635.100.9.1 plist holds exactly the
      first 20 bytes of each CD's hash (by its own hashType), in order,
      as Apple writes it
"""
import base64
import hashlib
import re
import struct
import subprocess
import sys


def slices(d):
    if struct.unpack('>I', d[:4])[0] in (0xcafebabe, 0xcafebabf):
        n = struct.unpack('>I', d[4:8])[0]
        w = 20 if d[3] == 0xbe else 32
        for i in range(n):
            e = d[8 + i * w:8 + (i + 1) * w]
            if w == 20:
                off, size = struct.unpack('>II', e[8:16])
            else:
                off, size = struct.unpack('>QQ', e[8:24])
            yield d[off:off + size]
    else:
        yield d


def superblob(path, idx):
    m = list(slices(open(path, 'rb').read()))[idx]
    e = '<' if m[:4] in (b'\xcf\xfa\xed\xfe', b'\xce\xfa\xed\xfe') else '>'
    is64 = struct.unpack(e + 'I', m[:4])[0] == 0xfeedfacf
    ncmds = struct.unpack(e + 'I', m[16:20])[0]
    p = 32 if is64 else 28
    sig = None
    for _ in range(ncmds):
        cmd, sz = struct.unpack(e + 'II', m[p:p + 8])
        if cmd == 0x1d:
            off, size = struct.unpack(e + 'II', m[p + 8:p + 16])
            sig = m[off:off + size]
        p += sz
    if sig is None:
        sys.exit('no LC_CODE_SIGNATURE')
    return sig


def blobs(sig):
    count = struct.unpack('>I', sig[8:12])[0]
    for i in range(count):
        t, o = struct.unpack('>II', sig[12 + 8 * i:20 + 8 * i])
        bl = struct.unpack('>I', sig[o + 4:o + 8])[0]
        yield t, o, sig[o:o + bl]


def reqs(path, idx):
    for t, _, b in blobs(superblob(path, idx)):
        if t == 2:
            print(b.hex())


def extract(path, idx, prefix):
    sig = superblob(path, idx)
    _, length, count = struct.unpack('>III', sig[:12])
    cds, cms_end = [], 0
    for i in range(count):
        t, o = struct.unpack('>II', sig[12 + 8 * i:20 + 8 * i])
        bl = struct.unpack('>I', sig[o + 4:o + 8])[0]
        if t == 0 or 0x1000 <= t < 0x1005:
            cds.append(sig[o:o + bl])
        elif t == 0x10000:
            open(prefix + '.cms', 'wb').write(sig[o + 8:o + bl])
            cms_end = o + bl
    open(prefix + '.cd', 'wb').write(cds[0])
    for i, cd in enumerate(cds):
        open('%s.cd%d' % (prefix, i), 'wb').write(cd)
    print(len(sig), length, cms_end, len(cds))


def outline(path, no_unsigned):
    out = subprocess.run(['openssl', 'asn1parse', '-inform', 'DER', '-in', path, '-i'],
                         check=True, capture_output=True, text=True).stdout
    line_re = re.compile(r'^\s*\d+:d=(\d+)\s+hl=\s*\d+\s+l=\s*(inf|\d+)\s+(prim|cons):\s*(.*)$')
    path_types = []     # type of the last node seen at each depth
    nchild = {}         # children seen so far of the last node at depth d
    skip_below = None
    for line in out.splitlines():
        mt = line_re.match(line)
        if not mt:
            continue
        depth, ln, rest = int(mt.group(1)), mt.group(2), mt.group(4)
        typ, _, val = rest.partition(':')
        typ = typ.replace('[HEX DUMP]', '').strip()
        del path_types[depth:]
        path_types.append(typ)
        nchild[depth] = 0
        if depth > 0:
            nchild[depth - 1] = nchild.get(depth - 1, 0) + 1
        if skip_below is not None:
            if depth > skip_below:
                continue
            skip_below = None
        in_signer = len(path_types) > 4 and path_types[3] == 'SET' and depth >= 4
        if no_unsigned and in_signer and depth == 5 and typ == 'cont [ 1 ]':
            skip_below = 4
            continue
        shown = typ + (' ' + val.strip() if typ == 'OBJECT' else '')
        print('%s%s %s' % ('  ' * depth, shown, 'inf' if ln == 'inf' else 'def'))
        if depth == 4 and path_types[3] == 'cont [ 0 ]':
            skip_below = 4   # one line per certificate
        if in_signer and depth == 5 and nchild[4] == 2:
            skip_below = 5   # issuerAndSerialNumber


def token(path, prefix):
    data = open(path, 'rb').read()
    out = subprocess.run(['openssl', 'asn1parse', '-inform', 'DER', '-in', path],
                         check=True, capture_output=True, text=True).stdout
    line_re = re.compile(r'^\s*(\d+):d=(\d+)\s+hl=\s*(\d+)\s+l=\s*(inf|\d+)\s+(prim|cons):\s*(.*)$')
    rows = []
    for line in out.splitlines():
        m = line_re.match(line)
        if m:
            rows.append((int(m.group(1)), int(m.group(2)), int(m.group(3)),
                         m.group(4), m.group(6)))
    for i, (off, depth, hl, ln, rest) in enumerate(rows):
        if 'id-smime-aa-timeStampToken' not in rest:
            continue
        # the attribute's SET, then its one value (a ContentInfo)
        soff, sdepth, shl, sln, srest = rows[i + 1]
        if not srest.startswith('SET') or sln == 'inf':
            sys.exit('timestamp attribute without a definite SET')
        open(prefix + '.tst', 'wb').write(data[soff + shl:soff + shl + int(sln)])
        # the signature value: the OCTET STRING of the SignerInfo (the
        # attribute's grandparent) just before the unsigned attributes
        udepth = depth - 2
        for j in range(i, -1, -1):
            if rows[j][1] == udepth and rows[j][4].startswith('cont [ 1 ]'):
                for k in range(j - 1, -1, -1):
                    o, d, h, l, r = rows[k]
                    if d == udepth and r.startswith('OCTET STRING'):
                        open(prefix + '.sig', 'wb').write(data[o + h:o + h + int(l)])
                        return
        sys.exit('no signature value before the unsigned attributes')
    sys.exit('no timestamp token')


def certs(path):
    out = subprocess.run(['openssl', 'asn1parse', '-inform', 'DER', '-in', path, '-i'],
                         check=True, capture_output=True, text=True).stdout
    data = open(path, 'rb').read()
    line_re = re.compile(r'^\s*(\d+):d=(\d+)\s+hl=\s*(\d+)\s+l=\s*(inf|\d+)\s+(prim|cons):\s*(.*)$')
    inside = False
    for line in out.splitlines():
        mt = line_re.match(line)
        if not mt:
            continue
        off, depth, hl, ln, rest = mt.groups()[:4] + (mt.group(6),)
        depth = int(depth)
        if depth == 3:
            inside = rest.strip().startswith('cont [ 0 ]')
        elif depth == 4 and inside:
            a = int(off)
            print(data[a:a + int(hl) + int(ln)].hex())


def plist(cms, cds):
    data = open(cms, 'rb').read()
    a = data.find(b'<?xml')
    b = data.find(b'</plist>\n', a)
    got = data[a:b + len(b'</plist>\n')]
    want = ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" '
            '"http://www.apple.com/DTDs/PropertyList-1.0.dtd">\n'
            '<plist version="1.0">\n<dict>\n\t<key>cdhashes</key>\n\t<array>\n')
    for cd in cds:
        b = open(cd, 'rb').read()
        algo = {1: 'sha1', 2: 'sha256', 3: 'sha256', 4: 'sha384'}[b[37]]  # hashType
        h = hashlib.new(algo, b).digest()[:20]
        want += '\t\t<data>\n\t\t%s\n\t\t</data>\n' % base64.b64encode(h).decode()
    want += '\t</array>\n</dict>\n</plist>\n'
    if a < 0 or got != want.encode():
        sys.stderr.write('plist differs:\n%r\n%r\n' % (got, want))
        sys.exit(1)


if __name__ == '__main__':
    if sys.argv[1] == 'extract':
        extract(sys.argv[2], int(sys.argv[3]), sys.argv[4])
    elif sys.argv[1] == 'outline':
        outline(sys.argv[2], '--no-unsigned' in sys.argv[3:])
    elif sys.argv[1] == 'reqs':
        reqs(sys.argv[2], int(sys.argv[3]))
    elif sys.argv[1] == 'token':
        token(sys.argv[2], sys.argv[3])
    elif sys.argv[1] == 'certs':
        certs(sys.argv[2])
    elif sys.argv[1] == 'plist':
        plist(sys.argv[2], sys.argv[3:])
