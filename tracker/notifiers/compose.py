"""Turning a :class:`Message` into an email: subject, headers, text and HTML parts.

One encoder: the email package with the SMTP policy (:class:`Encoder`). Pure: no I/O.
A digest's ``payload`` (see ``tracker.alerts.digests.Digest.payload``) carries its
sections, which the templates render; missing keys are left out::

    {"period": "2026-W48" | "2026-11-23", "agenda_days": 60,
     "alerts": [{"title": ..., "late": ...}], "changes": [{"title": ...}],
     "board": [Item.as_countdown(), ...], "agenda": [Item.as_agenda(), ...],
     "undated": [Item.as_agenda(), ...],  (items whose date is to be announced)
     "since": instant, "changes_link": the page of every change since then}

An alert's or a change notice's payload carries its ``item`` (``Item.as_dict()`` with the
absolute ``link`` to its page, made where the notice was recorded, so no recipient's
email differs by it); a change's also its ``fields`` (``{name, old, new}``), ``sources``,
``notes``, ``recorded_at`` (an instant) and ``edits``. Digest entries carry their
``link`` too.

The templates word an entry's ``status`` and ``confidence`` with the filters
``status_phrase`` and ``confidence_phrase`` (:mod:`tracker.views.wording`), as every
reader; its date with ``when`` (as written, a time with its zone: a meeting's own local
time) and its countdown as the CLI does (``human``); instants with ``instant`` in the
recipient's zone. A missing or empty value is left out, never printed as ``None``.

Without sections or an item, the message's text is the body.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP as _SMTP_POLICY
from email.policy import EmailPolicy
from email.utils import format_datetime, formataddr, parseaddr
from functools import cache, lru_cache
from typing import TYPE_CHECKING, Any

from tracker.notifiers.base import Message, Recipient

if TYPE_CHECKING:
    from jinja2 import Environment

    from tracker.alerts.tokens import Links

    Policy = EmailPolicy[EmailMessage]
else:
    Policy = EmailPolicy

# Long lines rather than folding: the stdlib's folding of encoded words can double a space.
POLICY = _SMTP_POLICY.clone(max_line_length=998)
# For addresses that are not ASCII: headers in UTF-8, sent with SMTPUTF8.
POLICY_UTF8 = POLICY.clone(utf8=True)
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]+")
_SECTIONS = ("alerts", "changes", "board", "agenda", "undated")
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
        "since": payload.get("since"),
        "changes_link": payload.get("changes_link"),
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


def when_text(entry: Mapping[str, Any]) -> str:
    """An entry's date or span as written, a time with its zone said: ``2027-05-04 to
    2027-05-08``, ``2027-05-04T10:00 Europe/Vienna``; ``date to be announced``."""
    from tracker.views.wording import local_text, window_text

    if not entry.get("when") or entry.get("precision") == "tba":
        return "date to be announced"
    ends = entry.get("ends") or {}
    tz = entry.get("tz")
    return window_text(local_text(entry["when"], tz), local_text(ends.get("when"), tz) or None)


def instant_text(value: str | None, tz: str = "UTC") -> str:
    """An instant (ISO 8601) in the reader's zone: ``2026-11-23 09:00 Europe/Berlin``."""
    from tracker.dates import zone

    if not value:
        return ""
    try:
        moment = datetime.fromisoformat(value)
        local = moment.astimezone(zone(tz)) if moment.tzinfo else moment
    except (ValueError, KeyError):
        return one_line(value)
    return f"{local:%Y-%m-%d %H:%M} {tz}"


def alert_subject(entry: Mapping[str, Any]) -> str:
    """``SSD plenary in 7 days — 2027-05-04``: the countdown as the CLI says it."""
    title, human, when = one_line(entry.get("title") or ""), entry.get("human") or "", ""
    if entry.get("precision") != "tba":
        when = f" — {when_text(entry)}"
    if human.startswith("in ") or human == "today":
        return f"{title} {human}{when}"
    return f"{title}: {human}{when}" if human else f"{title}{when}"


def notice_item(message: Message) -> dict[str, Any] | None:
    """The item an alert or change notice is about, when its payload carries it."""
    item = message.payload.get("item") if message.kind in ("alert", "change") else None
    return item if isinstance(item, dict) and item.get("title") else None


def what_happened(message: Message) -> str:
    """The subject without its marks: what is in a digest, when an alert's item is."""
    digest = digest_sections(message)
    item = notice_item(message)
    if digest is not None:
        return one_line(digest_subject(digest))
    if message.kind == "alert" and item is not None and "watch" not in message.payload:
        return one_line(alert_subject(item))
    return one_line(message.subject)


def subject(message: Message) -> str:
    text = what_happened(message)
    return f"[late] {text}" if message.late else text


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

    from tracker.views.page import linkable
    from tracker.views.wording import confidence_phrase, source_phrase, status_phrase

    environment = Environment(
        loader=PackageLoader("tracker.notifiers", "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,  # packaged templates do not change: no stat() per message
    )
    environment.filters.update(
        status_phrase=_unless_empty(status_phrase),
        confidence_phrase=_unless_empty(confidence_phrase),
        source_phrase=_unless_empty(source_phrase),
        when=when_text,
        instant=instant_text,
    )
    environment.tests["linkable"] = linkable  # only http(s) addresses become links
    return environment


def _unless_empty(phrase: Callable[[Any], str]) -> Callable[[Any], str]:
    """A filter that says nothing of a missing value (never "None")."""
    return lambda value: phrase(value) if value else ""


# Where each recipient's footer (their own signed links) goes in a content made once for
# all its recipients: a line of its own, which quoted-printable leaves as it is (see
# Template), so the encoded footer is put in its place without encoding the rest again.
# Random per process, so no catalogue text can stand in for it.
FOOTER = f"@@footer-{secrets.token_hex(8)}@@"


def render_body(message: Message) -> tuple[str, str]:
    """The plain-text and HTML bodies, with :data:`FOOTER` where the footer goes."""
    digest = digest_sections(message)
    heading = what_happened(message)
    tz = message.recipient.tz if message.recipient is not None else "UTC"
    context = {
        "message": message,
        "digest": digest,
        "item": notice_item(message) if digest is None else None,
        "heading": heading,
        "tz": tz,
        "footer": FOOTER,
    }
    env = _environment()
    return (
        env.get_template("email.txt").render(context),
        env.get_template("email.html").render(context),
    )


def render_footer(links: Links | None, mailto: str | None) -> tuple[str, str]:
    """One recipient's footer, as text and as HTML."""
    env = _environment()
    context = {"links": links, "mailto": mailto}
    return (
        env.get_template("email_footer.txt").render(context),
        env.get_template("email_footer.html").render(context),
    )


def render(
    message: Message, links: Links | None = None, mailto: str | None = None
) -> tuple[str, str]:
    """The plain-text and HTML bodies one recipient gets (``links``: theirs)."""
    text, html = render_body(message)
    footer_text, footer_html = render_footer(links, mailto)
    return _with_footer(text, footer_text), _with_footer(html, footer_html)


def _with_footer(body: str, footer: str) -> str:
    before, marker, after = body.partition(FOOTER)
    if not marker:
        return body + footer
    return before + footer.rstrip("\n") + after


def _address(value: str) -> Address:
    name, addr = parseaddr(one_line(value))
    if "@" not in addr:
        raise ValueError(f"not an email address: {value!r}")
    username, _, domain = addr.rpartition("@")
    return Address(display_name=name, username=username, domain=domain)


def header_line(
    name: str, value: str | Address, policy: EmailPolicy[EmailMessage] = POLICY
) -> bytes:
    """One header line (folded when too long) as the email package writes it. An ASCII
    value given as text is a "source value" to the policy: written as it is unless too
    long, without parsing it again; anything else is parsed into a header object first."""
    if isinstance(value, str) and value.isascii():
        return policy.fold_binary(name, value)
    return policy.fold_binary(name, policy.header_factory(name, value))


@lru_cache(maxsize=16)
def from_header(sender: str, policy: EmailPolicy[EmailMessage] = POLICY) -> bytes:
    return header_line("From", _address(sender), policy)


@lru_cache(maxsize=64)
def date_header(second: int) -> bytes:
    return header_line("Date", format_datetime(datetime.fromtimestamp(second, UTC)))


def unsubscribe_headers(links: Links | None, mailto: str | None) -> bytes:
    """List-Unsubscribe with the one-click URL (and the operator's mailto: when set), and
    List-Unsubscribe-Post (RFC 8058) when there is a one-click URL."""
    targets = [f"<{one_line(links.unsubscribe)}>"] if links is not None else []
    if mailto:
        targets.append(f"<{one_line(mailto)}>")
    if not targets:
        return b""
    lines = header_line("List-Unsubscribe", ", ".join(targets))
    if links is not None:
        lines += header_line("List-Unsubscribe-Post", "List-Unsubscribe=One-Click")
    return lines


# What an address needs to be written as it is: one "@", none of the characters that end
# or quote it; anything else goes through the email package's parser, which refuses it.
_ADDR_SPEC = re.compile(r"[^\s<>()\[\],;:\"\\@]+@[^\s<>()\[\],;:\"\\@]+")


def to_header(recipient: Recipient, policy: EmailPolicy[EmailMessage]) -> bytes:
    name, address = one_line(recipient.name or ""), one_line(recipient.address)
    if address.isascii() and _ADDR_SPEC.fullmatch(address):
        # formataddr quotes or RFC 2047-encodes the name: an ASCII value for the policy.
        return header_line("To", formataddr((name, address)), policy)
    username, at, domain = address.rpartition("@")
    if not (at and username and domain):
        raise ValueError(f"not an email address: {recipient.address!r}")
    # Given in parts: the parser refuses a local part that is not ASCII, which SMTPUTF8 allows.
    return header_line("To", Address(display_name=name, username=username, domain=domain), policy)


def international(message: Message, sender: str) -> bool:
    """Whether an address is not ASCII: then the email needs SMTPUTF8 (RFC 6531)."""
    recipient = message.recipient.address if message.recipient else ""
    return not (recipient.isascii() and _envelope_sender(sender).isascii())


@lru_cache(maxsize=16)
def _envelope_sender(sender: str) -> str:
    return parseaddr(one_line(sender))[1]


def envelope(message: Message, sender: str) -> tuple[str, str]:
    """The SMTP envelope: the sender's and the recipient's plain addresses."""
    if message.recipient is None:
        raise ValueError("an email needs a recipient")
    return _envelope_sender(sender), one_line(message.recipient.address)
