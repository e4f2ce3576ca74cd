"""bounces and suspension of subscribers, transports paused and their pauses

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa

import tracker.db
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("subscribers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("bounces", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(
            sa.Column("suspended_at", tracker.db.UTCDateTime(timezone=True), nullable=True)
        )
    op.create_table(
        "transports",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("paused_since", tracker.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("next_probe_at", tracker.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("probes", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("last_success_at", tracker.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("paused_seconds", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_transports")),
    )
    op.create_table(
        "transport_pauses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("transport", sa.String(length=40), nullable=False),
        sa.Column("started_at", tracker.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", tracker.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transport_pauses")),
    )
    with op.batch_alter_table("transport_pauses", schema=None) as batch_op:
        batch_op.create_index(
            "ix_transport_pauses_transport_ended", ["transport", "ended_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("transport_pauses", schema=None) as batch_op:
        batch_op.drop_index("ix_transport_pauses_transport_ended")
    op.drop_table("transport_pauses")
    op.drop_table("transports")
    with op.batch_alter_table("subscribers", schema=None) as batch_op:
        batch_op.drop_column("suspended_at")
        batch_op.drop_column("bounces")
