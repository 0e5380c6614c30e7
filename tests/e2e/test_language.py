"""/language: each person chooses the language the bot writes to them in, dates and money included."""

from __future__ import annotations

import sqlalchemy as sa

from bot.clock import ManualClock
from bot.config import Config
from bot.embedded import EmbeddedEstate, load_roster
from bot.sandbox.models import ChatMessage
from storage.schema import people
from tests.conftest import ROSTER, Cast

OWNER_MENU = ["my", "services", "language", "help"]


async def language_of(estate: EmbeddedEstate, telegram_id: int) -> str:
    async with estate.db.engine.connect() as conn:
        found = await conn.execute(sa.select(people.c.language).where(people.c.telegram_id == telegram_id))
        return str(found.scalar_one())


def labels(message: ChatMessage) -> list[str]:
    return [label for row in message.buttons for label, _ in row]


def menu(estate: EmbeddedEstate, chat_id: int) -> list[tuple[str, str]]:
    return [(c["command"], c["description"]) for c in estate.sandbox.commands[f"chat:{chat_id}"]]


async def test_an_owner_switches_to_chinese_and_everything_follows(
    estate: EmbeddedEstate, cast: Cast, clock: ManualClock
) -> None:
    await cast.zhang.send_command("/language")
    choice = await cast.zhang.wait_for("Which language")
    assert choice.text == "I write to you in English. Which language would you like?"
    assert labels(choice) == ["简体中文", "English"]
    await cast.zhang.press(choice, "简体中文")
    assert (await cast.zhang.wait_for("好的")).text == (
        "好的，今后将用简体中文与您沟通，日期、时间和金额也按中文习惯显示。"
    )
    await estate.settled()
    assert cast.zhang.inbox[-2].buttons == []  # the choice is made: its buttons are gone
    assert await language_of(estate, 1101) == "zh"
    assert [command for command, _ in menu(estate, 1101)] == OWNER_MENU
    assert dict(menu(estate, 1101))["my"] == "我的工单"

    # The next request is answered in Chinese, its times in the Chinese way; the butler's stays English.
    await cast.zhang.send_text("厨房水龙头坏了")
    opened = await cast.zhang.wait_for("#1001")
    assert opened.text is not None and "11月22日 09:00" in opened.text
    card = await cast.a1.wait_for("New ticket #1001")
    assert card.text is not None and "22 Nov 09:00" in card.text


async def test_typed_choices_and_a_language_not_offered(estate: EmbeddedEstate, cast: Cast) -> None:
    await cast.sun.send_command("/language", "English")
    assert (await cast.sun.wait_for("From now on")).text == (
        "From now on I will write to you in English, with dates, times and amounts as English readers"
        " expect them."
    )
    assert await language_of(estate, 1302) == "en"
    await cast.sun.send_command("/language", "中文")
    await cast.sun.wait_for("好的")
    assert await language_of(estate, 1302) == "zh"

    await cast.a1.send_command("/language", "fr")
    refused = await cast.a1.wait_for("only write")
    assert refused.text == (
        "Sorry, I only write in 简体中文 or English.\n"
        "I write to you in English. Which language would you like?"
    )
    assert labels(refused) == ["简体中文", "English"]
    assert await language_of(estate, 101) == "en"


async def test_a_choice_outlives_the_next_roster_import(
    estate: EmbeddedEstate, cast: Cast, clock: ManualClock
) -> None:
    await cast.manager.send_command("/language", "zh")
    await cast.manager.wait_for("好的")
    await load_roster(estate.db, ROSTER, Config(), clock)  # the file still says en for the manager
    assert await language_of(estate, 900) == "zh"
    # The file still decides for everyone who has not chosen: a change there takes effect.
    await load_roster(
        estate.db, ROSTER.replace("Butler B2,B,,202,,en", "Butler B2,B,,202,,zh"), Config(), clock
    )
    assert await language_of(estate, 202) == "zh"


async def test_pressing_someone_elses_choice_or_a_forged_one_changes_nothing(
    estate: EmbeddedEstate, cast: Cast
) -> None:
    await cast.stranger.send_command("/start")
    await cast.stranger.wait_for("")
    await cast.zhang.send_command("/language")
    choice = await cast.zhang.wait_for("Which language")
    await cast.stranger.press_data(choice, "language:zh")
    await cast.zhang.press_data(choice, "language:fr")
    await estate.settled()
    assert await language_of(estate, 1101) == "en"
    assert [answer["text"] for answer in cast.stranger.callback_answers][-1:] == [
        "This is not yours to change; nothing was changed"
    ]
    assert cast.zhang.callback_answers[-1]["text"] == "This button no longer works"
