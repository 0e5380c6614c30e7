"""``python -m bot.sandbox`` serves the API standalone."""

import subprocess
import sys
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[2]


def test_standalone_server_answers_get_me() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot.sandbox", "--port", "0", "--token", "42:SECRET", "--no-input"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(4)]
        api_url = next(line.split()[-1] for line in lines if "base_url:" in line)
        assert "SECRET" not in "".join(lines)
        reply = httpx.post(f"{api_url}42:SECRET/getMe", timeout=5).json()
        assert reply["ok"] and reply["result"]["username"] == "guanjia_bot"
        wrong = httpx.post(f"{api_url}42:WRONG/getMe", timeout=5)
        assert wrong.status_code == 401
    finally:
        proc.terminate()
        proc.wait(timeout=5)
