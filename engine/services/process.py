"""Running one operation on an instance and writing everything it changed, in the caller's transaction.

Each operation loads the workflow, changes it, and then brings the projections users query
(tasks, timers, history, the item) in line with the new state before the one commit.
"""
from __future__ import annotations

import weakref
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache, partial
from itertools import groupby
from operator import itemgetter

from sqlalchemy import Column, MetaData, Table, bindparam, event, or_, select, update
from sqlalchemy.orm import Session, joinedload

from ..access import Actor, tasks_visible
from ..bootstrap import Duban
from ..bpmn.runtime import ProcessRun
from ..db import on_postgres, rows_params, rows_select
from ..domain.roles import UNIT
from ..errors import NotFound, ProcessError
from ..models import Definition, HumanTask, Instance, Item, Timer
from ..texts import text
from . import audit, definitions, dossier, external_tasks, folding, notifications
from .history import record
from .hooks import Hooks, generic_functions


@dataclass
class ProcessContext:
    """One operation's view of the world: the session, the clock's reading, who acts, on what."""

    duban: Duban
    session: Session
    now: datetime
    actor: Actor | None = None
    instance: Instance | None = None
    item: Item | None = None
    definition: Definition | None = None
    # The instance's open tasks as read under its lock ({id: row}); None: read them when projecting.
    open_tasks: dict | None = None
    # Its waiting timers likewise (a batch of timer firings reads them for all its instances at once).
    waiting_timers: dict | None = None
    # Created by this operation: it has no tasks or timers to read yet.
    new_instance: bool = False

    @property
    def hooks(self) -> Hooks:
        return self.duban.hooks.for_definition(self.definition)

    def functions(self) -> dict:
        """The engine functions a step's scripts may call. They run here, during the step, and
        never flush: a flush would take SQLite's write lock while the designer's code runs."""
        offered = {**generic_functions(self), **self.hooks.functions(self)}
        return {name: _without_flush(self.session, function) for name, function in offered.items()}


def _without_flush(session: Session, function):
    def call(*args, **kwargs):
        with session.no_autoflush:
            return function(*args, **kwargs)
    return call


def context(duban: Duban, session: Session, actor: Actor | None = None) -> ProcessContext:
    return ProcessContext(duban=duban, session=session, now=duban.clock.now(), actor=actor)


def lock_instance(ctx: ProcessContext, instance_id: int) -> Instance:
    """The instance row, locked for this transaction where the database can (PostgreSQL)."""
    # The item whose own instance this is comes in the same query (one round trip per step).
    query = (select(Instance, Item).outerjoin(Item, Item.instance_id == Instance.id)
             .where(Instance.id == instance_id).execution_options(populate_existing=True))
    postgres = on_postgres(ctx.session)
    if postgres:
        query = query.with_for_update(of=Instance)
    row = ctx.session.execute(query).one_or_none()
    if row is None:
        raise NotFound(text("instance.not_found", id=instance_id))
    instance, own_item = row
    if postgres:
        folding.locked(ctx.session, instance)
    ctx.instance, ctx.definition = instance, definitions.record(ctx.duban, ctx.session, instance.definition_id)
    ctx.item = ctx.item or own_item or ctx.hooks.item_of(ctx)
    return instance


def lock_for_task(ctx: ProcessContext, task_id: str) -> HumanTask | None:
    """The task, if this person may open it (access.tasks_visible), with its instance locked for this
    transaction (PostgreSQL) and read under the lock: the task, the instance's other open tasks and its
    item with the item's units, in one more query. None when the task is missing or hidden (one query
    decides, the same for both)."""
    postgres = on_postgres(ctx.session)
    instance = ctx.session.scalars(_instance_of_task(ctx.actor, postgres), {"task_id": task_id}).one_or_none()
    if instance is None:
        return None
    if postgres:
        folding.locked(ctx.session, instance)
    rows = ctx.session.execute(_TASKS_WITH_ITEM, {"instance_id": instance.id, "task_id": task_id}).unique().all()
    ctx.instance, ctx.definition = instance, definitions.record(ctx.duban, ctx.session, instance.definition_id)
    task = next((row for row, _ in rows if row.id == task_id), None)
    if task is None:
        return None
    ctx.open_tasks = {row.id: row for row, _ in rows if row.state == "open"}
    item = next((item for row, item in rows if row.id == task_id), None)
    # A task serves its instance's item (ctx.item when it was created); without one, ask as lock_instance does.
    ctx.item = ctx.item or item or ctx.hooks.item_of(ctx)
    return task


@lru_cache(maxsize=1024)
def _instance_of_task(actor: Actor, postgres: bool):
    """The instance of a task this person may open (built once per person: its cache key is kept)."""
    task_instance = select(HumanTask.instance_id).where(HumanTask.id == bindparam("task_id"),
                                                        tasks_visible(actor)).scalar_subquery()
    query = select(Instance).where(Instance.id == task_instance).execution_options(populate_existing=True)
    return query.with_for_update(of=Instance) if postgres else query


# Read after the lock (PostgreSQL: a fresh snapshot, so a task another step completed meanwhile is seen so).
_TASKS_WITH_ITEM = (
    select(HumanTask, Item).outerjoin(Item, Item.id == HumanTask.item_id)
    .where(HumanTask.instance_id == bindparam("instance_id"),
           or_(HumanTask.state == "open", HumanTask.id == bindparam("task_id")))
    .options(joinedload(Item.units)).execution_options(populate_existing=True)
)


def start(ctx: ProcessContext, definition: Definition, data: dict, message: tuple | None = None) -> Instance:
    """A new instance of `definition` (started by `message`, (name, payload), when given)."""
    definition = ctx.definition = definitions.record(ctx.duban, ctx.session, definition.id)
    run = ctx.duban.runtime.start(definition, data, ctx.functions(), message)  # before any write (see db.step)
    if ctx.item is not None:
        ctx.session.add(ctx.item)
    instance = Instance(
        definition_id=definition.id, definition_key=definition.key, status="running", state="",
        data={}, trail=[], started_by=ctx.actor.username if ctx.actor else None,
        started_at=ctx.now, updated_at=ctx.now, version=1,
    )
    ctx.session.add(instance)
    ctx.session.flush()
    if on_postgres(ctx.session):
        folding.locked(ctx.session, instance)  # a row this transaction inserted: no one else sees it yet
    ctx.instance, ctx.new_instance, ctx.open_tasks = instance, True, {}
    if ctx.item is not None and ctx.item.instance_id is None:
        ctx.item.instance_id = instance.id  # the item's own instance (not one serving it, as an extension)
    record(ctx, "started", data=data)
    save(ctx, run)
    return instance


def load(ctx: ProcessContext) -> ProcessRun:
    instance = ctx.instance

    def state():
        with ctx.session.no_autoflush:  # read while the step runs: no write lock (see functions)
            _settle_states(ctx.session, only=instance)
            return instance.state

    return ctx.duban.runtime.load(ctx.definition, state, ctx.functions(), instance.id, instance.version)


def complete_task_row(ctx: ProcessContext, task: HumanTask, username: str, data: dict) -> None:
    """Mark the task completed by `username` with `data`; written with the rest of the step at commit
    (PostgreSQL: in the audit statement, see folding.fold), not now: on SQLite a write takes the one
    write lock, which the designer's code would then hold while it runs."""
    task.state, task.completed_at, task.completed_by = "completed", ctx.now, username
    task.assignee, task.data = task.assignee or username, data


def save(ctx: ProcessContext, run: ProcessRun, completed: HumanTask | None = None) -> None:
    """Store the new state and bring tasks, timers, history and the item in line with it."""
    instance = ctx.instance
    # The state is taken at the next flush (_settle_states), or on PostgreSQL as the commit's audit
    # statement is sent (folding.fold): the step process serialises it meanwhile.
    ctx.session.info.setdefault(_STATES, {})[instance] = run.dumps
    instance.data = run.data()
    instance.trail = [*instance.trail, *run.log.passed]
    instance.updated_at = ctx.now
    if run.completed:
        instance.status, instance.ended_at = "completed", ctx.now
    elif instance.status == "error":
        instance.status, instance.error = "running", None
    human_tasks, waiting_timers = run.projection()
    external = [view for view in human_tasks if view.kind == "external"]
    human_tasks = [view for view in human_tasks if view.kind != "external"]
    created = _project_tasks(ctx, human_tasks, completed)
    external_tasks.project(ctx, external)
    _project_timers(ctx, run, waiting_timers)
    if run.completed:
        record(ctx, "completed_instance")
    ctx.hooks.after_step(ctx, run, created, {view.element_id for view in human_tasks})
    if not run.completed:
        ctx.session.info.setdefault("duban_live", []).append((instance, run))


_STATES = "duban_states"


@event.listens_for(Session, "before_flush")
def _settle_states(session: Session, *flushing, only: Instance | None = None) -> None:
    """Give the instances saved in this transaction their new state (the step process sends it after
    the rest of the step's result, and serialises it while tasks, history and notifications are
    projected here): before anything is flushed, or before `only`'s state is read again."""
    pending = session.info.get(_STATES)
    if not pending:
        return
    for instance in [only] if only is not None else list(pending):
        take = pending.pop(instance, None)
        if take is not None:
            instance.state = take()


@event.listens_for(Session, "after_rollback")
def _drop_states(session: Session) -> None:
    session.info.pop(_STATES, None)


@folding.step_fold
def _fold_writes(session: Session) -> None:
    folding.fold(session, session.info.get(_STATES, {}))


def _project_tasks(ctx: ProcessContext, views: list, completed: HumanTask | None) -> list[HumanTask]:
    session, instance = ctx.session, ctx.instance
    open_rows = _open_tasks(ctx)
    elements = ctx.definition.elements.get("human_tasks", {})
    created = []
    current = {view.id for view in views}
    for view in views:
        if view.id in open_rows:
            continue
        info = elements.get(view.element_id, {})
        role = info.get("role")
        unit = view.unit or info.get("unit")  # the branch's unit, or the one a lane declares (duban:unit)
        if role == UNIT and unit is None:
            raise ProcessError(text("process.unit_lane_no_unit", task=view.name))
        row = HumanTask(
            id=view.id, instance_id=instance.id, item_id=ctx.item.id if ctx.item else None,
            element_id=view.element_id, name=view.name, lane=info.get("lane"), role=role,
            unit_id=unit,
            assignee=instance.started_by if role is None else None,
            form_key=info.get("form"), state="open", created_at=ctx.now, input=view.data,
        )
        row.due_at = ctx.hooks.task_due(ctx, row)
        session.add(row)
        created.append(row)
        title, body = dossier.return_notice(ctx, completed, row) or (
            f"新待办：{row.name}" + (f" —— {ctx.item.title}" if ctx.item else ""), "")
        notifications.notify_candidates(ctx, row, "task", title, body, task_id=row.id)
        record(ctx, "task_created", element_id=view.element_id, task_id=view.id, name=view.name,
                 unit_id=row.unit_id)
    for task_id, row in open_rows.items():
        if task_id in current:
            continue
        if completed is not None and task_id == completed.id:
            continue
        row.state = "cancelled"
        row.completed_at = ctx.now
        record(ctx, "task_cancelled", element_id=row.element_id, task_id=row.id, name=row.name,
                 unit_id=row.unit_id)
    return created


def _open_tasks(ctx: ProcessContext) -> dict:
    if ctx.open_tasks is None:
        return _pending_aware(ctx.session, HumanTask, ctx.instance, "open")
    rows = [*ctx.open_tasks.values(), *(row for row in ctx.session.new
                                       if isinstance(row, HumanTask) and row.instance_id == ctx.instance.id)]
    return {row.id: row for row in rows if row.state == "open"}


def _waiting_timers(ctx: ProcessContext) -> dict:
    if ctx.waiting_timers is None:
        return _pending_aware(ctx.session, Timer, ctx.instance, "waiting")
    rows = [*ctx.waiting_timers.values(), *(row for row in ctx.session.new
                                           if isinstance(row, Timer) and row.instance_id == ctx.instance.id)]
    return {row.id: row for row in rows if row.state == "waiting"}


def _pending_aware(session, model, instance: Instance, state: str) -> dict:
    """The instance's rows of `model` in `state`, read without flushing the step's changes first
    (they all go out in one flush at commit): rows this transaction added or changed are taken as
    they stand in memory."""
    with session.no_autoflush:
        rows = list(session.scalars(select(model).where(model.instance_id == instance.id, model.state == state)))
    rows += [row for row in session.new if isinstance(row, model) and row.instance_id == instance.id]
    return {row.id: row for row in rows if row.state == state}


def _project_timers(ctx: ProcessContext, run: ProcessRun, views: list) -> None:
    session, instance = ctx.session, ctx.instance
    fired = {timer.id: timer for timer in run.log.fired_timers}
    for timer in fired.values():
        record(ctx, "timer_fired", element_id=timer.element_id, task_id=timer.id, name=timer.name)
    known = _known_timers(ctx)
    if known is None:
        waiting = _project_timer_rows(ctx, views, fired)
    else:
        waiting = _project_timer_diff(ctx, views, fired, known)
    for timer_id in set(fired) - set(waiting):
        # Armed and fired within this one operation (its due time had passed): keep a trace.
        if session.get(Timer, timer_id) is None:
            timer = fired[timer_id]
            session.add(Timer(id=timer_id, instance_id=instance.id, element_id=timer.element_id, name=timer.name,
                              unit_id=None, due_at=ctx.now, state="fired", created_at=ctx.now, fired_at=ctx.now))
    session.info.setdefault(_TIMERS_PENDING, {})[instance.id] = (instance, {v.id: v.due_at for v in views})


def _new_timer(ctx: ProcessContext, view) -> Timer:
    return Timer(id=view.id, instance_id=ctx.instance.id, element_id=view.element_id, name=view.name,
                 unit_id=view.unit, due_at=view.due_at, state="waiting", created_at=ctx.now)


def _project_timer_rows(ctx: ProcessContext, views: list, fired: dict) -> dict:
    """The waiting timers as the database holds them, brought in line with `views`."""
    waiting = _waiting_timers(ctx)
    seen = set()
    for view in views:
        seen.add(view.id)
        row = waiting.get(view.id)
        if row is None:
            ctx.session.add(_new_timer(ctx, view))
        elif row.due_at != view.due_at:
            row.due_at = view.due_at
    for timer_id, row in waiting.items():
        if timer_id not in seen:
            row.state = "fired" if timer_id in fired else "cancelled"
            row.fired_at = ctx.now if timer_id in fired else None
    return waiting


def _project_timer_diff(ctx: ProcessContext, views: list, fired: dict, known: dict) -> dict:
    """The same, from what the instance's last step left waiting ({id: due}), not read again: new timers
    inserted, moved and ended ones changed by id at commit (one executemany each)."""
    moved, ended = [], []
    for view in views:
        if view.id not in known:
            ctx.session.add(_new_timer(ctx, view))
        elif known[view.id] != view.due_at:
            moved.append({"b_id": view.id, "b_due_at": view.due_at})
    current = {view.id for view in views}
    for timer_id in known.keys() - current:
        ended.append({"b_id": timer_id, "b_state": "fired" if timer_id in fired else "cancelled",
                      "b_fired_at": ctx.now if timer_id in fired else None})
    queued = ctx.session.info.setdefault(_TIMER_WRITES, [])
    if moved:
        queued.append((_MOVED, moved))
    if ended:
        queued.append((_ENDED, ended))
    return known


# The waiting timers each instance's last committed step left ({id: due}), by database engine and
# instance, with the instance's version then: the next step on that version need not read them. A
# version another process wrote (or none known) reads them as before.
_TIMERS_KNOWN: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_TIMERS_KEPT = 4096
_TIMERS_PENDING = "duban_timers_left"
_TIMER_WRITES = "duban_timer_writes"
_TIMERS = Timer.__table__
# The two writes to timers a step knew, each a waiting timer's row by id: moved (a new due time) and
# ended (fired or cancelled). Their rows are {b_id, b_<column>} for the columns each sets ("b_": an
# UPDATE reserves its columns' names for its own parameters), sent as an executemany (_TIMER_UPDATES)
# or along the audit records as one UPDATE … FROM the rows (_timers_from_rows).
_MOVED, _ENDED = ("due_at",), ("state", "fired_at")
_TIMER_UPDATES = {columns: update(_TIMERS).where(_TIMERS.c.id == bindparam("b_id"), _TIMERS.c.state == "waiting")
                  .values({name: bindparam(f"b_{name}") for name in columns}) for columns in (_MOVED, _ENDED)}
_TIMER_ROWS = Table("timer_rows", MetaData(),
                    *(Column(name, _TIMERS.c[name].type) for name in ("id", *_MOVED, *_ENDED)))


def _known_timers(ctx: ProcessContext) -> dict | None:
    pending = ctx.session.info.get(_TIMERS_PENDING, {}).get(ctx.instance.id)
    if pending is not None:  # saved before in this transaction
        return dict(pending[1])
    if ctx.new_instance:
        return {}
    entry = _TIMERS_KNOWN.get(ctx.duban.db.engine, {}).get(ctx.instance.id)
    return dict(entry[1]) if entry is not None and entry[0] == ctx.instance.version else None


def _write_timers(session: Session) -> None:
    writes = session.info.pop(_TIMER_WRITES, None)
    if not writes:
        return
    added = {row.id for row in session.new if isinstance(row, Timer)}
    if any(row["b_id"] in added for _, rows in writes for row in rows):
        session.flush()  # timers this transaction added first: a later step of it ends or moves them
    elif folding.one_step(session) and all(_timers_along(session, columns, rows) for columns, rows in writes):
        return  # PostgreSQL: in the audit statement (a WITH clause sees no row its siblings insert: none here)
    with session.no_autoflush:  # else the flush comes last, at the commit (see history.write_pending)
        # A batch's instances queue theirs one after another: one executemany for a run of the same
        # statement (psycopg pipelines it, one round trip in all), in the order they were queued.
        for columns, runs in groupby(writes, key=itemgetter(0)):
            session.execute(_TIMER_UPDATES[columns], [row for _, rows in runs for row in rows])


def _timers_along(session: Session, columns: tuple, rows: list[dict]) -> bool:
    """Queue the rows of a timer write (_MOVED or _ENDED) with the audit records (audit.along), as one
    UPDATE … FROM the rows; False when they do not go along (the caller then sends them)."""
    named = ("id", *columns)
    return audit.along(session, (columns, len(rows)), partial(_timers_from_rows, columns, len(rows)),
                       lambda: rows_params([{name: row[f"b_{name}"] for name in named} for row in rows], named))


def _timers_from_rows(columns: tuple, count: int, prefix: str):
    given = rows_select(_TIMER_ROWS, ("id", *columns), count, prefix).subquery("given")
    return (update(_TIMERS).where(_TIMERS.c.id == given.c.id, _TIMERS.c.state == "waiting")
            .values({name: given.c[name] for name in columns}))


def _remember_timers(session: Session) -> None:
    left = session.info.pop(_TIMERS_PENDING, None)
    if not left:
        return
    for instance, waiting in left.values():
        engine = session.get_bind()
        known = _TIMERS_KNOWN.setdefault(getattr(engine, "_proxied", engine), OrderedDict())
        known[instance.id] = (instance.version, waiting)
        known.move_to_end(instance.id)
        while len(known) > _TIMERS_KEPT:
            known.popitem(last=False)


def _forget_timers(session: Session) -> None:
    session.info.pop(_TIMERS_PENDING, None)
    session.info.pop(_TIMER_WRITES, None)


event.listen(Session, "before_commit", _write_timers, insert=True)
event.listen(Session, "after_commit", _remember_timers)
event.listen(Session, "after_rollback", _forget_timers)
