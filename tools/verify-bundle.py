#!/usr/bin/env python3
"""Independent verifier of Ledger audit bundles (ARCHITECTURE.md, "Audit bundles").

Written from the documented layout only (no Swift, no store): checks the manifest's file hashes, every
checkpoint's Ed25519 signature against a pinned verifier key (C2SP signed note), the consistency proofs between
checkpoints (RFC 9162 §2.1.4.2), the Merkle root recomputed from the compact range and the entries, every record's
layout, position, origin and stream chain, and every present payload part's salted commitment.

    python3 tools/verify-bundle.py BUNDLE_DIR --vkey 'name+keyid+base64' [--trusted CHECKPOINT_NOTE]

Exit 0 when everything verifies, 1 with a message naming the first failure. Needs pyca `cryptography`.
"""
import argparse, base64, hashlib, json, os, struct, sys

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.exceptions import InvalidSignature


class Failure(Exception):
    pass


def sha256(*parts):
    h = hashlib.sha256()
    for p in parts:
        h.update(p)
    return h.digest()


def leaf_hash(data):
    return sha256(b"\x00", data)


def node_hash(left, right):
    return sha256(b"\x01", left, right)


# ---- signed notes (C2SP signed-note, Ed25519 type 0x01) -------------------------------------------------------

def parse_vkey(text):
    name, key_id, key = text.strip().split("+", 2)
    raw = base64.b64decode(key)
    if len(raw) != 33 or raw[0] != 0x01:
        raise Failure("the verifier key is not an Ed25519 note key")
    if sha256(name.encode(), b"\n", raw)[:4].hex() != key_id:
        raise Failure("the verifier key's id does not match its key")
    return name, bytes.fromhex(key_id), Ed25519PublicKey.from_public_bytes(raw[1:])


def parse_note(text):
    body, sep, sigs = text.partition("\n\n")
    if not sep:
        raise Failure("a note without signatures")
    body += "\n"
    signatures = []
    for line in sigs.split("\n"):
        if not line:
            continue
        dash, name, sig = line.split(" ")
        if dash != "\u2014":
            raise Failure("malformed signature line")
        signatures.append((name, base64.b64decode(sig)))
    return body, signatures


def note_signed_by(text, vkey):
    name, key_id, key = vkey
    body, signatures = parse_note(text)
    for sig_name, raw in signatures:
        if sig_name == name and raw[:4] == key_id and len(raw) == 68:
            try:
                key.verify(raw[4:], body.encode())
                return body
            except InvalidSignature:
                pass
    raise Failure("a checkpoint is not signed by the pinned key")


def parse_checkpoint(body):
    lines = body.split("\n")
    if len(lines) != 4 or lines[3] != "":
        raise Failure("a checkpoint body is not three lines")
    return lines[0], int(lines[1]), base64.b64decode(lines[2])


# ---- RFC 9162 -------------------------------------------------------------------------------------------------

def verify_consistency(m, n, root_m, root_n, proof):
    if m == 0 or m > n:
        return False
    if m == n:
        return not proof and root_m == root_n
    if not proof:
        return False
    if m & (m - 1) == 0:
        proof = [root_m] + proof
    fn, sn = m - 1, n - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = proof[0]
    for c in proof[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == root_m and sr == root_n and sn == 0


class Frontier:
    def __init__(self):
        self.size = 0
        self.roots = []  # (level, hash), levels decreasing

    def adopt(self, level, digest):
        self.roots.append((level, digest))
        self.size += 1 << level

    def append(self, leaf):
        node = (0, leaf)
        while self.roots and self.roots[-1][0] == node[0]:
            level, left = self.roots.pop()
            node = (level + 1, node_hash(left, node[1]))
        self.roots.append(node)
        self.size += 1

    def root(self):
        if not self.roots:
            return hashlib.sha256(b"").digest()
        r = self.roots[-1][1]
        for _, x in reversed(self.roots[:-1]):
            r = node_hash(x, r)
        return r


# ---- records ---------------------------------------------------------------------------------------------------

def parse_record(b):
    """The fields the auditor checks; raises on any layout error (ARCHITECTURE.md, "Record")."""
    def need(n):
        if at[0] + n > len(b):
            raise Failure("record ends early")
        v = b[at[0]:at[0] + n]
        at[0] += n
        return v

    def b8():
        return need(need(1)[0])

    at = [0]
    fmt, leaf_type = need(1)[0], need(1)[0]
    if fmt != 1 or leaf_type not in (1, 2, 3):
        raise Failure("unknown record format or leaf type")
    origin = b8().decode("utf-8")
    position, _recorded = struct.unpack(">Qq", need(16))
    stream = b8().decode("utf-8")
    version, previous = struct.unpack(">QQ", need(16))
    b8().decode("utf-8")  # event type
    need(16)  # event id
    b8().decode("utf-8")  # actor
    need(32)  # correlation, causation
    metadata = parse_metadata(need(struct.unpack(">H", need(2))[0]))
    if need(1)[0] != 1:
        raise Failure("unknown commitment algorithm")
    facts_c = need(32)
    facts_len = struct.unpack(">I", need(4))[0]
    personal_c = need(32)
    personal_len = struct.unpack(">I", need(4))[0]
    if at[0] != len(b):
        raise Failure("trailing bytes in a record")
    personal = None if personal_len == 0 and personal_c == bytes(32) else (personal_c, personal_len)
    return dict(origin=origin, position=position, stream=stream, version=version, metadata=metadata,
                previous=None if previous == 2**64 - 1 else previous,
                parts=[(0, facts_c, facts_len)] + ([(1, personal[0], personal[1])] if personal else []))


def parse_metadata(tlv):
    """Canonical TLV: entries b8 key · b16 value, keys sorted bytewise without duplicates."""
    entries, at, previous = {}, 0, None
    while at < len(tlv):
        k = tlv[at]
        key = tlv[at + 1:at + 1 + k]
        if len(key) != k or at + 3 + k > len(tlv):
            raise Failure("metadata ends early")
        (v,) = struct.unpack(">H", tlv[at + 1 + k:at + 3 + k])
        value = tlv[at + 3 + k:at + 3 + k + v]
        if len(value) != v or (previous is not None and key <= previous):
            raise Failure("metadata is not canonical")
        entries[key.decode("ascii")] = value
        previous, at = key, at + 3 + k + v
    return entries


def is_uuid(value):
    text = value.decode("utf-8", "replace") if value is not None else ""
    parts = text.split("-")
    return [len(p) for p in parts] == [8, 4, 4, 4, 12] and all(c in "0123456789abcdefABCDEF" for c in "".join(parts))


def verify_bundle(directory, vkey_text, trusted_path=None):
    def read(rel):
        path = os.path.join(directory, rel)
        if not os.path.exists(path):
            raise Failure(f"{rel} is missing")
        with open(path, "rb") as f:
            return f.read()

    manifest = json.loads(read("manifest.json"))
    if manifest.get("format") != "ledger-audit-bundle/1":
        raise Failure("not a ledger-audit-bundle/1")
    for rel, digest in sorted(manifest["files"].items()):
        if hashlib.sha256(read(rel)).hexdigest() != digest:
            raise Failure(f"{rel} does not match its hash in the manifest")
    vkey = parse_vkey(vkey_text)
    origin, frm, to = manifest["origin"], manifest["from_size"], manifest["to_size"]

    roots = {}
    for size in manifest["checkpoints"]:
        body = note_signed_by(read(f"checkpoints/{size}.note").decode("utf-8"), vkey)
        o, s, r = parse_checkpoint(body)
        if o != origin or s != size:
            raise Failure(f"checkpoint file {size} names {o} at {s}")
        roots[size] = r
    if to not in roots:
        raise Failure("the checkpoint of to_size is missing")
    if frm > 0 and frm not in roots:
        raise Failure("the checkpoint of from_size is missing")
    sizes = [s for s in manifest["checkpoints"] if s > 0]
    for m, n in zip(sizes, sizes[1:]):
        proof = [base64.b64decode(l) for l in read(f"consistency/{m}-{n}.txt").decode().split("\n") if l]
        if not verify_consistency(m, n, roots[m], roots[n], proof):
            raise Failure(f"the consistency proof from {m} to {n} does not verify")
    if trusted_path:
        with open(trusted_path, encoding="utf-8") as f:
            o, s, r = parse_checkpoint(note_signed_by(f.read(), vkey))
        if o != origin or s not in roots or roots[s] != r:
            raise Failure(f"the trusted checkpoint {s} is not consistent with the bundle")

    frontier, last_level = Frontier(), 64
    for line in read("compact-range.txt").decode().split("\n"):
        if line:
            level, digest = line.split(" ")
            level, digest = int(level), base64.b64decode(digest)
            if not 0 <= level < last_level or len(digest) != 32:
                raise Failure("compact-range.txt: levels must strictly decrease, hashes be 32 bytes")
            frontier.adopt(level, digest)
            last_level = level
    if frontier.size != frm:
        raise Failure("the compact range does not cover from_size")
    if frm in roots and frm > 0 and frontier.root() != roots[frm]:
        raise Failure("the compact range does not fold to the from_size checkpoint")

    payloads = read("payloads.bin")
    parts, off, last = {}, 0, None
    while off < len(payloads):
        if off + 45 > len(payloads):
            raise Failure("payloads.bin ends inside a part header")
        pos, kind = struct.unpack(">QB", payloads[off:off + 9])
        salt = payloads[off + 9:off + 41]
        (length,) = struct.unpack(">I", payloads[off + 41:off + 45])
        if kind not in (0, 1) or (last is not None and (pos, kind) <= last) or off + 45 + length > len(payloads):
            raise Failure("payloads.bin is out of order, duplicated or truncated")
        parts[(pos, kind)] = (salt, payloads[off + 45:off + 45 + length])
        last = (pos, kind)
        off += 45 + length

    entries, off, position, streams, checked, missing = read("entries.bin"), 0, frm, {}, 0, []
    while off < len(entries):
        (length,) = struct.unpack(">I", entries[off:off + 4])
        record = entries[off + 4:off + 4 + length]
        if len(record) != length:
            raise Failure(f"entries.bin ends inside entry {position}")
        r = parse_record(record)
        if r["position"] != position or r["origin"] != origin:
            raise Failure(f"entry {position}: wrong position or origin")
        prev = streams.get(r["stream"])
        if prev and (r["version"] != prev[0] + 1 or r["previous"] != prev[1]):
            raise Failure(f"entry {position}: stream {r['stream']} breaks its chain")
        if not prev and r["version"] == 1 and r["previous"] is not None:
            raise Failure(f"entry {position}: version 1 names a previous position")
        streams[r["stream"]] = (r["version"], position)
        frontier.append(leaf_hash(record))
        if frontier.size in roots and frontier.root() != roots[frontier.size]:
            raise Failure(f"the entries up to {frontier.size} do not give checkpoint {frontier.size}'s root")
        for kind, commitment, plen in r["parts"]:
            part = parts.pop((position, kind), None)
            if part is None:
                # Facts are never erased; a personal part only when the record names its data subject.
                if kind == 0 or not is_uuid(r["metadata"].get("subject")):
                    raise Failure(f"entry {position}: a payload part is missing and cannot have been erased")
                missing.append(f"{position}/personal")
                continue
            salt, data = part
            if len(data) != plen or sha256(salt, data) != commitment:
                raise Failure(f"entry {position}: a payload part does not match its commitment")
            checked += 1
        off += 4 + length
        position += 1
    if position != to:
        raise Failure(f"entries end at {position}, not at to_size {to}")
    if parts:
        raise Failure("payloads.bin holds parts of no entry")
    return to - frm, len(roots), checked, missing


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("bundle")
    parser.add_argument("--vkey", required=True, help="the log's verifier key, or a file holding it")
    parser.add_argument("--trusted", help="a checkpoint note kept earlier")
    args = parser.parse_args()
    vkey = open(args.vkey).read() if os.path.exists(args.vkey) else args.vkey
    try:
        entries, checkpoints, parts, missing = verify_bundle(args.bundle, vkey, args.trusted)
    except (Failure, ValueError, KeyError, UnicodeDecodeError, struct.error) as error:
        print(f"bundle {args.bundle}: FAILED: {error}", file=sys.stderr)
        return 1
    print(f"bundle verified: {entries} entries, {checkpoints} checkpoints, {parts} payload parts"
          + (f", {len(missing)} absent (erased) parts" if missing else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
