"""Telegram's limits on: an announcement to thousands, and the service going on beside it.

The sandbox answers 429 as Telegram does when a bot sends two messages to one chat within a second
or more than 30 in a second (bot/sandbox/limits.py); the bot paces itself as in production. The
announcement is queued the way a manager's `guanjia announce --yes` queues it, while residents keep
sending requests, whose cards must not wait behind it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from benchmarks.estate import OWNERS_PER_TEAM, Estate
from benchmarks.load import Figures, Sent, Watch, card_and_answer, measure
from benchmarks.processes import bot_process
from bot.announcements import announce_on_command_line
from bot.clock import SystemClock
from bot.sandbox import BotApiSandbox
from bot.sandbox.limits import TelegramLimits
from bot.sandbox.models import ChatMessage

MARK = "#A1"
TEXT = f"{MARK} 停水通知：本周六 9:00–12:00 小区二次供水设备检修，请提前储水。"
BESIDE_PER_SECOND = 1.0
SLOWEST_RATE = 20.0  # messages a second: how long to wait for the whole announcement before giving up


@dataclass(frozen=True)
class AnnouncementRun:
    recipients: int
    seconds: float  # from the first copy delivered to the last
    refused_per_chat: int  # sends the sandbox refused: a second message to one chat within a second
    refused_overall: int  # sends refused: more than 30 in a second
    beside: Figures  # requests sent meanwhile: their cards' latency

    @property
    def per_second(self) -> float:
        return (self.recipients - 1) / self.seconds if self.seconds > 0 else float("inf")


class Copies:
    """Counts the copies of the announcement as they arrive."""

    def __init__(self) -> None:
        self.times: list[float] = []

    def handed_out(self, payloads: list[object]) -> None:
        pass

    def delivered(self, chat_id: int, message: ChatMessage) -> None:
        if MARK in message.content:
            self.times.append(asyncio.get_running_loop().time())


async def announce_with_limits(
    sandbox: BotApiSandbox, estate: Estate, workdir: Path, token: str, beside: int
) -> AnnouncementRun:
    db = workdir / "announce.db"
    limits = TelegramLimits()
    sandbox.limits = limits
    copies, watch = Copies(), Watch(frozenset(estate.staff))
    sandbox.watch(copies)
    sandbox.watch(watch)
    args = ["--db", str(db), "--telegram-limits"]
    try:
        async with bot_process(
            "Guanjia (paced)", "benchmarks.bot_process", args, sandbox, token, workdir / "paced.log"
        ):
            queued = await announce_on_command_line(
                db, TEXT, "estate", estate=None, author_name=None, send=True, clock=SystemClock()
            )
            recipients = queued.reach.on_telegram
            # From owners of different teams: one butler gets at most one card a second from Telegram, so
            # requests all to one team would measure that rule, not the bot.
            owners = [household.people[0] for household in estate.households[::OWNERS_PER_TEAM]]
            requests = [Sent(r, f"#B{n}", f"#B{n} 门口路灯不亮了") for n, r in enumerate(owners[:beside])]
            served = await measure(sandbox, watch, requests, card_and_answer, BESIDE_PER_SECOND)
            await _until(lambda: len(copies.times) >= recipients, recipients / SLOWEST_RATE + 30)
    finally:
        sandbox.unwatch(copies)
        sandbox.unwatch(watch)
        sandbox.limits = None
    return AnnouncementRun(
        recipients=recipients,
        seconds=copies.times[-1] - copies.times[0],
        refused_per_chat=limits.refused_per_chat,
        refused_overall=limits.refused_overall,
        beside=served,
    )


async def _until(done: Callable[[], bool], timeout: float) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not done():
        if loop.time() > deadline:
            raise RuntimeError(f"the announcement was not delivered within {timeout:.0f}s")
        await asyncio.sleep(0.1)
