"""The `guanjia` command as an operator uses it."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.cli import main
from storage.schema import people, tickets
from tests.conftest import ROSTER, SHANGHAI

SHANGHAI_EVENING = datetime(2026, 11, 20, 23, 30, tzinfo=SHANGHAI)  # 15:30 UTC


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
        "← 今日服务数据，截至 11月20日 18:00",
        "← 温馨提示：物业费缴费通知",  # a week before the due date, at 10:00
        "    特约服务：上门保洁 · ¥120.00 / 2小时（预约时价格）",  # 李娜's card of 张伟's order
        "← 📢 Announcement for building 1",  # Tom reads the announcement in English
        "← 📢 公告 #1（1 号楼）：已送达 2 人，无法送达 1 人（已屏蔽机器人等），未使用 Telegram 0 人",
        "← [photo] 11月07日 至 11月20日：🟦 新增 · 🟩 已处理 · 🟧 零修、急修及时率（右侧 %）· 虚线：目标 92%",
    ):
        assert seen in out
    digest = out.split("━━━━ The manager's daily digest, next morning at 08:00 (服务日报) ━━━━\n")[1]
    assert digest.startswith("服务日报 · 11月20日\n\n工单\n新增 5 · 已处理 1 · 已完成 1 · 未完成 4\n")
    assert "▫️ 有效投诉办结率：— · 目标 ≥98%，另有 1 件在时限内处理中" in digest
    assert "3 分钟接单率：80%（4/5）" in digest  # 周杰's question was not accepted within three minutes
    assert "李娜：派单 4 · 3 分钟内接单 2/4" in digest  # two passed on to 赵磊


def _estate_with_tickets(tmp_path: Path, *created: datetime) -> Path:
    """A database made as an operator makes it (roster import), holding tickets opened at `created`."""
    roster = tmp_path / "roster.csv"
    roster.write_text(ROSTER, encoding="utf-8")
    db = tmp_path / "g.db"
    assert main(["roster", "import", str(roster), "--db", str(db)]) == 0
    engine = sa.create_engine(f"sqlite:///{db}")
    try:
        with engine.begin() as conn:
            owner = conn.execute(sa.select(people).where(people.c.telegram_id == 1302)).one()
            for number, moment in enumerate(created, start=1001):
                conn.execute(
                    tickets.insert().values(
                        estate_id=owner.estate_id,
                        number=number,
                        requester_id=owner.id,
                        owner_id=owner.id,
                        team_id=owner.team_id,
                        category="repair",
                        state="new",
                        summary="热水器不出热水",
                        created_at=moment,
                        due_at=moment + timedelta(days=2),
                        last_activity_at=moment,
                    )
                )
    finally:
        engine.dispose()
    return db


def test_export_writes_the_span_for_excel_and_says_what_it_wrote(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = _estate_with_tickets(tmp_path, SHANGHAI_EVENING, SHANGHAI_EVENING + timedelta(hours=1))
    capsys.readouterr()
    out = tmp_path / "nov.csv"
    command = ["export", "--db", str(db), "--from", "2026-11-01", "--to", "2026-11-20", "--out", str(out)]
    assert main(command) == 0
    assert capsys.readouterr().out == f"{out}: 1 tickets, 2026-11-01 – 2026-11-20 (Asia/Shanghai)\n"
    data = out.read_bytes()
    assert data.startswith("\ufeff工单号,创建时间,类别,".encode())
    assert "\r\n1001,2026-11-20 23:30,报修,待接单,A,1-302,Owner Sun,".encode() in data
    assert sorted(p.name for p in tmp_path.iterdir()) == ["g.db", "nov.csv", "roster.csv"]  # no leftovers
    assert out.stat().st_mode & 0o777 == 0o600  # residents' names and units: for the operator's eyes

    assert main([*command, "--to", "2026-11-21", "--language", "en"]) == 0  # replaces the file
    assert "2 tickets, 2026-11-01 – 2026-11-21" in capsys.readouterr().out
    assert out.read_text(encoding="utf-8-sig").startswith("Ticket,Created,Category,")


@pytest.mark.parametrize(
    ("first", "last", "said"),
    [
        ("2026-11-31", "2026-12-01", "'2026-11-31' is not a date on the calendar"),
        ("20.11.2026", "2026-12-01", "'20.11.2026' is not a date like 2026-11-20"),
        ("2026-11-20", "2026-11-01", "the span ends before it begins"),
    ],
)
def test_export_refuses_days_it_cannot_read_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], first: str, last: str, said: str
) -> None:
    db = _estate_with_tickets(tmp_path, SHANGHAI_EVENING)
    capsys.readouterr()
    out = tmp_path / "out.csv"
    assert main(["export", "--db", str(db), "--from", first, "--to", last, "--out", str(out)]) == 2
    assert capsys.readouterr().err == f"guanjia export: {said}; nothing was written\n"
    assert not out.exists()


def test_export_never_creates_a_database(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "typo.db"
    out = tmp_path / "out.csv"
    assert (
        main(["export", "--db", str(db), "--from", "2026-11-01", "--to", "2026-11-20", "--out", str(out)])
        == 2
    )
    assert f"{db}: no such database file" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_export_asks_which_estate_when_there_are_several(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = _estate_with_tickets(tmp_path, SHANGHAI_EVENING)
    config = tmp_path / "other.toml"
    config.write_text('[estate]\nname = "Other Gardens"\ntimezone = "Europe/London"\n', encoding="utf-8")
    roster = tmp_path / "other.csv"
    roster.write_text(
        "role,name,team,unit,telegram_id,phone,language,vip\n"
        "butler,Butler X1,X,,,,en,no\nbutler,Butler X2,X,,,,en,no\nowner,Owner Q,X,9-909,,,en,no\n",
        encoding="utf-8",
    )
    assert main(["roster", "import", str(roster), "--db", str(db), "--config", str(config)]) == 0
    capsys.readouterr()
    out = tmp_path / "out.csv"
    out.write_text("last month's export", encoding="utf-8")
    command = ["export", "--db", str(db), "--from", "2026-11-20", "--to", "2026-11-20", "--out", str(out)]

    assert main(command) == 2
    assert "several estates; choose one with --estate: Other Gardens, default" in capsys.readouterr().err
    assert main([*command, "--estate", "Elsewhere"]) == 2
    assert (
        "no estate named 'Elsewhere'; the database holds: Other Gardens, default" in capsys.readouterr().err
    )
    assert out.read_text(encoding="utf-8") == "last month's export"  # untouched by the refusals

    assert main([*command, "--estate", "Other Gardens"]) == 0
    assert "0 tickets, 2026-11-20 – 2026-11-20 (Europe/London)" in capsys.readouterr().out
    assert main([*command, "--estate", "default"]) == 0
    assert "1 tickets" in capsys.readouterr().out
