"""The records `remind` writes, appended in place (one write and an fsync per intent or outcome,
not the whole history rewritten each time), and the work a dry run leaves undone."""

from __future__ import annotations

import os
from datetime import UTC, datetime

import pytest
from click.testing import CliRunner

from notifier.books import schema
from notifier.books.checks import check_books
from notifier.books.load import MESSAGES_FILE
from notifier.books.records import append_records
from notifier.cli import cli
from notifier.problems import errors
from notifier.reminders import compose, record
from notifier.reminders.placeholders import history
from tests.scratch import example_books

AT = datetime(2026, 11, 23, 9, tzinfo=UTC)


def records() -> list[schema.Message]:
    return [
        schema.Message(
            id="20261123-acme-friendly",
            at=AT,
            client="acme",
            stage="friendly",
            channel="email",
            items=["INV-1", "INV-2#1"],
            status=status,
            to=["ap@acme.example.com"],
            subject="Reminder: £1,250.00 now due: 'today'",
            note=note,
        )
        for status, note in (("sending", None), ("sent", "refused x@acme.example.com: 550"))
    ]


def test_records_are_appended_as_the_books_write_them(tmp_path):
    """Byte for byte what notifier.books.records writes, without rewriting what is there."""
    ours, theirs = tmp_path / "ours", tmp_path / "theirs"
    for root in (ours, theirs):
        (root / MESSAGES_FILE).parent.mkdir(parents=True)
        (root / MESSAGES_FILE).write_text("# Messages.\n- {id: a, status: sent}", "utf-8")
    before = os.stat(ours / MESSAGES_FILE).st_ino
    for one in records():
        record.append(ours, [one])
        append_records(theirs / MESSAGES_FILE, [one])
    assert (ours / MESSAGES_FILE).read_bytes() == (theirs / MESSAGES_FILE).read_bytes()
    assert os.stat(ours / MESSAGES_FILE).st_ino == before  # the same file, grown


def test_the_first_record_creates_the_file(tmp_path):
    record.append(tmp_path, records()[:1])
    text = (tmp_path / MESSAGES_FILE).read_text("utf-8")
    assert text.startswith("- {id: 20261123-acme-friendly, at: '2026-11-23T09:00:00Z',")
    assert text.count("\n") == 1


def test_a_write_that_fails_leaves_the_file_as_it_was(tmp_path, monkeypatch):
    record.append(tmp_path, records()[:1])
    before = (tmp_path / MESSAGES_FILE).read_bytes()
    real_write = os.write

    def half(handle: int, data: bytes) -> int:  # a disk that fills up half-way
        return real_write(handle, data[: len(data) // 2])

    monkeypatch.setattr(os, "write", half)
    with pytest.raises(OSError, match="bytes written"):
        record.append(tmp_path, records()[1:])
    assert (tmp_path / MESSAGES_FILE).read_bytes() == before

    monkeypatch.setattr(os, "write", real_write)

    def no_sync(handle: int) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "fsync", no_sync)
    with pytest.raises(OSError, match="Input/output"):
        record.append(tmp_path, records()[1:])
    assert (tmp_path / MESSAGES_FILE).read_bytes() == before


def test_a_dry_run_builds_no_message(tmp_path, monkeypatch):
    """The dry run shows subjects and addresses: no Markdown is converted, no MIME written."""

    def refuse(*_: object, **__: object) -> None:
        raise AssertionError("a dry run built a message")

    monkeypatch.setattr(compose, "markdown_html", refuse)
    monkeypatch.setattr(compose, "build_message", refuse)
    root = example_books(tmp_path)
    for day in ("2026-11-23", "2026-12-14"):
        result = CliRunner().invoke(
            cli, ["--root", str(root), "remind", "--as-of", day, "--dry-run"]
        )
        assert result.exit_code == 0, result.output
        assert "email     " in result.stdout


def test_a_task_sheet_lists_each_message_once_with_its_latest_status(tmp_path):
    books, problems = check_books(example_books(tmp_path))
    assert not errors(problems)
    kessler = [m for m in books.messages if m.client == "kessler"]
    seen = history(kessler, "en_GB")
    assert [entry.stage for entry in seen] == list(dict.fromkeys(m.stage for m in kessler))
    assert all(entry.status != "sending" for entry in seen)
    assert history([], "en_GB") == []
