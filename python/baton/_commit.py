"""Commit records: the trainer's word that a checkpoint is complete.

A record is ``DIR/.baton/commits/step-<step, 20 digits>.json``, written to a temporary name in the same folder and
renamed into place, so ``baton run`` never reads half a record. docs/FORMAT.md ("Commit records") describes it.
"""

from __future__ import annotations

import datetime
import json
import os
import sys
import tempfile
from typing import Iterable, Optional, Union

COMMIT_DIR_ENV = "BATON_COMMIT_DIR"
"""The environment variable ``baton run`` sets to the absolute checkpoint directory it watches."""

RECORDS = os.path.join(".baton", "commits")

PathLike = Union[str, "os.PathLike[str]"]

_noticed = False


class CommitError(ValueError):
    """A commit that cannot be recorded as asked: a negative step, a missing file, a file outside the directory."""


def commit(step: int, files: Optional[Iterable[PathLike]] = None, *, dir: Optional[PathLike] = None) -> Optional[str]:
    """Records that the checkpoint of ``step`` is complete, so that ``baton run`` pushes it at once.

    ``files`` names the checkpoint's files (paths relative to the current directory, or absolute; each must lie inside
    the checkpoint directory). Without ``files`` the snapshot is every file under the directory as it is now, so keep
    logs that grow while training elsewhere. A file that changes after this call fails that push; the next commit
    pushes again.

    ``dir`` is the checkpoint directory; by default the one ``baton run`` watches (``BATON_COMMIT_DIR``). Outside
    ``baton run`` (and with no ``dir``) the call does nothing and says so once on stderr.

    Returns the path of the record written, or ``None`` when nothing was recorded.
    """
    global _noticed
    if isinstance(step, bool) or not isinstance(step, int) or step < 0:
        raise CommitError(f"baton.commit: step must be a whole number >= 0, not {step!r}")
    root = os.fspath(dir) if dir is not None else os.environ.get(COMMIT_DIR_ENV)
    if not root:
        if not _noticed:
            _noticed = True
            print(
                f"baton: not running under `baton run` ({COMMIT_DIR_ENV} is not set); "
                "baton.commit records nothing",
                file=sys.stderr,
            )
        return None
    root = os.path.abspath(root)
    if not os.path.isdir(root):
        raise CommitError(f"baton.commit: the checkpoint directory {root} does not exist")

    entries = _listed(root, files) if files is not None else _everything(root)
    record = {
        "version": 1,
        "step": step,
        "time": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "files": [{"path": path, "size": size} for path, size in entries],
    }
    return _write(root, step, record)


def _listed(root: str, files: Iterable[PathLike]) -> list:
    entries = {}
    for name in files:
        path = os.path.abspath(os.fspath(name))
        relative = os.path.relpath(path, root)
        if relative == os.curdir or relative.startswith(os.pardir + os.sep) or relative == os.pardir:
            raise CommitError(f"baton.commit: {path} is not inside the checkpoint directory {root}")
        if relative.split(os.sep)[0] == ".baton":
            raise CommitError(f"baton.commit: {path} is inside .baton/, which Baton keeps for itself")
        if not os.path.isfile(path):
            raise CommitError(f"baton.commit: {path} is not a file (name the checkpoint's files after saving them)")
        entries[relative.replace(os.sep, "/")] = os.path.getsize(path)
    if not entries:
        raise CommitError("baton.commit: files names no file (pass None to commit the whole directory)")
    return sorted(entries.items())


def _everything(root: str) -> list:
    entries = []
    for folder, subfolders, names in os.walk(root):
        if folder == root:
            subfolders[:] = [s for s in subfolders if s != ".baton"]
        for name in names:
            path = os.path.join(folder, name)
            if os.path.isfile(path) and not os.path.islink(path):
                entries.append((os.path.relpath(path, root).replace(os.sep, "/"), os.path.getsize(path)))
    return sorted(entries)


def _write(root: str, step: int, record: dict) -> str:
    folder = os.path.join(root, RECORDS)
    os.makedirs(folder, exist_ok=True)
    final = os.path.join(folder, f"step-{step:020d}.json")
    write_atomically(final, lambda out: out.write(json.dumps(record, separators=(",", ":")).encode("utf-8")))
    return final


def write_atomically(target: str, write, suffix: str = "", sync: bool = False) -> None:
    """Writes ``target`` through ``write(binary file)`` into a temporary file beside it, then renames it into place,
    so that a reader sees the old file or the new one, never half of one. ``sync`` flushes it to disk first."""
    handle, temporary = tempfile.mkstemp(prefix=".tmp-", suffix=suffix, dir=os.path.dirname(target))
    try:
        with os.fdopen(handle, "wb") as out:
            write(out)
            if sync:
                out.flush()
                os.fsync(out.fileno())
        os.replace(temporary, target)
    except BaseException:
        try:
            os.unlink(temporary)
        except FileNotFoundError:
            pass
        raise
