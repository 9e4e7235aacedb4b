"""The administrators' document templates (文书模板), kept in the database every machine shares.

A .docx replacing a built-in template (bpmn/templates/) used to be dropped into
$DUBAN_VAR_DIR/templates/ on the one machine that served documents; with several web nodes each
would serve its own. `duban templates push` stores it in the database instead, where every node
reads it when it fills a document (a download is rare, so it is read each time: a push is in force
on every node at once, with no cache to refresh). A file in $DUBAN_VAR_DIR/templates/ still
serves when the database holds none (one machine, as before).
"""
from __future__ import annotations

import hashlib
import io
from pathlib import Path

from docx import Document
from sqlalchemy import delete, select

from ..db import dialect_insert
from ..errors import InvalidInput, NotFound
from ..models import DocumentTemplate
from ..texts import text
from . import audit

# A notice's template is a page or two of Word; a scanned letterhead image still fits many times over.
MAX_TEMPLATE_BYTES = 5 * 1024 * 1024


def names() -> list[str]:
    """The templates a document uses, each of which may be replaced."""
    from .documents import KINDS

    return sorted({kind.template for kind in KINDS.values()})


def stored(duban, name: str, session=None) -> bytes | None:
    """The pushed template of this name, or None (read in the caller's session when it has one)."""
    query = select(DocumentTemplate.content).where(DocumentTemplate.name == name)
    if session is not None:
        return session.scalar(query)
    with duban.db.reading() as reading:
        return reading.scalar(query)


def push(duban, name: str, data: bytes, operator: str) -> dict:
    """Store `data` as the template `name` for every machine (replacing an earlier push); audited."""
    if name not in names():
        raise InvalidInput(text("templates.unknown", name=name, names="、".join(names())))
    if len(data) > MAX_TEMPLATE_BYTES:
        raise InvalidInput(text("templates.too_large", size=len(data), limit=MAX_TEMPLATE_BYTES))
    try:
        Document(io.BytesIO(data))
    except Exception:  # noqa: BLE001 - whatever python-docx cannot open is refused here, not at download
        raise InvalidInput(text("templates.not_docx", name=name)) from None
    sha256, now = hashlib.sha256(data).hexdigest(), duban.clock.now()
    with duban.db.transaction() as session:
        insert = dialect_insert(session)
        statement = insert(DocumentTemplate.__table__).values(name=name, content=data, sha256=sha256, updated_at=now,
                                                               updated_by=operator)
        session.execute(statement.on_conflict_do_update(
            index_elements=["name"],
            set_={"content": data, "sha256": sha256, "updated_at": now, "updated_by": operator}))
        audit.append(session, operator, "template.push", f"template:{name}", {"sha256": sha256, "size": len(data)},
                     at=now)
    return {"name": name, "sha256": sha256, "size": len(data)}


def remove(duban, name: str, operator: str) -> None:
    """Drop the pushed template: documents are filled from the built-in one again; audited."""
    with duban.db.transaction() as session:
        if not session.execute(delete(DocumentTemplate).where(DocumentTemplate.name == name)).rowcount:
            raise NotFound(text("templates.not_pushed", name=name))
        audit.append(session, operator, "template.remove", f"template:{name}", None, at=duban.clock.now())


def listing(duban) -> list[dict]:
    """Each template and where the one in force on this machine comes from: database, local or built-in."""
    with duban.db.reading() as session:  # not the bytes
        rows = {row.name: row for row in session.execute(select(
            DocumentTemplate.name, DocumentTemplate.sha256, DocumentTemplate.updated_at, DocumentTemplate.updated_by))}
    result = []
    for name in names():
        row = rows.get(name)
        local = Path(duban.settings.var_dir) / "templates" / f"{name}.docx"
        if row is not None:
            entry = {"source": "database", "sha256": row.sha256, "updated_at": row.updated_at,
                     "updated_by": row.updated_by}
        elif local.is_file():
            entry = {"source": "local", "sha256": hashlib.sha256(local.read_bytes()).hexdigest(), "path": str(local)}
        else:
            entry = {"source": "built-in"}
        result.append({"name": name, **entry})
    return result
