"""A checker of the rules a client and the owner rely on (docs/books.md, "What a page asks", and
docs/reminders.md), written from those rules: it reads what the outputs say (the invoice page, the
text its PDF is printed from, the card links, the emails, the report) and asserts that they agree
with each other and with the rules. It never asks the account what an output should have said.

Each check returns what disagrees, as sentences; an empty list is agreement."""

from __future__ import annotations

import dataclasses
import itertools
import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from notifier import money
from notifier.books import schema
from notifier.books.load import Books
from notifier.ledger.state import ledger

SPACING_DAYS = 3  # docs/reminders.md: one email to a client in any three days, thank-yous aside
PLURAL = ("these invoices", "diese Rechnungen", "den Rechnungen", "ces factures")


def minor(text: str) -> int:
    """A formatted amount (`£3,558.40`, `3.558,40 €`, `¥1,270,712`) in minor units: every amount
    is shown with all its currency's decimals, so its digits are its minor units."""
    digits = re.sub(r"\D", "", text)
    assert digits, f"no amount in {text!r}"
    return int(digits)


@dataclass
class Page:
    """What an invoice's page says, read from its HTML."""

    number: str
    html: str

    def first(self, pattern: str) -> str | None:
        found = re.search(pattern, self.html, re.S)
        return found[1] if found else None

    @property
    def status(self) -> str:
        found = self.first(r'class="status status-([a-z_]+)"')
        assert found is not None, self.number
        return found

    @property
    def headline(self) -> int | None:
        found = self.first(r'<p class="amount-owed">(.*?)</p>')
        return minor(found) if found else None

    @property
    def owed_today(self) -> int | None:
        """The last total row of the invoice's table: what is owed on it today."""
        rows = re.findall(r'<tr class="total">.*?<td class="num">(.*?)</td>', self.html, re.S)
        return minor(rows[-1]) if len(rows) > 1 else None

    @property
    def to_send(self) -> int | None:
        found = self.first(r'<dd class="amount-to-send">(.*?)</dd>')
        return minor(found) if found else None

    @property
    def charges(self) -> list[int]:
        return [minor(t) for t in re.findall(r'<p class="charges">(.*?)</p>', self.html, re.S)]

    @property
    def plans_offered(self) -> bool:
        return 'class="option plan"' in self.html

    @property
    def buttons(self) -> list[tuple[str, str]]:
        """Each card button: its address (without the query) and its words."""
        return [
            (href.split("?")[0], text)
            for href, text in re.findall(r'<a class="button" href="(.*?)">(.*?)</a>', self.html)
        ]

    @property
    def final_notice_to_come(self) -> bool:
        return "step-notice" in self.html


@dataclass
class Day:
    """What the outputs of one day said."""

    day: date
    pages: dict[str, Page]  # open and disputed invoices' pages, by number
    pdf_owed: dict[str, int | None]  # the "Owed" row of each of those invoices' PDF
    emails: list[tuple[str, str, tuple[str, ...], str]]  # (client, stage, items, plain text)
    report_owed: dict[str, dict[str, int]]  # client → currency → minor
    clients: dict[str, str]  # invoice → client
    currencies: dict[str, str]  # invoice → currency
    notices: set[str] = field(default_factory=set)  # stages with a deadline


def check_day(books: Books, seen: Day) -> list[str]:
    """Every disagreement between the outputs of `seen` and the rules, on the books as they were."""
    found: list[str] = []
    for number, page in seen.pages.items():
        found += _page_settles(books, seen.day, page)
        found += _pdf_agrees(page, seen.pdf_owed.get(number))
        if page.status == "overdue" and page.plans_offered:
            found.append(f"{seen.day} {number}: a plan is offered on a late invoice")
        found += _links_agree(books, seen.day, page)
    found += _emails_agree(seen)
    found += _report_agrees(seen)
    return found


def _paid_now(books: Books, day: date, number: str, amount: int, **more: object) -> Books:
    invoice = books.invoices[number]
    assert books.settings is not None
    states = ledger(books, day, [invoice])
    currency = states[number].currency
    payment = schema.Payment.model_validate(
        {
            "id": f"check-{number}-{day}-{amount}",
            "invoice": number,
            "date": day,
            "amount": money.to_major(amount, currency),
            "currency": currency,
            **more,
        }
    )
    return dataclasses.replace(books, payments=[*books.payments, payment])


def _after(books: Books, day: date, number: str, amount: int) -> tuple[int, int, int]:
    """Paying `amount` today: (what is still owed, what is overpaid, days late)."""
    state = ledger(_paid_now(books, day, number, amount), day, [books.invoices[number]])[number]
    return state.balance, state.overpaid, state.days_overdue


def _page_settles(books: Books, day: date, page: Page) -> list[str]:
    """A client who sends what the page asks owes nothing more for it that day (on a plan: nothing
    late is left), and is asked for nothing they do not owe."""
    if page.status not in ("open", "due", "partially_paid", "overdue", "promised"):
        return []
    to_send = page.to_send if page.to_send is not None else page.headline
    if to_send is None:
        return [f"{day} {page.number}: an open invoice's page asks for nothing"]
    discount = page.first(r'<p class="discount">(.*?)</p>')
    asked = _amounts_in(discount)[0] if discount else None
    wanted = minor(asked) if asked else page.headline
    if to_send != wanted:
        return [f"{day} {page.number}: the page asks {wanted}, its bank transfer {to_send}"]
    for _, words in page.buttons:  # a button with an amount pays in full, or the plan chosen
        if re.search(r"\d", words) and minor(words) != to_send:
            return [f"{day} {page.number}: the page asks {to_send}, its card button {words}"]
    owed, overpaid, late = _after(books, day, page.number, to_send)
    on_plan = 'class="option chosen"' in page.html
    if overpaid:
        return [f"{day} {page.number}: sending {to_send} as the page asks overpays {overpaid}"]
    if late or (owed and not on_plan):
        return [f"{day} {page.number}: sending {to_send} as the page asks leaves {owed} owed"]
    return []


def _pdf_agrees(page: Page, pdf_owed: int | None) -> list[str]:
    if page.owed_today is not None and pdf_owed != page.owed_today:
        return [f"{page.number}: the page says {page.owed_today} is owed, the PDF {pdf_owed}"]
    return []


def _links_agree(books: Books, day: date, page: Page) -> list[str]:
    """A card button charges what its words say, and paying it settles what it is for."""
    found = []
    links = {str(record.url): record for record in books.payment_links}
    for url, words in page.buttons:
        record = links.get(url)
        if record is None:
            found.append(f"{day} {page.number}: a button to {url}, a link the books do not know")
            continue
        amount = money.to_minor(record.amount, record.currency)
        if re.search(r"\d", words) and minor(words) != amount:
            found.append(f"{day} {page.number}: the button says {words}, the link charges {amount}")
        plan, _, instalment = record.target.partition("#")
        more = {"plan": plan, "instalment": int(instalment)} if instalment else {}
        state = ledger(_paid_now(books, day, page.number, amount, **more), day)[page.number]
        if state.overpaid or (record.target == "full" and state.balance):
            found.append(
                f"{day} {page.number}: paying its {record.target} link of {amount} leaves "
                f"{state.balance} owed, {state.overpaid} overpaid"
            )
    return found


def _emails_agree(seen: Day) -> list[str]:
    found = []
    for client, stage, items, text in seen.emails:
        numbers = list(dict.fromkeys(item.split("#")[0] for item in items))
        for number in numbers:
            page = seen.pages.get(number)
            if page is None or page.to_send is None:
                continue
            line = next((ln for ln in text.splitlines() if number in ln and "- " in ln), "")
            if not line or minor(line.rsplit(":", 1)[-1]) != page.to_send:
                found.append(
                    f"{seen.day} {client} {stage}: {number} asks {line!r}, its page {page.to_send}"
                )
        charges = [c for n in numbers if n in seen.pages for c in seen.pages[n].charges]
        currencies = {seen.currencies[n] for n in numbers}
        if charges and len(currencies) == 1:
            total = sum(charges)
            if not any(minor(m) == total for m in _amounts_in(text)):
                found.append(
                    f"{seen.day} {client} {stage}: asks for fees and interest of {total} "
                    "without saying so"
                )
        if len(numbers) == 1 and any(word in text for word in PLURAL):
            found.append(f"{seen.day} {client} {stage}: says 'these invoices' of one")
        if stage in seen.notices:
            for number, page in seen.pages.items():
                if (
                    seen.clients[number] == client
                    and page.status == "overdue"
                    and page.final_notice_to_come
                    and number not in numbers
                ):
                    found.append(f"{seen.day} {client}: the final notice leaves out {number}")
    return found


def _amounts_in(text: str) -> list[str]:
    return re.findall(r"[^\s(]*\d[\d.,\u202f\xa0 ]*\d[^\s).]*", text)


def _report_agrees(seen: Day) -> list[str]:
    pages: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for number, page in seen.pages.items():
        if page.owed_today is not None:
            pages[seen.clients[number]][seen.currencies[number]] += page.owed_today
    found = []
    for client in set(pages) | set(seen.report_owed):
        said = {c: m for c, m in seen.report_owed.get(client, {}).items() if m}
        shown = {c: m for c, m in pages.get(client, {}).items() if m}
        if said != shown:
            found.append(f"{seen.day} {client}: the report says {said} owed, the pages {shown}")
    return found


def report_owed(report_json: str) -> dict[str, dict[str, int]]:
    """The report's `owed` per client, in minor units."""
    found: dict[str, dict[str, int]] = {}
    for record in json.loads(report_json)["clients"]:
        found[record["client"]] = {
            c: money.to_minor(Decimal(v), c) for c, v in record["owed"].items()
        }
    return found


def check_records(books: Books, since: date) -> list[str]:
    """What the record of messages from `since` must show: a hand-off only after a final notice
    was sent and its deadline passed; no client written to twice in `SPACING_DAYS` days,
    thank-yous aside, but for the invoice itself (an `issued` stage), which goes on its day
    whatever went before (and counts for what comes after)."""
    assert books.settings is not None
    deadlines = {
        s.name: s.deadline_days
        for stages in books.settings.policies.values()
        for s in stages
        if s.deadline_days
    }
    sent = [m for m in books.messages if m.status in ("sent", "task")]
    notices: dict[str, list[date]] = defaultdict(list)
    found = []
    for message in sorted(sent, key=lambda m: m.at):
        day = message.at.date()
        if message.stage in deadlines:
            for item in message.items:
                notices[item].append(day + timedelta(days=deadlines[message.stage]))
        if message.channel in ("collections", "legal") and day >= since:
            for item in message.items:
                if not any(deadline < day for deadline in notices[item]):
                    found.append(f"{day} {item}: handed off with no final notice's deadline passed")
    invoices = {s.name for stages in books.settings.policies.values() for s in stages if s.issued}
    by_client: dict[str, list[date]] = defaultdict(list)
    reminded: dict[str, set[date]] = defaultdict(set)  # days a client got more than an invoice
    for message in sent:
        if message.channel == "email" and message.stage != "thanks":
            by_client[message.client].append(message.at.date())
            if message.stage not in invoices:
                reminded[message.client].add(message.at.date())
    for client, days in by_client.items():
        unique = sorted(set(days))
        for earlier, later in itertools.pairwise(unique):
            if (
                later in reminded[client]
                and later >= since
                and (later - earlier).days < SPACING_DAYS
            ):
                found.append(f"{client}: written to on {earlier} and {later}")
    return found
