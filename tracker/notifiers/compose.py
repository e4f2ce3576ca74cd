"""Turning a :class:`Message` into an email: subject, headers, text and HTML parts.

One encoder: the email package with the SMTP policy (:class:`Encoder`). Pure: no I/O.
A digest's ``payload`` (see ``tracker.alerts.digests.Digest.payload``) carries its
sections, which the templates render; missing keys are left out::

    {"period": "2026-W48" | "2026-11-23", "agenda_days": 60,
     "alerts": [{"title": ..., "late": ...}], "changes": [{"title": ...}],
     "board": [Item.as_countdown(), ...], "agenda": [Item.as_agenda(), ...],
     "undated": [Item.as_agenda(), ...]}  (items whose date is to be announced)

The templates word an entry's ``status`` and ``confidence`` with the filters
``status_phrase`` and ``confidence_phrase`` (:mod:`tracker.views.wording`), as every reader.

Without sections, the message's text is the body.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import date, datetime
from email import message_from_bytes, quoprimime
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

    _Policy = EmailPolicy[EmailMessage]
else:
    _Policy = EmailPolicy

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

    from tracker.views.wording import confidence_phrase, status_phrase

    environment = Environment(
        loader=PackageLoader("tracker.notifiers", "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,  # packaged templates do not change: no stat() per message
    )
    environment.filters.update(status_phrase=status_phrase, confidence_phrase=confidence_phrase)
    return environment


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


def _header(name: str, value: str | Address, policy: EmailPolicy[EmailMessage] = POLICY) -> bytes:
    """One header line (folded when too long) as the email package writes it. An ASCII
    value given as text is a "source value" to the policy: written as it is unless too
    long, without parsing it again; anything else is parsed into a header object first."""
    if isinstance(value, str) and value.isascii():
        return policy.fold_binary(name, value)
    return policy.fold_binary(name, policy.header_factory(name, value))


@lru_cache(maxsize=16)
def _from_header(sender: str, policy: EmailPolicy[EmailMessage] = POLICY) -> bytes:
    return _header("From", _address(sender), policy)


@lru_cache(maxsize=256)
def _date_header(when: datetime) -> bytes:
    return _header("Date", format_datetime(when))


# What an address needs to be written as it is: one "@", none of the characters that end
# or quote it; anything else goes through the email package's parser, which refuses it.
_ADDR_SPEC = re.compile(r"[^\s<>()\[\],;:\"\\@]+@[^\s<>()\[\],;:\"\\@]+")


def _to_header(recipient: Recipient, policy: EmailPolicy[EmailMessage]) -> bytes:
    name, address = one_line(recipient.name or ""), one_line(recipient.address)
    if address.isascii() and _ADDR_SPEC.fullmatch(address):
        # formataddr quotes or RFC 2047-encodes the name: an ASCII value for the policy.
        return _header("To", formataddr((name, address)), policy)
    username, at, domain = address.rpartition("@")
    if not (at and username and domain):
        raise ValueError(f"not an email address: {recipient.address!r}")
    # Given in parts: the parser refuses a local part that is not ASCII, which SMTPUTF8 allows.
    return _header("To", Address(display_name=name, username=username, domain=domain), policy)


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


class _FixedHeaders(_Policy):
    """POLICY, writing the headers ``mail`` has now (but its Subject) as the lines they
    were folded to once: folding a header object parses its value again on every use,
    and all of a content's headers but its Subject are the same for every content."""

    lines: dict[int, tuple[str, bytes]]  # by id(), with the header object it is for

    def __init__(self, mail: EmailMessage) -> None:
        super().__init__(linesep=POLICY.linesep, max_line_length=POLICY.max_line_length)
        lines = {
            id(value): (value, POLICY.fold_binary(name, value))
            for part in mail.walk()
            for name, value in part.raw_items()
            if name != "Subject"
        }
        # A policy's settings are read-only once made; this is a memo, not a setting.
        object.__setattr__(self, "lines", lines)

    def fold_binary(self, name: str, value: str) -> bytes:
        held = self.lines.get(id(value))
        if held is not None and held[0] is value:
            return held[1]
        return super().fold_binary(name, value)


class Template:
    """What every recipient of one content gets alike: the subject, the automatic-mail
    headers and the multipart/alternative body (text first, then HTML).

    One email made by the email package once; each content sets only the subject and the
    two parts' quoted-printable payloads (the email package's encoder, as ``set_content``
    uses it), and the generator flattens it. Quoted-printable writes every "=" as "=3D",
    so the boundary made once can never occur in a payload. (Read back from its bytes, the
    template cost more: the generator parses a parsed header's text again on every use.)
    """

    def __init__(self, unsubscribe: str | None) -> None:
        mail = EmailMessage(policy=POLICY)
        mail["Subject"] = ""
        mail["Auto-Submitted"] = "auto-generated"
        mail["X-Auto-Response-Suppress"] = "All"
        if unsubscribe:
            mail["List-Unsubscribe"] = f"<{one_line(unsubscribe)}>"
        mail.set_content("", subtype="plain", cte="quoted-printable")
        mail.add_alternative("", subtype="html", cte="quoted-printable")
        self.unsubscribe = unsubscribe
        self._mail = mail
        self._text, self._html = mail.iter_parts()
        del self._html["MIME-Version"]  # add_alternative repeats it in the part: one is enough
        mail.as_bytes()  # the generator gives the body its boundary when it first writes it
        self._policy = _FixedHeaders(mail)

    def __call__(self, message: Message) -> bytes:
        text, html = render(message, self.unsubscribe)
        self._mail.replace_header("Subject", subject(message))
        self._text.set_payload(_quoted_printable(text))
        self._html.set_payload(_quoted_printable(html))
        return self._mail.as_bytes(policy=self._policy)


def _quoted_printable(text: str) -> str:
    """``text`` as ``set_content(text, cte="quoted-printable")`` stores it."""
    data = b"\n".join(text.encode("utf-8").splitlines()) + b"\n"
    return quoprimime.body_encode(data.decode("latin-1"), maxlinelen=76)


class Encoder:
    """Each message's email as bytes, every part written by the email package (POLICY).

    A digest goes to many people with the same content: the content (see :class:`Template`)
    is made and flattened once per distinct content, and each message adds only its own
    headers before it (From, To, Date, Message-ID). Header order carries no meaning.
    One thread at a time, as the notifier's SMTP connection: the template is reused.
    """

    MAX_CONTENTS = 4096

    def __init__(self, sender: str, unsubscribe: str | None = None) -> None:
        self.sender = sender
        self.unsubscribe = unsubscribe
        _from_header(sender)  # an unusable sender is refused here, not per message
        self._template = Template(unsubscribe)
        self._contents: dict[bytes, bytes] = {}
        self._seen: dict[tuple[Any, ...], tuple[str, dict[str, Any], bytes]] = {}

    def _content(self, message: Message) -> bytes:
        # Messages loaded together share their text and payload objects when equal (see
        # tracker.outbox.delivery.load): then the content is found without serialising and
        # hashing the payload again.
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
            found = self._template(message)
            self._contents[key] = found
        if len(self._seen) >= self.MAX_CONTENTS:
            self._seen.clear()
        # Holding the text and payload keeps their ids from being reused meanwhile.
        self._seen[same] = (message.text, message.payload, found)
        return found

    def __call__(self, message: Message) -> bytes:
        """The email for ``message``; ValueError when it cannot be one."""
        if message.recipient is None:
            raise ValueError("an email needs a recipient")
        policy = POLICY_UTF8 if international(message, self.sender) else POLICY
        return b"".join(
            (
                _from_header(self.sender, policy),
                _to_header(message.recipient, policy),
                _date_header(message.created_at),
                _header("Message-ID", message_id(message, self.sender)),
                self._content(message),
            )
        )

    def clear(self) -> None:
        self._contents.clear()
        self._seen.clear()


def compose(message: Message, *, sender: str, unsubscribe: str | None = None) -> EmailMessage:
    """The email for ``message`` as an :class:`EmailMessage`: the encoder's bytes, read back."""
    data = Encoder(sender, unsubscribe)(message)
    policy = POLICY_UTF8 if international(message, sender) else POLICY
    mail = message_from_bytes(data, policy=policy)
    assert isinstance(mail, EmailMessage)
    return mail
