"""The HTML pages: the board (``index.html``), each treaty's, deadline's and meeting's page,
the search results and the page for an address that names nothing, rendered with Jinja2.

Here, below the edges, because both the feed build (which writes the board for static
hosting) and the web server (which renders every page live) use it. A page changes with
the day: :func:`board_page` says until when the board stays the same. The board's links
are relative (it reads the same wherever it is hosted); an item's or treaty's page's are
absolute, made from ``feeds.base_url`` (the one public address). Only an
``http``/``https`` address becomes a link: any other (``javascript:``, ``data:``) is
shown as text.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from tracker.views import wording
from tracker.views.board import Board, board
from tracker.views.filters import EVERYTHING, BoardFilter

if TYPE_CHECKING:
    from jinja2 import Environment
    from sqlalchemy.orm import Session

    from tracker.settings import Settings

LINKABLE_SCHEMES = frozenset(("http", "https"))


def linkable(url: object) -> bool:
    """An address a page may make a link of: ``http`` or ``https`` with a host."""
    if not isinstance(url, str) or not url:
        return False
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return False
    return parts.scheme.lower() in LINKABLE_SCHEMES and bool(parts.netloc)


def base(url: str) -> str:
    """The public base URL with exactly one trailing slash, to which paths are added."""
    return url.rstrip("/") + "/"


@cache
def _environment() -> Environment:
    """Compiled once per process: compiling costs more than rendering."""
    from jinja2 import Environment, PackageLoader, select_autoescape

    environment = Environment(
        loader=PackageLoader("tracker.views", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    # The one wording of a state, a confidence and a source, as every reader has it.
    environment.filters.update(
        status_phrase=wording.status_phrase,
        confidence_phrase=wording.confidence_phrase,
        source_phrase=wording.source_phrase,
        field_name=wording.field_name,
    )
    environment.tests["linkable"] = linkable
    return environment


def render_page(template: str, context: Mapping[str, Any]) -> bytes:
    """``templates/<template>`` rendered with ``context`` (``base``: the public base URL)."""
    return _environment().get_template(template).render(**context).encode("utf-8")


def render(shown: Board) -> bytes:
    """The board; its links are relative, so that it reads the same wherever it is hosted."""
    return render_page("board.html", {"board": shown})


def board_page(
    session: Session,
    settings: Settings,
    as_of: datetime,
    only: BoardFilter = EVERYTHING,
    known_at: datetime | None = None,
) -> tuple[bytes, datetime]:
    """The board's HTML as of ``as_of`` narrowed by ``only`` (as known at ``known_at``),
    and the instant until which it stays the same. Raises NotFound for an unknown treaty."""
    shown = board(
        session,
        title=settings.feeds.title,
        timezone=settings.timezone,
        as_of=as_of,
        only=only,
        known_at=known_at,
    )
    return render(shown), shown.valid_until([settings.timezone])
