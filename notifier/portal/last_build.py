"""What the last build of a site was made from, kept beside it (never in it: see
notifier.portal.writer), so that a build can tell that nothing changed without loading the books.

Light on purpose: `notifier build` imports this before anything heavy, and stops here when the
books, content, theme, date, secret and code are all as they were."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import platform
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

from notifier.addresses import Secret, dashboard_token
from notifier.files import write_atomically
from notifier.portal.writer import SiteWriter, bookkeeping

# Beside the manifest: the last build's inputs, and each client's key, files and PDFs.
STATE = "build.json"
# And each client's share of the dashboard, with what it depends on (read only when building).
SHARES = "dashboard.json"
PACKAGE = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class BuildResult:
    clients: int
    pages: int
    written: int
    changed: tuple[str, ...]
    removed: tuple[str, ...]
    demo: bool
    rendered: int = 0  # clients whose pages were rendered (the others were as they were)


def inputs_digest(root: Path, as_of: date, secret: Secret) -> str:
    """A digest of everything a build reads: every file of data/, content/ and site/, the date,
    the secret (as a token derived from it, never itself) and the code and libraries that render
    (see `code_digest`). Equal digests, equal sites."""
    digest = hashlib.sha256(f"{as_of}\0{dashboard_token(secret)}\0{secret.demo}\0".encode())
    digest.update(code_digest())
    add_files(digest, root, ("data", "content", "site"))
    return digest.hexdigest()


def add_files(digest: Any, root: Path, parts: Iterable[str]) -> None:
    """Every file's name and bytes under the folders `parts` of `root`, into `digest`."""
    for part in parts:
        for path in sorted((root / part).rglob("*")):
            if path.is_file():
                digest.update(path.relative_to(root).as_posix().encode() + b"\0")
                digest.update(hashlib.sha256(path.read_bytes()).digest())


# The libraries whose output is in the site: templates, amounts and dates, Markdown, calendars,
# PDFs. Their versions are read without importing them (`notifier build` stops here when nothing
# changed).
RENDERING_LIBRARIES = (
    "jinja2",
    "markupsafe",
    "babel",
    "markdown",
    "nh3",
    "typst",
    "qrbill",
)


@cache
def code_digest() -> bytes:
    """What makes a site out of the books: the notifier's code, as this process runs it, the
    Python and the versions of `RENDERING_LIBRARIES`. Read once: what is imported does not change
    while the process runs, whatever happens to the files. An upgraded library (Babel's way of
    writing an amount, say) builds every page again, as changed code does."""
    digest = hashlib.sha256()
    for path in sorted(PACKAGE.rglob("*.py")):
        digest.update(path.relative_to(PACKAGE).as_posix().encode() + b"\0" + path.read_bytes())
    for name, version in sorted(installed(RENDERING_LIBRARIES).items()):
        digest.update(f"{name}\0{version}\0".encode())
    digest.update(platform.python_version().encode())
    return digest.digest()


def installed(names: Iterable[str]) -> dict[str, str]:
    """The version of each distribution of `names` installed, by its name in lower case: read from
    the names of the `NAME-VERSION.dist-info` folders (or `.egg-info`) on Python's path, the first
    of each name as the import system finds it. Not with importlib.metadata: importing it costs
    some 60 ms, a sixth of a build with nothing changed."""
    wanted = {_normal(name) for name in names}
    found: dict[str, str] = {}
    for folder in sys.path:
        try:
            entries = os.listdir(folder or ".")
        except OSError:
            continue
        for entry in entries:
            stem, dot, suffix = entry.rpartition(".")
            if not dot or suffix not in ("dist-info", "egg-info"):
                continue
            name, _, version = stem.partition("-")
            name = _normal(name)
            if name in wanted and name not in found:
                found[name] = version.partition("-")[0]  # an egg's name may add `-py3.11`
    return found


def _normal(name: str) -> str:
    """A distribution's name as its folders write it (PEP 503, with `_`): `Jinja2` is `jinja2`."""
    return re.sub(r"[-_.]+", "_", name).lower()


def unchanged(out: Path, inputs: str, demo: bool) -> BuildResult | None:
    """The last build in `out`, if it was made from `inputs` (see `inputs_digest`) and every file
    of it is still in place: a new build would write exactly the same files. Else None."""
    state = read_state(out)
    if state.get("inputs") != inputs:
        return None
    files = SiteWriter(out).last_build()
    if not all(map(Present(out), files)):
        return None
    return BuildResult(state["clients_with_pages"], state["pages"], len(files), (), (), demo)


class Present:
    """Whether a file (a path relative to `out`) is there: tens of thousands are checked per
    build, a dozen in each client's folder, so each folder is listed once rather than each file
    looked up."""

    def __init__(self, out: Path) -> None:
        self.out = str(out)
        self.folders: dict[str, set[str]] = {}

    def __call__(self, relative: str) -> bool:
        folder, _, name = relative.rpartition("/")
        names = self.folders.get(folder)
        if names is None:
            names = self.folders[folder] = set()
            with contextlib.suppress(OSError), os.scandir(f"{self.out}/{folder}") as entries:
                names.update(entry.name for entry in entries if entry.is_file())
        return name in names


def read_state(out: Path) -> dict[str, Any]:
    try:
        state = json.loads((bookkeeping(out) / STATE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return state if isinstance(state, dict) and isinstance(state.get("clients"), dict) else {}


def read_shares(out: Path) -> dict[str, Any]:
    try:
        shares = json.loads((bookkeeping(out) / SHARES).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return shares if isinstance(shares, dict) else {}


def write_shares(out: Path, shares: dict[str, Any]) -> None:
    _keep(bookkeeping(out) / SHARES, shares)


def forget_state(out: Path) -> None:
    """Remove the last build's state: a build that is stopped leaves none, so the next compares
    every file of the site again (see `writer._write_new`)."""
    (bookkeeping(out) / STATE).unlink(missing_ok=True)


def write_state(out: Path, state: dict[str, Any]) -> None:
    """Keep what this build was made from, for the next one (atomically; untouched if the same)."""
    _keep(bookkeeping(out) / STATE, state)


def _keep(path: Path, state: dict[str, Any]) -> None:
    text = json.dumps(state, sort_keys=True, separators=(",", ":"))
    try:
        if path.read_text(encoding="utf-8") == text:
            return
    except OSError:
        pass
    write_atomically(path, text.encode("utf-8"))
