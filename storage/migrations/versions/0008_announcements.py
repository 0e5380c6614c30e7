"""Announcements (公告): what a manager sent to whom, and each recipient's delivery.

Outbox rows get a `bulk` flag: an announcement's messages go after the service's own.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.types import UtcDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("bulk", sa.Boolean(), server_default=sa.false(), nullable=False))
    op.create_table(
        "announcements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("estate_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("choices", sa.JSON(), nullable=False),
        sa.Column("audience", sa.String(120), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("preview_row", sa.Integer(), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("sent_at", UtcDateTime(), nullable=True),
        sa.Column("reported_at", UtcDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["estate_id"], ["estates.id"], name="fk_announcements_estate_id_estates"),
        sa.ForeignKeyConstraint(["author_id"], ["people.id"], name="fk_announcements_author_id_people"),
        sa.PrimaryKeyConstraint("id", name="pk_announcements"),
    )
    op.create_index("ix_announcements_author_id_status", "announcements", ["author_id", "status"])
    op.create_index("ix_announcements_estate_id_sent_at", "announcements", ["estate_id", "sent_at"])
    op.create_table(
        "announcement_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("announcement_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("outbox_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["announcement_id"],
            ["announcements.id"],
            name="fk_announcement_deliveries_announcement_id_announcements",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name="fk_announcement_deliveries_person_id_people"
        ),
        sa.ForeignKeyConstraint(
            ["outbox_id"], ["outbox.id"], name="fk_announcement_deliveries_outbox_id_outbox"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_announcement_deliveries"),
        sa.UniqueConstraint(
            "announcement_id", "person_id", name="uq_announcement_deliveries_announcement_id_person_id"
        ),
    )


def downgrade() -> None:
    op.drop_table("announcement_deliveries")
    op.drop_table("announcements")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("bulk")
