"""Fuzzing the intake: thousands of malformed, truncated, oversized, wrongly typed and unexpected updates,
with good ones in between. The bot never stops, never stores garbage, and keeps serving."""

from __future__ import annotations

import copy
import itertools
from typing import Any

import sqlalchemy as sa
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from bot import well_formed
from bot.embedded import EmbeddedEstate
from bot.runtime import Runtime
from storage.schema import outbox, people, ticket_events, tickets, updates
from tests.conftest import Cast

ZHANG, A1, MANAGER, STRANGER = 1101, 101, 900, 666
TURNS = itertools.count()
SENDERS = (ZHANG, A1, MANAGER, STRANGER)
VERBS = ("accept", "resolve", "confirm", "reopen", "rate", "postpone", "approve", "refuse", "visit", "take")

json_leaves = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)  # JSON has neither
    | st.text(max_size=40)
)
json_values = st.recursive(
    json_leaves,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)


def user(telegram_id: int) -> dict[str, Any]:
    return {"id": telegram_id, "is_bot": False, "first_name": f"U{telegram_id}", "language_code": "en"}


def message(telegram_id: int, text: str, message_id: int = 900_001) -> dict[str, Any]:
    return {
        "message_id": message_id,
        "date": 1763600000,
        "chat": {"id": telegram_id, "type": "private", "first_name": f"U{telegram_id}"},
        "from": user(telegram_id),
        "text": text,
    }


def places(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every key path inside a JSON object, for a mutation to pick one."""
    found: list[tuple[Any, ...]] = []
    if isinstance(value, dict):
        for key, inner in value.items():
            found.append((*path, key))
            found.extend(places(inner, (*path, key)))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            found.append((*path, index))
            found.extend(places(inner, (*path, index)))
    return found


@st.composite
def mutated_update(draw: st.DrawFn) -> Any:
    """A real-looking update from someone on the roster, then broken in one or two ways."""
    sender = draw(st.sampled_from(SENDERS))
    kind = draw(st.sampled_from(["message", "edited_message", "callback_query"]))
    body: dict[str, Any]
    if kind == "callback_query":
        body = {
            "id": str(draw(st.integers(1, 10**9))),
            "from": user(sender),
            "chat_instance": "42",
            "data": draw(st.text(max_size=20)),
            "message": message(sender, "card", message_id=1),
        }
    else:
        body = message(sender, draw(st.text(max_size=60)))
        if draw(st.booleans()):
            body["reply_to_message"] = message(sender, "earlier", message_id=1)
    update: dict[str, Any] = {"update_id": 0, kind: body}
    for _ in range(draw(st.integers(1, 2))):
        spots = places(update)
        spot = draw(st.sampled_from(spots))
        *parents, key = spot
        container: Any = update
        for step in parents:
            container = container[step]
        how = draw(st.sampled_from(["drop", "replace", "oversize", "unknown_kind", "truncate"]))
        if how == "drop" and isinstance(container, dict):
            container.pop(key, None)
        elif how == "replace":
            container[key] = draw(json_values)
        elif how == "oversize":
            container[key] = "长" * draw(st.integers(well_formed.MAX_TEXT + 1, well_formed.MAX_TEXT * 3))
        elif how == "unknown_kind":
            update[draw(st.sampled_from(["poll", "chat_member", "my_chat_member", "inline_query", "x"]))] = {}
        elif how == "truncate" and isinstance(container[key], str):
            container[key] = container[key][: len(container[key]) // 2]
    return update


def forged_press(sender: int, data: str) -> dict[str, Any]:
    return {
        "callback_query": {
            "id": "77",
            "from": user(sender),
            "chat_instance": "42",
            "data": data,
            "message": message(sender, "card", message_id=1),
        }
    }


garbage = st.one_of(
    json_values,  # not even an update
    mutated_update(),
    mutated_update(),
    mutated_update(),
    # Well formed, but a press no one should be able to make: a stranger's, or on tickets that do not exist.
    st.builds(
        forged_press,
        st.sampled_from(SENDERS),
        st.builds(
            "{}:{}{}".format,
            st.sampled_from(VERBS),
            st.integers(10_000, 2**70),
            st.sampled_from(["", ":1", ":5", ":x", ":-1"]),
        ),
    ),
    # A stranger writing anything at all.
    st.builds(lambda text: {"message": message(STRANGER, text)}, st.text(max_size=200)),
)


def garbage_only(batch: list[Any]) -> list[Any]:
    """Mutation sometimes leaves an update whole; those are not garbage and are left out."""
    kept = []
    for raw in batch:
        probe = copy.deepcopy(raw)
        if isinstance(probe, dict):
            probe.setdefault("update_id", 1)
        from_a_stranger = isinstance(probe, dict) and "message" in probe and _from(probe) == STRANGER
        if well_formed.flaw(probe) is not None or from_a_stranger or "callback_query" in probe:
            kept.append(raw)
    return kept


def _from(update: dict[str, Any]) -> Any:
    body = update.get("message")
    return (
        body.get("from", {}).get("id")
        if isinstance(body, dict) and isinstance(body.get("from"), dict)
        else None
    )


async def snapshot(estate: EmbeddedEstate) -> tuple[int, int, int]:
    async with estate.db.read() as conn:
        count = sa.select(sa.func.count())
        opened = (await conn.execute(count.select_from(tickets))).scalar_one()
        events = (await conn.execute(count.select_from(ticket_events))).scalar_one()
        roster = (
            await conn.execute(count.select_from(people).where(people.c.telegram_id.is_not(None)))
        ).scalar_one()
    return opened, events, roster


async def nothing_ill_typed(estate: EmbeddedEstate) -> None:
    """What the bot stored is of the types its tables promise: the garbage stayed out."""
    checks = [
        (ticket_events, "chat_id"),
        (ticket_events, "message_id"),
        (outbox, "chat_id"),
        (tickets, "number"),
        (updates, "update_id"),
    ]
    async with estate.db.read() as conn:
        for table, column in checks:
            kinds = (
                await conn.execute(sa.select(sa.func.typeof(table.c[column])).distinct().select_from(table))
            ).scalars()
            assert set(kinds) <= {"integer", "null"}, f"{table.name}.{column}"
        texts = (
            await conn.execute(
                sa.select(sa.func.json_type(ticket_events.c.detail, "$.text"))
                .distinct()
                .select_from(ticket_events)
            )
        ).scalars()
        assert set(texts) <= {"text", None}


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
    derandomize=True,  # the same thousands every run: a failure here is a bug, not bad luck
    phases=[Phase.explicit, Phase.generate],  # a failing batch is shown whole: shrinking one takes minutes
)
@given(batch=st.lists(garbage, min_size=25, max_size=45))
async def test_garbage_never_crashes_the_bot_never_gets_stored_and_good_requests_still_get_through(
    estate: EmbeddedEstate, cast: Cast, batch: list[Any]
) -> None:
    runtime: Runtime = estate.application.bot_data["runtime"]
    before = await snapshot(estate)
    for raw in garbage_only(batch):
        await estate.sandbox.push_raw_update(raw)
    # Good requests take turns among the households, each well under the flood limit of 20 an hour.
    households = [(cast.zhang, cast.a1), (cast.sun, cast.a1), (cast.chen, cast.b1), (cast.wu, cast.b1)]
    turn = next(TURNS)
    writer, butler = households[turn % len(households)]
    marker = f"Good request {turn} after {len(batch)} bad ones"
    await writer.send_text(marker)
    await butler.wait_for(lambda m: marker in m.content)
    await estate.settled()

    opened, events, roster = await snapshot(estate)
    # A new ticket (created, assigned) or a follow-up on it: nothing more came of the garbage.
    assert (events - before[1], roster) in ((2, before[2]), (1, before[2]))
    assert opened - before[0] == (1 if events - before[1] == 2 else 0)
    await nothing_ill_typed(estate)
    assert runtime.intake.idle
    async with estate.db.read() as conn:
        failed = (
            await conn.execute(sa.select(updates.c.update_id).where(updates.c.status == "failed"))
        ).all()
    assert failed == [], "a handler raised on one of them"
    # The bot tried to answer the forged presses; their query ids were never Telegram's, so the API
    # refuses those answers. Anything else it refused would be a bug.
    refused = estate.sandbox.rejections
    assert [call for call in refused if call[0] != "answerCallbackQuery"] == []
    refused.clear()
