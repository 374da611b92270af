"""Properties of the account of the day, for any invoice, payments and day: what it asks is owed,
a client who sends what it asks owes nothing more (on a plan: nothing late), every way to pay it
offers is still valid, and the card links asked for charge exactly what each way asks."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from notifier import money
from notifier.account import account_of
from notifier.books import schema
from notifier.books.load import Books
from notifier.ledger.state import ledger
from notifier.payments.links import wanted_links
from tests import scratch
from tests.test_ledger_properties import ISSUED, LATE, invoices, major


def books_of(inv: schema.Invoice, payments: list[schema.Payment]) -> Books:
    terms = scratch.settings(late_payment=LATE, early_payment_discount={"percent": 2, "days": 10})
    client = scratch.client()
    return Books(
        root=Path("."),
        settings=terms,
        clients={client.id: client},
        invoices={inv.number: inv},
        payments=payments,
    )


@st.composite
def days_and_payments(draw: st.DrawFn, currency: str) -> tuple[date, list[schema.Payment]]:
    day = ISSUED + timedelta(days=draw(st.integers(min_value=0, max_value=400)))
    payments = []
    for index in range(draw(st.integers(min_value=0, max_value=3))):
        paid_on = ISSUED + timedelta(days=draw(st.integers(min_value=0, max_value=400)))
        chosen: dict[str, Any] = {}
        if index == 0 and draw(st.booleans()):
            chosen = {"plan": "three-monthly", "instalment": 1}
        amount = draw(st.integers(min_value=1, max_value=3_000_000))
        payments.append(
            scratch.payment(paid_on, major(amount, currency), currency=currency, **chosen)
        )
    return day, payments


@given(invoices(), st.data())
@settings(max_examples=200, deadline=None)
def test_what_the_account_asks_settles_and_each_way_to_pay_is_valid(drawn, data):
    fields, currency = drawn
    inv = scratch.invoice(**fields)
    day, payments = data.draw(days_and_payments(currency))
    books = books_of(inv, payments)
    account = account_of(books, day).invoices[inv.number]
    state = account.state

    owed = account.owed
    assert min(owed.principal, owed.fees, owed.interest) >= 0
    assert owed.total == state.balance
    assert 0 <= account.due_now.total <= owed.total
    assert account.due_now.charges == owed.charges

    for way in account.ways:
        if way.id != "full" and not way.chosen:  # a plan offered: its schedule lies ahead
            assert all(i.due_date >= day for i in way.instalments)
            assert state.paid == state.totals.deposit
            assert sum(i.amount for i in way.instalments) == state.totals.to_pay
    assert sorted(wanted_links(account).values()) == sorted(
        way.amount for way in account.ways if way.amount > 0
    )

    if not state.status.is_open:
        assert account.ways == ()
        return
    sent = scratch.payment(day, major(account.pay_now, currency), currency=currency, id="now")
    after = ledger(dataclasses.replace(books, payments=[*payments, sent]), day)[inv.number]
    assert after.overpaid == 0
    assert after.days_overdue == 0
    if state.active_plan is None:
        assert after.balance == 0


@given(invoices(), st.data())
@settings(max_examples=100, deadline=None)
def test_what_is_owed_holds_between_two_claim_days(drawn, data):
    """Interest is claimed monthly: with nothing paid meanwhile, what is owed on one day is what is
    owed on every day until the next claim day (docs/books.md), so a link made on the first still
    charges the right amount."""
    fields, currency = drawn
    inv = scratch.invoice(**fields)
    day, payments = data.draw(days_and_payments(currency))
    payments = [p for p in payments if p.date <= day]
    books = books_of(inv, payments)
    account = account_of(books, day).invoices[inv.number]
    following = account.interest_next
    if following is None or not account.state.status.is_open:
        return
    before = account_of(books, following - timedelta(days=1)).invoices[inv.number]
    assert before.owed == account.owed
    assert money.to_minor(money.to_major(before.owed.total, currency), currency) == (
        account.owed.total
    )


@given(invoices(), invoices(), st.data())
@settings(max_examples=150, deadline=None)
def test_credit_notes_write_offs_and_credit_never_make_anything_owed_negative(first, second, data):
    """Two invoices of one client in one currency, the first perhaps overpaid, the second with a
    credit note and perhaps a write-off: nothing owed is below zero, every invoice's parts add up
    to its whole, the credit used and left add up to what was overpaid, and sending what the
    second's page asks settles it without overpaying."""
    fields, currency = first
    other, _ = second
    inv = scratch.invoice(**fields)
    day, payments = data.draw(days_and_payments(currency))
    later = scratch.invoice(**{**other, "currency": currency, "number": "INV-2", "plans": []})
    total = scratch.state(later, ISSUED).totals.total
    assume(total > 0)
    note = data.draw(st.integers(min_value=1, max_value=total))
    later = later.model_copy(
        update={
            "credit_notes": [
                schema.CreditNote(
                    number="CN-1",
                    date=ISSUED + timedelta(days=data.draw(st.integers(0, 60))),
                    amount=money.to_major(note, currency),
                    reason="Agreed",
                )
            ],
            "write_off": data.draw(
                st.sampled_from(
                    [None, schema.WriteOff(date=day, amount="rest", reason="Small remainder")]
                )
            ),
        }
    )
    books = books_of(inv, payments)
    books.invoices[later.number] = later
    client = account_of(books, day).clients[inv.client]
    states = [i.state for i in client.invoices]
    for account, state in zip(client.invoices, states, strict=True):
        assert min(account.owed.principal, account.owed.fees, account.owed.interest) >= 0
        assert state.overpaid >= 0
        assert state.credit_left >= 0
        assert state.reduced <= state.totals.total
        whole = state.totals.total - state.discount_taken + state.fees + state.interest
        assert whole + state.overpaid == state.paid + state.reduced + state.balance
    used = sum(r.amount for s in states for r in s.reductions if r.kind == "credit")
    left = dict(client.credit).get(currency, 0)
    assert used + left == sum(s.overpaid for s in states)
    second_state = client.invoices[1]
    if not second_state.status.is_open or second_state.pay_now == 0:
        return
    sent = scratch.payment(
        day, major(second_state.pay_now, currency), currency=currency, id="now", invoice="INV-2"
    )
    after = ledger(dataclasses.replace(books, payments=[*payments, sent]), day)["INV-2"]
    assert (after.balance, after.overpaid) == (0, 0)
