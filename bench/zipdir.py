#!/usr/bin/env python3
"""Zips a checkpoint directory with zipfile.ZIP_DEFLATED, the way a training script commonly saves one."""
import os
import sys
import zipfile


def main(source: str, archive: str) -> None:
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for folder, _, files in os.walk(source):
            for name in sorted(files):
                path = os.path.join(folder, name)
                z.write(path, os.path.relpath(path, os.path.dirname(source)))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
