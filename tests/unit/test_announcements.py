"""Who an announcement is for: buildings read from units, and the audiences offered."""

from __future__ import annotations

import pytest

from bot.announcements import Audience, _audiences, building_of
from bot.model import Person, Role


@pytest.mark.parametrize(
    ("unit", "building"),
    [
        ("1-101", "1"),
        ("12-0301", "12"),
        ("A-3-02", "A"),
        ("东区-5", "东区"),
        ("101", None),
        ("-101", None),
        (None, None),
    ],
)
def test_a_units_building_is_what_comes_before_its_first_dash(unit: str | None, building: str | None) -> None:
    assert building_of(unit) == building


@pytest.mark.parametrize("text", ["estate", "vip", "building:1", "building:东区"])
def test_an_audience_reads_back_as_written(text: str) -> None:
    audience = Audience.read(text)
    assert audience is not None and str(audience) == text


@pytest.mark.parametrize("text", ["", "town", "building", "building:", "building: ", "vip:1"])
def test_what_is_no_audience_is_refused(text: str) -> None:
    assert Audience.read(text) is None


def _owner(unit: str, vip: bool = False, role: Role = Role.OWNER) -> Person:
    return Person(1, 1, role, "x", 1, unit, None, None, "zh", vip, True)


def test_the_buildings_offered_are_those_someone_lives_in_in_natural_order_and_vip_only_if_any() -> None:
    household = [
        _owner("10-1"),
        _owner("2-1"),
        _owner("A-1"),
        _owner("2-2", role=Role.RESIDENT),
        _owner("301"),
    ]
    assert [str(a) for a in _audiences(household)] == ["estate", "building:2", "building:10", "building:A"]
    household.append(_owner("3-1", vip=True))
    assert [str(a) for a in _audiences(household)][-1] == "vip"
    # A VIP owner's resident is not a VIP owner.
    assert not Audience("vip").includes(_owner("3-1", vip=True, role=Role.RESIDENT))
