"""The database tables, as SQLAlchemy Core metadata.

This is the shape queries are written against. The migrations in storage/migrations create it; a test
checks that the two agree, so a change here without a migration fails the suite.
"""

from __future__ import annotations

import sqlalchemy as sa

from storage.types import UtcDateTime

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
    }
)

estates = sa.Table(
    "estates",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(100), nullable=False, unique=True),
    sa.Column("timezone", sa.String(64), nullable=False),
)

teams = sa.Table(
    "teams",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("estate_id", sa.Integer, sa.ForeignKey("estates.id"), nullable=False),
    sa.Column("name", sa.String(100), nullable=False),
    sa.UniqueConstraint("estate_id", "name"),
)

# Everyone the roster knows: owners, residents, butlers, managers.
people = sa.Table(
    "people",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("estate_id", sa.Integer, sa.ForeignKey("estates.id"), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("name", sa.String(100), nullable=False),
    # Who this person is to the roster file: unit for owners and residents, "" for staff.
    sa.Column("roster_key", sa.String(200), nullable=False),
    sa.Column("team_id", sa.Integer, sa.ForeignKey("teams.id"), nullable=True),
    sa.Column("unit", sa.String(50), nullable=True),
    sa.Column("telegram_id", sa.BigInteger, nullable=True, unique=True),
    sa.Column("phone", sa.String(40), nullable=True),
    sa.Column("language", sa.String(8), nullable=False, server_default="zh"),
    sa.Column("vip", sa.Boolean, nullable=False, server_default=sa.false()),
    # A butler's place in the team: the lowest is the team's designated first butler.
    sa.Column("team_rank", sa.Integer, nullable=False, server_default="0"),
    sa.Column("on_duty", sa.Boolean, nullable=False, server_default=sa.true()),
    # False once the person is no longer in the roster file: kept for history, never routed to.
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    sa.UniqueConstraint("estate_id", "role", "roster_key", "name"),
)

invites = sa.Table(
    "invites",
    metadata,
    sa.Column("code", sa.String(32), primary_key=True),
    sa.Column("person_id", sa.Integer, sa.ForeignKey("people.id"), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("expires_at", UtcDateTime(), nullable=False),
    sa.Column("used_at", UtcDateTime(), nullable=True),
)

# Someone the roster does not know wrote to the bot: who and when, never what they wrote.
access_attempts = sa.Table(
    "access_attempts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("telegram_id", sa.BigInteger, nullable=False),
    sa.Column("at", UtcDateTime(), nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),
)

tickets = sa.Table(
    "tickets",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("estate_id", sa.Integer, sa.ForeignKey("estates.id"), nullable=False),
    # The number people quote (#1024); unique within the estate.
    sa.Column("number", sa.Integer, nullable=False),
    sa.Column("requester_id", sa.Integer, sa.ForeignKey("people.id"), nullable=False),
    sa.Column("owner_id", sa.Integer, sa.ForeignKey("people.id"), nullable=False),
    sa.Column("team_id", sa.Integer, sa.ForeignKey("teams.id"), nullable=False),
    sa.Column("butler_id", sa.Integer, sa.ForeignKey("people.id"), nullable=True),
    sa.Column("category", sa.String(16), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("summary", sa.Text, nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("due_at", UtcDateTime(), nullable=False),
    sa.Column("accepted_at", UtcDateTime(), nullable=True),
    sa.Column("resolved_at", UtcDateTime(), nullable=True),
    sa.Column("closed_at", UtcDateTime(), nullable=True),
    sa.Column("last_activity_at", UtcDateTime(), nullable=False),
    sa.Column("reopen_count", sa.Integer, nullable=False, server_default="0"),
    sa.Column("rating", sa.Integer, nullable=True),
    sa.Column("rating_comment", sa.Text, nullable=True),
    sa.UniqueConstraint("estate_id", "number"),
    sa.Index(None, "requester_id", "state"),
    sa.Index(None, "butler_id", "state"),
    sa.Index(None, "estate_id", "created_at"),
)

# The append-only history of a ticket: rows are only ever inserted.
ticket_events = sa.Table(
    "ticket_events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("ticket_id", sa.Integer, sa.ForeignKey("tickets.id"), nullable=False),
    sa.Column("at", UtcDateTime(), nullable=False),
    sa.Column("actor_id", sa.Integer, sa.ForeignKey("people.id"), nullable=True),
    sa.Column("kind", sa.String(32), nullable=False),
    # Event details as JSON: message text, media kind, the chat message it came from, ...
    sa.Column("detail", sa.JSON, nullable=False),
    # The Telegram message an incoming event came from, so a reply to it finds the ticket.
    sa.Column("chat_id", sa.BigInteger, nullable=True),
    sa.Column("message_id", sa.BigInteger, nullable=True),
    sa.Index(None, "ticket_id", "id"),
    sa.Index(None, "chat_id", "message_id"),
)

# Every message the bot means to send, written in the same transaction as the decision behind it.
outbox = sa.Table(
    "outbox",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("chat_id", sa.BigInteger, nullable=False),
    # send_text, copy_media, edit_buttons, set_commands: see bot/outbox.py
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("payload", sa.JSON, nullable=False),
    sa.Column("ticket_id", sa.Integer, sa.ForeignKey("tickets.id"), nullable=True),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("status", sa.String(16), nullable=False, server_default="pending"),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("sent_at", UtcDateTime(), nullable=True),
    # The message id Telegram gave the delivered message, so replies to it find the ticket.
    sa.Column("sent_message_id", sa.BigInteger, nullable=True),
    sa.Column("last_error", sa.Text, nullable=True),
    sa.Index(None, "status", "id"),
    sa.Index(None, "chat_id", "sent_message_id"),
)
