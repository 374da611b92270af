"""Writing a file whole or not at all: a temporary file beside it, then a rename."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

# Every temporary file made here, or by notifier.books.records, is named like this, beside the
# file it will replace.
TEMPORARY = ".*.tmp"


def write_atomically(path: Path, data: bytes, mode: int = 0o644) -> None:
    """Put `data` at `path` (its folder made if missing): readers see the old file or the new one,
    never part of one; a failure leaves no temporary file behind."""
    try:
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".tmp")
    except FileNotFoundError:  # made only when missing: a build writes thousands of files
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def remove_leftovers(folder: Path) -> Iterator[Path]:
    """Remove the temporary files (TEMPORARY) in `folder` and below, left there by a process that
    was killed before it could; yield each one removed. Only for a folder no other process is
    writing: the books, while this one holds their lock (notifier.lock)."""
    for path in sorted(folder.rglob(TEMPORARY)):
        if path.is_symlink() or path.is_file():
            path.unlink(missing_ok=True)
            yield path
