"""A stand-in for WeasyPrint, put first on PYTHONPATH by bench/run.py to time a build without the
PDF printing (about 0.5 s a page here): `HTML(...).write_pdf()` returns bytes of a real PDF's
typical size (18 KiB), unique to the HTML, so the cache and the writer do their real work."""

from __future__ import annotations

import hashlib

SIZE = 18 * 1024


class HTML:
    def __init__(self, string: str = "", base_url: str | None = None) -> None:
        self.string = string

    def write_pdf(self) -> bytes:
        digest = hashlib.sha256(self.string.encode("utf-8")).hexdigest().encode()
        head = b"%PDF-1.7\n% bench stub " + digest + b"\n"
        return head + b"0" * (SIZE - len(head))
