"""A timed log of the bot's requests, for asserting pacing and outcomes.

Each request gets a CallRecord stamped with the event loop's time when it arrived, so tests can
check Telegram's limits::

    sends = sandbox.call_log.sends(chat_id=1001)
    assert min_gap(sends) >= 1.0                               # one message a second per chat
    assert max_in_window(sandbox.call_log.sends(), 1.0) <= 30   # about 30 a second overall
"""

from __future__ import annotations

import itertools
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.sandbox.faults import Fault

# Methods that put a new message into a chat: what Telegram's per-chat and global limits count.
SEND_METHODS = frozenset(
    {
        "sendMessage",
        "sendPhoto",
        "sendDocument",
        "sendVoice",
        "sendLocation",
        "copyMessage",
        "forwardMessage",
    }
)


@dataclass(eq=False)
class CallRecord:
    """One bot request as the sandbox saw it."""

    method: str
    at: float  # loop.time() when the request arrived
    params: dict[str, Any] = field(default_factory=dict)
    status: int | None = None  # HTTP status answered; None while in progress or when the connection dropped
    description: str | None = None  # the error's description when ok=false
    performed: bool = False  # the call took effect (e.g. the message was delivered)
    fault: Fault | None = None
    parameters: dict[str, Any] | None = None  # the error's ResponseParameters, e.g. {"retry_after": 3}
    done_at: float | None = None  # loop.time() when the answer was written (or the connection dropped)

    @property
    def chat_id(self) -> int | str | None:
        value = self.params.get("chat_id")
        return value if isinstance(value, int | str) else None

    @property
    def ok(self) -> bool:
        """The bot was told the call succeeded (a faulted call never counts, even if performed)."""
        return self.status == 200 and self.fault is None

    @property
    def retry_after(self) -> int | None:
        """parameters.retry_after of a 429 answer (an injected fault or the Telegram limits)."""
        if self.status != 429 or self.parameters is None:
            return None
        value = self.parameters.get("retry_after")
        return value if isinstance(value, int) else None


class CallLog(list[CallRecord]):
    """Every bot request in arrival order (getUpdates included)."""

    def of(self, *methods: str) -> list[CallRecord]:
        return [r for r in self if r.method in methods]

    def sends(self, chat_id: int | None = None, methods: Collection[str] = SEND_METHODS) -> list[CallRecord]:
        """Send attempts (any outcome), to one chat or to all."""
        return [r for r in self if r.method in methods and (chat_id is None or r.chat_id == chat_id)]


def min_gap(records: Sequence[CallRecord]) -> float:
    """The shortest time between two consecutive records' arrivals (inf for fewer than two)."""
    times = sorted(r.at for r in records)
    return min((b - a for a, b in itertools.pairwise(times)), default=float("inf"))


def max_in_window(records: Sequence[CallRecord], window: float = 1.0) -> int:
    """The most records that arrived within any span shorter than ``window`` seconds."""
    times = sorted(r.at for r in records)
    best, start = 0, 0
    for end, at in enumerate(times):
        while at - times[start] >= window:
            start += 1
        best = max(best, end - start + 1)
    return best
