"""Real Redis, real `duban worker` and `duban scheduler` processes, real time, deadlines seconds away.

Also what must not lose or double an escalation: a worker killed with SIGKILL in the middle of
firing, and a Redis that forgets every message (FLUSHALL).

Nothing here sleeps for a while and hopes: each test waits for state it can see (a task, a timer
handed out, the messages in Redis), and checks that its setup ended well before each deadline.
"""
from __future__ import annotations

import ctypes
import json
import os
import platform
import signal
import time
from datetime import UTC, datetime

import pytest
import redis
from sqlalchemy import create_engine, func, select, text

from engine import services
from engine.clock import SystemClock
from engine.models import Criticism, HistoryEntry, HumanTask, Item, Timer
from tests.integration.flow import RECEIVE, REPORT, complete, open_task
from tests.support.commands import Processes, worker_children
from tests.support.databases import truncate
from tests.support.org import make_duban, seed
from tests.support.waiting import soon, wait_for

LEASE_S = 3
# The steps before a deadline end at least this long before it (else the unit that reports would be late).
MARGIN_S = 1.0
# A worker that has not been heard from in this long (dramatiq's heartbeat, at each fetch) is dead.
SILENT_S = 10


@pytest.fixture
def live(postgres_database, redis_url, tmp_path):
    """A PostgreSQL database, a flushed Redis, and the environment the processes run with."""
    truncate(postgres_database)
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


def queued_actors(client) -> list[str]:
    """The actors of the messages Redis holds, queued or taken by a worker and not yet acknowledged
    (dramatiq keeps each in `<queue>.msgs` until then; `.XQ` holds the dead ones)."""
    actors = []
    for key in client.scan_iter("dramatiq:*.msgs"):
        if not key.endswith(b".XQ.msgs"):
            actors += [json.loads(body)["actor_name"] for body in client.hvals(key)]
    return actors


def messages_for_workers(client) -> int:
    """Messages queued for the workers (delayed ones too) or taken by a live worker and not yet done.

    A killed worker's unacknowledged messages are not counted: dramatiq hands them out again only
    after its heartbeat timeout (a minute); the timers' lease hands their timers out sooner."""
    alive = {worker.decode() for worker in
             client.zrangebyscore("dramatiq:__heartbeats__", (time.time() - SILENT_S) * 1000, "+inf")}
    count = 0
    for key in client.scan_iter("dramatiq:*"):
        name = key.decode()
        if name.startswith("dramatiq:__acks__."):
            worker = name.removeprefix("dramatiq:__acks__.").split(".", 1)[0]
            count += client.scard(key) if worker in alive else 0
        elif client.type(key) == b"list":
            count += client.llen(key)
    return count


def due_timers(duban, instance_id, dispatched=None) -> int:
    """This instance's timers that are due and waiting to fire (handed to a worker or not, or only those)."""
    where = [Timer.instance_id == instance_id, Timer.state == "waiting", Timer.due_at <= duban.clock.now()]
    if dispatched is not None:
        where.append(Timer.dispatched_at.is_not(None) if dispatched else Timer.dispatched_at.is_(None))
    return count(duban, Timer, *where)


def settled(duban, client, item) -> bool:
    """Nothing is left that could fire the item's timers again: none of them due and waiting, and no
    message in Redis for a worker (a second delivery, had there been one, is done)."""
    return due_timers(duban, item["instance_id"]) == 0 and messages_for_workers(client) == 0


def open_elements(duban, element):
    with duban.db.reading() as session:
        return [(t.element_id, t.unit_id) for t in session.scalars(
            select(HumanTask).where(HumanTask.element_id == element))]


def count(duban, model, *where):
    with duban.db.reading() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where))


def prepare(duban, org, deadline_s: float):
    """An item for 发改局 (reports in time) and 财政局 (does not), due in `deadline_s` seconds."""
    due = time.time() + deadline_s
    item = services.register_item(duban, org["office"], {"title": "限时事项", "deadline": soon(deadline_s)})
    complete(duban, org["office"], "draft_opinion", {"lead_unit": "fgj", "co_units": ["czj"], "opinion": "急"})
    complete(duban, org["leader"], "leader_approval", {"decision": "approve"})
    complete(duban, org["office"], "assign", {"notice": "交办通知单"})
    today = datetime.now(UTC).date().isoformat()
    complete(duban, org["unit_a"], "unit_receive", {**RECEIVE, "committed_date": today}, "fgj")
    complete(duban, org["unit_a"], "unit_report", REPORT, "fgj")
    complete(duban, org["unit_b"], "unit_receive", {**RECEIVE, "committed_date": today}, "czj")
    left = due - time.time()
    assert left > MARGIN_S, f"the steps before the deadline ended {left:.1f} s before it (a busy machine?)"
    return item


def test_timers_fire_in_real_worker_processes(live, redis_url):
    duban, org, processes = live
    client = redis.Redis.from_url(redis_url)
    processes.start_ready("scheduler")
    processes.start_ready("worker", "--processes", "2")
    item = prepare(duban, org, deadline_s=8)
    urge = wait_for(lambda: open_elements(duban, "urge"), what="the urge task")
    assert urge == [("urge", "czj")]  # exactly one, and none for the unit that reported
    services.complete_task(duban, org["office"], open_task(duban, org["office"], "urge")["id"],
                           {"notice": "请立即办理", "new_limit": soon(3)})
    wait_for(lambda: open_elements(duban, "discipline_review"), what="the escalation")
    wait_for(lambda: settled(duban, client, item), what="every delivery done")  # a duplicate too, had there been one
    assert open_elements(duban, "discipline_review") == [("discipline_review", "czj")]
    assert open_elements(duban, "urge") == [("urge", "czj")]
    assert count(duban, Criticism, Criticism.item_id == item["id"]) == 1
    ledger = services.get_item(duban, org["office"], item["id"])
    assert {p["unit"]: p["light"] for p in ledger["units"]} == {"fgj": "green", "czj": "red"}


def test_a_worker_killed_while_firing_escalates_exactly_once_after_restart(live, postgres_database, redis_url):
    duban, org, processes = live
    client = redis.Redis.from_url(redis_url)
    processes.start_ready("scheduler")
    worker = processes.start_ready("worker")
    item = prepare(duban, org, deadline_s=6)
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
    processes.start_ready("worker")
    wait_for(lambda: open_elements(duban, "discipline_review"), timeout=40, what="the escalation after restart")
    wait_for(lambda: settled(duban, client, item), what="every delivery done")
    assert open_elements(duban, "discipline_review") == [("discipline_review", "czj")]
    assert count(duban, Criticism, Criticism.item_id == item["id"]) == 1
    assert count(duban, HistoryEntry, HistoryEntry.element_id == "escalation_due",
                 HistoryEntry.action == "timer_fired") == 1


def test_a_flushed_redis_delays_timers_but_loses_none(live, redis_url):
    duban, org, processes = live
    client = redis.Redis.from_url(redis_url)
    processes.start_ready("scheduler")
    item = prepare(duban, org, deadline_s=6)
    # No worker yet: the scheduler hands the due timer to Redis, where it waits.
    wait_for(lambda: due_timers(duban, item["instance_id"], dispatched=True)
             and any(actor.startswith("fire_timer") for actor in queued_actors(client)),
             what="the due timer handed to Redis")
    assert client.flushall()
    assert queued_actors(client) == []  # lost: only the lease hands the timer out again
    processes.start("worker")
    wait_for(lambda: open_elements(duban, "urge"), timeout=40, what="the urge task after FLUSHALL")
    wait_for(lambda: settled(duban, client, item), what="every delivery done")
    assert open_elements(duban, "urge") == [("urge", "czj")]
    with duban.db.reading() as session:
        assert session.get(Item, item["id"]).status == "in_progress"


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
    wait_for(lambda: f"worker process {replacement} replaces {victim}" in log.read_text(),
             what="the replacement logged")
    # Still two at work: the timers fire (the survivor and the replacement share the queue).
    wait_for(lambda: log.read_text().count("worker ready") >= 3, what="the replacement ready")
    processes.start_ready("scheduler")
    prepare(duban, org, deadline_s=6)
    wait_for(lambda: ("urge", "czj") in open_elements(duban, "urge"), what="the urge task")
    assert "State changed" not in log.read_text()  # SpiffWorkflow's INFO lines are off by default


def test_a_worker_stops_on_sigterm_whichever_thread_receives_it(live, tmp_path):
    """The kernel hands a process's SIGTERM to any of its threads (systemd's stop, kill): sent here to one
    of the worker's own threads (dramatiq's, not the main one), the worker still shuts down."""
    _, _, processes = live
    worker = processes.start_ready("worker")
    threads = [int(tid) for tid in os.listdir(f"/proc/{worker.pid}/task") if int(tid) != worker.pid]
    assert threads
    tgkill = {"x86_64": 234, "aarch64": 131}[platform.machine()]
    libc = ctypes.CDLL(None, use_errno=True)
    assert libc.syscall(tgkill, worker.pid, threads[-1], signal.SIGTERM) == 0, os.strerror(ctypes.get_errno())
    assert worker.wait(timeout=20) == 0
    assert "Worker has been shut down" in processes.log(worker)
