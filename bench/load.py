"""Concurrent load on real `duban serve` processes (gunicorn) on PostgreSQL and Redis.

A scratch database is prepared (demo people, the main process deployed), then `duban serve` is started
with one and with two web processes. Clients in this process (threads, one keep-alive connection each;
the server runs in its own processes) each run the main path (bench/paths.py HAPPY_PATH) over the REST
API again and again: register an item, and for each step list the instance's tasks
(GET /tasks?instance_id=) and complete the step's task (POST /tasks/{id}/complete). After one warm-up
path per client, the clients run for DUBAN_BENCH_SECONDS; a path begun before the end is finished.

The memory measure registers DUBAN_BENCH_LIVE items (10,000), starts one web process and completes
every instance's first task through it (8 clients), then reads the resident memory (VmRSS) of the web
process and of its step processes, which hold the live workflows (at most DUBAN_LIVE_WORKFLOWS each).

Reported: paths per second (paths finished / wall time of the run), and the wall time of every task
completion request (sent until its whole answer is read) as p50/p95/p99. Any failed request (an
error status or a broken connection) is counted and the run reported as failed, not left out.
"""
from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from .paths import HAPPY_PATH, user_for

ROOT = Path(__file__).resolve().parents[1]
SECONDS = float(os.environ.get("DUBAN_BENCH_SECONDS", "4"))
CLIENTS = int(os.environ.get("DUBAN_BENCH_CLIENTS", "8"))
LIVE = int(os.environ.get("DUBAN_BENCH_LIVE", "10000"))
USERS = ("office", "leader", "unit_a", "unit_b")


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile (share in 0..1) of `values`."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(1, min(len(ordered), int(-(-share * len(ordered) // 1))))
    return ordered[rank - 1]


class RequestFailed(Exception):
    pass


class Client:
    """One keep-alive HTTP connection, as one person's browser or API client would hold."""

    # gunicorn closes a keep-alive connection idle for 2 s (its `keepalive`): one idle longer (a client
    # waiting at the start line) is replaced before use, as a browser would, not counted as a failure.
    IDLE_S = 1.0

    def __init__(self, host: str, port: int):
        self.host, self.port = host, port
        self.connection = http.client.HTTPConnection(host, port, timeout=120)
        self.used = time.monotonic()

    def call(self, method: str, path: str, body=None, token: str | None = None):
        if time.monotonic() - self.used > self.IDLE_S:
            self.connection.close()
            self.connection = http.client.HTTPConnection(self.host, self.port, timeout=120)
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        payload = json.dumps(body).encode() if body is not None else None
        try:
            self.connection.request(method, "/api/v1" + path, body=payload, headers=headers)
            response = self.connection.getresponse()
            raw = response.read()
            self.used = time.monotonic()
        except (OSError, http.client.HTTPException) as error:
            self.connection.close()
            self.connection = http.client.HTTPConnection(self.host, self.port, timeout=120)
            raise RequestFailed(f"{method} {path}: {error!r}") from None
        if response.status >= 400:
            raise RequestFailed(f"{method} {path}: {response.status} {raw[:200]!r}")
        return json.loads(raw) if raw else None

    def close(self):
        self.connection.close()


def run_path(client: Client, tokens: dict, completions: list[float]) -> None:
    """The main path once; the wall time of each task completion is appended to `completions`."""
    item = client.call("POST", "/items", {"title": "基准事项"}, tokens["office"])
    for element, unit, data in HAPPY_PATH:
        token = tokens[user_for(element, unit)]
        tasks = client.call("GET", f"/tasks?instance_id={item['instance_id']}", token=token)
        task = next(t for t in tasks if t["element_id"] == element and (unit is None or t["unit"] == unit))
        started = time.perf_counter()
        client.call("POST", f"/tasks/{task['id']}/complete", {"data": data}, token)
        completions.append(time.perf_counter() - started)


def drive(port: int, clients: int, seconds: float) -> dict:
    """`clients` concurrent clients for `seconds` after one warm-up path each."""
    setup = Client("127.0.0.1", port)
    tokens = {name: setup.call("POST", "/auth/token", {"username": name, "password": "duban-demo"})["token"]
              for name in USERS}
    setup.close()
    moments = {}

    def begin():  # run by the last thread to reach the barrier, before any is released
        moments["started"] = time.perf_counter()
        moments["deadline"] = moments["started"] + seconds

    barrier = threading.Barrier(clients + 1, action=begin)
    lock = threading.Lock()
    completions: list[float] = []
    errors: list[str] = []
    paths = [0]

    def client_loop():
        client = Client("127.0.0.1", port)
        mine: list[float] = []
        done = 0
        try:
            try:
                run_path(client, tokens, [])  # warm-up: not counted
            except (RequestFailed, StopIteration) as error:
                with lock:
                    errors.append(f"warm-up: {error}")
            barrier.wait()
            while time.perf_counter() < moments["deadline"]:
                try:
                    run_path(client, tokens, mine)
                    done += 1
                except (RequestFailed, StopIteration) as error:
                    with lock:
                        errors.append(str(error) or "a task of the path was not listed")
        finally:
            client.close()
            with lock:
                completions.extend(mine)
                paths[0] += done

    threads = [threading.Thread(target=client_loop, daemon=True) for _ in range(clients)]
    for thread in threads:
        thread.start()
    barrier.wait()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - moments["started"]
    return {"paths_per_s": paths[0] / elapsed, "paths": paths[0], "completions": completions, "errors": errors,
            "seconds": elapsed}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def scratch_database(base_url: str):
    """A fresh PostgreSQL database with the demo people and the main process deployed; yields its URL
    and a var directory (the audit anchor and generated files)."""
    from .engine_paths import _prepared

    name = f"duban_bench_load_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(base_url).set(database=name).render_as_string(hide_password=False)
    try:
        with tempfile.TemporaryDirectory() as folder:
            duban = _prepared(url, Path(folder))
            duban.db.dispose()
            yield url, Path(folder)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def served(url: str, redis_url: str, var_dir: Path, processes: int, threads: int | None = None,
           extra_env: dict | None = None):
    """`duban serve` with `processes` web processes (and its default threads unless `threads` is given);
    yields (port, master process) once it is ready."""
    port = _free_port()
    env = {**os.environ, "DUBAN_DATABASE_URL": url, "DUBAN_REDIS_URL": redis_url, "DUBAN_SECRET_KEY": "bench",
           "DUBAN_VAR_DIR": str(var_dir), **(extra_env or {})}
    with open(var_dir / f"serve-{port}.log", "w") as log:
        master = subprocess.Popen([sys.executable, "-m", "duban.cli", "serve", "--port", str(port),
                                   "--workers", str(processes), *(["--threads", str(threads)] if threads else [])],
                                  env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, cwd=ROOT)
        try:
            _wait_ready(master, port, lambda: (var_dir / f"serve-{port}.log").read_text()[-2000:],
                        lambda: len(children(master.pid)) >= processes)
            yield port, master
        finally:
            _stop(master)


def _wait_ready(server: subprocess.Popen, port: int, log_tail, started=lambda: True) -> None:
    """Until /healthz/ready answers 200 (and `started()` holds); at most 90 s."""
    deadline = time.monotonic() + 90
    while True:
        if server.poll() is not None:
            raise RuntimeError(f"the server ended: {log_tail()}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", "/healthz/ready")
            if connection.getresponse().status == 200 and started():
                return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError("the server did not become ready in 90 s")
        time.sleep(0.2)


def _stop(server: subprocess.Popen) -> None:
    os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()


@contextmanager
def served_by_run(url: str, var_dir: Path):
    """`duban run` on `url` without Redis (its embedded worker); yields its port once it is ready."""
    port = _free_port()
    env = {key: value for key, value in os.environ.items() if key != "DUBAN_REDIS_URL"}
    env.update(DUBAN_DATABASE_URL=url, DUBAN_SECRET_KEY="bench", DUBAN_VAR_DIR=str(var_dir))
    with open(var_dir / f"run-{port}.log", "w") as log:
        server = subprocess.Popen([sys.executable, "-m", "duban.cli", "run", "--port", str(port)], env=env,
                                  stdout=log, stderr=subprocess.STDOUT, start_new_session=True, cwd=ROOT)
        try:
            _wait_ready(server, port, lambda: (var_dir / f"run-{port}.log").read_text()[-2000:])
            yield port
        finally:
            _stop(server)


def children(pid: int) -> list[int]:
    """The child processes of `pid`: gunicorn's web processes, or a web process's step processes."""
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as handle:
            return [int(pid) for pid in handle.read().split()]
    except OSError:
        return []


def _figures(name: str, outcome: dict) -> dict:
    times = [t * 1000 for t in outcome["completions"]]
    results = {f"{name}_paths": (outcome["paths_per_s"], "paths/s")}
    for label, share in (("p50", 0.5), ("p95", 0.95), ("p99", 0.99)):
        results[f"{name}_complete_{label}"] = (percentile(times, share), "ms")
    if outcome["errors"]:
        results[f"{name}_errors"] = (len(outcome["errors"]), "requests")
        print(f"{name}: {len(outcome['errors'])} failed requests, first: {outcome['errors'][0]}")
    return results


def single_client(completions: list[float]) -> dict:
    """p50 and p95 of the task completions one client timed (the `http` measure)."""
    times = [t * 1000 for t in completions]
    return {"http_complete_p50": (percentile(times, 0.5), "ms"), "http_complete_p95": (percentile(times, 0.95), "ms")}


def rss_mb(pid: int) -> float:
    """Resident memory of one process, MB (VmRSS)."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _start_items(url: str, var_dir: Path, count: int) -> None:
    """`count` items registered, each instance of the main process waiting at its first task."""
    from concurrent.futures import ThreadPoolExecutor

    from sqlalchemy import select

    from engine import services
    from engine.bootstrap import bootstrap
    from engine.config import Settings
    from engine.models import User
    from engine.services.auth import actor_of

    duban = bootstrap(Settings.from_env({}, var_dir=var_dir, database_url=url, secret_key="bench"))
    with duban.db.reading() as session:
        office = actor_of(session.scalar(select(User).where(User.username == "office")))
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda n: services.register_item(duban, office, {"title": f"基准事项 {n}"}), range(count)))
    duban.db.dispose()


def memory(postgres_url: str, redis_url: str, count: int = LIVE) -> dict:
    """RSS of one web process (and of its step processes, which hold the live workflows) once `count`
    instances have each had a step through it: every instance's first task completed over HTTP."""
    engine = None
    with scratch_database(postgres_url) as (url, var_dir):
        _start_items(url, var_dir, count)
        engine = create_engine(url)
        with engine.connect() as connection:
            tasks = connection.execute(text(
                "SELECT id FROM tasks WHERE element_id = 'draft_opinion' AND state = 'open'")).scalars().all()
        engine.dispose()
        with served(url, redis_url, var_dir, 1) as (port, master):
            web = children(master.pid)[0]
            setup = Client("127.0.0.1", port)
            token = setup.call("POST", "/auth/token", {"username": "office", "password": "duban-demo"})["token"]
            setup.close()
            idle = rss_mb(web), sum(rss_mb(child) for child in children(web))
            errors: list[str] = []
            lock = threading.Lock()
            queue = list(tasks)
            data = {"data": HAPPY_PATH[0][2]}

            def touch():
                client = Client("127.0.0.1", port)
                while True:
                    with lock:
                        if not queue:
                            break
                        task = queue.pop()
                    try:
                        client.call("POST", f"/tasks/{task}/complete", data, token)
                    except RequestFailed as error:
                        with lock:
                            errors.append(str(error))
                client.close()

            started = time.perf_counter()
            threads = [threading.Thread(target=touch, daemon=True) for _ in range(CLIENTS)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            elapsed = time.perf_counter() - started
            steps = [rss_mb(child) for child in children(web)]
            results = {
                "memory_web_idle": (idle[0], "MB"),
                f"memory_web_{count}_live": (rss_mb(web), "MB"),
                "memory_steps_idle": (idle[1], "MB"),
                f"memory_steps_{count}_live": (sum(steps), "MB"),
                "memory_touch_rate": (len(tasks) / elapsed, "steps/s"),
            }
    print(f"memory: {len(tasks)} instances touched through one web process in {elapsed:.0f} s; "
          f"{len(steps)} step processes ({', '.join(f'{mb:.0f}' for mb in steps)} MB)")
    if errors:
        results["memory_errors"] = (len(errors), "requests")
        print(f"memory: {len(errors)} failed requests, first: {errors[0]}")
    return results


def extra_measures() -> dict:
    """The load and memory measures when PostgreSQL and Redis are reachable (for `python -m bench`)."""
    from workers.broker import ping

    from .engine_paths import reachable

    postgres, redis_url = os.environ.get("DUBAN_TEST_POSTGRES_URL"), os.environ.get("DUBAN_TEST_REDIS_URL")
    if not (postgres and redis_url and reachable(postgres) and ping(redis_url)):
        print("load and memory not measured: PostgreSQL and Redis are needed")
        return {}
    return {**measures(postgres, redis_url), **memory(postgres, redis_url)}


def measures(postgres_url: str, redis_url: str, seconds: float = SECONDS, clients: int = CLIENTS) -> dict:
    """{name: (value, unit)}: one client on one web process, then `clients` clients on one and on two."""
    results = {}
    with scratch_database(postgres_url) as (url, var_dir):
        for processes, count in ((1, 1), (1, clients), (2, clients)):
            with served(url, redis_url, var_dir, processes) as (port, _):
                outcome = drive(port, count, seconds)
            name = f"load_{processes}proc_{count}client{'s' if count > 1 else ''}"
            results.update(_figures(name, outcome))
    return results


if __name__ == "__main__":
    # python -m bench.load [load|memory]: one part alone.
    part = sys.argv[1] if len(sys.argv) > 1 else ""
    postgres, redis_url = os.environ.get("DUBAN_TEST_POSTGRES_URL"), os.environ.get("DUBAN_TEST_REDIS_URL")
    found = (measures(postgres, redis_url) if part == "load" else memory(postgres, redis_url) if part == "memory"
             else extra_measures())
    for key, (value, unit) in found.items():
        print(f"{key:<36}{value:>10.2f}  {unit}")
