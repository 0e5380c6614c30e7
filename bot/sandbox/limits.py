"""Telegram's sending limits, enforced the way the real Telegram does: an optional sandbox mode.

Telegram lets a bot send about 30 messages a second over all its chats together, and no more
than about one message a second to any one private chat. A bot that goes faster gets HTTP 429::

    {"ok": false, "error_code": 429, "description": "Too Many Requests: retry after 3",
     "parameters": {"retry_after": 3}}

and the message is not sent; retry_after is a whole number of seconds, at least 1.

The sandbox does this only when asked: ``BotApiSandbox.limits`` is None by default, so tests see
a 429 only when they inject one (bot.sandbox.faults). Switch the mode on or off at any time::

    sandbox.limits = TelegramLimits()          # one a second per chat, 30 a second overall
    ...
    sandbox.limits.refused_per_chat, sandbox.limits.refused_overall   # 429s given, by reason
    sandbox.limits = None

Only SEND_METHODS are limited (a new message put into a chat); edits, deletions, callback
answers, getUpdates, setMyCommands and the rest never are. Only sends that took effect count
towards the limits: neither a send refused here nor one that failed otherwise (e.g. 403, the
user blocked the bot) uses up a slot. The windows are those calllog measures: two accepted sends
to one chat are at least ``per_chat_seconds`` apart (min_gap), and no span shorter than one
second holds more than ``per_second`` accepted sends (max_in_window). The sandbox has only
private chats, so Telegram's slower limit for groups is not modelled.
"""

from __future__ import annotations

import bisect
import contextlib
import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from bot.sandbox.calllog import SEND_METHODS
from bot.sandbox.errors import too_many_requests

WINDOW = 1.0  # seconds: the span ``per_second`` is counted over


@dataclass(frozen=True)
class Admission:
    """A send let through and counted at ``at``; TelegramLimits.cancel it if it did not take effect."""

    chat_id: int | str | None
    at: float
    previous: float | None  # the chat's last counted send before this one


class TelegramLimits:
    """Decides whether a send is within Telegram's limits, and counts the sends let through.

    ``per_chat_seconds``: the shortest time between two messages to one chat (default 1.0).
    ``per_second``: the most messages in any one-second window, all chats together (default 30).
    ``clock``: the time the limits go by, for tests that move time by hand; by default the
    request's arrival time (the event loop's clock) is used.
    Bookkeeping is O(1) per request: the overall window holds at most ``per_second`` times, and
    each chat keeps only its last send.
    """

    def __init__(
        self,
        per_chat_seconds: float = 1.0,
        per_second: int = 30,
        *,
        clock: Callable[[], float] | None = None,
    ) -> None:
        if per_chat_seconds < 0:
            raise ValueError("per_chat_seconds must not be negative")
        if per_second < 1:
            raise ValueError("per_second must be at least 1")
        self.per_chat_seconds = per_chat_seconds
        self.per_second = per_second
        self.refused_per_chat = 0  # 429s for a chat sent to within per_chat_seconds
        self.refused_overall = 0  # 429s for more than per_second sends within a second
        self._clock = clock
        self._recent: deque[float] = deque()  # counted sends of the last second, oldest first
        self._last: dict[int | str, float] = {}  # each chat's last counted send

    def __repr__(self) -> str:
        return (
            f"TelegramLimits(per_chat_seconds={self.per_chat_seconds}, per_second={self.per_second}, "
            f"refused_per_chat={self.refused_per_chat}, refused_overall={self.refused_overall})"
        )

    @property
    def refused(self) -> int:
        """Every 429 given so far, whatever the reason."""
        return self.refused_per_chat + self.refused_overall

    def admit(self, method: str, chat_id: int | str | None, at: float) -> Admission | None:
        """Let a request arriving at ``at`` through, or raise the 429 Telegram would answer.

        None for a method that is not limited. A send within the limits is counted at once (so
        sends in flight together cannot both take the last slot) and its Admission returned:
        ``cancel`` it if the send then did not take effect. A refused send is counted by reason
        (a chat sent to too soon counts as per chat, even if the overall limit is reached too)
        and its retry_after is the whole seconds, rounded up and at least 1, until both limits
        would let it through.
        """
        if method not in SEND_METHODS:
            return None
        now = at if self._clock is None else self._clock()
        recent = self._recent
        while recent and now - recent[0] >= WINDOW:
            recent.popleft()
        previous = None if chat_id is None else self._last.get(chat_id)
        chat_wait = 0.0 if previous is None else previous + self.per_chat_seconds - now
        overall_wait = recent[-self.per_second] + WINDOW - now if len(recent) >= self.per_second else 0.0
        if chat_wait > 0:
            self.refused_per_chat += 1
        elif overall_wait > 0:
            self.refused_overall += 1
        else:
            bisect.insort(recent, now)  # arrivals may be checked slightly out of order
            if chat_id is not None:
                self._last[chat_id] = now
            return Admission(chat_id, now, previous)
        raise too_many_requests(max(1, math.ceil(max(chat_wait, overall_wait))))

    def cancel(self, admission: Admission) -> None:
        """Un-count an admitted send that did not take effect (refused by the API, faulted, ...)."""
        with contextlib.suppress(ValueError):  # unless already out of the window
            self._recent.remove(admission.at)
        chat_id = admission.chat_id
        if chat_id is None or self._last.get(chat_id) != admission.at:
            return
        if admission.previous is None:
            del self._last[chat_id]
        else:
            self._last[chat_id] = admission.previous
