"""办理依据 and 办理记录: what each decision rests on, and the whole file of an item, read from the
history every step writes (engine/services/history.py).

A step's record is described through the form it was submitted with: each field by its label, a
choice by its option's label, a unit by its name, files by name. A process a designer builds is
described as the bundled one is; what a task's decision rests on is chosen by the *kind* its element
declares (engine/domain/steps.py), never by element id. A step sends work back (退回) when its
`decision` is `return`; its `comment` says why. A unit reads only its own unit's steps
(access.sees_unit_record).
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from .. import forms as formjs
from ..access import Actor, sees_unit_record, visible_item
from ..clock import CHINA
from ..domain import steps
from ..errors import FormInvalid
from ..models import HistoryEntry, HumanTask, Instance, Item, User
from ..texts import text
from . import definitions, files as stored_files, org

DECISION = "decision"  # the field of a step's decision
RETURN = "return"  # the decision value by which a step sends work back (退回)
REASON = "comment"  # the field saying why
# Besides completed steps, what the record (办理记录) shows of an item's history.
RECORDED = ("started", "completed", "extension_requested", "extension_approved", "extension_refused", "terminated",
            "withdrawn")
REPORTS = ("report", "reply")  # kinds whose submission is a unit's report (办结报告, 答复)
# Non-step rows: their data's fields, by key, with their label and type.
_ROW_FIELDS = {"reason": "text", "head": "text", "requested": "datetime", "granted": "datetime", "was": "datetime",
               "comment": "text"}


@dataclass(frozen=True)
class Names:
    """Names for the codes steps record: people by username, units by id."""

    users: dict
    user_units: dict
    units: dict

    def person(self, username: str | None) -> str:
        return self.users.get(username) or username or text("record.system")

    def unit(self, unit_id: str | None) -> str | None:
        return self.units.get(unit_id, unit_id) if unit_id else None

    def signed(self, username: str | None) -> str:
        """The person with their unit, as a signature: 县委办督查室 张三 (the unit left out when the name
        already begins with it, as in 督查室 王主任)."""
        person, unit = self.person(username), self.user_units.get(username)
        if not unit or person.split(" ")[0] in unit:
            return person
        return f"{unit} {person}"


def names(session) -> Names:
    units = org.unit_names(session)
    users, user_units = {}, {}
    for username, display, unit_id in session.execute(select(User.username, User.display_name, User.unit_id)):
        users[username] = display or username
        user_units[username] = units.get(unit_id)
    return Names(users, user_units, units)


def people_names(duban) -> dict:
    """{username: display name} of everyone, for pages that list who did what."""
    with duban.db.reading() as session:
        return names(session).users


def history_view(actor: Actor, view: dict, who: Names) -> dict:
    """A history row with names beside its codes and, for a step that sent work back, the reason. What
    was submitted for another unit stays out of a unit's sight (access.sees_unit_record)."""
    readable = sees_unit_record(actor, view["unit"])
    returned = readable and _returns(view["action"], view["data"])
    return {**view, "data": view["data"] if readable else None, "actor_name": who.person(view["actor"]),
            "unit_name": who.unit(view["unit"]), "reason": _reason(view["data"]) if returned else None}


def _returns(action: str, data: dict | None) -> bool:
    """Whether a history row is a step that sent work back (退回)."""
    return action == "completed" and (data or {}).get(DECISION) == RETURN


def _reason(data: dict | None) -> str:
    return str((data or {}).get(REASON) or "").strip() or text("basis.no_reason")


# --- the item's file (办理记录) -----------------------------------------------------------------

def item_record(duban, actor: Actor, item_id: int) -> list[dict]:
    """Every step of the item in the order it happened, as this person may read it (NotFound if the
    item is hidden)."""
    with duban.db.reading() as session:
        item = visible_item(session, actor, item_id)
        return [entry for entry in _described(duban, session, item) if sees_unit_record(actor, entry["unit"])]


def _described(duban, session, item: Item) -> list[dict]:
    if item.instance_id is None:
        return []
    definition = _definition(duban, session, item.instance_id)
    known = {listing["id"]: listing for listing in stored_files.files_of(session, item.id)}
    who = names(session)
    rows = session.scalars(select(HistoryEntry).where(HistoryEntry.instance_id == item.instance_id,
                                                      HistoryEntry.action.in_(RECORDED)).order_by(HistoryEntry.id))
    return [describe(row, definition, who, known) for row in rows]


def _definition(duban, session, instance_id: int):
    instance = session.get(Instance, instance_id)
    return definitions.record(duban, session, instance.definition_id) if instance else None


def describe(row: HistoryEntry, definition, who: Names, known_files: dict) -> dict:
    """One history row as people read it: who (name and unit), for which unit, and what they said."""
    elements = definition.elements if definition else {}
    kind = steps.kind_of(elements, row.element_id)
    returned = _returns(row.action, row.data)
    return {
        "id": row.id, "at": row.at, "action": row.action, "kind": kind, "element_id": row.element_id,
        "title": row.name if row.action == "completed" and row.name else text(f"record.{row.action}"),
        "by": row.actor, "by_name": who.person(row.actor), "by_unit_name": who.user_units.get(row.actor),
        "signed": who.signed(row.actor),
        "unit": row.unit_id, "unit_name": who.unit(row.unit_id),
        "fields": _fields(row, definition, who, known_files),
        "returned": returned,
        "reason": _reason(row.data) if returned else None,
    }


def _fields(row: HistoryEntry, definition, who: Names, known_files: dict) -> list[dict]:
    data = row.data or {}
    if row.action == "started":  # the item's own facts head the page; a start's data repeats them
        return []
    if row.action != "completed":  # 延期, 终止: rows the engine writes, with known keys
        return [{"key": key, "label": text(f"record.field.{key}"), "type": kind, "value": data[key], "files": []}
                for key, kind in _ROW_FIELDS.items() if data.get(key) not in (None, "")]
    form_key = definition.elements.get("human_tasks", {}).get(row.element_id, {}).get("form") if definition else None
    form = definition.forms.get(form_key) if form_key else None
    shown = []
    for field in formjs.fields(form):
        value = data.get(field["key"])
        if value in (None, "", []):
            continue
        shown.append(_field(field, value, who, known_files))
    return shown


def _field(field: dict, value, who: Names, known_files: dict) -> dict:
    # form-js labels a date by `dateLabel` (a time by `timeLabel`)
    kind = field["type"]
    label = field.get("label") or field.get("dateLabel") or field.get("timeLabel") or field["key"]
    view = {"key": field["key"], "label": label, "type": "text", "value": value, "files": []}
    if kind == "filepicker":
        view["type"] = "files"
        view["files"] = [{"id": i, "name": known_files[i]["name"], "size": known_files[i]["size"]}
                         for i in value if isinstance(i, int) and i in known_files]
        view["value"] = "、".join(f["name"] for f in view["files"])
    elif kind == "checkbox":
        view["value"] = text("record.yes") if value is True else text("record.no")
    elif kind in ("radio", "select", "taglist", "checklist"):
        labels = _labels(field, who)
        values = value if isinstance(value, list) else [value]
        view["value"] = "、".join(str(labels.get(v, v)) for v in values)
    elif kind == "datetime":
        view["type"] = "datetime" if field.get("subtype") != "date" else "date"
    else:
        view["value"] = str(value)
    return view


def _labels(field: dict, who: Names) -> dict:
    """{value: label} of a choice field: its own options, or units by name (the `unit_options` key)."""
    if field.get("valuesKey") == "unit_options":
        return who.units
    return {v.get("value"): v.get("label") for v in field.get("values") or [] if isinstance(v, dict)}


# --- what a task's decision rests on (办理依据) ------------------------------------------------

def task_basis(duban, session, actor: Actor, task: HumanTask, item: Item | None, who: Names | None = None) -> dict:
    """The reason work came back (退回) and the records a task's decision rests on, by its step's kind:
    领导审批 the 拟办 (units, opinion) and the deadline; 审核 the unit's report; 领导签发 and 反馈 every
    unit's latest report with its review; a report sent back the report returned; 催办 the unit's 签收;
    责任追究 the urges. Only what this person may read of other units."""
    definition = definitions.record(duban, session, session.get(Instance, task.instance_id).definition_id)
    who = who or names(session)
    known = {f["id"]: f for f in stored_files.files_of(session, item.id)} if item else {}
    own = _rows(session, task.instance_id)
    created = session.scalar(select(HistoryEntry.id).where(  # the row recording this task's creation
        HistoryEntry.instance_id == task.instance_id, HistoryEntry.action == "task_created",
        HistoryEntry.task_id == task.id))
    returned = _returned_by(own, task, created)
    basis = {"returned": describe(returned, definition, who, known) if returned else None, "facts": [],
             "entries": []}
    if item is None or item.instance_id is None:
        return basis
    kind = steps.kind_of(definition.elements, task.element_id)
    if item.instance_id == task.instance_id:  # of its own instance, only what was recorded before it began
        earlier, item_definition = [row for row in own if created is None or row.id < created], definition
    else:
        earlier, item_definition = _rows(session, item.instance_id), _definition(duban, session, item.instance_id)
    basis["entries"] = _entries(actor, _chosen(kind, task, earlier, steps.declared(item_definition.elements),
                                               [part.unit_id for part in item.units]), item_definition, who, known)
    if kind == "approve":
        basis["facts"].append({"key": "deadline", "label": text("basis.deadline"), "type": "datetime",
                               "value": item.deadline.isoformat(), "files": []})
    return basis


def _entries(actor: Actor, chosen: list, definition, who: Names, known: dict) -> list[dict]:
    """The chosen rows (each with the review that followed it) as people read them, those this person may."""
    entries = []
    for row, review in chosen:
        if sees_unit_record(actor, row.unit_id):
            entry = describe(row, definition, who, known)
            entry["review"] = describe(review, definition, who, known) if review else None
            entries.append(entry)
    return entries


def _returned_by(completions: list, task: HumanTask, created: int | None) -> HistoryEntry | None:
    """The step that sent work back by creating this task: the completion recorded last before the task's
    creation, in the same operation (the same instant), for its unit or for none."""
    row = next((row for row in reversed(completions) if created is not None and row.id < created), None)
    if row is None or row.at != task.created_at or not _returns(row.action, row.data):
        return None
    return row if row.unit_id in (None, task.unit_id) else None


def _rows(session, instance_id: int) -> list[HistoryEntry]:
    return list(session.scalars(select(HistoryEntry).where(
        HistoryEntry.instance_id == instance_id, HistoryEntry.action == "completed").order_by(HistoryEntry.id)))


def _chosen(kind, task: HumanTask, rows: list, kinds: dict, unit_order: list) -> list[tuple]:
    """(row, the review that followed it or None) pairs a task of `kind` rests on."""
    def latest(of_kinds, unit_id=None):
        return next((row for row in reversed(rows) if kinds.get(row.element_id) in of_kinds
                     and (unit_id is None or row.unit_id == unit_id)), None)

    if kind == "approve":
        draft = latest(("draft",))
        return [(draft, None)] if draft else []
    if kind in ("review", "report", "reply"):  # the report under review, or the one sent back
        report = latest(REPORTS, task.unit_id)
        return [(report, None)] if report else []
    if kind == "urge":
        received = latest(("receive",), task.unit_id)
        return [(received, None)] if received else []
    if kind == "escalate":
        return [(row, None) for row in rows if kinds.get(row.element_id) == "urge" and row.unit_id == task.unit_id]
    if kind in ("signoff", "feedback", "satisfaction"):
        pairs = []
        for unit_id in unit_order:
            report = latest(REPORTS, unit_id)
            if report is not None:
                review = next((row for row in rows if row.id > report.id and row.unit_id == unit_id
                               and kinds.get(row.element_id) == "review"), None)
                pairs.append((report, review))
        return pairs
    return []


# --- returns (退回) --------------------------------------------------------------------------------

def fresh_decision(form: dict | None, data: dict) -> None:
    """A decision and its reason are taken at the step that shows them: an earlier step's (同意, or 退回 and
    why) never fills in this form's, where it would pass for this person's own."""
    for field in formjs.fields(form):
        if field["key"] in (DECISION, REASON):
            data.pop(field["key"], None)


def require_reason(form: dict | None, data: dict) -> None:
    """A step that sends work back says why, when its form has the field to say it in: the reason is what
    the next person reads above their form (FormInvalid on that field otherwise)."""
    if _returns("completed", data) and not str(data.get(REASON) or "").strip() \
            and any(field["key"] == REASON for field in formjs.fields(form)):
        message = text("basis.reason_required")
        raise FormInvalid(message, [{"field": REASON, "message": message}])


# --- the notice of a return --------------------------------------------------------------------

def return_notice(ctx, completed: HumanTask | None, created: HumanTask) -> tuple[str, str] | None:
    """(title, body) of the notification for a task that exists because `completed` sent work back, with
    the reason, who and when; None when it did not."""
    if completed is None or not _returns("completed", completed.data) \
            or completed.unit_id not in (None, created.unit_id):
        return None
    reason = _reason(completed.data)
    by = names(ctx.session).signed(ctx.actor.username if ctx.actor else None)
    local = ctx.now.astimezone(CHINA)
    title = text("basis.return_title", step=created.name, item=ctx.item.title if ctx.item else completed.name)
    body = text("basis.return_line", reason=reason, by=by,
                at=f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}")
    return title, body
