"""Append records (payments, messages) to the books: one YAML flow mapping per line, never rewritten.

One entry per line keeps the history readable in `git log -p` and lets git's union merge keep both
sides when two branches append. The file is replaced atomically: a crash leaves it as it was, or
with every new entry whole.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel


class _Dumper(yaml.SafeDumper):
    """Writes amounts as they are (1200.50, never 1200.5 or a float) and times in ISO 8601."""


def _decimal(dumper: yaml.SafeDumper, value: Decimal) -> yaml.ScalarNode:
    return dumper.represent_scalar("tag:yaml.org,2002:float", str(value))


def _datetime(dumper: yaml.SafeDumper, value: datetime) -> yaml.ScalarNode:
    # Quoted text: PyYAML cannot write a plain scalar holding `:` inside a flow mapping.
    return dumper.represent_str(value.isoformat().replace("+00:00", "Z"))


_Dumper.add_representer(Decimal, _decimal)
_Dumper.add_representer(datetime, _datetime)


def record_line(record: BaseModel) -> str:
    """`- {id: ..., ...}`: the record on one line, fields in schema order, empty fields left out."""
    fields: dict[str, Any] = record.model_dump(mode="python", exclude_none=True)
    fields = {
        k: str(v) if not isinstance(v, str | int | Decimal | date | list) else v
        for k, v in fields.items()
    }
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
    lines = [record_line(record) for record in records]
    if not lines:
        return 0
    existing = path.read_bytes() if path.exists() else b""
    if existing and not existing.endswith(b"\n"):
        existing += b"\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(existing)
            out.write("".join(lines).encode("utf-8"))
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return len(lines)
