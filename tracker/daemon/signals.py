"""The daemon's signals, acted on by a thread of their own, never in the handler.

A Python signal handler runs in the main thread between two bytecodes, wherever that
thread happens to be, including inside a ``with lock:`` block of the scheduler, of
``concurrent.futures`` or of ``threading.Event``. A handler that takes the same lock
(``scheduler.shutdown()`` does, ``Event.set()`` does) then waits for itself forever:
``threading.Lock`` is not reentrant. So the handler only writes the signal's number to a
pipe (``os.write``: no lock); the ``tracker-signals`` thread reads it and calls the
daemon's ``stop`` or ``reload``, taking locks as any other thread does.

``kill -USR1 <pid>`` writes every thread's stack to stderr (the log), at once, whatever
the threads are doing (:mod:`faulthandler`, from C): to see where a daemon waits.
"""

from __future__ import annotations

import contextlib
import faulthandler
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable
from types import FrameType

log = logging.getLogger("tracker.daemon")

STOP = (signal.SIGTERM, signal.SIGINT)
RELOAD = signal.SIGHUP


def install(stop: Callable[[signal.Signals], None], reload: Callable[[], None]) -> bool:
    """SIGTERM and SIGINT call ``stop``, SIGHUP ``reload``, on the ``tracker-signals``
    thread; SIGUSR1 dumps the stacks. Only from the main thread (else nothing; False)."""
    if threading.current_thread() is not threading.main_thread():
        return False
    read, write = os.pipe()
    os.set_blocking(write, False)

    def note(number: int, _frame: FrameType | None) -> None:
        with contextlib.suppress(OSError):  # full (a signal already waits) or closed
            os.write(write, bytes((number,)))

    def act() -> None:
        while True:
            try:
                numbers = os.read(read, 64)
            except InterruptedError:
                continue
            if not numbers:
                return
            for number in numbers:
                try:
                    if number == RELOAD:
                        reload()
                    else:
                        stop(signal.Signals(number))
                except Exception:
                    log.exception("acting on signal %d failed", number)

    threading.Thread(target=act, name="tracker-signals", daemon=True).start()
    faulthandler.register(signal.SIGUSR1, file=sys.stderr, all_threads=True)
    for number in (*STOP, RELOAD):
        signal.signal(number, note)
    return True
