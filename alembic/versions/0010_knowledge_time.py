"""knowledge time: what made each change (its origin) and an index on when it became
known; forecasts on deadlines and meetings, with their outcomes and resolutions

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 16:48:26.193562
"""

from collections.abc import Sequence

import sqlalchemy as sa

import tracker.db
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "forecasts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject_type", sa.String(length=20), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("subject_slug", sa.String(length=120), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("made_at", tracker.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", tracker.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("resolution", sa.String(length=20), nullable=True),
        sa.Column("resolved_outcome", sa.String(length=200), nullable=True),
        sa.Column("resolution_reason", sa.Text(), nullable=True),
        sa.Column("resolved_at", tracker.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("resolved_by_id", sa.Integer(), nullable=True),
        sa.Column("brier", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["resolved_by_id"],
            ["sources.id"],
            name=op.f("fk_forecasts_resolved_by_id_sources"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["sources.id"],
            name=op.f("fk_forecasts_source_id_sources"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_forecasts")),
    )
    with op.batch_alter_table("forecasts", schema=None) as batch_op:
        batch_op.create_index("ix_forecasts_subject", ["subject_type", "subject_id"], unique=False)

    op.create_table(
        "forecast_outcomes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("forecast_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("low", sa.Float(), nullable=False),
        sa.Column("high", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["forecast_id"],
            ["forecasts.id"],
            name=op.f("fk_forecast_outcomes_forecast_id_forecasts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_forecast_outcomes")),
    )
    with op.batch_alter_table("forecast_outcomes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_forecast_outcomes_forecast_id"), ["forecast_id"], unique=False
        )

    with op.batch_alter_table("changes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("origin", sa.String(length=20), nullable=True))
        batch_op.create_index("ix_changes_changed_at", ["changed_at"], unique=False)
    # History a seed loaded with its record is the only history that is not news.
    op.execute("UPDATE changes SET origin = 'seed' WHERE NOT news")


def downgrade() -> None:
    with op.batch_alter_table("changes", schema=None) as batch_op:
        batch_op.drop_index("ix_changes_changed_at")
        batch_op.drop_column("origin")

    with op.batch_alter_table("forecast_outcomes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_forecast_outcomes_forecast_id"))

    op.drop_table("forecast_outcomes")
    with op.batch_alter_table("forecasts", schema=None) as batch_op:
        batch_op.drop_index("ix_forecasts_subject")

    op.drop_table("forecasts")
