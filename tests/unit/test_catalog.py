"""Reading the price list file (TOML or CSV), every mistake named where it is, and importing it."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.catalog import CatalogEntry, import_catalog, read_catalog, read_catalog_file
from bot.clock import ManualClock
from storage import catalog as catalog_queries
from storage.database import Database
from storage.people import estate_named
from storage.schema import service_items

ROOT = Path(__file__).resolve().parents[2]
HEADER = "code,name_zh,name_en,description_zh,description_en,price,unit_zh,unit_en,active\n"
CLEANING = """\
[[service]]
code = "cleaning"
price = "120"
name = { zh = "上门保洁", en = "Home cleaning" }
unit = { zh = "次", en = "visit" }
"""


def _toml(body: str = "", **fields: str) -> str:
    """One TOML service, the cleaning one with `fields` replaced (written as raw TOML values)."""
    lines = {
        "code": '"cleaning"',
        "price": '"120"',
        "name": '{ zh = "上门保洁", en = "Home cleaning" }',
        "unit": '{ zh = "次", en = "visit" }',
    } | fields
    return "[[service]]\n" + "".join(f"{key} = {value}\n" for key, value in lines.items() if value) + body


def test_the_example_files_are_valid() -> None:
    toml = read_catalog_file(ROOT / "catalog.example.toml")
    csv = read_catalog_file(ROOT / "catalog.example.csv")
    assert toml.errors == [] and csv.errors == []
    assert len(toml.entries) == 8
    assert toml.entries[0] == CatalogEntry(
        where="service 1 (home-cleaning)",
        code="home-cleaning",
        name_zh="上门保洁",
        name_en="Home cleaning",
        description_zh="保洁员上门打扫（厨房、卫生间、地面、门窗），自带清洁工具和用品。",
        description_en=(
            "A cleaner comes to your home (kitchen, bathroom, floors, windows), bringing tools and supplies."
        ),
        unit_zh="2小时",
        unit_en="2 hours",
        price_cents=12000,
        active=True,
    )
    assert [(e.code, e.price_cents, e.active) for e in csv.entries] == [
        ("home-cleaning", 12000, True),
        ("water-delivery", 2000, True),
        ("aircon-cleaning", 8000, False),
    ]


@pytest.mark.parametrize(
    ("price", "cents"),
    [('"120"', 12000), ('"1,280.50"', 128050), ('"¥80"', 8000), ("120", 12000), ("19.99", 1999), ("0.5", 50)],
)
def test_prices_are_read_exactly_into_cents(price: str, cents: int) -> None:
    read = read_catalog(_toml(price=price), ".toml")
    assert read.errors == [] and read.entries[0].price_cents == cents


def test_every_mistake_in_a_toml_file_is_named_with_its_service() -> None:
    text = (
        _toml(price='"12.345"')
        + _toml(code='"bad code"', name='{ zh = "保洁" }')
        + _toml(price="0", active='"maybe"')
        + _toml(unit='{ zh = "次", en = "a very long unit name indeed" }', colour='"red"')
        + _toml(name='{ zh = "上门保洁", en = "Home cleaning", fr = "Ménage" }', code='"cleaning"')
        + _toml(price="true")
    )
    assert read_catalog(text, ".toml").errors == [
        "service 1 (cleaning): price '12.345' is not an amount above 0 like 120 or 120.50",
        "service 2 (bad code): name_en is missing",
        "service 2 (bad code): code 'bad code' is not 1-40 letters, digits, '-', '_' or '.', "
        "starting with a letter or digit",
        "service 3 (cleaning): price 0 is not an amount above 0 like 120 or 120.50",
        "service 3 (cleaning): active 'maybe' is not yes or no",
        "service 4 (cleaning): unknown key 'colour'",
        "service 4 (cleaning): unit_en is longer than 20 characters",
        "service 5 (cleaning): unknown key 'name_fr'",
        "service 6 (cleaning): price True is not an amount above 0 like 120 or 120.50",
    ]


def test_a_code_listed_twice_is_an_error() -> None:
    read = read_catalog(_toml() + _toml(price='"150"'), ".toml")
    assert read.errors == [
        "service 2 (cleaning): code 'cleaning' is listed twice (first at service 1 (cleaning))"
    ]


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("", "the file lists no services"),
        (
            "[[service]\n",
            "not valid TOML: Expected ']]' at the end of an array declaration (at line 1, column 10)",
        ),
        ("title = 'x'\n" + CLEANING, "unknown top-level key(s) title; list services as [[service]]"),
        ("service = 3\n", "service must be a list of [[service]] tables"),
    ],
)
def test_a_toml_file_that_is_not_a_price_list_is_refused(text: str, error: str) -> None:
    assert read_catalog(text, ".toml").errors[0] == error


def test_every_mistake_in_a_csv_file_is_named_with_its_row() -> None:
    text = (
        HEADER
        + "cleaning,上门保洁,Home cleaning,,,120,次,visit,yes\n"
        + "\n"  # a blank line a spreadsheet left: skipped, but counted as a row
        + ",保洁,Cleaning,,,abc,次,visit,\n"
        + "water,送水,Water,,,20,桶,bottle,perhaps\n"
        + "cleaning,保洁,Cleaning,,,120,次,visit,no,extra\n"
    )
    assert read_catalog(text, ".csv").errors == [
        "row 6: more cells than columns",  # found while reading, before any row is checked
        "row 4: code is missing",
        "row 4: price 'abc' is not an amount above 0 like 120 or 120.50",
        "row 5 (water): active 'perhaps' is not yes or no",
    ]


def test_a_csv_header_must_name_the_columns() -> None:
    text = "code,name,price\ncleaning,保洁,120\n"
    assert read_catalog(text, ".csv").errors == [
        "row 1 (the header): missing column(s) name_zh, name_en, unit_zh, unit_en; unknown column(s) name; "
        "the columns are code,name_zh,name_en,description_zh,description_en,price,unit_zh,unit_en,active"
    ]


def test_a_csv_saved_by_excel_with_a_bom_and_optional_columns_left_out(tmp_path: Path) -> None:
    path = tmp_path / "prices.CSV"
    path.write_text(
        "\ufeffcode,name_zh,name_en,price,unit_zh,unit_en\r\nwater,送水,Water,20,桶,bottle\r\n", "utf-8"
    )
    read = read_catalog_file(path)
    assert read.errors == []
    assert (read.entries[0].code, read.entries[0].description_en, read.entries[0].active) == (
        "water",
        "",
        True,
    )


async def _items(db: Database) -> list[tuple[str, int, int, bool]]:
    async with db.engine.connect() as conn:
        rows = await conn.execute(
            sa.select(
                service_items.c.code,
                service_items.c.position,
                service_items.c.price_cents,
                service_items.c.active,
            ).order_by(service_items.c.id)
        )
        return [tuple(row) for row in rows]


async def test_importing_is_idempotent_by_code_and_withdraws_what_is_left_out(
    rostered_db: Database, clock: ManualClock
) -> None:
    async def imported(text: str) -> tuple[int, int, int, int, int]:
        read = read_catalog(text, ".toml")
        assert read.errors == []
        async with rostered_db.begin() as conn:
            chosen = await estate_named(conn, None)
            estate_id, name = chosen.id, chosen.name
            assert name == "default"
            report = await import_catalog(conn, estate_id, read.entries, clock.now())
        return report.added, report.updated, report.unchanged, report.withdrawn, report.offered

    water = _toml(code='"water"', price='"20"', name='{ zh = "送水", en = "Water" }')
    assert await imported(CLEANING + water) == (2, 0, 0, 0, 2)
    assert await imported(CLEANING + water) == (0, 0, 2, 0, 2)
    # A new price updates in place; a service left out is withdrawn, never deleted.
    cleaning = CLEANING.replace('"120"', '"150"')
    assert await imported(cleaning) == (0, 1, 0, 1, 1)
    assert await _items(rostered_db) == [("cleaning", 1, 15000, True), ("water", 2, 2000, False)]
    # Listed again (first this time), it is offered again; marked inactive, it is withdrawn.
    assert await imported(water + cleaning) == (0, 2, 0, 0, 2)
    assert await _items(rostered_db) == [("cleaning", 2, 15000, True), ("water", 1, 2000, True)]
    assert await imported(water + cleaning + "active = false\n") == (0, 0, 1, 1, 1)
    async with rostered_db.engine.connect() as conn:
        offered = await catalog_queries.items_of_estate(conn, 1, active_only=True)
    assert [item.code for item in offered] == ["water"]
