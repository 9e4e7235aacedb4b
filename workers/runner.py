"""`duban worker`: Dramatiq worker processes consuming from Redis."""
from __future__ import annotations

import logging
import multiprocessing
import signal
import threading

import dramatiq

from engine.bootstrap import bootstrap

log = logging.getLogger(__name__)


def _serve(threads: int) -> None:
    from .actors import declare
    from .broker import make_broker

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(process)d %(levelname)s %(name)s %(message)s")
    duban = bootstrap()
    if not duban.settings.redis_url:
        raise SystemExit("duban worker needs DUBAN_REDIS_URL (without it, `duban run` works in-process)")
    duban.runtime.warm()
    broker = make_broker(duban.settings)
    declare(broker, duban)
    worker = dramatiq.Worker(broker, worker_threads=threads)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    worker.start()
    log.info("worker ready (%s threads)", threads)
    done.wait()
    worker.stop()


def run_worker(processes: int, threads: int) -> int:
    if processes <= 1:
        _serve(threads)
        return 0
    children = [multiprocessing.Process(target=_serve, args=(threads,), name=f"duban-worker-{i}")
                for i in range(processes)]
    for child in children:
        child.start()

    def _forward(signum, _frame):
        for child in children:
            if child.is_alive():
                child.terminate()

    signal.signal(signal.SIGTERM, _forward)
    signal.signal(signal.SIGINT, _forward)
    for child in children:
        child.join()
    return max((child.exitcode or 0) for child in children)
