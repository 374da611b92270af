from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from notifier.books.checks import check_books
from notifier.ledger.state import Status, ledger
from tests.scratch import client, invoice, payment, settings, state

ROOT = Path(__file__).resolve().parents[1]
DEMO_DATE = date(2026, 11, 23)

CONTRACTUAL = {"late_payment": {"regime": "contractual", "annual_interest": "10%"}}


def test_totals_share_the_discount_over_the_lines_before_tax():
    inv = invoice(
        lines=[
            {"description": "Taxed", "unit_price": "100.00", "tax_rate": "20%"},
            {"description": "Exempt", "unit_price": "50.00"},
        ],
        discount={"amount": "10.00"},
    )
    totals = state(inv, date(2026, 9, 2)).totals
    assert totals.subtotal == 15000
    assert totals.discount == 1000
    assert [(t.rate, t.base, t.tax) for t in totals.taxes] == [
        (Decimal(0), 4667, 0),
        (Decimal(20), 9333, 1867),
    ]
    assert totals.total == 15000 - 1000 + 1867


def test_line_amounts_round_once_half_away_from_zero():
    inv = invoice(lines=[{"description": "Hours", "quantity": "1.5", "unit_price": "33.33"}])
    assert state(inv, date(2026, 9, 2)).totals.lines == (5000,)  # 49.995


def test_statuses_move_with_the_calendar():
    inv = invoice()
    assert state(inv, date(2026, 8, 31)).status is Status.DRAFT  # not issued yet
    assert state(inv, date(2026, 9, 1)).status is Status.OPEN
    assert state(inv, date(2026, 9, 24)).status is Status.DUE  # within 7 days
    assert state(inv, date(2026, 10, 1)).status is Status.DUE
    late = state(inv, date(2026, 10, 2))
    assert late.status is Status.OVERDUE
    assert late.days_overdue == 1


def test_simple_interest_accrues_daily_on_what_is_overdue_and_is_claimed_monthly():
    inv = invoice()  # due 1 Oct
    paid_half = [payment(date(2026, 10, 11), "500.00")]
    books = settings(**CONTRACTUAL)
    # Until 1 Nov, a month after the due date, no interest is claimed: what is owed holds.
    for day in (date(2026, 10, 2), date(2026, 10, 21), date(2026, 10, 31)):
        assert state(inv, day, paid_half, books=books).balance == 50000
    # 10 days on 1000.00 (2 Oct to 11 Oct), then 21 days on 500.00, at 10% a year: 5.6164
    claimed = state(inv, date(2026, 11, 1), paid_half, books=books)
    assert claimed.interest == 562
    assert claimed.fees == 0
    assert claimed.balance == 50000 + 562
    assert claimed.paid == 50000
    # ... and holds until the next claim day, 1 Dec.
    assert state(inv, date(2026, 11, 30), paid_half, books=books).interest == 562
    assert state(inv, date(2026, 12, 1), paid_half, books=books).interest == 562 + 411


def test_paying_what_is_asked_between_claim_days_settles_the_invoice():
    books = settings(
        late_payment={"regime": "contractual", "fee": {"GBP": 25}, "annual_interest": "10%"}
    )
    asked = state(invoice(), date(2026, 11, 20), books=books).balance  # fee, a month's interest
    assert asked == 100000 + 2500 + 849  # 31 days on 1000.00 at 10%: 8.493
    paid = [payment(date(2026, 11, 20), "1033.49")]
    for later in (date(2026, 11, 20), date(2026, 12, 1), date(2027, 6, 1)):
        after = state(invoice(), later, paid, books=books)
        assert (after.status, after.balance, after.overpaid) == (Status.PAID, 0, 0)


def test_uk_statutory_compensation_depends_on_the_size_of_the_debt():
    uk = settings(late_payment={"regime": "uk_statutory", "reference_rate": "4%"})
    small = invoice(lines=[{"description": "Small", "unit_price": "999.99"}])
    medium = invoice(lines=[{"description": "Medium", "unit_price": "1000.00"}])
    large = invoice(lines=[{"description": "Large", "unit_price": "10000.00"}])
    day = date(2026, 10, 2)
    assert [state(i, day, books=uk).fees for i in (small, medium, large)] == [4000, 7000, 10000]
    # 12% a year on 10,000.00 for 365 days is exactly 1,200.00
    assert state(large, date(2027, 10, 1), books=uk).interest == 120000


def test_eu_statutory_adds_40_euros_and_reference_plus_8():
    eu = settings(late_payment={"regime": "eu_statutory", "reference_rate": "2.15%"})
    inv = invoice(currency="EUR")
    now = state(inv, date(2026, 11, 1), books=eu)
    assert now.fees == 4000
    assert now.interest == 862  # 1000.00 × 10.15% × 31 / 365 = 8.620
    assert now.terms.late_payment.regime == "eu_statutory"


def test_fees_stop_being_claimed_once_the_invoice_is_paid():
    with_fees = settings(
        late_payment={"regime": "contractual", "fee": {"GBP": 25}, "annual_interest": "8%"}
    )
    paid = state(
        invoice(), date(2026, 11, 1), [payment(date(2026, 10, 20), "1000.00")], books=with_fees
    )
    assert paid.status is Status.PAID
    assert (paid.balance, paid.fees, paid.interest, paid.overpaid) == (0, 0, 0, 0)


def test_an_excess_payment_covers_fees_first_then_shows_as_overpaid():
    with_fees = settings(late_payment={"regime": "contractual", "fee": {"GBP": 25}})
    paid = state(
        invoice(), date(2026, 11, 1), [payment(date(2026, 10, 20), "1030.00")], books=with_fees
    )
    assert (paid.status, paid.fees, paid.overpaid) == (Status.PAID, 2500, 500)


def test_a_refund_reopens_the_balance():
    day = date(2026, 9, 10)
    both = [payment(day, "1000.00"), payment(day, "400.00", kind="refund")]
    now = state(invoice(), date(2026, 9, 12), both)
    assert now.status is Status.PARTIALLY_PAID
    assert now.balance == 40000


def test_early_discount_is_offered_then_taken_or_lapses():
    terms = settings(early_payment_discount={"percent": 2, "days": 10})
    inv = invoice()
    offered = state(inv, date(2026, 9, 5), books=terms)
    assert offered.early_discount is not None
    assert (offered.early_discount.amount, offered.early_discount.until) == (
        2000,
        date(2026, 9, 11),
    )
    taken = state(inv, date(2026, 9, 20), [payment(date(2026, 9, 11), "980.00")], books=terms)
    assert (taken.status, taken.discount_taken, taken.balance) == (Status.PAID, 2000, 0)
    lapsed = state(inv, date(2026, 9, 12), books=terms)
    assert lapsed.early_discount is None
    late_and_short = state(
        inv, date(2026, 9, 20), [payment(date(2026, 9, 12), "980.00")], books=terms
    )
    assert late_and_short.balance == 2000


def test_paying_the_first_instalment_chooses_the_plan():
    inv = invoice(lines=[{"description": "Film", "unit_price": "1000.00"}], plans=["three-monthly"])
    first = payment(date(2026, 9, 30), "333.34", plan="three-monthly", instalment=1)
    now = state(inv, date(2026, 10, 15), [first])
    assert now.active_plan is not None
    assert now.active_plan.id == "three-monthly"
    assert [(i.due_date, i.amount) for i in now.active_plan.instalments] == [
        (date(2026, 10, 1), 33334),
        (date(2026, 11, 1), 33333),
        (date(2026, 12, 1), 33333),
    ]
    assert now.next_instalment is not None
    assert now.next_instalment.number == 2
    assert now.status is Status.PARTIALLY_PAID
    assert now.days_overdue == 0
    late = state(inv, date(2026, 11, 5), [first])
    assert (late.status, late.days_overdue, late.due_date) == (Status.OVERDUE, 4, date(2026, 11, 1))
    assert late.next_reminder is not None
    assert late.next_reminder.target == "INV-1#2"


def test_month_end_instalments_keep_to_the_month():
    inv = invoice(due_date=date(2027, 1, 31), plans=["three-monthly"])
    options = state(inv, date(2026, 9, 2)).plans
    assert [i.due_date for i in options[1].instalments] == [
        date(2027, 1, 31),
        date(2027, 2, 28),
        date(2027, 3, 31),
    ]


def test_a_promise_holds_reminders_until_it_passes():
    inv = invoice(promise={"by": date(2026, 10, 20), "note": "Paying after the board meets"})
    kept = state(inv, date(2026, 10, 10))
    assert kept.status is Status.PROMISED
    assert kept.next_reminder is not None
    assert kept.next_reminder.held_by == "promised to pay by 2026-10-20"
    assert not kept.next_reminder.due_now
    broken = state(inv, date(2026, 10, 21))
    assert broken.status is Status.OVERDUE
    assert broken.next_reminder is not None
    assert broken.next_reminder.due_now


def sent_on(day: date, *stages: str) -> dict[str, dict[str, date]]:
    return {"INV-1": dict.fromkeys(stages, day)}


def test_after_a_gap_only_the_highest_stage_due_is_next():
    now = state(
        invoice(), date(2026, 11, 5), sent=sent_on(date(2026, 10, 2), "courtesy", "friendly")
    )
    assert now.next_reminder is not None
    assert (now.next_reminder.stage.name, now.next_reminder.due_now) == ("call", True)


def test_after_a_gap_a_final_notice_is_never_skipped():
    # Due 1 Oct; the call is due from 31 Oct, the final notice from 15 Nov, a hand-off from 30 Dec.
    stages = [
        *[{"name": n, "day": d, "text": n} for n, d in (("friendly", 1), ("follow-up", 14))],
        {"name": "final", "day": 45, "text": "final", "deadline_days": 14},
        {"name": "collections", "day": 90, "channel": "collections", "text": "collections"},
    ]
    books = settings(policies={"standard": stages})
    sent = sent_on(date(2026, 10, 2), "friendly")
    now = state(invoice(), date(2027, 3, 1), sent=sent, books=books)
    assert now.next_reminder is not None
    assert (now.next_reminder.stage.name, now.next_reminder.due_now) == ("final", True)


def test_what_follows_a_final_notice_waits_for_its_deadline():
    stages = [
        {"name": "final", "day": 45, "text": "final", "deadline_days": 14},
        {"name": "collections", "day": 50, "channel": "collections", "text": "collections"},
    ]
    books = settings(policies={"standard": stages})
    sent = sent_on(date(2027, 1, 10), "final")  # late: its deadline is 24 Jan
    for day in (date(2027, 1, 11), date(2027, 1, 24)):
        waiting = state(invoice(), day, sent=sent, books=books).next_reminder
        assert waiting is not None
        assert (waiting.stage.name, waiting.on, waiting.due_now) == (
            "collections",
            date(2027, 1, 25),
            False,
        )
        assert waiting.held_by == "the final notice's deadline, 2027-01-24"
    handed = state(invoice(), date(2027, 1, 25), sent=sent, books=books).next_reminder
    assert handed is not None
    assert (handed.stage.name, handed.due_now) == ("collections", True)


def test_a_stage_already_sent_is_not_next_again():
    sent = sent_on(date(2026, 10, 2), "courtesy", "friendly", "follow-up")
    now = state(invoice(), date(2026, 10, 20), sent=sent)
    assert now.next_reminder is not None
    assert (now.next_reminder.stage.name, now.next_reminder.on) == ("call", date(2026, 10, 31))
    assert not now.next_reminder.due_now


def test_a_paused_client_is_held_until_the_pause_ends():
    paused = client(pause={"until": date(2026, 10, 10), "reason": "Owner away"})
    now = state(invoice(), date(2026, 10, 5), who=paused)
    assert now.next_reminder is not None
    assert now.next_reminder.on == date(2026, 10, 11)
    assert now.next_reminder.held_by == "paused: Owner away"
    assert now.status is Status.OVERDUE


@pytest.mark.parametrize(
    "fields",
    [
        {"dispute": {"since": date(2026, 9, 15), "reason": "Scope"}},
        {"void": {"date": date(2026, 9, 15), "reason": "Wrong client"}},
        {"draft": True},
    ],
)
def test_nothing_is_chased_on_disputed_void_or_draft_invoices(fields):
    now = state(invoice(**fields), date(2026, 11, 1))
    assert now.next_reminder is None
    assert now.days_overdue == 0


# The example books, as the demo shows them. Figures worked by hand:
# HP-2026-022: 1,250,000 JPY, 70 days at 8% = 19,178; fee 4,000.
# HP-2026-026: 3,488.40 GBP, 20 days at 4% + 8 = 22.94; compensation 70.00.
# HP-2026-028: 4,250.00 EUR, 5 days at 2.15% + 8 = 5.91; compensation 40.00.
# Interest is claimed a month after the due date, then monthly: none yet on the later ones.
EXPECTED = {
    "HP-2026-014": ("paid", 0, "0"),
    "HP-2026-018": ("paid", 0, "0"),
    "HP-2026-019": ("paid", 0, "0"),
    "HP-2026-020": ("paid", 0, "0"),
    "HP-2026-021": ("void", 0, "0"),
    "HP-2026-022": ("overdue", 70, "1270712"),
    "HP-2026-023": ("disputed", 0, "7100.34"),
    "HP-2026-024": ("overdue", 40, "6881.20"),
    "HP-2026-025": ("promised", 29, "1715.00"),
    "HP-2026-026": ("overdue", 20, "3558.40"),
    "HP-2026-027": ("overdue", 17, "2950.00"),
    "HP-2026-028": ("overdue", 5, "4290.00"),
    "HP-2026-029": ("partially paid", 0, "6000.00"),
    "HP-2026-030": ("due", 0, "3650.00"),
    "HP-2026-031": ("draft", 0, "0"),
    "HP-2026-032": ("partially paid", 0, "3800.00"),
    "HP-2026-033": ("open", 0, "1320.00"),
    "HP-2026-034": ("partially paid", 0, "340000"),
}


def test_the_example_books_show_every_state_on_the_demo_date():
    books, problems = check_books(ROOT)
    assert problems == []
    states = ledger(books, DEMO_DATE)
    from notifier import money

    seen = {
        number: (
            s.status.value,
            s.days_overdue,
            str(money.to_major(s.balance, s.currency)) if s.balance else "0",
        )
        for number, s in states.items()
    }
    assert seen == EXPECTED
    assert len({c.currency or "GBP" for c in books.clients.values()}) >= 3
    early = states["HP-2026-033"].early_discount
    assert early is not None
    assert (early.amount, early.until) == (2640, date(2026, 11, 28))
    plan = states["HP-2026-029"]
    assert plan.active_plan is not None
    assert plan.next_instalment is not None
    assert (plan.active_plan.id, plan.next_instalment.number) == ("three-monthly", 2)
    due_today = {
        n: s.next_reminder.stage.name
        for n, s in states.items()
        if s.next_reminder and s.next_reminder.due_now
    }
    assert due_today == {
        "HP-2026-022": "collections",
        "HP-2026-024": "call",
        "HP-2026-030": "courtesy",
    }


def test_a_discount_taken_is_never_charged_as_late():
    terms = settings(
        early_payment_discount={"percent": 2, "days": 10},
        late_payment={"regime": "contractual", "fee": {"GBP": 25}, "annual_interest": "8%"},
    )
    paid = [payment(date(2026, 9, 5), "980.00"), payment(date(2026, 12, 1), "100.00")]
    now = state(invoice(), date(2026, 12, 31), paid, books=terms)
    assert (now.status, now.discount_taken, now.fees, now.interest) == (Status.PAID, 2000, 0, 0)
    assert now.overpaid == 10000


def test_a_promise_does_not_cut_a_longer_pause_short():
    paused = client(pause={"until": date(2026, 12, 31), "reason": "Closed for the season"})
    inv = invoice(promise={"by": date(2026, 11, 30)})
    now = state(inv, date(2026, 11, 2), who=paused)
    assert now.next_reminder is not None
    assert (now.next_reminder.on, now.next_reminder.held_by) == (
        date(2027, 1, 1),
        "paused: Closed for the season",
    )


def test_uk_compensation_follows_the_debt_when_it_became_late():
    uk = settings(late_payment={"regime": "uk_statutory", "reference_rate": "4%"})
    inv = invoice(lines=[{"description": "Work", "unit_price": "1200.00"}])
    part_paid = [payment(date(2026, 9, 20), "300.00")]
    assert state(inv, date(2026, 10, 5), part_paid, books=uk).fees == 4000  # 900.00 unpaid
    assert state(inv, date(2026, 10, 5), books=uk).fees == 7000


def test_a_message_counts_from_its_day_in_the_business_time_zone(tmp_path):
    import shutil

    from notifier.books.load import load_books

    shutil.copytree(ROOT / "data", tmp_path / "data")
    shutil.copytree(ROOT / "content", tmp_path / "content")
    with (tmp_path / "data/records/messages.yaml").open("a", encoding="utf-8") as out:
        # 23:30 in New York on the 22nd is already the 23rd in London, where the business is.
        out.write(
            "- {id: late-call, at: '2026-11-22T23:30:00-05:00', client: northfield, stage: call, "
            "channel: phone, items: [HP-2026-024], status: task}\n"
        )
    books, problems = load_books(tmp_path)
    assert problems == []
    before = ledger(books, date(2026, 11, 22))["HP-2026-024"].next_reminder
    after = ledger(books, date(2026, 11, 23))["HP-2026-024"].next_reminder
    assert before is not None
    assert after is not None
    assert before.stage.name == "call"
    assert after.stage.name == "final-notice"


def test_reminders_wait_for_fresh_payments():
    from notifier.books.load import load_books
    from notifier.payments.freshness import stale_reason

    books, _ = load_books(ROOT)
    assert stale_reason(books, DEMO_DATE) is None
    assert stale_reason(books, date(2026, 11, 26)) is None
    assert stale_reason(books, date(2026, 11, 27)) == (
        "payments were last imported 4 days ago, on 2026-11-23 (the limit is 3)"
    )
    books.imports = []
    assert stale_reason(books, DEMO_DATE) is not None


def test_each_payment_source_must_be_fresh():
    from notifier.books.load import load_books
    from notifier.payments.freshness import stale_reason

    books, _ = load_books(ROOT)
    assert books.settings is not None
    payments = books.settings.payments.model_copy(update={"sources": ["stripe", "bank"]})
    books.settings = books.settings.model_copy(update={"payments": payments})
    assert stale_reason(books, DEMO_DATE) == (
        "bank statements have never been imported (run `notifier reconcile STATEMENT`, "
        "or set `payments.stale_after_days: null` if you record payments by hand)"
    )
    bank = books.imports[-1].model_copy(
        update={"via": "bank", "at": datetime(2026, 11, 19, 6, tzinfo=UTC)}
    )
    books.imports.append(bank)
    assert stale_reason(books, DEMO_DATE) == (
        "bank statements were last imported 4 days ago, on 2026-11-19 (the limit is 3)"
    )
