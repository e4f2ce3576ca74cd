"""`tracker config show`: the effective settings, with secrets masked."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from tracker.cli.app import App
    from tracker.settings import Settings

MASK = "**********"


@click.group()
def config() -> None:
    """The settings in effect (defaults, --config file, TRACKER_* environment)."""


@config.command()
@click.pass_obj
def show(app: App) -> None:
    """Print the effective settings as TOML; passwords and tokens show as **********."""
    click.echo(render(app.settings), nl=False)


def render(settings: Settings) -> str:
    values = settings.model_dump(mode="json")
    if settings.database_url:
        values["database_url"] = _masked_url(settings.database_url)
    scalars = {k: v for k, v in values.items() if not isinstance(v, dict)}
    sections = {k: v for k, v in values.items() if isinstance(v, dict)}
    lines = [_line(key, value) for key, value in scalars.items() if value is not None]
    for name, section in sections.items():
        lines += ["", f"[{name}]"]
        lines += [_line(key, value) for key, value in section.items() if value is not None]
    return "\n".join(lines) + "\n"


def _masked_url(url: str) -> str:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except ArgumentError:
        return MASK  # unparseable: it might hide a password anywhere
    if parsed.password is None:
        return url
    return parsed.render_as_string(hide_password=True).replace(":***@", f":{MASK}@", 1)


def _line(key: str, value: Any) -> str:
    return f"{key} = {json.dumps(value, ensure_ascii=False)}"


COMMANDS = [config]
