"""``python -m baton ARGS``: runs the native ``baton`` that this package's wheel installed."""

from __future__ import annotations

import os
import sys

from ._binary import find_binary


def main() -> None:
    binary = find_binary()
    if binary is None:
        sys.exit("baton: the baton binary was not found beside this Python (reinstall the baton-ckpt wheel)")
    os.execv(binary, [binary, *sys.argv[1:]])


if __name__ == "__main__":
    main()
