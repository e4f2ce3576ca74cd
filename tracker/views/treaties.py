"""Treaties as readers see them: the list and one treaty, as JSON-ready dicts.

States are kept as ISO 3166-1 alpha-2 codes ("US", "RU"); JSON keeps the code and, in a
treaty's parties, gives each state's name beside it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker import text
from tracker.catalog import queries
from tracker.catalog.models import Claim
from tracker.catalog.treaties import Standing, Treaty, TreatyStatus
from tracker.catalog.treaty_editing import DATE_FIELDS
from tracker.interchange.parties import CLAIM_FIELD, CLAIM_SUBJECT

# Whose standing the list shows when the settings name no states ([treaties] summary_states).
SUMMARY_STATES = ("US", "RU")
# What a treaty's required states are called where the treaty names them.
REQUIRED_STATES_LABEL = {"ctbt": "Annex 2"}


def list_treaties(session: Session, status: str | None = None) -> list[Treaty]:
    query = select(Treaty).order_by(Treaty.short_name)
    if status:
        query = query.where(Treaty.status == text.choice(status, TreatyStatus, "treaty status"))
    return list(session.scalars(query))


def treaties(
    session: Session,
    today: date,
    status: str | None = None,
    states: Sequence[str] = SUMMARY_STATES,
) -> list[dict[str, Any]]:
    """``tracker treaty list --json`` and ``/api/treaties``."""
    return [treaty_dict(t, today, states=states) for t in list_treaties(session, status)]


def treaty(
    session: Session,
    slug: str,
    today: date,
    states: Sequence[str] = SUMMARY_STATES,
    *,
    with_parties: bool = False,
) -> dict[str, Any]:
    """``tracker treaty show SLUG [--parties] --json`` and ``/api/treaties/SLUG``; raises
    NotFound."""
    found = queries.treaty(session, slug)
    result = treaty_dict(found, today, events=True, states=states)
    if with_parties:
        result["parties"] = parties(session, found, today)
    return result


def treaty_dict(
    treaty: Treaty,
    today: date | None = None,
    *,
    events: bool = False,
    states: Sequence[str] = SUMMARY_STATES,
) -> dict[str, Any]:
    counted_by = treaty.parties_count_source
    result: dict[str, Any] = {
        "slug": treaty.slug,
        "name": treaty.name,
        "short_name": treaty.short_name,
        "kind": treaty.kind,
        "status": treaty.status,
        **{name: _iso(getattr(treaty, name)) for name in DATE_FIELDS},
        "depositary": treaty.depositary,
        "standing": {state: treaty.standing(state, today).value for state in states},
        "sources": [source.as_dict() for source in treaty.sources],
        "parties_count": treaty.parties_count,
        "parties_count_on": _iso(treaty.parties_count_on),
        "parties_count_source": counted_by.as_dict() if counted_by else None,
        "required_states": list(treaty.required_states or []),
        "ratifications_needed": _still_needed(treaty, today),
    }
    if events:
        result["summary"] = treaty.summary
        result["events"] = [
            {
                "state": event.state,
                "event": event.event,
                "date": event.on.isoformat(),
                "note": event.note,
                "sources": [source.as_dict() for source in event.sources],
            }
            for event in treaty.events
        ]
    return result


def parties(session: Session, treaty: Treaty, today: date) -> list[dict[str, Any]]:
    """Every state with a dated action on the treaty, and every state its entry into force
    needs (``required``, standing "none" until it acts), by name: each with its standing as
    of ``today``, its events and their sources, and where Wikidata dates one differently."""
    required = set(treaty.required_states or [])
    by_state: dict[str, list[dict[str, Any]]] = {state: [] for state in required}
    conflicts = _conflicts(session, treaty)
    for event in treaty.events:
        by_state.setdefault(event.state, []).append(
            {
                "event": event.event,
                "date": event.on.isoformat(),
                "note": event.note,
                "sources": [source.as_dict() for source in event.sources],
                "conflicts": conflicts.get(event.id, []),
            }
        )
    found = [
        {
            "state": state,
            "name": state_name(state),
            "standing": treaty.standing(state, today).value,
            "required": state in required,
            "events": events,
        }
        for state, events in by_state.items()
    ]
    return sorted(found, key=lambda party: (party["name"].casefold(), party["state"]))


def state_name(code: str) -> str:
    """A state's name in English (its common name where ISO gives one), or the code
    itself for one ISO does not list."""
    import pycountry

    found = pycountry.countries.get(alpha_2=code) if len(code) == 2 else None
    if found is None:
        return code
    return str(getattr(found, "common_name", None) or found.name)


def parties_count_line(data: dict[str, Any]) -> str | None:
    """'States parties: 191 (as of 2026-11-01, source KEY URL)', from a treaty's dict."""
    if data.get("parties_count") is None:
        return None
    said = [f"as of {data['parties_count_on']}"] if data.get("parties_count_on") else []
    if source := data.get("parties_count_source"):
        said.append(" ".join(filter(None, ["source", source["key"], source["url"]])))
    return f"States parties: {data['parties_count']}" + (f" ({', '.join(said)})" if said else "")


def still_needed_line(data: dict[str, Any]) -> str | None:
    """'Annex 2 ratifications still needed: 9 (of 44: CN, EG, …)', from a treaty's dict."""
    needed = data.get("ratifications_needed")
    if not needed:
        return None
    line = f"{needed['label']} ratifications still needed: {needed['count']}"
    states = f": {', '.join(needed['states'])}" if needed["states"] else ""
    return f"{line} (of {needed['of']}{states})"


def _still_needed(treaty: Treaty, today: date | None) -> dict[str, Any] | None:
    """How many of the states the treaty's entry into force needs are not parties."""
    required = list(treaty.required_states or [])
    if not required:
        return None
    missing = sorted(s for s in required if treaty.standing(s, today) is not Standing.PARTY)
    return {
        "label": REQUIRED_STATES_LABEL.get(treaty.slug, "Required"),
        "of": len(required),
        "count": len(missing),
        "states": missing,
    }


def _conflicts(session: Session, treaty: Treaty) -> dict[int, list[dict[str, Any]]]:
    """What other sources (Wikidata's imports) say of the events' dates, by event id."""
    ids = [event.id for event in treaty.events if event.id is not None]
    if not ids:
        return {}
    query = (
        select(Claim)
        .where(
            Claim.subject_type == CLAIM_SUBJECT,
            Claim.field == CLAIM_FIELD,
            Claim.subject_id.in_(ids),
        )
        .order_by(Claim.id)
    )
    found: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for claim in session.scalars(query):
        found[claim.subject_id].append(
            {"date": claim.value, "source": claim.source.as_dict(), "note": claim.note}
        )
    return found


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None
