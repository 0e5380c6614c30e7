"""Clocks survive a restart: what came due while the bot was down fires once at start-up, in order."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa

from bot.clock import ManualClock
from bot.embedded import SANDBOX_TOKEN, embedded_estate
from bot.sandbox import BotApiSandbox
from storage.schema import clocks, ticket_events, tickets
from tests.conftest import ROSTER


async def test_clocks_due_while_the_bot_was_down_fire_once_at_start_up_in_order(
    tmp_path: Path, clock: ManualClock
) -> None:
    async with BotApiSandbox(token=SANDBOX_TOKEN) as sandbox:
        zhang, wu = sandbox.user(1101, "Zhang"), sandbox.user(3601, "Wu")
        a1, a2, b1, b2 = (sandbox.user(i, n) for i, n in ((101, "A1"), (102, "A2"), (201, "B1"), (202, "B2")))
        for user_id, name in ((103, "A3"), (900, "Liu")):
            sandbox.user(user_id, name)
        async with embedded_estate(tmp_path, ROSTER, clock, sandbox=sandbox) as first_run:
            await wu.send_text("Door lock broken")
            await b1.wait_for("New ticket #1001")
            clock.advance(timedelta(minutes=1))
            await zhang.send_text("Kitchen tap dripping")
            await a1.wait_for("New ticket #1002")
            await first_run.settled()

        # Down for ten minutes: both three-minute clocks come due, Wu's first.
        clock.advance(timedelta(minutes=10))
        assert a2.inbox == [] and b2.inbox == []

        async with embedded_estate(tmp_path, None, clock, sandbox=sandbox) as second_run:
            await b2.wait_for("Passed on to you")
            await a2.wait_for("Passed on to you")
            await second_run.settled()
            async with second_run.db.engine.connect() as conn:
                hops = (
                    await conn.execute(
                        sa.select(tickets.c.number, ticket_events.c.detail)
                        .join(tickets, tickets.c.id == ticket_events.c.ticket_id)
                        .where(ticket_events.c.kind == "escalated")
                        .order_by(ticket_events.c.id)
                    )
                ).all()
                fired = (
                    await conn.execute(
                        sa.select(clocks.c.ticket_id, clocks.c.status).where(clocks.c.kind == "accept")
                    )
                ).all()
        # Restarted again at once: nothing fires a second time.
        async with embedded_estate(tmp_path, None, clock, sandbox=sandbox) as third_run:
            await third_run.settled()

    assert [(number, detail["from"], detail["to"]) for number, detail in hops] == [
        (1001, "Butler B1", "Butler B2"),
        (1002, "Butler A1", "Butler A2"),
    ]
    # Each ticket: its first clock fired, a new one for the next butler is waiting.
    assert sorted(fired) == [(1, "fired"), (1, "pending"), (2, "fired"), (2, "pending")]
    assert len([m for m in b2.inbox if "Passed on to you" in m.content]) == 1
    assert len([m for m in a2.inbox if "Passed on to you" in m.content]) == 1
    assert sum("Butler B2 is now taking care of it" in m.content for m in wu.inbox) == 1
