"""佐证材料: files kept in the database, typed by content, limited in size, seen as their item is,
downloads audited, tied to an item by a form submission, and filed in the item's archive."""
from __future__ import annotations

import dataclasses
import hashlib
import io
import zipfile

import pytest
from sqlalchemy import select

from engine import services
from engine.errors import FormInvalid, InvalidInput, NotFound
from engine.models import AuditRecord
from engine.services import archive, files
from tests.integration.flow import RECEIVE, complete, open_task, through_assignment

PDF = b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def zipped(*names: str) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive_:
        for name in names:
            archive_.writestr(name, "<x/>")
    return out.getvalue()


def ole2(stream: str) -> bytes:
    return b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100 + stream.encode("utf-16-le") + b"\x00" * 20


@pytest.mark.parametrize("data, kind", [
    (PDF, "application/pdf"),
    (zipped("OFD.xml", "Doc_0/Document.xml"), "application/ofd"),
    (PNG, "image/png"),
    (b"\xff\xd8\xff\xe0" + b"\x00" * 20, "image/jpeg"),
    (b"GIF89a" + b"\x00" * 20, "image/gif"),
    (b"RIFF\x10\x00\x00\x00WEBPVP8 " + b"\x00" * 20, "image/webp"),
    (zipped("[Content_Types].xml", "word/document.xml"), files.DOCX),
    (zipped("[Content_Types].xml", "xl/workbook.xml"), files.XLSX),
    (zipped("[Content_Types].xml", "ppt/presentation.xml"), files.PPTX),
    (ole2("WordDocument"), "application/msword"),
    (ole2("Workbook"), "application/vnd.ms-excel"),
    ("情况说明：已办结。\n".encode(), "text/plain; charset=utf-8"),
    (zipped("照片/1.jpg"), "application/zip"),
])
def test_the_type_is_what_the_content_is(data, kind):
    assert files.sniff(data) == kind


@pytest.mark.parametrize("data", [
    b"MZ\x90\x00\x03" + b"\x00" * 60,          # a Windows program
    b"\x7fELF\x02\x01\x01" + b"\x00" * 40,     # a Linux program
    b"<svg onload=alert(1)>\x00",               # not text (NUL), not an image we show
    b"PK\x03\x04 broken zip",                  # claims to be a zip, is not
    "GBK 编码".encode("gbk"),                    # text, but not UTF-8
])
def test_other_content_is_refused(data):
    assert files.sniff(data) is None


def test_upload_keeps_the_bytes_and_their_sha256_and_audits_the_download(duban, org):
    item = through_assignment(duban, org)
    stored = files.upload(duban, org["unit_a"], "../../办结报告.pdf", PDF, item["id"])
    assert stored["name"] == "办结报告.pdf" and stored["content_type"] == "application/pdf"
    assert stored["size"] == len(PDF) and stored["sha256"] == hashlib.sha256(PDF).hexdigest()
    listing, data = files.download(duban, org["office"], stored["id"])
    assert data == PDF and listing["name"] == "办结报告.pdf"
    with duban.db.reading() as session:
        record = session.scalars(select(AuditRecord).where(AuditRecord.action == "file.downloaded")).one()
        assert (record.actor, record.target) == ("office", f"file:{stored['id']}")
        assert record.detail["sha256"] == stored["sha256"] and record.detail["bytes"] == len(PDF)
    assert [f["name"] for f in files.list_item_files(duban, org["unit_b"], item["id"])] == ["办结报告.pdf"]


def test_a_file_named_pdf_that_is_a_program_is_refused_in_chinese(duban, org):
    with pytest.raises(InvalidInput, match="不是可接受的类型"):
        files.upload(duban, org["unit_a"], "报告.pdf", b"MZ\x90\x00" + b"\x00" * 60)


def test_size_limits_per_file_and_per_item(duban, org, tmp_path):
    small = dataclasses.replace(duban, settings=duban.settings.with_(max_file_bytes=len(PDF) + 10,
                                                                     max_item_files_bytes=2 * len(PDF)))
    item = through_assignment(small, org)
    with pytest.raises(InvalidInput, match="超过单个文件的上限"):
        files.upload(small, org["unit_a"], "大.pdf", PDF + b"x" * 20, item["id"])
    files.upload(small, org["unit_a"], "一.pdf", PDF, item["id"])
    files.upload(small, org["unit_a"], "二.pdf", PDF, item["id"])
    with pytest.raises(InvalidInput, match="每个事项的上限"):
        files.upload(small, org["unit_a"], "三.pdf", PDF, item["id"])
    with pytest.raises(InvalidInput, match="是空的"):
        files.upload(small, org["unit_a"], "空.txt", b"")


def test_a_secret_items_files_are_404_for_the_uncleared(duban, org):
    item = through_assignment(duban, org, classification="secret", designees=["leader", "unit_a", "unit_b"])
    stored = files.upload(duban, org["unit_a"], "保密.pdf", PDF, item["id"])
    other_office = org.add_user("office2", "office", "dcs")  # office staff, but not designated
    for outsider in (other_office, org["discipline"]):
        with pytest.raises(NotFound):
            files.download(duban, outsider, stored["id"])
        with pytest.raises(NotFound):
            files.list_item_files(duban, outsider, item["id"])
        with pytest.raises(NotFound):
            files.upload(duban, outsider, "x.pdf", PDF, item["id"])
    with pytest.raises(NotFound) as missing:
        files.download(duban, other_office, 999_999)
    with pytest.raises(NotFound) as hidden:
        files.download(duban, other_office, stored["id"])
    assert str(missing.value).replace("999999", "#") == str(hidden.value).replace(str(stored["id"]), "#")
    assert files.download(duban, org["leader"], stored["id"])[1] == PDF


def test_a_file_without_an_item_is_its_uploaders_until_a_report_ties_it(duban, org):
    item = through_assignment(duban, org)
    stored = files.upload(duban, org["unit_a"], "佐证.png", PNG)
    with pytest.raises(NotFound):
        files.download(duban, org["office"], stored["id"])
    complete(duban, org["unit_b"], "unit_receive", RECEIVE, "czj")
    with pytest.raises(FormInvalid):  # nobody submits another person's upload
        complete(duban, org["unit_b"], "unit_report", {"summary": "完成", "approved_by_deputy": True,
                                                       "evidence": [stored["id"]]}, "czj")
    complete(duban, org["unit_a"], "unit_receive", RECEIVE, "fgj")
    complete(duban, org["unit_a"], "unit_report", {"summary": "已办结", "approved_by_deputy": True,
                                                   "evidence": [stored["id"]]}, "fgj")
    assert files.download(duban, org["office"], stored["id"])[1] == PNG
    assert [f["id"] for f in files.list_item_files(duban, org["office"], item["id"])] == [stored["id"]]


def test_a_filepicker_value_is_a_list_of_ids(duban, org):
    through_assignment(duban, org)
    complete(duban, org["unit_a"], "unit_receive", RECEIVE, "fgj")
    task = open_task(duban, org["unit_a"], "unit_report", "fgj")
    with pytest.raises(FormInvalid) as refused:
        services.complete_task(duban, org["unit_a"], task["id"], {"summary": "x", "approved_by_deputy": True,
                                                                  "evidence": ["../etc/passwd"]})
    assert refused.value.details == [{"field": "evidence", "message": "须为已上传文件的编号列表"}]


def test_the_archive_holds_the_items_files_in_its_manifest(duban, org):
    item = through_assignment(duban, org, co_units=())
    stored = files.upload(duban, org["office"], "批示.pdf", PDF, item["id"])
    photo = files.upload(duban, org["unit_a"], "现场.png", PNG)
    complete(duban, org["unit_a"], "unit_receive", RECEIVE, "fgj")
    complete(duban, org["unit_a"], "unit_report", {"summary": "已办结", "approved_by_deputy": True,
                                                   "evidence": [photo["id"]]}, "fgj")
    complete(duban, org["office"], "office_review", {"decision": "accept"}, "fgj")
    complete(duban, org["office"], "feedback", {"summary": "已办结"})
    _, data = archive.archive_item(duban, org["office"], item["id"])
    with zipfile.ZipFile(io.BytesIO(data)) as zipped_:
        root = f"督办事项{item['id']}/"
        assert zipped_.read(root + "佐证材料/01-批示.pdf") == PDF
        manifest = zipped_.read(root + "SHA256SUMS.txt").decode()
        index = zipped_.read(root + "目录.txt").decode()
        report = zipped_.read(root + "办结报告/01-发改局.txt").decode()
    assert zipped_.namelist().count(root + "佐证材料/02-现场.png") == 1
    assert "佐证材料：佐证材料/02-现场.png" in report
    assert f"{stored['sha256']}  佐证材料/01-批示.pdf" in manifest
    assert f"{photo['sha256']}  佐证材料/02-现场.png" in manifest
    assert "佐证材料/01-批示.pdf  佐证材料" in index
