"""What a diagram from Camunda 7 brings that Duban runs in its own way, run through the API: JUEL
conditions as Python, an embedded form as a generated form-js form, camunda:collection as BPMN's
loop input, and a data store left out."""
import io
from pathlib import Path

import pytest

from tests.samples import chain, process
from tests.support.web import assert_error

EXAMPLES = Path(__file__).parent.parent / "data" / "camunda-bpm-examples"
REACT = EXAMPLES / "usertask/task-form-embedded-react/src/main/resources/react-example.bpmn"


def _deploy(as_, data: bytes, name: str = "p.bpmn") -> dict:
    response = as_("designer").post("/api/v1/definitions", data={"file": (io.BytesIO(data), name)},
                                    content_type="multipart/form-data")
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def _open_tasks(as_, instance_id: int) -> list:
    return as_("designer").get(f"/api/v1/instances/{instance_id}").get_json()["tasks"]


@pytest.mark.parametrize("approved,path", [(True, "Task_1otws6s"), (False, "Task_01363n3")])
def test_an_embedded_form_is_generated_from_the_condition_after_it_and_the_juel_routes(as_, approved, path):
    deployed = _deploy(as_, REACT.read_bytes(), REACT.name)
    said = " | ".join(w["message"] for w in deployed["warnings"])
    assert "用户任务“Approve Invoice”（Task_1a9adlo）：表单“embedded:app:task-form.html”是 Camunda 嵌入式表单" in said
    assert "已生成只有说明、没有字段的表单" in said  # the start form: nothing after it says what it asks
    started = as_("designer").post("/api/v1/instances", json={"definition_key": deployed["key"], "data": {}})
    assert started.status_code == 201, started.get_json()
    [task] = _open_tasks(as_, started.get_json()["id"])
    form = as_("designer").get(f"/api/v1/tasks/{task['id']}").get_json()["form"]
    assert [(c["type"], c.get("key")) for c in form["components"]] == [("text", None), ("checkbox", "approved")]
    refused = as_("designer").post(f"/api/v1/tasks/{task['id']}/complete", json={"data": {"approved": "yes"}})
    assert assert_error(refused, 422, "form_invalid")["details"][0]["field"] == "approved"
    done = as_("designer").post(f"/api/v1/tasks/{task['id']}/complete", json={"data": {"approved": approved}})
    assert done.status_code == 200, done.get_json()
    # a plain bpmn:task waits for someone in Duban: the one open now shows the way the condition took
    assert [t["element_id"] for t in _open_tasks(as_, started.get_json()["id"])] == [path]


def test_a_choice_and_a_number_are_read_from_the_conditions(as_):
    gateway = ('<bpmn:userTask id="e1" name="审核" camunda:formKey="embedded:app:forms/review.html"/>'
               '<bpmn:exclusiveGateway id="gw" default="f_other"/>'
               '<bpmn:startEvent id="start"/><bpmn:endEvent id="a"/><bpmn:endEvent id="b"/><bpmn:endEvent id="c"/>'
               '<bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="e1"/>'
               '<bpmn:sequenceFlow id="f1" sourceRef="e1" targetRef="gw"/>'
               '<bpmn:sequenceFlow id="f_big" sourceRef="gw" targetRef="a"><bpmn:conditionExpression>'
               "${decision == 'approve' &amp;&amp; amount.total &gt; 1000}"
               "</bpmn:conditionExpression></bpmn:sequenceFlow>"
               '<bpmn:sequenceFlow id="f_no" sourceRef="gw" targetRef="b"><bpmn:conditionExpression>'
               "${decision eq 'reject'}</bpmn:conditionExpression></bpmn:sequenceFlow>"
               '<bpmn:sequenceFlow id="f_other" sourceRef="gw" targetRef="c"/>')
    deployed = _deploy(as_, process(gateway, key="review"))
    assert any("已按流程随后用到的变量生成 form-js 表单（字段：amount.total、decision）" in w["message"]
               for w in deployed["warnings"])
    started = as_("designer").post("/api/v1/instances", json={"definition_key": "review", "data": {}}).get_json()
    [task] = _open_tasks(as_, started["id"])
    form = as_("designer").get(f"/api/v1/tasks/{task['id']}").get_json()["form"]
    fields = {c["key"]: c for c in form["components"] if c.get("key")}
    assert fields["decision"]["type"] == "select"
    assert [v["value"] for v in fields["decision"]["values"]] == ["approve", "reject"]
    assert fields["amount.total"]["type"] == "number"
    bad = as_("designer").post(f"/api/v1/tasks/{task['id']}/complete", json={"data": {"decision": "maybe"}})
    assert {d["field"] for d in assert_error(bad, 422, "form_invalid")["details"]} == {"decision", "amount.total"}
    done = as_("designer").post(f"/api/v1/tasks/{task['id']}/complete",
                                json={"data": {"decision": "approve", "amount": {"total": 5000}}})
    assert done.status_code == 200, done.get_json()
    instance = as_("designer").get(f"/api/v1/instances/{started['id']}").get_json()
    assert instance["status"] == "completed" and "a" in instance["trail"]


def test_camunda_collection_runs_once_per_item(as_):
    loop = ('<bpmn:multiInstanceLoopCharacteristics camunda:collection="${units}" '
            'camunda:elementVariable="unit"/>')
    _deploy(as_, process(chain(f'<bpmn:userTask id="e1" name="逐个单位">{loop}</bpmn:userTask>'), key="each"))
    started = as_("designer").post("/api/v1/instances", json={"definition_key": "each",
                                                              "data": {"units": ["fgj", "czj"]}}).get_json()
    tasks = _open_tasks(as_, started["id"])
    assert len(tasks) == 2
    seen = sorted(as_("designer").get(f"/api/v1/tasks/{t['id']}").get_json()["data"]["unit"] for t in tasks)
    assert seen == ["czj", "fgj"]
    for task in tasks:
        assert as_("designer").post(f"/api/v1/tasks/{task['id']}/complete", json={"data": {}}).status_code == 200
    assert as_("designer").get(f"/api/v1/instances/{started['id']}").get_json()["status"] == "completed"


def test_a_process_with_a_data_store_runs_without_it(as_):
    body = chain(
        '<bpmn:scriptTask id="e1" name="归档"><bpmn:script>filed = True</bpmn:script>'
        '<bpmn:dataOutputAssociation id="out"><bpmn:targetRef>store</bpmn:targetRef></bpmn:dataOutputAssociation>'
        '</bpmn:scriptTask>') + '<bpmn:dataStoreReference id="store" name="档案" dataStoreRef="ds"/>'
    deployed = _deploy(as_, process(body, key="filed", extra='<bpmn:dataStore id="ds" name="档案库"/>'))
    assert {w["element"] for w in deployed["warnings"]} >= {"ds", "store"}
    started = as_("designer").post("/api/v1/instances", json={"definition_key": "filed", "data": {}}).get_json()
    assert started["status"] == "completed" and started["data"]["filed"] is True
    # the stored diagram keeps the store as drawn
    xml = as_("designer").get("/api/v1/definitions/filed/xml").get_data(as_text=True)
    assert 'dataStoreReference id="store"' in xml
