"""The baseline: a bare python-telegram-bot echo bot, as its own documentation writes one.

PTB's Updater fetching updates by long polling and its Application answering each text with the same
text: one send per update, no database. `guanjia bench` measures it on the same sandbox and machine
as Guanjia, so the ratio between the two says what Guanjia's own work costs.
"""

from __future__ import annotations

import argparse
import os
import sys

from telegram import Update
from telegram.ext import ApplicationBuilder, ContextTypes, MessageHandler, filters


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if update.message is not None and update.message.text is not None:
        await update.message.reply_text(update.message.text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.echo_bot")
    parser.add_argument("--api-url", required=True)
    args = parser.parse_args(argv)
    application = ApplicationBuilder().token(os.environ["GUANJIA_TOKEN"]).base_url(args.api_url).build()
    application.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    application.run_polling(poll_interval=0.0, timeout=10, allowed_updates=["message"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
