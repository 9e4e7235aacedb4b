"""The statistics API (/api/v1/stats/...): figures per role, pagination, bad input, no token."""
import json

import pytest

from tests.integration.flow import RECEIVE
from tests.support.org import seed
from tests.support.stats import act, assigned, done, move
from tests.support.web import Caller, assert_error
from web import create_app

ENDPOINTS = ("/api/v1/stats/summary", "/api/v1/stats/units", "/api/v1/stats/overdue", "/api/v1/stats/trend")


@pytest.fixture
def situation(duban_sqlite):
    """A: 发改局 on time, 财政局 urged and escalated; B: 财政局 past its deadline, not yet urged.
    Seen on Thursday 2026-10-22 09:00."""
    duban = duban_sqlite
    org = seed(duban)
    a = assigned(duban, org, "A 重点项目", "fgj", ["czj"])
    b = assigned(duban, org, "B 财政预算", "czj")
    done(duban, org, a, "unit_a", "fgj")
    act(duban, org["unit_b"], a, "unit_receive", RECEIVE, "czj")
    move(duban, 2026, 10, 16, 17, 31)
    act(duban, org["office"], a, "urge", {"notice": "请于10月21日前办结", "new_limit": "2026-10-21"}, "czj")
    move(duban, 2026, 10, 21, 17, 31)
    move(duban, 2026, 10, 22, 9)
    app = create_app(duban=duban)
    app.config["TESTING"] = True
    client = app.test_client()
    return {"a": a, "b": b, "client": client, "as": lambda name: Caller(client, name)}


@pytest.mark.parametrize("path", ENDPOINTS)
def test_statistics_need_a_token(situation, path):
    client = situation["client"]
    assert_error(client.get(path), 401, "unauthenticated")
    assert_error(client.get(path, headers={"Authorization": "Bearer nope"}), 401)


def test_the_office_sees_every_figure(situation):
    office = situation["as"]("office")
    summary = office.get("/api/v1/stats/summary")
    assert summary.status_code == 200, summary.json
    body = summary.json
    assert {s["status"]: s["count"] for s in body["statuses"] if s["count"]} == {"in_progress": 2}
    assert {k: body[k] for k in ("total", "open", "closed", "overdue", "parts", "overdue_parts", "finished_parts",
                                 "on_time_parts", "on_time_rate", "urges", "escalations", "criticisms")} == {
        "total": 2, "open": 2, "closed": 0, "overdue": 2, "parts": 3, "overdue_parts": 2, "finished_parts": 1,
        "on_time_parts": 1, "on_time_rate": 1.0, "urges": 1, "escalations": 1, "criticisms": 1}
    assert body["as_of"].startswith("2026-10-22T01:00:00")

    units = office.get("/api/v1/stats/units").json
    assert [(u["unit"], u["total"], u["open"], u["overdue"], u["completed"], u["on_time_rate"]) for u in units] == [
        ("fgj", 1, 0, 0, 1, 1.0), ("czj", 2, 2, 2, 0, None)]

    overdue = office.get("/api/v1/stats/overdue")
    rows = overdue.json
    assert [(r["item_id"], r["unit"], r["overdue_workdays"], bool(r["urged_at"]), bool(r["escalated_at"]))
            for r in rows] == [(situation["b"]["id"], "czj", 4, False, False),
                               (situation["a"]["id"], "czj", 1, True, True)]
    assert rows[0]["title"] == "B 财政预算" and rows[0]["unit_name"] == "财政局"
    assert json.loads(overdue.headers["X-Pagination"])["total"] == 2
    first = office.get("/api/v1/stats/overdue?page_size=1&page=2")
    assert [r["item_id"] for r in first.json] == [situation["a"]["id"]]
    assert [r["unit"] for r in office.get("/api/v1/stats/overdue?unit=fgj").json] == []

    trend = office.get("/api/v1/stats/trend?months=2").json
    assert trend == [{"month": "2026-09", "registered": 2, "closed": 0, "overdue": 0},
                     {"month": "2026-10", "registered": 0, "closed": 0, "overdue": 2}]
    assert len(office.get("/api/v1/stats/trend").json) == 12


def test_figures_per_role(situation):
    call = situation["as"]
    mine = call("unit_a").get("/api/v1/stats/summary").json       # 发改局 takes part in A only
    assert (mine["total"], mine["overdue"], mine["parts"], mine["urges"], mine["escalations"]) == (1, 0, 1, 0, 0)
    assert [u["unit"] for u in call("unit_a").get("/api/v1/stats/units").json] == ["fgj"]
    assert call("unit_a").get("/api/v1/stats/overdue").json == []
    assert sum(m["registered"] for m in call("unit_a").get("/api/v1/stats/trend").json) == 1

    theirs = call("unit_b").get("/api/v1/stats/summary").json     # 财政局: A and B, both late
    assert (theirs["total"], theirs["overdue"], theirs["parts"], theirs["escalations"]) == (2, 2, 2, 1)
    assert [u["unit"] for u in call("unit_b").get("/api/v1/stats/units").json] == ["czj"]

    discipline = call("discipline").get("/api/v1/stats/summary").json  # the escalated part only
    assert (discipline["total"], discipline["parts"], discipline["escalations"], discipline["criticisms"]) \
        == (1, 1, 1, 1)
    assert [r["item_id"] for r in call("discipline").get("/api/v1/stats/overdue").json] == [situation["a"]["id"]]

    leader = call("leader").get("/api/v1/stats/summary").json
    assert (leader["total"], leader["overdue"]) == (2, 2)
    for path in ENDPOINTS:
        assert_error(call("designer").get(path), 403, "forbidden")
        assert_error(call("auditor").get(path), 403, "forbidden")


def test_periods_and_bad_input(situation):
    office = situation["as"]("office")
    assert office.get("/api/v1/stats/summary?year=2026").json["total"] == 2
    assert office.get("/api/v1/stats/summary?year=2025").json["total"] == 0
    assert office.get("/api/v1/stats/units?since=2026-09-29").json == []
    assert office.get("/api/v1/stats/summary?since=2026-09-28&until=2026-09-28").json["total"] == 2
    for bad in ("/api/v1/stats/trend?months=0", "/api/v1/stats/trend?months=37", "/api/v1/stats/summary?year=1",
                "/api/v1/stats/summary?year=2026&since=2026-01-01",
                "/api/v1/stats/units?since=2026-10-02&until=2026-10-01",
                "/api/v1/stats/overdue?since=notadate"):
        assert_error(office.get(bad), 422)


def test_the_statistics_are_documented(situation):
    spec = situation["client"].get("/api/openapi.json").json
    for path in ENDPOINTS:
        assert path in spec["paths"], path
    assert "按期办结率" in json.dumps(spec["components"]["schemas"]["Summary"], ensure_ascii=False)



def test_the_dashboard_page(situation):
    from tests.support.web import Browser

    app = situation["client"].application
    assert app.test_client().get("/dashboard").headers["Location"].startswith("/login?next=/dashboard")
    office = Browser(app, "office")
    page = office.get("/dashboard")
    assert page.status_code == 200
    html = page.text
    assert 'id="stat-open" data-stat="open">2<' in html and 'id="stat-overdue" data-stat="overdue">2<' in html
    assert 'id="stat-escalations" data-stat="escalations">1<' in html
    assert 'id="stat-rate" data-stat="on_time_rate">100.0%<' in html
    assert f'href="/items/{situation["b"]["id"]}"' in html and "4 个工作日" in html
    assert '<script type="application/json" id="dashboard-data">' in html
    assert "/static/vendor/echarts/echarts.min.js" in html and "<script>" not in html  # the CSP allows no inline script
    assert ">统计</a>" in html
    assert 'id="stat-open" data-stat="open">0<' in office.get("/dashboard?year=2025").text

    unit = Browser(app, "unit_a")
    html = unit.get("/dashboard").text
    assert ">统计</a>" not in html and 'data-unit="fgj"' in html and 'data-unit="czj"' not in html
    assert Browser(app, "designer").get("/dashboard").status_code == 403
