"""The apprise notifier: alerts and changes as short text to chat and push services.

Needs the optional extra ``tracker[apprise]``. The services' URLs (``json://``,
``ntfy://``, ``slack://``, ``mailto://``…) come from ``[apprise] services`` (by name) and
``[apprise] urls`` (named by position, "1", "2"…) in the settings; they often hold tokens,
so they are secrets and never shown. The outbox records one delivery per service, addressed
to its name, and each delivery is sent to that service only.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator, Mapping
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

    def __init__(self, services: Mapping[str, str]) -> None:
        """``services``: each URL by its name."""
        with _quiet():
            try:
                import apprise
            except ImportError:
                raise DeliveryError(
                    "apprise is not installed: pip install 'tracker[apprise]'", permanent=True
                ) from None
            self._services: dict[str, Any] = {}
            for name, url in services.items():
                service = apprise.Apprise()
                if not service.add(url):
                    # The URL itself may hold a token: name it by its name only.
                    label = f"number {name}" if name.isdigit() else f"named {name!r}"
                    raise ValueError(f"apprise URL {label} is not one apprise can use")
                self._services[name] = service

    @classmethod
    def from_settings(cls, settings: Settings) -> AppriseNotifier | None:
        named = {name: url.get_secret_value() for name, url in settings.apprise.named().items()}
        return cls(named) if named else None

    def recipients(self) -> tuple[str, ...]:
        return tuple(self._services)

    def deliver(self, message: Message) -> None:
        if message.kind == "digest":
            return  # digests are personal; chat channels get alerts and changes
        name = message.recipient.address if message.recipient else None
        service = self._services.get(name) if name is not None else None
        if service is None:
            raise DeliveryError(f"no apprise service named {name!r}", permanent=True)
        title, body = short_text(message)
        with _quiet():
            sent = service.notify(title=title, body=body)
        if not sent:
            raise DeliveryError(f"apprise could not notify {name!r} (see the log)")

    def close(self) -> None:
        for service in self._services.values():
            service.clear()
