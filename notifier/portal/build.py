"""Build the portal: every client's private pages, from the books as of a date, into one folder.

One template environment and one ledger per build; each client's pages are rendered in the client's
language and formats. The output depends only on the books, the theme, the content, the secret and
the as-of date: no clock, no network."""

from __future__ import annotations

import contextlib
import hashlib
import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import jinja2
from babel.support import NullTranslations
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from jinja2.bccache import Bucket, FileSystemBytecodeCache
from markupsafe import Markup, escape

from notifier import formatting, languages, money
from notifier.account import account_of
from notifier.addresses import Secret
from notifier.books.load import Books
from notifier.books.translated import Translated
from notifier.brand import Brand, brand_of
from notifier.files import write_atomically
from notifier.portal import i18n
from notifier.portal.content import localised, render_markdown
from notifier.portal.documents import (
    Pending,
    calendar_schedule,
    document_key,
    documents_digest,
    due_dates_calendar,
    epc_qr_svg,
    new_build,
    pdf_of,
    printed_key,
    template_variables,
)
from notifier.portal.last_build import code_digest
from notifier.portal.shown import Shown
from notifier.portal.views import ClientView, InvoiceView, client_views
from notifier.printer import Printer
from notifier.report.charts import bar_chart
from notifier.report.receivables import BUCKETS, HORIZON_DAYS, PERIOD_DAYS, Report

# No request may leave for another host: styles and images from this site only, no scripts at all.
CSP = "default-src 'none'; style-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'"
ROBOTS = b"User-agent: *\nDisallow: /\n"
# For static hosts that read a _headers file (Netlify, Cloudflare Pages); the pages say the same in
# <meta> for hosts that do not (GitHub Pages).
HEADERS = (
    "/*\n"
    "  X-Robots-Tag: noindex, nofollow, noarchive\n"
    "  Referrer-Policy: no-referrer\n"
    f"  Content-Security-Policy: {CSP}; frame-ancestors 'none'\n"
    "  X-Content-Type-Options: nosniff\n"
).encode()


@dataclass(frozen=True)
class Formatter:
    """Amounts, numbers and dates in one locale, for the templates. Results are remembered (see
    `formatting`): a page and its PDF's HTML show the same amounts and dates many times over."""

    locale: str
    business_locale: str = ""  # a plan's name falls back to its language (see `name`)

    def amount(self, minor: int, currency: str) -> str:
        return formatting.amount(minor, currency, self.locale)

    def major(self, value: Decimal, currency: str) -> str:
        return formatting.amount(money.to_minor(value, currency), currency, self.locale)

    def day(self, value: date, style: formatting.DateStyle = "long") -> str:
        return formatting.day(value, self.locale, style)

    def number(self, value: Decimal) -> str:
        return formatting.number(value, self.locale)

    def percent(self, value: Decimal) -> str:
        return formatting.percent(value, self.locale)

    def month(self, value: date) -> str:
        """`Nov` for en, `Nov.` for de: a month's short name, as the charts label their bars."""
        return formatting.month(value, self.locale)

    def name(self, words: Translated) -> str:
        """A name the books give in one language or several (a plan's), in the reader's."""
        return formatting.name(words, self.locale, self.business_locale or self.locale)


def _nl2br(text: str) -> Markup:
    return Markup("<br>").join(escape(line) for line in text.strip().splitlines())


class Theme:
    """The templates and translations of `site/`, loaded once per build (a build's templates do
    not change while it runs: they are not checked again before each page).

    With a `cache` folder, what a build learns of the templates is kept there for the next one:
    each template compiled (Jinja's bytecode, checked against the template's source), and what
    each template reads (see `variables`), so that a build compiles and parses only templates
    that changed."""

    def __init__(self, root: Path, cache: Path | None = None) -> None:
        self.folder = root / "site"
        self._kept = _compiled_folder(cache) if cache is not None else None
        self.environment = Environment(
            loader=FileSystemLoader(self.folder / "templates"),
            autoescape=select_autoescape(["html"]),
            undefined=StrictUndefined,
            extensions=["jinja2.ext.i18n"],
            trim_blocks=True,
            lstrip_blocks=True,
            auto_reload=False,
            bytecode_cache=_CompiledTemplates(self._kept) if self._kept is not None else None,
        )
        self.environment.filters["nl2br"] = _nl2br
        self.environment.install_null_translations(newstyle=True)  # type: ignore[attr-defined]
        self.translations = i18n.load_translations(self.folder)
        self.css = (self.folder / "static" / "style.css").read_text(encoding="utf-8")
        self._functions: dict[str, dict[str, Any]] = {}
        self._reads: dict[str, frozenset[str] | None] = {}

    def render(self, template: str, language: str, **context: Any) -> str:
        functions = self._functions.get(language)
        if functions is None:
            functions = self._functions[language] = i18n.template_functions(self.words(language))
        return self.environment.get_template(template).render(**functions, csp=CSP, **context)

    def words(self, language: str) -> NullTranslations:
        return i18n.for_language(self.translations, language)

    def variables(self, template: str) -> frozenset[str] | None:
        """The variables `template` reads (see `template_variables`), worked out once per build
        and, with a cache, once per version of the templates."""
        if template in self._reads:
            return self._reads[template]
        kept = self._kept_variables()
        if template in kept:
            reads = kept[template]
        else:
            reads = kept[template] = _frozen(template_variables(self.environment, template))
            if self._kept is not None:
                listed = {name: None if v is None else sorted(v) for name, v in kept.items()}
                data = {"sources": self._sources_digest(), "variables": listed}
                with contextlib.suppress(OSError):  # only a help to the next build
                    write_atomically(self._kept / VARIABLES, json.dumps(data).encode())
        self._reads[template] = reads
        return reads

    def _kept_variables(self) -> dict[str, frozenset[str] | None]:
        """What the templates read, as the last build that worked it out kept it, if the templates
        are as they were then; else nothing."""
        if self._kept is None:
            return {}
        try:
            data = json.loads((self._kept / VARIABLES).read_text(encoding="utf-8"))
            if data["sources"] != self._sources_digest():
                return {}
            return {
                name: None if names is None else frozenset(str(n) for n in names)
                for name, names in data["variables"].items()
            }
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return {}

    def _sources_digest(self) -> str:
        """A digest of every template's name and source."""
        loader = self.environment.loader
        assert loader is not None
        digest = hashlib.sha256()
        for name in sorted(loader.list_templates()):
            source = loader.get_source(self.environment, name)[0]
            digest.update(f"{name}\0{len(source)}\0{source}".encode())
        return digest.hexdigest()

    def static_files(self) -> Iterator[tuple[str, bytes]]:
        static = self.folder / "static"
        for path in sorted(p for p in static.rglob("*") if p.is_file()):
            yield f"assets/{path.relative_to(static).as_posix()}", path.read_bytes()


VARIABLES = "variables.json"  # beside the compiled templates: what each template reads


def _frozen(names: set[str] | None) -> frozenset[str] | None:
    return None if names is None else frozenset(names)


def _compiled_folder(cache: Path) -> Path:
    """The folder in `cache` for what is learnt of the templates, one per version of the code and
    of Jinja (how a template compiles depends on both: the environment's options, the compiler);
    the folders of other versions are removed (only the latest code builds)."""
    version = hashlib.sha256(code_digest() + jinja2.__version__.encode()).hexdigest()[:32]
    parent = cache / "templates"
    folder = parent / version
    if not folder.is_dir():
        if parent.is_dir():
            for other in parent.iterdir():
                shutil.rmtree(other, ignore_errors=True)
        folder.mkdir(parents=True, exist_ok=True)
    return folder


class _CompiledTemplates(FileSystemBytecodeCache):
    """Jinja's compiled templates in a folder (see `_compiled_folder`); Jinja checks each one
    against its template's source and compiles again a template that changed."""

    def __init__(self, folder: Path) -> None:
        super().__init__(str(folder), "%s.cache")

    def dump_bytecode(self, bucket: Bucket) -> None:
        with contextlib.suppress(OSError):  # a cache: a build goes on without it
            super().dump_bytecode(bucket)


# Variables of the invoice's template that are the same in every document of a build: the keys
# take them in once (the business) or through the theme's files (its style sheet).
_IN_EVERY_DOCUMENT = frozenset({"business", "css", "brand"})


@dataclass(frozen=True)
class Portal:
    """What every page of one build shares."""

    root: Path
    books: Books
    theme: Theme
    as_of: date
    demo: bool
    cache: Path | None
    printer: Printer | None = None
    # The payment terms as each language shows them (rendered Markdown), read once per build.
    _terms: dict[str, str] = field(default_factory=dict, repr=False, compare=False)
    # What a document's key is made of beyond its data (see `_key`), worked out once per build.
    _common: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    # Digests of what the pages show (see `Shown`), remembered for the build.
    _shown: Shown | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        # The documents' keys hold where the theme is (see `documents_digest`): `--root books`
        # and the same folder spelled in full must find the same documents.
        object.__setattr__(self, "root", self.root.resolve())
        object.__setattr__(self, "_shown", Shown(lambda r: self.books.digests.get(id(r))))
        new_build()

    @property
    def brand(self) -> Brand:
        """The business's logo and accent (for the pages' header and the documents)."""
        assert self.books.settings is not None
        business = self.books.settings.business
        return brand_of(self.theme.folder, business.logo, business.accent)

    def reading_locale(self, locale: str) -> str:
        """The locale a client of `locale` reads its pages in (see `languages.reading_locale`)."""
        assert self.books.settings is not None
        speaks = frozenset(self.theme.translations)
        return languages.reading_locale(locale, speaks, self.books.settings.business.locale)

    def client_page(self, view: ClientView, last: str | None = None) -> tuple[str, bytes | None]:
        """The client's page's key and the page; None for the page if its key is `last` (as for
        `invoice_page`)."""
        template = "client.html"
        language, context = self._context(view, root="../../", client=view.client, view=view)
        key = self._key(template, language, context)
        if key == last:
            return key, None
        return key, self.theme.render(template, language, **context).encode()

    def invoice_page(
        self, view: ClientView, invoice: InvoiceView, last: str | None = None
    ) -> tuple[str, bytes | None]:
        """The page's key and the page; None for the page if its key is `last` (the key of the
        page the site has: it shows the same, and is neither rendered nor written again). Pages
        are written straight into the site, never kept in the cache. A page says nothing that
        changes with the day alone (since when an invoice is late, not for how many days: see
        `notifier.portal.shown`), so most pages are the same from one day to the next."""
        template = "invoice.html"
        language, context = self._invoice_context(view, invoice)
        key = self._key(template, language, context)
        if key == last:
            return key, None
        return key, self.theme.render(template, language, **context).encode()

    def _invoice_context(
        self, view: ClientView, invoice: InvoiceView
    ) -> tuple[str, dict[str, Any]]:
        """The language of an invoice's page and what its template reads."""
        assert self.books.settings is not None
        business = self.books.settings.business
        language = formatting.language(view.locale)
        qr = None
        account = next((a for a in invoice.bank_accounts if a.iban), None)
        # Only an open invoice offers ways to pay: no code to draw for others.
        if account is not None and account.iban and invoice.state.status.is_open:
            title = self.theme.words(language).gettext("EPC QR code for a SEPA transfer")
            qr = epc_qr_svg(
                invoice.state,
                invoice.pay_now,
                account.account_name,
                account.iban,
                account.bic,
                title,
                self.cache,
                invoice.account.reference,
            )
        return self._context(
            view,
            **self._invoice_parts(view, invoice, language),
            invoice=invoice,
            qr=qr,
            mailto=_mail_links(self.theme, language, business.reply_to or business.email, invoice),
        )

    def _invoice_parts(
        self, view: ClientView, invoice: InvoiceView, language: str
    ) -> dict[str, Any]:
        """What an invoice's page and its PDF both read beyond the invoice: where the site's root
        is, the client, the payment terms and the invoice's notes, as HTML."""
        notes = invoice.state.invoice.notes
        return {
            "root": "../../",
            "client": view.client,
            "terms": self.terms_in(language),
            "notes": render_markdown(notes) if notes else "",
        }

    def dashboard(self, report: Report) -> str:
        """The business's own page: the receivables report with charts, in its language."""
        assert self.books.settings is not None
        business = self.books.settings.business
        language = formatting.language(business.locale)
        f = Formatter(business.locale)
        words = self.theme.words(language)
        aging = {
            item.currency: bar_chart(
                f"aging-{item.currency}",
                words.gettext("Owed by days overdue, in %(currency)s")
                % {"currency": item.currency},
                [
                    (name if name != "current" else words.gettext("not due"), item.aging[name])
                    for name in BUCKETS
                ],
                partial(f.amount, currency=item.currency),
            )
            for item in report.currencies
        }
        collected = {
            currency: bar_chart(
                f"collected-{currency}",
                words.gettext("Collected per month, in %(currency)s") % {"currency": currency},
                [
                    (
                        f.month(date.fromisoformat(month + "-01")),
                        value,
                    )
                    for month, value in months.items()
                ],
                partial(f.amount, currency=currency),
            )
            for currency, months in report.collected_by_month.items()
        }
        return self.theme.render(
            "dashboard.html",
            language,
            lang=language,
            business=business,
            f=f,
            as_of=self.as_of,
            demo=self.demo,
            css=self.theme.css,
            pdf=False,
            root="../../",
            report=report,
            charts={"aging": aging, "collected": collected},
            period=PERIOD_DAYS,
            horizon=HORIZON_DAYS,
        )

    def invoice_pdf(
        self, view: ClientView, invoice: InvoiceView
    ) -> tuple[str, Path | bytes | Pending]:
        """The invoice's key in the cache (which the build keeps from pruning) and its PDF: the
        cache's file, or the bytes printed when there is no cache, or the PDF the printer is
        printing into the cache (see `pdf_of`). The key is a digest of what the PDF shows (see
        `InvoiceDocument`), so most PDFs are found in the cache the next day, not printed again."""
        from notifier.portal.printed import invoice_request

        document = invoice_request(self, view, invoice)
        key = printed_key(self._common_digest(), document)
        return key, pdf_of(key, document, self.cache, self.printer)

    def cached_pdf(self, key: str | None) -> Path | None:
        """The PDF of `key` in the cache, if it is there."""
        if key is None or self.cache is None:
            return None
        cached = self.cache / f"{key}.pdf"
        return cached if cached.is_file() else None

    def kept_pdfs(
        self, view: ClientView, invoice: InvoiceView
    ) -> list[tuple[str, tuple[str | None, Path | bytes | Pending]]]:
        """A receipt for each payment of the invoice, and a PDF of each of its credit notes: its
        file's name, and its key and PDF."""
        from notifier.portal.printed import credit_note_requests, receipt_requests

        found: list[tuple[str, tuple[str | None, Path | bytes | Pending]]] = []
        kept = receipt_requests(self, view, invoice) + credit_note_requests(self, view, invoice)
        for name, document in kept:
            key = printed_key(self._common_digest(), document)
            found.append((name, (key, pdf_of(key, document, self.cache, self.printer))))
        return found

    def calendar(self, view: ClientView, invoice: InvoiceView) -> bytes:
        """The invoice's calendar of due dates. Made every time, never kept in the cache: writing
        it from its template costs less than finding it there (and the site's writer leaves a
        file with the same bytes as it is)."""
        assert self.books.settings is not None
        business = self.books.settings.business
        language = formatting.language(view.locale)
        summary = self.theme.words(language).gettext(
            "Pay invoice {number} from {business}: {amount}"
        )
        state = invoice.state
        return due_dates_calendar(
            number=state.invoice.number,
            issued=state.invoice.issue_date,
            currency=state.currency,
            schedule=calendar_schedule(state),
            business=business.name,
            host=urlsplit(str(business.portal_url)).hostname or "notifier",
            summary=summary,
        )

    def _key(self, template: str, language: str, context: dict[str, Any]) -> str:
        """The cache key of `template` rendered in `language` with `context`: made of what the
        template reads (the invoice's data, the client, the business...; the as-of date only if
        the template reads it)."""
        reads = self.theme.variables(template)
        assert self._shown is not None
        digest = self._shown.digest
        shown = {
            name: digest(value).hex()
            for name, value in context.items()
            if name not in _IN_EVERY_DOCUMENT and (reads is None or name in reads)
        }
        return document_key(self._common_digest(), template, language, shown)

    def _common_digest(self) -> bytes:
        """What every document of the build is made with (see `documents_digest`), and the
        business."""
        digest: bytes | None = self._common.get("")
        if digest is None:
            assert self.books.settings is not None
            assert self._shown is not None
            business = self._shown.digest(self.books.settings.business)
            digest = self._common[""] = documents_digest(self.root) + business
        return digest

    def _context(self, reader: ClientView, **context: Any) -> tuple[str, dict[str, Any]]:
        """The language of `reader` and a template's context for them: `context` and what every
        page shows (the business, amounts and dates in their locale, the as-of date...)."""
        assert self.books.settings is not None
        language = formatting.language(reader.locale)
        return language, {
            "lang": language,
            "business": self.books.settings.business,
            "brand": self.brand,
            "f": Formatter(reader.locale, self.books.settings.business.locale),
            "as_of": self.as_of,
            "demo": self.demo,
            "css": self.theme.css,
            "pdf": context.pop("pdf", False),
            **context,
        }

    def terms_in(self, language: str) -> str:
        """The payment terms in `language` (else the business's), as HTML; "" if there are none."""
        terms = self._terms.get(language)
        if terms is None:
            assert self.books.settings is not None
            fallback = formatting.language(self.books.settings.business.locale)
            text = localised(self.root / "content", "pages/terms", language, fallback)
            terms = self._terms[language] = render_markdown(text) if text else ""
        return terms


def _mail_links(
    theme: Theme, language: str, address: str, invoice: InvoiceView
) -> list[tuple[str, str]]:
    """Prefilled emails for a question, a dispute and a promise, each naming the invoice."""
    number = invoice.number
    words = theme.words(language)
    wanted = [
        (words.gettext("I have a question"), words.gettext("Question about invoice %(number)s")),
        (words.gettext("I dispute this invoice"), words.gettext("Dispute of invoice %(number)s")),
    ]
    if invoice.state.status.is_open:
        wanted.append(
            (
                words.gettext("I promise to pay by …"),
                words.gettext("Invoice %(number)s: I will pay by"),
            )
        )
    return [
        (label, f"mailto:{address}?subject={quote(subject % {'number': number})}")
        for label, subject in wanted
    ]


def invoice_pdf(
    root: Path, books: Books, as_of: date, secret: Secret, number: str, cache: Path | None = None
) -> bytes:
    """The PDF of one invoice as its client's page offers it (for bundles and attachments)."""
    portal = Portal(root, books, Theme(root, cache), as_of, secret.demo, cache)
    found = books.invoices.get(number)  # the account of its client alone: an email may attach it
    account = account_of(books, as_of, [found.client] if found else [])
    for view in client_views(account, secret, portal.reading_locale):
        for invoice in view.invoices:
            if invoice.number == number:
                pdf = portal.invoice_pdf(view, invoice)[1]
                if isinstance(pdf, Pending):
                    pdf = pdf.wait()
                return pdf.read_bytes() if isinstance(pdf, Path) else pdf
    raise KeyError(f"invoice {number} has no page (a draft, or not in the books)")
