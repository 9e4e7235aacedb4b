"""Duban's own side of the benchmark: the service layer on SQLite and PostgreSQL, and over HTTP."""
from __future__ import annotations

import tempfile
import uuid
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from engine import services
from engine.bootstrap import bootstrap
from engine.config import Settings
from engine.migrate import upgrade
from engine.models import User
from engine.services.auth import actor_of

from .paths import HAPPY_PATH, user_for

ROOT = Path(__file__).resolve().parents[1]


def reachable(url: str) -> bool:
    try:
        engine = create_engine(url)
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        engine.dispose()
        return True
    except Exception:  # noqa: BLE001 - unreachable means "not measured"
        return False


def _prepared(url: str, var_dir: Path):
    duban = bootstrap(Settings.from_env({}, var_dir=var_dir, database_url=url, secret_key="bench"))
    upgrade(duban.db)
    services.seed_demo(duban)
    files = {"duban_main.bpmn": (ROOT / "bpmn" / "duban_main.bpmn").read_bytes()}
    forms = {p.name: p.read_bytes() for p in (ROOT / "bpmn" / "forms").glob("*.form")}
    services.deploy(duban, files, forms)
    return duban


def _actors(duban) -> dict:
    with duban.db.reading() as session:
        return {u.username: actor_of(u) for u in session.query(User)}


def _service_path(duban):
    actors = _actors(duban)

    def run_once():
        item = services.register_item(duban, actors["office"], {"title": "基准事项"})
        for element, unit, data in HAPPY_PATH:
            actor = actors[user_for(element, unit)]
            tasks, _ = services.list_tasks(duban, actor, instance_id=item["instance_id"])
            task = next(t for t in tasks if t["element_id"] == element and (unit is None or t["unit"] == unit))
            services.complete_task(duban, actor, task["id"], data)

    return run_once


@contextmanager
def engine_on_sqlite():
    with tempfile.TemporaryDirectory() as folder:
        duban = _prepared(f"sqlite:///{folder}/bench.db", Path(folder))
        yield _service_path(duban)
        duban.db.dispose()


@contextmanager
def engine_on_postgres(base_url: str):
    name = f"duban_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(base_url).set(database=name).render_as_string(hide_password=False)
    try:
        with tempfile.TemporaryDirectory() as folder:
            duban = _prepared(url, Path(folder))
            yield _service_path(duban)
            duban.db.dispose()
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def over_http():
    """`duban run` (waitress, SQLite, the embedded worker) in a process of its own, as people reach it:
    the client here holds one keep-alive connection. (A server thread inside the benchmark's own
    process shared its interpreter lock with the client and added ~3 ms to each request's time.)"""
    from .load import USERS, Client, run_path, served_by_run

    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/bench.db"
        _prepared(url, Path(folder)).db.dispose()
        with served_by_run(url, Path(folder)) as port:
            client = Client("127.0.0.1", port)
            tokens = {name: client.call("POST", "/auth/token", {"username": name, "password": "duban-demo"})["token"]
                      for name in USERS}

            def run_once():
                run_path(client, tokens, run_once.completions)

            run_once.completions = []  # the wall time of each task completion (seconds)
            try:
                yield run_once
            finally:
                client.close()


def extra_measures() -> dict:
    """Measures beyond the happy path, {name: (value, unit)}: timer firing (PostgreSQL and Redis), the
    ledger, inbox and dashboard p95 and 通报 generation at 100,000 items (PostgreSQL)."""
    import os

    from workers.broker import ping

    from . import ledger, timers

    results = {}
    postgres, redis_url = os.environ.get("DUBAN_TEST_POSTGRES_URL"), os.environ.get("DUBAN_TEST_REDIS_URL")
    if not (postgres and redis_url and reachable(postgres) and ping(redis_url)):
        print("timers not measured: PostgreSQL and Redis are needed")
    else:
        results.update(timers.measures(postgres, redis_url))
    # The ledger, the inbox, the dashboard and 通报 at 100,000 items (PostgreSQL only).
    if postgres and reachable(postgres):
        results.update(ledger.measures(postgres))
    else:
        print("ledger not measured: PostgreSQL is needed")
    return results
