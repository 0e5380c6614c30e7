"""Every text the bot sends, rendered from templates/<language>/ with HTML autoescaping.

Whatever a person typed is escaped on the way in, so `<b>` or `&` arrives exactly as typed; only the
templates' own markup is markup. Short labels (buttons, category and state names) live as variables in
each language's labels.j2, so translators find every word in the templates folder.
"""

from __future__ import annotations

import functools
import math
import re
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jinja2
from babel.dates import format_date, format_datetime
from babel.numbers import format_currency

from bot.config import ServiceLevels
from bot.privacy import may_see_phone

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
LANGUAGES = ("zh", "en")
DEFAULT_LANGUAGE = "zh"
# The CLDR locale each language's dates, times and money are written in.
LOCALES = {"zh": "zh_Hans_CN", "en": "en"}


class Texts:
    def __init__(
        self,
        zone: ZoneInfo,
        sla: ServiceLevels | None = None,
        root: Path = TEMPLATES,
        currency: str = "CNY",
    ) -> None:
        self._zone = zone
        self._sla = sla or ServiceLevels()
        self.currency = currency
        self._environments = {
            language: self._environment(language, root / language) for language in LANGUAGES
        }

    def _environment(self, language: str, folder: Path) -> jinja2.Environment:
        environment = jinja2.Environment(
            loader=jinja2.FileSystemLoader(folder),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=False,
            auto_reload=False,  # templates change with a release, not while running: no stat per text
        )
        labels: Any = environment.get_template("labels.j2").module
        environment.globals["L"] = labels
        environment.globals["accept_minutes"] = _minutes(self._sla.accept_within)
        environment.globals["followup_minutes"] = _minutes(self._sla.followup_window)
        locale = LOCALES[language]
        environment.filters["local"] = lambda moment: self._local(moment, labels, locale)
        environment.filters["no"] = ticket_no
        environment.filters["day"] = lambda day: self._day(day, labels, locale)
        environment.filters["money"] = lambda amount: self._money(amount, locale)
        environment.filters["percent"] = percent
        environment.globals["may_see_phone"] = may_see_phone  # personal data: bot/privacy.py
        return environment

    def _local(self, moment: datetime, labels: Any, locale: str) -> str:
        """A moment as the person reads it: in the estate's timezone, in their locale's words."""
        pattern = str(labels.datetime_format)
        if not _SHOWS_SECONDS.search(pattern):  # then all moments of a minute read the same
            moment = moment.replace(second=0, microsecond=0)
        return _formatted(moment, pattern, self._zone, locale)

    def _day(self, day: date, labels: Any, locale: str) -> str:
        if isinstance(day, datetime):  # a moment's day is the estate's day, not UTC's
            day = day.astimezone(self._zone).date()
        return format_date(day, str(labels.date_format), locale=locale)

    def _money(self, amount: Decimal, locale: str) -> str:
        """Always two decimals, as a price list or a fee notice shows it: ¥1,280.00 / CN¥1,280.00."""
        return format_currency(
            amount, self.currency, locale=locale, currency_digits=False, format="¤#,##0.00"
        )

    def money(self, language: str, amount: Decimal) -> str:
        return self._money(amount, LOCALES.get(language, LOCALES[DEFAULT_LANGUAGE]))

    def render(self, language: str, name: str, **context: Any) -> str:
        """The HTML text of template `name` in `language` (falling back to the default language)."""
        environment = self._environments.get(language, self._environments[DEFAULT_LANGUAGE])
        return environment.get_template(f"{name}.j2").render(**context).strip()

    def label(self, language: str, name: str, **context: Any) -> str:
        """A short plain label from labels.j2, e.g. a button's text."""
        environment = self._environments.get(language, self._environments[DEFAULT_LANGUAGE])
        value = getattr(environment.globals["L"], name)
        return str(value(**context) if callable(value) else value)

    def template_names(self, language: str) -> list[str]:
        return sorted(self._environments[language].list_templates(extensions=["j2"]))


# CLDR pattern letters for seconds and finer ("ss", "SSS", "A"): a pattern with none shows minutes at most.
_SHOWS_SECONDS = re.compile("[sSA]")


@functools.lru_cache(maxsize=1024)
def _formatted(moment: datetime, pattern: str, zone: ZoneInfo, locale: str) -> str:
    # The texts of one busy minute show the same few minutes (now, a due time): Babel, which takes
    # longer than rendering the rest of a text, works each out once.
    return format_datetime(moment, pattern, tzinfo=zone, locale=locale)


def _minutes(duration: timedelta) -> int:
    return max(1, round(duration.total_seconds() / 60))


def percent(share: float) -> str:
    """A share as managers read it: 92%, 97.9%. Rounded down, so a figure shown as meeting its
    target never falls short of it (97.96% is 97.9%, not 98%)."""
    tenths = math.floor(share * 1000 + 1e-9)
    whole, tenth = divmod(tenths, 10)
    return f"{whole}%" if tenth == 0 else f"{whole}.{tenth}%"


def ticket_no(number: int) -> str:
    """Ticket numbers are always shown the same way: #1024."""
    return f"#{number}"
