#!/usr/bin/env python3
"""An independent reading of /work/shared/spec/bundles.md (and the parts of
codesign-display.md it needs), written from the spec alone and used to
judge what msign writes for bundles.  Standard library only.

    indep.py crgen BUNDLE [--hash sha256[,sha1]] [--host x86_64|arm64]
        the CodeResources bytes a correct signer writes for BUNDLE as it is
        on disk now (its nested code already signed), on stdout
    indep.py selftest
        the spec's own example (section 2.6: 3431 bytes, SHA-256 37d9d162...)
    indep.py slots FILE
        per slice and CodeDirectory: "ARCH HASH SLOT HEX" for slots -1..-7
        ("-" past nSpecialSlots) and code slot 0; FILE is a Mach-O file or a
        bare CodeDirectory blob (_CodeSignature/CodeDirectory)
    indep.py nested PATH [--host H]
        "cdhash HEX" and "requirement TEXT" of nested code as a seal holds them
    indep.py dump FILE.plist
        a CodeResources as sorted text lines (key, kind, flags), for diffs
    indep.py info PLIST         number of top-level keys ("entries=N")
    indep.py sealed CR          "version=V rules=N files=N" as codesign -d counts
    indep.py json FILE          the "bundle" member of msign verify --json
    indep.py batch FILE         run many of the above in one process (python
        starts slowly on a loaded machine): each line is OUT<TAB>COMMAND<TAB>
        ARGS...; stdout goes to OUT, a failure's message to OUT.err; exit 1
        when any failed.
"""
import base64
import hashlib
import os
import plistlib
import re
import struct
import sys
import tempfile


class Fail(Exception):
    """Input this reading does not handle, or malformed input: fail loudly."""


# ---- hash types (codesign-display.md section 5) ----------------------------
HASH_NAMES = {1: "sha1", 2: "sha256", 3: "sha256-truncated", 4: "sha384"}
HASH_BY_NAME = {"sha1": 1, "sha256": 2, "sha384": 4}
BEST_ORDER = (4, 2, 3, 1)  # sha384 > sha256 > sha256-truncated > sha1


def digest(htype, data):
    if htype == 1:
        return hashlib.sha1(data).digest()
    if htype == 2:
        return hashlib.sha256(data).digest()
    if htype == 3:
        return hashlib.sha256(data).digest()[:20]
    if htype == 4:
        return hashlib.sha384(data).digest()
    raise Fail("unknown hash type %d" % htype)


# ---- Mach-O and signature blobs ---------------------------------------------
CPU_X86_64, CPU_ARM64 = 0x01000007, 0x0100000C
LC_CODE_SIGNATURE = 0x1D
MAX_FAT = 64


def s32(v):
    return v - (1 << 32) if v & 0x80000000 else v


def arch_name(cputype, subtype):
    sub = subtype & 0x00FFFFFF
    if cputype == CPU_X86_64:
        return "x86_64h" if sub == 8 else "x86_64"
    if cputype == CPU_ARM64:
        return "arm64e" if sub == 2 else "arm64"
    if cputype == 7:
        return "i386"
    return "(%d:%d)" % (s32(cputype), s32(subtype))


def be32(b, off):
    if off < 0 or off + 4 > len(b):
        raise Fail("read of 4 bytes at %d beyond %d" % (off, len(b)))
    return struct.unpack_from(">I", b, off)[0]


def window(b, off, n, what):
    if off < 0 or n < 0 or off > len(b) or n > len(b) - off:
        raise Fail("%s [%d, +%d) outside %d bytes" % (what, off, n, len(b)))
    return b[off:off + n]


def macho_slices(data):
    """[(cputype, cpusubtype, bytes)] in fat-header order (one for thin)."""
    if len(data) < 8:
        raise Fail("not Mach-O (%d bytes)" % len(data))
    magic = be32(data, 0)
    if magic in (0xCAFEBABE, 0xCAFEBABF):
        n = be32(data, 4)
        if n == 0 or n > MAX_FAT:
            raise Fail("fat header with %d slices" % n)
        out = []
        for i in range(n):
            if magic == 0xCAFEBABE:
                ct, st, off, size = struct.unpack_from(">IIII", window(data, 8 + 20 * i, 20, "fat_arch"))
            else:
                ct, st, off, size = struct.unpack_from(">IIQQ", window(data, 8 + 32 * i, 32, "fat_arch_64"))
            out.append((ct, st, window(data, off, size, "fat slice")))
        return out
    ct, st = thin_cpu(data)
    return [(ct, st, data)]


def thin_endian(b):
    m = struct.unpack_from("<I", b, 0)[0]
    if m in (0xFEEDFACE, 0xFEEDFACF):
        return "<", m == 0xFEEDFACF
    if m in (0xCEFAEDFE, 0xCFFAEDFE):
        return ">", m == 0xCFFAEDFE
    raise Fail("not Mach-O (magic 0x%08x)" % m)


def thin_cpu(b):
    e, _ = thin_endian(window(b, 0, 28, "mach header"))
    return struct.unpack_from(e + "II", b, 4)


def thin_superblob(b):
    """The embedded signature SuperBlob of a thin file, or None."""
    e, is64 = thin_endian(window(b, 0, 28, "mach header"))
    ncmds, sizeofcmds = struct.unpack_from(e + "II", b, 16)
    off = 32 if is64 else 28
    end = off + sizeofcmds
    window(b, off, sizeofcmds, "load commands")
    for _ in range(ncmds):
        cmd, size = struct.unpack_from(e + "II", window(b, off, 8, "load command"), 0)
        if size < 8 or off + size > end:
            raise Fail("load command size %d at %d" % (size, off))
        if cmd == LC_CODE_SIGNATURE:
            dataoff, datasize = struct.unpack_from(e + "II", window(b, off + 8, 8, "LC_CODE_SIGNATURE"), 0)
            return window(b, dataoff, datasize, "code signature")
        off += size
    return None


def superblob_entries(sb):
    """{slot type: blob bytes} of an embedded-signature SuperBlob."""
    if be32(sb, 0) != 0xFADE0CC0:
        raise Fail("SuperBlob magic 0x%08x" % be32(sb, 0))
    length, count = be32(sb, 4), be32(sb, 8)
    sb = window(sb, 0, length, "SuperBlob")
    if count > (len(sb) - 12) // 8:
        raise Fail("SuperBlob count %d" % count)
    out = {}
    for i in range(count):
        typ, off = be32(sb, 12 + 8 * i), be32(sb, 16 + 8 * i)
        blen = be32(sb, off + 4)
        out[typ] = window(sb, off, blen, "blob %#x" % typ)
    return out


class CD:
    """One CodeDirectory (layout: codesign-display.md section 5)."""

    def __init__(self, blob):
        if be32(blob, 0) != 0xFADE0C02:
            raise Fail("CodeDirectory magic 0x%08x" % be32(blob, 0))
        self.blob = window(blob, 0, be32(blob, 4), "CodeDirectory")
        b = self.blob
        self.flags = be32(b, 12)
        self.hash_off = be32(b, 16)
        self.n_special = be32(b, 24)
        self.n_code = be32(b, 28)
        hdr = window(b, 36, 4, "CodeDirectory header")
        self.hash_size, self.hash_type = hdr[0], hdr[1]
        self.cdhash = digest(self.hash_type, b)[:20]

    def slot(self, n):
        if n < 0 and -n > self.n_special or n >= 0 and n >= self.n_code:
            return None
        return window(self.blob, self.hash_off + n * self.hash_size, self.hash_size, "slot %d" % n)


class Signed:
    """The signature of one slice: CDs by hash type, the requirement set."""

    def __init__(self, cputype, subtype, blobs):
        self.cputype, self.subtype = cputype, subtype
        self.cds = {}
        for typ in [0] + list(range(0x1000, 0x1005)):
            if typ in blobs:
                cd = CD(blobs[typ])
                self.cds[cd.hash_type] = cd
        if not self.cds:
            raise Fail("signature without a CodeDirectory")
        self.reqs = blobs.get(2)

    def best(self):
        for t in BEST_ORDER:
            if t in self.cds:
                return self.cds[t]
        raise Fail("no CodeDirectory of a known hash type")

    def sort_key(self):
        return (s32(self.cputype), s32(self.subtype))


def read_signed_macho(path):
    """[Signed or None per slice], fat-header order."""
    with open(path, "rb") as f:
        data = f.read()
    out = []
    for ct, st, b in macho_slices(data):
        sb = thin_superblob(b)
        out.append(Signed(ct, st, superblob_entries(sb)) if sb is not None else None)
    return out


def active_index(slices, host):
    """The slice a host runs (spec 2.5): arm64e then arm64, x86_64h then
    x86_64; else the first slice."""
    prefs = {"arm64": [(CPU_ARM64, 2), (CPU_ARM64, 0), (CPU_ARM64, 1)],
             "x86_64": [(CPU_X86_64, 8), (CPU_X86_64, 3)]}.get(host, [])
    for ct, sub in prefs:
        for i, (sct, sst) in enumerate(slices):
            if sct == ct and sst & 0x00FFFFFF == sub:
                return i
    return 0


# ---- requirement decompiler --------------------------------------------------
# Supported (enough for the designated requirements of ad-hoc, Developer ID
# and simple certificate-pinned code): never, always, identifier, anchor
# apple, anchor apple generic, certificate N = H"..", and, or, not, cdhash,
# certificate N[key] and certificate N[field.OID] with exists / equals.
# Anything else (info[], entitlement[], other match operators, dates,
# policies, named anchors) raises Fail instead of guessing.
KEYWORDS = {"and", "or", "always", "never", "identifier", "anchor", "apple", "generic",
            "certificate", "cert", "trusted", "info", "entitlement", "cdhash", "exists",
            "absent", "leaf", "root", "host", "guest", "designated", "library", "plugin",
            "notarized", "legacy", "platform", "H"}


class ReqReader:
    def __init__(self, b, off):
        self.b, self.off = b, off

    def u32(self):
        v = be32(self.b, self.off)
        self.off += 4
        return v

    def data(self):
        n = self.u32()
        d = window(self.b, self.off, n, "requirement data")
        self.off += (n + 3) & ~3
        return d


def req_value(d, dots=False):
    try:
        s = d.decode("utf-8")
    except UnicodeDecodeError:
        return "0x" + d.hex()
    ok = lambda c: c.isascii() and (c.isalnum() or (dots and c == "."))
    if s and all(ok(c) for c in s) and not s[0].isdigit() and s not in KEYWORDS:
        return s
    if s.isprintable():
        return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return "0x" + d.hex()


def req_slot(n):
    n = s32(n)
    return " leaf" if n == 0 else " root" if n == -1 else " %d" % n


def req_oid(d):
    if not d:
        raise Fail("empty OID")
    parts, v = [], 0
    for i, c in enumerate(d):
        v = (v << 7) | (c & 0x7F)
        if not c & 0x80:
            parts.append(v)
            v = 0
    first = parts[0]
    a = min(first // 40, 2)
    return ".".join(str(x) for x in [a, first - 40 * a] + parts[1:])


def req_match(r):
    op = r.u32()
    if op == 0:
        return " /* exists */"
    if op == 1:
        return " = " + req_value(r.data())
    raise Fail("requirement match operator %d not supported" % op)


def req_expr(r, depth=0):
    """(text, kind): kind 'and', 'or' or 'prim', for the parentheses."""
    if depth > 64:
        raise Fail("requirement nested too deep")
    op = r.u32() & 0x00FFFFFF
    if op == 0:
        return "never", "prim"
    if op == 1:
        return "always", "prim"
    if op == 2:
        return "identifier " + req_value(r.data()), "prim"
    if op == 3:
        return "anchor apple", "prim"
    if op == 15:
        return "anchor apple generic", "prim"
    if op == 4:
        slot = req_slot(r.u32())
        return 'certificate%s = H"%s"' % (slot, r.data().hex()), "prim"
    if op == 8:
        return 'cdhash H"%s"' % r.data().hex(), "prim"
    if op in (6, 7):
        a, ka = req_expr(r, depth + 1)
        b, kb = req_expr(r, depth + 1)
        if op == 6:
            # or binds looser than and: an or below an and needs parentheses
            a = "(%s)" % a if ka == "or" else a
            b = "(%s)" % b if kb == "or" else b
            return a + " and " + b, "and"
        return a + " or " + b, "or"
    if op == 9:
        a, ka = req_expr(r, depth + 1)
        return "! " + ("(%s)" % a if ka != "prim" else a), "prim"
    if op == 11:
        slot = req_slot(r.u32())
        key = req_value(r.data(), dots=True)
        return "certificate%s[%s]%s" % (slot, key, req_match(r)), "prim"
    if op == 14:
        slot = req_slot(r.u32())
        oid = req_oid(r.data())
        return "certificate%s[field.%s]%s" % (slot, oid, req_match(r)), "prim"
    raise Fail("requirement opcode %d not supported by this decompiler" % op)


def designated_text(reqset):
    """The explicit designated requirement's text, or None."""
    if reqset is None or be32(reqset, 0) != 0xFADE0C01:
        return None
    count = be32(reqset, 8)
    if count > (len(reqset) - 12) // 8:
        raise Fail("requirement set count %d" % count)
    for i in range(count):
        typ, off = be32(reqset, 12 + 8 * i), be32(reqset, 16 + 8 * i)
        if typ != 3:
            continue
        if be32(reqset, off) != 0xFADE0C00 or be32(reqset, off + 8) != 1:
            raise Fail("designated requirement is not an expression blob")
        blob = window(reqset, off, be32(reqset, off + 4), "requirement")
        r = ReqReader(blob, 12)
        text, _ = req_expr(r)
        return text
    return None


def nested_seal(path, host):
    """(cdhash, requirement text) of the nested code at path, as on disk."""
    if os.path.islink(path):
        raise Fail("%s: nested code is a symlink" % path)
    if os.path.isdir(path):
        b = Bundle(path)
        if b.exec_rel is None:
            slices = [read_detached(b)]
        else:
            slices = read_signed_macho(os.path.join(b.seal_root, b.exec_rel))
    else:
        slices = read_signed_macho(path)
    if any(s is None for s in slices):
        raise Fail("%s: code object is not signed at all" % path)
    act = active_index([(s.cputype, s.subtype) for s in slices], host)
    main = slices[act]
    explicit = designated_text(main.reqs)
    if explicit is not None:
        return main.best().cdhash, explicit
    if not main.best().flags & 2:
        raise Fail("%s: certificate-signed code without an explicit designated requirement" % path)
    terms = ['cdhash H"%s"' % main.cds[t].cdhash.hex() for t in sorted(main.cds)]
    others = sorted((s for i, s in enumerate(slices) if i != act), key=Signed.sort_key)
    for s in others:
        terms += ['cdhash H"%s"' % s.cds[t].cdhash.hex() for t in sorted(s.cds)]
    return main.best().cdhash, " or ".join(terms)


def read_detached(b):
    """An Info.plist-only bundle's signature: files in _CodeSignature."""
    d = os.path.join(b.seal_root, "_CodeSignature")
    blobs = {}
    for typ, name in [(0, "CodeDirectory"), (2, "CodeRequirements")] + \
            [(0x1000 + i, "CodeRequirements-%d" % (i + 1)) for i in range(5)]:
        p = os.path.join(d, name)
        if os.path.isfile(p):
            with open(p, "rb") as f:
                blobs[typ] = f.read()
    if 0 not in blobs:
        raise Fail("%s: code object is not signed at all" % b.path)
    return Signed(0, 0, blobs)


# ---- bundle layout (spec 1) -------------------------------------------------
def tpl_a(R):
    rules = [("^%s" % R, True),
             ("^%s.*\\.lproj/" % R, {"optional": True, "weight": 1000.0}),
             ("^%s.*\\.lproj/locversion.plist$" % R, {"omit": True, "weight": 1100.0}),
             ("^%sBase\\.lproj/" % R, {"weight": 1010.0}),
             ("^version.plist$", True)]
    nested = ("^(Frameworks|SharedFrameworks|PlugIns|Plug-ins|XPCServices|Helpers|MacOS"
              "|Library/(Automator|Spotlight|LoginItems))/")
    rules2 = [(".*\\.dSYM($|/)", {"weight": 11.0}),
              ("^(.*/)?\\.DS_Store$", {"omit": True, "weight": 2000.0}),
              (nested, {"nested": True, "weight": 10.0}),
              ("^.*", True),
              ("^Info\\.plist$", {"omit": True, "weight": 20.0}),
              ("^PkgInfo$", {"omit": True, "weight": 20.0}),
              ("^%s" % R, {"weight": 20.0}),
              ("^%s.*\\.lproj/" % R, {"optional": True, "weight": 1000.0}),
              ("^%s.*\\.lproj/locversion.plist$" % R, {"omit": True, "weight": 1100.0}),
              ("^%sBase\\.lproj/" % R, {"weight": 1010.0}),
              ("^[^/]+$", {"nested": True, "weight": 10.0}),
              ("^embedded\\.provisionprofile$", {"weight": 20.0}),
              ("^version\\.plist$", {"weight": 20.0})]
    return rules, rules2


def tpl_b():
    rules = [("^.*", True),
             ("^.*\\.lproj/", {"optional": True, "weight": 1000.0}),
             ("^.*\\.lproj/locversion.plist$", {"omit": True, "weight": 1100.0}),
             ("^Base\\.lproj/", {"weight": 1010.0}),
             ("^version.plist$", True)]
    rules2 = [(".*\\.dSYM($|/)", {"weight": 11.0}),
              ("^(.*/)?\\.DS_Store$", {"omit": True, "weight": 2000.0}),
              ("^.*", True),
              ("^.*\\.lproj/", {"optional": True, "weight": 1000.0}),
              ("^.*\\.lproj/locversion.plist$", {"omit": True, "weight": 1100.0}),
              ("^Base\\.lproj/", {"weight": 1010.0}),
              ("^Info\\.plist$", {"omit": True, "weight": 20.0}),
              ("^PkgInfo$", {"omit": True, "weight": 20.0}),
              ("^embedded\\.provisionprofile$", {"weight": 20.0}),
              ("^version\\.plist$", {"weight": 20.0})]
    return rules, rules2


class Bundle:
    def __init__(self, path):
        self.path = path.rstrip("/") or "/"
        if os.path.exists(os.path.join(self.path, "Contents")):
            self.kind = "deep"
            self.seal_root = os.path.realpath(os.path.join(self.path, "Contents"))
            self.info_rel = "Info.plist"
            self.template = "A"
        elif os.path.exists(os.path.join(self.path, "Versions", "Current")):
            self.kind = "versioned"
            self.seal_root = os.path.realpath(os.path.join(self.path, "Versions", "Current"))
            if not os.path.isdir(os.path.join(self.seal_root, "Resources")):
                raise Fail("framework version without Resources/ (spec 1 says avoid)")
            self.info_rel = "Resources/Info.plist"
            self.template = "A"
        else:
            self.kind = "shallow"
            self.seal_root = os.path.realpath(self.path)
            if os.path.isdir(os.path.join(self.seal_root, "Resources")):
                raise Fail("shallow bundle with a Resources directory (spec 1 says avoid)")
            self.info_rel = "Info.plist"
            self.template = "B"
        ip = os.path.join(self.seal_root, self.info_rel)
        with open(ip, "rb") as f:
            self.info_bytes = f.read()
        self.info = plistlib.loads(self.info_bytes)
        exe = self.info.get("CFBundleExecutable")
        if exe is None:
            self.exec_rel = None
        else:
            self.exec_rel = ("MacOS/" + exe) if self.kind == "deep" else exe
            if not os.path.isfile(os.path.join(self.seal_root, self.exec_rel)):
                raise Fail("%s: main executable %s missing" % (path, self.exec_rel))

    def rules(self):
        return tpl_a("Resources/") if self.template == "A" else tpl_b()


# ---- matching (spec 2.3) ----------------------------------------------------
def posix_to_python(pat):
    """POSIX ERE -> Python re: '$' (outside brackets, unescaped) is
    end-of-string only; '.' matches a newline too (DOTALL)."""
    out, i, n = [], 0, len(pat)
    while i < n:
        c = pat[i]
        if c == "\\" and i + 1 < n:
            out.append(pat[i:i + 2])
            i += 2
        elif c == "[":
            # a bracket expression: copied as is; a leading '^' and a ']'
            # right after '[' or '[^' are part of it
            j = i + 1
            if j < n and pat[j] == "^":
                j += 1
            if j < n and pat[j] == "]":
                j += 1
            while j < n and pat[j] != "]":
                j += 1
            if j >= n:
                raise Fail("unterminated bracket in %r" % pat)
            out.append(pat[i:j + 1].replace("\\", "\\\\"))
            i = j + 1
        elif c == "$":
            out.append(r"\Z")
            i += 1
        else:
            out.append(c)
            i += 1
    return re.compile("".join(out), re.DOTALL)


def regex_escape(s):
    return "".join("\\" + c if c in "\\[]{}().+*?^$|" else c for c in s)


class Matcher:
    def __init__(self, rules, main_rel):
        ex = ["^_CodeSignature$", "^CodeResources$", "^_MASReceipt$", "^%s$" % regex_escape(main_rel)]
        self.excl = [posix_to_python(p) for p in ex]
        self.rules = []
        for key, val in rules:
            if val is True:
                w, flags = 1.0, set()
            elif val is False:
                w, flags = 1.0, {"omit"}
            else:
                w = float(val.get("weight", 1.0))
                flags = {k for k in ("omit", "optional", "nested") if val.get(k)}
            self.rules.append((posix_to_python(key), w, flags))

    def match(self, rel):
        """None (no rule), 'excluded', or the winning rule's flags."""
        for x in self.excl:
            if x.search(rel):
                return "excluded"
        best = None
        for rx, w, flags in self.rules:
            if not rx.search(rel):
                continue
            if best is None or w > best[0] or (w == best[0] and "omit" in flags and "omit" not in best[1]):
                best = (w, flags)
        return None if best is None else best[1]


# ---- walk and seals (spec 2.4, 2.5) ----------------------------------------
HASH_KEYS = {1: "hash", 2: "hash2", 3: "hash3", 4: "hash4"}


def walk(root, matcher, visit, rel=""):
    with os.scandir(os.path.join(root, rel) if rel else root) as it:
        entries = sorted(it, key=lambda e: e.name)
    for e in entries:
        sub = rel + "/" + e.name if rel else e.name
        st = os.lstat(e.path)
        m = matcher.match(sub)
        if os.path.stat.S_ISDIR(st.st_mode):
            if m == "excluded":
                continue
            if m is not None and "nested" in m and "." in e.name:
                visit(sub, "nested-dir", m)
                continue
            walk(root, matcher, visit, sub)
        elif os.path.stat.S_ISREG(st.st_mode) or os.path.stat.S_ISLNK(st.st_mode):
            if m is None or m == "excluded" or "omit" in m:
                continue
            kind = "symlink" if os.path.stat.S_ISLNK(st.st_mode) else "file"
            if kind == "symlink" and e.name == ".DS_Store":
                raise Fail(".DS_Store files cannot be a symlink")
            visit(sub, kind, m)
        else:
            raise Fail("unsupported resource found: %s" % sub)


def file_bytes(root, rel):
    with open(os.path.join(root, rel), "rb") as f:
        return f.read()


def build(bundle, htypes, host, nested_fn=None):
    """The CodeResources dictionary (rules as (key, value) lists)."""
    if nested_fn is None:
        nested_fn = lambda p: nested_seal(p, host)
    rules, rules2 = bundle.rules()
    main = bundle.exec_rel if bundle.exec_rel is not None else bundle.info_rel
    root = bundle.seal_root
    files2 = {}

    def v2(rel, kind, flags):
        opt = "optional" in flags
        if kind == "symlink":
            seal = {"symlink": os.readlink(os.path.join(root, rel))}
        elif kind == "nested-dir" or (kind == "file" and "nested" in flags):
            cdh, req = nested_fn(os.path.join(root, rel))
            seal = {"cdhash": cdh, "requirement": req}
        else:
            data = file_bytes(root, rel)
            seal = {HASH_KEYS[t]: digest(t, data) for t in htypes}
            if list(seal) == ["hash"] and not opt:
                files2[rel] = seal["hash"]
                return
        if opt:
            seal["optional"] = True
        files2[rel] = seal

    files = {}

    def v1(rel, kind, flags):
        if kind != "file":
            return  # symlinks are never in files; v1 templates nest nothing
        h = digest(1, file_bytes(root, rel))
        files[rel] = h if not flags else {"hash": h, "optional": "optional" in flags}

    walk(root, Matcher(rules2, main), v2)
    walk(root, Matcher(rules, main), v1)
    return {"files": files, "files2": files2, "rules": rules, "rules2": rules2}


# ---- CF XML writer (spec 2.6) ----------------------------------------------
HEADER = (b'<?xml version="1.0" encoding="UTF-8"?>\n'
          b'<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" '
          b'"http://www.apple.com/DTDs/PropertyList-1.0.dtd">\n<plist version="1.0">\n')


def esc(s):
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").encode("utf-8", "surrogateescape")


def utf16_key(s):
    # Big-endian UTF-16 bytes compare as the code units do (CFStringCompare).
    return s.encode("utf-16-be", "surrogatepass")


def write_obj(out, obj, d):
    t = b"\t" * d
    if isinstance(obj, list):  # rules: (key, value) pairs, written as a dict
        obj = dict(obj)
    if obj is True:
        out.append(t + b"<true/>\n")
    elif obj is False:
        out.append(t + b"<false/>\n")
    elif isinstance(obj, dict):
        if not obj:
            out.append(t + b"<dict/>\n")
            return
        out.append(t + b"<dict>\n")
        for k in sorted(obj, key=utf16_key):
            out.append(t + b"\t<key>" + esc(k) + b"</key>\n")
            write_obj(out, obj[k], d + 1)
        out.append(t + b"</dict>\n")
    elif isinstance(obj, bytes):
        ind = min(d, 8)
        width = 76 - 8 * ind
        b64 = base64.b64encode(obj)
        out.append(t + b"<data>\n")
        for i in range(0, len(b64), width):
            out.append(b"\t" * ind + b64[i:i + width] + b"\n")
        out.append(t + b"</data>\n")
    elif isinstance(obj, str):
        out.append(t + b"<string>" + esc(obj) + b"</string>\n")
    elif isinstance(obj, float):
        out.append(t + b"<real>" + (b"0.0" if obj == 0 else (b"%.17g" % obj)) + b"</real>\n")
    elif isinstance(obj, int):
        out.append(t + b"<integer>%d</integer>\n" % obj)
    else:
        raise Fail("cannot write %r" % (obj,))


def cf_xml(top):
    out = [HEADER]
    write_obj(out, top, 0)
    out.append(b"</plist>\n")
    return b"".join(out)


# ---- commands -----------------------------------------------------------------
def parse_opts(args):
    htypes, host, rest = [2], "x86_64", []
    i = 0
    while i < len(args):
        if args[i] == "--hash":
            htypes = sorted(HASH_BY_NAME[n] for n in args[i + 1].split(","))
            i += 2
        elif args[i] == "--host":
            host = args[i + 1]
            i += 2
        else:
            rest.append(args[i])
            i += 1
    return htypes, host, rest


def cmd_crgen(args, out):
    htypes, host, rest = parse_opts(args)
    out.write(cf_xml(build(Bundle(rest[0]), htypes, host)))


def cmd_selftest(args, out):
    with tempfile.TemporaryDirectory() as tmp:
        c = os.path.join(tmp, "X.app", "Contents")
        for rel, text in [("Resources/Base.lproj/MainMenu.nib", b"nib\n"),
                          ("Resources/en.lproj/InfoPlist.strings", b"strings\n"),
                          ("Resources/icon & <logo>.png", b"png\n"),
                          ("MacOS/X", b"main executable: excluded\n")]:
            os.makedirs(os.path.dirname(os.path.join(c, rel)), exist_ok=True)
            with open(os.path.join(c, rel), "wb") as f:
                f.write(text)
        os.symlink("fr.lproj", os.path.join(c, "Resources", "fr_CA.lproj"))
        os.makedirs(os.path.join(c, "Frameworks", "Foo.framework"))
        with open(os.path.join(c, "Info.plist"), "wb") as f:
            f.write(plistlib.dumps({"CFBundleExecutable": "X", "CFBundleIdentifier": "com.example.X"}))
        foo = os.path.join(os.path.realpath(c), "Frameworks", "Foo.framework")

        def inject(p):
            if p != foo:
                raise Fail("unexpected nested item %s" % p)
            return hashlib.sha256(b"Foo").digest()[:20], 'identifier "com.example.Foo" and anchor apple generic'

        data = cf_xml(build(Bundle(os.path.join(tmp, "X.app")), [2], "x86_64", inject))
    want = "37d9d162c0adf6d4d1e59bbc4a458b0c9f11da8bc4a23e3b3e0edfc195c2a1e5"
    got = hashlib.sha256(data).hexdigest()
    if len(data) != 3431 or got != want:
        raise Fail("selftest: %d bytes, sha256 %s; the spec says 3431, %s" % (len(data), got, want))
    # The requirement decompiler on a hand-assembled Developer ID shape
    # (and(ident, and(anchor generic, and(cert 1 field exists, and(leaf
    # field exists, leaf[subject.OU] = team))))), as spec 2.5 prints it.
    def data_(b):
        return struct.pack(">I", len(b)) + b + b"\0" * (-len(b) % 4)
    oid1 = bytes([0x2A, 0x86, 0x48, 0x86, 0xF7, 0x63, 0x64, 0x06, 0x02, 0x06])
    oid2 = bytes([0x2A, 0x86, 0x48, 0x86, 0xF7, 0x63, 0x64, 0x06, 0x01, 0x0D])
    prog = (struct.pack(">I", 6) + struct.pack(">I", 2) + data_(b"helper") +
            struct.pack(">I", 6) + struct.pack(">I", 15) +
            struct.pack(">I", 6) + struct.pack(">Ii", 14, 1) + data_(oid1) + struct.pack(">I", 0) +
            struct.pack(">I", 6) + struct.pack(">Ii", 14, 0) + data_(oid2) + struct.pack(">I", 0) +
            struct.pack(">Ii", 11, 0) + data_(b"subject.OU") + struct.pack(">I", 1) + data_(b"ABCDE12345"))
    text, _ = req_expr(ReqReader(prog, 0))
    want_req = ("identifier helper and anchor apple generic and certificate 1[field.1.2.840.113635.100.6.2.6] "
                "/* exists */ and certificate leaf[field.1.2.840.113635.100.6.1.13] /* exists */ and "
                "certificate leaf[subject.OU] = ABCDE12345")
    if text != want_req:
        raise Fail("selftest: requirement %r" % text)
    out.write(b"selftest: ok (3431 bytes, sha256 %s; requirement decompiler)\n" % want.encode())


def cmd_slots(args, out):
    with open(args[0], "rb") as f:
        data = f.read()
    if data[:4] == b"\xfa\xde\x0c\x02":
        sigs = [("-", Signed(0, 0, {0: data}))]
    else:
        sigs = [(arch_name(s.cputype, s.subtype), s) for s in read_signed_macho(args[0]) if s]
    for arch, s in sigs:
        for t in sorted(s.cds):
            cd = s.cds[t]
            for n in list(range(-1, -8, -1)) + [0]:
                v = cd.slot(n)
                out.write(("%s %s %d %s\n" % (arch, HASH_NAMES[t], n, v.hex() if v is not None else "-")).encode())


def cmd_nested(args, out):
    _, host, rest = parse_opts(args)
    cdh, req = nested_seal(rest[0], host)
    out.write(("cdhash %s\nrequirement %s\n" % (cdh.hex(), req)).encode("utf-8", "surrogateescape"))


def seal_text(v):
    if isinstance(v, bytes):
        return "data %s" % v.hex()
    if isinstance(v, bool):
        return "true" if v else "false"
    if "symlink" in v:
        s = "symlink -> %s" % v["symlink"]
    elif "cdhash" in v or "requirement" in v:
        s = "nested cdhash=%s requirement=%s" % (v.get("cdhash", b"").hex(), v.get("requirement"))
    else:
        s = "file " + " ".join("%s=%s" % (k, v[k].hex()) for k in sorted(v) if k.startswith("hash"))
    for k in ("optional", "omit", "nested", "weight"):
        if k in v:
            s += " %s=%s" % (k, v[k])
    return s


def rule_text(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    return "rule" + "".join(" %s=%s" % (k, v[k]) for k in sorted(v))


def cmd_dump(args, out):
    with open(args[0], "rb") as f:
        top = plistlib.loads(f.read())
    for sect in ("files", "files2", "rules", "rules2"):
        if sect not in top:
            out.write(("%s absent\n" % sect).encode())
            continue
        for k in sorted(top[sect], key=utf16_key):
            v = top[sect][k]
            txt = seal_text(v) if sect.startswith("files") else rule_text(v)
            out.write(("%s %s: %s\n" % (sect, k, txt)).encode("utf-8", "surrogateescape"))


def cmd_info(args, out):
    with open(args[0], "rb") as f:
        out.write(b"entries=%d\n" % len(plistlib.loads(f.read())))


def cmd_sealed(args, out):
    with open(args[0], "rb") as f:
        top = plistlib.loads(f.read())
    if "files2" in top:
        out.write(b"version=2 rules=%d files=%d\n" % (len(top["rules2"]), len(top["files2"])))
    else:
        out.write(b"version=1 rules=%d files=%d\n" % (len(top["rules"]), len(top["files"])))


def cmd_json(args, out):
    import json
    with open(args[0], "rb") as f:
        doc = json.load(f)
    b = doc["bundle"]
    sr = b["sealed_resources"]
    out.write(("kind %s\nsealed version=%s rules=%s files=%s\n" %
               (b["kind"], sr["version"], sr["rules"], sr["files"])).encode())
    for p in b["problems"]:
        out.write(("%s %s\n" % (p["kind"], p["path"])).encode("utf-8", "surrogateescape"))


COMMANDS = {"crgen": cmd_crgen, "selftest": cmd_selftest, "slots": cmd_slots, "nested": cmd_nested,
            "dump": cmd_dump, "info": cmd_info, "sealed": cmd_sealed, "json": cmd_json}


def cmd_batch(args, _out):
    bad = 0
    with open(args[0], encoding="utf-8", errors="surrogateescape") as f:
        for line in f:
            outpath, cmd, *rest = line.rstrip("\n").split("\t")
            try:
                with open(outpath, "wb") as o:
                    COMMANDS[cmd](rest, o)
            except Exception as e:  # one bad input must not hide the other answers
                bad = 1
                with open(outpath + ".err", "w") as o:
                    o.write("%s %s: %s: %s\n" % (cmd, " ".join(rest), type(e).__name__, e))
    return bad


def main(argv):
    if len(argv) < 2 or argv[1] not in COMMANDS and argv[1] != "batch":
        sys.stderr.write(__doc__)
        return 2
    try:
        if argv[1] == "batch":
            return cmd_batch(argv[2:], None)
        COMMANDS[argv[1]](argv[2:], sys.stdout.buffer)
    except Fail as e:
        sys.stderr.write("indep.py %s: %s\n" % (argv[1], e))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
