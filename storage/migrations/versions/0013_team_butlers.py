"""A team's butlers: every new request finds them by an index, not among every butler of the estate.

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_people_team_id_role", "people", ["team_id", "role"])


def downgrade() -> None:
    op.drop_index("ix_people_team_id_role", table_name="people")
