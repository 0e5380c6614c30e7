"""Shared fixtures: a manual clock, a test estate's roster, a fresh database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.clock import ManualClock
from bot.config import Config
from bot.embedded import EmbeddedEstate, embedded_estate, load_roster
from storage.database import Database

SHANGHAI = ZoneInfo("Asia/Shanghai")

# Two teams of the concierge model, a manager, owners, a resident, a VIP and someone not on Telegram yet.
ROSTER = """\
role,name,team,unit,telegram_id,phone,language,vip
manager,Manager Liu,,,900,138-0000-0900,en,no
butler,Butler A1,A,,101,138-0000-0101,en,no
butler,Butler A2,A,,102,,en,no
butler,Butler A3,A,,103,,en,no
butler,Butler B1,B,,201,,en,no
butler,Butler B2,B,,202,,en,no
owner,Owner Zhang,A,1-101,1101,139-1111-0101,en,no
resident,Resident Tom,,1-101,1102,,en,no
owner,Owner Sun,A,1-302,1302,,zh,no
owner,Owner Chen,B,3-502,3502,139-3333-0502,en,yes
owner,Owner Wu,B,3-601,3601,,en,no
owner,Owner Zhou,B,2-201,,,en,no
"""


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime(2026, 11, 20, 9, 0, tzinfo=SHANGHAI))


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await Database.open(tmp_path / "test.db")
    yield database
    await database.close()


@pytest.fixture
async def rostered_db(db: Database, clock: ManualClock) -> Database:
    await load_roster(db, ROSTER, Config(), clock)
    return db


@pytest.fixture
async def estate(tmp_path: Path, clock: ManualClock) -> AsyncIterator[EmbeddedEstate]:
    async with embedded_estate(tmp_path, ROSTER, clock) as running:
        yield running
        assert running.sandbox.rejections == [], "the bot sent something the Bot API would refuse"


class Cast:
    """The test estate's people as Telegram users of the sandbox."""

    def __init__(self, estate: EmbeddedEstate) -> None:
        user = estate.sandbox.user
        self.manager = user(900, "Liu", language_code="en")
        self.a1 = user(101, "A1", language_code="en")
        self.a2 = user(102, "A2", language_code="en")
        self.a3 = user(103, "A3", language_code="en")
        self.b1 = user(201, "B1", language_code="en")
        self.b2 = user(202, "B2", language_code="en")
        self.zhang = user(1101, "Zhang", language_code="en")  # owner, team A
        self.tom = user(1102, "Tom", language_code="en")  # resident of Zhang's unit
        self.sun = user(1302, "孙梅", language_code="zh-hans")  # owner, team A, Chinese
        self.chen = user(3502, "Chen", language_code="en")  # VIP owner, team B
        self.wu = user(3601, "Wu", language_code="en")  # owner, team B
        self.zhou = user(2201, "Zhou", language_code="en")  # owner, team B, not bound yet
        self.stranger = user(666, "Mallory", language_code="en")


@pytest.fixture
def cast(estate: EmbeddedEstate) -> Cast:
    return Cast(estate)
