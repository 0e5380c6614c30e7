"""`guanjia fees import` and `guanjia fees paid` as an operator uses them."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.cli import main
from storage.schema import clocks, fees
from tests.conftest import ROSTER

HEADER = "unit,period,amount_due,due_date\n"
FEES = (
    HEADER + "1-101,2026-11,1280.50,2099-12-01\n1-302,2026-11,980,2099-12-01\n3-502,2026-11,1500,2099-12-01\n"
)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """A database made as an operator makes it: the roster imported."""
    roster = tmp_path / "roster.csv"
    roster.write_text(ROSTER, encoding="utf-8")
    path = tmp_path / "g.db"
    assert main(["roster", "import", str(roster), "--db", str(path)]) == 0
    return path


def _file(tmp_path: Path, text: str) -> str:
    path = tmp_path / "fees.csv"
    path.write_text("\ufeff" + text, encoding="utf-8")  # as Excel saves it
    return str(path)


def _rows(db: Path) -> list[tuple[str, str, int, str]]:
    engine = sa.create_engine(f"sqlite:///{db}")
    try:
        with engine.connect() as conn:
            found = conn.execute(sa.select(fees).order_by(fees.c.id))
            return [(row.unit, row.period, row.amount_cents, str(row.due_on)) for row in found]
    finally:
        engine.dispose()


def _pending_clocks(db: Path) -> list[str]:
    engine = sa.create_engine(f"sqlite:///{db}")
    try:
        with engine.connect() as conn:
            return list(
                conn.execute(
                    sa.select(clocks.c.kind).where(clocks.c.status == "pending", clocks.c.kind.like("fee_%"))
                ).scalars()
            )
    finally:
        engine.dispose()


def test_a_file_with_errors_is_reported_by_row_and_nothing_is_imported(
    tmp_path: Path, db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = (
        FEES + "9-999,2026-11,100,2099-12-01\n1-101,2026-12,12.345,30/12/2099\n1-302,2026-11,980,2099-12-01\n"
    )
    assert main(["fees", "import", _file(tmp_path, bad), "--db", str(db)]) == 1
    err = capsys.readouterr().err
    assert err.splitlines() == [
        "error: row 5: unit '9-999' has no owner on the roster",
        "error: row 6: amount_due '12.345' is not an amount above 0 with at most two decimals",
        "error: row 6: due_date '30/12/2099' is not a date written YYYY-MM-DD",
        "error: row 7: unit 1-302 period 2026-11 is already on row 3",
        f"{tmp_path / 'fees.csv'}: 4 error(s); nothing was imported",
    ]
    assert _rows(db) == [] and _pending_clocks(db) == []


def test_importing_again_adds_nothing_and_updates_only_unpaid_fees(
    tmp_path: Path, db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = _file(tmp_path, FEES)
    assert main(["fees", "import", file, "--db", str(db)]) == 0
    assert (
        capsys.readouterr().out
        == f"{file}: 3 added, 0 updated, 0 unchanged, 0 already paid (left as they are)\n"
    )
    assert _pending_clocks(db) == ["fee_notice"] * 3

    assert main(["fees", "import", file, "--db", str(db)]) == 0
    assert (
        capsys.readouterr().out
        == f"{file}: 0 added, 0 updated, 3 unchanged, 0 already paid (left as they are)\n"
    )

    assert main(["fees", "paid", "--db", str(db), "--unit", "3-502", "--period", "2026-11"]) == 0
    assert capsys.readouterr().out == "3-502 2026-11: marked paid; its reminders have stopped\n"
    assert _pending_clocks(db) == ["fee_notice"] * 2

    changed = FEES.replace("1280.50", "1300").replace("1500", "1600") + "3-601,2026-11,800,2099-12-01\n"
    assert main(["fees", "import", _file(tmp_path, changed), "--db", str(db)]) == 0
    assert (
        capsys.readouterr().out
        == f"{file}: 1 added, 1 updated, 1 unchanged, 1 already paid (left as they are)\n"
    )
    assert _rows(db) == [
        ("1-101", "2026-11", 130000, "2099-12-01"),
        ("1-302", "2026-11", 98000, "2099-12-01"),
        ("3-502", "2026-11", 150000, "2099-12-01"),  # paid: left as it was
        ("3-601", "2026-11", 80000, "2099-12-01"),
    ]
    assert _pending_clocks(db) == ["fee_notice"] * 3


def test_mistakes_in_the_command_are_refused_and_nothing_is_written(
    tmp_path: Path, db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = _file(tmp_path, FEES)
    missing = tmp_path / "nope.db"
    assert main(["fees", "import", file, "--db", str(missing)]) == 2
    assert "no such database; import the roster first" in capsys.readouterr().err
    assert not missing.exists()
    assert main(["fees", "paid", "--db", str(missing), "--unit", "1-101", "--period", "2026-11"]) == 2
    assert not missing.exists()

    assert main(["fees", "import", file, "--db", str(db), "--estate", "Riverside"]) == 2
    assert "no estate named 'Riverside'; the database holds: default" in capsys.readouterr().err
    assert main(["fees", "import", str(tmp_path / "absent.csv"), "--db", str(db)]) == 1
    assert "cannot read" in capsys.readouterr().err
    config = tmp_path / "guanjia.toml"
    config.write_text('[fees]\nsend_at = "noon"\n', encoding="utf-8")
    assert main(["fees", "import", file, "--db", str(db), "--config", str(config)]) == 2
    assert "[fees] send_at: 'noon' is not a time of day like 08:00" in capsys.readouterr().err
    assert _rows(db) == []
    assert main(["fees", "paid", "--db", str(db), "--unit", "1-101", "--period", "2026-11"]) == 1
    assert capsys.readouterr().err == "guanjia fees paid: no fee of unit 1-101 for period 2026-11\n"
