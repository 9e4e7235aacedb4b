"""SQLite: a commit leaves the checkpoint (the write-ahead log copied back into the database file) to a
thread of its own, which makes it shortly after; a request's commit no longer pays for it."""
from __future__ import annotations

import threading
from pathlib import Path

from sqlalchemy import text

from engine import checkpoints
from tests.support.waiting import wait_for

MEGABYTES = 6  # ~1,500 pages: past SQLite's own checkpoint at 1,000


def _write(duban, megabytes: int) -> None:
    with duban.db.transaction() as session:
        session.execute(text("CREATE TABLE IF NOT EXISTS scratch (b BLOB)"))
        session.execute(text("INSERT INTO scratch VALUES (randomblob(:size))"), {"size": megabytes * 1024 * 1024})


def _file_size(duban) -> int:
    return Path(duban.db.engine.url.database).stat().st_size


def test_the_commit_leaves_the_checkpoint_to_the_thread(duban_sqlite, monkeypatch):
    duban_sqlite.db.checkpoints.stop()  # the set-up's commits: their checkpoint made, its thread ended
    monkeypatch.setattr(checkpoints, "DELAY_S", 60.0)
    before = _file_size(duban_sqlite)
    _write(duban_sqlite, MEGABYTES)
    # The log holds the write; the file has not grown (SQLite's own checkpoint would have copied it in).
    assert _file_size(duban_sqlite) < before + MEGABYTES * 1024 * 1024
    duban_sqlite.db.checkpoints.stop()
    monkeypatch.setattr(checkpoints, "DELAY_S", 0.01)
    _write(duban_sqlite, 0)  # any commit: a new thread checkpoints what the log holds
    wait_for(lambda: _file_size(duban_sqlite) >= before + MEGABYTES * 1024 * 1024, timeout=10,
             what="the checkpoint")


def test_an_idle_thread_ends_and_the_next_commit_starts_one(duban_sqlite, monkeypatch):
    monkeypatch.setattr(checkpoints, "DELAY_S", 0.01)
    monkeypatch.setattr(checkpoints, "IDLE_S", 0.05)
    _write(duban_sqlite, 0)
    wait_for(lambda: not _checkpointing(duban_sqlite), timeout=10, what="the idle thread to end")
    before = _file_size(duban_sqlite)
    _write(duban_sqlite, MEGABYTES)
    wait_for(lambda: _file_size(duban_sqlite) >= before + MEGABYTES * 1024 * 1024, timeout=10,
             what="the checkpoint")


def test_the_backstop_is_raised_on_every_connection(duban_sqlite):
    with duban_sqlite.db.reading() as session:
        assert session.execute(text("PRAGMA wal_autocheckpoint")).scalar() == checkpoints.BACKSTOP_PAGES


def _checkpointing(duban) -> bool:
    thread = duban.db.checkpoints._thread
    return thread is not None and thread in threading.enumerate()
