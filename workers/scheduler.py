"""The timer scheduler: every DUBAN_TIMER_POLL_S it sends instances with due timers to the workers,
and every hour the clean-up of abandoned uploads."""
from __future__ import annotations

import logging
import threading
from datetime import timedelta

from engine.services import connector_tasks, connectors, notifications, progress, timers

log = logging.getLogger(__name__)

# How often the workers delete abandoned uploads (each run is cheap when there are none).
FILE_CLEAN_UP_EVERY = timedelta(hours=1)
# A sweep's due instances go out in at least this many messages (while each holds one or more),
# so that every worker thread gets a share of a small sweep.
SPREAD = 8
# Due timers handed out per second of the poll interval, at most (each sweep at least this many).
DISPATCH_PER_S = 1000


class TimerScheduler:
    """Sends due timers (by instance), pending e-mails and the hourly clean-up of uploads to the workers."""

    def __init__(self, duban, actors):
        self.duban = duban
        self.actors = actors
        self._stop = threading.Event()
        self._clean_files_at = None  # at the first tick: a restart does not wait an hour

    def tick(self) -> int:
        # As many as workers fire in a poll interval and more: the default 5 s must not cap them at 200/s.
        limit = int(DISPATCH_PER_S * max(1.0, self.duban.settings.timer_poll_s))
        instance_ids = timers.dispatch_due(self.duban, limit=limit)
        self._send_timers(instance_ids)
        for notification_id in notifications.dispatch_mail(self.duban):
            self.actors.send_mail.send(notification_id)
        try:
            # Built-in connectors: their service tasks due now, locked for the actor, and asked test messages.
            for task_id, worker_id in connector_tasks.dispatch(self.duban):
                self.actors.run_connector.send(task_id, worker_id)
            for name in connectors.dispatch_tests(self.duban):
                self.actors.test_connector.send(name)
        except Exception:  # a failed hand-out must not hold up the timers; the next tick retries
            log.exception("connector dispatch failed")
        try:
            # 月度进展: the month-end reminder (once per unit and month; off those days it reads nothing).
            progress.remind_monthly_progress(self.duban)
        except Exception:  # a failed reminder must not hold up the timers; the next tick retries
            log.exception("monthly progress reminder failed")
        now = self.duban.clock.now()
        if self._clean_files_at is None or now >= self._clean_files_at:
            self.actors.clean_files.send()
            self._clean_files_at = now + FILE_CLEAN_UP_EVERY
        return len(instance_ids)

    def _send_timers(self, instance_ids: list[int]) -> None:
        """Hand the instances to the workers, up to timers.BATCH a message; a small sweep still goes
        out in SPREAD messages (of one instance or more), for every worker thread to take a share."""
        size = max(1, min(timers.BATCH, len(instance_ids) // SPREAD))
        for start in range(0, len(instance_ids), size):
            self.actors.fire_timer_batch.send(instance_ids[start:start + size])

    def run(self) -> None:
        while not self._stop.is_set():
            try:
                self.tick()
            except Exception:  # a failed sweep is logged and the next one tries again
                log.exception("timer sweep failed")
            self._stop.wait(self.duban.settings.timer_poll_s)

    def stop(self) -> None:
        self._stop.set()


def run_forever(duban) -> None:
    """`duban scheduler`: sweep and send to the Redis workers until interrupted."""
    from engine import logs

    from .actors import declare
    from .broker import make_broker

    logs.configure(duban.settings)
    broker = make_broker(duban.settings)
    scheduler = TimerScheduler(duban, declare(broker, duban))
    log.info("timer scheduler polling every %ss", duban.settings.timer_poll_s)
    try:
        scheduler.run()
    except KeyboardInterrupt:
        scheduler.stop()
