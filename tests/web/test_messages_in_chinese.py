"""Every refusal a person reads is Chinese: the API's `message` and each field error, across the endpoints
whose refusals were English (own-unit rules, 考核, calendar, operations, statistics, filters, messages,
deploy, 通报, 立卷归档). A message fails when it has no Chinese at all, or an English word of four or more
letters that is not one of the codes a person types (multipart, file, true, false, ...); what the caller
sent, echoed in quotes, and the list of codes after 以下之一 do not count."""
import io
import re

import pytest

from tests.support.web import client_as

CJK = re.compile(r"[\u4e00-\u9fff]")
WORD = re.compile(r"[A-Za-z]{4,}")
CODES = {"multipart", "file", "true", "false", "workday", "days", "POST", "items", "BPMN", "JSON", "CSRF"}
QUOTED = re.compile(r"“[^”]*”|'[^']*'|\"[^\"]*\"|以下之一[^：]*：.*$")


def english_in(message: str) -> list[str]:
    words = WORD.findall(QUOTED.sub("", message))
    return [w for w in words if w not in CODES]


def assert_chinese(response, where):
    body = response.get_json()
    fields = {d.get("field") for d in body.get("details") or [] if d.get("field")}
    # a schema refusal names the API field it is about ("reason：…"): the key the caller sent, not prose
    head = body["message"].split("：", 1)
    message = head[1] if len(head) == 2 and head[0] in fields else body["message"]
    messages = [message] + [d.get("message") or "" for d in body.get("details") or []]
    for message in messages:
        assert CJK.search(message), f"{where}: no Chinese in {message!r}"
        assert not english_in(message), f"{where}: English {english_in(message)} in {message!r}"



def test_refusals_are_chinese(scored_world):
    app, items = scored_world
    a, d = items["a"]["id"], items["d"]["id"]
    instance = items["a"]["instance_id"]
    calls = [
        # only the unit itself reports its progress or fills in its 六有 (engine/access.py own_part)
        ("office", "PUT", f"/api/v1/items/{a}/progress/2026-11", {"text": "进展", "percent": 10}, 403),
        ("office", "PUT", f"/api/v1/items/{a}/checklist", {}, 403),
        # 考核 rules, praise and scores
        ("office", "PUT", "/api/v1/assessment/rules/criticised", {"points": 1}, 403),
        ("admin", "PUT", "/api/v1/assessment/rules/nosuch", {"points": 1}, 404),
        ("unit_a", "POST", f"/api/v1/items/{a}/praise", {"unit": "fgj"}, 403),
        ("leader", "POST", f"/api/v1/items/{a}/praise", {"unit": "zjj"}, 422),
        ("leader", "POST", f"/api/v1/items/{d}/praise", {"unit": "zjj"}, 409),
        ("discipline", "GET", "/api/v1/assessment/2026", None, 403),
        ("unit_a", "GET", "/api/v1/assessment/2026/units/czj", None, 403),
        ("office", "GET", "/api/v1/assessment/2026/units/nosuch", None, 404),
        ("office", "GET", "/api/v1/assessment/1999", None, 422),
        # the calendar
        ("office", "PUT", "/api/v1/calendar/days", {"date": "2026-12-21", "workday": True}, 403),
        ("office", "POST", "/api/v1/admin/recalculate", None, 403),
        ("admin", "POST", "/api/v1/calendar/import", ("2027.csv", "date,workday\n2027-01-01,maybe\n"), 422),
        ("admin", "POST", "/api/v1/calendar/import", ("2027.yaml", "- 2027-01-01\n"), 422),
        # operations on instances
        ("office", "POST", f"/api/v1/instances/{instance}/suspend", {}, 403),
        ("admin", "POST", f"/api/v1/instances/{instance}/terminate", {}, 422),
        ("admin", "POST", f"/api/v1/instances/{instance}/suspend", {"reason": "长" * 1001}, 422),
        ("admin", "POST", f"/api/v1/instances/{instance}/retry", None, 409),
        # statistics
        ("designer", "GET", "/api/v1/stats/summary", None, 403),
        ("office", "GET", "/api/v1/stats/summary?year=2026&since=2026-01-01", None, 422),
        ("office", "GET", "/api/v1/stats/summary?since=2026-10-02&until=2026-10-01", None, 422),
        # the ledger's and the public board's filters
        ("office", "GET", "/api/v1/items?sort=bogus", None, 422),
        ("office", "GET", "/api/v1/items?deadline_from=notadate", None, 422),
        (None, "GET", "/api/v1/public/items?status=bogus", None, 422),
        # messages, deploying, starting
        ("unit_a", "POST", "/api/v1/messages", {"name": "nosuch"}, 403),
        ("office", "POST", "/api/v1/messages", {"name": "nosuch"}, 404),
        ("designer", "POST", "/api/v1/definitions", None, 422),
        ("office", "POST", "/api/v1/instances", {"definition_key": "duban_main", "data": {}}, 422),
        # 通报 and 立卷归档
        ("office", "POST", "/api/v1/bulletins", {"period": "2026-13"}, 422),
        ("office", "POST", "/api/v1/bulletins", {"period": "2027-01"}, 422),
        ("leader", "GET", "/api/v1/bulletins/preview?period=2026-10", None, 403),
        ("office", "POST", "/api/v1/bulletins/99/void", {"reason": "作废"}, 404),
        ("unit_a", "GET", "/api/v1/bulletins", None, 403),
        ("office", "GET", f"/api/v1/items/{items['c']['id']}/archive.zip", None, 409),
    ]
    clients = {}
    for username, method, path, body, status in calls:
        client = app.test_client() if username is None else clients.setdefault(username, client_as(app, username))
        if isinstance(body, tuple):
            name, content = body
            response = client.open(path, method=method, content_type="multipart/form-data",
                                   data={"file": (io.BytesIO(content.encode()), name)})
        else:
            response = client.open(path, method=method, json=body)
        where = f"{username} {method} {path}"
        assert response.status_code == status, f"{where}: {response.status_code} {response.get_json()}"
        assert_chinese(response, where)

    office = clients["office"]
    first = office.post("/api/v1/bulletins", json={"period": "2026-10"})
    assert_chinese(office.post("/api/v1/bulletins", json={"period": "2026-10"}), "bulletin twice")
    assert_chinese(office.post(f"/api/v1/bulletins/{first.json['id']}/void", json={"reason": " "}), "void blank")


def test_the_checker_catches_english():
    assert english_in("only the unit itself reports its progress") == ["only", "unit", "itself", "reports",
                                                                       "progress"]
    assert english_in("请以 multipart 字段 file 上传") == []
    assert english_in("须为以下之一：created_at、deadline") == []
    assert english_in("workday 须为 true 或 false，现为 'maybe'") == []


@pytest.mark.parametrize("body, field, words", [
    ({"title": ""}, "title", "长度须在 1 到 500 之间"),
    ({"title": "长" * 501}, "title", "长度须在 1 到 500 之间"),
    ({"title": "事项", "source": "elsewhere"}, "source", "须为以下之一"),
    ({"title": "事项", "category": "big"}, "category", "normal（一般件）、major（重大疑难件）、urgent（急件）"),
    ({"title": "事项", "designees": ["u"] * 101}, "designees", "长度不能超过 100"),
])
def test_field_limits_are_said_with_their_numbers(as_, body, field, words):
    answer = as_("office").post("/api/v1/items", json=body)
    assert answer.status_code == 422
    [error] = [d for d in answer.json["details"] if d["field"] == field]
    assert words in error["message"] and words in answer.json["message"]


@pytest.mark.parametrize("path, words", [
    ("/api/v1/items?light=blue", "green（正常）、yellow（预警）、red（逾期）"),
    ("/api/v1/public/items?status=drafting", "in_progress（"),
])
def test_a_wrong_choice_names_each_code_with_its_label(as_, path, words):
    answer = as_("office").get(path)
    assert answer.status_code == 422
    [error] = answer.json["details"]
    assert words in error["message"] and english_in(error["message"]) == [] and words in answer.json["message"]
