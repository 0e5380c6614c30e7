"""The benchmark's estate: a roster as the property company would import it, and a year of tickets.

The roster keeps the domain's ratio (a team of 3 butlers for 4 owners, bot/roster.py), so a household
here is large: the owner and 11 or 12 others (family, nanny, driver) who may all message the bot. It
is imported through the real roster import. The history (closed tickets with their log) is written
straight with sqlite3: setting up is not what is measured, and a year of tickets through the bot
would take an hour.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.clock import SystemClock
from bot.config import Config
from bot.roster import import_roster
from storage.database import Database

OWNERS_PER_TEAM = 4
BUTLERS_PER_TEAM = 3
MANAGER_ID = 7_000_001
FIRST_BUTLER_ID = 5_000_001
FIRST_RESIDENT_ID = 1_000_001
SUMMARY = "厨房水龙头漏水，请派人来修"


@dataclass(frozen=True)
class Household:
    unit: str
    team: int
    people: list[int]  # Telegram ids: the owner first


@dataclass(frozen=True)
class Estate:
    """Who is in the roster, by Telegram id."""

    households: list[Household]
    butlers: dict[int, list[int]]  # team -> its butlers
    manager: int

    @property
    def residents(self) -> list[int]:
        """Everyone in a household, household after household: the first 1,000 live in 20 teams."""
        return [person for household in self.households for person in household.people]

    @property
    def staff(self) -> list[int]:
        return [b for team in self.butlers.values() for b in team] + [self.manager]


def plan_estate(residents: int, teams: int) -> Estate:
    """`residents` people in `teams` teams of 4 households each."""
    households: list[Household] = []
    units = teams * OWNERS_PER_TEAM
    next_id = FIRST_RESIDENT_ID
    for index in range(units):
        size = residents // units + (1 if index < residents % units else 0)
        building, number = divmod(index, 40)
        unit = f"{building + 1}-{number // 4 + 1}{number % 4 + 1:02d}"
        households.append(Household(unit, index // OWNERS_PER_TEAM, list(range(next_id, next_id + size))))
        next_id += size
    butlers = {
        team: [FIRST_BUTLER_ID + team * BUTLERS_PER_TEAM + n for n in range(BUTLERS_PER_TEAM)]
        for team in range(teams)
    }
    return Estate(households, butlers, MANAGER_ID)


def roster_csv(estate: Estate) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(("role", "name", "team", "unit", "telegram_id", "phone", "language", "vip"))
    writer.writerow(("manager", "经理", "", "", estate.manager, "138-0000-0001", "zh", "no"))
    for team, butlers in estate.butlers.items():
        for butler in butlers:
            writer.writerow(("butler", f"管家{butler}", f"T{team:03d}", "", butler, "", "zh", "no"))
    for household in estate.households:
        owner, *others = household.people
        writer.writerow(
            ("owner", f"业主{owner}", f"T{household.team:03d}", household.unit, owner, "", "zh", "no")
        )
        for person in others:
            writer.writerow(("resident", f"住户{person}", "", household.unit, person, "", "zh", "no"))
    return out.getvalue()


async def import_estate(path: Path, estate: Estate, config: Config) -> None:
    db = await Database.open(path)
    try:
        async with db.begin() as conn:
            report = await import_roster(conn, roster_csv(estate), config, SystemClock().now())
    finally:
        await db.close()
    if not report.ok:
        raise RuntimeError("benchmark roster refused: " + "; ".join(report.errors[:5]))


def _stored(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ")


def add_history(path: Path, tickets: int, now: datetime) -> None:
    """`tickets` closed tickets over the past year, each with the log a ticket gathers."""
    db = sqlite3.connect(path)
    with db:
        people = db.execute(
            "SELECT p.id, p.unit, p.team_id, o.id FROM people p JOIN people o"
            " ON o.unit = p.unit AND o.role = 'owner' WHERE p.role IN ('owner', 'resident')"
        ).fetchall()
        butlers: dict[int, list[int]] = {}
        for butler, team in db.execute("SELECT id, team_id FROM people WHERE role = 'butler'"):
            butlers.setdefault(team, []).append(butler)
        owner_team = dict(db.execute("SELECT id, team_id FROM people WHERE role = 'owner'").fetchall())
        (first,) = db.execute("SELECT coalesce(max(number), 1000) + 1 FROM tickets").fetchone()
        year = timedelta(days=365).total_seconds()
        rows, events = [], []
        for n in range(tickets):
            person, _, _, owner = people[(n * 7919) % len(people)]
            team = owner_team[owner]
            butler = butlers[team][n % len(butlers[team])]
            opened = now - timedelta(seconds=year * (tickets - n) / tickets)
            times = [_stored(opened + timedelta(minutes=m)) for m in (0, 2, 180, 200)]
            due = _stored(opened + timedelta(days=2))
            rows.append((first + n, person, owner, team, butler, SUMMARY, *times, due, times[3], times[3]))
            events.append((first + n, times, person, butler))
        db.executemany(
            "INSERT INTO tickets (estate_id, number, requester_id, owner_id, team_id, butler_id, category,"
            " state, summary, created_at, accepted_at, resolved_at, closed_at, due_at, last_activity_at,"
            " return_visit_at, rating, return_visit_by)"
            " VALUES (1, ?, ?, ?, ?, ?, 'repair', 'closed', ?, ?, ?, ?, ?, ?, ?, ?, 5, 'survey')",
            rows,
        )
        ids = dict(db.execute("SELECT number, id FROM tickets WHERE number >= ?", (first,)).fetchall())
        db.executemany(
            "INSERT INTO ticket_events (ticket_id, at, actor_id, kind, detail) VALUES (?, ?, ?, ?, ?)",
            (
                (ids[number], at, actor, kind, detail)
                for number, times, person, butler in events
                for at, actor, kind, detail in (
                    (times[0], person, "created", json.dumps({"text": SUMMARY})),
                    (times[0], None, "assigned", f'{{"butler_id": {butler}}}'),
                    (times[1], butler, "accepted", "{}"),
                    (times[2], butler, "resolved", "{}"),
                    (times[3], person, "confirmed", "{}"),
                )
            ),
        )
    db.execute("ANALYZE")
    db.close()


def build_estate(path: Path, estate: Estate, tickets: int, config: Config) -> None:
    asyncio.run(import_estate(path, estate, config))
    if tickets:
        add_history(path, tickets, SystemClock().now() - timedelta(days=1))
