"""An installation on two machines, as a deployment runs it: on each, `duban run` (Redis set, so no
embedded worker), `duban worker` and `duban scheduler`, each machine with its own DUBAN_VAR_DIR, one
PostgreSQL database and one Redis between them. Items go through their main path concurrently through
both web nodes and their units are late; meanwhile a worker process is killed with SIGKILL, a
scheduler too, and Redis forgets every message (FLUSHDB), twice. Each late unit still gets exactly one
urge, one escalation and one 通报批评, and no timer fires twice.
"""
from __future__ import annotations

import os
import signal
import threading
from datetime import UTC, datetime

import pytest
import redis
from sqlalchemy import create_engine, func, select

from engine.models import Criticism, HistoryEntry, Timer
from tests.support.commands import Http, Processes, cli, free_port, login, worker_children
from tests.support.databases import truncate
from tests.support.org import BPMN
from tests.support.waiting import soon, wait_for

ITEMS = 6  # two late units each (牵头 财政局, 配合 发改局): 12 urges, 12 escalations, 12 通报批评
UNITS = {"czj": "unit_b", "fgj": "unit_a"}


@pytest.fixture
def two_machines(postgres_database, redis_url, tmp_path):
    truncate(postgres_database)
    redis.Redis.from_url(redis_url).flushdb()
    shared = {**os.environ, "DUBAN_DATABASE_URL": postgres_database, "DUBAN_REDIS_URL": redis_url,
              "DUBAN_SECRET_KEY": "one key for the installation", "DUBAN_TIMER_POLL_S": "0.2",
              "DUBAN_TIMER_LEASE_S": "3", "DUBAN_STEP_PROCESSES": "1"}
    machines = []
    for name in ("machine-1", "machine-2"):
        folder = tmp_path / name
        folder.mkdir()
        machines.append(Processes({**shared, "DUBAN_VAR_DIR": str(folder / "var")}, folder))
    cli(machines[0].env, "deploy", *[str(p) for p in sorted(BPMN.glob("*.bpmn"))])
    cli(machines[0].env, "seed-demo")
    engine = create_engine(postgres_database)
    try:
        bases = []
        for machine in machines:
            port = free_port()
            machine.start("run", "--port", str(port))
            bases.append(f"http://127.0.0.1:{port}")
        supervisor = machines[0].start("worker", "--processes", "2")
        machines[1].start("worker", "--processes", "1")
        schedulers = [machine.start("scheduler") for machine in machines]
        for base in bases:
            wait_for(lambda base=base: _ready(base, machines), timeout=60, what=f"duban run at {base}")
        yield bases, supervisor, schedulers, machines, engine
    finally:
        for machine in machines:
            machine.stop_all()
        engine.dispose()


def _ready(base: str, machines) -> bool:
    for machine in machines:
        for process in machine.running:
            assert process.poll() is None, f"{process.args[3:]} ended: see {machine.folder}"
    try:
        return Http(base).call("GET", "/healthz", token=False)[0] == 200
    except OSError:
        return False


class Nodes:
    """One person's bearer token, used through both web nodes by turns (a load balancer's round robin)."""

    def __init__(self, bases, username):
        token = login(bases[0], username).token
        self.https = [Http(base) for base in bases]
        for http in self.https:
            http.token = token
        self.turn = 0

    def call(self, method, path, body=None):
        self.turn += 1
        return self.https[self.turn % len(self.https)].call(method, path, body)


def _main_path(bases, index: int, deadline_s: float, items: list, errors: list) -> None:
    try:
        people = {name: Nodes(bases, name) for name in ("office", "leader", "unit_a", "unit_b")}
        status, item = people["office"].call("POST", "/api/v1/items", {"title": f"两台机器上的事项{index}",
                                                                       "deadline": soon(deadline_s)})
        assert status == 201, item

        def task(user, element, unit=None):
            status, tasks = people[user].call("GET", f"/api/v1/tasks?instance_id={item['instance_id']}")
            assert status == 200, tasks
            return next(t for t in tasks if t["element_id"] == element and unit in (None, t["unit"]))

        def complete(user, element, data, unit=None):
            status, body = people[user].call("POST", f"/api/v1/tasks/{task(user, element, unit)['id']}/complete",
                                             {"data": data})
            assert status == 200, body

        complete("office", "draft_opinion", {"lead_unit": "czj", "co_units": ["fgj"], "opinion": "限期办理"})
        complete("leader", "leader_approval", {"decision": "approve"})
        complete("office", "assign", {"notice": "交办通知单"})
        for unit, user in UNITS.items():  # they sign for it, then report nothing: both late
            detail = people[user].call("GET", f"/api/v1/tasks/{task(user, 'unit_receive', unit)['id']}")[1]
            complete(user, "unit_receive", {"first_responsible": "局长", "responsible": "科长", "handler": "科员",
                                            "committed_date": detail["data"]["deadline"][:10]}, unit)
        items.append(item)
    except BaseException as error:  # noqa: BLE001 - reported by the test's thread
        errors.append(error)


def _together(target, args_list) -> None:
    errors = []
    threads = [threading.Thread(target=target, args=(*args, errors)) for args in args_list]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    if errors:
        raise errors[0]


def _created(engine, element) -> list:
    with engine.connect() as connection:
        return connection.execute(select(HistoryEntry.instance_id, HistoryEntry.unit_id).where(
            HistoryEntry.action == "task_created", HistoryEntry.element_id == element)).all()


def _settled(engine) -> bool:
    """No timer is due and unfired any more: nothing left that a worker could still fire (twice)."""
    with engine.connect() as connection:
        return not connection.scalar(select(func.count()).select_from(Timer).where(
            Timer.state == "waiting", Timer.due_at <= datetime.now(UTC)))


def _complete_urge(bases, office_task: dict, errors: list) -> None:
    try:
        status, body = Nodes(bases, "office").call("POST", f"/api/v1/tasks/{office_task['id']}/complete",
                                                   {"data": {"notice": "请立即办理", "new_limit": soon(8)}})
        assert status == 200, body
    except BaseException as error:  # noqa: BLE001
        errors.append(error)


def test_two_machines_urge_and_escalate_each_late_unit_exactly_once_through_faults(two_machines, redis_url):
    bases, supervisor, schedulers, machines, engine = two_machines
    late_units = 2 * ITEMS
    items = []
    _together(_main_path, [(bases, index, 12, items) for index in range(ITEMS)])
    assert len(items) == ITEMS

    # The first urges appear: the deadline timers are being fired. Kill a worker process and a
    # scheduler in the middle of it, and make Redis forget the timers already handed out.
    wait_for(lambda: _created(engine, "urge"), timeout=60, what="the first urge")
    faults = [len(_created(engine, "urge"))]
    os.kill(min(worker_children(supervisor)), signal.SIGKILL)
    machines[0].kill(schedulers[0])
    redis.Redis.from_url(redis_url).flushdb()
    wait_for(lambda: len(_created(engine, "urge")) >= late_units, timeout=60, what="an urge for each late unit")

    office = Nodes(bases, "office")
    urges = []
    for item in items:
        status, tasks = office.call("GET", f"/api/v1/tasks?instance_id={item['instance_id']}")
        urges += [t for t in tasks if t["element_id"] == "urge"]
    assert len(urges) == late_units
    _together(_complete_urge, [(bases, task) for task in urges])
    wait_for(lambda: _created(engine, "discipline_review"), timeout=60, what="the first escalation")
    faults.append(len(_created(engine, "discipline_review")))
    redis.Redis.from_url(redis_url).flushdb()
    wait_for(lambda: len(_created(engine, "discipline_review")) >= late_units, timeout=60,
             what="an escalation for each late unit")
    wait_for(lambda: _settled(engine), timeout=30, what="every due timer fired")

    print(f"\nfaults struck with {faults[0]} of {late_units} urges and {faults[1]} of {late_units} escalations made")
    expected = sorted((item["instance_id"], unit) for item in items for unit in UNITS)
    assert sorted(_created(engine, "urge")) == expected
    assert sorted(_created(engine, "discipline_review")) == expected
    with engine.connect() as connection:
        criticisms = connection.execute(select(Criticism.item_id, Criticism.unit_id)).all()
        fired = connection.execute(select(HistoryEntry.task_id, func.count()).where(
            HistoryEntry.action == "timer_fired").group_by(HistoryEntry.task_id)).all()
    assert sorted(criticisms) == sorted((item["id"], unit) for item in items for unit in UNITS)
    assert fired and all(times == 1 for _, times in fired), fired
    # The other machine's scheduler went on alone; the killed worker process was replaced.
    assert schedulers[1].poll() is None and len(worker_children(supervisor)) == 2
