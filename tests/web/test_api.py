"""The HTTP API of the contract, through Flask's test client, with the error format everywhere."""
import io
import re

import pytest

from tests.samples import SIMPLE_FORM, boundary_timer, chain, lane, process, script_task, timer_event, user_task
from tests.support.web import assert_error


def test_health_needs_no_login(client):
    assert client.get("/healthz").json == {"status": "ok", "database": "ok", "broker": "embedded"}


@pytest.mark.parametrize("method,path", [
    ("get", "/api/v1/me"), ("get", "/api/v1/units"), ("get", "/api/v1/definitions"),
    ("post", "/api/v1/definitions"), ("get", "/api/v1/definitions/duban_main/xml"),
    ("post", "/api/v1/instances"), ("get", "/api/v1/instances"), ("get", "/api/v1/instances/1"),
    ("post", "/api/v1/items"), ("get", "/api/v1/items"), ("get", "/api/v1/items/1"),
    ("get", "/api/v1/tasks"), ("get", "/api/v1/tasks/x"), ("post", "/api/v1/tasks/x/claim"),
    ("post", "/api/v1/tasks/x/complete"), ("post", "/api/v1/messages"),
])
def test_every_endpoint_needs_a_token(client, method, path):
    response = getattr(client, method)(path, json={})
    assert_error(response, 401, "unauthenticated")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert_error(getattr(client, method)(path, json={}, headers={"Authorization": "Bearer nope"}), 401)


def test_tokens_and_lockout(client):
    assert_error(client.post("/api/v1/auth/token", json={"username": "office", "password": "wrong"}), 401)
    assert_error(client.post("/api/v1/auth/token", json={"username": "ghost", "password": "x"}), 401)
    assert_error(client.post("/api/v1/auth/token", json={"username": "office"}), 422, "invalid_input")
    for _ in range(5):
        client.post("/api/v1/auth/token", json={"username": "leader", "password": "wrong"})
    body = assert_error(client.post("/api/v1/auth/token", json={"username": "leader", "password": "duban-demo"}), 401)
    assert "锁定" in body["message"]
    token = client.post("/api/v1/auth/token", json={"username": "office", "password": "duban-demo"}).json["token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    assert client.delete("/api/v1/auth/token", headers=headers).status_code == 204
    assert_error(client.get("/api/v1/me", headers=headers), 401)


def test_me_and_units(as_):
    me = as_("unit_a").get("/api/v1/me").json
    assert (me["username"], me["roles"], me["unit"]) == ("unit_a", ["unit"], "fgj")
    units = {u["id"]: u["kind"] for u in as_("unit_a").get("/api/v1/units").json}
    assert units["fgj"] == "unit" and units["dcs"] == "office" and units["xjw"] == "discipline"


def _sample_files():
    xml = process(chain(user_task(1, 'camunda:formRef="simple"')), lanes=lane("office", "督查室", "e1"))
    return {"file": (io.BytesIO(xml), "sample.bpmn"), "forms": (io.BytesIO(SIMPLE_FORM), "simple.form")}


def test_deploying_over_http(as_):
    response = as_("designer").post("/api/v1/definitions", data=_sample_files(), content_type="multipart/form-data")
    assert response.status_code == 201, response.json
    assert (response.json["key"], response.json["version"]) == ("sample", 1)
    again = as_("designer").post("/api/v1/definitions", data=_sample_files(), content_type="multipart/form-data")
    assert (again.json["version"], again.json["created"]) == (1, False)
    assert {d["key"] for d in as_("office").get("/api/v1/definitions").json} == {
        "duban_main", "duban_extension", "sample"}
    xml = as_("office").get("/api/v1/definitions/sample/xml")
    assert xml.status_code == 200 and xml.mimetype == "application/xml" and b'id="sample"' in xml.data
    assert_error(as_("office").get("/api/v1/definitions/nothing/xml"), 404, "not_found")


def test_invalid_bpmn_is_422_naming_the_element(as_):
    xml = process(chain(user_task(1)), lanes=lane("office", "督查室"))
    files = {"file": (io.BytesIO(xml), "bad.bpmn")}
    body = assert_error(as_("designer").post("/api/v1/definitions", data=files, content_type="multipart/form-data"),
                        422, "deployment_invalid")
    assert body["details"][0]["element"] == "e1" and body["details"][0]["file"] == "bad.bpmn"
    broken = {"file": (io.BytesIO(b"<bpmn:definitions"), "broken.bpmn")}
    assert_error(as_("designer").post("/api/v1/definitions", data=broken, content_type="multipart/form-data"), 422)
    assert_error(as_("designer").post("/api/v1/definitions", data={}, content_type="multipart/form-data"), 422)
    assert_error(as_("office").post("/api/v1/definitions", data=_sample_files(),
                                    content_type="multipart/form-data"), 403, "forbidden")


# Four or more English words in a row: a sentence no catalogue key wrote.
ENGLISH_SENTENCE = re.compile(r"[A-Za-z]+(?:[ ,.;:'\"()/-]+[A-Za-z]+){3,}")


def test_every_problem_of_a_refused_upload_is_chinese_and_names_its_element(as_):
    body = chain(
        user_task(1, 'camunda:formRef="missing"'),
        '<bpmn:serviceTask id="e2" name="外部调用"/>',
        '<bpmn:complexGateway id="e3" name="汇合"/>',
        script_task(4, "x = 1", "groovy"),
        '<bpmn:task id="e5" name="逐项"><bpmn:multiInstanceLoopCharacteristics camunda:collection="${items.all()}"/>'
        "</bpmn:task>",
        '<bpmn:callActivity id="e6" name="子流程" calledElement="elsewhere"/>',
        user_task(7),
        timer_event(8, "timeDuration", "${wait.plus(1)}"),
    ) + '<bpmn:dataStoreReference id="store" name="档案库"/>'  # only a warning
    expected = {  # element: what its message says, in the designer's terms
        "e1": "用户任务“任务1”（e1）：找不到表单“missing”",
        "e2": "服务任务“外部调用”（e2）：服务任务未声明外部任务主题",
        "e3": "复杂网关“汇合”（e3）：不支持复杂网关（complexGateway）",
        "e4": "脚本任务“脚本4”（e4）：脚本语言“groovy”不受支持：脚本须为 Python",
        "e5": "任务“逐项”（e5）：不支持 Camunda 式多实例（camunda:collection）",
        "e6": "调用活动“子流程”（e6）：调用的流程“elsewhere”既不在本次部署中",
        "e7": "用户任务“任务7”（e7）：不在任何泳道内",
        "e8": "中间捕获事件“等待8”（e8）：定时器“${wait.plus(1)}”是 JUEL/FEEL 表达式",
    }
    for path in ("/api/v1/definitions", "/api/v1/definitions/validate"):
        files = {"file": (io.BytesIO(process(body, lanes=lane("office", "督查室", "e1"))), "many.bpmn")}
        refused = assert_error(as_("designer").post(path, data=files, content_type="multipart/form-data"),
                               422, "deployment_invalid")
        said = {d["element"]: d["message"] for d in refused["details"]}
        assert set(said) == set(expected), said
        for element, message in said.items():
            assert message.startswith(expected[element]), message
        assert refused["message"].endswith(f"（另有 {len(expected) - 1} 个问题）"), refused["message"]
        for message in [refused["message"], *said.values()]:
            assert re.search("[\u4e00-\u9fff]", message) and not ENGLISH_SENTENCE.search(message), message
        assert {tuple(sorted(d)) for d in refused["details"]} == {("element", "file", "line", "message", "rule")}


def test_a_broken_limit_is_422_naming_element_and_rule(as_):
    xml = process(chain(user_task(1)) + boundary_timer("timeCycle", "R/PT0.001S"),
                  lanes=lane("office", "督查室", "e1", "remind"))
    for path in ("/api/v1/definitions", "/api/v1/definitions/validate"):
        files = {"file": (io.BytesIO(xml), "fast.bpmn")}
        body = assert_error(as_("designer").post(path, data=files, content_type="multipart/form-data"),
                            422, "deployment_invalid")
        [detail] = body["details"]
        assert (detail["element"], detail["rule"]) == ("tick", "timer-min-cycle")
        assert "短于允许的最小间隔 60 秒" in detail["message"] and detail["message"] in body["message"]


def test_generic_instances(as_):
    as_("designer").post("/api/v1/definitions", data=_sample_files(), content_type="multipart/form-data")
    started = as_("office").post("/api/v1/instances", json={"definition_key": "sample", "data": {"n": 1}})
    assert started.status_code == 201, started.json
    body = started.json
    assert (body["status"], body["definition_key"], body["version"], body["data"]["n"]) == ("running", "sample", 1, 1)
    assert [t["element_id"] for t in body["tasks"]] == ["e1"]
    listed = as_("office").get("/api/v1/instances?definition_key=sample&status=running")
    assert [i["id"] for i in listed.json] == [body["id"]] and "X-Pagination" in listed.headers
    assert as_("office").get("/api/v1/instances?overdue=1").json == []
    assert_error(as_("office").post("/api/v1/instances", json={"definition_key": "none"}), 404)
    assert_error(as_("office").post("/api/v1/instances", json={"definition_key": "sample", "data": {"__x": 1}}), 422)
    assert_error(as_("unit_a").post("/api/v1/instances", json={"definition_key": "sample"}), 403)
    assert_error(as_("unit_a").get(f"/api/v1/instances/{body['id']}"), 404)
    assert_error(as_("office").get("/api/v1/instances/999999"), 404)


def test_the_main_path_over_http_with_every_refusal(as_):
    item = as_("office").post("/api/v1/items", json={"title": "推进项目", "source": "instruction",
                                                     "category": "normal", "classification": "internal"})
    assert item.status_code == 201, item.json
    item = item.json
    assert item["instance_id"] and item["status"] == "drafting"
    assert_error(as_("office").post("/api/v1/items", json={"category": "huge"}), 422, "invalid_input")
    assert_error(as_("unit_a").post("/api/v1/items", json={"title": "越权"}), 403)

    def task_of(user, element, unit=None):
        tasks = as_(user).get("/api/v1/tasks").json
        return next(t for t in tasks if t["element_id"] == element and (unit is None or t["unit"] == unit))

    def complete(user, element, data, unit=None):
        task = task_of(user, element, unit)
        response = as_(user).post(f"/api/v1/tasks/{task['id']}/complete", json={"data": data})
        assert response.status_code == 200, response.json
        return task

    draft = task_of("office", "draft_opinion")
    detail = as_("office").get(f"/api/v1/tasks/{draft['id']}").json
    assert detail["form"]["id"] == "draft_opinion" and detail["lane"] == "office"
    assert {o["value"] for o in detail["data"]["unit_options"]} == {"fgj", "czj", "jyj", "zjj"}
    missing = assert_error(as_("office").post(f"/api/v1/tasks/{draft['id']}/complete", json={"data": {}}),
                           422, "form_invalid")
    assert {d["field"] for d in missing["details"]} == {"lead_unit", "opinion"}
    assert_error(as_("office").post(f"/api/v1/tasks/{draft['id']}/complete", data="{bad",
                                    content_type="application/json"), 400)
    assert_error(as_("leader").post(f"/api/v1/tasks/{draft['id']}/complete", json={"data": {}}), 403)
    complete("office", "draft_opinion", {"lead_unit": "fgj", "co_units": ["czj"], "opinion": "请办理"})
    assert_error(as_("office").post(f"/api/v1/tasks/{draft['id']}/complete",
                                    json={"data": {"lead_unit": "fgj", "opinion": "x"}}), 409, "task_completed")
    complete("leader", "leader_approval", {"decision": "approve"})
    complete("office", "assign", {"notice": "交办通知单"})

    receive_a = task_of("unit_a", "unit_receive", "fgj")
    # units see only their own unit's tasks: the co-unit's is not there for unit_b
    assert_error(as_("unit_b").post(f"/api/v1/tasks/{receive_a['id']}/complete", json={"data": {}}), 404)
    claimed = as_("unit_a").post(f"/api/v1/tasks/{receive_a['id']}/claim")
    assert claimed.status_code == 200 and claimed.json["assignee"] == "unit_a"
    receive = {"first_responsible": "局长", "responsible": "科长", "handler": "科员", "committed_date": "2026-10-15"}
    for user, unit in (("unit_a", "fgj"), ("unit_b", "czj")):
        complete(user, "unit_receive", receive, unit)
        complete(user, "unit_report", {"summary": "已办结", "approved_by_deputy": True}, unit)
        complete("office", "office_review", {"decision": "accept"}, unit)
    complete("office", "feedback", {"summary": "已反馈"})

    final = as_("office").get(f"/api/v1/instances/{item['instance_id']}").json
    assert final["status"] == "completed" and final["tasks"] == []
    assert [h["element_id"] for h in final["history"] if h["action"] == "completed"][-1] == "feedback"
    ledger = as_("office").get(f"/api/v1/items/{item['id']}").json
    assert ledger["status"] == "closed" and {p["unit"] for p in ledger["persons"]} == {"fgj", "czj"}
    assert as_("unit_a").get(f"/api/v1/items/{item['id']}").status_code == 200
    assert_error(as_("discipline").get(f"/api/v1/items/{item['id']}"), 404)


def test_common_refusals_are_chinese(as_):
    """What people are refused most often says why in Chinese, in `message` and in each field error."""
    def chinese(body):
        for message in [body["message"], *(d["message"] for d in body["details"])]:
            assert re.search("[\u4e00-\u9fff]", message) and not ENGLISH_SENTENCE.search(message), message
        return body

    office = as_("office")
    item = office.post("/api/v1/items", json={"title": "推进项目", "source": "instruction", "category": "normal",
                                              "classification": "internal"}).json
    draft = next(t for t in office.get("/api/v1/tasks").json if t["element_id"] == "draft_opinion")
    missing = chinese(assert_error(office.post(f"/api/v1/tasks/{draft['id']}/complete", json={"data": {}}),
                                   422, "form_invalid"))
    assert {(d["field"], d["message"]) for d in missing["details"]} == {
        ("lead_unit", "此项必填"), ("opinion", "此项必填")}
    done = {"lead_unit": "fgj", "co_units": ["czj"], "opinion": "请办理"}
    assert office.post(f"/api/v1/tasks/{draft['id']}/complete", json={"data": done}).status_code == 200
    twice = chinese(assert_error(office.post(f"/api/v1/tasks/{draft['id']}/complete", json={"data": done}),
                                 409, "task_completed"))
    assert "已办结" in twice["message"]
    assert "9999" in chinese(assert_error(office.get("/api/v1/items/9999"), 404, "not_found"))["message"]
    chinese(assert_error(office.post("/api/v1/items", json={"title": "", "deadline": "2020-01-01"}), 422))
    chinese(assert_error(office.post("/api/v1/items", json={"title": "过期", "deadline": "2020-01-01"}), 422))
    chinese(assert_error(office.post("/api/v1/items", json={"title": "x", "category": "huge"}), 422))

    leader = next(t for t in as_("leader").get("/api/v1/tasks").json if t["element_id"] == "leader_approval")
    assert as_("leader").post(f"/api/v1/tasks/{leader['id']}/complete",
                              json={"data": {"decision": "approve"}}).status_code == 200
    assign = next(t for t in office.get("/api/v1/tasks").json if t["element_id"] == "assign")
    assert office.post(f"/api/v1/tasks/{assign['id']}/complete", json={"data": {"notice": "交办"}}).status_code == 200
    # 财政局 (unit_b) asks for 发改局's extension: a unit speaks only for itself.
    chinese(assert_error(as_("unit_b").post(f"/api/v1/items/{item['id']}/extensions", json={
        "unit": "fgj", "reason": "资金未到位", "head": "局长", "head_signed": True, "new_deadline": "2026-12-31"}),
        403))
    receive = next(t for t in as_("unit_a").get("/api/v1/tasks").json if t["element_id"] == "unit_receive")
    late = chinese(assert_error(as_("unit_a").post(f"/api/v1/tasks/{receive['id']}/complete", json={"data": {
        "first_responsible": "局长", "responsible": "科长", "handler": "科员", "committed_date": "明天"}}), 422))
    assert [d["field"] for d in late["details"]] == ["committed_date"]

    weak = chinese(assert_error(as_("unit_a").post("/api/v1/me/password", json={
        "old_password": "duban-demo", "new_password": "unit_a123"}), 422))
    assert len(weak["details"]) >= 1
    chinese(assert_error(office.get("/api/v1/nothing"), 404, "not_found"))
    chinese(assert_error(office.post("/api/v1/me/password", json={}), 422))


def test_unknown_paths_and_methods_answer_in_json(as_):
    assert_error(as_("office").get("/api/v1/nothing"), 404, "not_found")
    assert_error(as_("office").client.put("/api/v1/items", headers=as_("office").headers, json={}), 405)


def test_openapi_documents_every_endpoint(client):
    spec = client.get("/api/openapi.json").json
    paths = set(spec["paths"])
    for path in ("/api/v1/auth/token", "/api/v1/me", "/api/v1/units", "/api/v1/definitions",
                 "/api/v1/definitions/{key}/xml", "/api/v1/instances", "/api/v1/instances/{instance_id}",
                 "/api/v1/items", "/api/v1/items/{item_id}", "/api/v1/tasks", "/api/v1/tasks/{task_id}",
                 "/api/v1/tasks/{task_id}/claim", "/api/v1/tasks/{task_id}/complete", "/api/v1/messages"):
        assert path in paths, path


def test_notifications_over_http(as_):
    item = as_("office").post("/api/v1/items", json={"title": "通知事项"}).json
    office = as_("office")
    count = office.get("/api/v1/notifications/unread-count").json["count"]
    assert count >= 1  # the 拟办 task reached the office
    listed = office.get("/api/v1/notifications?unread=1")
    assert listed.status_code == 200 and len(listed.json) == count
    assert any(item["title"] in n["title"] + n.get("body", "") for n in listed.json)
    first = listed.json[0]["id"]
    assert_error(as_("leader").post(f"/api/v1/notifications/{first}/read"), 404)
    assert office.post(f"/api/v1/notifications/{first}/read").status_code == 200
    assert office.get("/api/v1/notifications/unread-count").json["count"] == count - 1
    office.post("/api/v1/notifications/read-all")
    assert office.get("/api/v1/notifications/unread-count").json["count"] == 0
    assert as_("unit_a").get("/api/v1/notifications").json == []


def test_calendar_and_recalculate_over_http(as_):
    year = as_("unit_a").get("/api/v1/calendar/2026").json
    assert year["loaded"] and any(d["date"] == "2026-10-01" and not d["workday"] for d in year["days"])
    assert_error(as_("office").client.put("/api/v1/calendar/days", headers=as_("office").headers,
                                          json={"date": "2026-12-21", "workday": False, "note": "x"}), 403)
    changed = as_("admin").client.put("/api/v1/calendar/days", headers=as_("admin").headers,
                                      json={"date": "2026-12-21", "workday": False, "note": "地方假日"})
    assert changed.status_code == 200, changed.json
    assert not next(d for d in as_("admin").get("/api/v1/calendar/2026").json["days"]
                    if d["date"] == "2026-12-21")["workday"]
    upload = as_("admin").post("/api/v1/calendar/import", data={"file": (io.BytesIO(
        b"2027:\n  holidays: [2027-01-01]\n  workdays: [2027-02-07]\n"), "2027.yaml")},
        content_type="multipart/form-data")
    assert upload.status_code == 200, upload.json
    assert as_("admin").get("/api/v1/calendar/2027").json["loaded"]
    bad = as_("admin").post("/api/v1/calendar/import", data={"file": (io.BytesIO(b"\xff\xfe"), "x.csv")},
                            content_type="multipart/form-data")
    assert_error(bad, 422)
    assert_error(as_("office").post("/api/v1/admin/recalculate"), 403)
    assert as_("admin").post("/api/v1/admin/recalculate").status_code == 200


def test_validating_without_deploying_and_reading_forms(as_):
    files = {"file": (io.BytesIO(process(chain(user_task(1, 'camunda:formRef="simple"')),
                                         lanes=lane("office", "督查室", "e1"))), "p.bpmn"),
             "forms": (io.BytesIO(SIMPLE_FORM), "simple.form")}
    checked = as_("designer").post("/api/v1/definitions/validate", data=files, content_type="multipart/form-data")
    assert checked.status_code == 200 and checked.json[0]["key"] == "sample"
    assert as_("designer").get("/api/v1/definitions/sample/xml").status_code == 404  # nothing was deployed
    outside = {"file": (io.BytesIO(process(chain(user_task(1, 'camunda:formRef="simple"'), user_task(2)),
                                           lanes=lane("office", "督查室", "e1"))), "p.bpmn"),
               "forms": (io.BytesIO(SIMPLE_FORM), "simple.form")}
    refused = assert_error(as_("designer").post("/api/v1/definitions/validate", data=outside,
                                                content_type="multipart/form-data"), 422)
    assert any(d.get("element") == "e2" for d in refused["details"])
    assert_error(as_("unit_a").post("/api/v1/definitions/validate", data={
        "file": (io.BytesIO(b"<x/>"), "p.bpmn")}, content_type="multipart/form-data"), 403)
    forms = as_("office").get("/api/v1/definitions/duban_main/forms")
    assert forms.status_code == 200 and "draft_opinion" in forms.json["forms"]
    assert_error(as_("office").get("/api/v1/definitions/nothing/forms"), 404)
