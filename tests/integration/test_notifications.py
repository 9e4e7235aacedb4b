"""Notifications for the people concerned, the 通报批评 record, and e-mail through a real SMTP server."""
import socket
from datetime import datetime

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from engine import services
from engine.clock import CHINA
from engine.models import Criticism
from engine.services import notifications, timers
from tests.integration.flow import RECEIVE, complete, open_task, through_assignment, unit_done
from tests.support.waiting import wait_for


def kinds(duban, actor, unread=False):
    return [(n["kind"], n["title"]) for n in notifications.list_for(duban, actor, unread)[0]]


def move(duban, *when):
    duban.clock.set(datetime(*when, tzinfo=CHINA))
    return timers.fire_all_due(duban)


def test_new_tasks_reach_their_candidates_only(duban, org):
    through_assignment(duban, org)
    assert any(kind == "task" and "签收" in title for kind, title in kinds(duban, org["unit_a"]))
    assert any(kind == "task" and "签收" in title for kind, title in kinds(duban, org["unit_b"]))
    assert not any("签收" in title for _, title in kinds(duban, org["office"]))
    assert kinds(duban, org["discipline"]) == []


def test_lights_urges_and_escalation_are_announced(duban, org):
    item = through_assignment(duban, org)
    unit_done(duban, org, "unit_a", "fgj")
    complete(duban, org["unit_b"], "unit_receive", RECEIVE, "czj")
    move(duban, 2026, 10, 14, 18)
    assert any(kind == "yellow" and "财政局" in title for kind, title in kinds(duban, org["unit_b"]))
    move(duban, 2026, 10, 16, 18)
    assert [k for k, _ in kinds(duban, org["unit_b"])].count("red") == 1
    assert not any(kind == "red" for kind, _ in kinds(duban, org["unit_a"]))  # 发改局 reported in time
    urge = open_task(duban, org["office"], "urge")
    services.complete_task(duban, org["office"], urge["id"], {"notice": "请加快办理", "new_limit": "2026-10-21"})
    assert any(kind == "urge" for kind, _ in kinds(duban, org["unit_b"]))
    move(duban, 2026, 10, 21, 18)
    assert any(kind == "task" and "责任追究" in title for kind, title in kinds(duban, org["discipline"]))
    assert any(kind == "escalated" for kind, _ in kinds(duban, org["unit_b"]))
    move(duban, 2026, 10, 22, 9)
    with duban.db.reading() as session:
        marks = [(m.unit_id, m.reason)
                 for m in session.scalars(select(Criticism).where(Criticism.item_id == item["id"]))]
    assert marks == [("czj", "escalated")]


def test_reading_notifications(duban, org):
    through_assignment(duban, org, co_units=())
    unread = notifications.list_for(duban, org["unit_a"], unread=True)[0]
    assert unread and notifications.unread_count(duban, org["unit_a"]) == len(unread)
    notifications.mark_read(duban, org["unit_a"], unread[0]["id"])
    assert notifications.unread_count(duban, org["unit_a"]) == len(unread) - 1
    from engine.errors import NotFound

    with pytest.raises(NotFound):
        notifications.mark_read(duban, org["unit_b"], unread[1 if len(unread) > 1 else 0]["id"])
    notifications.mark_read(duban, org["unit_a"])
    assert notifications.unread_count(duban, org["unit_a"]) == 0


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.rcpt_tos, envelope.content.decode("utf-8", "replace")))
        return "250 OK"


@pytest.fixture
def smtp_server():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield port, inbox
    controller.stop()


def test_mail_goes_out_once_through_smtp(duban_sqlite, org_sqlite, smtp_server, tmp_path):
    from dataclasses import replace

    port, inbox = smtp_server
    duban = duban_sqlite
    duban.settings = replace(duban.settings, smtp_host="127.0.0.1", smtp_port=port)
    through_assignment(duban, org_sqlite, co_units=())
    pending = notifications.dispatch_mail(duban)
    assert pending
    for notification_id in pending:
        assert notifications.send_mail(duban, notification_id)
        assert not notifications.send_mail(duban, notification_id)  # a second delivery sends nothing
    wait_for(lambda: len(inbox.messages) >= len(pending), timeout=5, interval=0.05, what="the mails in the inbox")
    assert len(inbox.messages) == len(pending)
    recipients = {r for rcpts, _ in inbox.messages for r in rcpts}
    assert "unit_a@duban.local" in recipients
    assert any("=E3=80=90=E7=9D=A3=E5=8A=9E=E3=80=91" in body or "督办" in body for _, body in inbox.messages)
    assert notifications.dispatch_mail(duban) == []


def test_mail_to_a_dead_server_is_retried_later(duban_sqlite, org_sqlite):
    from dataclasses import replace

    duban = duban_sqlite
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        dead_port = probe.getsockname()[1]
    duban.settings = replace(duban.settings, smtp_host="127.0.0.1", smtp_port=dead_port, timer_lease_s=10)
    through_assignment(duban, org_sqlite, co_units=())
    [first, *_] = notifications.dispatch_mail(duban)
    assert not notifications.send_mail(duban, first)
    assert first not in notifications.dispatch_mail(duban)     # not before the lease
    duban.clock.advance(seconds=11)
    assert first in notifications.dispatch_mail(duban)         # then again


def test_no_mail_about_a_secret_item_once_the_designation_is_gone(duban, org, smtp_server):
    """保密 is checked when a mail is sent too, not only when the step wrote it."""
    from dataclasses import replace

    from engine.models import Notification, User
    from engine.services.items import designate

    port, inbox = smtp_server
    duban.settings = replace(duban.settings, smtp_host="127.0.0.1", smtp_port=port)
    item = services.register_item(duban, org["office"], {"title": "保密邮件事项", "classification": "secret",
                                                         "designees": ["leader"]})
    complete(duban, org["office"], "draft_opinion", {"lead_unit": "fgj", "opinion": "办"})
    with duban.db.reading() as session:
        leader = session.scalars(select(User).where(User.username == "leader")).one()
        address = leader.email
        [waiting] = session.scalars(select(Notification.id).where(
            Notification.user_id == leader.id, Notification.item_id == item["id"],
            Notification.mail_state == "pending"))
    designate(duban, org["office"], item["id"], "leader", remove=True)
    sent = [n for n in notifications.dispatch_mail(duban) if notifications.send_mail(duban, n)]
    assert waiting not in sent
    wait_for(lambda: len(inbox.messages) >= len(sent), timeout=5, interval=0.05, what="the mails in the inbox")
    assert address not in {r for rcpts, _ in inbox.messages for r in rcpts}
    with duban.db.reading() as session:
        assert session.get(Notification, waiting).mail_state == "none"


def _assigned(duban, org, title: str, **fields) -> int:
    """An item through 交办 to 发改局 and 财政局: one transaction creates both units' 签收 tasks."""
    item = services.register_item(duban, org["office"], {"title": title, **fields})
    instance_id = item["instance_id"]
    complete(duban, org["office"], "draft_opinion", {"lead_unit": "fgj", "co_units": ["czj"], "opinion": "办"},
             instance_id=instance_id)
    complete(duban, org["leader"], "leader_approval", {"decision": "approve"}, instance_id=instance_id)
    complete(duban, org["office"], "assign", {"notice": "交办通知单"}, instance_id=instance_id)
    return instance_id


def test_each_transaction_notifies_with_its_own_values(duban, org):
    # On PostgreSQL a step's notifications go out in one statement built once per shape of tasks and
    # kept: items of the same shapes, secret ones with other designees, must reach their own people.
    heard = {}
    for title, fields in (("甲保密事项", {"classification": "secret", "designees": ["leader", "unit_a"]}),
                          ("乙保密事项", {"classification": "secret", "designees": ["leader", "unit_b"]}),
                          ("丙公开事项", {}), ("丁公开事项", {})):
        _assigned(duban, org, title, **fields)
    for username in ("unit_a", "unit_b", "office", "discipline"):
        heard[username] = sorted(title.split(" —— ")[1] for kind, title in kinds(duban, org[username])
                                 if kind == "task" and "签收" in title)
    assert heard == {"unit_a": ["丁公开事项", "丙公开事项", "甲保密事项"],
                     "unit_b": ["丁公开事项", "丙公开事项", "乙保密事项"],
                     "office": [], "discipline": []}
