"""The step process: runs one engine step at a time for its parent, under the step's budgets.

See `isolation` for why. Here a step is loaded (from this process's cache of workflows its parent
committed, or from the state the parent sends), run with stand-ins for the engine functions that
ask the parent, checked for size and storability, and answered with a Snapshot. RLIMIT_CPU makes
the kernel end this process when a step overruns its CPU time; RLIMIT_AS makes allocation fail
when it overruns its memory.
"""
from __future__ import annotations

import itertools
import json
import logging
import math
import mmap
import os
import resource
import signal
from collections import OrderedDict
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from multiprocessing.connection import Connection
from types import SimpleNamespace

from ..config import EngineLimits, using_limits
from ..errors import ProcessError
from ..logs import spiff_level
from ..texts import text
from .runtime import ProcessRun, Runtime, StepLog
from .spiff_compat import details_only_when_heard, waiting_tasks_by_stack
from .timers import ARMED_AT

ELEMENT_BYTES = 240
_TENTATIVE_KEPT = 16


@dataclass(frozen=True)
class Limits:
    """What one step may use. Defaults suit a 2-core machine; settings override them."""

    cpu_s: float = 2.0
    memory_mb: int = 256
    # Wall clock of the whole step, the parent's engine functions included: a backstop for a
    # child that waits instead of computing.
    wall_s: float = 15.0
    max_calls: int = 10_000
    max_value_bytes: int = 256 * 1024
    max_data_bytes: int = 1024 * 1024
    max_state_bytes: int = 16 * 1024 * 1024
    processes: int = 2
    # Live workflows a step process keeps (Runtime's cache of committed workflows, by instance).
    live_workflows: int = 512
    # The installation's engine limits (timer cycles, multi-instance), in force inside every step.
    engine: EngineLimits = field(default_factory=EngineLimits)


@dataclass
class Snapshot:
    """What a step left, as plain values: everything the parent projects and stores."""

    state: str | None  # sent after the rest (see child_main)
    human_tasks: list
    timers: list
    data: dict
    completed: bool
    log: StepLog
    waiting_messages: list
    problems: list = field(default_factory=list)
    # The engine functions' questions the step asked (name, args, kwargs, armed_at), see _Parent.
    questions: list = field(default_factory=list)


class _StepClock:
    """The parent's clock reading for the step under way (tests move time in the parent)."""

    def __init__(self):
        self.reading = None

    def now(self):
        return self.reading


class TooManyCalls(BaseException):
    """A step called engine functions more often than its limit allows. A BaseException, so that
    neither the script nor SpiffWorkflow's error handling catches it on its way out."""


class _Parent:
    """The child's end of the pipe: asks the parent for state, files and function values.

    The parent's database does not change while a step runs (it does not flush then), so within
    one step a function asked the same question gives the same answer: such answers are kept for
    the step (a timer whose expression yields nothing is evaluated again at every pass). The
    questions a step asked go back with its snapshot, and the parent answers them before the
    instance's next step, with the request (a waiting timer asks the same at every step)."""

    def __init__(self, conn, max_calls: int):
        self.conn = conn
        self.max_calls = max_calls
        self.answers: dict = {}
        self.asked: dict = {}
        self.calls = 0

    def new_step(self, answers: dict) -> None:
        self.answers = dict(answers)
        self.asked = {}
        self.calls = 0

    def questions(self) -> list:
        """The questions with kept answers this step asked, for the parent to answer before the next."""
        return list(self.asked)

    def ask(self, message):
        self.conn.send(message)
        kind, value = self.conn.recv()
        if kind == "raise":
            raise ValueError(value)
        return value

    def function(self, name: str):
        def call(*args, **kwargs):
            self.calls += 1
            if self.calls > self.max_calls:
                raise TooManyCalls()
            question = ("call", name, args, kwargs, ARMED_AT.get())
            try:
                key = (name, args, tuple(sorted(kwargs.items())), question[4])
                hash(key)
            except TypeError:  # a list or dict argument: asked every time
                return self.ask(question)
            if key not in self.answers:
                answer = self.ask(question)
                if not isinstance(answer, _IMMUTABLE):
                    return answer
                self.answers[key] = answer
            if len(self.asked) < QUESTIONS_KEPT:
                self.asked[key] = None
            return self.answers[key]
        call.__name__ = name
        return call


# Questions of one step answered in advance for the next (a runaway step's thousands are not).
QUESTIONS_KEPT = 64


class ElementSlot:
    """A few bytes of memory both processes map: the name of the element the step is at, so a
    step the kernel ended for its CPU time can still be reported where it stopped."""

    def __init__(self, fd: int):
        self.fd = fd
        self._map = mmap.mmap(fd, ELEMENT_BYTES)

    @classmethod
    def create(cls) -> ElementSlot:
        fd = os.memfd_create("duban-step-element")
        os.ftruncate(fd, ELEMENT_BYTES)
        return cls(fd)

    def write(self, name: str) -> None:
        self._map[:] = name.encode("utf-8")[:ELEMENT_BYTES - 1].ljust(ELEMENT_BYTES, b"\0")

    def clear(self) -> None:
        self._map[:] = bytes(ELEMENT_BYTES)

    def read(self) -> str:
        return self._map[:].split(b"\0", 1)[0].decode("utf-8", "ignore")

    def close(self) -> None:
        self._map.close()
        os.close(self.fd)


def main(argv: list[str]) -> None:
    """The step process's entry: its socket and element slot are inherited descriptors."""
    conn = Connection(int(argv[0]))
    element = ElementSlot(int(argv[1]))
    child_main(conn, element, conn.recv())


def child_main(conn, element: ElementSlot, limits: Limits) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the parent, which then closes us
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    spiff_level(logging.WARNING)  # nothing below is heard here
    details_only_when_heard()
    waiting_tasks_by_stack()
    parent = _Parent(conn, limits.max_calls)
    runtime = Runtime(_StepClock(), live_size=limits.live_workflows)
    runtime.watch = element.write
    tentative: OrderedDict = OrderedDict()
    tokens = itertools.count(1)
    while True:
        try:
            kind, request = conn.recv()
        except (EOFError, OSError):
            return
        if kind != "step":
            return
        _apply_keeps(runtime, tentative, request["keeps"])
        # Two answers: the snapshot without the state ("done"), then the state ("state"): the parent
        # projects tasks, history and notifications while this process serialises the workflow.
        with _budget(limits), using_limits(limits.engine):
            run = _guarded(conn, element, _step, parent, runtime, tentative, request)
            snapshot = _FAILED if run is _FAILED else _guarded(conn, element, _snapshot, run, request, parent, element)
            token = next(tokens)
            if snapshot is _FAILED or _guarded(conn, element, conn.send, ("done", token, snapshot)) is _FAILED:
                continue
            state = _guarded(conn, element, _state, run, limits, element)
        if state is _FAILED:
            continue
        conn.send(("state", state))  # past the budget, as large as the state limit allows
        tentative[token] = (request["instance_id"], run.workflow)
        while len(tentative) > _TENTATIVE_KEPT:
            tentative.popitem(last=False)


_FAILED = object()


def _guarded(conn, element: ElementSlot, work, *args):
    """What `work(*args)` returns; when it fails (over a budget, a step error), the failure is sent
    to the parent instead and _FAILED returned."""
    try:
        return work(*args)
    except MemoryError:
        conn.send(("failed", "memory", element.read(), ""))
    except TooManyCalls:
        conn.send(("failed", "calls", element.read(), ""))
    except ProcessError as error:
        kind = "memory" if _caused_by(error, MemoryError) else "process"
        conn.send(("failed", kind, element.read(), error.message))
    return _FAILED


def _apply_keeps(runtime: Runtime, tentative: OrderedDict, keeps: list) -> None:
    for token, instance_id, version in keeps:
        entry = tentative.pop(token, None)
        if entry is not None:
            runtime.keep(instance_id, version, ProcessRun(runtime, entry[1]))


def _step(parent: _Parent, runtime: Runtime, tentative: OrderedDict, request: dict) -> ProcessRun:
    runtime.clock.reading = request["now"]
    parent.new_step(request.get("answers") or {})
    functions = {name: parent.function(name) for name in request["functions"]}
    definition = _definition(parent, runtime, request["spec"], "files")
    op, args = request["op"], request["args"]
    if op == "start":
        run = runtime.start(definition, args["data"], functions)
        if args.get("message"):
            run.send_message(*args["message"])
        return run
    base = tentative.pop(request["base"], None) if request["base"] is not None else None
    if base is not None:
        run = ProcessRun(runtime, base[1])
        runtime.attach(run, functions)
    else:
        run = runtime.load(definition, lambda: parent.ask(("need", "state")), functions,
                           request["instance_id"], request["version"])
    if op == "advance":
        run.advance()
    elif op == "complete":
        run.complete(args["task_id"], args["data"])
    elif op == "message":
        run.send_message(args["name"], args["payload"])
    elif op == "error":
        run.throw_error(args["task_id"], args["code"], args["payload"])
    elif op == "recalculate":
        run.recalculate_timers()
    elif op == "problems":
        run.problems = runtime.migration_problems(run, _definition(parent, runtime, args["target"], "target_files"))
    elif op == "migrate":
        runtime.migrate(run, _definition(parent, runtime, args["target"], "target_files"))
    elif op != "inspect":
        raise ProcessError(f"unknown step {op!r}")
    return run


def _definition(parent: _Parent, runtime: Runtime, spec: tuple, files_key: str):
    key, spec_id = spec
    files = None if runtime.has_specs(spec_id) else parent.ask(("need", files_key))
    return SimpleNamespace(id=spec_id, key=key, files=files)


def _snapshot(run: ProcessRun, request: dict, parent: _Parent, element) -> Snapshot:
    """The step's result but its state (see _state), refused when a value is not storable."""
    # First: projecting evaluates timers not yet scheduled and stores their due time in the
    # workflow, which the saved state must hold (a reload would otherwise schedule them anew).
    tasks = run.open_tasks()
    human, timers = run.projection(tasks)
    data = run.data()
    _check_storable(run, tasks, element.read() or text("step.unknown_element"))
    return Snapshot(state=None, human_tasks=human, timers=timers, data=data, completed=run.completed,
                    log=run.log,
                    # only asked for after a message found no taker (one more walk of the task tree)
                    waiting_messages=run.waiting_messages() if request["op"] == "inspect" else [],
                    problems=getattr(run, "problems", []), questions=parent.questions())


def _state(run: ProcessRun, limits: Limits, element) -> str:
    """The workflow serialised, refused when it or a value is larger than the limits allow."""
    where = element.read() or text("step.unknown_element")
    try:
        state = run.dumps()
    except (TypeError, ValueError) as error:
        raise ProcessError(text("step.value_type", element=where, name=_unstorable(run) or "?",
                                kind=type(error).__name__)) from None
    # The state holds the data (in UTF-8, as the values are measured): a state within the value and
    # data limits needs no measuring value by value.
    size = len(state.encode())
    if size > min(limits.max_value_bytes, limits.max_data_bytes):
        _check_sizes(run.data(), limits, where)
    if size > limits.max_state_bytes:
        raise ProcessError(text("step.state_too_large", element=where, size=size, limit=limits.max_state_bytes))
    return state


def _check_storable(run: ProcessRun, tasks: list, where: str) -> None:
    name = _unstorable(run, tasks)
    if name is not None:
        raise ProcessError(text("step.value_type", element=where, name=name, kind=_kind_of(run, tasks, name)))


def _check_sizes(data: dict, limits: Limits, where: str) -> None:
    total = 0
    for key, value in data.items():
        size = len(json.dumps(value, ensure_ascii=False, default=str).encode())
        if size > limits.max_value_bytes:
            raise ProcessError(text("step.value_too_large", element=where, name=key, size=size,
                                    limit=limits.max_value_bytes))
        total += size
    if total > limits.max_data_bytes:
        raise ProcessError(text("step.data_too_large", element=where, size=total, limit=limits.max_data_bytes))


_STORABLE = (str, int, float, bool, type(None))
_IMMUTABLE = (*_STORABLE, date, datetime, timedelta)
_PLAIN = frozenset((str, int, bool, type(None)))


def _unstorable(run: ProcessRun, tasks=None) -> str | None:
    """The first variable of the open tasks' data that cannot be stored (bytes, a generator, ...)."""
    for task_data in run.task_data(tasks):
        for key, value in task_data.items():
            if not _storable(value):
                return str(key)
    return None


def _kind_of(run: ProcessRun, tasks: list, name: str) -> str:
    for task_data in run.task_data(tasks):
        if name in task_data:
            value = task_data[name]
            return repr(value) if isinstance(value, float) else type(value).__name__
    return "?"


def _storable(value, depth: int = 0) -> bool:
    if type(value) in _PLAIN:  # most values: one look (subclasses go the longer way below)
        return True
    if isinstance(value, float):
        return math.isfinite(value)  # NaN and infinities are not JSON (PostgreSQL refuses them)
    if isinstance(value, _STORABLE):
        return True
    if depth > 50:
        return False
    if isinstance(value, (list, tuple)):
        return all(_storable(v, depth + 1) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _storable(v, depth + 1) for k, v in value.items())
    return isinstance(value, (date, datetime, timedelta))


def _caused_by(error: BaseException, kind: type) -> bool:
    seen = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, kind):
            return True
        seen.add(id(error))
        error = getattr(error, "error", None) if isinstance(getattr(error, "error", None), BaseException) \
            else (error.__cause__ or error.__context__)
    return False


@contextmanager
def _budget(limits: Limits):
    """RLIMIT_CPU and RLIMIT_AS for one step: over the CPU limit the kernel ends the process
    (SIGXCPU), over the memory limit allocation raises MemoryError."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu_soft = math.ceil(usage.ru_utime + usage.ru_stime + limits.cpu_s)
    _, cpu_hard = resource.getrlimit(resource.RLIMIT_CPU)
    _, as_hard = resource.getrlimit(resource.RLIMIT_AS)
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_soft, cpu_hard))
    resource.setrlimit(resource.RLIMIT_AS, (_address_space() + limits.memory_mb * 1024 * 1024, as_hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (as_hard, as_hard))
        resource.setrlimit(resource.RLIMIT_CPU, (cpu_hard, cpu_hard))


def _address_space() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")

