"""Bank statements: each format read by its own module into `BankCredit` records; `read` tells the
format by the file's content, never its name."""

from __future__ import annotations

from pathlib import Path

from notifier.books import schema
from notifier.payments.statements import camt, mapped_csv, mt940, ofx
from notifier.payments.statements.credit import BankCredit, Statement, StatementProblem

__all__ = ["BankCredit", "Statement", "StatementProblem", "is_statement", "read"]

_HEAD = 4096


def _head(path: Path) -> bytes:
    with path.open("rb") as file:
        return file.read(_HEAD).lstrip(b"\xef\xbb\xbf \t\r\n")


def is_statement(path: Path, mapping: schema.BankCsv | None) -> bool:
    """Whether `path` is a bank statement (else it may be a Stripe export)."""
    head = _head(path)
    return (
        camt.looks_like(head)
        or ofx.looks_like(head)
        or mt940.looks_like(head)
        or mapped_csv.looks_like(path, mapping)
    )


def read(path: Path, shown: str, mapping: schema.BankCsv | None) -> Statement:
    """The credits of the statement at `path`, whatever its format (see `is_statement`)."""
    head = _head(path)
    if camt.looks_like(head):
        return camt.read(path, shown)
    if ofx.looks_like(head):
        return ofx.read(path, shown)
    if mt940.looks_like(head):
        return mt940.read(path, shown)
    assert mapping is not None, "is_statement said it was the mapped CSV"
    return mapped_csv.read(path, shown, mapping)
