"""公示销号: /public and GET /api/v1/public/items, for anyone, without signing in."""
from __future__ import annotations

import json
import re

import pytest

from engine import services
from tests.integration.flow import RECEIVE, complete
from tests.support.items import CONTENT, assign, close
from tests.support.org import seed
from web import create_app

PUBLIC_FIELDS = {"id", "title", "status", "status_name", "closed", "closed_at", "deadline", "light", "light_name",
                 "units"}
UNIT_FIELDS = {"unit", "unit_name", "role", "role_name", "deadline", "first_responsible", "responsible", "handler",
               "light"}


@pytest.fixture
def board(duban_sqlite):
    org = seed(duban_sqlite)
    items = {
        "open": assign(duban_sqlite, org, "公开办理中事项"),
        "closed": assign(duban_sqlite, org, "公开已办结事项"),
        "internal": assign(duban_sqlite, org, "内部事项不公示", "internal"),
        "secret": assign(duban_sqlite, org, "保密事项不公示", "secret", ["unit_a", "unit_b", "leader"]),
        "draft": services.register_item(duban_sqlite, org["office"],
                                        {"title": "尚未交办事项", "classification": "public"}),
    }
    close(duban_sqlite, org, items["closed"])
    complete(duban_sqlite, org["unit_a"], "unit_receive", {**RECEIVE, "first_responsible": "王局长"}, "fgj",
             instance_id=items["open"]["instance_id"])
    app = create_app(duban=duban_sqlite)
    app.config["TESTING"] = True
    return app, items


def test_the_board_needs_no_sign_in_and_shows_only_published_items(board):
    app, items = board
    response = app.test_client().get("/public")
    assert response.status_code == 200 and response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert "公开办理中事项" in html and "公开已办结事项" in html
    for absent in ("内部事项不公示", "保密事项不公示", "尚未交办事项", CONTENT, "拟办意见甲", "交办通知单"):
        assert absent not in html, absent
    row = re.search(rf'<tr id="item-{items["open"]["id"]}".*?</tr>', html, re.S).group(0)
    for shown in ("发改局", "财政局", "牵头", "第一责任人：王局长", "具体责任人：科长", "具体承办人：科员", "待签收",
                  "办理中", "2026年10月16日 17:30"):
        assert shown in row, shown
    closed = re.search(rf'<tr id="item-{items["closed"]["id"]}".*?</tr>', html, re.S).group(0)
    assert "已销号" in closed and ">2026年9月28日<" in closed  # closed off, with the date as people read it
    assert 'name="csrf_token"' not in html and "退出" not in html  # a stranger's page: no session controls


def test_filters_and_bad_filters(board):
    app, items = board
    client = app.test_client()
    closed = client.get("/public?status=closed").get_data(as_text=True)
    assert "公开已办结事项" in closed and "公开办理中事项" not in closed
    by_text = client.get("/public?text=办理中").get_data(as_text=True)
    assert "公开办理中事项" in by_text and "公开已办结事项" not in by_text
    assert "公开办理中事项" in client.get("/public?unit=czj").get_data(as_text=True)
    assert "公开办理中事项" not in client.get("/public?unit=nobody").get_data(as_text=True)
    # The text filter reads titles only: words of the (unpublished) content find nothing.
    assert 'id="item-' not in client.get(f"/public?text={CONTENT[:4]}").get_data(as_text=True)
    bad = client.get("/public?status=drafting")
    assert bad.status_code == 422 and "筛选条件有误" in bad.get_data(as_text=True)
    assert client.get("/public?status=secret&page=999").status_code == 422


def test_the_json_twin(board):
    app, items = board
    client = app.test_client()
    response = client.get("/api/v1/public/items")
    assert response.status_code == 200
    rows = response.json
    assert [r["title"] for r in rows] == ["公开已办结事项", "公开办理中事项"]
    assert json.loads(response.headers["X-Pagination"])["total"] == 2
    for row in rows:
        assert set(row) == PUBLIC_FIELDS
        assert all(set(part) == UNIT_FIELDS for part in row["units"])
    closed = rows[0]
    assert closed["closed"] and closed["status"] == "closed" and closed["status_name"] == "已销号"
    assert closed["closed_at"].startswith("2026-09-28")
    assert rows[1]["units"][0]["first_responsible"] == "王局长" and rows[1]["units"][1]["handler"] is None
    body = response.get_data(as_text=True)
    for absent in (CONTENT, "内部事项不公示", "保密事项不公示", "instance", "notice"):
        assert absent not in body, absent

    page = client.get("/api/v1/public/items?page=2&page_size=1")
    assert [r["title"] for r in page.json] == ["公开办理中事项"]
    assert [r["id"] for r in client.get("/api/v1/public/items?status=in_progress").json] == [items["open"]["id"]]
    assert client.get("/api/v1/public/items?text=办结").json[0]["id"] == items["closed"]["id"]
    assert client.get("/api/v1/public/items?status=drafting").status_code == 422
    # A stray classification parameter changes nothing.
    assert len(client.get("/api/v1/public/items?classification=secret").json) == 2


def test_openapi_marks_the_board_as_needing_no_token(board):
    app, _ = board
    spec = app.test_client().get("/api/openapi.json").json
    assert spec["paths"]["/api/v1/public/items"]["get"]["security"] == []
    for path in ("/api/v1/items/{item_id}/documents", "/api/v1/items/{item_id}/documents/{doc_id}.docx",
                 "/api/v1/items/{item_id}/archive.zip"):
        assert "security" not in spec["paths"][path]["get"], path  # the default: a bearer token


def test_a_signed_in_person_sees_the_same_board(board):
    from tests.support.web import Browser

    app, _ = board
    html = Browser(app, "unit_b").get("/public").get_data(as_text=True)
    assert "公开办理中事项" in html and "保密事项不公示" not in html  # designated or not, the board is public
    assert "退出" in html  # with the usual header
