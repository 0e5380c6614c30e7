"""Faults injected on demand into the sandbox's answers to the bot.

A test arms a fault through ``sandbox.faults``; the next matching bot request gets the fault
instead of (or after) its normal handling::

    sandbox.faults.too_many_requests(3, method="sendMessage", chat_id=1001)  # 429, retry_after=3
    sandbox.faults.server_error(502, times=2)                 # the next two calls (any method)
    sandbox.faults.timeout(1.0, performed=True)               # delivered, but answered too late
    sandbox.faults.drop_connection(method="sendPhoto")        # TCP closed, no HTTP answer
    sandbox.faults.fired                                      # what fired, when, for which call

Matching: ``method`` None means any method except getUpdates (pass ``include_get_updates=True``
to include it, or name it); ``chat_id`` None means any chat, else the request's chat_id must equal
it. A fault fires ``times`` times (None: until removed), and faults are tried in the order they
were added, the first match firing. ``performed=True`` (5xx, timeout, dropped connection) runs the
call for real first, so the message is delivered although the bot is told otherwise: the
ambiguous failure a real network produces.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from bot.sandbox.errors import ApiError, too_many_requests
from bot.sandbox.transport import CANONICAL


class FaultKind(enum.StrEnum):
    TOO_MANY_REQUESTS = "429"  # ok=false, error_code 429, parameters.retry_after
    SERVER_ERROR = "5xx"  # ok=false with a 5xx error_code
    TIMEOUT = "timeout"  # the answer comes only after ``delay`` seconds
    DROP = "drop"  # the TCP connection is closed without an HTTP answer


@dataclass(eq=False)
class Fault:
    """One armed fault; ``fired`` counts how often it fired so far."""

    kind: FaultKind
    method: str | None = None
    chat_id: int | None = None
    times: int | None = 1
    include_get_updates: bool = False
    retry_after: int = 1
    status: int = 502
    delay: float = 1.0
    performed: bool = False
    fired: int = 0

    @property
    def spent(self) -> bool:
        return self.times is not None and self.fired >= self.times

    def matches(self, method: str, params: dict[str, Any]) -> bool:
        if self.method is None:
            if method == "getUpdates" and not self.include_get_updates:
                return False
        elif self.method != method:
            return False
        return self.chat_id is None or params.get("chat_id") == self.chat_id

    def error(self) -> ApiError:
        """The error body the bot gets (timeouts that were not performed end in a 504)."""
        if self.kind is FaultKind.TOO_MANY_REQUESTS:
            return too_many_requests(self.retry_after)
        status = self.status if self.kind is FaultKind.SERVER_ERROR else 504
        return ApiError(status, HTTPStatus(status).phrase)


@dataclass(frozen=True)
class FiredFault:
    """A fault firing: on which request, and the loop time the request arrived."""

    fault: Fault
    method: str
    chat_id: int | str | None
    at: float


class Faults:
    """The armed faults of one sandbox, and the record of those that fired."""

    def __init__(self) -> None:
        self._armed: list[Fault] = []
        self.fired: list[FiredFault] = []

    @property
    def armed(self) -> list[Fault]:
        """Faults that can still fire, in the order they are tried."""
        return list(self._armed)

    def too_many_requests(
        self,
        retry_after: int = 1,
        *,
        method: str | None = None,
        chat_id: int | None = None,
        times: int | None = 1,
        include_get_updates: bool = False,
    ) -> Fault:
        """429 "Too Many Requests: retry after N" with parameters.retry_after = N (whole seconds)."""
        if retry_after < 1:
            raise ValueError("retry_after is a positive number of seconds")
        fault = Fault(FaultKind.TOO_MANY_REQUESTS, retry_after=retry_after)
        return self._arm(fault, method, chat_id, times, include_get_updates)

    def server_error(
        self,
        status: int = 502,
        *,
        performed: bool = False,
        method: str | None = None,
        chat_id: int | None = None,
        times: int | None = 1,
        include_get_updates: bool = False,
    ) -> Fault:
        """A 5xx answer such as {"ok":false,"error_code":502,"description":"Bad Gateway"}."""
        if not 500 <= status <= 599 or status not in set(HTTPStatus):
            raise ValueError(f"{status} is not a known 5xx status")
        fault = Fault(FaultKind.SERVER_ERROR, status=status, performed=performed)
        return self._arm(fault, method, chat_id, times, include_get_updates)

    def timeout(
        self,
        delay: float = 1.0,
        *,
        performed: bool = False,
        method: str | None = None,
        chat_id: int | None = None,
        times: int | None = 1,
        include_get_updates: bool = False,
    ) -> Fault:
        """Answer only after ``delay`` seconds (make it longer than the client's read timeout).

        performed=True: the call takes effect at once and its normal answer comes late.
        performed=False: nothing happens, and the late answer is 504 Gateway Timeout.
        """
        if delay <= 0:
            raise ValueError("delay must be positive")
        fault = Fault(FaultKind.TIMEOUT, delay=delay, performed=performed)
        return self._arm(fault, method, chat_id, times, include_get_updates)

    def drop_connection(
        self,
        *,
        performed: bool = False,
        method: str | None = None,
        chat_id: int | None = None,
        times: int | None = 1,
        include_get_updates: bool = False,
    ) -> Fault:
        """Close the TCP connection without any HTTP answer (after performing the call, if asked)."""
        fault = Fault(FaultKind.DROP, performed=performed)
        return self._arm(fault, method, chat_id, times, include_get_updates)

    def remove(self, fault: Fault) -> None:
        """Disarm ``fault`` (a no-op once it has fired its ``times``)."""
        if fault in self._armed:
            self._armed.remove(fault)

    def clear(self) -> None:
        """Disarm every fault (the record of fired ones stays)."""
        self._armed.clear()

    def take(self, method: str, params: dict[str, Any], at: float) -> Fault | None:
        """The fault this request gets, if any, counted as fired."""
        fault = next((f for f in self._armed if f.matches(method, params)), None)
        if fault is not None:
            fault.fired += 1
            self.fired.append(FiredFault(fault, method, params.get("chat_id"), at))
            if fault.spent:
                self._armed.remove(fault)
        return fault

    def _arm(
        self,
        fault: Fault,
        method: str | None,
        chat_id: int | None,
        times: int | None,
        include_get_updates: bool,
    ) -> Fault:
        if method is not None:
            canonical = CANONICAL.get(method.lower())
            if canonical is None:
                raise ValueError(f"the sandbox serves no method {method!r}")
            method = canonical
        if times is not None and times < 1:
            raise ValueError("times must be at least 1 (or None for until removed)")
        fault.method, fault.chat_id, fault.times = method, chat_id, times
        fault.include_get_updates = include_get_updates
        self._armed.append(fault)
        return fault
