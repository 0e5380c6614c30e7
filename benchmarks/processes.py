"""The bots under test, each in a process of its own: started, waited for, measured and stopped."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

from bot.sandbox import BotApiSandbox

READY_WITHIN_SECONDS = 60.0
STOP_WITHIN_SECONDS = 30.0


class BotProcess:
    def __init__(self, name: str, process: asyncio.subprocess.Process, log: Path) -> None:
        self.name = name
        self._process = process
        self.log = log

    @property
    def pid(self) -> int:
        return self._process.pid

    def peak_rss_mb(self) -> float:
        """The most resident memory the process has held so far (Linux: VmHWM), in MiB."""
        for line in Path(f"/proc/{self._process.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        raise RuntimeError("no VmHWM in /proc: peak memory is measured on Linux only")

    def cpu_seconds(self) -> float:
        """CPU time the process has used so far, all its threads, user and system (Linux: /proc)."""
        fields = Path(f"/proc/{self._process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        user, system = int(fields[11]), int(fields[12])  # utime and stime, the 14th and 15th fields
        return (user + system) / os.sysconf("SC_CLK_TCK")

    async def wait_polling(self, sandbox: BotApiSandbox, since: int) -> None:
        """Until the bot asks for updates (it is up), or fail with the end of its log if it died."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + READY_WITHIN_SECONDS
        while not any(r.method == "getUpdates" for r in sandbox.call_log[since:]):
            if self._process.returncode is not None or loop.time() > deadline:
                tail = "\n".join(self.log.read_text(errors="replace").splitlines()[-20:])
                raise RuntimeError(f"{self.name} did not start; the end of {self.log}:\n{tail}")
            await asyncio.sleep(0.05)

    async def stop(self) -> int:
        """SIGTERM, as a service manager stops it: the bot finishes what is in hand and exits."""
        if self._process.returncode is None:
            self._process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self._process.wait(), STOP_WITHIN_SECONDS)
            except TimeoutError:
                self._process.kill()
                await self._process.wait()
        return self._process.returncode or 0


@contextlib.asynccontextmanager
async def bot_process(
    name: str, module: str, args: list[str], sandbox: BotApiSandbox, token: str, log: Path
) -> AsyncIterator[BotProcess]:
    """`python -m module args` against the sandbox; yielded once it polls, stopped on leaving."""
    since = len(sandbox.call_log)
    with log.open("wb") as output:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            module,
            "--api-url",
            sandbox.api_url,
            *args,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=output,
            stderr=output,
            env={**os.environ, "GUANJIA_TOKEN": token},  # in the environment, never on a command line
        )
    running = BotProcess(name, process, log)
    try:
        await running.wait_polling(sandbox, since)
        yield running
    finally:
        await running.stop()
