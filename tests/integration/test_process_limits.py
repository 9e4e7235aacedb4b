"""What a deployed process may ask of the engine at run time (README, "Limits of a process"), through the
services and the scheduler, on SQLite and PostgreSQL: what only an expression says is checked when it
is evaluated, and breaking a limit is an incident naming the element, in Chinese."""
import time
from datetime import timedelta

from engine import services
from engine.services import timers
from tests.samples import boundary_timer, chain, lane, multi_instance, process, script_task, timer_event, user_task

FORM = {"simple.form": b'{"type": "default", "id": "simple", "components": []}'}


def after_a_minute(duban, org, element: str, **data) -> dict:
    """Deploy start -> a one-minute timer -> `element`; start it, let the minute pass; the instance."""
    services.deploy(duban, {"p.bpmn": process(chain(timer_event(1, "timeDuration", "PT1M"), element))}, {},
                    org["designer"])
    started = services.start_instance(duban, org["designer"], "sample", data)
    duban.clock.advance(seconds=61)
    timers.fire_all_due(duban)
    return services.get_instance(duban, org["designer"], started["id"])


def test_a_cardinality_above_the_maximum_is_an_incident_naming_the_element(duban, org):
    instance = after_a_minute(duban, org, multi_instance(2, cardinality="n"), n=5000)
    assert instance["status"] == "error"
    assert "“逐项2”要创建 5000 个多实例，超过上限 200" in instance["error"]


def test_a_collection_above_the_maximum_is_an_incident(duban, org):
    instance = after_a_minute(duban, org, multi_instance(2, collection="units"), units=list(range(1001)))
    assert instance["status"] == "error" and "要创建 1001 个多实例" in instance["error"]


def test_workdays_refuses_an_absurd_count_at_once(duban, org):
    began = time.monotonic()
    instance = after_a_minute(duban, org, script_task(2, "x = [workdays(1900000) for i in range(8)]"))
    assert instance["status"] == "error"
    assert "workdays() 的天数须在 -3660 到 3660 之间" in instance["error"]
    assert time.monotonic() - began < 10  # it held the write lock for 53 s


def test_a_cycle_from_the_data_is_scheduled_no_faster_than_the_minimum(duban, org):
    remind = '<bpmn:scriptTask id="remind" name="提醒"><bpmn:script>reminded = True</bpmn:script></bpmn:scriptTask>'
    body = chain(user_task(1, 'camunda:formRef="simple"')) + boundary_timer("timeCycle", "period", then=remind)
    services.deploy(duban, {"p.bpmn": process(body, lanes=lane("office", "督查室", "e1"))}, FORM, org["designer"])
    begun = duban.clock.now()
    started = services.start_instance(duban, org["office"], "sample", {"period": "R/PT0.001S"})
    assert [t["due_at"] for t in started["timers"]] == [begun + timedelta(seconds=60)]
    duban.clock.advance(seconds=1)
    timers.fire_all_due(duban)
    duban.clock.advance(seconds=3600)
    timers.fire_all_due(duban)
    instance = services.get_instance(duban, org["office"], started["id"])
    assert instance["trail"].count("remind") == 1  # an hour late: one reminder, not 3.6 million
    assert [t["due_at"] for t in instance["timers"]] == [begun + timedelta(seconds=3660)]


def test_a_cycle_leading_to_a_persons_task_opens_one_per_firing(duban, org):
    """A non-interrupting cycle whose branch starts at a user task: no engine step completes, yet each
    firing is stored (its task opens, its timer row moves on) and is not handed out again."""
    body = chain(user_task(1, 'camunda:formRef="simple"')) + boundary_timer("timeCycle", "R3/PT1H")
    services.deploy(duban, {"p.bpmn": process(body, lanes=lane("office", "督查室", "e1", "remind"))}, FORM,
                    org["designer"])
    begun = duban.clock.now()
    started = services.start_instance(duban, org["office"], "sample", {})
    duban.clock.advance(seconds=3601)
    assert timers.fire_all_due(duban) == 1
    assert timers.fire_all_due(duban) == 0
    instance = services.get_instance(duban, org["office"], started["id"])
    assert sorted(t["element_id"] for t in instance["tasks"]) == ["e1", "remind"]
    assert [t["due_at"] for t in instance["timers"]] == [begun + timedelta(seconds=7200)]
