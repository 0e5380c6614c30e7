"""What every audience shares: who is writing, /start and /help, strangers, and reading a message."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from telegram import CallbackQuery, Message, Update, User
from telegram.error import TelegramError

from bot.intake import note_failure
from bot.model import Incoming, Outcome, Person, PressedOn, Role
from bot.runtime import GuanjiaContext, Runtime
from bot.texts import DEFAULT_LANGUAGE

log = logging.getLogger(__name__)


def stranger_language(user: User | None) -> str:
    code = (user.language_code or "") if user else ""
    return "en" if code.startswith("en") else DEFAULT_LANGUAGE


async def identify(update: Update, context: GuanjiaContext, attempt: str) -> Person | None:
    """The person the roster knows by this account, or None after politely turning a stranger away.

    Of a stranger only the attempt is kept (who and when), never what they wrote.
    """
    user = update.effective_user
    if user is None:
        return None
    runtime = context.runtime
    person = await runtime.reception.identify(user.id)
    if person is not None:
        return person
    if update.callback_query is not None:
        # A button is answered on the spot: Telegram shows a spinner until it is.
        await runtime.reception.note_stranger(user.id, attempt)
        await answer(
            update.callback_query, runtime.texts.label(stranger_language(user), "answer_not_for_you")
        )
    else:
        await runtime.reception.turn_away(user.id, attempt, stranger_language(user))
    return None


async def identify_for(
    update: Update, context: GuanjiaContext, may_use: Callable[[Person], bool]
) -> Person | None:
    """The person, if this command is for them; a person it is not for is told so, a stranger refused."""
    person = await identify(update, context, "command")
    if person is None:
        return None
    if not may_use(person):
        await context.runtime.reception.tell(person, "command_not_for_you")
        return None
    return person


def incoming_from(message: Message) -> Incoming | None:
    """What the person sent, or None for a kind a ticket cannot hold (a sticker, a poll ...)."""
    kind, file_id = _kind_and_file(message)
    if kind is None:
        return None
    return Incoming(
        kind=kind,
        chat_id=message.chat_id,
        message_id=message.message_id,
        text=message.text if message.text is not None else (message.caption or ""),
        file_id=file_id,
        reply_to_message_id=message.reply_to_message.message_id if message.reply_to_message else None,
        location=(message.location.latitude, message.location.longitude) if message.location else None,
    )


def _kind_and_file(message: Message) -> tuple[str | None, str | None]:
    if message.text is not None:
        return "text", None
    if message.photo:
        return "photo", message.photo[-1].file_id  # the largest size
    for kind in ("video", "voice", "audio", "document"):
        media = getattr(message, kind)
        if media is not None:
            return kind, str(media.file_id)
    if message.location is not None:
        return "location", None
    return None, None


async def start(update: Update, context: GuanjiaContext) -> None:
    """/start, or /start CODE from an invite's deep link."""
    user = update.effective_user
    if user is None or update.effective_message is None:
        return
    reception = context.runtime.reception
    person = await reception.identify(user.id)
    if person is not None:
        await reception.welcome(person)
        return
    code = context.args[0] if context.args else ""
    if code:
        await reception.redeem(code, user.id, stranger_language(user))
    else:
        await reception.turn_away(user.id, "start", stranger_language(user))


async def help_command(update: Update, context: GuanjiaContext) -> None:
    person = await identify(update, context, "help")
    if person is not None:
        await context.runtime.reception.help(person)


# language:zh, language:en
LANGUAGE_BUTTONS = r"^language:(zh|en)\Z"


async def language(update: Update, context: GuanjiaContext) -> None:
    """/language: everyone chooses the language the bot writes to them in."""
    person = await identify(update, context, "command")
    if person is not None:
        await context.runtime.reception.offer_languages(person, " ".join(context.args or []))


async def language_button(update: Update, context: GuanjiaContext) -> None:
    await on_button(update, context, _choose_language)


async def _choose_language(
    runtime: Runtime, person: Person, verb: str, args: list[str], pressed: PressedOn
) -> Outcome:
    return await runtime.reception.choose_language(person, args[0], pressed)


async def ticket_log(update: Update, context: GuanjiaContext) -> None:
    """/ticket 1024: a ticket's whole history, for staff; which tickets each may see is the service's call."""
    person = await identify_for(update, context, lambda p: p.role in (Role.BUTLER, Role.MANAGER))
    if person is not None:
        await context.runtime.ticket_log.show(person, list(context.args or []))


async def unknown_command(update: Update, context: GuanjiaContext) -> None:
    person = await identify(update, context, "command")
    if person is not None:
        await context.runtime.reception.tell(person, "unknown_command")


async def on_message(update: Update, context: GuanjiaContext) -> None:
    """Any message that is not a command: a resident's request, a butler's or manager's reply, the
    text of a manager's announcement (bot/announcements.py), or an answer to a question about a paid
    service (bot/service_orders.py)."""
    message = update.effective_message
    person = await identify(update, context, "message")
    if person is None or message is None:
        return
    incoming = incoming_from(message)
    runtime = context.runtime
    if message.reply_to_message is not None:
        await runtime.sender.until_recorded(message.chat_id)
    if incoming is None:
        await runtime.reception.tell(person, "unsupported_kind")
    elif await runtime.service_orders.take_answer(person, incoming):
        return  # it answered a question about a paid service: an order's time and note, or an extra cost
    elif person.role.is_household:
        await runtime.desk.take_message(person, incoming)
    elif not await runtime.announcements.take_text(person, incoming):
        await runtime.desk.take_staff_message(person, incoming)


async def on_edit(update: Update, context: GuanjiaContext) -> None:
    """Someone edited a message they sent earlier: the other side of the ticket sees the correction."""
    message = update.edited_message
    user = update.effective_user
    if message is None or user is None:
        return
    person = await context.runtime.reception.identify(user.id)
    incoming = incoming_from(message)
    if person is not None and incoming is not None:
        await context.runtime.desk.take_edit(person, incoming)


async def answer(query: CallbackQuery, text: str, *, alert: bool = False) -> None:
    """The short answer to a button press, shown on the spot. Only a courtesy: Telegram refuses answers to
    presses older than a few seconds (handled after a restart), and what was decided stands anyway."""
    try:
        await query.answer(text, show_alert=alert)
    except TelegramError as error:
        log.info("a button press could not be answered: %s", type(error).__name__)


# What a button does: (runtime, who pressed, the verb, the rest of the data, the message pressed on).
ButtonAction = Callable[[Runtime, Person, str, list[str], PressedOn], Awaitable[Outcome]]


async def on_button(update: Update, context: GuanjiaContext, act: ButtonAction) -> None:
    """Every button press: who pressed it, the decision its data asks for, and the short answer.

    The data only names an action and an id; whether this person may do it is the service's check.
    """
    query = update.callback_query
    person = await identify(update, context, "button")
    if query is None or query.data is None or query.message is None or person is None:
        return
    verb, *args = query.data.split(":")
    had_buttons = isinstance(query.message, Message) and query.message.reply_markup is not None
    pressed = PressedOn(query.message.chat.id, query.message.message_id, had_buttons)
    await context.runtime.sender.until_recorded(pressed.chat_id)
    outcome = await act(context.runtime, person, verb, args, pressed)
    await answer(query, context.runtime.texts.label(person.language, f"answer_{outcome.value}"))


async def stale_button(update: Update, context: GuanjiaContext) -> None:
    """A button whose data no handler knows: forged, or from an older version of the bot."""
    query = update.callback_query
    if query is None:
        return
    person = await identify(update, context, "button")
    if person is not None:
        await answer(query, context.runtime.texts.label(person.language, "answer_unknown"))


async def on_error(update: object, context: GuanjiaContext) -> None:
    """A handler failed: its transaction was rolled back, so say so and ask the person to try again."""
    if context.error is not None and not note_failure(context.error):
        return  # an update an earlier run already handled, met again after a restart: nothing to say
    log.error("handling an update failed", exc_info=context.error)
    if not isinstance(update, Update) or update.effective_user is None:
        return
    runtime = context.runtime
    person = await runtime.reception.identify(update.effective_user.id)
    language = person.language if person is not None else stranger_language(update.effective_user)
    if update.callback_query is not None:
        await answer(update.callback_query, runtime.texts.label(language, "answer_failed"), alert=True)
    elif person is not None:
        await runtime.reception.tell(person, "internal_error")
    # A stranger is told nothing more: they were (or are about to be) refused, once a minute at most.


async def after_every_update(update: Update, context: GuanjiaContext) -> None:
    """Runs after every update: what the handlers committed to the outbox goes out now."""
    context.runtime.sender.wake()
    context.runtime.timekeeper.look_soon()  # a decision may have set a clock earlier than the next alarm
