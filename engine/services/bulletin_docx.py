"""The 督查通报 as a Word document (python-docx): a 红头 header, the counts, then one table per list.

The layout follows the usual 党政机关公文格式 (GB/T 9704) loosely: A4, the issuing title in red, the
issue number, issuer and date, a red rule, then the body in 仿宋 with headings 一、二、...
"""
from __future__ import annotations

import io
import re
from copy import deepcopy
from datetime import datetime

from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_TAB_ALIGNMENT
from docx.oxml.ns import qn
from docx.shared import Pt, RGBColor

from ..clock import CHINA
from ..official_docx import TEXT_WIDTH, a4, red_rule

RED = RGBColor(0xC0, 0x00, 0x00)
BODY_FONT, TITLE_FONT, HEADING_FONT = "仿宋", "宋体", "黑体"
CHINESE_NUMBERS = "一二三四五六七八九十"
# Characters XML 1.0 cannot hold (python-docx refuses them); a title may carry one, the document never.
_NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_SPECIAL = re.compile(r"[\t\r\n]")
_RUN, _TEXT, _PRESERVE = qn("w:r"), qn("w:t"), qn("xml:space")
REASONS = {"escalated": "催办期限届满仍未报告，移送纪委", "late": "逾期未办结", "manual": "督查室通报批评"}


def render(*, title: str, number: str, issuer: str, issued_at: datetime, period, cutoff: datetime,
           facts: dict) -> bytes:
    doc = _document(title, issuer, issued_at)
    _red_header(doc, number, issuer, issued_at)
    _paragraph(doc, title, size=18, bold=True, font=TITLE_FONT, align=WD_ALIGN_PARAGRAPH.CENTER, after=12)
    sections = [("总体情况", lambda: _overview(doc, period, cutoff, facts["counts"])),
                ("办结情况", lambda: _completed(doc, facts["completed"])),
                ("逾期未办结事项", lambda: _overdue(doc, facts["overdue"])),
                ("催办情况", lambda: _urged(doc, facts["urged"])),
                ("移送纪委问责情况", lambda: _escalated(doc, facts["escalated"])),
                ("通报表扬", lambda: _praised(doc, facts["praised"])),
                ("通报批评", lambda: _criticised(doc, facts["criticised"]))]
    for index, (heading, body) in enumerate(sections):
        _paragraph(doc, f"{CHINESE_NUMBERS[index]}、{heading}", size=16, font=HEADING_FONT, before=6, after=3)
        body()
    _paragraph(doc, f"{issuer}　　{_date(issued_at)}印发", size=12, align=WD_ALIGN_PARAGRAPH.RIGHT, before=18)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def _document(title: str, issuer: str, issued_at: datetime):
    doc = Document()
    a4(doc.sections[0])
    normal = doc.styles["Normal"]
    normal.font.name, normal.font.size = "Times New Roman", Pt(14)
    normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), BODY_FONT)
    props = doc.core_properties
    props.title, props.author, props.last_modified_by = title, issuer, issuer
    props.created = props.modified = issued_at.astimezone(CHINA).replace(tzinfo=None)
    props.comments = props.keywords = props.subject = ""
    return doc


def _red_header(doc, number: str, issuer: str, issued_at: datetime) -> None:
    _paragraph(doc, "督查通报", size=36, bold=True, color=RED, font=TITLE_FONT,
               align=WD_ALIGN_PARAGRAPH.CENTER, before=12, after=12)
    _paragraph(doc, number, size=16, align=WD_ALIGN_PARAGRAPH.CENTER, after=6)
    line = _paragraph(doc, f"{issuer}\t{_date(issued_at)}", size=14, after=0)
    line.paragraph_format.tab_stops.add_tab_stop(TEXT_WIDTH, WD_TAB_ALIGNMENT.RIGHT)
    red_rule(_paragraph(doc, "", size=6, after=12), "C00000", space=1)


def _paragraph(doc, text: str, *, size: float = 14, bold: bool = False, color=None, font: str | None = None,
               align=None, before: float = 0, after: float = 6):
    paragraph = doc.add_paragraph()
    if text:
        _run(paragraph, text, size=size, bold=bold, color=color, font=font)
    fmt = paragraph.paragraph_format
    fmt.space_before, fmt.space_after = Pt(before), Pt(after)
    if align is not None:
        paragraph.alignment = align
    return paragraph


def _run(paragraph, text: str, *, size: float | None = None, bold: bool = False, color=None, font: str | None = None):
    run = paragraph.add_run(_NOT_XML.sub("", text))
    run.bold = bold or None
    if size:
        run.font.size = Pt(size)
    if color is not None:
        run.font.color.rgb = color
    if font:
        run.font.name = font
        run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), font)
    return run


def _table(doc, headers: list[str], rows: list[list[str]]) -> None:
    if not rows:
        _paragraph(doc, "本期无。", after=6)
        return
    table = doc.add_table(rows=1, cols=len(headers))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for cell, header in zip(table.rows[0].cells, headers, strict=True):
        _run(cell.paragraphs[0], header, size=11, bold=True)
    # One row made by python-docx, copied for every row with its texts put in: python-docx took about
    # 0.4 ms a cell, half a minute for a quarter's 通报 at 100,000 items (bench/ledger.py).
    prototype = table.add_row()
    for cell in prototype.cells:
        _run(cell.paragraphs[0], "-", size=11)
    tbl, tr = table._tbl, prototype._tr
    tbl.remove(tr)
    for values in rows:
        row = deepcopy(tr)
        for run, value in zip(row.iter(_RUN), values, strict=True):
            _set_text(run, _NOT_XML.sub("", str(value)))
        tbl.append(row)
    _paragraph(doc, "", after=3)


def _set_text(run, value: str) -> None:
    """A run's text, written as python-docx's Run.text writes it (tabs and line breaks as elements)."""
    t = run.find(_TEXT)
    if value and not _SPECIAL.search(value):
        t.text = value
        if len(value.strip()) < len(value):
            t.set(_PRESERVE, "preserve")
        return
    run.remove(t)
    if value:
        run.text = value


def _overview(doc, period, cutoff: datetime, counts: dict) -> None:
    as_of = "" if cutoff >= period.end else f"（截至{_date(cutoff)}）"
    text = (f"{period.label}{as_of}，新立项督办事项{counts['registered']}项；办结承办任务{counts['completed']}件，"
            f"其中按期办结{counts['on_time']}件、逾期办结{counts['late']}件；逾期未办结{counts['overdue']}件；"
            f"发出催办单{counts['urged']}份；移送纪委问责{counts['escalated']}件；"
            f"通报表扬{counts['commended_units']}个单位，通报批评{counts['criticised_units']}个单位。")
    _paragraph(doc, text).paragraph_format.first_line_indent = Pt(28)
    _table(doc, ["指标", "数量"], [
        ["新立项督办事项（项）", counts["registered"]], ["办结承办任务（件）", counts["completed"]],
        ["其中：按期办结（件）", counts["on_time"]], ["　　　逾期办结（件）", counts["late"]],
        ["逾期未办结（件）", counts["overdue"]], ["催办（份）", counts["urged"]],
        ["移送纪委问责（件）", counts["escalated"]], ["通报表扬（次）", counts["praised"]],
        ["通报批评（次）", counts["criticised"]]])


def _unit(row: dict) -> str:
    if not row.get("role"):
        return row["unit_name"]
    return f"{row['unit_name']}（{'牵头' if row.get('role') == 'lead' else '配合'}）"


def _completed(doc, rows: list[dict]) -> None:
    _table(doc, ["序号", "事项", "承办单位", "办结时限", "报告时间", "审核通过", "按期情况"], [
        [i, r["title"], _unit(r), _day(r["deadline"]), _day(r["reported_at"] or r["accepted_at"]),
         _day(r["accepted_at"]), "按期" if r["on_time"] else "逾期"] for i, r in enumerate(rows, 1)])


def _overdue(doc, rows: list[dict]) -> None:
    _table(doc, ["序号", "事项", "承办单位", "时限", "逾期（工作日）", "处置"], [
        [i, r["title"], _unit(r), _day(r["due_at"]), r["overdue_workdays"],
         "已移送纪委" if r["escalated_at"] else "已催办" if r["urged_at"] else "待催办"]
        for i, r in enumerate(rows, 1)])


def _urged(doc, rows: list[dict]) -> None:
    _table(doc, ["序号", "事项", "承办单位", "原办结时限", "催办时间", "催办期限"], [
        [i, r["title"], _unit(r), _day(r["deadline"]), _day(r["urged_at"]), _day(r["urge_limit"])]
        for i, r in enumerate(rows, 1)])


def _escalated(doc, rows: list[dict]) -> None:
    _table(doc, ["序号", "事项", "承办单位", "催办期限", "移送时间"], [
        [i, r["title"], _unit(r), _day(r["urge_limit"]), _day(r["escalated_at"])] for i, r in enumerate(rows, 1)])


def _praised(doc, rows: list[dict]) -> None:
    _table(doc, ["序号", "单位", "事项", "表扬领导", "表扬意见", "时间"], [
        [i, r["unit_name"], r["title"], r["by"], r["note"] or "—", _day(r["at"])] for i, r in enumerate(rows, 1)])


def _criticised(doc, rows: list[dict]) -> None:
    _table(doc, ["序号", "单位", "事项", "原因", "时间"], [
        [i, r["unit_name"], r["title"], r["note"] or REASONS.get(r["reason"], r["reason"]), _day(r["at"])]
        for i, r in enumerate(rows, 1)])


def _day(value: datetime | None) -> str:
    return value.astimezone(CHINA).strftime("%Y-%m-%d") if value else "—"


def _date(value: datetime) -> str:
    local = value.astimezone(CHINA)
    return f"{local.year}年{local.month}月{local.day}日"
