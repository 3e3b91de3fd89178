#!/usr/bin/python3
"""Holds ledgerd's tlog-cosignature code against an independent one.

The independent side is written here from the specifications (C2SP
signed-note, tlog-cosignature) on Python's cryptography package:

  * every vector `test_cosignature emit` prints (seed, name, time, body) is
    recomputed here: key ID, verifier key, signer key and the exact
    cosignature line (Ed25519 is deterministic), and the line verifies;
  * cosignatures made here, with keys made here, verify in C
    (`test_cosignature verify`), and altered ones (body, time, signature,
    key ID, time 0) do not.

  cosignature_check.py                      the checks above
  cosignature_check.py verify VKEY BODYFILE LINE
                                            exit 0 when LINE (one cosignature
                                            line) verifies over the body in
                                            BODYFILE under VKEY: used by the
                                            witness daemon's tests

Prints one line per check and ends with "N passed, N failed".  Needs
python3-cryptography.
"""
import base64
import hashlib
import os
import struct
import subprocess
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey, Ed25519PublicKey)
from cryptography.hazmat.primitives import serialization

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.environ.get("BUILD", "build")
if not os.path.isabs(BUILD):
    BUILD = os.path.join(ROOT, BUILD)
HELPER = os.path.join(BUILD, "tests", "test_cosignature")
DASH = "\u2014 "

passed = 0
failed = 0


def report(ok, what, why=""):
    global passed, failed
    if ok:
        passed += 1
        print("ok   " + what)
    else:
        failed += 1
        print("FAIL " + what + (": " + why if why else ""))


def raw_public(priv):
    return priv.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(name, pub):
    """signed-note: SHA-256(name || 0x0A || type || key)[:4]; type 0x04."""
    return hashlib.sha256(name.encode() + b"\n" + b"\x04" + pub).digest()[:4]


def vkey(name, pub):
    return "%s+%s+%s" % (name, key_id(name, pub).hex(),
                         base64.b64encode(b"\x04" + pub).decode())


def skey(name, seed, pub):
    return "PRIVATE+KEY+%s+%s+%s" % (name, key_id(name, pub).hex(),
                                     base64.b64encode(b"\x04" + seed).decode())


def message(body, t):
    """tlog-cosignature: what a witness signs."""
    return b"cosignature/v1\ntime %d\n" % t + body


def cosign(priv, name, body, t):
    pub = raw_public(priv)
    sig = priv.sign(message(body, t))
    blob = key_id(name, pub) + struct.pack(">Q", t) + sig
    return "%s%s %s\n" % (DASH, name, base64.b64encode(blob).decode())


def parse_vkey(text):
    name, kid, b64 = text.split("+", 2)
    raw = base64.b64decode(b64, validate=True)
    if len(raw) != 33 or raw[0] != 4:
        raise ValueError("not a cosignature/v1 key")
    if key_id(name, raw[1:]).hex() != kid:
        raise ValueError("key ID does not match")
    return name, raw[1:]


def verify_line(vk, body, line):
    """True when line is a valid cosignature by vk over body."""
    name, pub = parse_vkey(vk)
    if not line.startswith(DASH) or not line.endswith("\n"):
        return False
    lname, _, b64 = line[len(DASH):-1].partition(" ")
    if lname != name:
        return False
    blob = base64.b64decode(b64, validate=True)
    if len(blob) != 76 or blob[:4] != key_id(name, pub):
        return False
    (t,) = struct.unpack(">Q", blob[4:12])
    if t == 0 or t >= 1 << 63:
        return False
    try:
        Ed25519PublicKey.from_public_bytes(pub).verify(blob[12:],
                                                       message(body, t))
    except InvalidSignature:
        return False
    return True


def c_verify(vk, body, line):
    r = subprocess.run([HELPER, "verify", vk,
                        base64.b64encode(body).decode(), line],
                       capture_output=True)
    return r.returncode


def check_emitted():
    out = subprocess.run([HELPER, "emit"], capture_output=True, check=True,
                         text=True).stdout
    lines = out.splitlines()
    report(len(lines) >= 3, "C emits its vectors", "%d lines" % len(lines))
    for row in lines:
        seed_hex, name, t, body_b64, c_vk, c_sk, line_b64 = row.split(" ")
        seed = bytes.fromhex(seed_hex)
        t = int(t)
        body = base64.b64decode(body_b64)
        c_line = base64.b64decode(line_b64).decode()
        priv = Ed25519PrivateKey.from_private_bytes(seed)
        pub = raw_public(priv)
        report(c_vk == vkey(name, pub), "verifier key of %s" % name,
               "%s != %s" % (c_vk, vkey(name, pub)))
        report(c_sk == skey(name, seed, pub), "signer key of %s" % name)
        want = cosign(priv, name, body, t)
        report(c_line == want, "cosignature line of %s at %d" % (name, t),
               "%r != %r" % (c_line, want))
        report(verify_line(c_vk, body, c_line),
               "C's line of %s verifies here" % name)


def check_python_made():
    body = (b"ledger.example.org/ct-box\n42\n"
            + base64.b64encode(hashlib.sha256(b"x").digest()) + b"\n")
    for name in ("witness.example.org/auditor", "w", "rc\u00e9"):
        priv = Ed25519PrivateKey.generate()
        pub = raw_public(priv)
        vk = vkey(name, pub)
        t = 1735689600
        line = cosign(priv, name, body, t)
        report(c_verify(vk, body, line) == 0,
               "a cosignature made here by %s verifies in C" % name)
        other = body.replace(b"\n42\n", b"\n43\n")
        report(c_verify(vk, other, line) == 1,
               "%s: the same line over another body fails in C" % name)
        blob = bytearray(base64.b64decode(line[len(DASH) + len(name) + 1:-1]))
        for what, pos in (("time", 11), ("signature", 40), ("key ID", 0)):
            b = bytearray(blob)
            b[pos] ^= 1
            bad = "%s%s %s\n" % (DASH, name, base64.b64encode(b).decode())
            report(c_verify(vk, body, bad) != 0,
                   "%s: a changed %s fails in C" % (name, what))
        # Time 0, signed as such: the C side refuses it before any crypto.
        sig = priv.sign(message(body, 0))
        b = key_id(name, pub) + struct.pack(">Q", 0) + sig
        zero = "%s%s %s\n" % (DASH, name, base64.b64encode(b).decode())
        report(c_verify(vk, body, zero) != 0,
               "%s: time 0 is refused in C" % name)
        # A time of 2^63 - 1 is the largest allowed.
        line = cosign(priv, name, body, (1 << 63) - 1)
        report(c_verify(vk, body, line) == 0,
               "%s: time 2^63-1 verifies in C" % name)


def main():
    if len(sys.argv) == 5 and sys.argv[1] == "verify":
        with open(sys.argv[3], "rb") as f:
            body = f.read()
        line = sys.argv[4]
        if not line.endswith("\n"):
            line += "\n"
        sys.exit(0 if verify_line(sys.argv[2], body, line) else 1)
    check_emitted()
    check_python_made()
    print("%d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
