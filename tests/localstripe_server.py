"""localstripe on 127.0.0.1, started once per test process: its aiohttp app is one object, bound to
the first event loop that serves it, so every test module that needs it shares this one."""

from __future__ import annotations

import asyncio
import socket
import threading

_ADDRESS: list[str] = []


def localstripe_address() -> str:
    """The address of localstripe, started (in a daemon thread) on the first call, and emptied
    on every call: each test meets a Stripe account with nothing in it yet (another test's
    payments would be read back as this one's)."""
    from localstripe import resources  # type: ignore[import-untyped]

    if _ADDRESS:
        resources.store.clear()
        return _ADDRESS[0]
    from aiohttp import web
    from localstripe.server import app  # type: ignore[import-untyped]

    # localstripe would pickle its store into the working folder after every request.
    resources.Store.dump_to_disk = lambda self: None
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(app)
    started = threading.Event()

    def serve() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(runner.setup())
        loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", port).start())
        started.set()
        loop.run_forever()

    threading.Thread(target=serve, daemon=True).start()
    assert started.wait(10)
    _ADDRESS.append(f"http://127.0.0.1:{port}")
    return _ADDRESS[0]
