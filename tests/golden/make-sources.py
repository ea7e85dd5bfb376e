#!/usr/bin/python3
"""Writes the golden source trees (seeded, the same bytes on every machine): float32 and bfloat16 tensors small
enough to keep in git, yet above the 16 KiB below which baton does not try the float codecs."""
import os
import random
import struct
import sys


def float32(seed, count, sigma):
    r = random.Random(seed)
    return struct.pack(f"<{count}f", *(r.gauss(0.0, sigma) for _ in range(count)))


def bfloat16(seed, count, sigma):
    wide = float32(seed, count, sigma)
    return b"".join(wide[i + 2:i + 4] for i in range(0, len(wide), 4))


def write(root, path, data):
    full = os.path.join(root, path)
    os.makedirs(os.path.dirname(full), exist_ok=True)
    with open(full, "wb") as f:
        f.write(data)


def main(root):
    config = b"".join(b'{"layers": 4, "width": 64, "step": %d}\n' % i for i in range(30))
    for name, seed in (("alpha-100", 1), ("alpha-200", 2)):
        tree = os.path.join(root, name)
        write(tree, "model.f32", float32(seed, 4500, 0.05))
        write(tree, "optimizer/moments.bf16", bfloat16(seed + 10, 9000, 0.01))
        write(tree, "config.json", config)
        write(tree, "empty.txt", b"")
    tree = os.path.join(root, "beta-5")
    write(tree, "model.f32", float32(1, 4500, 0.05))  # the same tensor as alpha-100: deduplicated across runs
    write(tree, "head.f32", float32(7, 4500, 2.0))
    write(tree, "seed.bin", random.Random(9).randbytes(1500))  # incompressible: stored raw (codec 0)
    write(tree, "notes.txt", b"beta run, step 5\n" * 20)


if __name__ == "__main__":
    main(sys.argv[1])
