"""A web sign-up's confirmation email: one notice, one delivery on the email channel.

Recorded like every other notice, before anything is sent, in the transaction that
creates (or renews) the sign-up. It is the one notice an unconfirmed subscriber may get
(:func:`tracker.outbox.delivery._refusal` lets its kind through).
"""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy.orm import Session

from tracker.alerts.models import Subscriber
from tracker.outbox.models import Notice, NoticeKind
from tracker.outbox.notices import Channels, NewNotice, record

EMAIL = Channels(("email",))
SUBJECT = "Confirm your subscription to the arms control treaty tracker"


def body(email: str, link: str, expiry_hours: int) -> str:
    return (
        f"{SUBJECT}\n\n"
        f"Someone, hopefully you, asked for alerts and digests from the arms control "
        f"treaty tracker to be sent to {email}.\n\n"
        f"To confirm, open this link and press the button on the page:\n\n{link}\n\n"
        f"The link works for {expiry_hours} hours. If you did not ask for this, ignore "
        "this email: nothing more will be sent to you.\n"
    )


def record_confirmation(
    session: Session, sub: Subscriber, link: str, expiry_hours: int, now: datetime
) -> Notice | None:
    """Record the confirmation email of ``sub``'s sign-up (one per sign-up, however
    close together: its identity is the subscriber, the instant and a random part)."""
    return record(
        session,
        NewNotice(
            identity=f"confirm:{sub.id}:{now.isoformat()}:{secrets.token_hex(4)}",
            kind=NoticeKind.CONFIRM.value,
            title=SUBJECT,
            body=body(sub.email, link, expiry_hours),
            due_at=now,
        ),
        [sub],
        EMAIL,
        now=now,
    )
