"""The live-workflow cache of a step process: bounded (DUBAN_LIVE_WORKFLOWS), least recently used out
first, and an instance dropped from it is read again from its saved state."""
from datetime import datetime

from engine.bootstrap import limits
from engine.bpmn.runtime import Runtime, compile_bundle
from engine.clock import CHINA, FixedClock
from engine.config import Settings
from tests.samples import chain, process, user_task

START = datetime(2026, 9, 28, 9, 0, tzinfo=CHINA)


class _Definition:
    def __init__(self, compiled):
        self.id, self.key, self.files = id(compiled), compiled.key, compiled.files


def test_the_cache_never_holds_more_than_its_bound_and_drops_the_least_recently_used():
    [compiled] = compile_bundle({"p.bpmn": process(chain(user_task(1), user_task(2)))}, {}, 1_000_000)
    definition, runtime = _Definition(compiled), Runtime(FixedClock(START), live_size=3)
    saved = {}
    for instance in range(1, 21):
        run = runtime.start(definition, {}, {})
        saved[instance] = run.dumps()
        runtime.keep(instance, 1, run)
        assert len(runtime._live) <= 3
    assert list(runtime._live) == [18, 19, 20]
    reads = []

    def state_of(instance):
        return lambda: reads.append(instance) or saved[instance]

    # A kept instance is taken from the cache (its state is not read); a dropped one is read.
    for instance in (20, 1):
        run = runtime.load(definition, state_of(instance), {}, instance_id=instance, version=1)
        [task] = run.human_tasks()
        run.complete(task.id, {})
        runtime.keep(instance, 2, run)
        assert len(runtime._live) <= 3
    assert reads == [1]
    assert list(runtime._live) == [19, 20, 1]
    # A stale version (another process wrote since) is not used.
    runtime.load(definition, state_of(19), {}, instance_id=19, version=2)
    assert reads == [1, 19]


def test_no_cache_at_all():
    [compiled] = compile_bundle({"p.bpmn": process(chain(user_task(1)))}, {}, 1_000_000)
    runtime = Runtime(FixedClock(START), live_size=0)
    runtime.keep(1, 1, runtime.start(_Definition(compiled), {}, {}))
    assert len(runtime._live) == 0


def test_the_bound_is_a_setting_handed_to_the_step_processes():
    assert Settings.from_env({}).live_workflows == 512
    settings = Settings.from_env({"DUBAN_LIVE_WORKFLOWS": "64"})
    assert settings.live_workflows == 64 and limits(settings).live_workflows == 64
