"""SPARQL JSON results shaped as the Wikidata Query Service writes them for the shipped
query (tracker/interchange/wikidata_parties.rq), made here rather than fetched."""

from __future__ import annotations

import json
from typing import Any

import pycountry

from tracker.interchange import wikidata

TREATY_QID = "Q1088219"
XSD = "http://www.w3.org/2001/XMLSchema#"


def _term(value: str, kind: str = "literal", datatype: str | None = None) -> dict[str, str]:
    term = {"type": kind, "value": value}
    if datatype:
        term["datatype"] = XSD + datatype
    return term


def binding(
    code: str | None,
    label: str,
    action: str,
    day: str | None,
    precision: int = 11,
    item: str = "Q1",
) -> dict[str, Any]:
    """One row as the Wikidata Query Service writes it."""
    row = {
        "treaty": _term(wikidata.ENTITY_PREFIX + TREATY_QID, "uri"),
        "state": _term(wikidata.ENTITY_PREFIX + item, "uri"),
        "stateLabel": {"xml:lang": "en", **_term(label)},
        "action": _term(action),
    }
    if code:
        row["iso2"] = _term(code)
    if day:
        row["date"] = _term(f"{day}T00:00:00Z", datatype="dateTime")
        row["precision"] = _term(str(precision), datatype="integer")
    return row


def results(rows: list[dict[str, Any]]) -> bytes:
    head = ["treaty", "state", "stateLabel", "iso2", "action", "date", "precision"]
    return json.dumps({"head": {"vars": head}, "results": {"bindings": rows}}).encode()


def states(count: int) -> list[tuple[str, str]]:
    """``count`` ISO states with their names, by code: Russia, the US and the first others."""
    wanted = {"RU", "US"}
    others = sorted((c.alpha_2, c.name) for c in pycountry.countries if c.alpha_2 not in wanted)
    ours = [(c.alpha_2, c.name) for c in pycountry.countries if c.alpha_2 in wanted]
    return sorted(others[: count - len(ours)] + ours)


def many_states(count: int = 190) -> bytes:
    """``count`` states: each signed on a day; all but every fifth also bound (every
    seventh of those dated to the year only; Russia on the depositary's day), like a
    treaty's real Wikidata results."""
    rows = []
    for n, (code, name) in enumerate(states(count)):
        item = f"Q{1000 + n}"
        rows.append(binding(code, name, "signatory", f"1996-{n % 12 + 1:02d}-24", item=item))
        if n % 5:
            day, precision = (f"{1997 + n % 20}-01-01", 9) if n % 7 == 0 else ("2001-05-17", 11)
            if code == "RU":
                day, precision = "2000-06-30", 11
            rows.append(binding(code, name, "party", day, precision, item=item))
    return results(rows)
