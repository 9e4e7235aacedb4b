"""Service accounts of external task workers (外部任务执行账号), made on the server's command line.

`duban user worker NAME --unit U --topic T...` creates an account holding only the `worker` role, with
the topics it may fetch; run again, it replaces the topics. Its password is set by the operator for a
program, not a person: no change is asked at first use (a person's first password must be changed).
A worker account uses the external task endpoints only (web/auth.py), over HTTP Basic or a bearer
token, and sees only the items its designation clears it for (保密), like anyone else.
"""
from __future__ import annotations

from sqlalchemy import delete, select

from ..bpmn.external import CONNECTOR_TOPICS, TOPIC_PATTERN
from ..domain.roles import WORKER
from ..errors import InvalidInput
from ..models import User, WorkerTopic
from ..texts import text
from . import accounts, audit


def save_worker(duban, fields: dict, topics: list[str], operator: str) -> dict:
    """Create the worker account (when `fields` has a password and it does not exist) and set its topics."""
    topics = sorted({topic.strip() for topic in topics if topic and topic.strip()})
    if not topics:
        raise InvalidInput(text("external.topics_required"),
                           [{"field": "topic", "message": text("external.topics_required")}])
    for topic in topics:
        if not TOPIC_PATTERN.fullmatch(topic):
            raise InvalidInput(text("deploy.external_topic", topic=topic), [{"field": "topic", "message": topic}])
        if topic in CONNECTOR_TOPICS:  # Duban's own worker serves them (engine/services/connector_tasks.py)
            raise InvalidInput(text("connector.topic_reserved", topic=topic), [{"field": "topic", "message": topic}])
    username = (fields.get("username") or "").strip()
    with duban.db.reading() as session:
        exists = session.scalars(select(User.id).where(User.username == username)).one_or_none() is not None
    if not exists:
        accounts.create_user_on_server(duban, fields, [WORKER], operator=operator)
    with duban.db.transaction() as session:
        user = session.scalars(select(User).where(User.username == username)).one()
        if WORKER not in user.roles:
            raise InvalidInput(text("external.only_workers"), [{"field": "username", "message": username}])
        user.password_change_required, user.password_set_by = False, None
        session.execute(delete(WorkerTopic).where(WorkerTopic.user_id == user.id))
        session.add_all(WorkerTopic(user_id=user.id, topic=topic) for topic in topics)
        audit.append(session, operator, "user.worker_topics", f"user:{username}", {"topics": topics},
                     at=duban.clock.now())
        return {"username": username, "created": not exists, "topics": topics}
