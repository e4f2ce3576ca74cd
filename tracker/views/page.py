"""The board page, ``index.html``: the board's data rendered with Jinja2.

Here, below the edges, because both the feed build (which writes the page) and the web
server (which serves what it wrote) use it. The page changes with the day:
:func:`board_page` says until when it stays the same.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING

from tracker.views import wording
from tracker.views.board import Board, board

if TYPE_CHECKING:
    from jinja2 import Template
    from sqlalchemy.orm import Session

    from tracker.settings import Settings


@cache
def _template() -> Template:
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
    )
    return environment.get_template("board.html")


def render(shown: Board) -> bytes:
    return _template().render(board=shown).encode("utf-8")


def board_page(session: Session, settings: Settings, as_of: datetime) -> tuple[bytes, datetime]:
    """The board's HTML as of ``as_of``, and the instant until which it stays the same."""
    shown = board(session, title=settings.feeds.title, timezone=settings.timezone, as_of=as_of)
    return render(shown), shown.valid_until([settings.timezone])
