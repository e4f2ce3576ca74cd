"""The rss notifier: rebuilds ``feed.xml``, ``atom.xml`` and the per-treaty feeds."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, ClassVar

from tracker.notifiers.feeds import FeedNotifier

if TYPE_CHECKING:
    from tracker.publish.build import Kind


class RssNotifier(FeedNotifier):
    name: ClassVar[str] = "rss"
    kinds: ClassVar[Sequence[Kind]] = ("rss",)
