"""`check`'s look at the words in `content/`, so that a broken text fails `check` today rather
than `remind` on the day its stage first falls due.

Every text a run can reach (each stage of every policy, the thank-you, the final notice's letter),
in every language the business or a client reads, is parsed as `remind` parses it (front matter,
subject, Jinja), every name it uses is looked up in a sample message's placeholders (`sample`), in
every branch, taken or not, and it is filled in with them as a real message would be. Each text
once per language, however many clients read it. The payment terms (`content/pages/terms.LANG.md`)
are Markdown shown as written: they must be UTF-8, and a placeholder in them is shown as typed.
"""

from __future__ import annotations

import difflib
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import fields, is_dataclass
from decimal import Decimal
from typing import Any

import jinja2
from jinja2 import nodes
from jinja2.defaults import DEFAULT_NAMESPACE

from notifier import formatting
from notifier.books import schema
from notifier.books.load import Books
from notifier.problems import Problem
from notifier.reminders.notice import NOTICE_TEXT
from notifier.reminders.plan import THANKS
from notifier.reminders.render import compile_text, parse, placeholder, render_source, render_text
from notifier.reminders.sample import Use, contexts
from notifier.reminders.texts import (
    OWNER_TEXT,
    Text,
    TextError,
    parse_text,
    read_text,
    text_path,
)

# Names only some texts have: said when another text uses one.
_ONLY = {
    "deadline": "only a stage with `deadline_days` (and the notice letter) has it",
    "phone": "only a task's text (a call, a hand-off) has it",
    "history": "only a task's text (a call, a hand-off) has it",
    "bundle": "only a task's text (a call, a hand-off) has it",
}
_TERMS = re.compile(r"pages/terms\.[^./]+\.md")
_JINJA = re.compile(r"\{\{|\{%")


def check_texts(books: Books) -> list[Problem]:
    """The problems of every text a reminder run can reach, and of the payment terms. A text that
    is missing is not one: the settings' checks say so, at the stage that needs it."""
    if books.settings is None:
        return []
    problems: list[Problem] = []
    samples = _Samples(books)
    # Texts in a language no client reads yet are checked too: the next client may read it.
    written = {n.split(".")[-2] for n in books.content_files if n.startswith("reminders/")}
    for (name, language), uses in reached(books.settings, books.clients, written).items():
        path = text_path(name, language)
        if path.removeprefix("content/") in books.content_files:
            problems.extend(_text_problems(books, path, language, uses, samples))
    for name in sorted(books.content_files):
        if _TERMS.fullmatch(name):
            problems.extend(_terms_problems(books, f"content/{name}"))
    return problems


def reached(
    settings: schema.Settings,
    clients: Mapping[str, schema.Client],
    written: Iterable[str] = (),
) -> dict[tuple[str, str], list[Use]]:
    """By text and language, each way a run fills it in: an email stage's text in every language
    (in the locale of its first client in it; a language `written` that no client reads, in the
    language's own), a task's in the business's, the thank-you, the notice letter (when a stage
    has a deadline) and the owner's email (unless turned off) in every language."""
    business = settings.business.locale
    locales = {formatting.language(business): business}
    for client_id in sorted(clients):
        locale = clients[client_id].locale
        if locale:
            locales.setdefault(formatting.language(locale), locale)
    for language in sorted(written):
        locales.setdefault(language, language)
    found: dict[tuple[str, str], dict[tuple[str, bool], Use]] = defaultdict(dict)

    def reach(name: str, language: str, use: Use) -> None:
        shape = (use.kind, use.stage is not None and use.stage.deadline_days is not None)
        found[name, language].setdefault(shape, use)

    stages = [stage for policy in settings.policies.values() for stage in policy]
    for stage in stages:
        if stage.channel != "email":
            reach(stage.text, formatting.language(business), Use("task", stage, business))
            continue
        for language, locale in locales.items():
            reach(stage.text, language, Use("email", stage, locale))
    finals = [stage for stage in stages if stage.deadline_days]
    for language, locale in locales.items():
        if settings.reminders.thanks_within_days:
            reach(THANKS, language, Use("thanks", None, locale))
        if finals:
            reach(NOTICE_TEXT, language, Use("email", finals[0], locale))
        if settings.reminders.owner_email != "never":
            reach(OWNER_TEXT, language, Use("owner", None, locale))
    return {key: list(uses.values()) for key, uses in found.items()}


class _Samples:
    """The sample messages of each kind of use and locale, made once for all the texts."""

    def __init__(self, books: Books) -> None:
        self.books = books
        self.made: dict[tuple[str, bool, str], dict[str, dict[str, Any]] | None] = {}

    def of(self, use: Use) -> dict[str, dict[str, Any]] | None:
        """`sample.contexts` for `use` (None if the settings do not allow one)."""
        key = (use.kind, use.stage is not None and use.stage.deadline_days is not None, use.locale)
        if key not in self.made:
            try:
                self.made[key] = contexts(self.books, use)
            except Exception:  # settings the ledger cannot work with: their own checks say why
                self.made[key] = None
        return self.made[key]


def _text_problems(
    books: Books, path: str, language: str, uses: list[Use], made: _Samples
) -> list[Problem]:
    try:
        text = parse_text(path, language, read_text(books.root / path, path))
        compile_text(text)
    except TextError as error:
        return [_problem(error)]
    found: dict[Problem, None] = {}
    for use in uses:
        samples = made.of(use)
        if samples is None:
            continue
        unknown = [*_unknown(text, samples["full"], True), *_unknown(text, samples["full"], False)]
        found.update(dict.fromkeys(unknown))
        if unknown:
            continue  # filling it in would stop at the first of them
        for context in samples.values():
            try:
                if use.kind == "task":
                    render_text(text, context)
                else:
                    render_source(text, context)
            except TextError as error:
                found[_problem(error)] = None
    return sorted(found, key=lambda p: p.line)


def _problem(error: TextError) -> Problem:
    return Problem(error.path, error.line or 1, error.field, error.reason or str(error))


def _unknown(text: Text, context: Mapping[str, Any], in_subject: bool) -> Iterator[Problem]:
    """A problem for each name the subject (or body) of `text` uses that `context` lacks."""
    first, field = (text.subject_line, "subject") if in_subject else (text.body_line, "")
    tree = parse(text.subject if in_subject else text.body)
    names = _Names(context)
    names.visit(tree, _locals(tree))
    for line, name, hint in names.unknown:
        yield Problem(text.path, first + line - 1, field, f"unknown placeholder `{name}`{hint}")


_UNKNOWABLE = object()  # a value the walk cannot know: set in the template, a filter's result...


def _locals(tree: nodes.Template) -> dict[str, Any]:
    """The names the template sets itself (`set`, a macro's arguments, `with`), but its loops'."""
    looping = {id(name) for loop in tree.find_all(nodes.For) for name in _targets(loop)}
    found = {
        name.name: _UNKNOWABLE
        for name in tree.find_all(nodes.Name)
        if name.ctx in ("store", "param") and id(name) not in looping
    }
    if any(tree.find_all((nodes.Macro, nodes.CallBlock))):
        found.update(dict.fromkeys(("caller", "varargs", "kwargs"), _UNKNOWABLE))
    return found


def _targets(loop: nodes.For) -> list[nodes.Name]:
    target = loop.target
    return [target] if isinstance(target, nodes.Name) else list(target.find_all(nodes.Name))


class _Names:
    """Looks up every name and attribute a template uses, in every branch, as Jinja would: each
    loop's variable is the first entry of the sample's list."""

    def __init__(self, context: Mapping[str, Any]) -> None:
        self.context = context
        self.unknown: list[tuple[int, str, str]] = []  # line, name as written, hint

    def visit(self, node: nodes.Node, scope: dict[str, Any]) -> None:
        if isinstance(node, nodes.For):
            entry = _first(self.value(node.iter, scope))
            one = isinstance(node.target, nodes.Name)  # not `for key, value in ...`
            inner = {**scope, "loop": _UNKNOWABLE}
            inner.update({name.name: entry if one else _UNKNOWABLE for name in _targets(node)})
            for child in (node.test, *node.body):
                if child is not None:
                    self.visit(child, inner)
            for child in node.else_:
                self.visit(child, scope)
        elif isinstance(node, nodes.Name | nodes.Getattr | nodes.Getitem):
            self.value(node, scope)
        else:
            for child in node.iter_child_nodes():
                self.visit(child, scope)

    def value(self, node: nodes.Node, scope: dict[str, Any]) -> Any:
        """The sample's value of the expression `node`, noting each name it lacks."""
        if isinstance(node, nodes.Name):
            if node.name in scope:
                return scope[node.name]
            if node.name in self.context:
                return self.context[node.name]
            if node.name not in DEFAULT_NAMESPACE:
                note = _ONLY.get(node.name)
                hint = f": {note}" if note else _hint(node.name, [*self.context, *scope])
                self.unknown.append((node.lineno, node.name, hint))
            return _UNKNOWABLE
        if isinstance(node, nodes.Getattr | nodes.Getitem):
            base = self.value(node.node, scope)
            item = isinstance(node, nodes.Getitem)
            key: Any = node.attr if isinstance(node, nodes.Getattr) else None
            if isinstance(node, nodes.Getitem):
                if not isinstance(node.arg, nodes.Const):
                    self.visit(node.arg, scope)
                    return _UNKNOWABLE
                key = node.arg.value
            if base is _UNKNOWABLE:
                return _UNKNOWABLE
            found = placeholder(base, key, item=item)
            if not isinstance(key, str):  # an index: some real lists are longer than the sample's
                return _UNKNOWABLE if isinstance(found, jinja2.Undefined) else found
            if isinstance(found, jinja2.Undefined):
                written = _written(node)
                known = [f"{written.rpartition('.')[0]}.{name}" for name in _attributes(base)]
                self.unknown.append((node.lineno, written, _hint(written, known)))
                return _UNKNOWABLE
            return found
        self.visit(node, scope)
        return _UNKNOWABLE


def _first(value: Any) -> Any:
    return value[0] if isinstance(value, list | tuple) and value else _UNKNOWABLE


def _written(node: nodes.Node) -> str:
    """`invoice.total` for the expression `invoice.total` (or `invoice['total']`), `invoices[0]`
    for `invoices[0]`."""
    if isinstance(node, nodes.Name):
        return node.name
    if isinstance(node, nodes.Getattr):
        return f"{_written(node.node)}.{node.attr}"
    if isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const):
        key = node.arg.value
        return f"{_written(node.node)}" + (f".{key}" if isinstance(key, str) else f"[{key!r}]")
    return "…"


def _attributes(value: Any) -> list[str]:
    """The placeholders `value` has (none for a text, a number or a list: their methods are not)."""
    if isinstance(value, str | int | float | Decimal | list | tuple):
        return []
    if isinstance(value, Mapping):
        return [str(key) for key in value]
    if is_dataclass(value):
        return [field.name for field in fields(value)]
    return [name for name in dir(value) if not name.startswith("_")]


def _hint(name: str, known: list[str]) -> str:
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    return f"; did you mean `{close[0]}`?" if close else ""


def _terms_problems(books: Books, path: str) -> list[Problem]:
    try:
        source = read_text(books.root / path, path)
    except TextError as error:
        return [_problem(error)]
    for number, line in enumerate(source.splitlines(), 1):
        if _JINJA.search(line):
            return [
                Problem(
                    path,
                    number,
                    "",
                    "the terms are shown as written: `{{ }}` and `{% %}` are not filled in",
                    "warning",
                )
            ]
    return []
