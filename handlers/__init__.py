"""Every handler, registered in one place. The order matters and is explained here.

Group 0 holds the handlers proper; PTB runs the first that matches, so:
1. commands first, so "/my" is never taken for a request text;
2. button presses by their data's verb, with a catch-all last for forged or outdated data;
3. any other command is unknown; then every private message that is not a command (a request, a reply
   into a ticket, the text of a manager's announcement, or the answer to a paid service's question:
   common.on_message);
4. edits of earlier messages (strangers' edits are ignored: they were refused the first time).
Group 1 runs after every update: it wakes the outbox sender to deliver what group 0 committed, and
the timekeeper, in case a decision set a clock earlier than its next alarm.
A handler that raises has had its transaction rolled back; the error handler tells the person to retry.
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from handlers import butler, common, manager, resident

PRIVATE = filters.ChatType.PRIVATE


def register(application: Application) -> None:  # type: ignore[type-arg]
    application.add_handlers(
        [
            CommandHandler("start", common.start, filters=PRIVATE),
            CommandHandler("help", common.help_command, filters=PRIVATE),
            CommandHandler("my", resident.my_tickets, filters=PRIVATE),
            CommandHandler("services", resident.services, filters=PRIVATE),
            CommandHandler("tasks", butler.tasks, filters=PRIVATE),
            CommandHandler("duty", butler.duty, filters=PRIVATE),
            CommandHandler("digest", manager.digest, filters=PRIVATE),
            CommandHandler("report", manager.report, filters=PRIVATE),
            CommandHandler("export", manager.export, filters=PRIVATE),
            CommandHandler("overdue", manager.overdue, filters=PRIVATE),
            CommandHandler("fees", manager.fees, filters=PRIVATE),
            CommandHandler("announce", manager.announce, filters=PRIVATE),
            CommandHandler("ticket", common.ticket_log, filters=PRIVATE),
            CommandHandler("language", common.language, filters=PRIVATE),
            CallbackQueryHandler(butler.staff_button, pattern=butler.BUTTONS),
            CallbackQueryHandler(resident.answer_button, pattern=resident.BUTTONS),
            CallbackQueryHandler(resident.service_button, pattern=resident.SERVICE_BUTTONS),
            CallbackQueryHandler(manager.decision_button, pattern=manager.BUTTONS),
            CallbackQueryHandler(manager.announce_button, pattern=manager.ANNOUNCE_BUTTONS),
            CallbackQueryHandler(common.language_button, pattern=common.LANGUAGE_BUTTONS),
            CallbackQueryHandler(common.stale_button),
            MessageHandler(PRIVATE & filters.COMMAND, common.unknown_command),
            MessageHandler(PRIVATE & filters.UpdateType.MESSAGE & ~filters.COMMAND, common.on_message),
            MessageHandler(PRIVATE & filters.UpdateType.EDITED_MESSAGE, common.on_edit),
        ],
        group=0,
    )
    application.add_handler(TypeHandler(Update, common.after_every_update), group=1)
    application.add_error_handler(common.on_error)
