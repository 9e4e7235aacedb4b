"""The clock services and timers read; tests move it instead of sleeping."""
from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

# Deadlines are working days in China: the day boundary is Beijing's, whatever the server's zone.
CHINA = ZoneInfo("Asia/Shanghai")


def utcnow() -> datetime:
    return datetime.now(UTC)


class Clock(Protocol):
    """What services and timers read the time from: SystemClock, or FixedClock in tests."""

    def now(self) -> datetime:
        """Now, timezone-aware UTC."""


class SystemClock:
    """Wall-clock time, always timezone-aware UTC."""

    def now(self) -> datetime:
        return utcnow()


class FixedClock:
    """A clock that only moves when told to (tests, benchmarks, replays)."""

    def __init__(self, start: datetime):
        self._now = _aware(start)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def set(self, when: datetime) -> None:
        with self._lock:
            self._now = _aware(when)

    def advance(self, **delta) -> datetime:
        with self._lock:
            self._now += timedelta(**delta)
            return self._now


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        value = value.replace(tzinfo=CHINA)
    return value.astimezone(UTC)


def readable(moment: datetime, day: bool = False) -> str:
    """A moment as people read it in notifications and documents, in Beijing time: 2026年12月3日 17:30
    (2026年12月3日 with `day`)."""
    local = moment.astimezone(CHINA)
    return f"{local.year}年{local.month}月{local.day}日" + ("" if day else f" {local:%H:%M}")
