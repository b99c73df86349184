#!/usr/bin/env python3
"""A time-stamping authority on 127.0.0.1 for tests/tsa/run.sh.

    server.py DIR    (DIR holds tsa.conf, tsa.key, tsa.crt)

Listens on a free port, writes it to DIR/port, and answers each POST with
what `openssl ts -reply` makes of the request, or misbehaves as the path
says (the mode is the first path element):

  /good          the reply to the request as sent
  /fail500/N/KEY HTTP 500 for the first N requests to this path, then good
  /503 /404      always that status
  /imprint       the request's digest changed (last byte flipped) before signing
  /nonce         the request's nonce changed (last byte flipped) before signing
  /nocert        the request's certReq removed before signing
  /reject        signed by a TSA section that accepts only SHA-512: rejection
  /notoken       status granted, no token
  /trailing      the good reply and one byte more
  /garbage       a body that is not DER
  /big           2 MiB, with Content-Length
  /bigstream     2 MiB, without Content-Length (ends when the connection does)
  /hang          reads the request, then answers nothing for 20 s

Every request is logged to DIR/log as "PATH CONTENT-TYPE LENGTH" (PATH as
the request line gives it: an absolute URL when it came as a proxy's), and
its body kept in DIR/last.tsq. A
request whose Content-Type is not application/timestamp-query gets 415.
"""
import os
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DIR = sys.argv[1]
counts = {}
lock = threading.Lock()


def tlv(b, off):
    """(tag, content start, content end) of the DER element at off."""
    tag, n = b[off], b[off + 1]
    hl = 2
    if n & 0x80:
        k = n & 0x7F
        n = int.from_bytes(b[off + 2:off + 2 + k], "big")
        hl += k
    return tag, off + hl, off + hl + n


def children(b, start, end):
    out = []
    while start < end:
        t = tlv(b, start)
        out.append((t[0], start, t[1], t[2]))
        start = t[2]
    return out


def rewrite(req, what):
    """The TimeStampReq with its digest or nonce changed, or certReq gone."""
    b = bytearray(req)
    _, s, e = tlv(b, 0)
    el = children(b, s, e)
    if what == "imprint":
        _, _, ms, me = el[1]
        b[children(b, ms, me)[1][3] - 1] ^= 1
    elif what == "nonce":
        nonce = [x for x in el[2:] if x[0] == 0x02][0]
        b[nonce[3] - 1] ^= 1
    elif what == "nocert":
        cr = [x for x in el if x[0] == 0x01][0]
        assert b[1] < 0x80, "outer length in short form"
        del b[cr[1]:cr[3]]
        b[1] -= cr[3] - cr[1]
    return bytes(b)


def ts_reply(req, section="tsa_good"):
    tag = "%d-%d" % (os.getpid(), threading.get_ident())
    q = os.path.join(DIR, "q-" + tag)
    r = os.path.join(DIR, "r-" + tag)
    with open(q, "wb") as f:
        f.write(req)
    subprocess.run(["openssl", "ts", "-reply", "-config", os.path.join(DIR, "tsa.conf"),
                    "-section", section, "-queryfile", q,
                    "-inkey", os.path.join(DIR, "tsa.key"),
                    "-signer", os.path.join(DIR, "tsa.crt"), "-out", r],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with open(r, "rb") as f:
        out = f.read()
    os.unlink(q)
    os.unlink(r)
    return out


class TSA(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def answer(self, code, body=b"", length=True):
        self.send_response(code)
        self.send_header("Content-Type", "application/timestamp-reply")
        if length:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        try:
            self.post()
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client stopped reading (the size cap): expected

    def post(self):
        n = int(self.headers.get("Content-Length", "0"))
        req = self.rfile.read(n) if 0 < n < 65536 else b""
        ctype = self.headers.get("Content-Type", "-")
        with lock, open(os.path.join(DIR, "log"), "a") as log:
            log.write("%s %s %d\n" % (self.path, ctype, len(req)))
            with open(os.path.join(DIR, "last.tsq"), "wb") as f:
                f.write(req)
        path = self.path.split("://", 1)[-1]
        if "://" in self.path:
            path = "/" + path.split("/", 1)[1]
        parts = path.strip("/").split("/")
        mode = parts[0]
        if ctype != "application/timestamp-query":
            return self.answer(415)
        if mode == "fail500":
            with lock:
                counts[path] = counts.get(path, 0) + 1
                k = counts[path]
            if k <= int(parts[1]):
                return self.answer(500, b"busy")
            mode = "good"
        if mode == "good":
            return self.answer(200, ts_reply(req))
        if mode in ("503", "404"):
            return self.answer(int(mode), b"no")
        if mode in ("imprint", "nonce", "nocert"):
            return self.answer(200, ts_reply(rewrite(req, mode)))
        if mode == "reject":
            return self.answer(200, ts_reply(req, "tsa_reject"))
        if mode == "notoken":
            return self.answer(200, b"\x30\x05\x30\x03\x02\x01\x00")
        if mode == "trailing":
            return self.answer(200, ts_reply(req) + b"\x00")
        if mode == "garbage":
            return self.answer(200, b"this is not a TimeStampResp\n")
        if mode == "big":
            return self.answer(200, b"\x30" * (2 << 20))
        if mode == "bigstream":
            self.close_connection = True
            return self.answer(200, b"\x30" * (2 << 20), length=False)
        if mode == "hang":
            time.sleep(20)
            return
        self.answer(400, b"unknown mode")


srv = ThreadingHTTPServer(("127.0.0.1", 0), TSA)
srv.daemon_threads = True
with open(os.path.join(DIR, "port.tmp"), "w") as f:
    f.write("%d\n" % srv.server_address[1])
os.rename(os.path.join(DIR, "port.tmp"), os.path.join(DIR, "port"))
srv.serve_forever()
