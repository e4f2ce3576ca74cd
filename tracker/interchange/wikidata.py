"""Wikidata's signatures and ratifications of one treaty: the shipped SPARQL query, and
its results (``application/sparql-results+json``) read into :class:`Statement` s.

Reading does no database work: a file that is not such results is refused in one line
before anything is written (:mod:`tracker.interchange.parties` merges what is read).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from tracker.errors import InvalidInput
from tracker.interchange import fetch as http_fetch

QUERY_FILE = Path(__file__).with_name("wikidata_parties.rq")
ENTITY_PREFIX = "http://www.wikidata.org/entity/"
# A treaty's state lists come to a few hundred kilobytes; past these something is wrong.
MAX_BYTES = 10 * 1024 * 1024
TIMEOUT_SECONDS = 60.0  # for the whole exchange, however slowly it drips
USER_AGENT = "tracker (arms control treaty tracker; participation import)"
ACCEPT = "application/sparql-results+json"

_QID = re.compile(r"Q[1-9][0-9]{0,11}")
_ALPHA_2 = re.compile(r"[A-Z]{2}")
# "+1996-09-24T00:00:00Z" (the sign is optional in SPARQL results).
_TIMESTAMP = re.compile(r"\+?(\d{4})-(\d{2})-(\d{2})T")
# Wikidata's time precisions (Help:Dates): 9 a year, 10 a month, 11 a day.
YEAR, MONTH, DAY = 9, 10, 11


class Action(StrEnum):
    """What a statement says a state did: the query's ``?action``."""

    SIGNATORY = "signatory"  # signatory (P1891)
    PARTY = "party"  # ratified by (P6193): ratification, acceptance, approval or accession


@dataclass(frozen=True)
class Statement:
    """One state's signature, or its consent to be bound, as Wikidata dates it."""

    state: str  # ISO 3166-1 alpha-2
    label: str
    action: Action
    on: date  # the first day of the period ``precision`` names
    precision: int

    @property
    def said(self) -> str:
        """The date as precise as Wikidata gives it: 1996, 1996-09 or 1996-09-24."""
        return self.on.isoformat()[: {YEAR: 4, MONTH: 7}.get(self.precision, 10)]

    def agrees_with(self, day: date) -> bool:
        """Whether ``day`` falls in the period this statement's date names."""
        return day.isoformat().startswith(self.said)


@dataclass
class Results:
    """A query's statements (one per state and action), and what was left out and why."""

    treaty: str | None  # the treaty's item, e.g. Q215795, when the results name it
    statements: list[Statement] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def query_text(qid: str) -> str:
    """The shipped query for the treaty item ``qid``."""
    return QUERY_FILE.read_text(encoding="utf-8").replace("{treaty}", f"wd:{item_id(qid)}")


def query_url(endpoint: str, qid: str) -> str:
    """A GET of the shipped query for ``qid`` at a SPARQL ``endpoint``, asking for JSON."""
    return f"{endpoint}?{urlencode({'query': query_text(qid), 'format': 'json'})}"


def entity_url(qid: str) -> str:
    return f"https://www.wikidata.org/wiki/{qid}"


def item_id(value: str) -> str:
    """``Q215795`` from itself or its entity URL; InvalidInput for anything else."""
    qid = value.strip().removeprefix(ENTITY_PREFIX).removeprefix("wd:")
    if not _QID.fullmatch(qid):
        raise InvalidInput(f"{value[:80]!r} is not a Wikidata item id such as Q215795")
    return qid


def fetch(url: str, *, max_bytes: int = MAX_BYTES, timeout: float = TIMEOUT_SECONDS) -> bytes:
    """The body at ``url`` (http or https): the calendar poller's fetch, with its bounds
    (one deadline for the whole exchange, redirects and body included; a size limit known
    from the headers or the bytes read), asking for SPARQL results."""
    try:
        got = http_fetch.fetch(
            url, max_bytes=max_bytes, timeout=timeout, accept=ACCEPT, user_agent=USER_AGENT
        )
    except http_fetch.FetchError as exc:
        raise InvalidInput(f"{url[:80]}: {exc}") from None
    if got.data is None:  # a 304 to a request that sent no validators
        raise InvalidInput(f"{url[:80]}: HTTP 304 without a body")
    return got.data


def load(*, path: str | None, url: str | None, qid: str | None, endpoint: str) -> Results:
    """The results in the file ``path``, at ``url``, or of the shipped query for the item
    ``qid`` at ``endpoint`` (exactly one given), which must name their treaty item."""
    if sum(given is not None for given in (path, url, qid)) != 1:
        raise InvalidInput("give one of --from-file FILE, --url URL or --wikidata QID")
    if path is not None:
        try:
            raw, where = Path(path).read_bytes(), path
        except OSError as exc:
            raise InvalidInput(f"{path}: {exc.strerror or exc}") from None
    else:
        if qid is not None:
            qid = item_id(qid)
            url = query_url(endpoint, qid)
        assert url is not None
        raw, where = fetch(url), url[:80]
    results = parse(raw, where)
    if qid is not None and results.treaty not in (None, qid):
        raise InvalidInput(f"{where}: the results are for {results.treaty}, not {qid}")
    results.treaty = results.treaty or qid
    if results.treaty is None:
        raise InvalidInput(f"{where}: the results name no treaty item (the query's ?treaty)")
    return results


def parse(raw: bytes, where: str) -> Results:
    """SPARQL JSON results of the shipped query (or one with its variables), or
    InvalidInput naming ``where`` and what is wrong."""
    try:
        document = json.loads(raw.decode("utf-8-sig"))
        bindings = document["results"]["bindings"]
    except UnicodeDecodeError:
        raise InvalidInput(f"{where}: not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"{where}: not JSON (line {exc.lineno}: {exc.msg})") from None
    except (KeyError, TypeError):
        raise InvalidInput(f"{where}: not SPARQL JSON results (no results.bindings)") from None
    if not isinstance(bindings, list):
        raise InvalidInput(f"{where}: not SPARQL JSON results (results.bindings is no list)")
    results = Results(treaty=None)
    earliest: dict[tuple[str, Action], Statement] = {}
    for number, row in enumerate(bindings, start=1):
        statement = _statement(row, f"{where}: result {number}", results)
        if statement is None:
            continue
        key = (statement.state, statement.action)
        kept = earliest.get(key)
        if kept is not None and kept.on != statement.on:
            first, then = sorted((kept.said, statement.said))
            results.skipped.append(
                f"{statement.label} ({statement.state}): {statement.action} dated {first} "
                f"and {then}; the earlier taken"
            )
        if kept is None or statement.on < kept.on:
            earliest[key] = statement
    results.statements = sorted(earliest.values(), key=lambda s: (s.state, s.action))
    return results


def _statement(row: Any, where: str, results: Results) -> Statement | None:
    """One result row as a statement; None (the reason kept) for a row it cannot use."""
    if not isinstance(row, dict):
        raise InvalidInput(f"{where}: not a binding (an object of variables)")
    treaty = _value(row, "treaty", where)
    if treaty is not None:
        qid = item_id(treaty)
        if results.treaty not in (None, qid):
            raise InvalidInput(f"{where}: results for two treaties ({results.treaty}, {qid})")
        results.treaty = qid
    state, action = _value(row, "state", where), _value(row, "action", where)
    if state is None or action is None:
        raise InvalidInput(f"{where}: no ?state or no ?action")
    if action not in set(Action):
        raise InvalidInput(f"{where}: ?action {action[:40]!r} is neither signatory nor party")
    label = _value(row, "stateLabel", where) or state.removeprefix(ENTITY_PREFIX)
    code, stamp = _value(row, "iso2", where), _value(row, "date", where)
    precision = _value(row, "precision", where)
    who = f"{label} ({code or state.removeprefix(ENTITY_PREFIX)})"
    if code is None or not _ALPHA_2.fullmatch(code):
        results.skipped.append(f"{who}: no ISO 3166-1 alpha-2 code")
        return None
    if stamp is None:
        results.skipped.append(f"{who}: {action} without a date")
        return None
    day = _day(stamp)
    if day is None:
        results.skipped.append(f"{who}: {action} dated {stamp[:40]!r}, not a date read here")
        return None
    digits = int(precision) if precision and precision.isdigit() else DAY
    if digits < YEAR:
        results.skipped.append(f"{who}: {action} dated less precisely than a year")
        return None
    return Statement(code, label, Action(action), day, min(digits, DAY))


def _value(row: dict[str, Any], name: str, where: str) -> str | None:
    term = row.get(name)
    if term is None:
        return None
    if not isinstance(term, dict) or not isinstance(term.get("value"), str):
        raise InvalidInput(f"{where}: ?{name} is not an RDF term with a value")
    return str(term["value"]).strip()


def _day(stamp: str) -> date | None:
    found = _TIMESTAMP.match(stamp)
    if found is None:
        return None
    year, month, day = (int(part) for part in found.groups())
    try:  # a year- or month-precise date may carry 00 for what it does not know
        return date(year, max(month, 1), max(day, 1))
    except ValueError:
        return None
