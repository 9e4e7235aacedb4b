"""Due timers fired per second by real `duban worker` processes on PostgreSQL and Redis.

Two measures, each with one and with two worker processes:

- `timers_fired`: 10,000 instances (DUBAN_BENCH_TIMERS) of a small process each wait on a timer
  that is already due (a timer, a script, the end).
- `duban_urges`, `duban_escalations`: the 督办 path itself. 300 items (DUBAN_BENCH_ESCALATION_ITEMS)
  of duban_main, each assigned to two units, were registered on a clock set weeks back and nobody
  reported: each unit's 预警 and deadline timers are due, and firing them makes the unit's 催办 (with
  its 催办通知单). In a second database every 催办 was sent with a limit that has passed too: firing
  the escalation timers makes the 责任追究 task for 纪委 and the unit's 通报批评. The rate is late units
  per second (two timers each for the urges, one for the escalations).

The instances are prepared once in template databases; each run copies one, starts `duban worker`,
waits until its processes are ready, and lets a scheduler in this process hand the due timers to
Redis. The rate is what fired divided by the span between the first and the last firing (as the
workers recorded it), so start-up does not count. Each run also checks that every timer fired once
and every unit got one 催办 (one 纪委 task and one 通报批评), and reports the CPU time per firing of
the worker processes (with their step processes) and of their PostgreSQL backends: on a shared
machine a steadier figure than the rate.
"""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from engine import services
from engine.bootstrap import bootstrap
from engine.clock import FixedClock
from engine.config import Settings
from engine.migrate import upgrade
from engine.models import Criticism, HistoryEntry, HumanTask, Timer, User
from engine.services import timers as timer_service
from engine.services.auth import actor_of

COUNT = int(os.environ.get("DUBAN_BENCH_TIMERS", "10000"))
ITEMS = int(os.environ.get("DUBAN_BENCH_ESCALATION_ITEMS", "300"))
UNITS = ("fgj", "czj")  # 牵头 and 配合: two late units an item
_TICKS = os.sysconf("SC_CLK_TCK")
KEY = "bench_timer"
PROCESS = f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="defs" targetNamespace="bench">
  <bpmn:process id="{KEY}" name="定时器基准" isExecutable="true">
    <bpmn:startEvent id="start" name="开始"/>
    <bpmn:intermediateCatchEvent id="wait" name="到期">
      <bpmn:timerEventDefinition><bpmn:timeDuration>PT1S</bpmn:timeDuration></bpmn:timerEventDefinition>
    </bpmn:intermediateCatchEvent>
    <bpmn:scriptTask id="note" name="记录" scriptFormat="python"><bpmn:script>fired = True</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:endEvent id="end" name="结束"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="wait"/>
    <bpmn:sequenceFlow id="f2" sourceRef="wait" targetRef="note"/>
    <bpmn:sequenceFlow id="f3" sourceRef="note" targetRef="end"/>
  </bpmn:process>
</bpmn:definitions>
""".encode()


def _url(base_url: str, name: str) -> str:
    return make_url(base_url).set(database=name).render_as_string(hide_password=False)


@contextmanager
def _databases(base_url: str, prepare):
    """Yields a function making fresh copies of a database `prepare(url, folder)` filled."""
    admin = create_engine(base_url, isolation_level="AUTOCOMMIT")
    template = f"duban_bench_timers_{uuid.uuid4().hex[:8]}"
    copies = []

    def execute(sql):
        with admin.connect() as connection:
            connection.execute(text(sql))

    execute(f'CREATE DATABASE "{template}"')
    try:
        with tempfile.TemporaryDirectory() as folder:
            prepare(_url(base_url, template), Path(folder))

        def copy() -> str:
            name = f"{template}_{len(copies)}"
            execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
            copies.append(name)
            return _url(base_url, name)

        yield copy
    finally:
        for name in [*copies, template]:
            execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def _prepare(url: str, folder: Path) -> None:
    duban = bootstrap(Settings.from_env({}, var_dir=folder, database_url=url, secret_key="bench"))
    upgrade(duban.db)
    services.seed_demo(duban)
    services.deploy(duban, {f"{KEY}.bpmn": PROCESS}, {})
    with duban.db.reading() as session:
        office = actor_of(session.scalar(select(User).where(User.username == "office")))
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda _: services.start_instance(duban, office, KEY, {}), range(COUNT)))
    duban.db.dispose()


def _prepare_escalations(url: str, folder: Path, escalate: bool) -> None:
    """ITEMS items assigned to two units weeks ago, their deadlines past; with `escalate`, every
    unit's 催办 sent (on that old clock) with a limit that has passed as well."""
    duban = bootstrap(Settings.from_env({}, var_dir=folder, database_url=url, secret_key="bench"))
    upgrade(duban.db)
    services.seed_demo(duban)
    services.deploy(duban, *_main_bundle())
    with duban.db.reading() as session:
        people = {u.username: actor_of(u) for u in session.scalars(select(User))}
    clock = FixedClock(duban.clock.now() - timedelta(days=45))
    duban.clock = duban.runtime.clock = clock

    def complete(actor, instance_id, element, data, unit=None):
        tasks, _ = services.list_tasks(duban, actor, instance_id=instance_id)
        task = next(t for t in tasks if t["element_id"] == element and unit in (None, t["unit"]))
        services.complete_task(duban, actor, task["id"], data)

    def assigned(index):
        item = services.register_item(duban, people["office"], {"title": f"基准事项{index}", "category": "normal"})
        complete(people["office"], item["instance_id"], "draft_opinion",
                 {"lead_unit": UNITS[0], "co_units": list(UNITS[1:]), "opinion": "请限期办理"})
        complete(people["leader"], item["instance_id"], "leader_approval", {"decision": "approve"})
        complete(people["office"], item["instance_id"], "assign", {"notice": "交办通知单"})
        return item["instance_id"]

    with ThreadPoolExecutor(8) as pool:
        instances = list(pool.map(assigned, range(ITEMS)))
    if escalate:
        clock.advance(days=25)  # every deadline has passed: 预警 and 催办 due
        timer_service.fire_all_due(duban)
        limit = (clock.now() + timedelta(days=2)).date().isoformat()

        def urge(instance_id):
            for unit in UNITS:
                complete(people["office"], instance_id, "urge", {"notice": "请立即办理", "new_limit": limit}, unit)

        with ThreadPoolExecutor(8) as pool:
            list(pool.map(urge, instances))
    duban.db.dispose()


def _main_bundle():
    root = Path(__file__).resolve().parents[1] / "bpmn"
    forms = {p.name: p.read_bytes() for p in sorted((root / "forms").glob("*.form"))}
    return {"duban_main.bpmn": (root / "duban_main.bpmn").read_bytes()}, forms


def _cpu_s(pid: int) -> float:
    """CPU time of a process (user and system, its reaped children's included), in seconds."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return sum(int(value) for value in fields[11:15]) / _TICKS


def _session_pids(sid: int) -> list[int]:
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    if int(stat.read().rsplit(")", 1)[1].split()[3]) == sid:
                        pids.append(int(entry))
            except (OSError, IndexError, ValueError):
                continue
    return pids


class _CpuMeter:
    """CPU time of the workers (their process session) and of the database's PostgreSQL backends."""

    def __init__(self, sid: int, engine, database: str):
        self.sid, self.engine, self.database = sid, engine, database
        self.start = self._readings()

    def _readings(self) -> dict:
        with self.engine.connect() as connection:
            backends = connection.scalars(text("SELECT pid FROM pg_stat_activity WHERE datname = :name"),
                                          {"name": self.database}).all()
        return {"workers": {pid: _cpu_s(pid) for pid in _session_pids(self.sid)},
                "postgres": {pid: _cpu_s(pid) for pid in backends}}

    def used(self) -> dict:
        """{"workers": s, "postgres": s} since the meter started."""
        now = self._readings()
        return {kind: sum(cpu - self.start[kind].get(pid, 0.0) for pid, cpu in now[kind].items())
                for kind in now}


def _fire_all(url: str, redis_url: str, processes: int, done) -> dict:
    """Start the workers, schedule every due timer, wait until all fired; `done(session)` checks the
    outcome and counts it (timers, units). {rate, CPU ms per outcome, ...}."""
    import redis

    from workers.actors import declare
    from workers.broker import make_broker
    from workers.scheduler import TimerScheduler

    redis.Redis.from_url(redis_url).flushdb()
    env = {**os.environ, "DUBAN_DATABASE_URL": url, "DUBAN_REDIS_URL": redis_url, "DUBAN_SECRET_KEY": "bench",
           "DUBAN_LOG_LEVEL": "info"}
    folder = tempfile.mkdtemp()
    log_path = Path(folder) / "worker.log"
    with open(log_path, "w") as log:
        workers = subprocess.Popen([sys.executable, "-m", "duban.cli", "worker", "--processes", str(processes)],
                                   env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    duban = bootstrap(Settings.from_env({}, var_dir=Path(folder), database_url=url, redis_url=redis_url,
                                        secret_key="bench", timer_poll_s=0.05))
    monitor = create_engine(url)
    try:
        deadline = time.monotonic() + 120
        while log_path.read_text().count("worker ready") < processes:
            if workers.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the workers did not start: {log_path.read_text()[-2000:]}")
            time.sleep(0.1)
        scheduler = TimerScheduler(duban, declare(make_broker(duban.settings), duban))
        meter = _CpuMeter(workers.pid, monitor, make_url(url).database)
        started = datetime.now(UTC)  # what fired before (in a template) does not count
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            scheduler.tick()
            with duban.db.reading() as session:
                if not session.scalar(select(func.count()).select_from(Timer).where(
                        Timer.state == "waiting", Timer.due_at <= func.now())):
                    break
            time.sleep(duban.settings.timer_poll_s)
        used = meter.used()
        with duban.db.reading() as session:
            first, last = session.execute(select(func.min(Timer.fired_at), func.max(Timer.fired_at))
                                          .where(Timer.state == "fired", Timer.fired_at >= started)).one()
            fired_twice = session.scalar(select(func.count()).select_from(
                select(HistoryEntry.task_id).where(HistoryEntry.action == "timer_fired")
                .group_by(HistoryEntry.task_id).having(func.count() > 1).subquery()))
            outcome = done(session)
            firings = session.scalar(select(func.count()).select_from(HistoryEntry).where(
                HistoryEntry.action == "timer_fired", HistoryEntry.at >= started))
    finally:
        os.killpg(workers.pid, 15)
        workers.wait(timeout=30)
        duban.db.dispose()
        monitor.dispose()
    if fired_twice:
        raise RuntimeError(f"{fired_twice} timers fired more than once")
    span = max((last - first).total_seconds(), 1e-3)
    return {"rate": outcome / span, "outcome": outcome, "firings": firings, "seconds": span,
            "worker_ms": used["workers"] * 1000 / outcome, "postgres_ms": used["postgres"] * 1000 / outcome}


def _expect(what: str, counted: int, expected: int) -> int:
    if counted != expected:
        raise RuntimeError(f"{counted} {what}, not {expected}")
    return counted


def measures(postgres_url: str, redis_url: str) -> dict:
    """{name: (value, unit)}: for one and two worker processes, the rate and CPU ms per firing."""
    results = {}

    def report(name: str, processes: int, run: dict, unit: str) -> None:
        name = f"{name}_{processes}_worker{'s' if processes > 1 else ''}"
        per = unit.split("/")[0][:-1]  # timer, unit
        results[name] = (run["rate"], unit)
        results[f"{name}_cpu"] = (run["worker_ms"], f"ms/{per}")
        results[f"{name}_postgres_cpu"] = (run["postgres_ms"], f"ms/{per}")
        print(f"  {name}: {run['rate']:.1f} {unit} ({run['outcome']} {per}s, {run['firings']} timers, "
              f"in {run['seconds']:.1f} s); CPU per {per}: {run['worker_ms']:.2f} ms workers, "
              f"{run['postgres_ms']:.2f} ms PostgreSQL", file=sys.stderr)

    def small(session) -> int:
        return _expect("timers fired", session.scalar(
            select(func.count()).select_from(Timer).where(Timer.state == "fired")), COUNT)

    def urged(session) -> int:
        return _expect("催办", session.scalar(select(func.count()).select_from(HumanTask).where(
            HumanTask.element_id == "urge")), ITEMS * len(UNITS))

    def escalated(session) -> int:
        _expect("通报批评", session.scalar(select(func.count()).select_from(Criticism)), ITEMS * len(UNITS))
        return _expect("纪委 tasks", session.scalar(select(func.count()).select_from(HumanTask).where(
            HumanTask.element_id == "discipline_review")), ITEMS * len(UNITS))

    stages = [("timers_fired", _prepare, small, "timers/s")]
    if ITEMS:
        stages += [("duban_urges", lambda url, folder: _prepare_escalations(url, folder, False), urged, "units/s"),
                   ("duban_escalations", lambda url, folder: _prepare_escalations(url, folder, True), escalated,
                    "units/s")]
    for name, prepare, done, unit in stages:
        if (COUNT if name == "timers_fired" else ITEMS) <= 0:
            continue
        with _databases(postgres_url, prepare) as copy:
            time.sleep(1)  # every timer (PT1S) is due
            for processes in (1, 2):
                report(name, processes, _fire_all(copy(), redis_url, processes, done), unit)
    return results
