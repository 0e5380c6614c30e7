"""`guanjia catalog import` as an operator uses it."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from bot.cli import main
from tests.conftest import ROSTER

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = (ROOT / "catalog.example.toml").read_text(encoding="utf-8")


@pytest.fixture
def db(tmp_path: Path) -> Path:
    roster = tmp_path / "roster.csv"
    roster.write_text(ROSTER, encoding="utf-8")
    path = tmp_path / "g.db"
    assert main(["roster", "import", str(roster), "--db", str(path)]) == 0
    return path


def _prices(db: Path) -> list[tuple[str, int, int]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(
            "SELECT code, price_cents, active FROM service_items ORDER BY position"
        ).fetchall()


def test_import_prints_what_changed_and_is_idempotent(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    catalog = tmp_path / "catalog.toml"
    catalog.write_text(EXAMPLE, encoding="utf-8")
    assert main(["catalog", "import", str(catalog), "--db", str(db)]) == 0
    assert capsys.readouterr().out == (
        f"{catalog}: 8 added, 0 updated, 0 unchanged, 0 withdrawn; estate 'default' now offers 8 service(s)\n"
    )
    assert main(["catalog", "import", str(catalog), "--db", str(db)]) == 0
    assert "0 added, 0 updated, 8 unchanged, 0 withdrawn" in capsys.readouterr().out

    # A new price, and the last service left out: updated in place, and withdrawn (kept, not deleted).
    last = EXAMPLE.index('[[service]]\ncode = "parcel-handling"')
    catalog.write_text(EXAMPLE[:last].replace('price = "120.00"', 'price = "135.50"'), encoding="utf-8")
    assert main(["catalog", "import", str(catalog), "--db", str(db)]) == 0
    assert (
        "0 added, 1 updated, 6 unchanged, 1 withdrawn; estate 'default' now offers 7"
        in capsys.readouterr().out
    )
    prices = _prices(db)
    assert prices[0] == ("home-cleaning", 13550, 1) and prices[-1] == ("parcel-handling", 500, 0)


def test_a_csv_file_is_imported_too(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["catalog", "import", str(ROOT / "catalog.example.csv"), "--db", str(db)]) == 0
    assert (
        "3 added, 0 updated, 0 unchanged, 0 withdrawn; estate 'default' now offers 2"
        in capsys.readouterr().out
    )
    assert _prices(db) == [
        ("home-cleaning", 12000, 1),
        ("water-delivery", 2000, 1),
        ("aircon-cleaning", 8000, 0),
    ]


def test_a_file_with_errors_imports_nothing(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    catalog = tmp_path / "catalog.csv"
    catalog.write_text(
        "code,name_zh,name_en,price,unit_zh,unit_en\n"
        "cleaning,保洁,Cleaning,120,次,visit\n"
        "water,送水,,twenty,桶,bottle\n"
        "cleaning,保洁,Cleaning,150,次,visit\n",
        encoding="utf-8",
    )
    capsys.readouterr()
    assert main(["catalog", "import", str(catalog), "--db", str(db)]) == 1
    assert capsys.readouterr().err == (
        "error: row 3 (water): name_en is missing\n"
        "error: row 3 (water): price 'twenty' is not an amount above 0 like 120 or 120.50\n"
        "error: row 4 (cleaning): code 'cleaning' is listed twice (first at row 2 (cleaning))\n"
        f"{catalog}: 3 error(s); nothing was imported\n"
    )
    assert _prices(db) == []


def test_what_cannot_be_run_as_asked_is_refused_with_exit_code_2(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    catalog = tmp_path / "catalog.toml"
    catalog.write_text(EXAMPLE, encoding="utf-8")
    missing = tmp_path / "missing.db"
    assert main(["catalog", "import", str(catalog), "--db", str(missing)]) == 2
    assert "no such database file; import the roster first" in capsys.readouterr().err
    assert not missing.exists()  # never created

    assert main(["catalog", "import", str(tmp_path / "prices.xlsx"), "--db", str(db)]) == 2
    assert "a catalog is a .toml or a .csv file" in capsys.readouterr().err
    assert main(["catalog", "import", str(tmp_path / "gone.toml"), "--db", str(db)]) == 1
    assert "cannot read" in capsys.readouterr().err

    assert main(["catalog", "import", str(catalog), "--db", str(db), "--estate", "Riverside"]) == 2
    assert "no estate named 'Riverside'; the database holds: default; nothing was imported" in (
        capsys.readouterr().err
    )
    roster = tmp_path / "riverside.csv"
    roster.write_text(
        "role,name,team,unit,telegram_id,phone,language,vip\nmanager,Ma,,,950,,en,no\n", "utf-8"
    )
    config = tmp_path / "riverside.toml"
    config.write_text('[estate]\nname = "Riverside"\n', encoding="utf-8")
    assert main(["roster", "import", str(roster), "--db", str(db), "--config", str(config)]) == 0
    capsys.readouterr()
    assert main(["catalog", "import", str(catalog), "--db", str(db)]) == 2
    assert "several estates; choose one with --estate: Riverside, default" in capsys.readouterr().err
    assert main(["catalog", "import", str(catalog), "--db", str(db), "--estate", "Riverside"]) == 0
    assert "estate 'Riverside' now offers 8 service(s)" in capsys.readouterr().out
