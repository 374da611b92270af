"""A year of days, simulated on the example books and on generated ones: every policy, plans,
part payments, payments through the card links, promises, disputes, new invoices, and gaps of
several weeks between runs. Each day the run does what the daily job does (make the card links,
send the reminders due, build the pages) and the checker of tests/agreement.py reads what the
outputs said: page, PDF, links, emails and report must agree with each other and with the rules.
"""

from __future__ import annotations

import dataclasses
import json
import random
import sys
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest

from bench import generate
from notifier import money
from notifier.account import Owed, Status, account_of
from notifier.addresses import Secret
from notifier.books import schema
from notifier.books.checks import check_books
from notifier.books.load import Books
from notifier.payments.links import LinkRequest, carry_out, link_records, plan_links
from notifier.portal.build import Portal, Theme
from notifier.portal.views import client_views
from notifier.printer import Request
from notifier.problems import errors
from notifier.reminders import record
from notifier.reminders.compose import compose_email
from notifier.reminders.plan import Plan, plan_day
from notifier.report.receivables import build_report
from notifier.report.render import to_json
from tests import agreement
from tests.scratch import example_books

SECRET = Secret(b"agreement secret", demo=False)
START = date(2026, 11, 23)
GAPS = ((date(2027, 1, 5), date(2027, 2, 2)), (date(2027, 5, 1), date(2027, 6, 10)))


def _data_as_pdf(document: Request) -> bytes:
    """Printing nothing: the "PDF" is the data it is printed from."""
    return document.data.encode("utf-8")


def _pdf_owed(data: bytes) -> int | None:
    """The "Owed" row of an invoice's PDF, read from the data it is printed from."""
    rows = json.loads(data)["invoice"]["totals"]
    owed = [row["amount"] for row in rows if row["strong"]][1:]
    return agreement.minor(owed[-1]) if owed else None


def run_days(start: date, days: int) -> Iterator[date]:
    for offset in range(days):
        day = start + timedelta(days=offset)
        if not any(first <= day < end for first, end in GAPS):
            yield day


def simulate(root: Path, days: int, seed: int) -> tuple[Books, list[str]]:
    """Run the business's days from START; return the books at the end and every disagreement."""
    books, problems = check_books(root)
    assert not errors(problems), problems
    theme = Theme(root)
    rng = random.Random(seed)
    found: list[str] = []
    for day in run_days(START, days):
        books = _make_links(books, day)
        seen, books = _one_day(root, theme, books, day)
        found += agreement.check_day(books, seen)
        books = _clients_act(books, seen, day, rng)
    return books, found


class _Stripe:
    """Stripe as `notifier links` meets it: each link it is asked for, made; each turned off."""

    def __init__(self, day: date) -> None:
        self.day, self.count = day, 0

    def create_link(self, request: LinkRequest) -> tuple[str, str]:
        self.count += 1
        ident = f"plink_{request.invoice}_{self.day:%Y%m%d}_{self.count}"
        return ident, f"https://buy.stripe.com/test_{ident}"

    def deactivate_link(self, link_id: str) -> None:
        pass


def _make_links(books: Books, day: date) -> Books:
    """What `notifier links` does: a link for each way to pay that lacks one, the old turned off."""
    run = carry_out(plan_links(books, day, SECRET), _Stripe(day))
    added = link_records(run.created, run.deactivated, datetime.combine(day, time(8), UTC))
    return dataclasses.replace(books, payment_links=[*books.payment_links, *added])


def _one_day(root: Path, theme: Theme, books: Books, day: date) -> tuple[agreement.Day, Books]:
    """What the outputs said on `day`, and the books with the day's messages recorded."""
    assert books.settings is not None
    account = account_of(books, day)
    portal = Portal(root, books, theme, day, False, None)
    pages: dict[str, agreement.Page] = {}
    pdf_owed: dict[str, int | None] = {}
    for view in client_views(account, SECRET):
        for invoice in view.open:
            page = portal.invoice_page(view, invoice)[1]
            pdf = portal.invoice_pdf(view, invoice)[1]
            assert isinstance(page, bytes)
            assert isinstance(pdf, bytes)
            pages[invoice.number] = agreement.Page(invoice.number, page.decode())
            pdf_owed[invoice.number] = _pdf_owed(pdf)
    now = datetime.combine(day, time(9), UTC)
    plan = plan_day(books.settings, account, now)
    emails = []
    for email in plan.emails:
        text = compose_email(books, email, day, now, SECRET, with_notice=False).draft.text
        items = tuple(item.target for item in email.items)
        emails.append((email.client.id, email.stage_name, items, text))
    seen = agreement.Day(
        day,
        pages,
        pdf_owed,
        emails,
        agreement.report_owed(to_json(build_report(account))),
        {n: i.client for n, i in books.invoices.items()},
        {n: i.currency for n, i in account.invoices.items()},
        {s.name for st in books.settings.policies.values() for s in st if s.deadline_days},
    )
    added: list[schema.Message] = []
    for email in plan.emails:
        added += record.email_records(email, now, "sent", "")
    for task in plan.tasks:
        added += record.task_records(task, now, "")
    return seen, dataclasses.replace(books, messages=[*books.messages, *added])


def _clients_act(books: Books, seen: agreement.Day, day: date, rng: random.Random) -> Books:
    """Some clients pay what a page asks (by transfer or card link), some part of it; some
    promise, some dispute; now and then the business issues a new invoice."""
    payments: list[schema.Payment] = []
    invoices = dict(books.invoices)
    links = {str(r.url): r for r in books.payment_links}
    for number, page in sorted(seen.pages.items()):
        roll = rng.random()
        currency = seen.currencies[number]
        paid: dict[str, object] | None = None
        if roll < 0.04 and page.to_send:
            paid = {"amount": money.to_major(page.to_send, currency), "method": "bank"}
        elif roll < 0.07 and page.buttons:
            link = links[rng.choice(page.buttons)[0]]
            plan, _, instalment = link.target.partition("#")
            paid = {"amount": link.amount, "method": "stripe"}
            if instalment:
                paid.update(plan=plan, instalment=int(instalment))
        elif roll < 0.09 and page.to_send and page.to_send > 1:
            paid = {"amount": money.to_major(page.to_send // 2, currency), "method": "bank"}
        elif roll < 0.10 and page.status == "overdue":
            promise = schema.Promise(by=day + timedelta(days=10), made=day)
            invoices[number] = invoices[number].model_copy(update={"promise": promise})
        elif roll < 0.105 and page.status == "overdue":
            dispute = schema.Dispute.model_validate({"since": day, "reason": "Disputed in a call"})
            invoices[number] = invoices[number].model_copy(update={"dispute": dispute})
        if paid is not None:
            payments.append(
                schema.Payment.model_validate(
                    {
                        "id": f"pay-{number}-{day}",
                        "invoice": number,
                        "date": day,
                        "currency": currency,
                        "recorded": datetime.combine(day, time(18), UTC),
                        **paid,
                    }
                )
            )
    if day.day == 1:  # the business invoices again
        invoices.update(_new_invoices(books, day, rng))
    return dataclasses.replace(books, invoices=invoices, payments=[*books.payments, *payments])


def _new_invoices(books: Books, day: date, rng: random.Random) -> dict[str, schema.Invoice]:
    plain = [
        i
        for i in books.invoices.values()
        if not (i.custom_plan or i.deposit or i.payment_links or i.void or i.draft)
        and not (i.dispute or i.promise)
    ]
    found = {}
    for index, model in enumerate(rng.sample(plain, min(2, len(plain)))):
        number = f"SIM-{day:%Y%m}-{index}"
        due = {"due_date": day + timedelta(days=30)} if model.due_date else {}
        found[number] = model.model_copy(update={"number": number, "issue_date": day, **due})
    return found


@pytest.fixture(autouse=True)
def _no_printing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("notifier.portal.documents.print_document", _data_as_pdf)


def test_a_year_of_the_example_books_has_every_output_agree(tmp_path: Path) -> None:
    books, found = simulate(example_books(tmp_path), 365, seed=1)
    assert found == []
    assert agreement.check_records(books, START) == []
    states = account_of(books, START + timedelta(days=364)).invoices.values()
    kinds = {m.channel for m in books.messages} | {m.stage for m in books.messages}
    # The year went through what the checker is there for.
    assert {"email", "phone", "collections", "final-notice"} <= kinds
    assert any(p.plan for p in books.payments)
    assert any(p.method == "stripe" for p in books.payments)
    assert Status.PAID in {s.status for s in states}
    assert any(n.startswith("SIM-") for n in books.invoices)


def test_a_year_of_generated_books_has_every_output_agree(tmp_path: Path) -> None:
    generate.write_books(tmp_path, 45, 12, seed=7)
    books, found = simulate(tmp_path, 365, seed=7)
    assert found == []
    assert agreement.check_records(books, START) == []


def test_the_checker_sees_a_page_and_its_links_disagree(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The checker can fail: an account that asks for the invoice total alone, leaving out the
    fees (what pages and card links did before the account), is caught on the first day."""
    from notifier.account import day as account_day

    real = account_day._ways

    def without_fees(state, owed, due_now, instalments, links, as_of, *rest):
        owed = Owed(owed.principal, 0, 0)
        return real(state, owed, due_now, instalments, links, as_of, *rest)

    monkeypatch.setattr(account_day, "_ways", without_fees)
    _, found = simulate(example_books(tmp_path), 1, seed=1)
    assert "2026-11-23 HP-2026-026: the page asks 355840, its bank transfer 348840" in found


def test_the_checker_sees_a_client_written_to_too_often(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from notifier.account import next_steps

    monkeypatch.setattr(next_steps, "SPACING_DAYS", 1)  # as before the account: any day
    monkeypatch.setattr(sys.modules[__name__], "_clients_act", lambda books, *_: books)
    books, _ = simulate(example_books(tmp_path), 30, seed=1)
    assert any("written to on" in line for line in agreement.check_records(books, START))


def test_a_run_plans_the_same_from_the_invoices_it_reads_as_from_all(tmp_path: Path) -> None:
    """`remind` works out only the invoices a run reads (those that may be open, and those with a
    payment to thank for): what it plans is what the whole account gives, day after day."""
    books, _ = simulate(example_books(tmp_path), 60, seed=3)  # payments, new invoices
    # As if none of those payments was thanked yet, nor anything sent: each day has much to do.
    sent = [m for m in books.messages if m.at.date() < START]
    books = dataclasses.replace(books, messages=sent)
    assert books.settings is not None
    thanked = 0
    for day in run_days(START, 90):
        now = datetime.combine(day, time(9), UTC)
        whole = plan_day(books.settings, account_of(books, day), now)
        read = plan_day(books.settings, account_of(books, day, reminders_only=True), now)
        assert _what_goes(read) == _what_goes(whole), day
        thanked += sum(len(email.receipts) for email in read.emails)
    assert thanked


def _what_goes(plan: Plan) -> list[tuple[object, ...]]:
    return [
        *(
            (
                e.client.id,
                e.stage_name,
                [i.target for i in e.items],
                [r.payment.id for r in e.receipts],
            )
            for e in plan.emails
        ),
        *((t.client.id, t.stage.name, [i.target for i in t.items]) for t in plan.tasks),
        *((w.client.id, w.stage, w.reason) for w in plan.waiting),
    ]
