"""The handlers' pages through Flask's test client: sessions, CSRF, idle timeout, refusals as pages."""
import re

from tests.support.web import Browser, csrf_of


def task_ids(html: str) -> list[str]:
    return re.findall(r'data-task="([0-9a-f-]{36})"', html)


def test_pages_send_strangers_to_sign_in(app):
    response = app.test_client().get("/tasks?scope=unit")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=/tasks")


def test_sign_in_and_out(app):
    browser = Browser(app)
    wrong = browser.login("office", "not-the-password")
    assert wrong.status_code == 401 and "用户名或密码错误" in wrong.text
    response = browser.login("office", next_path="/items/new")
    assert response.headers["Location"] == "/items/new"
    assert browser.get("/tasks").status_code == 200
    assert browser.post("/logout").status_code == 302
    assert browser.get("/tasks").status_code == 302  # the server-side session is gone


def test_sign_in_never_redirects_off_site(app):
    for target in ("https://evil.example/", "//evil.example/x", "javascript:alert(1)"):
        response = Browser(app).login("office", next_path=target)
        assert response.headers["Location"] == "/tasks", target


def test_every_cookie_change_needs_the_csrf_token(app):
    browser = Browser(app, "office")
    refused = browser.post("/items/new", {"title": "伪造"}, csrf=False)
    assert refused.status_code == 403 and "CSRF" in refused.text
    api = browser.client.post("/api/v1/items", json={"title": "伪造"})
    assert api.status_code == 403 and api.json["details"][0]["field"] == "csrf_token"
    with_token = browser.client.post("/api/v1/items", json={"title": "真实"}, headers={"X-CSRF-Token": browser.csrf})
    assert with_token.status_code == 201
    assert len(re.findall("伪造", browser.get("/items").text)) == 0
    login_csrf = app.test_client().post("/login", data={"username": "office", "password": "duban-demo"})
    assert login_csrf.status_code == 403


def test_an_idle_session_lapses(app, duban_sqlite):
    browser = Browser(app, "office")
    duban_sqlite.clock.advance(minutes=29)
    assert browser.get("/tasks").status_code == 200  # activity restarts the idle period
    duban_sqlite.clock.advance(minutes=31)
    response = browser.get("/tasks")
    assert response.status_code == 302 and "reason=" in response.headers["Location"]
    assert "会话已超时" in browser.get(response.headers["Location"]).text
    assert browser.client.get("/api/v1/me").status_code == 401


def test_registering_an_item_with_inline_errors(app):
    browser = Browser(app, "office")
    form = browser.get("/items/new")
    assert form.status_code == 200 and 'name="title"' in form.text
    empty = browser.post("/items/new", {"title": "", "category": "normal"})
    assert empty.status_code == 422 and 'class="field-error"' in empty.text
    late = browser.post("/items/new", {"title": "过期", "deadline": "2020-01-01"})
    assert late.status_code == 422 and "不能早于当前时间" in late.text
    created = browser.post("/items/new", {"title": "推进营商环境", "source": "instruction", "category": "urgent",
                                          "classification": "internal"})
    assert created.status_code == 302
    item_page = browser.get(created.headers["Location"])
    assert item_page.status_code == 200 and "推进营商环境" in item_page.text and "已立项" in item_page.text
    inbox = browser.get("/tasks")
    assert "拟办" in inbox.text and "推进营商环境" in inbox.text
    task = browser.get(f"/tasks/{task_ids(inbox.text)[0]}")
    assert task.status_code == 200 and '"lead_unit"' in task.text  # the form-js schema is on the page


def test_times_on_pages_are_read_in_beijing_time(app):
    office = Browser(app, "office")
    office.post("/items/new", {"title": "县委交办事项"})
    task_id = task_ids(office.get("/tasks").text)[0]
    page = office.get(f"/tasks/{task_id}").text
    # Registered Monday 2026-09-28 09:00 Beijing; a normal item is due 2026-10-16 at the close of work.
    assert ">2026年9月28日 09:00<" in page and ">2026年10月16日 17:30<" in page
    assert '<time datetime="2026-10-16T' in page  # machines still read ISO 8601
    assert not re.search(r">\s*20\d\d-\d\d-\d\d", page)


def test_refusals_are_pages_not_json(app):
    office = Browser(app, "office")
    office.post("/items/new", {"title": "县委交办事项"})
    task_id = task_ids(office.get("/tasks").text)[0]
    unit = Browser(app, "unit_a")
    forbidden = unit.get("/items/new")
    assert forbidden.status_code == 403 and "无权访问" in forbidden.text
    assert forbidden.mimetype == "text/html"
    hidden = unit.get(f"/tasks/{task_id}")
    assert hidden.status_code == 404 and "未找到" in hidden.text
    assert unit.get("/items/1").status_code == 404
    assert unit.get("/no/such/page").status_code == 404
    # What the error pages say is Chinese, whether the engine or the router refused.
    missing = office.get("/items/9999")
    assert missing.status_code == 404 and "督办事项 9999 不存在" in missing.text
    nowhere = unit.get("/no/such/page")
    assert "所访问的内容不存在" in nowhere.text and "requested URL" not in nowhere.text


def test_security_headers(app):
    response = Browser(app, "office").get("/tasks")
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["Cache-Control"] == "no-store"
    browser = Browser(app)
    browser.csrf = csrf_of(browser.get("/login").text)
    signed_in = browser.client.post("/login", data={"username": "office", "password": "duban-demo",
                                                    "csrf_token": browser.csrf})
    cookie = signed_in.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_inbox_fragment_and_notifications(app):
    office = Browser(app, "office")
    office.post("/items/new", {"title": "片段事项"})
    fragment = office.get("/tasks?fragment=1")
    assert fragment.status_code == 200 and "<html" not in fragment.text and "片段事项" in fragment.text
    page = office.get("/notifications")
    assert page.status_code == 200 and "片段事项" in page.text
    assert office.post("/notifications/read").status_code == 302
    assert office.client.get("/api/v1/notifications/unread-count").json["count"] == 0


def test_a_leader_praises_a_unit_from_the_item_page(app, duban_sqlite):
    from engine import services
    from tests.integration.flow import through_assignment
    from tests.support.org import Org

    item = through_assignment(duban_sqlite, Org(duban_sqlite))
    leader = Browser(app, "leader")
    page = leader.get(f"/items/{item['id']}")
    assert "领导表扬" in page.text
    assert "领导表扬" not in Browser(app, "office").get(f"/items/{item['id']}").text
    done = leader.post(f"/items/{item['id']}/praise", {"unit": "fgj", "note": "工作扎实"})
    assert "praised=fgj" in done.headers["Location"]
    again = leader.post(f"/items/{item['id']}/praise", {"unit": "fgj"})
    assert "praise_error=" in again.headers["Location"]
    assert Browser(app, "office").post(f"/items/{item['id']}/praise", {"unit": "fgj"}).status_code == 403
    lines = services.assessment.unit_lines(duban_sqlite, Org(duban_sqlite)["office"], 2026, "fgj")["lines"]
    assert any("工作扎实" in line["detail"] for line in lines)
