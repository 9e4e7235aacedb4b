"""发起: any deployed process started by whom it declares, with its start form; one that declares a 督办
item lands in the ledger. And the modeler's catalogue of 督办 steps."""
import io
import json

from tests.support.npc import START_FORM, npc_process
from tests.support.org import BPMN
from tests.support.web import Browser, assert_error


def deploy_npc(as_, starters="office", reply_form="reply", status=201):
    files = [("file", (io.BytesIO(npc_process(starters, reply_form)), "npc.bpmn")),
             ("forms", (io.BytesIO(json.dumps(START_FORM).encode()), "npc_start.form"))]
    for name in ("draft_opinion", "unit_report", "reply", "satisfaction", "feedback"):
        files.append(("forms", (io.BytesIO((BPMN / "forms" / f"{name}.form").read_bytes()), f"{name}.form")))
    data = {}
    for field, value in files:
        data.setdefault(field, []).append(value)
    response = as_("designer").post("/api/v1/definitions", data=data, content_type="multipart/form-data")
    assert response.status_code == status, response.json
    return response.json


def _task(as_, user, element):
    tasks = as_(user).get("/api/v1/tasks").json
    [task] = [t for t in tasks if t["element_id"] == element]
    return task


def _complete(as_, user, element, data):
    response = as_(user).post(f"/api/v1/tasks/{_task(as_, user, element)['id']}/complete", json={"data": data})
    assert response.status_code == 200, response.json


def test_a_declared_item_process_started_through_the_api_is_in_the_ledger(as_):
    deploy_npc(as_)
    startable = {p["key"]: p for p in as_("office").get("/api/v1/processes/startable").json}
    assert startable["npc"]["item"] is True and startable["npc"]["form"]["id"] == "npc_start"
    assert "npc" not in {p["key"] for p in as_("unit_a").get("/api/v1/processes/startable").json}
    assert_error(as_("unit_a").post("/api/v1/processes/npc/start", json={"data": {"title": "x"}}), 403)
    assert_error(as_("office").post("/api/v1/processes/npc/start", json={"data": {}}), 422)

    started = as_("office").post("/api/v1/processes/npc/start", json={"data": {
        "title": "关于加快农村公路建设的建议", "delegate": "张代表", "source": "npc_suggestion"}})
    assert started.status_code == 201, started.json
    item_id = started.json["item_id"]
    ledger = as_("office").get("/api/v1/items").json
    row = next(i for i in ledger if i["id"] == item_id)
    assert row["title"] == "关于加快农村公路建设的建议" and row["status"] == "drafting"
    item = as_("office").get(f"/api/v1/items/{item_id}").json
    assert item["instance_id"] == started.json["instance_id"]

    _complete(as_, "office", "t_draft", {"lead_unit": "fgj", "co_units": [], "opinion": "请发改局答复"})
    item = as_("office").get(f"/api/v1/items/{item_id}").json
    assert item["status"] == "in_progress" and [p["unit"] for p in item["units"]] == ["fgj"]
    # the unit sees its item and its task; another unit sees neither
    assert item_id in [i["id"] for i in as_("unit_a").get("/api/v1/items").json]
    assert item_id not in [i["id"] for i in as_("unit_b").get("/api/v1/items").json]
    assert _task(as_, "unit_a", "t_reply")["unit"] == "fgj"
    _complete(as_, "unit_a", "t_reply", {"reply_text": "已答复代表：年内完成", "approved_by_deputy": True})
    item = as_("office").get(f"/api/v1/items/{item_id}").json
    assert item["status"] == "feedback"
    assert item["units"][0]["reported_at"]  # 答复 is the unit's report: no red light, no 催办
    # 答复 is on record (答复率); 回访 records the representative's satisfaction (满意率), one of three
    record = as_("office").get(f"/api/v1/items/{item_id}/reply").json
    assert record["text"] == "已答复代表：年内完成" and record["replied_by"] == "unit_a"
    visit = _task(as_, "office", "t_visit")
    refused = as_("office").post(f"/api/v1/tasks/{visit['id']}/complete", json={"data": {"satisfaction": "很好"}})
    assert_error(refused, 422)
    _complete(as_, "office", "t_visit", {"satisfaction": "dissatisfied", "satisfaction_note": "希望加快进度"})
    record = as_("office").get(f"/api/v1/items/{item_id}/reply").json
    assert (record["satisfaction"], record["satisfaction_note"]) == ("dissatisfied", "希望加快进度")
    [npc] = [s for s in as_("office").get("/api/v1/stats/sources").json if s["source"] == "npc_suggestion"]
    assert (npc["replied"], npc["dissatisfied"], npc["satisfaction_rate"]) == (1, 1, 0.0)
    _complete(as_, "office", "t_feedback", {"summary": "代表满意"})
    assert as_("office").get(f"/api/v1/items/{item_id}").json["status"] == "closed"


def test_a_reply_step_whose_form_lacks_the_reply_text_is_refused(as_):
    body = deploy_npc(as_, reply_form="unit_report", status=422)
    [problem] = [d for d in body["details"] if d.get("rule") == "duban-step-fields"]
    assert problem["element"] == "t_reply" and "reply_text" in problem["message"] and "答复" in problem["message"]


def test_post_instances_registers_the_item_of_a_declared_process(as_):
    deploy_npc(as_)
    response = as_("office").post("/api/v1/instances", json={"definition_key": "npc", "data": {"title": "政协提案"}})
    assert response.status_code == 201, response.json
    assert response.json["item_id"]
    assert "政协提案" in [i["title"] for i in as_("office").get("/api/v1/items").json]


def test_the_start_page_lists_and_starts(app, as_):
    deploy_npc(as_, starters="office unit")
    browser = Browser(app, "unit_a")
    client = browser.client
    page = client.get("/start")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "人大代表建议办理" in html and "发起" in html
    assert 'href="/start"' in client.get("/tasks").get_data(as_text=True)  # in the navigation
    form_page = client.get("/start/npc")
    assert form_page.status_code == 200
    assert "npc_start" in form_page.get_data(as_text=True) and "form-viewer" in form_page.get_data(as_text=True)
    assert client.get("/start/duban_main").status_code == 403  # the office's, not a unit's
    started = client.post("/api/v1/processes/npc/start", json={"data": {"title": "单位发起的建议"}},
                          headers={"X-CSRF-Token": browser.csrf})
    assert started.status_code == 201, started.json
    assert "单位发起的建议" in [i["title"] for i in as_("office").get("/api/v1/items").json]


def test_the_start_page_is_not_offered_to_who_may_start_nothing(app):
    client = Browser(app, "discipline").client
    assert 'href="/start"' not in client.get("/tasks").get_data(as_text=True)
    page = client.get("/start")
    assert page.status_code == 200 and "暂无您可以发起的流程" in page.get_data(as_text=True)


def test_the_catalogue_serves_step_kinds_roles_units_and_forms(as_):
    response = as_("designer").get("/api/v1/modeler/catalogue")
    assert response.status_code == 200
    body = response.json
    kinds = {s["kind"]: s for s in body["steps"]}
    assert {"draft", "approve", "assign", "receive", "report", "review", "urge", "escalate", "signoff", "feedback",
            "extension_review", "reply", "satisfaction", "monthly_progress", "remind", "deadline",
            "assign_due"} <= set(kinds)
    assert kinds["receive"]["label"] == "签收" and kinds["receive"]["applies_to"] == ["bpmn:UserTask"]
    assert kinds["receive"]["template"]["form"] == "unit_receive"
    assert {"name", "label", "type", "default", "choices"} <= set(kinds["draft"]["options"][0])
    assert {r["id"] for r in body["roles"]} == {"office", "leader", "unit", "discipline"}
    assert {"id": "fgj", "name": "发改局", "kind": "unit"} in body["units"]
    assert "unit_receive" in {f["id"] for f in body["forms"]}
    # the forms of the steps' templates are offered before any process uses them (答复, 满意度回访)
    assert kinds["reply"]["template"]["form"] == "reply" and kinds["satisfaction"]["template"]["form"] == "satisfaction"
    assert {"reply", "satisfaction"} <= {f["id"] for f in body["forms"]}
    # with the schema as deployed: a new diagram using 签收's form deploys it, not an empty one of its id
    receive = next(f for f in body["forms"] if f["id"] == "unit_receive")
    assert "first_responsible" in [c.get("key") for c in receive["schema"]["components"]]
    assert as_("admin").get("/api/v1/modeler/catalogue").status_code == 200
    assert_error(as_("office").get("/api/v1/modeler/catalogue"), 403)


def test_the_modeler_checks_names_against_the_patterns_deploy_uses(as_, app):
    """The properties panel refuses a topic or variable name by the patterns deploy checks (it had copies)."""
    from engine.bpmn.external import TOPIC_PATTERN, VARIABLE_PATTERN

    patterns = {"topic": TOPIC_PATTERN.pattern, "variable": VARIABLE_PATTERN.pattern}
    assert as_("designer").get("/api/v1/modeler/catalogue").json["patterns"] == patterns
    # and the page holds them before the catalogue answers, with the lane roles
    page = Browser(app, "designer").client.get("/modeler").get_data(as_text=True)
    held = json.loads(page.split('id="modeler-catalogue">', 1)[1].split("</script>", 1)[0])
    assert held["patterns"] == patterns
    assert {r["id"] for r in held["roles"]} == {"office", "leader", "unit", "discipline"}


def test_the_catalogue_names_the_enabled_connectors_and_nothing_of_their_settings(as_, app):
    from tests.support.connectors import configure
    from tests.support.org import Org

    duban = app.extensions["duban"]
    org = Org(duban)
    configure(duban, org["admin"], "office_wecom", "wecom", title="督查室企业微信群",
              secrets={"url": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=SECRET-KEY"})
    configure(duban, org["admin"], "old_sms", "sms", title="旧短信网关", enabled=False,
              settings={"url": "https://sms.example.cn/send"}, secrets={"key": "SMS-KEY"})
    response = as_("designer").get("/api/v1/modeler/catalogue")
    assert response.json["connectors"] == [{"name": "office_wecom", "title": "督查室企业微信群", "kind": "wecom"}]
    assert "SECRET-KEY" not in response.get_data(as_text=True)
