"""The migrations build exactly the schema the code queries, and upgrading keeps data."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from storage.database import MIGRATIONS, is_current, migrate, newest_revision, schema_version
from storage.schema import metadata


def test_migrations_match_the_schema(tmp_path: Path) -> None:
    path = tmp_path / "m.db"
    migrate(path)
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), metadata)
    engine.dispose()
    assert differences == [], "storage/schema.py changed without a migration"


def test_the_database_is_at_the_newest_version_and_migrating_again_keeps_data(tmp_path: Path) -> None:
    path = tmp_path / "m.db"
    migrate(path)
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO estates (name, timezone) VALUES ('x', 'Asia/Shanghai')"))
    migrate(path)  # as at every start of the bot
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.connect() as conn:
        assert schema_version(conn) == ScriptDirectory.from_config(config).get_current_head()
        assert conn.execute(sa.text("SELECT name FROM estates")).scalars().all() == ["x"]
        assert conn.execute(sa.text("PRAGMA journal_mode")).scalar() == "wal"
    engine.dispose()


def test_ticket_events_cannot_be_changed_or_deleted(tmp_path: Path) -> None:
    path = tmp_path / "m.db"
    migrate(path)
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO estates (id, name, timezone) VALUES (1, 'x', 'UTC')"))
        conn.execute(sa.text("INSERT INTO teams (id, estate_id, name) VALUES (1, 1, 'A')"))
        conn.execute(
            sa.text(
                "INSERT INTO people (id, estate_id, role, name, roster_key, created_at, updated_at)"
                " VALUES (1, 1, 'owner', 'o', '1-1', '2026-01-01', '2026-01-01')"
            )
        )
        conn.execute(
            sa.text(
                "INSERT INTO tickets (id, estate_id, number, requester_id, owner_id, team_id,"
                " category, state, summary, created_at, due_at, last_activity_at)"
                " VALUES (1, 1, 1001, 1, 1, 1, 'repair', 'new', '',"
                " '2026-01-01', '2026-01-02', '2026-01-01')"
            )
        )
        conn.execute(
            sa.text(
                "INSERT INTO ticket_events (ticket_id, at, kind, detail)"
                " VALUES (1, '2026-01-01', 'created', '{}')"
            )
        )
    for statement in ("UPDATE ticket_events SET kind = 'forged'", "DELETE FROM ticket_events"):
        with pytest.raises(sa.exc.IntegrityError, match="append-only"), engine.begin() as conn:
            conn.execute(sa.text(statement))
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT kind FROM ticket_events")).scalars().all() == ["created"]
    engine.dispose()


def test_opening_a_current_database_skips_alembic_and_an_older_one_is_migrated(tmp_path: Path) -> None:
    """The bot checks the version itself before loading alembic, which would hold memory for good."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    assert newest_revision() == ScriptDirectory.from_config(config).get_current_head()
    path = tmp_path / "m.db"
    assert not is_current(path)  # no file yet
    migrate(path)
    assert is_current(path)
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '0009'"))
    engine.dispose()
    assert not is_current(path)
