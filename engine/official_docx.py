"""The page of a Chinese official document (GB/T 9704, simplified) in python-docx: A4 with its margins,
and the red rule under a 红头. Shared by the 督查通报 (engine/services/bulletin_docx.py) and the built-in
document templates (tools/make_doc_templates.py)."""
from __future__ import annotations

from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm

TEXT_WIDTH = Cm(15.6)  # A4 less the 2.8 cm and 2.6 cm side margins
# The children of w:pPr that follow w:pBdr in the schema (ECMA-376 CT_PPrBase), in order: Word refuses
# a w:pPr whose children are out of order, so the border goes before the first of these present.
_AFTER_PBDR = ("w:shd", "w:tabs", "w:suppressAutoHyphens", "w:kinsoku", "w:wordWrap", "w:overflowPunct",
               "w:topLinePunct", "w:autoSpaceDE", "w:autoSpaceDN", "w:bidi", "w:adjustRightInd", "w:snapToGrid",
               "w:spacing", "w:ind", "w:contextualSpacing", "w:mirrorIndents", "w:suppressOverlap", "w:jc",
               "w:textDirection", "w:textAlignment", "w:textboxTightWrap", "w:outlineLvl", "w:divId",
               "w:cnfStyle", "w:rPr", "w:sectPr", "w:pPrChange")


def a4(section) -> None:
    """An A4 page with the standard's margins (3.7 cm top, 3.5 bottom, 2.8 left, 2.6 right)."""
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    section.top_margin, section.bottom_margin = Cm(3.7), Cm(3.5)
    section.left_margin, section.right_margin = Cm(2.8), Cm(2.6)


def red_rule(paragraph, color: str, space: int) -> None:
    """A red line under `paragraph` (its bottom border), `space` points below its text."""
    borders = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for key, value in (("w:val", "single"), ("w:sz", "18"), ("w:space", str(space)), ("w:color", color)):
        bottom.set(qn(key), value)
    borders.append(bottom)
    paragraph._p.get_or_add_pPr().insert_element_before(borders, *_AFTER_PBDR)
