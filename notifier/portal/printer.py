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

    data: bytes = HTML(string=html, base_url=base_url).write_pdf()
    return data


class Printer:
    """WeasyPrint in a process of its own, forked at once so that its import (about 2 s: most of
    the cost of a build that prints one PDF) goes on beside the work that comes before the first
    PDF: loading the books, checking them, rendering the pages.

    Used from the process that made it; a process forked from that one prints for itself."""

    def __init__(self) -> None:
        context = multiprocessing.get_context("fork")
        self._owner = os.getpid()
        self._connection, theirs = context.Pipe()
        self._process = context.Process(target=_serve, args=(theirs,), daemon=True)
        self._process.start()
        theirs.close()

    def print(self, html: str, base_url: str) -> bytes:
        if os.getpid() != self._owner:
            return print_pdf(html, base_url)
        try:
            self._connection.send((html, base_url))
            data, error = self._connection.recv()
        except (EOFError, OSError):  # it stopped (an error it could not send back): print here
            return print_pdf(html, base_url)
        if error is not None:
            raise error
        assert isinstance(data, bytes)
        return data

    def close(self) -> None:
        """Stop the printing process, wherever it is: nothing it does is kept but what it sent."""
        if os.getpid() != self._owner:
            return
        self._connection.close()
        self._process.kill()
        self._process.join()


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
