"""The managers' figures: indexes to count a span by, sent digests, and files the bot sends.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.types import UtcDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

TICKET_INDEXES = ("resolved_at", "closed_at", "return_visit_at")


def upgrade() -> None:
    for column in TICKET_INDEXES:
        op.create_index(f"ix_tickets_estate_id_{column}", "tickets", ["estate_id", column])
    op.create_index("ix_tickets_estate_id_state_created_at", "tickets", ["estate_id", "state", "created_at"])
    op.create_index("ix_ticket_events_kind_at", "ticket_events", ["kind", "at"])
    op.create_table(
        "attachments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(200), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=True),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_attachments"),
    )
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("attachment_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            "fk_outbox_attachment_id_attachments", "attachments", ["attachment_id"], ["id"]
        )
    op.create_table(
        "digests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("estate_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("due_at", UtcDateTime(), nullable=False),
        sa.Column("sent_at", UtcDateTime(), nullable=False),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["estate_id"], ["estates.id"], name="fk_digests_estate_id_estates"),
        sa.PrimaryKeyConstraint("id", name="pk_digests"),
        sa.UniqueConstraint("estate_id", "day", name="uq_digests_estate_id_day"),
    )


def downgrade() -> None:
    op.drop_table("digests")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_constraint("fk_outbox_attachment_id_attachments", type_="foreignkey")
        batch.drop_column("attachment_id")
    op.drop_table("attachments")
    op.drop_index("ix_ticket_events_kind_at", table_name="ticket_events")
    op.drop_index("ix_tickets_estate_id_state_created_at", table_name="tickets")
    for column in TICKET_INDEXES:
        op.drop_index(f"ix_tickets_estate_id_{column}", table_name="tickets")
