"""the body or forum of deadlines and meetings; a treaty's count of states parties (with
its day and source) and the states its entry into force needs; calendars to poll

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 16:17:10.441314
"""

from collections.abc import Sequence

import sqlalchemy as sa

import tracker.db
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "calendar_feeds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("treaty_id", sa.Integer(), nullable=True),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("every_seconds", sa.Integer(), nullable=False),
        sa.Column("etag", sa.String(length=500), nullable=True),
        sa.Column("last_modified", sa.String(length=100), nullable=True),
        sa.Column("checked_at", tracker.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("next_check_at", tracker.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_ok_at", tracker.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("created_at", tracker.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["sources.id"],
            name=op.f("fk_calendar_feeds_source_id_sources"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["treaty_id"],
            ["treaties.id"],
            name=op.f("fk_calendar_feeds_treaty_id_treaties"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calendar_feeds")),
        sa.UniqueConstraint("url", name=op.f("uq_calendar_feeds_url")),
    )
    with op.batch_alter_table("calendar_feeds", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_calendar_feeds_next_check_at"), ["next_check_at"], unique=False
        )

    with op.batch_alter_table("deadlines", schema=None) as batch_op:
        batch_op.add_column(sa.Column("body", sa.String(length=200), nullable=True))
        batch_op.create_index(batch_op.f("ix_deadlines_body"), ["body"], unique=False)

    with op.batch_alter_table("meetings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("body", sa.String(length=200), nullable=True))
        batch_op.create_index(batch_op.f("ix_meetings_body"), ["body"], unique=False)

    with op.batch_alter_table("treaties", schema=None) as batch_op:
        batch_op.add_column(sa.Column("parties_count", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("parties_count_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("parties_count_source_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("required_states", sa.JSON(), server_default=sa.text("'[]'"), nullable=False)
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_treaties_parties_count_source_id_sources"),
            "sources",
            ["parties_count_source_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("treaties", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_treaties_parties_count_source_id_sources"), type_="foreignkey"
        )
        batch_op.drop_column("required_states")
        batch_op.drop_column("parties_count_source_id")
        batch_op.drop_column("parties_count_on")
        batch_op.drop_column("parties_count")

    with op.batch_alter_table("meetings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_meetings_body"))
        batch_op.drop_column("body")

    with op.batch_alter_table("deadlines", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deadlines_body"))
        batch_op.drop_column("body")

    with op.batch_alter_table("calendar_feeds", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_calendar_feeds_next_check_at"))

    op.drop_table("calendar_feeds")
