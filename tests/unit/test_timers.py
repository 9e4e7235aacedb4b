"""Timer texts: the industry's ISO forms accepted, bad ones refused at deploy; repeating timers on the
runtime with a moving clock: never faster than the minimum cycle, and caught up with in one firing."""
from datetime import UTC, datetime, timedelta

import pytest

from engine.bpmn.runtime import Runtime, compile_bundle
from engine.bpmn.timers import TimerSpecError, literal_cycle_interval, normalise_expression, to_datetime
from engine.clock import CHINA, FixedClock
from engine.config import EngineLimits, using_limits
from tests.samples import boundary_timer, chain, process, script_task, timer_event, user_task

START = datetime(2026, 9, 28, 9, 0, tzinfo=CHINA)


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
    assert to_datetime("2026-10-16T17:30") == datetime(2026, 10, 16, 9, 30, tzinfo=UTC)
    assert to_datetime("2026-10-16T09:30:00Z") == datetime(2026, 10, 16, 9, 30, tzinfo=UTC)
    with pytest.raises(TimerSpecError):
        to_datetime(42)


@pytest.mark.parametrize("text,seconds", [
    ("R/PT0.001S", 0.001), ("R5/PT1M", 60), ("'R/P1D'", 86400), ('"R3/PT1H"', 3600),
    ("R/2026-10-01T00:00:00/PT30S", 30), ("R2/PT10S/2026-10-01T00:00:00", 10),
])
def test_the_interval_of_a_literal_cycle(text, seconds):
    assert literal_cycle_interval(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["cycle", "PT5M", "R3/PT0S", "R/PTX", "", None])
def test_expressions_and_malformed_cycles_have_no_literal_interval(text):
    assert literal_cycle_interval(text) is None


class _Definition:
    def __init__(self, compiled):
        self.id, self.key, self.files = id(compiled), compiled.key, compiled.files


class Reminders:
    """A task waiting with a non-interrupting cycle on its border: each firing opens a `remind` task.
    `restore` saves and reloads the workflow before every step, as the service layer does."""

    def __init__(self, text: str, restore: bool = False, **data):
        [compiled] = compile_bundle({"p.bpmn": process(chain(user_task(1)) + boundary_timer("timeCycle", text))},
                                    {}, 1_000_000)
        self.definition, self.clock, self.restore = _Definition(compiled), FixedClock(START), restore
        self.runtime = Runtime(self.clock)
        self.run = self.runtime.start(self.definition, data, {})

    def at(self, **after_start) -> int:
        """Move the clock to START + after_start, take a step; how many reminders are open."""
        if self.restore:
            self.run = self.runtime.load(self.definition, self.run.dumps(), {})
        self.clock.set(START + timedelta(**after_start))
        self.run.advance()
        return sum(t.element_id == "remind" for t in self.run.human_tasks())

    def next_due(self):
        [timer] = self.run.waiting_timers()
        return timer.due_at


def test_a_cycle_from_an_expression_fires_no_faster_than_the_minimum():
    reminders = Reminders("period", period="R/PT0.001S")
    assert reminders.at(seconds=0.01) == 0  # once every millisecond would be 10 by now
    assert reminders.next_due() == START + timedelta(seconds=60)
    assert reminders.at(seconds=59.9) == 0
    assert reminders.at(seconds=60) == 1
    assert reminders.at(seconds=119) == 1
    assert reminders.at(seconds=120) == 2


@pytest.mark.parametrize("restore", [False, True])
def test_an_endless_cycle_that_fell_behind_fires_once_and_keeps_its_schedule(restore):
    reminders = Reminders("R/PT1M", restore)
    assert reminders.at(minutes=30, seconds=30) == 1  # not 30 reminders
    assert reminders.next_due() == START + timedelta(minutes=31)
    assert reminders.at(minutes=10_000) == 2  # not 10 000 more
    assert reminders.next_due() == START + timedelta(minutes=10_001)
    assert reminders.at(minutes=10_001) == 3


def test_missed_firings_count_against_the_repetitions():
    reminders = Reminders("R3/PT1H")
    assert reminders.at(hours=5) == 1
    assert reminders.run.waiting_timers() == []  # the three repetitions were due by now: the cycle is over
    assert reminders.at(hours=9) == 1


def test_a_cycle_stored_under_a_lower_minimum_is_stretched_to_the_current_one():
    # Instances running from before an installation raised its minimum keep their stored cycle.
    with using_limits(EngineLimits(min_timer_cycle_s=1)):
        reminders = Reminders("period", period="R/PT1S")
        assert reminders.at(seconds=1) == 1
        assert reminders.at(seconds=2) == 2
    assert reminders.at(seconds=3) == 3  # fired as it was due, then the minimum applies
    assert reminders.next_due() == START + timedelta(seconds=63)
    assert reminders.at(seconds=62) == 3
    assert reminders.at(seconds=63) == 4


@pytest.mark.parametrize("kind,value", [("timeDuration", "PT0S"), ("timeDate", "2000-01-01T00:00:00"),
                                        ("timeDate", "2026-09-28T08:59:59+08:00")])
def test_a_zero_duration_or_a_past_date_from_an_expression_fires_at_once(kind, value):
    [compiled] = compile_bundle({"p.bpmn": process(chain(timer_event(1, kind, "when"), user_task(2)))}, {}, 1_000_000)
    run = Runtime(FixedClock(START)).start(_Definition(compiled), {"when": value}, {})
    assert [t.element_id for t in run.human_tasks()] == ["e2"] and run.waiting_timers() == []


def test_a_timer_without_a_time_is_asked_once_an_operation_and_again_in_the_next():
    # A timer waits in one branch while the other runs four tasks in one operation: each completion
    # updates the waiting timer, and its expression (an engine function: a database query) gave the same
    # answer every time. It is asked once per operation, and again in the next, which may answer anew.
    body = ('<bpmn:startEvent id="start"/><bpmn:parallelGateway id="split"/>'
            '<bpmn:intermediateCatchEvent id="wait" name="期限"><bpmn:timerEventDefinition>'
            '<bpmn:timeDate>limit()</bpmn:timeDate></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>'
            '<bpmn:userTask id="waited" name="到期处理"/><bpmn:endEvent id="end_wait"/>'
            + user_task(1) + script_task(2, "a = 1") + script_task(3, "b = 2") + script_task(4, "c = 3")
            + user_task(5) + '<bpmn:endEvent id="end"/>'
            + "".join(f'<bpmn:sequenceFlow id="f{source}_{target}" sourceRef="{source}" targetRef="{target}"/>'
                      for source, target in [("start", "split"), ("split", "wait"), ("wait", "waited"),
                                             ("waited", "end_wait"), ("split", "e1"), ("e1", "e2"), ("e2", "e3"),
                                             ("e3", "e4"), ("e4", "e5"), ("e5", "end")]))
    [compiled] = compile_bundle({"p.bpmn": process(body)}, {}, 1_000_000)
    asked, answer = [], [None]

    def limit():
        asked.append(1)
        return answer[0]

    run = Runtime(FixedClock(START)).start(_Definition(compiled), {}, {"limit": limit})
    assert run.waiting_timers() == [] and asked

    def asked_while(operation) -> int:
        asked.clear()
        operation()
        return len(asked)

    [first] = run.human_tasks()
    assert asked_while(lambda: run.complete(first.id, {})) == 1  # e1, e2, e3 and e4 completed: four updates
    assert run.waiting_timers() == []
    answer[0] = "2026-10-16T17:30:00+08:00"
    assert asked_while(run.advance) == 1
    assert [timer.due_at for timer in run.waiting_timers()] == [datetime(2026, 10, 16, 9, 30, tzinfo=UTC)]
    assert asked_while(run.advance) == 0  # kept with the timer once it had a time
