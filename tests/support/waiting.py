"""Waiting on state the test can observe, never on the clock alone."""
from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta


def wait_for(predicate, timeout: float = 30.0, what="the condition", interval: float = 0.1):
    """predicate()'s first truthy value, asked every `interval` seconds; AssertionError after `timeout`
    saying what was awaited (`what`, or what it returns when a function: the state last seen)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what() if callable(what) else what}")
        time.sleep(interval)


def soon(seconds: float) -> str:
    """The time `seconds` from now, in UTC, as ISO 8601."""
    return (datetime.now(UTC) + timedelta(seconds=seconds)).isoformat()
