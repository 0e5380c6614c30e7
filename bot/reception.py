"""Reception: knowing who writes, binding invite codes, greeting people and setting their command menu."""

from __future__ import annotations

import dataclasses
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from bot import cards, outbox, roster
from bot.clock import Clock
from bot.model import Outcome, Person, PressedOn, Role
from bot.notify import Notifier
from bot.texts import LANGUAGES
from storage import people as people_queries
from storage.database import Database

# The command menu each role sees; the descriptions come from each language's labels.j2.
MENU: dict[Role, tuple[str, ...]] = {
    Role.OWNER: ("my", "services", "language", "help"),
    Role.RESIDENT: ("my", "services", "language", "help"),
    Role.BUTLER: ("tasks", "duty", "ticket", "language", "help"),
    Role.MANAGER: ("digest", "report", "overdue", "fees", "ticket", "export", "announce", "language", "help"),
}

# What people may type after /language.
LANGUAGE_NAMES = {
    "zh": "zh",
    "中文": "zh",
    "简体中文": "zh",
    "chinese": "zh",
    "en": "en",
    "english": "en",
    "英文": "en",
    "英语": "en",
}


class Reception:
    def __init__(self, db: Database, clock: Clock, notifier: Notifier) -> None:
        self._db = db
        self._clock = clock
        self._notify = notifier

    async def identify(self, telegram_id: int) -> Person | None:
        async with self._db.read() as conn:
            return await people_queries.person_by_telegram_id(conn, telegram_id)

    async def welcome(self, person: Person) -> None:
        async with self._db.begin() as conn:
            await self._welcome(conn, person)

    async def redeem(self, code: str, telegram_id: int, language: str) -> Person | None:
        """Bind the account to the invite's person and welcome them; None if the code is not valid.

        A wrong code is noted and answered in `language` (the stranger's). After too many wrong codes
        within the hour, the account's codes are refused unchecked, with the time to try again.
        """
        async with self._db.begin() as conn:
            now = self._clock.now()
            locked_until = await roster.codes_locked_until(conn, telegram_id, now)
            if locked_until is not None:
                await self._turn_away(
                    conn, telegram_id, roster.LOCKED_OUT, language, "invite_locked", until=locked_until
                )
                return None
            person = await roster.redeem_invite(conn, code, telegram_id, now)
            if person is None:
                await self._turn_away(conn, telegram_id, roster.WRONG_CODE, language, "invite_invalid")
                return None
            await self._welcome(conn, person)
            return person

    async def _welcome(self, conn: AsyncConnection, person: Person) -> None:
        await self._set_menu(conn, person)
        team = await people_queries.team_name(conn, person.team_id)
        await self._notify.tell(conn, person, "welcome", team=team)

    async def _set_menu(self, conn: AsyncConnection, person: Person) -> None:
        """The command menu of the person's role, described in their language."""
        assert person.telegram_id is not None
        commands = [
            (name, self._notify.texts.label(person.language, f"command_{name}")) for name in MENU[person.role]
        ]
        await outbox.set_commands(conn, person.telegram_id, commands, now=self._clock.now())

    # ---- language ----------------------------------------------------------------------------------

    async def offer_languages(self, person: Person, asked: str) -> None:
        """/language shows the choice as buttons; /language en (or 中文) switches at once."""
        language = LANGUAGE_NAMES.get(asked.strip().lower())
        if language is not None:
            await self.choose_language(person, language)
            return
        async with self._db.begin() as conn:
            buttons = [
                [self._notify.button(person, f"button_language_{choice}", f"language:{choice}")]
                for choice in LANGUAGES
            ]
            await self._notify.tell(conn, person, "language_choose", buttons=buttons, unknown=bool(asked))

    async def choose_language(
        self, person: Person, language: str, pressed: PressedOn | None = None
    ) -> Outcome:
        """From now on every text to the person is in `language`: their dates, times and amounts too,
        and their command menu. A later roster import keeps their choice."""
        if language not in LANGUAGES:
            return Outcome.UNKNOWN
        async with self._db.begin() as conn:
            now = self._clock.now()
            await people_queries.choose_language(conn, person.id, language, now)
            person = dataclasses.replace(person, language=language)
            if pressed is not None:
                await cards.retire_pressed(conn, pressed, None, now=now)
            await self._set_menu(conn, person)
            await self._notify.tell(conn, person, "language_set")
        return Outcome.DONE

    async def help(self, person: Person) -> None:
        async with self._db.begin() as conn:
            await self._notify.tell(conn, person, "help")

    async def tell(self, person: Person, template: str) -> None:
        """A reply that changes nothing but still goes through the outbox, in order with the rest."""
        async with self._db.begin() as conn:
            await self._notify.tell(conn, person, template)

    async def note_stranger(self, telegram_id: int, kind: str) -> None:
        """A stranger's attempt answered elsewhere (a button press is answered on the spot)."""
        async with self._db.begin() as conn:
            await roster.note_stranger(conn, telegram_id, kind, self._clock.now())

    async def turn_away(self, telegram_id: int, kind: str, language: str) -> None:
        """Someone the roster does not know: the attempt is noted and the polite refusal queued together."""
        async with self._db.begin() as conn:
            await self._turn_away(conn, telegram_id, kind, language, "stranger")

    async def _turn_away(
        self, conn: AsyncConnection, telegram_id: int, kind: str, language: str, template: str, **context: Any
    ) -> None:
        """Note a stranger's attempt and answer it, unless they were answered less than a minute ago: a
        flood of attempts is recorded in full but answered once a minute. The answer goes through the
        outbox like every other message (a private chat's id is its user's id)."""
        now = self._clock.now()
        answer = await roster.may_answer_stranger(conn, telegram_id, now)
        await roster.note_stranger(conn, telegram_id, kind, now, answered=answer)
        if answer:
            html = self._notify.texts.render(language, template, **context)
            await outbox.send_text(conn, telegram_id, html, now=now)
