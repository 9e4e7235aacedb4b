"""`duban calendar import`, `duban recalculate` and `duban audit prune`, run on the server as an operator
would (a process of their own, on SQLite and PostgreSQL); `duban deploy` asked to deploy nothing."""
from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta

from click.testing import CliRunner
from sqlalchemy import select

from duban import cli
from engine import services
from engine.clock import CHINA
from engine.models import AuditRecord, CalendarDay
from engine.services import audit
from tests.integration.flow import through_assignment

NOTICE_2027 = """
2027:
  holidays: [2027-01-01, 2027-02-05, 2027-02-08, 2027-02-09, 2027-02-10, 2027-02-11]
  workdays: [2027-02-06]
"""


def duban_command(duban, *args) -> subprocess.CompletedProcess:
    """`duban ARGS` on the test's database and var folder, with its secret key."""
    env = {**os.environ, "DUBAN_DATABASE_URL": duban.settings.database_url,
           "DUBAN_VAR_DIR": str(duban.settings.var_dir), "DUBAN_SECRET_KEY": duban.settings.secret_key}
    env.pop("DUBAN_REDIS_URL", None)
    return subprocess.run([sys.executable, "-m", "duban.cli", *args], env=env, capture_output=True, text=True,
                          timeout=120)


def deadline(duban, org, item) -> datetime:
    return services.get_item(duban, org["office"], item["id"])["deadline"].astimezone(CHINA)


def test_a_new_years_notice_is_imported_and_settles_provisional_deadlines(duban, org, tmp_path):
    duban.clock.set(datetime(2026, 12, 24, 9, tzinfo=CHINA))
    item = through_assignment(duban, org, co_units=(), category="major")
    assert item["deadline_provisional"] and deadline(duban, org, item).date() == date(2027, 1, 21)
    notice = tmp_path / "2027.yaml"
    notice.write_text(NOTICE_2027, encoding="utf-8")

    imported = duban_command(duban, "calendar", "import", str(notice))
    assert imported.returncode == 0, imported.stderr
    assert imported.stdout.strip() == "7 days for 2027; 1 of 1 deadlines moved"
    settled = services.get_item(duban, org["office"], item["id"])
    assert not settled["deadline_provisional"]
    assert settled["deadline"].astimezone(CHINA).date() == date(2027, 1, 22)  # 2027-01-01 is a holiday
    with duban.db.reading() as session:
        assert session.get(CalendarDay, date(2027, 2, 6)).workday
        assert session.scalars(select(AuditRecord.target).where(AuditRecord.action == "calendar.import")).all() \
            == ["file:2027.yaml"]


def test_recalculate_moves_open_deadlines_after_a_calendar_change(duban, org):
    item = through_assignment(duban, org, co_units=())
    before = deadline(duban, org, item)
    # A day off the calendar learned without recalculating (a newer official schedule loaded by
    # `duban db upgrade`, a correction made in the database): the working day before the deadline.
    off = before.date() - timedelta(days=1)
    while not duban.calendar.is_workday(off):
        off -= timedelta(days=1)
    with duban.db.transaction() as session:
        session.merge(CalendarDay(day=off, workday=False, note="临时停工", source="admin",
                                  updated_at=duban.clock.now(), updated_by=None))

    moved = duban_command(duban, "recalculate")
    assert moved.returncode == 0, moved.stderr
    assert moved.stdout.strip() == "1 of 1 open items got a new deadline"
    after = deadline(duban, org, item)
    assert after > before and after.time() == before.time()
    history = services.get_instance(duban, org["office"], item["instance_id"])["history"]
    assert history[-1]["action"] == "recalculated"


def test_audit_prune_keeps_six_months_and_the_chain_intact(duban):
    now = datetime.now(UTC)  # the command runs on the real clock
    with duban.db.transaction() as session:
        for age in (400, 300, 250):
            audit.append(session, "tester", "test.old", None, at=now - timedelta(days=age))
    with duban.db.transaction() as session:
        audit.append(session, "tester", "test.recent", None, at=now - timedelta(days=10))

    too_young = (now - timedelta(days=100)).astimezone(CHINA).date()
    refused = duban_command(duban, "audit", "prune", "--before", too_young.isoformat())
    assert refused.returncode == 2 and "审计记录至少保存六个月（183 天）" in refused.stderr, refused.stderr
    assert "须不晚于" in refused.stderr

    cutoff = (now - timedelta(days=200)).astimezone(CHINA).date()
    pruned = duban_command(duban, "audit", "prune", "--before", cutoff.isoformat())
    assert pruned.returncode == 0, pruned.stderr
    assert pruned.stdout.strip() == f"3 audit records made before {cutoff} deleted"
    with duban.db.reading() as session:
        rows = [(r.action, r.actor, r.detail) for r in session.scalars(select(AuditRecord).order_by(AuditRecord.id))]
    assert [action for action, _, _ in rows] == ["test.recent", audit.PRUNED]
    assert rows[-1][1].startswith("cli") and rows[-1][2]["deleted"] == 3

    verified = duban_command(duban, "audit", "verify")
    assert verified.returncode == 0 and verified.stdout.startswith("intact"), verified.stderr


def test_deploy_without_files_asks_for_them_or_the_bundled_processes():
    result = CliRunner().invoke(cli.main, ["deploy"])
    assert result.exit_code == 2 and "give --bundled" in result.output
