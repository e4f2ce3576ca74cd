"""changes by field: the items created, or whose listed fields changed, after a moment;
and the main dates' earlier texts, read from indexes alone: as days by text, the others
by moment (knowledge at a moment)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 20:05:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_DATE_TEXTS = "field IN ('due', 'starts')"
_NOT_A_DAY = "(old IS NULL OR old NOT LIKE '____-__-__' OR old LIKE '%X%' OR old LIKE '%x%')"


def upgrade() -> None:
    with op.batch_alter_table("changes", schema=None) as batch_op:
        batch_op.create_index(
            "ix_changes_field", ["field", "changed_at", "subject_type", "subject_id"], unique=False
        )
        batch_op.create_index(
            "ix_changes_date_texts",
            ["field", "old", "changed_at", "subject_type", "subject_id"],
            unique=False,
            sqlite_where=sa.text(_DATE_TEXTS),
            postgresql_where=sa.text(_DATE_TEXTS),
        )
        batch_op.create_index(
            "ix_changes_other_date_texts",
            ["field", "changed_at", "subject_type", "subject_id", "old"],
            unique=False,
            sqlite_where=sa.text(f"{_DATE_TEXTS} AND {_NOT_A_DAY}"),
            postgresql_where=sa.text(f"{_DATE_TEXTS} AND {_NOT_A_DAY}"),
        )


def downgrade() -> None:
    with op.batch_alter_table("changes", schema=None) as batch_op:
        batch_op.drop_index("ix_changes_other_date_texts")
        batch_op.drop_index("ix_changes_date_texts")
        batch_op.drop_index("ix_changes_field")
