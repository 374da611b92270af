"""Which invoices a bank credit pays, with certainty or not at all.

In order: an RF reference anywhere in the remittance text (spaces or not, its check digits
holding; `account/references.py` says what each names), then invoice numbers written in it. The
amount is then compared with what was owed on the credit's value date (the account of that day):
in full, one instalment, or the discounted amount within its window; anything else is applied as
a partial payment (or an overpayment), and said so.

A credit that names a client's statement reference, or several invoices, or is (naming nothing)
the exact sum of several open invoices of one client, is spread over them by a stated rule: the
invoices named, else every open one, oldest due first, each up to what settles it today; with
`payments.charges_first`, every invoice's fees and interest before any principal. Anything
left over stays on the last. A credit that names nothing is listed for review with the open
invoices of its amount and currency, best first; never guessed into the books."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from notifier import money
from notifier.account import ClientAccount, InvoiceAccount
from notifier.account import references as refs
from notifier.books.load import Books
from notifier.ledger.terms import invoice_terms
from notifier.payments.statements import BankCredit

_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]*")
SUBSETS_UP_TO = 10  # open invoices of one client looked through for an exact sum
# The account of a client on a day, as `reconcile` has the books so far.
AccountOf = Callable[[str, date], ClientAccount]


@dataclass(frozen=True)
class Allocation:
    """Part of a credit applied to one invoice (and one instalment of a plan, if named)."""

    invoice: str
    minor: int
    plan: str | None = None
    instalment: int | None = None


@dataclass(frozen=True)
class Decision:
    """What to do with a credit: the allocations to record, how it was matched and what a person
    should know (`note`); or, with no allocations, why a person must look at it and the invoices
    they might match it to."""

    allocations: tuple[Allocation, ...] = ()
    how: str = ""
    note: str | None = None
    reason: str = ""
    candidates: tuple[str, ...] = ()
    reference: str | None = None


class BankMatcher:
    """Matches credits against one set of books; built once per import."""

    def __init__(self, books: Books) -> None:
        assert books.settings is not None
        self.settings = books.settings
        clashing = refs.clashes(books)
        self.targets = {r: t for r, t in refs.targets(books) if r not in clashing}
        self.clients = {
            number: invoice.client
            for number, invoice in books.invoices.items()
            if invoice.client in books.clients
        }
        self.currencies = {
            number: invoice_terms(
                books.settings, books.clients[client], books.invoices[number]
            ).currency
            for number, client in self.clients.items()
        }
        self.charges_first = books.settings.payments.charges_first

    def decide(self, credit: BankCredit, account_of: AccountOf) -> Decision:
        named = self._named(credit.remittance)
        if isinstance(named, str):
            return self._review(credit, account_of, named)
        targets, reference = named
        if not targets:
            return self._exact_sum(credit, account_of)
        clients = {t.client for t in targets}
        if len(clients) > 1:
            return self._review(credit, account_of, "its remittance names items of several clients")
        (client,) = clients
        wanted = {t.invoice for t in targets}
        if len(targets) == 1 and None not in wanted:
            return self._single(credit, targets[0], account_of(client, credit.value), reference)
        if any(t.plan is not None for t in targets):
            return self._review(
                credit, account_of, "its remittance names a plan instalment and other items"
            )
        account = account_of(client, credit.value)
        how = f"the statement reference {reference}" if None in wanted else "the invoices it names"
        items = _open_items(account, credit.currency, None if None in wanted else wanted)
        if not items:
            return Decision(
                reason=f"{how.capitalize()}: nothing of it is open in {credit.currency}",
                reference=reference,
            )
        return self._spread(credit, items, how, reference)

    def _named(self, text: str) -> tuple[list[refs.Target], str | None] | str:
        """What the remittance names: RF references the books gave out, else invoice numbers."""
        found: list[refs.Target] = []
        reference = None
        unknown = []
        for runs in refs.found_in(text):
            known = next((r for r in runs if r in self.targets), None)
            if known is None:
                unknown.append(runs[-1] if len(runs) > 1 else runs[0])
                continue
            reference = reference or known
            if self.targets[known] not in found:
                found.append(self.targets[known])
        if found:
            return found, reference
        if unknown and not self._numbers(text):
            return f"its RF reference {unknown[0]} is none the books gave out"
        numbers = self._numbers(text)
        return [refs.Target(self.clients[n], n) for n in numbers], (
            numbers[0] if len(numbers) == 1 else None
        )

    def _numbers(self, text: str) -> list[str]:
        tokens = (token.rstrip("._/-") for token in _TOKEN.findall(text))
        return sorted({t for t in tokens if t in self.clients})

    def _single(
        self, credit: BankCredit, target: refs.Target, account: ClientAccount, reference: str | None
    ) -> Decision:
        assert target.invoice is not None
        how = (
            f"the reference {reference}"
            if reference and reference.startswith("RF")
            else "the invoice number"
        )
        wanted = self.currencies[target.invoice]
        if credit.currency != wanted:
            return Decision(
                reason=f"paid in {credit.currency}, but invoice {target.invoice} is in {wanted}",
                reference=reference,
            )
        invoice = next((i for i in account.invoices if i.number == target.invoice), None)
        if invoice is None or invoice.status.value in ("draft", "void"):
            state = invoice.status.value if invoice else "not issued"
            return Decision(
                reason=f"it pays invoice {target.invoice}, which is {state}", reference=reference
            )
        plan, instalment = target.plan, target.instalment
        active = invoice.state.active_plan
        if plan is not None and active is not None and active.id != plan:
            plan, instalment = None, None  # another plan was chosen: it pays the invoice
        note = _amount_note(credit, invoice, plan, instalment)
        allocation = Allocation(target.invoice, credit.minor, plan, instalment)
        return Decision((allocation,), how, note, reference=reference)

    def _spread(
        self, credit: BankCredit, items: list[InvoiceAccount], how: str, reference: str | None
    ) -> Decision:
        left = credit.minor
        given = dict.fromkeys((i.number for i in items), 0)
        if self.charges_first:
            for item in items:
                take = min(left, item.owed.charges)
                given[item.number] += take
                left -= take
        for item in items:
            take = min(left, max(item.settles - given[item.number], 0))
            given[item.number] += take
            left -= take
        note = None
        if left:
            given[items[-1].number] += left
            note = f"overpaid by {money.format_plain(left, credit.currency)}"
        allocations = tuple(Allocation(n, m) for n, m in given.items() if m > 0)
        if note is None and sum(i.settles for i in items) > credit.minor:
            note = "partial payment: the oldest items first"
        return Decision(allocations, how, note, reference=reference)

    def _exact_sum(self, credit: BankCredit, account_of: AccountOf) -> Decision:
        """A credit naming nothing: spread if it is exactly what several open invoices of one
        client settle (and no single invoice asks that much), else for review."""
        single, several = _same_amount(credit, account_of, self._clients_in(credit.currency))
        if len(several) == 1 and not single:
            return self._spread(
                credit, several[0], f"the exact sum of {len(several[0])} open invoices", None
            )
        reason = "nothing in its remittance names an invoice (no RF reference or invoice number)"
        return Decision(reason=reason, candidates=tuple(single))

    def _clients_in(self, currency: str) -> list[str]:
        return sorted({self.clients[n] for n, c in self.currencies.items() if c == currency})

    def _review(self, credit: BankCredit, account_of: AccountOf, reason: str) -> Decision:
        single, _ = _same_amount(credit, account_of, self._clients_in(credit.currency))
        return Decision(reason=reason, candidates=tuple(single))


def _open_items(
    account: ClientAccount, currency: str, only: set[str | None] | None
) -> list[InvoiceAccount]:
    """The client's open invoices in `currency` (of `only`, if given), oldest due first."""
    items = [
        i
        for i in account.invoices
        if i.status.is_open
        and i.currency == currency
        and i.owed.total > 0
        and (only is None or i.number in only)
    ]
    return sorted(items, key=lambda i: (i.state.due_date, i.number))


def _amount_note(
    credit: BankCredit, invoice: InvoiceAccount, plan: str | None, instalment: int | None
) -> str | None:
    """None if the amount is what the invoice (or instalment) asked on the value date, else what
    it is: a partial payment or an overpayment."""
    asked = {invoice.owed.total, invoice.settles, *(way.amount for way in invoice.ways)}
    if plan is not None:
        option = next((p for p in invoice.state.plans if p.id == plan), None)
        if option is not None:
            asked |= {i.amount for i in option.instalments if i.number == instalment}
    if credit.minor in asked:
        return None
    owed = money.format_plain(invoice.owed.total, credit.currency)
    if credit.minor < invoice.owed.total:
        return (
            f"partial payment: {money.format_plain(credit.minor, credit.currency)} of {owed} owed"
        )
    return f"overpaid: {owed} was owed"


def _same_amount(
    credit: BankCredit, account_of: AccountOf, clients: list[str]
) -> tuple[list[str], list[list[InvoiceAccount]]]:
    """The open invoices that settle for exactly the credit's amount, oldest due first; and each
    set of two or more open invoices of one client that together do."""
    single: list[tuple[object, str]] = []
    several: list[list[InvoiceAccount]] = []
    for client in clients:
        items = _open_items(account_of(client, credit.value), credit.currency, None)
        single += [
            ((i.state.due_date, i.number), i.number)
            for i in items
            if credit.minor in (i.settles, i.owed.total)
        ]
        if len(items) > SUBSETS_UP_TO:
            continue
        for size in range(2, len(items) + 1):
            for chosen in itertools.combinations(items, size):
                if sum(i.settles for i in chosen) == credit.minor:
                    several.append(list(chosen))
    return [number for _, number in sorted(single)], several
