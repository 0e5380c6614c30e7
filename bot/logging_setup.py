"""Logging that never shows the bot token, wherever it turns up (URLs, exceptions, arguments).

python-telegram-bot puts the token into some of its own errors (InvalidToken: "The token `...` was
rejected by the server."), and every Bot API URL carries it, so the log handler redacts every record:
its message, its traceback (the whole chain of causes) and its stack. An exception nobody caught, which
Python prints itself on the way out, is redacted by the same rule.
"""

from __future__ import annotations

import logging
import sys
import traceback
from collections.abc import Callable
from types import TracebackType

REDACTED = "<token>"


def _secrets_of(token: str) -> list[str]:
    """The token, and its secret half on its own: a URL may carry the colon percent-encoded (%3A)."""
    secrets = [token] if token else []
    _, colon, secret = token.partition(":")
    if colon and len(secret) >= 8:
        secrets.append(secret)
    return secrets


class RedactToken(logging.Filter):
    def __init__(self, token: str) -> None:
        super().__init__()
        self._secrets = _secrets_of(token)

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        if not self._secrets:
            return True
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # arguments that do not fit: logging would print them raw
            message = f"{record.msg} {record.args!r}"
        if self.redact(message) != message:
            record.msg, record.args = self.redact(message), None
        if record.exc_info and record.exc_info[1] is not None:
            text = record.exc_text or logging.Formatter().formatException(record.exc_info)
            if self.redact(text) != text:
                record.exc_info = None  # formatters then print exc_text, the redacted traceback
                record.exc_text = self.redact(text)
        elif record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


ExceptHook = Callable[[type[BaseException], BaseException, TracebackType | None], None]


def redacting_excepthook(token: str) -> ExceptHook:
    """A sys.excepthook that prints an uncaught exception's traceback with the token redacted."""
    redact = RedactToken(token).redact

    def hook(kind: type[BaseException], error: BaseException, trace: TracebackType | None) -> None:
        sys.stderr.write(redact("".join(traceback.format_exception(kind, error, trace))))

    return hook


def configure_logging(token: str, level: int = logging.INFO) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactToken(token))
    logging.basicConfig(level=level, handlers=[handler], force=True)
    # httpx logs every request URL at INFO, and Bot API URLs contain the token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)  # it logs every alarm it sets
    # e.g. InvalidToken from the first getMe, which ends the process before any handler sees it.
    sys.excepthook = redacting_excepthook(token)
