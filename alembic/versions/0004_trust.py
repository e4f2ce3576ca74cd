"""graded sources, confidence, status dates, TBA deadlines, claims, seed values, news

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03 11:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa

import tracker.db
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_DUE = ("due_text", "due_earliest", "due_latest", "due_precision")
_DUE_TYPES = {
    "due_text": sa.String(length=100),
    "due_earliest": sa.Date(),
    "due_latest": sa.Date(),
    "due_precision": sa.String(length=20),
}


def upgrade() -> None:
    with op.batch_alter_table("sources", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("grade", sa.String(length=20), nullable=False, server_default="secondary")
        )
        batch_op.add_column(sa.Column("caveat", sa.Text(), nullable=True))
    for table in ("deadlines", "meetings"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("status_on", sa.Date(), nullable=True))
            batch_op.add_column(
                sa.Column(
                    "confidence", sa.String(length=20), nullable=False, server_default="announced"
                )
            )
    with op.batch_alter_table("deadlines", schema=None) as batch_op:
        for column in _DUE:
            batch_op.alter_column(column, existing_type=_DUE_TYPES[column], nullable=True)
    with op.batch_alter_table("changes", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("news", sa.Boolean(), nullable=False, server_default=sa.true())
        )
    # Parts of a month or a year are ranges of days now, like "8–12 March".
    for table, prefix in (("deadlines", "due"), ("meetings", "starts"), ("meetings", "ends")):
        op.execute(
            f"UPDATE {table} SET {prefix}_precision = 'range' "
            f"WHERE {prefix}_precision IN ('part-of-month', 'part-of-year')"
        )
    op.create_table(
        "claims",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject_type", sa.String(length=20), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("field", sa.String(length=40), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("recorded_at", tracker.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["sources.id"],
            name=op.f("fk_claims_source_id_sources"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_claims")),
        sa.UniqueConstraint(
            "subject_type",
            "subject_id",
            "field",
            "source_id",
            name=op.f("uq_claims_subject_type"),
        ),
    )
    with op.batch_alter_table("claims", schema=None) as batch_op:
        batch_op.create_index("ix_claims_subject", ["subject_type", "subject_id"], unique=False)
    op.create_table(
        "seed_values",
        sa.Column("section", sa.String(length=20), nullable=False),
        sa.Column("identity", sa.String(length=120), nullable=False),
        sa.Column("field", sa.String(length=40), nullable=False),
        sa.Column("value", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("section", "identity", "field", name=op.f("pk_seed_values")),
    )


def downgrade() -> None:
    op.drop_table("seed_values")
    with op.batch_alter_table("claims", schema=None) as batch_op:
        batch_op.drop_index("ix_claims_subject")
    op.drop_table("claims")
    with op.batch_alter_table("changes", schema=None) as batch_op:
        batch_op.drop_column("news")
    # A deadline to be announced has no date to go back to: it goes.
    op.execute("DELETE FROM deadlines WHERE due_text IS NULL")
    with op.batch_alter_table("deadlines", schema=None) as batch_op:
        for column in _DUE:
            batch_op.alter_column(column, existing_type=_DUE_TYPES[column], nullable=False)
    for table in ("deadlines", "meetings"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("confidence")
            batch_op.drop_column("status_on")
    with op.batch_alter_table("sources", schema=None) as batch_op:
        batch_op.drop_column("caveat")
        batch_op.drop_column("grade")
