#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""race_https.py: HTTPS requests sent at once, for the multi-node race tests
(test_multinode_races.sh), from one long-lived process so that an
iteration of a race costs no process start.

  race_https.py --ca CA.pem

Reads one JSON line per iteration on stdin: a list of requests, each
{"url", "method" (default GET), "headers" (object), "auth" ("user:pass",
HTTP Basic), "body" (a file whose bytes are the body), "out" (a file for
the answer's body), "cert", "key" (a client certificate)}. One thread per
request; they wait on a barrier, then each connects, does its TLS
handshake and sends its request: the requests leave together. Writes one
line per iteration once all are answered: the status of each request in
order, separated by spaces, 000 for none (a refused handshake, a reset,
a time-out). A line that is not JSON ends the process with status 2.
"""
import argparse
import base64
import http.client
import json
import ssl
import sys
import threading
import urllib.parse

contexts = {}


def context(ca, cert, key):
    """One SSL context per client certificate (the CA file read once)."""
    k = (cert, key)
    if k not in contexts:
        ctx = ssl.create_default_context(cafile=ca)
        if cert:
            ctx.load_cert_chain(cert, key)
        contexts[k] = ctx
    return contexts[k]


def one(ca, req, barrier, results, i):
    status = "000"
    try:
        u = urllib.parse.urlsplit(req["url"])
        headers = dict(req.get("headers", {}))
        if req.get("auth"):
            headers["Authorization"] = "Basic " + base64.b64encode(
                req["auth"].encode()).decode()
        headers["Connection"] = "close"
        body = None
        if req.get("body"):
            with open(req["body"], "rb") as f:
                body = f.read()
        ctx = context(ca, req.get("cert"), req.get("key"))
        conn = http.client.HTTPSConnection(u.hostname, u.port, context=ctx, timeout=20)
        path = u.path + ("?" + u.query if u.query else "")
        barrier.wait(timeout=20)
        try:
            conn.request(req.get("method", "GET"), path, body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
            status = "%03d" % resp.status
            if req.get("out"):
                with open(req["out"], "wb") as f:
                    f.write(data)
        finally:
            conn.close()
    except (OSError, ValueError, http.client.HTTPException,
            threading.BrokenBarrierError) as e:
        barrier.abort()  # the others do not wait for this one
        if req.get("out"):
            with open(req["out"], "w") as f:
                f.write("error: %s\n" % e)
    results[i] = status


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ca", required=True)
    args = ap.parse_args()
    for line in sys.stdin:
        try:
            reqs = json.loads(line)
        except ValueError:
            print("not JSON: %r" % line[:80], file=sys.stderr)
            sys.exit(2)
        barrier = threading.Barrier(len(reqs))
        results = ["000"] * len(reqs)
        threads = [threading.Thread(target=one, args=(args.ca, r, barrier, results, i))
                   for i, r in enumerate(reqs)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        print(" ".join(results), flush=True)


if __name__ == "__main__":
    main()
