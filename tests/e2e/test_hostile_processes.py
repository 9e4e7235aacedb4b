"""Runaway process code cannot take `duban run` down: while hostile instances burn their budgets,
people still sign in and read their inbox quickly, and each hostile step ends as an incident.

`duban run` runs as a real process on SQLite in embedded mode (the worker and the timer scheduler
in the web process), the setting in which the findings froze every request.
"""
from __future__ import annotations

import os
import statistics
import threading
import time

import pytest

from tests.samples import process
from tests.support.commands import cli, duban_run, login
from tests.support.waiting import wait_for

SPIN = "x = sum(range(3 * 10 ** 9))"


def _timed_spin(key: str) -> bytes:
    """start -> wait one second -> a script that never ends on its own."""
    body = (
        '<bpmn:startEvent id="start" name="开始"/>'
        '<bpmn:intermediateCatchEvent id="pause" name="稍候"><bpmn:timerEventDefinition>'
        "<bpmn:timeDuration>PT1S</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>"
        f'<bpmn:scriptTask id="spin" name="失控脚本"><bpmn:script>{SPIN}</bpmn:script></bpmn:scriptTask>'
        '<bpmn:endEvent id="end"/>'
        '<bpmn:sequenceFlow id="a" sourceRef="start" targetRef="pause"/>'
        '<bpmn:sequenceFlow id="b" sourceRef="pause" targetRef="spin"/>'
        '<bpmn:sequenceFlow id="c" sourceRef="spin" targetRef="end"/>')
    return process(body, key=key)


def _immediate_spin(key: str) -> bytes:
    body = (f'<bpmn:startEvent id="start"/><bpmn:scriptTask id="spin" name="立即失控">'
            f"<bpmn:script>{SPIN}</bpmn:script></bpmn:scriptTask><bpmn:endEvent id=\"end\"/>"
            '<bpmn:sequenceFlow id="a" sourceRef="start" targetRef="spin"/>'
            '<bpmn:sequenceFlow id="b" sourceRef="spin" targetRef="end"/>')
    return process(body, key=key)


@pytest.fixture(scope="module")
def hostile_server(tmp_path_factory):
    var = tmp_path_factory.mktemp("hostile")
    env = {**os.environ, "DUBAN_VAR_DIR": str(var), "DUBAN_TIMER_POLL_S": "0.2"}
    env.pop("DUBAN_DATABASE_URL", None)
    env.pop("DUBAN_REDIS_URL", None)
    cli(env, "db", "upgrade")
    cli(env, "seed-demo")
    (var / "timed_spin.bpmn").write_bytes(_timed_spin("timed_spin"))
    (var / "now_spin.bpmn").write_bytes(_immediate_spin("now_spin"))
    cli(env, "deploy", str(var / "timed_spin.bpmn"), str(var / "now_spin.bpmn"))
    with duban_run(env, timeout=30) as base:
        yield base


def _p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[-1]


def test_sign_in_and_inbox_stay_fast_while_hostile_instances_run(hostile_server):
    base = hostile_server
    designer = login(base, "designer")
    timed = []
    for _ in range(3):
        status, body = designer.call("POST", "/api/v1/instances", {"definition_key": "timed_spin", "data": {}})
        assert status == 201, body
        timed.append(body["id"])

    stop = threading.Event()
    refused = []

    def keep_spinning():
        while not stop.is_set():
            status, body = designer.call("POST", "/api/v1/instances", {"definition_key": "now_spin", "data": {}})
            refused.append((status, body.get("message", "")))

    spinners = [threading.Thread(target=keep_spinning) for _ in range(2)]
    for spinner in spinners:
        spinner.start()
    sign_in, inbox = [], []
    try:
        ends = time.monotonic() + 12
        while time.monotonic() < ends:
            began = time.monotonic()
            office = login(base, "office")
            sign_in.append(time.monotonic() - began)
            began = time.monotonic()
            status, _ = office.call("GET", "/api/v1/tasks")
            inbox.append(time.monotonic() - began)
            assert status == 200
            time.sleep(0.05)
    finally:
        stop.set()
        for spinner in spinners:
            spinner.join(timeout=60)

    print(f"\nsign-in p50 {statistics.median(sign_in) * 1000:.0f} ms p95 {_p95(sign_in) * 1000:.0f} ms; "
          f"inbox p50 {statistics.median(inbox) * 1000:.0f} ms p95 {_p95(inbox) * 1000:.0f} ms; "
          f"{len(sign_in)} rounds, {len(refused)} hostile starts refused")
    assert len(sign_in) >= 10
    assert _p95(sign_in) < 1.0 and _p95(inbox) < 1.0
    # Each immediate spin was stopped by its budget (CPU time, or the wall clock when the machine is
    # so busy that the lowered step process gets little CPU) and refused with a Chinese message.
    assert refused and all(status == 422 and _stopped("立即失控", message) for status, message in refused)

    admin = login(base, "admin")
    seen = []

    def all_in_error():
        seen[:] = [admin.call("GET", f"/api/v1/instances/{i}")[1] for i in timed]
        return all(s["status"] == "error" for s in seen)

    wait_for(all_in_error, timeout=60, interval=0.5,
             what=lambda: f"the timed spins to end as incidents (last seen: {seen})")
    assert all(_stopped("失控脚本", s["error"]) for s in seen)


def _stopped(element: str, message: str) -> bool:
    return f"“{element}”" in message and ("CPU 时间预算" in message or "运行超时" in message)
