"""Timer texts: the industry's ISO forms accepted, bad ones refused at deploy."""
from datetime import datetime, timezone

import pytest

from engine.bpmn.timers import TimerSpecError, normalise_expression, to_datetime


@pytest.mark.parametrize("text,expected", [
    ("PT5M", "'PT5M'"), ("P1D", "'P1D'"), ("R6/P1D", "'R6/P1D'"), ("R/PT1H", "'R/PT1H'"),
    ("2026-10-16T17:30:00+08:00", "'2026-10-16T17:30:00+08:00'"), ("2026-10-16", "'2026-10-16'"),
    ("'PT0.03S'", "'PT0.03S'"), ('"PT1S"', '"PT1S"'), ("unit_deadline(unit)", "unit_deadline(unit)"),
    ("workdays(2)", "workdays(2)"),
])
def test_iso_literals_are_quoted_and_expressions_kept(text, expected):
    assert normalise_expression(text) == expected


@pytest.mark.parametrize("text", ["", "   ", "2026-13-45", "'2026-13-45'", "R3/PT0S", "PT5X", "'tomorrow'"])
def test_bad_literals_are_refused(text):
    with pytest.raises(TimerSpecError):
        normalise_expression(text)


def test_to_datetime_reads_beijing_time_by_default():
    assert to_datetime("2026-10-16T17:30") == datetime(2026, 10, 16, 9, 30, tzinfo=timezone.utc)
    assert to_datetime("2026-10-16T09:30:00Z") == datetime(2026, 10, 16, 9, 30, tzinfo=timezone.utc)
    with pytest.raises(TimerSpecError):
        to_datetime(42)
