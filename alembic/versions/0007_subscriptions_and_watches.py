"""self-service subscriptions (confirmation, unsubscribing, request throttles), the day an
item's date is expected to be confirmed, and the catalogue's revision counter

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa

import tracker.db
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_WHEN = tracker.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("subscribers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("confirmed_at", _WHEN, nullable=True))
        batch_op.add_column(sa.Column("unsubscribed_at", _WHEN, nullable=True))
    # Everyone subscribed before sign-up by the web form was added by the operator.
    op.execute("UPDATE subscribers SET confirmed_at = created_at")
    for table in ("deadlines", "meetings"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("confirm_lead_days", sa.Integer(), nullable=True))
    op.create_table(
        "throttles",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("window_start", _WHEN, nullable=False),
        sa.Column("hits", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_throttles")),
    )
    op.create_table(
        "revisions",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.Column("changed_at", _WHEN, nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_revisions")),
    )
    # The catalogue's row, so that writers only ever move it on (see catalog.revision).
    op.execute("INSERT INTO revisions (name, value) VALUES ('catalog', 0)")


def downgrade() -> None:
    op.drop_table("revisions")
    op.drop_table("throttles")
    for table in ("meetings", "deadlines"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("confirm_lead_days")
    with op.batch_alter_table("subscribers", schema=None) as batch_op:
        batch_op.drop_column("unsubscribed_at")
        batch_op.drop_column("confirmed_at")
