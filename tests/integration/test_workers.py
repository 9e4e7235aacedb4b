"""Real Redis, real `duban worker` and `duban scheduler` processes, real time, deadlines seconds away.

Also what must not lose or double an escalation: a worker killed with SIGKILL in the middle of
firing, and a Redis that forgets every message (FLUSHALL).
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone

import pytest
import redis
from sqlalchemy import create_engine, func, select, text

from engine import services
from engine.clock import SystemClock
from engine.models import Criticism, HistoryEntry, HumanTask, Item
from tests.conftest import make_duban, seed
from tests.integration.flow import RECEIVE, REPORT, complete, open_task

LEASE_S = 3


@pytest.fixture
def live(postgres_database, redis_url, tmp_path):
    """A PostgreSQL database, a flushed Redis, and the environment the processes run with."""
    from tests.conftest import _truncate

    _truncate(postgres_database)
    redis.Redis.from_url(redis_url).flushdb()
    duban = make_duban(postgres_database, SystemClock(), tmp_path, timer_lease_s=LEASE_S)
    org = seed(duban)
    env = {**os.environ, "DUBAN_DATABASE_URL": postgres_database, "DUBAN_REDIS_URL": redis_url,
           "DUBAN_TIMER_POLL_S": "0.2", "DUBAN_TIMER_LEASE_S": str(LEASE_S), "DUBAN_VAR_DIR": str(tmp_path / "var"),
           "DUBAN_SECRET_KEY": "test"}
    processes = Processes(env, tmp_path)
    yield duban, org, processes
    processes.stop_all()
    duban.db.dispose()


class Processes:
    def __init__(self, env, folder):
        self.env, self.folder, self.running = env, folder, []

    def start(self, *args) -> subprocess.Popen:
        log = open(self.folder / f"{args[0]}-{len(self.running)}.log", "w")
        process = subprocess.Popen([sys.executable, "-m", "duban.cli", *args], env=self.env, stdout=log,
                                   stderr=subprocess.STDOUT, start_new_session=True)
        self.running.append(process)
        return process

    def kill(self, process, sig=signal.SIGKILL) -> None:
        os.killpg(process.pid, sig)
        process.wait(timeout=20)

    def stop_all(self) -> None:
        for process in self.running:
            if process.poll() is None:
                try:
                    self.kill(process, signal.SIGTERM)
                except (subprocess.TimeoutExpired, ProcessLookupError):
                    self.kill(process)


def wait_for(predicate, timeout=30.0, what="the condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def soon(seconds: float) -> str:
    return (datetime.now(timezone.utc) + timedelta(seconds=seconds)).isoformat()


def open_elements(duban, element):
    with duban.db.reading() as session:
        return [(t.element_id, t.unit_id) for t in session.scalars(
            select(HumanTask).where(HumanTask.element_id == element))]


def count(duban, model, *where):
    with duban.db.reading() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where))


def prepare(duban, org, deadline_s: float):
    """An item for 发改局 (reports in time) and 财政局 (does not), due in `deadline_s` seconds."""
    item = services.register_item(duban, org["office"], {"title": "限时事项", "deadline": soon(deadline_s)})
    complete(duban, org["office"], "draft_opinion", {"lead_unit": "fgj", "co_units": ["czj"], "opinion": "急"})
    complete(duban, org["leader"], "leader_approval", {"decision": "approve"})
    complete(duban, org["office"], "assign", {"notice": "交办通知单"})
    today = datetime.now(timezone.utc).date().isoformat()
    complete(duban, org["unit_a"], "unit_receive", {**RECEIVE, "committed_date": today}, "fgj")
    complete(duban, org["unit_a"], "unit_report", REPORT, "fgj")
    complete(duban, org["unit_b"], "unit_receive", {**RECEIVE, "committed_date": today}, "czj")
    return item


def test_timers_fire_in_real_worker_processes(live):
    duban, org, processes = live
    processes.start("scheduler")
    processes.start("worker", "--processes", "2")
    item = prepare(duban, org, deadline_s=6)
    urge = wait_for(lambda: open_elements(duban, "urge"), what="the urge task")
    assert urge == [("urge", "czj")]  # exactly one, and none for the unit that reported
    services.complete_task(duban, org["office"], open_task(duban, org["office"], "urge")["id"],
                           {"notice": "请立即办理", "new_limit": soon(3)})
    wait_for(lambda: open_elements(duban, "discipline_review"), what="the escalation")
    time.sleep(LEASE_S + 1)  # long enough for any duplicate delivery to have happened
    assert open_elements(duban, "discipline_review") == [("discipline_review", "czj")]
    assert open_elements(duban, "urge") == [("urge", "czj")]
    assert count(duban, Criticism, Criticism.item_id == item["id"]) == 1
    ledger = services.get_item(duban, org["office"], item["id"])
    assert {p["unit"]: p["light"] for p in ledger["units"]} == {"fgj": "green", "czj": "red"}


def test_a_worker_killed_while_firing_escalates_exactly_once_after_restart(live, postgres_database):
    duban, org, processes = live
    processes.start("scheduler")
    worker = processes.start("worker")
    item = prepare(duban, org, deadline_s=4)
    wait_for(lambda: open_elements(duban, "urge"), what="the urge task")
    # Only the escalation writes 通报批评 records: holding that table stops the worker inside its
    # transaction, after it has fired the timer and before it commits.
    blocker = create_engine(postgres_database).connect()
    transaction = blocker.begin()
    blocker.execute(text("SET LOCAL statement_timeout = '60s'"))
    blocker.execute(text("LOCK TABLE criticisms IN EXCLUSIVE MODE"))
    services.complete_task(duban, org["office"], open_task(duban, org["office"], "urge")["id"],
                           {"notice": "请立即办理", "new_limit": soon(2)})
    wait_for(lambda: blocker.execute(text(
        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()"
    )).scalar(), what="the worker to be stuck inside its transaction")
    processes.kill(worker)  # SIGKILL, mid-transaction
    transaction.rollback()
    blocker.close()
    assert open_elements(duban, "discipline_review") == []  # the killed worker's work is gone, not half-done
    processes.start("worker")
    wait_for(lambda: open_elements(duban, "discipline_review"), timeout=40, what="the escalation after restart")
    time.sleep(LEASE_S + 1)
    assert open_elements(duban, "discipline_review") == [("discipline_review", "czj")]
    assert count(duban, Criticism, Criticism.item_id == item["id"]) == 1
    assert count(duban, HistoryEntry, HistoryEntry.element_id == "escalation_due",
                 HistoryEntry.action == "timer_fired") == 1


def test_a_flushed_redis_delays_timers_but_loses_none(live, redis_url):
    duban, org, processes = live
    processes.start("scheduler")
    item = prepare(duban, org, deadline_s=2)
    # No worker yet: the scheduler hands the due timers to Redis, where they wait.
    time.sleep(3)
    assert redis.Redis.from_url(redis_url).flushall()
    processes.start("worker")
    wait_for(lambda: open_elements(duban, "urge"), timeout=40, what="the urge task after FLUSHALL")
    time.sleep(LEASE_S + 1)
    assert open_elements(duban, "urge") == [("urge", "czj")]
    with duban.db.reading() as session:
        assert session.get(Item, item["id"]).status == "in_progress"


def worker_children(supervisor) -> set[int]:
    """The supervisor's worker processes (forks: the same command line; not their step processes)."""
    def cmdline(pid):
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            return handle.read()

    with open(f"/proc/{supervisor.pid}/task/{supervisor.pid}/children") as handle:
        pids = {int(pid) for pid in handle.read().split()}
    return {pid for pid in pids if cmdline(pid) == cmdline(supervisor.pid)}


def test_a_killed_worker_process_is_logged_and_replaced(live, tmp_path):
    duban, org, processes = live
    supervisor = processes.start("worker", "--processes", "2")
    log = tmp_path / "worker-0.log"
    wait_for(lambda: log.read_text().count("worker ready") == 2, what="two worker processes")
    first = worker_children(supervisor)
    assert len(first) == 2
    victim = min(first)
    os.kill(victim, signal.SIGKILL)
    wait_for(lambda: len(worker_children(supervisor) - first) == 1 and len(worker_children(supervisor)) == 2,
             what="a new worker process")
    replacement = (worker_children(supervisor) - first).pop()
    assert f"worker process {victim} died (signal SIGKILL); starting another" in log.read_text()
    assert f"worker process {replacement} replaces {victim}" in log.read_text()
    # Still two at work: the timers fire (the survivor and the replacement share the queue).
    processes.start("scheduler")
    prepare(duban, org, deadline_s=5)
    wait_for(lambda: ("urge", "czj") in open_elements(duban, "urge"), what="the urge task")
    assert "State changed" not in log.read_text()  # SpiffWorkflow's INFO lines are off by default
