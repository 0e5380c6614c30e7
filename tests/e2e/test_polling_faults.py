"""Long polling through faults: whatever goes wrong while fetching or storing, no update is acknowledged
before it is stored, and none is lost."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from bot.embedded import EmbeddedEstate
from storage.schema import updates
from tests.conftest import Cast
from tests.e2e.records import refuse_first_store


async def test_get_updates_failing_in_every_way_loses_nothing(estate: EmbeddedEstate, cast: Cast) -> None:
    faults = estate.sandbox.faults
    faults.server_error(502, method="getUpdates")
    faults.too_many_requests(1, method="getUpdates")
    faults.drop_connection(method="getUpdates")
    await cast.zhang.send_text("Kitchen tap dripping")
    await cast.sun.send_text("电梯按钮坏了")
    await cast.a1.wait_for("New ticket #1001")
    await cast.a1.wait_for("New ticket #1002")
    await estate.settled()
    assert [fault.fired for fault in faults.armed] == [] and len(faults.fired) == 3


async def test_a_batch_the_database_would_not_take_is_fetched_again(
    estate: EmbeddedEstate, cast: Cast, monkeypatch: pytest.MonkeyPatch
) -> None:
    refused = refuse_first_store(monkeypatch)
    await cast.zhang.send_text("Kitchen tap dripping")
    await cast.a1.wait_for("New ticket #1001")
    await estate.settled()
    assert refused == [1]
    # The only way it got into the table after that refusal: Telegram handed it out again.
    async with estate.db.read() as conn:
        kept = (await conn.execute(sa.select(updates.c.update_id, updates.c.status))).all()
    assert [tuple(row) for row in kept] == [(1, "handled")]
