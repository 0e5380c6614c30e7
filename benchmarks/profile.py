"""Sampling the bot under load with py-spy, and reading the samples as a table of where time went.

py-spy attaches to the running bot from outside (no change to the bot, little slowing) and samples
every thread: the event loop's, and aiosqlite's, where SQLite does its work. The collapsed stacks it
writes are summed here per function, leaving out samples of a thread waiting for work: the share of
the busy samples a function was running itself ("self"), and with what it called ("total").
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import shutil
import signal
import sys
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import aiosqlite.core

SAMPLES_PER_SECOND = 250
OWN_CODE = ("bot/", "handlers/", "storage/")


@contextlib.asynccontextmanager
async def sampled(pid: int, out: Path) -> AsyncIterator[None]:
    """py-spy samples process `pid` while the block runs; its raw stacks go to `out`."""
    spy = shutil.which("py-spy", path=str(Path(sys.executable).parent)) or shutil.which("py-spy")
    if spy is None:
        raise RuntimeError("py-spy is not installed (it comes with the project's dev dependencies)")
    process = await asyncio.create_subprocess_exec(
        *(spy, "record", "--pid", str(pid), "--rate", str(SAMPLES_PER_SECOND)),
        *("--format", "raw", "--output", str(out), "--nonblocking"),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        yield
    finally:
        process.send_signal(signal.SIGINT)  # as Ctrl-C: py-spy writes what it has and exits
        await process.wait()


def _waiting_frames() -> tuple[str, ...]:
    """Frames that mean "waiting for work": the event loop polling, an aiosqlite thread at its queue."""
    lines, first = inspect.getsourcelines(aiosqlite.core._connection_worker_thread)
    queue = next(first + n for n, line in enumerate(lines) if "tx.get(" in line)
    return ("EpollSelector.select (", f"_connection_worker_thread (aiosqlite/core.py:{queue})")


def summary(raw: Path, top: int = 20) -> str:
    """Where the bot's busy time went: each thread kind's share, then functions by self and total."""
    waiting = _waiting_frames()
    own: Counter[str] = Counter()
    total: Counter[str] = Counter()
    threads: Counter[str] = Counter()
    busy = 0
    for line in raw.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        frames = stack.split(";")
        thread = "SQLite (aiosqlite threads)" if "_connection_worker_thread" in stack else "event loop"
        if frames[-1].startswith(waiting):
            threads[f"{thread}, waiting"] += int(count_text)
            continue
        count = int(count_text)
        busy += count
        threads[f"{thread}, busy"] += count
        own[frames[-1]] += count
        for frame in set(frames):
            total[frame] += count
    if busy == 0:
        return "no busy samples"
    lines = [f"Seconds sampled per thread kind (py-spy, {SAMPLES_PER_SECOND} samples a second):"]
    lines += [f"  {n / SAMPLES_PER_SECOND:7.1f} s  {kind}" for kind, n in sorted(threads.items())]
    lines += ["", "Busy samples, by the function running (self %):"]
    lines += [f"  {100 * n / busy:5.1f}  {frame}" for frame, n in own.most_common(top)]
    lines += ["", "Busy samples, by the project's functions and what they called (total %):"]
    ours = [(frame, n) for frame, n in total.most_common() if any(p in frame for p in OWN_CODE)]
    lines += [f"  {100 * n / busy:5.1f}  {frame}" for frame, n in ours[:top]]
    return "\n".join(lines)
