"""Residents sending, and a stopwatch on what arrives: the load `guanjia bench` puts on a bot.

Every message a resident sends carries a mark (`#R17`, `#F17`, `#E17`) that the bot repeats in what it
sends on: the request's text on the butler's card, a follow-up's text in its relay, the echo itself.
The sandbox tells the Watch when it hands an update to the bot and when each bot message arrives, on
the sandbox's own clock, so a latency is exactly "handed out" to "arrived", all work of the bot between.
"""

from __future__ import annotations

import asyncio
import random
import re
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from benchmarks.processes import BotProcess
from bot.sandbox import BotApiSandbox
from bot.sandbox.models import ChatMessage

MARK = re.compile(r"#[A-Z]\d+")
WAIT_SECONDS = 120.0


@dataclass
class Watch:
    """When each marked message was handed out, and when and where the bot's messages arrived."""

    staff: frozenset[int]
    handed_out_at: dict[str, float] = field(default_factory=dict)
    to_staff_at: dict[str, float] = field(default_factory=dict)  # mark -> first arrival in a staff chat
    to_sender_at: dict[str, float] = field(default_factory=dict)  # mark -> first message back to its sender
    answers: dict[str, ChatMessage] = field(default_factory=dict)  # mark -> that message
    _awaiting: dict[int, str] = field(default_factory=dict)  # a resident's chat -> the mark they last sent

    def handed_out(self, payloads: list[Any]) -> None:
        now = asyncio.get_running_loop().time()
        for payload in payloads:
            text = payload.get("message", {}).get("text", "") if isinstance(payload, dict) else ""
            found = MARK.search(text)
            if found:
                self.handed_out_at.setdefault(found.group(0), now)

    def delivered(self, chat_id: int, message: ChatMessage) -> None:
        now = asyncio.get_running_loop().time()
        if chat_id in self.staff:
            for mark in MARK.findall(message.content):
                self.to_staff_at.setdefault(mark, now)
        elif chat_id in self._awaiting:
            mark = self._awaiting[chat_id]
            if any(other != mark for other in MARK.findall(message.content)):
                return  # about something else (an announcement), not the answer
            del self._awaiting[chat_id]
            self.to_sender_at[mark] = now
            self.answers[mark] = message

    def sent(self, chat_id: int, mark: str) -> None:
        self._awaiting[chat_id] = mark


@dataclass(frozen=True)
class Sent:
    resident: int
    mark: str
    text: str
    reply_to: ChatMessage | None = None


@dataclass(frozen=True)
class Figures:
    """What one load produced: how many, how fast, how long each took."""

    count: int
    seconds: float
    latencies_ms: list[float]
    bot_cpu_seconds: float = 0.0  # the bot process's CPU time while it was under this load
    driver_cpu_seconds: float = 0.0  # this process's: the sandbox and the people writing

    def cpu_ms_each(self) -> tuple[float, float]:
        """CPU milliseconds per message: the bot's, and the sandbox's with the people's."""
        return 1000 * self.bot_cpu_seconds / self.count, 1000 * self.driver_cpu_seconds / self.count

    @property
    def per_second(self) -> float:
        return self.count / self.seconds if self.seconds > 0 else float("inf")

    def percentile(self, share: float) -> float:
        ordered = sorted(self.latencies_ms)
        if len(ordered) < 2:
            return ordered[0] if ordered else float("nan")
        return statistics.quantiles(ordered, n=1000, method="inclusive")[round(share * 1000) - 1]


async def send(sandbox: BotApiSandbox, watch: Watch, message: Sent) -> None:
    watch.sent(message.resident, message.mark)
    await sandbox.user(message.resident).send_text(message.text, reply_to=message.reply_to)


async def burst(sandbox: BotApiSandbox, watch: Watch, messages: Sequence[Sent]) -> None:
    """All at once: the bot takes them as fast as it can."""
    for message in messages:
        await send(sandbox, watch, message)


async def steady(
    sandbox: BotApiSandbox, watch: Watch, messages: Sequence[Sent], per_second: float, seed: int = 7
) -> None:
    """At `per_second` on average, arriving at random as people do (a Poisson process)."""
    rng = random.Random(seed)
    loop = asyncio.get_running_loop()
    at = loop.time()
    for message in messages:
        at += rng.expovariate(per_second)
        await asyncio.sleep(max(0.0, at - loop.time()))
        await send(sandbox, watch, message)


async def until_arrived(
    watch: Watch,
    marks: Sequence[str],
    arrived: Callable[[Watch, str], float | None],
    timeout: float = WAIT_SECONDS,
) -> list[float]:
    """Wait until every mark has arrived; returns the arrival times."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        times = [arrived(watch, mark) for mark in marks]
        if all(t is not None for t in times):
            return [t for t in times if t is not None]
        if loop.time() > deadline:
            missing = sum(1 for t in times if t is None)
            raise RuntimeError(f"{missing} of {len(marks)} messages never arrived within {timeout:.0f}s")
        await asyncio.sleep(0.02)


def card_and_answer(watch: Watch, mark: str) -> float | None:
    """A new request is served when its card reached a butler and its sender was answered."""
    card, answer = watch.to_staff_at.get(mark), watch.to_sender_at.get(mark)
    return None if card is None or answer is None else max(card, answer)


def relayed(watch: Watch, mark: str) -> float | None:
    return watch.to_staff_at.get(mark)


def echoed(watch: Watch, mark: str) -> float | None:
    return watch.to_sender_at.get(mark)


async def measure(
    sandbox: BotApiSandbox,
    watch: Watch,
    messages: Sequence[Sent],
    arrived: Callable[[Watch, str], float | None],
    per_second: float | None = None,
    bot: BotProcess | None = None,
) -> Figures:
    """Send `messages` (a burst, or steadily at `per_second`) and time them until all have arrived;
    with `bot`, the CPU time it and this process used meanwhile."""
    bot_cpu, driver_cpu = bot.cpu_seconds() if bot else 0.0, time.process_time()
    if per_second is None:
        await burst(sandbox, watch, messages)
    else:
        await steady(sandbox, watch, messages, per_second)
    marks = [m.mark for m in messages]
    done = await until_arrived(watch, marks, arrived)
    started = [watch.handed_out_at[mark] for mark in marks]
    # The latency is to the butler's card or relay (or, for the echo, to the echo itself).
    reached = [watch.to_staff_at.get(mark, end) for mark, end in zip(marks, done, strict=True)]
    latencies = [(end - start) * 1000 for start, end in zip(started, reached, strict=True)]
    return Figures(
        len(marks),
        max(done) - min(started),
        latencies,
        bot_cpu_seconds=bot.cpu_seconds() - bot_cpu if bot else 0.0,
        driver_cpu_seconds=time.process_time() - driver_cpu,
    )
