"""The files API: POST /api/v1/files, GET /api/v1/files/{id}, GET /api/v1/items/{id}/files."""
from __future__ import annotations

import hashlib
import io
from urllib.parse import quote

from tests.integration.flow import RECEIVE, complete, open_task
from tests.support.web import assert_error

PDF = b"%PDF-1.4\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16


def register(as_) -> int:
    created = as_("office").post("/api/v1/items", json={"title": "推进重点项目建设", "source": "decision"})
    assert created.status_code == 201, created.json
    return created.json["id"]


def upload(caller, data: bytes, name: str, item_id=None):
    form = {"file": (io.BytesIO(data), name)}
    if item_id is not None:
        form["item_id"] = str(item_id)
    return caller.post("/api/v1/files", data=form, content_type="multipart/form-data")


def test_upload_answers_the_contract_and_downloads_as_an_attachment(as_):
    item_id = register(as_)
    answer = upload(as_("office"), PDF, "领导批示.pdf", item_id)
    assert answer.status_code == 201, answer.json
    assert answer.json["name"] == "领导批示.pdf" and answer.json["size"] == len(PDF)
    assert answer.json["content_type"] == "application/pdf"
    assert answer.json["sha256"] == hashlib.sha256(PDF).hexdigest()
    assert {"id", "name", "size", "content_type", "sha256"} <= set(answer.json)
    got = as_("office").get(f"/api/v1/files/{answer.json['id']}")
    assert got.status_code == 200 and got.data == PDF
    disposition = got.headers["Content-Disposition"]
    assert disposition.startswith("attachment") and f"filename*=UTF-8''{quote('领导批示.pdf')}" in disposition
    inline = as_("office").get(f"/api/v1/files/{answer.json['id']}?inline=1")
    assert inline.headers["Content-Disposition"].startswith("inline") and inline.mimetype == "application/pdf"
    listed = as_("office").get(f"/api/v1/items/{item_id}/files")
    assert [f["name"] for f in listed.json] == ["领导批示.pdf"] and listed.json[0]["uploaded_by"] == "office"


def test_only_pdf_and_images_are_shown_inline(as_):
    answer = upload(as_("unit_a"), "说明文字\n".encode(), "说明.txt")
    got = as_("unit_a").get(f"/api/v1/files/{answer.json['id']}?inline=1")
    assert got.headers["Content-Disposition"].startswith("attachment")
    assert "sandbox" in got.headers["Content-Security-Policy"]


def test_refused_content_and_a_missing_file_are_chinese_422s(as_):
    body = assert_error(upload(as_("office"), b"MZ\x90\x00" + b"\x00" * 40, "报告.pdf"), 422)
    assert "不是可接受的类型" in body["message"]
    body = assert_error(as_("office").post("/api/v1/files", data={}, content_type="multipart/form-data"), 422)
    assert body["message"] == "请选择要上传的文件"


def test_a_file_without_an_item_is_404_to_everyone_but_its_uploader(as_):
    answer = upload(as_("unit_a"), PNG, "现场.png")
    assert as_("unit_a").get(f"/api/v1/files/{answer.json['id']}").data == PNG
    assert_error(as_("office").get(f"/api/v1/files/{answer.json['id']}"), 404)
    assert_error(as_("unit_b").get(f"/api/v1/files/{answer.json['id']}"), 404)


def test_a_unit_not_on_the_item_may_not_attach_and_a_hidden_item_is_404(as_, app):
    item_id = register(as_)
    assert_error(upload(as_("unit_a"), PDF, "a.pdf", item_id), 404)  # not yet assigned: not theirs to see
    assert_error(upload(as_("leader"), PDF, "a.pdf", item_id), 403)  # seen, but not theirs to act on
    assert_error(as_("unit_a").get(f"/api/v1/items/{item_id}/files"), 404)


def test_a_report_submitted_with_files_ties_them_to_the_item(as_, app):
    from tests.support.org import Org

    duban = app.extensions["duban"]
    org = Org(duban)
    item_id = register(as_)
    complete(duban, org["office"], "draft_opinion", {"lead_unit": "fgj", "co_units": [], "opinion": "请办理"})
    complete(duban, org["leader"], "leader_approval", {"decision": "approve"})
    complete(duban, org["office"], "assign", {"notice": "交办通知单"})
    complete(duban, org["unit_a"], "unit_receive", RECEIVE, "fgj")
    task = open_task(duban, org["unit_a"], "unit_report", "fgj")
    file_id = upload(as_("unit_a"), PDF, "办结报告.pdf").json["id"]
    done = as_("unit_a").post(f"/api/v1/tasks/{task['id']}/complete",
                              json={"data": {"summary": "已办结", "approved_by_deputy": True, "evidence": [file_id]}})
    assert done.status_code == 200, done.json
    assert [f["id"] for f in as_("office").get(f"/api/v1/items/{item_id}/files").json] == [file_id]


def test_the_item_page_lists_its_files_and_offers_attaching_to_who_may(as_, app):
    from tests.support.web import Browser

    item_id = register(as_)
    file_id = upload(as_("office"), PDF, "领导批示扫描件.pdf", item_id).json["id"]
    office = Browser(app, "office").get(f"/items/{item_id}").text
    assert "领导批示扫描件.pdf" in office and f'href="/api/v1/files/{file_id}"' in office
    assert 'id="attach"' in office and "files.js" in office
    leader = Browser(app, "leader").get(f"/items/{item_id}").text
    assert "领导批示扫描件.pdf" in leader and 'id="attach"' not in leader


def test_a_start_form_with_a_filepicker_deploys_and_its_files_join_the_new_item(as_):
    import json

    from tests.support.npc import START_FORM, npc_process
    from tests.support.org import BPMN

    start_form = {**START_FORM, "components": [*START_FORM["components"],
                                               {"type": "filepicker", "key": "scans", "label": "批示扫描件"}]}
    data = {"file": [(io.BytesIO(npc_process()), "npc.bpmn")],
            "forms": [(io.BytesIO(json.dumps(start_form).encode()), "npc_start.form")]
            + [(io.BytesIO((BPMN / "forms" / f"{name}.form").read_bytes()), f"{name}.form")
               for name in ("draft_opinion", "unit_report", "reply", "satisfaction", "feedback")]}
    deployed = as_("designer").post("/api/v1/definitions", data=data, content_type="multipart/form-data")
    assert deployed.status_code == 201, deployed.json
    mine = upload(as_("office"), PDF, "批示.pdf").json["id"]
    theirs = upload(as_("unit_a"), PNG, "别人的.png").json["id"]
    refused = as_("office").post("/api/v1/processes/npc/start", json={"data": {"title": "建议", "scans": [theirs]}})
    assert assert_error(refused, 422)["details"][0]["field"] == "scans"
    started = as_("office").post("/api/v1/processes/npc/start", json={"data": {"title": "建议", "scans": [mine]}})
    assert started.status_code == 201, started.json
    listed = as_("office").get(f"/api/v1/items/{started.json['item_id']}/files").json
    assert [f["id"] for f in listed] == [mine]


def test_a_file_over_the_limit_is_a_chinese_422_naming_the_limit(duban_sqlite):
    import dataclasses

    from tests.support.org import seed
    from tests.support.web import Caller
    from web import create_app

    seed(duban_sqlite)
    small = dataclasses.replace(duban_sqlite, settings=duban_sqlite.settings.with_(max_file_bytes=1024 * 1024))
    caller = Caller(create_app(duban=small).test_client(), "office")
    body = assert_error(upload(caller, b"%PDF-" + b"0" * (1024 * 1024), "扫描件.pdf"), 422)
    assert body["message"] == "文件“扫描件.pdf”超过单个文件的上限 1 MB"


def test_an_extension_request_sent_with_files_through_the_api_and_the_page(as_, app):
    from tests.support.org import Org
    from tests.support.web import Browser

    duban = app.extensions["duban"]
    org = Org(duban)
    item_id = register(as_)
    complete(duban, org["office"], "draft_opinion", {"lead_unit": "fgj", "co_units": ["czj"], "opinion": "请办理"})
    complete(duban, org["leader"], "leader_approval", {"decision": "approve"})
    complete(duban, org["office"], "assign", {"notice": "交办通知单"})
    ask = {"reason": "需会商", "head": "李局长", "head_signed": True, "new_deadline": "2026-10-30"}
    minutes = upload(as_("unit_a"), PDF, "会商纪要.pdf").json["id"]
    refused = as_("unit_a").post(f"/api/v1/items/{item_id}/extensions", json={**ask, "evidence": ["纪要"]})
    assert assert_error(refused, 422)["details"][0]["field"] == "evidence"
    asked = as_("unit_a").post(f"/api/v1/items/{item_id}/extensions", json={**ask, "evidence": [minutes]})
    assert asked.status_code == 201, asked.json
    assert asked.json["evidence"] == [minutes]
    assert as_("office").get(f"/api/v1/items/{item_id}/extensions").json[0]["evidence"] == [minutes]
    page = Browser(app, "office").get(f"/items/{item_id}").text
    assert 'class="file-list extension-files"' in page and "会商纪要.pdf" in page

    # The page's form: a refusal keeps the files chosen, by name; then the request carries them.
    scan = upload(as_("unit_b"), PNG, "现场.png").json["id"]
    unit = Browser(app, "unit_b")
    again = unit.post(f"/items/{item_id}/extensions",
                      data={"reason": "需会商", "head": "", "new_deadline": "2026-10-30", "evidence": [str(scan)]})
    assert again.status_code == 422 and "现场.png" in again.text
    sent = unit.post(f"/items/{item_id}/extensions", data={**ask, "head_signed": "1", "evidence": [str(scan)]})
    assert sent.status_code == 302
    assert as_("office").get(f"/api/v1/items/{item_id}/extensions").json[1]["evidence"] == [scan]


def test_a_withdrawn_item_takes_no_files_and_offers_neither_attaching_nor_printing(as_, app):
    from tests.support.web import Browser

    item_id = register(as_)
    assert 'id="print-sheet"' in Browser(app, "office").get(f"/items/{item_id}").text
    withdrawn = as_("office").post(f"/api/v1/items/{item_id}/withdraw", json={"reason": "重复立项"})
    assert withdrawn.status_code == 200, withdrawn.json
    body = assert_error(upload(as_("office"), PDF, "迟到的批示.pdf", item_id), 409)
    assert body["message"] == "此事项已撤销，不再添加附件"
    assert as_("office").get(f"/api/v1/items/{item_id}/files").json == []
    page = Browser(app, "office").get(f"/items/{item_id}").text
    assert 'id="attach"' not in page and 'id="print-sheet"' not in page
    printed = Browser(app, "office").get(f"/items/{item_id}/print")
    assert printed.status_code == 409 and "此事项已撤销，没有督办单可打印" in printed.text
