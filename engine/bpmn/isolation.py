"""Engine steps in child processes, each under a budget of CPU time, memory and size.

Scripts and expressions in a diagram are code a designer wrote. Run in the web or worker process,
one C-level call (`sum(range(3*10**9))`) holds the GIL and freezes every request, and one string
can take gigabytes. So every step — start, complete, fire timers, deliver a message, recalculate,
migrate — runs in a child process: the parent sends the request and serves the engine functions
the step calls (they read the database), the child loads the workflow, runs the step under
RLIMIT_CPU and RLIMIT_AS, checks the size of what it produced and answers with a snapshot of the
new state. Over a budget the child is killed (CPU, wall clock) or fails the step (memory, size);
the parent raises ProcessError naming the element, and the caller's transaction commits nothing.

A killed child is replaced by a fresh interpreter at the next step (about half a second). Each
child keeps parsed specs (by content) and the workflows of the steps its parent committed, so a
step on a warm instance sends neither files nor state.

A child answers a step in two parts: the snapshot (tasks, timers, data, what the step passed), then
the serialised state. The parent projects the snapshot (tasks, history, notifications) while the
child serialises, and takes the state at its transaction's first flush (services.process). Whoever
reads a child's socket next takes the states waiting on it first, each to its own run; a state that
fails (over a limit, the child ended) fails its run's transaction when it is asked for.
"""
from __future__ import annotations

import hashlib
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import OrderedDict, deque
from contextlib import contextmanager
from multiprocessing.connection import Connection

from ..errors import DubanError, ProcessError
from ..lru import Lru
from ..texts import text
from .runtime import HumanTaskView, StepLog, TimerView
from .step_process import ElementSlot, Limits, Snapshot
from .timers import ARMED_AT

log = logging.getLogger(__name__)

# A step that has used this much CPU is lowered to this niceness: ordinary steps use milliseconds
# (a fresh process parsing its first specs, a few hundred), and a runaway one must not slow
# sign-in and the inbox while it uses up its budget.
DEMOTE_AFTER_CPU_S = 1.0
DEMOTED_NICENESS = 15
_WATCH_S = 0.25


# -- the parent's side ------------------------------------------------------------------------

class IsolatedRuntime:
    """The runtime services use: Runtime's interface, each step run by a child process."""

    def __init__(self, clock, limits: Limits | None = None):
        self.clock = clock
        self.limits = limits or Limits()
        self.pool = _pool(self.limits)
        # Children are shared by every runtime of a process (tests bootstrap many, on several
        # databases); a child's cached workflows are keyed by runtime and instance.
        self.scope = uuid.uuid4().hex
        # The questions each instance's last committed step asked of the engine functions: answered
        # before its next step and sent with it, instead of one round trip each while it runs.
        self.questions = Lru(_HOMES_KEPT)

    def start(self, definition, data: dict, functions: dict, message: tuple | None = None) -> RemoteRun:
        """A new instance, run to its first wait; `message` (name, payload) is delivered to it in
        the same step (a process that starts on a message)."""
        run = RemoteRun(self, definition, None, functions, None, None)
        run._request("start", data=data, message=message)
        return run

    def load(self, definition, state, functions: dict, instance_id=None, version=None) -> RemoteRun:
        return RemoteRun(self, definition, state, functions, instance_id, version)

    def keep(self, instance_id: int, version: int, run: RemoteRun) -> None:
        """The step's transaction committed: its child may reuse the workflow for the next step."""
        if run.child is not None and run.token is not None:
            self.pool.confirm(run.child, run.token, (self.scope, instance_id), version)
        if run.snapshot is not None:
            self.questions[instance_id] = run.snapshot.questions

    def migration_problems(self, run: RemoteRun, definition) -> list[str]:
        run.target = definition
        run._request("problems", target=_spec_ref(definition))
        return list(run.snapshot.problems)

    def migrate(self, run: RemoteRun, definition) -> None:
        run.target = definition
        run._request("migrate", target=_spec_ref(definition))

    def warm(self) -> None:
        """Start the children now rather than on the first step (a server's first request)."""
        self.pool.warm()


class RemoteRun:
    """A workflow loaded for one operation, living in a child; reads come from its last snapshot."""

    def __init__(self, runtime: IsolatedRuntime, definition, state, functions, instance_id, version):
        self.runtime = runtime
        self.definition = definition
        self._state = state
        self.functions = functions
        self.instance_id = instance_id
        self.version = version
        self.snapshot: Snapshot | None = None
        self.target = None  # the definition a migration goes to
        self._last_op = None
        self.child = None
        self.token = None
        # The child whose socket still holds this run's state (sent after its snapshot), and a
        # failure of that part of the step, raised when the state is asked for.
        self.state_from: _Child | None = None
        self.state_error: ProcessError | None = None

    # -- changing state (one request each) -------------------------------------------------
    def advance(self) -> None:
        self._request("advance")

    def complete(self, task_id: str, data: dict) -> None:
        self._request("complete", task_id=task_id, data=data)

    def send_message(self, name: str, payload: dict) -> None:
        self._request("message", name=name, payload=payload)

    def throw_error(self, task_id: str, code: str, payload: dict) -> None:
        self._request("error", task_id=task_id, code=code, payload=payload)

    def recalculate_timers(self) -> None:
        self._request("recalculate")

    # -- reading state ------------------------------------------------------------------------
    def _read(self) -> Snapshot:
        if self.snapshot is None:
            self._request("inspect")
        return self.snapshot

    @property
    def log(self) -> StepLog:
        return self._read().log

    @property
    def completed(self) -> bool:
        return self._read().completed

    def waiting_messages(self) -> list[str]:
        if self._last_op != "inspect":  # only an inspection lists them (see step_process._snapshot)
            self._request("inspect")
        return list(self.snapshot.waiting_messages)

    def projection(self) -> tuple[list[HumanTaskView], list[TimerView]]:
        snapshot = self._read()
        return list(snapshot.human_tasks), list(snapshot.timers)

    def data(self) -> dict:
        return self._read().data

    def dumps(self) -> str:
        """The state the last step left; the child may still be serialising it (waits for it then)."""
        snapshot = self._read()
        if self.state_from is not None:
            self.state_from.collect(self, self.runtime.limits)
        if self.state_error is not None:
            raise self.state_error
        return snapshot.state

    def took_state(self, state: str | None, error: ProcessError | None = None) -> None:
        """The child's second answer to the last step: its state, or why it has none."""
        self.state_from = None
        if error is None:
            self.snapshot.state = state
        else:
            self.state_error = error

    # -- the exchange with a child --------------------------------------------------------------
    def _request(self, op: str, **args) -> None:
        if self.snapshot is not None:
            self.dumps()  # an operation after another goes on from its state: it must have one
        self._last_op = op
        request = {
            "op": op, "args": args, "instance_id": (self.runtime.scope, self.instance_id), "version": self.version,
            "spec": _spec_ref(self.definition), "now": self.runtime.clock.now(),
            "functions": sorted(self.functions), "base": None,
            "answers": self._answers_in_advance() if op != "start" else {},
        }
        preferred = self.child
        if self.snapshot is not None:
            request["base"] = self.token
        with self.runtime.pool.child(preferred, self.instance_id, self.runtime.scope) as child:
            if child is not self.child:
                request["base"] = None
            self.snapshot = None
            self.token, self.snapshot = child.exchange(request, self, self.runtime.limits)
            self.child = child

    def _answers_in_advance(self) -> dict:
        """Answers to the questions the instance's last step asked (the database is the same now as
        while the step runs: nothing is flushed in between). A refused question is left to be asked."""
        answers = {}
        for key in self.runtime.questions.get(self.instance_id, ()):
            name, args, kwargs, armed_at = key
            if name not in self.functions:
                continue
            try:
                answers[key] = self.call(name, args, dict(kwargs), armed_at)
            except _REFUSALS:
                continue
        return answers

    def need(self, what: str):
        """What a child asks for during a step: the saved state or a definition's files."""
        if what == "state":
            return self._state() if callable(self._state) else self._state
        if what == "files":
            return self.definition.files
        if what == "target_files":
            return self.target.files
        raise ProcessError(f"a step asked for {what!r}")

    def call(self, name: str, args, kwargs, armed_at):
        """An engine function a script called, run here where the database is."""
        token = ARMED_AT.set(armed_at)
        try:
            return self.functions[name](*args, **kwargs)
        finally:
            ARMED_AT.reset(token)


def _spec_ref(definition) -> tuple[str, str]:
    """A definition's spec identity by content: ids are reused across databases, contents are not."""
    checksum = getattr(definition, "checksum", None) or _files_digest(definition.files)
    return definition.key, f"{definition.key}:{checksum}"


def _files_digest(files: dict) -> str:
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(name.encode() + b"\0" + files[name].encode() + b"\0")
    return digest.hexdigest()


class _Child:
    """One step process and the parent's end of its socket.

    A fresh interpreter (`python -c ...`), not multiprocessing's fork or spawn: forking a
    threaded server copies its locks, and spawn re-runs the parent's main script in the child.
    """

    def __init__(self, limits: Limits, index: int):
        self.index = index
        self.element = ElementSlot.create()
        ours, theirs = socket.socketpair()
        with theirs:
            self.process = subprocess.Popen(
                [sys.executable, "-c", _CHILD_ENTRY, str(theirs.fileno()), str(self.element.fd)],
                pass_fds=(theirs.fileno(), self.element.fd), stdin=subprocess.DEVNULL, env=_child_env())
        self.conn = Connection(ours.detach())
        self.conn.send(limits)
        self.pending_keeps: list = []
        # Runs whose state this child has still to send, in the order it sends them; whoever reads
        # the socket next (the run asking for its state, or the next step) takes them first.
        self.awaiting: deque[RemoteRun] = deque()
        self._reading = threading.RLock()
        self.busy = False
        self.demoted = False

    @property
    def alive(self) -> bool:
        return self.process.poll() is None and not self.demoted

    def _cpu_seconds(self) -> float:
        """CPU time the step process has used (user and system), from /proc."""
        try:
            with open(f"/proc/{self.process.pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0
        return (int(fields[11]) + int(fields[12])) / _TICKS

    def _demote(self) -> None:
        """A long step yields the CPU to people's requests. Its process cannot be raised again
        without privilege, so it is replaced once the step ends (`alive` turns false)."""
        self.demoted = True
        try:
            os.setpriority(os.PRIO_PROCESS, self.process.pid, DEMOTED_NICENESS)
        except OSError:
            pass  # it has just ended

    def exchange(self, request: dict, run: RemoteRun, limits: Limits):
        """Send a step and serve the child's questions until it answers; raises ProcessError."""
        request["keeps"], self.pending_keeps = self.pending_keeps, []
        self.element.clear()
        self.conn.send(("step", request))
        deadline = time.monotonic() + limits.wall_s
        cpu_at_start = self._cpu_seconds()
        while True:
            remaining = deadline - time.monotonic()
            wait = remaining if self.demoted else min(remaining, _WATCH_S)
            if remaining <= 0 or not self.conn.poll(max(wait, 0)):
                if not self.demoted and remaining > 0:
                    if self._cpu_seconds() - cpu_at_start >= DEMOTE_AFTER_CPU_S:
                        self._demote()
                    continue
                raise self._timed_out(limits)
            message = self._recv(limits)
            kind = message[0]
            if kind == "done":
                with self._reading:
                    self.awaiting.append(run)
                    run.state_from = self
                return message[1], message[2]
            if kind == "failed":
                if message[1] == "memory":
                    self.kill()  # its heap may stay large; a fresh child costs little
                raise ProcessError(_failure(message, limits))
            try:
                answer = _answer(message, run)
            except BaseException:
                self.kill()  # it waits for an answer that will not come
                raise
            self.conn.send(answer)

    def collect(self, run: RemoteRun | None, limits: Limits) -> None:
        """Read states off the socket, each to its run, until `run` has its own (None: all of them)."""
        with self._reading:
            while self.awaiting and (run is None or run.state_from is self):
                head = self.awaiting.popleft()
                try:
                    head.took_state(self._receive_state(limits))
                except ProcessError as error:
                    head.took_state(None, error)

    def _receive_state(self, limits: Limits) -> str:
        if self.conn.closed:
            raise ProcessError(text("step.crashed", element=self._element()))
        if not self.conn.poll(limits.wall_s):
            raise self._timed_out(limits)
        message = self._recv(limits)
        if message[0] == "state":
            return message[1]
        if message[0] == "failed" and message[1] == "memory":
            self.kill()
        raise ProcessError(_failure(message, limits))

    def _recv(self, limits: Limits):
        try:
            return self.conn.recv()
        except (EOFError, OSError):
            raise self._died(limits) from None

    def _timed_out(self, limits: Limits) -> ProcessError:
        """Past the wall clock: the child is ended, the step fails naming where it was."""
        element = self._element()
        self.kill()
        return ProcessError(text("step.wall", element=element, seconds=_seconds(limits.wall_s)))

    def _died(self, limits: Limits) -> ProcessError:
        code, element = self.process.wait(timeout=5), self._element()
        self.kill()
        if code in (-signal.SIGXCPU, -signal.SIGKILL):
            return ProcessError(text("step.cpu", element=element, seconds=_seconds(limits.cpu_s)))
        log.error("step process %s ended with code %s", self.process.pid, code)
        return ProcessError(text("step.crashed", element=element))

    def _element(self) -> str:
        try:
            return self.element.read() or text("step.unknown_element")
        except ValueError:  # the slot went with the process (kill)
            return text("step.unknown_element")

    def kill(self) -> None:
        with self._reading:  # a run waiting for its state from this child learns it will not come
            while self.awaiting:
                self.awaiting.popleft().took_state(None, ProcessError(text("step.crashed", element=self._element())))
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=5)
        if not self.conn.closed:
            self.conn.close()
            self.element.close()


# What an engine function raises when it refuses its arguments (anything else fails the step).
_REFUSALS = (DubanError, ValueError, TypeError, LookupError, ArithmeticError)


def _answer(message, run: RemoteRun):
    try:
        if message[0] == "need":
            return ("value", run.need(message[1]))
        _, name, args, kwargs, armed_at = message
        return ("value", run.call(name, args, kwargs, armed_at))
    except _REFUSALS as error:
        # The function refused its arguments: the script sees that. Anything else (the database
        # failed the parent) abandons the step, and the caller's transaction with it.
        message_text = getattr(error, "message", None) or str(error)
        return ("raise", message_text)


def _failure(message, limits: Limits) -> str:
    _, kind, element, detail = message
    element = element or text("step.unknown_element")
    if kind == "memory":
        return text("step.memory", element=element, megabytes=limits.memory_mb)
    if kind == "calls":
        return text("step.too_many_calls", element=element, limit=limits.max_calls)
    return detail


def _seconds(value: float) -> str:
    return f"{value:g}"


class _Pool:
    """The children of one process, shared by its threads (and by every Duban it bootstraps)."""

    def __init__(self, limits: Limits):
        self.limits = limits
        self._children: list[_Child | None] = [None] * max(1, limits.processes)
        self._ready = threading.Condition()
        # The slot whose child last kept each instance's workflow (a new instance's first step ran in
        # whichever child was free, not in the slot its id falls to): its next step goes there.
        self._homes: OrderedDict = OrderedDict()

    @contextmanager
    def child(self, preferred: _Child | None, instance_id, scope=None):
        child = self._checkout(preferred, instance_id, scope)
        try:
            yield child
        finally:
            if child.demoted:
                child.collect(None, self.limits)  # the long step's state, before its process goes
            with self._ready:
                child.busy = False
                if child.demoted:
                    child.kill()
                self._ready.notify()

    def _checkout(self, preferred, instance_id, scope=None) -> _Child:
        with self._ready:
            while True:
                index = self._pick(preferred, instance_id, scope)
                if index is not None:
                    break
                self._ready.wait()
            child = self._children[index]
            if child is None or not child.alive:
                child = self._children[index] = self._spawn(index)
            child.busy = True
        # The states of the steps it ran before come first on its socket; a child that failed while
        # serialising one (ended, as over its memory budget) is replaced.
        child.collect(None, self.limits)
        if child.alive:
            return child
        with self._ready:
            child = self._children[index] = self._spawn(index)
            child.busy = True
            return child

    def _pick(self, preferred, instance_id, scope=None):
        """An idle slot: the preferred child, the instance's own slot (warm cache), or any."""
        slots = self._children
        order = []
        if preferred is not None and preferred in slots:
            order.append(slots.index(preferred))
        if instance_id is not None:
            order.append(self._homes.get((scope, instance_id), instance_id % len(slots)))
        order.extend(range(len(slots)))
        return next((i for i in order if slots[i] is None or not slots[i].busy), None)

    def _spawn(self, index: int) -> _Child:
        return _Child(self.limits, index)

    def confirm(self, child: _Child, token: int, instance_id: tuple, version: int) -> None:
        with self._ready:
            if self._children[child.index] is child:
                child.pending_keeps.append((token, instance_id, version))
                self._homes[instance_id] = child.index
                self._homes.move_to_end(instance_id)
                while len(self._homes) > _HOMES_KEPT:
                    self._homes.popitem(last=False)

    def warm(self) -> None:
        with self._ready:
            for index, child in enumerate(self._children):
                if child is None or not child.alive:
                    self._children[index] = self._spawn(index)


_HOMES_KEPT = 4096
_POOLS: dict = {}
_POOLS_LOCK = threading.Lock()


def _pool(limits: Limits) -> _Pool:
    with _POOLS_LOCK:
        key = (os.getpid(), limits)
        if key not in _POOLS:
            _POOLS[key] = _Pool(limits)
        return _POOLS[key]


# Step processes run a little below the web and worker threads (niceness 5: people's requests come
# first when the CPU is short) and are lowered further when a step runs long (see _demote).
_TICKS = os.sysconf("SC_CLK_TCK")
_CHILD_ENTRY = "import os, sys; os.nice(5); from engine.bpmn.step_process import main; main(sys.argv[1:])"


def _child_env() -> dict:
    """The parent's environment, and its import path, so the child runs the same code."""
    return {**os.environ, "PYTHONPATH": os.pathsep.join(path for path in sys.path if path)}

