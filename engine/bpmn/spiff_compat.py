"""What Duban relies on in SpiffWorkflow beyond its documented API, in one place.

Everything else in engine/bpmn uses SpiffWorkflow's public names only. Each item here says why no public
way exists; tests/unit/test_spiff_compat.py pins the behaviour each one relies on, so that a SpiffWorkflow
upgrade that changes it fails there, loudly, rather than as a timer that never fires.
"""
from __future__ import annotations

# Keys SpiffWorkflow's event definitions keep in `Task.internal_data` (a public dict; its keys are not
# documented). Our timers override how SpiffWorkflow's timer classes schedule and fire, and the methods
# they inherit (`catch`, `reset`, `details`, a cycle's `update_task`) read and write these same keys.
EVENT_VALUE = "event_value"  # a timer's due time (ISO text), or a cycle's {cycles, next, duration}
EVENT_FIRED = "event_fired"  # the event has happened: the waiting task may complete

