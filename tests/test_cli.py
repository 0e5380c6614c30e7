"""The `guanjia` command as an operator uses it."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main
from tests.conftest import ROSTER


def test_roster_import_prints_counts_and_invites_and_is_idempotent(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_text("\ufeff" + ROSTER, encoding="utf-8")  # as Excel saves it, with a BOM
    db = tmp_path / "g.db"
    assert main(["roster", "import", str(roster), "--db", str(db), "--bot-username", "estate_bot"]) == 0
    out = capsys.readouterr().out
    assert "12 added, 0 updated" in out
    invite_line = next(line for line in out.splitlines() if "Owner Zhou" in line)
    code = invite_line.split("/start ")[1].split()[0]
    assert f"https://t.me/estate_bot?start={code}" in invite_line

    assert main(["roster", "import", str(roster), "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert "0 added, 12 updated" in out and code in out  # the same unused code, not a new one


def test_roster_import_refuses_a_file_with_errors_and_imports_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_text(ROSTER + "owner,Nobody,,7-7,,,zh,no\nbutler,Bad,A,,x1,,zh,no\n", encoding="utf-8")
    db = tmp_path / "g.db"
    assert main(["roster", "import", str(roster), "--db", str(db)]) == 1
    err = capsys.readouterr().err
    assert "error: row 14: a owner needs a team" in err
    assert "error: row 15: telegram_id 'x1' is not a positive number" in err
    assert "2 error(s); nothing was imported" in err
    good = tmp_path / "good.csv"
    good.write_text(ROSTER, encoding="utf-8")
    assert main(["roster", "import", str(good), "--db", str(db)]) == 0
    assert "12 added" in capsys.readouterr().out  # nothing had been written by the failed import


def test_roster_import_warns_about_the_concierge_ratio(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    roster = tmp_path / "roster.csv"
    lines = ROSTER.replace("butler,Butler B2,B,,202,,en,no\n", "")
    roster.write_text(lines, encoding="utf-8")
    assert main(["roster", "import", str(roster), "--db", str(tmp_path / "g.db")]) == 0
    assert "warning: team B: 1 butler(s); the concierge model has 2–3" in capsys.readouterr().err


def test_run_without_a_token_says_so(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GUANJIA_TOKEN", raising=False)
    assert main(["run", "--db", "x.db"]) == 2
    assert "no token" in capsys.readouterr().err


def test_a_bad_config_is_refused_with_the_reason(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "guanjia.toml"
    config.write_text('[sla]\nfeedback_within = "two days"\n', encoding="utf-8")
    roster = tmp_path / "roster.csv"
    roster.write_text(ROSTER, encoding="utf-8")
    assert (
        main(["roster", "import", str(roster), "--db", str(tmp_path / "g.db"), "--config", str(config)]) == 2
    )
    assert "[sla] feedback_within: 'two days' is not a duration" in capsys.readouterr().err


def test_the_demo_plays_the_day_and_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    for seen in (
        "━━━━ 张伟 · 业主 1-101 ━━━━",
        "← 已收到您的报修，工单号 #1001。",
        "← 您的工单 #1001 已由管家 李娜 接单，正在处理。",
        "← [photo] #1001 · 1-101 张伟：[照片] 就是这个水龙头",
        "← 谢谢您的评价（★★★★★）！",
        "← 【抄送经理】投诉工单 #1002（VIP 业主）",
        "← #1002 · 经理 刘洋：陈女士您好",
        "← We have your repair request: ticket #1003.",
        "转派给您：李娜 未能及时接单。",  # the three-minute hop to the next butler of the team
        "← 关于工单 #1002：管家 王强 需要更多时间",  # the commitment moved, with the reason
        "原因：楼上施工队周一起调整作业时间",
        "← 您好，周杰！",
        "← 今日服务数据（11月20日 00:00 起）",
        "新工单：4　已处理：1　已完成：1",
    ):
        assert seen in out
    digest = out.split("━━━━ The manager's digest at the end of the day (经理日报) ━━━━\n")[1]
    assert digest.startswith("今日服务数据（11月20日 00:00 起）\n新工单：4")
    assert "三分钟接单率：100%（3/3）" in digest and "未完成工单：3" in digest
