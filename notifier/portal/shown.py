"""A digest of the values a page shows: the cache key of a page is made of it, so a page whose values
are as they were at the last build is neither rendered nor written again.

The digest spells out each value by what it is (never by `repr()`, which for the books' models
costs more than rendering a page, and follows the hash seed for sets): a record of the books by
the digest of its source (`Books.digest`), a dataclass field by field, a date, an amount or a name
by its text. What the account holds but no page shows, and that moves with the day alone, is left
out (see `_DAILY`): a page that says the same thing on two days has the same key on both."""

from __future__ import annotations

import dataclasses
import enum
import hashlib
from collections.abc import Callable, Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from pydantic import AnyUrl, BaseModel

from notifier.account import InvoiceAccount, InvoiceState

# Fields of the account that change from one day to the next while nothing a page shows does: how
# many days late an invoice is (a page says since when, and whether: see `overdue_since`), and the
# next reminder's bookkeeping (a page shows the steps to come, which are digested). Each is
# replaced by what a page may read of it.
_DAILY: dict[type, dict[str, Callable[[Any], object]]] = {
    InvoiceState: {"days_overdue": bool, "next_reminder": lambda _: None},
    InvoiceAccount: {"reminder": lambda _: None},
}

_PLAIN = (str, int, float, Decimal, date)  # spelt by their text (bool is an int: True, False)
_TEXT = (AnyUrl,)  # spelt by their text, as a page shows them


class Shown:
    """Digests of values for one build: `records` gives a record's digest where the books have
    one; what was digested is remembered by identity (a client's invoices share its records, its
    page shows the invoices their pages showed)."""

    def __init__(self, records: Callable[[BaseModel], bytes | None]) -> None:
        self._records = records
        self._known: dict[int, tuple[object, bytes]] = {}  # `digest`'s
        self._parts: dict[int, tuple[object, str]] = {}  # `_model`'s
        self._fields: dict[type, tuple[tuple[str, Callable[[Any], object] | None], ...]] = {}

    def digest(self, value: object) -> bytes:
        """A digest of `value`: equal values, equal digests, from one process to the next."""
        known = self._known.get(id(value))
        if known is not None and known[0] is value:
            return known[1]
        parts: list[str] = []
        self._spell(value, parts)
        found = hashlib.sha256("".join(parts).encode()).digest()
        if not isinstance(value, _PLAIN):  # kept alive here, so its identity stays its own
            self._known[id(value)] = (value, found)
        return found

    def _spell(self, value: object, parts: list[str]) -> None:
        """`value` spelt out into `parts`: each text with its length, so no two values spell the
        same."""
        kind = type(value)
        if kind is str:
            parts.append(f"s{len(value)}:{value}")  # type: ignore[arg-type]
        elif kind is int or kind is bool or value is None:
            parts.append(f"i{value};")
        elif kind is tuple or kind is list:
            parts.append("(")
            spell = self._spell
            for item in value:  # type: ignore[attr-defined]
                spell(item, parts)
            parts.append(")")
        elif kind is date or kind is Decimal:
            parts.append(f"{kind.__name__}{value};")
        elif isinstance(value, enum.Enum):
            parts.append(f"E{kind.__name__}.{value.name};")
        elif isinstance(value, (*_PLAIN, *_TEXT)):
            text = str(value)
            parts.append(f"{kind.__name__}{len(text)}:{text}")
        elif isinstance(value, Mapping):
            parts.append("{")
            for key, item in value.items():
                self._spell(key, parts)
                self._spell(item, parts)
            parts.append("}")
        elif isinstance(value, set | frozenset):
            parts.append("<" + "".join(sorted(self.digest(item).hex() for item in value)) + ">")
        elif isinstance(value, BaseModel):
            parts.append(kind.__name__)
            parts.append(self._model(value))
        elif dataclasses.is_dataclass(value):
            known = self._known.get(id(value))
            if known is not None and known[0] is value:  # digested already: a page's invoice
                parts.append(f"{kind.__name__}={known[1].hex()}")
                return
            parts.append(kind.__name__ + "{")  # spelt in line: most are small, and not shared
            spell = self._spell
            for name, shown in self._fields_of(kind):
                item = getattr(value, name)
                spell(item if shown is None else shown(item), parts)
            parts.append("}")
        else:
            raise TypeError(f"no digest for a {kind.__name__}: say what a page shows of it")

    def _model(self, value: BaseModel) -> str:
        """A model's digest: the books' for a record of theirs, else its fields' (the settings'
        models: the same few for every page)."""
        found = self._records(value)
        if found is not None:
            return found.hex()
        known = self._parts.get(id(value))
        if known is not None and known[0] is value:
            return known[1]
        parts: list[str] = []
        spell = self._spell
        for name, shown in self._fields_of(type(value)):
            item = getattr(value, name)
            spell(item if shown is None else shown(item), parts)
        text = hashlib.sha256("".join(parts).encode()).hexdigest()
        self._parts[id(value)] = (value, text)
        return text

    def _fields_of(self, kind: type) -> tuple[tuple[str, Callable[[Any], object] | None], ...]:
        found = self._fields.get(kind)
        if found is None:
            if issubclass(kind, BaseModel):
                names = list(kind.model_fields)
            else:
                names = [f.name for f in dataclasses.fields(kind)]  # type: ignore[arg-type]
            daily = _DAILY.get(kind, {})
            found = self._fields[kind] = tuple((name, daily.get(name)) for name in names)
        return found
