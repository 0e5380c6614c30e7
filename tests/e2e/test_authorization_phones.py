"""Phone numbers reach only the household's own butlers and the estate's managers.

Zhang (1-101, team A) has the phone 139-1111-0101, Chen (3-502, team B, VIP) 139-3333-0502, and
Riverside's Qian 137-8888-0808. Every chat of the sandbox is searched for them: however a ticket travels
(the escalation ladder, the managers' copies, a return visit, the /ticket log, relayed messages), the
number appears in no other chat. When the roster moves someone to another team, the number follows the
roster, not the ticket.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.clock import ManualClock
from bot.config import Config
from bot.embedded import EmbeddedEstate, load_roster
from bot.model import Person, Role
from bot.privacy import may_see_phone
from tests.conftest import ROSTER, Cast
from tests.e2e.authorization import open_riverside

ZHANG = "139-1111-0101"
CHEN = "139-3333-0502"
QIAN = "137-8888-0808"
EVERY_CHAT = (900, 101, 102, 103, 201, 202, 1101, 1102, 1302, 3502, 3601, 950, 151, 152, 8808, 666)


def _chats_showing(estate: EmbeddedEstate, phone: str) -> set[int]:
    return {
        chat
        for chat in EVERY_CHAT
        if any(phone in (m.text or m.caption or "") for m in estate.sandbox.delivered(chat))
    }


async def test_a_phone_reaches_only_the_households_butlers_and_the_managers(
    estate: EmbeddedEstate, cast: Cast, clock: ManualClock
) -> None:
    riverside = await open_riverside(estate, clock)
    await cast.zhang.send_text("The kitchen tap is broken")
    card = await cast.a1.wait_for("New ticket #1001")
    assert card.text is not None and card.text.startswith(
        f"New ticket #1001 · repair\nUnit: 1-101  Owner: Owner Zhang  Phone: {ZHANG}\n"
    )
    # Nobody in team A accepts: the ladder takes the card to A2, A3, then the managers.
    for butler in (cast.a2, cast.a3):
        clock.advance(timedelta(minutes=3))
        await butler.wait_for("New ticket #1001")
    clock.advance(timedelta(minutes=3))
    copy = await cast.manager.wait_for("Nobody in team A has taken ticket #1001")
    assert f"Unit: 1-101  Owner: Owner Zhang  Phone: {ZHANG}" in copy.content
    await cast.manager.press(copy, "Accept")
    await cast.manager.send_text("I will send the plumber at 2 pm", reply_to=copy)
    await cast.zhang.wait_for("I will send the plumber")

    # Tom, who lives in Zhang's unit, writes: the card shows the owner's phone (Tom has none).
    await cast.tom.send_text("The bathroom fan is loud")
    tom_card = await cast.a1.wait_for("New ticket #1002")
    assert f"Owner: Owner Zhang  Phone: {ZHANG}\n" in tom_card.content
    assert "From: Resident Tom (resident)\n" in tom_card.content

    # Chen is a VIP: B1's card and the managers' copy carry the phone.
    await cast.chen.send_text("The lift is noisy")
    await cast.b1.wait_for("New ticket #1003")
    vip_copy = await cast.manager.wait_for("[Copy to manager] complaint ticket #1003")
    assert f"Phone: {CHEN}" in vip_copy.content
    await riverside.qian.send_text("The door bell is broken")
    await riverside.r1.wait_for("New ticket #1001")

    # Staff who read the logs see no phone there either.
    for user in (cast.a1, cast.a2, cast.manager, riverside.manager, cast.b1):
        await user.send_command("/ticket", "1001")
    await estate.settled()

    assert _chats_showing(estate, ZHANG) == {101, 102, 103, 900}
    assert _chats_showing(estate, CHEN) == {201, 900}
    assert _chats_showing(estate, QIAN) == {151}


async def test_a_butler_moved_to_another_team_is_not_given_the_households_return_visit(
    estate: EmbeddedEstate, cast: Cast, clock: ManualClock
) -> None:
    """A1 resolved Zhang's ticket, then moved to team B. When the survey goes unanswered, the call is
    team A's to make (A2, the first on duty there), with the phone; A1 hears nothing of it."""
    await cast.zhang.send_text("The kitchen tap is broken")
    card = await cast.a1.wait_for("New ticket #1001")
    await cast.a1.press(card, "Accept")
    await cast.zhang.wait_for("accepted by")
    await cast.a1.press(card, "Resolved")
    await cast.zhang.press(await cast.zhang.wait_for("Is it resolved"), "Yes, resolved")
    await cast.zhang.wait_for("How would you rate")
    moved = ROSTER.replace("butler,Butler A1,A,,101,", "butler,Butler A1,B,,101,")
    await load_roster(estate.db, moved, Config(), clock)
    await estate.settled()
    before_the_move = len(cast.a1.inbox)

    clock.advance(timedelta(days=3))
    task = await cast.a2.wait_for("Return visit due: ticket #1001")
    assert f"Unit: 1-101  Owner: Owner Zhang  Phone: {ZHANG}\n" in task.content
    await estate.settled()
    assert all("Return visit" not in m.content for m in cast.a1.inbox)
    assert all(ZHANG not in m.content for m in cast.a1.inbox[before_the_move:])


async def test_an_owner_moved_to_another_team_keeps_the_phone_from_the_old_team(
    estate: EmbeddedEstate, cast: Cast, clock: ManualClock
) -> None:
    """Zhang moves to team B while #1001 waits for team A: the ticket climbs team A's ladder as before,
    but the card that reaches A2 no longer shows the phone of someone who is not team A's any more."""
    await cast.zhang.send_text("The kitchen tap is broken")
    await cast.a1.wait_for("New ticket #1001")
    moved = ROSTER.replace("owner,Owner Zhang,A,1-101,", "owner,Owner Zhang,B,1-101,")
    await load_roster(estate.db, moved, Config(), clock)
    clock.advance(timedelta(minutes=3))
    card = await cast.a2.wait_for("New ticket #1001")
    assert card.text is not None and card.text.startswith(
        "New ticket #1001 · repair\nUnit: 1-101  Owner: Owner Zhang\nTeam: A\n"
    )
    clock.advance(timedelta(minutes=3))
    await cast.a3.wait_for("New ticket #1001")
    clock.advance(timedelta(minutes=3))
    copy = await cast.manager.wait_for("Nobody in team A has taken ticket #1001")
    assert f"Phone: {ZHANG}" in copy.content
    await estate.settled()
    assert _chats_showing(estate, ZHANG) == {101, 900}


def _person(role: Role, *, estate: int = 1, team: int | None = 1, active: bool = True) -> Person:
    return Person(7, estate, role, "Someone", team, None, 1, "139", "en", False, True, active)


HOUSEHOLD = _person(Role.OWNER)


@pytest.mark.parametrize(
    ("reader", "may"),
    [
        (_person(Role.MANAGER, team=None), True),
        (_person(Role.BUTLER), True),
        (_person(Role.BUTLER, team=2), False),  # another team
        (_person(Role.BUTLER, team=None), False),
        (_person(Role.MANAGER, estate=2, team=None), False),  # another estate
        (_person(Role.BUTLER, estate=2), False),  # team ids are unique, but the estate is checked anyway
        (_person(Role.BUTLER, active=False), False),  # left the roster
        (_person(Role.MANAGER, team=None, active=False), False),
        (_person(Role.OWNER, team=1), False),  # a neighbour in the same team
        (_person(Role.RESIDENT, team=1), False),
    ],
)
def test_who_may_see_a_phone(reader: Person, may: bool) -> None:
    assert may_see_phone(reader, HOUSEHOLD) is may
