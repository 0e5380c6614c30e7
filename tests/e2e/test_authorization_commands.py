"""Every command, sent by everyone: each role of the estate, a butler of another team, the manager of
another estate, someone who has left the roster, and strangers. Who may use a command is decided on the
server from the roster, and what a command shows is limited to the sender's own tickets, team or estate.

Both estates have a ticket #1001: the test estate's is Zhang's (team A), Riverside's is Qian's. The test
estate's #1002 is Chen's (team B, VIP).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

import pytest

from bot.clock import ManualClock
from bot.config import Config
from bot.embedded import SANDBOX_TOKEN, EmbeddedEstate, load_roster
from bot.model import Outcome
from bot.runtime import Runtime
from tests.conftest import ROSTER, Cast
from tests.e2e.authorization import answers_to, open_riverside


@dataclass(frozen=True)
class Begins:
    """A long answer (help, figures, a ticket's log), known by how it begins."""

    text: str

    def __eq__(self, other: object) -> bool:
        return isinstance(other, str) and other.startswith(self.text)

    def __hash__(self) -> int:
        return hash(self.text)


@dataclass(frozen=True)
class Like:
    """An answer whose every line is known but for a time, matched as a regular expression."""

    pattern: str

    def __eq__(self, other: object) -> bool:
        return isinstance(other, str) and re.match(self.pattern, other, re.DOTALL) is not None

    def __hash__(self) -> int:
        return hash(self.pattern)


WHO = (
    "owner",
    "resident",
    "butler",
    "other_team_butler",
    "manager",
    "other_estate_manager",
    "left",
    "stranger",
)
NOT_FOR_YOU = "That command is not for your account. Send /help to see what you can do."
STRANGER = (
    "Hello! This service is only for the registered owners, residents and staff of this estate.\n"
    "If you live here, please ask the service centre for an invite code, "
    "then send /start followed by the code."
)
INVALID_CODE = (
    "Sorry, this invite code is not valid, already used or expired. "
    "Please ask the service centre for a new one."
)
UNKNOWN = "Sorry, I don't know that command. Send /help to see what I can do."
ZHANGS_TAP = "The kitchen tap is broken"
USAGE = "Send /ticket and the ticket's number, e.g. /ticket 1024, to see its whole history."


def not_found(number: int) -> str:
    return (
        f"I cannot show ticket #{number}: there is no such ticket among those you may see. "
        "Managers see every ticket of the estate; a butler sees the tickets they have or have handled."
    )


def only(others: str = NOT_FOR_YOU, **allowed: Answer) -> dict[str, Answer]:
    """The answers to one command: `allowed` for those it is for, `others` for the rest of the roster;
    someone who left the roster and a stranger are refused as strangers, whatever the command."""
    return {who: allowed.get(who, others) for who in WHO[:-2]} | {"left": STRANGER, "stranger": STRANGER}


Answer = str | Begins | Like
LANGUAGE_CHOICE = "I write to you in English. Which language would you like?"
NO_SERVICES = (
    "No paid special services are listed yet. "
    "For anything you need, just write to me and your butler will help."
)
HOUSEHOLD_HELP = Begins("How this works\n• Just write to make a request;")
BUTLER_HELP = Begins("How this works\n• New tickets arrive as cards:")
MANAGER_HELP = Begins("How this works\n• Complaints, emergencies and VIP owners' tickets are copied to you;")
HOUSEHOLD_WELCOME = " I am your butler service's assistant.\n"
MANAGER_WELCOME = "! Complaints, emergencies and every VIP owner's ticket are copied to you at once."
ZHANG_LOG = Begins(
    "Ticket #1001 · repair · in progress\nUnit 1-101 · Owner Zhang (owner)\nButler: Butler A1\n"
    "Opened 20 Nov 09:00 · committed time 22 Nov 09:00\n\n"
    "20 Nov 09:00 · Owner Zhang (owner) · opened the ticket\n  The kitchen tap is broken\n"
)
QIAN_LOG = Begins(
    "Ticket #1001 · repair · in progress\nUnit 8-808 · Owner Qian (owner)\nButler: Butler R1\n"
    "Opened 20 Nov 09:00 · committed time 22 Nov 09:00\n\n"
    "20 Nov 09:00 · Owner Qian (owner) · opened the ticket\n  The door bell is broken\n"
)
CHEN_LOG = Begins(
    "Ticket #1002 · complaint · in progress\nUnit 3-502 · Owner Chen (owner) · VIP\nButler: Butler B1\n"
)

EVERY_COMMAND: dict[str, dict[str, Answer]] = {
    "/start": only(
        owner=Begins("Hello Owner Zhang!" + HOUSEHOLD_WELCOME),
        resident=Begins("Hello Resident Tom!" + HOUSEHOLD_WELCOME),
        butler=Begins("Hello Butler A1! You are on butler team A.\n"),
        other_team_butler=Begins("Hello Butler B1! You are on butler team B.\n"),
        manager=Begins("Hello Manager Liu" + MANAGER_WELCOME),
        other_estate_manager=Begins("Hello Manager Ma" + MANAGER_WELCOME),
    ),
    # Someone on the roster is welcomed whatever code they add; a code binds no second account to them.
    "/start NOTAVALIDCODE234": only(
        owner=Begins("Hello Owner Zhang!" + HOUSEHOLD_WELCOME),
        resident=Begins("Hello Resident Tom!" + HOUSEHOLD_WELCOME),
        butler=Begins("Hello Butler A1!"),
        other_team_butler=Begins("Hello Butler B1!"),
        manager=Begins("Hello Manager Liu" + MANAGER_WELCOME),
        other_estate_manager=Begins("Hello Manager Ma" + MANAGER_WELCOME),
    )
    | {"left": INVALID_CODE, "stranger": INVALID_CODE},
    "/help": only(
        owner=HOUSEHOLD_HELP,
        resident=HOUSEHOLD_HELP,
        butler=BUTLER_HELP,
        other_team_butler=BUTLER_HELP,
        manager=MANAGER_HELP,
        other_estate_manager=MANAGER_HELP,
    ),
    # Each their own requests: Tom lives in Zhang's unit but sees none of Zhang's tickets.
    "/my": only(
        owner="My tickets (latest 1)\n#1001 · repair · in progress · 20 Nov 09:00\n  " + ZHANGS_TAP,
        resident="You have no tickets yet. Just write to make a request.",
    ),
    "/tasks": only(
        butler="My open tasks (1)\n#1001 · repair · in progress · due 22 Nov 09:00\n  " + ZHANGS_TAP,
        other_team_butler=(
            "My open tasks (1)\n#1002 · complaint · in progress · due 22 Nov 09:00\n  The lift is noisy"
        ),
    ),
    "/duty": only(
        butler="You are on duty.\nNew requests of your team come to you.",
        other_team_butler="You are on duty.\nNew requests of your team come to you.",
    ),
    "/duty maybe": only(
        butler="You are on duty.\nNew requests of your team come to you.",
        other_team_butler="You are on duty.\nNew requests of your team come to you.",
    ),
    # Each manager's figures are their own estate's: two tickets today here, one at Riverside.
    "/digest": only(
        manager=Like(
            r"Today so far, as of 20 Nov 09:\d\d\n\nTickets\nNew 2 · resolved 0 · closed 0 · still open 2\n"
        ),
        other_estate_manager=Like(
            r"Today so far, as of 20 Nov 09:\d\d\n\nTickets\nNew 1 · resolved 0 · closed 0 · still open 1\n"
        ),
    ),
    "/report week": only(
        manager=Begins("Report · 13 Nov – 19 Nov (7 days)\n"),
        other_estate_manager=Begins("Report · 13 Nov – 19 Nov (7 days)\n"),
    ),
    "/export 2026-11": only(
        manager="Tickets opened 01 Nov – 19 Nov: 0. Times are local; the file opens in Excel.",
        other_estate_manager="Tickets opened 01 Nov – 19 Nov: 0. Times are local; the file opens in Excel.",
    ),
    "/overdue": only(manager="No overdue tickets. 👍", other_estate_manager="No overdue tickets. 👍"),
    # Each manager announces to their own estate's residents only.
    "/announce": only(
        manager=Begins("📢 New announcement\n"), other_estate_manager=Begins("📢 New announcement\n")
    ),
    "/fees": only(
        manager="No unpaid property fees past their due date. 👍",
        other_estate_manager="No unpaid property fees past their due date. 👍",
    ),
    # The same number is a different ticket in each estate; a butler sees only what they answer for.
    "/ticket 1001": only(
        butler=ZHANG_LOG,
        other_team_butler=not_found(1001),
        manager=ZHANG_LOG,
        other_estate_manager=QIAN_LOG,
    ),
    "/ticket 1002": only(
        butler=not_found(1002),
        other_team_butler=CHEN_LOG,
        manager=CHEN_LOG,
        other_estate_manager=not_found(1002),
    ),
    "/ticket 99999": only(
        butler=not_found(99999),
        other_team_butler=not_found(99999),
        manager=not_found(99999),
        other_estate_manager=not_found(99999),
    ),
    "/ticket": only(butler=USAGE, other_team_butler=USAGE, manager=USAGE, other_estate_manager=USAGE),
    # Everyone chooses their own language; asking changes nothing until they press a button.
    "/language": only(others=LANGUAGE_CHOICE),
    # The price list is the household's: this estate lists none yet.
    "/services": only(owner=NO_SERVICES, resident=NO_SERVICES),
    "/frobnicate": only(others=UNKNOWN),
}


async def test_every_command_as_everyone(estate: EmbeddedEstate, cast: Cast, clock: ManualClock) -> None:
    riverside = await open_riverside(estate, clock)
    await cast.zhang.send_text("The kitchen tap is broken")
    await cast.a1.press(await cast.a1.wait_for("#1001"), "Accept")
    await cast.chen.send_text("The lift is noisy")  # a complaint
    await cast.b1.press(await cast.b1.wait_for("#1002"), "Accept")
    await riverside.qian.send_text("The door bell is broken")
    await riverside.r1.press(await riverside.r1.wait_for("#1001"), "Accept")
    await cast.a3.send_command("/start")
    await cast.a3.wait_for("Hello Butler A3!")
    # Butler A3 leaves: the roster no longer lists them.
    await load_roster(estate.db, ROSTER.replace("butler,Butler A3,A,,103,,en,no\n", ""), Config(), clock)
    await estate.settled()

    expected: dict[tuple[str, str], Answer] = {}
    actual: dict[tuple[str, str], str] = {}
    for number, (line, answers) in enumerate(EVERY_COMMAND.items()):
        # A stranger is answered at most once a minute: each command comes a minute after the last.
        clock.advance(timedelta(minutes=1))
        users = {
            "owner": cast.zhang,
            "resident": cast.tom,
            "butler": cast.a1,
            "other_team_butler": cast.b1,
            "manager": cast.manager,
            "other_estate_manager": riverside.manager,
            "left": cast.a3,
            "stranger": estate.sandbox.user(7000 + number, "Mallory", language_code="en"),
        }
        for who, answer in (await answers_to(estate, line, users)).items():
            actual[line, who] = answer
            expected[line, who] = answers[who]
    assert actual == expected


async def test_a_failure_shows_nobody_its_details(
    estate: EmbeddedEstate, cast: Cast, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A handler that fails with the token in its error: the person is asked to try again, and neither
    the error's text nor the token reaches any chat."""
    runtime: Runtime = estate.application.bot_data["runtime"]

    async def failing(*args: object) -> Outcome:
        raise RuntimeError(f"POST https://api.telegram.org/bot{SANDBOX_TOKEN}/sendMessage failed")

    monkeypatch.setattr(runtime.desk, "show_my_tickets", failing)
    monkeypatch.setattr(runtime.desk, "accept", failing)
    await cast.zhang.send_command("/my")
    sorry = await cast.zhang.wait_for("something went wrong")
    assert sorry.text == (
        "Sorry, something went wrong and this message was not processed. Please send it again in a moment."
    )
    await cast.zhang.send_text("The kitchen tap is broken")
    card = await cast.a1.wait_for("New ticket #1001")
    answer = await cast.a1.wait_for_answer(await cast.a1.press(card, "Accept"))
    assert answer == {
        "callback_query_id": answer["callback_query_id"],
        "text": "Sorry, something went wrong; nothing was changed. Please try again",
        "show_alert": True,
    }
    await estate.settled()
    secret = SANDBOX_TOKEN.partition(":")[2]
    for user in (cast.zhang, cast.a1, cast.manager):
        assert all(secret not in m.content and "RuntimeError" not in m.content for m in user.inbox)
