from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from bot.clock import ManualClock
from bot.config import Config
from bot.model import Role
from bot.roster import import_roster, parse_roster, redeem_invite
from storage import people as people_queries
from storage.database import Database
from storage.schema import invites, people
from tests.conftest import ROSTER


async def _import(db: Database, text: str, clock: ManualClock):  # type: ignore[no-untyped-def]
    async with db.begin() as conn:
        return await import_roster(conn, text, Config(), clock.now())


async def _count_people(db: Database) -> int:
    async with db.engine.connect() as conn:
        return int((await conn.execute(sa.select(sa.func.count()).select_from(people))).scalar_one())


async def test_import_then_reimport_updates_and_never_duplicates(db: Database, clock: ManualClock) -> None:
    first = await _import(db, ROSTER, clock)
    assert first.ok and first.created == 12 and first.updated == 0
    changed = ROSTER.replace("Owner Wu,B,3-601,3601,,en,no", "Owner Wu,B,3-601,3601,139-0000-0000,zh,yes")
    second = await _import(db, changed, clock)
    assert second.ok and second.created == 0 and second.updated == 12
    assert await _count_people(db) == 12
    async with db.engine.connect() as conn:
        wu = await people_queries.person_by_telegram_id(conn, 3601)
    assert wu is not None and wu.phone == "139-0000-0000" and wu.vip and wu.language == "zh"


async def test_a_resident_belongs_to_their_owners_team(rostered_db: Database) -> None:
    async with rostered_db.engine.connect() as conn:
        tom = await people_queries.person_by_telegram_id(conn, 1102)
        zhang = await people_queries.person_by_telegram_id(conn, 1101)
    assert tom is not None and zhang is not None
    assert tom.role == Role.RESIDENT and tom.team_id == zhang.team_id


async def test_butlers_keep_the_rosters_order_first_is_designated(rostered_db: Database) -> None:
    async with rostered_db.engine.connect() as conn:
        zhang = await people_queries.person_by_telegram_id(conn, 1101)
        assert zhang is not None and zhang.team_id is not None
        team = await people_queries.butlers_of_team(conn, zhang.team_id)
    assert [butler.name for butler in team] == ["Butler A1", "Butler A2", "Butler A3"]


def test_bad_rows_are_reported_with_their_row_number_and_reason() -> None:
    text = (
        "role,name,team,unit,telegram_id,phone,language,vip\n"
        "owner,Good Owner,A,1-1,11,,zh,no\n"  # row 2 is fine
        "landlord,Somebody,A,1-2,,,zh,no\n"  # row 3
        "owner,No Team,,1-3,,,zh,no\n"  # row 4
        "butler,Bad Id,A,,abc,,zh,no\n"  # row 5
        "owner,Bad Lang,A,1-4,,,fr,maybe\n"  # row 6
        "resident,Lost Resident,,9-9,,,zh,no\n"  # row 7
        "butler,Dup Id,A,,11,,zh,no\n"  # row 8
    )
    _, errors = parse_roster(text)
    joined = "\n".join(errors)
    assert "row 3: role 'landlord'" in joined
    assert "row 4: a owner needs a team" in joined
    assert "row 5: telegram_id 'abc'" in joined
    assert "row 6: language 'fr'" in joined and "row 6: vip 'maybe'" in joined
    assert "row 7: no owner of unit '9-9'" in joined
    assert "row 8: telegram_id 11 is already on row 2" in joined
    assert not any(error.startswith("row 2") for error in errors)


def test_a_wrong_header_is_refused_before_any_row() -> None:
    rows, errors = parse_roster("role,name,unit\nowner,X,1-1\n")
    assert rows == [] and len(errors) == 1
    assert errors[0].startswith("row 1 (header): missing column(s) team, telegram_id, phone, language, vip")


async def test_a_file_with_errors_imports_nothing(db: Database, clock: ManualClock) -> None:
    bad = ROSTER + "owner,Broken,,9-1,,,zh,no\n"
    report = await _import(db, bad, clock)
    assert not report.ok
    assert await _count_people(db) == 0


async def test_concierge_ratio_is_warned_not_refused(db: Database, clock: ManualClock) -> None:
    text = "role,name,team,unit,telegram_id,phone,language,vip\nbutler,Solo,C,,,,zh,no\n" + "".join(
        f"owner,O{n},C,5-{n},,,zh,no\n" for n in range(5)
    )
    report = await _import(db, text, clock)
    assert report.ok
    assert report.warnings == [
        "team C: 1 butler(s); the concierge model has 2–3",
        "team C: 5 owners; the concierge model has at most 4",
    ]


async def test_invites_are_single_use_and_shown_again_until_used(db: Database, clock: ManualClock) -> None:
    first = await _import(db, ROSTER, clock)
    zhou = next(invite for invite in first.invites if invite.name == "Owner Zhou")
    assert len(zhou.code) == 16
    again = await _import(db, ROSTER, clock)
    assert [i.code for i in again.invites if i.name == "Owner Zhou"] == [zhou.code]

    async with db.begin() as conn:
        bound = await redeem_invite(conn, zhou.code.lower(), 2201, clock.now())
    assert bound is not None and bound.telegram_id == 2201 and bound.name == "Owner Zhou"
    async with db.begin() as conn:
        assert await redeem_invite(conn, zhou.code, 9999, clock.now()) is None
    after = await _import(db, ROSTER, clock)
    assert all(invite.name != "Owner Zhou" for invite in after.invites)


async def test_an_expired_invite_binds_nobody(db: Database, clock: ManualClock) -> None:
    report = await _import(db, ROSTER, clock)
    code = report.invites[0].code
    clock.advance(timedelta(days=8))
    async with db.begin() as conn:
        assert await redeem_invite(conn, code, 2201, clock.now()) is None
        used = (await conn.execute(sa.select(invites.c.used_at).where(invites.c.code == code))).scalar()
    assert used is None


async def test_the_estate_timezone_comes_from_config(db: Database, clock: ManualClock) -> None:
    config = Config(estate_name="Riverside", timezone="Asia/Hong_Kong")
    async with db.begin() as conn:
        report = await import_roster(conn, ROSTER, config, clock.now())
        assert report.ok
        zhang = await people_queries.person_by_telegram_id(conn, 1101)
        assert zhang is not None
        assert await people_queries.estate_timezone(conn, zhang.estate_id) == "Asia/Hong_Kong"


async def test_people_dropped_from_the_file_leave_service_but_keep_their_history(
    db: Database, clock: ManualClock
) -> None:
    await _import(db, ROSTER, clock)
    # Butler A1 left; unit 1-101 was sold to a new owner; Owner Zhou never joined and moved away.
    changed = (
        ROSTER.replace("butler,Butler A1,A,,101,138-0000-0101,en,no\n", "")
        .replace(
            "owner,Owner Zhang,A,1-101,1101,139-1111-0101,en,no\n", "owner,Owner New,A,1-101,1111,,en,no\n"
        )
        .replace("owner,Owner Zhou,B,2-201,,,en,no\n", "")
    )
    report = await _import(db, changed, clock)
    assert report.ok
    assert report.deactivated == [("Butler A1", "butler"), ("Owner Zhang", "owner"), ("Owner Zhou", "owner")]
    assert "Butler A1 (butler) is no longer in the roster" in report.warnings[0]
    assert report.invites == []
    async with db.engine.connect() as conn:
        assert await people_queries.person_by_telegram_id(conn, 101) is None  # no longer served
        assert await people_queries.person_by_telegram_id(conn, 1101) is None
        tom = await people_queries.person_by_telegram_id(conn, 1102)
        assert tom is not None and tom.team_id is not None
        owner = await people_queries.owner_of_unit(conn, tom.estate_id, "1-101")
        assert owner is not None and owner.name == "Owner New"
        assert [b.name for b in await people_queries.butlers_of_team(conn, tom.team_id)] == [
            "Butler A2",
            "Butler A3",
        ]
    assert await _count_people(db) == 13  # nobody deleted

    # Back in the file, back in service.
    again = await _import(db, ROSTER, clock)
    assert ("Owner New", "owner") in again.deactivated
    async with db.engine.connect() as conn:
        assert await people_queries.person_by_telegram_id(conn, 101) is not None


def test_row_numbers_count_the_empty_lines_of_the_spreadsheet() -> None:
    text = (
        "role,name,team,unit,telegram_id,phone,language,vip\n"
        "owner,Good Owner,A,1-1,11,,zh,no\n"  # row 2
        "\n"  # row 3: empty, skipped
        ",,,,,,,\n"  # row 4: a blank spreadsheet line
        "landlord,Somebody,A,1-2,,,zh,no\n"  # row 5
    )
    _, errors = parse_roster(text)
    assert errors == ["row 5: role 'landlord' is not one of owner, resident, butler, manager"]
