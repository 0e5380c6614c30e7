"""The Guanjia bot as `guanjia run` runs it, in a process of its own, for the benchmark to drive.

The same wiring (bot/app.py), long polling and outbox; only the sending limits are the benchmark's to
choose, since the sandbox keeps Telegram's limits only when asked to.

Run by `guanjia bench`; by hand: `GUANJIA_TOKEN=... python -m benchmarks.bot_process --db F --api-url U`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path

from bot.app import Settings, long_polling
from bot.config import Config
from bot.logging_setup import configure_logging
from bot.pacing import UNLIMITED, SendLimits
from bot.serve import serve


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bot_process")
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--api-url", required=True)
    parser.add_argument("--telegram-limits", action="store_true", help="keep Telegram's sending limits")
    args = parser.parse_args(argv)
    token = os.environ["GUANJIA_TOKEN"]
    configure_logging(token)
    settings = Settings(
        token=token,
        db_path=args.db,
        api_url=args.api_url,
        config=Config(),
        send_limits=SendLimits() if args.telegram_limits else UNLIMITED,
    )
    asyncio.run(serve(settings, long_polling(poll_timeout=10.0)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
