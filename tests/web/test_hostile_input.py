"""Input that used to end as a 500 (issue 10, section 4) and the input limits of section 2: each is now a
4xx with a Chinese message, and changes nothing in the database. On SQLite and PostgreSQL, through
the API (bearer token, and the session cookie the task and modeler pages use) and the form pages."""
from __future__ import annotations

import io
import json

import pytest
from sqlalchemy import func, select

from engine.models import Base, Instance
from engine.services import timers
from tests.samples import SIMPLE_FORM, chain, lane, process, script_task, user_task
from tests.support.org import seed
from tests.support.web import Browser, Caller, assert_error
from web import create_app

DEEP_JSON = "[" * 1000 + "]" * 1000


@pytest.fixture
def app(duban):
    """The demo organisation behind the app, on SQLite and again on PostgreSQL."""
    seed(duban)
    app = create_app(duban=duban)
    app.config["TESTING"] = True
    return app


@pytest.fixture
def as_(app):
    """Bearer-authenticated callers, signed in before a test counts rows (a sign-in writes a token)."""
    client = app.test_client()
    callers = {name: Caller(client, name) for name in ("office", "admin", "designer")}

    def caller(username):
        if username not in callers:
            callers[username] = Caller(client, username)
        return callers[username]

    return caller


def row_counts(duban) -> dict:
    with duban.db.reading() as session:
        return {table.name: session.scalar(select(func.count()).select_from(table))
                for table in Base.metadata.sorted_tables}


def assert_refused(response, status=422):
    """A refusal in our error shape whose message is Chinese (and capped)."""
    body = assert_error(response, status)
    assert any("\u4e00" <= char <= "\u9fff" for char in body["message"]), body
    assert len(body["message"]) <= 500
    return body


def _open_task(as_, username="office"):
    item = as_("office").post("/api/v1/items", json={"title": "推进重点项目建设"}).json
    return as_(username).get(f"/api/v1/tasks?instance_id={item['instance_id']}").json[0]


def test_json_nested_1000_deep_is_refused_everywhere(duban, as_):
    task = _open_task(as_)
    before = row_counts(duban)
    for method, path, body in [
        ("post", "/api/v1/items", '{"title": %s}' % DEEP_JSON),
        ("post", "/api/v1/instances", '{"definition_key": "duban_main", "data": {"a": %s}}' % DEEP_JSON),
        ("post", f"/api/v1/tasks/{task['id']}/complete", '{"data": {"opinion": %s}}' % DEEP_JSON),
        ("post", "/api/v1/messages", DEEP_JSON),
        ("put", "/api/v1/calendar/days", DEEP_JSON),
        ("post", "/api/v1/auth/token", DEEP_JSON),
    ]:
        caller = as_("admin" if "calendar" in path else "office")
        response = getattr(caller.client, method)(path, data=body, content_type="application/json",
                                                  headers=caller.headers)
        body = assert_refused(response)
        assert "嵌套" in body["message"], (path, body)
    assert row_counts(duban) == before


def test_lone_surrogates_are_refused_in_any_string(duban, as_):
    task = _open_task(as_)
    before = row_counts(duban)
    for path, body in [
        ("/api/v1/items", '{"title": "推进\\ud800建设"}'),
        ("/api/v1/items", '{"title": "推进建设", "content": "\\udfff"}'),
        ("/api/v1/instances", '{"definition_key": "duban_main", "data": {"\\ud800": 1}}'),
        (f"/api/v1/tasks/{task['id']}/complete", '{"data": {"opinion": ["\\udc00"], "lead_unit": "fgj"}}'),
        ("/api/v1/auth/token", '{"username": "office\\ud800", "password": "x"}'),
    ]:
        response = as_("office").client.post(path, data=body, content_type="application/json",
                                             headers=as_("office").headers)
        body = assert_refused(response)
        assert "U+D800" in body["message"], (path, body)
    assert row_counts(duban) == before


def test_titles_of_invisible_or_reordering_characters_are_refused(duban, as_):
    before = row_counts(duban)
    for title in ("\u200b\u200c\u200d", "\u2060\ufeff\u200b", " \u3000\u200b ", "推进\u202e设建",
                  "\u2066重点\u2069项目", "项目\u202a建设"):
        body = assert_refused(as_("office").post("/api/v1/items", json={"title": title}))
        assert body["details"][0]["field"] == "title"
        assert "标题" in body["message"]
    assert row_counts(duban) == before
    # Zero-width characters inside visible text, and right-to-left text itself, are titles like any other.
    assert as_("office").post("/api/v1/items", json={"title": "推进\u200b重点项目"}).status_code == 201
    assert as_("office").post("/api/v1/items", json={"title": "مرحبا 项目"}).status_code == 201


def test_the_registration_page_refuses_such_titles_and_deep_json(duban, app):
    browser = Browser(app, "office")
    before = row_counts(duban)
    for title in ("\u200b\u200b", "\ufeff", "推进\u202e设建"):
        page = browser.post("/items/new", {"title": title, "category": "normal"})
        assert page.status_code == 422 and "标题不能" in page.text
    deep = browser.client.post("/items/new", data=DEEP_JSON, content_type="application/json",
                               headers={"X-CSRF-Token": browser.csrf})
    assert deep.status_code == 422 and "嵌套" in deep.text
    assert row_counts(duban) == before


def test_the_task_page_calls_refuse_deep_json_and_surrogates(duban, app, as_):
    """The task page submits with the session cookie and the CSRF header: same refusals."""
    task = _open_task(as_)
    browser = Browser(app, "office")
    before = row_counts(duban)
    for body in ('{"data": %s}' % DEEP_JSON, '{"data": {"opinion": "\\ud800", "lead_unit": "fgj"}}'):
        response = browser.client.post(f"/api/v1/tasks/{task['id']}/complete", data=body,
                                       content_type="application/json", headers={"X-CSRF-Token": browser.csrf})
        assert_refused(response)
    assert row_counts(duban) == before
    assert as_("office").get(f"/api/v1/tasks/{task['id']}").json["state"] == "open"


def _deploy(caller, xml: bytes, forms: dict | None = None, path="/api/v1/definitions", name="p.bpmn"):
    files = {"file": (io.BytesIO(xml), name)}
    if forms:
        files["forms"] = [(io.BytesIO(data), form_name) for form_name, data in forms.items()]
    return caller.post(path, data=files, content_type="multipart/form-data")


def _sample(form_ref="simple") -> str:
    return process(chain(user_task(1, f'camunda:formRef="{form_ref}"')), lanes=lane("office", "督查室", "e1")).decode()


@pytest.mark.parametrize("encoding,declared", [("utf-16", "UTF-16"), ("utf-16-be", "UTF-16"),
                                               ("utf-8-sig", "UTF-8"), ("gbk", "GBK")])
def test_bpmn_written_by_windows_tools_is_accepted(as_, encoding, declared):
    """UTF-16 with a BOM (and GBK, as Chinese code pages write) deploys as UTF-8 does; the stored XML is UTF-8."""
    xml = _sample().replace('encoding="UTF-8"', f'encoding="{declared}"')
    data = ("\ufeff" + xml).encode("utf-16-be") if encoding == "utf-16-be" else xml.encode(encoding)
    checked = _deploy(as_("designer"), data, {"simple.form": SIMPLE_FORM}, "/api/v1/definitions/validate")
    assert checked.status_code == 200, checked.json
    deployed = _deploy(as_("designer"), data, {"simple.form": SIMPLE_FORM})
    assert deployed.status_code == 201, deployed.json
    stored = as_("office").get("/api/v1/definitions/sample/xml")
    assert stored.data.startswith(b'<?xml version="1.0" encoding="UTF-8"?>') and "样例 sample" in stored.data.decode()
    started = as_("office").post("/api/v1/instances", json={"definition_key": "sample"})
    assert started.status_code == 201 and [t["element_id"] for t in started.json["tasks"]] == ["e1"]


def test_bpmn_in_an_unreadable_encoding_is_refused(duban, as_):
    before = row_counts(duban)
    for data in (_sample().replace('encoding="UTF-8"', 'encoding="zlib"').encode(),
                 _sample().replace('encoding="UTF-8"', 'encoding="x-unknown"').encode(),
                 _sample().replace("样例", "\udcff").encode("utf-8", "surrogateescape")):
        body = assert_refused(_deploy(as_("designer"), data, {"simple.form": SIMPLE_FORM}))
        assert body["error"] == "deployment_invalid" and body["details"][0]["file"] == "p.bpmn"
    assert row_counts(duban) == before


def test_deeply_nested_or_unstorable_forms_are_refused_at_deploy(duban, as_):
    deep_groups = {"type": "default", "id": "deep", "components": []}
    level = deep_groups
    for _ in range(40):
        level["components"].append({"type": "group", "components": []})
        level = level["components"][0]
    forms = [
        '{"type": "default", "id": "deep", "components": [%s]}' % DEEP_JSON,
        json.dumps(deep_groups),
        '{"type": "default", "id": "deep", "components": [{"type": "textfield", "key": "a", "label": "\\ud800"}]}',
    ]
    before = row_counts(duban)
    for form in forms:
        for path in ("/api/v1/definitions", "/api/v1/definitions/validate"):
            response = _deploy(as_("designer"), _sample("deep").encode(), {"deep.form": form.encode()}, path)
            body = assert_refused(response)
            assert body["error"] == "deployment_invalid" and "deep.form" in body["message"], body
    assert row_counts(duban) == before


def test_patterns_re2_cannot_run_are_refused_at_deploy_naming_the_field(duban, as_):
    before = row_counts(duban)
    for pattern in (r"^(\d)\1$", r"^(?=.*\d).+$", r"(?<!x)y"):
        form = {"type": "default", "id": "p", "components": [
            {"type": "textfield", "key": "code", "label": "编号", "validate": {"pattern": pattern}}]}
        body = assert_refused(_deploy(as_("designer"), _sample("p").encode(), {"p.form": json.dumps(form).encode()}))
        assert "字段“code”" in body["message"] and "pattern" in body["message"], body
    assert row_counts(duban) == before


def test_a_catastrophic_pattern_validates_a_long_submission_at_once(as_):
    form = {"type": "default", "id": "p", "components": [
        {"type": "textfield", "key": "code", "validate": {"pattern": "^(a+)+$"}}]}
    assert _deploy(as_("designer"), _sample("p").encode(), {"p.form": json.dumps(form).encode()}).status_code == 201
    task = as_("office").post("/api/v1/instances", json={"definition_key": "sample"}).json["tasks"][0]
    # 26 characters took Python's backtracking `re` some 4 s; the unit tests time 5000 (tests/unit/test_forms.py).
    refused = assert_error(as_("office").post(f"/api/v1/tasks/{task['id']}/complete",
                                              json={"data": {"code": "a" * 26 + "b"}}), 422, "form_invalid")
    assert refused["details"][0]["field"] == "code" and "格式不符合要求" in refused["details"][0]["message"]
    done = as_("office").post(f"/api/v1/tasks/{task['id']}/complete", json={"data": {"code": "a" * 5000}})
    assert done.status_code == 200, done.json


def test_submissions_over_the_size_limit_change_nothing(duban, as_):
    task = _open_task(as_)
    limit = duban.settings.max_submission_bytes
    assert limit == 256 * 1024
    big = "督" * (limit // 3 + 1)  # three bytes each in UTF-8
    before = row_counts(duban)
    for path, body in [
        (f"/api/v1/tasks/{task['id']}/complete", {"data": {"lead_unit": "fgj", "co_units": [], "opinion": big}}),
        ("/api/v1/instances", {"definition_key": "duban_extension", "data": {"note": big}}),
        ("/api/v1/messages", {"name": "anything", "data": {"note": big}}),
    ]:
        body = assert_refused(as_("office").post(path, json=body))
        assert "提交的数据过大" in body["message"] and str(limit) in body["message"], path
    assert row_counts(duban) == before
    assert as_("office").get(f"/api/v1/tasks/{task['id']}").json["state"] == "open"


def test_error_messages_are_capped(app, as_):
    """An error's text may echo what was sent (here an id in the path): the API and the pages cap it."""
    body = assert_error(as_("office").get(f"/api/v1/definitions/{'k' * 5000}/xml"), 404)
    assert len(body["message"]) == 500 and body["message"].endswith("…")
    body = assert_error(as_("office").get(f"/api/v1/tasks/{'x' * 5000}"), 404)
    assert len(body["message"]) == 500
    page = Browser(app, "office").get(f"/tasks/{'x' * 5000}")
    assert page.status_code == 404 and "x" * 600 not in page.text and "x" * 400 in page.text


def test_a_scripts_huge_exception_is_capped_in_the_answer_and_the_incident(duban, as_):
    """A designer's script raising megabytes of text: the API's answer and the stored incident stay small."""
    xml = process(chain(user_task(1, 'camunda:formRef="simple"'), script_task(2, 'raise ValueError("x" * 100000)')),
                  lanes=lane("office", "督查室", "e1", "e2"))
    assert _deploy(as_("designer"), xml, {"simple.form": SIMPLE_FORM}).status_code == 201
    started = as_("office").post("/api/v1/instances", json={"definition_key": "sample"}).json
    response = as_("office").post(f"/api/v1/tasks/{started['tasks'][0]['id']}/complete",
                                  json={"data": {"answer": "好"}})
    # Refused (422, the step's error as its message) or taken with the instance in error: small either way.
    assert response.status_code < 500 and len(response.get_data()) < 2000, response.status_code
    timers.record_incident(duban, started["id"], "ValueError: " + "x" * 100000)
    with duban.db.reading() as session:
        error = session.get(Instance, started["id"]).error
    assert len(error) == 500 and error.endswith("…")
    shown = as_("office").get(f"/api/v1/instances/{started['id']}").json
    assert len(shown["error"]) == 500


def test_the_calendar_import_refuses_yaml_aliases_and_large_files(duban, as_):
    bomb = b'2027:\n  holidays:\n    - [&a ["2027-01-01","2027-01-01"], &b [*a,*a,*a], &c [*b,*b,*b]]\n'
    before = row_counts(duban)
    for data, reason in ((bomb, "锚点和别名"), (b"# " + b"x" * 300_000, "超过上限 262144 字节")):
        response = as_("admin").post("/api/v1/calendar/import", data={"file": (io.BytesIO(data), "2027.yaml")},
                                     content_type="multipart/form-data")
        assert reason in assert_refused(response)["message"]
    assert_error(as_("office").post("/api/v1/calendar/import", data={"file": (io.BytesIO(bomb), "2027.yaml")},
                                    content_type="multipart/form-data"), 403)
    assert row_counts(duban) == before
