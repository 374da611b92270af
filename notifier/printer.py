"""Printing documents to PDF with Typst: a template of the theme (`site/documents/NAME.typ`) and
its data as JSON (`json("/data.json")` in the template), with the fonts of `site/fonts` only, so a
document prints the same on every machine.

Typst runs in a process of its own, forked for it, never in the process that asks: once Typst has
compiled in a process, a process forked from it hangs on its first compile (its worker threads do
not survive the fork), and the commands fork (workers, checks, task sheets). The printing process
keeps one compiler per template for its life, and the theme's fonts once for all its compilers
(one compile takes about 10 ms of CPU for an invoice: fonts, parsed templates and the layouts of
what did not change are reused)."""

from __future__ import annotations

import atexit
import json
import multiprocessing
import os
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

DOCUMENTS = "documents"  # the templates' folder in the theme
FONTS = "fonts"  # the fonts' folder in the theme: the only fonts a document is printed with
DATA = "/data.json"  # where a template reads its document's data: `json("/data.json")`
# Where it reads whether to number its pages (`{"numbered": false}`): a document is printed
# first without page numbers, and again with them only when it has more than one page, since
# numbering ("page 2 of 3") makes Typst lay the whole document out twice to know the count.
PRINT = "/print.json"


class DocumentError(Exception):
    """A document that could not be printed: its template missing or wrong (the message names the
    template, and the line), or its data refused."""


@dataclass(frozen=True)
class Request:
    """One document to print: the theme's folder (`site/`), the template's name in its
    `documents/` folder, the data as JSON, and the day the PDF says it was made (so the same
    document gives the same bytes)."""

    theme: str
    template: str
    data: str
    day: date


def request(theme: Path, template: str, data: dict[str, Any], day: date) -> Request:
    """A `Request` for `template` of `theme`, with `data` (strings, numbers, lists, dicts)."""
    text = json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return Request(str(theme.resolve()), template, text, day)


def print_document(document: Request) -> bytes:
    """`document` printed by this process's own printer (started at the first document)."""
    printer = _OWN.get(os.getpid())
    if printer is None:
        printer = _OWN[os.getpid()] = Printer()
    return printer.print(document)


_OWN: dict[int, Printer] = {}  # this process's printer, by process id (a fork makes its own)


class Printer:
    """A printing process, forked at once (its import and fonts load beside the work that comes
    before the first PDF), that prints one document at a time while this process goes on (`send`).

    Used from the process that made it; a process forked from that one uses its own."""

    def __init__(self) -> None:
        context = multiprocessing.get_context("fork")
        self._owner = os.getpid()
        self._connection, theirs = context.Pipe()
        self._process = context.Process(target=_serve, args=(theirs, self._connection), daemon=True)
        self._process.start()
        theirs.close()
        self._closed = False
        self._printing: PrintJob | None = None  # sent, its PDF not yet taken in
        atexit.register(self.close)

    def print(self, document: Request) -> bytes:
        return self.send(document).result()

    def send(self, document: Request) -> PrintJob:
        """Start printing `document`; the job's `result()` waits for the PDF and gives it (or
        raises DocumentError). One PDF is printed at a time: sending another first takes this one
        in (the pipe holds only so much, both ways)."""
        job = PrintJob(self, document)
        if os.getpid() != self._owner or self._closed:
            job.take(print_document(document))
            return job
        self._take_in()
        try:
            self._connection.send(document)
        except OSError:  # it stopped: another prints
            job.take(_another(document))
            return job
        self._printing = job
        return job

    def _take_in(self) -> None:
        """Receive the PDF being printed, if any."""
        job, self._printing = self._printing, None
        if job is None:
            return
        try:
            data, error = self._connection.recv()
        except (EOFError, OSError):  # it stopped: another prints
            job.take(_another(job.document))
            return
        if error is not None:
            job.failed(DocumentError(error))
        else:
            job.take(data)

    def close(self) -> None:
        """Stop the printing process: nothing it does is kept but what it sent."""
        if os.getpid() != self._owner or self._closed:
            return
        self._closed = True
        self._printing = None
        self._connection.close()
        self._process.kill()
        self._process.join()


def _another(document: Request) -> bytes:
    """`document` printed by a new printing process, after one stopped (killed, out of memory)."""
    _OWN.pop(os.getpid(), None)
    return print_document(document)


class PrintJob:
    """One PDF asked of a `Printer`."""

    def __init__(self, printer: Printer, document: Request) -> None:
        self.printer, self.document = printer, document
        self._data: bytes | None = None
        self._error: DocumentError | None = None

    @property
    def done(self) -> bool:
        """Whether the PDF (or the error) is in: `result()` will not wait."""
        return self._data is not None or self._error is not None

    def take(self, data: bytes) -> None:
        self._data = data

    def failed(self, error: DocumentError) -> None:
        self._error = error

    def result(self) -> bytes:
        if not self.done:
            if self.printer._printing is self:
                self.printer._take_in()
            else:  # the printer was closed before this PDF came back
                self.take(print_document(self.document))
        if self._error is not None:
            raise self._error
        assert self._data is not None
        return self._data


def _serve(connection: Connection, asking_end: Connection) -> None:
    """The printing process: print each document sent until the pipe closes. What went wrong goes
    back as text, to be raised where the PDF was asked for."""
    # The asking process's end of the pipe, inherited by the fork: closed, so that the pipe closes
    # when that process dies, however it dies (killed, it runs no atexit), and this one ends too,
    # not holding its standard output open for ever.
    asking_end.close()
    import typst  # the point of the process: here, never in the process that asks

    compilers: dict[tuple[str, str], typst.Compiler] = {}
    fonts: dict[str, typst.Fonts] = {}
    while True:
        try:
            document: Request = connection.recv()
        except (EOFError, OSError):  # the asking process closed its end, or is gone
            return
        try:
            reply: tuple[bytes | None, str | None] = (
                _compile(typst, compilers, fonts, document),
                None,
            )
        except Exception as error:
            reply = (None, _message(document, error))
        try:
            connection.send(reply)
        except OSError:  # gone while this one printed (it stopped on an error): nothing to say
            return


def _compile(
    typst: Any, compilers: dict[tuple[str, str], Any], fonts: dict[str, Any], document: Request
) -> bytes:
    theme = Path(document.theme)
    template = theme / DOCUMENTS / document.template
    if not template.is_file():
        raise FileNotFoundError(template)
    key = (document.theme, document.template)
    compiler = compilers.get(key)
    if compiler is None:
        if document.theme not in fonts:  # found once, shared by the theme's templates
            fonts[document.theme] = _theme_fonts(typst, theme / FONTS)
        compiler = compilers[key] = typst.Compiler(
            template, root=theme, font_paths=fonts[document.theme]
        )
    # The data as a file of its own beside the template, never as `sys.inputs`: Typst builds its
    # whole standard library again whenever `sys.inputs` changes (a millisecond a document, a
    # tenth of an invoice's compile), and a file that changes costs only what reads it.
    files = {"main": f'#include "/{DOCUMENTS}/{document.template}"'.encode()}
    files[DATA] = document.data.encode()
    day = datetime(document.day.year, document.day.month, document.day.day, tzinfo=UTC)
    files[PRINT] = b'{"numbered":false}'
    data: bytes = compiler.compile(input=files, format="pdf", timestamp=day)
    if _page_count(data) != 1:  # printed again, its pages numbered (see `PRINT`)
        files[PRINT] = b'{"numbered":true}'
        data = compiler.compile(input=files, format="pdf", timestamp=day)
    return data


def _page_count(pdf: bytes) -> int | None:
    """The pages of a PDF Typst printed, as its page tree says (`/Type/Pages/Count 1`); None if
    it does not say so in those words (a Typst that writes it otherwise: the document is then
    printed numbered, never wrongly unnumbered)."""
    found = _PAGE_TREE.search(pdf)
    return int(found[1]) if found else None


_PAGE_TREE = re.compile(rb"/Type/Pages/Count (\d+)/")


def _theme_fonts(typst: Any, folder: Path) -> Any:
    """The fonts of the theme's `folder` only: never the system's, nor Typst's own, which would
    stand in unseen for a sign the theme's fonts lack. Typst's own only for a theme with no
    fonts at all (a bare theme still prints its words)."""
    shipped = folder.is_dir() and any(
        path.suffix.lower() in (".ttf", ".otf", ".ttc", ".otc") for path in folder.iterdir()
    )
    return typst.Fonts(
        include_system_fonts=False, include_embedded_fonts=not shipped, font_paths=[folder]
    )


def _message(document: Request, error: Exception) -> str:
    """What went wrong printing `document`, naming the template (and the line, for Typst's own
    errors) relative to the theme's folder's parent: `site/documents/invoice.typ:12: ...`."""
    name = f"{Path(document.theme).name}/{DOCUMENTS}/{document.template}"
    if isinstance(error, FileNotFoundError):
        return (
            f"notifier: the theme has no {name} (in {Path(document.theme).parent}); this version "
            "of notifier prints with it: copy it from the template repository"
        )
    text = str(getattr(error, "message", None) or error)
    line = _line_of(getattr(error, "diagnostic", ""))
    return f"{name}:{line}: {text}" if line else f"{name}: {text}"


def _line_of(diagnostic: str) -> str:
    """The line Typst's diagnostic points at (`┌─ documents/invoice.typ:12:5`), if it says."""
    for part in diagnostic.split():
        pieces = part.rsplit(":", 2)
        if len(pieces) == 3 and pieces[0].endswith(".typ") and pieces[1].isdigit():
            return pieces[1]
    return ""
