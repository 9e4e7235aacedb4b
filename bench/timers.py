"""Due timers fired per second by real `duban worker` processes on PostgreSQL and Redis.

10,000 instances (DUBAN_BENCH_TIMERS) of a small process each wait on a timer that is already due.
They are prepared once in a template database; each run copies it, starts `duban worker` with one
or two processes, and lets a scheduler in this process hand the due timers to Redis. The rate is
timers fired divided by the span between the first and the last firing (as the workers recorded
it), so worker start-up does not count.
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
from pathlib import Path

from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from engine import services
from engine.bootstrap import bootstrap
from engine.config import Settings
from engine.migrate import upgrade
from engine.models import Timer, User
from engine.services.auth import actor_of

COUNT = int(os.environ.get("DUBAN_BENCH_TIMERS", "10000"))
KEY = "bench_timer"
PROCESS = f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="defs" targetNamespace="bench">
  <bpmn:process id="{KEY}" name="定时器基准" isExecutable="true">
    <bpmn:startEvent id="start" name="开始"/>
    <bpmn:intermediateCatchEvent id="wait" name="到期">
      <bpmn:timerEventDefinition><bpmn:timeDuration>PT1S</bpmn:timeDuration></bpmn:timerEventDefinition>
    </bpmn:intermediateCatchEvent>
    <bpmn:scriptTask id="note" name="记录" scriptFormat="python"><bpmn:script>fired = True</bpmn:script></bpmn:scriptTask>
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
def _databases(base_url: str):
    """Yields a function making fresh copies of a database holding COUNT due timers."""
    admin = create_engine(base_url, isolation_level="AUTOCOMMIT")
    template = f"duban_bench_timers_{uuid.uuid4().hex[:8]}"
    copies = []

    def execute(sql):
        with admin.connect() as connection:
            connection.execute(text(sql))

    execute(f'CREATE DATABASE "{template}"')
    try:
        with tempfile.TemporaryDirectory() as folder:
            _prepare(_url(base_url, template), Path(folder))

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


def _fire_all(url: str, redis_url: str, processes: int) -> float:
    """Start the workers, schedule every due timer, wait until all fired; timers per second."""
    from workers.actors import declare
    from workers.broker import make_broker
    from workers.scheduler import TimerScheduler

    import redis

    redis.Redis.from_url(redis_url).flushdb()
    env = {**os.environ, "DUBAN_DATABASE_URL": url, "DUBAN_REDIS_URL": redis_url, "DUBAN_SECRET_KEY": "bench"}
    workers = subprocess.Popen([sys.executable, "-m", "duban.cli", "worker", "--processes", str(processes)],
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    folder = tempfile.mkdtemp()
    duban = bootstrap(Settings.from_env({}, var_dir=Path(folder), database_url=url, redis_url=redis_url,
                                        secret_key="bench", timer_poll_s=0.05))
    scheduler = TimerScheduler(duban, declare(make_broker(duban.settings), duban))
    try:
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            scheduler.tick()
            with duban.db.reading() as session:
                if not session.scalar(select(func.count()).select_from(Timer).where(Timer.state == "waiting")):
                    break
            time.sleep(duban.settings.timer_poll_s)
        with duban.db.reading() as session:
            fired, first, last = session.execute(
                select(func.count(), func.min(Timer.fired_at), func.max(Timer.fired_at)).where(Timer.state == "fired")
            ).one()
    finally:
        os.killpg(workers.pid, 15)
        workers.wait(timeout=30)
        duban.db.dispose()
    if fired != COUNT:
        raise RuntimeError(f"only {fired} of {COUNT} timers fired")
    return fired / max((last - first).total_seconds(), 1e-3)


def measures(postgres_url: str, redis_url: str) -> dict:
    """{name: (timers per second, unit)} for one and two worker processes."""
    results = {}
    with _databases(postgres_url) as copy:
        time.sleep(1)  # every timer (PT1S) is due
        for processes in (1, 2):
            rate = _fire_all(copy(), redis_url, processes)
            results[f"timers_fired_{processes}_worker{'s' if processes > 1 else ''}"] = (rate, "timers/s")
    return results
