"""Durable intake end to end: updates are stored before they are acknowledged and handled from the
database once, in polling and in webhook mode."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from aiohttp import ClientSession

from bot.app import Settings, build_application, running
from bot.clock import ManualClock
from bot.config import Config
from bot.embedded import SANDBOX_TOKEN, EmbeddedEstate, embedded_estate, load_roster
from bot.pacing import UNPACED
from bot.sandbox import BotApiSandbox
from bot.serve import source_for
from bot.webhook import SECRET_HEADER, Webhook
from storage.database import Database
from storage.schema import ticket_events, tickets, updates
from tests.conftest import ROSTER, Cast
from tests.e2e.records import refuse_first_store

PUBLIC_URL = "https://bot.example.com/telegram"


def zhangs_message(update_id: int, message_id: int, text: str) -> dict[str, Any]:
    zhang = {"id": 1101, "is_bot": False, "first_name": "Zhang", "language_code": "en"}
    return {
        "update_id": update_id,
        "message": {
            "message_id": message_id,
            "date": 1763600000,
            "chat": {"id": 1101, "type": "private", "first_name": "Zhang"},
            "from": zhang,
            "text": text,
        },
    }


async def stored_updates(db: Database) -> list[Any]:
    async with db.read() as conn:
        return list((await conn.execute(sa.select(updates).order_by(updates.c.update_id))).all())


async def ticket_count(db: Database) -> tuple[int, int]:
    async with db.read() as conn:
        opened = (await conn.execute(sa.select(sa.func.count()).select_from(tickets))).scalar_one()
        events = (await conn.execute(sa.select(sa.func.count()).select_from(ticket_events))).scalar_one()
    return opened, events


async def test_an_update_stored_but_not_handled_when_the_bot_stopped_is_handled_at_the_next_start_once(
    tmp_path: Path, clock: ManualClock
) -> None:
    async with BotApiSandbox(token=SANDBOX_TOKEN) as sandbox:
        zhang, a1 = sandbox.user(1101, "Zhang"), sandbox.user(101, "A1")
        async with embedded_estate(tmp_path, ROSTER, clock, sandbox=sandbox) as first_run:
            await first_run.settled()
        # The bot stored an update and died before handling it: as if, here, by the test's hand.
        db = await Database.open(tmp_path / "guanjia.db")
        async with db.begin() as conn:
            await conn.execute(
                updates.insert().values(
                    update_id=41,
                    received_at=clock.now(),
                    status="received",
                    payload=zhangs_message(41, 1, "Kitchen tap dripping"),
                )
            )
        await db.close()

        async with embedded_estate(tmp_path, None, clock, sandbox=sandbox) as second_run:
            card = await a1.wait_for("New ticket #1001")
            await zhang.wait_for("#1001")
            await second_run.settled()
        async with embedded_estate(tmp_path, None, clock, sandbox=sandbox) as third_run:
            await third_run.settled()
            [row] = await stored_updates(third_run.db)
            assert await ticket_count(third_run.db) == (1, 2)  # created, assigned
    assert "Kitchen tap dripping" in card.content
    assert (row.status, row.payload) == ("handled", None)
    assert len(a1.inbox) == 1 and len(zhang.inbox) == 1


async def test_an_update_telegram_sends_again_is_not_handled_again(
    estate: EmbeddedEstate, cast: Cast
) -> None:
    await cast.zhang.send_text("Kitchen tap dripping")
    await cast.a1.wait_for("New ticket #1001")
    await estate.settled()
    [first] = await stored_updates(estate.db)
    # The acknowledgement was lost on the way: Telegram hands out the same update again.
    again = zhangs_message(first.update_id, 1, "Kitchen tap dripping")
    await estate.sandbox.push_raw_update(again)
    await cast.zhang.send_text("And the sink too")
    await cast.a1.wait_for("And the sink too")
    await estate.settled()
    assert await ticket_count(estate.db) == (1, 3)  # created, assigned, the follow-up
    assert [m.content.split("\n")[0] for m in cast.a1.inbox] == [
        "New ticket #1001 · inquiry",
        "#1001 · 1-101 Owner Zhang: And the sink too",
    ]


async def test_malformed_updates_change_nothing_and_the_next_good_one_is_served(
    estate: EmbeddedEstate, cast: Cast
) -> None:
    bad_id = zhangs_message(0, 1, "Lift broken")
    bad_id["message"]["chat"]["id"] = "1101"
    for raw in (bad_id, {"message": "not an object"}, {"edited_message": {"message_id": 1}}, [1, 2]):
        await estate.sandbox.push_raw_update(raw)
    await cast.zhang.send_text("Kitchen tap dripping")
    await cast.a1.wait_for("New ticket #1001")
    await estate.settled()
    assert await ticket_count(estate.db) == (1, 2)
    statuses = [row.status for row in await stored_updates(estate.db)]
    assert statuses == ["rejected", "rejected", "rejected", "handled"]


async def webhook_estate(tmp_path: Path, clock: ManualClock, sandbox: BotApiSandbox) -> Settings:
    db = await Database.open(tmp_path / "guanjia.db")
    await load_roster(db, ROSTER, Config(), clock)
    await db.close()
    return Settings(
        token=SANDBOX_TOKEN,
        db_path=tmp_path / "guanjia.db",
        api_url=sandbox.api_url,
        clock=clock,
        send_limits=UNPACED,
    )


async def test_webhook_mode_serves_residents_and_refuses_requests_without_the_secret(
    tmp_path: Path, clock: ManualClock
) -> None:
    async with BotApiSandbox(token=SANDBOX_TOKEN) as sandbox:
        settings = await webhook_estate(tmp_path, clock, sandbox)
        zhang, a1 = sandbox.user(1101, "Zhang"), sandbox.user(101, "A1")
        application = build_application(settings)
        async with running(application, source_for(PUBLIC_URL, "127.0.0.1:0")) as source:
            assert isinstance(source, Webhook) and source.port
            local = f"http://127.0.0.1:{source.port}/telegram"
            sandbox.route_webhook(PUBLIC_URL, local)
            assert sandbox.webhook is not None and sandbox.webhook["url"] == PUBLIC_URL

            await zhang.send_text("Kitchen tap dripping")
            card = await a1.wait_for("New ticket #1001")
            await a1.press(card, "Accept")
            await zhang.wait_for("accepted by your butler")

            # Anyone else who finds the address gets 403 and changes nothing.
            forged = json.dumps(zhangs_message(9000, 99, "Forged request"))
            async with ClientSession() as http:
                for headers in ({}, {SECRET_HEADER: "guess"}, {SECRET_HEADER: ""}):
                    async with http.post(local, data=forged, headers=headers) as reply:
                        assert reply.status == 403
                async with http.get(local) as reply:
                    assert reply.status == 405
            kept = await stored_updates(application.bot_data["runtime"].db)
        assert [row.update_id for row in kept] == [1, 2]
        assert all(attempt.status == 200 for attempt in sandbox.webhook_attempts)


async def test_webhook_answers_200_only_once_the_update_is_stored(
    tmp_path: Path, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    refused = refuse_first_store(monkeypatch)
    async with BotApiSandbox(token=SANDBOX_TOKEN) as sandbox:
        settings = await webhook_estate(tmp_path, clock, sandbox)
        zhang, a1 = sandbox.user(1101, "Zhang"), sandbox.user(101, "A1")
        async with running(build_application(settings), source_for(PUBLIC_URL, "127.0.0.1:0")) as source:
            assert isinstance(source, Webhook)
            sandbox.route_webhook(PUBLIC_URL, f"http://127.0.0.1:{source.port}/telegram")
            await zhang.send_text("Kitchen tap dripping")
            await a1.wait_for("New ticket #1001")
        # Refused with a 500 while it could not be stored; Telegram sent it again and it was taken once.
        assert [attempt.status for attempt in sandbox.webhook_attempts] == [500, 200] and refused == [1]
        assert len(a1.inbox) == 1
