"""The ledger (台账) as an Excel workbook: the same filters and visibility as the list, every row.

Dates are real Excel dates in Beijing time (Excel has no time zones). Text is always written as
text: a title beginning with "=" stays a title, never a formula that runs when the file is opened.
"""
from __future__ import annotations

import io
from datetime import datetime

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from sqlalchemy import func, select

from ..access import Actor
from ..clock import CHINA
from ..domain.items import LIGHTS
from ..errors import InvalidInput
from ..models import Item
from ..texts import text
from . import audit, ledger, org, views
from .files import XLSX  # noqa: F401 - re-exported: the web layer serves its exports under it

MAX_ROWS = 50_000
LIGHT_NAMES = LIGHTS  # the domain's names, as the pages show them
DATE_FORMAT = "yyyy-mm-dd hh:mm"
# (header, width in characters)
COLUMNS = [("编号", 8), ("事项", 40), ("来源", 16), ("类别", 12), ("密级", 16), ("牵头单位", 14),
           ("配合单位", 22), ("责任人", 22), ("承办人", 22), ("办结时限", 17), ("状态", 10), ("灯", 7),
           ("立项时间", 17), ("办结时间", 17)]


def items_xlsx(duban, actor: Actor, filters: ledger.LedgerFilter | None = None) -> bytes:
    """The .xlsx of every ledger row this person may see that matches `filters`, in their order.

    More than MAX_ROWS rows is refused (InvalidInput) rather than cut short: a ledger missing rows
    without saying so would mislead whoever reads it.
    """
    filters = (filters or ledger.LedgerFilter()).checked()
    with duban.db.reading() as session:
        now = duban.clock.now()
        query = select(Item).where(*ledger.conditions(duban, actor, filters, now))
        total = session.scalar(select(func.count()).select_from(query.subquery()))
        if total > MAX_ROWS:
            raise InvalidInput(f"导出最多 {MAX_ROWS} 行，符合条件的有 {total} 行：请缩小筛选范围",
                               [{"field": "filters",
                                 "message": text("export.too_many_field", total=total, limit=MAX_ROWS)}])
        names = org.unit_names(session)
        rows = session.scalars(query.order_by(*ledger.order(filters.sort)).execution_options(yield_per=500))
        data = _workbook(views.item(row, duban, now, names) for row in rows)
    asked = {name: value for name, value in vars(filters).items() if value is not None}
    audit.record_file(duban, actor, "ledger.export", "ledger", data, rows=total, filters=asked)
    return data


def _workbook(items) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet("督办台账")
    sheet.freeze_panes = "A2"
    for index, (_, width) in enumerate(COLUMNS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    bold = Font(bold=True)
    header = []
    for title, _ in COLUMNS:
        cell = _text(sheet, title)
        cell.font, cell.alignment = bold, Alignment(horizontal="center")
        header.append(cell)
    sheet.append(header)
    for item in items:
        sheet.append(_row(sheet, item))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _row(sheet, item: dict) -> list:
    lead = [p for p in item["units"] if p["role"] == "lead"]
    co = [p for p in item["units"] if p["role"] != "lead"]
    return [
        item["id"], _text(sheet, item["title"]), _text(sheet, item["source_name"] or item["source"]),
        _text(sheet, item["category_name"] or item["category"]),
        _text(sheet, item["classification_name"] or item["classification"]),
        _text(sheet, "、".join(p["unit_name"] for p in lead)), _text(sheet, "、".join(p["unit_name"] for p in co)),
        _text(sheet, _persons(item["units"], "responsible")), _text(sheet, _persons(item["units"], "handler")),
        _date(sheet, item["deadline"]), _text(sheet, item["status_name"] or item["status"]),
        _text(sheet, LIGHT_NAMES[item["light"]]), _date(sheet, item["created_at"]), _date(sheet, item["closed_at"]),
    ]


def _persons(parts: list, key: str) -> str:
    """Who, by unit: "发改局：张三；财政局：李四" (just the name when only one unit has one)."""
    named = [(p["unit_name"], p[key]) for p in parts if p.get(key)]
    if len(named) == 1:
        return named[0][1]
    return "；".join(f"{unit}：{person}" for unit, person in named)


def _text(sheet, value) -> WriteOnlyCell:
    cell = WriteOnlyCell(sheet, value=ILLEGAL_CHARACTERS_RE.sub("", str(value or "")))
    cell.data_type = "s"  # never a formula, whatever the text starts with
    return cell


def _date(sheet, value: datetime | None):
    if value is None:
        return None
    cell = WriteOnlyCell(sheet, value=value.astimezone(CHINA).replace(tzinfo=None))
    cell.number_format = DATE_FORMAT
    return cell


def filename(duban) -> str:
    """督办台账-20261120.xlsx (the day in Beijing)."""
    return f"督办台账-{duban.clock.now().astimezone(CHINA):%Y%m%d}.xlsx"
