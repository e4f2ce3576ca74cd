"""create treaties, deadlines, meetings, sources and history

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa

import tracker.db
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sources",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("publisher", sa.String(length=300), nullable=True),
        sa.Column("url", sa.String(length=2000), nullable=True),
        sa.Column("published", sa.Date(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sources")),
        sa.UniqueConstraint("key", name=op.f("uq_sources_key")),
    )
    with op.batch_alter_table("sources", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sources_url"), ["url"], unique=False)

    op.create_table(
        "treaties",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=120), nullable=False),
        sa.Column("name", sa.String(length=500), nullable=False),
        sa.Column("short_name", sa.String(length=120), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("signed", sa.Date(), nullable=True),
        sa.Column("entered_into_force", sa.Date(), nullable=True),
        sa.Column("expires", sa.Date(), nullable=True),
        sa.Column("depositary", sa.String(length=300), nullable=True),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("created_at", tracker.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", tracker.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_treaties")),
    )
    with op.batch_alter_table("treaties", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_treaties_slug"), ["slug"], unique=True)
        batch_op.create_index(batch_op.f("ix_treaties_status"), ["status"], unique=False)

    op.create_table(
        "changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject_type", sa.String(length=20), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("subject_slug", sa.String(length=120), nullable=False),
        sa.Column("subject_title", sa.String(length=500), nullable=False),
        sa.Column("field", sa.String(length=40), nullable=False),
        sa.Column("old", sa.Text(), nullable=True),
        sa.Column("new", sa.Text(), nullable=True),
        sa.Column("changed_at", tracker.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", tracker.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["sources.id"],
            name=op.f("fk_changes_source_id_sources"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_changes")),
    )
    with op.batch_alter_table("changes", schema=None) as batch_op:
        batch_op.create_index("ix_changes_recorded_at", ["recorded_at"], unique=False)
        batch_op.create_index("ix_changes_subject", ["subject_type", "subject_id"], unique=False)

    op.create_table(
        "deadlines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=120), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("treaty_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("due_text", sa.String(length=100), nullable=False),
        sa.Column("due_earliest", sa.Date(), nullable=False),
        sa.Column("due_latest", sa.Date(), nullable=False),
        sa.Column("due_precision", sa.String(length=20), nullable=False),
        sa.Column("due_time", sa.Time(), nullable=True),
        sa.Column("tz", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("alert_leads", sa.String(length=200), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("uid", sa.String(length=200), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("created_at", tracker.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", tracker.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["treaty_id"],
            ["treaties.id"],
            name=op.f("fk_deadlines_treaty_id_treaties"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deadlines")),
        sa.UniqueConstraint("uid", name=op.f("uq_deadlines_uid")),
    )
    with op.batch_alter_table("deadlines", schema=None) as batch_op:
        batch_op.create_index("ix_deadlines_due", ["due_earliest", "due_latest"], unique=False)
        batch_op.create_index(batch_op.f("ix_deadlines_kind"), ["kind"], unique=False)
        batch_op.create_index(batch_op.f("ix_deadlines_slug"), ["slug"], unique=True)
        batch_op.create_index(batch_op.f("ix_deadlines_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_deadlines_treaty_id"), ["treaty_id"], unique=False)

    op.create_table(
        "meetings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=120), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("series", sa.String(length=300), nullable=True),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("treaty_id", sa.Integer(), nullable=True),
        sa.Column("location", sa.String(length=300), nullable=True),
        sa.Column("starts_text", sa.String(length=100), nullable=True),
        sa.Column("starts_earliest", sa.Date(), nullable=True),
        sa.Column("starts_latest", sa.Date(), nullable=True),
        sa.Column("starts_precision", sa.String(length=20), nullable=True),
        sa.Column("starts_time", sa.Time(), nullable=True),
        sa.Column("ends_text", sa.String(length=100), nullable=True),
        sa.Column("ends_earliest", sa.Date(), nullable=True),
        sa.Column("ends_latest", sa.Date(), nullable=True),
        sa.Column("ends_precision", sa.String(length=20), nullable=True),
        sa.Column("ends_time", sa.Time(), nullable=True),
        sa.Column("tz", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("delegations", sa.JSON(), nullable=False),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.Column("recurrence", sa.String(length=500), nullable=True),
        sa.Column("alert_leads", sa.String(length=200), nullable=True),
        sa.Column("uid", sa.String(length=200), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("created_at", tracker.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", tracker.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["treaty_id"],
            ["treaties.id"],
            name=op.f("fk_meetings_treaty_id_treaties"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meetings")),
        sa.UniqueConstraint("uid", name=op.f("uq_meetings_uid")),
    )
    with op.batch_alter_table("meetings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_meetings_kind"), ["kind"], unique=False)
        batch_op.create_index(batch_op.f("ix_meetings_series"), ["series"], unique=False)
        batch_op.create_index(batch_op.f("ix_meetings_slug"), ["slug"], unique=True)
        batch_op.create_index(
            "ix_meetings_starts", ["starts_earliest", "starts_latest"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_meetings_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_meetings_treaty_id"), ["treaty_id"], unique=False)

    op.create_table(
        "participation_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("treaty_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=120), nullable=False),
        sa.Column("event", sa.String(length=20), nullable=False),
        sa.Column("on", sa.Date(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["treaty_id"],
            ["treaties.id"],
            name=op.f("fk_participation_events_treaty_id_treaties"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_participation_events")),
    )
    with op.batch_alter_table("participation_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_participation_events_treaty_id"), ["treaty_id"], unique=False
        )

    op.create_table(
        "treaty_sources",
        sa.Column("treaty_id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["sources.id"],
            name=op.f("fk_treaty_sources_source_id_sources"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["treaty_id"],
            ["treaties.id"],
            name=op.f("fk_treaty_sources_treaty_id_treaties"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("treaty_id", "source_id", name=op.f("pk_treaty_sources")),
    )
    op.create_table(
        "deadline_sources",
        sa.Column("deadline_id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["deadline_id"],
            ["deadlines.id"],
            name=op.f("fk_deadline_sources_deadline_id_deadlines"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["sources.id"],
            name=op.f("fk_deadline_sources_source_id_sources"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("deadline_id", "source_id", name=op.f("pk_deadline_sources")),
    )
    op.create_table(
        "meeting_sources",
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["meetings.id"],
            name=op.f("fk_meeting_sources_meeting_id_meetings"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["sources.id"],
            name=op.f("fk_meeting_sources_source_id_sources"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("meeting_id", "source_id", name=op.f("pk_meeting_sources")),
    )
    op.create_table(
        "participation_event_sources",
        sa.Column("participation_event_id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["participation_event_id"],
            ["participation_events.id"],
            name=op.f("fk_participation_event_sources_participation_event_id_participation_events"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["sources.id"],
            name=op.f("fk_participation_event_sources_source_id_sources"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint(
            "participation_event_id", "source_id", name=op.f("pk_participation_event_sources")
        ),
    )


def downgrade() -> None:
    op.drop_table("participation_event_sources")
    op.drop_table("meeting_sources")
    op.drop_table("deadline_sources")
    op.drop_table("treaty_sources")
    with op.batch_alter_table("participation_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_participation_events_treaty_id"))

    op.drop_table("participation_events")
    with op.batch_alter_table("meetings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_meetings_treaty_id"))
        batch_op.drop_index(batch_op.f("ix_meetings_status"))
        batch_op.drop_index("ix_meetings_starts")
        batch_op.drop_index(batch_op.f("ix_meetings_slug"))
        batch_op.drop_index(batch_op.f("ix_meetings_series"))
        batch_op.drop_index(batch_op.f("ix_meetings_kind"))

    op.drop_table("meetings")
    with op.batch_alter_table("deadlines", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deadlines_treaty_id"))
        batch_op.drop_index(batch_op.f("ix_deadlines_status"))
        batch_op.drop_index(batch_op.f("ix_deadlines_slug"))
        batch_op.drop_index(batch_op.f("ix_deadlines_kind"))
        batch_op.drop_index("ix_deadlines_due")

    op.drop_table("deadlines")
    with op.batch_alter_table("changes", schema=None) as batch_op:
        batch_op.drop_index("ix_changes_subject")
        batch_op.drop_index("ix_changes_recorded_at")

    op.drop_table("changes")
    with op.batch_alter_table("treaties", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_treaties_status"))
        batch_op.drop_index(batch_op.f("ix_treaties_slug"))

    op.drop_table("treaties")
    with op.batch_alter_table("sources", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sources_url"))

    op.drop_table("sources")
