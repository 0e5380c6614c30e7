"""Every text the bot sends exists in both languages and renders; what people type is escaped."""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from bot.model import Category, Incoming, Person, Role, Ticket, TicketState
from bot.reports import ButlerLine, OverdueLine, Rate, Report
from bot.spans import Span
from bot.texts import LANGUAGES, Texts
from bot.ticket_log import LogEntry
from storage.follow_ups import FollowUp
from storage.postponements import Postponement
from tests.conftest import SHANGHAI
from tests.unit import samples_announcements, samples_catalog, samples_fees, samples_language

texts = Texts(SHANGHAI)
NOW = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)


def _person(role: Role, name: str = "Li <Na>") -> Person:
    return Person(1, 1, role, name, 1, "1-101", 1, "139", "zh", True, True)


TICKET = Ticket(
    1,
    1,
    1024,
    1,
    1,
    1,
    2,
    Category.REPAIR,
    TicketState.RESOLVED,
    "tap & <sink>",
    NOW,
    NOW,
    NOW,
    NOW,
    None,
    NOW,
    0,
    4,
    "good",
)
SAMPLE = {
    "ticket": TICKET,
    "tickets": [TICKET],
    "butler": _person(Role.BUTLER),
    "owner": _person(Role.OWNER),
    "requester": _person(Role.RESIDENT),
    "sender": _person(Role.BUTLER),
    "incoming": Incoming("photo", 1, 2, text="see <this>"),
    "earlier": TICKET,
    "team": "A",
    "edited": False,
    "raised": True,
    "to_managers": False,
    "now": NOW,
    "categories": [category.value for category in Category],
    "follow_ups": [FollowUp(1, 1, "return_visit", 2, NOW, None, 1024)],
    "postponement": Postponement(1, 1, 2, NOW, NOW, "parts <on order>", "pending"),
    "reason": "not_accepted",
    "why": "confirmed",
    "to": _person(Role.BUTLER),
    "problem": "too_late",
    "latest": NOW,
    "needs_manager": True,
    "lapsed": False,
    "manager": _person(Role.MANAGER),
    "approved_by": _person(Role.MANAGER),
    "changed": True,
    "covered": False,
    "butlers": {2: "Li <Na>"},
    "number": 1024,
    "until": NOW,  # invite_locked: when a stranger may try codes again
    "entries": [
        LogEntry(NOW, _person(Role.OWNER), "created", {"kind": "photo", "text": "see <this>"}),
        LogEntry(NOW, None, "assigned", {"butler": "Li <Na>"}),
        LogEntry(NOW, _person(Role.BUTLER), "postponed", {"from": NOW, "to": NOW, "reason": "<on order>"}),
        LogEntry(NOW, _person(Role.OWNER), "rated", {"stars": 4, "by": "survey"}),
        LogEntry(NOW, None, "a_kind_from_the_future", {"text": "tap & <sink>"}),
    ],
}


REPORT = Report(
    span=Span.ending(NOW.date(), 7, SHANGHAI),
    as_of=NOW,
    new={"repair": 2, "complaint": 1},
    resolved={"repair": 1},
    closed={},
    open_at_end={"repair": 1},
    complaints=1,
    complaint_closure=Rate(0, 1, 0.98),
    complaints_in_time_still=1,
    acceptance=Rate(2, 3),
    on_time=Rate(1, 1),
    repairs_on_time=Rate(1, 1, 0.92),
    repairs_first_time=Rate(0, 0, 0.98),
    return_visits=Rate(0, 0, 1.0),
    visits_waiting=1,
    satisfaction=Rate(1, 1, 0.9),
    average_rating=4.0,
    reopened=0,
    overdue=[OverdueLine(TICKET, _person(Role.BUTLER))],
    butlers=[ButlerLine(_person(Role.BUTLER), 3, 3, 2, 1, 1, 1, 4.0, 1)],
)
SAMPLE.update(report=REPORT, kind="daily", late=True, meant_for=NOW, target=0.92)
SAMPLE.update(first=NOW.date(), last=NOW.date(), span=REPORT.span, rows=12)
SAMPLE.update(per_hour=20, release_at=NOW)  # the flood notes (bot/flood.py)
SAMPLE.update(who=_person(Role.OWNER))  # someone the bot cannot reach (bot/reachability.py)
for feature in (samples_catalog, samples_announcements, samples_fees, samples_language):
    SAMPLE.update(feature.SAMPLE)


def test_every_template_exists_in_both_languages() -> None:
    assert texts.template_names("zh") == texts.template_names("en")
    assert len(texts.template_names("zh")) > 20


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize(
    "name", [n.removesuffix(".j2") for n in texts.template_names("zh") if n != "labels.j2"]
)
@pytest.mark.parametrize("role", list(Role))
def test_every_template_renders_for_every_role(language: str, name: str, role: Role) -> None:
    rendered = texts.render(language, name, me=_person(role), **SAMPLE)
    assert rendered.strip()
    assert "<sink>" not in rendered and "<this>" not in rendered and "Li <Na>" not in rendered
    assert "<on order>" not in rendered


def test_times_are_shown_in_the_estates_timezone() -> None:
    assert texts.render("en", "ticket_accepted", me=_person(Role.OWNER), **SAMPLE).count("#1024") == 1
    rendered = texts.render("zh", "tasks", me=_person(Role.BUTLER), **SAMPLE)
    assert "11月20日 09:00" in rendered  # 01:00 UTC is 09:00 in Shanghai


def test_labels_exist_in_both_languages() -> None:
    for name in (
        "button_accept",
        "button_resolve",
        "button_confirm",
        "button_reopen",
        "answer_done",
        "answer_not_yours",
        "answer_already",
        "answer_unknown",
        "command_my",
        "command_tasks",
        "command_digest",
        "command_help",
        "command_start",
        "command_ticket",
    ):
        assert texts.label("zh", name) != texts.label("en", name)
    assert texts.label("en", "button_stars", stars=3) == "★★★"


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_task_card_carries_the_whole_request(language: str) -> None:
    request = "".join(f"第{n}句话。" for n in range(600))  # about 3,500 characters
    context = {**SAMPLE, "incoming": Incoming("text", 1, 2, text=request)}
    assert request in texts.render(language, "task_card", me=_person(Role.BUTLER), **context)
    assert request in texts.render(language, "manager_alert", me=_person(Role.MANAGER), **context)


def test_money_has_two_decimals_in_each_locale() -> None:
    assert texts.money("zh", Decimal("1280.5")) == "¥1,280.50"
    assert texts.money("en", Decimal("1280.5")) == "CN¥1,280.50"
    assert texts.money("en", Decimal("0.05")) == "CN¥0.05"
    assert Texts(SHANGHAI, currency="USD").money("en", Decimal("12")) == "$12.00"


def test_dates_and_times_are_in_each_locale_and_the_estates_timezone() -> None:
    late_evening = datetime(2026, 11, 20, 15, 30, tzinfo=UTC)  # 23:30 in Shanghai
    owner = _person(Role.OWNER)
    context = {**SAMPLE, "ticket": dataclasses.replace(TICKET, state=TicketState.NEW, due_at=late_evening)}
    assert "11月20日 23:30" in texts.render("zh", "ticket_opened", **{**context, "me": owner})
    assert "20 Nov 23:30" in texts.render("en", "ticket_opened", **{**context, "me": owner})


def test_a_moment_shows_its_own_minute_in_each_estates_own_timezone() -> None:
    """Formatted moments are remembered per minute (bot/texts.py): never rounded up, never shared
    between estates in different timezones."""
    last_instant = datetime(2026, 11, 20, 15, 30, 59, 999999, tzinfo=UTC)
    owner = _person(Role.OWNER)
    context = {**SAMPLE, "ticket": dataclasses.replace(TICKET, state=TicketState.NEW, due_at=last_instant)}
    assert "11月20日 23:30" in texts.render("zh", "ticket_opened", **{**context, "me": owner})
    in_london = Texts(ZoneInfo("Europe/London"))
    assert "11月20日 15:30" in in_london.render("zh", "ticket_opened", **{**context, "me": owner})


CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.mark.parametrize(
    "name", [n.removesuffix(".j2") for n in texts.template_names("zh") if n != "labels.j2"]
)
def test_each_language_is_written_in_that_language(name: str) -> None:
    """A template copied across untranslated would render, so the words themselves are checked."""
    for role in Role:
        chinese = texts.render("zh", name, me=_person(role), **SAMPLE)
        english = texts.render("en", name, me=_person(role), **SAMPLE)
        assert CJK.search(chinese) or not chinese.strip(), f"zh/{name}.j2 has no Chinese for a {role}"
        # The only Chinese an English reader sees is the name of the other language they may choose.
        assert not CJK.search(english.replace("简体中文", "")), f"en/{name}.j2 has Chinese for a {role}"
