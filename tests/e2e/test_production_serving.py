"""`duban serve`: the web app in several gunicorn processes on PostgreSQL and Redis, behind a proxy
it is told to trust; the worker and scheduler are not started inside it."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import urllib.request

import pytest
import redis
from sqlalchemy import create_engine, text

from tests.support.commands import DUBAN, Http, cli, free_port
from tests.support.databases import truncate
from tests.support.org import BPMN
from tests.support.waiting import wait_for


def web_processes(master: subprocess.Popen) -> set[int]:
    with open(f"/proc/{master.pid}/task/{master.pid}/children") as handle:
        return {int(pid) for pid in handle.read().split()}


@pytest.fixture
def served(postgres_database, redis_url, tmp_path):
    truncate(postgres_database)
    redis.Redis.from_url(redis_url).flushdb()
    env = {**os.environ, "DUBAN_DATABASE_URL": postgres_database, "DUBAN_REDIS_URL": redis_url,
           "DUBAN_SECRET_KEY": "shared-secret", "DUBAN_VAR_DIR": str(tmp_path / "var"), "DUBAN_TRUSTED_PROXIES": "1",
           "DUBAN_STEP_PROCESSES": "1"}
    cli(env, "deploy", *[str(p) for p in sorted(BPMN.glob("*.bpmn"))])
    cli(env, "seed-demo")
    port, log = free_port(), tmp_path / "serve.log"
    with open(log, "w") as output:
        master = subprocess.Popen([*DUBAN, "serve", "--port", str(port), "--workers", "2", "--threads", "2"], env=env,
                                  stdout=output, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"

    def ready():
        if master.poll() is not None:
            raise AssertionError(f"duban serve ended: {log.read_text()}")
        try:
            return Http(base).call("GET", "/healthz/ready", token=False)
        except OSError:
            return None

    assert wait_for(ready, timeout=60, what="duban serve") == (200, {"status": "ok", "database": "ok",
                                                                       "redis": "ok"})
    yield master, base, log, env
    master.terminate()
    master.wait(timeout=30)


def test_several_web_processes_behind_a_trusted_proxy(served, postgres_database):
    master, base, log, _ = served
    workers = wait_for(lambda: len(web_processes(master)) == 2 and web_processes(master), what="two web processes")
    request = urllib.request.Request(base + "/api/v1/auth/token", method="POST",
                                     data=json.dumps({"username": "office", "password": "duban-demo"}).encode(),
                                     headers={"Content-Type": "application/json", "X-Forwarded-For": "203.0.113.9"})
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 200
    engine = create_engine(postgres_database)
    with engine.connect() as connection:
        assert connection.execute(text(
            "SELECT ip FROM audit_log WHERE action = 'auth.login' ORDER BY id DESC LIMIT 1")).scalar() == "203.0.113.9"
    engine.dispose()
    wait_for(lambda: "POST /api/v1/auth/token 200" in log.read_text(), what="the request's log line")
    line = next(entry for entry in log.read_text().splitlines() if "POST /api/v1/auth/token 200" in entry)
    assert line.endswith(" - 203.0.113.9") and " duban.request " in line
    # A web process that dies is replaced by gunicorn's master, and the node stays ready.
    os.kill(min(workers), signal.SIGKILL)
    wait_for(lambda: len(web_processes(master)) == 2 and web_processes(master) != workers, timeout=30,
             what="a new web process")
    assert Http(base).call("GET", "/healthz/ready", token=False)[0] == 200
    output = log.read_text()
    assert "timer scheduler" not in output and "embedded" not in output  # the worker and scheduler run apart


def test_serve_refuses_to_run_without_redis(tmp_path):
    env = {**os.environ, "DUBAN_VAR_DIR": str(tmp_path)}
    env.pop("DUBAN_REDIS_URL", None)
    result = cli(env, "serve", check=False)
    assert result.returncode == 2 and "duban run" in result.stderr
