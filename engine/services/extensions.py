"""延期申请: a unit asks for more time in writing, signed by its head; a leader decides.

The request starts a small process of its own (`duban_extension`, bpmn/duban_extension.bpmn) so the
leader finds it in the inbox like any task. Approval moves the unit's deadline — or, once the unit
has been urged, its urge limit — and recomputes the main instance's timers in the same
transaction, so the reminder, the 催办 and the escalation to 纪委 all follow.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from ..access import Actor, items_visible, visible_item
from ..clock import readable
from ..db import next_id, retrying
from ..domain import deadlines, steps
from ..domain.items import limit_from
from ..domain.roles import UNIT
from ..errors import Conflict, Forbidden, FormInvalid, InvalidInput, NotFound
from ..forms import file_ids
from ..models import Extension, Item, Unit
from ..texts import text
from . import dossier, files, process
from .hooks import Hooks
from .instances import latest_definition
from .notifications import notify, people

KEY = "duban_extension"  # the process the 延期申请 button starts; its behaviour comes from its 延期审批 step
MAX_REASON = 5000


@retrying
def request_extension(duban, actor: Actor, item_id: int, fields: dict) -> dict:
    """The unit's written request (reason, its head's signature, the deadline it asks for), with
    the 佐证材料 it uploaded for it (`evidence`, file ids), which join the item."""
    with duban.db.step() as session:
        item = visible_item(session, actor, item_id)
        unit_id = fields.get("unit") or actor.unit_id
        if not (actor.has(UNIT) and actor.unit_id == unit_id):
            raise Forbidden(text("extension.unit_only"))
        part = next((p for p in item.units if p.unit_id == unit_id), None)
        if part is None or item.status not in ("in_progress",):
            raise Conflict(text("extension.no_deadline"))
        if part.accepted_at is not None:
            raise Conflict(text("extension.accepted"))
        if session.scalars(select(Extension.id).where(Extension.item_id == item_id, Extension.unit_id == unit_id,
                                                      Extension.status == "pending")).first():
            raise Conflict(text("extension.waiting"))
        now = duban.clock.now()
        current = deadlines.due_at(part)
        wanted, evidence = _checked(duban, fields, current, now)
        extension = Extension(item_id=item_id, unit_id=unit_id, reason=fields["reason"].strip(),
                              head=fields["head"].strip(), old_deadline=current, requested_deadline=wanted,
                              status="pending", requested_by=actor.username, requested_at=now, comment="",
                              evidence=evidence)
        extension.id = next_id(session, Extension)  # written after the start step (see db.step)
        ctx = process.context(duban, session, actor)
        ctx.item = item
        instance = process.start(ctx, latest_definition(session, KEY), {
            "item_id": item.id, "extension_id": extension.id, "title": item.title, "unit": unit_id,
            "unit_name": _unit_name(session, unit_id), "reason": extension.reason,
            "head": extension.head, "current_deadline": current.isoformat(),
            "requested_deadline": wanted.isoformat(), "current_deadline_text": _text(current),
            "requested_deadline_text": _text(wanted), "evidence": evidence})
        extension.instance_id = instance.id
        files.claim(duban, session, actor, "evidence", evidence, item.id)  # after the step: writes come last
        session.add(extension)
        _record_on_item(duban, session, actor, item, "extension_requested", unit_id,
                        {"reason": extension.reason, "head": extension.head, "requested": wanted.isoformat(),
                         "evidence": evidence})
        extension_id = extension.id
    return get_extension(duban, actor, extension_id)


def _checked(duban, fields: dict, current: datetime, now: datetime) -> tuple[datetime, list]:
    errors = []
    reason, head = (fields.get("reason") or "").strip(), (fields.get("head") or "").strip()
    if not reason:
        errors.append({"field": "reason", "message": text("extension.reason_required")})
    elif len(reason) > MAX_REASON:
        errors.append({"field": "reason", "message": text("field.max_length", limit=MAX_REASON)})
    if not head or len(head) > 100:
        errors.append({"field": "head", "message": text("extension.head_required")})
    if fields.get("head_signed") is not True:
        errors.append({"field": "head_signed", "message": text("extension.head_signed")})
    wanted = None
    try:
        wanted = limit_from(duban.calendar, str(fields.get("new_deadline") or ""))
    except ValueError:
        errors.append({"field": "new_deadline", "message": text("field.when")})
    if wanted is not None and wanted <= max(current, now):
        errors.append({"field": "new_deadline", "message": text("field.later_than_deadline")})
    evidence = fields.get("evidence") or []
    try:
        file_ids(evidence)
    except ValueError as error:
        errors.append({"field": "evidence", "message": str(error)})
    if errors:
        raise InvalidInput(errors[0]["message"], errors)
    return wanted, evidence


def list_extensions(duban, actor: Actor, item_id: int) -> list[dict]:
    with duban.db.reading() as session:
        visible_item(session, actor, item_id)
        rows = session.scalars(select(Extension).where(Extension.item_id == item_id).order_by(Extension.id))
        who = dossier.names(session)
        return [_view(row, who) for row in rows]


def get_extension(duban, actor: Actor, extension_id: int) -> dict:
    with duban.db.reading() as session:
        # One query for a missing and a hidden request alike (保密: the same answer in the same time).
        row = session.scalars(select(Extension).join(Item, Item.id == Extension.item_id).where(
            Extension.id == extension_id, items_visible(actor))).one_or_none()
        if row is None:
            raise NotFound(text("extension.not_found", id=extension_id))
        return _view(row, dossier.names(session))


def _view(row: Extension, who: dossier.Names) -> dict:
    return {"id": row.id, "item_id": row.item_id, "unit": row.unit_id, "unit_name": who.unit(row.unit_id),
            "requested_by_name": who.person(row.requested_by),
            "decided_by_name": who.person(row.decided_by) if row.decided_by else None, "instance_id": row.instance_id,
            "reason": row.reason, "head": row.head, "old_deadline": row.old_deadline,
            "requested_deadline": row.requested_deadline, "granted_deadline": row.granted_deadline,
            "status": row.status, "requested_by": row.requested_by, "requested_at": row.requested_at,
            "decided_by": row.decided_by, "decided_at": row.decided_at, "comment": row.comment,
            "evidence": list(row.evidence or [])}


def _text(moment: datetime) -> str:
    return readable(moment)


def _unit_name(session, unit_id: str) -> str:
    unit = session.get(Unit, unit_id)
    return unit.name if unit else unit_id


def _record_on_item(duban, session, actor, item: Item, action: str, unit_id: str, data: dict) -> None:
    """The request and the decision belong to the item's own history too."""
    ctx = process.context(duban, session, actor)
    ctx.item = item
    process.lock_instance(ctx, item.instance_id)
    process.record(ctx, action, unit_id=unit_id, name="延期申请", data=data)


class ExtensionHooks(Hooks):
    """The 延期申请 process: the leader's decision checked and applied. Its item is the one its
    extension row names (access.instance_item, the generic Hooks.item_of), never the instance's data,
    which the process's own scripts could change."""

    def before_complete(self, ctx, task, data: dict) -> None:
        if steps.kind_of(ctx.definition.elements, task.element_id) != "extension_review":
            return
        extension = self._extension(ctx)
        if extension.status != "pending":
            raise Conflict(text("extension.decided"))
        granted = extension.requested_deadline
        if data.get("decision") == "approve" and data.get("approved_deadline"):
            try:
                granted = limit_from(ctx.duban.calendar, data["approved_deadline"])
            except ValueError:
                raise FormInvalid(text("form.invalid"), [
                    {"field": "approved_deadline", "message": text("field.when")}]) from None
            if granted <= extension.old_deadline:
                raise FormInvalid(text("form.invalid"), [
                    {"field": "approved_deadline", "message": text("field.later_than_deadline")}])
        extension.decided_by, extension.decided_at = ctx.actor.username, ctx.now
        extension.comment = data.get("comment") or ""
        if data.get("decision") == "approve":
            extension.status, extension.granted_deadline = "approved", granted
            _apply(ctx, extension)
        else:
            extension.status = "refused"
            _record_on_item(ctx.duban, ctx.session, ctx.actor, ctx.item, "extension_refused", extension.unit_id,
                            {"comment": extension.comment})
        notify(ctx, people(ctx.session, UNIT, extension.unit_id), "extension",
               f"延期申请{'已同意' if extension.status == 'approved' else '未同意'}：“{ctx.item.title}”",
               f"新的办理期限：{_text(extension.granted_deadline)}" if extension.granted_deadline
               else extension.comment)

    def task_due(self, ctx, task):
        """延期审批 within its working days (engine/domain/steps.py), so the leader's inbox shows a light."""
        days = steps.option(ctx.definition.elements, task.element_id, "due_workdays")
        return ctx.duban.calendar.add_workdays(ctx.now, int(days)).at if days is not None else None

    def _extension(self, ctx) -> Extension:
        extension = ctx.session.get(Extension, (ctx.instance.data or {}).get("extension_id"))
        if extension is None:
            raise NotFound(text("extension.gone"))
        return extension


def _apply(ctx, extension: Extension) -> None:
    """Move the unit's deadline (or its urge limit, once urged) and everything timed from it."""
    item, granted = ctx.item, extension.granted_deadline
    main = process.context(ctx.duban, ctx.session, ctx.actor)
    main.item = item
    process.lock_instance(main, item.instance_id)
    part = next(p for p in item.units if p.unit_id == extension.unit_id)
    if part.urge_limit is not None:
        part.urge_limit = granted  # urged already: the escalation to 纪委 waits for the new limit
    else:
        part.deadline = granted  # the reminder and the 催办 follow the deadline
    main.hooks.deadlines_moved(main)
    if main.instance.status in ("running", "error", "suspended"):
        run = process.load(main)
        run.recalculate_timers()
        process.record(main, "extension_approved", unit_id=extension.unit_id, name="延期申请",
                       data={"granted": granted.isoformat(), "was": extension.old_deadline.isoformat()})
        process.save(main, run)


HOOKS = ExtensionHooks()
