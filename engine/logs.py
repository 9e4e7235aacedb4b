"""Logging of every Duban process (web, worker, scheduler): one line per record, as text or JSON."""
from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

TEXT_FORMAT = "%(asctime)s %(process)d %(levelname)s %(name)s %(message)s"
# What a record carries beyond the standard attributes and is worth a JSON field (request logs).
EXTRA_FIELDS = ("method", "path", "status", "duration_ms", "user", "ip")


class JsonFormatter(logging.Formatter):
    """One JSON object per line, for log collectors; fields beyond the message come from `extra=`."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "process": record.process,
            "message": record.getMessage(),
        }
        entry.update({name: getattr(record, name) for name in EXTRA_FIELDS if hasattr(record, name)})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure(settings, stream=None) -> None:
    """Set the root logger from DUBAN_LOG_LEVEL and DUBAN_LOG_FORMAT (replacing earlier handlers, so
    calling it twice does not double lines). SpiffWorkflow logs every task's "State changed" at INFO,
    most of a worker's output: it is heard only at DEBUG."""
    level = getattr(logging, settings.log_level.upper())
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if settings.log_format == "json" else logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    spiff_level(logging.DEBUG if level <= logging.DEBUG else logging.WARNING)


def spiff_level(level: int) -> None:
    """SpiffWorkflow's loggers at `level`. 'spiff.workflow' is set by name too: a workflow lists all
    its tasks for each line it logs whenever that logger's own level is below INFO, heard or not."""
    for name in ("spiff", "spiff.workflow"):
        logging.getLogger(name).setLevel(level)
