"""What the connector tests stand on: a real local HTTP server (the webhook, SMS gateway or endpoint),
a process with a connector service task, and the built-in worker's loop driven by hand."""
from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from engine import services
from engine.services import connector_tasks, connectors

PROCESS = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:duban="urn:duban:bpmn:1"
                  id="Defs" targetNamespace="urn:test">
  <bpmn:process id="{key}" name="连接器测试" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:serviceTask id="send" name="推送消息" duban:topic="{topic}">
      <bpmn:extensionElements><duban:connector {attributes}/></bpmn:extensionElements>
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:serviceTask>
    <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="send"/>
    <bpmn:sequenceFlow id="f2" sourceRef="send" targetRef="end"/>
  </bpmn:process>
</bpmn:definitions>
"""


def deploy_connector_process(duban, key: str, topic: str, **attributes) -> None:
    shown = " ".join(f"{name}='{value}'" for name, value in attributes.items())
    xml = PROCESS.format(key=key, topic=topic, attributes=shown)
    services.deploy(duban, {f"{key}.bpmn": xml.encode()}, {})


def start(duban, actor, key: str, data: dict | None = None) -> int:
    return services.start_instance(duban, actor, key, data or {})["id"]


def drive(duban, until, rounds: int = 10) -> list[str]:
    """The scheduler's hand-out and the actor's run, in this thread, until `until()` or rounds run out."""
    outcomes = []
    for _ in range(rounds):
        for task_id, worker_id in connector_tasks.dispatch(duban):
            outcomes.append(connector_tasks.run(duban, task_id, worker_id))
        if until():
            return outcomes
        time.sleep(0.05)
    return outcomes


def configure(duban, actor, name: str, kind: str, **body) -> dict:
    return connectors.create(duban, actor, {"name": name, "kind": kind, **body})


class Gateway:
    """A local HTTP server recording every request; answers from a script of (status, body, delay, headers)."""

    def __init__(self):
        self.requests: list[dict] = []
        self.script: list[tuple] = []
        self.default = (200, {"errcode": 0, "errmsg": "ok"}, 0, {})
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def _any(self):
                size = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(size) if size else b""
                gateway.requests.append({"method": self.command, "path": self.path, "body": body,
                                         "headers": {k.lower(): v for k, v in self.headers.items()}})
                status, answer, delay, headers = gateway.script.pop(0) if gateway.script else gateway.default
                time.sleep(delay)
                data = answer if isinstance(answer, bytes) else json.dumps(answer).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass  # the client gave up (a timeout test)

            do_GET = do_POST = do_PUT = _any

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def json_bodies(self) -> list:
        return [json.loads(r["body"]) for r in self.requests if r["body"]]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
