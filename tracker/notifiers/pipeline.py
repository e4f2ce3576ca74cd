"""Sending a batch of emails one step ahead of the caller (see ``EmailNotifier.deliver_each``).

One message is *answered* when its outcome is yielded; the caller records it before it asks
for the next. Each message's exchange is taken in steps (:meth:`SmtpTransport.begin`,
``write``, ``finish``) between the caller's work, on the caller's thread: the next message's
envelope goes out just before this outcome is yielded, so the server reads it while the
caller records the outcome; only when the caller comes back does the next message itself
go, with the line that ends it, and the message after it is composed while the server
answers. So the SMTP server never holds two messages whose outcomes are not recorded, and
if the caller stops asking (a transport fault, a stop), the begun message is dropped unsent.

One thread, no hand-offs: a sending thread of its own cost each message two wake-ups and
turns at the GIL on the path from one message's answer to the next one's end (bench/).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from tracker.notifiers.base import DeliveryError
from tracker.notifiers.smtp import Email, SmtpTransport


def _failure(step: Callable[..., None], *args: Email) -> DeliveryError | None:
    """What ``step`` failed with; None when it did not."""
    try:
        step(*args)
    except DeliveryError as exc:
        return exc
    return None


def pipelined(
    transport: SmtpTransport,
    emails: Iterator[Email | DeliveryError],
    connection_lost: Callable[[], bool],
) -> Iterator[DeliveryError | None]:
    """Each email's outcome, in order; ``emails`` taken lazily, one ahead of the answers."""
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

    def fails(failure: DeliveryError | None, *, opening: bool = False) -> DeliveryError | None:
        """``failure``; when it leaves no connection and another cannot be had (it came
        from opening one, or the server stalled past the deadline), the rest get the same
        temporary error without waiting out a timeout each."""
        nonlocal lost
        if failure is None or lost is not None or not connection_lost():
            return failure
        if opening or transport.timed_out or failure.kind in ("transport", "interrupted"):
            # Not a refusal that names another address: the rest were not refused.
            lost = failure
            if failure.permanent or failure.kind == "recipient":
                lost = DeliveryError(f"not sent: the SMTP connection was lost ({failure})")
        return failure

    written = False  # a message's end is out and its answer unread
    begun = False  # a message's envelope is out and the message itself not yet
    following = take()
    try:
        while following is not None or written:
            if not written:
                email, following = following, None
                if isinstance(email, DeliveryError) or lost is not None:
                    following = take()
                    yield email if isinstance(email, DeliveryError) else lost
                    continue
                assert email is not None
                failure = fails(_failure(transport.begin, email), opening=True) or fails(
                    _failure(transport.write)
                )
                if failure is not None:
                    following = take()
                    yield failure
                    continue
                written, following = True, take()  # composed while the server answers
            outcome = fails(_failure(transport.finish))
            written = False
            crashed: Exception | None = None
            if isinstance(following, Email) and lost is None and transport.connected:
                # Its envelope goes out while the caller records this outcome (only on
                # the connection open: a new one, slow to come, waits until it is).
                email, following = following, None
                try:
                    started = fails(_failure(transport.begin, email), opening=True)
                except Exception as exc:  # raised once this outcome is recorded
                    started, crashed = None, exc
                begun = started is None and crashed is None
                if started is not None:
                    following = started  # its outcome, once this one's is recorded
            yield outcome
            if crashed is not None:
                raise crashed
            if begun:
                begun = False
                failure = fails(_failure(transport.write))
                if failure is not None:
                    following = failure
                    continue
                written, following = True, take()  # composed while the server answers
    finally:
        if begun or written:  # the caller stopped: the begun message is not sent
            transport.drop()
    if broken is not None:  # every message sent has its outcome: now the failure
        raise broken
