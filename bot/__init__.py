"""Guanjia's domain services and wiring."""

import os

# python-telegram-bot 22 gives time periods (a 429's retry_after) as timedeltas once this is set, and warns
# on every one otherwise; the bot reads either (bot/pacing.py retry_after_seconds).
os.environ.setdefault("PTB_TIMEDELTA", "1")
