"""Stretches of the estate's calendar that figures are counted over: yesterday, a week, a month.

A span is whole local days in the estate's timezone, held as the UTC moments [start, end) that queries
compare against. Local midnight is not UTC midnight: a ticket opened at 23:50 in Shanghai belongs to
that Shanghai day, whatever the UTC date says.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

WEEK_DAYS = 7
MONTH_DAYS = 30
LONGEST_SPAN_DAYS = 366
YEARS = range(2000, 2101)  # any date a manager means; beyond, date arithmetic would overflow


class SpanError(ValueError):
    """What a person asked for is not a span we can count over; the message says why."""


@dataclass(frozen=True)
class Span:
    first_day: date
    last_day: date  # inclusive
    zone: ZoneInfo

    @classmethod
    def day(cls, day: date, zone: ZoneInfo) -> Span:
        return cls(day, day, zone)

    @classmethod
    def ending(cls, last_day: date, days: int, zone: ZoneInfo) -> Span:
        """`days` whole days ending with `last_day`."""
        return cls(last_day - timedelta(days=days - 1), last_day, zone)

    @property
    def start(self) -> datetime:
        return local_midnight(self.first_day, self.zone)

    @property
    def end(self) -> datetime:
        return local_midnight(self.last_day + timedelta(days=1), self.zone)

    @property
    def day_count(self) -> int:
        return (self.last_day - self.first_day).days + 1

    def days(self) -> list[Span]:
        """Each day of the span as a span of its own, oldest first."""
        return [Span.day(self.first_day + timedelta(days=i), self.zone) for i in range(self.day_count)]


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    """The UTC moment a local calendar day begins."""
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def local_today(now: datetime, zone: ZoneInfo) -> date:
    return now.astimezone(zone).date()


_DAY = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")


def read_day(text: str) -> date:
    match = _DAY.match(text.strip())
    if match is None:
        raise SpanError(f"{text!r} is not a date like 2026-11-20")
    try:
        day = date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError as error:
        raise SpanError(f"{text!r} is not a date on the calendar") from error
    if day.year not in YEARS:
        raise SpanError(f"{text!r} is too far from today")
    return day


def between(first: date, last: date, zone: ZoneInfo) -> Span:
    if last < first:
        raise SpanError("the span ends before it begins")
    if (last - first).days + 1 > LONGEST_SPAN_DAYS:
        raise SpanError(f"a span is at most {LONGEST_SPAN_DAYS} days")
    return Span(first, last, zone)


def read_span(words: list[str], today: date, zone: ZoneInfo, *, default: str = "week") -> Span:
    """The span a manager asked for, in whole days that have ended.

    `day` is yesterday; `week` and `month` are the 7 and 30 days up to yesterday; `2026-11` is that
    calendar month (up to yesterday if it is this month); two dates are that span, both days included.
    """
    yesterday = today - timedelta(days=1)
    if not words:
        words = [default]
    if len(words) == 2:
        return between(read_day(words[0]), read_day(words[1]), zone)
    if len(words) > 2:
        raise SpanError("too many words")
    word = words[0].strip().lower()
    if word in ("day", "yesterday", "昨天", "日"):
        return Span.day(yesterday, zone)
    if word in ("week", "周"):
        return Span.ending(yesterday, WEEK_DAYS, zone)
    if word in ("month", "月"):
        return Span.ending(yesterday, MONTH_DAYS, zone)
    month = _MONTH.match(word)
    if month is not None:
        year, number = int(month.group(1)), int(month.group(2))
        if not 1 <= number <= 12 or year not in YEARS:
            raise SpanError(f"{word!r} is not a month like 2026-11")
        first = date(year, number, 1)
        following = date(year + number // 12, number % 12 + 1, 1)
        return between(first, min(following - timedelta(days=1), yesterday), zone)
    day = read_day(word)
    return Span.day(day, zone)
