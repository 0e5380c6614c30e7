"""Announcements (公告): a manager's notice to the whole estate, one building, or the VIP owners.

In chat: /announce offers the audiences as buttons, the manager replies with the text, sees a preview of
exactly what residents receive and how many it reaches, and presses Send (or Cancel). Only the manager who
drafted it can send it, and only once. From the command line, `guanjia announce` (bot/cli.py) does the same.

Sending is one transaction: the announcement, a delivery row per recipient, and their outbox rows, marked
bulk so that the service's own messages (a new ticket's card) go first (bot/sender.py). The outbox delivers
each row once and marks it sent, so a graceful restart half-way sends nobody a second copy. A resident who
blocked the bot is tried once, like any message (bot/reachability.py), and counted. The report is an estate
clock, so it survives restarts too: it looks every REPORT_EVERY until every delivery has settled, then tells
the author (all the estate's managers for one sent from the command line) how it went.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from bot import cards, outbox
from bot.clock import Clock
from bot.model import Incoming, Outcome, Person, PressedOn, Role
from bot.notify import Notifier
from bot.outbox import Button, Keyboard
from bot.texts import LANGUAGES, Texts
from storage import announcements as queries
from storage import clocks as clock_queries
from storage import people as people_queries
from storage.announcements import CANCELLED, CHOOSING, READY, SENT, WRITING, Announcement, Tally
from storage.clocks import DueClock
from storage.database import Database

REPORT_CLOCK = "announcement_report"
REPORT_EVERY = timedelta(seconds=30)  # how often the report clock looks whether every delivery has settled
TEXT_WANTED = "announcement:"  # + the draft's id: what the prompt for an announcement's text expects
# A manager's next message counts as the text of their draft, even without replying to the prompt, while
# the draft is this recent: force-reply is only a suggestion in most Telegram apps.
TEXT_WINDOW = timedelta(hours=1)
MAX_TEXT = 4096  # what one Telegram message holds; with the heading it may become two, split at a line
RECENT = 3  # announcements whose figures /announce shows
BUTTONS_PER_ROW = 3


@dataclass(frozen=True)
class Audience:
    """Who an announcement is for: "estate", "vip" (VIP owners), or "building" with its name."""

    kind: str
    building: str | None = None

    @classmethod
    def read(cls, text: str) -> Audience | None:
        """Read an audience as stored, and as `guanjia announce --to` takes it: estate, vip, building:N."""
        text = text.strip()
        if text in ("estate", "vip"):
            return cls(text)
        kind, _, building = text.partition(":")
        return cls("building", building.strip()) if kind == "building" and building.strip() else None

    def __str__(self) -> str:
        return f"building:{self.building}" if self.kind == "building" else self.kind

    def includes(self, person: Person) -> bool:
        if self.kind == "vip":
            return person.role == Role.OWNER and person.vip
        if self.kind == "building":
            return building_of(person.unit) == self.building
        return True


def building_of(unit: str | None) -> str | None:
    """The building of a unit: "1" for 1-101. A unit without a dash belongs to no building."""
    building, dash, _ = (unit or "").partition("-")
    return (building.strip() or None) if dash else None


def _building_order(building: str) -> tuple[int, int, str]:
    return (0, int(building), "") if re.fullmatch("[0-9]{1,9}", building) else (1, 0, building)


@dataclass(frozen=True)
class Reach:
    """The people an audience reaches, as the preview counts them."""

    people: tuple[Person, ...]

    @property
    def total(self) -> int:
        return len(self.people)

    @property
    def on_telegram(self) -> int:
        return sum(person.telegram_id is not None for person in self.people)

    @property
    def not_on_telegram(self) -> int:
        return self.total - self.on_telegram

    @property
    def blocked(self) -> int:
        """Known to refuse the bot's messages: each is still tried once."""
        return sum(person.telegram_id is not None and person.unreachable for person in self.people)

    def languages(self) -> dict[str, int]:
        return {
            language: sum(person.language == language for person in self.people)
            for language in LANGUAGES
            if any(person.language == language for person in self.people)
        }


@dataclass(frozen=True)
class Notice:
    """An announcement as the templates show it."""

    number: int | None  # None while it is a draft
    audience: Audience
    text: str
    author: str | None  # the manager's name; None: from the property service centre as a whole


@dataclass(frozen=True)
class SentFigures:
    """An announcement sent earlier, and how its deliveries went so far (shown by /announce)."""

    number: int
    audience: Audience
    sent_at: datetime
    tally: Tally


class AnnounceRefused(ValueError):
    """`guanjia announce` cannot do as asked (no such estate, building or manager ...); says why."""


def check_text(text: str) -> str:
    """The announcement's text as it will be sent; AnnounceRefused when empty or too long."""
    text = text.strip()
    if not text:
        raise AnnounceRefused("the announcement is empty")
    if len(text) > MAX_TEXT:
        raise AnnounceRefused(f"the announcement has {len(text)} characters; at most {MAX_TEXT} fit")
    return text


class Announcements:
    def __init__(self, db: Database, clock: Clock, notifier: Notifier) -> None:
        self._db = db
        self._clock = clock
        self._notify = notifier

    # ---- drafting in chat ----------------------------------------------------------------------------

    async def start(self, manager: Person) -> None:
        """/announce: the audiences to choose from, each with how many it reaches, and recent figures."""
        async with self._db.begin() as conn:
            household = await queries.household(conn, manager.estate_id)
            if not household:
                await self._notify.tell(conn, manager, "announce_nobody")
                return
            choices = _audiences(household)
            draft_id = await queries.insert(
                conn,
                estate_id=manager.estate_id,
                author_id=manager.id,
                status=CHOOSING,
                choices=[str(choice) for choice in choices],
                now=self._clock.now(),
            )
            buttons: dict[str, list[Button]] = {"estate": [], "building": [], "vip": []}
            for index, choice in enumerate(choices):
                count = sum(choice.includes(person) for person in household)
                buttons[choice.kind].append(self._choice_button(manager, draft_id, index, choice, count))
            # The whole estate on a row of its own, the buildings a few to a row, the VIP owners last.
            rows = [buttons["estate"]]
            rows += [
                buttons["building"][i : i + BUTTONS_PER_ROW]
                for i in range(0, len(buttons["building"]), BUTTONS_PER_ROW)
            ]
            rows += [buttons["vip"]] if buttons["vip"] else []
            await self._notify.tell(
                conn,
                manager,
                "announce_choose",
                buttons=rows,
                announcements_recent=await self._recent(conn, manager.estate_id),
            )

    def _choice_button(
        self, manager: Person, draft_id: int, index: int, choice: Audience, count: int
    ) -> Button:
        action = f"announce_to:{draft_id}:{index}"
        if choice.kind == "building":
            return self._notify.button(
                manager, "button_announce_building", action, building=choice.building, count=count
            )
        return self._notify.button(manager, f"button_announce_{choice.kind}", action, count=count)

    async def choose(self, manager: Person, draft_id: int, index: int, pressed: PressedOn) -> Outcome:
        """An audience button: the manager is asked for the text."""
        async with self._db.begin() as conn:
            draft = await _draft_of(conn, manager, draft_id)
            if isinstance(draft, Outcome):
                return draft
            if draft.status != CHOOSING:
                return Outcome.SETTLED
            audience = Audience.read(draft.choices[index]) if index < len(draft.choices) else None
            if audience is None:
                return Outcome.UNKNOWN
            now = self._clock.now()
            await queries.move(conn, draft.id, (CHOOSING,), status=WRITING, audience=str(audience))
            await cards.retire_pressed(conn, pressed, None, now=now)
            await self._ask_for_text(
                conn,
                manager,
                draft.id,
                "announce_write",
                announcement_audience=audience,
                announcement_reach=await self.reach(conn, manager.estate_id, audience),
            )
            return Outcome.DONE

    async def take_text(self, person: Person, incoming: Incoming) -> bool:
        """Whether a manager's message is the text of their announcement being drafted; if so, it is taken
        and previewed. Anything else (a reply to a ticket's message ...) is not touched: False."""
        if person.role != Role.MANAGER:
            return False
        # Looking first, without writing: a message that is not for an announcement must leave the
        # update's first write, its claim (storage/updates.py), to the decision it is for.
        async with self._db.read() as conn:
            draft = await self._draft_written_to(conn, person, incoming)
        if draft is None:
            return False
        async with self._db.begin() as conn:
            draft = await queries.by_id(conn, draft.id)
            assert draft is not None and draft.audience is not None
            if draft.status not in (WRITING, READY):
                await self._notify.tell(conn, person, "announce_closed", announcement_status=draft.status)
                return True
            text = incoming.text.strip()
            if incoming.is_media or not text:
                await self._ask_for_text(conn, person, draft.id, "announce_text_only")
                return True
            now = self._clock.now()
            if draft.preview_row is not None and person.telegram_id is not None:
                # A new text replaces the one previewed before: its Send button must not send the old one.
                await cards.retire_buttons(conn, person.telegram_id, draft.preview_row, None, now=now)
            audience = Audience.read(draft.audience)
            assert audience is not None
            buttons: Keyboard = [
                [
                    self._notify.button(person, "button_announce_send", f"announce_send:{draft.id}"),
                    self._notify.button(person, "button_announce_cancel", f"announce_cancel:{draft.id}"),
                ]
            ]
            preview_row = await self._notify.tell(
                conn,
                person,
                "announce_preview",
                buttons=buttons,
                expects=f"{TEXT_WANTED}{draft.id}",  # a reply to the preview replaces the text
                announcement=Notice(None, audience, text, person.name),
                announcement_reach=await self.reach(conn, person.estate_id, audience),
            )
            await queries.move(
                conn, draft.id, (WRITING, READY), status=READY, text=text, preview_row=preview_row
            )
            return True

    async def _draft_written_to(
        self, conn: AsyncConnection, manager: Person, incoming: Incoming
    ) -> Announcement | None:
        """The draft a message is the text of: the one whose prompt or preview it replies to; without a
        reply, the manager's recent draft still waiting for its text."""
        if incoming.reply_to_message_id is None:
            return await queries.awaiting_text(conn, manager.id, self._clock.now() - TEXT_WINDOW)
        replied = await outbox.sent_message(conn, incoming.chat_id, incoming.reply_to_message_id)
        if replied is None or replied.expects is None or not replied.expects.startswith(TEXT_WANTED):
            return None
        draft = await queries.by_id(conn, int(replied.expects.removeprefix(TEXT_WANTED)))
        return draft if draft is not None and draft.author_id == manager.id else None

    async def _ask_for_text(
        self, conn: AsyncConnection, manager: Person, draft_id: int, template: str, **context: Any
    ) -> None:
        await self._notify.tell(
            conn, manager, template, force_reply=True, expects=f"{TEXT_WANTED}{draft_id}", **context
        )

    async def send(self, manager: Person, draft_id: int, pressed: PressedOn) -> Outcome:
        """Send: the announcement goes to everyone in its audience, once however often it is pressed."""
        async with self._db.begin() as conn:
            draft = await _draft_of(conn, manager, draft_id)
            if isinstance(draft, Outcome):
                return draft
            if draft.status != READY:
                return Outcome.SETTLED
            await cards.retire_pressed(conn, pressed, None, now=self._clock.now())
            notice, reach = await self.publish(conn, draft, manager)
            await self._notify.tell(
                conn, manager, "announce_sent", announcement=notice, announcement_reach=reach
            )
            return Outcome.DONE

    async def cancel(self, manager: Person, draft_id: int, pressed: PressedOn) -> Outcome:
        async with self._db.begin() as conn:
            draft = await _draft_of(conn, manager, draft_id)
            if isinstance(draft, Outcome):
                return draft
            if not await queries.move(conn, draft.id, (CHOOSING, WRITING, READY), status=CANCELLED):
                return Outcome.SETTLED
            await cards.retire_pressed(conn, pressed, None, now=self._clock.now())
            await self._notify.tell(conn, manager, "announce_cancelled")
            return Outcome.DONE

    # ---- sending and reporting -------------------------------------------------------------------------

    async def publish(
        self, conn: AsyncConnection, draft: Announcement, author: Person | None
    ) -> tuple[Notice, Reach]:
        """Queue a ready announcement for everyone in its audience, in the caller's transaction: the
        announcement marked sent, a delivery row and a bulk outbox row per recipient, the report clock."""
        audience = Audience.read(draft.audience or "")
        if draft.text is None or audience is None:
            raise ValueError(f"announcement {draft.id} is not ready to send")
        now = self._clock.now()
        if not await queries.move(conn, draft.id, (READY,), status=SENT, sent_at=now):
            raise ValueError(f"announcement {draft.id} was sent or cancelled already")
        notice = Notice(draft.id, audience, draft.text, author.name if author else None)
        reach = await self.reach(conn, draft.estate_id, audience)
        deliveries = [
            (person.id, await self._notify.tell(conn, person, "announcement", bulk=True, announcement=notice))
            for person in reach.people
        ]
        await queries.add_deliveries(conn, draft.id, deliveries)
        await _look_again(conn, draft.estate_id, draft.id, now)
        return notice, reach

    async def report(self, conn: AsyncConnection, due: DueClock) -> None:
        """The report clock: once every delivery has settled, the figures go to the author (to every
        manager when there is none, or they have left); until then it looks again later."""
        announcement = await queries.by_id(conn, int(due.detail["announcement_id"]))
        if announcement is None or announcement.reported_at is not None:
            return
        now = self._clock.now()
        tally = await queries.tally(conn, announcement.id)
        if not tally.settled:
            await _look_again(conn, due.estate_id, announcement.id, now)
            return
        await queries.move(conn, announcement.id, (SENT,), reported_at=now)
        author = (
            await people_queries.person_by_id(conn, announcement.author_id)
            if announcement.author_id is not None
            else None
        )
        told = (
            [author]
            if author is not None and author.active
            else await people_queries.managers_of_estate(conn, announcement.estate_id)
        )
        notice = _notice(announcement, author)
        for manager in told:
            await self._notify.tell(
                conn, manager, "announce_report", announcement=notice, announcement_tally=tally
            )

    # ---- the command line --------------------------------------------------------------------------------

    async def queue_from_command_line(
        self, conn: AsyncConnection, estate_id: int, audience: Audience, text: str, author: Person | None
    ) -> tuple[Notice, Reach]:
        """`guanjia announce --yes`: the announcement written and queued at once, as Send would."""
        draft_id = await queries.insert(
            conn,
            estate_id=estate_id,
            author_id=author.id if author else None,
            status=READY,
            choices=[str(audience)],
            audience=str(audience),
            text=text,
            now=self._clock.now(),
        )
        draft = await queries.by_id(conn, draft_id)
        assert draft is not None
        return await self.publish(conn, draft, author)

    # ---- helpers ---------------------------------------------------------------------------------------

    @staticmethod
    async def reach(conn: AsyncConnection, estate_id: int, audience: Audience) -> Reach:
        """Everyone `audience` reaches in the estate now."""
        household = await queries.household(conn, estate_id)
        return Reach(tuple(person for person in household if audience.includes(person)))

    @staticmethod
    async def _recent(conn: AsyncConnection, estate_id: int) -> list[SentFigures]:
        figures = []
        for sent in await queries.recently_sent(conn, estate_id, RECENT):
            audience = Audience.read(sent.audience or "")
            if audience is not None and sent.sent_at is not None:
                figures.append(
                    SentFigures(sent.id, audience, sent.sent_at, await queries.tally(conn, sent.id))
                )
        return figures


async def _look_again(conn: AsyncConnection, estate_id: int, announcement_id: int, now: datetime) -> None:
    """The report clock: whether every delivery has settled is looked at again in REPORT_EVERY."""
    await clock_queries.set_clock(
        conn,
        estate_id=estate_id,
        ticket_id=None,
        kind=REPORT_CLOCK,
        due_at=now + REPORT_EVERY,
        now=now,
        detail={"announcement_id": announcement_id},
    )


async def _draft_of(conn: AsyncConnection, manager: Person, draft_id: int) -> Announcement | Outcome:
    """The draft a button names, if `manager` may act on it: only its author may (so never someone of
    another estate); otherwise why not."""
    draft = await queries.by_id(conn, draft_id)
    if draft is None:
        return Outcome.UNKNOWN
    if manager.role != Role.MANAGER or draft.author_id != manager.id or draft.estate_id != manager.estate_id:
        return Outcome.NOT_FOR_YOU
    return draft


def _notice(announcement: Announcement, author: Person | None) -> Notice:
    audience = Audience.read(announcement.audience or "") or Audience("estate")
    return Notice(announcement.id, audience, announcement.text or "", author.name if author else None)


def _audiences(household: list[Person]) -> list[Audience]:
    """What /announce offers: the estate, each building someone lives in, and the VIP owners if any."""
    buildings = {building for person in household if (building := building_of(person.unit)) is not None}
    choices = [Audience("estate")]
    choices += [Audience("building", building) for building in sorted(buildings, key=_building_order)]
    if any(Audience("vip").includes(person) for person in household):
        choices.append(Audience("vip"))
    return choices


# ---- the command line (`guanjia announce`, bot/cli.py) ----------------------------------------------------


@dataclass(frozen=True)
class CommandLineAnnouncement:
    estate: str
    notice: Notice
    reach: Reach
    previews: dict[str, str]  # language -> the HTML its speakers among the recipients receive
    sent: bool


async def announce_on_command_line(
    db_path: Path,
    text: str,
    to: str,
    *,
    estate: str | None,
    author_name: str | None,
    send: bool,
    clock: Clock,
) -> CommandLineAnnouncement:
    """`guanjia announce`: the preview, and with `send` the announcement queued for a running bot's
    sender. Everything the operator can get wrong is refused (AnnounceRefused) before anything is written."""
    audience = Audience.read(to)
    if audience is None:
        raise AnnounceRefused(f"--to {to!r}: give estate, vip or building:N (e.g. building:1)")
    text = check_text(text)
    _check_database(db_path)
    db = await Database.open(db_path)
    try:
        async with db.begin() if send else db.read() as conn:
            chosen = await people_queries.estate_named(conn, estate)
            estate_id, estate_name, zone = chosen.id, chosen.name, chosen.zone
            author = await _author(conn, estate_id, author_name)
            texts = Texts(zone)
            announcements = Announcements(db, clock, Notifier(texts, clock))
            reach = await announcements.reach(conn, estate_id, audience)
            if reach.total == 0:
                raise AnnounceRefused(f"nobody lives in {audience} of estate {estate_name}")
            notice = Notice(None, audience, text, author.name if author else None)
            previews = {
                language: texts.render(language, "announcement", me=reach.people[0], announcement=notice)
                for language in reach.languages()
            }
            if send:
                notice, reach = await announcements.queue_from_command_line(
                    conn, estate_id, audience, text, author
                )
    finally:
        await db.close()
    return CommandLineAnnouncement(estate_name, notice, reach, previews, send)


def _check_database(db_path: Path) -> None:
    if not db_path.is_file():  # Database.open would create it: announcing never does
        raise AnnounceRefused(f"{db_path}: no such database file")


async def _author(conn: AsyncConnection, estate_id: int, name: str | None) -> Person | None:
    if name is None:
        return None
    for manager in await people_queries.managers_of_estate(conn, estate_id):
        if manager.name == name:
            return manager
    raise AnnounceRefused(f"--from {name!r}: no manager of that name in the estate")
