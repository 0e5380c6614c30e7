"""Typed configuration, read from a TOML file; every number has the domain's default."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from datetime import time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.numbers import list_currencies

TELEGRAM_API_URL = "https://api.telegram.org/bot"

_DURATION = re.compile(r"^\s*(\d+)\s*([smhd])\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


class ConfigError(ValueError):
    """The config file says something we cannot use; the message says what and where."""


def parse_duration(text: str, *, where: str = "duration") -> timedelta:
    """Read a duration written like `45s`, `3m`, `4h` or `2d`."""
    match = _DURATION.match(str(text))
    if not match:
        raise ConfigError(f"{where}: {text!r} is not a duration like 45s, 3m, 4h or 2d")
    return timedelta(seconds=int(match.group(1)) * _UNIT_SECONDS[match.group(2)])


@dataclass(frozen=True)
class ServiceLevels:
    """The promises of ../shared/domain.md, as durations."""

    feedback_within: timedelta = timedelta(days=2)  # 二日内反馈处理结果
    emergency_feedback_within: timedelta = timedelta(hours=4)
    accept_within: timedelta = timedelta(minutes=3)  # 三分钟服务承诺
    remind_before: timedelta = timedelta(hours=4)  # the butler hears of a commitment before it lapses
    max_commitment: timedelta = timedelta(days=7)  # a committed time is never over a week from the request
    confirm_within: timedelta = timedelta(days=2)  # resolved and unanswered: closed as confirmed
    survey_reminder_after: timedelta = timedelta(days=1)  # the return-visit survey is asked once more
    survey_give_up_after: timedelta = timedelta(days=3)  # then the butler makes the return visit by phone
    # A follow-up with no reply context joins the resident's open ticket if it was this recently active.
    followup_window: timedelta = timedelta(minutes=30)


@dataclass(frozen=True)
class Targets:
    """What managers are judged on (../shared/domain.md), as shares of 1."""

    complaint_closure: float = 0.98  # 有效投诉办结率
    return_visits: float = 1.00  # 回访率
    satisfaction: float = 0.90  # 业主意见反馈满意率: ratings of 4 or 5
    repairs_on_time: float = 0.92  # 零修、急修及时率
    repairs_first_time: float = 0.98  # 零修合格率: not reopened


@dataclass(frozen=True)
class Limits:
    """How much one person may ask of the service before being slowed down (bot/flood.py)."""

    requests_per_hour: int = 20  # a household member's messages passed on to their butler per rolling hour


@dataclass(frozen=True)
class FeeTiming:
    """When the staged fee reminders go (bot/fees.py): each on its day, at `send_at` in the estate's time."""

    notice_before: timedelta = timedelta(days=7)  # the notice, this long before the due date
    remind_after: timedelta = timedelta(days=3)  # the reminder, this long after it
    final_after: timedelta = timedelta(days=15)  # the final reminder (the managers hear of it too)
    send_at: time = time(10, 0)  # a fee is never raised with anyone at night


@dataclass(frozen=True)
class Config:
    estate_name: str = "default"
    timezone: str = "Asia/Shanghai"
    currency: str = "CNY"  # ISO 4217: prices, quotes and fees are in it, shown in each person's locale
    sla: ServiceLevels = field(default_factory=ServiceLevels)
    targets: Targets = field(default_factory=Targets)
    limits: Limits = field(default_factory=Limits)
    fees: FeeTiming = field(default_factory=FeeTiming)
    digest_at: time = time(8, 0)  # the managers' daily digest, in the estate's local time
    invite_valid_for: timedelta = timedelta(days=7)
    classification_rules: Path | None = None  # None: the rules shipped in bot/categories.toml

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def load_config(path: Path | None) -> Config:
    if path is None:
        return Config()
    try:
        raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise ConfigError(f"{path}: {error}") from error
    return config_from_dict(raw, source=str(path))


def config_from_dict(raw: dict[str, Any], *, source: str = "config") -> Config:
    estate = raw.get("estate", {})
    sla_raw = raw.get("sla", {})
    defaults = ServiceLevels()
    sla_values: dict[str, timedelta] = {}
    for name in ServiceLevels.__dataclass_fields__:
        if name in sla_raw:
            sla_values[name] = parse_duration(sla_raw[name], where=f"{source} [sla] {name}")
        else:
            sla_values[name] = getattr(defaults, name)
    unknown = set(sla_raw) - set(ServiceLevels.__dataclass_fields__)
    if unknown:
        raise ConfigError(f"{source} [sla]: unknown setting(s) {', '.join(sorted(unknown))}")
    timezone = str(estate.get("timezone", Config.timezone))
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ConfigError(f"{source} [estate] timezone: unknown timezone {timezone!r}") from error
    rules = raw.get("classification", {}).get("rules")
    digest = raw.get("digest", {})
    if set(digest) - {"at"}:
        raise ConfigError(f"{source} [digest]: unknown setting(s) {', '.join(sorted(set(digest) - {'at'}))}")
    invites = raw.get("invites", {})
    return Config(
        estate_name=str(estate.get("name", Config.estate_name)),
        timezone=timezone,
        currency=_currency(estate.get("currency", Config.currency), source),
        sla=ServiceLevels(**sla_values),
        targets=_targets(raw.get("targets", {}), source),
        limits=_limits(raw.get("limits", {}), source),
        fees=_fee_timing(raw.get("fees", {}), source),
        digest_at=_time_of_day(digest.get("at", "08:00"), where=f"{source} [digest] at"),
        invite_valid_for=parse_duration(
            invites.get("valid_for", "7d"), where=f"{source} [invites] valid_for"
        ),
        classification_rules=Path(rules) if rules else None,
    )


def _currency(code: object, source: str) -> str:
    if not isinstance(code, str) or code.upper() not in list_currencies():
        raise ConfigError(f"{source} [estate] currency: {code!r} is not an ISO 4217 code like CNY")
    return code.upper()


def _targets(raw: dict[str, Any], source: str) -> Targets:
    unknown = set(raw) - set(Targets.__dataclass_fields__)
    if unknown:
        raise ConfigError(f"{source} [targets]: unknown setting(s) {', '.join(sorted(unknown))}")
    values: dict[str, float] = {}
    for name, value in raw.items():
        # Written as a percentage, as managers say it: repairs_on_time = 92
        if not isinstance(value, int | float) or isinstance(value, bool) or not 0 <= value <= 100:
            raise ConfigError(f"{source} [targets] {name}: {value!r} is not a percentage from 0 to 100")
        values[name] = float(value) / 100
    return Targets(**values)


def _limits(raw: dict[str, Any], source: str) -> Limits:
    unknown = set(raw) - set(Limits.__dataclass_fields__)
    if unknown:
        raise ConfigError(f"{source} [limits]: unknown setting(s) {', '.join(sorted(unknown))}")
    per_hour = raw.get("requests_per_hour", Limits.requests_per_hour)
    if not isinstance(per_hour, int) or isinstance(per_hour, bool) or per_hour < 1:
        raise ConfigError(f"{source} [limits] requests_per_hour: {per_hour!r} is not a whole number above 0")
    return Limits(requests_per_hour=per_hour)


def _fee_timing(raw: dict[str, Any], source: str) -> FeeTiming:
    unknown = set(raw) - set(FeeTiming.__dataclass_fields__)
    if unknown:
        raise ConfigError(f"{source} [fees]: unknown setting(s) {', '.join(sorted(unknown))}")
    defaults = FeeTiming()
    days: dict[str, timedelta] = {}
    for name in ("notice_before", "remind_after", "final_after"):
        where = f"{source} [fees] {name}"
        days[name] = parse_duration(raw[name], where=where) if name in raw else getattr(defaults, name)
        # Stages go on a day at send_at, so they are counted in whole days.
        if days[name] % timedelta(days=1):
            raise ConfigError(f"{where}: {raw[name]!r} is not a whole number of days like 7d")
    if days["remind_after"] < timedelta(days=1):
        raise ConfigError(f"{source} [fees] remind_after: the reminder comes 1d or more after the due date")
    if days["final_after"] <= days["remind_after"]:
        raise ConfigError(f"{source} [fees] final_after: the final reminder comes after the reminder")
    send_at = _time_of_day(raw.get("send_at", "10:00"), where=f"{source} [fees] send_at")
    return FeeTiming(**days, send_at=send_at)


_TIME_OF_DAY = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*$")


def _time_of_day(text: object, *, where: str) -> time:
    match = _TIME_OF_DAY.match(str(text))
    if match is None or int(match.group(1)) > 23 or int(match.group(2)) > 59:
        raise ConfigError(f"{where}: {text!r} is not a time of day like 08:00")
    return time(int(match.group(1)), int(match.group(2)))
