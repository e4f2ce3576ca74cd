"""Alembic environment: the engine comes from tracker (settings or the caller), never a URL here."""

from __future__ import annotations

from sqlalchemy import Engine

from alembic import context
from tracker.models import metadata


def run_migrations_online() -> None:
    engine = context.config.attributes.get("engine")
    if not isinstance(engine, Engine):
        from tracker.db import make_engine
        from tracker.settings import load_settings

        engine = make_engine(load_settings().effective_database_url)
    with engine.begin() as connection:
        context.configure(
            connection=connection,
            target_metadata=metadata,
            render_as_batch=True,
            compare_type=True,
        )
        context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported; run `tracker db upgrade`")
run_migrations_online()
