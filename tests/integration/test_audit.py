"""The security audit log (安全审计): hash chain, what is recorded, and in which transaction; SQLite and PostgreSQL."""
import threading
from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select, text

from engine import services
from engine.errors import AuthenticationFailed, Forbidden, FormInvalid, InvalidInput
from engine.models import AuditRecord, HistoryEntry
from engine.services import audit, process
from tests.integration.flow import complete, open_task, register


def _records(duban, **where) -> list:
    """The log's rows as plain values (a reading session expires its objects when it ends)."""
    with duban.db.reading() as session:
        query = select(AuditRecord).filter_by(**where).order_by(AuditRecord.id)
        columns = AuditRecord.__table__.columns.keys()
        return [SimpleNamespace(**{c: getattr(row, c) for c in columns}) for row in session.scalars(query)]


def _count(duban, model=AuditRecord) -> int:
    with duban.db.reading() as session:
        return session.scalar(select(func.count()).select_from(model))


def _append(duban, n: int, action: str = "test.event") -> None:
    with duban.db.transaction() as session:
        for i in range(n):
            audit.append(session, "tester", action, f"thing:{i}", {"i": i, "名称": "测试"}, "10.0.0.1",
                         at=duban.clock.now())


def _sql(duban, statement: str, **params) -> None:
    with duban.db.engine.begin() as connection:
        connection.execute(text(statement), params)


def test_the_chain_links_every_record_and_verifies(duban):
    _append(duban, 3)
    duban.clock.advance(minutes=1)
    _append(duban, 2)
    rows = _records(duban)
    assert [r.id for r in rows] == [1, 2, 3, 4, 5]
    assert rows[0].prev_hash == audit.GENESIS
    assert all(later.prev_hash == earlier.hash for earlier, later in zip(rows, rows[1:]))
    assert rows[0].detail == {"i": 0, "名称": "测试"} and rows[0].ip == "10.0.0.1"
    assert audit.verify(duban) is None


def test_tampering_is_detected_at_the_changed_row(duban):
    _append(duban, 5)
    _sql(duban, "UPDATE audit_log SET actor = 'mallory' WHERE id = 3")
    assert audit.verify(duban) == 3


def test_a_rehashed_row_breaks_the_next_link(duban):
    _append(duban, 5)
    _sql(duban, "UPDATE audit_log SET action = 'test.other' WHERE id = 2")
    row = _records(duban, id=2)[0]
    _sql(duban, "UPDATE audit_log SET hash = :h WHERE id = 2", h=audit.record_hash(row.prev_hash, row))
    assert audit.verify(duban) == 3


def test_removed_rows_are_detected(duban):
    _append(duban, 5)
    _sql(duban, "DELETE FROM audit_log WHERE id = 3")
    assert audit.verify(duban) == 4
    _sql(duban, "DELETE FROM audit_log WHERE id IN (1, 2)")
    assert audit.verify(duban) == 4  # a cut head: the first row left points nowhere known


def test_a_rolled_back_transaction_records_nothing(duban):
    with pytest.raises(RuntimeError):
        with duban.db.transaction() as session:
            audit.append(session, "tester", "test.event", None, at=duban.clock.now())
            raise RuntimeError("the use case failed")
    assert _count(duban) == 0
    _append(duban, 1)
    assert [r.id for r in _records(duban)] == [1] and audit.verify(duban) is None


def test_sign_ins_are_recorded(duban, org):
    services.login(duban, "office", "duban-demo", ip="192.0.2.7")
    with pytest.raises(AuthenticationFailed):
        services.login(duban, "office", "wrong")
    with pytest.raises(AuthenticationFailed):
        services.login(duban, "ghost", "wrong")
    for _ in range(5):
        with pytest.raises(AuthenticationFailed):
            services.login(duban, "leader", "wrong")
    with pytest.raises(AuthenticationFailed, match="locked"):
        services.login(duban, "leader", "duban-demo")
    seen = [(r.actor, r.action, (r.detail or {}).get("reason")) for r in _records(duban)
            if r.action.startswith("auth.")]
    assert seen == [
        ("office", "auth.login", None),
        ("office", "auth.login_failed", "wrong password"),
        ("ghost", "auth.login_failed", "unknown user"),
        *[("leader", "auth.login_failed", "wrong password")] * 4,
        ("leader", "auth.lockout", seen[7][2]),
        ("leader", "auth.login_refused", "account locked"),
    ]
    assert "locked until" in seen[7][2]
    assert _records(duban, action="auth.login")[0].ip == "192.0.2.7"
    assert audit.verify(duban) is None


def test_tokens_issued_and_revoked_are_recorded(duban, org):
    token, _ = services.issue_token(duban, org["office"], ip="192.0.2.8")
    services.revoke_token(duban, token)
    services.revoke_token(duban, token)  # already gone: nothing happened, nothing recorded
    assert [(r.actor, r.action) for r in _records(duban) if r.action.startswith("token.")] == [
        ("office", "token.issue"), ("office", "token.revoke")]
    assert token not in str([r.detail for r in _records(duban)])


def test_a_task_completion_is_recorded_with_the_history_in_one_transaction(duban, org):
    item = register(duban, org)
    data = {"lead_unit": "fgj", "co_units": [], "opinion": "请发改局牵头办理"}
    task = complete(duban, org["office"], "draft_opinion", data)
    target = f"instance:{item['instance_id']}"
    done = [r for r in _records(duban, action="instance.completed", target=target)]
    assert [(r.actor, r.detail["task_id"], r.detail["element_id"]) for r in done] == [
        ("office", task["id"], "draft_opinion")]
    # The form contents stay out of the log; their digest ties the record to the history row.
    assert "data" not in done[0].detail and "请发改局" not in str(done[0].detail)
    history = services.get_instance(duban, org["office"], item["instance_id"])["history"]
    submitted = next(h["data"] for h in history if h["action"] == "completed")
    assert done[0].detail["data_sha256"] == audit.digest(submitted)
    # Every history row of every instance has its audit record, and no audit record lacks its row.
    assert len([r for r in _records(duban) if r.action.startswith("instance.")]) == _count(duban, HistoryEntry)
    assert audit.verify(duban) is None


def test_a_failed_completion_records_nothing(duban, org, monkeypatch):
    register(duban, org)
    draft = open_task(duban, org["office"], "draft_opinion")
    before = _count(duban)
    with pytest.raises(FormInvalid):
        services.complete_task(duban, org["office"], draft["id"], {"co_units": ["nowhere"]})
    assert _count(duban) == before
    # A failure after the history row was written (and its audit record queued) takes both back.
    real_save = process.save

    def save_then_fail(*args, **kwargs):
        real_save(*args, **kwargs)
        raise RuntimeError("disk full")

    monkeypatch.setattr(process, "save", save_then_fail)
    with pytest.raises(RuntimeError):
        services.complete_task(duban, org["office"], draft["id"], {"lead_unit": "fgj", "opinion": "x"})
    assert _count(duban) == before
    monkeypatch.setattr(process, "save", real_save)
    complete(duban, org["office"], "draft_opinion", {"lead_unit": "fgj", "opinion": "x"})
    assert _count(duban) > before and audit.verify(duban) is None


def test_deploys_and_calendar_edits_are_recorded(duban, org):
    from datetime import date

    from engine.services import calendar

    deployed = _records(duban, action="definition.deploy")
    assert sorted((r.target, r.detail["version"], r.detail["created"]) for r in deployed) == [
        ("definition:duban_extension", 1, True), ("definition:duban_main", 1, True)]
    calendar.set_day(duban, org["admin"], date(2026, 12, 21), False, "地方假日")
    calendar.import_days(duban, "2027:\n  holidays: [2027-01-01]\n", "2027.yaml", org["admin"])
    assert [(r.actor, r.action, r.target) for r in _records(duban) if r.action.startswith("calendar.")] == [
        ("admin", "calendar.set_day", "day:2026-12-21"), ("admin", "calendar.import", "file:2027.yaml")]


def test_concurrent_appends_keep_one_chain(duban):
    """Writers that commit at the same moment queue up on the chain's lock; none forks it."""
    threads_n, rounds, per = 6, 4, 3
    barrier, errors = threading.Barrier(threads_n), []
    # On PostgreSQL every writer holds an open transaction at the barrier, so all commit at once.
    # SQLite lets one writer in at a time (BEGIN IMMEDIATE): there a barrier would only deadlock.
    together = duban.db.dialect == "postgresql"

    def writer(n):
        try:
            for _ in range(rounds):
                with duban.db.transaction() as session:
                    for _ in range(per):
                        audit.append(session, f"writer{n}", "test.concurrent", None, at=duban.clock.now())
                    if together:
                        session.execute(select(1))
                        barrier.wait(timeout=30)
        except Exception as error:  # noqa: BLE001 - the test reports it
            errors.append(repr(error))
            barrier.abort()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(threads_n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    rows = _records(duban)
    assert [r.id for r in rows] == list(range(1, threads_n * rounds * per + 1))
    assert audit.verify(duban) is None


def test_only_the_audit_administrator_reads_the_log(duban, org):
    services.login(duban, "office", "duban-demo")
    for name in ("admin", "secadmin", "office", "leader"):
        with pytest.raises(Forbidden):
            audit.list_records(duban, org[name])
        with pytest.raises(Forbidden):
            audit.report(duban, org[name])
    rows, total = audit.list_records(duban, org["auditor"], 1, 50, {"actor": "office", "action": "auth.*"})
    assert total == 1 and rows[0]["action"] == "auth.login"
    assert audit.report(duban, org["auditor"])["intact"] is True


def test_pruning_keeps_six_months_and_the_chain_verifiable(duban):
    _append(duban, 4)
    duban.clock.advance(days=200)
    _append(duban, 2)
    with pytest.raises(InvalidInput):
        audit.prune(duban, duban.clock.now() - timedelta(days=100))
    assert audit.prune(duban, duban.clock.now() - timedelta(days=183)) == 4
    rows = _records(duban)
    assert [r.id for r in rows] == [5, 6, 7] and rows[-1].action == audit.PRUNED
    assert audit.verify(duban) is None
    _sql(duban, "DELETE FROM audit_log WHERE id = 5")  # a cut that no pruning recorded
    assert audit.verify(duban) == 6
