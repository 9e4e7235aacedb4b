"""Dramatiq actors: thin, idempotent, taking ids. Declared on a broker by `declare()`."""
from __future__ import annotations

import logging
from dataclasses import dataclass

import dramatiq

from engine.services import connector_tasks, connectors, files, notifications, timers

log = logging.getLogger(__name__)


@dataclass
class Actors:
    fire_timers: dramatiq.Actor
    fire_timer_batch: dramatiq.Actor
    send_mail: dramatiq.Actor
    clean_files: dramatiq.Actor
    run_connector: dramatiq.Actor
    test_connector: dramatiq.Actor


def declare(broker: dramatiq.Broker, duban) -> Actors:
    """Bind the actors to a broker and to the engine context they serve."""

    def fire_timers(instance_id: int) -> None:
        """Fire what is due in one instance; a repeated delivery fires nothing."""
        fired = timers.fire(duban, instance_id)
        if fired:
            log.info("instance %s: %s timer(s) fired", instance_id, fired)

    def fire_timer_batch(instance_ids: list[int]) -> None:
        """Fire what is due in several instances (one transaction on PostgreSQL); idempotent too."""
        fired = timers.fire_many(duban, instance_ids)
        if fired:
            log.info("%s instance(s): %s timer(s) fired", len(instance_ids), fired)

    def send_mail(notification_id: int) -> None:
        """Mail one notification; a repeated delivery of a sent one sends nothing."""
        notifications.send_mail(duban, notification_id)

    def clean_files() -> None:
        """Delete abandoned uploads (佐证材料 no form or item took in time) and unrecorded local files."""
        deleted = files.clean_up(duban)
        if deleted:
            log.info("%s abandoned upload(s) deleted", deleted)

    def run_connector(task_id: str, worker_id: str) -> None:
        """Run one connector task the scheduler locked; a repeated delivery of a finished one does nothing."""
        outcome = connector_tasks.run(duban, task_id, worker_id)
        log.info("connector task %s: %s", task_id, outcome)

    def test_connector(name: str) -> None:
        """Send a connector's 测试消息 an administrator asked for; its outcome is kept on the connector."""
        connectors.run_test(duban, name)

    return Actors(
        # One instance a message: what schedulers before batches sent (still consumed during an upgrade).
        fire_timers=dramatiq.actor(fire_timers, broker=broker, actor_name="fire_timers", queue_name="timers",
                                   max_retries=5, min_backoff=1000, max_backoff=30000),
        # Several instances a message, on a queue of its own: a worker of an older version, which
        # does not know this actor, does not consume it (the timers wait for a current worker).
        fire_timer_batch=dramatiq.actor(fire_timer_batch, broker=broker, actor_name="fire_timer_batch",
                                        queue_name="timer_batches", max_retries=5, min_backoff=1000,
                                        max_backoff=30000),
        # Failures are retried by the scheduler after the lease, not by Dramatiq.
        send_mail=dramatiq.actor(send_mail, broker=broker, actor_name="send_mail", queue_name="mail",
                                 max_retries=0),
        # The scheduler sends it again within the hour; nothing is lost by a failed run.
        clean_files=dramatiq.actor(clean_files, broker=broker, actor_name="clean_files", queue_name="maintenance",
                                   max_retries=0),
        # Retries are the external task's (its failure with a back-off, then an incident), not Dramatiq's:
        # a lost message leaves the task locked until its lock runs out, then the scheduler hands it out again.
        run_connector=dramatiq.actor(run_connector, broker=broker, actor_name="run_connector", queue_name="connectors",
                                     max_retries=0, time_limit=connector_tasks.LOCK_MS),
        test_connector=dramatiq.actor(test_connector, broker=broker, actor_name="test_connector",
                                      queue_name="connectors", max_retries=0),
    )
