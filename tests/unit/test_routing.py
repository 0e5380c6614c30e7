from __future__ import annotations

from dataclasses import replace

from bot.model import Person, Role
from bot.routing import first_on_duty


def _butler(person_id: int, on_duty: bool = True, on_telegram: bool = True) -> Person:
    telegram_id = person_id if on_telegram else None
    return Person(
        person_id, 1, Role.BUTLER, f"b{person_id}", 1, None, telegram_id, None, "zh", False, on_duty
    )


def test_the_designated_first_butler_gets_it() -> None:
    team = [_butler(1), _butler(2), _butler(3)]
    assert first_on_duty(team) == team[0]


def test_the_next_on_duty_member_when_the_first_is_off() -> None:
    team = [_butler(1, on_duty=False), _butler(2, on_duty=False), _butler(3)]
    assert first_on_duty(team) == team[2]


def test_nobody_when_the_whole_team_is_off_duty() -> None:
    team = [replace(_butler(n), on_duty=False) for n in (1, 2)]
    assert first_on_duty(team) is None


def test_a_butler_not_yet_on_telegram_is_passed_over() -> None:
    team = [_butler(1, on_telegram=False), _butler(2)]
    assert first_on_duty(team) == team[1]
