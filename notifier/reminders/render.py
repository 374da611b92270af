"""Render a stage's words: Jinja (StrictUndefined) into plain text, and into Markdown then sanitised
HTML with the CSS inlined.

Values from the books are untrusted. In the HTML rendering every value is escaped for HTML and for
Markdown before Markdown sees it, so a client called `*Acme* <b>` reads exactly so; the result is
then sanitised with an allow-list (nh3) as a second fence. Values that carry their own HTML (a link,
a table) implement `__html__`.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import traceback
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2
from markupsafe import Markup, escape

from notifier import sanitize
from notifier.reminders.texts import Text, TextError

if TYPE_CHECKING:
    import css_inline
    import markdown

# Backslash-escaped for Markdown; `<`, `>` and `&` are HTML-escaped instead.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~])")


@dataclass(frozen=True)
class Dual:
    """A value with a plain-text and an HTML form: `{{ x }}` picks the one the rendering needs."""

    text: str
    html: Markup

    def __str__(self) -> str:
        return self.text

    def __bool__(self) -> bool:
        """No text, no value: `{% if invoice.card_link %}` says whether there is one."""
        return bool(self.text)

    def __html__(self) -> Markup:
        return self.html


def link(url: str, label: str | None = None) -> Dual:
    """An address for running text: itself in plain text, a link in HTML (its words kept from
    Markdown's reach)."""
    words = Markup(escape(_MARKDOWN_SPECIAL.sub(r"\\\1", label or url)))
    return Dual(url, Markup('<a href="{}">{}</a>').format(url, words))


def _markdown_safe(value: Any) -> Any:
    if hasattr(value, "__html__") or value is None:
        return value
    return escape(_MARKDOWN_SPECIAL.sub(r"\\\1", str(value)))


# trim_blocks and lstrip_blocks: a `{% for %}` on its own line leaves no blank line, so a loop over
# invoices makes one Markdown list.
_TEXT_ENV = jinja2.Environment(
    autoescape=False,
    undefined=jinja2.StrictUndefined,
    keep_trailing_newline=True,
    trim_blocks=True,
    lstrip_blocks=True,
)
_HTML_ENV = jinja2.Environment(
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    keep_trailing_newline=True,
    trim_blocks=True,
    lstrip_blocks=True,
    finalize=_markdown_safe,
)
# The compiled code of the texts depends on the environments above: it is kept under a name that
# carries this file's digest (see `_template`).
_COMPILED_BY = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:16]


def keep_compiled(cache: jinja2.BytecodeCache | None) -> None:
    """Keep the texts' compiled templates in `cache` from one run to the next (jinja2's bytecode
    cache: each used while its text's source has the same checksum); None: compile them each
    run."""
    _TEXT_ENV.bytecode_cache = _HTML_ENV.bytecode_cache = cache


@cache
def _inliner() -> css_inline.CSSInliner:
    import css_inline  # here: only an email's HTML needs it

    return css_inline.CSSInliner(load_remote_stylesheets=False, keep_style_tags=False)


@cache
def _markdown() -> markdown.Markdown:
    """One converter for the run, reset before each text: building one costs more than
    converting."""
    import markdown  # here: only an email's HTML needs it

    return markdown.Markdown(extensions=["tables", "nl2br"], output_format="html")


@dataclass(frozen=True)
class EmailBrand:
    """The business's look in an email: its name, its logo's address on its published site (or
    None), and its accent (`#rrggbb`, or None)."""

    name: str
    logo_url: str | None
    accent: str | None


@dataclass(frozen=True)
class Source:
    """A stage's words with the context filled in, before Markdown."""

    subject: str  # one line
    text: str  # the plain-text body
    markdown: str  # the body for the HTML part: every value escaped for HTML and Markdown


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str  # the body's HTML fragment, sanitised, before the layout


def render(text: Text, context: dict[str, Any]) -> Rendered:
    """`text` with `context` filled in; a placeholder the context lacks, or any other fault of its
    Jinja, is a TextError at the line of the file."""
    source = render_source(text, context)
    return Rendered(source.subject, source.text, markdown_html(source.markdown))


def render_text(text: Text, context: dict[str, Any]) -> tuple[str, str]:
    """The subject and the plain text only (for a sheet a person reads); TextError as `render`."""
    try:
        subject = _subject_template(text).render(context)
    except _FAILURES as error:
        raise _failed(text, error, in_subject=True) from None
    try:
        plain = _plain_template(text).render(context)
    except _FAILURES as error:
        raise _failed(text, error) from None
    return _one_line(subject), _tidy(plain)


def compile_text(text: Text) -> None:
    """Compile the templates `render` fills in (kept for it); TextError at a syntax error's line."""
    for in_subject, compiled in (
        (True, _subject_template),
        (False, _html_template),
        (False, _plain_template),
    ):
        try:
            compiled(text)
        except jinja2.TemplateSyntaxError as error:
            raise _failed(text, error, in_subject=in_subject) from None


def parse(source: str) -> jinja2.nodes.Template:
    """The syntax tree of a template as `render` reads it (`check` looks at every name in it)."""
    return _TEXT_ENV.parse(source)


def placeholder(value: Any, name: Any, *, item: bool = False) -> Any:
    """`value.name` (or, with `item`, `value[name]`) as a template reads it: a jinja2.Undefined
    when there is none."""
    return _TEXT_ENV.getitem(value, name) if item else _TEXT_ENV.getattr(value, name)


def render_source(text: Text, context: dict[str, Any]) -> Source:
    """Every placeholder of `text` filled in, the Markdown not yet converted: all `render` can
    fail on, at a fraction of its cost. `markdown_html` finishes the job."""
    subject, plain = render_text(text, context)
    try:
        source = _html_template(text).render(context)
    except _FAILURES as error:
        raise _failed(text, error) from None
    return Source(subject, plain, source)


# What filling in a text can raise: its Jinja, or an expression a value does not allow (`{{
# total_due + 1 }}`).
_FAILURES = (jinja2.TemplateError, TypeError, ValueError, ArithmeticError, LookupError)


def _failed(text: Text, error: Exception, *, in_subject: bool = False) -> TextError:
    """`error`, met filling in the subject or the body of `text`, at the line of the file."""
    if isinstance(error, jinja2.TemplateSyntaxError):
        line, reason = error.lineno, f"Jinja syntax: {error.message}"
    else:
        # Jinja gives the template's own line to the frames of its code.
        frames = traceback.extract_tb(error.__traceback__)
        lines = [frame.lineno for frame in frames if frame.filename == "<template>"]
        line = lines[-1] if lines and lines[-1] else 1
        reason = (
            f"unknown placeholder: {error}"
            if isinstance(error, jinja2.UndefinedError)
            else f"cannot be filled in: {error}"
        )
    first = text.subject_line if in_subject else text.body_line
    return TextError.at(text.path, first + line - 1, reason, "subject" if in_subject else "")


def markdown_html(source: str) -> str:
    """Markdown (rendered by `render_source`) as sanitised HTML."""
    return sanitize.clean(_markdown().reset().convert(source))


def _one_line(subject: str) -> str:
    # A subject is one line: runs of ASCII whitespace become one space (non-breaking spaces in
    # amounts stay); any other control character is refused later, by the header check.
    return re.sub(r"[ \t\r\n]+", " ", subject).strip()


def _subject_template(text: Text) -> jinja2.Template:
    return _template(False, text.subject, f"{text.path}#subject")


def _html_template(text: Text) -> jinja2.Template:
    return _template(True, text.body, f"{text.path}#body")


def _plain_template(text: Text) -> jinja2.Template:
    # Bold markers are for the HTML part; in plain text they would read as stray stars.
    return _template(False, text.body.replace("**", ""), f"{text.path}#plain")


@lru_cache(maxsize=512)
def _template(html: bool, source: str, name: str) -> jinja2.Template:
    """Compiled once per source: compiling costs far more than rendering. With a bytecode cache
    (`keep_compiled`), the code compiled is kept under `name` (a text's path and part) for the
    next run, which uses it while the source's checksum is the same (jinja2's own check)."""
    environment = _HTML_ENV if html else _TEXT_ENV
    kept = environment.bytecode_cache
    if kept is None:
        return environment.from_string(source)
    bucket = kept.get_bucket(environment, f"{_COMPILED_BY}:{html}:{name}", None, source)
    if bucket.code is None:
        bucket.code = environment.compile(source)
        with contextlib.suppress(OSError):  # a read-only checkout still works, only slower
            kept.set_bucket(bucket)
    made = environment.make_globals(None)
    return environment.template_class.from_code(environment, bucket.code, made, None)


def _tidy(text: str) -> str:
    """Plain text without trailing spaces or runs of blank lines, ending in one newline."""
    lines = [line.rstrip() for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip() + "\n"


EMAIL_STYLE = """
body { margin: 0; padding: 0; background: #f4f4f1; }
.wrap { max-width: 600px; margin: 0 auto; padding: 24px; background: #ffffff;
  font-family: Helvetica, Arial, sans-serif; font-size: 15px; line-height: 1.5; color: #1f2328; }
p { margin: 0 0 14px 0; }
a { color: #0b5cad; }
table { border-collapse: collapse; width: 100%; margin: 0 0 16px 0; font-size: 14px; }
th { text-align: left; border-bottom: 2px solid #d0d4d9; padding: 6px 8px; }
td { border-bottom: 1px solid #e4e7eb; padding: 6px 8px; vertical-align: top; }
td.amount, th.amount { text-align: right; white-space: nowrap; }
tr.total td { font-weight: bold; border-bottom: none; }
.footer { color: #5b636b; font-size: 12px; margin-top: 24px; }
"""

_LAYOUT = """<!DOCTYPE html>
<html lang="{{ language }}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ subject }}</title>
<style>{{ style }}</style>
</head>
<body>
<div class="wrap">
{% if logo %}<p class="logo"><img src="{{ logo }}" alt="{{ name }}" height="40"></p>
{% endif %}
{{ body }}
<p class="footer">{{ footer }}</p>
</div>
</body>
</html>
"""


def email_html(
    rendered: Rendered, language: str, footer: str, brand: EmailBrand | None = None
) -> str:
    """The whole HTML part: the body in a simple layout, every style inlined for mail clients;
    with the business's logo (from its published site: nothing from another host) and accent."""
    style = EMAIL_STYLE
    if brand is not None and brand.accent:
        style += f"a, h1, h2, h3 {{ color: {brand.accent}; }}\n"
    page = _template(True, _LAYOUT, "layout").render(
        language=Markup(escape(language)),
        subject=Markup(escape(rendered.subject)),
        style=Markup(style),
        logo=brand.logo_url if brand is not None else None,
        name=brand.name if brand is not None else "",
        body=Markup(rendered.html),
        footer=Markup(escape(footer)),
    )
    return str(_inliner().inline(page))
