"""Request times: one person's recent requests are read by their own index (flood limit, every message).

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_ticket_events_actor_id_kind_at", "ticket_events", ["actor_id", "kind", "at"])


def downgrade() -> None:
    op.drop_index("ix_ticket_events_actor_id_kind_at", table_name="ticket_events")
