"""Work started in a forked process, on the other core, while this one goes on.

A fork shares the books already loaded (copy on write), so a share of the work costs nothing to
hand over; only its answer comes back, pickled. Keep answers small: pickling records back is
what makes forking pay or not."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import TypeVar

T = TypeVar("T")


def can_fork() -> bool:
    """Whether there is another core to fork onto."""
    return (os.cpu_count() or 1) > 1


def forked(work: Callable[[], T]) -> Callable[[], T]:
    """`work` started in a forked process: call the result for what it found. If the process
    stopped before it answered (the work raised), the work is done here instead."""
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
