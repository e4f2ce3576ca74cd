"""The daemon's signals are acted on by their own thread, not inside the handler.

A handler runs in the main thread wherever it is, inside a ``with lock:`` too; one that
took that lock (``scheduler.shutdown()`` and ``Event.set()`` do) waited for itself for
ever: a daemon that SIGTERM did not stop. Each case runs in a child process, which owns
its signal handlers.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap

CHILD = textwrap.dedent(
    """
    import os, signal, threading
    from tracker.daemon import signals

    lock = threading.Lock()  # a lock the main thread holds when the signal comes
    stopped, reloaded = threading.Event(), threading.Event()

    def stop(number):
        with lock:
            print("stop", number.name, threading.current_thread().name, flush=True)
            stopped.set()

    def reload():
        with lock:
            print("reload", flush=True)
            reloaded.set()

    assert signals.install(stop, reload)
    with lock:
        os.kill(os.getpid(), signal.SIGHUP)
        os.kill(os.getpid(), signal.SIGTERM)
        for n in range(100_000):  # the handler runs between these bytecodes
            pass
    assert reloaded.wait(5) and stopped.wait(5)
    """
)


def test_a_stop_signal_taken_while_the_main_thread_holds_a_lock_is_acted_on() -> None:
    child = subprocess.run(
        [sys.executable, "-c", CHILD], capture_output=True, text=True, timeout=20
    )
    assert child.returncode == 0, child.stderr
    assert child.stdout.splitlines() == ["reload", "stop SIGTERM tracker-signals"]


def test_sigusr1_writes_every_threads_stack_and_the_process_goes_on() -> None:
    script = CHILD.replace(
        "assert signals.install(stop, reload)",
        "assert signals.install(stop, reload)\nos.kill(os.getpid(), signal.SIGUSR1)",
    )
    child = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=20
    )
    assert child.returncode == 0, child.stderr
    assert "Current thread" in child.stderr
    assert "in act" in child.stderr  # the tracker-signals thread, waiting for a signal
    assert child.stdout.splitlines()[-1] == "stop SIGTERM tracker-signals"


def test_off_the_main_thread_nothing_is_installed() -> None:
    import threading

    from tracker.daemon import signals

    before = signal.getsignal(signal.SIGTERM)
    result: list[bool] = []
    thread = threading.Thread(target=lambda: result.append(signals.install(print, print)))
    thread.start()
    thread.join()
    assert result == [False]
    assert signal.getsignal(signal.SIGTERM) is before
