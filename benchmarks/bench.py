"""`guanjia bench` (`make bench`): is the bot ever the bottleneck? Figures, not a pass or a fail.

Telegram lets a bot send about 30 messages a second; what the bot does between receiving and sending
must cost a small share of that. This process serves the Bot API sandbox and plays the residents; the
bot under test runs in a process of its own (benchmarks/bot_process.py), on SQLite with full
durability, exactly as `guanjia run` runs it. In one run:

1. the baseline: a bare python-telegram-bot echo bot (benchmarks/echo_bot.py), updates per second;
2. new requests from 1,000 residents in 20 butler teams, all at once: tickets per second with the
   resident's answer and the butler's card both delivered, and the ratio to the echo baseline;
3. the latency from the sandbox handing out a request to the butler's card arriving, at the most
   Telegram would let the bot answer (15 requests a second: two messages each at 30 a second);
4. follow-ups inside those tickets: relays per second, and their latency the same way;
5. the bot's peak memory with 10,000 residents in the roster and 100,000 tickets in the database;
6. with Telegram's limits on in the sandbox and the bot: an announcement to 3,000 residents, its rate
   against the 30 a second ceiling, and whether any chat got two messages within a second.

Sandbox and bot share the machine's cores: each has one of two. The figures end with one line each.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import platform
import sqlite3
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import telegram

from benchmarks.announcement import BESIDE_PER_SECOND, AnnouncementRun, announce_with_limits
from benchmarks.estate import Estate, build_estate, plan_estate
from benchmarks.load import (
    Figures,
    Sent,
    Watch,
    card_and_answer,
    echoed,
    measure,
    relayed,
)
from benchmarks.processes import BotProcess, bot_process
from benchmarks.profile import sampled, summary
from bot.config import Config
from bot.sandbox import BotApiSandbox

TOKEN = "777000:BENCH-sandbox-token"
REQUEST = "厨房水龙头漏水，请派人来修"
FOLLOW_UP = "补充：师傅来之前请先打电话"

# The goals the figures are held to.
RATIO_GOAL = 0.40
P99_GOAL_MS = 50.0
RSS_GOAL_MB = 150.0
ANNOUNCE_GOAL = 0.90
TELEGRAM_PER_SECOND = 30


@dataclass(frozen=True)
class Sizes:
    residents: int = 1_000  # sending requests at once
    teams: int = 20  # the butler teams they live in
    roster: int = 10_000  # residents in the roster
    history: int = 100_000  # tickets already in the database
    steady: int = 600  # requests, then follow-ups, sent steadily for the latencies
    steady_rate: float = 15.0  # a second
    echoes: int = 3_000
    announced: int = 3_000  # residents an announcement goes to, Telegram's limits on
    beside: int = 60  # requests sent while it goes out


QUICK = Sizes(residents=40, teams=2, roster=200, history=500, steady=30, echoes=100, announced=60, beside=3)


@dataclass
class Report:
    sizes: Sizes
    echo: Figures | None = None
    tickets: Figures | None = None
    ticket_latency: Figures | None = None
    relays: Figures | None = None
    relay_latency: Figures | None = None
    peak_rss_mb: float = 0.0
    announcement: AnnouncementRun | None = None
    lines: list[str] = field(default_factory=list)

    def say(self, line: str = "") -> None:
        self.lines.append(line)
        print(line, flush=True)


def machine() -> str:
    cpu = platform.machine()
    with contextlib.suppress(OSError, StopIteration):
        cpu = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
    return (
        f"{cpu}, {os.cpu_count()} cores; Python {platform.python_version()}, SQLite {sqlite3.sqlite_version},"
        f" python-telegram-bot {telegram.__version__}; {platform.system()} {platform.release()}"
    )


async def run(sizes: Sizes, workdir: Path, profile: Path | None = None) -> Report:
    report = Report(sizes)
    report.say(f"Machine: {machine()}")
    per_team = max(1, sizes.residents // sizes.teams)
    big = plan_estate(sizes.roster, max(1, sizes.roster // per_team))
    small = plan_estate(sizes.announced, max(1, sizes.announced // per_team))
    report.say(
        f"Building the estates: {sizes.roster:,} residents and {sizes.history:,} tickets;"
        f" {sizes.announced:,} residents for the announcement"
    )
    await asyncio.to_thread(build_estate, workdir / "estate.db", big, sizes.history, Config())
    await asyncio.to_thread(build_estate, workdir / "announce.db", small, 0, Config())
    async with BotApiSandbox(token=TOKEN, bot_username="guanjia_bench_bot") as sandbox:
        for person in [*big.residents, *big.staff, *small.staff]:
            sandbox.user(person, f"U{person}")
        await _echo(sandbox, big, sizes, workdir, report)
        await _guanjia(sandbox, big, sizes, workdir, profile, report)
        report.say(
            f"\n6. Telegram's limits on: an announcement to {sizes.announced:,} residents,"
            f" and {sizes.beside} requests at {BESIDE_PER_SECOND:g}/s beside it"
        )
        report.announcement = await announce_with_limits(sandbox, small, workdir, TOKEN, sizes.beside)
        report.say(f"   {_announced(report.announcement)}")
    _headlines(report)
    return report


async def _echo(sandbox: BotApiSandbox, estate: Estate, sizes: Sizes, workdir: Path, report: Report) -> None:
    report.say(f"\n1. Echo baseline: {sizes.echoes:,} messages to a bare python-telegram-bot echo bot")
    watch = Watch(frozenset())
    sandbox.watch(watch)
    messages = [Sent(r, f"#E{n}", f"#E{n} 你好") for n, r in enumerate(estate.residents[: sizes.echoes])]
    async with bot_process(
        "echo bot", "benchmarks.echo_bot", [], sandbox, TOKEN, workdir / "echo.log"
    ) as bot:
        report.echo = await measure(sandbox, watch, messages, echoed, bot=bot)
        await sandbox.wait_idle(timeout=30)  # its last offset confirmed: nothing left for Guanjia
    sandbox.unwatch(watch)
    report.say(f"   {report.echo.per_second:,.0f} updates/s ({_count(report.echo)})")
    report.say(f"   {_cpu(report.echo, 'an update')}")


async def _guanjia(
    sandbox: BotApiSandbox, estate: Estate, sizes: Sizes, workdir: Path, profile: Path | None, report: Report
) -> None:
    watch = Watch(frozenset(estate.staff))
    sandbox.watch(watch)
    args = ["--db", str(workdir / "estate.db")]
    log = workdir / "bot.log"
    async with bot_process("Guanjia", "benchmarks.bot_process", args, sandbox, TOKEN, log) as bot:
        raw = workdir / "profile.raw"
        async with sampled(bot.pid, raw) if profile else contextlib.nullcontext():
            await _load(sandbox, watch, estate, sizes, report, bot)
        if profile:
            text = await asyncio.to_thread(summary, raw)
            await asyncio.to_thread(profile.write_text, text, encoding="utf-8")
            report.say(f"\n   Where the bot's time went under this load: {profile}")
        report.peak_rss_mb = bot.peak_rss_mb()
    sandbox.unwatch(watch)
    report.say(
        f"\n5. Peak memory of the bot, {sizes.roster:,} residents and {sizes.history:,} tickets:"
        f" {report.peak_rss_mb:.0f} MB"
    )


async def _load(
    sandbox: BotApiSandbox, watch: Watch, estate: Estate, sizes: Sizes, report: Report, bot: BotProcess
) -> None:
    """Phases 2 to 4: new requests at once and steadily, then follow-ups inside them the same ways."""
    active = estate.residents[: sizes.residents]
    steady = estate.residents[sizes.residents : sizes.residents + sizes.steady]
    report.say(f"\n2. New requests: {len(active):,} residents in {sizes.teams} teams, all at once")
    requests = [Sent(r, f"#R{n}", f"#R{n} {REQUEST}") for n, r in enumerate(active)]
    report.tickets = await measure(sandbox, watch, requests, card_and_answer, bot=bot)
    report.say(
        f"   {report.tickets.per_second:,.0f} tickets/s, the resident answered and the butler's card"
        f" delivered ({_count(report.tickets)})"
    )
    report.say(f"   {_cpu(report.tickets, 'a ticket')}")
    report.say(f"\n3. Latency: {len(steady)} new requests at {sizes.steady_rate:g}/s, handed out → card")
    later = [Sent(r, f"#R{n}", f"#R{n} {REQUEST}") for n, r in enumerate(steady, start=len(active))]
    report.ticket_latency = await measure(sandbox, watch, later, card_and_answer, sizes.steady_rate)
    report.say(f"   {_percentiles(report.ticket_latency)}")

    report.say(f"\n4. Follow-ups inside those tickets: {len(active):,} at once")
    report.relays = await measure(sandbox, watch, _follow_ups(watch, requests), relayed, bot=bot)
    report.say(f"   {report.relays.per_second:,.0f} relays/s to the butler ({_count(report.relays)})")
    report.say(f"   {_cpu(report.relays, 'a relay')}")
    report.say(f"   and {len(steady)} at {sizes.steady_rate:g}/s, handed out → relayed to the butler")
    report.relay_latency = await measure(
        sandbox, watch, _follow_ups(watch, later), relayed, sizes.steady_rate
    )
    report.say(f"   {_percentiles(report.relay_latency)}")


def _follow_ups(watch: Watch, requests: Sequence[Sent]) -> list[Sent]:
    """Each resident replies to the bot's answer to their request, adding a detail."""
    follow_ups = []
    for request in requests:
        mark = request.mark.replace("#R", "#F")
        answer = watch.answers[request.mark]
        follow_ups.append(Sent(request.resident, mark, f"{mark} {FOLLOW_UP}", reply_to=answer))
    return follow_ups


def _count(figures: Figures) -> str:
    return f"{figures.count:,} in {figures.seconds:.2f}s"


def _cpu(figures: Figures, each: str) -> str:
    bot, driver = figures.cpu_ms_each()
    return f"CPU time for {each}: the bot {bot:.1f} ms; the sandbox with the residents {driver:.1f} ms"


def _percentiles(figures: Figures) -> str:
    return (
        f"p50 {figures.percentile(0.50):.1f} ms, p95 {figures.percentile(0.95):.1f} ms,"
        f" p99 {figures.percentile(0.99):.1f} ms"
    )


def _announced(run: AnnouncementRun) -> str:
    return (
        f"{run.recipients:,} copies in {run.seconds:.1f}s: {run.per_second:.1f} messages/s;"
        f" refused by the sandbox for going too fast: {run.refused_per_chat} (one chat),"
        f" {run.refused_overall} (overall); the requests' cards beside it: {_percentiles(run.beside)}"
    )


def _goal(met: bool) -> str:
    return "met" if met else "MISSED"


def _headlines(report: Report) -> None:
    echo, tickets, relays = report.echo, report.tickets, report.relays
    latency, relay_latency, announced = report.ticket_latency, report.relay_latency, report.announcement
    assert echo and tickets and relays and latency and relay_latency and announced, "a phase did not run"
    ratio = tickets.per_second / echo.per_second
    p99, relay_p99, rss = latency.percentile(0.99), relay_latency.percentile(0.99), report.peak_rss_mb
    share = announced.per_second / TELEGRAM_PER_SECOND
    broken = announced.refused_per_chat
    report.say("\nHeadline figures")
    report.say(f"echo baseline: {echo.per_second:,.0f} updates/s")
    report.say(f"ticket throughput: {tickets.per_second:,.0f} tickets/s")
    report.say(
        f"ticket/echo throughput ratio: {ratio:.2f} (goal >= {RATIO_GOAL:.2f}: {_goal(ratio >= RATIO_GOAL)})"
    )
    report.say(f"ticket latency p99: {p99:.1f} ms (goal < {P99_GOAL_MS:.0f} ms: {_goal(p99 < P99_GOAL_MS)})")
    report.say(f"follow-up relay throughput: {relays.per_second:,.0f} relays/s")
    relay_met = _goal(relay_p99 < P99_GOAL_MS)
    report.say(f"follow-up latency p99: {relay_p99:.1f} ms (goal < {P99_GOAL_MS:.0f} ms: {relay_met})")
    report.say(f"peak RSS: {rss:.0f} MB (goal < {RSS_GOAL_MB:.0f} MB: {_goal(rss < RSS_GOAL_MB)})")
    report.say(
        f"announcement rate: {announced.per_second:.1f} messages/s, {share:.0%} of {TELEGRAM_PER_SECOND}/s"
        f" (goal >= {ANNOUNCE_GOAL:.0%}: {_goal(share >= ANNOUNCE_GOAL)})"
    )
    report.say(f"per-chat limit broken: {broken} times (goal 0: {_goal(broken == 0)})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="guanjia bench", description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes: checks the harness in a minute")
    parser.add_argument("--workdir", type=Path, default=None, help="keep the databases and bot logs here")
    parser.add_argument(
        "--profile",
        type=Path,
        default=None,
        metavar="FILE",
        help="sample the bot with py-spy during phases 2-4; where its time went goes to FILE",
    )
    args = parser.parse_args(argv)
    sizes = QUICK if args.quick else Sizes()
    with contextlib.ExitStack() as stack:
        workdir = args.workdir or Path(
            stack.enter_context(tempfile.TemporaryDirectory(prefix="guanjia-bench-"))
        )
        workdir.mkdir(parents=True, exist_ok=True)
        asyncio.run(run(sizes, workdir, args.profile))
    return 0


if __name__ == "__main__":
    sys.exit(main())
