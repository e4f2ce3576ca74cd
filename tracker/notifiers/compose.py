"""Turning a :class:`Message` into an email: subject, headers, text and HTML parts.

Pure: no I/O. A digest's ``payload`` (see ``tracker.alerts.digest.Digest.payload``)
carries its sections, which the templates render; missing keys are left out::

    {"period": "2026-W48" | "2026-11-23", "agenda_days": 60,
     "alerts": [{"title": ..., "late": ...}], "changes": [{"title": ...}],
     "board": [Entry.as_countdown(), ...], "agenda": [Entry.as_agenda(), ...]}

Without sections, the message's text is the body.
"""

from __future__ import annotations

import hashlib
import re
from datetime import date
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP as _SMTP_POLICY
from email.utils import format_datetime, parseaddr
from functools import cache
from typing import TYPE_CHECKING, Any

from tracker.notifiers.base import Message

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
    domain = parseaddr(sender)[1].rpartition("@")[2] or "tracker.invalid"
    return f"<{message.kind}.{digest}@{one_line(domain)}>"


@cache
def _environment() -> Environment:
    from jinja2 import Environment, PackageLoader, select_autoescape

    return Environment(
        loader=PackageLoader("tracker.notifiers", "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
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
    text, html = render(message, unsubscribe)
    mail = EmailMessage(policy=POLICY)
    mail["From"] = _address(sender)
    recipient = message.recipient
    mail["To"] = Address(
        display_name=one_line(recipient.name or ""), addr_spec=one_line(recipient.address)
    )
    mail["Subject"] = subject(message)
    mail["Date"] = format_datetime(message.created_at)
    mail["Message-ID"] = message_id(message, sender)
    mail["Auto-Submitted"] = "auto-generated"
    mail["X-Auto-Response-Suppress"] = "All"
    if unsubscribe:
        mail["List-Unsubscribe"] = f"<{one_line(unsubscribe)}>"
    mail.set_content(text, subtype="plain", cte="quoted-printable")
    mail.add_alternative(html, subtype="html", cte="quoted-printable")
    return mail
