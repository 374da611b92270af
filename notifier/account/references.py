"""Structured creditor references (ISO 11649, `RF` and two check digits, at most 25 characters):
what a client writes on a bank transfer, and what the bank carries back on its statement.

Each is derived from the books alone, so the page, the QR code, the PDF and `reconcile` agree:
- an invoice's: its number's letters and digits, `HP-2026-014` → `RF18HP2026014`;
- a plan instalment's: the invoice's, then `P`, the plan's place among the business's `plans`
  (`0` for an invoice's own custom plan) and `I` with the instalment: `RF..HP2026014P1I1` is the
  first instalment of the first plan, and paying it by transfer chooses that plan;
- a client's statement (everything the client owes, at once): the client's id, `RF..KESSLER`.
A number too long to fit keeps its first letters and digits and ends in a digest of the whole.
Two items that come out alike cannot be told apart: `check` reports them (`clashes`).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from notifier.books import schema
from notifier.books.load import Books
from notifier.ledger.terms import invoice_terms

MAX_LENGTH = 25  # the standard's
_BODY = MAX_LENGTH - 4  # after `RF` and the check digits
_DIGEST = 5  # base-36 characters of a digest, for a number too long to keep whole
_NOT_ALNUM = re.compile(r"[^0-9A-Z]")
_DIGITS36 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_BASE_10 = str.maketrans({c: str(n) for n, c in enumerate(_DIGITS36)})  # ISO 7064's A=10 ... Z=35
# An RF reference anywhere in a text: `RF`, two digits, then letters and digits, spaces between.
# (A lookahead: one reference's run of letters may hold the start of the next.)
_IN_TEXT = re.compile(r"(?=(RF\s?[0-9]{2}(?:\s?[0-9A-Z]){1,21}))")


@dataclass(frozen=True)
class Target:
    """What a reference names: a client's statement (`invoice` None), an invoice, or one
    instalment of one of its plans."""

    client: str
    invoice: str | None = None
    plan: str | None = None
    instalment: int | None = None

    def __str__(self) -> str:
        if self.invoice is None:
            return f"the statement of client `{self.client}`"
        if self.plan is None:
            return f"invoice {self.invoice}"
        return f"instalment {self.instalment} of plan `{self.plan}` of invoice {self.invoice}"


def uses_rf(settings: schema.Settings) -> bool:
    """Whether the business asks for RF references (`payments.creditor_reference: rf`)."""
    return settings.payments.creditor_reference == "rf"


def creditor_reference(body: str) -> str:
    """`body` (letters and digits, at most 21) as an RF reference, check digits computed (ISO 7064
    MOD 97-10 over the body followed by `RF`, as ISO 11649 moves the first four characters): each
    letter as its number (A is 10), the whole read as one integer. As python-stdnum's
    `mod_97_10.calc_check_digits`, which converts a character at a time (a tenth of an account
    of 10,000 invoices went there)."""
    return f"RF{98 - int((body + 'RF00').translate(_BASE_10)) % 97:02d}{body}"


def _fitted(text: str, room: int) -> str:
    """`text`'s letters and digits, upper case, in at most `room` characters."""
    body = _NOT_ALNUM.sub("", text.upper())
    if len(body) <= room and body:
        return body
    number = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")
    digest = ""
    for _ in range(_DIGEST):
        number, place = divmod(number, 36)
        digest += _DIGITS36[place]
    return body[: room - _DIGEST] + digest


def invoice_reference(number: str) -> str:
    return creditor_reference(_invoice_body(number))


def instalment_reference(number: str, plan_place: int, instalment: int) -> str:
    """The reference of `instalment` of the plan at `plan_place` (see the module's docstring)."""
    return creditor_reference(_instalment_body(number, plan_place, instalment))


def _invoice_body(number: str) -> str:
    return _fitted(number, _BODY)


def _instalment_body(number: str, plan_place: int, instalment: int) -> str:
    suffix = f"P{_DIGITS36[plan_place]}I{instalment}"
    return _fitted(number, _BODY - len(suffix)) + suffix


def statement_reference(client: str) -> str:
    return creditor_reference(_statement_body(client))


def _statement_body(client: str) -> str:
    return _fitted(client, _BODY)


def plan_place(settings: schema.Settings, plan: str) -> int:
    """A plan's place among the business's plans, from 1; 0 for an invoice's custom plan."""
    places = {p.id: n for n, p in enumerate(settings.plans, 1)}
    return places.get(plan, 0) % len(_DIGITS36)


def grouped(reference: str) -> str:
    """`reference` as people read and type it: in groups of four (`RF18 HP20 2601 4`)."""
    from stdnum import iso11649  # here and below: the account needs only its check digits

    if reference.startswith("RF") and iso11649.is_valid(reference):
        return str(iso11649.format(reference))
    return reference


def targets(books: Books) -> Iterator[tuple[str, Target]]:
    """Every reference the books give out, with what it names: each client's statement, each
    invoice and each instalment of each plan it offers. Nothing if the business turned RF off."""
    for body, target in _bodies(books):
        yield creditor_reference(body), target


def clashes(books: Books) -> dict[str, list[Target]]:
    """The references two or more items of the books would share. Compared by their bodies: the
    check digits are worked out from the body alone, so two references are alike exactly when
    their bodies are (and only a clash needs its check digits, to be named)."""
    found: dict[str, list[Target]] = {}
    for body, target in _bodies(books):
        found.setdefault(body, []).append(target)
    return {creditor_reference(body): named for body, named in found.items() if len(named) > 1}


def bodies(books: Books, invoices: Iterable[schema.Invoice] | None = None) -> list[str]:
    """The bodies of the references (the letters and digits after the check digits) that the
    books give out: of the clients' statements and of every invoice and its instalments, or, of
    `invoices`, only theirs. Two references are alike exactly when their bodies are."""
    return [body for body, _ in _bodies(books, invoices)]


def statement_bodies(books: Books) -> list[str]:
    """The bodies of the references of the clients' statements (see `bodies`)."""
    settings = books.settings
    if settings is None or not uses_rf(settings):
        return []
    return [_statement_body(client.id) for client in books.clients.values()]


def _bodies(
    books: Books, invoices: Iterable[schema.Invoice] | None = None
) -> Iterator[tuple[str, Target]]:
    """`targets` (of `invoices` alone, when given), each with its reference's body instead of
    the whole reference."""
    settings = books.settings
    if settings is None or not uses_rf(settings):
        return
    plans = {plan.id: plan for plan in settings.plans}
    places = {plan: plan_place(settings, plan) for plan in plans}
    if invoices is None:
        for client in books.clients.values():
            yield _statement_body(client.id), Target(client.id)
    for invoice in books.invoices.values() if invoices is None else invoices:
        owner = books.clients.get(invoice.client)
        if owner is None:
            continue
        number = invoice.number
        yield _invoice_body(number), Target(owner.id, number)
        counts = {
            p: plans[p].instalments
            for p in invoice_terms(settings, owner, invoice).plan_ids
            if p in plans
        }
        if invoice.custom_plan is not None:
            counts[invoice.custom_plan.id] = len(invoice.custom_plan.instalments)
        for plan, count in counts.items():
            place = places.get(plan, 0)
            for n in range(1, count + 1):
                yield _instalment_body(number, place, n), Target(owner.id, number, plan, n)


def found_in(text: str) -> list[list[str]]:
    """The RF references that may be written in `text`, spaces or not: at each `RF`, every run of
    the letters and digits after it whose check digits hold, longest first (`Inv RF24 HP20 2601 4
    thanks` gives `RF24HP2026014`, and perhaps a longer run that holds by chance: the books say
    which is theirs, the longest they know)."""
    from stdnum import iso11649

    found: list[list[str]] = []
    for match in _IN_TEXT.finditer(text.upper()):
        compact = re.sub(r"\s", "", match[1])
        runs = [compact[:end] for end in range(len(compact), 4, -1)]
        valid = [run for run in runs if iso11649.is_valid(run)]
        if valid:
            found.append(valid)
    return found
