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
    # Set when the person chose their language with /language: the roster's column no longer overrides it.
    sa.Column("language_chosen_at", UtcDateTime(), nullable=True),
    sa.Column("vip", sa.Boolean, nullable=False, server_default=sa.false()),
    # A butler's place in the team: the lowest is the team's designated first butler.
    sa.Column("team_rank", sa.Integer, nullable=False, server_default="0"),
    sa.Column("on_duty", sa.Boolean, nullable=False, server_default=sa.true()),
    # False once the person is no longer in the roster file: kept for history, never routed to.
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    # Telegram refused a message to them (403: they blocked the bot); cleared when they write again.
    sa.Column("unreachable_at", UtcDateTime(), nullable=True),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    sa.UniqueConstraint("estate_id", "role", "roster_key", "name"),
    sa.Index(None, "estate_id", "unit"),  # a resident's request finds their unit's owner
    sa.Index(None, "team_id", "role"),  # and then their team's butlers
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
    # Whether this attempt was answered: a stranger is answered at most once a minute, however often they try.
    sa.Column("answered", sa.Boolean, nullable=False, server_default=sa.false()),
    # Counting one account's recent attempts (wrong invite codes, the last answer) reads only its rows.
    sa.Index(None, "telegram_id", "at"),
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
    # When the committed time lapsed with the ticket still in hand; kept after it is resolved.
    sa.Column("overdue_at", UtcDateTime(), nullable=True),
    # The return visit (回访): when it was made, and how ("survey" answered, or "phone" by the butler).
    sa.Column("return_visit_at", UtcDateTime(), nullable=True),
    sa.Column("return_visit_by", sa.String(16), nullable=True),
    sa.UniqueConstraint("estate_id", "number"),
    sa.Index(None, "requester_id", "state"),
    sa.Index(None, "butler_id", "state"),
    sa.Index(None, "estate_id", "created_at"),
    # The managers' figures count by each of these moments over a span of days; see storage/figures.py.
    sa.Index(None, "estate_id", "resolved_at"),
    sa.Index(None, "estate_id", "closed_at"),
    sa.Index(None, "estate_id", "return_visit_at"),
    sa.Index(None, "estate_id", "state", "created_at"),  # open now, opened before a moment
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
    sa.Index(None, "kind", "at"),  # e.g. the reopens of a span
    # One person's requests of the last hour (bot/flood.py, on every message): by (kind, at) alone that read
    # every request of the whole estate in the hour, more with every message of a busy hour.
    sa.Index(None, "actor_id", "kind", "at"),
)

# A file the bot sends (a digest's chart, an export): kept until every message carrying it is settled.
attachments = sa.Table(
    "attachments",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("filename", sa.String(200), nullable=False),
    sa.Column("content", sa.LargeBinary, nullable=True),  # emptied once delivered to everyone
    sa.Column("size", sa.Integer, nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
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
    # The file a send_photo or send_document row delivers.
    sa.Column("attachment_id", sa.Integer, sa.ForeignKey("attachments.id"), nullable=True),
    sa.Column("bulk", sa.Boolean, nullable=False, server_default=sa.false()),  # sent after non-bulk rows
    sa.Index(None, "status", "id"),
    sa.Index(None, "chat_id", "sent_message_id"),
)

PENDING = sa.text("status = 'pending'")

# Every promise with a time on it: a row per pending service clock, written in the same transaction as
# the change that set it. The scheduler fires what is due; firing and its effects commit together.
clocks = sa.Table(
    "clocks",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("estate_id", sa.Integer, sa.ForeignKey("estates.id"), nullable=False),
    sa.Column("ticket_id", sa.Integer, sa.ForeignKey("tickets.id"), nullable=True),
    # accept, remind, lapse, confirm, survey_reminder, survey_give_up: see bot/sla.py
    sa.Column("kind", sa.String(24), nullable=False),
    sa.Column("due_at", UtcDateTime(), nullable=False),
    # pending, then fired or cancelled; failed if firing raised (logged, never retried in a loop)
    sa.Column("status", sa.String(12), nullable=False, server_default="pending"),
    sa.Column("set_at", UtcDateTime(), nullable=False),
    sa.Column("settled_at", UtcDateTime(), nullable=True),
    sa.Column("detail", sa.JSON, nullable=False),
    # "What is due" reads only pending rows, in due order: 100,000 waiting clocks cost nothing.
    sa.Index("ix_clocks_pending_due", "due_at", "id", sqlite_where=PENDING, postgresql_where=PENDING),
    # At most one pending clock of a kind per ticket, enforced by the database itself.
    sa.Index(
        "uq_clocks_pending_kind",
        "ticket_id",
        "kind",
        unique=True,
        sqlite_where=PENDING,
        postgresql_where=PENDING,
    ),
)

# Moving a ticket's committed time. The first move is the butler's own; a second one of the same matter
# waits for a manager's decision ("同一件事情不得两次推迟").
postponements = sa.Table(
    "postponements",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("ticket_id", sa.Integer, sa.ForeignKey("tickets.id"), nullable=False),
    sa.Column("requested_by", sa.Integer, sa.ForeignKey("people.id"), nullable=False),
    sa.Column("requested_at", UtcDateTime(), nullable=False),
    sa.Column("from_due_at", UtcDateTime(), nullable=False),
    sa.Column("to_due_at", UtcDateTime(), nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    # approved, pending (waiting for a manager), refused
    sa.Column("status", sa.String(12), nullable=False),
    sa.Column("decided_by", sa.Integer, sa.ForeignKey("people.id"), nullable=True),
    sa.Column("decided_at", UtcDateTime(), nullable=True),
    sa.Index(None, "ticket_id", "id"),
)

# Work a butler owes on a closed ticket: a return visit by phone when the survey went unanswered, or a
# second service (二次服务) after a low rating.
follow_ups = sa.Table(
    "follow_ups",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("ticket_id", sa.Integer, sa.ForeignKey("tickets.id"), nullable=False),
    sa.Column("kind", sa.String(24), nullable=False),  # return_visit, second_service
    sa.Column("butler_id", sa.Integer, sa.ForeignKey("people.id"), nullable=True),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("done_at", UtcDateTime(), nullable=True),
    sa.Column("done_by", sa.Integer, sa.ForeignKey("people.id"), nullable=True),
    sa.Column("result", sa.JSON, nullable=True),
    sa.Index(None, "butler_id", "done_at"),
    sa.Index(None, "ticket_id"),
)

# Every update Telegram handed the bot, stored before it is acknowledged and processed from here.
# received -> handled (or failed: a handler raised; rejected: not a well-formed update, payload dropped).
RECEIVED = sa.text("status = 'received'")
updates = sa.Table(
    "updates",
    metadata,
    sa.Column("update_id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("received_at", UtcDateTime(), nullable=False),
    sa.Column("status", sa.String(12), nullable=False, server_default="received"),
    sa.Column("payload", sa.JSON, nullable=True),
    sa.Column("handled_at", UtcDateTime(), nullable=True),
    sa.Column("error", sa.Text, nullable=True),
    sa.Index("ix_updates_received", "update_id", sqlite_where=RECEIVED, postgresql_where=RECEIVED),
    sa.Index(None, "received_at"),  # pruning what is older than any redelivery
)

# A resident's request held back because they sent too many in an hour; released in order later.
held_messages = sa.Table(
    "held_messages",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("person_id", sa.Integer, sa.ForeignKey("people.id"), nullable=False),
    sa.Column("received_at", UtcDateTime(), nullable=False),
    sa.Column("incoming", sa.JSON, nullable=False),  # the message as bot.model.Incoming's fields
    sa.Column("released_at", UtcDateTime(), nullable=True),
    sa.Index(None, "person_id", "released_at"),
)

# The daily digests sent: one row per estate and local day, so a digest is never sent twice.
digests = sa.Table(
    "digests",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("estate_id", sa.Integer, sa.ForeignKey("estates.id"), nullable=False),
    sa.Column("day", sa.Date, nullable=False),  # the local day the figures are of
    sa.Column("due_at", UtcDateTime(), nullable=False),  # when it was meant to go
    sa.Column("sent_at", UtcDateTime(), nullable=False),  # when it was queued for the managers
    sa.Column("late", sa.Boolean, nullable=False),
    sa.UniqueConstraint("estate_id", "day"),
)

# ---- Paid special services (特约服务): migration 0007 ---------------------------------------------

# The estate's price list (明码标价), kept in a file and loaded by `guanjia catalog import` (bot/catalog.py).
# An item is never deleted: one no longer in the file becomes inactive, and the orders naming it keep it.
service_items = sa.Table(
    "service_items",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("estate_id", sa.Integer, sa.ForeignKey("estates.id"), nullable=False),
    sa.Column("code", sa.String(40), nullable=False),  # the file's stable key: a re-import updates by it
    sa.Column("position", sa.Integer, nullable=False),  # its place in the file: the order residents see
    sa.Column("name_zh", sa.String(60), nullable=False),
    sa.Column("name_en", sa.String(60), nullable=False),
    sa.Column("description_zh", sa.Text, nullable=False),
    sa.Column("description_en", sa.Text, nullable=False),
    sa.Column("unit_zh", sa.String(20), nullable=False),
    sa.Column("unit_en", sa.String(20), nullable=False),
    sa.Column("price_cents", sa.Integer, nullable=False),
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    sa.UniqueConstraint("estate_id", "code"),
)

# A resident's order of an item: a draft while they add a preferred time and a note, then placed as a
# ticket (or cancelled). What was ordered is copied here when they press Order, price and unit included,
# so a later import never changes what was already ordered.
service_orders = sa.Table(
    "service_orders",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("item_id", sa.Integer, sa.ForeignKey("service_items.id"), nullable=False),
    sa.Column("person_id", sa.Integer, sa.ForeignKey("people.id"), nullable=False),
    sa.Column("code", sa.String(40), nullable=False),
    sa.Column("name_zh", sa.String(60), nullable=False),
    sa.Column("name_en", sa.String(60), nullable=False),
    sa.Column("unit_zh", sa.String(20), nullable=False),
    sa.Column("unit_en", sa.String(20), nullable=False),
    sa.Column("price_cents", sa.Integer, nullable=False),
    sa.Column("status", sa.String(12), nullable=False),  # draft, then placed or cancelled
    sa.Column("created_at", UtcDateTime(), nullable=False),
    # The message showing the draft with its buttons (an outbox row), retired once the draft is settled.
    sa.Column("draft_row", sa.Integer, nullable=True),
    sa.Column("preferred_at", UtcDateTime(), nullable=True),
    sa.Column("note", sa.Text, nullable=True),
    sa.Column("placed_at", UtcDateTime(), nullable=True),
    sa.Column("ticket_id", sa.Integer, sa.ForeignKey("tickets.id"), nullable=True),
    sa.Index(None, "ticket_id", unique=True),  # a ticket carries at most one order
    sa.Index(None, "draft_row"),
    # A resident's message is checked for a fresh draft it may answer: one lookup per message.
    sa.Index(None, "person_id", "status"),
)

# An extra cost a butler quotes on a paid-service ticket, and the resident's answer to it.
service_quotes = sa.Table(
    "service_quotes",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("ticket_id", sa.Integer, sa.ForeignKey("tickets.id"), nullable=False),
    sa.Column("quoted_by", sa.Integer, sa.ForeignKey("people.id"), nullable=False),
    sa.Column("quoted_at", UtcDateTime(), nullable=False),
    sa.Column("amount_cents", sa.Integer, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("status", sa.String(12), nullable=False),  # open, then accepted or declined
    sa.Column("answered_at", UtcDateTime(), nullable=True),
    sa.Index(None, "ticket_id", "id"),
)

# ---- Announcements (公告): migration 0008 ------------------------------------------------------------

# A manager's announcement, from the first /announce (a draft) to its report: choosing -> writing -> ready ->
# sent (or cancelled). Sent from the CLI it has no author unless one is named.
announcements = sa.Table(
    "announcements",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("estate_id", sa.Integer, sa.ForeignKey("estates.id"), nullable=False),
    sa.Column("author_id", sa.Integer, sa.ForeignKey("people.id"), nullable=True),
    sa.Column("status", sa.String(12), nullable=False),
    # The audiences offered as buttons ("estate", "building:1", "vip"); a press names one by its place.
    sa.Column("choices", sa.JSON, nullable=False),
    sa.Column("audience", sa.String(120), nullable=True),
    sa.Column("text", sa.Text, nullable=True),
    sa.Column("preview_row", sa.Integer, nullable=True),  # the outbox row showing Send / Cancel
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("sent_at", UtcDateTime(), nullable=True),
    sa.Column("reported_at", UtcDateTime(), nullable=True),
    sa.Index(None, "author_id", "status"),
    sa.Index(None, "estate_id", "sent_at"),
)

# One row per recipient of a sent announcement, written with it; its outbox row says how delivery went
# (none: the person is not on Telegram yet).
announcement_deliveries = sa.Table(
    "announcement_deliveries",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("announcement_id", sa.Integer, sa.ForeignKey("announcements.id"), nullable=False),
    sa.Column("person_id", sa.Integer, sa.ForeignKey("people.id"), nullable=False),
    sa.Column("outbox_id", sa.Integer, sa.ForeignKey("outbox.id"), nullable=True),
    sa.UniqueConstraint("announcement_id", "person_id"),
)

# ---- Fee reminders (物业费催缴): migration 0009 -------------------------------------------------------

# What a unit owes for a period, from the billing spreadsheet (guanjia fees import), and how far its staged
# reminders have gone (bot/fees.py). Paid fees stay: the record of what was paid, when and marked by whom.
UNPAID = sa.text("paid_at IS NULL")
fees = sa.Table(
    "fees",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("estate_id", sa.Integer, sa.ForeignKey("estates.id"), nullable=False),
    sa.Column("unit", sa.String(50), nullable=False),
    sa.Column("period", sa.String(20), nullable=False),  # as the billing sheet names it: 2026-11, 2026Q4
    sa.Column("amount_cents", sa.Integer, nullable=False),
    sa.Column("due_on", sa.Date, nullable=False),  # the last day to pay, a day of the estate's calendar
    # The last stage sent (notice, reminder, final), when, and whether it reached the owner on Telegram.
    sa.Column("stage", sa.String(12), nullable=True),
    sa.Column("stage_at", UtcDateTime(), nullable=True),
    sa.Column("stage_reached", sa.Boolean, nullable=True),
    # The clock of the next stage. Only this clock may send anything; paying cancels it.
    sa.Column("clock_id", sa.Integer, sa.ForeignKey("clocks.id"), nullable=True),
    sa.Column("paid_at", UtcDateTime(), nullable=True),
    sa.Column("paid_by", sa.Integer, sa.ForeignKey("people.id"), nullable=True),  # None: the command line
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    sa.UniqueConstraint("estate_id", "unit", "period"),
    # /fees: the estate's unpaid fees by due date, without reading the paid history.
    sa.Index("ix_fees_unpaid_due", "estate_id", "due_on", sqlite_where=UNPAID, postgresql_where=UNPAID),
)
