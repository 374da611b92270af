"""Turning pydantic's validation errors into the books' own words: each at the line of its field,
with what was expected, what was given, and a hint where one helps."""

from __future__ import annotations

import calendar
import difflib
import re
import types
import typing
from typing import Any

from pydantic import BaseModel, ValidationError

from notifier.books import schema
from notifier.books.yamlfile import Key, YamlFile, dotted
from notifier.problems import Problem

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


def explain(
    model: type[BaseModel], exc: ValidationError, file: YamlFile, key: Key
) -> list[Problem]:
    """The problems of `exc`, pydantic's errors validating the `model` record at `key` in `file`,
    each on its field's line, in the books' words."""
    errors = exc.errors(include_url=False)
    messages = [_message(model, error, _loc(error)) for error in errors]
    # `unit_prce` is both unknown and leaves `unit_price` missing: the hint alone says it all.
    hinted = {
        (*_loc(error)[:-1], message.split("`")[1])
        for error, message in zip(errors, messages, strict=True)
        if error["type"] == "extra_forbidden" and "did you mean" in message
    }
    problems: dict[tuple[Key, str], Problem] = {}
    for error, message in zip(errors, messages, strict=True):
        loc = _loc(error)
        if error["type"] == "missing" and loc in hinted:
            continue
        split = _split_at_comma(loc)
        if split is not None:  # one problem for the piece, however many errors it makes
            loc, message = split
        at = file.line((*key, *loc))
        problems.setdefault((loc, message), Problem(file.path, at, dotted(loc), message))
    return list(problems.values())


def _split_at_comma(loc: Key) -> tuple[Key, str] | None:
    """Where a number written with a comma in a flow mapping (`{unit_price: 1.200,50}`) was
    split into a value and a key of digits (`50`), and what to say there; None if `loc` has no
    such key (indexes of lists are ints, never keys)."""
    for index, part in enumerate(loc):
        if isinstance(part, str) and part.isdigit():
            return loc[:index], f"`{part}` after a comma is not a field: {_DECIMAL_POINT}"
    return None


_DECIMAL_POINT = (
    "numbers take a decimal point, not a comma, and no thousands separator (1200.50, not 1.200,50)"
)


def _loc(error: Any) -> Key:
    return tuple(part for part in error["loc"] if part != "[key]")


def _message(model: type[BaseModel], error: Any, loc: Key) -> str:
    kind: str = error["type"]
    given = error.get("input")
    if kind == "missing":
        return "required field is missing"
    if kind == "extra_forbidden":
        known = _fields_at(model, loc[:-1])
        meant = _meant(str(loc[-1]), known)
        hint = f"; did you mean `{meant}`?" if meant else f"; expected one of: {', '.join(known)}"
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
            return f"expected {wanted}, got {_shown(given)}{_why_not(prefix, given)}"
    return str(error["msg"])


def _meant(name: str, known: list[str]) -> str | None:
    """The field `name` most likely stands for: one spelt alike (`unit_prce`), or the only one
    with `name` as a word of it (`tax` for `tax_rate`), or one of the usual other words for it."""
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    if close:
        return close[0]
    name = _OTHER_WORDS.get(name.lower(), name.lower())
    having = [field for field in known if name in field.split("_")]
    return having[0] if len(having) == 1 else None


# What people call a field, beside its own name (or a word of it).
_OTHER_WORDS = {"vat": "tax", "qty": "quantity", "price": "unit_price", "due": "due_date"}


def _why_not(kind: str, given: Any) -> str:
    """Why `given`, which does not read as a value of `kind`, is not one, where a person may not
    see it: a day that does not exist, quotes around true, a decimal comma."""
    if not isinstance(given, str):
        return ""
    if kind == "date" and _DAY.fullmatch(given):
        year, month, day = (int(part) for part in given.split("-"))
        if not 1 <= month <= 12:
            return f": there is no month {month}"
        last = calendar.monthrange(year, month)[1] if year else 31
        if not 1 <= day <= last:
            return f": {calendar.month_name[month]} {year} has {last} days"
    if kind == "bool" and given.lower() in ("true", "false"):
        return " (text, in quotes); write it without quotes"
    if kind == "decimal" and "," in given:
        return f"; {_DECIMAL_POINT}"
    return ""


_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


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
