"""Connector service tasks: a serviceTask on a reserved topic (`duban.notify`, `duban.http`) is an
external task (engine/services/external_tasks.py) that Duban's own worker serves, so retries, incidents
and exactly-once completion come from the one place every external task goes through.

    <bpmn:serviceTask id="push" name="推送催办" duban:topic="duban.notify">
      <bpmn:extensionElements>
        <duban:connector channel="office_wecom" recipients="role:office unit:{lead_unit}"
                         title="催办" message="事项“{item_title}”已逾期，请于{new_limit}前办结"/>
    <bpmn:serviceTask id="ask" name="报送12345平台" duban:topic="duban.http">
      <bpmn:extensionElements>
        <duban:connector endpoint="hotline" method="POST" path="/orders" body='{"title": "{item_title}"}'
                         result="hotline_reply" outputs="order_id=body.data.id"/>

The scheduler fetches and locks them as the built-in worker (`dispatch`), a Dramatiq actor runs each
(`run`): never inside a web request. Each target (a person, a number, a robot, the endpoint) confirmed
sent is recorded (ConnectorDelivery); a later attempt skips it, so a retry never sends twice what was
confirmed, and an endpoint's answer is reused. A failure that may pass is retried after a back-off
(DUBAN_CONNECTOR_ATTEMPTS, DUBAN_CONNECTOR_BACKOFF_S); after the last attempt, or at once when no
retry can help (a host not allowed, a missing channel), the task's failure is an incident in the monitor.
"""
from __future__ import annotations

import logging
import re
import uuid
from dataclasses import dataclass
from urllib.parse import quote

from lxml import etree
from sqlalchemy import select

from ..access import SECRET, Actor, user_cleared
from ..connectors import senders
from ..connectors.guarded_http import Failed, Refused
from ..domain.roles import SYSADMIN, UNIT, WORKER
from ..errors import Conflict
from ..models import (
    Connector,
    ConnectorDelivery,
    Definition,
    ExternalTask,
    Instance,
    Item,
    Notification,
    User,
    WorkerTopic,
)
from ..texts import text
from . import connectors, external_tasks, notifications

log = logging.getLogger(__name__)
TOPICS = {"duban.notify": "notify", "duban.http": "http"}
BUILTIN = "duban-connectors"  # the built-in worker's service account (no password: it never signs in)
LOCK_MS = 10 * 60 * 1000
DUBAN_NS = "urn:duban:bpmn:1"
_RECIPIENT = re.compile(r"^(role|unit|user):(.+)$")


@dataclass
class Job:
    task_id: str
    worker_id: str
    element: str
    declared: dict
    data: dict
    item: Item | None
    instance_id: int
    attempt: int


# -- the built-in worker ---------------------------------------------------------------------------

def builtin_actor(duban) -> Actor:
    """The built-in worker: a service account holding the reserved topics, cleared for every item as
    the engine itself is (what leaves the installation for a secret item is decided per channel)."""
    with duban.db.reading() as session:  # the account exists but once: reading it takes no write lock
        user_id = session.scalar(select(User.id).where(User.username == BUILTIN))
        have = set(session.scalars(select(WorkerTopic.topic).where(WorkerTopic.user_id == user_id)))
    if user_id is not None and set(TOPICS) <= have:
        return Actor(id=user_id, username=BUILTIN, roles=frozenset({WORKER, SYSADMIN}), unit_id=None)
    with duban.db.transaction() as session:
        user_id = session.scalar(select(User.id).where(User.username == BUILTIN))
        if user_id is None:
            user = User(username=BUILTIN, display_name=text("connector.builtin_name"), password_hash="!",
                        active=False, created_at=duban.clock.now())
            session.add(user)
            session.flush()
            user_id = user.id
        have = set(session.scalars(select(WorkerTopic.topic).where(WorkerTopic.user_id == user_id)))
        session.add_all(WorkerTopic(user_id=user_id, topic=topic) for topic in TOPICS if topic not in have)
    return Actor(id=user_id, username=BUILTIN, roles=frozenset({WORKER, SYSADMIN}), unit_id=None)


def dispatch(duban, limit: int = 50) -> list[tuple[str, str]]:
    """Fetch and lock the connector tasks due now; (task id, worker id) for the actor to run each."""
    with duban.db.reading() as session:  # most sweeps find none: no write transaction for them
        waiting = session.scalar(select(ExternalTask.id).where(
            ExternalTask.state == "open", ExternalTask.topic.in_(TOPICS)).limit(1))
    if waiting is None:
        return []
    worker_id = f"{BUILTIN}:{uuid.uuid4().hex[:12]}"
    topics = [{"topicName": topic, "lockDuration": LOCK_MS, "variables": []} for topic in TOPICS]
    locked = external_tasks.fetch_and_lock(duban, builtin_actor(duban), worker_id, limit, topics)
    return [(task["id"], worker_id) for task in locked]


def run(duban, task_id: str, worker_id: str) -> str:
    """Run one locked connector task: complete it, or report its failure. Returns what happened."""
    actor = builtin_actor(duban)
    job = _job(duban, task_id, worker_id)
    if job is None:
        return "skipped"  # completed, cancelled or locked by another since: a repeated message does nothing
    try:
        variables = (_notify if TOPICS[job.declared["topic"]] == "notify" else _call)(duban, job)
    except (Refused, Failed) as failure:
        return _failed(duban, actor, job, failure)
    except Exception as error:  # a fault of ours counts as an attempt: after the last, an incident, not a loop
        log.exception("connector task %s failed unexpectedly", task_id)
        return _failed(duban, actor, job, Failed(text("connector.internal", reason=type(error).__name__)))
    try:
        external_tasks.complete(duban, actor, task_id, worker_id,
                                variables={name: {"value": value} for name, value in variables.items()})
    except Conflict as conflict:  # the lock ran out and another attempt took it: its own run completes it
        log.warning("connector task %s: %s", task_id, conflict.message)
        return "lost"
    return "completed"


def _failed(duban, actor, job: Job, failure) -> str:
    attempts = duban.settings.connector_attempts
    left = 0 if isinstance(failure, Refused) else max(0, attempts - job.attempt)
    backoff_ms = int(duban.settings.connector_backoff_s * 1000 * 2 ** (job.attempt - 1))
    message = text("connector.attempt_failed", attempt=job.attempt, attempts=attempts, reason=failure.message)
    log.warning("connector task %s (%s): %s", job.task_id, job.element, message)
    try:
        external_tasks.fail(duban, actor, job.task_id, job.worker_id, message, None, left, backoff_ms if left else 0)
    except Conflict:
        return "lost"
    return "retrying" if left else "incident"


def _job(duban, task_id: str, worker_id: str) -> Job | None:
    with duban.db.reading() as session:
        row = session.get(ExternalTask, task_id)
        if row is None or row.state != "open" or row.worker_id != worker_id or row.topic not in TOPICS:
            return None
        instance = session.get(Instance, row.instance_id)
        declared = declaration(session.get(Definition, instance.definition_id), row.element_id)
        declared["topic"] = row.topic
        item = session.get(Item, row.item_id) if row.item_id else None
        if item is not None:
            list(item.designees)  # loaded now: 保密 is decided on them after the session
            session.expunge(item)  # read after the session: its classification and designees are loaded below
        attempts = duban.settings.connector_attempts
        retries = row.retries if row.retries is not None else attempts
        data = {**(row.input or {}), **_item_values(item)}
        return Job(task_id, worker_id, row.name, declared, data, item, row.instance_id,
                   max(1, attempts - retries + 1))


def _item_values(item: Item | None) -> dict:
    if item is None:
        return {}
    return {"item_id": item.id, "item_title": item.title,
            "item_deadline": item.deadline.isoformat() if getattr(item, "deadline", None) else ""}


_DECLARATIONS: dict = {}


def declaration(definition: Definition, element_id: str) -> dict:
    """The `<duban:connector …/>` attributes of a service task (parsed once per definition and element)."""
    key = (definition.checksum, definition.key, element_id)
    if key not in _DECLARATIONS:
        found = {}
        for xml in (definition.files or {}).values():
            root = etree.fromstring(xml.encode() if isinstance(xml, str) else xml,
                                    etree.XMLParser(resolve_entities=False, no_network=True))
            for element in root.iter():
                if element.get("id") == element_id:
                    own = element.find(f".//{{{DUBAN_NS}}}connector")
                    found = dict(own.attrib) if own is not None else {}
        _DECLARATIONS[key] = found
    return dict(_DECLARATIONS[key])


# -- deliveries ------------------------------------------------------------------------------------

def _delivered(duban, task_id: str) -> dict:
    with duban.db.reading() as session:
        return {row.target: row.result for row in session.scalars(
            select(ConnectorDelivery).where(ConnectorDelivery.task_id == task_id))}


def _confirm(duban, job: Job, target: str, result: dict | None = None, session=None) -> None:
    row = ConnectorDelivery(task_id=job.task_id, target=target[:300], attempt=job.attempt,
                            sent_at=duban.clock.now(), result=result)
    if session is not None:
        session.add(row)
        return
    with duban.db.transaction() as own:
        own.add(row)


def _connector(duban, name: str, kinds) -> tuple[Connector, dict]:
    with duban.db.reading() as session:
        row = session.get(Connector, name or "")
        if row is None or row.kind not in kinds:
            raise Refused(text("connector.missing", name=name or ""))
        if not row.enabled:
            raise Failed(text("connector.disabled", name=name))  # an administrator may enable it again
        session.expunge(row)
        return row, connectors.unsealed(duban, row)


# -- notify ----------------------------------------------------------------------------------------

def _notify(duban, job: Job) -> dict:
    declared, done = job.declared, _delivered(duban, job.task_id)
    channel = declared.get("channel") or connectors.INAPP
    title = senders.render(declared.get("title") or job.element, job.data)
    message = senders.render(declared.get("message") or "", job.data)
    if channel == connectors.INAPP:
        if "inapp" not in done:
            _notify_in_app(duban, job, title, message)
        return {}
    row, secrets = _connector(duban, channel, connectors.CHANNELS)
    if row.kind != "email" and job.item is not None and job.item.classification == SECRET:
        raise Refused(text("connector.secret_item", channel=row.title or row.name))
    key = job.task_id
    if row.kind == "email":
        for user_id, address in _recipients(duban, job):
            if f"email:{user_id}" not in done and address:
                senders.send_mail(row.settings, secrets, address, f"【督办】{title}", message)
                _confirm(duban, job, f"email:{user_id}")
    elif row.kind == "sms":
        phones = [p for p in re.split(r"[\s,，;；]+", senders.render(declared.get("phones") or "", job.data)) if p]
        if not phones:
            raise Refused(text("connector.no_phones", element=job.element))
        for phone in phones:
            if f"sms:{phone}" not in done:
                senders.send_sms(row.settings, secrets, phone, f"{title}：{message}", f"{key}:{phone}")
                _confirm(duban, job, f"sms:{phone}")
    elif row.kind in senders.ROBOTS and row.kind not in done:
        senders.send_robot(row.kind, row.settings, secrets, f"【督办】{title}\n{message}", key)
        _confirm(duban, job, row.kind)
    return {}


def _recipients(duban, job: Job) -> list[tuple[int, str | None]]:
    """(user id, e-mail) of the declared recipients (role:office, unit:fgj, user:office) who are cleared."""
    wanted = senders.render(job.declared.get("recipients") or "", job.data).split()
    people = {}
    with duban.db.reading() as session:
        for token in wanted:
            found = _RECIPIENT.match(token)
            if not found:
                raise Refused(text("connector.bad_recipient", recipient=token))
            how, what = found.groups()
            if how == "user":
                rows = session.execute(select(User.id, User.email).where(User.username == what, User.active.is_(True)))
                chosen = [notifications.Recipient(i, e, frozenset()) for i, e in rows]
            else:
                chosen = notifications.people(session, UNIT if how == "unit" else what, what if how == "unit" else None)
            for person in chosen:
                roles = person.roles or frozenset(session.get(User, person.id).roles)
                if user_cleared(person.id, roles, job.item):
                    people[person.id] = person.email
    return sorted(people.items())


def _notify_in_app(duban, job: Job, title: str, message: str) -> None:
    """站内通知 to the recipients, written with the record of having sent them: exactly once."""
    recipients = _recipients(duban, job)
    with duban.db.transaction() as session:
        if session.get(ConnectorDelivery, (job.task_id, "inapp")) is not None:
            return
        mail = "pending" if duban.settings.smtp_host else "none"
        for user_id, email in recipients:
            session.add(Notification(user_id=user_id, at=duban.clock.now(), kind="connector", title=title[:500],
                                     body=message, item_id=job.item.id if job.item else None,
                                     instance_id=job.instance_id, task_id=None,
                                     mail_state=mail if email else "none", mail_attempts=0))
        _confirm(duban, job, "inapp", session=session)


# -- http ------------------------------------------------------------------------------------------

def _call(duban, job: Job) -> dict:
    declared = job.declared
    done = _delivered(duban, job.task_id)
    if "http" in done:
        answer = done["http"]  # the endpoint answered an earlier attempt: it is not called again
    else:
        row, secrets = _connector(duban, declared.get("endpoint"), ("http",))
        if job.item is not None and job.item.classification == SECRET:
            raise Refused(text("connector.secret_item", channel=row.title or row.name))
        body = declared.get("body")
        body = senders.render(body, job.data, senders.json_text) if body else None
        answer = senders.call(row.settings, secrets, (declared.get("method") or "POST").upper(),
                              senders.render(declared.get("path") or "", job.data, _path_text), body, job.task_id)
        _confirm(duban, job, "http", answer)
    variables = {}
    if declared.get("result"):
        variables[declared["result"]] = answer
    for pair in re.split(r"[;,，；]\s*", declared.get("outputs") or ""):
        name, _, path = pair.partition("=")
        if name.strip() and path.strip():
            variables[name.strip()] = senders.lookup(answer, path.strip())
    return variables


def _path_text(value: str) -> str:
    return quote(value, safe="")

