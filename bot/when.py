"""Reading a new committed time from a butler's reply: a leading time phrase, then the reason.

Examples: ``11-25 18:00 waiting for the spare part``, ``明天 15:00 等配件``, ``2d parts on order``.
Three kinds of phrase are tried in order: a relative duration, a date or day word (with an optional
time of day), and a bare time of day. No text starts with phrases of two kinds, so a phrase that one
reader recognises but finds impossible (``02-30``, ``明天 25点``) is never read by a later one instead.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

DEFAULT_HOUR = 18  # a date without a time of day means the end of that working day

_SEPARATORS = ",，;；:：-—"  # one of these may sit between the time phrase and the reason

# --- relative durations: 2d, +36h, 90m, 2 days, 3天, 2个小时, 30分钟后 ---
_DURATION = re.compile(
    r"\+?\s*(?P<amount>\d{1,5})\s*"  # five digits at most keeps the sum far from datetime's limits
    r"(?:(?P<unit>days?|d|hours?|hrs?|h|minutes?|mins?|m)(?![a-z0-9])"  # "2dx" or "2d3h" is no duration
    r"|(?P<cn_unit>天|个?小时|分钟)(?:以后|后)?)",
    re.IGNORECASE,
)
_UNITS = {
    "d": timedelta(days=1),
    "day": timedelta(days=1),
    "days": timedelta(days=1),
    "天": timedelta(days=1),
    "h": timedelta(hours=1),
    "hr": timedelta(hours=1),
    "hrs": timedelta(hours=1),
    "hour": timedelta(hours=1),
    "hours": timedelta(hours=1),
    "小时": timedelta(hours=1),
    "个小时": timedelta(hours=1),
    "m": timedelta(minutes=1),
    "min": timedelta(minutes=1),
    "mins": timedelta(minutes=1),
    "minute": timedelta(minutes=1),
    "minutes": timedelta(minutes=1),
    "分钟": timedelta(minutes=1),
}

# --- dates: 2026-11-25, 11-25, 2026/11/25, 11/25, 11月25日, 11月25号, 2026年11月25日 ---
_NUMERIC_DATE = re.compile(r"(?:(?P<year>\d{4})[-/])?(?P<month>\d{1,2})[-/](?P<day>\d{1,2})(?!\d)")
_CHINESE_DATE = re.compile(r"(?:(?P<year>\d{4})年)?(?P<month>\d{1,2})月(?P<day>\d{1,2})[日号]")
_DAY_WORD = re.compile(r"(?P<word>today|tomorrow|今天|明天|后天)(?![a-z])", re.IGNORECASE)
_DAY_OFFSETS = {"today": 0, "今天": 0, "tomorrow": 1, "明天": 1, "后天": 2}

# --- times of day: 18:00, 9:30, 3:30pm, 3pm, 11am, 3点, 3点半, 3点15分, 9时; 上午/下午/晚上 may lead ---
_LEAD = r"(?:at\s+)?(?:(?P<period>上午|下午|晚上)\s*)?"  # "at" so "tomorrow at 3pm" is not read as 18:00
_CLOCK = re.compile(
    _LEAD + r"(?P<hour>\d{1,2}):(?P<minute>\d{2})(?!\d)(?:\s*(?P<meridiem>am|pm)(?![a-z]))?", re.IGNORECASE
)
_MERIDIEM_HOUR = re.compile(_LEAD + r"(?P<hour>\d{1,2})\s*(?P<meridiem>am|pm)(?![a-z])", re.IGNORECASE)
_CHINESE_HOUR = re.compile(_LEAD + r"(?P<hour>\d{1,2})(?:点钟?|时)(?:(?P<half>半)|(?P<minute>\d{1,2})分?)?")
_TIME_FORMS = (_CLOCK, _MERIDIEM_HOUR, _CHINESE_HOUR)
_PERIOD = re.compile(r"上午|下午|晚上")


def read_new_time(text: str, now: datetime, zone: ZoneInfo) -> tuple[datetime, str] | None:
    """The moment a reply's leading time phrase names, in UTC, and the rest of the reply (the reason).

    ``now`` must be timezone-aware; dates and times of day are read as wall time in ``zone``. None when
    the text does not start with a time phrase understood here, or the phrase names an impossible date
    or time. The reason may be empty: whether that is acceptable is the caller's decision.
    """
    return _read(text, now, zone, exact=False)


def read_appointment(text: str, now: datetime, zone: ZoneInfo) -> tuple[datetime, str] | None:
    """Like read_new_time, but only an exact moment a resident books: ``11-25 10:00``, ``明天 15:00``,
    ``下午3点``, ``15:00``. A relative phrase (``2 hours please`` says as likely how long as when) and a
    day without a time of day (``明天`` means any time tomorrow) are not read: None, as for no time."""
    return _read(text, now, zone, exact=True)


def _read(text: str, now: datetime, zone: ZoneInfo, *, exact: bool) -> tuple[datetime, str] | None:
    if now.tzinfo is None:
        raise ValueError("reading a time needs a timezone-aware now")
    text = text.strip()
    clean = _normalized(text)  # full-width digits, colons and spaces, read like their ASCII forms
    try:
        found = (
            (None if exact else _read_duration(clean, now))
            or _read_dated(clean, now, zone, exact=exact)
            or _read_bare_time(clean, now, zone)
        )
        if found is None:
            return None
        moment, end = found
        return moment.astimezone(UTC), _reason(_after(text, end))
    except OverflowError:  # dates like 0001-01-01 or 9999-12-31 that fall off datetime's range
        return None


def _read_duration(text: str, now: datetime) -> tuple[datetime, int] | None:
    match = _DURATION.match(text)
    if match is None:
        return None
    unit = _UNITS[(match["unit"] or match["cn_unit"]).lower()]
    return now + int(match["amount"]) * unit, match.end()


def _read_dated(text: str, now: datetime, zone: ZoneInfo, *, exact: bool) -> tuple[datetime, int] | None:
    """A date or day word, then a time of day; unless `exact`, 18:00 when no time is given."""
    found = _read_date(text, now.astimezone(zone).date())
    if found is None:
        return None
    day, end = found
    rest = text[end:].lstrip()
    match = _match_time_of_day(rest)
    if match is None:
        if exact or _PERIOD.match(rest):
            return None  # "明天上午" without an hour: too vague to guess
        return _at(day, DEFAULT_HOUR, 0, zone), end
    clock = _clock_of(match)
    if clock is None:
        return None  # a time of day was given but cannot be: don't fall back to 18:00
    return _at(day, *clock, zone), len(text) - len(rest) + match.end()


def _read_date(text: str, today: date) -> tuple[date, int] | None:
    """The date a leading date phrase names and where the phrase ends; None if absent or impossible."""
    match = _DAY_WORD.match(text)
    if match is not None:
        return today + timedelta(days=_DAY_OFFSETS[match["word"].lower()]), match.end()
    match = _NUMERIC_DATE.match(text) or _CHINESE_DATE.match(text)
    if match is None:
        return None
    month, day = int(match["month"]), int(match["day"])
    if match["year"] is None:
        found = _upcoming(month, day, today)
    else:
        found = _valid_date(int(match["year"]), month, day)
    return None if found is None else (found, match.end())


def _upcoming(month: int, day: int, today: date) -> date | None:
    """A date given without a year: this year's if it is today or later, else next year's."""
    for year in (today.year, today.year + 1):
        candidate = _valid_date(year, month, day)
        if candidate is not None and candidate >= today:
            return candidate
    return None


def _valid_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _read_bare_time(text: str, now: datetime, zone: ZoneInfo) -> tuple[datetime, int] | None:
    """A time of day alone: today if that is still ahead, else tomorrow."""
    match = _match_time_of_day(text)
    if match is None:
        return None
    if match.re is _CHINESE_HOUR and match["period"] is None:
        return None  # a bare "3点" is as likely 15:00 as 03:00: better to ask than to guess
    clock = _clock_of(match)
    if clock is None:
        return None
    today = now.astimezone(zone).date()
    moment = _at(today, *clock, zone)
    if moment <= now:  # now's tzinfo differs from zone's, so this compares instants, not wall times
        moment = _at(today + timedelta(days=1), *clock, zone)
    return moment, match.end()


def _match_time_of_day(text: str) -> re.Match[str] | None:
    for form in _TIME_FORMS:
        match = form.match(text)
        if match is not None:
            return match
    return None


def _clock_of(match: re.Match[str]) -> tuple[int, int] | None:
    """Hour and minute of a matched time of day, on a 24-hour clock; None if impossible.

    The hour may come out as 24: 晚上12点 is the midnight that ends the evening, not noon.
    """
    groups = match.groupdict()
    hour = int(groups["hour"])
    minute = 30 if groups.get("half") else int(groups.get("minute") or 0)
    if hour > 23 or minute > 59:
        return None
    meridiem = (groups.get("meridiem") or "").lower()
    if meridiem:
        # English am/pm is a 12-hour clock: "15am", "13pm" and "0pm" are not times.
        if not 1 <= hour <= 12:
            return None
        return hour % 12 + (12 if meridiem == "pm" else 0), minute  # 12am is midnight, 12pm noon
    period = groups.get("period")
    if period == "上午" and hour > 12:
        return None  # "上午15点" contradicts itself
    if period in ("下午", "晚上"):
        if 1 <= hour <= 11:
            hour += 12
        elif hour == 12 and period == "晚上":
            hour = 24
    return hour, minute


def _at(day: date, hour: int, minute: int, zone: ZoneInfo) -> datetime:
    # Wall-clock arithmetic on an aware datetime, so hour 24 rolls into the next day and DST is honoured.
    return datetime.combine(day, time(), tzinfo=zone) + timedelta(hours=hour, minutes=minute)


def _normalized(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", char) for char in text)


def _after(text: str, consumed: int) -> str:
    """The part of the original text after the first `consumed` characters of its normalized form: the
    reason is kept exactly as typed (a full-width comma stays full-width)."""
    length = 0
    for index, char in enumerate(text):
        if length >= consumed:
            return text[index:]
        length += len(unicodedata.normalize("NFKC", char))
    return ""


def _reason(rest: str) -> str:
    rest = rest.strip()
    if rest and rest[0] in _SEPARATORS:
        rest = rest[1:].strip()
    return rest
