#!/usr/bin/python3
"""An independent check of a ledgerd compliance bundle's proofs.

Written from the public specifications alone (C2SP signed-note and
tlog-checkpoint, RFC 9162 §2.1.3.2 inclusion proofs, C2SP tlog-proof), on
Python's hashlib and cryptography packages, sharing no code with ledgerd:

  proof_check.py BUNDLE VKEYFILE

checks that BUNDLE/checkpoint is signed by the key in VKEYFILE (Ed25519,
signed-note key type 0x01), and that every line of BUNDLE/entries.jsonl and
BUNDLE/context.jsonl is included in that checkpoint's tree by its proof in
BUNDLE/proofs and BUNDLE/context.proofs.  Exit 0 when all hold; otherwise
prints what failed and exits 1.
"""
import base64
import hashlib
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

DASH = "\u2014 "


def key_id(name, typed_key):
    return hashlib.sha256(name.encode() + b"\n" + typed_key).digest()[:4]


def parse_vkey(text):
    name, kid, b64 = text.strip().split("+", 2)
    raw = base64.b64decode(b64, validate=True)
    if len(raw) != 33 or raw[0] != 1:
        raise ValueError("not an Ed25519 note key")
    if key_id(name, raw).hex() != kid:
        raise ValueError("key ID does not match")
    return name, raw


def verify_checkpoint(note, vkey):
    """The (size, root) of a checkpoint note signed by vkey, or raise."""
    name, typed = parse_vkey(vkey)
    body, sep, sigs = note.partition("\n\n")
    if not sep:
        raise ValueError("checkpoint: no signature block")
    body += "\n"
    ok = False
    for line in sigs.splitlines():
        if not line.startswith(DASH):
            raise ValueError("checkpoint: malformed signature line")
        lname, _, b64 = line[len(DASH):].partition(" ")
        blob = base64.b64decode(b64, validate=True)
        if lname != name or blob[:4] != key_id(name, typed):
            continue
        try:
            Ed25519PublicKey.from_public_bytes(typed[1:]).verify(
                blob[4:], body.encode())
            ok = True
        except InvalidSignature:
            raise ValueError("checkpoint: bad signature")
    if not ok:
        raise ValueError("checkpoint: no signature by the key")
    lines = body.split("\n")
    return int(lines[1]), base64.b64decode(lines[2], validate=True)


def leaf_hash(data):
    return hashlib.sha256(b"\x00" + data).digest()


def node(left, right):
    return hashlib.sha256(b"\x01" + left + right).digest()


def root_from_inclusion(index, size, leaf, path):
    """RFC 9162 §2.1.3.2."""
    if index >= size:
        raise ValueError("index beyond the tree")
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            raise ValueError("proof too long")
        if fn & 1 or fn == sn:
            r = node(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ValueError("proof too short")
    return r


def split_proofs(text):
    header = "c2sp.org/tlog-proof@v1\n"
    parts = text.split(header)
    if parts[0] != "":
        raise ValueError("proofs: does not start with a tlog-proof")
    return parts[1:]


def check_file(bundle, entries_name, proofs_name, checkpoint, size, root):
    with open(f"{bundle}/{entries_name}", "rb") as f:
        lines = f.read().split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    with open(f"{bundle}/{proofs_name}", encoding="utf-8") as f:
        proofs = split_proofs(f.read())
    if len(proofs) != len(lines):
        raise ValueError(f"{proofs_name}: {len(proofs)} proofs for "
                         f"{len(lines)} entries")
    for n, (entry, proof) in enumerate(zip(lines, proofs)):
        head, sep, note = proof.partition("\n\n")
        if not sep or note != checkpoint:
            raise ValueError(f"{proofs_name} {n}: not the bundle's checkpoint")
        rows = head.split("\n")
        if rows and rows[0].startswith("extra "):
            rows = rows[1:]
        if not rows or not rows[0].startswith("index "):
            raise ValueError(f"{proofs_name} {n}: no index line")
        index = int(rows[0][len("index "):])
        path = [base64.b64decode(r, validate=True) for r in rows[1:]]
        if root_from_inclusion(index, size, leaf_hash(entry), path) != root:
            raise ValueError(f"{entries_name} line {n + 1}: not included")
    return len(lines)


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    bundle, vkey_file = sys.argv[1], sys.argv[2]
    try:
        with open(vkey_file, encoding="utf-8") as f:
            vkey = f.read()
        with open(f"{bundle}/checkpoint", encoding="utf-8") as f:
            checkpoint = f.read()
        size, root = verify_checkpoint(checkpoint, vkey)
        n = check_file(bundle, "entries.jsonl", "proofs", checkpoint, size,
                       root)
        c = check_file(bundle, "context.jsonl", "context.proofs", checkpoint,
                       size, root)
    except (OSError, ValueError) as e:
        print(f"proof_check: FAILED: {e}", file=sys.stderr)
        return 1
    print(f"proof_check: {n} entries and {c} context entries included in "
          f"the signed tree of size {size}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
