"""SQLite's write-ahead log copied back into the database file by a thread of its own (checkpoints).

SQLite checkpoints inside the commit that takes the log past `wal_autocheckpoint` pages: on a main path
that was a 6.5 ms pause every ~50 commits, taken by whichever request's commit it fell to, 3 ms a path in
all (bench: 65.8 → 61.7 ms a path with the checkpoints here, alternating with SQLite's in one process).
Here a commit only marks the log as grown; a daemon thread checkpoints shortly after, PASSIVE (it never
waits for readers or writers, and sqlite3 lets go of the GIL meanwhile). SQLite's own checkpoint stays as
a backstop at a higher mark, for a log growing faster than the thread keeps up; the last connection to
close checkpoints as before.
"""
from __future__ import annotations

import logging
import os
import sqlite3
import threading

from sqlalchemy import event
from sqlalchemy.engine import Engine

log = logging.getLogger(__name__)

# After a commit, the thread waits this long before it checkpoints: the commits of one burst of
# requests go back to the file together.
DELAY_S = 0.25
# SQLite's own checkpoint, pages (4 KB): past this a commit still checkpoints itself (SQLite's default is
# 1,000, about 50 commits of a main path; a second of busy requests writes ~3,500).
BACKSTOP_PAGES = 10_000
# A thread without commits for this long ends; the next commit starts another.
IDLE_S = 30.0


class Checkpoints:
    """The checkpointing thread of one SQLite file, in this process."""

    def __init__(self, path: str):
        self.path = path
        self._grown = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stop: threading.Event | None = None  # the running thread's
        self._pid: int | None = None

    def grown(self) -> None:
        """A commit wrote to the log: a checkpoint follows (the thread is started if none runs here)."""
        with self._lock:
            self._grown.set()
            # By pid: a forked process has no thread of its parent's.
            if self._thread is None or self._pid != os.getpid():
                self._pid, self._stop = os.getpid(), threading.Event()
                self._thread = threading.Thread(target=self._run, args=(self._stop,), daemon=True,
                                                name="duban-sqlite-checkpoints")
                self._thread.start()

    def stop(self) -> None:
        """End the thread (the database's connections are disposed of), after a checkpoint it is making;
        a later commit starts another."""
        with self._lock:
            thread, stop, self._thread = self._thread, self._stop, None
        if thread is None or self._pid != os.getpid():
            return
        stop.set()
        self._grown.set()
        thread.join(timeout=5)

    def _run(self, stop: threading.Event) -> None:
        try:
            connection = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        except sqlite3.Error as error:
            log.warning("SQLite checkpoints of %s not started: %s", self.path, error)
            self._ended()
            return
        try:
            while self._next(stop):
                try:
                    connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                except sqlite3.Error as error:  # SQLite's own checkpoint (the backstop) still runs
                    log.warning("SQLite checkpoint of %s failed: %s", self.path, error)
        finally:
            connection.close()

    def _next(self, stop: threading.Event) -> bool:
        """Wait for a commit, then DELAY_S; False when it is time to end (stopped, or idle)."""
        while not self._grown.wait(IDLE_S):
            if self._ended(unless_grown=True):
                return False
        if stop.wait(DELAY_S):
            return False
        self._grown.clear()
        return True

    def _ended(self, unless_grown: bool = False) -> bool:
        """This thread is no longer the one that runs (a commit now starts another); False, and it
        runs on, when a commit came meanwhile and `unless_grown`."""
        with self._lock:
            if unless_grown and self._grown.is_set():
                return False
            if self._thread is threading.current_thread():
                self._thread = None
            return True


def attach(engine: Engine, path: str) -> Checkpoints:
    """Checkpoint `engine`'s file (`path`) from a thread after its commits, SQLite's own checkpoint raised
    to BACKSTOP_PAGES on each of its connections."""
    checkpoints = Checkpoints(path)

    @event.listens_for(engine, "connect")
    def _backstop(dbapi_connection, _record):
        dbapi_connection.execute(f"PRAGMA wal_autocheckpoint={BACKSTOP_PAGES}")

    event.listen(engine, "commit", lambda _connection: checkpoints.grown())
    return checkpoints
