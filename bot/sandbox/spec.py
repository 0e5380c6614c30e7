"""Bot API 10.0 parameter table for the methods the sandbox serves.

Generated once from the official machine-readable spec and committed, so the sandbox
runs without the spec file; tests/sandbox compares it against the spec when present.
"""

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One parameter: accepted types spelled as in the spec, and whether it is required."""

    types: tuple[str, ...]
    required: bool = False


METHODS: dict[str, dict[str, FieldSpec]] = {
    "getMe": {},
    "getUpdates": {
        "offset": FieldSpec(("Integer",)),
        "limit": FieldSpec(("Integer",)),
        "timeout": FieldSpec(("Integer",)),
        "allowed_updates": FieldSpec(("Array of String",)),
    },
    "setWebhook": {
        "url": FieldSpec(("String",), required=True),
        "certificate": FieldSpec(("InputFile",)),
        "ip_address": FieldSpec(("String",)),
        "max_connections": FieldSpec(("Integer",)),
        "allowed_updates": FieldSpec(("Array of String",)),
        "drop_pending_updates": FieldSpec(("Boolean",)),
        "secret_token": FieldSpec(("String",)),
    },
    "deleteWebhook": {
        "drop_pending_updates": FieldSpec(("Boolean",)),
    },
    "getWebhookInfo": {},
    "logOut": {},
    "close": {},
    "sendMessage": {
        "business_connection_id": FieldSpec(("String",)),
        "chat_id": FieldSpec(("Integer", "String"), required=True),
        "message_thread_id": FieldSpec(("Integer",)),
        "direct_messages_topic_id": FieldSpec(("Integer",)),
        "text": FieldSpec(("String",), required=True),
        "parse_mode": FieldSpec(("String",)),
        "entities": FieldSpec(("Array of MessageEntity",)),
        "link_preview_options": FieldSpec(("LinkPreviewOptions",)),
        "disable_notification": FieldSpec(("Boolean",)),
        "protect_content": FieldSpec(("Boolean",)),
        "allow_paid_broadcast": FieldSpec(("Boolean",)),
        "message_effect_id": FieldSpec(("String",)),
        "suggested_post_parameters": FieldSpec(("SuggestedPostParameters",)),
        "reply_parameters": FieldSpec(("ReplyParameters",)),
        "reply_markup": FieldSpec(
            ("InlineKeyboardMarkup", "ReplyKeyboardMarkup", "ReplyKeyboardRemove", "ForceReply")
        ),
    },
    "copyMessage": {
        "chat_id": FieldSpec(("Integer", "String"), required=True),
        "message_thread_id": FieldSpec(("Integer",)),
        "direct_messages_topic_id": FieldSpec(("Integer",)),
        "from_chat_id": FieldSpec(("Integer", "String"), required=True),
        "message_id": FieldSpec(("Integer",), required=True),
        "video_start_timestamp": FieldSpec(("Integer",)),
        "caption": FieldSpec(("String",)),
        "parse_mode": FieldSpec(("String",)),
        "caption_entities": FieldSpec(("Array of MessageEntity",)),
        "show_caption_above_media": FieldSpec(("Boolean",)),
        "disable_notification": FieldSpec(("Boolean",)),
        "protect_content": FieldSpec(("Boolean",)),
        "allow_paid_broadcast": FieldSpec(("Boolean",)),
        "message_effect_id": FieldSpec(("String",)),
        "suggested_post_parameters": FieldSpec(("SuggestedPostParameters",)),
        "reply_parameters": FieldSpec(("ReplyParameters",)),
        "reply_markup": FieldSpec(
            ("InlineKeyboardMarkup", "ReplyKeyboardMarkup", "ReplyKeyboardRemove", "ForceReply")
        ),
    },
    "forwardMessage": {
        "chat_id": FieldSpec(("Integer", "String"), required=True),
        "message_thread_id": FieldSpec(("Integer",)),
        "direct_messages_topic_id": FieldSpec(("Integer",)),
        "from_chat_id": FieldSpec(("Integer", "String"), required=True),
        "video_start_timestamp": FieldSpec(("Integer",)),
        "disable_notification": FieldSpec(("Boolean",)),
        "protect_content": FieldSpec(("Boolean",)),
        "message_effect_id": FieldSpec(("String",)),
        "suggested_post_parameters": FieldSpec(("SuggestedPostParameters",)),
        "message_id": FieldSpec(("Integer",), required=True),
    },
    "sendPhoto": {
        "business_connection_id": FieldSpec(("String",)),
        "chat_id": FieldSpec(("Integer", "String"), required=True),
        "message_thread_id": FieldSpec(("Integer",)),
        "direct_messages_topic_id": FieldSpec(("Integer",)),
        "photo": FieldSpec(("InputFile", "String"), required=True),
        "caption": FieldSpec(("String",)),
        "parse_mode": FieldSpec(("String",)),
        "caption_entities": FieldSpec(("Array of MessageEntity",)),
        "show_caption_above_media": FieldSpec(("Boolean",)),
        "has_spoiler": FieldSpec(("Boolean",)),
        "disable_notification": FieldSpec(("Boolean",)),
        "protect_content": FieldSpec(("Boolean",)),
        "allow_paid_broadcast": FieldSpec(("Boolean",)),
        "message_effect_id": FieldSpec(("String",)),
        "suggested_post_parameters": FieldSpec(("SuggestedPostParameters",)),
        "reply_parameters": FieldSpec(("ReplyParameters",)),
        "reply_markup": FieldSpec(
            ("InlineKeyboardMarkup", "ReplyKeyboardMarkup", "ReplyKeyboardRemove", "ForceReply")
        ),
    },
    "sendDocument": {
        "business_connection_id": FieldSpec(("String",)),
        "chat_id": FieldSpec(("Integer", "String"), required=True),
        "message_thread_id": FieldSpec(("Integer",)),
        "direct_messages_topic_id": FieldSpec(("Integer",)),
        "document": FieldSpec(("InputFile", "String"), required=True),
        "thumbnail": FieldSpec(("InputFile", "String")),
        "caption": FieldSpec(("String",)),
        "parse_mode": FieldSpec(("String",)),
        "caption_entities": FieldSpec(("Array of MessageEntity",)),
        "disable_content_type_detection": FieldSpec(("Boolean",)),
        "disable_notification": FieldSpec(("Boolean",)),
        "protect_content": FieldSpec(("Boolean",)),
        "allow_paid_broadcast": FieldSpec(("Boolean",)),
        "message_effect_id": FieldSpec(("String",)),
        "suggested_post_parameters": FieldSpec(("SuggestedPostParameters",)),
        "reply_parameters": FieldSpec(("ReplyParameters",)),
        "reply_markup": FieldSpec(
            ("InlineKeyboardMarkup", "ReplyKeyboardMarkup", "ReplyKeyboardRemove", "ForceReply")
        ),
    },
    "sendVoice": {
        "business_connection_id": FieldSpec(("String",)),
        "chat_id": FieldSpec(("Integer", "String"), required=True),
        "message_thread_id": FieldSpec(("Integer",)),
        "direct_messages_topic_id": FieldSpec(("Integer",)),
        "voice": FieldSpec(("InputFile", "String"), required=True),
        "caption": FieldSpec(("String",)),
        "parse_mode": FieldSpec(("String",)),
        "caption_entities": FieldSpec(("Array of MessageEntity",)),
        "duration": FieldSpec(("Integer",)),
        "disable_notification": FieldSpec(("Boolean",)),
        "protect_content": FieldSpec(("Boolean",)),
        "allow_paid_broadcast": FieldSpec(("Boolean",)),
        "message_effect_id": FieldSpec(("String",)),
        "suggested_post_parameters": FieldSpec(("SuggestedPostParameters",)),
        "reply_parameters": FieldSpec(("ReplyParameters",)),
        "reply_markup": FieldSpec(
            ("InlineKeyboardMarkup", "ReplyKeyboardMarkup", "ReplyKeyboardRemove", "ForceReply")
        ),
    },
    "sendLocation": {
        "business_connection_id": FieldSpec(("String",)),
        "chat_id": FieldSpec(("Integer", "String"), required=True),
        "message_thread_id": FieldSpec(("Integer",)),
        "direct_messages_topic_id": FieldSpec(("Integer",)),
        "latitude": FieldSpec(("Float",), required=True),
        "longitude": FieldSpec(("Float",), required=True),
        "horizontal_accuracy": FieldSpec(("Float",)),
        "live_period": FieldSpec(("Integer",)),
        "heading": FieldSpec(("Integer",)),
        "proximity_alert_radius": FieldSpec(("Integer",)),
        "disable_notification": FieldSpec(("Boolean",)),
        "protect_content": FieldSpec(("Boolean",)),
        "allow_paid_broadcast": FieldSpec(("Boolean",)),
        "message_effect_id": FieldSpec(("String",)),
        "suggested_post_parameters": FieldSpec(("SuggestedPostParameters",)),
        "reply_parameters": FieldSpec(("ReplyParameters",)),
        "reply_markup": FieldSpec(
            ("InlineKeyboardMarkup", "ReplyKeyboardMarkup", "ReplyKeyboardRemove", "ForceReply")
        ),
    },
    "sendChatAction": {
        "business_connection_id": FieldSpec(("String",)),
        "chat_id": FieldSpec(("Integer", "String"), required=True),
        "message_thread_id": FieldSpec(("Integer",)),
        "action": FieldSpec(("String",), required=True),
    },
    "editMessageText": {
        "business_connection_id": FieldSpec(("String",)),
        "chat_id": FieldSpec(("Integer", "String")),
        "message_id": FieldSpec(("Integer",)),
        "inline_message_id": FieldSpec(("String",)),
        "text": FieldSpec(("String",), required=True),
        "parse_mode": FieldSpec(("String",)),
        "entities": FieldSpec(("Array of MessageEntity",)),
        "link_preview_options": FieldSpec(("LinkPreviewOptions",)),
        "reply_markup": FieldSpec(("InlineKeyboardMarkup",)),
    },
    "editMessageReplyMarkup": {
        "business_connection_id": FieldSpec(("String",)),
        "chat_id": FieldSpec(("Integer", "String")),
        "message_id": FieldSpec(("Integer",)),
        "inline_message_id": FieldSpec(("String",)),
        "reply_markup": FieldSpec(("InlineKeyboardMarkup",)),
    },
    "editMessageCaption": {
        "business_connection_id": FieldSpec(("String",)),
        "chat_id": FieldSpec(("Integer", "String")),
        "message_id": FieldSpec(("Integer",)),
        "inline_message_id": FieldSpec(("String",)),
        "caption": FieldSpec(("String",)),
        "parse_mode": FieldSpec(("String",)),
        "caption_entities": FieldSpec(("Array of MessageEntity",)),
        "show_caption_above_media": FieldSpec(("Boolean",)),
        "reply_markup": FieldSpec(("InlineKeyboardMarkup",)),
    },
    "deleteMessage": {
        "chat_id": FieldSpec(("Integer", "String"), required=True),
        "message_id": FieldSpec(("Integer",), required=True),
    },
    "answerCallbackQuery": {
        "callback_query_id": FieldSpec(("String",), required=True),
        "text": FieldSpec(("String",)),
        "show_alert": FieldSpec(("Boolean",)),
        "url": FieldSpec(("String",)),
        "cache_time": FieldSpec(("Integer",)),
    },
    "setMyCommands": {
        "commands": FieldSpec(("Array of BotCommand",), required=True),
        "scope": FieldSpec(("BotCommandScope",)),
        "language_code": FieldSpec(("String",)),
    },
    "getMyCommands": {
        "scope": FieldSpec(("BotCommandScope",)),
        "language_code": FieldSpec(("String",)),
    },
    "deleteMyCommands": {
        "scope": FieldSpec(("BotCommandScope",)),
        "language_code": FieldSpec(("String",)),
    },
    "getFile": {
        "file_id": FieldSpec(("String",), required=True),
    },
}
