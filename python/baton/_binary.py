"""Where the wheel put the native binary: the scripts folder of the environment the package is installed in."""

from __future__ import annotations

import os
import shutil
import sys
import sysconfig
from typing import Optional


def find_binary() -> Optional[str]:
    """The installed ``baton`` executable, looked for where pip puts a wheel's scripts, then on the PATH."""
    candidates = [sysconfig.get_path("scripts")]
    if sys.version_info >= (3, 10):
        candidates.append(sysconfig.get_path("scripts", sysconfig.get_preferred_scheme("user")))
    else:  # pragma: no cover - older Pythons name the user scheme themselves
        candidates.append(sysconfig.get_path("scripts", f"{os.name}_user"))
    for folder in candidates:
        path = os.path.join(folder, "baton")
        if os.path.isfile(path) and os.access(path, os.X_OK):
            return path
    return shutil.which("baton")
