"""督查通报: the October of tests/integration/scoring.py issued as a .docx and read back with python-docx.

October 2026 (issued Monday 11-02): 4 items registered; 3 parts completed (A 发改局 and D 住建局 on
time, B 财政局 late); C 教育局 overdue at the month's end, urged (with B), escalated and criticised;
住建局 praised. The secret item S (发改局, completed and praised in October) is in none of it.
"""
import io
from datetime import datetime

import pytest
from docx import Document
from sqlalchemy import select

from engine.clock import CHINA
from engine.errors import Conflict, Forbidden, InvalidInput, NotFound
from engine.models import AuditRecord
from engine.services import bulletins
from tests.integration.scoring import SECRET_TITLE, october


@pytest.fixture
def world(duban, org):
    return october(duban, org, secret=True)


def text_of(content: bytes) -> tuple[list[str], list[list[list[str]]]]:
    doc = Document(io.BytesIO(content))
    return ([p.text for p in doc.paragraphs],
            [[[cell.text for cell in row.cells] for row in table.rows] for table in doc.tables])


def tables_by_heading(content: bytes) -> dict:
    """Each section heading (一、...) with the rows of the table under it (None for 本期无)."""
    doc = Document(io.BytesIO(content))
    sections, heading = {}, None
    for block in doc.element.body.iterchildren():
        tag = block.tag.rsplit("}", 1)[-1]
        if tag == "p":
            text = "".join(node.text or "" for node in block.iter() if node.tag.endswith("}t"))
            if len(text) > 2 and text[1] == "、":
                heading = text[2:]
                sections[heading] = None
        elif tag == "tbl" and heading:
            rows = []
            for tr in block.iter():
                if tr.tag.endswith("}tr"):
                    rows.append(["".join(t.text or "" for t in tc.iter() if t.tag.endswith("}t"))
                                 for tc in tr if tc.tag.endswith("}tc")])
            sections[heading] = rows
    return sections


def test_the_october_bulletin(duban, org, world):
    issued = bulletins.generate(duban, org["office"], "2026-10")
    assert (issued["number"], issued["period"], issued["created_by"]) == ("〔2026〕第1期", "2026-10", "office")
    assert issued["title"] == "2026年10月督查督办工作情况通报"
    assert issued["summary"] == {"registered": 4, "completed": 3, "on_time": 2, "late": 1, "overdue": 1, "urged": 2,
                                 "escalated": 1, "praised": 1, "criticised": 1, "commended_units": 1,
                                 "criticised_units": 1}
    name, content = bulletins.document(duban, org["leader"], issued["id"])
    assert name == "督查通报〔2026〕第1期.docx"
    paragraphs, tables = text_of(content)
    assert paragraphs[:3] == ["督查通报", "〔2026〕第1期", "县委办督查室\t2026年11月2日"]
    assert "2026年10月，新立项督办事项4项；办结承办任务3件，其中按期办结2件、逾期办结1件；逾期未办结1件；" \
           "发出催办单2份；移送纪委问责1件；通报表扬1个单位，通报批评1个单位。" in paragraphs
    sections = tables_by_heading(content)
    assert list(sections) == ["总体情况", "办结情况", "逾期未办结事项", "催办情况", "移送纪委问责情况", "通报表扬",
                              "通报批评"]
    assert sections["总体情况"][1:4] == [["新立项督办事项（项）", "4"], ["办结承办任务（件）", "3"],
                                         ["其中：按期办结（件）", "2"]]
    assert [(r[1], r[2], r[6]) for r in sections["办结情况"][1:]] == [
        ("A 重点项目按期推进", "发改局（牵头）", "按期"), ("D 老旧小区改造", "住建局（牵头）", "按期"),
        ("B 营商环境逾期整改", "财政局（牵头）", "逾期")]
    assert sections["办结情况"][3][3:6] == ["2026-10-22", "2026-10-26", "2026-10-26"]
    assert sections["逾期未办结事项"][1:] == [
        ["1", "C 校舍改造问责", "教育局（牵头）", "2026-10-28", "2", "已移送纪委"]]
    assert [(r[1], r[4], r[5]) for r in sections["催办情况"][1:]] == [
        ("B 营商环境逾期整改", "2026-10-22", "2026-10-27"), ("C 校舍改造问责", "2026-10-22", "2026-10-28")]
    assert sections["移送纪委问责情况"][1:] == [["1", "C 校舍改造问责", "教育局（牵头）", "2026-10-28", "2026-10-28"]]
    assert sections["通报表扬"][1:] == [
        ["1", "住建局", "D 老旧小区改造", "县政府 李副县长", "成效明显，予以表扬", "2026-10-09"]]
    assert sections["通报批评"][1:] == [
        ["1", "教育局", "C 校舍改造问责", "催办期限届满仍未报告，移送纪委", "2026-10-28"]]
    everything = " ".join(paragraphs + [cell for table in tables for row in table for cell in row])
    assert SECRET_TITLE not in everything and "保密事项办理得力" not in everything
    with duban.db.reading() as session:
        record = session.execute(select(AuditRecord.actor, AuditRecord.target, AuditRecord.detail)
                                 .where(AuditRecord.action == "bulletin.issue")).one()
    assert record == ("office", f"bulletin:{issued['id']}", {"period": "2026-10", "number": "〔2026〕第1期"})


def test_a_quarter_running_is_reported_as_of_now_and_numbers_go_on(duban, org, world):
    bulletins.generate(duban, org["office"], "2026-10")
    quarter = bulletins.generate(duban, org["office"], "2026-Q4")
    assert quarter["number"] == "〔2026〕第2期" and quarter["title"] == "2026年第四季度督查督办工作情况通报"
    paragraphs, _ = text_of(bulletins.document(duban, org["office"], quarter["id"])[1])
    assert any(p.startswith("2026年第四季度（截至2026年11月2日），新立项督办事项4项") for p in paragraphs)
    september = bulletins.generate(duban, org["office"], "2026-09")
    assert september["summary"]["registered"] == 0 and september["summary"]["completed"] == 0
    assert "本期无。" in text_of(bulletins.document(duban, org["office"], september["id"])[1])[0]
    assert [b["number"] for b in bulletins.list_bulletins(duban, org["leader"])] == [
        "〔2026〕第3期", "〔2026〕第2期", "〔2026〕第1期"]
    duban.clock.set(datetime(2027, 1, 4, 9, tzinfo=CHINA))
    with pytest.raises(Conflict):  # the quarter has its bulletin: a second one only when confirmed
        bulletins.generate(duban, org["office"], "2026-Q4")
    again = bulletins.generate(duban, org["office"], "2026-Q4", confirm_reissue=True)
    assert again["number"] == "〔2027〕第1期"  # per year of issue


def test_preview_issues_nothing_and_a_second_bulletin_of_a_period_needs_confirming(duban, org, world):
    office = org["office"]
    seen = bulletins.preview(duban, office, "2026-10")
    assert (seen["number"], seen["title"], seen["issued"]) == ("〔2026〕第1期", "2026年10月督查督办工作情况通报", [])
    assert seen["summary"]["completed"] == 3 and not seen["as_of_now"]
    assert [(r["title"], r["unit_name"]) for r in seen["lists"]["overdue"]] == [("C 校舍改造问责", "教育局")]
    assert SECRET_TITLE not in str(seen["lists"])
    assert bulletins.list_bulletins(duban, office) == []  # nothing stored, no number taken
    first = bulletins.generate(duban, office, "2026-10")
    assert first["number"] == "〔2026〕第1期" and first["summary"] == seen["summary"]

    again = bulletins.preview(duban, office, "2026-10")
    assert again["number"] == "〔2026〕第2期" and [b["number"] for b in again["issued"]] == ["〔2026〕第1期"]
    with pytest.raises(Conflict) as refused:
        bulletins.generate(duban, office, "2026-10")
    assert "2026年10月已发过通报（〔2026〕第1期）" in refused.value.message
    assert refused.value.details[0]["field"] == "confirm_reissue"
    assert len(bulletins.list_bulletins(duban, office)) == 1
    second = bulletins.generate(duban, office, "2026-10", confirm_reissue=True)
    assert second["number"] == "〔2026〕第2期"
    for user in ("leader", "unit_a", "admin"):
        with pytest.raises(Forbidden):
            bulletins.preview(duban, org[user], "2026-10")


def test_a_voided_bulletin_keeps_its_number_shows_why_and_no_longer_counts(duban, org, world):
    office = org["office"]
    first = bulletins.generate(duban, office, "2026-10")
    duban.clock.advance(seconds=60)
    voided = bulletins.void(duban, office, first["id"], "  数字有误，重新通报  ")
    assert (voided["voided"], voided["void_reason"], voided["voided_by"]) == (True, "数字有误，重新通报", "office")
    assert voided["voided_by_name"] == "督查室 王主任" and voided["voided_at"] == duban.clock.now()
    # no longer the period's bulletin: issuing again needs no confirming, and takes the next number
    assert bulletins.preview(duban, office, "2026-10")["issued"] == []
    second = bulletins.generate(duban, office, "2026-10")
    assert second["number"] == "〔2026〕第2期"
    listed = bulletins.list_bulletins(duban, org["leader"])
    assert [(b["number"], b["voided"]) for b in listed] == [("〔2026〕第2期", False), ("〔2026〕第1期", True)]
    assert [b["number"] for b in bulletins.list_bulletins(duban, org["leader"], include_voided=False)] == [
        "〔2026〕第2期"]
    assert bulletins.document(duban, org["leader"], first["id"])[0] == "督查通报〔2026〕第1期（已作废）.docx"

    with pytest.raises(Conflict):
        bulletins.void(duban, office, first["id"], "再次作废")
    for reason in ("", "   ", "长" * 501):
        with pytest.raises(InvalidInput) as refused:
            bulletins.void(duban, office, second["id"], reason)
        assert refused.value.details[0]["field"] == "reason"
    with pytest.raises(NotFound):
        bulletins.void(duban, office, second["id"] + 1, "不存在")
    for user in ("leader", "unit_a", "admin"):
        with pytest.raises(Forbidden):
            bulletins.void(duban, org[user], second["id"], "无权")
    with duban.db.reading() as session:
        record = session.execute(select(AuditRecord.actor, AuditRecord.target, AuditRecord.detail)
                                 .where(AuditRecord.action == "bulletin.void")).one()
    assert record == ("office", f"bulletin:{first['id']}",
                      {"number": "〔2026〕第1期", "period": "2026-10", "reason": "数字有误，重新通报"})


def test_periods_are_months_or_quarters_already_begun(duban, org, world):
    for bad in ("2026-13", "2026-Q5", "2026/10", "26-10", "", "1999-01", "2026-10-01"):
        with pytest.raises(InvalidInput):
            bulletins.generate(duban, org["office"], bad)
    with pytest.raises(InvalidInput):
        bulletins.generate(duban, org["office"], "2026-12")  # not begun on 11-02
    assert bulletins.parse_period("2026-Q1").end == datetime(2026, 4, 1, tzinfo=CHINA)


def test_only_the_office_issues_and_only_office_and_leaders_read(duban, org, world):
    issued = bulletins.generate(duban, org["office"], "2026-10")
    for user in ("leader", "admin", "unit_a", "discipline", "auditor"):
        with pytest.raises(Forbidden):
            bulletins.generate(duban, org[user], "2026-10")
    for user in ("unit_a", "unit_b", "admin", "discipline", "designer", "secadmin", "auditor"):
        with pytest.raises(Forbidden):
            bulletins.list_bulletins(duban, org[user])
        with pytest.raises(Forbidden):
            bulletins.document(duban, org[user], issued["id"])
    with pytest.raises(NotFound):
        bulletins.document(duban, org["office"], issued["id"] + 1)
    assert len(bulletins.list_bulletins(duban, org["leader"])) == 1
