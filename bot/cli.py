"""The `guanjia` command: demo, run, roster import, catalog import, export, fees, announce, sandbox, bench."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path

from bot.clock import SystemClock
from bot.config import TELEGRAM_API_URL, ConfigError, load_config
from bot.roster import read_roster_file


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="guanjia", description="Guanjia (管家): the estate butler service bot"
    )
    commands = parser.add_subparsers(dest="command", required=True)

    demo = commands.add_parser("demo", help="play a scripted day against the built-in Bot API sandbox")
    demo.add_argument(
        "--language", choices=("zh", "en"), default=None, help="only show this language's people"
    )

    run = commands.add_parser("run", help="run the bot for real")
    run.add_argument("--db", type=Path, required=True)
    run.add_argument("--token", default=None, help="the bot token (or set GUANJIA_TOKEN)")
    run.add_argument(
        "--api-url", default=TELEGRAM_API_URL, help="Bot API base URL, e.g. http://127.0.0.1:8081/bot"
    )
    run.add_argument("--config", type=Path, default=None)
    run.add_argument(
        "--webhook",
        default=None,
        metavar="URL",
        help="take updates by webhook at this public HTTPS URL instead of long polling (needs --listen)",
    )
    run.add_argument(
        "--listen",
        default=None,
        metavar="HOST:PORT",
        help="where the webhook server listens, e.g. 127.0.0.1:8443",
    )

    roster = commands.add_parser("roster", help="the estate's roster")
    roster_commands = roster.add_subparsers(dest="roster_command", required=True)
    roster_import = roster_commands.add_parser("import", help="import the roster CSV (idempotent)")
    roster_import.add_argument("file", type=Path)
    roster_import.add_argument("--db", type=Path, required=True)
    roster_import.add_argument("--config", type=Path, default=None)
    roster_import.add_argument("--bot-username", default=None, help="print invite deep links for this bot")

    catalog = commands.add_parser("catalog", help="the price list of paid special services (特约服务)")
    catalog_commands = catalog.add_subparsers(dest="catalog_command", required=True)
    catalog_import = catalog_commands.add_parser(
        "import", help="import the price list from a .toml or .csv file (idempotent, all or nothing)"
    )
    catalog_import.add_argument("file", type=Path)
    catalog_import.add_argument("--db", type=Path, required=True)
    catalog_import.add_argument("--estate", default=None, help="needed only if the database holds several")

    export = commands.add_parser("export", help="write the tickets of a span of days to a CSV for Excel")
    export.add_argument("--db", type=Path, required=True)
    export.add_argument("--from", dest="first", required=True, metavar="YYYY-MM-DD", help="first day")
    export.add_argument("--to", dest="last", required=True, metavar="YYYY-MM-DD", help="last day, included")
    export.add_argument("--out", type=Path, required=True, metavar="FILE.csv")
    export.add_argument("--language", choices=("zh", "en"), default="zh", help="of headers and words")
    export.add_argument("--estate", default=None, help="needed only if the database holds several")

    fees = commands.add_parser("fees", help="property fees (物业费): what is owed, its reminders, payments")
    fees_commands = fees.add_subparsers(dest="fees_command", required=True)
    fees_import = fees_commands.add_parser(
        "import", help="import the fees owed from a CSV (idempotent) and schedule their reminders"
    )
    fees_import.add_argument("file", type=Path)
    fees_paid = fees_commands.add_parser("paid", help="mark a unit's fee paid: its reminders stop")
    fees_paid.add_argument("--unit", required=True, help="e.g. 1-101")
    fees_paid.add_argument("--period", required=True, help="as in the imported file, e.g. 2026-11")
    for fees_parser in (fees_import, fees_paid):
        fees_parser.add_argument("--db", type=Path, required=True)
        fees_parser.add_argument("--config", type=Path, default=None, help="the one `guanjia run` uses")
        fees_parser.add_argument("--estate", default=None, help="needed only if the database holds several")

    announce = commands.add_parser(
        "announce", help="send an announcement (公告) to residents; without --yes, only its preview"
    )
    announce.add_argument("--db", type=Path, required=True)
    announce.add_argument("--file", type=Path, required=True, metavar="FILE.txt", help="its text, UTF-8")
    announce.add_argument("--to", required=True, metavar="estate|building:N|vip", help="who receives it")
    announce.add_argument("--estate", default=None, help="needed only if the database holds several")
    announce.add_argument(
        "--from",
        dest="author",
        default=None,
        metavar="NAME",
        help="the manager who signs it and gets the report",
    )
    announce.add_argument("--yes", action="store_true", help="send it (a running bot delivers it)")

    commands.add_parser(
        "bench",
        help="benchmark the bot against the sandbox and print figures (options: guanjia bench -- --help)",
        add_help=False,
    ).add_argument("options", nargs=argparse.REMAINDER, help="passed to the benchmark")

    sandbox = commands.add_parser(
        "sandbox", help="serve the Bot API sandbox on 127.0.0.1 (options: guanjia sandbox -- --help)"
    )
    sandbox.add_argument("options", nargs=argparse.REMAINDER, help="passed to the sandbox")

    args = parser.parse_args(argv)
    try:
        if args.command == "demo":
            from bot.demo import play

            return asyncio.run(play(sys.stdout))
        if args.command == "run":
            return _run(args)
        if args.command == "roster":
            return asyncio.run(_import_roster(args))
        if args.command == "catalog":
            from bot.catalog import catalog_command

            return catalog_command(args.file, args.db, args.estate)
        if args.command == "export":
            return asyncio.run(_export(args))
        if args.command == "fees":
            from bot.fee_import import fees_command

            return asyncio.run(fees_command(args))
        if args.command == "announce":
            return asyncio.run(_announce(args))
        if args.command == "bench":
            from benchmarks.bench import main as bench_main

            return bench_main([option for option in args.options if option != "--"])
        if args.command == "sandbox":
            from bot.sandbox.cli import main as sandbox_main

            return sandbox_main([option for option in args.options if option != "--"])
    except ConfigError as error:
        print(f"guanjia: {error}", file=sys.stderr)
        return 2
    return 2


def _run(args: argparse.Namespace) -> int:
    from bot.app import Settings
    from bot.logging_setup import configure_logging
    from bot.serve import serve, source_for

    token = args.token or os.environ.get("GUANJIA_TOKEN", "")
    if not token:
        print("guanjia run: no token; pass --token or set GUANJIA_TOKEN", file=sys.stderr)
        return 2
    try:
        source = source_for(args.webhook, args.listen)
    except ValueError as error:
        print(f"guanjia run: {error}", file=sys.stderr)
        return 2
    configure_logging(token)
    settings = Settings(token=token, db_path=args.db, api_url=args.api_url, config=load_config(args.config))
    asyncio.run(serve(settings, source))
    return 0


async def _import_roster(args: argparse.Namespace) -> int:
    from bot.roster import import_roster
    from storage.database import Database

    config = load_config(args.config)
    try:
        text = read_roster_file(args.file)
    except (OSError, UnicodeDecodeError) as error:
        print(f"guanjia roster import: cannot read {args.file}: {error}", file=sys.stderr)
        return 1
    db = await Database.open(args.db)
    try:
        async with db.begin() as conn:
            report = await import_roster(conn, text, config, SystemClock().now())
    finally:
        await db.close()
    for warning in report.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if not report.ok:
        for problem in report.errors:
            print(f"error: {problem}", file=sys.stderr)
        print(f"{args.file}: {len(report.errors)} error(s); nothing was imported", file=sys.stderr)
        return 1
    print(f"{args.file}: {report.created} added, {report.updated} updated")
    if report.invites:
        print("Invite codes for people not yet on Telegram (single use):")
        for invite in report.invites:
            where = f" {invite.unit}" if invite.unit else ""
            link = f"  https://t.me/{args.bot_username}?start={invite.code}" if args.bot_username else ""
            print(f"  {invite.role.value:<8} {invite.name}{where}: /start {invite.code}{link}")
    return 0


async def _export(args: argparse.Namespace) -> int:
    import sqlalchemy as sa

    from bot.export import ExportRefused, export_to_file
    from bot.spans import SpanError, read_day
    from storage.people import UnknownEstate

    try:
        first, last = read_day(args.first), read_day(args.last)
        done = await export_to_file(
            args.db, first, last, args.out, language=args.language, estate=args.estate
        )
    except (SpanError, ExportRefused, UnknownEstate) as error:
        print(f"guanjia export: {error}; nothing was written", file=sys.stderr)
        return 2
    except (OSError, sa.exc.SQLAlchemyError) as error:
        print(f"guanjia export: {error}; nothing was written", file=sys.stderr)
        return 1
    span = done.span
    print(f"{done.path}: {done.rows} tickets, {span.first_day} – {span.last_day} ({span.zone.key})")
    return 0


async def _announce(args: argparse.Namespace) -> int:
    import html
    import re

    import sqlalchemy as sa

    from bot.announcements import AnnounceRefused, announce_on_command_line, check_text
    from storage.people import UnknownEstate

    try:
        text = check_text(args.file.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, AnnounceRefused) as error:
        print(f"guanjia announce: cannot use {args.file}: {error}; nothing was sent", file=sys.stderr)
        return 1
    try:
        done = await announce_on_command_line(
            args.db,
            text,
            args.to,
            estate=args.estate,
            author_name=args.author,
            send=args.yes,
            clock=SystemClock(),
        )
    except (AnnounceRefused, UnknownEstate) as error:
        print(f"guanjia announce: {error}; nothing was sent", file=sys.stderr)
        return 2
    except (OSError, sa.exc.SQLAlchemyError) as error:
        print(f"guanjia announce: {error}; nothing was sent", file=sys.stderr)
        return 1
    reach = done.reach
    blocked = f" ({reach.blocked} of them blocked the bot: tried once)" if reach.blocked else ""
    print(
        f"Announcement to {done.notice.audience} of estate {done.estate}: {reach.total} recipient(s),"
        f" {reach.on_telegram} on Telegram{blocked}, {reach.not_on_telegram} not on Telegram yet."
    )
    for language, count in reach.languages().items():
        print(f"\nAs the {count} reading {'Chinese' if language == 'zh' else 'English'} receive it:")
        plain = html.unescape(re.sub(r"<[^>]+>", "", done.previews[language]))  # as Telegram shows the HTML
        print("\n".join(f"    {line}" if line else "" for line in plain.splitlines()))
    if done.sent:
        print(
            f"\nAnnouncement #{done.notice.number} is queued: a running bot delivers it and reports to "
            + (f"{args.author}." if args.author else "the estate's managers.")
        )
    else:
        print("\nNothing was sent. To send it, run the same command with --yes.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
