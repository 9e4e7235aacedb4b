"""三员分立 over HTTP: who may manage users, roles, passwords, the calendar and the audit log."""
import pytest
from sqlalchemy import text

from engine import security
from engine.models import User, UserRole
from tests.support.org import seed
from tests.support.web import assert_error
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


# -- 三员分立 for passwords, forced changes, own changes (issue 10, section 3) -----------------------

OTHER = "Zh3ng-Tong!"


def _token(client, username, password="duban-demo") -> dict:
    response = client.post("/api/v1/auth/token", json={"username": username, "password": password})
    assert response.status_code == 200, response.get_data(as_text=True)
    return {"Authorization": f"Bearer {response.json['token']}"}


@pytest.mark.parametrize("username", ["admin", "sysadmin", "auditor"])
def test_the_three_administrators_passwords_are_reset_on_the_command_line_only(client, as_, username):
    body = assert_error(as_("secadmin").post(f"/api/v1/admin/users/{username}/password", json={"password": STRONG}),
                        403, "forbidden")
    assert f"duban user reset-password {username}" in body["message"]
    assert client.post("/api/v1/auth/token", json={"username": username, "password": "duban-demo"}).status_code == 200


def test_no_one_both_gives_an_account_powers_and_sets_its_password(client, as_):
    sec = as_("secadmin")
    # What the security administrator did: `admin` to the designer, then its password.
    assert sec.post("/api/v1/admin/users/designer/roles", json={"role": "admin"}).status_code == 200
    assert "reset-password" in assert_error(
        sec.post("/api/v1/admin/users/designer/password", json={"password": STRONG}), 403)["message"]
    # A business role it granted is enough.
    assert sec.post("/api/v1/admin/users/discipline/roles", json={"role": "office"}).status_code == 200
    assert "授予过角色" in assert_error(
        sec.post("/api/v1/admin/users/discipline/password", json={"password": STRONG}), 403)["message"]
    # The other order: a password it set, then no role until the owner has changed that password.
    assert sec.post("/api/v1/admin/users/leader/password", json={"password": STRONG}).status_code == 204
    assert "口令是你设置的" in assert_error(
        sec.post("/api/v1/admin/users/leader/roles", json={"role": "office"}), 403)["message"]
    leader = _token(client, "leader", STRONG)
    assert client.post("/api/v1/me/password", headers=leader,
                       json={"old_password": STRONG, "new_password": OTHER}).status_code == 204
    assert sec.post("/api/v1/admin/users/leader/roles", json={"role": "office"}).status_code == 200


def test_a_password_set_by_someone_else_is_changed_before_anything_else(client, as_):
    assert as_("secadmin").post("/api/v1/admin/users/unit_a/password", json={"password": STRONG}).status_code == 204
    listed = {u["username"]: u for u in as_("secadmin").get("/api/v1/admin/users?page_size=100").json}
    assert listed["unit_a"]["password_change_required"] is True
    assert not any(u["password_change_required"] for name, u in listed.items() if name != "unit_a")  # the demo's
    unit_a = _token(client, "unit_a", STRONG)
    for method, path in (("get", "/api/v1/tasks"), ("get", "/api/v1/me"), ("get", "/api/v1/items"),
                         ("post", "/api/v1/items")):
        body = assert_error(getattr(client, method)(path, headers=unit_a, json={}), 403, "password_change_required")
        assert "须先修改口令" in body["message"]
    # Signing out still works.
    other = _token(client, "unit_a", STRONG)
    assert client.delete("/api/v1/auth/token", headers=other).status_code == 204
    assert_error(client.get("/api/v1/me", headers=other), 401)
    # Changing it: the same rules, then everything works again.
    assert_error(client.post("/api/v1/me/password", headers=unit_a,
                             json={"old_password": STRONG, "new_password": "Password1"}), 422, "invalid_input")
    assert client.post("/api/v1/me/password", headers=unit_a,
                       json={"old_password": STRONG, "new_password": OTHER}).status_code == 204
    assert client.get("/api/v1/tasks", headers=unit_a).status_code == 200
    listed = {u["username"]: u for u in as_("secadmin").get("/api/v1/admin/users?page_size=100").json}
    assert listed["unit_a"]["password_change_required"] is False


def test_changing_ones_own_password_ends_ones_other_sessions(app, client):
    from tests.support.web import Browser

    this, another = _token(client, "office"), _token(client, "office")
    browser = Browser(app, "office")
    assert browser.get("/tasks").status_code == 200
    assert client.post("/api/v1/me/password", headers=this,
                       json={"old_password": "duban-demo", "new_password": STRONG}).status_code == 204
    assert client.get("/api/v1/me", headers=this).status_code == 200
    assert_error(client.get("/api/v1/me", headers=another), 401)
    assert browser.get("/tasks").headers["Location"].startswith("/login")
    assert _token(client, "leader")  # someone else's sessions are not touched


def test_wrong_current_passwords_count_toward_the_lockout(client):
    office = _token(client, "office")
    wrong = {"old_password": "not-it", "new_password": STRONG}
    for _ in range(4):
        assert assert_error(client.post("/api/v1/me/password", headers=office, json=wrong), 422)[
            "details"][0]["field"] == "old_password"
    assert "锁定" in assert_error(client.post("/api/v1/me/password", headers=office, json=wrong), 422)["message"]
    right = {"old_password": "duban-demo", "new_password": STRONG}
    assert "锁定" in assert_error(client.post("/api/v1/me/password", headers=office, json=right), 422)["message"]
    assert "锁定" in assert_error(client.post("/api/v1/auth/token", json={"username": "office",
                                                                        "password": "duban-demo"}), 401)["message"]


def test_sign_in_answers_alike_for_an_unknown_user_and_a_wrong_password(client):
    unknown = client.post("/api/v1/auth/token", json={"username": "nobody", "password": "Whatever-1"})
    wrong = client.post("/api/v1/auth/token", json={"username": "office", "password": "Whatever-1"})
    assert unknown.status_code == wrong.status_code == 401
    assert unknown.json == wrong.json == {"error": "unauthenticated", "message": "用户名或密码错误", "details": []}
    assert unknown.headers["WWW-Authenticate"] == wrong.headers["WWW-Authenticate"]
