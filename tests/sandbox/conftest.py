from collections.abc import AsyncIterator

import pytest
import telegram

from bot.sandbox import BotApiSandbox

TOKEN = "123456:TEST"


@pytest.fixture
async def sandbox() -> AsyncIterator[BotApiSandbox]:
    async with BotApiSandbox(token=TOKEN, bot_username="guanjia_bot", bot_name="管家") as box:
        yield box


@pytest.fixture
async def bot(sandbox: BotApiSandbox) -> AsyncIterator[telegram.Bot]:
    async with telegram.Bot(TOKEN, base_url=sandbox.api_url, base_file_url=sandbox.file_url) as b:
        yield b
