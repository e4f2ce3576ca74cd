"""Misbehaving servers for the fault suite: a raw TCP SMTP peer that follows a script."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal

import pytest

from ..feeds.conftest import schedule
from ..notifiers.conftest import certificate, free_port, smtp_server
from .daemons import SlowMailbox

__all__ = ["certificate", "schedule", "smtp_server"]

Behaviour = Literal["hang", "drop-in-data", "greet-421", "drip"]


@dataclass
class ScriptedSmtp:
    """Accepts connections and misbehaves: never answers, drops the line mid-DATA, greets
    with 421, or drips its greeting one byte every ``drip_seconds`` (each read gets a
    byte in time: only a deadline on the whole exchange ends it). ``connections``
    counts who came; nothing is ever accepted."""

    behaviour: Behaviour
    drip_seconds: float = 5.0
    listener: socket.socket = field(default_factory=socket.socket)
    connections: int = 0
    _open: list[socket.socket] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)

    @property
    def port(self) -> int:
        return int(self.listener.getsockname()[1])

    def start(self) -> ScriptedSmtp:
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(8)
        self.listener.settimeout(0.1)
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                peer, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            self._open.append(peer)
            threading.Thread(target=self._serve, args=(peer,), daemon=True).start()

    def _serve(self, peer: socket.socket) -> None:
        if self.behaviour == "hang":
            return  # accepted, never a byte: the client's timeout must fire
        if self.behaviour == "drip":
            try:
                for byte in b"220 slow ESMTP\r\n" * 1000:
                    peer.sendall(bytes([byte]))
                    if self._stop.wait(self.drip_seconds):
                        return
            except OSError:  # the client cut it off
                return
        if self.behaviour == "greet-421":
            peer.sendall(b"421 4.3.2 Service not available, closing channel\r\n")
            peer.close()
            return
        reader = peer.makefile("rb")
        peer.sendall(b"220 faulty ESMTP\r\n")
        try:
            for line in reader:
                verb = line[:4].upper()
                if verb in (b"EHLO", b"HELO"):
                    peer.sendall(b"250 faulty\r\n")
                elif verb == b"DATA":
                    peer.sendall(b"354 go ahead\r\n")
                    reader.readline()  # the first line of the message, then the line drops
                    peer.shutdown(socket.SHUT_RDWR)
                    peer.close()
                    return
                elif verb == b"QUIT":
                    peer.sendall(b"221 bye\r\n")
                    peer.close()
                    return
                else:
                    peer.sendall(b"250 OK\r\n")
        except OSError:
            pass

    def stop(self) -> None:
        self._stop.set()
        self.listener.close()
        for peer in self._open:
            peer.close()


@pytest.fixture
def scripted_smtp() -> Iterator[type[ScriptedSmtp]]:
    started: list[ScriptedSmtp] = []

    class Tracked(ScriptedSmtp):
        def start(self) -> ScriptedSmtp:
            started.append(self)
            return super().start()

    yield Tracked
    for server in started:
        server.stop()


@pytest.fixture
def mailbox() -> Iterator[tuple[SlowMailbox, int]]:
    from aiosmtpd.controller import Controller

    box, port = SlowMailbox(), free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    yield box, port
    controller.stop()
