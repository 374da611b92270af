"""The one place that writes the built site: atomic, and only what changed.

A file whose bytes are unchanged is not touched (its modification time stays, so a static host or a
git diff of the output sees nothing). Files an earlier build wrote and this one did not (a client's
old address after `page_rotation`, a removed invoice) are deleted, and only those: the manifest
names them, so nothing else in the output folder is ever removed."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

MANIFEST = ".notifier-manifest"


@dataclass
class SiteWriter:
    out: Path
    written: set[str] = field(default_factory=set)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)

    def write(self, relative: str, data: bytes) -> None:
        """Put `data` at `relative` under the output folder unless it is already there."""
        if relative in self.written:
            raise ValueError(f"{relative} is written twice in one build")
        self.written.add(relative)
        target = self.out / relative
        if target.is_file() and target.stat().st_size == len(data) and target.read_bytes() == data:
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".", suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as stream:
                stream.write(data)
            os.chmod(temporary, 0o644)
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        self.changed.append(relative)

    def finish(self) -> None:
        """Remove what the last build wrote and this one did not; record what this one wrote."""
        manifest = self.out / MANIFEST
        before = set(manifest.read_text(encoding="utf-8").split()) if manifest.is_file() else set()
        for relative in sorted(before - self.written):
            path = self.out / relative
            if path.is_file():
                path.unlink()
                self.removed.append(relative)
            parent = path.parent
            while parent != self.out and parent.is_dir() and not any(parent.iterdir()):
                parent.rmdir()
                parent = parent.parent
        listing = "".join(f"{relative}\n" for relative in sorted(self.written))
        if not manifest.is_file() or manifest.read_text(encoding="utf-8") != listing:
            manifest.write_text(listing, encoding="utf-8")
