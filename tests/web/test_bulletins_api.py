"""督查通报 over HTTP: issue, list, download (API and pages), and who may do which."""
import io

import pytest
from docx import Document

from tests.conftest import seed
from tests.integration.scoring import SECRET_TITLE, october
from tests.web.test_assessment_api import USERS, client_as
from tests.web.test_pages import Browser
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
