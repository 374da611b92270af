"""A sample message's placeholders, for `check` to fill each text in with: what a real message
has, made by the same functions as a real one (`placeholders.common` over the account of the day
of invoices), from a made-up client and invoices in the business's currency. The few values a
composer adds to `common`'s (`deadline`; a task's `phone`, `history` and `bundle`) are added here
as `compose.compose_email` and `tasks.compose_task` add them: keep the two in step.

Two kinds of each: `full`, where every list has entries and every choice is taken once (a plan's
instalment, fees where the business charges them, a payment that settles its invoice and one that
does not, a history), and `lean` (one invoice, not yet due, nothing received)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

from notifier import formatting
from notifier.account import InvoiceAccount, account_of
from notifier.addresses import Secret
from notifier.books import schema
from notifier.books.load import Books
from notifier.reminders.placeholders import common, deadline, history, phone_line
from notifier.reminders.plan import Item, Receipt

# Any day would do: the sample invoices are dated from it.
SAMPLE_DAY = date(2026, 3, 16)
CLIENT_ID = "sample-client"

Kind = Literal["email", "thanks", "task", "owner"]


@dataclass(frozen=True)
class Use:
    """How a text is filled in: for an email stage (with a deadline or not), a thank-you alone, a
    task (read by the business, in its formats), or the owner's email after a run."""

    kind: Kind
    stage: schema.Stage | None  # None for a thank-you alone
    locale: str


def contexts(books: Books, use: Use) -> dict[str, dict[str, Any]]:
    """The placeholders of a `full` and a `lean` sample message for `use`. Raises what the ledger
    raises on settings it cannot work with (which `check` reports on its own)."""
    assert books.settings is not None
    if use.kind == "owner":
        from notifier.reminders.owner import sample_contexts  # the run's own email, made there

        return sample_contexts(books, use.locale)
    day, locale, stage = SAMPLE_DAY, use.locale, use.stage
    client = _client(books.settings, locale)
    states = _accounts(books, client, day)
    secret = Secret.from_environment(None, demo=True)
    assert secret is not None

    def item(number: str, target: str) -> Item:
        assert stage is not None
        return Item(states[number], stage, target)

    partly, fully = _payments(books.settings, day)
    receipts = (Receipt(partly, states["SAMPLE-1"]), Receipt(fully, states["SAMPLE-3"]))
    shapes: dict[str, tuple[tuple[Item, ...], tuple[Receipt, ...]]]
    if use.kind == "thanks":
        shapes = {"full": ((), receipts), "lean": ((), receipts[1:])}
    else:
        full = (item("SAMPLE-1", "SAMPLE-1#2"), item("SAMPLE-2", "SAMPLE-2"))
        shapes = {"full": (full, receipts), "lean": ((item("SAMPLE-4", "SAMPLE-4"),), ())}
    if use.kind == "task":
        shapes = {name: (items, ()) for name, (items, _) in shapes.items()}
    found = {}
    for name, (items, thanked) in shapes.items():
        context = common(books, client, items, thanked, day, secret, locale)
        new_deadline = deadline(stage, day)
        if new_deadline is not None:
            context["deadline"] = formatting.day(new_deadline, locale)
        if use.kind == "task":
            context["phone"] = phone_line(client)
            messages = _history(stage, day) if name == "full" else []
            context["history"] = history(messages, locale)
            context["bundle"] = (
                f"data/records/collections/{CLIENT_ID}.zip" if name == "full" else ""
            )
        found[name] = context
    return found


def _client(settings: schema.Settings, locale: str) -> schema.Client:
    return schema.Client(
        id=CLIENT_ID,
        name="Sample Client Ltd",
        contacts=[
            schema.Contact(
                name="Alex Sample", email="alex@client.example", phone="+44 20 7946 0000"
            )
        ],
        address="1 Sample Street\nSampletown",
        locale=locale,
        currency=settings.business.currency,
    )


def _invoice(number: str, issued: date, due: date, amount: int, **more: Any) -> schema.Invoice:
    return schema.Invoice(
        number=number,
        client=CLIENT_ID,
        issue_date=issued,
        due_date=due,
        lines=[schema.Line(description="Design work", unit_price=Decimal(amount))],
        **more,
    )


def _payments(settings: schema.Settings, day: date) -> tuple[schema.Payment, schema.Payment]:
    currency = settings.business.currency
    return (
        schema.Payment(
            id="sample-payment-1",
            invoice="SAMPLE-1",
            date=day - timedelta(days=42),
            amount=Decimal(600),
            currency=currency,
            plan="custom",
            instalment=1,
        ),
        schema.Payment(
            id="sample-payment-2",
            invoice="SAMPLE-3",
            date=day - timedelta(days=2),
            amount=Decimal(300),
            currency=currency,
            method="card",
        ),
    )


def _accounts(books: Books, client: schema.Client, day: date) -> dict[str, InvoiceAccount]:
    """Four invoices: on a plan with its second instalment late; late; paid in full; not yet due."""
    assert books.settings is not None
    ago = [day - timedelta(days=n) for n in range(100)]
    plan = schema.CustomPlan(
        name="2 instalments",
        instalments=[
            schema.CustomInstalment(due_date=ago[40], amount=Decimal(600)),
            schema.CustomInstalment(due_date=ago[10], amount=Decimal(600)),
        ],
    )
    invoices = (
        _invoice("SAMPLE-1", ago[75], ago[40], 1200, custom_plan=plan),
        _invoice("SAMPLE-2", ago[50], ago[20], 450),
        _invoice("SAMPLE-3", ago[20], day + timedelta(days=10), 300),
        _invoice("SAMPLE-4", ago[27], day + timedelta(days=3), 250),
    )
    sample = Books(
        root=books.root,
        settings=books.settings,
        clients={client.id: client},
        invoices={invoice.number: invoice for invoice in invoices},
        payments=list(_payments(books.settings, day)),
    )
    return account_of(sample, day).invoices


def _history(stage: schema.Stage | None, day: date) -> list[schema.Message]:
    return [
        schema.Message(
            id=f"sample-{stage.name if stage else 'task'}",
            at=datetime(day.year, day.month, day.day, 9, tzinfo=UTC) - timedelta(days=19),
            client=CLIENT_ID,
            stage="friendly",
            channel="email",
            items=["SAMPLE-2"],
            status="sent",
            note="sent to alex@client.example",
        )
    ]
