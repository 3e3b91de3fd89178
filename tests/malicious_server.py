#!/usr/bin/env python3
"""A log server that lies: it answers ledgerctl from a site file of
crafted answers (entries, bundles, tiles, proofs, checkpoints) written by
tests/test_malicious.c, so that every check of the client can be put to a
server that holds the log key and means harm.

    malicious_server.py SITE PORT_FILE

SITE is a JSON object: request target -> {"status": N, "body_b64": "...",
"type": "...", "headers": {NAME: VALUE, ...} (optional)}.  A target is looked up whole (path and query) first, then
by its path alone; anything else is a 404.  SITE is read again for every
request, so a test can change the answers between two runs of ledgerctl.
The port chosen on 127.0.0.1 is written to PORT_FILE once listening."""

import base64
import json
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        with open(self.server.site, "rb") as f:
            site = json.load(f)
        answer = site.get(self.path) or site.get(self.path.split("?")[0])
        if answer is None:
            answer = {"status": 404, "type": "application/json",
                      "body_b64": base64.b64encode(
                          b'{"error":{"code":"not_found","message":"no such '
                          b'thing here"}}').decode()}
        body = base64.b64decode(answer["body_b64"])
        self.send_response(answer["status"])
        self.send_header("Content-Type", answer.get("type", "application/json"))
        self.send_header("Content-Length", str(len(body)))
        for name, value in answer.get("headers", {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, fmt, *args):
        pass


def main():
    if len(sys.argv) != 3:
        sys.stderr.write(__doc__)
        sys.exit(2)
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.site = sys.argv[1]
    server.daemon_threads = True
    tmp = sys.argv[2] + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % server.server_address[1])
    os.rename(tmp, sys.argv[2])
    server.serve_forever()


if __name__ == "__main__":
    main()
