"""The ledger over HTTP: GET /api/v1/items with filters and sort, the Excel export (API and page),
and the /items page itself."""
from __future__ import annotations

import io
import json
import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from openpyxl import load_workbook

from engine.services.export import XLSX
from tests.support.items import add_item
from tests.support.web import Browser


@pytest.fixture
def items(duban_sqlite):
    now = duban_sqlite.clock.now()
    return {
        "late": add_item(duban_sqlite, "逾期的事项", deadline=now - timedelta(days=2), parts=[("czj", {})]),
        "soon": add_item(duban_sqlite, "临期的事项", deadline=now + timedelta(hours=3),
                         parts=[("fgj", {}), ("czj", {})], source="instruction"),
        "later": add_item(duban_sqlite, "正常的事项", deadline=now + timedelta(days=30), parts=[("jyj", {})],
                          created_at=now - timedelta(days=10)),
    }


def token(client, username):
    response = client.post("/api/v1/auth/token", json={"username": username, "password": "duban-demo"})
    return {"Authorization": f"Bearer {response.json['token']}"}


def listed(client, headers, query=""):
    response = client.get(f"/api/v1/items?page_size=200&{query}", headers=headers)
    assert response.status_code == 200, response.json
    return [row["id"] for row in response.json]


def test_filters_and_sort_over_the_api(app, items):
    client = app.test_client()
    office = token(client, "office")
    assert listed(client, office) == sorted(items.values(), reverse=True)
    assert listed(client, office, "light=red") == [items["late"]]
    assert listed(client, office, "light=yellow") == [items["soon"]]
    assert listed(client, office, "unit=czj&sort=deadline") == [items["late"], items["soon"]]
    assert listed(client, office, "sort=-deadline") == [items["later"], items["soon"], items["late"]]
    assert listed(client, office, "source=instruction") == [items["soon"]]
    assert listed(client, office, "text=正常") == [items["later"]]
    assert listed(client, office, "from=2026-09-28&to=2026-09-28") == [items["soon"], items["late"]]
    assert listed(client, office, "deadline_from=2026-09-26&deadline_to=2026-09-26") == [items["late"]]
    response = client.get("/api/v1/items?sort=deadline&page_size=2&page=2", headers=office)
    assert [row["id"] for row in response.json] == [items["later"]]
    assert json.loads(response.headers["X-Pagination"])["total"] == 3
    assert listed(client, token(client, "unit_a")) == [items["soon"]]


@pytest.mark.parametrize("query", ["sort=secret_column", "sort=id;drop", "light=orange", "status=lost",
                                   "from=yesterday", "deadline_to=2026-02-30", "from=0001-01-01", "source=x",
                                   "classification=top"])
def test_bad_values_are_422(app, query):
    client = app.test_client()
    for path in ("/api/v1/items", "/api/v1/items/export.xlsx"):
        response = client.get(f"{path}?{query}", headers=token(client, "office"))
        assert response.status_code == 422, (path, query, response.data[:200])
        assert set(response.json) == {"error", "message", "details"}


def test_the_export_over_the_api(app, items):
    client = app.test_client()
    response = client.get("/api/v1/items/export.xlsx?unit=czj&sort=deadline", headers=token(client, "office"))
    assert response.status_code == 200
    assert response.mimetype == XLSX
    assert "attachment" in response.headers["Content-Disposition"]
    assert ".xlsx" in response.headers["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.data)).active
    assert [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)] == [items["late"], items["soon"]]
    # the domain's light names (engine/domain/items.py LIGHTS)
    assert [row[11] for row in sheet.iter_rows(min_row=2, values_only=True)] == ["逾期", "预警"]
    # a unit's export holds only its own items
    response = client.get("/api/v1/items/export.xlsx", headers=token(client, "unit_a"))
    sheet = load_workbook(io.BytesIO(response.data)).active
    assert [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)] == [items["soon"]]
    assert client.get("/api/v1/items/export.xlsx").status_code == 401


def test_the_export_is_documented_as_a_spreadsheet(app):
    spec = app.test_client().get("/api/openapi.json").json
    operation = spec["paths"]["/api/v1/items/export.xlsx"]["get"]
    assert XLSX in operation["responses"]["200"]["content"]
    listing = spec["paths"]["/api/v1/items"]["get"]
    names = {p["name"] for p in listing["parameters"]}
    assert {"light", "unit", "from", "to", "deadline_from", "deadline_to", "sort", "classification"} <= names


def test_the_ledger_page(app, items):
    browser = Browser(app, "office")
    page = browser.get("/items?light=red").text
    assert f'data-item="{items["late"]}"' in page and f'data-item="{items["soon"]}"' not in page
    assert 'value="red" selected' in page
    # the headers sort and keep the filters; the export link carries them
    header = re.search(r'<a class="sort" data-sort="deadline" href="\?([^"]*)"', page).group(1)
    assert parse_qs(header.replace("&amp;", "&")) == {"light": ["red"], "sort": ["deadline"]}
    export_link = re.search(r'id="export" href="([^"]*)"', page).group(1).replace("&amp;", "&")
    assert urlsplit(export_link).path == "/items/export.xlsx" and parse_qs(urlsplit(export_link).query) == {
        "light": ["red"]}
    sorted_page = browser.get("/items?sort=-deadline").text
    order = [int(i) for i in re.findall(r'data-item="(\d+)"', sorted_page)]
    assert order == [items["later"], items["soon"], items["late"]]
    assert 'aria-sort="descending"' in sorted_page
    assert "共 3 项" in browser.get("/items").text
    for label in ("编号", "灯", "事项", "承办单位", "办结时限", "状态"):
        assert f'data-label="{label}"' in page


def test_the_page_export_uses_the_session(app, items):
    browser = Browser(app, "unit_b")
    response = browser.get("/items/export.xlsx?light=red")
    assert response.status_code == 200 and response.mimetype == XLSX
    sheet = load_workbook(io.BytesIO(response.data)).active
    assert [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)] == [items["late"]]
    assert app.test_client().get("/items/export.xlsx").status_code == 302  # to sign in


def test_a_bad_filter_on_the_page_says_so(app, items):
    response = Browser(app, "office").get("/items?sort=nonsense")
    assert response.status_code == 422 and "筛选条件有误" in response.text
    assert Browser(app, "office").get("/items?page=99999999999999999999").status_code == 200


def test_one_set_of_light_names_everywhere(app, items):
    """正常/预警/逾期 (engine/domain/items.py LIGHTS) on the ledger page, its filter, the item page and the export."""
    browser = Browser(app, "office")
    page = browser.get("/items").text
    item_page = browser.get(f"/items/{items['soon']}").text
    sheet = load_workbook(io.BytesIO(browser.get("/items/export.xlsx").data)).active
    exported = {row[0]: row[11] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert exported == {items["late"]: "逾期", items["soon"]: "预警", items["later"]: "正常"}
    for name in ("正常", "预警", "逾期"):
        assert f">{name}</option>" in page and f">{name}</span>" in page
    assert ">预警</span>" in item_page
    for html in (page, item_page):
        assert "临期" not in html.replace("临期的事项", "") and "超期" not in html
