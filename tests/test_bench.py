"""`guanjia bench` keeps working: every phase runs on tiny sizes and reports what each person received.

The figures themselves are not asserted (a benchmark prints them; a slow machine is no failure), only
that every request, follow-up, echo and announcement copy arrived where it should, and that the report
ends with one line per headline figure.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.bench import Sizes, run
from benchmarks.estate import plan_estate
from benchmarks.profile import summary
from bot.cli import main

TINY = Sizes(
    residents=12,
    teams=1,
    roster=48,
    history=60,
    steady=4,
    steady_rate=40.0,
    echoes=10,
    announced=24,
    beside=2,
)
HEADLINES = (
    "echo baseline: ",
    "ticket throughput: ",
    "ticket/echo throughput ratio: ",
    "ticket latency p99: ",
    "follow-up relay throughput: ",
    "follow-up latency p99: ",
    "peak RSS: ",
    "announcement rate: ",
    "per-chat limit broken: ",
)


async def test_every_phase_runs_and_the_report_ends_with_the_headlines(tmp_path: Path) -> None:
    report = await run(TINY, tmp_path)

    assert report.echo is not None and report.echo.count == TINY.echoes
    assert report.tickets is not None and report.tickets.count == TINY.residents
    assert report.ticket_latency is not None and len(report.ticket_latency.latencies_ms) == TINY.steady
    assert report.relays is not None and report.relays.count == TINY.residents
    assert report.relay_latency is not None and report.relay_latency.count == TINY.steady
    assert all(ms > 0 for ms in report.ticket_latency.latencies_ms + report.relay_latency.latencies_ms)
    assert report.announcement is not None and report.announcement.recipients == TINY.announced
    assert report.announcement.beside.count == TINY.beside
    assert report.peak_rss_mb > 10
    last = report.lines[-len(HEADLINES) :]
    assert [line[: len(start)] for line, start in zip(last, HEADLINES, strict=True)] == list(HEADLINES)
    assert "(goal >= 0.40: " in last[2] and "(goal < 150 MB: " in last[6]
    # The bot and the echo bot each wrote their log; the token is in neither.
    for log in ("bot.log", "echo.log", "paced.log"):
        assert "BENCH-sandbox-token" not in (tmp_path / log).read_text()


def test_the_roster_keeps_the_concierge_ratio() -> None:
    estate = plan_estate(residents=1_000, teams=20)
    assert len(estate.residents) == 1_000
    assert len({h.team for h in estate.households}) == 20
    assert all(len(butlers) == 3 for butlers in estate.butlers.values())
    assert max(sum(1 for h in estate.households if h.team == team) for team in estate.butlers) == 4


def test_the_profile_summary_counts_only_busy_samples(tmp_path: Path) -> None:
    raw = tmp_path / "profile.raw"
    raw.write_text(
        "run_forever (asyncio/base_events.py:607);EpollSelector.select (selectors.py:468) 70\n"
        "run_forever (asyncio/base_events.py:607);take_message (bot/tickets.py:71);execute (x.py:1) 20\n"
        "Thread.run (threading.py:982);_connection_worker_thread (aiosqlite/core.py:63) 10\n",
        encoding="utf-8",
    )
    text = summary(raw)
    assert "0.3 s  event loop, waiting" in text and "0.1 s  event loop, busy" in text
    assert "66.7  execute (x.py:1)" in text
    assert "66.7  take_message (bot/tickets.py:71)" in text


def test_guanjia_bench_has_a_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["bench", "--", "--help"])
    assert exited.value.code == 0
    assert "--quick" in capsys.readouterr().out
