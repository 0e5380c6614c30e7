"""Who is who: importing the estate's roster from a spreadsheet, invite codes, and binding accounts.

The roster CSV has the columns role,name,team,unit,telegram_id,phone,language,vip. A person is
identified by role and name, plus the unit for owners and residents: re-importing the same file
updates people in place, and changing someone's team or phone is an edit, not a new person.
"""

from __future__ import annotations

import csv
import io
import secrets
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.config import Config
from bot.model import Person, Role
from storage import people as people_queries
from storage.schema import access_attempts, estates, invites, people

COLUMNS = ("role", "name", "team", "unit", "telegram_id", "phone", "language", "vip")
LANGUAGES = ("zh", "en")
_YES = {"yes", "y", "true", "1", "是"}
_NO = {"no", "n", "false", "0", "否", ""}
# The concierge ratio (管家式服务): a team of 2–3 butlers for at most 4 owners.
TEAM_BUTLERS = (2, 3)
TEAM_MAX_OWNERS = 4
INVITE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I to misread
INVITE_LENGTH = 16  # 16 symbols of 32 = 80 bits of randomness
# Guessing codes: an account that sent this many wrong codes within the hour is refused until the hour
# has passed, its codes not even checked.
INVITE_TRIES = 5
INVITE_TRIES_WITHIN = timedelta(hours=1)
STRANGER_ANSWER_EVERY = timedelta(minutes=1)
# Kinds of a stranger's attempt besides the handlers' own ("start", "message", "command", "button" ...).
WRONG_CODE = "start_with_code"
LOCKED_OUT = "start_locked_out"


@dataclass(frozen=True)
class RosterRow:
    line: int  # the row's number as a spreadsheet shows it (the header is row 1)
    role: Role
    name: str
    team: str | None
    unit: str | None
    telegram_id: int | None
    phone: str | None
    language: str
    vip: bool

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.role.value, self.roster_key, self.name)

    @property
    def roster_key(self) -> str:
        return self.unit or "" if self.role.is_household else ""


@dataclass(frozen=True)
class Invite:
    name: str
    role: Role
    unit: str | None
    code: str


@dataclass
class ImportReport:
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    created: int = 0
    updated: int = 0
    invites: list[Invite] = field(default_factory=list)
    deactivated: list[tuple[str, str]] = field(default_factory=list)  # (name, role) no longer in the file

    @property
    def ok(self) -> bool:
        return not self.errors


def parse_roster(text: str) -> tuple[list[RosterRow], list[str]]:
    """Read and check every row; returns the rows and a list of 'row N: reason' errors."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [name.strip().lower() for name in (reader.fieldnames or [])]
    missing = [column for column in COLUMNS if column not in header]
    unknown = [column for column in header if column not in COLUMNS]
    if missing or unknown:
        problems = []
        if missing:
            problems.append(f"missing column(s) {', '.join(missing)}")
        if unknown:
            problems.append(f"unknown column(s) {', '.join(unknown)}")
        return [], [f"row 1 (header): {'; '.join(problems)}; expected {','.join(COLUMNS)}"]
    reader.fieldnames = header
    rows: list[RosterRow] = []
    errors: list[str] = []
    for raw in reader:
        line = reader.line_num  # the spreadsheet's row, counting the empty lines the reader skips
        values = {column: (raw.get(column) or "").strip() for column in COLUMNS}
        if not any(values.values()):
            continue  # a blank spreadsheet line
        if None in raw:
            errors.append(f"row {line}: more cells than columns")
            continue
        row, reasons = _check_row(line, values)
        errors.extend(f"row {line}: {reason}" for reason in reasons)
        if row is not None:
            rows.append(row)
    errors.extend(_check_across_rows(rows))
    return rows, errors


def _check_row(line: int, values: dict[str, str]) -> tuple[RosterRow | None, list[str]]:
    reasons = []
    try:
        role = Role(values["role"].lower())
    except ValueError:
        reasons.append(f"role {values['role']!r} is not one of owner, resident, butler, manager")
        return None, reasons
    if not values["name"]:
        reasons.append("name is empty")
    if role in (Role.OWNER, Role.BUTLER) and not values["team"]:
        reasons.append(f"a {role.value} needs a team")
    if role.is_household and not values["unit"]:
        reasons.append(f"a {role.value} needs a unit")
    if not role.is_household and values["unit"]:
        reasons.append(f"a {role.value} has no unit (got {values['unit']!r})")
    telegram_id = None
    if values["telegram_id"]:
        if values["telegram_id"].isdigit() and int(values["telegram_id"]) > 0:
            telegram_id = int(values["telegram_id"])
        else:
            reasons.append(f"telegram_id {values['telegram_id']!r} is not a positive number")
    language = values["language"].lower() or "zh"
    if language not in LANGUAGES:
        reasons.append(f"language {values['language']!r} is not zh or en")
    vip_text = values["vip"].lower()
    if vip_text not in _YES | _NO:
        reasons.append(f"vip {values['vip']!r} is not yes or no")
    phone = values["phone"] or None
    if phone and not all(ch.isdigit() or ch in "+- ()" for ch in phone):
        reasons.append(f"phone {phone!r} has characters a phone number does not")
    if reasons:
        return None, reasons
    return (
        RosterRow(
            line=line,
            role=role,
            name=values["name"],
            team=values["team"] or None,
            unit=values["unit"] or None,
            telegram_id=telegram_id,
            phone=phone,
            language=language,
            vip=vip_text in _YES,
        ),
        [],
    )


def _check_across_rows(rows: list[RosterRow]) -> list[str]:
    errors = []
    seen: dict[tuple[str, str, str], int] = {}
    telegram_ids: dict[int, int] = {}
    owner_units = {row.unit: row for row in rows if row.role == Role.OWNER}
    for row in rows:
        if row.key in seen:
            errors.append(f"row {row.line}: the same person as row {seen[row.key]}")
        seen.setdefault(row.key, row.line)
        if row.telegram_id is not None:
            if row.telegram_id in telegram_ids:
                first = telegram_ids[row.telegram_id]
                errors.append(f"row {row.line}: telegram_id {row.telegram_id} is already on row {first}")
            telegram_ids.setdefault(row.telegram_id, row.line)
        if row.role == Role.RESIDENT:
            owner = owner_units.get(row.unit)
            if owner is None:
                errors.append(f"row {row.line}: no owner of unit {row.unit!r} in the file")
            elif row.team and row.team != owner.team:
                errors.append(
                    f"row {row.line}: team {row.team!r} differs from the owner's team {owner.team!r}"
                    f" (row {owner.line})"
                )
    return errors


def concierge_warnings(rows: list[RosterRow]) -> list[str]:
    butlers = Counter(row.team for row in rows if row.role == Role.BUTLER)
    owners = Counter(row.team for row in rows if row.role == Role.OWNER)
    warnings = []
    for team in sorted({*butlers, *owners}, key=str):
        low, high = TEAM_BUTLERS
        if not low <= butlers[team] <= high:
            warnings.append(f"team {team}: {butlers[team]} butler(s); the concierge model has {low}–{high}")
        if owners[team] > TEAM_MAX_OWNERS:
            warnings.append(
                f"team {team}: {owners[team]} owners; the concierge model has at most {TEAM_MAX_OWNERS}"
            )
    return warnings


async def import_roster(conn: AsyncConnection, text: str, config: Config, now: datetime) -> ImportReport:
    """Check the whole file, then write all of it or (on any error) nothing."""
    rows, errors = parse_roster(text)
    report = ImportReport(errors=errors)
    if errors:
        return report
    # An account is one person's, in one estate: the database holds each telegram_id once.
    this_estate = (
        await conn.execute(sa.select(estates.c.id).where(estates.c.name == config.estate_name))
    ).scalar()
    taken = {
        row.telegram_id: row
        for row in (
            await conn.execute(
                sa.select(
                    people.c.telegram_id,
                    people.c.role,
                    people.c.roster_key,
                    people.c.name,
                    people.c.estate_id,
                    estates.c.name.label("estate"),
                )
                .join(estates, estates.c.id == people.c.estate_id)
                .where(people.c.telegram_id.in_([r.telegram_id for r in rows if r.telegram_id is not None]))
            )
        ).all()
    }
    for row in rows:
        holder = taken.get(row.telegram_id) if row.telegram_id is not None else None
        if holder is None:
            continue
        owner = f"{holder.name} ({holder.role})"
        if holder.estate_id != this_estate:
            owner += f" of estate {holder.estate!r}"
        elif (holder.role, holder.roster_key, holder.name) == row.key:
            continue  # this very person, imported again
        report.errors.append(f"row {row.line}: telegram_id {row.telegram_id} already belongs to {owner}")
    if report.errors:
        return report
    report.warnings = concierge_warnings(rows)
    # Every check is done before the first write: a file with errors changes nothing.
    estate_id = await people_queries.ensure_estate(conn, config.estate_name, config.timezone)

    team_ids = {team: await people_queries.ensure_team(conn, estate_id, team) for team in _teams(rows)}
    owner_team = {row.unit: row.team for row in rows if row.role == Role.OWNER}
    rank: defaultdict[str | None, int] = defaultdict(int)
    in_file: set[int] = set()
    for row in rows:
        team = owner_team.get(row.unit) if row.role == Role.RESIDENT else row.team
        values = {
            "team_id": team_ids.get(team) if team else None,
            "unit": row.unit,
            "phone": row.phone,
            "vip": row.vip,
            "team_rank": rank[team] if row.role == Role.BUTLER else 0,
            "updated_at": now,
            "active": True,
        }
        if row.role == Role.BUTLER:
            rank[team] += 1
        if row.telegram_id is not None:
            values["telegram_id"] = row.telegram_id
        identity = (
            (people.c.estate_id == estate_id)
            & (people.c.role == row.role.value)
            & (people.c.roster_key == row.roster_key)
            & (people.c.name == row.name)
        )
        existing = (await conn.execute(sa.select(people.c.id).where(identity))).scalar()
        if existing is None:
            inserted = await conn.execute(
                people.insert().values(
                    estate_id=estate_id,
                    role=row.role.value,
                    name=row.name,
                    roster_key=row.roster_key,
                    created_at=now,
                    language=row.language,
                    **values,
                )
            )
            in_file.add(int(inserted.inserted_primary_key[0]))  # type: ignore[index]
            report.created += 1
        else:
            # A language the person chose themselves (/language) stands; the file's is only the default.
            language = sa.case((people.c.language_chosen_at.is_(None), row.language), else_=people.c.language)
            await conn.execute(
                people.update().where(people.c.id == existing).values(**values, language=language)
            )
            in_file.add(int(existing))
            report.updated += 1
    report.deactivated = await _deactivate_everyone_else(conn, estate_id, in_file, now)
    report.warnings.extend(
        f"{name} ({role}) is no longer in the roster: kept for history, no longer served or routed to"
        for name, role in report.deactivated
    )
    report.invites = await _invites_for_unbound(conn, estate_id, now, config.invite_valid_for)
    return report


async def _deactivate_everyone_else(
    conn: AsyncConnection, estate_id: int, keep: set[int], now: datetime
) -> list[tuple[str, str]]:
    """Whoever the file no longer lists leaves service (a butler who left, the owner of a sold unit)."""
    leaving = (
        await conn.execute(
            sa.select(people.c.id, people.c.name, people.c.role)
            .where(people.c.estate_id == estate_id, people.c.active, people.c.id.not_in(keep))
            .order_by(people.c.id)
        )
    ).all()
    if leaving:
        await conn.execute(
            people.update()
            .where(people.c.id.in_([row.id for row in leaving]))
            .values(active=False, updated_at=now)
        )
    return [(row.name, row.role) for row in leaving]


def _teams(rows: list[RosterRow]) -> list[str]:
    return sorted({row.team for row in rows if row.team and row.role != Role.RESIDENT})


async def _invites_for_unbound(
    conn: AsyncConnection, estate_id: int, now: datetime, valid_for: timedelta
) -> list[Invite]:
    """Everyone not yet on Telegram gets a code; a still-valid code is shown again, not replaced."""
    unbound = (
        await conn.execute(
            sa.select(people)
            .where(people.c.estate_id == estate_id, people.c.telegram_id.is_(None), people.c.active)
            .order_by(people.c.id)
        )
    ).all()
    result = []
    for person in unbound:
        code = (
            await conn.execute(
                sa.select(invites.c.code).where(
                    invites.c.person_id == person.id, invites.c.used_at.is_(None), invites.c.expires_at > now
                )
            )
        ).scalar()
        if code is None:
            code = new_invite_code()
            await conn.execute(
                invites.insert().values(
                    code=code, person_id=person.id, created_at=now, expires_at=now + valid_for
                )
            )
        result.append(Invite(person.name, Role(person.role), person.unit, code))
    return result


def new_invite_code() -> str:
    return "".join(secrets.choice(INVITE_ALPHABET) for _ in range(INVITE_LENGTH))


async def redeem_invite(conn: AsyncConnection, code: str, telegram_id: int, now: datetime) -> Person | None:
    """Bind a Telegram account to the person an invite names. None if the code is not (or no longer) valid."""
    invite = (
        await conn.execute(
            sa.select(invites)
            .join(people, people.c.id == invites.c.person_id)
            .where(
                invites.c.code == code.strip().upper(),
                invites.c.used_at.is_(None),
                invites.c.expires_at > now,
                people.c.active,  # someone who left the roster cannot join with an old code
            )
        )
    ).first()
    if invite is None:
        return None
    person = await people_queries.person_by_id(conn, invite.person_id)
    if person.telegram_id is not None:
        return None
    holder = (
        await conn.execute(sa.select(people.c.id, people.c.active).where(people.c.telegram_id == telegram_id))
    ).first()
    if holder is not None:
        if holder.active:
            return None  # the account is someone else's on the roster: one account, one person
        # It was someone's who left the roster (a resident who moved to another unit comes back as a new
        # entry): the old entry keeps its history by id, and the account moves to the new one.
        await conn.execute(
            people.update().where(people.c.id == holder.id).values(telegram_id=None, updated_at=now)
        )
    await conn.execute(invites.update().where(invites.c.code == invite.code).values(used_at=now))
    await conn.execute(
        people.update().where(people.c.id == person.id).values(telegram_id=telegram_id, updated_at=now)
    )
    return await people_queries.person_by_id(conn, person.id)


async def note_stranger(
    conn: AsyncConnection, telegram_id: int, kind: str, now: datetime, *, answered: bool = False
) -> None:
    """Someone not on the roster wrote: keep that they tried (and whether they were answered), never what
    they wrote."""
    await conn.execute(
        access_attempts.insert().values(telegram_id=telegram_id, kind=kind, at=now, answered=answered)
    )


async def may_answer_stranger(conn: AsyncConnection, telegram_id: int, now: datetime) -> bool:
    """A stranger is answered at most once every STRANGER_ANSWER_EVERY: one who floods the bot must not
    make it flood back (every attempt is still noted)."""
    last = (
        await conn.execute(
            sa.select(sa.func.max(access_attempts.c.at)).where(
                access_attempts.c.telegram_id == telegram_id, access_attempts.c.answered
            )
        )
    ).scalar()
    return last is None or last <= now - STRANGER_ANSWER_EVERY


async def codes_locked_until(conn: AsyncConnection, telegram_id: int, now: datetime) -> datetime | None:
    """After INVITE_TRIES wrong invite codes within INVITE_TRIES_WITHIN, the account's codes are not even
    checked until the moment returned (the oldest of those tries leaves the window); None: not locked.

    Tries refused while locked are noted as LOCKED_OUT, not as wrong codes, so they do not push the
    moment further: the time the person is told holds."""
    recent: list[datetime] = list(
        (
            await conn.execute(
                sa.select(access_attempts.c.at)
                .where(
                    access_attempts.c.telegram_id == telegram_id,
                    access_attempts.c.kind == WRONG_CODE,
                    access_attempts.c.at > now - INVITE_TRIES_WITHIN,
                )
                .order_by(access_attempts.c.at.desc())
                .limit(INVITE_TRIES)
            )
        )
        .scalars()
        .all()
    )
    if len(recent) < INVITE_TRIES:
        return None
    return min(recent) + INVITE_TRIES_WITHIN


def read_roster_file(path: Path) -> str:
    return path.read_text(encoding="utf-8-sig")
