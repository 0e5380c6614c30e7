"""Service clocks, postponements, follow-up tasks, and a ticket's overdue and return-visit marks.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.types import UtcDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

PENDING = sa.text("status = 'pending'")


def upgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("overdue_at", UtcDateTime(), nullable=True))
        batch.add_column(sa.Column("return_visit_at", UtcDateTime(), nullable=True))
        batch.add_column(sa.Column("return_visit_by", sa.String(16), nullable=True))
    op.create_table(
        "clocks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("estate_id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("due_at", UtcDateTime(), nullable=False),
        sa.Column("status", sa.String(12), server_default="pending", nullable=False),
        sa.Column("set_at", UtcDateTime(), nullable=False),
        sa.Column("settled_at", UtcDateTime(), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["estate_id"], ["estates.id"], name="fk_clocks_estate_id_estates"),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], name="fk_clocks_ticket_id_tickets"),
        sa.PrimaryKeyConstraint("id", name="pk_clocks"),
    )
    op.create_index(
        "ix_clocks_pending_due",
        "clocks",
        ["due_at", "id"],
        sqlite_where=PENDING,
        postgresql_where=PENDING,
    )
    op.create_index(
        "uq_clocks_pending_kind",
        "clocks",
        ["ticket_id", "kind"],
        unique=True,
        sqlite_where=PENDING,
        postgresql_where=PENDING,
    )
    op.create_table(
        "postponements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("requested_by", sa.Integer(), nullable=False),
        sa.Column("requested_at", UtcDateTime(), nullable=False),
        sa.Column("from_due_at", UtcDateTime(), nullable=False),
        sa.Column("to_due_at", UtcDateTime(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.Column("decided_at", UtcDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], name="fk_postponements_ticket_id_tickets"),
        sa.ForeignKeyConstraint(["requested_by"], ["people.id"], name="fk_postponements_requested_by_people"),
        sa.ForeignKeyConstraint(["decided_by"], ["people.id"], name="fk_postponements_decided_by_people"),
        sa.PrimaryKeyConstraint("id", name="pk_postponements"),
    )
    op.create_index("ix_postponements_ticket_id_id", "postponements", ["ticket_id", "id"])
    op.create_table(
        "follow_ups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("butler_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("done_at", UtcDateTime(), nullable=True),
        sa.Column("done_by", sa.Integer(), nullable=True),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], name="fk_follow_ups_ticket_id_tickets"),
        sa.ForeignKeyConstraint(["butler_id"], ["people.id"], name="fk_follow_ups_butler_id_people"),
        sa.ForeignKeyConstraint(["done_by"], ["people.id"], name="fk_follow_ups_done_by_people"),
        sa.PrimaryKeyConstraint("id", name="pk_follow_ups"),
    )
    op.create_index("ix_follow_ups_butler_id_done_at", "follow_ups", ["butler_id", "done_at"])
    op.create_index("ix_follow_ups_ticket_id", "follow_ups", ["ticket_id"])


def downgrade() -> None:
    op.drop_table("follow_ups")
    op.drop_table("postponements")
    op.drop_index("uq_clocks_pending_kind", table_name="clocks")
    op.drop_index("ix_clocks_pending_due", table_name="clocks")
    op.drop_table("clocks")
    with op.batch_alter_table("tickets") as batch:
        batch.drop_column("return_visit_by")
        batch.drop_column("return_visit_at")
        batch.drop_column("overdue_at")
