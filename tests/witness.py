#!/usr/bin/env python3
"""A C2SP tlog-witness written apart from ledgerd's C code, with Python's
standard library and python3-cryptography, so that the log's witness
client is held against an implementation that shares none of its code.

    witness.py --name NAME --seed HEX --log VKEY [--log VKEY ...]
               --state FILE --port-file FILE [--evidence FILE]
               [--port N] [--v1] [--tls-cert PEM --tls-key PEM]
    witness.py --name NAME --seed HEX --print-vkey

NAME and the 32-byte Ed25519 seed (64 hex digits) make the witness key
(signature type 0x04, C2SP tlog-cosignature).  Each --log names a log it
witnesses by its note verifier key (type 0x01); the key name is the log's
origin.  The state FILE keeps, per origin, the latest checkpoint it
cosigned; it is written (atomically, synced) before an answer leaves, and
read back at start, so the witness never forgets a log.  Refused requests
that may show a log misbehaving (422, and the v1.0.0 409) are appended to
the evidence FILE as JSON lines.  The port chosen on 127.0.0.1 (or --port)
is written to PORT_FILE once listening; with --tls-cert and --tls-key it
speaks HTTPS.  --print-vkey prints the
witness's verifier key (for a policy file) and exits.

It follows the current text of C2SP tlog-witness: 404 unknown origin; 403
no valid signature from a trusted key, or a bad one from a trusted key;
400 malformed, or old larger than the checkpoint's size; 409 (body
"<size>\\n", text/x.tlog.size) when old is not the size it last cosigned;
422 when the consistency proof does not verify, for a non-empty proof
with old 0, a size-0 checkpoint whose root is not SHA-256 of nothing, or
the same size with another root.  With --v1 it answers that last case as
the v1.0.0 tag did: 409 naming the size it holds.  The check of old and
the update of the state happen under one lock, so two requests cannot
both pass against the same size.

GET /<hex SHA-256 of the origin>/checkpoint serves the latest checkpoint
it cosigned, with its cosignature (the monitoring endpoint)."""

import argparse
import base64
import binascii
import hashlib
import json
import os
import ssl
import struct
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey, Ed25519PublicKey)
from cryptography.hazmat.primitives.serialization import (
    Encoding, PublicFormat)

DASH = "\u2014 "
EMPTY_ROOT = hashlib.sha256(b"").digest()
MAX_PROOF = 63


def key_id(name, sig_type, public):
    """C2SP signed-note: SHA-256(name || 0x0A || type || key)[:4]."""
    h = hashlib.sha256(name.encode() + b"\n" + bytes([sig_type]) + public)
    return h.digest()[:4]


def parse_vkey(text):
    """<name>+<hex key ID>+<base64(type || key)>, checked."""
    name, hexid, b64 = text.split("+", 2)
    blob = base64.b64decode(b64, validate=True)
    if len(blob) != 33 or blob[0] != 0x01:
        raise ValueError("not an Ed25519 log key: " + text)
    kid = key_id(name, blob[0], blob[1:])
    if kid.hex() != hexid:
        raise ValueError("key ID does not match: " + text)
    return name, kid, Ed25519PublicKey.from_public_bytes(blob[1:])


def decimal(text):
    """A canonical decimal: digits, no leading zero (but "0")."""
    if not text.isdigit() or not text.isascii() or \
            (len(text) > 1 and text[0] == "0") or len(text) > 20:
        raise ValueError("not a decimal: %r" % text)
    n = int(text)
    if n >= 1 << 64:
        raise ValueError("too large: %r" % text)
    return n


def node(left, right):
    return hashlib.sha256(b"\x01" + left + right).digest()


def verify_consistency(first, second, first_hash, second_hash, proof):
    """RFC 9162 section 2.1.4.2, step by step."""
    if first == second:
        return not proof and first_hash == second_hash
    if first == 0 or first > second or not proof:
        return False
    path = list(proof)
    if first & (first - 1) == 0:
        path.insert(0, first_hash)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node(c, fr)
            sr = node(c, sr)
            if not fn & 1:
                while fn != 0 and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == first_hash and sr == second_hash


class Refusal(Exception):
    def __init__(self, status, message, body=None, evidence=False):
        super().__init__(message)
        self.status = status
        self.body = body
        self.evidence = evidence


def parse_request(raw):
    """old line, proof lines, empty line, signed checkpoint."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise Refusal(400, "the body is not UTF-8")
    head, sep, note = text.partition("\n\n")
    if not sep:
        raise Refusal(400, "no empty line")
    lines = head.split("\n")
    if not lines[0].startswith("old "):
        raise Refusal(400, "no old line")
    try:
        old = decimal(lines[0][4:])
    except ValueError as e:
        raise Refusal(400, str(e))
    proof = []
    for line in lines[1:]:
        try:
            h = base64.b64decode(line, validate=True)
        except binascii.Error:
            raise Refusal(400, "a proof line is not base64")
        if len(h) != 32 or base64.b64encode(h).decode() != line:
            raise Refusal(400, "a proof line is not a hash")
        proof.append(h)
    if len(proof) > MAX_PROOF:
        raise Refusal(400, "more than 63 proof lines")
    return old, proof, note


def parse_note(note):
    """Signed note: text up to the last empty line, then signature lines."""
    if not note.endswith("\n"):
        raise Refusal(400, "the checkpoint does not end in a newline")
    split = note.rfind("\n\n", 0, len(note) - 1)
    if split < 0:
        raise Refusal(400, "the checkpoint has no signature")
    body = note[:split + 1]
    sigs = []
    for line in note[split + 2:].split("\n")[:-1]:
        if not line.startswith(DASH):
            raise Refusal(400, "a signature line does not start with a dash")
        name, _, b64 = line[len(DASH):].rpartition(" ")
        try:
            blob = base64.b64decode(b64, validate=True)
        except binascii.Error:
            raise Refusal(400, "a signature is not base64")
        if not name or len(blob) < 4:
            raise Refusal(400, "a malformed signature line")
        sigs.append((name, blob))
    lines = body.split("\n")[:-1]
    if len(lines) < 3:
        raise Refusal(400, "a checkpoint has three lines at least")
    try:
        size = decimal(lines[1])
        root = base64.b64decode(lines[2], validate=True)
    except (ValueError, binascii.Error) as e:
        raise Refusal(400, "bad checkpoint: %s" % e)
    if len(root) != 32 or base64.b64encode(root).decode() != lines[2]:
        raise Refusal(400, "the root is not a base64 hash")
    return lines[0], size, root, body, sigs


class Witness:
    def __init__(self, args):
        seed = bytes.fromhex(args.seed)
        self.name = args.name
        self.key = Ed25519PrivateKey.from_private_bytes(seed)
        public = self.key.public_key().public_bytes(Encoding.Raw,
                                                    PublicFormat.Raw)
        self.key_id = key_id(self.name, 0x04, public)
        self.logs = {}
        for text in args.log:
            name, kid, public_key = parse_vkey(text)
            self.logs.setdefault(name, []).append((kid, public_key))
        self.state_path = args.state
        self.evidence_path = args.evidence
        self.v1 = args.v1
        self.lock = threading.Lock()
        self.state = {}
        if os.path.exists(self.state_path):
            with open(self.state_path) as f:
                self.state = json.load(f)

    def persist(self):
        tmp = self.state_path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(self.state, f)
            f.flush()
            os.fsync(f.fileno())
        os.rename(tmp, self.state_path)
        fd = os.open(os.path.dirname(os.path.abspath(self.state_path)),
                     os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def keep_evidence(self, status, reason, raw):
        if not self.evidence_path:
            return
        with open(self.evidence_path, "a") as f:
            f.write(json.dumps({"time": int(time.time()), "status": status,
                                "reason": reason,
                                "request": raw.decode("utf-8", "replace")})
                    + "\n")
            f.flush()
            os.fsync(f.fileno())

    def check_signature(self, origin, body, sigs):
        keys = self.logs.get(origin)
        if keys is None:
            raise Refusal(404, "unknown origin %s" % origin)
        good = False
        for name, blob in sigs:
            if name != origin:
                continue
            for kid, public_key in keys:
                if blob[:4] != kid:
                    continue
                if len(blob) != 68:
                    raise Refusal(403, "a malformed signature of a "
                                  "trusted key")
                try:
                    public_key.verify(blob[4:], body.encode())
                except InvalidSignature:
                    raise Refusal(403, "a bad signature from a trusted key")
                good = True
        if not good:
            raise Refusal(403, "no signature from a trusted key")

    def cosign(self, body):
        now = int(time.time())
        msg = b"cosignature/v1\ntime %d\n" % now + body.encode()
        sig = self.key.sign(msg)
        blob = self.key_id + struct.pack(">Q", now) + sig
        return "%s%s %s\n" % (DASH, self.name,
                              base64.b64encode(blob).decode())

    def add_checkpoint(self, raw):
        old, proof, note = parse_request(raw)
        origin, size, root, body, sigs = parse_note(note)
        self.check_signature(origin, body, sigs)
        if old > size:
            raise Refusal(400, "old %d is larger than the checkpoint's size "
                          "%d" % (old, size))
        with self.lock:
            held = self.state.get(origin)
            held_size = held["size"] if held else 0
            if old != held_size:
                raise Refusal(409, "old %d is not %d" % (old, held_size),
                              body=b"%d\n" % held_size)
            if old == 0 and proof:
                raise Refusal(422, "a non-empty proof from size 0",
                              evidence=True)
            if size == 0 and root != EMPTY_ROOT:
                raise Refusal(422, "a tree of size 0 with another root",
                              evidence=True)
            held_root = base64.b64decode(held["root"]) if held else None
            if held and old == size and root != held_root:
                if self.v1:
                    raise Refusal(409, "the same size with another root "
                                  "(v1.0.0)", body=b"%d\n" % held_size,
                                  evidence=True)
                raise Refusal(422, "the same size with another root",
                              evidence=True)
            if held and old > 0 and not verify_consistency(
                    old, size, held_root, root, proof):
                raise Refusal(422, "the consistency proof from %d to %d "
                              "does not verify" % (old, size),
                              evidence=True)
            line = self.cosign(body)
            self.state[origin] = {"size": size,
                                  "root": base64.b64encode(root).decode(),
                                  "checkpoint": note + line}
            self.persist()
        return line


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def answer(self, status, body, ctype="text/plain; charset=utf-8"):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        w = self.server.witness
        if self.path.rstrip("/") != "/add-checkpoint":
            self.answer(404, b"not found\n")
            return
        length = self.headers.get("Content-Length")
        if length is None or not length.isdigit() or \
                int(length) > 1 << 20:
            self.answer(400, b"a body with a Content-Length, please\n")
            return
        raw = self.rfile.read(int(length))
        try:
            line = w.add_checkpoint(raw)
        except Refusal as r:
            if r.evidence:
                w.keep_evidence(r.status, str(r), raw)
            if r.status == 409:
                self.answer(409, r.body, "text/x.tlog.size")
            else:
                self.answer(r.status, (str(r) + "\n").encode())
            return
        self.answer(200, line.encode())

    def do_GET(self):
        w = self.server.witness
        parts = self.path.strip("/").split("/")
        if len(parts) == 2 and parts[1] == "checkpoint":
            with w.lock:
                for origin, held in w.state.items():
                    if hashlib.sha256(origin.encode()).hexdigest() == \
                            parts[0]:
                        self.answer(200, held["checkpoint"].encode())
                        return
        self.answer(404, b"not found\n")

    def log_message(self, fmt, *args):
        pass


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--name", required=True)
    p.add_argument("--seed", required=True)
    p.add_argument("--log", action="append")
    p.add_argument("--state")
    p.add_argument("--evidence")
    p.add_argument("--port-file")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--v1", action="store_true")
    p.add_argument("--print-vkey", action="store_true")
    p.add_argument("--tls-cert")
    p.add_argument("--tls-key")
    args = p.parse_args()
    if args.print_vkey:
        key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(args.seed))
        public = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        print("%s+%s+%s" % (args.name, key_id(args.name, 0x04, public).hex(),
                            base64.b64encode(b"\x04" + public).decode()))
        return 0
    if not args.log or not args.state or not args.port_file:
        p.error("--log, --state and --port-file are required")
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    if args.tls_cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.tls_cert, args.tls_key)
        server.socket = ctx.wrap_socket(server.socket, server_side=True)
    server.witness = Witness(args)
    server.daemon_threads = True
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % server.server_address[1])
    os.rename(tmp, args.port_file)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
