"""Fee reminders (物业费催缴): what each unit owes for a period, and when it was paid.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.types import UtcDateTime

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "fees",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("estate_id", sa.Integer(), nullable=False),
        sa.Column("unit", sa.String(50), nullable=False),
        sa.Column("period", sa.String(20), nullable=False),
        sa.Column("amount_cents", sa.Integer(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("stage", sa.String(12), nullable=True),
        sa.Column("stage_at", UtcDateTime(), nullable=True),
        sa.Column("stage_reached", sa.Boolean(), nullable=True),
        sa.Column("clock_id", sa.Integer(), nullable=True),
        sa.Column("paid_at", UtcDateTime(), nullable=True),
        sa.Column("paid_by", sa.Integer(), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["estate_id"], ["estates.id"], name="fk_fees_estate_id_estates"),
        sa.ForeignKeyConstraint(["clock_id"], ["clocks.id"], name="fk_fees_clock_id_clocks"),
        sa.ForeignKeyConstraint(["paid_by"], ["people.id"], name="fk_fees_paid_by_people"),
        sa.PrimaryKeyConstraint("id", name="pk_fees"),
        sa.UniqueConstraint("estate_id", "unit", "period", name="uq_fees_estate_id_unit_period"),
    )
    op.create_index(
        "ix_fees_unpaid_due", "fees", ["estate_id", "due_on"], sqlite_where=sa.text("paid_at IS NULL")
    )


def downgrade() -> None:
    op.drop_index("ix_fees_unpaid_due", "fees")
    op.drop_table("fees")
