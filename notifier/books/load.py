"""Load the books from `data/`: read each YAML file, validate it against the schema, and say where
every record came from. Problems are collected, never raised: one run reports all of them."""

from __future__ import annotations

import hashlib
import pickle
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from notifier.books import schema
from notifier.books.cache import FileCache
from notifier.books.explain import explain
from notifier.books.paths import CLIENT_FILES, INVOICE_FILES, SETTINGS_FILE
from notifier.books.paths import IMPORTS_FILE as IMPORTS_FILE  # also imported from here
from notifier.books.paths import MESSAGES_FILE as MESSAGES_FILE
from notifier.books.paths import PAYMENT_LINKS_FILE as PAYMENT_LINKS_FILE
from notifier.books.paths import PAYMENTS_FILE as PAYMENTS_FILE
from notifier.books.paths import REVIEW_FILE as REVIEW_FILE
from notifier.books.yamlfile import Key, YamlFile, dotted, read_bytes, read_yaml
from notifier.problems import Problem

M = TypeVar("M", bound=BaseModel)


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
    messages: list[schema.Message] = field(default_factory=list)  # to or about clients
    owner_emails: list[schema.Message] = field(default_factory=list)  # the owner's daily email
    reviews: list[schema.ReviewRecord] = field(default_factory=list)
    imports: list[schema.Import] = field(default_factory=list)
    payment_links: list[schema.PaymentLinkRecord] = field(default_factory=list)
    origins: dict[int, Origin] = field(default_factory=dict)
    # A digest of each record as written: what a build compares to know a client's pages are as
    # they were (see notifier.portal.build).
    digests: dict[int, bytes] = field(default_factory=dict)
    # Records that failed validation, as (kind, id), and kinds with a file that could not be read at
    # all: cross-checks must not call a reference to them unknown.
    broken: set[tuple[str, str]] = field(default_factory=set)
    unreadable: set[str] = field(default_factory=set)
    content_files: frozenset[str] = frozenset()

    def origin(self, record: BaseModel) -> Origin:
        return self.origins[id(record)]

    def digest(self, record: BaseModel) -> bytes:
        return self.digests[id(record)]

    def may_exist(self, kind: type[BaseModel], ident: str) -> bool:
        """Whether a `kind` record named `ident` may be in the books though it did not load."""
        return kind.__name__ in self.unreadable or (kind.__name__, ident) in self.broken


# How a command may have the files read on every core: `map(function, *arguments)`, perhaps in
# other processes (notifier.speed.spread). The books never start a process themselves.
Spread = Callable[..., Iterable[Any]]


def load_books(
    root: Path, files: FileCache | None = None, spread: Spread | None = None
) -> tuple[Books, list[Problem]]:
    """Read and validate the books under `root`. Pure apart from reading files, and from keeping
    each file's result in `files` when given (which the caller prunes: see FileCache.prune). With
    `spread`, a large share of files to read is read through it (on every core)."""
    books = Books(root=root)
    problems: list[Problem] = []
    files = files or FileCache(None)
    kinds = _kinds(root)
    results = _read_all(root, kinds, files, spread)

    settings = results[SETTINGS_FILE]
    problems.extend(settings.problems)
    for (record, key), digest in zip(settings.records, settings.digests, strict=True):
        books.settings = record
        books.settings_origin = Origin(settings.file, key)  # type: ignore[arg-type]
        books.digests[id(record)] = digest

    def records(model: type[M]) -> Iterator[M]:
        return _records(kinds[model], results, model, books, problems)

    books.clients = _unique(records(schema.Client), "id", "client", books, problems)
    books.invoices = _unique(records(schema.Invoice), "number", "invoice number", books, problems)
    books.payments = list(records(schema.Payment))
    for message in records(schema.Message):
        (books.owner_emails if message.channel == schema.OWNER else books.messages).append(message)
    books.reviews = list(records(schema.ReviewRecord))
    books.imports = list(records(schema.Import))
    books.payment_links = list(records(schema.PaymentLinkRecord))
    books.content_files = frozenset(
        p.relative_to(root / "content").as_posix()
        for p in (root / "content").rglob("*")
        if p.is_file()
    )
    return books, problems


# Each kind of record: the files that hold it, and the field that names each record ("" for the
# settings: one record, not a list).
_KINDS: tuple[tuple[type[BaseModel], tuple[str, ...], str], ...] = (
    (schema.Settings, (SETTINGS_FILE,), ""),
    (schema.Client, CLIENT_FILES, "id"),
    (schema.Invoice, INVOICE_FILES, "number"),
    (schema.Payment, (PAYMENTS_FILE,), "id"),
    (schema.Message, (MESSAGES_FILE,), "id"),
    (schema.Import, (IMPORTS_FILE,), "at"),
    (schema.ReviewRecord, (REVIEW_FILE,), "id"),
    (schema.PaymentLinkRecord, (PAYMENT_LINKS_FILE,), "id"),
)


def _kinds(root: Path) -> dict[type[BaseModel], list[str]]:
    """The files present for each kind of record, in the order they are read."""
    found = {model: list(_paths(root, patterns)) for model, patterns, _ in _KINDS}
    found[schema.Settings] = [SETTINGS_FILE]  # required: a missing one is a problem
    return found


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


def _paths(root: Path, patterns: tuple[str, ...]) -> Iterator[str]:
    for pattern in patterns:
        for path in sorted(root.glob(pattern)):
            yield path.relative_to(root).as_posix()


@dataclass
class FileResult:
    """What one file of the books holds: its valid records (with their key paths), its problems,
    and the names of records that did not validate. The unit the cache keeps."""

    file: YamlFile | None
    records: list[tuple[Any, Key]] = field(default_factory=list)
    digests: list[bytes] = field(default_factory=list)  # of each record's values as written
    problems: list[Problem] = field(default_factory=list)
    broken: list[str] = field(default_factory=list)
    unreadable: bool = False


# Reading files through a `spread` pays once there is this much to read (a worker costs ~10 ms).
_PARALLEL_BYTES = 512 * 1024


def _read_all(
    root: Path, kinds: dict[type[BaseModel], list[str]], files: FileCache, spread: Spread | None
) -> dict[str, FileResult]:
    """Every file's result: from the cache, else read (through `spread` when there is a lot)."""
    idents = {model: ident for model, _, ident in _KINDS}
    results: dict[str, FileResult] = {}
    missed: list[tuple[str, bytes, type[BaseModel], str, str]] = []
    for model, names in kinds.items():
        for name in names:
            raw = read_bytes(root / name, name)
            if isinstance(raw, Problem):
                results[name] = FileResult(None, problems=[raw], unreadable=True)
                continue
            key = files.key(name, model.__name__, raw)
            cached = files.get(key)
            if isinstance(cached, FileResult):
                results[name] = cached
            else:
                missed.append((name, raw, model, idents[model], key))
    if (
        spread is not None
        and len(missed) > 1
        and sum(len(item[1]) for item in missed) > _PARALLEL_BYTES
    ):
        biggest_first = sorted(missed, key=lambda item: -len(item[1]))
        for model in {item[2] for item in missed}:
            model.model_rebuild()  # each validator built once here, not once in every worker
        arguments = zip(*[(*item, files.folder) for item in biggest_first], strict=True)
        done = spread(_read_kept, *arguments)
        for (name, *_), entry in zip(biggest_first, done, strict=True):
            results[name] = pickle.loads(entry)
    else:
        for name, raw, model, ident, key in missed:
            results[name] = _read_forgetting(name, raw, model, ident)
            files.put(key, results[name])
    return results


def _read_kept(
    name: str, raw: bytes, model: type[BaseModel], ident: str, key: str, folder: Path | None
) -> bytes:
    """A worker's share (see `spread`): the file's result pickled, and kept in the cache from
    there, so that the caller only has to unpickle it (pickling 10,000 records costs as much
    again)."""
    entry = pickle.dumps(_read_forgetting(name, raw, model, ident), pickle.HIGHEST_PROTOCOL)
    FileCache(folder).put_pickled(key, entry)
    return entry


def _read_forgetting(name: str, raw: bytes, model: type[BaseModel], ident: str) -> FileResult:
    result = _read_file(raw, name, model, ident)
    if result.file is not None:
        result.file.forget()
    return result


def _read_file(raw: bytes, name: str, model: type[BaseModel], ident: str) -> FileResult:
    file, problems = read_yaml(raw, name)
    result = FileResult(file, problems=problems)
    if file is None:
        result.unreadable = True
        return result
    if not ident:
        record = _validate(model, file, (), result.problems)
        if record is not None:
            result.records.append((record, ()))
            result.digests.append(_digest(file.data))
        return result
    if file.data is None:
        return result  # an empty file
    if not isinstance(file.data, list):
        result.unreadable = True
        wanted = f"expected a list of {model.__name__.lower()} entries (`- ...`)"
        result.problems.append(Problem(name, 1, "", wanted))
        return result
    for index, raw_record in enumerate(file.data):
        record = _validate(model, file, (index,), result.problems)
        if record is not None:
            result.records.append((record, (index,)))
            result.digests.append(_digest(raw_record))
        elif isinstance(raw_record, dict) and isinstance(raw_record.get(ident), str | int):
            result.broken.append(str(raw_record[ident]))
    return result


def _records(
    names: list[str],
    results: dict[str, FileResult],
    model: type[M],
    books: Books,
    problems: list[Problem],
) -> Iterator[M]:
    """The valid records of the files `names`, each a list of `model` records."""
    for name in names:
        result = results[name]
        problems.extend(result.problems)
        if result.unreadable:
            books.unreadable.add(model.__name__)
        books.broken.update((model.__name__, broken) for broken in result.broken)
        for (record, key), digest in zip(result.records, result.digests, strict=True):
            assert result.file is not None
            books.origins[id(record)] = Origin(result.file, key)
            books.digests[id(record)] = digest
            yield record


def _digest(raw: Any) -> bytes:
    return hashlib.blake2b(repr(raw).encode(), digest_size=16).digest()


def _validate(model: type[M], file: YamlFile, key: Key, problems: list[Problem]) -> M | None:
    raw = file.data
    for part in key:
        raw = raw[part]
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        problems.extend(explain(model, exc, file, key))
        return None
