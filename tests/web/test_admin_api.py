"""三员分立 over HTTP: who may manage users, roles, passwords, the calendar and the audit log."""
import pytest
from sqlalchemy import text

from engine import security
from engine.models import User, UserRole
from tests.conftest import seed
from tests.web.test_api import assert_error
from web import create_app

STRONG = "Ch4nge-me!"


@pytest.fixture
def app(duban_sqlite):
    seed(duban_sqlite)
    # A system administrator proper, beside the demo's `admin` (who does system work too).
    with duban_sqlite.db.transaction() as session:
        user = User(username="sysadmin", display_name="系统管理员", password_hash=security.hash_password("duban-demo"),
                    unit_id="xwb", created_at=duban_sqlite.clock.now())
        user.role_rows = [UserRole(role="sysadmin")]
        session.add(user)
    app = create_app(duban=duban_sqlite)
    app.config["TESTING"] = True
    return app


def call(caller, method, path, body=None):
    return getattr(caller.client, method)(path, headers=caller.headers, json=body)


# Each endpoint, and the only callers allowed to use it; everyone else gets 403.
MATRIX = [
    ("get", "/api/v1/admin/users", None, {"admin", "sysadmin", "secadmin"}),
    ("post", "/api/v1/admin/users/unit_a/roles", {"role": "leader"}, {"secadmin"}),
    ("delete", "/api/v1/admin/users/unit_b/roles/unit", None, {"secadmin"}),
    ("post", "/api/v1/admin/users/unit_a/unlock", None, {"secadmin"}),
    ("post", "/api/v1/admin/users/unit_a/password", {"password": STRONG}, {"secadmin"}),
    ("get", "/api/v1/audit", None, {"auditor"}),
    ("get", "/api/v1/audit/verify", None, {"auditor"}),
    ("put", "/api/v1/calendar/days", {"date": "2026-12-21", "workday": False, "note": "x"}, {"admin", "sysadmin"}),
    ("post", "/api/v1/admin/recalculate", None, {"admin", "sysadmin"}),
]
CALLERS = ("office", "auditor", "admin", "sysadmin", "secadmin")  # the allowed ones change state last


@pytest.mark.parametrize("method,path,body,allowed", MATRIX, ids=[f"{m} {p}" for m, p, _, _ in MATRIX])
def test_separation_of_the_three_administrators(as_, method, path, body, allowed):
    for username in sorted(CALLERS, key=lambda name: name in allowed):
        response = call(as_(username), method, path, body)
        if username in allowed:
            assert 200 <= response.status_code < 300, (username, response.get_data(as_text=True))
        else:
            assert_error(response, 403, "forbidden")


def test_users_are_listed_with_roles_and_lock_state(as_):
    listed = as_("secadmin").get("/api/v1/admin/users?page_size=100")
    assert "X-Pagination" in listed.headers
    users = {u["username"]: u for u in listed.json}
    assert users["auditor"]["roles"] == ["auditadmin"] and users["secadmin"]["roles"] == ["secadmin"]
    assert users["unit_a"]["unit"] == "fgj" and users["unit_a"]["locked"] is False
    assert "password_hash" not in users["unit_a"]


def test_roles_granted_and_revoked_take_effect_at_once(as_):
    sec = as_("secadmin")
    granted = sec.post("/api/v1/admin/users/unit_a/roles", json={"role": "office"})
    assert granted.status_code == 200 and granted.json["roles"] == ["office", "unit"]
    assert as_("unit_a").get("/api/v1/me").json["roles"] == ["office", "unit"]
    revoked = call(sec, "delete", "/api/v1/admin/users/unit_a/roles/office")
    assert revoked.status_code == 200 and revoked.json["roles"] == ["unit"]
    assert as_("unit_a").get("/api/v1/me").json["roles"] == ["unit"]
    assert_error(sec.post("/api/v1/admin/users/unit_a/roles", json={"role": "emperor"}), 422)
    assert_error(sec.post("/api/v1/admin/users/nobody/roles", json={"role": "office"}), 404)


def test_no_one_holds_two_administrator_roles_or_changes_their_own(as_):
    sec = as_("secadmin")
    assert_error(sec.post("/api/v1/admin/users/admin/roles", json={"role": "auditadmin"}), 409, "conflict")
    assert_error(sec.post("/api/v1/admin/users/auditor/roles", json={"role": "secadmin"}), 409, "conflict")
    assert_error(sec.post("/api/v1/admin/users/secadmin/roles", json={"role": "auditadmin"}), 403)
    assert_error(call(sec, "delete", "/api/v1/admin/users/secadmin/roles/secadmin"), 403)
    assert_error(sec.post("/api/v1/admin/users/secadmin/password", json={"password": STRONG}), 403)


@pytest.mark.parametrize("weak,problem", [
    ("short1A", "至少 8 个字符"),
    ("alllowercase", "至少三类"),
    ("unit_a-Secret1", "用户名"),
    # The commonest passwords pass the complexity rule; zxcvbn's lists and patterns refuse them.
    ("Password1", "最常见的口令"),
    ("P@ssw0rd", "最常见的口令"),
    ("Aa1Aa1Aa1", "太容易被猜中"),
    ("Qwerty123!", "最常见的口令"),
])
def test_weak_passwords_are_refused_naming_the_field(as_, weak, problem):
    body = assert_error(as_("secadmin").post("/api/v1/admin/users/unit_a/password", json={"password": weak}),
                        422, "invalid_input")
    assert [d["field"] for d in body["details"]] and {d["field"] for d in body["details"]} == {"password"}
    assert any(problem in d["message"] for d in body["details"]), body
    assert_error(as_("secadmin").post("/api/v1/admin/users/unit_a/password", json={}), 422)


def test_a_password_reset_ends_the_users_sessions(client, as_):
    old = as_("unit_a")
    assert as_("secadmin").post("/api/v1/admin/users/unit_a/password", json={"password": STRONG}).status_code == 204
    assert_error(old.get("/api/v1/me"), 401)
    assert_error(client.post("/api/v1/auth/token", json={"username": "unit_a", "password": "duban-demo"}), 401)
    assert client.post("/api/v1/auth/token", json={"username": "unit_a", "password": STRONG}).status_code == 200


def test_unlock_after_a_lockout(client, as_):
    for _ in range(5):
        client.post("/api/v1/auth/token", json={"username": "leader", "password": "wrong"})
    locked = assert_error(client.post("/api/v1/auth/token", json={"username": "leader", "password": "duban-demo"}),
                          401)
    assert "锁定" in locked["message"]
    listed = {u["username"]: u for u in as_("secadmin").get("/api/v1/admin/users?page_size=100").json}
    assert listed["leader"]["locked"] is True and listed["leader"]["locked_until"]
    unlocked = as_("secadmin").post("/api/v1/admin/users/leader/unlock")
    assert unlocked.status_code == 200 and unlocked.json["locked"] is False
    assert client.post("/api/v1/auth/token", json={"username": "leader", "password": "duban-demo"}).status_code == 200


def test_own_password_change(client, as_):
    office = as_("office")
    body = assert_error(office.post("/api/v1/me/password", json={"old_password": "wrong", "new_password": STRONG}),
                        422)
    assert body["details"][0]["field"] == "old_password"
    body = assert_error(office.post("/api/v1/me/password", json={"old_password": "duban-demo",
                                                                  "new_password": "office123"}), 422)
    assert {d["field"] for d in body["details"]} == {"new_password"}
    assert office.post("/api/v1/me/password", json={"old_password": "duban-demo",
                                                     "new_password": STRONG}).status_code == 204
    assert office.get("/api/v1/me").status_code == 200  # the session that changed it goes on
    assert_error(client.post("/api/v1/auth/token", json={"username": "office", "password": "duban-demo"}), 401)
    assert client.post("/api/v1/auth/token", json={"username": "office", "password": STRONG}).status_code == 200


def test_the_auditor_reads_and_verifies_the_log(app, as_):
    as_("secadmin").post("/api/v1/admin/users/unit_a/roles", json={"role": "leader"})
    auditor = as_("auditor")
    grants = auditor.get("/api/v1/audit?action=user.*")
    assert grants.status_code == 200 and "X-Pagination" in grants.headers
    assert [(r["actor"], r["action"], r["target"], r["detail"]) for r in grants.json] == [
        ("secadmin", "user.role_grant", "user:unit_a", {"role": "leader"})]
    assert grants.json[0]["ip"] == "127.0.0.1"
    sign_ins = auditor.get("/api/v1/audit?actor=secadmin&action=auth.login").json
    assert len(sign_ins) == 1
    assert auditor.get("/api/v1/audit?since=2030-01-01T00:00:00%2B08:00").json == []
    verified = auditor.get("/api/v1/audit/verify").json
    assert verified["intact"] is True and verified["broken_at"] is None and verified["records"] >= 4
    duban = app.extensions["duban"]
    with duban.db.engine.begin() as connection:
        connection.execute(text("UPDATE audit_log SET actor = 'someone' WHERE action = 'user.role_grant'"))
    broken = auditor.get("/api/v1/audit/verify").json
    assert broken["intact"] is False and broken["broken_at"] == grants.json[0]["id"]


def test_openapi_documents_the_administration_endpoints(client):
    paths = set(client.get("/api/openapi.json").json["paths"])
    assert {"/api/v1/admin/users", "/api/v1/admin/users/{username}/roles",
            "/api/v1/admin/users/{username}/roles/{role}", "/api/v1/admin/users/{username}/unlock",
            "/api/v1/admin/users/{username}/password", "/api/v1/me/password", "/api/v1/audit",
            "/api/v1/audit/verify"} <= paths
