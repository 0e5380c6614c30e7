"""The one source of time. Services ask the clock; tests and the demo move a manual one."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current moment, timezone-aware (UTC)."""
        ...

    def watch(self, on_jump: Callable[[], None]) -> None:
        """Call `on_jump` whenever time moves other than by running on (a manual clock moved)."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def watch(self, on_jump: Callable[[], None]) -> None:
        pass  # real time runs on by itself; the timekeeper's alarms follow it


class ManualClock:
    """A clock that only moves when told to: tests move time instead of sleeping."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("ManualClock needs a timezone-aware start")
        self._now = start.astimezone(UTC)
        self._watchers: list[Callable[[], None]] = []

    def now(self) -> datetime:
        return self._now

    def watch(self, on_jump: Callable[[], None]) -> None:
        self._watchers.append(on_jump)

    def advance(self, delta: timedelta) -> None:
        self.set(self._now + delta)

    def set(self, moment: datetime) -> None:
        self._now = moment.astimezone(UTC)
        for on_jump in self._watchers:
            on_jump()
