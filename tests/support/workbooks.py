"""Excel workbooks of units and users, as people fill them in for 批量导入."""
from __future__ import annotations

import io

from openpyxl import Workbook


def workbook(units=(), users=(), unit_header=("编号", "名称", "类别")) -> bytes:
    book = Workbook()
    book.remove(book.active)
    sheet = book.create_sheet("单位")
    sheet.append(list(unit_header))
    for row in units:
        sheet.append(list(row))
    sheet = book.create_sheet("用户")
    sheet.append(["用户名", "姓名", "单位编号", "电子邮箱", "初始口令"])
    for row in users:
        sheet.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
