"""文书 (交办通知单, 催办通知单) filled from .docx templates, and 立卷归档 of a finished item."""
from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile
from datetime import datetime

import pytest
from docx import Document
from docx.shared import RGBColor
from sqlalchemy import select

from engine import services
from engine.clock import CHINA
from engine.errors import Conflict, NotFound
from engine.models import AuditRecord, HistoryEntry
from engine.services import archive, documents, operations, timers
from tests.integration.flow import RECEIVE, REPORT, complete, open_task, unit_done
from tests.support.documents import TITLE, all_text, assigned


def closed_with_an_urge(duban, org) -> tuple[dict, str]:
    """发改局 reports in time; 财政局 is urged, has one report returned, then accepted; 反馈销号."""
    item, _ = assigned(duban, org)
    unit_done(duban, org, "unit_a", "fgj")
    complete(duban, org["unit_b"], "unit_receive", RECEIVE, "czj")
    duban.clock.set(datetime(2026, 10, 16, 17, 31, tzinfo=CHINA))
    timers.fire_all_due(duban)
    urge = open_task(duban, org["office"], "urge")
    urge_notice = services.get_task(duban, org["office"], urge["id"])["data"]["notice"] + "\n请抓紧办理。"
    services.complete_task(duban, org["office"], urge["id"], {"notice": urge_notice, "new_limit": "2026-10-21"})
    complete(duban, org["unit_b"], "unit_report", {"summary": "初稿，数据待核", "approved_by_deputy": True}, "czj")
    complete(duban, org["office"], "office_review", {"decision": "return", "comment": "数据待核"}, "czj")
    complete(duban, org["unit_b"], "unit_report", {"summary": "财政局已落实资金=100万元", "approved_by_deputy": True},
             "czj")
    complete(duban, org["office"], "office_review", {"decision": "accept"}, "czj")
    complete(duban, org["office"], "feedback", {"summary": "两单位均已办结，已向领导反馈"})
    assert services.get_item(duban, org["office"], item["id"])["status"] == "closed"
    return item, urge_notice


# --- filling a template --------------------------------------------------------------------------

def test_placeholders_split_across_runs_in_body_tables_and_footers_are_filled():
    template = Document()
    paragraph = template.add_paragraph()
    for piece in ("编号：{", "{num", "ber}", "} 致{{ unit }}：", "{{unknown}}"):
        paragraph.add_run(piece).bold = piece.startswith("{{")
    template.add_paragraph("{{notice}}").runs[0].italic = True
    cell = template.add_table(rows=1, cols=1).rows[0].cells[0]
    cell.paragraphs[0].add_run("{{tit")
    cell.paragraphs[0].add_run("le}}")
    template.sections[0].footer.paragraphs[0].add_run("第{{number}}页")
    buffer = io.BytesIO()
    template.save(buffer)

    filled = Document(io.BytesIO(documents.fill(buffer.getvalue(), {
        "number": "督交〔2026〕1号", "unit": "发改局", "title": "推进<建设>&落实",
        "notice": "第一段\n第二段\x0c含换页符"})))
    assert filled.paragraphs[0].text == "编号：督交〔2026〕1号 致发改局：{{unknown}}"  # unknown ones stay visible
    assert [p.text for p in filled.paragraphs[1:3]] == ["第一段", "第二段含换页符"]  # one paragraph per line
    assert all(p.runs[0].italic for p in filled.paragraphs[1:3])                   # each keeps the format
    assert filled.tables[0].rows[0].cells[0].text == "推进<建设>&落实"
    assert filled.sections[0].footer.paragraphs[0].text == "第督交〔2026〕1号页"


def test_a_multiline_value_inside_a_sentence_becomes_line_breaks():
    template = Document()
    template.add_paragraph("意见：{{notice}}。")
    buffer = io.BytesIO()
    template.save(buffer)
    filled = Document(io.BytesIO(documents.fill(buffer.getvalue(), {"notice": "一\n二"})))
    assert [p.text for p in filled.paragraphs] == ["意见：一\n二。"]


def test_the_templates_are_real_files_with_placeholders():
    for name in ("assign_notice", "urge_notice"):
        text = all_text((documents.BUILTIN_TEMPLATES / f"{name}.docx").read_bytes())
        for placeholder in ("{{office}}", "{{number}}", "{{title}}", "{{unit}}", "{{deadline}}", "{{notice}}",
                            "{{date}}"):
            assert placeholder in text, (name, placeholder)


def test_dates_in_chinese():
    assert documents.chinese_date(datetime(2026, 9, 28, 1, tzinfo=CHINA)) == "二〇二六年九月二十八日"
    assert documents.chinese_date(datetime(2030, 10, 10, tzinfo=CHINA)) == "二〇三〇年十月十日"
    assert documents.chinese_date(datetime(2026, 1, 31, 23, tzinfo=CHINA)) == "二〇二六年一月三十一日"


# --- the documents of an item --------------------------------------------------------------------

def test_the_assign_and_urge_notices_as_word_files(duban, org):
    item, urge_notice = closed_with_an_urge(duban, org)
    docs = documents.list_documents(duban, org["office"], item["id"])
    assert [(d["kind"], d["unit"], d["number"]) for d in docs] == [
        ("assign_notice", None, "督交〔2026〕1号"), ("urge_notice", "czj", "督催〔2026〕1号")]
    assert docs[0]["unit_name"] == "发改局（牵头）、财政局（配合）"
    assert docs[1]["unit_name"] == "财政局" and docs[1]["created_by"] == "office"
    assert docs[0]["created_at"] < docs[1]["created_at"]

    listing, data = documents.render_document(duban, org["office"], item["id"], docs[0]["id"])
    assert listing["filename"] == "督交〔2026〕1号交办通知单.docx"
    word = Document(io.BytesIO(data))
    assert word.paragraphs[0].text == "县委办督查室"  # 红头
    assert word.paragraphs[0].runs[0].font.color.rgb == RGBColor(0xE0, 0x00, 0x00)
    text = all_text(data)
    assert "{{" not in text
    for expected in ("督交〔2026〕1号", "交办通知单", TITLE, "党委政府重大决策部署", "发改局（牵头）、财政局（配合）",
                     "2026年10月16日 17:30前", "拟办意见：请发改局牵头办理", "二〇二六年九月二十八日",
                     f"事项编号 {item['id']}"):
        assert expected in text, expected
    # The notice's lines are paragraphs of their own, without the repeated title line.
    cell = word.tables[0].rows[-1].cells[1]
    assert cell.paragraphs[0].text == f"事项：{TITLE}" and len(cell.paragraphs) >= 5

    _, urge = documents.render_document(duban, org["office"], item["id"], docs[1]["id"])
    text = all_text(urge)
    for expected in ("督催〔2026〕1号", "催办通知单", "财政局", "2026年10月21日 17:30前", "请抓紧办理。",
                     "二〇二六年十月十六日"):
        assert expected in text, expected
    assert "{{" not in text


def test_numbers_count_the_documents_of_the_year(duban, org):
    first, _ = assigned(duban, org, "第一项")
    second, _ = assigned(duban, org, "第二项")
    numbers = [documents.list_documents(duban, org["office"], i["id"])[0]["number"] for i in (first, second)]
    assert numbers == ["督交〔2026〕1号", "督交〔2026〕2号"]
    assert numbers[0] == documents.list_documents(duban, org["office"], first["id"])[0]["number"]  # stable


def test_an_administrator_replaces_a_template_by_dropping_a_file(duban, org):
    item, _ = assigned(duban, org)
    doc = documents.list_documents(duban, org["office"], item["id"])[0]
    folder = duban.settings.var_dir / "templates"
    folder.mkdir(parents=True, exist_ok=True)
    custom = Document()
    custom.add_paragraph().add_run("本地模板 {{num").bold = True
    custom.paragraphs[0].add_run("ber}}：{{title}}")
    custom.save(folder / "assign_notice.docx")
    _, data = documents.render_document(duban, org["office"], item["id"], doc["id"])
    assert all_text(data).splitlines()[0] == f"本地模板 督交〔2026〕1号：{TITLE}"

    (folder / "assign_notice.docx").write_bytes(b"not a docx")  # a broken override: the built-in serves
    _, data = documents.render_document(duban, org["office"], item["id"], doc["id"])
    assert "交办通知单" in all_text(data)


def test_documents_follow_the_item_visibility(duban, org):
    item, _ = assigned(duban, org)
    other, _ = assigned(duban, org, "另一事项")
    doc = documents.list_documents(duban, org["office"], item["id"])[0]
    assert [d["id"] for d in documents.list_documents(duban, org["unit_b"], item["id"])] == [doc["id"]]
    for actor in (org["discipline"], org["designer"]):
        with pytest.raises(NotFound):
            documents.list_documents(duban, actor, item["id"])
        with pytest.raises(NotFound):
            documents.render_document(duban, actor, item["id"], doc["id"])
    with pytest.raises(NotFound):  # a document of another item
        documents.render_document(duban, org["office"], other["id"], doc["id"])
    with duban.db.reading() as session:
        started = session.scalars(select(HistoryEntry.id).where(HistoryEntry.instance_id == item["instance_id"],
                                                                HistoryEntry.action == "started")).first()
    with pytest.raises(NotFound):  # a history entry that is no document
        documents.render_document(duban, org["office"], item["id"], started)


# --- 立卷归档 -------------------------------------------------------------------------------------

def test_the_archive_of_a_closed_item(duban, org):
    item, _ = closed_with_an_urge(duban, org)
    filename, data = archive.archive_item(duban, org["office"], item["id"])
    assert filename.startswith(f"督办事项{item['id']}-立卷归档-") and filename.endswith(".zip")
    root = f"督办事项{item['id']}/"
    with zipfile.ZipFile(io.BytesIO(data)) as bundle:
        assert bundle.testzip() is None
        files = {name[len(root):]: bundle.read(name) for name in bundle.namelist()}
    assert all(name.startswith(root) for name in bundle.namelist())

    # The manifest covers every other file, and each hash is right.
    manifest = dict(reversed(line.split("  ", 1)) for line in files["SHA256SUMS.txt"].decode().splitlines())
    assert set(manifest) == set(files) - {"SHA256SUMS.txt"}
    for path, digest in manifest.items():
        assert hashlib.sha256(files[path]).hexdigest() == digest, path

    index = files["目录.txt"].decode()
    for path in files:
        assert path in index, path

    record = json.loads(files["事项/事项记录.json"])
    assert record["item"]["id"] == item["id"] and record["item"]["status"] == "closed"
    assert [d["number"] for d in record["documents"]] == ["督交〔2026〕1号", "督催〔2026〕1号"]
    summary = files["事项/事项概况.txt"].decode()
    assert TITLE in summary and "已销号" in summary and "两单位均已办结，已向领导反馈" in summary

    word = sorted(path for path in files if path.startswith("文书/"))
    assert word == ["文书/督交〔2026〕1号交办通知单.docx", "文书/督催〔2026〕1号催办通知单.docx"]
    assert "督催〔2026〕1号" in all_text(files[word[1]]) and "财政局" in all_text(files[word[1]])

    reports = sorted(path for path in files if path.startswith("办结报告/"))
    assert len(reports) == 3  # 发改局's, 财政局's returned one, 财政局's accepted one
    texts = [files[path].decode() for path in reports]
    assert "发改局" in texts[0] and REPORT["summary"] in texts[0] and "通过" in texts[0]
    assert "初稿，数据待核" in texts[1] and "退回" in texts[1]
    assert "财政局已落实资金=100万元" in texts[2] and "督查室审核：通过" in texts[2]

    history = services.get_instance(duban, org["office"], item["instance_id"])["history"]
    rows = json.loads(files["履历/history.json"])
    assert len(rows) == len(history) and [r["action"] for r in rows] == [h["action"] for h in history]
    table = list(csv.reader(io.StringIO(files["履历/history.csv"].decode("utf-8-sig"))))
    assert table[0][:4] == ["序号", "时间", "操作人", "动作"] and len(table) == len(history) + 1

    # Recorded in the audit log, with the digest of what was handed out.
    with duban.db.reading() as session:
        audited = [(a.actor, a.target, a.detail["sha256"]) for a in
                   session.scalars(select(AuditRecord).where(AuditRecord.action == "item.archived"))]
    assert audited == [
        ("office", f"item:{item['id']}", hashlib.sha256(data).hexdigest())]


def test_only_finished_items_are_archived_and_only_for_those_who_see_them(duban, org):
    item, _ = assigned(duban, org)
    with pytest.raises(Conflict):
        archive.archive_item(duban, org["office"], item["id"])
    with pytest.raises(NotFound):
        archive.archive_item(duban, org["discipline"], item["id"])
    with pytest.raises(NotFound):
        archive.archive_item(duban, org["office"], 999_999)
    operations.terminate(duban, org["admin"], item["instance_id"], "事项已由上级统一部署，不再单独督办")
    _, data = archive.archive_item(duban, org["unit_a"], item["id"])
    with zipfile.ZipFile(io.BytesIO(data)) as bundle:
        summary = bundle.read(f"督办事项{item['id']}/事项/事项概况.txt").decode()
    assert "已终止" in summary and "不再单独督办" in summary
    with pytest.raises(NotFound):
        archive.archive_item(duban, org["discipline"], item["id"])
    with duban.db.reading() as session:
        archived = select(AuditRecord.actor).where(AuditRecord.action == "item.archived")
        assert session.scalars(archived).all() == ["unit_a"]


def _notice_process() -> bytes:
    """A designer's item process whose office task happens to be called `assign` and uses the 交办
    form, but is not declared a 交办 step: its notice is no 督交 document."""
    return ('<?xml version="1.0" encoding="UTF-8"?><bpmn:definitions '
            'xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:duban="urn:duban:bpmn:1" '
            'xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="d" targetNamespace="t">'
            '<bpmn:process id="notices" name="情况通报" isExecutable="true" duban:item="true">'
            '<bpmn:startEvent id="s" camunda:formRef="notices_start" />'
            '<bpmn:userTask id="assign" name="发通报" camunda:formRef="assign" camunda:candidateGroups="office" />'
            '<bpmn:endEvent id="e" /><bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="assign" />'
            '<bpmn:sequenceFlow id="f2" sourceRef="assign" targetRef="e" /></bpmn:process></bpmn:definitions>'
            ).encode()


def test_documents_are_the_steps_an_items_own_process_declares(duban, org):
    """An element id is a 督办 step only in the process that declares it so: another process's `assign`
    neither becomes a 督交 document nor takes a number from the year's 督交 count."""
    forms = {"notices_start.form": json.dumps({"type": "default", "id": "notices_start", "components": [
        {"type": "textfield", "key": "title", "label": "标题"}]}),
        "assign.form": (documents.BUILTIN_TEMPLATES.parent / "forms" / "assign.form").read_text()}
    services.deploy(duban, {"notices.bpmn": _notice_process()}, forms, org["designer"])
    from engine.services import starting

    started = starting.start(duban, org["office"], "notices", {"title": "关于汛期值班的通报"})
    task = open_task(duban, org["office"], "assign", instance_id=started["instance_id"])
    services.complete_task(duban, org["office"], task["id"], {"notice": "请各单位做好汛期值班"})
    assert documents.list_documents(duban, org["office"], started["item_id"]) == []
    item, _ = assigned(duban, org)
    assert [d["number"] for d in documents.list_documents(duban, org["office"], item["id"])] == ["督交〔2026〕1号"]
