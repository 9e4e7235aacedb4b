"""`duban worker`: Dramatiq worker processes consuming from Redis."""
from __future__ import annotations

import logging
import multiprocessing
import multiprocessing.connection
import signal
import threading
import time

import dramatiq

from engine.bootstrap import bootstrap
from engine.config import Settings

log = logging.getLogger(__name__)


def _serve(threads: int) -> None:
    from engine import logs

    from .actors import declare
    from .broker import make_broker

    done = threading.Event()  # first: a child must not run its supervisor's handlers
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    duban = bootstrap()
    logs.configure(duban.settings)
    if not duban.settings.redis_url:
        raise SystemExit("duban worker needs DUBAN_REDIS_URL (without it, `duban run` works in-process)")
    duban.runtime.warm()
    broker = make_broker(duban.settings)
    declare(broker, duban)
    worker = dramatiq.Worker(broker, worker_threads=threads)
    worker.start()
    log.info("worker ready (%s threads)", threads)
    # Waking each second: the kernel hands SIGTERM to any thread, and Python runs the handler only when
    # the main thread next runs; blocked in a wait without end, it never did (a worker that would not stop).
    while not done.wait(1.0):
        pass
    worker.stop()


# A child that dies this soon after starting is failing to start: wait before the next one, longer
# each time (up to the last), rather than restart it in a tight loop.
QUICK_DEATH_S = 10.0
BACKOFF_S = (1, 2, 5, 10, 30)


def run_worker(processes: int, threads: int) -> int:
    """One worker in this process, or N children kept at N: a child that dies (killed, out of memory)
    is logged and replaced, so capacity does not silently shrink. (Dramatiq's own `dramatiq` command
    stops every worker when one dies.)"""
    if processes <= 1:
        _serve(threads)
        return 0
    from engine import logs

    settings = Settings.from_env()
    logs.configure(settings)
    if not settings.redis_url:
        raise SystemExit("duban worker needs DUBAN_REDIS_URL (without it, `duban run` works in-process)")
    stopping = threading.Event()

    def _start(slot: int) -> multiprocessing.Process:
        child = multiprocessing.Process(target=_serve, args=(threads,), name=f"duban-worker-{slot}")
        child.start()
        child.started = time.monotonic()
        return child

    def _stop(_signum, _frame):
        stopping.set()
        for child in children:
            if child.is_alive():
                child.terminate()

    children = [_start(slot) for slot in range(processes)]
    quick_deaths = [0] * processes
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    log.info("supervising %s worker processes: %s", processes, ", ".join(str(c.pid) for c in children))
    while not stopping.is_set():
        multiprocessing.connection.wait([child.sentinel for child in children], timeout=1.0)
        for slot, child in enumerate(children):
            if child.is_alive() or stopping.is_set():
                continue
            child.join()
            quick = time.monotonic() - child.started < QUICK_DEATH_S
            quick_deaths[slot] = quick_deaths[slot] + 1 if quick else 0
            delay = BACKOFF_S[min(quick_deaths[slot], len(BACKOFF_S)) - 1] if quick_deaths[slot] else 0
            log.error("worker process %s died (%s); starting another%s", child.pid, _how(child.exitcode),
                      f" in {delay} s" if delay else "")
            if stopping.wait(delay):
                break
            children[slot] = _start(slot)
            log.info("worker process %s replaces %s", children[slot].pid, child.pid)
    for child in children:
        if child.is_alive():
            child.terminate()  # one started just as the stop came
        child.join()
    return 0


def _how(exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        return f"signal {signal.Signals(-exitcode).name}"
    return f"exit status {exitcode}"
