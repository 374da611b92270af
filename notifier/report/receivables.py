"""Where the business stands on a day: receivables aging, DSO, cash in and expected, and each
client's record. Pure: the account of the day in; figures out (minor units per currency).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, fields
from datetime import date, timedelta
from typing import Any

from notifier import money
from notifier.account import (
    Account,
    ClientAccount,
    InvoiceAccount,
    InvoiceState,
    Status,
    signed_minor,
)
from notifier.books import schema

BUCKETS = ("current", "1-30", "31-60", "61-90", "90+")
PERIOD_DAYS = 90  # for DSO and cash collected
HORIZON_DAYS = 30  # for cash expected
WAITING = {"task": "task", "sending": "check"}  # a message's last status that needs a person


@dataclass(frozen=True)
class CurrencyFigures:
    currency: str
    aging: dict[str, int]
    owed: int
    fees_and_interest: int
    sales: int  # invoiced in the period
    collected: int  # received in the period, net of refunds
    expected: int  # falling due in the next HORIZON_DAYS days
    dso: int | None  # days sales outstanding; None without sales in the period
    credited: int = 0  # taken off invoices by credit notes dated in the period
    written_off: int = 0  # given up by write-offs dated in the period
    credit: int = 0  # clients' credit that no invoice has used yet


@dataclass(frozen=True)
class ClientRecord:
    client: str
    name: str
    open_invoices: int
    owed: dict[str, int]
    average_days_late: float | None
    paid_on_time: float | None  # share of paid invoices paid by their due date
    rating: str
    promises_due: tuple[str, ...]  # "NUMBER by DATE"
    disputes: tuple[str, ...]
    paused_until: date | None
    last_message: str | None  # "DATE STAGE (STATUS)"
    credit: dict[str, int] = field(default_factory=dict)  # currency → credit no invoice used
    written_off: tuple[str, ...] = ()  # "NUMBER AMOUNT" of each invoice written off, in part or all


@dataclass(frozen=True)
class OpenTask:
    at: str
    client: str
    kind: str  # "task" (a call, a hand-off) or "check" (sent or not? a person must look)
    stage: str
    items: tuple[str, ...]
    phone: str | None


@dataclass(frozen=True)
class Report:
    as_of: date
    period_start: date
    currencies: tuple[CurrencyFigures, ...]
    clients: tuple[ClientRecord, ...]
    tasks: tuple[OpenTask, ...]
    collected_by_month: dict[str, dict[str, int]] = field(
        default_factory=dict
    )  # currency → YYYY-MM → minor


@dataclass(frozen=True)
class ClientShare:
    """What one client adds to the report: its record, and its part of each currency's sums (its
    invoices' and their payments'). The report is its clients' shares added up, so a build keeps
    each client's share and works out again only those of the clients that changed."""

    record: ClientRecord
    invoiced: tuple[str, ...]  # the currencies of its issued invoices
    aging: dict[str, dict[str, int]]  # currency → bucket → minor
    fees: dict[str, int]
    sales: dict[str, int]
    collected: dict[str, int]
    expected: dict[str, int]
    by_month: dict[str, dict[str, int]]  # currency → YYYY-MM → minor, for the last twelve months
    tasks: tuple[OpenTask, ...]  # its tasks and messages waiting for a person
    credited: dict[str, int] = field(default_factory=dict)
    written_off: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The share as JSON values (tuples become lists when dumped). Field by field, not with
        `asdict`: its deep copies cost half a second for 2,000 clients on every build."""
        record = _fields_of(self.record)
        record["paused_until"] = str(self.record.paused_until) if self.record.paused_until else None
        tasks = [_fields_of(task) for task in self.tasks]
        return {**_fields_of(self), "record": record, "tasks": tasks}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ClientShare:
        record = dict(data["record"])
        paused = record["paused_until"]
        record.update(
            promises_due=tuple(record["promises_due"]),
            disputes=tuple(record["disputes"]),
            written_off=tuple(record["written_off"]),
            paused_until=date.fromisoformat(paused) if paused else None,
        )
        tasks = tuple(OpenTask(**{**task, "items": tuple(task["items"])}) for task in data["tasks"])
        return cls(
            **{
                **data,
                "record": ClientRecord(**record),
                "invoiced": tuple(data["invoiced"]),
                "tasks": tasks,
            }
        )


def bucket(days_overdue: int) -> str:
    if days_overdue <= 0:
        return "current"
    if days_overdue <= 30:
        return "1-30"
    if days_overdue <= 60:
        return "31-60"
    return "61-90" if days_overdue <= 90 else "90+"


def build_report(account: Account) -> Report:
    """The report of the day of `account`, which holds every client."""
    return assemble(account.as_of, list(account.clients), client_shares(account))


def client_shares(account: Account) -> dict[str, ClientShare]:
    """The share of each client of `account`."""
    return {client: _share(found, account.as_of) for client, found in account.clients.items()}


def assemble(as_of: date, clients: list[str], shares: dict[str, ClientShare]) -> Report:
    """The report of `as_of` from the share of each of `clients` (by client id)."""
    start = as_of - timedelta(days=PERIOD_DAYS)
    aging: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(BUCKETS, 0))
    fees: dict[str, int] = defaultdict(int)
    sales: dict[str, int] = defaultdict(int)
    collected: dict[str, int] = defaultdict(int)
    expected: dict[str, int] = defaultdict(int)
    credited: dict[str, int] = defaultdict(int)
    written_off: dict[str, int] = defaultdict(int)
    credit: dict[str, int] = defaultdict(int)
    months = _months(as_of)
    by_month: dict[str, dict[str, int]] = {}
    for client in clients:
        share = shares[client]
        for currency in share.invoiced:
            aging[currency]  # every currency invoiced appears, even when nothing is owed
        for currency, buckets in share.aging.items():
            for name, value in buckets.items():
                aging[currency][name] += value
        for total, part in (
            (fees, share.fees),
            (sales, share.sales),
            (collected, share.collected),
            (expected, share.expected),
            (credited, share.credited),
            (written_off, share.written_off),
            (credit, share.record.credit),
        ):
            for currency, value in part.items():
                total[currency] += value
        for currency, per_month in share.by_month.items():
            found = by_month.setdefault(currency, dict.fromkeys(months, 0))
            for month, value in per_month.items():
                found[month] += value
    figures = []
    for currency in sorted(aging):
        owed = sum(aging[currency].values())
        dso = round(owed * PERIOD_DAYS / sales[currency]) if sales[currency] > 0 else None
        figures.append(
            CurrencyFigures(
                currency,
                dict(aging[currency]),
                owed,
                fees[currency],
                sales[currency],
                collected[currency],
                expected[currency],
                dso,
                credited[currency],
                written_off[currency],
                credit[currency],
            )
        )
    return Report(
        as_of=as_of,
        period_start=start,
        currencies=tuple(figures),
        clients=tuple(shares[client].record for client in clients),
        tasks=tuple(
            sorted((t for c in clients for t in shares[c].tasks), key=lambda task: task.at)
        ),
        collected_by_month=dict(sorted(by_month.items())),
    )


def _issued(state: InvoiceState) -> bool:
    return state.status not in (Status.DRAFT, Status.VOID)


def _share(client: ClientAccount, as_of: date) -> ClientShare:
    """What `client` adds to the report."""
    start = as_of - timedelta(days=PERIOD_DAYS)
    horizon = as_of + timedelta(days=HORIZON_DAYS)
    aging: dict[str, dict[str, int]] = {}
    fees: dict[str, int] = defaultdict(int)
    sales: dict[str, int] = defaultdict(int)
    collected: dict[str, int] = defaultdict(int)
    expected: dict[str, int] = defaultdict(int)
    credited: dict[str, int] = defaultdict(int)
    written_off: dict[str, int] = defaultdict(int)
    invoiced: dict[str, None] = {}
    for invoice in client.invoices:
        state = invoice.state
        if not _issued(state):
            continue
        currency = state.currency
        invoiced[currency] = None
        if invoice.owed.total > 0:
            # Days past the due date, disputed or promised or not: aging is about the money.
            buckets = aging.setdefault(currency, dict.fromkeys(BUCKETS, 0))
            buckets[bucket((as_of - state.due_date).days)] += invoice.owed.total
            fees[currency] += invoice.owed.charges
        if start < state.invoice.issue_date <= as_of:
            sales[currency] += state.totals.total
        if invoice.owed.total > 0 and state.status is not Status.DISPUTED:
            expected[currency] += _falling_due(state, as_of, horizon)
        for reduction in state.reductions:
            if reduction.on > start and reduction.kind == "credit note":
                credited[currency] += reduction.amount
            elif reduction.on > start and reduction.kind == "write-off":
                written_off[currency] += reduction.amount
    months = set(_months(as_of))
    by_month: dict[str, dict[str, int]] = {}
    for invoice in client.invoices:
        currency = invoice.currency
        for payment in invoice.payments:
            if payment.date > start:
                collected[currency] += signed_minor(payment, currency)
            month = payment.date.strftime("%Y-%m")
            if month in months:
                per_month = by_month.setdefault(currency, {})
                per_month[month] = per_month.get(month, 0) + signed_minor(payment, currency)
    own = [invoice for invoice in client.invoices if _issued(invoice.state)]
    return ClientShare(
        _client_record(client, own, as_of),
        tuple(invoiced),
        aging,
        dict(fees),
        dict(sales),
        dict(collected),
        dict(expected),
        by_month,
        _open_tasks(client),
        dict(credited),
        dict(written_off),
    )


def _months(as_of: date) -> list[str]:
    """The last twelve calendar months, `YYYY-MM`, the oldest first."""
    months = []
    year, month = as_of.year, as_of.month
    for _ in range(12):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    months.reverse()
    return months


def _falling_due(state: InvoiceState, as_of: date, horizon: date) -> int:
    """What of this invoice falls due after today and within the horizon, still unpaid."""
    schedule = state.active_plan.instalments if state.active_plan else state.plans[0].instalments
    paid = state.paid - state.totals.deposit + state.reduced
    running, due = 0, 0
    for instalment in schedule:
        running += instalment.amount
        unpaid = max(0, min(instalment.amount, running - paid))
        if as_of < instalment.due_date <= horizon:
            due += unpaid
    return due


def _client_record(client: ClientAccount, own: list[InvoiceAccount], as_of: date) -> ClientRecord:
    """How `client` pays, from its issued invoices `own` and its messages."""
    owed: dict[str, int] = defaultdict(int)
    for invoice in own:
        if invoice.owed.total > 0:
            owed[invoice.currency] += invoice.owed.total
    lateness = [_days_late(invoice) for invoice in own if invoice.status is Status.PAID]
    known = [days for days in lateness if days is not None]
    # Invoices still open and already late count too: a client who never pays is not "on time".
    known += [i.state.days_overdue for i in own if i.state.days_overdue > 0]
    paid_on_time = sum(1 for days in known if days <= 0) / len(known) if known else None
    average = sum(max(0, days) for days in known) / len(known) if known else None
    soon = as_of + timedelta(days=7)
    last = max(client.messages, key=lambda m: m.at, default=None)
    record = client.client
    return ClientRecord(
        client=record.id,
        name=record.name,
        open_invoices=sum(1 for invoice in own if invoice.owed.total > 0),
        owed=dict(sorted(owed.items())),
        average_days_late=round(average, 1) if average is not None else None,
        paid_on_time=round(paid_on_time, 2) if paid_on_time is not None else None,
        rating=_rating(average, paid_on_time, any(i.status is Status.DISPUTED for i in own)),
        promises_due=tuple(
            f"{i.number} by {promise.by}"
            for i in own
            if (promise := i.state.invoice.promise) is not None
            and as_of <= promise.by <= soon
            and i.owed.total > 0
        ),
        disputes=tuple(i.number for i in own if i.status is Status.DISPUTED),
        paused_until=record.pause.until if record.pause and record.pause.until >= as_of else None,
        last_message=f"{last.at.date()} {last.stage} ({last.status})" if last else None,
        credit=dict(client.credit),
        written_off=tuple(
            f"{i.number} {money.format_plain(i.state.reduced_by('write-off'), i.currency)}"
            for i in own
            if i.state.reduced_by("write-off")
        ),
    )


def _days_late(invoice: InvoiceAccount) -> int | None:
    """Days between the last date to pay by and the payment that settled the invoice."""
    state = invoice.state
    schedule = state.active_plan.instalments if state.active_plan else state.plans[0].instalments
    target = state.totals.to_pay - state.discount_taken - state.reduced
    running = 0
    for payment in invoice.payments:
        running += signed_minor(payment, state.currency)
        if running >= target:
            return (payment.date - schedule[-1].due_date).days
    return None  # settled by the deposit alone


def _rating(average: float | None, on_time: float | None, disputed: bool) -> str:
    """A plain word for how a client pays, from their history."""
    if average is None or on_time is None:
        return "new"
    if average <= 3 and on_time >= 0.8 and not disputed:
        return "reliable"
    if average <= 15:
        return "usually on time"
    if average <= 45:
        return "often late"
    return "risky"


def _open_tasks(client: ClientAccount) -> tuple[OpenTask, ...]:
    """The client's tasks not yet done, and messages whose sending was never confirmed, oldest
    first."""
    latest: dict[str, schema.Message] = {}
    for message in client.messages:
        latest[message.id] = message  # a message is recorded once per status; the last one counts
    phone = next((c.phone for c in client.client.contacts if c.phone), None)
    return tuple(
        OpenTask(str(m.at), m.client, WAITING[m.status], m.stage, tuple(m.items), phone)
        for m in sorted(latest.values(), key=lambda m: m.at)
        if m.status in WAITING
    )


def _fields_of(instance: Any) -> dict[str, Any]:
    """A dataclass's fields by name, their values as they are (not copied)."""
    return {f.name: getattr(instance, f.name) for f in fields(instance)}
