"""The API of 月度进展, 六有 and source replies: status codes, error shape, the JSON it answers."""
from datetime import datetime

import pytest

from tests.integration.flow import through_assignment
from tests.support.org import seed
from tests.support.web import Caller, assert_error
from web import create_app

REPORT = {"text": "已完成选址论证", "percent": 40, "problems": "用地指标紧张", "next_steps": "完成立项"}


@pytest.fixture
def world(duban_sqlite):
    org = seed(duban_sqlite)
    item = through_assignment(duban_sqlite, org)  # 发改局 leads, 财政局 co-operates
    app = create_app(duban=duban_sqlite)
    app.config["TESTING"] = True
    client = app.test_client()
    callers = {}

    def as_(username):
        if username not in callers:
            callers[username] = Caller(client, username)
        return callers[username]

    return duban_sqlite, item, as_


def put(caller, path, body):
    return caller.client.put(path, headers=caller.headers, json=body)


def test_a_unit_reports_progress_and_the_office_aggregates(world):
    duban, item, as_ = world
    path = f"/api/v1/items/{item['id']}/progress/2026-09"
    response = put(as_("unit_a"), path, REPORT)
    assert response.status_code == 200, response.json
    body = response.json
    assert (body["unit"], body["unit_name"], body["month"], body["percent"], body["version"]) == (
        "fgj", "发改局", "2026-09", 40, 1)
    again = put(as_("unit_a"), path, {**REPORT, "percent": 60}).json
    assert again["version"] == 2 and again["history"][0]["percent"] == 40

    listed = as_("leader").get(f"/api/v1/items/{item['id']}/progress").json
    assert [(r["unit"], r["percent"]) for r in listed] == [("fgj", 60)]
    assert as_("unit_b").get(f"/api/v1/items/{item['id']}/progress?month=2026-08").json == []

    summary = as_("office").get("/api/v1/progress/2026-09").json
    assert (summary["due"], summary["reported"], summary["missing"], summary["total"]) == (2, 1, 1, 2)
    assert [(r["unit"], r["state"], r["report"] and r["report"]["percent"]) for r in summary["rows"]] == [
        ("fgj", "reported", 60), ("czj", "missing", None)]
    missing = as_("admin").get("/api/v1/progress/2026-09?missing=true").json
    assert [r["unit"] for r in missing["rows"]] == ["czj"]
    assert as_("office").get("/api/v1/progress/2026-09?unit=fgj&per_page=1").json["total"] == 1


def test_progress_refusals(world):
    duban, item, as_ = world
    path = f"/api/v1/items/{item['id']}/progress/2026-09"
    assert_error(put(as_("office"), path, REPORT), 403, "forbidden")
    assert_error(put(as_("unit_b"), path, {**REPORT, "unit": "fgj"}), 403, "forbidden")
    assert_error(put(as_("discipline"), path, REPORT), 404, "not_found")
    body = assert_error(put(as_("unit_a"), path, {**REPORT, "percent": 120}), 422)
    assert body["details"][0]["field"] == "percent"
    assert_error(put(as_("unit_a"), path, {"percent": 10}), 422)
    assert_error(put(as_("unit_a"), f"/api/v1/items/{item['id']}/progress/2026-9", REPORT), 422)
    assert_error(put(as_("unit_a"), f"/api/v1/items/{item['id']}/progress/2026-10", REPORT), 422)
    assert_error(as_("unit_a").get("/api/v1/progress/2026-09"), 403, "forbidden")
    assert_error(as_("office").get("/api/v1/progress/month"), 422)
    assert_error(as_("office").get(f"/api/v1/items/{item['id']}/progress?month=2026"), 422)
    assert_error(as_("office").client.get("/api/v1/progress/2026-09"), 401)
    put(as_("unit_a"), path, REPORT)
    duban.clock.set(datetime(2026, 10, 8, 9, 0))
    fresh = Caller(as_("unit_a").client, "unit_a")  # the first token has expired meanwhile
    assert_error(put(fresh, path, {**REPORT, "percent": 99}), 409, "conflict")


def test_checklists_through_the_api(world):
    duban, item, as_ = world
    path = f"/api/v1/items/{item['id']}/checklist"
    response = put(as_("unit_a"), path, {"plan": True, "plan_note": "方案.docx", "tasks": True})
    assert response.status_code == 200, response.json
    assert (response.json["unit"], response.json["done"], response.json["complete"]) == ("fgj", 2, False)
    assert_error(put(as_("office"), path, {"plan": True}), 403)
    assert_error(put(as_("unit_b"), path, {"plan": True, "unit": "fgj"}), 403)
    assert_error(put(as_("unit_a"), path, {"plan": "maybe"}), 422)
    assert_error(put(as_("discipline"), path, {"plan": True}), 404)
    listed = as_("office").get(path).json
    assert [(c["unit"], c["done"], c["plan_note"]) for c in listed] == [("fgj", 2, "方案.docx"), ("czj", 0, "")]


def test_replies_and_source_statistics_through_the_api(world):
    duban, _, as_ = world
    office = as_("office")
    mailbox = office.post("/api/v1/items", json={"title": "来信反映供暖问题", "source": "mailbox",
                                                  "deadline": "2026-10-16"}).json
    other = office.post("/api/v1/items", json={"title": "一般事项", "source": "decision"}).json
    path = f"/api/v1/items/{mailbox['id']}/reply"
    answered = put(office, path, {"requester_name": "李某", "requester_contact": "139****1111",
                                  "text": "已答复：本周恢复供暖"})
    assert answered.status_code == 200, answered.json
    assert (answered.json["requester_name"], answered.json["replied_by"]) == ("李某", "office")
    assert_error(put(office, f"/api/v1/items/{other['id']}/reply", {"requester_name": "李某", "text": "x"}), 409)
    assert_error(put(as_("leader"), path, {"requester_name": "李某", "text": "x"}), 403)
    assert_error(put(office, path, {"text": "无人"}), 422)
    satisfaction = f"/api/v1/items/{mailbox['id']}/satisfaction"
    assert_error(put(office, satisfaction, {"satisfaction": "happy"}), 422)
    assert_error(put(office, f"/api/v1/items/{other['id']}/satisfaction", {"satisfaction": "satisfied"}), 409)
    rated = put(office, satisfaction, {"satisfaction": "satisfied", "date": "2026-09-28"})
    assert rated.status_code == 200, rated.json
    assert (rated.json["satisfaction_name"], rated.json["satisfaction_on"]) == ("满意", "2026-09-28")
    assert as_("leader").get(path).json["satisfaction"] == "satisfied"

    stats = as_("leader").get("/api/v1/stats/sources").json
    assert [s["source"] for s in stats] == ["mailbox", "npc_suggestion", "cppcc_proposal"]
    assert {k: stats[0][k] for k in ("items", "replied", "reply_rate", "due", "on_time", "on_time_rate",
                                     "satisfied", "rated", "satisfaction_rate")} == {
        "items": 1, "replied": 1, "reply_rate": 1.0, "due": 1, "on_time": 1, "on_time_rate": 1.0,
        "satisfied": 1, "rated": 1, "satisfaction_rate": 1.0}
    assert as_("leader").get("/api/v1/stats/sources?year=2025").json[0]["items"] == 0
    assert_error(as_("designer").get("/api/v1/stats/sources"), 403)
