"""Owner of a unit: a resident's request finds the unit's owner by an index, not among every owner.

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_people_estate_id_unit", "people", ["estate_id", "unit"])


def downgrade() -> None:
    op.drop_index("ix_people_estate_id_unit", table_name="people")
