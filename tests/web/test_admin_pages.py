"""三员分立 pages: the auditor reads the chained log, the security administrator manages roles,
locks and passwords, everyone changes their own password."""
import re

from tests.support.web import Browser, csrf_of


def test_the_auditor_sees_sign_ins_and_an_intact_chain(app):
    Browser(app, "office")
    Browser(app).login("office", "wrong-password")
    page = Browser(app, "auditor").get("/audit?action=auth.*")
    assert page.status_code == 200 and "哈希链完整" in page.text
    assert "<code>auth.login</code>" in page.text and "<code>auth.login_failed</code>" in page.text
    assert "督查室 王主任<br><small>office</small>" in page.text  # who acted: by name, and the account
    assert Browser(app, "secadmin").get("/audit").status_code == 403
    assert Browser(app, "admin").get("/audit").status_code == 403


def test_the_auditor_sees_a_broken_chain(app, duban_sqlite):
    Browser(app, "office")
    with duban_sqlite.db.engine.begin() as connection:
        connection.exec_driver_sql("UPDATE audit_log SET actor = 'someone' WHERE id = 1")
    page = Browser(app, "auditor").get("/audit")
    assert "哈希链在第 1 条记录处断开" in page.text


def test_the_security_administrator_grants_revokes_and_unlocks(app):
    for _ in range(5):
        Browser(app).login("unit_a", "wrong-password")
    assert Browser(app).login("unit_a").status_code == 401  # locked
    sec = Browser(app, "secadmin")
    listing = sec.get("/admin/users")
    assert listing.status_code == 200 and "已锁定" in listing.text
    assert sec.post("/admin/users/unit_a", {"action": "unlock"}).status_code == 302
    assert Browser(app).login("unit_a").status_code == 302
    granted = sec.post("/admin/users/designer", {"action": "grant", "role": "office"})
    assert "已授予角色" in sec.get(granted.headers["Location"]).text
    refused = sec.post("/admin/users/admin", {"action": "grant", "role": "auditadmin"})  # 三员分立
    assert "error=" in refused.headers["Location"]
    weak = sec.post("/admin/users/unit_b", {"action": "password", "password": "123"})
    assert "error=" in weak.headers["Location"]
    assert sec.post("/admin/users/unit_b", {"action": "revoke", "role": "unit"}).status_code == 302
    assert Browser(app, "admin").post("/admin/users/unit_b", {"action": "grant", "role": "unit"}).status_code == 403
    assert sec.post("/admin/users/unit_b", {"action": "grant", "role": "unit"}, csrf=False).status_code == 403


def test_changing_ones_own_password(app):
    me = Browser(app, "leader")
    assert me.get("/account/password").status_code == 200
    mismatch = me.post("/account/password", {"old_password": "duban-demo", "new_password": "Ab3$efgh",
                                             "confirm": "different"})
    assert mismatch.status_code == 422 and "不一致" in mismatch.text
    weak = me.post("/account/password", {"old_password": "duban-demo", "new_password": "abc", "confirm": "abc"})
    assert weak.status_code == 422
    ok = me.post("/account/password", {"old_password": "duban-demo", "new_password": "Ab3$efgh",
                                       "confirm": "Ab3$efgh"})
    assert ok.status_code == 200 and "口令已修改" in ok.text
    assert Browser(app).login("leader", "Ab3$efgh").status_code == 302


def test_a_password_set_by_someone_else_leads_to_the_password_page_first(app):
    sec = Browser(app, "secadmin")
    listing = sec.get("/admin/users").text
    assert "三员账号的口令只能在服务器命令行重置" in listing  # no reset form for the administrators
    refused = sec.post("/admin/users/auditor", {"action": "password", "password": "Ch4nge-me!"})
    assert "reset-password" in sec.get(refused.headers["Location"]).text
    assert "已重置口令" in sec.get(sec.post("/admin/users/unit_a", {"action": "password",
                                                               "password": "Ch4nge-me!"}).headers["Location"]).text
    me = Browser(app)
    signed_in = me.client.post("/login", data={"username": "unit_a", "password": "Ch4nge-me!",
                                               "csrf_token": csrf_of(me.client.get("/login").text)})
    assert signed_in.status_code == 302
    for path in ("/tasks", "/items", "/notifications"):
        assert me.get(path).headers["Location"] == "/account/password", path
    page = me.get("/account/password")
    assert page.status_code == 200 and "须先修改口令" in page.text
    me.csrf = csrf_of(page.text)
    done = me.post("/account/password", {"old_password": "Ch4nge-me!", "new_password": "Zh3ng-Tong!",
                                         "confirm": "Zh3ng-Tong!"})
    assert done.status_code == 200 and "口令已修改" in done.text
    assert me.get("/tasks").status_code == 200
    assert me.post("/logout").status_code == 302


def test_the_sign_in_page_answers_alike_for_an_unknown_user_and_a_wrong_password(app):
    pages = [Browser(app).login(name, "Whatever-1") for name in ("nobody", "office")]
    said = [re.search(r'<p class="error" role="alert">(.*?)</p>', page.text).group(1) for page in pages]
    assert [page.status_code for page in pages] == [401, 401] and said == ["用户名或密码错误"] * 2
