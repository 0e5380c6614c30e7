"""`guanjia announce` as an operator uses it: the preview, --yes, and what it refuses."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.cli import main
from storage.schema import announcement_deliveries, announcements, clocks, outbox
from tests.conftest import ROSTER

NOTICE = "尊敬的业主：\n明天 09:00–12:00 停水，请提前储水。<b>不便之处</b>敬请谅解 & 感谢配合。"


@pytest.fixture
def db(tmp_path: Path) -> Path:
    roster = tmp_path / "roster.csv"
    roster.write_text(ROSTER, encoding="utf-8")
    path = tmp_path / "g.db"
    assert main(["roster", "import", str(roster), "--db", str(path)]) == 0
    return path


@pytest.fixture
def note(tmp_path: Path) -> Path:
    path = tmp_path / "note.txt"
    path.write_text(NOTICE + "\n", encoding="utf-8")
    return path


def _rows(db: Path) -> dict[str, int]:
    engine = sa.create_engine(f"sqlite:///{db}")
    with engine.connect() as conn:
        counted = {
            table.name: conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
            for table in (announcements, announcement_deliveries, outbox)
        }
        counted["report clocks"] = conn.execute(
            sa.select(sa.func.count()).where(clocks.c.kind == "announcement_report")
        ).scalar_one()
    engine.dispose()
    return counted


NOTHING = {"announcements": 0, "announcement_deliveries": 0, "outbox": 0, "report clocks": 0}


def test_without_yes_it_shows_the_preview_and_sends_nothing(
    db: Path, note: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["announce", "--db", str(db), "--file", str(note), "--to", "building:1"]) == 0
    body = "\n".join("    " + line if line else "" for line in NOTICE.splitlines())
    assert capsys.readouterr().out == (
        "Announcement to building:1 of estate default: 3 recipient(s), 3 on Telegram,"
        " 0 not on Telegram yet.\n"
        "\n"
        "As the 1 reading Chinese receive it:\n"
        f"    📢 公告（1 号楼）\n\n{body}\n\n    物业服务中心\n"
        "\n"
        "As the 2 reading English receive it:\n"
        f"    📢 Announcement for building 1\n\n{body}\n\n    Property service centre\n"
        "\n"
        "Nothing was sent. To send it, run the same command with --yes.\n"
    )
    assert _rows(db) == NOTHING


def test_with_yes_it_queues_one_message_per_recipient_on_telegram(
    db: Path, note: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    command = ["announce", "--db", str(db), "--file", str(note), "--to", "estate", "--from", "Manager Liu"]
    assert main([*command, "--yes"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(
        "Announcement to estate of estate default: 6 recipient(s), 5 on Telegram, 1 not on Telegram yet.\n"
    )
    assert "    Manager Liu, property service centre\n" in out
    assert out.endswith(
        "\nAnnouncement #1 is queued: a running bot delivers it and reports to Manager Liu.\n"
    )
    # Owner Zhou, not on Telegram, has a delivery row and no message.
    assert _rows(db) == {"announcements": 1, "announcement_deliveries": 6, "outbox": 5, "report clocks": 1}


@pytest.mark.parametrize(
    ("arguments", "code", "says"),
    [
        (["--to", "town"], 2, "--to 'town': give estate, vip or building:N (e.g. building:1)"),
        (["--to", "building:7"], 2, "nobody lives in building:7 of estate default"),
        (
            ["--to", "vip", "--from", "Butler A1"],
            2,
            "--from 'Butler A1': no manager of that name in the estate",
        ),
        (
            ["--to", "vip", "--estate", "Riverside"],
            2,
            "no estate named 'Riverside'; the database holds: default",
        ),
    ],
)
def test_what_cannot_be_done_is_refused_and_nothing_is_written(
    db: Path, note: Path, capsys: pytest.CaptureFixture[str], arguments: list[str], code: int, says: str
) -> None:
    assert main(["announce", "--db", str(db), "--file", str(note), *arguments, "--yes"]) == code
    assert capsys.readouterr().err == f"guanjia announce: {says}; nothing was sent\n"
    assert _rows(db) == NOTHING


def test_a_file_it_cannot_use_is_refused(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty, long, latin = tmp_path / "empty.txt", tmp_path / "long.txt", tmp_path / "latin.txt"
    empty.write_text("  \n\n", encoding="utf-8")
    long.write_text("停水通知。" * 1000, encoding="utf-8")
    latin.write_bytes("Caf\xe9 closed".encode("latin-1"))
    for file, says in (
        (empty, "the announcement is empty"),
        (long, "the announcement has 5000 characters; at most 4096 fit"),
        (tmp_path / "missing.txt", "No such file or directory"),
        (latin, "can't decode byte 0xe9"),
    ):
        assert main(["announce", "--db", str(db), "--file", str(file), "--to", "estate", "--yes"]) == 1
        err = capsys.readouterr().err
        assert err.startswith(f"guanjia announce: cannot use {file}: ") and says in err, err
    assert _rows(db) == NOTHING


def test_a_database_that_does_not_exist_is_not_created(
    tmp_path: Path, note: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nope.db"
    assert main(["announce", "--db", str(missing), "--file", str(note), "--to", "estate"]) == 2
    assert (
        capsys.readouterr().err == f"guanjia announce: {missing}: no such database file; nothing was sent\n"
    )
    assert not missing.exists()


def test_with_several_estates_the_estate_must_be_named(
    db: Path, note: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "riverside.toml"
    config.write_text('[estate]\nname = "Riverside"\n', encoding="utf-8")
    roster = tmp_path / "riverside.csv"
    roster.write_text(
        "role,name,team,unit,telegram_id,phone,language,vip\nowner,Owner Qian,R,8-808,8808,,en,no\n",
        encoding="utf-8",
    )
    assert main(["roster", "import", str(roster), "--db", str(db), "--config", str(config)]) == 0
    capsys.readouterr()
    assert main(["announce", "--db", str(db), "--file", str(note), "--to", "estate"]) == 2
    assert "several estates; choose one with --estate: Riverside, default" in capsys.readouterr().err
    assert (
        main(["announce", "--db", str(db), "--file", str(note), "--to", "estate", "--estate", "Riverside"])
        == 0
    )
    assert "Announcement to estate of estate Riverside: 1 recipient(s)" in capsys.readouterr().out
