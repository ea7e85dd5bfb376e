"""``torch.save`` that never leaves half a checkpoint behind, and commits it to ``baton run``."""

from __future__ import annotations

import os
from typing import Any, Iterable, Optional

from ._commit import PathLike, commit, write_atomically


def save(obj: Any, path: PathLike, step: int, *, files: Optional[Iterable[PathLike]] = None, **kwargs: Any) -> Optional[str]:
    """Saves ``obj`` to ``path`` atomically and commits the checkpoint of ``step``.

    The object is written to a temporary file beside ``path``, flushed to disk, and renamed over ``path``, so a reader
    (or a trainer restarted after a crash) sees the old file or the new one, never a torn one. Then
    :func:`baton.commit` records ``step``: with ``files`` the named files, otherwise the whole checkpoint directory.
    Extra keyword arguments go to ``torch.save``. Returns what :func:`baton.commit` returns.
    """
    import torch  # imported here so that ``import baton`` never needs torch

    target = os.path.abspath(os.fspath(path))
    write_atomically(target, lambda out: torch.save(obj, out, **kwargs), suffix=".pt", sync=True)
    return commit(step, files=files)
