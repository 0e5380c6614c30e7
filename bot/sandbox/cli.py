"""Run the sandbox standalone: ``python -m bot.sandbox --port 8081 --token ...``.

Point the bot at the printed URLs, then type lines to talk to it as a user:
``hello`` (as the first user), ``@1002 hello`` (as user 1002), ``!press 3 Accept``
(press a button on message 3 of the current user's chat). ``--telegram-limits`` answers 429
when the bot sends faster than Telegram allows (see bot.sandbox.limits).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys

from bot.sandbox.limits import TelegramLimits
from bot.sandbox.server import BotApiSandbox
from bot.sandbox.user import SandboxUser


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bot.sandbox", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--token", default="123456:TEST")
    parser.add_argument("--bot-username", default="guanjia_bot")
    parser.add_argument("--bot-name", default="管家")
    parser.add_argument(
        "--user",
        action="append",
        default=[],
        metavar="ID:NAME",
        help="a user to create (repeatable); default 1001:Alice",
    )
    parser.add_argument("--no-input", action="store_true", help="serve only, ignore stdin")
    parser.add_argument(
        "--telegram-limits",
        action="store_true",
        help="answer 429 like Telegram when the bot sends more than one message a second to a chat "
        "or more than 30 a second overall",
    )
    return parser.parse_args(argv)


def _users(sandbox: BotApiSandbox, specs: list[str]) -> list[SandboxUser]:
    users = []
    for spec in specs or ["1001:Alice"]:
        user_id, _, name = spec.partition(":")
        users.append(sandbox.user(int(user_id), name or f"User{user_id}"))
    return users


async def _echo_bot_messages(users: list[SandboxUser]) -> None:
    """Print what the bot sends; a slow poll is fine for a human watching a terminal."""
    seen: dict[tuple[int, int], tuple[str, list[list[tuple[str, str]]]]] = {}
    while True:
        for user in users:
            for msg in user.inbox:
                state = (msg.content, msg.buttons)
                if seen.get((user.id, msg.message_id)) != state:
                    seen[(user.id, msg.message_id)] = state
                    mark = "edited " if msg.edited else ""
                    print(f"[bot -> {user.id} #{msg.message_id} {mark}{msg.kind}] {msg.content}")
                    for row in msg.buttons:
                        print("    " + "  ".join(f"[{text}]" for text, _ in row))
        await asyncio.sleep(0.2)


async def _handle_line(sandbox: BotApiSandbox, current: SandboxUser, line: str) -> SandboxUser:
    if line.startswith("@"):
        target, _, line = line[1:].partition(" ")
        current = sandbox.user(int(target))
    if line.startswith("!press "):
        _, number, label = line.split(" ", 2)
        await current.press(int(number), label)
    elif line:
        await current.send_text(line)
    return current


async def _serve(args: argparse.Namespace) -> None:
    limits = TelegramLimits() if args.telegram_limits else None
    sandbox = BotApiSandbox(args.token, args.bot_username, args.bot_name, limits=limits)
    await sandbox.start(args.host, args.port)
    users = _users(sandbox, args.user)
    print(f"Bot API sandbox serving @{args.bot_username}")
    print(f"  base_url:      {sandbox.api_url}")
    print(f"  base_file_url: {sandbox.file_url}")
    print(f"  users: {', '.join(f'{u.id} ({u.first_name})' for u in users)}")
    print(f"  telegram limits: {'off' if limits is None else 'on'}", flush=True)
    watcher = asyncio.create_task(_echo_bot_messages(users))
    try:
        current = users[0]
        if args.no_input:
            await asyncio.Event().wait()
        while line := await asyncio.to_thread(sys.stdin.readline):
            try:
                current = await _handle_line(sandbox, current, line.strip())
            except (AssertionError, ValueError) as exc:
                print(f"! {exc}", flush=True)
        await asyncio.Event().wait()  # stdin closed: keep serving until Ctrl-C
    finally:
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watcher
        await sandbox.stop()


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args))
    return 0
