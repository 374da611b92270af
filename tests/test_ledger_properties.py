"""Properties of the ledger that must hold for any books, not just the examples."""

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from notifier import money
from notifier.ledger.state import Status, settlement
from tests import scratch

ISSUED = date(2026, 1, 15)
CURRENCIES = ["GBP", "JPY", "BHD", "EUR"]
LATE = {
    "regime": "contractual",
    "fee": {"GBP": 25, "JPY": 4000, "BHD": "10.000", "EUR": 30},
    "annual_interest": "8%",
}


def major(minor: int, currency: str) -> str:
    return str(money.to_major(minor, currency))


@st.composite
def invoices(draw: st.DrawFn) -> tuple[dict[str, Any], str]:
    currency = draw(st.sampled_from(CURRENCIES))
    lines = [
        {
            "description": f"Line {i}",
            "quantity": str(draw(st.decimals(min_value=Decimal("0.25"), max_value=40, places=2))),
            "unit_price": major(draw(st.integers(min_value=1, max_value=5_000_000)), currency),
            "tax_rate": draw(st.sampled_from(["0", "5.5", "20"])),
        }
        for i in range(draw(st.integers(min_value=1, max_value=4)))
    ]
    fields: dict[str, Any] = {
        "currency": currency,
        "issue_date": ISSUED,
        "due_date": ISSUED + timedelta(days=draw(st.integers(min_value=0, max_value=60))),
        "lines": lines,
        "plans": ["three-monthly"],
    }
    if draw(st.booleans()):
        fields["discount"] = {"percent": str(draw(st.integers(min_value=1, max_value=30)))}
    return fields, currency


@given(invoices(), st.data())
@settings(max_examples=150, deadline=None)
def test_paid_plus_balance_is_total_plus_fees(drawn, data):
    fields, currency = drawn
    terms = scratch.settings(late_payment=LATE, early_payment_discount={"percent": 2, "days": 10})
    inv = scratch.invoice(**fields)
    total = scratch.state(inv, ISSUED, books=terms).totals.total
    payments = [
        scratch.payment(
            ISSUED + timedelta(days=data.draw(st.integers(min_value=0, max_value=200))),
            major(data.draw(st.integers(min_value=1, max_value=max(1, total))), currency),
            currency=currency,
            kind=data.draw(st.sampled_from(["payment", "payment", "refund"])),
        )
        for _ in range(data.draw(st.integers(min_value=0, max_value=4)))
    ]
    as_of = ISSUED + timedelta(days=data.draw(st.integers(min_value=0, max_value=400)))
    now = scratch.state(inv, as_of, payments, books=terms)
    assert now.paid + now.balance == (
        now.totals.total - now.discount_taken + now.fees + now.interest + now.overpaid
    )
    assert now.balance >= 0
    assert (now.status is Status.PAID) == (now.totals.to_pay - now.discount_taken <= now.paid)


@given(invoices(), st.data())
@settings(max_examples=150, deadline=None)
def test_settlement_agrees_with_the_state(drawn, data):
    """`check` asks only what was paid and overpaid, and skips the late charges when it can."""
    fields, currency = drawn
    terms = scratch.settings(late_payment=LATE, early_payment_discount={"percent": 2, "days": 10})
    inv = scratch.invoice(**fields)
    total = scratch.state(inv, ISSUED, books=terms).totals.total
    payments = [
        scratch.payment(
            ISSUED + timedelta(days=data.draw(st.integers(min_value=0, max_value=200))),
            major(data.draw(st.integers(min_value=1, max_value=max(1, total * 3 // 2))), currency),
            currency=currency,
            kind=data.draw(st.sampled_from(["payment", "payment", "refund"])),
            **data.draw(st.sampled_from([{}, {}, {"plan": "three-monthly", "instalment": 1}])),
        )
        for _ in range(data.draw(st.integers(min_value=1, max_value=4)))
    ]
    as_of = ISSUED + timedelta(days=data.draw(st.integers(min_value=0, max_value=400)))
    now = scratch.state(inv, as_of, payments, books=terms)
    settled = settlement(terms, scratch.client(), inv, payments, as_of)
    assert (settled.net_paid, settled.overpaid) == (now.paid - now.totals.deposit, now.overpaid)


@given(invoices())
@settings(max_examples=100, deadline=None)
def test_plans_split_to_the_last_minor_unit(drawn):
    fields, _ = drawn
    now = scratch.state(scratch.invoice(**fields), ISSUED)
    for option in now.plans:
        assert sum(i.amount for i in option.instalments) == now.totals.to_pay
        assert [i.number for i in option.instalments] == list(range(1, len(option.instalments) + 1))


optional_day = st.one_of(st.none(), st.integers(min_value=-10, max_value=150))


@given(invoices(), optional_day, optional_day, optional_day, st.booleans())
@settings(max_examples=100, deadline=None)
def test_without_payments_status_only_moves_forward(drawn, promised_by, disputed, voided, deposit):
    """A promise counts from the start here: one recorded later is a person's act, like a payment,
    and may step an overdue invoice back to promised."""
    fields, currency = drawn
    if promised_by is not None:
        fields["promise"] = {"by": ISSUED + timedelta(days=promised_by)}
    if disputed is not None:
        fields["dispute"] = {"since": ISSUED + timedelta(days=disputed), "reason": "Scope"}
    if voided is not None:
        fields["void"] = {"date": ISSUED + timedelta(days=voided), "reason": "Mistake"}
    if deposit:
        fields["deposit"] = {"amount": major(1, currency), "date": ISSUED}
    inv = scratch.invoice(**fields)
    terms = scratch.settings(late_payment=LATE)
    ranks = [
        scratch.state(inv, ISSUED + timedelta(days=day), books=terms).status.rank
        for day in range(-5, 160, 3)
    ]
    assert ranks == sorted(ranks)
