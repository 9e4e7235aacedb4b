"""`duban` run as people run it: one-off commands, workers and schedulers, the served `duban run`."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path

from tests.support.waiting import wait_for

DUBAN = [sys.executable, "-m", "duban.cli"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def cli(env, *args, check=True):
    result = subprocess.run([*DUBAN, *args], env=env, capture_output=True, text=True, timeout=120)
    if check:
        assert result.returncode == 0, result.stderr
    return result


def run_duban(sqlite_url, tmp_path, *args, stdin=None):
    """`duban ARGS` on this SQLite database, with a var dir in tmp_path; the finished process."""
    env = {**os.environ, "DUBAN_DATABASE_URL": sqlite_url, "DUBAN_VAR_DIR": str(tmp_path / "var"),
           "DUBAN_SECRET_KEY": "test-secret"}
    return subprocess.run([*DUBAN, *args], env=env, input=stdin, capture_output=True, text=True, timeout=120)


class Http:
    def __init__(self, base: str):
        self.base = base
        self.token = None

    def call(self, method: str, path: str, body=None, token=True):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        if token and self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"null")


def login(base, username) -> Http:
    http = Http(base)
    status, body = http.call("POST", "/api/v1/auth/token", {"username": username, "password": "duban-demo"})
    assert status == 200, body
    http.token = body["token"]
    return http


def healthy(base: str) -> bool:
    try:
        with urllib.request.urlopen(base + "/healthz", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


@contextmanager
def duban_run(env, timeout: float = 60):
    """`duban run` on a free port with this environment, serving (its /healthz answers); yields its base URL.

    Stopped (SIGTERM, then SIGKILL) when the block ends. Its output goes to a file, read out when it
    does not start (a pipe nobody reads would fill and stall a talkative server)."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryFile("w+") as log:
        process = subprocess.Popen([*DUBAN, "run", "--port", str(port)], env=env, stdout=log,
                                   stderr=subprocess.STDOUT, text=True)
        try:
            def started():
                if process.poll() is not None:
                    raise AssertionError(f"duban run exited with {process.returncode}: {_read(log)}")
                return healthy(base)

            try:
                wait_for(started, timeout=timeout, what="duban run to serve", interval=0.2)
            except AssertionError as error:
                raise AssertionError(f"{error}\n{_read(log)}") from None
            yield base
        finally:
            _stop(process)


def _read(log) -> str:
    log.flush()
    log.seek(0)
    return log.read()


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=20)


class Processes:
    """`duban worker` and `duban scheduler` processes (each its own session), logging to the folder."""

    def __init__(self, env, folder: Path):
        self.env, self.folder, self.running, self.logs = env, folder, [], {}

    def start(self, *args) -> subprocess.Popen:
        path = self.folder / f"{args[0]}-{len(self.running)}.log"
        with open(path, "w") as log:  # the child keeps its own copy
            process = subprocess.Popen([*DUBAN, *args], env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                       start_new_session=True)
        self.running.append(process)
        self.logs[process.pid] = path
        return process

    def log(self, process) -> str:
        return self.logs[process.pid].read_text()

    def start_ready(self, *args) -> subprocess.Popen:
        """Start a `duban worker` or `duban scheduler` and wait until it says it is at work (a deadline
        seconds away must not be spent loading the engine on a busy machine)."""
        process = self.start(*args)
        if args[0] == "scheduler":
            line, count = "timer scheduler polling", 1
        else:
            line, count = "worker ready", int(args[args.index("--processes") + 1]) if "--processes" in args else 1
        wait_for(lambda: self.log(process).count(line) >= count, timeout=90, what=lambda: f"`duban {' '.join(args)}` "
                 f"to say {line!r} {count} time(s); its log:\n{self.log(process)}")
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


def worker_children(supervisor) -> set[int]:
    """The supervisor's worker processes (forks: the same command line; not their step processes)."""
    def cmdline(pid):
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            return handle.read()

    with open(f"/proc/{supervisor.pid}/task/{supervisor.pid}/children") as handle:
        pids = {int(pid) for pid in handle.read().split()}
    return {pid for pid in pids if cmdline(pid) == cmdline(supervisor.pid)}
