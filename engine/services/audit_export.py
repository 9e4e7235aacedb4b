"""The audit log as the auditor takes it away: the filtered records as an Excel workbook or CSV.

The export is itself a record of the log (`audit.export`, with its size and SHA-256), like every file
handed out. Times are Beijing time; text is written as text (a target beginning with "=" never becomes
a formula, in Excel or in a spreadsheet opening the CSV).
"""
from __future__ import annotations

import csv
import io
from datetime import date, datetime, time, timedelta

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from sqlalchemy import func, select

from ..access import Actor
from ..clock import CHINA
from ..errors import InvalidInput
from ..models import AuditRecord
from ..texts import text
from . import audit

MAX_ROWS = 100_000
FORMATS = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
           "csv": "text/csv; charset=utf-8"}
# (column, width in characters)
COLUMNS = [("id", 9), ("at", 20), ("actor", 14), ("action", 18), ("action_code", 24), ("target", 24), ("ip", 16),
           ("detail", 60)]


def day_range(first: date | None, last: date | None) -> dict:
    """{since, until} for whole Beijing days from `first` to `last` (either may be open)."""
    if first and last and first > last:
        raise InvalidInput(text("audit.date_order"), [{"field": "to", "message": text("audit.date_order")}])
    return {"since": datetime.combine(first, time(), CHINA) if first else None,
            "until": datetime.combine(last + timedelta(days=1), time(), CHINA) if last else None}


def export(duban, actor: Actor, filters: dict, fmt: str = "xlsx", ip: str | None = None) -> bytes:
    """Every record matching `filters` (as list_records takes them), oldest first, as .xlsx or .csv.

    More than MAX_ROWS is refused rather than cut short: an export missing records without saying so
    would mislead whoever reads it."""
    audit.require_auditor(actor)
    if fmt not in FORMATS:
        raise InvalidInput(text("audit.format"), [{"field": "format", "message": text("audit.format")}])
    query = audit.matching(filters)
    with duban.db.reading() as session:
        total = session.scalar(select(func.count()).select_from(query.subquery()))
        if total > MAX_ROWS:
            message = text("audit.too_many", limit=MAX_ROWS, total=total)
            raise InvalidInput(message, [{"field": "filters", "message": message}])
        rows = [_line(row) for row in session.scalars(query.order_by(AuditRecord.id)
                                                      .execution_options(yield_per=1000))]
    data = _xlsx(rows) if fmt == "xlsx" else _csv(rows)
    asked = {key: value.isoformat() if isinstance(value, datetime) else value
             for key, value in filters.items() if value not in (None, "")}
    audit.record_file(duban, actor, "audit.export", "audit_log", data, ip, rows=total, format=fmt, filters=asked)
    return data


def _line(row: AuditRecord) -> list:
    return [row.id, row.at.astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S"), row.actor or text("audit.system"),
            audit.action_name(row.action), row.action, row.target or "", row.ip or "",
            audit.canonical(row.detail) if row.detail is not None else ""]


def _xlsx(rows: list[list]) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet(text("audit.sheet"))
    sheet.freeze_panes = "A2"
    for index, (_, width) in enumerate(COLUMNS):
        sheet.column_dimensions[chr(ord("A") + index)].width = width
    bold = Font(bold=True)
    header = []
    for key, _ in COLUMNS:
        cell = WriteOnlyCell(sheet, value=text(f"audit.column.{key}"))
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    for row in rows:
        sheet.append([row[0]] + [_text_cell(sheet, value) for value in row[1:]])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _text_cell(sheet, value: str) -> WriteOnlyCell:
    cell = WriteOnlyCell(sheet, value=ILLEGAL_CHARACTERS_RE.sub("", str(value)))
    cell.data_type = "s"  # text, never a formula
    return cell


def _csv(rows: list[list]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([text(f"audit.column.{key}") for key, _ in COLUMNS])
    for row in rows:
        writer.writerow([row[0]] + [_defused(str(value)) for value in row[1:]])
    # BOM: Excel opens UTF-8 CSV as Chinese only with it.
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _defused(value: str) -> str:
    # CSV injection: a spreadsheet runs a cell beginning with = + - @ as a formula.
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value
