"""The security audit log (安全审计): hash chain, what is recorded, and in which transaction; SQLite and PostgreSQL."""
import hashlib
import multiprocessing
import threading
from datetime import timedelta
from itertools import pairwise
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select, text

from engine import services
from engine.errors import AuthenticationFailed, Forbidden, FormInvalid, InvalidInput
from engine.models import AuditRecord, HistoryEntry
from engine.services import audit, process
from tests.integration.flow import complete, open_task, register
from tests.support.org import make_duban
from tests.support.statements import statements_sent


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
    assert all(later.prev_hash == earlier.hash for earlier, later in pairwise(rows))
    assert rows[0].detail == {"i": 0, "名称": "测试"} and rows[0].ip == "10.0.0.1"
    assert audit.verify(duban).intact


def test_tampering_is_detected_at_the_changed_row(duban):
    _append(duban, 5)
    _sql(duban, "UPDATE audit_log SET actor = 'mallory' WHERE id = 3")
    assert audit.verify(duban).broken_at == 3


def test_a_rehashed_row_breaks_the_next_link(duban):
    _append(duban, 5)
    _sql(duban, "UPDATE audit_log SET action = 'test.other' WHERE id = 2")
    row = _records(duban, id=2)[0]
    _sql(duban, "UPDATE audit_log SET hash = :h WHERE id = 2", h=audit.record_hash(_key(duban), row.prev_hash, row))
    assert audit.verify(duban).broken_at == 3


def test_an_edit_resealed_to_the_end_without_the_key_is_detected(duban):
    """Whoever can write the database (but has not the key) changes a record and re-hashes it and
    every record after it, as the unkeyed chain allowed."""
    _append(duban, 5)
    _sql(duban, "UPDATE audit_log SET actor = 'mallory' WHERE id = 2")
    _reseal_from(duban, 2, lambda prev, row: audit.unkeyed_hash(prev, row))
    verdict = audit.verify(duban)
    assert (verdict.intact, verdict.broken_at) == (False, 2) and "第 2 条" in verdict.problem
    # With another key (a guess, or DUBAN_SECRET_KEY's derivation from another installation) no better.
    _reseal_from(duban, 2, lambda prev, row: audit.record_hash(b"guessed key", prev, row))
    assert audit.verify(duban).broken_at == 2


def test_newest_records_cut_off_are_detected(duban):
    _append(duban, 3)
    _append(duban, 2)
    _sql(duban, "DELETE FROM audit_log WHERE id >= 4")
    verdict = audit.verify(duban)
    assert (verdict.intact, verdict.broken_at, verdict.records, verdict.anchored) == (False, 4, 3, 5)
    assert "最新的记录被删除" in verdict.problem
    _sql(duban, "DELETE FROM audit_log")  # all of it
    assert audit.verify(duban).broken_at == 1


def test_the_head_is_anchored_outside_the_database_after_each_commit(duban):
    _append(duban, 3)
    _append(duban, 1)
    rows = _records(duban)
    anchor = (duban.settings.var_dir / "audit-anchor.log").read_text().splitlines()
    # The first line: where the keyed chain starts (a new log: nothing before it); then one line per
    # transaction, its last record's id and hash.
    assert anchor == [f"start 0 {audit.GENESIS}", f"3 {rows[2].hash}", f"4 {rows[3].hash}"]
    with pytest.raises(RuntimeError):
        with duban.db.transaction() as session:
            audit.append(session, "tester", "test.event", None, at=duban.clock.now())
            raise RuntimeError("rolled back: nothing anchored")
    assert len((duban.settings.var_dir / "audit-anchor.log").read_text().splitlines()) == 3
    # A replaced last record, even sealed with the key, no longer matches its anchored hash.
    _sql(duban, "UPDATE audit_log SET hash = :h WHERE id = 4", h="f" * 64)
    assert audit.verify(duban).broken_at == 4


def test_a_missing_anchor_file_is_reported(duban):
    _append(duban, 2)
    (duban.settings.var_dir / "audit-anchor.log").unlink()
    verdict = audit.verify(duban)
    assert (verdict.intact, verdict.broken_at) == (False, None) and "锚点文件" in verdict.problem


def test_the_key_comes_from_duban_audit_key_or_the_secret_key(duban):
    from engine.config import Settings

    derived = audit.chain_key(duban.settings)
    assert derived != duban.settings.secret_key.encode() and len(derived) == 32
    assert audit.chain_key(Settings.from_env({"DUBAN_AUDIT_KEY": "k" * 40}, secret_key="s")) == b"k" * 40
    assert audit.chain_key(Settings.from_env({}, secret_key="other")) != derived
    _append(duban, 2)
    row = _records(duban)[0]
    assert row.hash == audit.record_hash(derived, audit.GENESIS, row) != audit.unkeyed_hash(audit.GENESIS, row)


def test_records_from_before_the_chain_was_keyed_still_verify(duban):
    """An installation upgraded from the unkeyed chain: the anchor file starts at the head it had."""
    _append(duban, 3)
    anchor = duban.settings.var_dir / "audit-anchor.log"
    anchor.unlink()
    _reseal_from(duban, 1, lambda prev, row: audit.unkeyed_hash(prev, row))  # as the old version wrote them
    _append(duban, 2)  # the first keyed records create the anchor file
    assert anchor.read_text().startswith(f"start 3 {_records(duban)[2].hash}\n")
    assert audit.verify(duban).intact
    # After the start, an unkeyed record is a forgery.
    _reseal_from(duban, 4, lambda prev, row: audit.unkeyed_hash(prev, row))
    assert audit.verify(duban).broken_at == 4


def _key(duban) -> bytes:
    return audit.chain_key(duban.settings)


def _reseal_from(duban, first: int, seal) -> None:
    """Recompute prev_hash and hash of every record from `first` on with `seal(prev_hash, row)`."""
    rows = _records(duban)
    prev = next((r.hash for r in rows if r.id == first - 1), audit.GENESIS)
    for row in rows:
        if row.id < first:
            continue
        row.prev_hash = prev
        row.hash = prev = seal(prev, row)
        _sql(duban, "UPDATE audit_log SET prev_hash = :p, hash = :h WHERE id = :id", p=row.prev_hash, h=row.hash,
             id=row.id)


def test_removed_rows_are_detected(duban):
    _append(duban, 5)
    _sql(duban, "DELETE FROM audit_log WHERE id = 3")
    assert audit.verify(duban).broken_at == 4
    _sql(duban, "DELETE FROM audit_log WHERE id IN (1, 2)")
    assert audit.verify(duban).broken_at == 4  # a cut head: the first row left points nowhere known


def test_a_rolled_back_transaction_records_nothing(duban):
    with pytest.raises(RuntimeError):
        with duban.db.transaction() as session:
            audit.append(session, "tester", "test.event", None, at=duban.clock.now())
            raise RuntimeError("the use case failed")
    assert _count(duban) == 0
    _append(duban, 1)
    assert [r.id for r in _records(duban)] == [1] and audit.verify(duban).intact


def test_sign_ins_are_recorded(duban, org):
    services.login(duban, "office", "duban-demo", ip="192.0.2.7")
    with pytest.raises(AuthenticationFailed):
        services.login(duban, "office", "wrong")
    with pytest.raises(AuthenticationFailed):
        services.login(duban, "ghost", "wrong")
    for _ in range(5):
        with pytest.raises(AuthenticationFailed):
            services.login(duban, "leader", "wrong")
    with pytest.raises(AuthenticationFailed, match="锁定"):
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
    assert audit.verify(duban).intact


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
    done = list(_records(duban, action="instance.completed", target=target))
    assert [(r.actor, r.detail["task_id"], r.detail["element_id"]) for r in done] == [
        ("office", task["id"], "draft_opinion")]
    # The form contents stay out of the log; their digest ties the record to the history row.
    assert "data" not in done[0].detail and "请发改局" not in str(done[0].detail)
    history = services.get_instance(duban, org["office"], item["instance_id"])["history"]
    submitted = next(h["data"] for h in history if h["action"] == "completed")
    assert done[0].detail["data_sha256"] == audit.digest(submitted)
    # Every history row of every instance has its audit record, and no audit record lacks its row.
    assert len([r for r in _records(duban) if r.action.startswith("instance.")]) == _count(duban, HistoryEntry)
    assert audit.verify(duban).intact


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
    assert _count(duban) > before and audit.verify(duban).intact


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
    assert audit.verify(duban).intact
    # One anchor line per transaction (and the start line), none torn, the newest head among them.
    lines = (duban.settings.var_dir / "audit-anchor.log").read_text().splitlines()
    assert len(lines) == threads_n * rounds + 1 and all(len(line.split()) == 2 for line in lines[1:])
    assert f"{rows[-1].id} {rows[-1].hash}" in lines


def _append_from_another_process(url: str, var_dir: str, writer: int, rounds: int) -> None:
    """A process of its own (a web server, a worker) writing to the same database and anchor file."""
    from engine.bootstrap import bootstrap
    from engine.config import Settings

    other = bootstrap(Settings.from_env({}, var_dir=Path(var_dir), database_url=url, secret_key="test-secret"))
    try:
        for _ in range(rounds):
            with other.db.transaction() as session:
                for _ in range(2):
                    audit.append(session, f"process{writer}", "test.process", None, at=other.clock.now())
    finally:
        other.db.dispose()


def test_processes_share_the_chain_and_its_anchor_file(duban):
    processes_n, rounds = 2, 15
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_append_from_another_process,
                               args=(duban.db.url, str(duban.settings.var_dir), n, rounds)) for n in range(processes_n)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert [worker.exitcode for worker in workers] == [0] * processes_n
    rows = _records(duban)
    assert [r.id for r in rows] == list(range(1, processes_n * rounds * 2 + 1))
    lines = (duban.settings.var_dir / "audit-anchor.log").read_text().splitlines()
    heads = [line for line in lines if not line.startswith("start ")]  # two processes may both start the file
    assert lines[0].startswith("start ") and len(heads) == processes_n * rounds
    assert all(len(line.split()) == 2 for line in heads)
    assert audit.verify(duban).intact


def _audit_statements(duban, write) -> list[str]:
    """The statements touching the audit chain that `write` sends."""
    with statements_sent(duban) as sent:
        write()
    return [statement for statement in sent if "audit" in statement]


def test_a_writer_that_knows_the_head_chains_in_one_statement(duban, tmp_path):
    """The head this process's last commit left is what its next transaction seals upon: the records
    go out in one INSERT that checks the head (under the chain's lock on PostgreSQL). When another
    process wrote meanwhile, that INSERT inserts nothing and the head is read again: one chain."""
    _append(duban, 2)
    assert len(_audit_statements(duban, lambda: _append(duban, 3))) == 1
    other = make_duban(duban.db.url, duban.clock, tmp_path)  # another process: its own engine
    try:
        _append(other, 2, "test.other")
    finally:
        other.db.dispose()
    assert len(_audit_statements(duban, lambda: _append(duban, 2))) == 3  # tried, head read, inserted
    rows = _records(duban)
    assert [r.id for r in rows] == list(range(1, 10))
    assert [r.action for r in rows[5:7]] == ["test.other"] * 2 and rows[7].prev_hash == rows[6].hash
    assert audit.verify(duban).intact
    assert len(_audit_statements(duban, lambda: _append(duban, 1))) == 1


def test_a_step_whose_head_moved_records_its_history_once(duban, org, tmp_path):
    """On PostgreSQL a step's history rows and notifications go in the audit records' statement, which
    inserts them even when it inserts no record (another process moved the head): they are not
    written twice, and the records follow the other process's."""
    register(duban, org)
    other = make_duban(duban.db.url, duban.clock, tmp_path)
    try:
        _append(other, 1, "test.other")
    finally:
        other.db.dispose()
    last = _records(duban)[-1].id
    history = _count(duban, HistoryEntry)
    complete(duban, org["office"], "draft_opinion", {"lead_unit": "fgj", "co_units": [], "opinion": "请办理"})
    steps = [r for r in _records(duban) if r.id > last]
    assert _count(duban, HistoryEntry) - history == len(steps) >= 2
    assert all(r.action.startswith("instance.") for r in steps)
    assert audit.verify(duban).intact


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


def test_the_auditors_own_reads_and_verifications_are_recorded(duban, org):
    audit.list_records(duban, org["auditor"], 2, 10, {"action": "auth.*", "actor": None}, ip="192.0.2.9")
    report = audit.report(duban, org["auditor"], ip="192.0.2.9")
    seen = [(r.actor, r.action, r.target, r.detail, r.ip) for r in _records(duban) if r.action.startswith("audit.")]
    assert seen == [
        ("auditor", "audit.read", "audit_log", {"filters": {"action": "auth.*"}, "page": 2}, "192.0.2.9"),
        ("auditor", "audit.verify", "audit_log", {"intact": True, "broken_at": None, "records": report["records"]},
         "192.0.2.9"),
    ]
    assert audit.verify(duban).intact


def test_exports_and_downloads_are_recorded(duban, org):
    from engine.services import assessment, bulletins, documents, export, ledger
    from tests.integration.flow import through_assignment

    item = through_assignment(duban, org)
    ledger_file = export.items_xlsx(duban, org["office"], ledger.LedgerFilter(status="in_progress"))
    scores_file = assessment.xlsx(duban, org["leader"], 2026)
    document = documents.list_documents(duban, org["unit_a"], item["id"])[0]
    _, document_file = documents.render_document(duban, org["unit_a"], item["id"], document["id"])
    issued = bulletins.generate(duban, org["office"], "2026-09")
    _, bulletin_file = bulletins.document(duban, org["leader"], issued["id"])
    handed_out = {r.action: r for r in _records(duban) if r.action.endswith((".export", ".download"))}
    assert {action: (r.actor, r.target) for action, r in handed_out.items()} == {
        "ledger.export": ("office", "ledger"),
        "assessment.export": ("leader", "assessment:2026"),
        "document.download": ("unit_a", f"item:{item['id']}"),
        "bulletin.download": ("leader", f"bulletin:{issued['id']}"),
    }
    for action, data in (("ledger.export", ledger_file), ("assessment.export", scores_file),
                         ("document.download", document_file), ("bulletin.download", bulletin_file)):
        assert handed_out[action].detail["sha256"] == hashlib.sha256(data).hexdigest(), action
    assert handed_out["ledger.export"].detail["rows"] == 1
    assert handed_out["ledger.export"].detail["filters"]["status"] == "in_progress"
    assert handed_out["document.download"].detail["number"] == document["number"]
    assert audit.verify(duban).intact


def test_pruning_keeps_six_months_and_the_chain_verifiable(duban):
    _append(duban, 4)
    duban.clock.advance(days=200)
    _append(duban, 2)
    with pytest.raises(InvalidInput):
        audit.prune(duban, duban.clock.now() - timedelta(days=100))
    assert audit.prune(duban, duban.clock.now() - timedelta(days=183)) == 4
    rows = _records(duban)
    assert [r.id for r in rows] == [5, 6, 7] and rows[-1].action == audit.PRUNED
    assert audit.verify(duban).intact
    _sql(duban, "DELETE FROM audit_log WHERE id = 5")  # a cut that no pruning recorded
    assert audit.verify(duban).broken_at == 6
