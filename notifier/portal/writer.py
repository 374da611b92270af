"""The one place that writes the built site: atomic, and only what changed.

A file whose bytes are unchanged is not touched (its modification time stays, so a static host or a
git diff of the output sees nothing). Files an earlier build wrote and this one did not (a client's
old address after `page_rotation`, a removed invoice) are deleted, and only those: the manifest
names them, so nothing else in the output folder is ever removed.

The manifest lists every client's private address, so it is kept beside the output folder, never in
it: static hosts publish every file of the folder, hidden ones included (GitHub Pages' artifact
does)."""

from __future__ import annotations

import os
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
    folders: set[Path] = field(default_factory=set, repr=False)  # known to exist

    def write(self, relative: str, data: bytes | Path) -> None:
        """Put `data` at `relative` under the output folder unless it is already there. A path is
        a finished file to publish as it is (a PDF in the cache): it is linked, not copied."""
        if relative in self.written:
            raise ValueError(f"{relative} is written twice in one build")
        self.written.add(relative)
        target = self.out / relative
        if target.parent not in self.folders:  # made once a build: thousands of files share one
            target.parent.mkdir(parents=True, exist_ok=True)
            self.folders.add(target.parent)
        if isinstance(data, Path):
            if not _same_file(target, data):
                _link_atomically(data, target)
                self.changed.append(relative)
            return
        try:
            found = target.stat()
        except OSError:
            found = None
        if found is None:
            _write_new(target, data)
        elif found.st_size == len(data) and target.read_bytes() == data:
            return
        else:
            write_atomically(target, data)
        self.changed.append(relative)

    def write_cached(self, relative: str, data: bytes, cached: Path) -> None:
        """`write`, then the file also at `cached` (its name in the cache, which must appear only
        whole: a link, made once the file is written). Where the two cannot share a file
        (another file system), the cache gets a copy, written whole."""
        self.write(relative, data)
        try:
            os.link(self.out / relative, cached)
        except FileExistsError:
            pass  # printed meanwhile by another build: the same key, the same PDF
        except OSError:
            write_atomically(cached, data)

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


def _write_new(target: Path, data: bytes) -> None:
    """`data` written straight to `target`, a file that does not exist yet: no temporary name.

    Only a file that replaces another is written through a temporary name and a rename. A new
    one cannot be served half-written: hosts publish the folder once the build is done (README:
    Running it every day; `notifier serve` is a preview), and nothing that a later build trusts
    without reading it can be half-written either: a build forgets the last build's state before
    it writes (see `build_site`), so after a build that was stopped every file is compared byte
    for byte again, and a half-written one is replaced. The cache's files and the bookkeeping,
    which builds do trust by name, are still written whole (`write_atomically`)."""
    try:
        with open(target, "xb") as stream:
            stream.write(data)
    except FileExistsError:  # written meanwhile (another build): replace it whole
        write_atomically(target, data)
    except BaseException:
        target.unlink(missing_ok=True)
        raise


def _same_file(target: Path, source: Path) -> bool:
    """Whether `target` is `source` (the same file, linked) or holds the same bytes."""
    try:
        found, wanted = target.stat(), source.stat()
    except OSError:
        return False
    if (found.st_dev, found.st_ino) == (wanted.st_dev, wanted.st_ino):
        return True
    return found.st_size == wanted.st_size and target.read_bytes() == source.read_bytes()


def _link_atomically(source: Path, target: Path) -> None:
    """`source` at `target` (whose folder exists) as a second name of the same file: no bytes
    written, and readers see the old file or the new one. A copy (written atomically) where the
    two folders cannot share a file (another file system)."""
    try:
        os.link(source, target)  # a new name appears whole: no temporary name needed
        return
    except FileExistsError:
        pass  # replaced below
    except OSError:
        write_atomically(target, source.read_bytes())
        return
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    temporary.unlink(missing_ok=True)  # left by a build that was stopped
    os.link(source, temporary)
    try:
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
