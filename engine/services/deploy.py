"""Deploying (部署) BPMN files: check them, store a new version where the content changed."""
from __future__ import annotations

from types import SimpleNamespace

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from .. import texts
from ..access import Actor, instances_cleared
from ..bpmn import xml
from ..bpmn.runtime import CompiledProcess, bundle_checksum, compile_bundle, compile_decisions
from ..config import using_limits
from ..domain.roles import DESIGNER, SYSTEM_ADMINS
from ..errors import Conflict, DeploymentInvalid, Forbidden, NotFound
from ..models import Definition, Instance, Unit
from . import audit, decisions as decision_store


def deploy(duban, files: dict, forms: dict, actor: Actor | None = None) -> list[dict]:
    """Deploy BPMN files ({name: bytes}) with the forms beside them; one result per process.

    Identical content makes no new version; running instances keep the version they started on.
    """
    if actor is not None and not actor.has(DESIGNER, *SYSTEM_ADMINS):
        raise Forbidden(texts.text("deploy.only_designers"))
    compiled, tables = _compile(duban, files, forms)
    results, who = [], actor.username if actor else None
    try:
        with duban.db.transaction() as session:
            for process in compiled:
                results.append(_store(duban, session, process, actor))
                audit.append(session, who, "definition.deploy", f"definition:{process.key}",
                             {k: results[-1][k] for k in ("version", "created")}, at=duban.clock.now())
            stored = [decision_store.store(duban, session, table, who) for table in tables]
            for result in stored:
                audit.append(session, who, "decision.deploy", f"decision:{result['key']}",
                             {k: result[k] for k in ("version", "created")}, at=duban.clock.now())
            changed = {table.key: table for table, result in zip(tables, stored, strict=True) if result["created"]}
            results.extend(_follow_decisions(duban, session, changed, {p.key for p in compiled}, who))
            results.extend(stored)
    except IntegrityError:
        raise Conflict(texts.text("deploy.concurrent")) from None
    return results


def _compile(duban, files: dict, forms: dict) -> tuple[list, list]:
    """(processes, decision tables) of an upload, checked under this installation's limits (shortest
    timer cycle, most instances, ...); DeploymentInvalid naming each problem."""
    readable = _as_utf8(files, duban.settings.max_bpmn_bytes)
    with duban.db.reading() as session, using_limits(duban.settings.limits):
        tables = compile_decisions(readable, duban.settings.max_bpmn_bytes)
        resolve = lambda key: _latest_files(session, key)  # noqa: E731
        compiled = compile_bundle(readable, forms, duban.settings.max_bpmn_bytes, resolve,
                                  lambda decision: decision_store.latest_xml(session, decision))
        _check_lane_units(session, compiled)
    return compiled, tables


def _follow_decisions(duban, session, changed: dict, deployed: set, who) -> list[dict]:
    """A decision deployed anew reaches the processes that use it: each one's latest version (unless
    deployed in this same upload) gets a new version carrying the new table, so new instances decide
    by it; running instances keep their version, as with any deployment."""
    results = []
    for definition in _latest_definitions(session):
        if definition.key in deployed:
            continue
        files = dict(definition.files)
        for name, text in definition.files.items():
            used = decision_store.declared(name, text)
            if used in changed and text != changed[used].text:
                files[name] = changed[used].text
        if files == definition.files:
            continue
        process = CompiledProcess(key=definition.key, name=definition.name, files=files,
                                  checksum=bundle_checksum(files, definition.forms), forms=definition.forms,
                                  elements=definition.elements, warnings=definition.warnings)
        by = SimpleNamespace(username=who) if who else None
        results.append(_store(duban, session, process, by) | {"decided_by": sorted(changed)})
        audit.append(session, who, "definition.deploy", f"definition:{definition.key}",
                     {"version": results[-1]["version"], "created": results[-1]["created"],
                      "decisions": sorted(changed)}, at=duban.clock.now())
    return results


def _latest_definitions(session) -> list[Definition]:
    newest = select(Definition.key, func.max(Definition.version).label("version")).group_by(Definition.key)
    newest = newest.subquery()
    return list(session.scalars(select(Definition).join(
        newest, (Definition.key == newest.c.key) & (Definition.version == newest.c.version))))


def validate(duban, files: dict, forms: dict, actor: Actor) -> list[dict]:
    """Check without deploying (the modeler's 验证): DeploymentInvalid naming each element, or a
    summary per process with its warnings."""
    if not actor.has(DESIGNER, *SYSTEM_ADMINS):
        raise Forbidden(texts.text("deploy.only_designers_validate"))
    compiled, tables = _compile(duban, files, forms)
    return [{"key": p.key, "name": p.name, "warnings": p.warnings} for p in compiled] + [
        {"key": t.key, "name": t.name, "warnings": [], "kind": "decision"} for t in tables]


def _check_lane_units(session, compiled) -> None:
    """A lane declared for one unit (duban:unit) must name a unit of the organisation."""
    known = set(session.scalars(select(Unit.id)))
    problems = []
    for process in compiled:
        for task in process.elements.get("human_tasks", {}).values():
            if task.get("unit") and task["unit"] not in known:
                problems.append({"file": next(iter(process.files), None), "element": task.get("lane"), "line": None,
                                 "message": texts.text("contract.lane_unit", unit=task["unit"], task=task["name"]),
                                 "rule": "duban-lane-unit"})
    if problems:
        raise DeploymentInvalid(problems[0]["message"], problems)


def _as_utf8(files: dict, max_bytes: int) -> dict:
    """The BPMN files as UTF-8: tools on Windows write UTF-16 (with a BOM) or GBK, and a definition is
    stored as text. A file that cannot be decoded stays as it was, for the checks to report by name."""
    readable = {}
    for name, data in files.items():
        try:
            readable[name] = xml.as_utf8(data, max_bytes)
        except xml.XmlRefused:
            readable[name] = data
    return readable


def definition_forms(duban, key: str, version: int | None = None) -> dict:
    """The form-js schemas of a version, by form id (what the modeler's form editor opens)."""
    with duban.db.reading() as session:
        return _definition(session, key, version).forms


def _definition(session, key: str, version: int | None) -> Definition:
    query = select(Definition).where(Definition.key == key)
    query = query.where(Definition.version == version) if version else query.order_by(Definition.version.desc())
    definition = session.scalars(query.limit(1)).one_or_none()
    if definition is None:
        raise NotFound(texts.text("deploy.no_definition_version", process=key, version=version) if version
                       else texts.text("deploy.no_definition", process=key))
    return definition


def _latest(session, key: str) -> Definition | None:
    return session.scalars(
        select(Definition).where(Definition.key == key).order_by(Definition.version.desc()).limit(1)
    ).one_or_none()


def _latest_files(session, key: str) -> dict | None:
    latest = _latest(session, key)
    return latest.files if latest else None


def _store(duban, session, process, actor) -> dict:
    latest = _latest(session, process.key)
    if latest is not None and latest.checksum == process.checksum:
        return {"key": latest.key, "version": latest.version, "name": latest.name, "created": False,
                "warnings": latest.warnings, "kind": "process"}
    definition = Definition(
        key=process.key, version=(latest.version + 1) if latest else 1, name=process.name,
        checksum=process.checksum, files=process.files, forms=process.forms, elements=process.elements,
        warnings=process.warnings, deployed_at=duban.clock.now(), deployed_by=actor.username if actor else None,
    )
    session.add(definition)
    session.flush()
    return {"key": definition.key, "version": definition.version, "name": definition.name, "created": True,
            "warnings": definition.warnings, "kind": "process"}


def definition_summary(definition: Definition, running: int = 0) -> dict:
    return {"key": definition.key, "name": definition.name, "version": definition.version,
            "deployed_at": definition.deployed_at, "deployed_by": definition.deployed_by,
            "running_instances": running, "warnings": definition.warnings}


def list_definitions(duban, all_versions: bool = False, actor: Actor | None = None) -> list[dict]:
    """The deployed versions with their running instances: for a caller (`actor`), only the instances
    they are cleared for are counted (保密: a secret item's instance is in no count)."""
    with duban.db.reading() as session:
        counted = [Instance.status == "running"] + ([instances_cleared(actor)] if actor else [])
        running = dict(session.execute(
            select(Instance.definition_id, func.count()).where(*counted)
            .group_by(Instance.definition_id)).all())
        query = select(Definition).order_by(Definition.key, Definition.version.desc())
        rows = list(session.scalars(query))
        if not all_versions:
            seen, latest = set(), []
            for row in rows:
                if row.key not in seen:
                    seen.add(row.key)
                    latest.append(row)
            rows = latest
        return [definition_summary(row, running.get(row.id, 0)) for row in rows]


def latest_version(duban, key: str) -> int | None:
    with duban.db.reading() as session:
        return session.scalar(select(func.max(Definition.version)).where(Definition.key == key))


def definition_xml(duban, key: str, version: int | None = None) -> str:
    with duban.db.reading() as session:
        return _own_file(_definition(session, key, version))


def _own_file(definition: Definition) -> str:
    """The file a definition's process lives in (a definition also keeps the files it calls)."""
    for name, text in definition.files.items():
        if not name.startswith("deployed:") and not decision_store.declared(name, text) \
                and f'id="{definition.key}"' in text:
            return text
    return next(iter(definition.files.values()))
