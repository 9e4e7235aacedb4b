"""Schema migrations (Alembic), run programmatically so no alembic.ini is needed at run time."""
from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import text

MIGRATIONS = Path(__file__).parent / "migrations"
# pg_advisory_lock key of schema upgrades: "dubanMIG" as a big-endian 64-bit integer.
_LOCK_KEY = int.from_bytes(b"dubanMIG", "big")


def config(db) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", db.url.replace("%", "%%"))
    cfg.attributes["engine"] = db.engine
    return cfg


def upgrade(db, revision: str = "heads") -> None:
    """Migrate; on PostgreSQL one upgrade at a time, so that `duban db upgrade` run on several machines
    at once (configuration management on every host) waits for the first and then finds nothing to do,
    instead of two of them creating the same table."""
    if db.engine.dialect.name != "postgresql":
        command.upgrade(config(db), revision)
        return
    with db.engine.connect() as lock:
        lock.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _LOCK_KEY})
        lock.commit()  # the lock is the session's: it outlives this transaction, not the connection
        try:
            command.upgrade(config(db), revision)
        finally:
            lock.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": _LOCK_KEY})
            lock.commit()


def include_object(dialect: str):
    """Alembic's autogenerate filter for a database of `dialect`: objects made for another database
    only (engine.models.only_on) are not part of its schema."""
    def include(obj, name, type_, reflected, compare_to) -> bool:
        only = getattr(obj, "info", {}).get("dialect")
        return only is None or only == dialect
    return include
