"""Self-service subscriptions: /subscribe, /confirm, /preferences and /unsubscribe.

(Being built for issue #14 item 4; no routes yet.)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker
    from starlette.routing import BaseRoute

    from tracker.clock import Clock
    from tracker.settings import Settings


def routes(settings: Settings, sessions: sessionmaker[Session], clock: Clock) -> list[BaseRoute]:
    return []
