"""Sending a batch of emails one step ahead of the caller (see ``EmailNotifier.deliver_each``).

One message is *answered* when its outcome is yielded; the caller records it before it asks
for the next. Meanwhile the following message has been composed and its MAIL and RCPT
sent, its DATA held on a :class:`~tracker.notifiers.smtp.Gate` that opens when the caller
comes back: the SMTP server never holds two messages whose outcomes are not recorded. If
the caller stops asking (a transport fault, a stop), the held message is cancelled unsent.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

from tracker.notifiers.base import DeliveryError
from tracker.notifiers.smtp import Email, Gate, SmtpTransport


@dataclass
class _InFlight:
    sent: Future[None]
    gate: Gate = field(default_factory=Gate)

    def outcome(self) -> DeliveryError | None:
        try:
            self.sent.result()
        except DeliveryError as exc:
            return exc
        return None


def pipelined(
    transport: SmtpTransport,
    emails: Iterator[Email | DeliveryError],
    sending: ThreadPoolExecutor,
    connection_lost: Callable[[], bool],
) -> Iterator[DeliveryError | None]:
    """Each email's outcome, in order; ``emails`` taken lazily, one ahead of the answers."""
    in_flight: _InFlight | None = None

    def start(email: Email, *, held: bool) -> _InFlight:
        gate = Gate()
        if not held:
            gate.open()
        return _InFlight(sending.submit(transport.send, email, gate), gate)

    lost: DeliveryError | None = None
    broken: Exception | None = None  # taking the next email failed: raised once answered

    def take() -> Email | DeliveryError | None:
        nonlocal broken
        if broken is not None:
            return None
        try:
            return next(emails, None)
        except Exception as exc:  # the batch's source failed (the database, say)
            broken = exc
            return None

    following = take()
    try:
        while following is not None or in_flight is not None:
            if in_flight is None:
                email, following = following, None
                if isinstance(email, DeliveryError) or lost is not None:
                    following = take()
                    yield email if isinstance(email, DeliveryError) else lost
                    continue
                assert email is not None
                in_flight = start(email, held=False)
                following = take()  # composed while the server answers
            outcome = in_flight.outcome()
            in_flight = None
            if outcome is not None and connection_lost():
                lost = outcome
            if isinstance(following, Email) and lost is None:
                # Its MAIL and RCPT go out while the caller records this outcome.
                in_flight, following = start(following, held=True), None
            yield outcome
            if in_flight is not None:
                in_flight.gate.open()
                if following is None:
                    following = take()  # composed while the server answers
    finally:
        if in_flight is not None:  # the caller stopped: the held message is not sent
            in_flight.gate.cancel()
            in_flight.outcome()
    if broken is not None:  # every message sent has its outcome: now the failure
        raise broken
