"""A third-party notifier package, as someone outside the project would write one.

The test makes it discoverable with a ``.dist-info`` folder declaring its entry points
in the ``tracker.notifiers`` group; nothing here imports from the tests.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

DELIVERED: list[Any] = []


class PostcardNotifier:
    name: ClassVar[str] = "postcard"
    audience: ClassVar[Literal["subscriber", "broadcast"]] = "broadcast"

    def __init__(self, greeting: str) -> None:
        self.greeting = greeting

    @classmethod
    def from_settings(cls, settings: Any) -> PostcardNotifier:
        return cls(f"Greetings from {settings.feeds.title}")

    def recipients(self) -> tuple[str, ...]:
        return ("fridge-door",)

    def deliver(self, message: Any) -> None:
        DELIVERED.append((self.greeting, message))

    def close(self) -> None:
        pass


class Unconfigured(PostcardNotifier):
    name: ClassVar[str] = "unconfigured"

    @classmethod
    def from_settings(cls, settings: Any) -> None:
        return None


class BadSettings(PostcardNotifier):
    name: ClassVar[str] = "bad-settings"

    @classmethod
    def from_settings(cls, settings: Any) -> PostcardNotifier:
        raise ValueError("postcard.stamp must be a positive number")


class NoAudience:
    name = "no-audience"

    @classmethod
    def from_settings(cls, settings: Any) -> NoAudience:
        return cls()


def not_a_class(message: Any) -> None:
    pass
