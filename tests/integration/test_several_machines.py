"""Several machines on one PostgreSQL database: what each node does at start must not trip over the
others doing the same at the same moment, and what users see must not depend on the node they reach."""
from __future__ import annotations

import multiprocessing
from datetime import date
from pathlib import Path

from sqlalchemy import create_engine, func, select, text

from engine.bootstrap import bootstrap
from engine.config import Settings
from engine.models import CalendarDay, CalendarYear
from engine.services import calendar
from tests.conftest import _truncate

NODES = 4
HOLIDAYS = """2031:
  holidays: [2031-01-01, 2031-01-02, 2031-02-10, 2031-02-11, 2031-02-12, 2031-10-01, 2031-10-02, 2031-10-03]
  workdays: [2031-02-08, 2031-10-11]
2032:
  holidays: [2032-01-01, 2032-10-01]
"""


def _node_start(url: str, var_dir: str, holidays: str, barrier, job: str) -> str:
    """One node's start: bootstrap, then (all together) the calendar work `duban run` / `db upgrade` do."""
    duban = bootstrap(Settings.from_env({}, database_url=url, var_dir=Path(var_dir), secret_key="shared"))
    try:
        barrier.wait(timeout=60)
        if job == "import":
            calendar.import_days(duban, calendar.read_days_file(Path(holidays)), "holidays.yaml")
        else:
            calendar.sync_official(duban)
        return "ok"
    except Exception as error:  # noqa: BLE001 - the parent reports what went wrong where
        return f"{type(error).__name__}: {error}"
    finally:
        duban.db.dispose()


def _start_together(url: str, tmp_path, job: str) -> list[str]:
    holidays = tmp_path / "holidays.yaml"
    holidays.write_text(HOLIDAYS)
    spawn = multiprocessing.get_context("spawn")
    with spawn.Manager() as manager:
        barrier = manager.Barrier(NODES)
        with spawn.Pool(NODES) as pool:
            return pool.starmap(_node_start, [(url, str(tmp_path / f"node-{n}"), str(holidays), barrier, job)
                                              for n in range(NODES)])


def _rows(url: str, *where) -> tuple[int, int]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            days = connection.scalar(select(func.count()).select_from(CalendarDay).where(*where))
            years = connection.scalar(select(func.count()).select_from(CalendarYear))
    finally:
        engine.dispose()
    return days, years


def test_nodes_starting_together_each_load_the_holidays_file_once(postgres_database, tmp_path):
    _truncate(postgres_database)
    _, years_before = _rows(postgres_database)
    assert _start_together(postgres_database, tmp_path, "import") == ["ok"] * NODES
    days, years = _rows(postgres_database, CalendarDay.day >= date(2031, 1, 1),
                        CalendarDay.day <= date(2032, 12, 31))
    assert (days, years) == (12, years_before + 2)
    engine = create_engine(postgres_database)
    with engine.connect() as connection:  # every node audited its import; the chain did not fork
        actions = connection.scalars(text("SELECT action FROM audit_log ORDER BY id")).all()
    engine.dispose()
    assert actions.count("calendar.import") == NODES


def test_nodes_upgrading_together_each_load_the_official_schedule_once(postgres_database, tmp_path):
    _truncate(postgres_database)
    official = _rows(postgres_database)
    engine = create_engine(postgres_database)
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM calendar_days"))
        connection.execute(text("DELETE FROM calendar_years"))
    engine.dispose()
    assert _start_together(postgres_database, tmp_path, "official") == ["ok"] * NODES
    assert _rows(postgres_database) == official
