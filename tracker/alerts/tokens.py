"""Signed links for one subscriber: unsubscribe, preferences and sign-up confirmation.

A token is the subscriber's id and a digest of their address, signed (``itsdangerous``)
with the current secret; secrets rotated out (``server.previous_secrets``) are still
accepted until their ``until`` day. Each purpose has its own salt, so a preferences link
cannot be replayed as anything else. Confirmation tokens carry their signing time and
expire with the sign-up; the others do not expire (a months-old email's unsubscribe link
must still work) and stop working when the subscriber or their address changes.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from itsdangerous import BadData, URLSafeSerializer, URLSafeTimedSerializer

from tracker.errors import InvalidInput

if TYPE_CHECKING:
    from tracker.notifiers.base import Recipient
    from tracker.settings import Settings

Purpose = Literal["unsubscribe", "preferences", "confirm"]
SECRET_FILE = "secret.key"


class BadToken(InvalidInput):
    """A token that is not ours, was tampered with, is for another purpose or expired."""


@dataclass(frozen=True)
class Links:
    """One recipient's signed links, absolute."""

    unsubscribe: str  # the one-click URL (RFC 8058): POST unsubscribes, GET asks first
    preferences: str


LinkMaker = Callable[["Recipient"], "Links | None"]


def address_digest(email: str) -> str:
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()[:12]


@dataclass(frozen=True)
class Tokens:
    secret: str
    # Secrets rotated out, each with the last day it is still accepted.
    previous: Sequence[tuple[str, date]] = ()

    def _keys(self, as_of: datetime) -> list[str]:
        # itsdangerous signs with the last key and accepts any of them.
        day = as_of.date()
        return [old for old, until in self.previous if day <= until] + [self.secret]

    def sign(self, purpose: Purpose, subscriber_id: int, email: str) -> str:
        payload = [subscriber_id, address_digest(email)]
        if purpose == "confirm":
            return str(URLSafeTimedSerializer(self.secret, salt=purpose).dumps(payload))
        return str(_serializer(self.secret, purpose).dumps(payload))

    def read(
        self, purpose: Purpose, token: str, as_of: datetime, max_age: timedelta | None = None
    ) -> tuple[int, str]:
        """The subscriber id and address digest ``token`` was signed for, or BadToken."""
        keys = self._keys(as_of)
        try:
            if purpose == "confirm":
                timed = URLSafeTimedSerializer(keys, salt=purpose)
                payload, signed_at = timed.loads(token, return_timestamp=True)
                if max_age is not None and as_of - signed_at > max_age:
                    raise BadToken("this confirmation link has expired: sign up again")
            else:
                payload = URLSafeSerializer(keys, salt=purpose).loads(token)
        except BadData:
            raise BadToken("this link is not valid (it may have been cut short)") from None
        if (
            not isinstance(payload, list)
            or len(payload) != 2
            or not isinstance(payload[0], int)
            or not isinstance(payload[1], str)
        ):
            raise BadToken("this link is not valid")
        return payload[0], payload[1]

    def links(self, base_url: str) -> LinkMaker:
        """The links of each recipient that is a subscriber (None for the others)."""
        base = base_url.rstrip("/")
        unsubscribe = _serializer(self.secret, "unsubscribe")
        preferences = _serializer(self.secret, "preferences")

        def make(recipient: Recipient) -> Links | None:
            if recipient.subscriber_id is None:
                return None
            payload = [recipient.subscriber_id, address_digest(recipient.address)]
            return Links(
                unsubscribe=f"{base}/unsubscribe/{unsubscribe.dumps(payload)}",
                preferences=f"{base}/preferences/{preferences.dumps(payload)}",
            )

        return make


def _serializer(secret: str, purpose: Purpose) -> URLSafeSerializer:
    return URLSafeSerializer(secret, salt=purpose)


def from_settings(settings: Settings) -> Tokens:
    """The tokens of ``server.secret`` (and its previous secrets), or of the secret kept in
    ``<data_dir>/secret.key``, made at first use."""
    server = settings.server
    previous = [(old.secret.get_secret_value(), old.until) for old in server.previous_secrets]
    if server.secret is not None:
        return Tokens(server.secret.get_secret_value(), previous)
    return Tokens(_kept_secret(settings.data_dir / SECRET_FILE), previous)


def _kept_secret(path: Path) -> str:
    try:
        return path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    # Written whole under another name, then linked into place: of two processes making it
    # at once, one links and both read its secret, never a half-written file.
    draft = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as file:
        file.write(secrets.token_urlsafe(32) + "\n")
    try:
        os.link(draft, path)
    except FileExistsError:
        pass
    finally:
        draft.unlink()
    return path.read_text(encoding="ascii").strip()
