"""Turning a :class:`Message` into an email: subject, headers, text and HTML parts.

Pure: no I/O. A digest's ``payload`` (see ``tracker.alerts.digest.Digest.payload``)
carries its sections, which the templates render; missing keys are left out::

    {"period": "2026-W48" | "2026-11-23", "agenda_days": 60,
     "alerts": [{"title": ..., "late": ...}], "changes": [{"title": ...}],
     "board": [Entry.as_countdown(), ...], "agenda": [Entry.as_agenda(), ...]}

Without sections, the message's text is the body.
"""

from __future__ import annotations

import binascii
import hashlib
import json
import random
import re
import sys
from datetime import date, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP as _SMTP_POLICY
from email.utils import format_datetime, parseaddr
from functools import cache, lru_cache
from typing import TYPE_CHECKING, Any

from tracker.notifiers.base import Message, Recipient

if TYPE_CHECKING:
    from jinja2 import Environment

# Long lines rather than folding: the stdlib's folding of encoded words can double a space.
POLICY = _SMTP_POLICY.clone(max_line_length=998)
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]+")
_SECTIONS = ("alerts", "changes", "board", "agenda")
_ISO_WEEK = re.compile(r"(\d{4})-W(\d{2})")


def one_line(value: str) -> str:
    """A header-safe value: line breaks and control characters become single spaces."""
    return " ".join(_CONTROL.sub(" ", value).split())


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def period_label(key: str | None) -> str | None:
    """'2026-W48' -> 'week of 23 Nov 2026'; '2026-11-23' -> '23 Nov 2026'."""
    if not key:
        return None
    try:
        if week := _ISO_WEEK.fullmatch(key):
            monday = date.fromisocalendar(int(week[1]), int(week[2]), 1)
            return f"week of {monday.day} {monday:%b %Y}"
        day = date.fromisoformat(key)
    except ValueError:
        return one_line(key)
    return f"{day.day} {day:%b %Y}"


def digest_sections(message: Message) -> dict[str, Any] | None:
    """The structured digest in the payload, or None when there is none to render."""
    payload = message.payload
    if message.kind != "digest" or not any(payload.get(key) for key in _SECTIONS):
        return None
    sections = {key: list(payload.get(key) or []) for key in _SECTIONS}
    return {
        **sections,
        "agenda_days": payload.get("agenda_days", 60),
        "period": period_label(payload.get("period")),
    }


def digest_subject(digest: dict[str, Any]) -> str:
    """What is inside: '2 alerts, 5 meetings in the next 60 days — week of 23 Nov 2026'."""
    parts = []
    if digest["alerts"]:
        parts.append(_plural(len(digest["alerts"]), "alert"))
    if digest["changes"]:
        parts.append(_plural(len(digest["changes"]), "change"))
    meetings = [e for e in digest["agenda"] if e.get("type") == "meeting"]
    deadlines = [e for e in digest["agenda"] if e.get("type") == "deadline"]
    ahead = f" in the next {digest['agenda_days']} days"
    if meetings:
        parts.append(_plural(len(meetings), "meeting") + ahead)
        ahead = ""
    if deadlines:
        parts.append(_plural(len(deadlines), "deadline") + ahead)
    if not parts and digest.get("board"):
        parts.append(_plural(len(digest["board"]), "countdown"))
    summary = ", ".join(parts) or "Nothing new"
    return f"{summary} — {digest['period']}" if digest.get("period") else summary


def subject(message: Message) -> str:
    digest = digest_sections(message)
    text = digest_subject(digest) if digest is not None else message.subject
    if message.late:
        text = f"[late] {text}"
    return one_line(text)


def message_id(message: Message, sender: str) -> str:
    """Stable for the same alert or digest period and recipient, so a resend is the same."""
    recipient = message.recipient.address if message.recipient else ""
    digest = hashlib.sha256(f"{message.identity}\n{recipient}".encode()).hexdigest()[:32]
    return f"<{message.kind}.{digest}@{_domain(sender)}>"


@lru_cache(maxsize=16)
def _domain(sender: str) -> str:
    return one_line(parseaddr(sender)[1].rpartition("@")[2] or "tracker.invalid")


@cache
def _environment() -> Environment:
    from jinja2 import Environment, PackageLoader, select_autoescape

    return Environment(
        loader=PackageLoader("tracker.notifiers", "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,  # packaged templates do not change: no stat() per message
    )


def render(message: Message, unsubscribe: str | None) -> tuple[str, str]:
    """The plain-text and HTML bodies."""
    digest = digest_sections(message)
    heading = subject(message)
    if digest is None and message.kind != "digest":
        heading = one_line(message.subject)
    env = _environment()
    context = {"message": message, "digest": digest, "heading": heading, "unsubscribe": unsubscribe}
    return (
        env.get_template("email.txt").render(context),
        env.get_template("email.html").render(context),
    )


def _address(value: str) -> Address:
    name, addr = parseaddr(one_line(value))
    if "@" not in addr:
        raise ValueError(f"not an email address: {value!r}")
    username, _, domain = addr.rpartition("@")
    return Address(display_name=name, username=username, domain=domain)


def compose(message: Message, *, sender: str, unsubscribe: str | None = None) -> EmailMessage:
    """The email for ``message``: multipart/alternative, text first, then HTML."""
    if message.recipient is None:
        raise ValueError("an email needs a recipient")
    mail = EmailMessage(policy=POLICY)
    mail["From"] = _address(sender)
    recipient = message.recipient
    mail["To"] = _recipient(recipient)
    mail["Subject"] = subject(message)
    mail["Date"] = format_datetime(message.created_at)
    mail["Message-ID"] = message_id(message, sender)
    _add_body(mail, message, unsubscribe)
    return mail


def _recipient(recipient: Recipient) -> Address:
    return Address(
        display_name=one_line(recipient.name or ""), addr_spec=one_line(recipient.address)
    )


def _add_body(mail: EmailMessage, message: Message, unsubscribe: str | None) -> None:
    """The headers and parts that do not depend on the recipient."""
    text, html = render(message, unsubscribe)
    mail["Auto-Submitted"] = "auto-generated"
    mail["X-Auto-Response-Suppress"] = "All"
    if unsubscribe:
        mail["List-Unsubscribe"] = f"<{one_line(unsubscribe)}>"
    mail.set_content(text, subtype="plain", cte="quoted-printable")
    mail.add_alternative(html, subtype="html", cte="quoted-printable")


# Names and addresses the header folder would leave exactly as they are.
_PLAIN_NAME = re.compile(r"[A-Za-z0-9 ]*")
_PLAIN_ADDRESS = re.compile(r"[A-Za-z0-9_+-]+(\.[A-Za-z0-9_+-]+)*@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*")
_PLAIN_ID = re.compile(r"<[A-Za-z0-9.]+@[A-Za-z0-9.-]+>")


def _header(name: str, value: Any) -> bytes:
    return POLICY.fold_binary(name, POLICY.header_store_parse(name, value)[1])


@lru_cache(maxsize=1024)
def _fixed_header(name: str, value: str) -> bytes:
    """A header whose value repeats from message to message (sender, date, subject)."""
    return _header(name, _address(value) if name == "From" else value)


def _quoted_printable(text: str) -> bytes:
    """The body as ``set_content(cte="quoted-printable")`` has it: lines ended by CRLF,
    the last one too; lines soft-broken at 76 characters rather than 998."""
    lines = text.encode("utf-8").splitlines()
    encoded = binascii.b2a_qp(b"\n".join(lines) + b"\n", istext=True)
    return encoded.replace(b"\n", b"\r\n")


@lru_cache(maxsize=256)
def _date_header(when: datetime) -> bytes:
    return _fixed_header("Date", format_datetime(when))


class Composer:
    """Makes ``compose(...).as_bytes()`` (but for the MIME boundary) quickly: what depends
    only on the content (the templates see neither recipient nor identity) is rendered and
    encoded once per distinct content, so a digest sent to many people is made once and
    only the recipient's own headers are made per message."""

    MAX_CONTENTS = 4096

    def __init__(self, sender: str, unsubscribe: str | None = None) -> None:
        self.sender = sender
        self.unsubscribe = unsubscribe
        self._contents: dict[bytes, tuple[bytes, bytes]] = {}
        self._seen: dict[tuple[Any, ...], tuple[str, dict[str, Any], tuple[bytes, bytes]]] = {}

    def _content(self, message: Message) -> tuple[bytes, bytes]:
        """The Subject header, and every header and part after Message-ID, as bytes."""
        # Messages loaded together share their text and payload objects when equal: then
        # the content is found without serialising and hashing it again.
        same = (id(message.text), id(message.payload), message.kind, message.subject, message.late)
        held = self._seen.get(same)
        if held is not None and held[0] is message.text and held[1] is message.payload:
            return held[2]
        payload = json.dumps(message.payload, sort_keys=True, default=str)
        parts = (message.kind, message.subject, message.text, str(message.late), payload)
        key = hashlib.sha256("\0".join(parts).encode()).digest()
        found = self._contents.get(key)
        if found is None:
            if len(self._contents) >= self.MAX_CONTENTS:
                self._contents.clear()
            found = (_fixed_header("Subject", subject(message)), self._body(message))
            self._contents[key] = found
        if len(self._seen) >= self.MAX_CONTENTS:
            self._seen.clear()
        # Holding the text and payload keeps their ids from being reused meanwhile.
        self._seen[same] = (message.text, message.payload, found)
        return found

    def _body(self, message: Message) -> bytes:
        """What ``_add_body`` makes, without the email package's per-header parsing:
        the fixed headers, then the text and HTML parts in quoted-printable."""
        text, html = render(message, self.unsubscribe)
        boundary = f"{'=' * 15}{random.randrange(sys.maxsize):019d}=="
        fixed = b"Auto-Submitted: auto-generated\r\nX-Auto-Response-Suppress: All\r\n"
        if self.unsubscribe:
            fixed += _fixed_header("List-Unsubscribe", f"<{one_line(self.unsubscribe)}>")
        return b"".join(
            (
                fixed,
                b"MIME-Version: 1.0\r\n",
                f'Content-Type: multipart/alternative; boundary="{boundary}"\r\n\r\n'.encode(),
                f"--{boundary}\r\n".encode(),
                b'Content-Type: text/plain; charset="utf-8"\r\n',
                b"Content-Transfer-Encoding: quoted-printable\r\n\r\n",
                _quoted_printable(text),
                f"\r\n--{boundary}\r\n".encode(),
                b'Content-Type: text/html; charset="utf-8"\r\n',
                b"Content-Transfer-Encoding: quoted-printable\r\nMIME-Version: 1.0\r\n\r\n",
                _quoted_printable(html),
                f"\r\n--{boundary}--\r\n".encode(),
            )
        )

    def __call__(self, message: Message) -> bytes:
        recipient = message.recipient
        if recipient is None:
            raise ValueError("an email needs a recipient")
        subject_header, rest = self._content(message)
        name, address = one_line(recipient.name or ""), one_line(recipient.address)
        if _PLAIN_NAME.fullmatch(name) and _PLAIN_ADDRESS.fullmatch(address) and len(name) < 400:
            to = f"To: {name} <{address}>\r\n" if name else f"To: {address}\r\n"
            to_header = to.encode("ascii")
        else:
            to_header = _header("To", _recipient(recipient))
        identifier = message_id(message, self.sender)
        id_header = (
            f"Message-ID: {identifier}\r\n".encode("ascii")
            if _PLAIN_ID.fullmatch(identifier)
            else _header("Message-ID", identifier)
        )
        return b"".join(
            (
                _fixed_header("From", self.sender),
                to_header,
                subject_header,
                _date_header(message.created_at),
                id_header,
                rest,
            )
        )

    def clear(self) -> None:
        self._contents.clear()
        self._seen.clear()


def compose_bytes(message: Message, *, sender: str, unsubscribe: str | None = None) -> bytes:
    """``compose(...).as_bytes()`` but for the MIME boundary (see :class:`Composer`)."""
    return Composer(sender, unsubscribe)(message)
