"""Rules for text people type: what is stored, what is refused."""

from __future__ import annotations

import difflib
import re
import unicodedata
from enum import StrEnum
from urllib.parse import urlsplit

from tracker.errors import InvalidInput

MAX_TITLE = 500
MAX_NOTE = 20_000
MAX_URL = 2000
_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
# Control characters (C0 other than tab and newline, DEL, C1 such as NEL and CSI); bidi
# overrides and isolates that can disguise text. Right-to-left marks are kept: they are
# how Arabic and Hebrew titles are written. Titles also refuse Unicode line separators.
_FORBIDDEN_IN_NOTES = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_FORBIDDEN_IN_TITLES = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def title(value: str, what: str = "title") -> str:
    """A one-line title: no control characters, at most MAX_TITLE characters."""
    text = (value or "").strip()
    if not text:
        raise InvalidInput(f"{what} is empty")
    if _FORBIDDEN_IN_TITLES.search(text):
        raise InvalidInput(f"{what} contains a line break or control character")
    if len(text) > MAX_TITLE:
        raise InvalidInput(f"{what} is longer than {MAX_TITLE} characters")
    return text


def note(value: str | None, what: str = "note") -> str | None:
    """Free text: line breaks allowed, other control characters refused."""
    if value is None or not value.strip():
        return None
    text = value.strip().replace("\r\n", "\n")
    if _FORBIDDEN_IN_NOTES.search(text):
        raise InvalidInput(f"{what} contains a control character")
    if len(text) > MAX_NOTE:
        raise InvalidInput(f"{what} is longer than {MAX_NOTE} characters")
    return text


def url(value: str, what: str = "source URL") -> str:
    """An http(s) URL with a host: ``javascript:``, ``data:`` and ``file:`` links are refused
    (they would run or read something where a reader expects a page)."""
    text = title(value, what)
    parts = urlsplit(text)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise InvalidInput(f"{what} {text[:80]!r} is not an http(s) URL")
    if len(text) > MAX_URL:
        raise InvalidInput(f"{what} is longer than {MAX_URL} characters")
    return text


def slug(value: str) -> str:
    text = (value or "").strip().lower()
    if not _SLUG.fullmatch(text) or len(text) > 120:
        raise InvalidInput(f"invalid slug {value!r}: use lowercase letters, digits and hyphens")
    return text


def slugify(value: str) -> str:
    """A slug from a title: 'New START expires' -> 'new-start-expires'."""
    ascii_text = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode()
    words = re.findall(r"[a-z0-9]+", ascii_text.lower())
    return "-".join(words)[:80].strip("-") or "item"


def choice(value: str, allowed: type[StrEnum], what: str) -> str:
    """One of an enum's values, or an error listing them."""
    options = [member.value for member in allowed]
    if value not in options:
        close = difflib.get_close_matches(value, options, n=1)
        hint = f" (closest: {close[0]!r})" if close else ""
        raise InvalidInput(f"unknown {what} {value!r}{hint}: expected one of {', '.join(options)}")
    return value
