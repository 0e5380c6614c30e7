"""A Telegram Bot API sandbox: the real bot talks HTTP to it, tests act as its users."""

from bot.sandbox.calllog import SEND_METHODS, CallLog, CallRecord, max_in_window, min_gap
from bot.sandbox.faults import Fault, FaultKind, Faults, FiredFault
from bot.sandbox.limits import Admission, TelegramLimits
from bot.sandbox.models import ChatMessage
from bot.sandbox.server import BotApiSandbox
from bot.sandbox.spec import METHODS, FieldSpec
from bot.sandbox.user import SandboxUser
from bot.sandbox.webhook import SECRET_HEADER, WebhookAttempt, WebhookReply

__all__ = [
    "METHODS",
    "SECRET_HEADER",
    "SEND_METHODS",
    "Admission",
    "BotApiSandbox",
    "CallLog",
    "CallRecord",
    "ChatMessage",
    "Fault",
    "FaultKind",
    "Faults",
    "FieldSpec",
    "FiredFault",
    "SandboxUser",
    "TelegramLimits",
    "WebhookAttempt",
    "WebhookReply",
    "max_in_window",
    "min_gap",
]
