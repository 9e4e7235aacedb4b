"""Built-in connectors end to end on SQLite: a connector service task is an external task on a reserved
topic that the built-in worker fetches, sends (to a real local HTTP server or a real SMTP server) and
completes, with retries, incidents, SSRF refusals, time limits and 钉钉's 加签."""
from __future__ import annotations

import base64
import hashlib
import hmac
import socket
from dataclasses import replace
from urllib.parse import parse_qs, urlsplit

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from engine import services
from engine.models import ConnectorDelivery, ExternalTask, Notification, User
from engine.services import connector_tasks
from tests.support.connectors import Gateway, configure, deploy_connector_process, drive, start


@pytest.fixture
def gateway():
    server = Gateway()
    yield server
    server.close()


@pytest.fixture
def duban(duban_sqlite, org_sqlite):
    duban_sqlite.settings = replace(duban_sqlite.settings, connector_attempts=3, connector_backoff_s=0.0)
    return duban_sqlite


def status(duban, instance_id):
    return services.get_instance(duban, duban_admin(duban), instance_id)


def duban_admin(duban):
    from tests.support.org import Org
    return Org(duban)["admin"]


def finished(duban, instance_id):
    return lambda: status(duban, instance_id)["status"] in ("completed", "error")


def test_a_robot_message_retried_then_sent_and_the_instance_moves_on(duban, org_sqlite, gateway):
    admin = org_sqlite["admin"]
    configure(duban, admin, "office_wecom", "wecom", secrets={"url": f"{gateway.url}/cgi-bin/webhook/send?key=K1"},
              settings={"allow_private": True})
    deploy_connector_process(duban, "push", "duban.notify", channel="office_wecom", title="催办",
                             message="事项“{subject}”已逾期")
    gateway.script = [(502, b"bad gateway", 0, {}), (200, {"errcode": 45009, "errmsg": "busy"}, 0, {})]
    instance_id = start(duban, admin, "push", {"subject": "推进重点项目"})
    outcomes = drive(duban, finished(duban, instance_id))
    assert outcomes == ["retrying", "retrying", "completed"]
    assert status(duban, instance_id)["status"] == "completed"
    assert len(gateway.requests) == 3 and gateway.requests[0]["path"] == "/cgi-bin/webhook/send?key=K1"
    content = "【督办】催办\n事项“推进重点项目”已逾期"
    assert gateway.json_bodies()[-1] == {"msgtype": "text", "text": {"content": content}}


def test_a_retry_never_sends_again_what_was_confirmed(duban, org_sqlite, gateway):
    admin = org_sqlite["admin"]
    configure(duban, admin, "sms", "sms", settings={"url": f"{gateway.url}/send", "allow_private": True,
                                                     "key_header": "X-Key"}, secrets={"key": "gateway-key"})
    deploy_connector_process(duban, "sms_push", "duban.notify", channel="sms", phones="{phones}", message="请办理")
    # The first number goes through; the second fails once, then goes through on the next attempt.
    gateway.script = [(200, {"ok": True}, 0, {}), (503, b"busy", 0, {}), (200, {"ok": True}, 0, {})]
    instance_id = start(duban, admin, "sms_push", {"phones": "13800000001,13800000002"})
    drive(duban, finished(duban, instance_id))
    assert status(duban, instance_id)["status"] == "completed"
    phones = [body["phone"] for body in gateway.json_bodies()]
    assert phones == ["13800000001", "13800000002", "13800000002"]
    assert {r["headers"]["x-key"] for r in gateway.requests} == {"gateway-key"}
    with duban.db.reading() as session:
        assert {row.target for row in session.scalars(select(ConnectorDelivery))} == {
            "sms:13800000001", "sms:13800000002"}


def test_retries_exhausted_become_an_incident_in_the_monitor(duban, org_sqlite, gateway):
    admin = org_sqlite["admin"]
    configure(duban, admin, "robot", "dingtalk", secrets={"url": f"{gateway.url}/robot/send?access_token=T"},
              settings={"allow_private": True})
    deploy_connector_process(duban, "fails", "duban.notify", channel="robot", message="x")
    gateway.default = (500, b"down", 0, {})
    instance_id = start(duban, admin, "fails")
    outcomes = drive(duban, finished(duban, instance_id))
    assert outcomes == ["retrying", "retrying", "incident"]
    seen = status(duban, instance_id)
    assert seen["status"] == "error" and "第 3/3 次发送失败" in seen["error"] and "HTTP 500" in seen["error"]
    assert len(gateway.requests) == 3
    rows, _total = services.list_instances(duban, admin, status="error")
    assert [row["id"] for row in rows] == [instance_id]  # the monitor's list of incidents
    from tests.support.web import Browser
    from web import create_app

    monitor = Browser(create_app(duban=duban), "admin")
    assert "第 3/3 次发送失败" in monitor.get(f"/instances/{instance_id}").get_data(as_text=True)


def test_a_loopback_host_is_refused_unless_allowed_explicitly(duban, org_sqlite, gateway):
    admin = org_sqlite["admin"]
    configure(duban, admin, "api", "http", settings={"base_url": gateway.url})
    deploy_connector_process(duban, "ssrf", "duban.http", endpoint="api", method="GET", path="/x", result="answer")
    instance_id = start(duban, admin, "ssrf")
    assert drive(duban, finished(duban, instance_id)) == ["incident"]  # no retry can help
    assert "内网或本机地址 127.0.0.1" in status(duban, instance_id)["error"]
    assert gateway.requests == []


def test_a_redirect_to_another_host_is_refused(duban, org_sqlite, gateway):
    admin = org_sqlite["admin"]
    elsewhere = Gateway()
    try:
        configure(duban, admin, "api", "http", settings={"base_url": gateway.url, "allow_private": True})
        gateway.default = (302, b"", 0, {"Location": f"http://localhost:{elsewhere.port}/steal"})
        deploy_connector_process(duban, "redirect", "duban.http", endpoint="api", method="GET", path="/x")
        instance_id = start(duban, admin, "redirect")
        assert drive(duban, finished(duban, instance_id)) == ["incident"]
        assert "跳转到另一主机" in status(duban, instance_id)["error"]
        assert elsewhere.requests == [] and len(gateway.requests) == 1
    finally:
        elsewhere.close()


def test_an_answer_mapped_back_into_the_instance(duban, org_sqlite, gateway):
    admin = org_sqlite["admin"]
    configure(duban, admin, "hotline", "http", settings={"base_url": f"{gateway.url}/api", "allow_private": True,
                                                         "auth_header": "Authorization"},
              secrets={"auth_value": "Bearer s3cret"})
    gateway.default = (201, {"data": {"id": "GD-42", "state": "accepted"}}, 0, {})
    deploy_connector_process(duban, "call", "duban.http", endpoint="hotline", method="POST", path="/orders",
                             body='{"title": "{title}"}', result="reply", outputs="order_id=body.data.id")
    instance_id = start(duban, admin, "call", {"title": "路灯\"不亮\""})
    drive(duban, finished(duban, instance_id))
    seen = status(duban, instance_id)
    assert seen["status"] == "completed"
    assert seen["data"]["order_id"] == "GD-42" and seen["data"]["reply"]["status"] == 201
    request = gateway.requests[0]
    assert request["path"] == "/api/orders" and request["headers"]["authorization"] == "Bearer s3cret"
    assert gateway.json_bodies() == [{"title": "路灯\"不亮\""}]
    assert request["headers"]["idempotency-key"]


def test_a_slow_endpoint_times_out_and_is_retried(duban, org_sqlite, gateway):
    admin = org_sqlite["admin"]
    duban.settings = replace(duban.settings, connector_attempts=2)
    configure(duban, admin, "slow", "http", settings={"base_url": gateway.url, "allow_private": True,
                                                      "timeout_s": 0.3})
    gateway.script = [(200, {"late": True}, 1.5, {})]
    gateway.default = (200, {"fast": True}, 0, {})
    deploy_connector_process(duban, "slow_call", "duban.http", endpoint="slow", method="GET", result="reply")
    instance_id = start(duban, admin, "slow_call")
    assert drive(duban, finished(duban, instance_id)) == ["retrying", "completed"]
    assert status(duban, instance_id)["data"]["reply"]["body"] == {"fast": True}
    with duban.db.reading() as session:
        row = session.scalars(select(ExternalTask)).one()
        assert row.state == "completed"


def test_dingtalk_signature(duban, org_sqlite, gateway):
    admin = org_sqlite["admin"]
    configure(duban, admin, "ding", "dingtalk", settings={"allow_private": True},
              secrets={"url": f"{gateway.url}/robot/send?access_token=T", "sign_secret": "SEC-abc"})
    deploy_connector_process(duban, "ding", "duban.notify", channel="ding", message="签名")
    instance_id = start(duban, admin, "ding")
    drive(duban, finished(duban, instance_id))
    query = parse_qs(urlsplit(gateway.requests[0]["path"]).query)
    timestamp = query["timestamp"][0]
    expected = base64.b64encode(hmac.new(b"SEC-abc", f"{timestamp}\nSEC-abc".encode(), hashlib.sha256).digest())
    assert query["sign"][0] == expected.decode() and query["access_token"] == ["T"]
    assert status(duban, instance_id)["status"] == "completed"


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.rcpt_tos, envelope.content.decode("utf-8", "replace")))
        return "250 OK"


def test_email_and_in_app_to_a_role(duban, org_sqlite):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        admin = org_sqlite["admin"]
        with duban.db.transaction() as session:
            session.scalars(select(User).where(User.username == "office")).one().email = "office@example.gov.cn"
        configure(duban, admin, "mail", "email", settings={"host": "127.0.0.1", "port": port})
        deploy_connector_process(duban, "mail", "duban.notify", channel="mail", recipients="role:office",
                                 title="周报", message="请报送")
        deploy_connector_process(duban, "inapp", "duban.notify", channel="inapp", recipients="user:leader",
                                 title="站内", message="请阅")
        first, second = start(duban, admin, "mail"), start(duban, admin, "inapp")
        drive(duban, lambda: finished(duban, first)() and finished(duban, second)())
        assert [to for to, _ in inbox.messages] == [["office@example.gov.cn"]]
        assert "请报送" in inbox.messages[0][1] or "=E8" in inbox.messages[0][1]
        with duban.db.reading() as session:
            rows = session.scalars(select(Notification).where(Notification.kind == "connector")).all()
            assert [(r.title, r.body) for r in rows] == [("站内", "请阅")]
        assert drive(duban, lambda: False, rounds=2) == []  # nothing left, nothing sent again
        assert len(inbox.messages) == 1
    finally:
        controller.stop()


def test_the_embedded_worker_runs_connector_tasks(duban, org_sqlite, gateway):
    from workers.embedded import Embedded

    duban.settings = replace(duban.settings, timer_poll_s=0.1)
    admin = org_sqlite["admin"]
    configure(duban, admin, "robot", "wecom", secrets={"url": f"{gateway.url}/hook?key=1"},
              settings={"allow_private": True})
    deploy_connector_process(duban, "embedded", "duban.notify", channel="robot", message="嵌入式")
    instance_id = start(duban, admin, "embedded")
    embedded = Embedded(duban).start()
    try:
        from tests.support.waiting import wait_for
        wait_for(lambda: status(duban, instance_id)["status"] == "completed", timeout=30)
    finally:
        embedded.stop()
    assert len(gateway.requests) == 1


def test_builtin_worker_is_a_service_account_that_cannot_sign_in(duban, org_sqlite):
    actor = connector_tasks.builtin_actor(duban)
    with duban.db.reading() as session:
        user = session.get(User, actor.id)
        assert user.active is False and user.password_hash == "!"


def test_the_attribute_declares_the_connector_and_deploy_checks_the_declaration(duban, org_sqlite, gateway):
    from engine.errors import DubanError
    from tests.support.connectors import PROCESS

    admin = org_sqlite["admin"]
    configure(duban, admin, "robot", "wecom", secrets={"url": f"{gateway.url}/hook?key=1"},
              settings={"allow_private": True})
    xml = PROCESS.format(key="attr", topic="ignored", attributes="channel='robot' message='属性写法'")
    xml = xml.replace('duban:topic="ignored"', 'duban:connector="notify"')
    services.deploy(duban, {"attr.bpmn": xml.encode()}, {})
    instance_id = start(duban, admin, "attr")
    drive(duban, finished(duban, instance_id))
    assert status(duban, instance_id)["status"] == "completed" and len(gateway.requests) == 1
    for wrong, says in ((xml.replace("channel='robot'", "title='x'"), "duban:connector channel"),
                        (xml.replace('duban:connector="notify"', 'duban:connector="fax"'), "“fax”不存在")):
        with pytest.raises(DubanError) as refused:
            services.deploy(duban, {"attr.bpmn": wrong.encode()}, {})
        assert says in str(refused.value.details or refused.value.message)


def test_a_secret_items_content_does_not_leave_through_a_robot_or_an_endpoint(duban, org_sqlite, gateway):
    from engine.connectors.guarded_http import Refused
    from engine.models import Item

    admin = org_sqlite["admin"]
    configure(duban, admin, "robot", "wecom", secrets={"url": f"{gateway.url}/hook?key=1"},
              settings={"allow_private": True})
    configure(duban, admin, "api", "http", settings={"base_url": gateway.url, "allow_private": True})
    secret = Item(id=1, title="保密事项", classification="secret")
    secret.designees = []
    for declared in ({"topic": "duban.notify", "channel": "robot", "message": "{item_title}"},
                     {"topic": "duban.http", "endpoint": "api", "body": '{"t": "{item_title}"}'}):
        job = connector_tasks.Job("t-1", "w", "推送", declared, {"item_title": "保密事项"}, secret, 1, 1)
        runner = connector_tasks._notify if declared["topic"] == "duban.notify" else connector_tasks._call
        with pytest.raises(Refused, match="保密事项的内容不经"):
            runner(duban, job)
    assert gateway.requests == []


def test_the_monitors_retry_gives_an_incident_one_more_attempt_without_sending_again(duban, org_sqlite, gateway):
    from engine.services import operations

    admin = org_sqlite["admin"]
    configure(duban, admin, "sms", "sms", settings={"url": f"{gateway.url}/send", "allow_private": True})
    deploy_connector_process(duban, "again", "duban.notify", channel="sms", phones="13900000001 13900000002",
                             message="请办理")
    gateway.script = [(200, {"ok": True}, 0, {})]  # the first number goes through, the second never does
    gateway.default = (500, b"down", 0, {})
    instance_id = start(duban, admin, "again")
    assert drive(duban, finished(duban, instance_id)) == ["retrying", "retrying", "incident"]
    gateway.default = (200, {"ok": True}, 0, {})  # the gateway is mended; the administrator retries
    assert operations.retry(duban, admin, instance_id)["status"] == "running"
    assert drive(duban, finished(duban, instance_id)) == ["completed"]
    assert status(duban, instance_id)["status"] == "completed"
    phones = [body["phone"] for body in gateway.json_bodies()]
    assert phones.count("13900000001") == 1 and phones.count("13900000002") == 4


def test_no_other_worker_may_take_a_connectors_topic(duban, org_sqlite):
    from engine.errors import InvalidInput
    from engine.services import service_accounts

    with pytest.raises(InvalidInput, match="内置连接器"):
        service_accounts.save_worker(duban, {"username": "thief", "name": "x", "unit_id": "xwb", "password": "x"},
                                     ["duban.notify"], "cli:test")


def test_an_answer_over_the_cap_is_not_taken(duban, org_sqlite, gateway):
    admin = org_sqlite["admin"]
    duban.settings = replace(duban.settings, connector_attempts=1)
    configure(duban, admin, "big", "http", settings={"base_url": gateway.url, "allow_private": True,
                                                     "max_bytes": 1000})
    gateway.default = (200, {"padding": "x" * 5000}, 0, {})
    deploy_connector_process(duban, "big_call", "duban.http", endpoint="big", method="GET", result="reply")
    instance_id = start(duban, admin, "big_call")
    assert drive(duban, finished(duban, instance_id)) == ["incident"]
    seen = status(duban, instance_id)
    assert "应答超过 1000 字节" in seen["error"] and "reply" not in seen["data"]


def test_a_fault_of_ours_counts_as_an_attempt_and_ends_in_an_incident(duban, org_sqlite):
    from engine.models import Connector

    admin = org_sqlite["admin"]
    configure(duban, admin, "robot", "wecom", secrets={"url": "https://qyapi.weixin.qq.com/hook?key=1"})
    with duban.db.transaction() as session:  # a row no form could write (edited in the database by hand)
        row = session.get(Connector, "robot")
        row.settings = {**row.settings, "timeout_s": "十秒"}
    deploy_connector_process(duban, "bug", "duban.notify", channel="robot", message="x")
    instance_id = start(duban, admin, "bug")
    assert drive(duban, finished(duban, instance_id)) == ["retrying", "retrying", "incident"]
    assert "系统内部出错（ValueError）" in status(duban, instance_id)["error"]
