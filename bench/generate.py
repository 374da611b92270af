"""Synthetic books for the benchmark: `python bench/generate.py OUT_DIR --invoices N --clients M`.

Writes a complete books folder (data/, content/, site/) in the project's real schema, with the mix of
states, currencies, languages, plans and policies of the example books, as of 2026-11-23. The
same seed gives the same bytes: everything comes from `random.Random(seed)`, nothing from the clock.

`--payments ROWS` also writes OUT_DIR/stripe-payments.csv, a Stripe Payments export (the default
columns) whose rows name the generated invoices; it is streamed to disk, row by row.
`--one-reminder-each` writes instead one invoice per client, each owing its first reminder email
on the reference date (for timing a send of that many messages).
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import shutil
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
AS_OF = date(2026, 11, 23)
PER_FILE = 1000  # invoices per file in data/invoices/
BUSINESS = "Harbour & Pine Studio"

# The header of Stripe's Payments export with its default columns, as in
# tests/fixtures/stripe/payments-default.csv (and demo-payments.csv).
STRIPE_HEADER = [
    "id",
    "Created date (UTC)",
    "Amount",
    "Amount Refunded",
    "Currency",
    "Captured",
    "Converted Amount",
    "Converted Amount Refunded",
    "Converted Currency",
    "Decline Reason",
    "Description",
    "Fee",
    "Refunded date (UTC)",
    "Statement Descriptor",
    "Status",
    "Seller Message",
    "Taxes On Fee",
    "Card ID",
    "Customer ID",
    "Customer Description",
    "Customer Email",
    "Invoice ID",
    "Transfer",
    "invoice (metadata)",
    "instalment (metadata)",
]

POLICIES: dict[str, list[tuple[str, int, str]]] = {  # name, day, channel (as in data/business.yaml)
    "standard": [
        ("courtesy", -3, "email"),
        ("friendly", 1, "email"),
        ("follow-up-1", 10, "email"),
        ("follow-up-2", 21, "email"),
        ("call", 30, "phone"),
        ("final-notice", 45, "email"),
        ("collections", 70, "collections"),
    ],
    "gentle": [
        ("courtesy", -5, "email"),
        ("friendly", 3, "email"),
        ("follow-up-1", 17, "email"),
        ("call", 40, "phone"),
        ("final-notice", 60, "email"),
        ("collections", 100, "collections"),
    ],
    "strict": [
        ("courtesy", -3, "email"),
        ("friendly", 1, "email"),
        ("follow-up-1", 7, "email"),
        ("call", 14, "phone"),
        ("final-notice", 21, "email"),
        ("legal", 35, "legal"),
    ],
}


@dataclass(frozen=True)
class Profile:
    """A kind of client, after one in the example books."""

    country: str
    locale: str
    currency: str
    timezone: str
    tax_rate: int  # percent on every line
    terms: str  # YAML lines of the client's `terms:` block (indented), or ""
    policy: str | None
    weight: int


UK = "      regime: uk_statutory\n      reference_rate: 4.00%\n"
EU = "      regime: eu_statutory\n      reference_rate: 2.15%\n"
PROFILES = (
    Profile("GB", "en_GB", "GBP", "Europe/London", 20, "    late_payment:\n" + UK, None, 30),
    Profile(
        "DE",
        "de_DE",
        "EUR",
        "Europe/Berlin",
        0,
        "    late_payment:\n" + EU + "    plans: [three-monthly, six-monthly]\n",
        None,
        20,
    ),
    Profile("FR", "fr_FR", "EUR", "Europe/Paris", 0, "    late_payment:\n" + EU, None, 15),
    Profile("JP", "en", "JPY", "Asia/Tokyo", 0, "", None, 10),
    Profile("US", "en_US", "USD", "America/Los_Angeles", 0, "", "gentle", 15),
    Profile("NL", "en_NL", "EUR", "Europe/Amsterdam", 0, "    late_payment:\n" + EU, "strict", 10),
)

NAMES_A = [
    "Brightwater",
    "Northfield",
    "Kessler",
    "Morel",
    "Tanaka",
    "Harbourside",
    "Vandermeer",
    "Ashgrove",
    "Linden",
    "Corvid",
    "Saffron",
    "Meridian",
    "Halden",
    "Orchard",
    "Quayside",
    "Fennel",
    "Juniper",
    "Alder",
    "Marlow",
    "Wren",
    "Kestrel",
    "Tamarind",
]
NAMES_B = [
    "Coffee",
    "Outdoor",
    "Maschinen",
    "Atelier",
    "Shoten",
    "Dental",
    "Architecten",
    "Books",
    "Bakery",
    "Studio",
    "Cycles",
    "Optics",
    "Gallery",
    "Foods",
    "Press",
    "Textiles",
    "Ceramics",
    "Records",
    "Joinery",
    "Labs",
]
SUFFIX = {"GB": "Ltd", "DE": "GmbH", "FR": "SARL", "JP": "K.K.", "US": "Co.", "NL": "B.V."}
WORK = (
    "Packaging refresh",
    "Brand guidelines",
    "Trade fair stand graphics",
    "Catalogue photography art direction",
    "Website refresh, practice pages",
    "Exhibition catalogue design",
    "Retail signage adaptations",
    "Operator manual layout",
    "Illustration, seasonal set",
    "Café menu boards",
    "Typeface licence",
    "Product film storyboard",
)

# What each generated invoice is on 2026-11-23, and how often (per 1,000).
KINDS = (
    ("paid", 330),
    ("paid-early", 50),
    ("open", 60),
    ("early-window", 60),
    ("due-soon", 60),
    ("overdue", 180),
    ("overdue-part-paid", 20),
    ("partially-paid", 40),
    ("deposit", 20),
    ("plan", 50),
    ("promised", 30),
    ("disputed", 20),
    ("void", 30),
    ("draft", 50),
)


@dataclass
class Client:
    id: str
    profile: Profile
    email: str
    policy: str


@dataclass
class Invoice:
    number: str
    client: Client
    kind: str
    issue: date
    to_pay: int  # minor units
    yaml: str
    payable: bool = False  # money is expected (an open status): the export pays these
    plan_next: int | None = None  # on a plan: the next instalment not yet paid


@dataclass
class Books:
    clients: list[Client] = field(default_factory=list)
    invoices: list[Invoice] = field(default_factory=list)
    payments: list[str] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)


def q(text: str) -> str:
    """A YAML double-quoted scalar (JSON strings are valid YAML)."""
    return json.dumps(text, ensure_ascii=False)


def places(currency: str) -> int:
    return 0 if currency == "JPY" else 2


def major(minor: int, currency: str) -> str:
    if places(currency) == 0:
        return str(minor)
    return f"{minor // 100}.{minor % 100:02d}"


def percent_of(minor: int, percent: int) -> int:
    """`percent`% of `minor`, rounded once, half away from zero (amounts are not negative)."""
    return (minor * percent + 50) // 100


def split(total: int, parts: int) -> list[int]:
    """A plan's instalments: equal parts, the first ones taking the remainder."""
    base, rest = divmod(total, parts)
    return [base + (1 if i < rest else 0) for i in range(parts)]


def add_months(day: date, months: int) -> date:
    """The same day `months` later (days here are at most 28, so it always exists)."""
    month = day.month - 1 + months
    return date(day.year + month // 12, month % 12 + 1, day.day)


def days_between(rng: random.Random, start: date, end: date) -> date:
    return start + timedelta(days=rng.randint(0, (end - start).days))


def pick_kind(rng: random.Random) -> str:
    return rng.choices([k for k, _ in KINDS], weights=[w for _, w in KINDS])[0]


def make_clients(rng: random.Random, count: int) -> list[Client]:
    clients = []
    weights = [p.weight for p in PROFILES]
    for index in range(count):
        profile = rng.choices(PROFILES, weights=weights)[0]
        ident = f"c{index + 1:06d}-{rng.choice(NAMES_A).lower()}"
        clients.append(
            Client(ident, profile, f"accounts@{ident}.example.com", profile.policy or "standard")
        )
    return clients


def client_yaml(rng: random.Random, client: Client, index: int, paused: bool) -> str:
    p = client.profile
    name = f"{rng.choice(NAMES_A)} {rng.choice(NAMES_B)} {SUFFIX[p.country]}"
    lines = [
        f"- id: {client.id}",
        f"  name: {q(name)}",
        "  contacts:",
        f"    - name: {q('Accounts ' + str(index + 1))}",
        f"      email: {client.email}",
        f"  address: {q(f'{index + 1} Example Street')}",
        f"  country: {p.country}",
        f"  locale: {p.locale}",
        f"  currency: {p.currency}",
        f"  timezone: {p.timezone}",
    ]
    if client.policy != "standard":
        lines.append(f"  policy: {client.policy}")
    if p.terms:
        lines.append("  terms:\n" + p.terms.rstrip("\n"))
    if paused:
        lines.append(
            "  pause:\n    until: 2026-12-01\n    reason: Owner away; agreed to pick this up in December"
        )
    return "\n".join(lines) + "\n"


def make_lines(rng: random.Random, client: Client) -> tuple[list[str], int]:
    """An invoice's lines (YAML) and their sum in minor units, before discount and tax."""
    p = client.profile
    lines, total = [], 0
    for _ in range(rng.choice((1, 1, 2, 3))):
        quantity = rng.choice((1, 1, 1, 2, 3, 6, 12))
        if p.currency == "JPY":
            price = rng.randint(10, 1500) * 1000
        else:
            price = rng.randint(80, 9000) * 100 + rng.choice((0, 0, 50))
        total += quantity * price
        fields = [f"description: {q(rng.choice(WORK))}"]
        if quantity != 1:
            fields.append(f"quantity: {quantity}")
        fields.append(f"unit_price: {major(price, p.currency)}")
        if p.tax_rate:
            fields.append(f"tax_rate: {p.tax_rate}%")
        lines.append("    - {" + ", ".join(fields) + "}")
    return lines, total


class Generator:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.books = Books()
        self.payment_count = 0

    def pay(
        self,
        invoice: str,
        client: Client,
        day: date,
        minor: int,
        *,
        stripe: bool,
        plan: str | None = None,
        instalment: int | None = None,
    ) -> None:
        self.payment_count += 1
        currency = client.profile.currency
        if stripe:
            head = f"id: ch_BENCH{self.payment_count:08d}"
        else:
            head = f"id: bank-{day:%Y%m%d}-{self.payment_count:08d}"
        parts = [
            head,
            f"invoice: {invoice}",
            f"date: {day}",
            f"amount: {major(minor, currency)}",
            f"currency: {currency}",
            f"method: {'stripe' if stripe else 'bank'}",
        ]
        if plan:
            parts += [f"plan: {plan}", f"instalment: {instalment}"]
        self.books.payments.append("- {" + ", ".join(parts) + "}")

    def remind(self, number: str, client: Client, due: date, late: int) -> None:
        """Record the stages an invoice `late` days past its due date has had, as the tool would
        have: usually all of them, sometimes all but the latest (so one is due today)."""
        stages = [s for s in POLICIES[client.policy] if s[1] <= late]
        if stages and self.rng.random() < 0.4:
            stages = stages[:-1]
        for name, day, channel in stages:
            sent = due + timedelta(days=day)
            ident = f"{sent:%Y%m%d}-{client.id}-{name}-{number}"
            at = f"{sent}T09:00:00Z"
            if channel == "email":
                self.books.messages.append(
                    f"- {{id: {ident}, at: {at}, client: {client.id}, stage: {name}, "
                    f"channel: email, items: [{number}], status: sent, to: [{client.email}]}}"
                )
            else:
                status = "done" if self.rng.random() < 0.7 else "task"
                note = ", note: Called; they will look into it" if status == "done" else ""
                self.books.messages.append(
                    f"- {{id: {ident}, at: {at}, client: {client.id}, stage: {name}, "
                    f"channel: {channel}, items: [{number}], status: {status}{note}}}"
                )

    def invoice(self, number: str, client: Client, kind: str) -> Invoice:
        rng = self.rng
        currency = client.profile.currency
        lines, subtotal = make_lines(rng, client)
        extra: list[str] = []
        discount = 0
        if kind in ("open", "overdue", "paid") and rng.random() < 0.15:
            percent = rng.choice((5, 10))
            discount = percent_of(subtotal, percent)
            extra.append(f"  discount: {{percent: {percent}, reason: Loyalty discount}}")
        base = subtotal - discount
        total = base + percent_of(base, client.profile.tax_rate)
        to_pay = total
        payable = True
        plan_next = None
        late: int | None = None  # days past due, for the reminders already sent
        if kind == "draft":
            issue = days_between(rng, date(2026, 11, 18), date(2026, 12, 15))
            if issue <= AS_OF or rng.random() < 0.5:
                extra.append("  draft: true")
            payable = False
        elif kind == "open":
            issue = days_between(rng, date(2026, 11, 1), date(2026, 11, 12))
        elif kind == "early-window":
            issue = days_between(rng, date(2026, 11, 14), AS_OF)
        elif kind == "due-soon":
            issue = days_between(rng, date(2026, 10, 25), date(2026, 10, 31))
            late = (AS_OF - issue).days - 30
        elif kind in ("overdue", "overdue-part-paid", "promised"):
            late = rng.choice((1, 2, 5, 9, 12, 20, 25, 33, 40, 50, 65, 80, 120, 200))
            issue = AS_OF - timedelta(days=late + 30)
            if kind == "overdue-part-paid":
                part = max(1, to_pay * rng.randint(20, 60) // 100)
                self.pay(number, client, issue + timedelta(days=20), part, stripe=True)
            if kind == "promised":
                made = AS_OF - timedelta(days=rng.randint(0, 10))
                made = max(made, issue + timedelta(days=31))
                by = AS_OF + timedelta(days=rng.randint(0, 20))
                extra.append(
                    f"  promise:\n    by: {by}\n    made: {made}\n"
                    "    note: Will pay once the budget is approved."
                )
                late = min(late, (made - issue).days - 30)
        elif kind == "partially-paid":
            issue = days_between(rng, date(2026, 10, 25), date(2026, 11, 18))
            part = max(1, to_pay * rng.randint(20, 60) // 100)
            self.pay(number, client, days_between(rng, issue, AS_OF), part, stripe=False)
            late = (AS_OF - issue).days - 30
        elif kind == "deposit":
            issue = days_between(rng, date(2026, 10, 26), date(2026, 11, 20))
            deposit = max(1, total * 3 // 10)
            to_pay = total - deposit
            extra.append(
                f"  deposit: {{amount: {major(deposit, currency)}, date: {issue - timedelta(days=5)}, "
                "reference: Deposit}"
            )
            late = (AS_OF - issue).days - 30
        elif kind == "plan":
            due = date(2026, rng.choice((9, 10)), rng.randint(1, 28))
            issue = due - timedelta(days=30)
            parts = split(to_pay, 3)
            paid = 2 if due.month == 9 else 1
            for i in range(paid):
                day = add_months(due, i) - timedelta(days=rng.randint(0, 3))
                self.pay(
                    number,
                    client,
                    day,
                    parts[i],
                    stripe=True,
                    plan="three-monthly",
                    instalment=i + 1,
                )
            plan_next = paid + 1
        elif kind == "disputed":
            issue = days_between(rng, date(2026, 7, 1), date(2026, 9, 30))
            since = issue + timedelta(days=30 + rng.randint(1, 20))
            extra.append(
                f"  dispute:\n    since: {since}\n"
                "    reason: Client says the extra revision round was not agreed"
            )
            payable = False
        elif kind == "void":
            issue = days_between(rng, date(2026, 6, 1), date(2026, 11, 10))
            extra.append(
                f"  void:\n    date: {issue + timedelta(days=rng.randint(1, 10))}\n"
                "    reason: Issued to the wrong legal entity; replaced"
            )
            payable = False
        elif kind == "paid":
            issue = days_between(rng, date(2026, 3, 1), date(2026, 11, 10))
            paid_on = issue + timedelta(days=rng.randint(11, 45))
            paid_on = min(paid_on, AS_OF)
            self.pay(number, client, paid_on, to_pay, stripe=rng.random() < 0.6)
            payable = False
        elif kind == "paid-early":
            issue = days_between(rng, date(2026, 3, 1), date(2026, 11, 13))
            paid_on = issue + timedelta(days=rng.randint(0, 10))
            amount = to_pay - percent_of(total, 2)
            self.pay(number, client, paid_on, amount, stripe=True)
            payable = False
        else:
            raise ValueError(kind)
        if late is None:
            late = (AS_OF - issue).days - 30
        if kind != "plan" and late > -5 and payable:
            self.remind(number, client, issue + timedelta(days=30), late)
        if kind in ("open", "overdue") and rng.random() < 0.03 and to_pay >= 2:
            # An agreed plan of two parts, offered beside the usual ones (not chosen).
            first, second = to_pay - to_pay // 2, to_pay // 2
            due = issue + timedelta(days=30)
            extra.append(
                "  custom_plan:\n    name: Two payments, as agreed\n    instalments:\n"
                f"      - {{due_date: {due}, amount: {major(first, currency)}}}\n"
                f"      - {{due_date: {due + timedelta(days=30)}, amount: {major(second, currency)}}}"
            )
        head = [f"- number: {number}", f"  client: {client.id}", f"  issue_date: {issue}"]
        if rng.random() < 0.1:
            head.append(f"  purchase_order: PO-{rng.randint(1000, 9999)}")
        text = "\n".join([*head, "  lines:", *lines, *extra]) + "\n"
        return Invoice(number, client, kind, issue, to_pay, text, payable, plan_next)


def business_yaml(per_run: int | None) -> str:
    text = (REPO / "data" / "business.yaml").read_text(encoding="utf-8")
    if per_run is not None:
        text = text.replace("\nreminders:\n", f"\nreminders:\n  per_run: {per_run}\n", 1)
    return text


def write_books(
    out: Path,
    invoices: int,
    clients: int,
    seed: int = 1,
    *,
    one_reminder_each: bool = False,
) -> list[Invoice]:
    """Write the books under `out` (which must not hold books yet); return the invoices."""
    gen = Generator(seed)
    rng = gen.rng
    for part in ("content", "site"):
        shutil.copytree(REPO / part, out / part, dirs_exist_ok=True)
    data = out / "data"
    (data / "invoices").mkdir(parents=True, exist_ok=True)
    (data / "records").mkdir(parents=True, exist_ok=True)
    the_clients = make_clients(rng, clients)
    if one_reminder_each:  # every client on one policy, so each owes the same stage today
        for client in the_clients:
            client.policy = "standard"
    if one_reminder_each:
        invoices = clients
    (data / "business.yaml").write_text(
        business_yaml(max(1000, clients) if one_reminder_each else None), encoding="utf-8"
    )
    with (data / "clients.yaml").open("w", encoding="utf-8") as handle:
        handle.write(f"# {clients} generated clients (bench/generate.py, seed {seed}).\n")
        for index, client in enumerate(the_clients):
            paused = not one_reminder_each and rng.random() < 0.03
            handle.write("\n" + client_yaml(rng, client, index, paused))
    made: list[Invoice] = []
    for index in range(invoices):
        number = f"BN-2026-{index + 1:06d}"
        if one_reminder_each:
            # Due yesterday, courtesy sent: the `friendly` email is due today for every client.
            client = the_clients[index]
            lines, subtotal = make_lines(rng, client)
            issue = AS_OF - timedelta(days=31)
            gen.remind(number, client, issue + timedelta(days=30), -3)
            text = "\n".join(
                [
                    f"- number: {number}",
                    f"  client: {client.id}",
                    f"  issue_date: {issue}",
                    "  lines:",
                    *lines,
                ]
            )
            made.append(Invoice(number, client, "overdue", issue, subtotal, text + "\n", True))
        else:
            client = rng.choice(the_clients)
            made.append(gen.invoice(number, client, pick_kind(rng)))
    for start in range(0, len(made), PER_FILE):
        chunk = made[start : start + PER_FILE]
        path = data / "invoices" / f"2026-{start // PER_FILE + 1:04d}.yaml"
        with path.open("w", encoding="utf-8") as handle:
            handle.write(f"# Generated invoices {chunk[0].number} to {chunk[-1].number}.\n")
            for invoice in chunk:
                handle.write("\n" + invoice.yaml)
    records = data / "records"
    (records / "payments.yaml").write_text(
        "# Payments received, one per line.\n" + "".join(p + "\n" for p in gen.books.payments),
        encoding="utf-8",
    )
    (records / "messages.yaml").write_text(
        "# Every reminder sent and task created, one per line.\n"
        + "".join(m + "\n" for m in gen.books.messages),
        encoding="utf-8",
    )
    (records / "imports.yaml").write_text(
        "# Every import of payments, one per line.\n"
        "- {at: '2026-11-23T06:00:00Z', source: stripe-payments-2026-11-23.csv, "
        "newest: 2026-11-22, rows: 0, applied: 0, review: 0}\n",
        encoding="utf-8",
    )
    (records / "payment-links.yaml").write_text(
        "# Stripe Payment Links made by `notifier links`, one per line.\n", encoding="utf-8"
    )
    return made


def stripe_rows(rng: random.Random, payable: list[Invoice], count: int) -> Iterator[list[str]]:
    """`count` rows of a Payments export, each paying a little of one invoice in `payable`."""
    for index in range(count):
        invoice = payable[rng.randrange(len(payable))]
        currency = invoice.client.profile.currency
        amount = max(1, invoice.to_pay // 500)
        when = f"2026-11-{rng.randint(1, 22):02d} {rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}"
        roll = rng.random()
        status, captured, decline, refunded, refunded_on = "Paid", "true", "", 0, ""
        message = "Payment complete."
        if roll < 0.04:
            status, captured, decline = "Failed", "false", "card_declined"
            message = "The bank did not return any further details with this decline."
        elif roll < 0.07:
            status, refunded, refunded_on = "Refunded", amount, "2026-11-22 12:00:00"
        elif roll < 0.09:
            status = "Pending"
            message = ""
        by_metadata = rng.random() < 0.7
        instalment = ""
        if by_metadata and invoice.plan_next is not None:
            instalment = f"three-monthly#{invoice.plan_next}"
        amount_text = major(amount, currency)
        yield [
            f"ch_3BENCH{index:010d}",
            when,
            amount_text,
            major(refunded, currency),
            currency.lower(),
            captured,
            "" if status == "Failed" else amount_text,
            "" if status == "Failed" else major(refunded, currency),
            "" if status == "Failed" else currency.lower(),
            decline,
            f"Invoice {invoice.number} from {BUSINESS}",
            "" if status == "Failed" else major(max(1, amount // 50), currency),
            refunded_on,
            "HARBOURPINE",
            status,
            message,
            "0.00",
            "",
            "",
            "",
            invoice.client.email,
            "",
            "",
            invoice.number if by_metadata else "",
            instalment,
        ]


def write_export(path: Path, invoices: list[Invoice], rows: int, seed: int) -> None:
    """The Payments export, written row by row (memory does not grow with `rows`)."""
    payable = [invoice for invoice in invoices if invoice.payable] or invoices
    rng = random.Random(f"stripe-{seed}")
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(STRIPE_HEADER)
        batch: list[list[str]] = []
        for row in stripe_rows(rng, payable, rows):
            batch.append(row)
            if len(batch) >= 10000:
                writer.writerows(batch)
                batch.clear()
        writer.writerows(batch)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("out", type=Path, help="the folder to write (data/, content/, site/)")
    parser.add_argument("--invoices", type=int, required=True)
    parser.add_argument("--clients", type=int, required=True)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--payments", type=int, default=0, metavar="ROWS")
    parser.add_argument(
        "--one-reminder-each",
        action="store_true",
        help="one invoice per client, each owing one reminder email on 2026-11-23",
    )
    args = parser.parse_args(argv)
    if args.invoices < 1 or args.clients < 1:
        parser.error("--invoices and --clients must be at least 1")
    if (args.out / "data").exists():
        parser.error(f"{args.out}/data already exists; choose an empty folder")
    invoices = write_books(
        args.out,
        args.invoices,
        args.clients,
        args.seed,
        one_reminder_each=args.one_reminder_each,
    )
    if args.payments:
        write_export(args.out / "stripe-payments.csv", invoices, args.payments, args.seed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
