#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""A customer's own server for the proxy tests: what ztpd forwards to.

usage: upstream.py --dir DIR [--tls CERT KEY [--client-ca CA]] [--idle S]

Listens on 127.0.0.1, an ephemeral port, printed on the first line of
stdout. Each request is appended to DIR/requests.jsonl as one JSON object
(method, path, headers as a list of [name, value], body in hex). The answer
is read from DIR/answer.json at each request:
  {"status": 200, "body": "text" | "body_len": N, "headers": {...},
   "delay": seconds, "close": true, "drop_reused": true}
"raw": the whole answer as these bytes (latin-1), written as they are, then
the connection closed; "chunked": true sends the body in chunks of 100.
"drop_reused": a request on a kept-alive connection (not its first) is
logged with "dropped": true and the connection closed without an answer,
as when a server closes an idle connection just as a request arrives.
With --tls, HTTPS with CERT and KEY; with --client-ca, a client certificate
signed by CA is required. --idle: seconds before an idle kept-alive
connection is closed (default 30).
"""
import argparse
import http.server
import json
import os
import socketserver
import ssl
import sys
import threading
import time

LOCK = threading.Lock()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def _serve(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n > 0 else b""
        rec = {"method": self.command, "path": self.path,
               "headers": [[k, v] for k, v in self.headers.items()],
               "body": body.hex()}
        reused = getattr(self, "served", 0) > 0
        self.served = getattr(self, "served", 0) + 1
        with LOCK:
            try:
                with open(os.path.join(ARGS.dir, "answer.json")) as f:
                    ans = json.load(f)
            except (OSError, ValueError):
                ans = {"status": 200, "body": ""}
            if ans.get("drop_reused") and reused:
                rec["dropped"] = True
            with open(os.path.join(ARGS.dir, "requests.jsonl"), "a") as f:
                f.write(json.dumps(rec) + "\n")
        if rec.get("dropped"):
            self.close_connection = True
            return
        if "raw" in ans:
            self.wfile.write(ans["raw"].encode("latin-1"))
            self.wfile.flush()
            self.close_connection = True
            return
        time.sleep(float(ans.get("delay", 0)))
        if "body_len" in ans:
            out = b"x" * int(ans["body_len"])
        else:
            out = ans.get("body", "").encode()
        status = int(ans.get("status", 200))
        self.send_response(status)
        for k, v in ans.get("headers", {}).items():
            self.send_header(k, v)
        chunked = bool(ans.get("chunked"))
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        elif status not in (204, 304):
            self.send_header("Content-Length", str(len(out)))
        if ans.get("close"):
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if chunked:
            for i in range(0, len(out), 100):
                part = out[i:i + 100]
                self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
            self.wfile.write(b"0\r\n\r\n")
        elif status not in (204, 304):
            self.wfile.write(out)

    do_GET = _serve
    do_POST = _serve


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


def main():
    global ARGS
    p = argparse.ArgumentParser()
    p.add_argument("--dir", required=True)
    p.add_argument("--tls", nargs=2)
    p.add_argument("--client-ca")
    p.add_argument("--idle", type=float, default=30)
    ARGS = p.parse_args()
    Handler.timeout = ARGS.idle
    srv = Server(("127.0.0.1", 0), Handler)
    if ARGS.tls:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(ARGS.tls[0], ARGS.tls[1])
        if ARGS.client_ca:
            ctx.verify_mode = ssl.CERT_REQUIRED
            ctx.load_verify_locations(ARGS.client_ca)
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    print(srv.server_address[1], flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
