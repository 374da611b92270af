"""A client reads its pages and emails wholly in its language (words, dates, numbers, `lang` and
Content-Language, the plans' names, the stages of what happens next) when the theme and the texts
speak it; else wholly in the business's, and `check` says so once, naming the client and what is
missing."""

from __future__ import annotations

import email
import email.policy
import re
import shutil
from datetime import date
from email.message import EmailMessage
from pathlib import Path

import pytest
from click.testing import CliRunner

from notifier import addresses
from notifier.addresses import Secret
from notifier.books.checks import check_books
from notifier.cli import cli
from notifier.portal.site import build_site
from tests.scratch import example_books

SECRET = "languages test secret: not a real one"
DAY = "2026-11-23"

NEW_CLIENTS = """
- id: {id}
  name: {name}
  contacts:
    - name: {contact}
      email: cuentas@{id}.example.com
  address: {address}
  country: {country}
  locale: {locale}
  currency: EUR
"""
NEW_INVOICE = """
- number: {number}
  client: {id}
  issue_date: 2026-10-01
  due_date: 2026-11-19
  lines:
    - {{description: Brand workshop, quantity: 2, unit: day, unit_price: 1250.00}}
"""
# Issued on the day: its own email goes, and its plans are on offer (their schedule lies ahead).
NEW_ON_THE_DAY = """
- number: {number}
  client: {id}
  issue_date: 2026-11-23
  due_date: 2026-12-23
  lines:
    - {{description: Logo refresh, unit_price: 900.00}}
"""
ADDED = [
    ("oisin", "Oisín Design Ltd", "Oisín Byrne", "1 Grafton Street, Dublin", "IE", "en_IE", "HP-2026-104"),
    ("kurt", "Kurt Grafik GmbH", "Kurt Huber", "Ringstraße 4, Wien", "AT", "de_AT", "HP-2026-105"),
    ("chloe", "Chloé Studio SRL", "Chloé Dubois", "Rue Neuve 5, Bruxelles", "BE", "fr_BE", "HP-2026-106"),
    ("lucia", "Estudio Lucía SL", "Lucía Pérez", "Calle Mayor 1, Madrid", "ES", "es_ES", "HP-2026-101"),
    ("giulia", "Studio Giulia Srl", "Giulia Rossi", "Via Roma 2, Milano", "IT", "it_IT", "HP-2026-102"),
    ("joao", "Estúdio João Ltda", "João Silva", "Rua Augusta 3, São Paulo", "BR", "pt_BR", "HP-2026-103"),
]  # fmt: skip

# The invoice issued on the day, per client.
ON_THE_DAY = {ident: f"HP-2026-11{n}" for n, (ident, *_) in enumerate(ADDED, 1)}

# What each client's invoice page and email say, in the language they read.
EXPECTED = {
    # client: (lang, the heading of the ways to pay, the lines' amount label, the line's amount as
    # written, the due date as written)
    "oisin": ("en", "Ways to pay", "Amount", "€2,500.00", "19 November 2026"),
    "kurt": ("de", "Zahlungswege", "Betrag", "€\xa02.500,00", "19. November 2026"),
    "chloe": ("fr", "Moyens de paiement", "Montant", "2\u202f500,00\xa0€", "19 novembre 2026"),
    "lucia": ("es", "Formas de pago", "Importe", "2.500,00\xa0€", "19 de noviembre de 2026"),
    "giulia": ("it", "Modalità di pagamento", "Importo", "2.500,00\xa0€", "19 novembre 2026"),
    "joao": ("en", "Ways to pay", "Amount", "€2,500.00", "19 November 2026"),
}


@pytest.fixture(scope="module")
def books(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = example_books(tmp_path_factory.mktemp("languages"))
    clients = root / "data" / "clients.yaml"
    invoices = root / "data" / "invoices" / "2026.yaml"
    for ident, name, contact, address, country, locale, number in ADDED:
        fields = {
            "id": ident,
            "name": name,
            "contact": contact,
            "address": address,
            "country": country,
        }
        with clients.open("a", encoding="utf-8") as out:
            out.write(NEW_CLIENTS.format(locale=locale, **fields))
        with invoices.open("a", encoding="utf-8") as out:
            out.write(NEW_INVOICE.format(number=number, id=ident))
            out.write(NEW_ON_THE_DAY.format(number=ON_THE_DAY[ident], id=ident))
    return root


def joao_warning(root: Path) -> str:
    line = _client_line(root, "joao") + 7  # the client's `locale:`
    return (
        f"data/clients.yaml:{line}: warning: locale: client `joao` reads pt: the theme has no pt "
        "translation (site/locale/pt/), content/pages/terms.pt.md is missing and "
        "content/reminders/ has no pt text for invoice, courtesy, friendly, follow-up, final-notice, "
        "notice or thanks; their pages and their emails are in en_GB"
    )


def test_check_warns_once_of_a_language_the_theme_lacks(books):
    result = CliRunner().invoke(cli, ["--root", str(books), "check"])
    assert result.exit_code == 0, result.output
    assert result.stderr == joao_warning(books) + "\n"
    assert result.stdout.endswith(", 1 warning\n")


def test_texts_of_a_policy_no_client_follows_are_not_missed(books, tmp_path):
    root = tmp_path / "books"
    shutil.copytree(books, root)
    settings = root / "data" / "business.yaml"
    settings.write_text(
        settings.read_text(encoding="utf-8")
        + "  formal:\n    - {name: formal, day: 5, text: formal}\n",
        encoding="utf-8",
    )
    shutil.copyfile(
        root / "content/reminders/friendly.en.md", root / "content/reminders/formal.en.md"
    )
    _, problems = check_books(root)
    assert [str(p) for p in problems] == [joao_warning(root)]  # no es, it or pt `formal` is missed


@pytest.fixture(scope="module")
def site(books: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    loaded, problems = check_books(books)
    assert [p for p in problems if p.severity == "error"] == []
    out = tmp_path_factory.mktemp("site")
    build_site(books, loaded, date.fromisoformat(DAY), Secret(SECRET.encode(), False), out, None)
    return out


@pytest.mark.parametrize("client", EXPECTED)
def test_the_page_is_wholly_in_the_language_read(site, client):
    lang, heading, label, amount, due = EXPECTED[client]
    number = {a[0]: a[6] for a in ADDED}[client]
    folder = addresses.client_page(addresses.client_token(Secret(SECRET.encode(), False), client))
    page = (site / folder / f"{number}.html").read_text(encoding="utf-8")
    assert f'<html lang="{lang}">' in page
    assert f'<h2 id="pay">{heading}</h2>' in page
    assert f'<td class="num" data-label="{label}">{amount}</td>' in page  # the line
    assert due in page


@pytest.mark.parametrize(
    ("client", "language", "greeting"),
    [
        ("oisin", "en", "Dear Oisín Byrne,"),
        ("kurt", "de", "Guten Tag Kurt Huber,"),
        ("chloe", "fr", "Bonjour Chloé Dubois,"),
        ("lucia", "es", "Estimado/a Lucía Pérez:"),
        ("giulia", "it", "Gentile Giulia Rossi,"),
        ("joao", "en", "Dear João Silva,"),
    ],
)
def test_the_email_is_wholly_in_the_language_read(outbox, client, language, greeting):
    sent = [p for p in sorted(outbox.glob(f"*-{client}-*.eml")) if p.name != _invoice_email(client)]
    assert len(sent) == 1
    message = _message(sent[0])
    assert message["Content-Language"] == language
    text = _plain(message)
    assert text.startswith(greeting + "\n")
    html = message.get_body(preferencelist=("html",))
    assert html is not None
    assert f'<html lang="{language}">' in str(html.get_content())
    if client in EXPECTED:
        assert EXPECTED[client][4] in text  # the due date, as the page writes it


# Each client's plan on offer, as they read it: the books name it in en, de, fr, es and it (the
# Portuguese reader gets the business's English); the stages of what happens next, the same.
PLAN_AND_STAGES = {
    "oisin": ("3 monthly instalments", "Invoice", "Courtesy reminder", "Final notice",
              "Phone call"),
    "kurt": ("3 Monatsraten", "Rechnung", "Erinnerung vor Fälligkeit", "Letzte Mahnung", "Anruf"),
    "chloe": ("3 mensualités", "Facture", "Rappel de courtoisie", "Mise en demeure",
              "Appel téléphonique"),
    "lucia": ("3 cuotas mensuales", "Factura", "Recordatorio de cortesía", "Último requerimiento",
              "Llamada telefónica"),
    "giulia": ("3 rate mensili", "Fattura", "Promemoria di cortesia", "Diffida", "Telefonata"),
    "joao": ("3 monthly instalments", "Invoice", "Courtesy reminder", "Final notice",
             "Phone call"),
}  # fmt: skip


@pytest.mark.parametrize("client", PLAN_AND_STAGES)
def test_the_plan_and_the_stages_are_named_in_the_language_read(site, client):
    plan, invoice, courtesy, final_notice, call = PLAN_AND_STAGES[client]
    page = _page(site, client, ON_THE_DAY[client])
    offered = re.findall(r'<div class="option plan">\s*<h3>([^<]*)</h3>', page)
    assert offered == [plan]
    steps = re.findall(r"<li class=\"step-[^\"]*\"><strong>[^<]* · ([^<]*):</strong>", page)
    assert steps[:2] == [invoice, courtesy]  # the invoice's own email goes today
    assert call in steps
    assert final_notice in steps


@pytest.mark.parametrize("client", PLAN_AND_STAGES)
def test_the_invoice_email_names_the_plan_in_the_language_read(outbox, client):
    text = _plain(_message(outbox / _invoice_email(client)))
    # "Or pay invoice HP-2026-111 in 3 monthly instalments, the first of €300.00 now"
    assert re.search(rf"{ON_THE_DAY[client]} (in|en) {PLAN_AND_STAGES[client][0]}, ", text)


def test_a_name_missing_in_a_language_falls_back_and_a_custom_stage_goes_by_its_name(
    books, tmp_path
):
    """A plan named in French and German only: the German reader reads German, the others the
    first given (the business's English is not there either). A stage with words of its own is
    called by its name, which the business chose."""
    root = tmp_path / "books"
    shutil.copytree(books, root)
    settings = root / "data" / "business.yaml"
    text = settings.read_text(encoding="utf-8")
    text = re.sub(
        r"(  - id: three-monthly\n    name:\n)(      \w\w: .*\n)+",
        r"\1      fr: 3 mensualités\n      de: 3 Monatsraten\n",
        text,
    )
    text = text.replace(
        "    - {name: call, day: 30, channel: phone, text: call}\n",
        "    - {name: einschreiben, day: 28, text: registered-letter}\n"
        "    - {name: call, day: 30, channel: phone, text: call}\n",
        1,
    )
    settings.write_text(text, encoding="utf-8")
    for language in ("en", "de"):
        texts = root / "content" / "reminders"
        shutil.copyfile(
            texts / f"friendly.{language}.md", texts / f"registered-letter.{language}.md"
        )
    loaded, problems = check_books(root)
    assert [p for p in problems if p.severity == "error"] == []
    out = tmp_path / "site"
    build_site(root, loaded, date.fromisoformat(DAY), Secret(SECRET.encode(), False), out, None)
    for client, plan in [("kurt", "3 Monatsraten"), ("giulia", "3 mensualités"),
                         ("oisin", "3 mensualités")]:  # fmt: skip
        page = _page(out, client, ON_THE_DAY[client])
        assert re.findall(r'<div class="option plan">\s*<h3>([^<]*)</h3>', page) == [plan]
    steps = _steps(_page(out, "kurt", ON_THE_DAY["kurt"]))
    assert "20. Jänner 2027 · einschreiben: Wir senden Ihnen eine Erinnerung per E-Mail." in steps


# Words of the theme (and of the plans' names) that would give English away on a page in another
# language. Whole words, as written: the books' own words (the business's address, a bank's note,
# a line's description) are the business's, in the language it wrote them.
ENGLISH = (
    "Invoice", "Amount", "Due", "Total", "Subtotal", "Paid", "Owed", "Pay", "Open", "Overdue",
    "instalment", "instalments", "monthly", "weekly", "reminder", "Courtesy", "Friendly",
    "Follow-up", "Final notice", "Phone call", "Collections", "What happens next", "Ways to pay",
    "Account name", "Reference", "Download", "Quantity", "Unit price", "Tax", "Statement",
    "Your", "We will", "today",
)  # fmt: skip


def test_a_german_page_has_no_english_word(site):
    pages = [_page(site, "kurt", number) for number in ("HP-2026-105", ON_THE_DAY["kurt"])]
    pages.append(_page(site, "kurt", "index"))
    for page in pages:
        seen = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))
        found = [w for w in ENGLISH if re.search(rf"(?<![\w-]){re.escape(w)}(?![\w-])", seen)]
        assert found == [], seen


@pytest.fixture(scope="module")
def outbox(books: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What `remind` sends on the day: each client's reminder and the invoice issued that day."""
    out = tmp_path_factory.mktemp("outbox")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("NOTIFIER_SECRET", SECRET)
        result = CliRunner().invoke(
            cli,
            ["--root", str(books), "remind", "--as-of", DAY, "--outbox", str(out),
             "--allow-stale-payments"],
        )  # fmt: skip
    assert result.exit_code == 0, result.output
    return out


def _invoice_email(client: str) -> str:
    return f"{DAY.replace('-', '')}-{client}-invoice.eml"


def _message(path: Path) -> EmailMessage:
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def _plain(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    return str(body.get_content())


def _steps(page: str) -> list[str]:
    """What happens next, a step a line, as read."""
    found = re.findall(r'<li class="step-[^"]*">(.*?)</li>', page)
    return [re.sub(r"<[^>]+>", "", step) for step in found]


def _page(site: Path, client: str, name: str) -> str:
    folder = addresses.client_page(addresses.client_token(Secret(SECRET.encode(), False), client))
    return (site / folder / f"{name}.html").read_text(encoding="utf-8")


def _client_line(root: Path, ident: str) -> int:
    lines = (root / "data" / "clients.yaml").read_text(encoding="utf-8").splitlines()
    return next(n for n, line in enumerate(lines, 1) if re.fullmatch(f"- id: {ident}", line))
