"""Nothing lost: every incoming update stored before it is acknowledged, people the bot cannot reach,
requests held back from a flood, and strangers' attempts counted per account.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.types import UtcDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "updates",
        sa.Column("update_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("received_at", UtcDateTime(), nullable=False),
        sa.Column("status", sa.String(12), server_default="received", nullable=False),
        sa.Column("payload", sa.JSON(), nullable=True),
        sa.Column("handled_at", UtcDateTime(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("update_id", name="pk_updates"),
    )
    op.create_index(
        "ix_updates_received",
        "updates",
        ["update_id"],
        sqlite_where=sa.text("status = 'received'"),
    )
    op.create_index("ix_updates_received_at", "updates", ["received_at"])
    with op.batch_alter_table("people") as batch:
        batch.add_column(sa.Column("unreachable_at", UtcDateTime(), nullable=True))
    op.create_table(
        "held_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("received_at", UtcDateTime(), nullable=False),
        sa.Column("incoming", sa.JSON(), nullable=False),
        sa.Column("released_at", UtcDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"], name="fk_held_messages_person_id_people"),
        sa.PrimaryKeyConstraint("id", name="pk_held_messages"),
    )
    op.create_index("ix_held_messages_person_id_released_at", "held_messages", ["person_id", "released_at"])
    # Strangers: answered at most once a minute, and wrong invite codes counted per account.
    with op.batch_alter_table("access_attempts") as batch:
        batch.add_column(sa.Column("answered", sa.Boolean(), server_default=sa.false(), nullable=False))
    op.create_index("ix_access_attempts_telegram_id_at", "access_attempts", ["telegram_id", "at"])


def downgrade() -> None:
    op.drop_index("ix_access_attempts_telegram_id_at", "access_attempts")
    with op.batch_alter_table("access_attempts") as batch:
        batch.drop_column("answered")
    op.drop_table("held_messages")
    with op.batch_alter_table("people") as batch:
        batch.drop_column("unreachable_at")
    op.drop_table("updates")
