"""The Alembic migrations build exactly the schema the models describe, on both databases, and
go down and up again cleanly."""
from datetime import UTC

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine

from engine.migrate import config, include_object
from engine.models import Base


def differences(url: str) -> list:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={
                "compare_type": True, "include_object": include_object(connection.dialect.name)})
            return [d for d in compare_metadata(context, Base.metadata) if not _benign(d)]
    finally:
        engine.dispose()


def _benign(difference) -> bool:
    # SQLite reports no server-side comment or type details the models could differ on.
    return isinstance(difference, tuple) and difference[0] in ("modify_comment",)


def test_migrated_postgres_matches_the_models(postgres_database):
    assert differences(postgres_database) == []


@pytest.mark.postgres  # scratch_postgres: a database of its own
def test_instance_states_are_compressed_with_lz4_on_postgres():
    """0024: the serialised workflow, rewritten at every step, is compressed with lz4 (cheaper than
    pglz); a downgrade gives pglz back."""
    from alembic import command
    from sqlalchemy import text

    from engine.db import Database
    from tests.support.databases import scratch_postgres

    def compression(db) -> str | None:
        with db.engine.connect() as connection:
            return connection.execute(text(
                "SELECT attcompression FROM pg_attribute WHERE attrelid = 'instances'::regclass "
                "AND attname = 'state'")).scalar()

    with scratch_postgres("duban_lz4") as url:
        db = Database(url)
        try:
            command.upgrade(config(db), "heads")
            assert compression(db) == "l"
            command.downgrade(config(db), "0023")
            assert compression(db) == "p"
        finally:
            db.dispose()


@pytest.mark.postgres  # scratch_postgres: a database of its own
def test_status_index_covers_ledger_counts_on_postgres():
    """0025: the items' (status, deadline) index holds what a ledger count reads of an item, so counts by
    status need no row; a downgrade gives the plain index back."""
    from alembic import command
    from sqlalchemy import text

    from engine.db import Database
    from tests.support.databases import scratch_postgres

    def definition(db) -> str:
        with db.engine.connect() as connection:
            return connection.execute(text("SELECT pg_get_indexdef('ix_items_status_deadline'::regclass)")).scalar()

    with scratch_postgres("duban_status_index") as url:
        db = Database(url)
        try:
            command.upgrade(config(db), "heads")
            assert definition(db).endswith(
                "(status, deadline) INCLUDE (id, classification, created_by, source, category)")
            command.downgrade(config(db), "0024")
            assert definition(db).endswith("(status, deadline)")
        finally:
            db.dispose()


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


def _bundled(key: str):
    from pathlib import Path

    from engine.bpmn.runtime import compile_bundle

    root = Path(__file__).resolve().parents[2] / "bpmn"
    forms = {path.name: path.read_text() for path in root.glob("**/*.form")}
    path = root / f"{key}.bpmn"
    return next(c for c in compile_bundle({path.name: path.read_text()}, forms, 10**7) if c.key == key)


def _before_declarations(compiled) -> tuple[dict, dict]:
    """The files and elements a definition deployed before revision 0011 held: no duban: declarations."""
    import re

    files = {name: re.sub(r"<duban:[^>]*/>|\s(?:duban:\w+)=\"[^\"]*\"", "", xml)
             for name, xml in compiled.files.items()}
    declared = ("steps", "item", "starter_roles", "start_form")
    return files, {k: v for k, v in compiled.elements.items() if k not in declared}


def _migrate_old_definitions(url: str) -> dict:
    import json
    from datetime import datetime

    from alembic import command
    from sqlalchemy import text

    from engine.db import Database

    db = Database(url)
    try:
        command.upgrade(config(db), "0010")
        engine = create_engine(url)
        with engine.begin() as connection:
            for number, key in enumerate(("duban_main", "duban_extension", "other_process"), 1):
                compiled = _bundled("duban_main" if key == "other_process" else key)
                files, elements = _before_declarations(compiled)
                connection.execute(text(
                    "INSERT INTO definitions (id, key, version, name, checksum, files, forms, elements, warnings,"
                    " deployed_at) VALUES (:id, :key, 1, :key, 'x', :files, '{}', :elements, '[]', :at)"),
                    {"id": number, "key": key, "files": json.dumps(files), "elements": json.dumps(elements),
                     "at": datetime(2026, 1, 5, tzinfo=UTC)})
        command.upgrade(config(db), "heads")
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT key, elements FROM definitions")).all()
        engine.dispose()
        return {key: elements if isinstance(elements, dict) else json.loads(elements) for key, elements in rows}
    finally:
        db.dispose()


def _assert_declared_as_deployed_today(migrated: dict) -> None:
    for key in ("duban_main", "duban_extension"):
        today = _bundled(key).elements
        assert migrated[key]["steps"] == today["steps"], key
        assert migrated[key]["item"] == today["item"]
        assert migrated[key]["starter_roles"] == today["starter_roles"]
    # A process of the designer's own had no 督办 steps by id: it gets none (even with the same ids).
    assert migrated["other_process"]["steps"] == {} and migrated["other_process"]["item"] is False


def test_definitions_deployed_before_declarations_get_them_sqlite(tmp_path):
    """An installation upgraded from before declared steps keeps 签收, 催办 and 纪委 for the
    instances of its deployed duban_main: the migration declares the kinds its ids had."""
    _assert_declared_as_deployed_today(_migrate_old_definitions(f"sqlite:///{tmp_path}/old.db"))


@pytest.mark.postgres  # scratch_postgres: a database of its own
def test_definitions_deployed_before_declarations_get_them_postgres():
    from tests.support.databases import scratch_postgres

    with scratch_postgres("duban_old") as url:
        _assert_declared_as_deployed_today(_migrate_old_definitions(url))


def test_files_stored_before_0015_stay_in_the_database_and_go_back_there_on_downgrade(tmp_path, monkeypatch):
    """Revision 0015: earlier files are read from the database and none is taken for abandoned; going
    down copies files kept under DUBAN_VAR_DIR into the database, where revision 0014 reads them."""
    import hashlib
    from datetime import datetime

    from alembic import command
    from sqlalchemy import text

    from engine.blobs import LocalBlobs
    from engine.db import Database

    db = Database(f"sqlite:///{tmp_path}/files.db")
    engine = create_engine(db.url)
    at = datetime(2026, 9, 1, tzinfo=UTC)
    insert = ("INSERT INTO stored_files (id, name, size, content_type, sha256, uploaded_by, uploaded_at{extra})"
              " VALUES (:id, 'a.txt', 2, 'text/plain', :sha, 'unit_a', :at{values})")
    try:
        command.upgrade(config(db), "0014")
        with engine.begin() as connection:
            connection.execute(text(insert.format(extra="", values="")), {"id": 1, "sha": "0" * 64, "at": at})
            connection.execute(text("INSERT INTO stored_file_contents (file_id, data) VALUES (1, :data)"),
                               {"data": b"ok"})
        command.upgrade(config(db), "heads")
        with engine.connect() as connection:
            storage, referenced = connection.execute(text("SELECT storage, referenced_at FROM stored_files")).one()
        assert storage == "database" and referenced is not None

        data = "本地文件".encode()
        sha = hashlib.sha256(data).hexdigest()
        monkeypatch.setenv("DUBAN_VAR_DIR", str(tmp_path / "var"))
        LocalBlobs(tmp_path / "var" / "files").put(data, sha)
        with engine.begin() as connection:
            connection.execute(text(insert.format(extra=", storage", values=", 'local'")),
                               {"id": 2, "sha": sha, "at": at})
        command.downgrade(config(db), "0014")
        with engine.connect() as connection:
            kept = dict(connection.execute(text("SELECT file_id, data FROM stored_file_contents")).all())
        assert kept == {1: b"ok", 2: data}
    finally:
        engine.dispose()
        db.dispose()
