"""What each source says of one field of an item, and where sources disagree.

An item has one value per field (the one the tracker goes by); a :class:`Claim` keeps what
one source says of it, so that a date two sources give differently is stored with both,
shown side by side, and flagged rather than silently picked.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.catalog.history import subject_type
from tracker.catalog.models import Claim, Deadline, Meeting


@dataclass(frozen=True)
class FieldClaims:
    """Every source's value of one field, beside the value the tracker goes by."""

    field: str
    current: str | None
    claims: tuple[Claim, ...]

    @property
    def conflicting(self) -> bool:
        """Whether the sources give more than one value (or one the item does not have)."""
        values = {claim.value for claim in self.claims}
        return len(values) > 1 or (bool(values) and self.current not in values)

    def as_dict(self) -> dict[str, object]:
        return {
            "field": self.field,
            "current": self.current,
            "conflicting": self.conflicting,
            "claims": [
                {"value": claim.value, "source": claim.source.as_dict(), "note": claim.note}
                for claim in self.claims
            ],
        }


def current_text(item: Deadline | Meeting, field: str) -> str | None:
    """An item's field as text, as claims state it (a date by the text it was given in)."""
    if field in ("due", "starts", "ends"):
        text = getattr(item, f"{field}_text", None)
        # An item's undated start or due date is to be announced; a meeting's end is just
        # not given.
        return text if text is not None or field == "ends" else "TBA"
    return _plain(getattr(item, field, None))


def _plain(value: object) -> str | None:
    return None if value is None else str(value)


def of_item(session: Session, item: Deadline | Meeting) -> list[FieldClaims]:
    """The item's claims, by field (in field order), each beside the item's own value."""
    query = (
        select(Claim)
        .where(Claim.subject_type == subject_type(item), Claim.subject_id == item.id)
        .order_by(Claim.field, Claim.id)
    )
    by_field: dict[str, list[Claim]] = defaultdict(list)
    for claim in session.scalars(query):
        by_field[claim.field].append(claim)
    return [
        FieldClaims(name, current_text(item, name), tuple(found))
        for name, found in by_field.items()
    ]
