"""External tasks (外部任务): service tasks a worker outside the engine fetches, locks and completes,
as Camunda 7's external tasks (its REST shapes are web/api/external_tasks.py's).

Who: only service accounts holding the `worker` role, each for the topics it was given
(`duban user worker`), and only for instances serving items it is cleared for (保密, engine/access.py):
an uncleared worker never fetches such a task and gets 404 for its id. Each call is one transaction;
fetching locks the rows it hands out (PostgreSQL: FOR UPDATE SKIP LOCKED; SQLite: BEGIN IMMEDIATE
serialises writers), so two workers never get the same task. A lock that expires makes the task
fetchable again, and its old holder may no longer complete, fail or extend it.

Variables: a task hands out only what its service task declares (`duban:variables`, Camunda's
input parameters; engine/bpmn/external.py), none when it declares nothing; a fetch's `variables` list
narrows that further (without it, all the declared ones). Connector tasks read their row's input directly.
"""
from __future__ import annotations

import json
import re
import threading
import time
from datetime import timedelta

from sqlalchemy import and_, false, or_, select, update

from .. import forms as formjs, untrusted
from ..access import Actor, instances_cleared
from ..bpmn.external import handed_out
from ..db import on_postgres
from ..domain.roles import DESIGNER, OFFICE, SYSTEM_ADMINS, WORKER
from ..errors import Conflict, Forbidden, InvalidInput, NotFound, ProcessError
from ..models import Definition, ExternalTask, Instance, WorkerTopic
from ..texts import text
from . import process

# Instances whose tasks may be fetched: an incident elsewhere in the instance does not stop its workers.
FETCHABLE_STATUS = ("running", "error")
OPERATORS = (*SYSTEM_ADMINS, OFFICE, DESIGNER)
_NAME = re.compile(r"^[A-Za-z\u3400-\u9fff][A-Za-z0-9_\u3400-\u9fff]{0,199}$")
_INT32 = 2**31


# -- the projection (called by process.save in every step) -------------------------------------

def project(ctx, views: list) -> None:
    """Bring the instance's open external tasks in line with the step's READY external tasks."""
    elements = (ctx.definition.elements or {}).get("external_tasks") or {}
    if not views and not elements:
        return  # a definition without service tasks: no query
    open_rows = process._pending_aware(ctx.session, ExternalTask, ctx.instance, "open")
    current = {view.id for view in views}
    for view in views:
        if view.id in open_rows:
            continue
        ctx.session.add(ExternalTask(
            id=view.id, instance_id=ctx.instance.id, item_id=ctx.item.id if ctx.item else None,
            definition_key=ctx.instance.definition_key, element_id=view.element_id, name=view.name,
            topic=(elements.get(view.element_id) or {}).get("topic") or view.element_id, state="open",
            priority=(elements.get(view.element_id) or {}).get("priority") or 0, created_at=ctx.now, input=view.data))
        process.record(ctx, "external_task_created", element_id=view.element_id, task_id=view.id, name=view.name)
    for task_id, row in open_rows.items():
        if task_id not in current:
            row.state, row.ended_at = "cancelled", ctx.now
            process.record(ctx, "external_task_cancelled", element_id=row.element_id, task_id=row.id, name=row.name)


# -- service accounts ------------------------------------------------------------------------

def topics_of(session, actor: Actor) -> set:
    if not actor.has(WORKER):
        raise Forbidden(text("external.only_workers"))
    return set(session.scalars(select(WorkerTopic.topic).where(WorkerTopic.user_id == actor.id)))


# -- fetch and lock -----------------------------------------------------------------------------

_pollers: dict = {}
_pollers_lock = threading.Lock()


def fetch_and_lock(duban, actor: Actor, worker_id: str, max_tasks: int, topics: list, use_priority: bool = False,
                   async_response_timeout_ms: int | None = None, sorting: list | None = None) -> list[dict]:
    """Lock up to `max_tasks` open tasks of the topics for `worker_id` and describe them (Camunda's
    LockedExternalTaskDto). With `async_response_timeout_ms`, wait for one that long at most (capped
    by DUBAN_EXTERNAL_POLL_MAX_S), polling in short transactions; none held while waiting. `sorting`
    (Camunda's `[{"sortBy": "createTime", "sortOrder": "desc"}]`) may take the newest first."""
    worker_id = _worker_id(worker_id)
    newest_first = any(isinstance(s, dict) and s.get("sortBy") == "createTime" and s.get("sortOrder") == "desc"
                       for s in (sorting or [])[:1])
    topics = [_topic_request(topic) for topic in topics or []]
    with duban.db.reading() as session:
        allowed = topics_of(session, actor)
    for topic in topics:
        if topic["topicName"] not in allowed:
            raise Forbidden(text("external.topic_forbidden", username=actor.username, topic=topic["topicName"]))
    if max_tasks <= 0 or not topics:
        return []
    found = _fetch_once(duban, actor, worker_id, max_tasks, topics, use_priority, newest_first)
    wait_s = min((async_response_timeout_ms or 0) / 1000, duban.settings.external_poll_max_s)
    if found or wait_s <= 0 or not _poller_slot(duban, +1):
        return found
    try:
        deadline = time.monotonic() + wait_s
        while not found and time.monotonic() < deadline:
            time.sleep(min(0.5, max(0.0, deadline - time.monotonic())))
            found = _fetch_once(duban, actor, worker_id, max_tasks, topics, use_priority, newest_first)
        return found
    finally:
        _poller_slot(duban, -1)


def _poller_slot(duban, change: int) -> bool:
    """Take (+1) or give back (-1) one of this process's long-polling places; False when all are taken."""
    with _pollers_lock:
        held = _pollers.get(id(duban), 0)
        if change > 0 and held >= duban.settings.external_pollers:
            return False
        _pollers[id(duban)] = held + change
        return True


def _fetch_once(duban, actor, worker_id, max_tasks, topics, use_priority, newest_first=False) -> list[dict]:
    with duban.db.transaction() as session:
        now = duban.clock.now()
        query = (select(ExternalTask, Instance.status).join(Instance, Instance.id == ExternalTask.instance_id)
                 .where(ExternalTask.state == "open", Instance.status.in_(FETCHABLE_STATUS),
                        or_(ExternalTask.retries.is_(None), ExternalTask.retries > 0),
                        or_(ExternalTask.retry_at.is_(None), ExternalTask.retry_at <= now),
                        or_(ExternalTask.lock_expires_at.is_(None), ExternalTask.lock_expires_at <= now),
                        or_(*(_topic_clause(topic) for topic in topics)) if topics else false(),
                        instances_cleared(actor)))
        order = [ExternalTask.priority.desc()] if use_priority else []
        age = [ExternalTask.created_at.desc(), ExternalTask.id.desc()] if newest_first else [
            ExternalTask.created_at, ExternalTask.id]
        query = query.order_by(*order, *age).limit(max_tasks)
        if on_postgres(session):
            query = query.with_for_update(of=ExternalTask, skip_locked=True)
        rows = [row for row, _status in session.execute(query)]
        by_topic = {topic["topicName"]: topic for topic in topics}
        declared = _declarations(session, rows)
        locked = []
        for row in rows:
            row.worker_id = worker_id
            row.lock_expires_at = now + timedelta(milliseconds=by_topic[row.topic]["lockDuration"])
            locked.append(_locked_view(row, by_topic[row.topic], declared.get((row.instance_id, row.element_id))))
        return locked


def _declarations(session, rows) -> dict:
    """{(instance id, element id): the variables its service task hands out} of the rows' definitions."""
    if not rows:
        return {}
    elements = dict(session.execute(
        select(Instance.id, Definition.elements).join(Definition, Definition.id == Instance.definition_id)
        .where(Instance.id.in_({row.instance_id for row in rows}))).all())
    return {(row.instance_id, row.element_id):
            (((elements.get(row.instance_id) or {}).get("external_tasks") or {}).get(row.element_id) or {})
            .get("variables") for row in rows}


def _topic_clause(topic: dict):
    """A topic's filters, as Camunda's (a filter Duban cannot apply is refused, never ignored: ignoring
    one would hand a worker more than it asked for). A definition's id is its key here; nothing has a
    tenant or a version tag, so asking for one finds nothing."""
    clause = [ExternalTask.topic == topic["topicName"]]
    for single, many in (("processDefinitionKey", "processDefinitionKeyIn"), ("processDefinitionId",
                                                                               "processDefinitionIdIn")):
        keys = list(topic.get(many) or []) + ([topic[single]] if topic.get(single) else [])
        if keys:
            clause.append(ExternalTask.definition_key.in_(keys))
    if topic.get("processInstanceId"):
        clause.append(ExternalTask.instance_id == _int(topic["processInstanceId"]))
    if topic.get("businessKey") is not None:
        clause.append(ExternalTask.item_id == _int(topic["businessKey"]))
    if topic.get("tenantIdIn") or topic.get("processDefinitionVersionTag"):
        clause.append(false())
    return and_(*clause)


def _int(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1


def _locked_view(row: ExternalTask, topic: dict, declared: dict | None) -> dict:
    """The task as handed to a worker: the variables its service task declares, narrowed to those the
    fetch names (`variables`; none named: all declared)."""
    view = describe(row)
    data = handed_out(declared, row.input or {})
    wanted = topic.get("variables")
    names = list(data) if wanted is None else [name for name in wanted if name in data]
    view["variables"] = {name: typed(data[name]) for name in names if not str(name).startswith("_")}
    return view


def describe(row: ExternalTask) -> dict:
    """Camunda's ExternalTaskDto of a row."""
    return {
        "id": row.id, "topicName": row.topic, "workerId": row.worker_id,
        "lockExpirationTime": _camunda_time(row.lock_expires_at), "processInstanceId": str(row.instance_id),
        "executionId": row.id, "activityId": row.element_id, "activityInstanceId": row.id,
        "processDefinitionId": row.definition_key, "processDefinitionKey": row.definition_key,
        "processDefinitionVersionTag": None, "tenantId": None, "businessKey": str(row.item_id) if row.item_id else None,
        "retries": row.retries, "errorMessage": row.error_message, "errorDetails": row.error_details,
        "suspended": False, "priority": row.priority, "createTime": _camunda_time(row.created_at),
        "extensionProperties": {}, "activityName": row.name, "state": row.state,
    }


def _camunda_time(moment) -> str | None:
    """Camunda's date format (2026-12-03T08:00:00.000+0000)."""
    return None if moment is None else moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


def typed(value) -> dict:
    """A variable in Camunda's typed-value form."""
    if value is None:
        return {"value": None, "type": "Null", "valueInfo": {}}
    if isinstance(value, bool):
        return {"value": value, "type": "Boolean", "valueInfo": {}}
    if isinstance(value, int):
        return {"value": value, "type": "Integer" if -_INT32 <= value < _INT32 else "Long", "valueInfo": {}}
    if isinstance(value, float):
        return {"value": value, "type": "Double", "valueInfo": {}}
    if isinstance(value, str):
        return {"value": value, "type": "String", "valueInfo": {}}
    return {"value": json.dumps(value, ensure_ascii=False), "type": "Json", "valueInfo": {}}


def untyped(variables: dict | None) -> dict:
    """Variables sent in Camunda's typed form ({"name": {"value", "type"}}) as plain values."""
    plain = {}
    for name, entry in (variables or {}).items():
        if not isinstance(name, str) or not _NAME.match(name):
            raise InvalidInput(text("external.bad_variable", name=name),
                               [{"field": "variables", "message": text("external.bad_variable", name=name)}])
        entry = entry if isinstance(entry, dict) else {"value": entry}
        value, kind = entry.get("value"), str(entry.get("type") or "")
        if kind.lower() in ("json", "object") and isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                raise InvalidInput(text("external.bad_value", name=name, type=kind)) from None
        plain[name] = value
    return plain


# -- a worker's answers -----------------------------------------------------------------------

def complete(duban, actor: Actor, task_id: str, worker_id: str, variables: dict | None = None,
             local_variables: dict | None = None) -> None:
    """The worker did the work: its variables join the process data and the instance moves on.
    Local variables end with the task (as in Camunda): kept in the history only."""
    data = process_data(duban, untyped(variables))
    local = untyped(local_variables)
    _answer(duban, actor, task_id, worker_id, "complete", data=data, local=local)


def bpmn_error(duban, actor: Actor, task_id: str, worker_id: str, error_code: str, error_message: str | None = None,
               variables: dict | None = None) -> None:
    """A business error: the task's error boundary event for `error_code` takes over. Without one the
    instance gets an incident (Duban never ends a 督办 silently, as Camunda 7 would)."""
    if not (error_code or "").strip():
        raise InvalidInput(text("field.required"), [{"field": "errorCode", "message": text("field.required")}])
    data = process_data(duban, untyped(variables))
    try:
        _answer(duban, actor, task_id, worker_id, "error", data=data, code=error_code.strip(),
                message=error_message)
    except _Uncaught as uncaught:
        _fail(duban, actor, task_id, worker_id, uncaught.message, None, 0, 0)


def process_data(duban, data: dict) -> dict:
    """The worker's variables, checked as a message's payload is (their size the API checks first)."""
    return formjs.validate(None, data)


class _Uncaught(Exception):
    def __init__(self, message):
        super().__init__(message)
        self.message = message


def _answer(duban, actor, task_id, worker_id, what, data, local=None, code=None, message=None) -> None:
    # A plain transaction, not an engine step that reruns when it loses a write race: on SQLite it takes
    # the write lock first, so workers fetching all the while (each fetch a write) cannot starve it.
    with duban.db.transaction() as session:
        row = _worker_row(session, actor, task_id)
        ctx = process.context(duban, session, actor)
        instance = process.lock_instance(ctx, row.instance_id)
        session.refresh(row)  # read again under the instance's lock: a concurrent answer is seen
        _check_lock(row, worker_id, ctx.now)
        if instance.status not in FETCHABLE_STATUS:
            raise Conflict(text("messages.instance_state", id=instance.id, status=instance.status))
        run = process.load(ctx)
        if what == "complete":
            run.complete(task_id, data)
            row.state = "completed"
            process.record(ctx, "external_task_completed", element_id=row.element_id, task_id=row.id,
                           name=row.name, data={"worker": worker_id, "variables": data, "local": local or {}})
        else:
            try:
                run.throw_error(task_id, code, data)
            except ProcessError as error:
                if text("external.error_uncaught", code=code, element=row.name) == error.message:
                    raise _Uncaught(error.message) from None
                raise
            row.state, row.error_message = "completed", untrusted.cap(message or code)
            process.record(ctx, "external_task_bpmn_error", element_id=row.element_id, task_id=row.id,
                           name=row.name, data={"worker": worker_id, "code": code, "message": message,
                                                "variables": data})
        row.ended_at, row.ended_by, row.lock_expires_at = ctx.now, worker_id, None
        process.save(ctx, run)


def fail(duban, actor: Actor, task_id: str, worker_id: str, error_message: str | None, error_details: str | None,
         retries: int | None, retry_timeout_ms: int | None) -> None:
    """The worker could not do it. Retries left: fetchable again after `retry_timeout_ms`. None left: an
    incident on the instance (the monitor shows it; an administrator's 重试 gives the task one more go)."""
    if retries is None or not isinstance(retries, int) or retries < 0:
        raise InvalidInput(text("external.bad_retries"),
                           [{"field": "retries", "message": text("external.bad_retries")}])
    timeout = _duration(retry_timeout_ms or 0, "retryTimeout", 0)
    _fail(duban, actor, task_id, worker_id, error_message, error_details, retries, timeout)


def _fail(duban, actor, task_id, worker_id, error_message, error_details, retries, retry_timeout_ms) -> None:
    with duban.db.transaction() as session:
        row = _worker_row(session, actor, task_id)
        ctx = process.context(duban, session, actor)
        instance = process.lock_instance(ctx, row.instance_id) if retries == 0 else None
        row = _locked_row(session, task_id)
        _check_lock(row, worker_id, ctx.now)
        row.retries, row.worker_id, row.lock_expires_at = retries, None, None
        row.error_message = untrusted.cap(error_message or "") or None
        row.error_details = error_details[:100_000] if isinstance(error_details, str) else None
        row.retry_at = ctx.now + timedelta(milliseconds=retry_timeout_ms) if retries else None
        said = {"worker": worker_id, "message": row.error_message, "retries": retries}
        if instance is None:
            ctx.instance = session.get(Instance, row.instance_id)
            process.record(ctx, "external_task_failed", element_id=row.element_id, task_id=row.id, name=row.name,
                           data=said)
            return
        message = untrusted.cap(text("external.failed", element=row.name, message=row.error_message or ""))
        instance.status, instance.error, instance.updated_at = "error", message, ctx.now
        process.record(ctx, "incident", element_id=row.element_id, task_id=row.id, name=row.name,
                       data={"error": message, **said})


def lock(duban, actor: Actor, task_id: str, worker_id: str, lock_duration_ms: int) -> None:
    """Lock one task by its id (Camunda's /lock): free, expired or already this worker's; locked by
    another worker it is a 409 and nothing changes."""
    duration = _duration(lock_duration_ms, "lockDuration")
    worker_id = _worker_id(worker_id)
    with duban.db.transaction() as session:
        _worker_row(session, actor, task_id)
        row = _locked_row(session, task_id)
        now = duban.clock.now()
        if row.state != "open":
            raise Conflict(text("external.not_open", id=task_id))
        if row.worker_id not in (None, worker_id) and row.lock_expires_at is not None and row.lock_expires_at > now:
            raise Conflict(text("external.locked_by_other", id=task_id))
        row.worker_id, row.lock_expires_at = worker_id, now + timedelta(milliseconds=duration)


def extend_lock(duban, actor: Actor, task_id: str, worker_id: str, new_duration_ms: int) -> None:
    """The lock's holder keeps the task longer: `new_duration_ms` from now."""
    duration = _duration(new_duration_ms, "newDuration")
    with duban.db.transaction() as session:
        _worker_row(session, actor, task_id)
        row = _locked_row(session, task_id)
        now = duban.clock.now()
        _check_lock(row, worker_id, now)
        row.lock_expires_at = now + timedelta(milliseconds=duration)


def unlock(duban, actor: Actor, task_id: str) -> None:
    """Let go of the lock (a worker with the topic, or a system administrator): fetchable again at once."""
    with duban.db.transaction() as session:
        if actor.has(*SYSTEM_ADMINS):
            _visible_row(session, actor, task_id, operator=True)
        else:
            _worker_row(session, actor, task_id)
        row = _locked_row(session, task_id)
        if row.state != "open":
            raise Conflict(text("external.not_open", id=task_id))
        row.worker_id, row.lock_expires_at = None, None


def reset_retries(session, instance_id: int) -> int:
    """The monitor's 重试 of an instance: its external tasks out of retries get one more (as Camunda's
    set retries), fetchable at once; returns how many."""
    rows = list(session.scalars(select(ExternalTask).where(
        ExternalTask.instance_id == instance_id, ExternalTask.state == "open", ExternalTask.retries == 0)))
    for row in rows:
        row.retries, row.retry_at, row.worker_id, row.lock_expires_at = 1, None, None, None
    return len(rows)


def cancel_open(session, instance_id: int, now) -> None:
    """An instance terminated: its open external tasks end with it (a worker holding one gets 409)."""
    session.execute(update(ExternalTask).where(ExternalTask.instance_id == instance_id, ExternalTask.state == "open")
                    .values(state="cancelled", ended_at=now, worker_id=None, lock_expires_at=None))


# -- reading --------------------------------------------------------------------------------

def list_tasks(duban, actor: Actor, filters: dict, first: int = 0, limit: int = 100) -> list[dict]:
    """External tasks as Camunda's GET /external-task lists them: a worker sees its topics', operators
    (system administrators, the office, designers) every one; both only of items they are cleared for."""
    with duban.db.reading() as session:
        query = select(ExternalTask).join(Instance, Instance.id == ExternalTask.instance_id).where(
            instances_cleared(actor), *_visibility(session, actor), *_filters(filters, duban.clock.now()))
        query = query.order_by(ExternalTask.created_at, ExternalTask.id).offset(max(0, first)).limit(
            max(0, min(limit, 1000)))
        return [describe(row) for row in session.scalars(query)]


def get_task(duban, actor: Actor, task_id: str) -> dict:
    with duban.db.reading() as session:
        return describe(_visible_row(session, actor, task_id, operator=actor.has(*OPERATORS)))


def _visibility(session, actor: Actor) -> list:
    if actor.has(*OPERATORS):
        return []
    return [ExternalTask.topic.in_(topics_of(session, actor))]


def _filters(filters: dict, now) -> list:
    clauses = []
    simple = {"topicName": ExternalTask.topic, "workerId": ExternalTask.worker_id,
              "activityId": ExternalTask.element_id, "processDefinitionKey": ExternalTask.definition_key}
    for name, column in simple.items():
        if filters.get(name):
            clauses.append(column == filters[name])
    if filters.get("processInstanceId"):
        clauses.append(ExternalTask.instance_id == _int(filters["processInstanceId"]))
    if filters.get("externalTaskId"):
        clauses.append(ExternalTask.id == filters["externalTaskId"])
    clauses.append(ExternalTask.state == (filters.get("state") or "open"))
    if filters.get("locked"):
        clauses.append(ExternalTask.lock_expires_at > now)
    if filters.get("notLocked"):
        clauses.append(or_(ExternalTask.lock_expires_at.is_(None), ExternalTask.lock_expires_at <= now))
    if filters.get("withRetriesLeft"):
        clauses.append(or_(ExternalTask.retries.is_(None), ExternalTask.retries > 0))
    if filters.get("noRetriesLeft"):
        clauses.append(ExternalTask.retries == 0)
    return clauses


def _visible_row(session, actor: Actor, task_id: str, operator: bool = False) -> ExternalTask:
    query = (select(ExternalTask).join(Instance, Instance.id == ExternalTask.instance_id)
             .where(ExternalTask.id == str(task_id), instances_cleared(actor)))
    if not operator:
        query = query.where(ExternalTask.topic.in_(topics_of(session, actor)))
    row = session.scalars(query).one_or_none()
    if row is None:
        raise NotFound(text("external.not_found", id=task_id))
    return row


def _worker_row(session, actor: Actor, task_id: str) -> ExternalTask:
    """The task if this worker may answer it (its topic, an item it is cleared for); else 404."""
    return _visible_row(session, actor, task_id)


def _locked_row(session, task_id: str) -> ExternalTask:
    query = select(ExternalTask).where(ExternalTask.id == task_id).execution_options(populate_existing=True)
    if on_postgres(session):
        query = query.with_for_update()
    return session.scalars(query).one()


def _check_lock(row: ExternalTask, worker_id: str, now) -> None:
    if row.state != "open":
        raise Conflict(text("external.not_open", id=row.id))
    if row.worker_id != _worker_id(worker_id) or row.lock_expires_at is None or row.lock_expires_at <= now:
        raise Conflict(text("external.not_locked", id=row.id, worker=worker_id))


def _worker_id(worker_id) -> str:
    if not isinstance(worker_id, str) or not worker_id.strip() or len(worker_id) > 255:
        raise InvalidInput(text("external.worker_required"),
                           [{"field": "workerId", "message": text("external.worker_required")}])
    return worker_id


def _duration(value, field: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum or value > 10**10:
        raise InvalidInput(text("external.bad_duration", field=field),
                           [{"field": field, "message": text("external.bad_duration", field=field)}])
    return value


def _topic_request(topic) -> dict:
    if not isinstance(topic, dict) or not isinstance(topic.get("topicName"), str) or not topic["topicName"]:
        raise InvalidInput(text("field.required"), [{"field": "topics.topicName", "message": text("field.required")}])
    topic = dict(topic)
    topic["lockDuration"] = _duration(topic.get("lockDuration"), "lockDuration")
    wanted = topic.get("variables")
    topic["variables"] = [str(v) for v in wanted] if isinstance(wanted, list) else None
    if topic.get("processVariables"):
        raise InvalidInput(text("external.process_variables"),
                           [{"field": "topics.processVariables", "message": text("external.process_variables")}])
    return topic
