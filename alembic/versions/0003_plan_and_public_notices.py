"""the plan of timed work; public notices

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03 08:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa

import tracker.db
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "plan",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("due_at", tracker.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan")),
        sa.UniqueConstraint("kind", "key", name="uq_plan_kind_key"),
    )
    with op.batch_alter_table("plan", schema=None) as batch_op:
        batch_op.create_index("ix_plan_due_at", ["due_at"], unique=False)
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("public", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.create_index("ix_events_public_recorded_at", ["public", "recorded_at"])
    # The alerts delivered to "*" were the public ones; no delivery is addressed so now.
    op.execute(
        "UPDATE events SET public = TRUE WHERE id IN "
        "(SELECT event_id FROM deliveries WHERE recipient = '*')"
    )
    op.execute("DELETE FROM deliveries WHERE recipient = '*'")
    # The daemon's first tick plans every item within reach: the plan starts empty.


def downgrade() -> None:
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_index("ix_events_public_recorded_at")
        batch_op.drop_column("public")
    with op.batch_alter_table("plan", schema=None) as batch_op:
        batch_op.drop_index("ix_plan_due_at")
    op.drop_table("plan")
