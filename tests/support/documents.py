"""文书 read back: a .docx's text as a reader sees it; an item through 交办 with its prefilled notice."""
from __future__ import annotations

import io

from docx import Document

from engine import services
from tests.integration.flow import complete, open_task, register

TITLE = "推进重点项目建设"


def all_text(data: bytes) -> str:
    """Every paragraph of a .docx, body, tables and footers, one per line (as a reader sees it)."""
    document = Document(io.BytesIO(data))
    lines = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            for cell in row.cells:
                lines += [p.text for p in cell.paragraphs]
    for section in document.sections:
        lines += [p.text for p in section.footer.paragraphs] + [p.text for p in section.header.paragraphs]
    return "\n".join(lines)


def assigned(duban, org, title=TITLE) -> tuple[dict, str]:
    """An item through 交办 with the prefilled 交办通知单 as sent; (item, notice)."""
    item = register(duban, org, title=title)
    complete(duban, org["office"], "draft_opinion",
             {"lead_unit": "fgj", "co_units": ["czj"], "opinion": "请发改局牵头办理"}, instance_id=item["instance_id"])
    complete(duban, org["leader"], "leader_approval", {"decision": "approve"}, instance_id=item["instance_id"])
    task = open_task(duban, org["office"], "assign", instance_id=item["instance_id"])
    notice = services.get_task(duban, org["office"], task["id"])["data"]["notice"]
    services.complete_task(duban, org["office"], task["id"], {"notice": notice})
    return item, notice
