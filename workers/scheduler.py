"""The timer scheduler: every DUBAN_TIMER_POLL_S it sends instances with due timers to the workers."""
from __future__ import annotations

import logging
import threading

from engine.services import timers

log = logging.getLogger(__name__)


class TimerScheduler:
    def __init__(self, duban, send):
        self.duban = duban
        self.send = send
        self._stop = threading.Event()

    def tick(self) -> int:
        instance_ids = timers.dispatch_due(self.duban)
        for instance_id in instance_ids:
            self.send(instance_id)
        return len(instance_ids)

    def run(self) -> None:
        while not self._stop.is_set():
            try:
                self.tick()
            except Exception:  # noqa: BLE001 - a failed sweep is logged and the next one tries again
                log.exception("timer sweep failed")
            self._stop.wait(self.duban.settings.timer_poll_s)

    def stop(self) -> None:
        self._stop.set()


def run_forever(duban) -> None:
    """`duban scheduler`: sweep and send to the Redis workers until interrupted."""
    from .actors import declare
    from .broker import make_broker

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    broker = make_broker(duban.settings)
    actors = declare(broker, duban)
    scheduler = TimerScheduler(duban, actors.fire_timers.send)
    log.info("timer scheduler polling every %ss", duban.settings.timer_poll_s)
    try:
        scheduler.run()
    except KeyboardInterrupt:
        scheduler.stop()
