from __future__ import annotations

import io
import logging
import sys
from collections.abc import Iterator

import httpx
import pytest
from telegram import Bot
from telegram.error import InvalidToken, NetworkError

from bot.logging_setup import RedactToken, configure_logging, redacting_excepthook
from bot.sandbox import BotApiSandbox

TOKEN = "123456:AAE-secret-token-value"
SECRET = "AAE-secret-token-value"


@pytest.fixture
def logged() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    """A logger whose only handler is redacted like the bot's: what it writes is what an operator reads."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactToken(TOKEN))
    logger = logging.getLogger("guanjia.test.redacted")
    logger.addHandler(handler)
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    yield logger, stream
    logger.removeHandler(handler)
    logger.propagate = True


def test_the_token_never_reaches_the_log(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("guanjia.test")
    logger.addFilter(RedactToken(TOKEN))
    with caplog.at_level(logging.INFO, logger="guanjia.test"):
        logger.info("POST https://api.telegram.org/bot%s/getUpdates", TOKEN)
        try:
            raise RuntimeError(f"failed calling https://api.telegram.org/bot{TOKEN}/sendMessage")
        except RuntimeError:
            logger.exception("delivery failed")
    assert TOKEN not in caplog.text
    assert "bot<token>/getUpdates" in caplog.text
    assert "<token>/sendMessage" in caplog.text


def test_arguments_of_any_kind_and_a_percent_encoded_token_are_redacted(
    logged: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = logged
    logger.error("delivery failed: %s", RuntimeError(f"https://api.telegram.org/bot{TOKEN}/getMe"))
    logger.warning("request %r", {"url": f"https://api.telegram.org/bot{TOKEN}/sendMessage"})
    logger.info("webhook set to https://example.org/hook?next=/bot123456%%3A%s/x", SECRET)
    logger.info("bad arguments %s %s", TOKEN)  # one argument short: logging must not print it raw
    logger.debug("where we are", stack_info=True, extra={"token": TOKEN})
    text = stream.getvalue()
    assert SECRET not in text
    assert text.count("<token>") == 4
    assert "bot123456%3A<token>/x" in text


def test_a_whole_chain_of_causes_is_redacted(logged: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = logged
    url = f"https://api.telegram.org/bot{TOKEN}/getUpdates"
    try:
        try:
            raise httpx.ConnectError(f"cannot reach {url}", request=httpx.Request("POST", url))
        except httpx.ConnectError as error:
            raise NetworkError(f"httpx.ConnectError: {error}") from error
    except NetworkError:
        logger.exception("polling failed")
    text = stream.getvalue()
    assert SECRET not in text
    assert "The above exception was the direct cause of the following exception" in text
    assert "httpx.ConnectError: cannot reach https://api.telegram.org/bot<token>/getUpdates" in text
    assert "telegram.error.NetworkError: httpx.ConnectError: cannot reach" in text


async def test_python_telegram_bots_own_invalid_token_error_is_redacted(
    logged: tuple[logging.Logger, io.StringIO],
) -> None:
    """A wrong token: PTB's first getMe raises InvalidToken quoting the token. Logged, it is redacted."""
    logger, stream = logged
    async with BotApiSandbox(token="654321:the-real-sandbox-token") as sandbox:
        bot = Bot(TOKEN, base_url=sandbox.api_url)
        with pytest.raises(InvalidToken) as raised:
            await bot.initialize()
        await bot.shutdown()
    assert TOKEN in str(raised.value)  # the premise: PTB's message carries the token
    logger.error("could not start", exc_info=raised.value)
    text = stream.getvalue()
    assert SECRET not in text
    assert "InvalidToken: The token `<token>` was rejected by the server." in text


def test_configure_logging_redacts_everything_and_silences_request_urls(
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = logging.getLogger()
    saved = (root.handlers[:], root.level, sys.excepthook)
    quiet = {name: logging.getLogger(name).level for name in ("httpx", "apscheduler")}
    try:
        configure_logging(TOKEN)
        logging.getLogger("httpx").info("HTTP Request: POST https://api.telegram.org/bot%s/getMe", TOKEN)
        logging.getLogger("telegram.ext.Application").error("No error handlers: %s", f"bot{TOKEN}/getMe")
        try:
            raise InvalidToken(f"The token `{TOKEN}` was rejected by the server.")
        except InvalidToken as error:
            sys.excepthook(type(error), error, error.__traceback__)  # as Python does on the way out
    finally:
        root.handlers[:], sys.excepthook = saved[0], saved[2]
        root.setLevel(saved[1])
        for name, level in quiet.items():
            logging.getLogger(name).setLevel(level)
    err = capsys.readouterr().err
    assert SECRET not in err
    assert "HTTP Request" not in err  # httpx's per-request lines are turned down
    assert "telegram.ext.Application: No error handlers: bot<token>/getMe" in err
    assert "telegram.error.InvalidToken: The token `<token>` was rejected by the server." in err


def test_an_uncaught_exception_is_printed_redacted(capsys: pytest.CaptureFixture[str]) -> None:
    hook = redacting_excepthook(TOKEN)
    try:
        raise RuntimeError(f"https://api.telegram.org/bot{TOKEN}/getMe")
    except RuntimeError as error:
        hook(type(error), error, error.__traceback__)
    err = capsys.readouterr().err
    assert err.startswith("Traceback (most recent call last):")
    assert "RuntimeError: https://api.telegram.org/bot<token>/getMe" in err
    assert SECRET not in err


def test_no_token_no_redaction(logged: tuple[logging.Logger, io.StringIO]) -> None:
    """An empty token (the sandbox's tests) must not turn every empty string into "<token>"."""
    logger, stream = logged
    logger.handlers[0].filters[:] = [RedactToken("")]
    logger.info("plain words")
    assert stream.getvalue() == "INFO guanjia.test.redacted: plain words\n"
