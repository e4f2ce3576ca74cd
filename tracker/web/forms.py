"""What every form of the subscription pages needs: a capped body, CSRF tokens, throttles.

CSRF tokens are signed (``itsdangerous``, the links' secret and its rotated ones) and
name the form they were made for and when; throttles count hits in the database
(:class:`~tracker.web.throttles.Throttle`), so any number of web processes share them.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import AsyncGenerator
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from itsdangerous import BadData, URLSafeSerializer
from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from starlette.datastructures import FormData
from starlette.formparsers import FormParser, MultiPartException, MultiPartParser

from tracker.db import transaction
from tracker.web.throttles import Throttle

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker
    from starlette.requests import Request

    from tracker.alerts.tokens import Tokens

MAX_BODY = 16 * 1024
CSRF_MAX_AGE = timedelta(hours=6)
WINDOW = timedelta(hours=1)


class FormRefused(Exception):
    """A request refused before anything changed: its status and one sentence."""

    def __init__(self, status: int, sentence: str) -> None:
        super().__init__(sentence)
        self.status = status


EXPIRED = FormRefused(400, "This form has expired, reload the page.")


async def read_form(request: Request) -> FormData:
    """The form in the body (URL-encoded or multipart, no files), at most MAX_BODY bytes."""
    length = request.headers.get("content-length", "")
    if length and (not length.isdigit() or int(length) > MAX_BODY):
        raise FormRefused(413, "This form is too large.")

    async def capped() -> AsyncGenerator[bytes, None]:
        total = 0
        async for chunk in request.stream():
            total += len(chunk)
            if total > MAX_BODY:
                raise FormRefused(413, "This form is too large.")
            yield chunk

    kind = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    try:
        if kind == "multipart/form-data":
            return await MultiPartParser(
                request.headers, capped(), max_files=0, max_fields=200
            ).parse()
        if kind in ("application/x-www-form-urlencoded", ""):
            return await FormParser(request.headers, capped(), max_fields=200).parse()
    except MultiPartException:
        raise FormRefused(400, "This form could not be read.") from None
    raise FormRefused(415, "Send this form as a web form.")


def csrf_token(tokens: Tokens, purpose: str, now: datetime) -> str:
    """A token for the form of ``purpose`` (e.g. ``subscribe``, ``preferences:12``)."""
    serializer = URLSafeSerializer(tokens.secret, salt="csrf")
    return str(serializer.dumps([purpose, int(now.timestamp())]))


def check_csrf(tokens: Tokens, purpose: str, token: str | None, now: datetime) -> None:
    """EXPIRED unless ``token`` was made for ``purpose`` within CSRF_MAX_AGE."""
    if not token:
        raise EXPIRED
    try:
        payload = URLSafeSerializer(tokens.keys(now), salt="csrf").loads(token)
    except BadData:
        raise EXPIRED from None
    if not (isinstance(payload, list) and len(payload) == 2 and payload[0] == purpose):
        raise EXPIRED
    issued = payload[1]
    age = now.timestamp() - issued if isinstance(issued, int) else -1
    if not 0 <= age <= CSRF_MAX_AGE.total_seconds():
        raise EXPIRED


def throttle_key(tokens: Tokens, what: str, value: str) -> str:
    """The key of ``value`` (an address, a client's IP): a keyed hash, so the table holds
    no address."""
    digest = hmac.new(tokens.secret.encode(), value.lower().encode(), hashlib.sha256)
    return f"{what}:{digest.hexdigest()[:40]}"


def hit(sessions: sessionmaker[Session], key: str, limit: int, now: datetime) -> bool:
    """Count a hit on ``key`` in its fixed window (an hour from its first hit); whether
    it is within ``limit``. Windows that ended are deleted on the way."""
    with transaction(sessions) as session:
        session.execute(delete(Throttle).where(Throttle.window_start <= now - WINDOW))
        if not _count(session, key):
            try:
                with session.begin_nested():
                    session.execute(insert(Throttle).values(key=key, window_start=now, hits=1))
            except IntegrityError:  # another process made it meanwhile
                _count(session, key)
        hits = session.scalar(select(Throttle.hits).where(Throttle.key == key))
    return (hits or 0) <= limit


def _count(session: Session, key: str) -> bool:
    result = session.execute(
        update(Throttle).where(Throttle.key == key).values(hits=Throttle.hits + 1)
    )
    return bool(getattr(result, "rowcount", 0))
