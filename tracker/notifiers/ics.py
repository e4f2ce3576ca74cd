"""The ics notifier: rebuilds ``calendar.ics`` and the per-treaty calendars."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, ClassVar

from tracker.notifiers.feeds import FeedNotifier

if TYPE_CHECKING:
    from tracker.publish.build import Kind


class IcsNotifier(FeedNotifier):
    name: ClassVar[str] = "ics"
    kinds: ClassVar[Sequence[Kind]] = ("ics",)
