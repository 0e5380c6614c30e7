"""Ticket events are append-only, enforced by the database itself.

The event log is the traceable record of every service (服务记录真实、准确、完整): no code path may
update or delete a row, so the database refuses to.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TRIGGERS = {
    "sqlite": [
        """CREATE TRIGGER ticket_events_no_update BEFORE UPDATE ON ticket_events
           BEGIN SELECT RAISE(ABORT, 'ticket events are append-only'); END""",
        """CREATE TRIGGER ticket_events_no_delete BEFORE DELETE ON ticket_events
           BEGIN SELECT RAISE(ABORT, 'ticket events are append-only'); END""",
    ],
    "postgresql": [
        """CREATE FUNCTION ticket_events_append_only() RETURNS trigger AS $$
           BEGIN RAISE EXCEPTION 'ticket events are append-only'; END; $$ LANGUAGE plpgsql""",
        """CREATE TRIGGER ticket_events_append_only BEFORE UPDATE OR DELETE ON ticket_events
           FOR EACH ROW EXECUTE FUNCTION ticket_events_append_only()""",
    ],
}
DROPS = {
    "sqlite": ["DROP TRIGGER ticket_events_no_update", "DROP TRIGGER ticket_events_no_delete"],
    "postgresql": [
        "DROP TRIGGER ticket_events_append_only ON ticket_events",
        "DROP FUNCTION ticket_events_append_only()",
    ],
}


def upgrade() -> None:
    for statement in TRIGGERS[op.get_bind().dialect.name]:
        op.execute(statement)


def downgrade() -> None:
    for statement in DROPS[op.get_bind().dialect.name]:
        op.execute(statement)
