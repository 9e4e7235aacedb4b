"""文书 and 立卷归档 over HTTP: the API (bearer) and the item and task pages (session)."""
from __future__ import annotations

import io
import re
import zipfile

import pytest
from docx import Document

from engine import services
from tests.support.items import assign, close
from tests.support.org import seed
from tests.support.web import Browser
from web import create_app

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@pytest.fixture
def world(duban_sqlite):
    org = seed(duban_sqlite)
    item = assign(duban_sqlite, org, "文书事项", "internal")
    app = create_app(duban=duban_sqlite)
    app.config["TESTING"] = True
    client = app.test_client()

    def bearer(username):
        token = client.post("/api/v1/auth/token", json={"username": username, "password": "duban-demo"}).json["token"]
        return {"Authorization": f"Bearer {token}"}

    return app, duban_sqlite, org, item, client, bearer


def test_documents_and_archive_over_the_api(world):
    app, duban, org, item, client, bearer = world
    base = f"/api/v1/items/{item['id']}"
    office = bearer("office")
    listed = client.get(f"{base}/documents", headers=office)
    assert listed.status_code == 200
    assert [(d["kind"], d["number"], d["unit"]) for d in listed.json] == [("assign_notice", "督交〔2026〕1号", None)]
    doc = listed.json[0]
    download = client.get(f"{base}/documents/{doc['id']}.docx", headers=office)
    assert download.status_code == 200 and download.mimetype == DOCX
    assert "attachment" in download.headers["Content-Disposition"]
    assert "文书事项的交办通知单" in "\n".join(
        p.text for row in Document(io.BytesIO(download.data)).tables[0].rows for p in row.cells[1].paragraphs)

    refused = client.get(f"{base}/archive.zip", headers=office)
    assert refused.status_code == 409 and set(refused.json) == {"error", "message", "details"}

    for path in (f"{base}/documents", f"{base}/documents/{doc['id']}.docx", f"{base}/archive.zip"):
        assert client.get(path, headers=bearer("discipline")).status_code == 404, path
        assert client.get(path).status_code == 401, path
    assert client.get(f"{base}/documents/{doc['id'] + 1000}.docx", headers=office).status_code == 404

    close(duban, org, item)
    archived = client.get(f"{base}/archive.zip", headers=bearer("unit_b"))
    assert archived.status_code == 200 and archived.mimetype == "application/zip"
    with zipfile.ZipFile(io.BytesIO(archived.data)) as bundle:
        assert f"督办事项{item['id']}/SHA256SUMS.txt" in bundle.namelist()


def test_the_item_page_lists_documents_and_offers_the_archive_once_closed(world):
    app, duban, org, item, _, _ = world
    browser = Browser(app, "office")
    page = browser.get(f"/items/{item['id']}").get_data(as_text=True)
    links = re.findall(rf'href="(/items/{item["id"]}/documents/\d+\.docx)"', page)
    assert len(links) == 1 and "督交〔2026〕1号" in page
    assert 'id="archive"' not in page
    download = browser.get(links[0])
    assert download.status_code == 200 and download.mimetype == DOCX
    assert "交办通知单" in "\n".join(p.text for p in Document(io.BytesIO(download.data)).paragraphs)
    assert browser.get(f"/items/{item['id']}/archive.zip").status_code == 409  # an HTML page says why

    close(duban, org, item)
    page = browser.get(f"/items/{item['id']}").get_data(as_text=True)
    assert f'href="/items/{item["id"]}/archive.zip"' in page
    archived = browser.get(f"/items/{item['id']}/archive.zip")
    assert archived.status_code == 200 and archived.data[:2] == b"PK"

    stranger = app.test_client().get(links[0])
    assert stranger.status_code == 302 and stranger.headers["Location"].startswith("/login")
    assert Browser(app, "discipline").get(links[0]).status_code == 404


def test_the_task_page_links_its_documents(world):
    app, duban, org, item, _, _ = world
    tasks, _ = services.list_tasks(duban, org["unit_a"], instance_id=item["instance_id"])
    page = Browser(app, "unit_a").get(f"/tasks/{tasks[0]['id']}").get_data(as_text=True)
    documents = re.search(r'<ul class="documents">.*?</ul>', page, re.S).group(0)
    assert "交办通知单" in documents and "文书事项的交办通知单" in documents
    assert re.search(rf'href="/items/{item["id"]}/documents/\d+\.docx"', documents)
