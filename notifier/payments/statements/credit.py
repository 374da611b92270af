"""What every bank statement reader gives: one neutral record per credit, whatever the format.

A statement's debits are counted, not kept: only money in can pay an invoice."""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

from notifier import money


@dataclass(frozen=True)
class BankCredit:
    """Money in on the business's bank account, as its statement shows it.

    `minor` is the amount in minor units of `currency` (always above zero); `bank_id` is the
    bank's own id of the transaction, or where the format has none a digest of the account, the
    day, the amount and the remittance text (see `digest_id`): stable across statements that
    overlap. `where` is the line (`12`) or the XML element (`/Document/.../Ntry[3]`) it came
    from."""

    source: str
    where: str
    account: str
    booked: date
    value: date
    minor: int
    currency: str
    counterparty: str
    remittance: str
    bank_id: str

    @property
    def amount(self) -> Decimal:
        return money.to_major(self.minor, self.currency)


@dataclass(frozen=True)
class StatementProblem:
    """Why a statement cannot be read: at `path:line`, or (XML) at an element's path."""

    path: str
    where: int | str
    message: str

    def __str__(self) -> str:
        if isinstance(self.where, int):
            return f"{self.path}:{self.where}: {self.message}"
        return f"{self.path}: {self.where}: {self.message}"


@dataclass
class Statement:
    """What one file gave: its credits, what it held that is not a credit (counted, by why), and
    the problems that stop anything of it being imported."""

    path: str
    format: str
    credits: list[BankCredit] = field(default_factory=list)
    ignored: Counter[str] = field(default_factory=Counter)
    problems: list[StatementProblem] = field(default_factory=list)

    def problem(self, where: int | str, message: str) -> None:
        self.problems.append(StatementProblem(self.path, where, message))


class Unreadable(ValueError):
    """A value of a statement that cannot be read; the reader adds where it was."""


def minor_units(text: str | Decimal, currency: str) -> int:
    """`text` (a plain decimal, `.` before the fraction) in minor units of `currency`; raises
    Unreadable for anything else, or more places than the currency has."""
    try:
        amount = text if isinstance(text, Decimal) else Decimal(text.strip())
    except InvalidOperation:
        raise Unreadable(f"`{text}` is not an amount") from None
    if not amount.is_finite():
        raise Unreadable(f"`{text}` is not an amount")
    try:
        return money.to_minor(amount, currency)
    except (money.AmountError, money.CurrencyError) as error:
        raise Unreadable(str(error)) from None


def known_currency(code: str) -> str:
    """`code` if it is an ISO 4217 currency; raises Unreadable otherwise."""
    code = code.strip()
    try:
        money.exponent(code)
    except money.CurrencyError as error:
        raise Unreadable(str(error)) from None
    return code


# What banks write where a reference is mandatory and they have none: not an id. Taken for one,
# every such transfer after the first would look already recorded, and be lost.
_NO_REFERENCE = frozenset({"NOTPROVIDED", "NONREF", "NONE"})


def own_reference(text: str) -> str:
    """The bank's reference `text`, or "" where it says it has none."""
    text = text.strip()
    return "" if text.upper() in _NO_REFERENCE else text


def digest_id(account: str, day: date, minor: int, currency: str, remittance: str) -> str:
    """An id for a transaction whose statement gives none of its own: the same in every statement
    that holds it (so overlapping statements add it once)."""
    what = "\0".join((account, day.isoformat(), str(minor), currency, " ".join(remittance.split())))
    return "bank-" + hashlib.sha256(what.encode()).hexdigest()[:20]


def numbered(credits: list[BankCredit]) -> list[BankCredit]:
    """`credits` with each digest id met again in the same statement made `ID-2`, `ID-3`: two
    transfers alike in every way on one day are two payments (a statement shows a day whole)."""
    seen: dict[str, int] = {}
    found = []
    for credit in credits:
        count = seen[credit.bank_id] = seen.get(credit.bank_id, 0) + 1
        if count > 1:
            credit = BankCredit(**{**credit.__dict__, "bank_id": f"{credit.bank_id}-{count}"})
        found.append(credit)
    return found
