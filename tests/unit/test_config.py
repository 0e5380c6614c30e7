"""Reading the config file's [digest] and [targets]: what managers are judged on, and when they hear it."""

from __future__ import annotations

from datetime import time

import pytest

from bot.config import ConfigError, Targets, config_from_dict


def test_targets_are_written_in_percent_and_default_to_the_domains() -> None:
    assert config_from_dict({}).targets == Targets(0.98, 1.0, 0.90, 0.92, 0.98)
    targets = config_from_dict({"targets": {"repairs_on_time": 95, "satisfaction": 92.5}}).targets
    assert (targets.repairs_on_time, targets.satisfaction, targets.complaint_closure) == (0.95, 0.925, 0.98)


def test_the_digest_time_is_a_local_time_of_day() -> None:
    assert config_from_dict({}).digest_at == time(8, 0)
    assert config_from_dict({"digest": {"at": "7:30"}}).digest_at == time(7, 30)


def test_a_household_may_send_twenty_requests_an_hour_unless_configured() -> None:
    assert config_from_dict({}).limits.requests_per_hour == 20
    assert config_from_dict({"limits": {"requests_per_hour": 5}}).limits.requests_per_hour == 5


@pytest.mark.parametrize(
    ("raw", "complaint"),
    [
        ({"targets": {"repairs_on_time": 120}}, "is not a percentage from 0 to 100"),
        ({"targets": {"repairs_on_time": "92%"}}, "is not a percentage from 0 to 100"),
        ({"targets": {"repair_on_time": 92}}, "unknown setting(s) repair_on_time"),
        ({"digest": {"at": "25:00"}}, "is not a time of day like 08:00"),
        ({"digest": {"at": "8am"}}, "is not a time of day like 08:00"),
        ({"digest": {"time": "08:00"}}, "[digest]: unknown setting(s) time"),
        ({"limits": {"requests_per_hour": 0}}, "requests_per_hour: 0 is not a whole number above 0"),
        ({"limits": {"requests_per_hour": "20"}}, "requests_per_hour: '20' is not a whole number above 0"),
        ({"limits": {"requests_per_hour": 2.5}}, "requests_per_hour: 2.5 is not a whole number above 0"),
        ({"limits": {"per_hour": 20}}, "[limits]: unknown setting(s) per_hour"),
    ],
)
def test_a_setting_that_cannot_be_used_is_refused_with_the_reason(
    raw: dict[str, object], complaint: str
) -> None:
    with pytest.raises(ConfigError) as refused:
        config_from_dict(raw, source="guanjia.toml")
    assert complaint in str(refused.value) and str(refused.value).startswith("guanjia.toml")
