"""Turn work done in a thread into an iterator the UI consumes as it comes (streamed drafts)."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

T = TypeVar("T")


def stream(work: Callable[[Callable[[T], None]], None]) -> Iterator[T]:
    """Run `work(emit)` in a thread; yield what it emits as it comes (its exception is raised here)."""
    items: queue.Queue[Any] = queue.Queue()
    done = object()

    def run() -> None:
        try:
            work(items.put)
        except BaseException as exc:  # handed to the reader's thread
            items.put(exc)
        finally:
            items.put(done)

    threading.Thread(target=run, daemon=True).start()
    while (item := items.get()) is not done:
        if isinstance(item, BaseException):
            raise item
        yield item
