"""gunicorn settings for the web app in several processes: `duban serve`, or directly
`gunicorn --config python:web.gunicorn_conf --bind 0.0.0.0:5000 --workers 4`.

Only the web app runs here. The embedded worker and scheduler of `duban run` would start once per
web process (N schedulers, N workers competing for SQLite), so this needs DUBAN_REDIS_URL and
`duban worker` and `duban scheduler` run as their own processes.
"""
from __future__ import annotations

from gunicorn.glogging import Logger

from engine import logs
from engine.config import Settings


class DubanLogs(Logger):
    """gunicorn's own lines (start, a web process booted or killed) through the root logger, so they
    come in Duban's format (text or JSON) like every other line; a chosen --error-logfile keeps its own."""

    def setup(self, cfg):
        super().setup(cfg)
        if cfg.errorlog == "-":
            for handler in list(self.error_log.handlers):
                self.error_log.removeHandler(handler)
            self.error_log.propagate = True


# Read here, when the master starts: every web process forked later inherits it.
logs.configure(Settings.from_env())
logger_class = DubanLogs
wsgi_app = "web:create_app()"
# Off: each web process bootstraps after the fork, with its own database pool and step processes
# (a pool opened before the fork would be shared by every process).
preload_app = False
worker_class = "gthread"
workers = 2
# Past about four, more threads only queue for the interpreter lock: with 8 clients on one process,
# 8 threads gave p95 160 ms and 6.0 paths/s, 4 threads 120 ms and 6.3 (bench/load.py). More requests
# at once: more processes.
threads = 4
bind = "127.0.0.1:5000"
# An engine step may take its whole wall budget (DUBAN_STEP_WALL_S, 15 s) and exports take longer.
timeout = 120
graceful_timeout = 30
# Requests are logged by the app (method, path, status, time, user) in Duban's format, not twice.
accesslog = None
errorlog = "-"
# gunicorn's control socket (one path per user) is not used, and two servers on one host would share it.
control_socket_disable = True


def refusal(settings: Settings) -> str | None:
    """Why these settings cannot be served by several processes, or None."""
    if settings.embedded:
        return ("several web processes need DUBAN_REDIS_URL, with `duban worker` and `duban scheduler` "
                "running apart; on one machine without Redis use `duban run`")
    return None


def on_starting(server):
    settings = Settings.from_env()
    reason = refusal(settings)
    if reason:
        server.log.error(reason)
        raise SystemExit(2)
    # Done once, by the master, rather than by every web process at once: the node's secret key is
    # checked against the installation's, and the holiday file read.
    from duban.cli import _claim_secret_key, _import_holidays_file
    from engine.bootstrap import bootstrap

    duban = bootstrap(settings)
    try:
        _claim_secret_key(duban)
        _import_holidays_file(duban)
    finally:
        duban.db.engine.dispose()  # no connection of the master's is carried into the forks


def post_worker_init(worker):
    # The step processes start now, not on the web process's first request.
    worker.wsgi.extensions["duban"].runtime.warm()
