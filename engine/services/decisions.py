"""DMN decisions (决策表): stored by deploy.py, listed and opened for the DMN editor, and evaluated for
services through the step process (the sandbox and the budgets of a step), as a business rule task would.
"""
from __future__ import annotations

import hashlib
import re
from types import SimpleNamespace

from sqlalchemy import func, select

from .. import texts
from ..access import Actor, may_design
from ..bpmn import decisions as tables
from ..errors import Forbidden, NotFound
from ..models import Decision, Definition

_DECLARED = re.compile(r"<(?:\w+:)?decision\b[^>]*?\bid\s*=\s*[\"']([^\"']+)[\"']")


def store(duban, session, table: tables.CompiledDecision, who: str | None) -> dict:
    """A new version of a decision when its text changed; what deploy reports for it."""
    latest = _latest(session, table.key)
    if latest is not None and latest.checksum == table.checksum:
        row, created = latest, False
    else:
        row = Decision(key=table.key, version=(latest.version + 1) if latest else 1, name=table.name,
                       checksum=table.checksum, filename=table.filename, xml=table.text,
                       deployed_at=duban.clock.now(), deployed_by=who)
        session.add(row)
        session.flush()
        created = True
    return {"key": row.key, "version": row.version, "name": row.name, "created": created, "warnings": [],
            "kind": "decision"}


def latest_xml(session, key: str) -> str | None:
    latest = _latest(session, key)
    return latest.xml if latest else None


def declared(name: str, text: str) -> str | None:
    """The decision a file of a definition declares, if it is a DMN file (by name, or by its namespace
    when uploaded under another name)."""
    if not name.endswith(".dmn") and "/spec/DMN/" not in text[:2000]:
        return None
    found = _DECLARED.search(text)
    return found.group(1) if found else None


def _latest(session, key: str) -> Decision | None:
    return session.scalars(select(Decision).where(Decision.key == key)
                           .order_by(Decision.version.desc()).limit(1)).one_or_none()


def _designers_only(actor: Actor) -> None:
    if not may_design(actor):
        raise Forbidden(texts.text("dmn.only_designers"))


def list_decisions(duban, actor: Actor) -> list[dict]:
    """The latest version of every deployed decision, with the processes whose latest version uses it."""
    _designers_only(actor)
    with duban.db.reading() as session:
        newest = select(Decision.key, func.max(Decision.version).label("version")).group_by(Decision.key).subquery()
        rows = session.scalars(select(Decision).join(
            newest, (Decision.key == newest.c.key) & (Decision.version == newest.c.version)).order_by(Decision.key))
        users = _users(session)
        return [{"key": r.key, "name": r.name, "version": r.version, "filename": r.filename,
                 "deployed_at": r.deployed_at, "deployed_by": r.deployed_by,
                 "processes": sorted(users.get(r.key, ()))} for r in rows]


def _users(session) -> dict:
    """{decision id: {process keys}} over the latest version of every process."""
    newest = select(Definition.key, func.max(Definition.version).label("version")).group_by(Definition.key)
    newest = newest.subquery()
    found = {}
    for definition in session.scalars(select(Definition).join(
            newest, (Definition.key == newest.c.key) & (Definition.version == newest.c.version))):
        for name, text in definition.files.items():
            decision = declared(name, text)
            if decision:
                found.setdefault(decision, set()).add(definition.key)
    return found


def decision_xml(duban, actor: Actor, key: str, version: int | None = None) -> str:
    """The DMN XML of a decision's latest version (or `version`): what the DMN editor opens."""
    _designers_only(actor)
    with duban.db.reading() as session:
        query = select(Decision).where(Decision.key == key)
        query = query.where(Decision.version == version) if version else query.order_by(Decision.version.desc())
        row = session.scalars(query.limit(1)).one_or_none()
        if row is None:
            raise NotFound(texts.text("dmn.no_decision", decision=key))
        return row.xml


def evaluate(duban, key: str, inputs: dict) -> dict | None:
    """The outputs of the latest version of decision `key` for `inputs` ({variable: value}), run in the
    step process as a business rule task runs it; None when no such decision is deployed. A table that
    fails (an error in a cell, a budget exceeded) raises ProcessError naming the decision."""
    with duban.db.reading() as session:
        latest = _latest(session, key)
        if latest is None:
            return None
        source, filename = latest.xml, latest.filename
    process, bpmn = tables.runner(key)
    files = {"runner.bpmn": bpmn, f"decision/{filename}": source}
    checksum = hashlib.sha256((bpmn + "\0" + source).encode()).hexdigest()
    definition = SimpleNamespace(id=f"decision:{checksum}", key=process, files=files, checksum=checksum)
    run = duban.runtime.start(definition, dict(inputs), {})
    return {name: value for name, value in run.data().items() if name not in inputs}
