"""Slow-header clients against `tracker serve`: N connections each send one byte of a
request head a second while another client times GET /api/upcoming.

    python -m bench.slow_headers [--slow 300] [--seconds 30] [--header-timeout 10] [--plain]

``--plain`` serves with uvicorn's own h11 protocol (no header deadline, no cap) to compare.
The server starts with a soft limit of 1,024 open files, a common default.
Prints the other client's p50/p99/max latency, its failures, and how many slow
connections the server had closed by the end.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench.harness import Figure, Row

SERVER = """
import resource, sys, uvicorn
from tracker.cli.app import App
resource.setrlimit(resource.RLIMIT_NOFILE, (1024, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))
from tracker.web import server
app = App()
settings = app.settings
if sys.argv[1] == "plain":
    from tracker.web.app import create_app
    uvicorn.Config  # uvicorn's defaults: h11, no header deadline, no connection cap
    config = uvicorn.Config(create_app(settings, app.sessions, app.clock), host="127.0.0.1",
        port=int(sys.argv[2]), http="h11", log_level="warning")
    uvicorn.Server(config).run()
else:
    server.configure_logging("WARNING")
    server.raise_file_limit(2 * settings.server.max_connections + 100)
    listen = settings.server.model_copy(update={"port": int(sys.argv[2])})
    server.make_server(settings.model_copy(update={"server": listen}), app.sessions,
        app.clock).run()
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def slow_client(port: int, seconds: float, closed: list[int]) -> None:
    head = b"GET /api/upcoming HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"a" * 200
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        closed.append(1)
        return
    end = time.monotonic() + seconds
    try:
        for byte in head:
            if time.monotonic() > end:
                break
            writer.write(bytes([byte]))
            await writer.drain()
            try:  # the server closing shows as EOF within the second
                if await asyncio.wait_for(reader.read(1), 1.0) == b"":
                    closed.append(1)
                    return
            except TimeoutError:
                pass
    except OSError:
        closed.append(1)
    finally:
        writer.close()


async def timed_get(port: int) -> float | None:
    began = time.perf_counter()
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 5)
        writer.write(b"GET /api/upcoming HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        data = await asyncio.wait_for(reader.read(), 5)
        writer.close()
    except (OSError, TimeoutError):
        return None
    return time.perf_counter() - began if data.startswith(b"HTTP/1.1 200") else None


@dataclass(frozen=True)
class Flood:
    slow: int
    closed: int  # slow connections the server had closed by the end
    answered: int
    failures: int
    latencies: list[float]  # seconds, sorted

    @property
    def p99(self) -> float:
        found = self.latencies or [float("nan")]
        return found[max(0, int(len(found) * 0.99) - 1)]

    def text(self) -> str:
        found = self.latencies or [float("nan")]
        return (
            f"slow clients {self.slow}, closed by the server {self.closed}; other client: "
            f"{self.answered} answered, {self.failures} failed, "
            f"p50 {statistics.median(found):.4f}s p99 {self.p99:.4f}s max {found[-1]:.4f}s"
        )


async def flood(port: int, slow: int, seconds: float) -> Flood:
    closed: list[int] = []
    clients = [asyncio.create_task(slow_client(port, seconds, closed)) for _ in range(slow)]
    await asyncio.sleep(1)
    latencies: list[float] = []
    failures = 0
    end = time.monotonic() + seconds - 2
    while time.monotonic() < end:
        took = await timed_get(port)
        if took is None:
            failures += 1
        else:
            latencies.append(took)
        await asyncio.sleep(0.05)
    await asyncio.gather(*clients)
    return Flood(slow, len(closed), len(latencies), failures, sorted(latencies))


def measure(slow: int, seconds: float, header_timeout: float, mode: str = "guarded") -> Flood:
    """A server of ``mode`` on a fresh `tracker init` home, flooded for ``seconds``."""
    with tempfile.TemporaryDirectory() as home:
        env = {k: v for k, v in os.environ.items() if not k.startswith("TRACKER_")}
        env["TRACKER_DATA_DIR"] = str(Path(home) / "var")
        env["TRACKER_SERVER__HEADER_TIMEOUT_SECONDS"] = str(header_timeout)
        subprocess.run(
            [sys.executable, "-m", "tracker", "init"],
            env=env,
            check=True,
            cwd=home,
            capture_output=True,
        )
        port = free_port()
        server = subprocess.Popen(
            [sys.executable, "-c", SERVER, mode, str(port)], env=env, cwd=home
        )
        try:
            while socket.socket().connect_ex(("127.0.0.1", port)) != 0:
                time.sleep(0.1)
            return asyncio.run(flood(port, slow, seconds))
        finally:
            server.terminate()
            server.wait(10)


def run(slow: int, seconds: float, header_timeout: float = 10) -> list[Row]:
    """The bench row: another client's p99 while ``slow`` clients drip their heads."""
    found = measure(slow, seconds, header_timeout)
    print(found.text(), flush=True)
    p99_ms = found.p99 * 1000
    row = Row(
        "8 slow-header flood",
        f"{slow} clients sending a head byte a second, {seconds:g} s; another client's GETs",
        Figure([p99_ms], "ms p99"),
        None,
        "p99 ≤ 1000 ms, none failed",
        None,
        found.failures == 0 and found.answered > 0 and p99_ms <= 1000,
        note=found.text(),
    )
    return [row]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--slow", type=int, default=300)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--header-timeout", type=float, default=10)
    parser.add_argument("--plain", action="store_true")
    args = parser.parse_args()
    mode = "plain" if args.plain else "guarded"
    print(f"{mode} uvicorn, header timeout {args.header_timeout}s:", end=" ")
    print(measure(args.slow, args.seconds, args.header_timeout, mode).text())


if __name__ == "__main__":
    main()
