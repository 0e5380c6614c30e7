"""The migrations build exactly the schema the code queries, and upgrading keeps data."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from storage.database import MIGRATIONS, migrate, schema_version
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
