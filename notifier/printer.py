"""Printing HTML to PDF with WeasyPrint, here or in a process of its own.

Light on purpose: `notifier build` starts the printing process before it imports anything heavy."""

from __future__ import annotations

import contextlib
import multiprocessing
import os
from multiprocessing.connection import Connection


def print_pdf(html: str, base_url: str) -> bytes:
    """`html` printed to PDF in this process."""
    from weasyprint import HTML  # imported here: it takes a while to load and most runs need none

    # Without HarfBuzz's subsetter, WeasyPrint embeds fonts with fontTools, which stamps each with
    # the time unless told a fixed one: the same invoice would print to other bytes each time.
    os.environ.setdefault("SOURCE_DATE_EPOCH", "0")
    data: bytes = HTML(string=html, base_url=base_url).write_pdf()
    return data


class Printer:
    """WeasyPrint in a process of its own, forked at once so that its import (about 1 s: most of
    the cost of a build that prints one PDF) goes on beside the work that comes before the first
    PDF: loading the books, checking them, rendering the pages. And a PDF is printed there while
    this process goes on (`send`): rendering the next page, the dashboard.

    Used from the process that made it; a process forked from that one prints for itself."""

    def __init__(self) -> None:
        context = multiprocessing.get_context("fork")
        self._owner = os.getpid()
        self._connection, theirs = context.Pipe()
        self._process = context.Process(target=_serve, args=(theirs,), daemon=True)
        self._process.start()
        theirs.close()
        self._closed = False
        self._printing: PrintJob | None = None  # sent, its PDF not yet taken in

    def print(self, html: str, base_url: str) -> bytes:
        return self.send(html, base_url).result()

    def send(self, html: str, base_url: str) -> PrintJob:
        """Start printing `html`; the job's `result()` waits for the PDF and gives it (or raises
        what printing raised). One PDF is printed at a time: sending another first takes this one
        in (the pipe holds only so much, both ways)."""
        job = PrintJob(self, html, base_url)
        if os.getpid() != self._owner or self._closed:
            job.take(print_pdf(html, base_url))
            return job
        self._take_in()
        try:
            self._connection.send((html, base_url))
        except OSError:  # it stopped (an error it could not send back): print here
            job.take(print_pdf(html, base_url))
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
        except (EOFError, OSError):  # it stopped: print here
            job.take(print_pdf(job.html, job.base_url))
            return
        if error is not None:
            job.failed(error)
        else:
            job.take(data)

    def close(self) -> None:
        """Stop the printing process, wherever it is: nothing it does is kept but what it sent."""
        if os.getpid() != self._owner or self._closed:
            return
        self._closed = True
        self._printing = None
        self._connection.close()
        self._process.kill()
        self._process.join()


class PrintJob:
    """One PDF asked of a `Printer`."""

    def __init__(self, printer: Printer, html: str, base_url: str) -> None:
        self.printer, self.html, self.base_url = printer, html, base_url
        self._data: bytes | None = None
        self._error: BaseException | None = None

    @property
    def done(self) -> bool:
        """Whether the PDF (or the error) is in: `result()` will not wait."""
        return self._data is not None or self._error is not None

    def take(self, data: bytes) -> None:
        self._data, self.html = data, ""

    def failed(self, error: BaseException) -> None:
        self._error, self.html = error, ""

    def result(self) -> bytes:
        if not self.done:
            if self.printer._printing is self:
                self.printer._take_in()
            else:  # the printer was closed before this PDF came back: print here
                self.take(print_pdf(self.html, self.base_url))
        if self._error is not None:
            raise self._error
        assert self._data is not None
        return self._data


def _serve(connection: Connection) -> None:
    """The printing process: import WeasyPrint, then print each HTML sent until the pipe closes.
    An error goes back to be raised where the PDF was asked for."""
    # The import is the point: now, not when asked. If it fails, printing says why.
    with contextlib.suppress(Exception):
        import weasyprint  # noqa: F401
    while True:
        try:
            html, base_url = connection.recv()
        except EOFError:
            return
        try:
            connection.send((print_pdf(html, base_url), None))
        except Exception as error:
            connection.send((None, error))
