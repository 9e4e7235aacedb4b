"""Built-in connectors over HTTP and on their page: only system administrators configure them, secrets
are write-only (never in an answer, a page or the audit log, and sealed in the database), and
发送测试消息 is asked by the request and sent by a worker."""
import pytest
from sqlalchemy import select

from engine.models import AuditRecord, Connector
from engine.services import connectors
from tests.support.connectors import Gateway
from tests.support.web import Browser, assert_error

SECRET_URL = "https://oapi.dingtalk.com/robot/send?access_token=TOKEN-123456"
SIGN = "SEC-very-secret-sign"


@pytest.fixture(autouse=True)
def _sysadmin(sysadmin):
    """Connectors are the system administrator's (tests/web/conftest.py's `sysadmin`)."""


ROBOT = {"name": "office_ding", "kind": "dingtalk", "title": "督查室钉钉群",
         "secrets": {"url": SECRET_URL, "sign_secret": SIGN}}


@pytest.mark.parametrize("username", ["office", "leader", "unit_a", "designer", "secadmin", "auditor", "discipline"])
def test_only_system_administrators_configure_connectors(as_, username):
    caller = as_(username)
    assert_error(caller.get("/api/v1/admin/connectors"), 403, "forbidden")
    assert_error(caller.post("/api/v1/admin/connectors", json=ROBOT), 403, "forbidden")
    assert as_("admin").post("/api/v1/admin/connectors", json=ROBOT).status_code == 201
    for method, path, body in (("get", "/api/v1/admin/connectors/office_ding", None),
                               ("patch", "/api/v1/admin/connectors/office_ding", {"enabled": False}),
                               ("post", "/api/v1/admin/connectors/office_ding/test", {}),
                               ("delete", "/api/v1/admin/connectors/office_ding", None)):
        assert_error(getattr(caller.client, method)(path, headers=caller.headers, json=body), 403, "forbidden")
    browser = Browser(caller.client.application, username)
    assert browser.get("/admin/connectors").status_code == 403
    assert browser.post("/admin/connectors", {"name": "x", "kind": "wecom"}).status_code == 403


def test_secrets_are_never_echoed_and_are_sealed(app, as_, duban_sqlite):
    admin = as_("sysadmin")
    created = admin.post("/api/v1/admin/connectors", json=ROBOT)
    assert created.status_code == 201
    changed = admin.client.patch("/api/v1/admin/connectors/office_ding", headers=admin.headers,
                                 json={"title": "改名", "secrets": {"sign_secret": SIGN + "2"}})
    answers = [created, changed, admin.get("/api/v1/admin/connectors"),
               admin.get("/api/v1/admin/connectors/office_ding")]
    for answer in answers:
        assert answer.status_code == 200 or answer.status_code == 201
        body = answer.get_data(as_text=True)
        assert "TOKEN-123456" not in body and SIGN not in body
    shown = answers[-1].json
    assert shown["secrets_set"] == ["sign_secret", "url"] and shown["host"] == "oapi.dingtalk.com"
    page = Browser(app, "sysadmin").get("/admin/connectors").get_data(as_text=True)
    assert "TOKEN-123456" not in page and SIGN not in page and "改名" in page and "发送测试消息" in page
    with duban_sqlite.db.reading() as session:
        row = session.get(Connector, "office_ding")
        assert "TOKEN" not in row.sealed and SIGN not in row.sealed and "TOKEN" not in str(row.settings)
        audit = " ".join(str(r.detail) for r in session.scalars(select(AuditRecord)))
        assert "TOKEN-123456" not in audit and SIGN not in audit and "sign_secret" in audit
        assert connectors.unsealed(duban_sqlite, row) == {"url": SECRET_URL, "sign_secret": SIGN + "2"}


def test_bad_configuration_is_refused_with_a_message(as_):
    admin = as_("admin")
    assert_error(admin.post("/api/v1/admin/connectors", json={"name": "Bad Name", "kind": "wecom"}), 422)
    body = assert_error(admin.post("/api/v1/admin/connectors", json={"name": "w", "kind": "wecom",
                                                                     "secrets": {"url": "ftp://x"}}), 422)
    assert "http://" in body["message"]
    assert_error(admin.post("/api/v1/admin/connectors", json={"name": "m", "kind": "email"}), 422)
    assert admin.post("/api/v1/admin/connectors", json={"name": "w", "kind": "wecom",
                                                        "secrets": {"url": "https://qyapi.weixin.qq.com/x?key=1"}}
                      ).status_code == 201
    assert_error(admin.post("/api/v1/admin/connectors", json={"name": "w", "kind": "wecom",
                                                              "secrets": {"url": "https://a.b/"}}), 409)


def test_the_page_configures_a_robot_and_its_test_message_is_sent_by_a_worker(app, duban_sqlite):
    gateway = Gateway()
    try:
        browser = Browser(app, "admin")
        created = browser.post("/admin/connectors", {
            "name": "group", "kind": "wecom", "title": "工作群", "allow_private": "on", "timeout_s": "5",
            "secret_url": f"{gateway.url}/cgi-bin/webhook/send?key=PAGEKEY"})
        assert created.status_code == 302, created.get_data(as_text=True)
        page = browser.get("/admin/connectors").get_data(as_text=True)
        assert "工作群" in page and "PAGEKEY" not in page and "企业微信群机器人" in page
        asked = browser.post("/admin/connectors/group", {"action": "test"})
        assert asked.status_code == 302 and gateway.requests == []  # nothing sent inside the request
        names = connectors.dispatch_tests(duban_sqlite)
        assert names == ["group"]
        assert connectors.run_test(duban_sqlite, "group") is True
        assert "督办系统通过连接器“group”发送的测试消息" in gateway.json_bodies()[0]["text"]["content"]
        page = browser.get("/admin/connectors").get_data(as_text=True)
        assert "测试消息：发送成功" in page
        assert browser.post("/admin/connectors/group", {"action": "delete"}).status_code == 302
        with duban_sqlite.db.reading() as session:
            assert session.get(Connector, "group") is None
    finally:
        gateway.close()


def test_every_connector_route_refuses_strangers_and_everyone_but_system_administrators(app, as_):
    as_("admin").post("/api/v1/admin/connectors", json=ROBOT)
    rules = [rule for rule in app.url_map.iter_rules() if "connectors" in rule.rule]
    assert len(rules) >= 6  # the API's four paths and the page's two
    for rule in rules:
        path = rule.rule.replace("<string:name>", "office_ding").replace("<name>", "office_ding")
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            stranger = getattr(app.test_client(), method.lower())(path)
            assert stranger.status_code in (401, 302), (method, path, stranger.status_code)
            if stranger.status_code == 302:
                assert "/login" in stranger.headers["Location"]
            for username in ("office", "leader", "unit_a", "designer", "secadmin", "auditor"):
                if path.startswith("/api/"):
                    caller = as_(username)
                    answer = getattr(caller.client, method.lower())(path, headers=caller.headers, json={})
                else:
                    browser = Browser(app, username)
                    answer = browser.get(path) if method == "GET" else browser.post(path, {"action": "test"})
                assert answer.status_code == 403, (username, method, path, answer.status_code)
