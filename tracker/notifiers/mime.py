"""Emails as bytes: one content made once for all its recipients, their own headers and
footers added around it (see :class:`Encoder`). Pure: no I/O."""

from __future__ import annotations

import hashlib
import json
from email import message_from_bytes, quoprimime
from email.message import EmailMessage
from html import escape
from typing import TYPE_CHECKING, Any

from tracker.clock import Clock, SystemClock
from tracker.notifiers.base import Message
from tracker.notifiers.compose import (
    FOOTER,
    POLICY,
    POLICY_UTF8,
    Policy,
    date_header,
    from_header,
    header_line,
    international,
    message_id,
    render_body,
    render_footer,
    subject,
    to_header,
    unsubscribe_headers,
)

if TYPE_CHECKING:
    from tracker.alerts.tokens import LinkMaker, Links


class _FixedHeaders(Policy):
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

    A content is returned in three pieces, around the two :data:`FOOTER` lines (text, then
    HTML), where each recipient's own footer goes (see :class:`Encoder`).
    """

    def __init__(self) -> None:
        mail = EmailMessage(policy=POLICY)
        mail["Subject"] = ""
        mail["Auto-Submitted"] = "auto-generated"
        mail["X-Auto-Response-Suppress"] = "All"
        mail.set_content("", subtype="plain", cte="quoted-printable")
        mail.add_alternative("", subtype="html", cte="quoted-printable")
        self._mail = mail
        self._text, self._html = mail.iter_parts()
        del self._html["MIME-Version"]  # add_alternative repeats it in the part: one is enough
        mail.as_bytes()  # the generator gives the body its boundary when it first writes it
        self._policy = _FixedHeaders(mail)

    def __call__(self, message: Message) -> tuple[bytes, bytes, bytes]:
        text, html = render_body(message)
        self._mail.replace_header("Subject", subject(message))
        self._text.set_payload(_quoted_printable(text))
        self._html.set_payload(_quoted_printable(html))
        data = self._mail.as_bytes(policy=self._policy)
        head, _, rest = data.partition(FOOTER.encode())
        middle, _, tail = rest.partition(FOOTER.encode())
        return head, middle, tail


def footer_lines(text: str) -> bytes:
    """``text`` quoted-printable encoded as it stands in a part: CRLF lines, no last one."""
    return _quoted_printable(text).rstrip("\n").replace("\n", "\r\n").encode("ascii")


def _quoted_printable(text: str) -> str:
    """``text`` as ``set_content(text, cte="quoted-printable")`` stores it."""
    data = b"\n".join(text.encode("utf-8").splitlines()) + b"\n"
    return quoprimime.body_encode(data.decode("latin-1"), maxlinelen=76)


# Stand-ins for a recipient's links in footers rendered once (see Encoder._forms).
_UNSUBSCRIBE = "\x00unsubscribe-link\x00"
_PREFERENCES = "\x00preferences-link\x00"


class Encoder:
    """Each message's email as bytes, every part written by the email package (POLICY).

    A digest goes to many people with the same content: the content (see :class:`Template`)
    is made and flattened once per distinct content, and each message adds only its own
    headers before it (From, To, Date, Message-ID, List-Unsubscribe) and its own footer
    (the recipient's signed links) inside it. Header order carries no meaning.
    ``Date`` is when the email is made, just before it is sent (``clock``).
    One thread at a time, as the notifier's SMTP connection: the template is reused.
    """

    MAX_CONTENTS = 4096

    def __init__(
        self,
        sender: str,
        *,
        mailto: str | None = None,
        links: LinkMaker | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.sender = sender
        self.mailto = mailto
        self.links = links
        self.clock: Clock = clock if clock is not None else SystemClock()
        from_header(sender)  # an unusable sender is refused here, not per message
        self._template = Template()
        self._contents: dict[bytes, tuple[bytes, bytes, bytes]] = {}
        self._seen: dict[tuple[Any, ...], tuple[str, dict[str, Any], tuple[bytes, ...]]] = {}
        self._footer_forms = self._forms()
        self._no_links = self._footer(None)

    def _content(self, message: Message) -> tuple[bytes, ...]:
        # Messages loaded together share their text and payload objects when equal (see
        # tracker.outbox.delivery.load): then the content is found without serialising and
        # hashing the payload again.
        # The reader's zone is part of a content: instants are said in it.
        tz = message.recipient.tz if message.recipient is not None else "UTC"
        same = (
            id(message.text),
            id(message.payload),
            message.kind,
            message.subject,
            message.late,
            tz,
        )
        held = self._seen.get(same)
        if held is not None and held[0] is message.text and held[1] is message.payload:
            return held[2]
        payload = json.dumps(message.payload, sort_keys=True, default=str)
        parts = (message.kind, message.subject, message.text, str(message.late), payload, tz)
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

    def _footer(self, links: Links | None) -> tuple[bytes, bytes, bytes]:
        """The recipient's List-Unsubscribe headers and their text and HTML footers."""
        if links is not None and self._footer_forms is not None:
            text_form, html_form = self._footer_forms
            text = text_form.replace(_UNSUBSCRIBE, links.unsubscribe).replace(
                _PREFERENCES, links.preferences
            )
            html = html_form.replace(_UNSUBSCRIBE, escape(links.unsubscribe)).replace(
                _PREFERENCES, escape(links.preferences)
            )
        else:
            text, html = render_footer(links, self.mailto)
        return unsubscribe_headers(links, self.mailto), footer_lines(text), footer_lines(html)

    def _forms(self) -> tuple[str, str] | None:
        """The footers rendered once with stand-ins for the links, which each recipient's
        links replace: the footer is the same for everyone but them (rendering it anew per
        recipient cost more than the rest of their email). None if the templates do
        anything with a link but print it (then each footer is rendered)."""
        from tracker.alerts.tokens import Links

        forms = render_footer(Links(_UNSUBSCRIBE, _PREFERENCES), self.mailto)
        if all(form.count(_UNSUBSCRIBE) and form.count(_PREFERENCES) for form in forms):
            return forms
        return None

    def __call__(self, message: Message) -> bytes:
        """The email for ``message``; ValueError when it cannot be one."""
        if message.recipient is None:
            raise ValueError("an email needs a recipient")
        policy = POLICY_UTF8 if international(message, self.sender) else POLICY
        links = self.links(message.recipient) if self.links is not None else None
        headers, text_footer, html_footer = self._no_links if links is None else self._footer(links)
        head, middle, tail = self._content(message)
        return b"".join(
            (
                from_header(self.sender, policy),
                to_header(message.recipient, policy),
                date_header(int(self.clock.now().timestamp())),
                header_line("Message-ID", message_id(message, self.sender)),
                headers,
                head,
                text_footer,
                middle,
                html_footer,
                tail,
            )
        )

    def clear(self) -> None:
        self._contents.clear()
        self._seen.clear()


def compose(
    message: Message,
    *,
    sender: str,
    mailto: str | None = None,
    links: LinkMaker | None = None,
    clock: Clock | None = None,
) -> EmailMessage:
    """The email for ``message`` as an :class:`EmailMessage`: the encoder's bytes, read back."""
    data = Encoder(sender, mailto=mailto, links=links, clock=clock)(message)
    policy = POLICY_UTF8 if international(message, sender) else POLICY
    mail = message_from_bytes(data, policy=policy)
    assert isinstance(mail, EmailMessage)
    return mail
