"""DMN over HTTP: a process and its decision table in one multipart request (`file` repeated), a table
deployed on its own, the decisions listed and read back by designers; a decision missing, refused."""
import io

from tests.support.dmn import deciding_process, table


def upload(*files):
    return {"file": [(io.BytesIO(data), name) for name, data in files]}


def test_a_process_and_its_table_in_one_request(as_):
    designer = as_("designer")
    answer = designer.post("/api/v1/definitions", content_type="multipart/form-data",
                           data=upload(("p.bpmn", deciding_process()), ("grade.dmn", table())))
    assert answer.status_code == 201, answer.json
    assert (answer.json["key"], answer.json["version"], answer.json["kind"]) == ("decide", 1, "process")
    assert [(d["key"], d["version"]) for d in answer.json["decisions"]] == [("grade", 1)]
    started = as_("office").post("/api/v1/instances", json={"definition_key": "decide", "data": {"category": "major"}})
    assert started.status_code == 201 and started.json["data"]["workdays"] == 20

    listed = designer.get("/api/v1/modeler/decisions").json
    assert [(d["key"], d["name"], d["version"], d["processes"]) for d in listed] == [
        ("grade", "期限规则", 1, ["decide"])]
    xml = designer.get("/api/v1/modeler/decisions/grade/xml")
    assert xml.status_code == 200 and xml.mimetype == "application/xml" and b'decision id="grade"' in xml.data

    alone = designer.post("/api/v1/definitions", content_type="multipart/form-data",
                          data=upload(("grade.dmn", table(rules=(('"major"', "15"),)))))
    assert alone.status_code == 201
    assert (alone.json["key"], alone.json["version"], alone.json["kind"]) == ("grade", 2, "decision")
    assert [(p["key"], p["version"], p["decided_by"]) for p in alone.json["processes"]] == [("decide", 2, ["grade"])]
    again = as_("office").post("/api/v1/instances", json={"definition_key": "decide", "data": {"category": "major"}})
    assert again.json["data"]["workdays"] == 15


def test_a_decision_missing_is_refused_naming_it(as_):
    answer = as_("designer").post("/api/v1/definitions", content_type="multipart/form-data",
                                  data=upload(("p.bpmn", deciding_process(decision="nowhere"))))
    assert answer.status_code == 422
    assert "决策“nowhere”既不在本次部署中" in answer.json["message"]
    assert answer.json["details"][0]["element"] == "e1"
