"""``?known_at=``: a page, feed or API answer as the catalogue was known at a moment."""

from __future__ import annotations

from datetime import datetime

from starlette.exceptions import HTTPException
from starlette.requests import Request

from tracker.errors import InvalidInput
from tracker.views.knowledge import moment


def known_at_of(request: Request, timezone: str) -> datetime | None:
    """The moment ``?known_at=`` names, starting in ``timezone`` (None when not given);
    400 with one line for a date that cannot be read."""
    try:
        return moment(request.query_params.get("known_at"), timezone, "known_at")
    except InvalidInput as exc:
        raise HTTPException(400, str(exc)) from None
