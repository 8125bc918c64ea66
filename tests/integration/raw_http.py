#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""raw_http.py: send a raw HTTP request (bytes of a file, as they are) over
TLS to one of ztpd's listeners and say what came back, for the tests of the
HTTP edges (test_http_edges.sh).

  raw_http.py --port P --ca CA.pem  --req FILE [--out FILE] [--wait-close S]
  raw_http.py --port P --psk HEX --identity ID --req FILE [...]

With --ca: python's ssl module, certificate checked against CA for
127.0.0.1, one thread driving an ssl.MemoryBIO pair over a non-blocking
socket, so that the request is sent while the answer is read (the server
may answer and close before it read everything). With --psk: the TLS
client is `openssl s_client -tls1_3 -psk -quiet` (python's ssl has no TLS
1.3 external PSK before 3.13); the request goes to its stdin and its
stdout is the answer; s_client exits when the server closes.

Prints one JSON line: "statuses" (every status line in order, 1xx too),
"status" (the final one, or null), "complete" (the final answer was read
in full), "closed" (the server closed the connection, by close_notify,
FIN or reset, within --wait-close seconds after the final answer; not
waited for with --wait-close 0), "sent" (request bytes the TLS layer
took), "error" (what went wrong on the client's side, if anything). The
raw answer goes to --out.
"""
import argparse
import json
import os
import select
import socket
import ssl
import subprocess
import sys
import threading
import time


def parse(buf, eof):
    """(statuses, complete) of the answers in buf"""
    statuses, i = [], 0
    while True:
        j = buf.find(b"\r\n\r\n", i)
        if j < 0:
            return statuses, False
        lines = buf[i:j].decode("latin-1").split("\r\n")
        try:
            code = int(lines[0].split()[1])
        except (IndexError, ValueError):
            return statuses, False
        statuses.append(code)
        if 100 <= code < 200:
            i = j + 4
            continue
        cl = None
        for line in lines[1:]:
            name, _, value = line.partition(":")
            if name.strip().lower() == "content-length":
                try:
                    cl = int(value.strip())
                except ValueError:
                    cl = None
        if code in (204, 304):
            cl = 0
        if cl is None:
            return statuses, eof
        return statuses, len(buf) >= j + 4 + cl


def run_cert(a, req):
    ctx = ssl.create_default_context(cafile=a.ca)
    inc, outg = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(inc, outg, server_side=False, server_hostname="127.0.0.1")
    sock = socket.create_connection(("127.0.0.1", a.port), timeout=a.timeout)
    sock.setblocking(False)
    resp, outbuf = b"", b""
    pos, hs, eof, tcp_eof, err = 0, False, False, False, None
    deadline = time.monotonic() + a.timeout
    close_deadline = None
    while True:
        now = time.monotonic()
        if now >= deadline or (close_deadline is not None and now >= close_deadline):
            break
        if not hs:
            try:
                obj.do_handshake()
                hs = True
            except ssl.SSLWantReadError:
                pass
            except ssl.SSLError as e:
                err, eof = "handshake: %s" % e, True
        statuses, complete = parse(resp, eof)
        if hs and not eof and not complete and pos < len(req) and len(outbuf) < 65536:
            try:
                pos += obj.write(req[pos:pos + 16384])
            except ssl.SSLWantReadError:
                pass
            except ssl.SSLError as e:
                err = err or "write: %s" % e
                pos = len(req)
        if hs and not eof:
            while True:
                try:
                    d = obj.read(65536)
                except ssl.SSLWantReadError:
                    break
                except ssl.SSLZeroReturnError:
                    eof = True  # close_notify
                    break
                except ssl.SSLError as e:
                    eof = True  # EOF without close_notify, or an alert
                    err = err or "read: %s" % e
                    break
                if not d:
                    eof = True
                    break
                resp += d
        outbuf += outg.read()
        statuses, complete = parse(resp, eof)
        if complete and close_deadline is None:
            if a.wait_close <= 0:
                break
            close_deadline = time.monotonic() + a.wait_close
        if eof:
            break
        if tcp_eof and hs and not eof:
            # everything received was fed to the TLS layer: nothing more will come
            eof = True
            continue
        wl = [sock] if outbuf and not tcp_eof else []
        r, w, _ = select.select([sock] if not tcp_eof else [], wl, [], 0.05)
        if w:
            try:
                n = sock.send(outbuf)
                outbuf = outbuf[n:]
            except (BlockingIOError, InterruptedError):
                pass
            except OSError as e:
                err, outbuf = err or "send: %s" % e, b""
                pos = len(req)
        if r:
            try:
                d = sock.recv(65536)
            except (BlockingIOError, InterruptedError):
                d = None
            except OSError as e:
                err, d = err or "recv: %s" % e, b""
            if d == b"":
                inc.write_eof()
                tcp_eof = True
            elif d:
                inc.write(d)
    sock.close()
    return resp, eof, pos, err


def run_psk(a, req):
    p = subprocess.Popen(["openssl", "s_client", "-tls1_3", "-psk", a.psk, "-psk_identity",
                          a.identity, "-connect", "127.0.0.1:%d" % a.port, "-quiet"],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    werr = []

    def writer():
        try:
            p.stdin.write(req)
            p.stdin.flush()
        except OSError as e:  # s_client gone: the server closed
            werr.append("write: %s" % e)

    t = threading.Thread(target=writer, daemon=True)
    t.start()
    resp, eof = b"", False
    deadline = time.monotonic() + a.timeout
    close_deadline = None
    fd = p.stdout.fileno()
    while True:
        now = time.monotonic()
        if now >= deadline or (close_deadline is not None and now >= close_deadline):
            break
        r, _, _ = select.select([fd], [], [], 0.05)
        if r:
            d = os.read(fd, 65536)
            if not d:
                eof = True  # s_client exits when the server closes
            resp += d
        statuses, complete = parse(resp, eof)
        if eof:
            break
        if complete and close_deadline is None:
            if a.wait_close <= 0:
                break
            close_deadline = time.monotonic() + a.wait_close
    if p.poll() is None:
        p.kill()
    p.wait()
    stderr = p.stderr.read().decode("latin-1", "replace")
    t.join(1)
    err = "; ".join(werr) or None
    if not resp and stderr.strip():
        err = (err + "; " if err else "") + "s_client: " + " ".join(stderr.split())[:300]
    return resp, eof, len(req), err


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--ca")
    ap.add_argument("--psk")
    ap.add_argument("--identity")
    ap.add_argument("--req", required=True)
    ap.add_argument("--out")
    ap.add_argument("--timeout", type=float, default=20)
    ap.add_argument("--wait-close", type=float, default=8)
    a = ap.parse_args()
    with open(a.req, "rb") as f:
        req = f.read()
    if a.psk:
        resp, eof, sent, err = run_psk(a, req)
    else:
        resp, eof, sent, err = run_cert(a, req)
    if a.out:
        with open(a.out, "wb") as f:
            f.write(resp)
    statuses, complete = parse(resp, eof)
    final = [s for s in statuses if not 100 <= s < 200]
    print(json.dumps({"statuses": statuses, "status": final[0] if final else None,
                      "complete": complete, "closed": eof, "sent": sent, "error": err}))


if __name__ == "__main__":
    sys.exit(main())
