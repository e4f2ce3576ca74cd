"""The apprise notifier: alerts and changes as short text to chat and push services.

Needs the optional extra ``tracker[apprise]``. The URLs (``json://``, ``ntfy://``,
``slack://``, ``mailto://``…) come from ``[apprise] urls`` in the settings; they often
hold tokens, so they are secrets and never shown.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from tracker.notifiers.base import DeliveryError, Message

if TYPE_CHECKING:
    from tracker.settings import Settings

MAX_BODY = 1000
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


@contextmanager
def _quiet() -> Iterator[None]:
    """Apprise loads its plugins lazily; one imports the deprecated ``imghdr``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        yield


def short_text(message: Message) -> tuple[str, str]:
    """A one-line title and a body of at most MAX_BODY characters."""
    title = " ".join(_CONTROL.sub(" ", message.subject).split())
    if message.late:
        title = f"[late] {title}"
    body = _CONTROL.sub(" ", message.text).strip() or title
    if len(body) > MAX_BODY:
        body = body[: MAX_BODY - 1].rstrip() + "…"
    return title, body


class AppriseNotifier:
    name: ClassVar[str] = "apprise"
    audience: ClassVar[Literal["subscriber", "broadcast"]] = "broadcast"

    def __init__(self, urls: Sequence[str]) -> None:
        with _quiet():
            try:
                import apprise
            except ImportError:
                raise DeliveryError(
                    "apprise is not installed: pip install 'tracker[apprise]'", permanent=True
                ) from None
            self._apprise: Any = apprise.Apprise()
            for index, url in enumerate(urls, start=1):
                if not self._apprise.add(url):
                    # The URL itself may hold a token: name it by position only.
                    raise ValueError(f"apprise URL number {index} is not one apprise can use")

    @classmethod
    def from_settings(cls, settings: Settings) -> AppriseNotifier | None:
        urls = [url.get_secret_value() for url in settings.apprise.urls]
        return cls(urls) if urls else None

    def deliver(self, message: Message) -> None:
        if message.kind == "digest":
            return  # digests are personal; chat channels get alerts and changes
        title, body = short_text(message)
        with _quiet():
            sent = self._apprise.notify(title=title, body=body)
        if not sent:
            raise DeliveryError("apprise could not notify every URL (see the log)")

    def close(self) -> None:
        self._apprise.clear()
