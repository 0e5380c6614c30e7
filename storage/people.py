"""Queries about who is who: people, teams, estates, invites."""

from __future__ import annotations

from collections.abc import Collection
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.model import Person, Role
from storage.prepared import Prepared, Record
from storage.schema import estates, people, teams

# What a Person is made of: selecting only these spares reading the row's bookkeeping times.
PERSON_COLUMNS = (
    people.c.id,
    people.c.estate_id,
    people.c.role,
    people.c.name,
    people.c.team_id,
    people.c.unit,
    people.c.telegram_id,
    people.c.phone,
    people.c.language,
    people.c.vip,
    people.c.on_duty,
    people.c.active,
    people.c.unreachable_at,
)


def to_person(row: Row[Any] | Record) -> Person:
    return Person(
        id=row.id,
        estate_id=row.estate_id,
        role=Role(row.role),
        name=row.name,
        team_id=row.team_id,
        unit=row.unit,
        telegram_id=row.telegram_id,
        phone=row.phone,
        language=row.language,
        vip=bool(row.vip),
        on_duty=bool(row.on_duty),
        active=bool(row.active),
        unreachable=row.unreachable_at is not None,
    )


_BY_TELEGRAM_ID = Prepared(
    sa.select(*PERSON_COLUMNS).where(people.c.telegram_id == sa.bindparam("telegram_id"), people.c.active)
)


async def person_by_telegram_id(conn: AsyncConnection, telegram_id: int) -> Person | None:
    row = await _BY_TELEGRAM_ID.first(conn, telegram_id=telegram_id)
    return to_person(row) if row is not None else None


async def mark_unreachable(conn: AsyncConnection, person_id: int, now: datetime) -> bool:
    """Telegram refused a message to them; True if they were reachable until now."""
    result = await conn.execute(
        people.update()
        .where(people.c.id == person_id, people.c.unreachable_at.is_(None))
        .values(unreachable_at=now)
    )
    return bool(result.rowcount)


async def mark_reachable(conn: AsyncConnection, person_id: int) -> bool:
    """A message reached them again; True if they were marked unreachable until now."""
    result = await conn.execute(
        people.update()
        .where(people.c.id == person_id, people.c.unreachable_at.is_not(None))
        .values(unreachable_at=None)
    )
    return bool(result.rowcount)


async def unreachable_accounts(conn: AsyncConnection) -> set[int]:
    """The Telegram accounts of everyone marked unreachable."""
    rows = await conn.execute(
        sa.select(people.c.telegram_id).where(
            people.c.unreachable_at.is_not(None), people.c.telegram_id.is_not(None)
        )
    )
    return {int(row.telegram_id) for row in rows}


async def unreachable_among(conn: AsyncConnection, telegram_ids: Collection[int]) -> list[Person]:
    """The people of these accounts who are marked unreachable (cheap: accounts are unique)."""
    rows = await conn.execute(
        sa.select(*PERSON_COLUMNS).where(
            people.c.telegram_id.in_(sorted(telegram_ids)), people.c.unreachable_at.is_not(None)
        )
    )
    return [to_person(row) for row in rows]


async def choose_language(conn: AsyncConnection, person_id: int, language: str, now: datetime) -> None:
    """The person's own choice, which a later roster import keeps."""
    await conn.execute(
        people.update().where(people.c.id == person_id).values(language=language, language_chosen_at=now)
    )


_BY_ID = Prepared(sa.select(*PERSON_COLUMNS).where(people.c.id == sa.bindparam("person_id")))


async def person_by_id(conn: AsyncConnection, person_id: int) -> Person:
    row = await _BY_ID.first(conn, person_id=person_id)
    if row is None:
        raise LookupError(f"no person {person_id}")
    return to_person(row)


async def people_by_ids(conn: AsyncConnection, ids: AbstractSet[int | None]) -> list[Person]:
    wanted = [person_id for person_id in ids if person_id is not None]
    rows = await conn.execute(sa.select(*PERSON_COLUMNS).where(people.c.id.in_(wanted)))
    return [to_person(row) for row in rows]


_OWNER_OF_UNIT = Prepared(
    sa.select(*PERSON_COLUMNS)
    .where(
        people.c.estate_id == sa.bindparam("estate_id"),
        people.c.role == Role.OWNER,
        people.c.unit == sa.bindparam("unit"),
        people.c.active,
    )
    .order_by(people.c.id)
    .limit(1)
)


async def owner_of_unit(conn: AsyncConnection, estate_id: int, unit: str) -> Person | None:
    row = await _OWNER_OF_UNIT.first(conn, estate_id=estate_id, unit=unit)
    return to_person(row) if row is not None else None


async def butlers_of_team(conn: AsyncConnection, team_id: int) -> list[Person]:
    """The team's butlers, designated first butler first."""
    return [to_person(row) for row in await _BUTLERS_OF_TEAM.all(conn, team_id=team_id)]


_BUTLERS_OF_TEAM = Prepared(
    sa.select(*PERSON_COLUMNS)
    .where(people.c.team_id == sa.bindparam("team_id"), people.c.role == Role.BUTLER, people.c.active)
    .order_by(people.c.team_rank, people.c.id)
)


async def managers_of_estate(conn: AsyncConnection, estate_id: int) -> list[Person]:
    rows = await conn.execute(
        sa.select(*PERSON_COLUMNS)
        .where(people.c.estate_id == estate_id, people.c.role == Role.MANAGER, people.c.active)
        .order_by(people.c.id)
    )
    return [to_person(row) for row in rows]


async def butlers_of_estate(conn: AsyncConnection, estate_id: int) -> list[Person]:
    """Every butler on the roster, team by team, each team's first butler first."""
    rows = await conn.execute(
        sa.select(*PERSON_COLUMNS)
        .where(people.c.estate_id == estate_id, people.c.role == Role.BUTLER, people.c.active)
        .order_by(people.c.team_id, people.c.team_rank, people.c.id)
    )
    return [to_person(row) for row in rows]


async def team_name(conn: AsyncConnection, team_id: int | None) -> str | None:
    if team_id is None:
        return None
    name: str | None = await _TEAM_NAME.scalar(conn, team_id=team_id)
    return name


_TEAM_NAME = Prepared(sa.select(teams.c.name).where(teams.c.id == sa.bindparam("team_id")))


async def estate_timezone(conn: AsyncConnection, estate_id: int) -> str:
    zone = (await conn.execute(sa.select(estates.c.timezone).where(estates.c.id == estate_id))).scalar_one()
    return str(zone)


async def estate_zone(conn: AsyncConnection, estate_id: int) -> ZoneInfo:
    """The estate's timezone: its days are the ones figures are counted by."""
    return ZoneInfo(await estate_timezone(conn, estate_id))


class UnknownEstate(ValueError):
    """A command names no estate the database holds, or names none while it holds several."""


@dataclass(frozen=True)
class EstateRef:
    id: int
    name: str
    zone: ZoneInfo


async def estate_named(conn: AsyncConnection, name: str | None) -> EstateRef:
    """The estate a command is for: the one named, or the only one the database holds."""
    found = (await conn.execute(sa.select(estates).order_by(estates.c.name))).all()
    names = ", ".join(row.name for row in found)
    if not found:
        raise UnknownEstate("the database holds no estate yet; import a roster first")
    if name is None and len(found) > 1:
        raise UnknownEstate(f"the database holds several estates; choose one with --estate: {names}")
    chosen = [row for row in found if name is None or row.name == name]
    if not chosen:
        raise UnknownEstate(f"no estate named {name!r}; the database holds: {names}")
    return EstateRef(int(chosen[0].id), str(chosen[0].name), ZoneInfo(str(chosen[0].timezone)))


async def ensure_estate(conn: AsyncConnection, name: str, timezone: str) -> int:
    estate_id = (await conn.execute(sa.select(estates.c.id).where(estates.c.name == name))).scalar()
    if estate_id is not None:
        await conn.execute(estates.update().where(estates.c.id == estate_id).values(timezone=timezone))
        return int(estate_id)
    result = await conn.execute(estates.insert().values(name=name, timezone=timezone))
    return int(result.inserted_primary_key[0])  # type: ignore[index]


async def ensure_team(conn: AsyncConnection, estate_id: int, name: str) -> int:
    team_id = (
        await conn.execute(sa.select(teams.c.id).where(teams.c.estate_id == estate_id, teams.c.name == name))
    ).scalar()
    if team_id is not None:
        return int(team_id)
    result = await conn.execute(teams.insert().values(estate_id=estate_id, name=name))
    return int(result.inserted_primary_key[0])  # type: ignore[index]
