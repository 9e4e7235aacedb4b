"""不予立项: the item shows the refusal, its reason, who and when — no units, deadlines, lights or 六有."""
import re

import pytest

from tests.integration.flow import complete, register
from tests.support.org import seed
from tests.support.web import Browser, client_as
from web import create_app


@pytest.fixture
def refused(duban_sqlite):
    org = seed(duban_sqlite)
    item = register(duban_sqlite, org, title="拟不予立项的事项")
    complete(duban_sqlite, org["office"], "draft_opinion", {"lead_unit": "fgj", "co_units": ["czj"], "opinion": "拟办"})
    duban_sqlite.clock.advance(hours=2)
    complete(duban_sqlite, org["leader"], "leader_approval", {"decision": "reject", "comment": "不属于督办范围"})
    app = create_app(duban=duban_sqlite)
    app.config["TESTING"] = True
    return app, item


def test_the_api_gives_the_refusal_and_no_units(refused):
    app, item = refused
    body = client_as(app, "office").get(f"/api/v1/items/{item['id']}").json
    assert (body["status"], body["status_name"], body["units"], body["persons"], body["lead_unit"]) == (
        "rejected", "不予立项", [], [], None)
    assert {k: body["refusal"][k] for k in ("by", "by_name", "step", "reason")} == {
        "by": "leader", "by_name": "县政府 李副县长", "step": "领导审批", "reason": "不属于督办范围"}
    assert body["refusal"]["at"].startswith("2026-09-28T03:00")  # 11:00 Beijing
    others = client_as(app, "office").get("/api/v1/items").json
    rows = others["items"] if isinstance(others, dict) else others
    assert next(r for r in rows if r["id"] == item["id"])["units"] == []
    assert [r["id"] for r in _rows(client_as(app, "office").get("/api/v1/items?unit=fgj").json)] == []


def _rows(body):
    return body["items"] if isinstance(body, dict) else body


def test_the_page_shows_only_what_applies(refused):
    app, item = refused
    html = Browser(app, "office").get(f"/items/{item['id']}").get_data(as_text=True)
    refusal = re.search(r'<dl class="facts" id="refusal">(.*?)</dl>', html, re.S).group(1)
    assert "县政府 李副县长" in refusal and "2026年9月28日 11:00" in refusal and "领导审批" in refusal
    assert "不属于督办范围" in refusal
    # (the 办理记录 still tells what the 拟办 proposed: that is history, not the item's units)
    for absent in ("<h2>承办单位</h2>", "办结时限", "六有", "延期申请", "尚未交办"):
        assert absent not in html, absent
    ledger = Browser(app, "office").get("/items").get_data(as_text=True)
    row = re.search(rf'<tr data-item="{item["id"]}".*?</tr>', ledger, re.S).group(0)
    deadline_cell = row.split('data-label="办结时限"')[1].split("</td>")[0]
    assert "不予立项" in row and "发改局" not in row and "<time" not in deadline_cell
    assert 'class="light' not in row
