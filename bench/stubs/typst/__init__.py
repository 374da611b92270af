"""A stand-in for Typst, put first on PYTHONPATH by bench/run.py to time a build without the PDF
printing: `notifier.printer` imports `typst` in its printing process, and this module's
`Compiler.compile()` returns bytes of a real invoice PDF's typical size (18 KiB), unique to the
document's data, so the printing process, the cache and the writer do their real work."""

from __future__ import annotations

import hashlib
from typing import Any

SIZE = 18 * 1024


class Fonts:
    def __init__(self, **_: Any) -> None:
        pass


class Compiler:
    def __init__(self, template: object, **_: Any) -> None:
        self.template = str(template)

    def compile(self, *, input: dict[str, bytes], **_: Any) -> bytes:
        what = self.template.encode() + b"\0" + input.get("/data.json", b"")
        digest = hashlib.sha256(what).hexdigest().encode()
        head = b"%PDF-1.7\n% bench stub " + digest + b"\n<</Type/Pages/Count 1/Kids[]>>\n"
        return head + b"0" * (SIZE - len(head))
