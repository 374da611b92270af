"""Load the books from `data/`: read each YAML file, validate it against the schema, and say where
every record came from. Problems are collected, never raised: one run reports all of them."""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from notifier.books import schema
from notifier.books.yamlfile import Key, YamlFile, dotted, read_yaml
from notifier.problems import Problem

M = TypeVar("M", bound=BaseModel)

SETTINGS_FILE = "data/business.yaml"
CLIENT_FILES = ("data/clients.yaml", "data/clients/*.yaml")
INVOICE_FILES = ("data/invoices.yaml", "data/invoices/*.yaml")
PAYMENTS_FILE = "data/records/payments.yaml"
MESSAGES_FILE = "data/records/messages.yaml"
IMPORTS_FILE = "data/records/imports.yaml"
PAYMENT_LINKS_FILE = "data/records/payment-links.yaml"


@dataclass(frozen=True)
class Origin:
    """Where a record was written: its file, and its key path within the file."""

    file: YamlFile
    key: Key

    @property
    def path(self) -> str:
        return self.file.path

    def line(self, *sub: str | int) -> int:
        return self.file.line((*self.key, *sub))

    def problem(self, message: str, *at: str | int, warning: bool = False) -> Problem:
        """A problem about the field at key path `at` within this record, on that field's line."""
        return Problem(
            self.path, self.line(*at), dotted(at), message, "warning" if warning else "error"
        )


@dataclass
class Books:
    """Everything in `data/` that validated, in file order, with each record's origin."""

    root: Path
    settings: schema.Settings | None = None
    settings_origin: Origin | None = None
    clients: dict[str, schema.Client] = field(default_factory=dict)
    invoices: dict[str, schema.Invoice] = field(default_factory=dict)
    payments: list[schema.Payment] = field(default_factory=list)
    messages: list[schema.Message] = field(default_factory=list)
    imports: list[schema.Import] = field(default_factory=list)
    payment_links: list[schema.PaymentLinkRecord] = field(default_factory=list)
    origins: dict[int, Origin] = field(default_factory=dict)
    # Records that failed validation, as (kind, id), and kinds with a file that could not be read at
    # all: cross-checks must not call a reference to them unknown.
    broken: set[tuple[str, str]] = field(default_factory=set)
    unreadable: set[str] = field(default_factory=set)
    content_files: frozenset[str] = frozenset()

    def origin(self, record: BaseModel) -> Origin:
        return self.origins[id(record)]

    def may_exist(self, kind: type[BaseModel], ident: str) -> bool:
        """Whether a `kind` record named `ident` may be in the books though it did not load."""
        return kind.__name__ in self.unreadable or (kind.__name__, ident) in self.broken


def load_books(root: Path) -> tuple[Books, list[Problem]]:
    """Read and validate the books under `root`. Pure apart from reading files."""
    books = Books(root=root)
    problems: list[Problem] = []

    settings_file = _read(root, SETTINGS_FILE, problems, required=True)
    if settings_file is not None:
        books.settings = _validate(schema.Settings, settings_file, (), books, problems)
        if books.settings is not None:
            books.settings_origin = Origin(settings_file, ())

    books.clients = _unique(
        _records(root, CLIENT_FILES, schema.Client, "id", books, problems),
        "id",
        "client",
        books,
        problems,
    )
    books.invoices = _unique(
        _records(root, INVOICE_FILES, schema.Invoice, "number", books, problems),
        "number",
        "invoice number",
        books,
        problems,
    )
    books.payments = list(_records(root, (PAYMENTS_FILE,), schema.Payment, "id", books, problems))
    books.messages = list(_records(root, (MESSAGES_FILE,), schema.Message, "id", books, problems))
    books.imports = list(_records(root, (IMPORTS_FILE,), schema.Import, "at", books, problems))
    books.payment_links = list(
        _records(root, (PAYMENT_LINKS_FILE,), schema.PaymentLinkRecord, "id", books, problems)
    )
    books.content_files = frozenset(
        p.relative_to(root / "content").as_posix()
        for p in (root / "content").rglob("*")
        if p.is_file()
    )
    return books, problems


def _unique(
    records: Iterator[M], ident: str, noun: str, books: Books, problems: list[Problem]
) -> dict[str, M]:
    """`records` by their `ident` field; a second record with the same one is a problem."""
    found: dict[str, M] = {}
    for record in records:
        name = getattr(record, ident)
        if name in found:
            first = books.origin(found[name])
            problems.append(
                books.origin(record).problem(
                    f"{noun} `{name}` is already used at {first.path}:{first.line()}", ident
                )
            )
        else:
            found[name] = record
    return found


def _read(root: Path, name: str, problems: list[Problem], *, required: bool) -> YamlFile | None:
    path = root / name
    if not path.is_file():
        if required:
            problems.append(Problem(name, 1, "", "file is missing"))
        return None
    file, found = read_yaml(path, name)
    problems.extend(found)
    return file


def _paths(root: Path, patterns: tuple[str, ...]) -> Iterator[str]:
    for pattern in patterns:
        for path in sorted(root.glob(pattern)):
            yield path.relative_to(root).as_posix()


def _records(
    root: Path,
    patterns: tuple[str, ...],
    model: type[M],
    ident: str,
    books: Books,
    problems: list[Problem],
) -> Iterator[M]:
    """The valid records of every file matching `patterns`; each file holds a list of them."""
    for name in _paths(root, patterns):
        file = _read(root, name, problems, required=False)
        if file is not None and file.data is None:
            continue  # an empty file
        if file is None or not isinstance(file.data, list):
            books.unreadable.add(model.__name__)
            if file is not None:
                wanted = f"expected a list of {model.__name__.lower()} entries (`- ...`)"
                problems.append(Problem(name, 1, "", wanted))
            continue
        for index, raw in enumerate(file.data):
            record = _validate(model, file, (index,), books, problems)
            if record is not None:
                yield record
            elif isinstance(raw, dict) and isinstance(raw.get(ident), str | int):
                books.broken.add((model.__name__, str(raw[ident])))


def _validate(
    model: type[M], file: YamlFile, key: Key, books: Books, problems: list[Problem]
) -> M | None:
    raw = file.data
    for part in key:
        raw = raw[part]
    try:
        record = model.model_validate(raw)
    except ValidationError as exc:
        problems.extend(_problems(model, exc, file, key))
        return None
    books.origins[id(record)] = Origin(file, key)
    return record


# Turning pydantic's errors into the books' own words --------------------------------------------

_EXPECTED = {
    "date": "a date like 2026-11-23",
    "datetime": "a date and time like 2026-11-23T09:30:00Z",
    "decimal": "a number like 1250.00",
    "int": "a whole number",
    "bool": "true or false",
    "string": "text",
    "list": "a list (`- ...` items)",
    "dict": "a mapping of fields",
    "model": "a mapping of fields",
    "url": "a web address like https://pay.example.com/",
    "float": "a number",
}

_PATTERN_HINTS = {
    f"^{schema.NAME_PATTERN}$": "a name of lower-case letters, digits, `-` and `_` (as `acme-gmbh`)",
    f"^{schema.NUMBER_PATTERN}$": "letters, digits, `.`, `-` and `_` (as `INV-2026-001`)",
}


def _problems(
    model: type[BaseModel], exc: ValidationError, file: YamlFile, key: Key
) -> list[Problem]:
    errors = exc.errors(include_url=False)
    messages = [_message(model, error, _loc(error)) for error in errors]
    # `unit_prce` is both unknown and leaves `unit_price` missing: the hint alone says it all.
    hinted = {
        (*_loc(error)[:-1], message.split("`")[1])
        for error, message in zip(errors, messages, strict=True)
        if error["type"] == "extra_forbidden" and "did you mean" in message
    }
    return [
        Problem(file.path, file.line((*key, *_loc(error))), dotted(_loc(error)), message)
        for error, message in zip(errors, messages, strict=True)
        if not (error["type"] == "missing" and _loc(error) in hinted)
    ]


def _loc(error: Any) -> Key:
    return tuple(part for part in error["loc"] if part != "[key]")


def _message(model: type[BaseModel], error: Any, loc: Key) -> str:
    kind: str = error["type"]
    given = error.get("input")
    if kind == "missing":
        return "required field is missing"
    if kind == "extra_forbidden":
        known = _fields_at(model, loc[:-1])
        close = difflib.get_close_matches(str(loc[-1]), known, n=1, cutoff=0.6)
        hint = (
            f"; did you mean `{close[0]}`?" if close else f"; expected one of: {', '.join(known)}"
        )
        return f"unknown field{hint}"
    if kind == "literal_error":
        return f"expected one of {error['ctx']['expected']}, got {_shown(given)}"
    if kind == "string_pattern_mismatch":
        wanted = _PATTERN_HINTS.get(
            error["ctx"]["pattern"], f"text matching {error['ctx']['pattern']}"
        )
        return f"expected {wanted}, got {_shown(given)}"
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        words = {
            "greater_than": "more than",
            "greater_than_equal": "at least",
            "less_than": "less than",
            "less_than_equal": "at most",
        }[kind]
        bound = next(iter(error["ctx"].values()))
        return f"must be {words} {bound}, got {_shown(given)}"
    if kind in ("too_short", "too_long"):
        return str(error["msg"]).replace("List", "list").replace("String", "text")
    if kind == "value_error":
        message = str(error["msg"]).removeprefix("Value error, ")
        bad_email = "value is not a valid email address: "
        if message.startswith(bad_email):
            return (
                f"{_shown(given)} is not a valid email address: {message.removeprefix(bad_email)}"
            )
        return message
    if kind in ("finite_number",):
        return f"must be a finite number, got {_shown(given)}"
    for prefix, wanted in _EXPECTED.items():
        if kind.startswith(prefix):
            return f"expected {wanted}, got {_shown(given)}"
    return str(error["msg"])


def _shown(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing"
    return f"`{value}`"


def _fields_at(model: type[BaseModel], loc: Key) -> list[str]:
    """The field names of the model that `loc` leads to from `model` (for "did you mean")."""
    node: Any = model
    for part in loc:
        found = _model_in(node)
        if isinstance(part, str) and found is not None and part in found.model_fields:
            node = found.model_fields[part].annotation
        else:  # an index into a list, or a key of a mapping: go to the item type
            args = typing.get_args(_unwrap(node))
            node = args[-1] if args else None
    found = _model_in(node)
    return list(found.model_fields) if found is not None else []


def _unwrap(annotation: Any) -> Any:
    """`Annotated[X, ...]` and `X | None` as plain `X`."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            rest = [a for a in typing.get_args(annotation) if a is not type(None)]
            annotation = rest[0]
        else:
            return annotation


def _model_in(annotation: Any) -> type[BaseModel] | None:
    plain = _unwrap(annotation)
    return plain if isinstance(plain, type) and issubclass(plain, BaseModel) else None
