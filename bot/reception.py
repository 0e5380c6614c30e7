"""Reception: knowing who writes, binding invite codes, greeting people and setting their command menu."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from bot import outbox, roster
from bot.clock import Clock
from bot.model import Person, Role
from bot.notify import Notifier
from storage import people as people_queries
from storage.database import Database

# The command menu each role sees; the descriptions come from each language's labels.j2.
MENU: dict[Role, tuple[str, ...]] = {
    Role.OWNER: ("my", "help"),
    Role.RESIDENT: ("my", "help"),
    Role.BUTLER: ("tasks", "duty", "ticket", "help"),
    Role.MANAGER: ("digest", "report", "overdue", "ticket", "export", "help"),
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
        assert person.telegram_id is not None
        commands = [
            (name, self._notify.texts.label(person.language, f"command_{name}")) for name in MENU[person.role]
        ]
        await outbox.set_commands(conn, person.telegram_id, commands, now=self._clock.now())
        team = await people_queries.team_name(conn, person.team_id)
        await self._notify.tell(conn, person, "welcome", team=team)

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
