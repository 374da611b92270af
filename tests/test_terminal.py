"""How notifier talks on a terminal and in a CI log: bars on a terminal only, plain lines in a
log, --quiet keeps only what needs a person, --verbose adds the details."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import shutil
import struct
import subprocess
import sys
import termios
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUILD = ["build", "--demo", "--as-of", "2026-11-23"]


def notifier(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "notifier", "--root", str(ROOT), *args, "--out", str(tmp_path / "public"),
         "--cache", str(tmp_path / "cache")],
        capture_output=True, text=True, check=False,
    )  # fmt: skip


def test_a_log_gets_plain_lines(tmp_path):
    result = notifier(tmp_path, *BUILD)
    assert result.returncode == 0
    assert "\x1b[" not in result.stdout + result.stderr  # no colours, no bars, no cursor moves
    assert result.stdout.startswith("Built 26 pages for 7 clients")


def test_quiet_prints_nothing_when_all_is_well(tmp_path):
    result = notifier(tmp_path, "--quiet", *BUILD)
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
    assert (tmp_path / "public" / "index.html").is_file()


def test_quiet_still_shows_problems(tmp_path):
    books = tmp_path / "books"  # a copy: check keeps what it read in the books' .cache
    shutil.copytree(ROOT / "tests" / "broken" / "not-utf8", books)
    result = subprocess.run(
        [sys.executable, "-m", "notifier", "--root", str(books), "--quiet", "check"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode in (1, 2)
    assert result.stderr != ""


def test_verbose_names_each_file(tmp_path):
    result = notifier(tmp_path, "--verbose", *BUILD)
    wrote = [line for line in result.stdout.splitlines() if line.startswith("  wrote ")]
    assert len(wrote) == 65  # with the logo, the accent's style sheet and a receipt a payment
    assert "  wrote robots.txt" in wrote


def test_a_terminal_gets_a_progress_bar(tmp_path):
    command = [sys.executable, "-m", "notifier", "--root", str(ROOT), *BUILD,
               "--out", str(tmp_path / "public"), "--cache", str(tmp_path / "cache")]  # fmt: skip
    leader, follower = pty.openpty()
    child = subprocess.Popen(
        command, stdout=follower, stderr=follower, env=os.environ | {"TERM": "xterm"}
    )
    os.close(follower)
    seen = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        seen += chunk
    child.wait(timeout=60)
    os.close(leader)
    assert child.returncode == 0
    assert b"Building the pages" in seen
    assert b"Built 26 pages for 7 clients" in seen


REPORT = [sys.executable, "-m", "notifier", "--root", str(ROOT), "report", "--as-of", "2026-11-23"]
# Amounts of the example books' report, as a log and a terminal must show them whole.
AMOUNTS = ["24840.34", "1610712", "1270712", "10450.00", "8596.20"]


def test_a_log_gets_the_report_in_complete_lines(tmp_path):
    # A CI log has no terminal, and its COLUMNS may say 80 or less: no value is cut to fit.
    result = subprocess.run(
        REPORT, capture_output=True, text=True, check=False, env=os.environ | {"COLUMNS": "40"}
    )
    assert result.returncode == 0, result.stderr
    assert "…" not in result.stdout
    assert "\x1b[" not in result.stdout
    for amount in AMOUNTS:
        assert amount in result.stdout
    assert max(map(len, result.stdout.splitlines())) > 80  # as long as the values need


def test_a_narrow_terminal_gets_tables_that_fit_and_cut_nothing(tmp_path):
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 60, 0, 0))  # 60 columns
    child = subprocess.Popen(
        REPORT, stdout=follower, stderr=follower, env=os.environ | {"TERM": "xterm"}
    )
    os.close(follower)
    seen = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
    child.wait(timeout=60)
    os.close(leader)
    text = re.sub(r"\x1b\[[0-9;]*m", "", seen.decode())
    assert child.returncode == 0
    assert "…" not in text
    assert max(map(len, text.splitlines())) <= 60
    assert "Receivables as of 2026-11-23" in text  # a value too wide is folded, never cut ("…")
