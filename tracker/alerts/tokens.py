"""Signed links for one subscriber: unsubscribe, preferences and sign-up confirmation.

A token is the subscriber's id and a digest of their address, signed (``itsdangerous``)
with the current secret; secrets rotated out (``server.previous_secrets``) are still
accepted until their ``until`` day. Unsubscribe and preferences links carry one token (both
links are in every email: anyone holding one holds the other, so a second signature per
email would buy nothing); confirmation tokens have a salt of their own, carry their
signing time and expire with the sign-up. The others do not expire (a months-old email's
unsubscribe link must still work) and stop working when the subscriber or their address
changes.
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

from itsdangerous import BadData, Signer, TimestampSigner

from tracker.errors import ConfigError, InvalidInput
from tracker.settings import SECRET_MIN_LENGTH

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


DIGEST_LENGTH = 12


def address_digest(email: str) -> str:
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()[:DIGEST_LENGTH]


@dataclass(frozen=True)
class Tokens:
    secret: str
    # Secrets rotated out, each with the last day it is still accepted.
    previous: Sequence[tuple[str, date]] = ()

    def keys(self, as_of: datetime) -> list[str]:
        """The secrets accepted at ``as_of``, the current one last (itsdangerous signs with
        the last key and accepts any of them)."""
        day = as_of.date()
        return [old for old, until in self.previous if day <= until] + [self.secret]

    def sign(
        self, purpose: Purpose, subscriber_id: int, email: str, now: datetime | None = None
    ) -> str:
        """A token; a confirmation token carries ``now`` (required for one), the instant
        its age is counted from."""
        signer = _signer(self.secret, purpose)
        if isinstance(signer, TimestampSigner):
            if now is None:
                raise ValueError("a confirmation token is signed at an instant: pass now")
            signer = _SignedAt(self.secret, salt=signer.salt, at=int(now.timestamp()))
        return signer.sign(_value(subscriber_id, email)).decode("ascii")

    def read(
        self, purpose: Purpose, token: str, as_of: datetime, max_age: timedelta | None = None
    ) -> tuple[int, str]:
        """The subscriber id and address digest ``token`` was signed for, or BadToken."""
        signer = _signer(self.keys(as_of), purpose)
        try:
            if isinstance(signer, TimestampSigner):
                value, signed_at = signer.unsign(token, return_timestamp=True)
                if max_age is not None and as_of - signed_at > max_age:
                    raise BadToken("this confirmation link has expired: sign up again")
            else:
                value = signer.unsign(token)
        except BadData:
            raise BadToken("this link is not valid (it may have been cut short)") from None
        subscriber, _, digest = value.decode("ascii", "replace").partition("-")
        if not (subscriber.isdigit() and len(digest) == DIGEST_LENGTH):
            raise BadToken("this link is not valid")
        return int(subscriber), digest

    def links(self, base_url: str) -> LinkMaker:
        """The links of each recipient that is a subscriber (None for the others)."""
        base = base_url.rstrip("/")
        signer = _signer(self.secret, "unsubscribe")

        def make(recipient: Recipient) -> Links | None:
            if recipient.subscriber_id is None:
                return None
            value = _value(recipient.subscriber_id, recipient.address)
            token = signer.sign(value).decode("ascii")
            return Links(
                unsubscribe=f"{base}/unsubscribe/{token}",
                preferences=f"{base}/preferences/{token}",
            )

        return make


class _SignedAt(TimestampSigner):
    """A timestamp signer that signs at the instant it is given (time is an input), not at
    the wall clock's."""

    def __init__(self, secret: str, *, salt: str | bytes | None, at: int) -> None:
        super().__init__(secret, salt=salt)
        self.at = at

    def get_timestamp(self) -> int:
        return self.at


def _value(subscriber_id: int, email: str) -> bytes:
    return f"{subscriber_id}-{address_digest(email)}".encode("ascii")


def _signer(secret: str | list[str], purpose: Purpose) -> Signer:
    # A Signer over "<id>-<digest>", not a serializer: nothing to encode, and the URL-safe
    # serializer tries zlib on every token, which cost more than the rest of an email.
    if purpose == "confirm":
        return TimestampSigner(secret, salt="confirm")
    return Signer(secret, salt="subscription")


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
        return _long_enough(path, path.read_text(encoding="ascii").strip())
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
    return _long_enough(path, path.read_text(encoding="ascii").strip())


def _long_enough(path: Path, secret: str) -> str:
    if len(secret) < SECRET_MIN_LENGTH:
        raise ConfigError(
            f"{path} holds a secret shorter than {SECRET_MIN_LENGTH} characters: "
            "delete it (a new one is made) or set server.secret"
        )
    return secret
