"""The speed machinery, in one place: work on the other core, Python's cycle collector, and the
reminder texts' compiled templates kept between runs.

The commands use it; the books, the ledger and the account never import it (tests guard that):
they are plain functions, and a command that wants a stage done on both cores hands it a
`spread` or an `aside` from here. Everything here changes how fast a result comes, never what it
is: each function has a plain counterpart (`map`, `run_here`) that gives the same."""

from __future__ import annotations

import contextlib
import gc
import multiprocessing
import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")


def can_fork() -> bool:
    """Whether there is another core to fork onto."""
    return (os.cpu_count() or 1) > 1


def cores() -> int:
    """The cores this process may run on."""
    return len(os.sched_getaffinity(0))


def forked(work: Callable[[], T]) -> Callable[[], T]:
    """`work` started in a forked process, on the other core: call the result for what it found.
    A fork shares what is loaded already (copy on write); only the answer comes back, pickled, so
    keep answers small. If the process stopped before it answered (the work raised), the work is
    done here instead."""
    context = multiprocessing.get_context("fork")
    reader, writer = context.Pipe(duplex=False)
    process = context.Process(target=_answer, args=(writer, work), daemon=True)
    process.start()
    writer.close()

    def result() -> T:
        try:
            found: T = reader.recv()
        except EOFError:
            found = work()
        finally:
            reader.close()
            process.join()
        return found

    return result


def _answer(writer: Connection, work: Callable[[], object]) -> None:
    writer.send(work())


def aside(work: Callable[[], T]) -> Callable[[], T]:
    """`work` started on the other core when there is one (`forked`), else done when asked."""
    return forked(work) if can_fork() else work


def run_here(work: Callable[[], T]) -> Callable[[], T]:
    """`aside` on one core: the work is done when its result is asked for."""
    return work


def spread(function: Callable[..., T], *arguments: Iterable[Any]) -> Iterator[T]:
    """`map(function, *arguments)`, in forked workers, one per core (in order)."""
    context = multiprocessing.get_context("fork")
    items = list(zip(*arguments, strict=True))
    with ProcessPoolExecutor(min(len(items), cores()) or 1, mp_context=context) as pool:
        yield from pool.map(function, *zip(*items, strict=True))


def in_workers(task: Callable[[T], Any], shares: list[T], count: int) -> Iterator[Any]:
    """`task` of each share, in `count` forked workers, as each is done (in any order). What the
    workers inherit is frozen meanwhile: the collector would write to every object it scans, and
    so copy every page of it into each worker."""
    frozen_before = gc.get_freeze_count()
    gc.freeze()
    try:
        # Not multiprocessing's Pool: its workers are daemons, and a daemon may not start a
        # process, which a worker's printer is (notifier.printer).
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(count, mp_context=context) as pool:
            for done in as_completed([pool.submit(task, share) for share in shares]):
                yield done.result()
    finally:
        if not frozen_before:
            gc.unfreeze()


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cycle collector off meanwhile: reading the books or a large export makes a
    million objects that all stay (and next to no cycles), and the collector, set off again and
    again by so many new objects, would walk them all each time."""
    running = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if running:
            gc.enable()


@contextmanager
def kept_until_exit() -> Iterator[None]:
    """What is made meanwhile (the books, the day's account) with the collector paused, then
    frozen: it lives until the command ends, and the collector, set off by what later stages
    make, would walk its million objects each time (working out the account of 10,000 invoices
    set off three to five full collections, a fifth of its time). No full collection comes first:
    it would walk every object the imports made to find next to nothing."""
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        gc.enable()


def keep_compiled_texts(folder: Path) -> None:
    """The reminder texts' templates, once compiled, kept in `folder` for the next command: each
    text's in a file of jinja2's own bytecode cache, used while the text's source has the same
    checksum (an edited text is compiled again, at once). Compiling the texts was most of what
    checking them, and a tenth of composing a run's emails, cost."""
    import jinja2

    from notifier.reminders import render

    with contextlib.suppress(OSError):  # a read-only checkout still works, only slower
        folder.mkdir(parents=True, exist_ok=True)
    render.keep_compiled(jinja2.FileSystemBytecodeCache(str(folder)))
