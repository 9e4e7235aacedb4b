"""考核 over HTTP: the API (scores, lines, rules, export, praise) and its pages, with their refusals."""
import io

from openpyxl import load_workbook

from tests.support.web import USERS, Browser, client_as


def test_scores_and_lines(scored_world):
    app, items = scored_world
    office = client_as(app, "office")
    board = office.get("/api/v1/assessment/2026")
    assert board.status_code == 200
    assert [(u["rank"], u["unit"], u["total"]) for u in board.json["units"]] == [
        (1, "zjj", 5), (2, "fgj", 2), (3, "czj", -2), (4, "jyj", -15)]
    assert board.json["units"][3]["counts"] == {"on_time": 0, "praised": 0, "late": 0, "criticised": 1, "escalated": 1}
    lines = office.get("/api/v1/assessment/2026/units/jyj").json
    assert (lines["unit_name"], lines["total"], lines["rank"]) == ("教育局", -15, 4)
    assert [(line["item_id"], line["event"], line["event_name"], line["points"]) for line in lines["lines"]] == [
        (items["c"]["id"], "criticised", "通报批评", -5), (items["c"]["id"], "escalated", "移送纪委问责", -10)]
    assert office.get("/api/v1/assessment/2026/units/nowhere").status_code == 404
    assert office.get("/api/v1/assessment/1999").status_code == 422


def test_who_may_see_scores(scored_world):
    app, _ = scored_world
    expected = {"office": 200, "leader": 200, "admin": 200, "unit_a": 200, "unit_b": 200,
                "discipline": 403, "designer": 403, "secadmin": 403, "auditor": 403}
    for username in USERS:
        client = client_as(app, username)
        for path in ("/api/v1/assessment/2026", "/api/v1/assessment/2026.xlsx", "/api/v1/assessment/2026/units/fgj"):
            status = client.get(path).status_code
            want = 403 if path.endswith("/fgj") and username == "unit_b" else expected[username]
            assert status == want, (username, path, status)
    own = client_as(app, "unit_b").get("/api/v1/assessment/2026").json["units"]
    assert [(u["unit"], u["rank"], u["total"]) for u in own] == [("czj", None, -2)]
    assert app.test_client().get("/api/v1/assessment/2026").status_code == 401


def test_rules_are_edited_by_system_administrators(scored_world):
    app, _ = scored_world
    rules = client_as(app, "unit_a").get("/api/v1/assessment/rules").json
    assert [(r["code"], r["name"], r["points"]) for r in rules] == [
        ("on_time", "按期办结", 2), ("praised", "领导表扬", 3), ("late", "逾期办结", -2),
        ("criticised", "通报批评", -5), ("escalated", "移送纪委问责", -10)]
    for username in ("office", "leader", "unit_a", "secadmin", "auditor"):
        assert client_as(app, username).put("/api/v1/assessment/rules/late", json={"points": -4}).status_code == 403
    admin = client_as(app, "admin")
    assert admin.put("/api/v1/assessment/rules/nothing", json={"points": 1}).status_code == 404
    assert admin.put("/api/v1/assessment/rules/late", json={"points": "x"}).status_code == 422
    assert admin.put("/api/v1/assessment/rules/late", json={"points": 5000}).status_code == 422
    changed = admin.put("/api/v1/assessment/rules/late", json={"points": -4.5})
    assert changed.status_code == 200 and changed.json["points"] == -4.5 and changed.json["updated_by"] == "admin"
    board = admin.get("/api/v1/assessment/2026").json
    assert {u["unit"]: u["total"] for u in board["units"]}["czj"] == -4.5
    assert admin.put("/api/v1/assessment/rules/late", json={"points": -4.5, "active": False}).json["active"] is False
    assert {u["unit"]: u["total"] for u in admin.get("/api/v1/assessment/2026").json["units"]}["czj"] == 0
    audit = client_as(app, "auditor").get("/api/v1/audit?action=assessment.rule").json
    assert len([r for r in audit if r["action"] == "assessment.rule"]) == 2


def test_the_excel_export(scored_world):
    app, _ = scored_world
    response = client_as(app, "leader").get("/api/v1/assessment/2026.xlsx")
    assert response.status_code == 200 and response.mimetype.endswith("spreadsheetml.sheet")
    assert "attachment" in response.headers["Content-Disposition"]
    book = load_workbook(io.BytesIO(response.data))
    assert book.sheetnames == ["2026年考核得分", "计分明细"]
    assert book.worksheets[0]["B2"].value == "住建局" and book.worksheets[0]["H2"].value == 5
    assert book.worksheets[1].max_row == 7  # a header and six lines


def test_praise(scored_world):
    app, items = scored_world
    path = f"/api/v1/items/{items['a']['id']}/praise"
    assert client_as(app, "office").post(path, json={"unit": "fgj"}).status_code == 403
    leader = client_as(app, "leader")
    assert leader.post(path, json={}).status_code == 422
    assert leader.post(path, json={"unit": "czj"}).status_code == 422
    assert leader.post("/api/v1/items/999999/praise", json={"unit": "fgj"}).status_code == 404
    created = leader.post(path, json={"unit": "fgj", "note": "按期高质量完成"})
    assert created.status_code == 201
    assert {k: created.json[k] for k in ("item_id", "unit", "unit_name", "by", "note")} == {
        "item_id": items["a"]["id"], "unit": "fgj", "unit_name": "发改局", "by": "leader", "note": "按期高质量完成"}
    assert leader.post(path, json={"unit": "fgj"}).status_code == 409
    lines = leader.get("/api/v1/assessment/2026/units/fgj").json
    assert [(line["event"], line["points"]) for line in lines["lines"]] == [("on_time", 2), ("praised", 3)]


def test_the_pages(scored_world):
    app, _ = scored_world
    office = Browser(app, "office")
    page = office.get("/assessment?year=2026")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'href="/assessment/2026/units/zjj"' in html and "/assessment/2026.xlsx" in html and ">考核<" in html
    assert html.index("住建局") < html.index("发改局") < html.index("财政局") < html.index("教育局")
    lines = office.get("/assessment/2026/units/jyj").get_data(as_text=True)
    assert "C 校舍改造问责" in lines and "移送纪委问责" in lines and "-15" in lines
    export = office.get("/assessment/2026.xlsx")
    assert export.status_code == 200 and export.data[:2] == b"PK"
    assert office.post("/assessment/rules", {"code": "late", "points": "-3", "active": "1"}).status_code == 403

    unit = Browser(app, "unit_b").get("/assessment").get_data(as_text=True)
    assert "财政局" in unit and "发改局" not in unit
    assert Browser(app, "unit_b").get("/assessment/2026/units/fgj").status_code == 403
    assert Browser(app, "discipline").get("/assessment").status_code == 403

    admin = Browser(app, "admin")
    saved = admin.post("/assessment/rules", {"code": "late", "points": "-3", "active": "1"})
    assert saved.status_code == 302
    assert 'name="points" value="-3.00"' in admin.get("/assessment/rules").get_data(as_text=True)
    assert admin.post("/assessment/rules", {"code": "late", "points": "many"}).status_code == 422
    assert admin.post("/assessment/rules", {"code": "late", "points": "-3"}, csrf=False).status_code == 403
    assert 'data-total="-3.00"' in admin.get("/assessment?year=2026").get_data(as_text=True)
