"""Bank statements: each format read by its own module into `BankCredit` records; `read` tells the
format by the file's content, never its name (`formats`), and imports only the reader of that
format."""

from __future__ import annotations

from pathlib import Path

from notifier.books import schema
from notifier.payments.statements import mapped_csv
from notifier.payments.statements.credit import BankCredit, Statement, StatementProblem
from notifier.payments.statements.formats import format_of

__all__ = ["BankCredit", "Statement", "StatementProblem", "is_statement", "read"]

_HEAD = 4096


def _head(path: Path) -> bytes:
    with path.open("rb") as file:
        return file.read(_HEAD).lstrip(b"\xef\xbb\xbf \t\r\n")


def is_statement(path: Path, mapping: schema.BankCsv | None) -> bool:
    """Whether `path` is a bank statement (else it may be a Stripe export)."""
    return format_of(_head(path)) is not None or mapped_csv.looks_like(path, mapping)


def read(path: Path, shown: str, mapping: schema.BankCsv | None) -> Statement:
    """The credits of the statement at `path`, whatever its format (see `is_statement`)."""
    # Each reader is imported only when a statement of its format is read.
    found = format_of(_head(path))
    if found == "camt":
        from notifier.payments.statements import camt

        return camt.read(path, shown)
    if found == "ofx":
        from notifier.payments.statements import ofx

        return ofx.read(path, shown)
    if found == "mt940":
        from notifier.payments.statements import mt940

        return mt940.read(path, shown)
    assert mapping is not None, "is_statement said it was the mapped CSV"
    return mapped_csv.read(path, shown, mapping)
