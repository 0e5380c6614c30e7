"""The sandbox as seen by python-telegram-bot's Bot client over real HTTP."""

from typing import Any

import pytest
import telegram
from telegram import (
    BotCommand,
    BotCommandScopeChat,
    BotCommandScopeDefault,
    ForceReply,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    ReplyParameters,
)
from telegram.error import BadRequest, Forbidden

from bot.sandbox import BotApiSandbox


def keyboard(*buttons: tuple[str, str]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(t, callback_data=d) for t, d in buttons]])


async def rejected(call: Any, description: str) -> None:
    """The call fails with BadRequest carrying ``description`` (PTB re-capitalises it)."""
    with pytest.raises(BadRequest) as info:
        await call
    assert info.value.message.lower() == description.lower()


async def test_get_me(bot: telegram.Bot) -> None:
    me = await bot.get_me()
    assert me.is_bot
    assert me.username == "guanjia_bot"
    assert me.first_name == "管家"
    assert me.id == 123456


async def test_html_message_arrives_as_visible_text(sandbox: BotApiSandbox, bot: telegram.Bot) -> None:
    alice = sandbox.user(1001, "Alice")
    sent = await bot.send_message(
        1001,
        '<b>工单 #1001</b> 已创建\n<a href="https://example.com/?a=1&amp;b=2">详情</a> &amp; 更多',
        parse_mode="HTML",
        reply_markup=keyboard(("Accept", "t:accept:5")),
    )
    assert sent.text == "工单 #1001 已创建\n详情 & 更多"
    assert sent.entities[0].type == "bold"
    assert sent.entities[1].url == "https://example.com/?a=1&b=2"
    [msg] = alice.inbox
    assert msg.text == "工单 #1001 已创建\n详情 & 更多"
    assert msg.html is not None and msg.html.startswith("<b>工单")
    assert msg.buttons == [[("Accept", "t:accept:5")]]
    assert msg.from_bot and msg.kind == "text" and msg.message_id == sent.message_id
    assert sandbox.rejections == []


async def test_escaped_tag_is_literal_text(sandbox: BotApiSandbox, bot: telegram.Bot) -> None:
    alice = sandbox.user(1001, "Alice")
    await bot.send_message(1001, "&lt;b&gt;not bold&lt;/b&gt;", parse_mode="HTML")
    assert alice.inbox[0].text == "<b>not bold</b>"
    # Without parse_mode the markup is shown verbatim.
    await bot.send_message(1001, "<b>raw</b>")
    assert alice.inbox[1].text == "<b>raw</b>"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("<b>open", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b><i>x</b></i>", 'Unmatched end tag at byte offset 7, expected "</i>", found "</b>"'),
        ("<blink>x</blink>", 'Unsupported start tag "blink" at byte offset 0'),
        ("1 < 2", 'Unsupported start tag "" at byte offset 2'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ("a&nbsp;b", 'Unsupported HTML entity "&nbsp;" at byte offset 1'),
        ('<span class="x">y</span>', 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
    ],
)
async def test_bad_html_is_rejected(
    sandbox: BotApiSandbox, bot: telegram.Bot, text: str, reason: str
) -> None:
    sandbox.user(1001, "Alice")
    await rejected(bot.send_message(1001, text, parse_mode="HTML"), f"can't parse entities: {reason}")
    assert sandbox.rejections[-1][2] == f"Bad Request: can't parse entities: {reason}"


async def test_text_length_limits(sandbox: BotApiSandbox, bot: telegram.Bot) -> None:
    alice = sandbox.user(1001, "Alice")
    await bot.send_message(1001, "a" * 4096)
    await rejected(bot.send_message(1001, "a" * 4097), "message is too long")
    # Limits count what is visible after entity parsing, in UTF-16 code units.
    await bot.send_message(1001, "<b>" + "a" * 4096 + "</b>", parse_mode="HTML")
    await rejected(bot.send_message(1001, "😀" * 2049), "message is too long")
    await rejected(bot.send_message(1001, "<b> </b>", parse_mode="HTML"), "message text is empty")
    assert len(alice.inbox) == 2


async def test_caption_length_limit(sandbox: BotApiSandbox, bot: telegram.Bot) -> None:
    alice = sandbox.user(1001, "Alice")
    await bot.send_photo(1001, b"\x89PNG fake", caption="c" * 1024)
    await rejected(bot.send_photo(1001, b"\x89PNG fake", caption="c" * 1025), "message caption is too long")
    assert alice.inbox[0].kind == "photo" and alice.inbox[0].caption == "c" * 1024


async def test_callback_data_byte_limit(sandbox: BotApiSandbox, bot: telegram.Bot) -> None:
    sandbox.user(1001, "Alice")
    await bot.send_message(1001, "ok", reply_markup=keyboard(("A", "x" * 64)))
    await rejected(
        bot.send_message(1001, "no", reply_markup=keyboard(("A", "x" * 65))), "BUTTON_DATA_INVALID"
    )
    # 22 three-byte characters are 66 bytes although only 22 characters.
    await rejected(
        bot.send_message(1001, "no", reply_markup=keyboard(("A", "确" * 22))), "BUTTON_DATA_INVALID"
    )


# do_api_request is how to send what PTB's typed methods would never produce.
@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBUserWarning")
async def test_parameter_validation(sandbox: BotApiSandbox, bot: telegram.Bot) -> None:
    sandbox.user(1001, "Alice")
    await rejected(bot.send_message(999, "hi"), "chat not found")
    await rejected(bot.send_message(1001, "hi", parse_mode="BBCode"), "unsupported parse_mode")
    await rejected(
        bot.do_api_request("sendMessage", api_kwargs={"chat_id": 1001, "text": "x", "colour": 1}),
        "unknown parameter colour",
    )
    await rejected(bot.do_api_request("sendMessage", api_kwargs={"chat_id": 1001}), "text is required")
    await rejected(
        bot.do_api_request(
            "sendMessage", api_kwargs={"chat_id": "x", "text": "hi", "disable_notification": "yes"}
        ),
        'field "disable_notification" must be of type Boolean',
    )
    await rejected(
        bot.do_api_request("deleteMessage", api_kwargs={"chat_id": 1001, "message_id": "one"}),
        'field "message_id" must be of type Integer',
    )
    await rejected(
        bot.do_api_request("sendMessage", api_kwargs={"chat_id": 1001, "text": "x", "reply_markup": "{oops"}),
        "can't parse reply_markup JSON object",
    )
    await rejected(
        bot.do_api_request(
            "sendMessage",
            api_kwargs={"chat_id": 1001, "text": "x", "reply_markup": {"inline_keyboard": [[{"text": "t"}]]}},
        ),
        "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard",
    )
    await rejected(
        bot.do_api_request(
            "sendMessage",
            api_kwargs={
                "chat_id": 1001,
                "text": "x",
                "reply_markup": {
                    "inline_keyboard": [[{"text": "t", "url": "https://a", "callback_data": "d"}]]
                },
            },
        ),
        "can't parse inline keyboard button: exactly one of the optional fields must be used",
    )
    await rejected(
        bot.send_message(1001, "x", reply_parameters=ReplyParameters(message_id=77)),
        "message to be replied not found",
    )
    assert len(sandbox.rejections) == 10
    assert sandbox.rejections[0] == (
        "sendMessage",
        {"chat_id": 999, "text": "hi"},
        "Bad Request: chat not found",
    )


async def test_unknown_method_is_not_found(sandbox: BotApiSandbox, bot: telegram.Bot) -> None:
    with pytest.raises(telegram.error.EndPointNotFound):
        await bot.do_api_request("sendTelepathy", api_kwargs={"chat_id": 1})
    assert sandbox.rejections == [("sendTelepathy", {}, "Not Found")]


async def test_full_optional_parameter_set_is_accepted(sandbox: BotApiSandbox, bot: telegram.Bot) -> None:
    alice = sandbox.user(1001, "Alice")
    first = await alice.send_text("question")
    await bot.send_message(
        1001,
        "answer",
        disable_notification=True,
        protect_content=True,
        allow_paid_broadcast=False,
        message_effect_id="5104841245755180586",
        link_preview_options=telegram.LinkPreviewOptions(is_disabled=True),
        reply_parameters=ReplyParameters(message_id=first),
        reply_markup=ForceReply(input_field_placeholder="..."),
        message_thread_id=None,
    )
    await bot.send_location(1001, 31.23, 121.47)
    await bot.send_chat_action(1001, "typing")
    await rejected(bot.send_chat_action(1001, "dancing"), "wrong parameter action in request")
    reply, location = alice.inbox
    assert reply.reply_to_message_id == first and reply.force_reply
    assert reply.raw["reply_to_message"]["text"] == "question"
    assert location.kind == "location"
    assert len(sandbox.rejections) == 1


async def test_copy_message_of_user_photo_with_new_caption(sandbox: BotApiSandbox, bot: telegram.Bot) -> None:
    alice = sandbox.user(1001, "Alice")
    staff = sandbox.user(2002, "Wang")
    photo_id = await alice.send_photo(caption="厨房漏水")
    result = await bot.copy_message(2002, 1001, photo_id, caption="<b>#7</b> 来自 Alice", parse_mode="HTML")
    [copy] = staff.inbox
    assert copy.message_id == result.message_id
    assert copy.kind == "photo"
    assert copy.caption == "#7 来自 Alice"
    assert copy.caption_html == "<b>#7</b> 来自 Alice"
    assert copy.copied_from == (1001, photo_id)
    assert "forward_origin" not in copy.raw
    original = alice.transcript[0].raw["photo"]
    assert copy.raw["photo"] == original
    await rejected(bot.copy_message(2002, 1001, 999), "message to copy not found")
    forwarded = await bot.forward_message(2002, 1001, photo_id)
    assert forwarded.forward_origin is not None
    assert "forward_origin" in staff.inbox[-1].raw


async def test_edit_and_not_modified(sandbox: BotApiSandbox, bot: telegram.Bot) -> None:
    alice = sandbox.user(1001, "Alice")
    sent = await bot.send_message(1001, "v1", reply_markup=keyboard(("Go", "go")))
    edited = await bot.edit_message_text("<i>v2</i>", 1001, sent.message_id, parse_mode="HTML")
    assert isinstance(edited, telegram.Message) and edited.text == "v2"
    [msg] = alice.inbox
    assert msg.text == "v2" and msg.html == "<i>v2</i>" and msg.edited
    # Editing text without reply_markup drops the keyboard, as in Telegram.
    assert msg.buttons == []
    await rejected(
        bot.edit_message_text("<i>v2</i>", 1001, sent.message_id, parse_mode="HTML"),
        "message is not modified: specified new message content and reply markup are exactly "
        "the same as a current content and reply markup of the message",
    )
    await bot.edit_message_reply_markup(1001, sent.message_id, reply_markup=keyboard(("B", "b")))
    assert alice.inbox[0].buttons == [[("B", "b")]]
    await rejected(bot.edit_message_text("x", 1001, 999), "message to edit not found")
    user_msg = await alice.send_text("mine")
    await rejected(bot.edit_message_text("x", 1001, user_msg), "message can't be edited")
    photo = await bot.send_photo(1001, b"img", caption="old")
    await bot.edit_message_caption(1001, photo.message_id, caption="new")
    assert alice.inbox[-1].caption == "new"
    assert await bot.delete_message(1001, sent.message_id)
    assert sent.message_id not in [m.message_id for m in alice.inbox]
    await rejected(bot.delete_message(1001, sent.message_id), "message to delete not found")


async def test_answer_callback_query(sandbox: BotApiSandbox, bot: telegram.Bot) -> None:
    alice = sandbox.user(1001, "Alice")
    await bot.send_message(1001, "Take it?", reply_markup=keyboard(("Accept", "t:accept:5")))
    query_id = await alice.press(alice.inbox[0], "Accept")
    [update] = await bot.get_updates(timeout=0)
    assert update.callback_query is not None
    assert update.callback_query.id == query_id
    assert update.callback_query.data == "t:accept:5"
    assert update.callback_query.message is not None
    assert update.callback_query.message.message_id == alice.inbox[0].message_id
    assert await bot.answer_callback_query(query_id, text="已接单", show_alert=True)
    answer = await alice.wait_for_answer(query_id, timeout=1)
    assert answer["text"] == "已接单" and answer["show_alert"] is True
    assert alice.callback_answers == [answer]
    await rejected(
        bot.answer_callback_query(query_id),
        "query is too old and response timeout expired or query ID is invalid",
    )
    await rejected(
        bot.answer_callback_query("nope"),
        "query is too old and response timeout expired or query ID is invalid",
    )
    with pytest.raises(AssertionError, match="no button 'Decline'"):
        await alice.press(alice.inbox[0], "Decline")


async def test_blocked_user_gets_forbidden(sandbox: BotApiSandbox, bot: telegram.Bot) -> None:
    alice = sandbox.user(1001, "Alice")
    alice.block()
    with pytest.raises(Forbidden) as info:
        await bot.send_message(1001, "hello?")
    assert "bot was blocked by the user" in info.value.message
    alice.unblock()
    await bot.send_message(1001, "hello!")
    assert [m.text for m in alice.inbox] == ["hello!"]


async def test_set_my_commands_per_scope(sandbox: BotApiSandbox, bot: telegram.Bot) -> None:
    sandbox.user(1001, "Alice")
    default = [BotCommand("start", "开始"), BotCommand("help", "帮助")]
    staff = [BotCommand("tasks", "我的工单")]
    assert await bot.set_my_commands(default)
    assert await bot.set_my_commands(staff, scope=BotCommandScopeChat(1001))
    assert sandbox.commands == {
        "default": [
            {"command": "start", "description": "开始"},
            {"command": "help", "description": "帮助"},
        ],
        "chat:1001": [{"command": "tasks", "description": "我的工单"}],
    }
    got = await bot.get_my_commands(scope=BotCommandScopeChat(1001))
    assert [c.command for c in got] == ["tasks"]
    assert [c.command for c in await bot.get_my_commands(BotCommandScopeDefault())] == [
        "start",
        "help",
    ]
    await rejected(bot.set_my_commands([BotCommand("Start", "x")]), "BOT_COMMAND_INVALID")
    await rejected(bot.set_my_commands([BotCommand("a" * 33, "x")]), "BOT_COMMAND_INVALID")
    await rejected(bot.set_my_commands([BotCommand("ok", "d" * 257)]), "BOT_COMMAND_DESCRIPTION_INVALID")
    await rejected(
        bot.set_my_commands([BotCommand(f"c{i}", "x") for i in range(101)]),
        "BOT_COMMANDS_TOO_MUCH",
    )
    await rejected(bot.set_my_commands(staff, scope=BotCommandScopeChat(5)), "chat not found")
    assert await bot.delete_my_commands(scope=BotCommandScopeChat(1001))
    assert "chat:1001" not in sandbox.commands


async def test_get_file_and_download(sandbox: BotApiSandbox, bot: telegram.Bot) -> None:
    alice = sandbox.user(1001, "Alice")
    await alice.send_photo()
    await alice.send_voice(duration=4)
    await alice.send_document(file_name="lease.pdf")
    updates = await bot.get_updates()
    photo_msg, voice_msg, doc_msg = (u.message for u in updates if u.message is not None)
    sizes = photo_msg.photo
    assert len({s.file_id for s in sizes}) == 3
    blobs = set()
    for size in sizes:
        file = await bot.get_file(size.file_id)
        data = bytes(await file.download_as_bytearray())
        assert data and len(data) == file.file_size
        blobs.add(data)
    assert len(blobs) == 3
    assert voice_msg.voice is not None
    assert voice_msg.api_kwargs == {}
    assert updates[1].to_dict()["message"]["voice"]["duration"] == 4
    assert doc_msg.document is not None and doc_msg.document.file_name == "lease.pdf"
    voice_file = await bot.get_file(voice_msg.voice.file_id)
    assert await voice_file.download_as_bytearray()
    await rejected(bot.get_file("no-such-file"), "invalid file_id")
    # A received file_id can be sent on by the bot.
    await bot.send_photo(1001, sizes[-1].file_id, caption="again")
    assert alice.inbox[-1].raw["photo"][-1]["file_id"] == sizes[-1].file_id


async def test_uploaded_document_is_downloadable(sandbox: BotApiSandbox, bot: telegram.Bot) -> None:
    alice = sandbox.user(1001, "Alice")
    sent = await bot.send_document(1001, b"%PDF-1.4 report", filename="report.pdf")
    assert sent.document is not None and sent.document.file_name == "report.pdf"
    file = await bot.get_file(sent.document.file_id)
    assert bytes(await file.download_as_bytearray()) == b"%PDF-1.4 report"
    assert alice.inbox[0].kind == "document"
    [params] = [p for name, p in sandbox.calls if name == "sendDocument"]
    assert params["document"].data == b"%PDF-1.4 report"
