"""Steps shared by the paid-service tests: loading a price list, and a resident browsing and ordering."""

from __future__ import annotations

from pathlib import Path

from bot.catalog import CatalogReport, import_catalog, read_catalog
from bot.clock import ManualClock
from bot.embedded import EmbeddedEstate
from bot.sandbox.models import ChatMessage
from bot.sandbox.user import SandboxUser
from storage.people import estate_named

EXAMPLE = (Path(__file__).resolve().parents[2] / "catalog.example.toml").read_text(encoding="utf-8")
DONE = "Done"
DONE_ZH = "好的，已记录"
GONE = "This button no longer works"
ALREADY = "This ticket has moved on; the button no longer applies"


async def load_catalog(
    estate: EmbeddedEstate, clock: ManualClock, text: str = EXAMPLE, estate_name: str | None = None
) -> CatalogReport:
    """What `guanjia catalog import` does, into the running bot's database."""
    read = read_catalog(text, ".toml")
    assert read.errors == []
    async with estate.db.begin() as conn:
        estate_id = (await estate_named(conn, estate_name)).id
        return await import_catalog(conn, estate_id, read.entries, clock.now())


async def tap(estate: EmbeddedEstate, user: SandboxUser, message: ChatMessage, label: str) -> str:
    """Press a button shown on the message; the short answer, once everything it caused has happened."""
    answer = await user.wait_for_answer(await user.press(message, label))
    await estate.settled()
    return str(answer.get("text", ""))


async def open_service(estate: EmbeddedEstate, user: SandboxUser, name: str) -> ChatMessage:
    """/services, then the service's button on the first page: the list message, now its details."""
    earlier = {message.message_id for message in user.inbox}
    await user.send_command("/services")
    listing = await user.wait_for(
        lambda m: m.message_id not in earlier and m.content.startswith(("Paid special services", "特约服务"))
    )
    assert await tap(estate, user, listing, name) in (DONE, DONE_ZH)
    return listing


async def order(estate: EmbeddedEstate, user: SandboxUser, name: str, details: str | None) -> ChatMessage:
    """Order a service from the first page, with a reply giving time and note, or as it is; the draft."""
    draft = await open_service(estate, user, name)
    order_label = draft.buttons[0][0][0]  # "Order", in the user's language
    assert await tap(estate, user, draft, order_label) in (DONE, DONE_ZH)
    if details is None:
        assert await tap(estate, user, draft, "Order as it is") == DONE
    else:
        await user.send_text(details, reply_to=user.inbox[-1])
        await estate.settled()
    return draft


def buttons(message: ChatMessage) -> list[str]:
    return [label for row in message.buttons for label, _ in row]
