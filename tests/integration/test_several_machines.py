"""Several machines on one PostgreSQL database: what each node does at start must not trip over the
others doing the same at the same moment, and what users see must not depend on the node they reach."""
from __future__ import annotations

import logging
import multiprocessing
import os
import subprocess
from datetime import date
from io import BytesIO
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from docx import Document
from sqlalchemy import create_engine, func, select, text

from engine import installation, services
from engine.bootstrap import bootstrap
from engine.config import Settings
from engine.errors import Conflict, InvalidInput
from engine.migrate import MIGRATIONS
from engine.models import AuditRecord, CalendarDay, CalendarYear, InstallationSetting
from engine.services import calendar, doc_templates, documents
from tests.support.commands import DUBAN, cli, free_port
from tests.support.databases import scratch_postgres, truncate
from tests.support.documents import all_text, assigned
from tests.support.org import make_duban, seed
from tests.support.web import Browser
from web import create_app

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
    truncate(postgres_database)
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
    truncate(postgres_database)
    official = _rows(postgres_database)
    engine = create_engine(postgres_database)
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM calendar_days"))
        connection.execute(text("DELETE FROM calendar_years"))
    engine.dispose()
    assert _start_together(postgres_database, tmp_path, "official") == ["ok"] * NODES
    assert _rows(postgres_database) == official


@pytest.mark.postgres  # scratch_postgres: a database of its own
def test_machines_upgrading_an_empty_database_together_all_succeed(tmp_path):
    """`duban db upgrade` run on every host at once (configuration management): one migrates, the
    others wait for it and find nothing left to do."""
    with scratch_postgres("duban_upgrade") as url:
        env = {**os.environ, "DUBAN_DATABASE_URL": url, "DUBAN_SECRET_KEY": "shared"}
        upgrades = [subprocess.Popen([*DUBAN, "db", "upgrade"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     env={**env, "DUBAN_VAR_DIR": str(tmp_path / f"node-{n}")}, text=True)
                    for n in range(3)]
        outputs = [(upgrade.communicate(timeout=240)[0], upgrade.wait()) for upgrade in upgrades]
        assert [code for _, code in outputs] == [0, 0, 0], outputs
        engine = create_engine(url)
        with engine.connect() as connection:
            assert connection.scalars(text("SELECT version_num FROM alembic_version")).all() == \
                ScriptDirectory(str(MIGRATIONS)).get_heads()
            years = connection.scalar(select(func.count()).select_from(CalendarYear))
        engine.dispose()
        assert years == len(calendar.official_days()[1])


def _node(url: str, var_dir: Path, secret_key: str | None = None):
    env = {"DUBAN_DATABASE_URL": url, "DUBAN_VAR_DIR": str(var_dir), "DUBAN_SECRET_KEY": secret_key or ""}
    return bootstrap(Settings.from_env(env))


def test_nodes_with_one_secret_key_share_sessions(postgres_database, tmp_path):
    truncate(postgres_database)
    first, second = (_node(postgres_database, tmp_path / name, "one key for the installation")
                     for name in ("machine-1", "machine-2"))
    try:
        for node in (first, second):
            installation.claim_secret_key(node)
        services.seed_demo(first)
        signed_in = Browser(create_app(duban=first), "office")
        assert signed_in.get("/tasks").status_code == 200
        # The load balancer sends the next request to the other machine: the same cookie is accepted there.
        elsewhere = create_app(duban=second).test_client()
        elsewhere.set_cookie("session", signed_in.client.get_cookie("session").value)
        assert elsewhere.get("/tasks").status_code == 200
        assert elsewhere.get("/api/v1/me").json["username"] == "office"
    finally:
        first.db.dispose()
        second.db.dispose()


def test_a_second_machine_with_a_generated_key_is_refused(postgres_database, tmp_path):
    truncate(postgres_database)
    first = _node(postgres_database, tmp_path / "machine-1")
    assert first.settings.secret_key_generated
    installation.claim_secret_key(first)
    installation.claim_secret_key(first)  # restarting the same machine: its key, kept in var/, is the same
    first.db.dispose()

    second = _node(postgres_database, tmp_path / "machine-2")
    with pytest.raises(Conflict, match="DUBAN_SECRET_KEY"):
        installation.claim_secret_key(second)
    second.db.dispose()
    env = {**os.environ, "DUBAN_DATABASE_URL": postgres_database, "DUBAN_VAR_DIR": str(tmp_path / "machine-2")}
    env.pop("DUBAN_SECRET_KEY", None)
    env.pop("DUBAN_REDIS_URL", None)
    # Nodes, and one-shot commands too: their audit records would be sealed under another key.
    for command in (["run", "--port", str(free_port())], ["scheduler"], ["templates", "list"]):
        refused = cli(env, *command, check=False)
        assert refused.returncode == 2, refused.stderr
        assert "另一把密钥" in refused.stderr and "DUBAN_SECRET_KEY" in refused.stderr
        assert str(tmp_path / "machine-2" / "secret_key") in refused.stderr


def test_a_secret_key_set_by_the_operator_takes_over(postgres_database, tmp_path, caplog):
    truncate(postgres_database)
    generated = _node(postgres_database, tmp_path / "machine-1")
    installation.claim_secret_key(generated)
    chosen = _node(postgres_database, tmp_path / "machine-1", "the key every machine now has")
    with caplog.at_level(logging.WARNING, logger="engine.installation"):
        installation.claim_secret_key(chosen)
    assert "takes over" in caplog.text
    with chosen.db.reading() as session:
        assert session.get(InstallationSetting, installation.SECRET_KEY_CHECK).value == \
            installation.key_fingerprint("the key every machine now has")
    with pytest.raises(Conflict):  # the machine's old generated key no longer starts a node
        installation.claim_secret_key(generated)
    generated.db.dispose()
    chosen.db.dispose()


def _letterhead(words: str) -> bytes:
    template, out = Document(), BytesIO()
    template.add_paragraph(words + " {{number}}：{{title}}")
    template.save(out)
    return out.getvalue()


def test_a_template_pushed_from_one_machine_fills_documents_on_every_machine(postgres_database, tmp_path, clock):
    truncate(postgres_database)
    first = make_duban(postgres_database, clock, tmp_path / "machine-1")
    second = make_duban(postgres_database, clock, tmp_path / "machine-2")
    org = seed(first)
    item, _ = assigned(first, org)
    doc = documents.list_documents(second, org["office"], item["id"])[0]
    # Machine 2 once had a local override (the old way): one machine only, and outranked by a push.
    local = second.settings.var_dir / "templates"
    local.mkdir(parents=True)
    (local / "assign_notice.docx").write_bytes(_letterhead("机器二本地模板"))
    assert [e["source"] for e in doc_templates.listing(second)] == ["local", "built-in"]

    template = tmp_path / "assign_notice.docx"
    template.write_bytes(_letterhead("县委督查室"))
    env = {**os.environ, "DUBAN_DATABASE_URL": postgres_database, "DUBAN_VAR_DIR": str(first.settings.var_dir),
           "DUBAN_SECRET_KEY": first.settings.secret_key}
    pushed = cli(env, "templates", "push", str(template))
    assert pushed.stdout.startswith("assign_notice: pushed")
    for machine in (first, second):
        _, data = documents.render_document(machine, org["office"], item["id"], doc["id"])
        assert all_text(data).splitlines()[0] == f"县委督查室 {doc['number']}：{item['title']}"
    listed = cli(env, "templates", "list").stdout.splitlines()
    assert listed[0].startswith("assign_notice\tdatabase (pushed by cli:") and listed[1] == "urge_notice\tbuilt-in"
    assert doc_templates.listing(second)[0]["source"] == "database"

    with pytest.raises(InvalidInput, match="没有名为“letter”的文书模板"):
        doc_templates.push(first, "letter", _letterhead("x"), "cli:root")
    with pytest.raises(InvalidInput, match="不是可以打开的 Word"):
        doc_templates.push(first, "urge_notice", b"PK not really a docx", "cli:root")
    assert cli(env, "templates", "remove", "assign_notice").returncode == 0
    _, data = documents.render_document(first, org["office"], item["id"], doc["id"])
    assert "交办通知单" in all_text(data)
    with first.db.reading() as session:
        assert session.scalars(select(AuditRecord.action).where(AuditRecord.action.like("template.%"))
                               .order_by(AuditRecord.id)).all() == ["template.push", "template.remove"]
    first.db.dispose()
    second.db.dispose()
