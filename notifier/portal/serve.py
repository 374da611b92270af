"""A local preview: serve the built site on 127.0.0.1 and rebuild when the books, words or theme
change. Never for production: it binds to loopback only."""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from notifier.portal.build import CSP

WATCHED = ("data", "content", "site")
HEADERS = {
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex, nofollow, noarchive",
    "Content-Security-Policy": f"{CSP}; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}


class _Handler(SimpleHTTPRequestHandler):
    """Static files with the privacy headers a real host should send, and no folder listings."""

    def end_headers(self) -> None:
        for name, value in HEADERS.items():
            self.send_header(name, value)
        super().end_headers()

    def list_directory(self, path: str | Path) -> None:  # type: ignore[override]
        self.send_error(404)
        return None

    def log_message(self, format: str, *args: object) -> None:
        pass  # the preview's own output is the summary of each build


def start_server(site: Path, port: int = 0) -> ThreadingHTTPServer:
    """Serve `site` on 127.0.0.1:`port` (0: any free port) from a background thread."""
    server = ThreadingHTTPServer(("127.0.0.1", port), partial(_Handler, directory=str(site)))
    threading.Thread(target=server.serve_forever, name="notifier-serve", daemon=True).start()
    return server


def fingerprint(root: Path) -> tuple[tuple[str, int, int], ...]:
    """Every watched file's path, size and modification time: equal if nothing changed."""
    found = []
    for folder in WATCHED:
        for path in sorted((root / folder).rglob("*")):
            if path.is_file():
                stat = path.stat()
                found.append((path.relative_to(root).as_posix(), stat.st_size, stat.st_mtime_ns))
    return tuple(found)


def watch(
    root: Path,
    rebuild: Callable[[], None],
    stop: threading.Event,
    seen: tuple[tuple[str, int, int], ...],
    interval: float = 0.5,
) -> None:
    """Call `rebuild` whenever a watched file differs from `seen` (a `fingerprint` taken before
    the build being served, so that an edit made while it ran, or just after, is not missed),
    until `stop` is set."""
    while not stop.wait(interval):
        now = fingerprint(root)
        if now != seen:
            seen = now
            rebuild()
