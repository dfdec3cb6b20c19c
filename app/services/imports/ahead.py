"""Reading the next batch of source rows while the database writes this one.

Reading a source and cleaning its rows is Python work; writing a batch is mostly the database's. Done one
after the other, each waits for the other. Here a thread reads and cleans the next batches while the caller
writes the current one (psycopg2 releases the GIL while it waits for the server), so on two cores the two
overlap. The thread touches only the source and MemberRow objects, never the app's session.
"""
from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator
from itertools import islice

#: Batches read ahead at most (each up to BATCH_SIZE rows held in memory).
AHEAD = 2
_END = object()


class _Failed:
    def __init__(self, error: BaseException):
        self.error = error


def batches_ahead(rows: Iterable, size: int, ahead: int = AHEAD) -> Iterator[list]:
    """Lists of up to `size` rows, read in a thread up to `ahead` batches in advance.

    An error in the reader is raised here, in the caller's thread. Leaving the loop early (or an error in
    the caller) stops the reader, and the reader has finished, its source closed, when this returns.
    """
    out: queue.Queue = queue.Queue(maxsize=ahead)
    stop = threading.Event()
    thread = threading.Thread(target=_read, args=(rows, size, out, stop), name="import-reader", daemon=True)
    thread.start()
    try:
        while (item := out.get()) is not _END:
            if isinstance(item, _Failed):
                raise item.error
            yield item
    finally:
        stop.set()
        thread.join()


def _read(rows: Iterable, size: int, out: queue.Queue, stop: threading.Event) -> None:
    iterator = iter(rows)
    try:
        while not stop.is_set() and (batch := list(islice(iterator, size))):
            _put(out, stop, batch)
        _put(out, stop, _END)
    except BaseException as err:  # noqa: BLE001 - handed to the caller's thread, raised there
        _put(out, stop, _Failed(err))
    finally:
        close = getattr(iterator, "close", None)
        if close is not None:
            close()  # a generator's own `finally` (closing the source connection) runs in this thread


def _put(out: queue.Queue, stop: threading.Event, item) -> None:
    """Put `item`, giving up once the caller has stopped listening."""
    while not stop.is_set():
        try:
            out.put(item, timeout=0.1)
            return
        except queue.Full:
            continue
