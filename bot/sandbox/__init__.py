"""A Telegram Bot API sandbox: the real bot talks HTTP to it, tests act as its users."""

from bot.sandbox.models import ChatMessage
from bot.sandbox.server import BotApiSandbox
from bot.sandbox.spec import METHODS, FieldSpec
from bot.sandbox.user import SandboxUser

__all__ = ["METHODS", "BotApiSandbox", "ChatMessage", "FieldSpec", "SandboxUser"]
