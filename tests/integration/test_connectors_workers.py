"""Connector tasks through real Redis and real `duban worker` and `duban scheduler` processes: the
scheduler locks the task and hands it to a Dramatiq actor in the worker, which sends to a real local
HTTP server, fails once, is retried after its back-off and completes; the instance moves on."""
from __future__ import annotations

import os

import redis

from engine import services
from engine.clock import SystemClock
from tests.support.commands import Processes
from tests.support.connectors import Gateway, configure, deploy_connector_process, start
from tests.support.databases import truncate
from tests.support.org import make_duban, seed
from tests.support.waiting import wait_for


def test_a_dramatiq_worker_on_redis_retries_then_sends_once(postgres_database, redis_url, tmp_path):
    truncate(postgres_database)
    redis.Redis.from_url(redis_url).flushdb()
    duban = make_duban(postgres_database, SystemClock(), tmp_path)
    org = seed(duban)
    gateway = Gateway()
    env = {**os.environ, "DUBAN_DATABASE_URL": postgres_database, "DUBAN_REDIS_URL": redis_url,
           "DUBAN_TIMER_POLL_S": "0.2", "DUBAN_VAR_DIR": str(tmp_path / "var"),
           "DUBAN_SECRET_KEY": duban.settings.secret_key, "DUBAN_CONNECTOR_BACKOFF_S": "0.2"}
    processes = Processes(env, tmp_path)
    try:
        configure(duban, org["admin"], "group", "zwdingtalk", settings={"allow_private": True},
                  secrets={"url": f"{gateway.url}/robot/send?access_token=ZW", "sign_secret": "S"})
        deploy_connector_process(duban, "zw", "duban.notify", channel="group", message="政务钉钉")
        gateway.script = [(503, b"busy", 0, {})]
        instance_id = start(duban, org["admin"], "zw")
        processes.start_ready("worker")
        processes.start_ready("scheduler")
        wait_for(lambda: services.get_instance(duban, org["admin"], instance_id)["status"] == "completed",
                 timeout=60, what=lambda: f"the instance to complete; requests {gateway.requests}")
        assert len(gateway.requests) == 2 and "sign=" in gateway.requests[1]["path"]
        assert gateway.json_bodies()[1]["text"]["content"] == "【督办】推送消息\n政务钉钉"
    finally:
        processes.stop_all()
        gateway.close()
        duban.db.dispose()
