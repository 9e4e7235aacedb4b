#!/usr/bin/env python3
"""Write the Word templates of the office's documents into bpmn/templates/ (run once; the files are committed).

    .venv/bin/python tools/make_doc_templates.py

The .docx files, not this script, are the templates: engine/services/documents.py fills their
{{placeholders}} (see PLACEHOLDERS there), and an administrator may replace either without code by
dropping a .docx of the same name into $DUBAN_VAR_DIR/templates/, made in Word or WPS from these.
Run this again only to change the built-in layout.

The layout follows the common shape of a Chinese official document (GB/T 9704-2012, simplified):
A4, the issuing office in red (红头), the document number (发文字号) above a red rule, a centred
title, a table of the facts, the text, and the office's name and the date as 落款.
"""
from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor

from engine.official_docx import a4, red_rule

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bpmn" / "templates"
RED = RGBColor(0xE0, 0x00, 0x00)
# Fonts every Chinese Windows and WPS install has; a reader without them gets its own fallback.
HEADING_FONT, BODY_FONT, LABEL_FONT = "宋体", "仿宋", "黑体"
SIZE_RED_HEAD, SIZE_TITLE, SIZE_BODY = Pt(30), Pt(22), Pt(16)  # 小初, 二号, 三号

# (file, title, rows of the facts table as (label, placeholder text), closing sentence)
DOCUMENTS = [
    ("assign_notice", "交办通知单", [
        ("事项名称", "{{title}}"),
        ("事项来源", "{{source}}"),
        ("承办单位", "{{unit}}"),
        ("办结时限", "{{deadline}}"),
        ("交办内容", "{{notice}}"),
    ], "请承办单位接到本通知后即时签收，明确第一责任人、具体责任人和具体承办人，按时限办结并书面报告督查室。"),
    ("urge_notice", "催办通知单", [
        ("事项名称", "{{title}}"),
        ("被催办单位", "{{unit}}"),
        ("原办理时限", "{{deadline}}"),
        ("新的办理期限", "{{new_limit}}"),
        ("催办内容", "{{notice}}"),
    ], "在新的期限内仍未办结的，将予以通报批评，并提请纪委追究责任。"),
]


def _font(run, name: str, size, bold: bool = False, color: RGBColor | None = None) -> None:
    run.font.name = name
    run.font.size = size
    run.font.bold = bold
    if color is not None:
        run.font.color.rgb = color
    # Chinese text takes the East Asian font, which python-docx's `font.name` does not set.
    run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), name)


def _paragraph(container, text: str, font: str, size, *, bold=False, color=None, align=None,
               space_after=Pt(0), indent=None):
    paragraph = container.add_paragraph()
    if align is not None:
        paragraph.alignment = align
    paragraph.paragraph_format.space_before = Pt(0)
    paragraph.paragraph_format.space_after = space_after
    if indent is not None:
        paragraph.paragraph_format.first_line_indent = indent
    _font(paragraph.add_run(text), font, size, bold, color)
    return paragraph


def _red_rule(paragraph) -> None:
    """The red line under the document number (a bottom border of its paragraph)."""
    red_rule(paragraph, "E00000", space=6)


def build(title: str, rows: list[tuple[str, str]], closing: str) -> Document:
    document = Document()
    section = document.sections[0]
    a4(section)
    normal = document.styles["Normal"]
    normal.font.name, normal.font.size = BODY_FONT, SIZE_BODY
    normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), BODY_FONT)

    _paragraph(document, "{{office}}", HEADING_FONT, SIZE_RED_HEAD, bold=True, color=RED,
               align=WD_ALIGN_PARAGRAPH.CENTER, space_after=Pt(12))
    number = _paragraph(document, "{{number}}", BODY_FONT, SIZE_BODY, align=WD_ALIGN_PARAGRAPH.CENTER,
                        space_after=Pt(18))
    _red_rule(number)
    _paragraph(document, title, HEADING_FONT, SIZE_TITLE, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER,
               space_after=Pt(18))

    table = document.add_table(rows=len(rows), cols=2)
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for row, (label, value) in zip(table.rows, rows, strict=True):
        row.cells[0].width, row.cells[1].width = Cm(3.6), Cm(12)
        label_cell, value_cell = row.cells
        label_cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
        _font(label_cell.paragraphs[0].add_run(label), LABEL_FONT, Pt(14))
        # A placeholder alone in its paragraph: a value of several lines becomes several paragraphs.
        _font(value_cell.paragraphs[0].add_run(value), BODY_FONT, Pt(14))

    _paragraph(document, "", BODY_FONT, SIZE_BODY)
    _paragraph(document, closing, BODY_FONT, SIZE_BODY, indent=Pt(32), space_after=Pt(30))
    _paragraph(document, "{{office}}", BODY_FONT, SIZE_BODY, align=WD_ALIGN_PARAGRAPH.RIGHT)
    _paragraph(document, "{{date}}", BODY_FONT, SIZE_BODY, align=WD_ALIGN_PARAGRAPH.RIGHT)

    footer = section.footer.paragraphs[0]
    footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _font(footer.add_run("督查督办系统 · 事项编号 {{item_id}}"), BODY_FONT, Pt(9))

    properties = document.core_properties
    properties.title, properties.author = title, "督查督办"
    properties.comments = "模板：双花括号中的占位符由督查督办系统填写"
    properties.created = properties.modified = datetime(2026, 1, 1, tzinfo=UTC)
    return document


def main(out: Path = OUT) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, title, rows, closing in DOCUMENTS:
        path = out / f"{name}.docx"
        build(title, rows, closing).save(path)
        written.append(path)
    return written


if __name__ == "__main__":
    for path in main(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT):
        print(path)
