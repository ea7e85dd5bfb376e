"""Baton for Python trainers: say exactly when a checkpoint is complete.

``baton run`` pushes each completed checkpoint of a training run to a store in the background. By default it
guesses when a checkpoint is complete (a file must stay unchanged for a quiet period). A trainer that calls
:func:`commit` right after it saves makes that exact and immediate: the push starts at once, with exactly the files
the call named, as they were at that moment.

The ``baton`` command itself is the native binary that this package's wheel puts on the PATH; ``python -m baton``
runs the same binary.
"""

from ._commit import COMMIT_DIR_ENV, CommitError, commit

__all__ = ["COMMIT_DIR_ENV", "CommitError", "commit", "__version__"]

__version__ = "0.1.0"
