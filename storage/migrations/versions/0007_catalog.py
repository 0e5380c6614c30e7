"""Paid special services (特约服务, 明码标价): the estate's price list, residents' orders with the
price frozen at order time, and extra costs a butler quotes.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.types import UtcDateTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "service_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("estate_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(40), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name_zh", sa.String(60), nullable=False),
        sa.Column("name_en", sa.String(60), nullable=False),
        sa.Column("description_zh", sa.Text(), nullable=False),
        sa.Column("description_en", sa.Text(), nullable=False),
        sa.Column("unit_zh", sa.String(20), nullable=False),
        sa.Column("unit_en", sa.String(20), nullable=False),
        sa.Column("price_cents", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["estate_id"], ["estates.id"], name="fk_service_items_estate_id_estates"),
        sa.PrimaryKeyConstraint("id", name="pk_service_items"),
        sa.UniqueConstraint("estate_id", "code", name="uq_service_items_estate_id_code"),
    )
    op.create_table(
        "service_orders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(40), nullable=False),
        sa.Column("name_zh", sa.String(60), nullable=False),
        sa.Column("name_en", sa.String(60), nullable=False),
        sa.Column("unit_zh", sa.String(20), nullable=False),
        sa.Column("unit_en", sa.String(20), nullable=False),
        sa.Column("price_cents", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("draft_row", sa.Integer(), nullable=True),
        sa.Column("preferred_at", UtcDateTime(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("placed_at", UtcDateTime(), nullable=True),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["item_id"], ["service_items.id"], name="fk_service_orders_item_id_service_items"
        ),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"], name="fk_service_orders_person_id_people"),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], name="fk_service_orders_ticket_id_tickets"),
        sa.PrimaryKeyConstraint("id", name="pk_service_orders"),
    )
    op.create_index("ix_service_orders_ticket_id", "service_orders", ["ticket_id"], unique=True)
    op.create_index("ix_service_orders_draft_row", "service_orders", ["draft_row"])
    op.create_index("ix_service_orders_person_id_status", "service_orders", ["person_id", "status"])
    op.create_table(
        "service_quotes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("quoted_by", sa.Integer(), nullable=False),
        sa.Column("quoted_at", UtcDateTime(), nullable=False),
        sa.Column("amount_cents", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("answered_at", UtcDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], name="fk_service_quotes_ticket_id_tickets"),
        sa.ForeignKeyConstraint(["quoted_by"], ["people.id"], name="fk_service_quotes_quoted_by_people"),
        sa.PrimaryKeyConstraint("id", name="pk_service_quotes"),
    )
    op.create_index("ix_service_quotes_ticket_id_id", "service_quotes", ["ticket_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_service_quotes_ticket_id_id", "service_quotes")
    op.drop_table("service_quotes")
    for index in ("person_id_status", "draft_row", "ticket_id"):
        op.drop_index(f"ix_service_orders_{index}", "service_orders")
    op.drop_table("service_orders")
    op.drop_table("service_items")
