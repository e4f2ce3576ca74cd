"""What a reader narrows the board and the feeds to: one treaty, one kind, one confidence,
one body or forum.

The same query parameters (``?treaty=&kind=&confidence=&body=``) narrow the board, the
news feeds and the calendars, so that the board's "subscribe to this view" links give
what the board shows. A value outside the vocabulary is refused in one line
(:class:`~tracker.errors.InvalidInput`); an unknown treaty names the nearest known one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlencode

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from tracker.catalog import queries
from tracker.catalog.models import Confidence, Deadline, DeadlineKind, Meeting, MeetingKind
from tracker.catalog.treaties import Treaty
from tracker.errors import InvalidInput, NotFound
from tracker.views.items import Item

FIELDS = ("treaty", "kind", "confidence", "body")
MAX_BODY = 200  # as long as a body is
KINDS = tuple(sorted({*(k.value for k in DeadlineKind), *(k.value for k in MeetingKind)}))
CONFIDENCES = tuple(c.value for c in Confidence)
QueryT = TypeVar("QueryT", bound="Select[*tuple[Any, ...]]")


@dataclass(frozen=True)
class BoardFilter:
    """None: not narrowed by that field."""

    treaty: str | None = None
    kind: str | None = None
    confidence: str | None = None
    body: str | None = None  # as written ("IAEA Board of Governors"); no match: nothing shown

    @classmethod
    def from_query(cls, params: Mapping[str, str]) -> BoardFilter:
        """From a request's query string; an empty value (the form's "all") is no filter."""
        given = {name: (params.get(name) or "").strip() or None for name in FIELDS}
        kind, confidence = given["kind"], given["confidence"]
        if kind is not None and kind not in KINDS:
            raise InvalidInput(f"no kind {kind!r} (one of: {', '.join(KINDS)})")
        if confidence is not None and confidence not in CONFIDENCES:
            raise InvalidInput(f"no confidence {confidence!r} (one of: {', '.join(CONFIDENCES)})")
        if given["body"] is not None and len(given["body"]) > MAX_BODY:
            raise InvalidInput(f"body is longer than {MAX_BODY} characters")
        return cls(given["treaty"], kind, confidence, given["body"])

    @property
    def active(self) -> bool:
        return any(getattr(self, name) for name in FIELDS)

    def query(self) -> str:
        """``?treaty=new-start&kind=expiry`` (the fields given, in one order), or ''."""
        given = [(name, getattr(self, name)) for name in FIELDS if getattr(self, name)]
        return f"?{urlencode(given)}" if given else ""

    def check(self, session: Session) -> None:
        """Raise NotFound for a treaty that is not in the catalogue."""
        if self.treaty is None:
            return
        if session.scalar(select(Treaty.id).where(Treaty.slug == self.treaty)) is None:
            known = session.scalars(select(Treaty.slug))
            raise NotFound(queries.unknown("treaty", self.treaty, known, "tracker treaty list"))

    def matches(self, item: Item) -> bool:
        return (
            (self.treaty is None or item.treaty == self.treaty)
            and (self.kind is None or item.kind == self.kind)
            and (self.confidence is None or item.confidence == self.confidence)
            and (self.body is None or item.body == self.body)
        )

    def narrow(self, query: QueryT, model: type[Deadline] | type[Meeting]) -> QueryT:
        """``query`` of ``model`` rows, narrowed in SQL (so that a limit counts what is shown)."""
        if self.treaty is not None:
            query = query.where(
                model.treaty_id.in_(select(Treaty.id).where(Treaty.slug == self.treaty))
            )
        if self.kind is not None:
            query = query.where(model.kind == self.kind)
        if self.confidence is not None:
            query = query.where(model.confidence == self.confidence)
        if self.body is not None:
            query = query.where(model.body == self.body)
        return query


EVERYTHING = BoardFilter()
