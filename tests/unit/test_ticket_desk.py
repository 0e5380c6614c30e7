"""The ticket desk's decisions, with no Telegram at all: state, events and outbox rows in one transaction."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from bot.clock import ManualClock
from bot.config import Config, ServiceLevels
from bot.model import Incoming, Outcome, Person, PressedOn, TicketState
from bot.services import Services
from bot.tickets import TicketDesk
from storage import people as people_queries
from storage.database import Database
from storage.schema import outbox, ticket_events, tickets

NOWHERE = PressedOn(chat_id=0, message_id=0)


@pytest.fixture
def desk(rostered_db: Database, clock: ManualClock) -> TicketDesk:
    return Services.assemble(rostered_db, clock, Config()).desk


async def _person(db: Database, telegram_id: int) -> Person:
    async with db.engine.connect() as conn:
        person = await people_queries.person_by_telegram_id(conn, telegram_id)
    assert person is not None
    return person


def _text(person: Person, text: str, message_id: int = 1, reply_to: int | None = None) -> Incoming:
    assert person.telegram_id is not None
    return Incoming("text", person.telegram_id, message_id, text=text, reply_to_message_id=reply_to)


async def _outbox(db: Database) -> list[tuple[int, str, dict[str, Any]]]:
    async with db.engine.connect() as conn:
        rows = await conn.execute(
            sa.select(outbox.c.chat_id, outbox.c.kind, outbox.c.payload).order_by(outbox.c.id)
        )
        return [(row.chat_id, row.kind, row.payload) for row in rows]


async def _events(db: Database) -> list[str]:
    async with db.engine.connect() as conn:
        return list(
            (await conn.execute(sa.select(ticket_events.c.kind).order_by(ticket_events.c.id))).scalars()
        )


async def test_opening_writes_ticket_events_and_messages_together(
    desk: TicketDesk, rostered_db: Database, clock: ManualClock
) -> None:
    zhang = await _person(rostered_db, 1101)
    ticket = await desk.take_message(zhang, _text(zhang, "Bathroom light broken"))
    assert ticket is not None
    assert (ticket.number, ticket.category, ticket.state) == (1001, "repair", TicketState.NEW)
    assert ticket.due_at == clock.now() + timedelta(days=2)
    a1 = await _person(rostered_db, 101)
    assert ticket.butler_id == a1.id
    assert await _events(rostered_db) == ["created", "assigned"]
    sent = await _outbox(rostered_db)
    assert [(chat, kind) for chat, kind, _ in sent] == [(1101, "send_text"), (101, "send_text")]
    assert sent[1][2]["buttons"] == [
        [{"label": "Accept", "action": "accept:1"}, {"label": "Resolved", "action": "resolve:1"}]
    ]


async def test_emergencies_get_the_shorter_commitment(
    desk: TicketDesk, rostered_db: Database, clock: ManualClock
) -> None:
    zhang = await _person(rostered_db, 1101)
    ticket = await desk.take_message(zhang, _text(zhang, "Gas leak! I smell gas in the kitchen"))
    assert ticket is not None
    assert ticket.category == "emergency"
    assert ticket.due_at == clock.now() + timedelta(hours=4)


async def test_the_state_machine(desk: TicketDesk, rostered_db: Database) -> None:
    zhang, a1, a2 = [await _person(rostered_db, i) for i in (1101, 101, 102)]
    ticket = await desk.take_message(zhang, _text(zhang, "Door lock broken"))
    assert ticket is not None

    assert await desk.accept(a2, ticket.id, NOWHERE) == Outcome.NOT_YOURS
    assert await desk.confirm(zhang, ticket.id, NOWHERE) == Outcome.ALREADY  # not resolved yet
    assert await desk.accept(a1, ticket.id, NOWHERE) == Outcome.DONE
    assert await desk.accept(a1, ticket.id, NOWHERE) == Outcome.ALREADY
    assert await desk.resolve(a1, ticket.id, NOWHERE) == Outcome.DONE
    assert await desk.rate(zhang, ticket.id, 5, NOWHERE) == Outcome.ALREADY  # not confirmed yet
    assert await desk.reopen(zhang, ticket.id, NOWHERE) == Outcome.DONE
    assert await desk.resolve(a1, ticket.id, NOWHERE) == Outcome.DONE
    assert await desk.confirm(zhang, ticket.id, NOWHERE) == Outcome.DONE
    assert await desk.reopen(zhang, ticket.id, NOWHERE) == Outcome.ALREADY
    assert await desk.rate(zhang, ticket.id, 0, NOWHERE) == Outcome.ALREADY
    assert await desk.rate(zhang, ticket.id, 3, NOWHERE) == Outcome.DONE
    assert await desk.rate(zhang, ticket.id, 5, NOWHERE) == Outcome.ALREADY  # rated once only
    assert await desk.accept(a1, 999, NOWHERE) == Outcome.UNKNOWN

    async with rostered_db.engine.connect() as conn:
        row = (await conn.execute(sa.select(tickets))).one()
    assert (row.state, row.rating, row.reopen_count) == ("closed", 3, 1)
    assert await _events(rostered_db) == [
        "created",
        "assigned",
        "accepted",
        "resolved",
        "reopened",
        "second_service",
        "resolved",
        "confirmed",
        "rated",
    ]


async def test_someone_elses_ticket_is_out_of_reach(desk: TicketDesk, rostered_db: Database) -> None:
    zhang, wu, b1 = [await _person(rostered_db, i) for i in (1101, 3601, 201)]
    ticket = await desk.take_message(zhang, _text(zhang, "Broken window"))
    assert ticket is not None
    assert await desk.resolve(b1, ticket.id, NOWHERE) == Outcome.NOT_YOURS
    assert await desk.confirm(wu, ticket.id, NOWHERE) == Outcome.NOT_YOURS
    assert await desk.rate(wu, ticket.id, 1, NOWHERE) == Outcome.NOT_YOURS


async def test_a_failed_decision_leaves_nothing_behind(
    desk: TicketDesk, rostered_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    zhang = await _person(rostered_db, 1101)

    async def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr("storage.tickets.add_event", broken)
    with pytest.raises(RuntimeError):
        await desk.take_message(zhang, _text(zhang, "Leaking pipe"))
    async with rostered_db.engine.connect() as conn:
        assert (await conn.execute(sa.select(sa.func.count()).select_from(tickets))).scalar() == 0
    assert await _outbox(rostered_db) == []


async def test_follow_up_window_is_configurable(rostered_db: Database, clock: ManualClock) -> None:
    config = Config(sla=ServiceLevels(followup_window=timedelta(minutes=5)))
    desk = Services.assemble(rostered_db, clock, config).desk
    zhang = await _person(rostered_db, 1101)
    first = await desk.take_message(zhang, _text(zhang, "Noise from the pump room", 1))
    assert first is not None
    clock.advance(timedelta(minutes=4))
    joined = await desk.take_message(zhang, _text(zhang, "still noisy", 3))
    assert joined is not None and joined.id == first.id
    clock.advance(timedelta(minutes=6))
    other = await desk.take_message(zhang, _text(zhang, "another thing", 5))
    assert other is not None and other.id != first.id
