"""Append records (payments, messages) to the books: one YAML flow mapping per line, never rewritten.

One entry per line keeps the history readable in `git log -p` and lets git's union merge keep both
sides when two branches append. The file is replaced atomically: a crash leaves it as it was, or
with every new entry whole.
"""

from __future__ import annotations

import itertools
import mmap
import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, BinaryIO

import yaml
from pydantic import BaseModel


class _Dumper(yaml.SafeDumper):
    """Writes amounts as they are (1200.50, never 1200.5 or a float) and times in ISO 8601."""


def _decimal(dumper: yaml.SafeDumper, value: Decimal) -> yaml.ScalarNode:
    text = str(value)
    # A whole amount (JPY) is an int to YAML; tagged as a float it would be written `!!float '1250000'`.
    whole = text.lstrip("-").isdigit()
    return dumper.represent_scalar(f"tag:yaml.org,2002:{'int' if whole else 'float'}", text)


def _datetime(dumper: yaml.SafeDumper, value: datetime) -> yaml.ScalarNode:
    # Quoted text: PyYAML cannot write a plain scalar holding `:` inside a flow mapping.
    return dumper.represent_str(value.isoformat().replace("+00:00", "Z"))


_Dumper.add_representer(Decimal, _decimal)
_Dumper.add_representer(datetime, _datetime)


_RESOLVER = yaml.resolver.Resolver()
_PLAIN_TEXT = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_./#-]*")
_PLAIN_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?")


def implicit_resolvers() -> dict[str | None, Any]:
    """PyYAML's patterns for plain scalars (true, 1.5, null, ...), by the first character they
    can start with (None: any)."""
    return _RESOLVER.yaml_implicit_resolvers


def plain(value: object) -> str | None:
    """`value` as PyYAML would write it unquoted, or None when that takes more than a glance."""
    if isinstance(value, str):
        # An ASCII identifier (ch_3Mt...) is the commonest shape, and quicker to see than a match.
        if not (value.isascii() and value.isidentifier()) and not _PLAIN_TEXT.fullmatch(value):
            return None
        # PyYAML picks the patterns a plain scalar might match (true, 1.5, null, ...) by its first
        # character; text starting with any other (an id such as ch_..., most names) is text.
        resolvers = implicit_resolvers()
        if value[0] not in resolvers and None not in resolvers:
            return value
        tag = _RESOLVER.resolve(yaml.ScalarNode, value, (True, False))  # type: ignore[no-untyped-call]
        return value if tag == "tag:yaml.org,2002:str" else None
    if isinstance(value, Decimal | int) and not isinstance(value, bool):
        text = str(value)
        return text if _PLAIN_NUMBER.fullmatch(text) else None
    if isinstance(value, date) and not isinstance(value, datetime):
        return value.isoformat()
    return None


def record_line(record: BaseModel) -> str:
    """`- {id: ..., ...}`: the record on one line, fields in schema order, empty fields left out."""
    fields: dict[str, Any] = record.model_dump(mode="python", exclude_none=True)
    fields = {
        k: str(v) if not isinstance(v, str | int | Decimal | date | list) else v
        for k, v in fields.items()
    }
    # Most records hold only ids, amounts and dates: written directly they come out exactly as
    # PyYAML writes them, a hundred times faster (a large import writes a line per payment).
    plain_texts = {key: plain(value) for key, value in fields.items()}
    if all(text is not None for text in plain_texts.values()):
        return "- {" + ", ".join(f"{key}: {text}" for key, text in plain_texts.items()) + "}\n"
    text = yaml.dump(
        fields,
        Dumper=_Dumper,
        default_flow_style=True,
        sort_keys=False,
        allow_unicode=True,
        width=1 << 30,
    )
    return "- " + text.strip() + "\n"


def append_records(path: Path, records: Iterable[BaseModel]) -> int:
    """Add `records` at the end of `path` (created if missing) in one atomic replace; how many."""
    return append_lines(path, (record_line(record) for record in records))


def append_lines(path: Path, lines: Iterable[str]) -> int:
    """Add `lines` (each ending in a newline) at the end of `path` (created if missing) in one
    atomic replace; how many. Streamed: a million lines take no more memory than a thousand."""
    lines = iter(lines)
    first = next(lines, None)
    if first is None:
        return 0
    with PendingLines(path) as pending:
        pending.write(first)
        count = 1
        while batch := list(itertools.islice(lines, _BATCH)):
            pending.write("".join(batch))
            count += len(batch)
        pending.commit()
    return count


class PendingLines:
    """Lines to add at the end of `path`, written as they come to a temporary file beside it that
    starts as a copy of `path`; `commit` puts it in place of `path` in one atomic replace, and
    leaving the `with` block without committing (an error, or nothing to add) removes it: `path`
    is as it was, or has every line added.

    `find` reads back a line written so far, so that what was written need not also be kept in
    memory."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        # Named as notifier.files.TEMPORARY says: a killed run's is removed by the next.
        handle, temporary = tempfile.mkstemp(
            dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"
        )
        self.temporary = Path(temporary)
        self.lines = 0  # how many were added
        try:
            self.out = os.fdopen(handle, "w+b")
            if path.exists():
                with path.open("rb") as existing:
                    shutil.copyfileobj(existing, self.out)
                    if existing.tell() and _last_byte(existing) != b"\n":
                        self.out.write(b"\n")
        except BaseException:
            self.discard()
            raise
        self.start = self.out.tell()  # where the added lines begin

    def __enter__(self) -> PendingLines:
        return self

    def __exit__(self, *_: object) -> None:
        self.discard()

    def write(self, text: str, count: int = 1) -> None:
        """Add `text`: `count` whole lines, each ending in a newline."""
        self.out.write(text.encode("utf-8"))
        self.lines += count

    def find(self, start: str) -> str | None:
        """The first line added that starts with `start` (which holds no newline), or None."""
        self.out.flush()
        size = self.out.seek(0, os.SEEK_END)
        if size == self.start:
            return None
        wanted = start.encode("utf-8")
        with mmap.mmap(self.out.fileno(), size, access=mmap.ACCESS_READ) as written:
            if written[self.start : self.start + len(wanted)] == wanted:
                at = self.start
            else:
                at = written.find(b"\n" + wanted, self.start)
                if at < 0:
                    return None
                at += 1
            end = written.find(b"\n", at)
            return written[at : end + 1].decode("utf-8")

    def added(self) -> Iterator[str]:
        """The lines added so far."""
        self.out.flush()
        with self.temporary.open("rb") as written:
            written.seek(self.start)
            for line in written:
                yield line.decode("utf-8")

    def commit(self) -> None:
        """Put the file with the added lines in place of `path` (nothing happens if none were)."""
        if self.lines:
            self.out.flush()
            os.fsync(self.out.fileno())
            self.out.close()
            os.replace(self.temporary, self.path)
        self.discard()

    def discard(self) -> None:
        """Remove the temporary file; `path` stays as it was (unless committed)."""
        out = getattr(self, "out", None)
        if out is not None and not out.closed:
            out.close()
        self.temporary.unlink(missing_ok=True)


_BATCH = 10_000  # lines encoded and written at a time


def _last_byte(handle: BinaryIO) -> bytes:
    handle.seek(-1, os.SEEK_END)
    return handle.read(1)
