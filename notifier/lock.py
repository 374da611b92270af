"""One command at a time writes the books: an exclusive lock (`fcntl.flock`) on a file beside them.

The kernel lets go of the lock when the process that holds it ends, however it ends, so a run that
was killed never leaves the books locked; the file itself stays (removing it would let a third
process lock a file the second is about to lock).
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

LOCK_FILE = ".notifier.lock"  # in the root folder, beside data/; git ignores it
WAIT_SECONDS = 10.0  # how long a second command waits for the first to finish
_POLL_SECONDS = 0.1

_held: dict[Path, int] = {}  # the lock files this process holds, with their descriptors


class BooksBusy(Exception):
    """Another process holds the books' lock, and did not let go while this one waited."""

    def __init__(self, lock: Path, waited: float) -> None:
        super().__init__(lock, waited)
        self.lock = lock
        self.waited = waited


def lock_path(root: Path) -> Path:
    """The lock file of the books under `root`."""
    return root.resolve() / LOCK_FILE


@contextmanager
def books_locked(root: Path, wait: float | None = None) -> Iterator[None]:
    """Hold the books' lock inside the block, waiting up to `wait` seconds (default WAIT_SECONDS)
    for another process to let go; raise BooksBusy if it does not. Taken again inside the block
    (`run` invokes `remind`), it is already held: nothing more happens."""
    path = lock_path(root)
    if path in _held:
        yield
        return
    handle = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        _acquire(handle, path, WAIT_SECONDS if wait is None else wait)
    except BaseException:
        os.close(handle)
        raise
    _held[path] = handle
    try:
        yield
    finally:
        # Closing lets go of the lock (a forked worker has closed its own copy already).
        if _held.pop(path, None) is not None:
            os.close(handle)


def _acquire(handle: int, path: Path, wait: float) -> None:
    deadline = time.monotonic() + wait
    while True:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() >= deadline:
                raise BooksBusy(path, wait) from None
            time.sleep(_POLL_SECONDS)


def _forget_in_child() -> None:
    """A forked worker closes its copy of the lock's descriptor: the lock then ends with the
    process that took it, even if a worker outlives it for a moment."""
    for handle in _held.values():
        os.close(handle)
    _held.clear()


os.register_at_fork(after_in_child=_forget_in_child)
