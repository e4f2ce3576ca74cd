"""What goes into digests: gathered once per span, chosen per subscriber's filters.

Subscribers whose digests cover the same span share what goes in them: the happenings, the
countdown board and the meetings ahead are queried once per span (:class:`Shared`) and
filtered per subscriber in Python; each distinct content is rendered once.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from tracker.alerts.digests import Digest, Period, assemble, identity
from tracker.alerts.models import Subscriber
from tracker.catalog.queries import Filter
from tracker.notifiers.feeds import item_link
from tracker.settings import Settings
from tracker.views import service
from tracker.views.board import HIDDEN, undated
from tracker.views.changelog import since_link
from tracker.views.items import Item

# Something a subscriber's filters select on: its treaty, its kind, and what it shows.
Selectable = tuple[str | None, str | None, Any]
# The indices of the happenings, board, agenda and undated entries a subscriber gets.
Chosen = tuple[tuple[int, ...], ...]


@dataclass
class Shared:
    """What every digest of one span is chosen from, in digest order."""

    happenings: list[Selectable]
    board: list[Selectable]
    agenda: list[Selectable]
    undated: list[Selectable] = field(default_factory=list)
    base_url: str | None = None  # for the link to the page of what changed in the span
    _chosen: dict[tuple[Any, ...], Chosen] = field(default_factory=dict)
    _made: dict[tuple[Any, ...], tuple[Digest, str, dict[str, Any]]] = field(default_factory=dict)

    def chosen(self, sub: Subscriber) -> Chosen:
        """Which items concern ``sub``; it depends only on the subscriber's filters."""
        key = (tuple(sub.treaties or ()), tuple(sub.kinds or ()))
        if key not in self._chosen:
            self._chosen[key] = tuple(
                tuple(i for i, (treaty, kind, _) in enumerate(items) if sub.concerns(treaty, kind))
                for items in (self.happenings, self.board, self.agenda, self.undated)
            )
        return self._chosen[key]

    def digest(self, sub: Subscriber, period: Period) -> tuple[Digest, str, dict[str, Any]]:
        """``sub``'s digest of ``period`` with its text and payload: assembled and rendered
        once per content and zone, only the identity is the subscriber's own."""
        chosen = self.chosen(sub)
        key = (period, chosen, sub.tz)
        made = self._made.get(key)
        if made is None:
            happenings, board, ahead, undated = chosen
            digest = assemble(
                sub.email,
                period,
                [self.happenings[i][2] for i in happenings],
                board=[self.board[i][2] for i in board],
                agenda=[self.agenda[i][2] for i in ahead],
                tz=sub.tz,
                undated=[self.undated[i][2] for i in undated],
                changes_link=self.base_url and since_link(self.base_url, period.starts_at),
            )
            made = self._made[key] = (digest, digest.text(), digest.payload())
        digest, text, payload = made
        return replace(digest, identity=identity(sub.email, period)), text, payload


def gather(
    session: Session, settings: Settings, period: Period, happenings: list[Selectable]
) -> Shared:
    """The countdown board, the meetings ahead and what waits for its date (as the board
    page has them) as of the period's due instant, with the ``happenings`` of its span:
    everything any subscriber's digest of it may hold."""
    as_of = period.due_at
    today = as_of.date()
    base_url = settings.feeds.base_url

    def entry(item: Item) -> dict[str, Any]:
        # Each entry links its page: the same for every subscriber, so contents stay shared.
        return {**item.as_dict(), "link": item_link(base_url, item.type, item.slug)}

    days = timedelta(days=settings.digest.agenda_days)
    flt = Filter(today=today, within=days)
    board: list[Selectable] = [
        (item.treaty, item.kind, entry(item))
        for item in service.deadlines(session, flt, as_of)
        if item.status not in HIDDEN
    ]
    # Each item comes from one meeting and keeps its treaty and kind, so filtering the
    # items gives what the agenda of the subscriber's meetings alone would.
    ahead: list[Selectable] = [
        (item.treaty, item.kind, entry(item))
        for item in service.meetings(session, flt, as_of, days)
    ]
    waiting: list[Selectable] = [
        (item.treaty, item.kind, entry(item)) for item in undated(session, as_of)
    ]
    return Shared(happenings, board, ahead, waiting, base_url=base_url)
