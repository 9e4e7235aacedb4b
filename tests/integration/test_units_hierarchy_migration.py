"""Revision 0013 on a database with units, users and items in it: existing units stay active and
top-level, the hierarchy and the 督查联络员 are kept by the database (a parent must exist), and
going down turns withdrawn items into terminated ones, on both databases."""
from datetime import UTC, datetime

import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from engine.db import Database
from engine.migrate import config

AT = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)


def _check_round_trip(url: str) -> None:
    db = Database(url)
    engine = db.engine  # SQLite enforces foreign keys on the project's connections
    try:
        command.upgrade(config(db), "0012")
        with engine.begin() as c:
            c.execute(text("INSERT INTO units (id, name, kind, sort) VALUES ('xzf', '县政府', 'leader', 0),"
                           " ('cgz', '城关镇', 'unit', 1)"))
            c.execute(text("INSERT INTO users (id, username, display_name, password_hash, unit_id, active,"
                           " failed_logins, created_at, password_change_required) VALUES (1, 'wang', '王五', 'x',"
                           " 'cgz', true, 0, :at, false)"), {"at": AT})
            c.execute(text("INSERT INTO items (id, title, content, source, category, classification, deadline,"
                           " deadline_explicit, deadline_provisional, status, created_by, created_at) VALUES"
                           " (1, '事项', '', 'other', 'normal', 'internal', :at, false, false, 'drafting', 'office',"
                           " :at)"), {"at": AT})
        command.upgrade(config(db), "0013")
        with engine.begin() as c:
            rows = c.execute(text("SELECT id, parent_id, category, active, liaison_id FROM units ORDER BY id")).all()
            assert [(r.id, r.parent_id, r.category, bool(r.active), r.liaison_id) for r in rows] == [
                ("cgz", None, None, True, None), ("xzf", None, None, True, None)]
            c.execute(text("UPDATE units SET parent_id = 'xzf', category = 'township', liaison_id = 1"
                           " WHERE id = 'cgz'"))
            c.execute(text("UPDATE items SET status = 'withdrawn', withdrawn_reason = '重复立项',"
                           " withdrawn_by = 'office', withdrawn_at = :at"), {"at": AT})
        with pytest.raises(IntegrityError), engine.begin() as c:
            c.execute(text("UPDATE units SET parent_id = 'nowhere' WHERE id = 'xzf'"))
        command.downgrade(config(db), "0012")
        with engine.connect() as c:
            assert c.execute(text("SELECT status FROM items")).scalar_one() == "terminated"
            assert c.execute(text("SELECT name FROM units WHERE id = 'cgz'")).scalar_one() == "城关镇"
        command.upgrade(config(db), "heads")
    finally:
        db.dispose()


def test_units_hierarchy_migration_sqlite(tmp_path):
    _check_round_trip(f"sqlite:///{tmp_path}/units.db")


@pytest.mark.postgres  # scratch_postgres: a database of its own
def test_units_hierarchy_migration_postgres():
    from tests.support.databases import scratch_postgres

    with scratch_postgres("duban_units") as url:
        _check_round_trip(url)
