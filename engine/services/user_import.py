"""Units and users from an Excel sheet (批量导入), by the system administrator.

The workbook has a 单位 sheet and a 用户 sheet (the template below); units come first, so users
may belong to units of the same workbook. Each row is created on its own, as by hand (the same
checks, the same audit records), and the answer reports each row: created, or refused and why.
"""
from __future__ import annotations

import io

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font

from ..access import Actor
from ..errors import DubanError, InvalidInput
from ..texts import text
from . import accounts, audit, org

UNITS, USERS = "单位", "用户"
COLUMNS = {
    UNITS: [("编号", "id"), ("名称", "name"), ("类别", "kind"), ("上级单位编号", "parent_id"), ("分类", "category")],
    USERS: [("用户名", "username"), ("姓名", "name"), ("单位编号", "unit_id"), ("电子邮箱", "email"),
            ("初始口令", "password")],
}
# Columns a sheet must have; those after them may be left off (a template from before 单位层级 still reads).
REQUIRED = {UNITS: 3, USERS: 5}
MAX_ROWS = 2000
GUIDE = [
    "“单位”工作表：编号为字母、数字、下划线或连字符；类别填 督查室、领导、承办单位、纪委 或 其他（空着即承办单位）；",
    "上级单位编号可空（顶层单位），须已存在或在本表中；"
    "分类填 县直部门、乡镇（街道）、党群部门、垂直管理部门 或 其他，可空。",
    "“用户”工作表：用户名为 2–64 位字母、数字、点、下划线或连字符；单位编号须已存在或在“单位”工作表中；",
    "初始口令至少 8 位、含三类字符且不含用户名，本人首次登录时须修改。角色由安全管理员另行授予（三员分立）。",
    "导入后逐行报告：已创建，或未创建及原因。已存在的编号、用户名不会被改动。",
]


def template(actor: Actor) -> bytes:
    """The workbook to fill in: the two sheets with their headers, and a sheet of instructions."""
    org._require_sysadmin(actor, "下载导入模板")
    book = Workbook()
    book.remove(book.active)
    for sheet, columns in COLUMNS.items():
        page = book.create_sheet(sheet)
        page.append([label for label, _ in columns])
        for cell in page[1]:
            cell.font = Font(bold=True)
        for letter in "ABCDEFG"[:len(columns)]:
            page.column_dimensions[letter].width = 18
    guide = book.create_sheet("说明")
    for line in GUIDE:
        guide.append([line])
    guide.column_dimensions["A"].width = 100
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def import_workbook(duban, actor: Actor, data: bytes, ip: str | None = None) -> dict:
    """Create the units, then the users, of a workbook; {created, refused, rows: [...]}."""
    org._require_sysadmin(actor, "导入用户和单位")
    sheets = _read(data)
    rows = []
    for sheet, create in ((UNITS, _unit), (USERS, _user)):
        seen = {}
        for number, record in _parents_first(sheets.get(sheet, []), sheet):
            key = record.get(COLUMNS[sheet][0][1]) or ""
            if key and key in seen:
                rows.append(_row(sheet, number, key, False, text("import.duplicate", row=seen[key])))
                continue
            seen.setdefault(key, number)
            try:
                message = create(duban, actor, record, ip)
            except DubanError as error:
                rows.append(_row(sheet, number, key, False, error.message))
            else:
                rows.append(_row(sheet, number, key, True, message))
    rows.sort(key=lambda row: (row["sheet"] != UNITS, row["row"]))  # reported in the sheets' order
    created = sum(row["created"] for row in rows)
    audit.record(duban, actor, "directory.import", "directory",
                 {"created": created, "refused": len(rows) - created}, ip)
    return {"created": created, "refused": len(rows) - created, "rows": rows}


def _unit(duban, actor, record, ip) -> str:
    org.create_unit(duban, actor, {"id": record["id"], "name": record["name"], "kind": record["kind"] or "unit",
                                   "parent_id": record.get("parent_id"), "category": record.get("category")}, ip)
    return text("import.unit_created")


def _parents_first(records: list, sheet: str) -> list:
    """Units after the units of the sheet above them, so a sheet lists them in any order; a cycle or an
    unknown parent is left in place for create_unit to refuse. Users keep their order."""
    if sheet != UNITS:
        return records
    first = {}
    for entry in records:
        first.setdefault(entry[1].get("id"), entry)
    placed, ordered = set(), []

    def place(entry, path=()):
        if entry[0] in placed:
            return
        key, parent = entry[1].get("id"), entry[1].get("parent_id")
        if parent and parent in first and parent not in path and parent != key:
            place(first[parent], (*path, key))
        if entry[0] not in placed:
            placed.add(entry[0])
            ordered.append(entry)

    for entry in records:
        place(entry)
    return ordered


def _user(duban, actor, record, ip) -> str:
    accounts.create_user(duban, actor, record, ip)
    return text("import.user_created")


def _row(sheet: str, number: int, key: str, created: bool, message: str) -> dict:
    return {"sheet": sheet, "row": number, "key": key, "created": created, "message": message}


def _read(data: bytes) -> dict[str, list[tuple[int, dict]]]:
    """{sheet: [(row number, {field: text})]} for the sheets the workbook has, empty rows left out."""
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # noqa: BLE001 - whatever openpyxl trips on, the file is not a workbook we read
        raise InvalidInput(text("import.not_xlsx"), [{"field": "file", "message": text("import.not_xlsx")}]) from None
    try:
        present = [sheet for sheet in COLUMNS if sheet in book.sheetnames]
        if not present:
            raise InvalidInput(text("import.no_sheets"), [{"field": "file", "message": text("import.no_sheets")}])
        return {sheet: _records(book[sheet], sheet) for sheet in present}
    except InvalidInput:
        raise
    except Exception:  # noqa: BLE001 - a sheet openpyxl opens but cannot read (damaged XML inside)
        raise InvalidInput(text("import.not_xlsx"), [{"field": "file", "message": text("import.not_xlsx")}]) from None
    finally:
        book.close()


def _records(page, sheet: str) -> list[tuple[int, dict]]:
    columns = COLUMNS[sheet]
    lines = page.iter_rows(values_only=True)
    header = [_cell(value) for value in next(lines, ())][:len(columns)]
    while header and not header[-1]:
        header.pop()
    given = max(len(header), REQUIRED[sheet])
    if header != [label for label, _ in columns][:given]:
        expected = "、".join(label for label, _ in columns)
        raise InvalidInput(text("import.header", sheet=sheet, columns=expected),
                           [{"field": "file", "message": text("import.header", sheet=sheet, columns=expected)}])
    records = []
    for number, values in enumerate(lines, start=2):
        cells = [_cell(value) for value in (values or ())][:len(columns)]
        if not any(cells):
            continue
        if len(records) >= MAX_ROWS:
            raise InvalidInput(text("import.too_many", limit=MAX_ROWS, rows=f"{MAX_ROWS}+"),
                               [{"field": "file", "message": text("import.too_many", limit=MAX_ROWS,
                                                                  rows=f"{MAX_ROWS}+")}])
        cells += [""] * (len(columns) - len(cells))
        records.append((number, {field: cells[i] for i, (_, field) in enumerate(columns)}))
    return records


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # 12345678 typed as a number reads back as 12345678.0
    return str(value).strip()
