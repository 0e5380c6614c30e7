"""Reading a butler's new committed time and reason: durations, dates, day words, times of day."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.when import DEFAULT_HOUR, read_new_time

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 20, 9, 0, tzinfo=SHANGHAI).astimezone(UTC)  # a Friday morning


def local(year: int, month: int, day: int, hour: int = DEFAULT_HOUR, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI).astimezone(UTC)


def read(text: str) -> tuple[datetime, str] | None:
    return read_new_time(text, NOW, SHANGHAI)


@pytest.mark.parametrize(
    ("text", "moment", "reason"),
    [
        ("2d parts on order", NOW + timedelta(days=2), "parts on order"),
        ("+2d parts on order", NOW + timedelta(days=2), "parts on order"),
        ("+ 2d parts", NOW + timedelta(days=2), "parts"),
        ("2D PARTS", NOW + timedelta(days=2), "PARTS"),
        ("2 days parts", NOW + timedelta(days=2), "parts"),
        ("36h", NOW + timedelta(hours=36), ""),
        ("36H waiting", NOW + timedelta(hours=36), "waiting"),
        ("3 hours waiting", NOW + timedelta(hours=3), "waiting"),
        ("90m, waiting", NOW + timedelta(minutes=90), "waiting"),
        ("90min waiting", NOW + timedelta(minutes=90), "waiting"),
        ("3天 等配件", NOW + timedelta(days=3), "等配件"),
        ("3天等配件", NOW + timedelta(days=3), "等配件"),
        ("3天后 等配件", NOW + timedelta(days=3), "等配件"),
        ("2小时 师傅在路上", NOW + timedelta(hours=2), "师傅在路上"),
        ("2个小时 师傅在路上", NOW + timedelta(hours=2), "师傅在路上"),
        ("30分钟 马上到", NOW + timedelta(minutes=30), "马上到"),
        ("30分钟以后 马上到", NOW + timedelta(minutes=30), "马上到"),
    ],
)
def test_relative_durations_are_added_exactly(text: str, moment: datetime, reason: str) -> None:
    assert read(text) == (moment, reason)


@pytest.mark.parametrize(
    ("text", "moment", "reason"),
    [
        ("2026-11-25 waiting", local(2026, 11, 25), "waiting"),
        ("11-25 18:00 waiting for the spare part", local(2026, 11, 25, 18), "waiting for the spare part"),
        ("11-25 waiting", local(2026, 11, 25), "waiting"),
        ("2026/12/01 9:30 parts", local(2026, 12, 1, 9, 30), "parts"),
        ("12/01 parts", local(2026, 12, 1), "parts"),
        ("2027-03-01 10:00 parts", local(2027, 3, 1, 10), "parts"),
        ("11月25日 等配件", local(2026, 11, 25), "等配件"),
        ("11月25号 等配件", local(2026, 11, 25), "等配件"),
        ("11月25号下午3点 等配件", local(2026, 11, 25, 15), "等配件"),
        ("2027年1月5日 10点 等配件", local(2027, 1, 5, 10), "等配件"),
        ("2027年1月5日10点等配件", local(2027, 1, 5, 10), "等配件"),
    ],
)
def test_absolute_dates(text: str, moment: datetime, reason: str) -> None:
    assert read(text) == (moment, reason)


@pytest.mark.parametrize(
    ("text", "moment"),
    [
        ("01-05 parts", local(2027, 1, 5)),  # already past this year: next January
        ("1月5日 parts", local(2027, 1, 5)),
        ("11-19 parts", local(2027, 11, 19)),  # yesterday: a year from now
        ("11-20 parts", local(2026, 11, 20)),  # today counts as this year
        ("12-31 parts", local(2026, 12, 31)),
    ],
)
def test_a_date_without_a_year_is_the_next_one(text: str, moment: datetime) -> None:
    assert read(text) == (moment, "parts")


def test_an_explicit_date_or_day_is_taken_as_given_even_if_past() -> None:
    # Only an omitted year or a bare time of day is moved forward; whether the past is acceptable is up to
    # the caller.
    assert read("2025-01-01 parts") == (local(2025, 1, 1), "parts")
    assert read("today 8:00 parts") == (local(2026, 11, 20, 8), "parts")


@pytest.mark.parametrize(
    ("text", "moment", "reason"),
    [
        ("today parts", local(2026, 11, 20), "parts"),
        ("Today 15:00 parts", local(2026, 11, 20, 15), "parts"),
        ("tomorrow parts", local(2026, 11, 21), "parts"),
        ("TOMORROW 9:30 parts", local(2026, 11, 21, 9, 30), "parts"),
        ("今天 等配件", local(2026, 11, 20), "等配件"),
        ("明天 15:00 等配件", local(2026, 11, 21, 15), "等配件"),
        ("明天15:00等配件", local(2026, 11, 21, 15), "等配件"),
        ("明天等配件", local(2026, 11, 21), "等配件"),
        ("后天 等配件", local(2026, 11, 22), "等配件"),
        ("后天", local(2026, 11, 22), ""),
    ],
)
def test_day_words(text: str, moment: datetime, reason: str) -> None:
    assert read(text) == (moment, reason)


@pytest.mark.parametrize(
    ("text", "hour", "minute"),
    [
        ("明天 18:00", 18, 0),
        ("明天 7:05", 7, 5),
        ("明天 8点", 8, 0),
        ("明天 8点钟", 8, 0),
        ("明天8点", 8, 0),
        ("明天 8点半", 8, 30),
        ("明天 8点15分", 8, 15),
        ("明天 8点15", 8, 15),
        ("明天 9时", 9, 0),
        ("明天 9时30分", 9, 30),
        ("明天 15点", 15, 0),
        ("明天上午10点", 10, 0),
        ("明天 上午 10:30", 10, 30),
        ("明天上午12点", 12, 0),
        ("明天下午3点", 15, 0),
        ("明天 下午 3点半", 15, 30),
        ("明天下午3:15", 15, 15),
        ("明天下午12点", 12, 0),
        ("明天下午15点", 15, 0),  # already on a 24-hour clock: kept
        ("明天晚上8点", 20, 0),
        ("明天晚上12点", 24, 0),  # the midnight that ends tomorrow evening
        ("tomorrow 3pm", 15, 0),
        ("tomorrow 3 PM", 15, 0),
        ("tomorrow 3:30pm", 15, 30),
        ("tomorrow 11am", 11, 0),
        ("tomorrow 12pm", 12, 0),
        ("tomorrow 12am", 0, 0),
        ("tomorrow at 3pm", 15, 0),
        ("tomorrow at 15:00", 15, 0),
    ],
)
def test_times_of_day_after_a_day(text: str, hour: int, minute: int) -> None:
    moment = local(2026, 11, 21, 0) + timedelta(hours=hour, minutes=minute)
    assert read(text + " 等配件") == (moment, "等配件")


@pytest.mark.parametrize(
    ("text", "moment"),
    [
        ("18:00 reason", local(2026, 11, 20, 18)),
        ("9:01 reason", local(2026, 11, 20, 9, 1)),
        ("9:00 reason", local(2026, 11, 21, 9)),  # not ahead of now: tomorrow
        ("8:30 reason", local(2026, 11, 21, 8, 30)),  # already past today: tomorrow
        ("0:15 reason", local(2026, 11, 21, 0, 15)),
        ("下午3点 reason", local(2026, 11, 20, 15)),
        ("下午 3:30 reason", local(2026, 11, 20, 15, 30)),
        ("晚上8点 reason", local(2026, 11, 20, 20)),
        ("晚上12点 reason", local(2026, 11, 21, 0)),
        ("上午10点 reason", local(2026, 11, 20, 10)),
        ("上午8点 reason", local(2026, 11, 21, 8)),
        ("3pm reason", local(2026, 11, 20, 15)),
        ("8am reason", local(2026, 11, 21, 8)),
        ("at 3:30pm reason", local(2026, 11, 20, 15, 30)),
    ],
)
def test_a_bare_time_of_day_is_the_next_such_moment(text: str, moment: datetime) -> None:
    assert read(text) == (moment, "reason")


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("明天 parts", "parts"),
        ("明天, parts", "parts"),
        ("明天,parts", "parts"),
        ("明天，等配件", "等配件"),
        ("明天 ； 等配件", "等配件"),
        ("明天; parts", "parts"),
        ("明天: parts", "parts"),
        ("明天：等配件", "等配件"),
        ("明天 - parts", "parts"),
        ("明天 — parts", "parts"),
        ("明天 -- parts", "- parts"),  # only one separator is taken off
        ("明天 parts, then install", "parts, then install"),
        ("  明天   等配件，师傅说周一到  ", "等配件，师傅说周一到"),  # the reason is kept as typed
        ("明天", ""),
        ("明天 ,", ""),
    ],
)
def test_the_reason_is_the_rest_without_one_leading_separator(text: str, reason: str) -> None:
    assert read(text) == (local(2026, 11, 21), reason)


@pytest.mark.parametrize(
    ("text", "moment", "reason"),
    [
        ("１１－２５ １８：００ 等配件", local(2026, 11, 25, 18), "等配件"),  # NFKC: "－" is "-"
        ("\u3000明天\u3000１５：３０\u3000等配件\u3000", local(2026, 11, 21, 15, 30), "等配件"),
        ("２ｄ　ｐａｒｔｓ", NOW + timedelta(days=2), "ｐａｒｔｓ"),  # read normalized, kept as typed
        ("１１月２５日 等配件", local(2026, 11, 25), "等配件"),
    ],
)
def test_full_width_text_is_normalized(text: str, moment: datetime, reason: str) -> None:
    assert read(text) == (moment, reason)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "\u3000",
        "waiting for parts",
        "等配件",
        "parts 2d",  # the time must come first
        "13-45 10:00",
        "02-30",
        "2026-02-30 parts",
        "02-29 parts",  # neither 2026 nor 2027 has one
        "2月30日 等配件",
        "25:00",
        "25:00 parts",
        "10:60 parts",
        "明天 25点",
        "明天 10:60",
        "11-25 25:00 parts",
        "明天上午 等配件",  # a part of the day without an hour is too vague
        "上午15点",
        "tomorrow 15am",
        "tomorrow 13pm x",
        "tomorrow 0pm x",
        "tomorrow 15:00pm x",
        "3点 等配件",  # without 上午/下午 a bare hour could be 03:00 or 15:00
        "2dparts",
        "2d3h parts",
        "11.25 parts",  # the dotted form is not supported
        "0001-01-01 00:00 parts",  # before datetime's range once in UTC
        "9999-12-31 晚上12点 parts",  # after it
    ],
)
def test_text_without_an_understood_time_is_none(text: str) -> None:
    assert read(text) is None


def test_the_moment_is_in_utc() -> None:
    result = read("明天 15:00 等配件")
    assert result is not None
    assert result[0].tzinfo is UTC
    assert result[0] == datetime(2026, 11, 21, 7, 0, tzinfo=UTC)


def test_wall_time_follows_the_zone_across_a_dst_change() -> None:
    new_york = ZoneInfo("America/New_York")
    now = datetime(2026, 3, 5, 9, 0, tzinfo=new_york).astimezone(UTC)  # EST, before 8 March
    assert read_new_time("03-10 09:00 parts", now, new_york) == (
        datetime(2026, 3, 10, 13, tzinfo=UTC),
        "parts",
    )
    assert read_new_time("7d parts", now, new_york) == (now + timedelta(days=7), "parts")  # exact, not wall


def test_a_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        read_new_time("明天", datetime(2026, 11, 20, 9, 0), SHANGHAI)
