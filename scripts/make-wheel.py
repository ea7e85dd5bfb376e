"""Assembles the baton-ckpt wheel from a native binary and the pure-Python package (standard library only).

A wheel is a zip file laid out as PEP 427 says; pip installs ``NAME.data/scripts/*`` into the environment's scripts
folder (bin/) with the executable bit set, which is how native tools ship a binary through pip.
"""

import argparse
import base64
import hashlib
import os
import zipfile

NAME = "baton_ckpt"
SUMMARY = "Training that survives its machine: checkpoints pushed as verified, deduplicated snapshots, restored on the next machine"


def digest(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode("ascii")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", required=True)
    parser.add_argument("--package", required=True)
    parser.add_argument("--readme", required=True)
    parser.add_argument("--version", required=True)
    parser.add_argument("--platform", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()

    dist_info = f"{NAME}-{args.version}.dist-info"
    data = f"{NAME}-{args.version}.data"
    wheel_name = f"{NAME}-{args.version}-py3-none-{args.platform}.whl"
    with open(args.readme, encoding="utf-8") as readme:
        description = readme.read()

    files = []  # (archive name, bytes, unix mode)
    for folder, subfolders, names in os.walk(args.package):
        subfolders[:] = sorted(s for s in subfolders if s != "__pycache__")
        for name in sorted(names):
            if name.endswith(".py") or name == "py.typed":
                path = os.path.join(folder, name)
                relative = os.path.relpath(path, os.path.dirname(args.package)).replace(os.sep, "/")
                with open(path, "rb") as source:
                    files.append((relative, source.read(), 0o644))
    with open(args.binary, "rb") as source:
        files.append((f"{data}/scripts/baton", source.read(), 0o755))

    metadata = "\n".join([
        "Metadata-Version: 2.1",
        "Name: baton-ckpt",
        f"Version: {args.version}",
        f"Summary: {SUMMARY}",
        "License: MIT",
        "Requires-Python: >=3.8",
        "Classifier: Programming Language :: Python :: 3",
        "Classifier: Operating System :: POSIX :: Linux",
        "Description-Content-Type: text/markdown",
        "",
        description,
    ])
    wheel = "\n".join([
        "Wheel-Version: 1.0",
        "Generator: baton scripts/make-wheel.py",
        "Root-Is-Purelib: false",
        f"Tag: py3-none-{args.platform}",
        "",
    ])
    files.append((f"{dist_info}/METADATA", metadata.encode("utf-8"), 0o644))
    files.append((f"{dist_info}/WHEEL", wheel.encode("utf-8"), 0o644))
    files.append((f"{dist_info}/top_level.txt", b"baton\n", 0o644))

    record_name = f"{dist_info}/RECORD"
    record = "".join(f"{name},{digest(content)},{len(content)}\n" for name, content, _ in files)
    record += f"{record_name},,\n"
    files.append((record_name, record.encode("utf-8"), 0o644))

    target = os.path.join(args.out, wheel_name)
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, content, mode in files:
            info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
            info.external_attr = (0o100000 | mode) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, content)
    print(target)


if __name__ == "__main__":
    main()
