"""The one place that writes the built site: atomic, and only what changed.

A file whose bytes are unchanged is not touched (its modification time stays, so a static host or a
git diff of the output sees nothing). Files an earlier build wrote and this one did not (a client's
old address after `page_rotation`, a removed invoice) are deleted, and only those: the manifest
names them, so nothing else in the output folder is ever removed.

The manifest lists every client's private address, so it is kept beside the output folder, never in
it: static hosts publish every file of the folder, hidden ones included (GitHub Pages' artifact
does)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from notifier.files import write_atomically

MANIFEST = "manifest"
LEGACY_MANIFEST = ".notifier-manifest"  # where versions before 2026-11-23 kept it: in the site


def bookkeeping(out: Path) -> Path:
    """The folder beside `out` where builds keep what they wrote (`public` → `.public.notifier`)."""
    return out.parent / f".{out.name}.notifier"


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
        write_atomically(target, data)
        self.changed.append(relative)

    def keep(self, relative: str) -> None:
        """Count `relative` as part of this build without touching it: it is as it was (or another
        process of the same build wrote it)."""
        if relative in self.written:
            raise ValueError(f"{relative} is written twice in one build")
        self.written.add(relative)

    def last_build(self) -> list[str]:
        """The files the last finished build wrote."""
        for manifest in (bookkeeping(self.out) / MANIFEST, self.out / LEGACY_MANIFEST):
            if manifest.is_file():
                return manifest.read_text(encoding="utf-8").split()
        return []

    def finish(self) -> None:
        """Remove what the last build wrote and this one did not; record what this one wrote."""
        manifest = bookkeeping(self.out) / MANIFEST
        before = set(self.last_build())
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
            write_atomically(manifest, listing.encode("utf-8"))
        (self.out / LEGACY_MANIFEST).unlink(missing_ok=True)  # it published every address
