from __future__ import annotations

import logging

import pytest

from bot.logging_setup import RedactToken

TOKEN = "123456:AAE-secret-token-value"


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
