"""The placeholders a text in `content/reminders/` may use: the contract between the code and the
words. Every amount and date is already formatted in the client's language (its `locale`, else the
business's). Values are plain strings, numbers or lists of small objects; a link (`*.page_url`) is
its address in plain text and a link in HTML. A placeholder used where it is not defined fails the
run (StrictUndefined), it never renders blank.

Every email text (`courtesy`, `friendly`, `follow-up`, `final-notice`, `thanks`, `notice`):
  client.name, client.contact (the person to greet: the first named contact, else client.name)
  business.name, .legal_name, .email, .phone, .address, .website, .tax_id (empty when not given)
  invoices: list, each .number, .issue_date, .due_date, .total, .paid, .amount_due (what to pay now:
    on a plan, every instalment due and at least the next, with fees and interest), .balance (all
    still owed), .fees (late fees and interest within amount_due; "" when none), .days_overdue
    (number), .instalment ("2/3", "2-3/3" for several, or empty), .stage, .page_url
  count (how many invoices: for "this invoice" or "these invoices")
  total_due (what to pay now, all invoices; one amount per currency joined with " + "),
  balance (all still owed), fees_due (fees and interest within total_due; "" when none),
  has_fees (true when there are fees or interest), due_date (the earliest due date),
  days_overdue (the most), today, page_url (the client's page), demo (true: demo page addresses)
  received: list of payments thanked in this message, each .amount, .date, .invoice, .method,
    .balance (what is left on that invoice), .paid_in_full
  Each invoice also says its terms and the ways to pay it (for the invoice's own email, `invoice`):
    .discount (the early-payment discount on offer, "" when none) and .discount_until, .interest_rate
    (a year, once late; "" when none), .reference (for a transfer),
    .card_link (a card payment link for .amount_due, "" when none), .plans (each plan offered:
    .name, in the text's language if the books give it, .first: its first instalment), .bank_accounts (each .account_name, .bank_name, .iban,
    .bic, .sort_code, .account_number, .routing_number, .note; "" when not given)
  deadline: the new deadline; only for a stage with `deadline_days` (final notice and its letter)
Task texts (`call`, `collections`; read by the business, in its language) have all of the above
(in the business's formats) and: phone (names and numbers, one line), history (list, each .date,
.stage, .channel, .status, .items, .note), bundle (the hand-off zip's path, or "").
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cached_property
from typing import Any

from markupsafe import Markup

from notifier import formatting, money
from notifier.account import FULL, InvoiceAccount, PayOption
from notifier.addresses import Secret, absolute, client_page, client_token, invoice_page
from notifier.books import schema
from notifier.books.load import Books
from notifier.reminders.plan import Item, Receipt
from notifier.reminders.render import Dual, link


@dataclass(frozen=True)
class ClientView:
    id: str
    name: str
    contact: str


@dataclass(frozen=True)
class BusinessView:
    name: str
    legal_name: str
    email: str
    phone: str
    address: str
    website: str
    tax_id: str


class InvoiceView:
    """An invoice as the texts see it. Its amounts, dates and page address are formatted when a
    text first reads them: the texts use few of them, and each takes Babel a tenth of a millisecond
    (a run formats thousands)."""

    def __init__(
        self, item: Item, portal: str, token: str, locale: str, business_locale: str
    ) -> None:
        account = item.invoice
        state = account.state
        plan, due = state.active_plan, account.due_instalments
        self.number = account.number
        self.days_overdue = state.days_overdue
        self.instalment = ""
        if plan and due:
            numbers = f"{due[0].number}-{due[-1].number}" if len(due) > 1 else f"{due[0].number}"
            self.instalment = f"{numbers}/{len(plan.instalments)}"
        self.stage = item.stage.name
        self._account, self._portal, self._token, self._locale = account, portal, token, locale
        self._business_locale = business_locale

    @cached_property
    def issue_date(self) -> str:
        return formatting.day(self._account.state.invoice.issue_date, self._locale)

    @cached_property
    def due_date(self) -> str:
        account = self._account
        due = account.due_instalments
        return formatting.day(due[0].due_date if due else account.state.due_date, self._locale)

    @cached_property
    def total(self) -> str:
        return self._amount(self._account.state.totals.total)

    @cached_property
    def paid(self) -> str:
        return self._amount(self._account.state.paid)

    @cached_property
    def amount_due(self) -> str:
        return self._amount(self._account.pay_now)

    @cached_property
    def balance(self) -> str:
        return self._amount(self._account.owed.total)

    @cached_property
    def fees(self) -> str:
        charges = self._account.due_now.charges
        return self._amount(charges) if charges else ""

    @cached_property
    def page_url(self) -> Dual:
        return link(absolute(self._portal, invoice_page(self._token, self.number)))

    @cached_property
    def discount(self) -> str:
        early = self._in_full.discount if self._in_full else None
        return self._amount(early.amount) if early else ""

    @cached_property
    def discount_until(self) -> str:
        early = self._in_full.discount if self._in_full else None
        return formatting.day(early.until, self._locale) if early else ""

    @cached_property
    def interest_rate(self) -> str:
        rate = self._account.interest_rate
        return formatting.percent(rate, self._locale) if rate else ""

    @cached_property
    def reference(self) -> str:
        return self._account.reference

    @cached_property
    def card_link(self) -> Dual:
        ways = self._account.ways
        found = ways[0].link if ways else None
        return link(found.url) if found is not None else NO_LINK

    @cached_property
    def plans(self) -> list[PlanView]:
        return [
            PlanView(
                formatting.name(way.name, self._locale, self._business_locale),
                self._amount(way.amount),
            )
            for way in self._account.ways[1:]
            if not way.chosen
        ]

    @cached_property
    def bank_accounts(self) -> list[BankView]:
        return [
            BankView(
                a.account_name,
                a.bank_name or "",
                a.iban or "",
                a.bic or "",
                a.sort_code or "",
                a.account_number or "",
                a.routing_number or "",
                a.note or "",
            )
            for a in self._account.bank_accounts
        ]

    @property
    def _in_full(self) -> PayOption | None:
        """Paying in full, while the client may (not on a plan chosen)."""
        ways = self._account.ways
        return ways[0] if ways and ways[0].id == FULL else None

    def _amount(self, minor: int) -> str:
        return formatting.amount(minor, self._account.currency, self._locale)


NO_LINK = Dual("", Markup(""))


@dataclass(frozen=True)
class PlanView:
    name: str
    first: str  # the first instalment


@dataclass(frozen=True)
class BankView:
    account_name: str
    bank_name: str
    iban: str
    bic: str
    sort_code: str
    account_number: str
    routing_number: str
    note: str


@dataclass(frozen=True)
class ReceiptView:
    amount: str
    date: str
    invoice: str
    method: str
    balance: str
    paid_in_full: bool


@dataclass(frozen=True)
class HistoryView:
    date: str
    stage: str
    channel: str
    status: str
    items: str
    note: str


def locale_of(books: Books, client: schema.Client) -> str:
    assert books.settings is not None
    return client.locale or books.settings.business.locale


def sums(amounts: Iterable[tuple[int, str]], locale: str) -> str:
    """Amounts added per currency, each formatted, joined with ` + ` (currencies sorted)."""
    totals: dict[str, int] = defaultdict(int)
    for minor, currency in amounts:
        totals[currency] += minor
    return " + ".join(formatting.amount(totals[c], c, locale) for c in sorted(totals))


def common(
    books: Books,
    client: schema.Client,
    items: tuple[Item, ...],
    receipts: tuple[Receipt, ...],
    as_of: date,
    secret: Secret,
    locale: str,
) -> dict[str, Any]:
    """The placeholders every text has (see the module's docstring)."""
    assert books.settings is not None
    business = books.settings.business
    portal = str(business.portal_url)
    token = client_token(secret, client.id, client.page_rotation)
    accounts = [item.invoice for item in items]
    due_amounts = [(a.pay_now, a.currency) for a in accounts]
    fee_amounts = [(a.due_now.charges, a.currency) for a in accounts]
    return {
        "client": ClientView(client.id, client.name, _contact(client)),
        "business": BusinessView(
            business.name,
            business.legal_name or business.name,
            str(business.email),
            business.phone or "",
            business.address.strip(),
            str(business.website or ""),
            business.tax_id or "",
        ),
        "invoices": [InvoiceView(item, portal, token, locale, business.locale) for item in items],
        "count": len({a.number for a in accounts}),
        "total_due": sums(due_amounts, locale),
        "balance": sums(((a.owed.total, a.currency) for a in accounts), locale),
        "fees_due": sums(((m, c) for m, c in fee_amounts if m), locale),
        "has_fees": any(m for m, _ in fee_amounts),
        "due_date": formatting.day(min(_due_date(a) for a in accounts), locale) if accounts else "",
        "days_overdue": max((a.state.days_overdue for a in accounts), default=0),
        "today": formatting.day(as_of, locale),
        "page_url": link(absolute(portal, client_page(token))),
        "demo": secret.demo,
        "received": [_receipt(r, locale) for r in receipts],
    }


def deadline(stage: schema.Stage | None, as_of: date) -> date | None:
    """The final notice's new deadline: `deadline_days` after the day it is sent."""
    if stage is None or stage.deadline_days is None:
        return None
    return as_of + timedelta(days=stage.deadline_days)


def history(messages: Sequence[schema.Message], locale: str) -> list[HistoryView]:
    """Every message and task recorded for a client (`messages`, in the books' order), in the order
    first recorded (the records are appended in time order), each id once with its latest
    status."""
    latest: dict[str, schema.Message] = {}
    for message in messages:
        latest[message.id] = message
    return [
        HistoryView(
            formatting.day(m.at.date(), locale, "medium"),
            m.stage,
            m.channel,
            m.status,
            ", ".join(m.items),
            m.note or "",
        )
        for m in latest.values()
    ]


def phone_line(client: schema.Client) -> str:
    """Who to call and on which number, every contact with a phone."""
    found = [f"{c.name or c.role or client.name} {c.phone}" for c in client.contacts if c.phone]
    return "; ".join(found) or "no phone number in the books"


def _contact(client: schema.Client) -> str:
    named = [c.name for c in client.contacts if c.name and c.email] + [
        c.name for c in client.contacts if c.name
    ]
    return named[0] if named else client.name


def _due_date(account: InvoiceAccount) -> date:
    """The date the money due now on `account` was (or is) due by."""
    due = account.due_instalments
    return due[0].due_date if due else account.state.due_date


def _receipt(receipt: Receipt, locale: str) -> ReceiptView:
    payment, account = receipt.payment, receipt.invoice
    return ReceiptView(
        formatting.amount(_minor(payment, account.currency), payment.currency, locale),
        formatting.day(payment.date, locale),
        payment.invoice,
        payment.method,
        formatting.amount(account.owed.total, account.currency, locale),
        account.owed.total == 0,
    )


def _minor(payment: schema.Payment, currency: str) -> int:
    return money.to_minor(payment.amount, payment.currency or currency)
