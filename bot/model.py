"""The service model's nouns: people, tickets and what a resident sends. No Telegram types here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Role(StrEnum):
    OWNER = "owner"  # 业主
    RESIDENT = "resident"  # 住户: lives in an owner's unit
    BUTLER = "butler"  # 管家
    MANAGER = "manager"  # 项目经理 / 客服主管

    @property
    def is_household(self) -> bool:
        return self in (Role.OWNER, Role.RESIDENT)


class Category(StrEnum):
    REPAIR = "repair"  # 报修
    COMPLAINT = "complaint"  # 投诉
    INQUIRY = "inquiry"  # 咨询
    SERVICE = "service"  # 特约服务
    SUGGESTION = "suggestion"  # 建议
    EMERGENCY = "emergency"  # 紧急


class TicketState(StrEnum):
    NEW = "new"  # assigned, not yet accepted by the butler
    ACCEPTED = "accepted"  # the butler is on it
    RESOLVED = "resolved"  # the butler says done; waiting for the resident to confirm
    CLOSED = "closed"  # the resident confirmed


OPEN_STATES = (TicketState.NEW, TicketState.ACCEPTED, TicketState.RESOLVED)
# Someone owes work on it. Resolved and waiting for the resident is not late, so it is not in hand.
IN_HAND_STATES = (TicketState.NEW, TicketState.ACCEPTED)


@dataclass(frozen=True)
class Person:
    id: int
    estate_id: int
    role: Role
    name: str
    team_id: int | None
    unit: str | None
    telegram_id: int | None
    phone: str | None
    language: str
    vip: bool
    on_duty: bool
    active: bool = True  # False once dropped from the roster: kept for history, never asked to act
    unreachable: bool = False  # Telegram refuses messages to them (403: they blocked the bot)


@dataclass(frozen=True)
class Ticket:
    id: int
    estate_id: int
    number: int
    requester_id: int
    owner_id: int
    team_id: int
    butler_id: int | None
    category: Category
    state: TicketState
    summary: str
    created_at: datetime
    due_at: datetime
    accepted_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    last_activity_at: datetime
    reopen_count: int
    rating: int | None
    rating_comment: str | None
    overdue_at: datetime | None = None
    return_visit_at: datetime | None = None
    return_visit_by: str | None = None

    @property
    def in_hand(self) -> bool:
        return self.state in IN_HAND_STATES

    def is_overdue(self, now: datetime) -> bool:
        """The same definition as storage.tickets.is_overdue, for a ticket already in hand here."""
        return self.in_hand and (self.due_at < now or self.overdue_at is not None)


# Kinds whose copy can carry a caption (a location or sticker cannot).
CAPTIONED_KINDS = ("photo", "video", "voice", "audio", "document")


@dataclass(frozen=True)
class Incoming:
    """One message a person sent: its words and, for media, where it lives in their chat.

    Media is never stored or re-uploaded: the bot copies it from (chat_id, message_id), so nobody's
    account is exposed and nothing needs downloading.
    """

    kind: str
    chat_id: int
    message_id: int
    had_buttons: bool = True  # a press forged onto a message without buttons leaves nothing to retire
    text: str = ""  # the text, or the media's caption
    file_id: str | None = None  # kept in the event log so the media stays traceable
    reply_to_message_id: int | None = None
    location: tuple[float, float] | None = None  # latitude, longitude of a shared location

    @property
    def is_media(self) -> bool:
        return self.kind != "text"


class Outcome(StrEnum):
    """What became of a button press; the person pressing it is told in a short answer."""

    DONE = "done"
    NOT_YOURS = "not_yours"
    ALREADY = "already"  # the ticket has moved on since the button was shown
    ALREADY_PAID = "already_paid"  # a fee marked paid before (bot/fees.py)
    # For what is not a ticket (an order, an announcement, a fee): the same answers without the word.
    NOT_FOR_YOU = "not_for_you"
    SETTLED = "settled"  # sent, cancelled or answered already: the button no longer applies
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class PressedOn:
    """The message whose button was pressed, so its buttons can be retired."""

    chat_id: int
    message_id: int
    had_buttons: bool = True  # a press forged onto a message without buttons leaves nothing to retire
