"""Append records (payments, messages) to the books: one YAML flow mapping per line, never rewritten.

One entry per line keeps the history readable in `git log -p` and lets git's union merge keep both
sides when two branches append. The file is replaced atomically: a crash leaves it as it was, or
with every new entry whole.
"""

from __future__ import annotations

import itertools
import os
import re
import shutil
import tempfile
from collections.abc import Iterable
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
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    count = 1
    try:
        with os.fdopen(handle, "wb") as out:
            if path.exists():
                with path.open("rb") as existing:
                    shutil.copyfileobj(existing, out)
                    if existing.tell() and _last_byte(existing) != b"\n":
                        out.write(b"\n")
            out.write(first.encode("utf-8"))
            while batch := list(itertools.islice(lines, _BATCH)):
                out.write("".join(batch).encode("utf-8"))
                count += len(batch)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return count


_BATCH = 10_000  # lines encoded and written at a time


def _last_byte(handle: BinaryIO) -> bytes:
    handle.seek(-1, os.SEEK_END)
    return handle.read(1)
