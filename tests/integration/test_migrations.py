"""The Alembic migrations build exactly the schema the models describe, on both databases, and
go down and up again cleanly."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine

from engine.migrate import config
from engine.models import Base


def differences(url: str) -> list:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            return [d for d in compare_metadata(context, Base.metadata) if not _benign(d)]
    finally:
        engine.dispose()


def _benign(difference) -> bool:
    # SQLite reports no server-side comment or type details the models could differ on.
    return isinstance(difference, tuple) and difference[0] in ("modify_comment",)


def test_migrated_postgres_matches_the_models(postgres_database):
    assert differences(postgres_database) == []


def test_migrated_sqlite_matches_the_models(sqlite_url):
    assert differences(sqlite_url) == []


def test_one_line_of_migrations():
    from engine.db import Database

    script = ScriptDirectory.from_config(config(Database("sqlite://")))
    assert len(script.get_heads()) == 1, f"migration heads: {script.get_heads()} (re-chain down_revision)"


def test_downgrade_and_upgrade_again(tmp_path):
    from alembic import command

    from engine.db import Database

    db = Database(f"sqlite:///{tmp_path}/round.db")
    command.upgrade(config(db), "heads")
    command.downgrade(config(db), "base")
    command.upgrade(config(db), "heads")
    assert differences(db.url) == []
    db.dispose()
