"""External tasks (外部任务) for tests: the bundled 督办 process with a service task 推送政务钉钉 after 交办,
a small process of its own, and workers' service accounts."""
from __future__ import annotations

import os
from contextlib import contextmanager

from engine.services import service_accounts
from tests.support.commands import cli, duban_run
from tests.support.org import BPMN

TOPIC = "push-dingtalk"
WORKER_PASSWORD = "Tui-Song-2026!gov"
# What the push hands its worker (a task declaring nothing hands out no variables).
PUSH = ('<bpmn:serviceTask id="push_dingtalk" name="推送政务钉钉" duban:variables="title, lead_unit" '
        f'camunda:type="external" camunda:topic="{TOPIC}" />'
        '<bpmn:sequenceFlow id="flow_push" sourceRef="push_dingtalk" targetRef="handle_unit" />')


def main_with_push() -> bytes:
    """duban_main.bpmn with 推送政务钉钉 (an external task) between 交办 and the units' work."""
    text = (BPMN / "duban_main.bpmn").read_text(encoding="utf-8")
    flow = '<bpmn:sequenceFlow id="flow_5" sourceRef="assign" targetRef="handle_unit" />'
    assert flow in text, "duban_main.bpmn changed: the test's insertion point is gone"
    return text.replace(flow, '<bpmn:sequenceFlow id="flow_5" sourceRef="assign" targetRef="push_dingtalk" />'
                        + PUSH).encode("utf-8")


HANDED = "who, count, big, ratio, tags, none, ok"


def push_process(key: str = "push_demo", topic: str = TOPIC, handed: str | None = HANDED) -> bytes:
    """start → 推送 (external, an error boundary for PUSH_FAILED to 人工处理) → 确认 (office) → end; the push
    hands its worker the variables `handed` names (duban:variables; None: declares nothing)."""
    declared = "" if handed is None else f'duban:variables="{handed}" '
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:duban="urn:duban:bpmn:1"
  xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="defs" targetNamespace="urn:test">
  <bpmn:error id="push_failed" name="推送失败" errorCode="PUSH_FAILED" />
  <bpmn:process id="{key}" name="推送演示" isExecutable="true">
    <bpmn:laneSet><bpmn:lane id="office" name="督查室">
      <bpmn:flowNodeRef>confirm</bpmn:flowNodeRef><bpmn:flowNodeRef>by_hand</bpmn:flowNodeRef>
    </bpmn:lane></bpmn:laneSet>
    <bpmn:startEvent id="start" />
    <bpmn:serviceTask id="push" name="推送政务钉钉" {declared}camunda:type="external" camunda:topic="{topic}" />
    <bpmn:boundaryEvent id="failed" name="推送失败" attachedToRef="push">
      <bpmn:errorEventDefinition errorRef="push_failed" />
    </bpmn:boundaryEvent>
    <bpmn:userTask id="confirm" name="确认送达" />
    <bpmn:userTask id="by_hand" name="人工通知" />
    <bpmn:endEvent id="end" /><bpmn:endEvent id="end_by_hand" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="push" />
    <bpmn:sequenceFlow id="f2" sourceRef="push" targetRef="confirm" />
    <bpmn:sequenceFlow id="f3" sourceRef="confirm" targetRef="end" />
    <bpmn:sequenceFlow id="f4" sourceRef="failed" targetRef="by_hand" />
    <bpmn:sequenceFlow id="f5" sourceRef="by_hand" targetRef="end_by_hand" />
  </bpmn:process>
</bpmn:definitions>""".encode()


def add_worker(duban, username: str = "push_worker", topics=(TOPIC,), unit: str = "xwb"):
    """A worker's service account (as `duban user worker` makes it)."""
    return service_accounts.save_worker(
        duban, {"username": username, "name": f"执行程序 {username}", "unit_id": unit,
                "password": WORKER_PASSWORD}, list(topics), operator="test")


@contextmanager
def served_with_worker(var, username: str, name: str, topics, processes: dict | None = None):
    """`duban run` on SQLite in `var` (the embedded worker fires timers every 0.2 s) with the demo org,
    duban_main with 推送政务钉钉 and `processes` ({key: BPMN}) deployed, and a worker account `username`
    for `topics` whose password is WORKER_PASSWORD, made by `duban user worker`; yields the base URL."""
    env = {**os.environ, "DUBAN_VAR_DIR": str(var), "DUBAN_TIMER_POLL_S": "0.2"}
    env.pop("DUBAN_DATABASE_URL", None)
    env.pop("DUBAN_REDIS_URL", None)
    cli(env, "db", "upgrade")
    cli(env, "seed-demo")
    (var / "forms").symlink_to(BPMN / "forms")
    for key, xml in {"duban_main": main_with_push(), **(processes or {})}.items():
        path = var / f"{key}.bpmn"
        path.write_bytes(xml)
        assert key in cli(env, "deploy", str(path)).stdout
    password = var / "worker-password"
    password.write_text(WORKER_PASSWORD + "\n")
    made = cli(env, "user", "worker", username, "--name", name, "--unit", "xwb",
               *[arg for topic in topics for arg in ("--topic", topic)], "--password-file", str(password))
    assert "created" in made.stdout
    with duban_run(env, timeout=30) as base:
        yield base
