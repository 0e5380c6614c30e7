"""A complete python-telegram-bot Application polling the sandbox."""

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.sandbox import BotApiSandbox
from tests.sandbox.conftest import TOKEN


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message is not None
    args = " ".join(context.args or [])
    await update.effective_message.reply_html(
        f"<b>欢迎</b> {args}",
        reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("Accept", callback_data="ok")]]),
    )


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message is not None and update.effective_message.text is not None
    await update.effective_message.reply_text(f"echo: {update.effective_message.text}", do_quote=True)


async def pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None
    await query.answer("done")
    await query.edit_message_text(f"accepted ({query.data})")


async def test_application_round_trip(sandbox: BotApiSandbox) -> None:
    app = ApplicationBuilder().token(TOKEN).base_url(sandbox.api_url).base_file_url(sandbox.file_url).build()
    app.add_handler(CommandHandler("start", start))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    app.add_handler(CallbackQueryHandler(pressed))
    alice = sandbox.user(1001, "Alice")
    await app.initialize()
    await app.start()
    assert app.updater is not None
    await app.updater.start_polling(poll_interval=0.0, timeout=1)
    try:
        await alice.send_text("你好")
        reply = await alice.wait_for("echo: 你好", timeout=5)
        assert reply.reply_to_message_id == 1

        await alice.send_command("/start", "ABC123")
        welcome = await alice.wait_for("欢迎", timeout=5)
        assert welcome.text == "欢迎 ABC123"
        query_id = await alice.press(welcome, "Accept")
        answer = await alice.wait_for_answer(query_id, timeout=5)
        assert answer["text"] == "done"
        edited = await alice.wait_for("accepted (ok)", timeout=5)
        assert edited.message_id == welcome.message_id and edited.edited
        await sandbox.wait_idle(quiet=0.05, timeout=5)
    finally:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()
    assert sandbox.pending_updates == 0
    assert sandbox.rejections == []
    assert {name for name, _ in sandbox.calls} >= {
        "getMe",
        "deleteWebhook",
        "getUpdates",
        "sendMessage",
        "answerCallbackQuery",
        "editMessageText",
    }
