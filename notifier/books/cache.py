"""A cache of read and validated book files, keyed by their bytes.

Reading 10,000 invoices from YAML and validating them takes seconds; unpickling the result takes a
fraction of that. Each entry is keyed by a file's name, its exact bytes and the code that reads it
(the books package and pydantic's version), so an edited file, or a new version of notifier, is
simply read again; nothing is ever trusted on a file's name, size or time. Entries go in
`.cache/books` beside the books (a folder CI can keep between runs), each written to a temporary
file and renamed, so a crash leaves no half entry; entries no load used are removed afterwards.
"""

from __future__ import annotations

import contextlib
import hashlib
import pickle
from functools import cache
from pathlib import Path
from typing import Any

import pydantic

from notifier.files import write_atomically

_PACKAGE = Path(__file__).resolve().parent.parent
# The code whose output is cached: a change to any of it makes every entry stale.
_SOURCES = ("books/*.py", "problems.py", "money.py")


@cache
def code_digest(sources: tuple[str, ...] = _SOURCES) -> bytes:
    """A digest of pydantic's version and notifier's files matching `sources` (glob patterns)."""
    digest = hashlib.sha256(pydantic.VERSION.encode())
    for pattern in sources:
        for path in sorted(_PACKAGE.glob(pattern)):
            name = path.relative_to(_PACKAGE).as_posix()
            digest.update(name.encode() + b"\0" + path.read_bytes())
    return digest.digest()


class FileCache:
    """Entries for one books folder; `None` for no caching (the results are computed each time)."""

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder
        self.used: set[str] = set()
        self.named: dict[str, tuple[str, str]] = {}  # each file's kind of records and key

    def key(self, name: str, kind: str, raw: bytes) -> str:
        digest = hashlib.sha256(code_digest())
        digest.update(f"{name}\0{kind}\0".encode())
        digest.update(raw)
        found = self.named[name] = (kind, digest.hexdigest())
        return found[1]

    def get(self, key: str) -> Any | None:
        self.used.add(key)
        if self.folder is None:
            return None
        try:
            with open(self.folder / f"{key}.pickle", "rb") as stream:
                return pickle.load(stream)
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError):
            return None  # missing, or written by other code: read the file again

    def put(self, key: str, value: Any) -> None:
        if self.folder is not None:
            self.put_pickled(key, pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))

    def put_pickled(self, key: str, data: bytes) -> None:
        """Keep `data`, a value already pickled (by a worker that had to pickle it anyway)."""
        if self.folder is None:
            return
        with contextlib.suppress(OSError):  # a read-only checkout still works, only slower
            write_atomically(self.folder / f"{key}.pickle", data)

    def prune(self) -> None:
        """Remove the entries this load did not use (yesterday's versions of edited files)."""
        if self.folder is None or not self.folder.is_dir():
            return
        for path in self.folder.glob("*.pickle"):
            if path.stem not in self.used:
                path.unlink(missing_ok=True)
