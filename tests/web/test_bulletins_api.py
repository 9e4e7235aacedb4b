"""督查通报 over HTTP: issue, list, download (API and pages), and who may do which."""
import io

import pytest
from docx import Document

from tests.integration.scoring import SECRET_TITLE, october
from tests.support.org import seed
from tests.support.web import USERS, Browser, client_as
from web import create_app


@pytest.fixture
def app(duban_sqlite):
    org = seed(duban_sqlite)
    october(duban_sqlite, org, secret=True)
    app = create_app(duban=duban_sqlite)
    app.config["TESTING"] = True
    return app


def words(content: bytes) -> str:
    doc = Document(io.BytesIO(content))
    cells = [cell.text for table in doc.tables for row in table.rows for cell in row.cells]
    return " ".join([p.text for p in doc.paragraphs] + cells)


def test_issue_list_download(app):
    office = client_as(app, "office")
    created = office.post("/api/v1/bulletins", json={"period": "2026-10"})
    assert created.status_code == 201
    assert (created.json["number"], created.json["summary"]["completed"]) == ("〔2026〕第1期", 3)
    listed = client_as(app, "leader").get("/api/v1/bulletins")
    assert [b["id"] for b in listed.json] == [created.json["id"]]
    response = client_as(app, "leader").get(f"/api/v1/bulletins/{created.json['id']}.docx")
    assert response.status_code == 200 and response.mimetype.endswith("wordprocessingml.document")
    assert "attachment" in response.headers["Content-Disposition"]
    text = words(response.data)
    assert "督查通报" in text and "〔2026〕第1期" in text and "D 老旧小区改造" in text and "住建局" in text
    assert SECRET_TITLE not in text
    assert office.get(f"/api/v1/bulletins/{created.json['id'] + 1}.docx").status_code == 404


def test_refusals(app):
    office = client_as(app, "office")
    for period in ("2026-13", "2026-Q0", "10-2026", "1999-12"):
        assert office.post("/api/v1/bulletins", json={"period": period}).status_code == 422, period
    assert office.post("/api/v1/bulletins", json={"period": "2027-01"}).status_code == 422  # not begun
    assert office.post("/api/v1/bulletins", json={}).status_code == 422
    issued = office.post("/api/v1/bulletins", json={"period": "2026-Q4"}).json["id"]
    for username in USERS:
        client = client_as(app, username)
        reader = username in ("office", "leader")
        assert client.get("/api/v1/bulletins").status_code == (200 if reader else 403), username
        assert client.get(f"/api/v1/bulletins/{issued}.docx").status_code == (200 if reader else 403), username
        if username != "office":
            assert client.post("/api/v1/bulletins", json={"period": "2026-10"}).status_code == 403, username
    assert app.test_client().get("/api/v1/bulletins").status_code == 401


def test_the_page(app):
    office = Browser(app, "office")
    page = office.get("/bulletins").get_data(as_text=True)
    assert 'name="period"' in page and '<option value="2026-11" >2026年11月</option>' in page
    assert '<option value="2026-10" selected>2026年10月</option>' in page  # last month, by default
    assert '<option value="2026-Q4" >2026年第四季度</option>' in page and ">通报<" in page
    issued = office.post("/bulletins", {"period": "2026-10"})
    assert issued.status_code == 302 and "/bulletins?issued=" in issued.headers["Location"]
    listed = office.get(issued.headers["Location"]).get_data(as_text=True)
    assert "已生成 2026年10月督查督办工作情况通报 〔2026〕第1期" in listed
    download = office.get("/bulletins/1.docx")
    assert download.status_code == 200 and "〔2026〕第1期" in words(download.data)
    assert office.post("/bulletins", {"period": "2030-01"}).status_code == 422
    assert office.post("/bulletins", {"period": "2026-10"}, csrf=False).status_code == 403

    leader = Browser(app, "leader").get("/bulletins").get_data(as_text=True)
    assert "〔2026〕第1期" in leader and 'name="period"' not in leader  # reads, does not issue
    assert Browser(app, "leader").post("/bulletins", {"period": "2026-10"}).status_code == 403
    assert Browser(app, "unit_a").get("/bulletins").status_code == 403
    assert ">通报<" not in Browser(app, "unit_a").get("/tasks").get_data(as_text=True)


def test_preview_then_a_second_issue_of_the_period_is_409_until_confirmed(app):
    office = client_as(app, "office")
    preview = office.get("/api/v1/bulletins/preview?period=2026-10")
    assert preview.status_code == 200
    assert (preview.json["number"], preview.json["issued"], preview.json["summary"]["completed"]) == (
        "〔2026〕第1期", [], 3)
    assert {"completed", "overdue", "urged", "escalated", "praised", "criticised"} == set(preview.json["lists"])
    assert office.get("/api/v1/bulletins").json == []  # a preview stores nothing
    assert office.get("/api/v1/bulletins/preview?period=2026-13").status_code == 422
    assert client_as(app, "leader").get("/api/v1/bulletins/preview?period=2026-10").status_code == 403

    first = office.post("/api/v1/bulletins", json={"period": "2026-10"}).json
    refused = office.post("/api/v1/bulletins", json={"period": "2026-10"})
    assert refused.status_code == 409 and refused.json["error"] == "conflict"
    assert refused.json["message"].startswith("2026年10月已发过通报（〔2026〕第1期）")
    assert refused.json["details"][0]["field"] == "confirm_reissue"
    assert office.get("/api/v1/bulletins/preview?period=2026-10").json["issued"][0]["id"] == first["id"]
    second = office.post("/api/v1/bulletins", json={"period": "2026-10", "confirm_reissue": True})
    assert second.status_code == 201 and second.json["number"] == "〔2026〕第2期"


def test_void_over_the_api(app):
    office = client_as(app, "office")
    first = office.post("/api/v1/bulletins", json={"period": "2026-10"}).json
    assert office.post(f"/api/v1/bulletins/{first['id']}/void", json={}).status_code == 422
    blank = office.post(f"/api/v1/bulletins/{first['id']}/void", json={"reason": " "})
    assert blank.status_code == 422 and blank.json["details"][0]["field"] == "reason"
    assert client_as(app, "leader").post(f"/api/v1/bulletins/{first['id']}/void",
                                         json={"reason": "领导作废"}).status_code == 403
    voided = office.post(f"/api/v1/bulletins/{first['id']}/void", json={"reason": "数字有误"})
    assert voided.status_code == 200
    assert (voided.json["voided"], voided.json["void_reason"], voided.json["voided_by_name"]) == (
        True, "数字有误", "督查室 王主任")
    again = office.post(f"/api/v1/bulletins/{first['id']}/void", json={"reason": "再次"})
    assert again.status_code == 409 and "已作废" in again.json["message"]
    reissued = office.post("/api/v1/bulletins", json={"period": "2026-10"})  # no confirming: the first is void
    assert reissued.status_code == 201 and reissued.json["number"] == "〔2026〕第2期"
    leader = client_as(app, "leader")
    assert [(b["number"], b["voided"]) for b in leader.get("/api/v1/bulletins").json] == [
        ("〔2026〕第2期", False), ("〔2026〕第1期", True)]
    assert [b["number"] for b in leader.get("/api/v1/bulletins?include_voided=false").json] == ["〔2026〕第2期"]
    download = leader.get(f"/api/v1/bulletins/{first['id']}.docx")
    assert "%EF%BC%88%E5%B7%B2%E4%BD%9C%E5%BA%9F%EF%BC%89" in download.headers["Content-Disposition"]  # （已作废）


def test_the_page_previews_warns_and_voids(app):
    office = Browser(app, "office")
    page = office.get("/bulletins?preview=1&period=2026-10")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'id="preview"' in html and "预览：2026年10月督查督办工作情况通报" in html
    assert "如现在生成，期号为 〔2026〕第1期" in html and "already-issued" not in html and "C 校舍改造问责" in html
    assert 'id="preview-button"' in html
    assert office.post("/bulletins", {"period": "2026-10"}).status_code == 302
    warned = office.get("/bulletins?preview=1&period=2026-10").get_data(as_text=True)
    assert 'id="already-issued"' in warned and "2026年10月已发过通报：" in warned and 'name="confirm_reissue"' in warned
    twice = office.post("/bulletins", {"period": "2026-10"})
    assert twice.status_code == 409 and "2026年10月已发过通报（〔2026〕第1期）" in twice.get_data(as_text=True)
    assert "确认再发一期" in twice.get_data(as_text=True)
    assert office.post("/bulletins", {"period": "2026-10", "confirm_reissue": "1"}).status_code == 302

    assert office.post("/bulletins/1/void", {"reason": ""}).status_code == 422
    voided = office.post("/bulletins/1/void", {"reason": "数字有误，重新通报"})
    assert voided.status_code == 302 and "voided=1" in voided.headers["Location"]
    listed = office.get(voided.headers["Location"]).get_data(as_text=True)
    assert "已作废" in listed and "作废理由：数字有误，重新通报" in listed
    assert office.post("/bulletins/1/void", {"reason": "再次"}).status_code == 409
    assert office.post("/bulletins/1/void", {"reason": "x"}, csrf=False).status_code == 403
    assert Browser(app, "leader").post("/bulletins/2/void", {"reason": "领导"}).status_code == 403
    assert "作废理由：数字有误" in Browser(app, "leader").get("/bulletins").get_data(as_text=True)
