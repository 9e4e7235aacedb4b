"""Embedded mode (no Redis): an in-process broker, worker and scheduler beside the web server."""
from __future__ import annotations

import threading

import dramatiq

from .actors import declare
from .broker import make_broker
from .scheduler import TimerScheduler


class Embedded:
    def __init__(self, duban, threads: int = 2):
        self.broker = make_broker(duban.settings)
        self.actors = declare(self.broker, duban)
        self.worker = dramatiq.Worker(self.broker, worker_threads=threads, worker_timeout=100)
        self.scheduler = TimerScheduler(duban, self.actors)
        self._thread = threading.Thread(target=self.scheduler.run, name="duban-scheduler", daemon=True)

    def start(self) -> Embedded:
        self.worker.start()
        self._thread.start()
        return self

    def stop(self) -> None:
        self.scheduler.stop()
        self._thread.join(timeout=10)
        self.worker.stop()


def start(duban) -> Embedded:
    return Embedded(duban).start()
