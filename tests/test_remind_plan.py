"""The reminder plan, a pure function of the books, the as-of date and the run's moment: one email
per client in the tone of its most advanced stage, thank-yous, sending days in the client's time
zone, the per-run limit, and intents left without an outcome."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from bench import generate
from notifier.addresses import Secret
from notifier.books import schema
from notifier.books.checks import check_books
from notifier.books.load import Books
from notifier.problems import errors
from notifier.reminders import deliver
from notifier.reminders.plan import Plan, plan_run
from notifier.reminders.preview import simulate, steps
from tests import scratch

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # a Monday


def books(
    invoices: list[schema.Invoice],
    *,
    clients: list[schema.Client] | None = None,
    payments: list[schema.Payment] | None = None,
    messages: list[dict[str, Any]] | None = None,
    **reminders: Any,
) -> Books:
    settings = scratch.settings()
    if reminders:
        settings = settings.model_copy(update={"reminders": schema.Reminders(**reminders)})
    return Books(
        root=Path("."),
        settings=settings,
        clients={c.id: c for c in clients or [scratch.client()]},
        invoices={i.number: i for i in invoices},
        payments=payments or [],
        messages=[schema.Message.model_validate(m) for m in messages or []],
    )


def sent(
    ident: str, stage: str, items: list[str], status: str = "sent", **more: Any
) -> dict[str, Any]:
    return {
        "id": ident,
        "at": datetime(2026, 11, 1, 9, tzinfo=UTC),
        "client": "acme",
        "stage": stage,
        "channel": "email",
        "items": items,
        "status": status,
        **more,
    }


def test_one_email_per_client_in_the_tone_of_the_most_advanced_stage():
    the_books = books(
        [
            scratch.invoice(number="INV-1", due_date=date(2026, 11, 22)),  # friendly (day 1)
            scratch.invoice(number="INV-2", due_date=date(2026, 11, 9)),  # follow-up (day 14)
            scratch.invoice(number="INV-3", due_date=date(2026, 11, 26)),  # courtesy (day -3)
        ]
    )
    plan = plan_run(the_books, date(2026, 11, 23), NOW)
    (email,) = plan.emails
    assert email.stage is not None
    assert email.stage.name == "follow-up"
    assert [(i.target, i.stage.name) for i in email.items] == [
        ("INV-1", "friendly"),
        ("INV-2", "follow-up"),
        ("INV-3", "courtesy"),
    ]
    # Each invoice's own stage is recorded, so INV-1 still gets its follow-up later.
    assert email.ids == {
        "friendly": "20261123-acme-friendly",
        "follow-up": "20261123-acme-follow-up",
        "courtesy": "20261123-acme-courtesy",
    }
    assert email.id == "20261123-acme-follow-up"
    assert email.to == ("ap@acme.example.com",)


def test_task_stages_make_a_task_beside_the_email():
    the_books = books(
        [
            scratch.invoice(number="INV-1", due_date=date(2026, 10, 20)),  # call (day 30)
            scratch.invoice(number="INV-2", due_date=date(2026, 11, 22)),  # friendly
        ]
    )
    plan = plan_run(the_books, date(2026, 11, 23), NOW)
    assert [(e.stage_name, [i.target for i in e.items]) for e in plan.emails] == [
        ("friendly", ["INV-2"])
    ]
    assert [(t.channel, t.stage.name, [i.target for i in t.items]) for t in plan.tasks] == [
        ("phone", "call", ["INV-1"])
    ]


def test_a_recent_payment_is_thanked_once_and_old_ones_never():
    paid = scratch.payment(date(2026, 11, 20), "400.00", id="pay-recent")
    old = scratch.payment(date(2026, 11, 2), "100.00", id="pay-old")
    invoice = scratch.invoice(due_date=date(2026, 12, 20))
    plan = plan_run(books([invoice], payments=[old, paid]), date(2026, 11, 23), NOW)
    (email,) = plan.emails
    assert email.stage is None
    assert [r.payment.id for r in email.receipts] == ["pay-recent"]
    assert email.id == "20261123-acme-thanks"
    assert email.receipts[0].state.balance == 50000  # 1000.00 less 500.00 paid, in pence

    thanked = sent("t1", "thanks", ["INV-1"], payments=["pay-recent"])
    again = plan_run(
        books([invoice], payments=[old, paid], messages=[thanked]), date(2026, 11, 23), NOW
    )
    assert again.emails == ()


def test_a_payment_rides_along_with_a_reminder_that_is_due():
    paid = scratch.payment(date(2026, 11, 20), "400.00", id="pay-1")
    invoice = scratch.invoice(due_date=date(2026, 11, 22))
    (email,) = plan_run(books([invoice], payments=[paid]), date(2026, 11, 23), NOW).emails
    assert email.stage_name == "friendly"
    assert [r.payment.id for r in email.receipts] == ["pay-1"]


def test_emails_wait_for_a_sending_day_in_the_clients_time_zone():
    london = scratch.client()
    auckland = scratch.client(id="kiwi", name="Kiwi Ltd", timezone="Pacific/Auckland")
    invoices = [
        scratch.invoice(number="INV-1", due_date=date(2026, 11, 26)),
        scratch.invoice(number="INV-2", client="kiwi", due_date=date(2026, 11, 26)),
    ]
    weekdays = ["mon", "tue", "wed", "thu", "fri"]
    # Friday 13:00 in London is already Saturday 02:00 in Auckland.
    friday = datetime(2026, 11, 27, 13, tzinfo=UTC)
    the_books = books(invoices, clients=[london, auckland], sending_days=weekdays)
    plan = plan_run(the_books, date(2026, 11, 27), friday)
    assert [e.client.id for e in plan.emails] == ["acme"]
    assert [(w.client.id, w.reason) for w in plan.waiting] == [
        ("kiwi", "not a sending day: Saturday in Pacific/Auckland")
    ]


def test_the_per_run_limit_holds_back_the_least_advanced():
    other = scratch.client(id="beta", name="Beta Ltd")
    invoices = [
        scratch.invoice(number="INV-1", due_date=date(2026, 11, 26)),  # courtesy
        scratch.invoice(number="INV-2", client="beta", due_date=date(2026, 11, 9)),  # follow-up
    ]
    plan = plan_run(
        books(invoices, clients=[scratch.client(), other], per_run=1), date(2026, 11, 23), NOW
    )
    assert [e.client.id for e in plan.emails] == ["beta"]
    assert [(w.client.id, w.stage, w.reason) for w in plan.waiting] == [
        ("acme", "courtesy", "over the limit of 1 a run")
    ]


def test_an_intent_without_outcome_is_reported_and_its_stage_never_repeated():
    invoice = scratch.invoice(due_date=date(2026, 11, 22))
    intent = sent("x-friendly", "friendly", ["INV-1"], status="sending")
    plan = plan_run(books([invoice], messages=[intent]), date(2026, 11, 23), NOW)
    assert plan.emails == ()
    assert [m.id for m in plan.unresolved] == ["x-friendly"]

    outcome = sent("x-friendly", "friendly", ["INV-1"], status="sent")
    settled = plan_run(books([invoice], messages=[intent, outcome]), date(2026, 11, 23), NOW)
    assert settled.unresolved == ()


def test_the_preview_walks_the_policy_without_bursts():
    invoice = scratch.invoice(due_date=date(2026, 11, 26))
    found = [
        (s.day, s.kind, s.stage)
        for plan in simulate(books([invoice]), date(2026, 11, 20), 60)
        for s in steps(plan)
    ]
    assert found == [
        (date(2026, 11, 23), "email", "courtesy"),
        (date(2026, 11, 27), "email", "friendly"),
        (date(2026, 12, 10), "email", "follow-up"),
        (date(2026, 12, 26), "phone", "call"),
        (date(2027, 1, 10), "email", "final"),
    ]


def _what_goes(plan: Plan) -> list[tuple[str, ...]]:
    """What a person reads of a plan: each email's client, tone, items and receipts, each task,
    each wait."""
    return [
        *(
            (
                "email",
                e.client.id,
                e.stage_name,
                *e.ids.values(),
                *(f"{i.target}:{i.state.balance}" for i in e.items),
                *(f"{r.payment.id}:{r.state.balance}" for r in e.receipts),
            )
            for e in plan.emails
        ),
        *(
            ("task", t.client.id, t.channel, t.stage.name, *(i.target for i in t.items))
            for t in plan.tasks
        ),
        *(("waiting", w.client.id, w.stage, w.reason) for w in plan.waiting),
    ]


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Books:
    """The bench's generated books at 600 invoices: emails, thank-yous and tasks due on NOW."""
    root = tmp_path_factory.mktemp("generated")
    assert generate.main([str(root), "--invoices", "600", "--clients", "120"]) == 0
    the_books, problems = check_books(root)
    assert not errors(problems)
    return the_books


def test_task_sheets_written_by_a_forked_process_are_those_written_here(
    generated: Books, monkeypatch: pytest.MonkeyPatch
) -> None:
    the_plan = plan_run(generated, NOW.date(), NOW)
    secret = Secret.from_environment(None, demo=True)
    assert secret is not None

    def sheets() -> tuple[list[tuple[str, str, str, str]], list[str]]:
        report = deliver.compose_all(generated, the_plan, NOW, secret, with_notice=False)
        found = [(s.task.id, s.title, s.text, s.note) for s in report.tasks]
        return found, report.problems

    alone = sheets()
    assert len(alone[0]) >= 3
    assert not alone[1]
    monkeypatch.setattr(deliver, "TASKS_SHARED_FROM", 0)
    assert sheets() == alone
    # A sheet whose words are missing is a problem, said as it would be here.
    name = the_plan.tasks[0].stage.text
    words = generated.root / "content" / "reminders" / f"{name}.en.md"
    kept = words.read_bytes()
    words.unlink()
    try:
        monkeypatch.setattr(deliver, "TASKS_SHARED_FROM", 10**9)
        missing = sheets()
        monkeypatch.setattr(deliver, "TASKS_SHARED_FROM", 0)
        assert sheets() == missing
    finally:
        words.write_bytes(kept)
    assert missing[1][0].endswith(f"content/reminders/{name}.en.md is missing")
