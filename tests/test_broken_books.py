"""Every folder in tests/broken/ is a broken copy of tests/broken/_base; `check` must report it
exactly as its expected.txt says. NOTIFIER_UPDATE_EXPECTED=1 rewrites expected.txt from the tool's
output instead (review the diff before committing it)."""

import os
import resource
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

BROKEN = Path(__file__).parent / "broken"
BASE = BROKEN / "_base"
CASE_FILES = {"expected.txt", "delete.txt"}
CASES = sorted(p.name for p in BROKEN.iterdir() if p.is_dir() and p.name != "_base")
UPDATE = os.environ.get("NOTIFIER_UPDATE_EXPECTED") == "1"


def build(case: str, tmp: Path) -> Path:
    """_base copied to `tmp`, with the case's files laid over it and its delete.txt applied."""
    root = tmp / "books"
    shutil.copytree(BASE, root)
    source = BROKEN / case
    for path in source.rglob("*"):
        if path.is_file() and path.relative_to(source).as_posix() not in CASE_FILES:
            target = root / path.relative_to(source)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
    deletions = source / "delete.txt"
    if deletions.exists():
        for name in deletions.read_text(encoding="utf-8").split():
            (root / name).unlink()
    return root


# What any command may take on these small books, in address space (not memory used: polars alone
# reserves some 400 MB of it on import, and reconcile maps 1.1 GB while using about 120 MB): books
# that would make it take more (an alias bomb) fail the test instead of eating the machine.
MEMORY = 2 << 30
SECONDS = 60


def notifier(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The real command line on the books at `root`, within MEMORY and SECONDS."""
    return subprocess.run(
        [sys.executable, "-m", "notifier", "--root", str(root), *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=SECONDS,
        preexec_fn=_limited,
    )


def _limited() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))


def check(root: Path) -> subprocess.CompletedProcess[str]:
    return notifier(root, "check")


def snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    return {
        path.relative_to(folder).as_posix(): (path.read_bytes(), path.stat().st_mtime_ns)
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def test_base_is_valid(tmp_path: Path) -> None:
    result = check(build("_base", tmp_path))
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.startswith("books OK: ")


@pytest.mark.parametrize("case", CASES)
def test_broken_books_are_reported(case: str, tmp_path: Path) -> None:
    result = check(build(case, tmp_path))
    expected = BROKEN / case / "expected.txt"
    if UPDATE:
        expected.write_text(result.stderr, encoding="utf-8")
    assert result.returncode == 1, result.stderr
    assert result.stdout == ""
    assert result.stderr.splitlines() == expected.read_text(encoding="utf-8").splitlines()


def test_check_never_writes_the_books(tmp_path: Path) -> None:
    root = build("several-errors-one-file", tmp_path)
    before = snapshot(root / "data")
    assert check(root).returncode == 1
    assert snapshot(root / "data") == before
