"""Pacing the outbox: when the next message to a chat may go, by Telegram's limits and by its answers.

Telegram allows a bot about 30 messages a second overall and one a second in a private chat, and says
"retry after N seconds" (429) when a bot goes faster. python-telegram-bot's rate limiter keeps only the
overall limit, so the outbox sender asks this instead, before every send. Time here is the event loop's
monotonic clock, never the business Clock: tests freeze that one, and a limit is about real seconds.
"""

from __future__ import annotations

import asyncio
import random
import warnings
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from telegram.error import RetryAfter
from telegram.warnings import PTBDeprecationWarning


@dataclass(frozen=True)
class SendLimits:
    per_chat_seconds: float = 1.0  # at most one message a second to one chat
    per_second: int | None = 30  # at most this many messages in any one second, all chats together
    # Sends on their way at once, each to a different chat: at ~100 ms a round trip, one at a time
    # could never reach 30 a second.
    in_flight: int = 8
    # Telegram counts messages as they arrive, and one request can take a few milliseconds longer on
    # the way than the next: both limits are kept with this much time to spare.
    margin: float = 0.05


# The embedded bot and the tests talk to a local sandbox that imposes no limits: no waiting between
# messages, and one at a time, so messages arrive in exactly the order they were queued.
UNPACED = SendLimits(per_chat_seconds=0.0, per_second=None, in_flight=1, margin=0.0)

# Telegram's limits switched off, as the benchmark runs against the sandbox (`guanjia bench`): each
# chat's messages still go one at a time and in order, several chats side by side.
UNLIMITED = SendLimits(per_chat_seconds=0.0, per_second=None, margin=0.0)

# A 429 says nothing of whether it holds for one chat or for the whole bot. Telegram's limits in a
# private chat are per chat, so a 429 holds back the chat it came for, exactly as long as it says. But
# when several different chats are told to wait within a second, the bot as a whole is going too
# fast: then every chat waits, rather than each spending a request to learn the same thing.
FLOOD_CHATS = 3
FLOOD_WINDOW_SECONDS = 1.0


class Pacing:
    def __init__(self, limits: SendLimits | None = None, time: Callable[[], float] | None = None) -> None:
        self.limits = limits or SendLimits()
        self._time = time
        self._next_for_chat: dict[int, float] = {}  # chat id -> when it may have its next message
        self._sent: deque[float] = deque()  # when each of the last second's messages went
        self._all_held_until = 0.0
        self._told_to_wait: deque[tuple[float, int]] = deque()  # recent 429s: when, which chat
        self._tokens = float(max(1, (self.limits.per_second or 0) // 10))  # messages that may go at once
        self._tokens_at = float("-inf")

    @classmethod
    def unpaced(cls, time: Callable[[], float] | None = None) -> Pacing:
        return cls(UNPACED, time)

    def now(self) -> float:
        return self._time() if self._time is not None else asyncio.get_running_loop().time()

    def wait_for(self, chat_id: int) -> float:
        """Seconds until a message to `chat_id` may go; 0 if it may go now."""
        now = self.now()
        return max(0.0, self._next_for_chat.get(chat_id, 0.0) - now, self._overall_until(now) - now)

    def wait_for_any(self) -> float:
        """Seconds until a message to any chat may go, by the limits on the bot as a whole."""
        now = self.now()
        return max(0.0, self._overall_until(now) - now)

    def _overall_until(self, now: float) -> float:
        until = self._all_held_until
        per_second = self.limits.per_second
        if per_second is not None:
            window = 1.0 + self.limits.margin
            while self._sent and self._sent[0] <= now - window:
                self._sent.popleft()
            if len(self._sent) >= per_second:
                until = max(until, self._sent[-per_second] + window)
            # Spread out as well, a few at a time (a token bucket): thirty at once and then a second of
            # nothing kept a ticket's card that came just after the burst waiting for the next second
            # (p50 0.6 s beside an announcement), and bursts straddling Telegram's own seconds were
            # refused (429). The few let a timer that fired late catch up.
            self._refill(now)
            if self._tokens < 1.0:
                until = max(until, now + (1.0 - self._tokens) * window / per_second)
        return until

    def _refill(self, now: float) -> None:
        per_second = self.limits.per_second
        assert per_second is not None
        rate = per_second / (1.0 + self.limits.margin)
        burst = max(1, per_second // 10)
        self._tokens = min(burst, self._tokens + (now - self._tokens_at) * rate)
        self._tokens_at = now

    def sending(self, chat_id: int) -> None:
        """A message to `chat_id` goes now (wait_for said it may)."""
        now = self.now()
        if self.limits.per_second is not None:
            self._sent.append(now)
            self._refill(now)
            self._tokens -= 1.0
        if self.limits.per_chat_seconds > 0:
            self._hold_chat(chat_id, now + self.limits.per_chat_seconds + self.limits.margin)
        # Forget chats whose time has come, so the table stays as small as the chats now waiting.
        if len(self._next_for_chat) > 1000:
            self._next_for_chat = {chat: t for chat, t in self._next_for_chat.items() if t > now}

    def hold(self, chat_id: int, seconds: float) -> None:
        """Nothing more to `chat_id` for `seconds` (a retry's backoff, a row waiting for another)."""
        self._hold_chat(chat_id, self.now() + seconds)

    def told_to_wait(self, chat_id: int, seconds: float) -> None:
        """Telegram answered 429 with retry_after `seconds` for a message to `chat_id`."""
        now = self.now()
        self._hold_chat(chat_id, now + seconds)
        self._told_to_wait.append((now, chat_id))
        while self._told_to_wait and self._told_to_wait[0][0] <= now - FLOOD_WINDOW_SECONDS:
            self._told_to_wait.popleft()
        if len({chat for _, chat in self._told_to_wait}) >= FLOOD_CHATS:
            self._all_held_until = max(self._all_held_until, now + seconds)

    def _hold_chat(self, chat_id: int, until: float) -> None:
        # A hold only ever lengthens: a backoff never cuts short a retry_after still running.
        if until > self._next_for_chat.get(chat_id, 0.0):
            self._next_for_chat[chat_id] = until


@dataclass(frozen=True)
class Backoff:
    """How long to wait before trying a failed message again: doubling from `first` up to `cap`."""

    first: float = 0.5
    cap: float = 60.0
    jitter: float = 0.2  # up to this share shorter, so chats that failed together retry apart

    def seconds(self, failures: int, rng: Callable[[], float] = random.random) -> float:
        """The wait after the `failures`-th failure in a row (1 for the first)."""
        full = min(self.cap, self.first * 2.0 ** min(max(failures - 1, 0), 30))
        return full * (1.0 - self.jitter * rng())


def retry_after_seconds(error: RetryAfter) -> float:
    """How long Telegram said to wait (429), in seconds."""
    # PTB 22 warns that retry_after will become a timedelta; accept either, without the warning.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)
