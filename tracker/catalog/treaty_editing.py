"""Treaties: adding and editing (what a treaty looks like to readers is in views)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker import dates, text
from tracker.catalog import queries
from tracker.catalog.history import source_for_url
from tracker.catalog.treaties import Treaty, TreatyKind, TreatyStatus
from tracker.errors import InvalidInput

DATE_FIELDS = ("signed", "entered_into_force", "expires")


def exact_date(value: str, what: str) -> date:
    window = dates.parse(value)
    if not window.is_exact:
        raise InvalidInput(f"{what} must be a day, e.g. 2010-04-08 (got {window.precision})")
    return window.earliest


def treaty_values(**given: str | None) -> dict[str, Any]:
    """Validated column values from CLI strings; None means 'not given'."""
    values: dict[str, Any] = {}
    for name, value in given.items():
        if value is None:
            continue
        if name in ("name", "short_name", "depositary"):
            values[name] = text.title(value, name.replace("_", " "))
        elif name == "kind":
            values[name] = text.choice(value, TreatyKind, "treaty kind")
        elif name == "status":
            values[name] = text.choice(value, TreatyStatus, "treaty status")
        elif name in DATE_FIELDS:
            values[name] = exact_date(value, name.replace("_", " ")) if value else None
        elif name == "summary":
            values[name] = text.note(value, "summary")
        else:
            raise InvalidInput(f"unknown treaty field {name!r}")
    return values


def add_treaty(
    session: Session,
    values: dict[str, Any],
    *,
    now: datetime,
    slug: str | None,
    source: str | None = None,
) -> Treaty:
    if "name" not in values:
        raise InvalidInput("a treaty needs a name")
    values = {
        "kind": "multilateral",
        "status": "in-force",
        "short_name": values["name"][:120],
        **values,
    }
    item_slug = text.slug(slug) if slug else text.slugify(values["short_name"])
    if session.scalar(select(Treaty.id).where(Treaty.slug == item_slug)):
        raise InvalidInput(f"a treaty {item_slug!r} exists already (use --slug)")
    cited = source_for_url(session, source)
    treaty = Treaty(slug=item_slug, created_at=now, updated_at=now, **values)
    if cited:
        treaty.sources.append(cited)
    session.add(treaty)
    return treaty


def edit_treaty(
    session: Session, slug: str, values: dict[str, Any], *, now: datetime, source: str | None = None
) -> Treaty:
    treaty = queries.treaty(session, slug)
    for name, value in values.items():
        setattr(treaty, name, value)
    cited = source_for_url(session, source)
    if cited and cited not in treaty.sources:
        treaty.sources.append(cited)
    treaty.updated_at = now
    return treaty
