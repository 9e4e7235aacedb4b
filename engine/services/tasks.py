"""Tasks (待办): the inbox, one task with its form, claiming and completing."""
from __future__ import annotations

from functools import lru_cache

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm.exc import StaleDataError

from .. import forms as formjs
from ..access import Actor, can_work, is_candidate, tasks_visible, tasks_workable
from ..db import retrying
from ..domain.items import light
from ..errors import Conflict, Forbidden, NotFound, StaleInstance, TaskAlreadyCompleted
from ..models import HumanTask, Instance, Item, Unit, User
from ..texts import text
from . import definitions, dossier, files, ledger, org, process, views


def list_tasks(duban, actor: Actor, instance_id: int | None = None, scope: str | None = None,
               page: int = 1, per_page: int = 50) -> tuple[list[dict], int]:
    """Open tasks the caller may work on: their own, their unit's, their role's."""
    # A page, and its count only when the page is full: statements of their own (db.lookup), as a
    # person paging through the inbox sees it, without a transaction's BEGIN and COMMIT round trips.
    with duban.db.lookup() as connection:
        page = max(page, 1)
        query, count = _inbox_queries(actor, instance_id is not None, scope)
        params = {"offset": (page - 1) * per_page, "limit": per_page}
        if instance_id is not None:
            params["instance_id"] = instance_id
        rows = connection.execute(query, params).all()
        total = ledger.page_total(connection, count, page, per_page, len(rows), params)
        now = duban.clock.now()
        return [_with_light(duban, now, views.task(row, {row.unit_id: row.unit_name},
                                                   {row.assignee: row.assignee_name}), row.item_title)
                for row in rows], total


@lru_cache(maxsize=1024)
def _inbox_queries(actor: Actor, by_instance: bool, scope: str | None) -> tuple:
    """The inbox's page and count statements for one person and kind of filter, built once (the
    inbox is asked for on every step of a path): the instance, the page's offset and its length are
    parameters."""
    where = [tasks_workable(actor)]
    if by_instance:
        where.append(HumanTask.instance_id == bindparam("instance_id"))
    if scope == "mine":
        where.append(HumanTask.assignee == actor.username)
    elif scope == "unit":
        where.append(HumanTask.unit_id == actor.unit_id)
    # Counted and cut in SQL (an inbox of thousands is never loaded whole); ties broken by id. The
    # page is cut first, from the columns the inbox shows, and only its rows are joined to their
    # unit's, item's and assignee's names.
    cut = (select(*[getattr(HumanTask, name) for name in _INBOX_COLUMNS]).where(*where)
           .order_by(*_inbox_order(HumanTask)).offset(bindparam("offset")).limit(bindparam("limit"))
           .subquery("page"))
    query = (select(cut, Unit.name.label("unit_name"), Item.title.label("item_title"),
                    User.display_name.label("assignee_name"))
             .outerjoin(Unit, Unit.id == cut.c.unit_id).outerjoin(Item, Item.id == cut.c.item_id)
             .outerjoin(User, User.username == cut.c.assignee).order_by(*_inbox_order(cut.c)))
    return query, select(func.count()).select_from(HumanTask).where(*where)


# What views.task reads of a task (not its form's input and data).
_INBOX_COLUMNS = ("id", "name", "element_id", "instance_id", "item_id", "lane", "role", "unit_id", "assignee",
                  "state", "due_at", "created_at", "completed_at", "completed_by", "form_key")


def _inbox_order(columns) -> list:
    return [columns.due_at.asc().nulls_last(), columns.created_at, columns.id]


def _with_light(duban, now, task: dict, item_title: str | None) -> dict:
    """The inbox row: the item it serves and how close its due date is (green/yellow/red)."""
    task["item_title"] = item_title
    # The window counts from the task's creation: a 1-working-day 拟办 is not 预警 the moment it appears.
    task["light"] = light(duban.calendar, task["due_at"], now, duban.settings.yellow_workdays,
                          since=task["created_at"]) if task["due_at"] else "green"
    return task


def get_task(duban, actor: Actor, task_id: str) -> dict:
    """One task with its form-js schema and the data the form starts from."""
    with duban.db.reading() as session:
        task = _visible_task(session, actor, task_id)
        instance = session.get(Instance, task.instance_id)
        definition = definitions.record(duban, session, instance.definition_id)
        item = session.get(Item, task.item_id) if task.item_id else None
        who = dossier.names(session)
        result = _with_light(duban, duban.clock.now(), views.task(task, who.units, who.users),
                             item.title if item else None)
        result["form"] = definition.forms.get(task.form_key) if task.form_key else None
        # A finished task's form shows what it showed its worker (read-only fields, texts) and what they sent.
        result["data"] = (_form_data(session, task, result["form"]) if task.state == "open"
                          else {**(task.input or {}), **(task.data or {})})
        result["can_work"] = task.state == "open" and can_work(actor, task)
        result["basis"] = dossier.task_basis(duban, session, actor, task, item, who)
        result["completed_by_name"] = who.person(task.completed_by) if task.completed_by else None
        return result


def _form_data(session, task: HumanTask, form: dict | None) -> dict:
    """What the form shows: the workflow's data when the task began, plus the options forms draw on."""
    data = dict(task.input or {})
    dossier.fresh_decision(form, data)
    data["unit_options"] = org.unit_options(session)
    return data


def _options(session, form: dict | None) -> dict:
    """The choices of fields that take them from data (form-js `valuesKey`)."""
    keys = {field.get("valuesKey") for field in formjs.fields(form)}
    return {"unit_options": org.unit_options(session)} if "unit_options" in keys else {}


def _visible_task(session, actor: Actor, task_id: str) -> HumanTask:
    """The task if this person may open it (access.tasks_visible), else NotFound: one query whether it
    is missing or hidden, so neither the answer nor its timing tells a secret item's task apart."""
    task = session.scalars(select(HumanTask).where(HumanTask.id == task_id, tasks_visible(actor))).one_or_none()
    if task is None:
        raise NotFound(text("task.not_found", id=task_id))
    return task



def claim_task(duban, actor: Actor, task_id: str) -> dict:
    with duban.db.transaction() as session:
        task = _task_for_change(session, actor, task_id)
        if task.assignee and task.assignee != actor.username:
            raise TaskAlreadyCompleted(text("task.claimed_by", assignee=task.assignee))
        task.assignee, task.claimed_at = actor.username, duban.clock.now()
        ctx = process.context(duban, session, actor)
        _workable(process.lock_instance(ctx, task.instance_id))
        process.record(ctx, "claimed", element_id=task.element_id, task_id=task.id, name=task.name,
                       unit_id=task.unit_id)
    return get_task(duban, actor, task_id)


def _workable(instance: Instance) -> None:
    # An incident (error) stops only the failed step; people may go on with their tasks.
    if instance.status not in ("running", "error"):
        raise Conflict(text("task.instance_stopped", status=text(f"task.instance_status.{instance.status}")))


def unclaim_task(duban, actor: Actor, task_id: str) -> dict:
    with duban.db.transaction() as session:
        task = _task_for_change(session, actor, task_id)
        if task.assignee == actor.username and task.role is not None:
            task.assignee, task.claimed_at = None, None
    return get_task(duban, actor, task_id)


def _task_for_change(session, actor: Actor, task_id: str) -> HumanTask:
    task = _visible_task(session, actor, task_id)
    if task.state != "open":
        raise TaskAlreadyCompleted(text(f"task.already.{task.state}"))
    if not is_candidate(actor, task):
        raise Forbidden(text("task.other_role"))
    return task


@retrying
def complete_task(duban, actor: Actor, task_id: str, data: dict) -> dict:
    """Validate the submission against the task's form, complete it, and move the process on."""
    try:
        with duban.db.step() as session:
            ctx = process.context(duban, session, actor)
            # Read under the instance's lock: another transaction may have completed it meanwhile.
            # (On SQLite a competing commit makes this step's write fail, and it reruns.)
            task = process.lock_for_task(ctx, task_id)
            if task is None:
                raise NotFound(text("task.not_found", id=task_id))
            _workable(ctx.instance)
            if task.state != "open":
                raise TaskAlreadyCompleted(text(f"task.already.{task.state}"))
            if not can_work(actor, task):
                raise Forbidden(text("task.other_person"))
            form = ctx.definition.forms.get(task.form_key) if task.form_key else None
            cleaned = formjs.validate(form, data, _options(session, form), task.input)
            dossier.require_reason(form, cleaned)
            for key, ids in formjs.submitted_files(form, cleaned).items():  # 佐证材料 join the task's item
                files.claim(duban, session, actor, key, ids, task.item_id)
            ctx.hooks.before_complete(ctx, task, cleaned)
            process.complete_task_row(ctx, task, actor.username, cleaned)
            process.record(ctx, "completed", element_id=task.element_id, task_id=task.id, name=task.name,
                           unit_id=task.unit_id, data=cleaned)
            run = process.load(ctx)
            run.complete(task.id, cleaned)
            process.save(ctx, run, completed=task)
    except StaleDataError:
        raise StaleInstance(text("step.conflict")) from None
    return {"id": task_id, "state": "completed", "instance_id": task.instance_id}
