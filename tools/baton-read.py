#!/usr/bin/python3
"""An independent reader of Baton repositories (format version 1), written from docs/FORMAT.md alone.

    baton-read.py ls STORE_DIR [RUN] [--password-file FILE]
    baton-read.py restore STORE_DIR RUN TARGET [--sequence N] [--node R] [--password-file FILE]
    baton-read.py cuts FILE MIN_SIZE AVERAGE_SIZE MAX_SIZE SEED     (chunk lengths, as FORMAT.md's chunker cuts)
    baton-read.py decode CODEC RAW_LENGTH ENCODED_FILE OUTPUT_FILE [BASE_FILE]  (one encoded chunk; codec 5 needs its base)

STORE_DIR is a folder store (the repository's objects as files). It needs Python 3 and python3-zstandard; it checks
XXH3 of float-plane chunks when python3-xxhash is installed (the chunk's id is checked either way). Encrypted
repositories (opened with a password) also need python3-cryptography and python3-argon2.
A multi-node snapshot (its manifest has a "group") restores whole, each node's part under node-R/; with --node R only
node R's part, as node R's own directory held it (in the shared layout, the whole tree).
Exit codes: 0 done, 1 the repository is corrupt or unreadable, 2 bad usage or nothing to restore.
"""

import base64
import hashlib
import hmac
import json
import os
import struct
import sys

import zstandard

try:
    import xxhash
except ImportError:  # the SHA-256 of every chunk still proves the bytes
    xxhash = None


class Corrupt(Exception):
    """The repository is damaged or not what the spec says."""


class Usage(Exception):
    """The command line asks for something that does not exist."""


# --- objects -----------------------------------------------------------------------------------------------------

def read_object(store, key):
    with open(os.path.join(store, *key.split("/")), "rb") as f:
        return f.read()


def list_keys(store, prefix):
    """Keys under a '/'-ended prefix, sorted; store temporaries ('.tmp-') left out."""
    folder = os.path.join(store, *prefix.rstrip("/").split("/"))
    keys = []
    for root, _, files in os.walk(folder):
        for name in files:
            if name.startswith(".tmp-"):
                continue
            relative = os.path.relpath(os.path.join(root, name), store).replace(os.sep, "/")
            keys.append(relative)
    return sorted(keys)


def zstd_frame(data, expected=None):
    """One zstd frame; with `expected`, it must decode to exactly that many bytes."""
    try:
        out = zstandard.ZstdDecompressor().decompressobj().decompress(data)
    except zstandard.ZstdError as e:
        raise Corrupt(f"zstd frame is corrupt: {e}")
    if expected is not None and len(out) != expected:
        raise Corrupt(f"zstd frame decodes to {len(out)} bytes, expected {expected}")
    return out


class Keys:
    """The keys of an encrypted repository (FORMAT.md, "Encryption"); KEYS stays None for a plain one."""

    def __init__(self, master):
        self.data = hkdf(master, b"baton/v1/data", 32)
        self.chunk_id = hkdf(master, b"baton/v1/chunk-id", 32)
        self.name = hkdf(master, b"baton/v1/name", 32)

    def open(self, sealed, kind):
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM
        from cryptography.exceptions import InvalidTag
        if len(sealed) < 28:
            raise Corrupt(f"sealed {kind} is too short")
        try:
            return AESGCM(self.data).decrypt(sealed[:12], sealed[12:], kind.encode("ascii"))
        except InvalidTag:
            raise Corrupt(f"sealed {kind} does not open under the repository key (corrupt or forged)")

    def name_in_keys(self, name):
        return hmac.new(self.name, name.encode("utf-8"), hashlib.sha256).digest()[:16].hex()


KEYS = None


def hkdf(secret, info, length, salt=None):
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=salt, info=info).derive(secret)


def unlock(store, config, password_file):
    """The master key, from the first password key slot that the password opens."""
    from argon2.low_level import Type, hash_secret_raw
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    from cryptography.exceptions import InvalidTag
    with open(password_file, "rb") as f:
        password = f.read()
    password = password[:-2] if password.endswith(b"\r\n") else password[:-1] if password.endswith(b"\n") else password
    for key in list_keys(store, "keys/"):
        slot = json.loads(read_object(store, key))
        kdf = slot.get("kdf", {})
        if slot.get("kind") != "password" or kdf.get("algorithm") != "argon2id":
            continue
        if kdf["memoryKiB"] > 4 * 1024 * 1024 or kdf["iterations"] > 64 or kdf["parallelism"] > 16:
            continue  # an unreasonable cost is refused, not run
        kek = hash_secret_raw(password, base64.b64decode(kdf["salt"]), time_cost=kdf["iterations"], memory_cost=kdf["memoryKiB"],
                              parallelism=kdf["parallelism"], hash_len=32, type=Type.ID, version=19)
        if hkdf(kek, b"baton/v1/key-check", 16) != base64.b64decode(slot["check"]):
            continue  # another password
        sealed = base64.b64decode(slot["master"])
        try:
            return AESGCM(kek).decrypt(sealed[:12], sealed[12:], b"baton/key-slot/" + config["id"].encode("ascii"))
        except InvalidTag:
            raise Corrupt(f"{key}: the password matches but the slot does not open (damaged)")
    raise Usage("wrong password: no key slot of the repository opens with it")


def run_folder(run):
    return KEYS.name_in_keys(run) if KEYS else run


def read_metadata(store, key):
    """A metadata object: 'BTNMETA1' codec:u8 sha256(payload):32 payload; codec 1 = zstd frame of JSON, codec 2 the
    same sealed (encrypted repositories only)."""
    data = read_object(store, key)
    if len(data) < 41 or data[:8] != b"BTNMETA1":
        raise Corrupt(f"{key}: not a Baton metadata object")
    codec = data[8]
    payload = data[41:]
    digest = hashlib.sha256(payload).digest()
    if digest != data[9:41]:
        raise Corrupt(f"{key}: checksum mismatch")
    if codec not in (1, 2):
        raise Corrupt(f"{key}: metadata codec {codec} is unknown")
    if (codec == 2) != (KEYS is not None):
        raise Corrupt(f"{key}: {'sealed in a plain' if codec == 2 else 'not sealed in an encrypted'} repository")
    if codec == 2:
        payload = KEYS.open(payload, "baton/metadata")
    document = json.loads(zstd_frame(payload).decode("utf-8"))
    if isinstance(document, dict) and document.get("version", 1) > 1:
        raise Corrupt(f"{key}: version {document['version']} is newer than this reader knows")
    return document, digest.hex()


def open_repository(store, password_file=None):
    global KEYS
    try:
        config = json.loads(read_object(store, "config"))
    except FileNotFoundError:
        raise Usage(f"no Baton repository at {store} (no 'config')")
    if config.get("format") != "baton-repository":
        raise Usage(f"{store} is not a Baton repository")
    if config.get("version", 0) > 1:
        raise Corrupt(f"repository format version {config['version']} is newer than this reader knows")
    encryption = config.get("encryption")
    if encryption is None:
        if config.get("hash") != "sha256":
            raise Corrupt(f"chunk hash {config.get('hash')!r} is unknown")
        return config
    if encryption.get("cipher") != "aes-256-gcm" or config.get("hash") != "hmac-sha256":
        raise Corrupt(f"cipher {encryption.get('cipher')!r} is unknown")
    if password_file is None:
        raise Usage("the repository is encrypted: give its password with --password-file FILE")
    KEYS = Keys(unlock(store, config, password_file))
    return config


# --- snapshots ---------------------------------------------------------------------------------------------------

def runs(store):
    folders = {}
    for key in list_keys(store, "runs/"):
        parts = key.split("/")
        if len(parts) >= 4 and parts[2] == "snapshots":
            folders.setdefault(parts[1], key)
    if KEYS is None:
        return sorted(folders)
    # Encrypted: the folder is a keyed hash of the name, and the name is inside the manifests.
    names = set()
    for folder, key in folders.items():
        name = read_metadata(store, key)[0].get("run", "")
        if KEYS.name_in_keys(name) != folder:
            raise Corrupt(f"{key} names run {name!r}, which does not hash to its folder")
        names.add(name)
    return sorted(names)


def manifests(store, run):
    """Every manifest of a run, fences included, by sequence; each checked against its key."""
    result = []
    prefix = f"runs/{run_folder(run)}/snapshots/"
    for key in list_keys(store, prefix):
        name = key[len(prefix):]
        if len(name) != 10 or not name.isdigit():
            continue
        manifest, digest = read_metadata(store, key)
        if manifest.get("run") != run or manifest.get("sequence") != int(name):
            raise Corrupt(f"{key} claims to be snapshot {manifest.get('sequence')} of run {manifest.get('run')!r}")
        manifest["_id"] = digest[:16]
        result.append(manifest)
    return sorted(result, key=lambda m: m["sequence"])


def snapshots(store, run):
    """The run's snapshots, oldest first: fences are not snapshots."""
    return [m for m in manifests(store, run) if not m.get("fence", False)]


# --- index and packs ---------------------------------------------------------------------------------------------

def load_index(store):
    """Chunk id -> list of (pack id, offset, length, rawLength, codec); every location kept."""
    index = {}
    for key in list_keys(store, "index/"):
        document, _ = read_metadata(store, key)
        for pack in document.get("packs", []):
            for blob in pack.get("blobs", []):
                location = (pack["id"], blob.get("offset", 0), blob.get("length", 0), blob.get("rawLength", 0), blob.get("codec", 0))
                index.setdefault(blob["id"], []).append(location)
    return index


def pack_key(pack_id):
    return f"data/{pack_id[:2]}/{pack_id}"


def read_range(store, key, offset, length):
    with open(os.path.join(store, *key.split("/")), "rb") as f:
        f.seek(offset)
        data = f.read(length)
    if len(data) != length:
        raise Corrupt(f"{key}: {length} bytes at {offset} run past the end of the pack")
    return data


def read_chunk(store, chunk_id, locations, index=None, as_base=False):
    problems = []
    for pack_id, offset, length, raw_length, codec in locations:
        try:
            encoded = read_range(store, pack_key(pack_id), offset, length)
        except FileNotFoundError:
            problems.append(f"pack {pack_id} is gone")
            continue  # a sweep deleted it; another location may hold the chunk
        if KEYS:
            encoded = KEYS.open(encoded, "baton/blob")
        base = None
        if codec == 5:
            # A delta needs its base, itself never a delta; a plain copy of the chunk may be stored elsewhere.
            base_id = encoded[:32].hex()
            if as_base:
                problems.append("it is a delta, and a delta's base never is (chains are one level deep)")
                continue
            if len(encoded) < 33 or base_id not in (index or {}):
                problems.append(f"it is a delta of chunk {base_id[:16]}, which is not in the repository")
                continue
            try:
                base = read_chunk(store, base_id, index[base_id], index, as_base=True)
            except Corrupt as e:
                problems.append(f"it is a delta of chunk {base_id[:16]}, which cannot be read ({e})")
                continue
        raw = decode(codec, encoded, raw_length, base)
        digest = hmac.new(KEYS.chunk_id, raw, hashlib.sha256) if KEYS else hashlib.sha256(raw)
        if digest.hexdigest() != chunk_id:
            raise Corrupt(f"chunk {chunk_id[:16]} in pack {pack_id[:16]} does not hash to its id")
        return raw
    raise Corrupt(f"chunk {chunk_id[:16]} cannot be read: {'; '.join(problems) or 'not indexed'}")


# --- codecs ------------------------------------------------------------------------------------------------------

def decode(codec, encoded, raw_length, base=None):
    if codec == 5:
        # Codec 5: base id (32) | inner codec | inner bytes; the inner decoding XORed with the base's raw bytes.
        if len(encoded) < 33 or encoded[32] == 5:
            raise Corrupt("delta chunk: bad header")
        if base is None or len(base) != raw_length:
            raise Corrupt("delta chunk: its base is missing or has another length")
        xor = decode(encoded[32], encoded[33:], raw_length)
        return (int.from_bytes(xor, "little") ^ int.from_bytes(base, "little")).to_bytes(raw_length, "little")
    if codec == 0:
        if len(encoded) != raw_length:
            raise Corrupt("raw chunk has the wrong length")
        return encoded
    if codec == 1:
        return zstd_frame(encoded, raw_length)
    if codec in (2, 3):
        return decode_planes(encoded, 4 if codec == 2 else 2, raw_length)
    if codec == 4:
        return decode_segments(encoded, raw_length)
    raise Corrupt(f"chunk codec {codec} is unknown: a newer reader is needed")


def decode_planes(blob, width, n):
    if len(blob) < 10 or blob[0] != 1:
        raise Corrupt("float plane chunk: bad header")
    phase = blob[1]
    if phase >= width or phase + width > n:
        raise Corrupt("float plane chunk: impossible phase")
    (xxh3,) = struct.unpack_from("<Q", blob, 2)
    count = (n - phase) // width
    trailing = (n - phase) % width
    leading_bytes = blob[10:10 + phase]
    trailing_bytes = blob[10 + phase:10 + phase + trailing]
    table = 10 + phase + trailing
    position = table + 5 * width
    if len(blob) < position:
        raise Corrupt("float plane chunk: truncated table")
    planes = [None] * width
    for plane in range(width - 1, -1, -1):  # payloads are stored last plane first
        mode = blob[table + 5 * plane]
        (length,) = struct.unpack_from("<I", blob, table + 5 * plane + 1)
        payload = blob[position:position + length]
        if len(payload) != length:
            raise Corrupt("float plane chunk: payload runs past the end")
        position += length
        if mode == 0:
            if length != count:
                raise Corrupt("float plane chunk: raw plane of the wrong length")
            planes[plane] = payload
        elif mode == 1:
            if length != 1:
                raise Corrupt("float plane chunk: constant plane of the wrong length")
            planes[plane] = payload * count
        elif mode == 2:
            planes[plane] = huffman_decode(payload, count)
        elif mode == 3:
            planes[plane] = zstd_frame(payload, count)
        else:
            raise Corrupt(f"float plane chunk: unknown plane mode {mode}")
    if position != len(blob):
        raise Corrupt("float plane chunk: bytes after the last plane")

    values = bytearray(count * width)
    if width == 4:
        p0, p1, p2, p3 = planes
        values[0::4] = p3
        values[1::4] = p2
        values[2::4] = bytes(((b & 0x7F) | ((e & 1) << 7)) for e, b in zip(p0, p1))
        values[3::4] = bytes(((b & 0x80) | (e >> 1)) for e, b in zip(p0, p1))
    else:
        p0, p1 = planes
        values[0::2] = bytes(((b & 0x7F) | ((e & 1) << 7)) for e, b in zip(p0, p1))
        values[1::2] = bytes(((b & 0x80) | (e >> 1)) for e, b in zip(p0, p1))
    raw = bytes(leading_bytes) + bytes(values) + bytes(trailing_bytes)
    if xxhash is not None and xxhash.xxh3_64_intdigest(raw) != xxh3:
        raise Corrupt("float plane chunk: XXH3 mismatch")
    return raw


def merge_planes(planes, width):
    """Values from their planes (codecs 2, 3 and 4 split them the same way)."""
    count = len(planes[0])
    values = bytearray(count * width)
    p0, p1 = planes[0], planes[1]
    top = width - 1
    values[top - 1::width] = bytes(((b & 0x7F) | ((e & 1) << 7)) for e, b in zip(p0, p1))
    values[top::width] = bytes(((b & 0x80) | (e >> 1)) for e, b in zip(p0, p1))
    if width == 4:
        values[1::4] = planes[2]
        values[0::4] = planes[3]
    return bytes(values)


def decode_segments(blob, n):
    """Codec 4: raw and float segments, each float plane stored with the modes of codec 2 or context rANS."""
    if len(blob) < 9 or blob[0] != 1:
        raise Corrupt("float segment chunk: bad header")
    (xxh3,) = struct.unpack_from("<Q", blob, 1)
    position, out = 9, bytearray()
    while position < len(blob):
        if len(blob) - position < 5:
            raise Corrupt("float segment chunk: truncated segment header")
        kind = blob[position]
        (length,) = struct.unpack_from("<I", blob, position + 1)
        position += 5
        if length == 0 or len(out) + length > n:
            raise Corrupt("float segment chunk: segment runs past the raw length")
        if kind == 0:
            if position + length > len(blob):
                raise Corrupt("float segment chunk: raw segment runs past the end")
            out += blob[position:position + length]
            position += length
            continue
        if kind not in (2, 4) or length % kind:
            raise Corrupt(f"float segment chunk: bad segment kind {kind} or length {length}")
        count = length // kind
        planes = []
        for plane in range(kind):
            if len(blob) - position < 5:
                raise Corrupt("float segment chunk: truncated plane header")
            mode = blob[position]
            (size,) = struct.unpack_from("<I", blob, position + 1)
            payload = blob[position + 5:position + 5 + size]
            if len(payload) != size:
                raise Corrupt("float segment chunk: plane runs past the end")
            position += 5 + size
            if mode == 4:
                exponents = planes[0] if plane > 0 else None
                mask = 0xFF if plane == 0 else 0x80 if plane == 1 else 0
                planes.append(rans_decode(payload, count, exponents, mask))
            else:
                planes.append(plane_payload(mode, payload, count))
        out += merge_planes(planes, kind)
    if len(out) != n:
        raise Corrupt("float segment chunk: segments end before the raw length")
    raw = bytes(out)
    if xxhash is not None and xxhash.xxh3_64_intdigest(raw) != xxh3:
        raise Corrupt("float segment chunk: XXH3 mismatch")
    return raw


def plane_payload(mode, payload, count):
    if mode == 0:
        if len(payload) != count:
            raise Corrupt("float plane: raw plane of the wrong length")
        return bytes(payload)
    if mode == 1:
        if len(payload) != 1:
            raise Corrupt("float plane: constant plane of the wrong length")
        return bytes(payload) * count
    if mode == 2:
        return bytes(huffman_decode(payload, count))
    if mode == 3:
        return zstd_frame(payload, count)
    raise Corrupt(f"float plane: unknown plane mode {mode}")


def rans_decode(payload, count, exponents, mask):
    """Context rANS (FORMAT.md): symbol k under the table of map[((previous symbol) & mask) ^ exponent k]."""
    if len(payload) < 258:
        raise Corrupt("rANS plane: shorter than its header")
    (contexts,) = struct.unpack_from("<H", payload, 0)
    if not 1 <= contexts <= 256:
        raise Corrupt("rANS plane: bad context count")
    context_map = payload[2:258]
    if any(c >= contexts for c in context_map):
        raise Corrupt("rANS plane: map names a missing table")
    position, tables = 258, []
    for _ in range(contexts):
        present = payload[position:position + 32]
        if len(present) != 32:
            raise Corrupt("rANS plane: tables run past the end")
        position += 32
        slots, freq, start, total = bytearray(), {}, {}, 0
        for s in range(256):
            if not present[s >> 3] >> (s & 7) & 1:
                continue
            if position >= len(payload):
                raise Corrupt("rANS plane: tables run past the end")
            f = payload[position]
            position += 1
            if f == 255:
                if position + 2 > len(payload):
                    raise Corrupt("rANS plane: tables run past the end")
                (f,) = struct.unpack_from("<H", payload, position)
                position += 2
                if f < 255:
                    raise Corrupt("rANS plane: escaped frequency below 255")
            if f == 0 or total + f > 4096:
                raise Corrupt("rANS plane: bad frequency")
            freq[s], start[s] = f, total
            slots += bytes([s]) * f
            total += f
        if total != 4096:
            raise Corrupt("rANS plane: frequencies do not sum to 4096")
        tables.append((slots, freq, start))
    if position + 4 > len(payload):
        raise Corrupt("rANS plane: no state")
    (x,) = struct.unpack_from("<I", payload, position)
    position += 4
    if not (1 << 23) <= x < (1 << 31):
        raise Corrupt("rANS plane: impossible state")
    out, previous = bytearray(count), 0
    for k in range(count):
        condition = (previous & mask) ^ (exponents[k] if exponents is not None else 0)
        slots, freq, start = tables[context_map[condition]]
        slot = x & 4095
        s = slots[slot]
        x = freq[s] * (x >> 12) + slot - start[s]
        while x < (1 << 23):
            if position >= len(payload):
                raise Corrupt("rANS plane: stream ends early")
            x = (x << 8) | payload[position]
            position += 1
        out[k] = s
        previous = s
    if x != (1 << 23) or position != len(payload):
        raise Corrupt("rANS plane: stream does not end with its last symbol")
    return bytes(out)


def huffman_decode(payload, count):
    if len(payload) < 140:
        raise Corrupt("Huffman plane: shorter than its header")
    lengths = []
    for i in range(128):
        lengths.append(payload[i] & 0xF)
        lengths.append(payload[i] >> 4)
    if max(lengths) > 11:
        raise Corrupt("Huffman plane: code longer than 11 bits")
    if sum(2 ** (11 - n) for n in lengths if n) != 2 ** 11:
        raise Corrupt("Huffman plane: code lengths do not form a complete code")

    # Canonical codes (RFC 1951, 3.2.2). Codes are packed most significant bit first into a stream read least
    # significant bit first, so the next 11 stream bits, read as a number, hold the code bit-reversed: a table of
    # 2^11 slots maps them to (symbol, length).
    per_length = [0] * 12
    for n in lengths:
        if n:
            per_length[n] += 1
    next_code = [0] * 12
    code = 0
    for n in range(1, 12):
        code = (code + per_length[n - 1]) << 1
        next_code[n] = code
    table = [None] * 2048
    for symbol in range(256):
        n = lengths[symbol]
        if n:
            reversed_code = int(format(next_code[n], f"0{n}b")[::-1], 2)
            next_code[n] += 1
            for slot in range(reversed_code, 2048, 1 << n):
                table[slot] = (symbol, n)

    sizes = struct.unpack_from("<III", payload, 128)
    starts = [140]
    for size in sizes:
        starts.append(starts[-1] + size)
    if starts[3] > len(payload):
        raise Corrupt("Huffman plane: stream lengths run past the plane")
    ends = starts[1:] + [len(payload)]
    segment = (count + 3) // 4
    out = bytearray()
    for k in range(4):
        first, last = min(count, k * segment), min(count, (k + 1) * segment)
        stream = bytes(payload[starts[k]:ends[k]]) + b"\0\0\0"
        total = (ends[k] - starts[k]) * 8
        bit = 0
        for _ in range(last - first):
            i = bit >> 3
            peek = ((stream[i] | (stream[i + 1] << 8) | (stream[i + 2] << 16)) >> (bit & 7)) & 0x7FF
            symbol, n = table[peek]
            bit += n
            if bit > total:
                raise Corrupt("Huffman plane: a stream ends before its last symbol")
            out.append(symbol)
        size = ends[k] - starts[k]
        if (bit + 7) // 8 != size or (bit & 7 and stream[size - 1] >> (bit & 7)):
            raise Corrupt("Huffman plane: a stream has bytes or bits past its last symbol")
    return bytes(out)


# --- restore -----------------------------------------------------------------------------------------------------

def safe_path(target, path):
    parts = path.split("/")
    if path.startswith("/") or any(p in ("", ".", "..") for p in parts):
        raise Corrupt(f"entry path {path!r} is not a safe relative path")
    return os.path.join(target, *parts)


def node_entries(manifest, node):
    """The entries node R restores of a multi-node snapshot: its own part (node layout) or the whole tree (shared)."""
    group = manifest.get("group")
    if not group:
        raise Usage(f"snapshot {manifest['sequence']} was not written by a multi-node group: restore it without --node")
    if not 0 <= node < group.get("nodes", 0):
        raise Usage(f"snapshot {manifest['sequence']} has nodes 0 to {group.get('nodes', 0) - 1}, not {node}")
    entries = manifest.get("entries", [])
    if group.get("layout", "node") == "shared":
        return entries
    prefix = f"node-{node}/"
    return [dict(e, path=e["path"][len(prefix):]) for e in entries if e["path"].startswith(prefix) and len(e["path"]) > len(prefix)]


def restore(store, run, target, sequence=None, node=None):
    taken = snapshots(store, run)
    if sequence is None:
        if not taken:
            raise Usage(f"run {run!r} has no snapshot")
        manifest = taken[-1]
    else:
        matches = [m for m in taken if m["sequence"] == sequence]
        if not matches:
            raise Usage(f"run {run!r} has no snapshot with sequence {sequence}")
        manifest = matches[0]

    index = load_index(store)
    entries = manifest.get("entries", []) if node is None else node_entries(manifest, node)
    missing = [c for e in entries if e.get("kind", 0) == 0 for c in e.get("chunks") or [] if c not in index]
    if missing:
        raise Corrupt(f"{len(missing)} chunk(s) of the snapshot are not indexed, e.g. {missing[0][:16]}")

    os.makedirs(target, exist_ok=True)
    directories = []
    for entry in entries:
        path = safe_path(target, entry["path"])
        kind = entry.get("kind", 0)
        if kind == 1:
            os.makedirs(path, exist_ok=True)
            directories.append((path, entry))
        elif kind == 2:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            link = entry.get("target", "")
            resolved = os.path.normpath(os.path.join(os.path.dirname(path), link))
            if os.path.isabs(link) or os.path.relpath(resolved, target).startswith(".."):
                raise Corrupt(f"link {entry['path']!r} points outside the target")
            os.symlink(link, path)
        elif kind == 0:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            written = 0
            with open(path, "wb") as f:
                for chunk_id in entry.get("chunks") or []:
                    raw = read_chunk(store, chunk_id, index[chunk_id], index)
                    f.write(raw)
                    written += len(raw)
            if written != entry.get("size", 0):
                raise Corrupt(f"{entry['path']}: {written} bytes restored, the manifest says {entry.get('size', 0)}")
            set_attributes(path, entry)
        else:
            raise Corrupt(f"entry {entry['path']!r} has unknown kind {kind}")
    for path, entry in reversed(directories):  # innermost first, after their contents were written
        set_attributes(path, entry)
    return manifest


def set_attributes(path, entry):
    if entry.get("mode", 0):
        os.chmod(path, entry["mode"] & 0o7777)
    ticks = entry.get("mTime", 0)  # 100 ns since the Unix epoch
    os.utime(path, ns=(ticks * 100, ticks * 100))


# --- chunking (a reader does not need it; it shows the spec of the chunker is complete) ------------------------

def gear_table(seed):
    mask = (1 << 64) - 1
    state = seed & mask
    table = []
    for _ in range(256):
        state = (state + 0x9E3779B97F4A7C15) & mask
        z = state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & mask
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & mask
        table.append(z ^ (z >> 31))
    return table


def cuts(data, min_size, average_size, max_size, seed):
    mask64 = (1 << 64) - 1
    gear = gear_table(seed)
    b = average_size.bit_length() - 1
    strict = (mask64 << (64 - (b + 2))) & mask64
    loose = (mask64 << (64 - (b - 2))) & mask64
    lengths = []
    start = 0
    while start < len(data):
        n = len(data) - start
        length = n
        if n > min_size:
            end = min(n, max_size)
            normal = min(end, average_size)
            h = 0
            length = end
            for i in range(min_size, end):
                h = ((h << 1) + gear[data[start + i]]) & mask64
                if h & (strict if i < normal else loose) == 0:
                    length = i + 1
                    break
        lengths.append(length)
        start += length
    return lengths


# --- commands ----------------------------------------------------------------------------------------------------

def ls(store, run=None):
    for name in [run] if run else runs(store):
        for m in snapshots(store, name):
            step = "-" if m.get("step") is None else str(m["step"])
            files = sum(1 for e in m.get("entries", []) if e.get("kind", 0) == 0)
            size = sum(e.get("size", 0) for e in m.get("entries", []) if e.get("kind", 0) == 0)
            print(f"{name}\t{m['sequence']}\t{step}\t{m['_id']}\t{files}\t{size}")


def main(argv):
    password_file = None
    if "--password-file" in argv:
        at = argv.index("--password-file")
        if at + 1 >= len(argv):
            print("baton-read: --password-file needs a FILE", file=sys.stderr)
            return 2
        password_file = argv[at + 1]
        argv = argv[:at] + argv[at + 2:]
    try:
        if len(argv) >= 2 and argv[0] == "ls" and len(argv) <= 3:
            open_repository(argv[1], password_file)
            ls(argv[1], argv[2] if len(argv) == 3 else None)
            return 0
        if len(argv) in (4, 6, 8) and argv[0] == "restore":
            options = {}
            for at in range(4, len(argv), 2):
                if argv[at] not in ("--sequence", "--node") or not argv[at + 1].isdigit() or argv[at] in options:
                    raise Usage("usage: restore STORE_DIR RUN TARGET [--sequence N] [--node R]")
                options[argv[at]] = int(argv[at + 1])
            open_repository(argv[1], password_file)
            manifest = restore(argv[1], argv[2], argv[3], options.get("--sequence"), options.get("--node"))
            print(f"restored {argv[2]} sequence {manifest['sequence']} step {manifest.get('step')} ({manifest['_id']})")
            return 0
        if len(argv) in (5, 6) and argv[0] == "decode":
            with open(argv[3], "rb") as f:
                encoded = f.read()
            base = None
            if len(argv) == 6:
                with open(argv[5], "rb") as f:
                    base = f.read()
            raw = decode(int(argv[1]), encoded, int(argv[2]), base)
            with open(argv[4], "wb") as f:
                f.write(raw)
            return 0
        if len(argv) == 6 and argv[0] == "cuts":
            with open(argv[1], "rb") as f:
                data = f.read()
            print(" ".join(str(n) for n in cuts(data, *(int(a) for a in argv[2:]))))
            return 0
        raise Usage(__doc__.strip().splitlines()[2].strip() + " | " + __doc__.strip().splitlines()[3].strip())
    except Usage as e:
        print(f"baton-read: {e}", file=sys.stderr)
        return 2
    except (Corrupt, OSError, ValueError, KeyError) as e:
        print(f"baton-read: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
