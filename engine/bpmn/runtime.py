"""The engine's one door to SpiffWorkflow: compile, start, load, step, complete, fire, dump.

Everything leaving this module is our own dataclasses and plain JSON-able values.
"""
from __future__ import annotations

import difflib
import hashlib
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnEvent, BpmnWorkflow
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.mixins import UserTaskMixin
from SpiffWorkflow.bpmn.util.diff import diff_workflow
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.util.task import TaskState

from ..errors import DeploymentInvalid, ProcessError
from ..texts import TEXTS, text as catalogue_text
from . import decisions, external, inspect as inspection, spiff_compat, timers, walk, xml
from .parser import SpecError, build_specs
from .sandbox import SandboxedScriptEngine
from .serializer import StateSerializer

# A process that runs this many automatic steps in one go is looping, not working.
MAX_ENGINE_STEPS = 5_000


@dataclass(frozen=True)
class CompiledProcess:
    """One executable process of a deployment, checked and ready to store."""

    key: str
    name: str
    checksum: str
    files: dict
    forms: dict
    elements: dict
    warnings: list


@dataclass(frozen=True)
class HumanTaskView:
    id: str
    element_id: str
    name: str
    kind: str
    data: dict
    unit: str | None


@dataclass(frozen=True)
class TimerView:
    id: str
    element_id: str
    name: str
    due_at: datetime
    unit: str | None


@dataclass(frozen=True)
class FiredTimer:
    id: str
    element_id: str
    name: str
    unit: str | None = None


@dataclass
class StepLog:
    """What the last operation did automatically: timers fired, elements passed."""

    fired_timers: list = field(default_factory=list)
    passed: list = field(default_factory=list)


def compile_bundle(files: dict, form_files: dict, max_bytes: int, resolve=None,
                   resolve_decision=None) -> list[CompiledProcess]:
    """Check BPMN files and their forms; raises DeploymentInvalid with one detail per problem.

    `resolve(key)` may supply the files of an already deployed process that a call activity
    needs ({filename: xml}); those are parsed for reference but not compiled again. DMN files
    among `files` give the decisions business rule tasks name; `resolve_decision(id)` may supply
    a deployed one ((filename, xml)), which the process then carries in its own files.
    """
    documents = _load_all(files, max_bytes)
    texts = {name: (data.decode("utf-8") if isinstance(data, bytes) else data) for name, data in files.items()}
    tables = {name: root for name, root in documents.items() if xml.is_dmn(root)}
    documents = {name: root for name, root in documents.items() if name not in tables}
    if tables:
        compile_decisions({name: texts[name] for name in tables}, max_bytes)  # every cell through the sandbox
    found = inspection.inspect(documents, form_files)
    _add_called(found, documents, texts, form_files, resolve)
    by_decision = _decisions_available(found, tables, texts, resolve_decision)
    executable = [p for p in found.processes.values() if p.executable and p.filename in files]
    if not found.errors and not executable and tables and len(tables) == len(files):
        return []  # decision tables deployed on their own
    if not found.errors and not executable:
        keys = "、".join(found.processes) or catalogue_text("deploy.no_processes")
        found.errors.append({"file": next(iter(files), None), "element": None, "line": None,
                             "message": catalogue_text("deploy.no_executable", keys=keys)})
    if found.errors:
        raise DeploymentInvalid(_summary(found.errors), found.errors)
    compiled = []
    for process in executable:
        used = {n: tables[n] for n in _decision_files(process.key, found.processes, by_decision)}
        try:
            build_specs({**documents, **used}, process.key)
        except SpecError as error:
            detail = error.as_detail()
            detail["file"] = detail["file"] or process.filename
            raise DeploymentInvalid(catalogue_text("deploy.in_file", file=detail["file"], problem=detail["message"]),
                                    [detail]) from None
        needed = {n: texts[n] for n in _files_for(process.key, found.processes) + sorted(used)}
        forms = {key: found.forms[key] for key in _form_keys(process) if key in found.forms}
        compiled.append(CompiledProcess(
            key=process.key, name=process.name, checksum=_checksum(needed, forms), files=needed,
            forms=forms, elements=process.elements(),
            warnings=[w for w in found.warnings if w["file"] in needed],
        ))
    return compiled


def _load_all(files: dict, max_bytes: int) -> dict:
    documents, errors = {}, []
    for filename, data in files.items():
        try:
            documents[filename] = xml.load(data, max_bytes)
        except xml.XmlRefused as error:
            errors.append({"file": filename, "element": None, "line": error.line, "message": str(error)})
    if errors:
        raise DeploymentInvalid(_summary(errors), errors)
    return documents


def compile_decisions(files: dict, max_bytes: int) -> list[decisions.CompiledDecision]:
    """The DMN decisions among `files`, each checked (engine/bpmn/decisions.py); BPMN files are left to
    compile_bundle. DeploymentInvalid with one detail per problem, as for BPMN."""
    compiled, problems, seen = [], [], {}
    for name, root in _load_all(files, max_bytes).items():
        if not xml.is_dmn(root):
            continue
        source = files[name].decode("utf-8") if isinstance(files[name], bytes) else files[name]
        try:
            decision = decisions.check(name, root, source)
        except decisions.DecisionRefused as refused:
            problems.extend(refused.problems)
            continue
        if decision.key in seen:
            problems.append({"file": name, "element": decision.key, "line": None, "rule": "dmn",
                             "message": catalogue_text("deploy.decision_duplicate", decision=decision.key,
                                                       first=seen[decision.key], second=name)})
        seen[decision.key] = name
        compiled.append(decision)
    if problems:
        raise DeploymentInvalid(_summary(problems), problems)
    return compiled


def _decisions_available(found, tables: dict, texts: dict, resolve_decision) -> dict:
    """{decision id: file name} for every decision a business rule task names: from the upload, else
    the deployed one (added to `tables` and `texts` as `deployed:decision:<id>.dmn`). Decisions found
    nowhere are problems of `found`, naming their elements."""
    available = {}
    for name, root in tables.items():
        for decision in decisions.decision_ids(root):
            available.setdefault(decision, name)
    named = {decision for info in found.processes.values() for decision, _ in info.decisions}
    for decision in sorted(named - set(available)):
        deployed = resolve_decision(decision) if resolve_decision else None
        if deployed is not None:
            name = f"deployed:decision:{decision}.dmn"
            texts[name], tables[name] = deployed, xml.load(deployed, 1 << 30)
            available[decision] = name
    inspection.check_decisions(found, lambda decision: decision in available)
    return available


def _decision_files(key: str, processes: dict, by_decision: dict) -> list[str]:
    """The DMN files the business rule tasks of a process, and of the processes it calls, need."""
    seen, stack, names = set(), [key], set()
    while stack:
        current = stack.pop()
        if current in seen or current not in processes:
            continue
        seen.add(current)
        names.update(by_decision[d] for d, _ in processes[current].decisions if d in by_decision)
        stack.extend(called for called, _ in processes[current].calls)
    return sorted(names)


def _add_called(found, documents: dict, texts: dict, form_files: dict, resolve) -> None:
    """Bring in deployed processes that call activities name but the upload does not hold."""
    if resolve is None:
        return
    for _ in range(20):  # a chain of calls, resolved a level at a time
        missing = {called for info in found.processes.values() for called, _ in info.calls
                   if called not in found.processes}
        extra = {}
        for key in missing:
            for name, text in (resolve(key) or {}).items():
                extra[f"deployed:{key}/{name}"] = text
        extra = {name: text for name, text in extra.items() if name not in documents}
        if not extra:
            return
        for name, text in extra.items():
            documents[name] = xml.load(text, 1 << 30)
            texts[name] = text
        refreshed = inspection.inspect(documents, form_files)
        found.processes, found.forms = refreshed.processes, refreshed.forms
        found.errors, found.warnings = refreshed.errors, refreshed.warnings


def _summary(errors: list) -> str:
    first = errors[0]
    summary = catalogue_text("deploy.in_file", file=first["file"], problem=first["message"])
    return catalogue_text("deploy.and_more", problem=summary, count=len(errors) - 1) if len(errors) > 1 else summary


def _files_for(key: str, processes: dict) -> list[str]:
    names, seen, stack = [], set(), [key]
    while stack:
        current = stack.pop()
        if current in seen or current not in processes:
            continue
        seen.add(current)
        if processes[current].filename not in names:
            names.append(processes[current].filename)
        stack.extend(called for called, _ in processes[current].calls)
    return sorted(names)


def _form_keys(process) -> list[str]:
    start = [process.start_form] if getattr(process, "start_form", None) else []  # the 发起 page's form
    return [t.form for t in process.human_tasks.values() if t.form] + start


def bundle_checksum(files: dict, forms: dict) -> str:
    """What tells one version's content from another's: its files and forms."""
    return _checksum(files, forms)


def _checksum(files: dict, forms: dict) -> str:
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(name.encode() + b"\0" + files[name].encode() + b"\0")
    for key in sorted(forms):
        digest.update(key.encode() + b"\0" + repr(sorted(forms[key].items())).encode() + b"\0")
    return digest.hexdigest()


class Runtime:
    """Parsed specs (cached per definition) and the means to run workflows on them."""

    def __init__(self, clock, cache_size: int = 64, live_size: int = 512):
        self.clock = clock
        self._specs: OrderedDict = OrderedDict()
        self._cache_size = cache_size
        # Workflows as the last committed operation left them, by instance: (version, workflow).
        # Reusing one skips deserialising; a version mismatch (another process wrote) skips the cache.
        self._live: OrderedDict = OrderedDict()
        self._live_size = live_size
        self._lock = threading.Lock()
        self._serializer = StateSerializer()
        # Told the name of each element as a step reaches it (the step process reports it, so a
        # step stopped for its budget names where it was).
        self.watch = None

    def has_specs(self, definition_id) -> bool:
        with self._lock:
            return definition_id in self._specs

    def specs(self, definition_id: int, key: str, files: dict):
        with self._lock:
            if definition_id in self._specs:
                self._specs.move_to_end(definition_id)
                return self._specs[definition_id]
        documents = {name: xml.load(text, 1 << 30) for name, text in files.items()}
        built = build_specs(documents, key)
        with self._lock:
            self._specs[definition_id] = built
            while len(self._specs) > self._cache_size:
                self._specs.popitem(last=False)
        return built

    def start(self, definition, data: dict, functions: dict) -> ProcessRun:
        spec, subprocesses = self.specs(definition.id, definition.key, definition.files)
        with _spiff_errors():
            workflow = BpmnWorkflow(spec, subprocesses, script_engine=self._engine(functions))
        workflow.task_tree.data.update(data)
        run = ProcessRun(self, workflow)
        run.advance()
        return run

    def load(self, definition, state, functions: dict, instance_id=None, version=None) -> ProcessRun:
        """The workflow of an instance; `state` is its saved JSON, or a callable giving it (read only
        when the live workflow of this version is not cached)."""
        workflow = self._checkout(instance_id, version)
        if workflow is not None:
            workflow.script_engine = self._engine(functions)
            return ProcessRun(self, workflow)
        spec, subprocesses = self.specs(definition.id, definition.key, definition.files)
        try:
            workflow = self._serializer.loads(state() if callable(state) else state, spec, subprocesses)
        except Exception as error:  # noqa: BLE001 - a state we cannot read is an incident, not a crash
            raise ProcessError(catalogue_text("run.state_unreadable", reason=error)) from None
        # deserialising attaches SpiffWorkflow's default (unsandboxed) engine: replace it at once.
        workflow.script_engine = self._engine(functions)
        return ProcessRun(self, workflow)

    def _checkout(self, instance_id, version):
        """Take a live workflow out of the cache (so no two operations share it), if current."""
        if instance_id is None:
            return None
        with self._lock:
            cached = self._live.pop(instance_id, None)
        return cached[1] if cached is not None and cached[0] == version else None

    def keep(self, instance_id: int, version: int, run: ProcessRun) -> None:
        """Remember a workflow once the transaction that saved it has committed."""
        with self._lock:
            self._live[instance_id] = (version, run.workflow)
            self._live.move_to_end(instance_id)
            while len(self._live) > self._live_size:
                self._live.popitem(last=False)

    def migration_problems(self, run: ProcessRun, definition) -> list[str]:
        """Why the instance cannot move to `definition` (empty when it can)."""
        return self._migration(run, definition)[0]

    def migrate(self, run: ProcessRun, definition) -> None:
        """Re-point the workflow's tasks at the new version's elements of the same id; nothing reruns.

        SpiffWorkflow's `migrate_workflow` re-points the same way but then resets every READY and
        WAITING task (a timer re-armed from now, a unit's instance losing its unit, prescripts run
        again), and no reset mask selects none: Duban only predicts anew the path out of a task whose
        outgoing flows changed (`spiff_compat.repredict`)."""
        problems, plan = self._migration(run, definition)
        if problems:
            raise ProcessError(catalogue_text("run.not_migratable"))
        subprocesses = self.specs(definition.id, definition.key, definition.files)[1]
        for workflow, target, diff in plan:
            rerouted = [task for task, new_spec in diff.alignment.items()
                        if task.has_state(TaskState.DEFINITE_MASK) and _outputs(task.task_spec) != _outputs(new_spec)]
            workflow.spec = target
            for task in workflow.tasks.values():
                task.task_spec = diff.alignment.get(task, task.task_spec)
            for task in rerouted:
                spiff_compat.repredict(task)
        run.workflow.subprocess_specs = subprocesses

    def _migration(self, run: ProcessRun, definition) -> tuple[list[str], list]:
        """SpiffWorkflow's diff of the instance against `definition`, with Duban's policy on top: every
        element the workflow has reached must exist, by id, in the new version (as Camunda maps
        activities; SpiffWorkflow would also match a renamed element by its place in the flow).
        Returns (problems, [(workflow, new spec, WorkflowDiff)] for the top workflow and each subprocess)."""
        spec, subprocesses = self.specs(definition.id, definition.key, definition.files)
        top, by_subprocess = diff_workflow(self._serializer.registry, run.workflow, spec, subprocesses)
        plan = [(run.workflow, spec, top)]
        problems = [f"element '{name}' does not exist in the new version" for name in _unmapped(top)]
        for sub_id, diff in by_subprocess.items():
            sub = run.workflow.subprocesses[sub_id]
            if diff is None:
                problems.append(f"subprocess '{sub.spec.name}' does not exist in the new version")
                continue
            plan.append((sub, subprocesses[sub.spec.name], diff))
            problems.extend(f"element '{name}' does not exist in the new version" for name in _unmapped(diff))
        return problems, plan

    def _engine(self, functions: dict) -> SandboxedScriptEngine:
        return SandboxedScriptEngine(functions, clock=self.clock)

    def attach(self, run: ProcessRun, functions: dict) -> None:
        """Give a workflow already in memory the sandbox with this operation's functions."""
        run.workflow.script_engine = self._engine(functions)

    def dumps(self, workflow) -> str:
        return self._serializer.dumps(workflow)


class ProcessRun:
    """A workflow loaded for one operation. On any error, throw it away: it may be half-run."""

    def __init__(self, runtime: Runtime, workflow: BpmnWorkflow):
        self.runtime = runtime
        self.workflow = workflow
        self.log = StepLog()

    def _begin(self) -> None:
        """A new operation: its own log, and its timers' expressions asked afresh (timers.due_at)."""
        self.log = StepLog()
        getattr(self.workflow.script_engine, "unscheduled", set()).clear()

    def _watch(self, spec) -> None:
        if self.runtime.watch is not None:
            self.runtime.watch(spec.bpmn_name or spec.bpmn_id)

    # -- changing state -------------------------------------------------------------------
    def advance(self) -> None:
        """Run automatic steps (due timers included) until only people or timers can move the process."""
        self._begin()
        self._advance()

    def _advance(self, refresh_first: bool = True) -> None:
        with _spiff_errors():
            steps = 0

            def count(task):
                nonlocal steps
                steps += 1
                if steps > MAX_ENGINE_STEPS:
                    raise ProcessError(catalogue_text("run.too_many_steps", limit=MAX_ENGINE_STEPS))
                spec = task.task_spec
                if spec.bpmn_id:  # SpiffWorkflow's own joins and start have none
                    self._watch(spec)
                    self.log.passed.append(spec.bpmn_id)
                if timers.timer_of(spec) is not None and spec.bpmn_id:
                    self.log.fired_timers.append(FiredTimer(str(task.id), spec.bpmn_id, spec.bpmn_name or spec.bpmn_id,
                                                            _unit_of(task)))

            cycles = self._cycles()
            if refresh_first:
                self.workflow.refresh_timers()
            walk.run_engine_steps(self.workflow, count)
            self._log_cycles_fired(cycles)

    def _cycles(self) -> dict:
        """Where each waiting repeating timer stands before a step."""
        if not timers.has_cycles(self.workflow):
            return {}
        return {task.id: (task, timers.cycle_mark(task)) for task in walk.tasks_in(self.workflow, TaskState.WAITING)
                if timers.cycle_mark(task) is not None}

    def _log_cycles_fired(self, before: dict) -> None:
        """A repeating timer fires without completing (its branch may start at a person's task, so
        no engine step runs): it fired when its position moved."""
        logged = {timer.id for timer in self.log.fired_timers}
        for task_id, (task, mark) in before.items():
            spec = task.task_spec
            if str(task_id) not in logged and timers.cycle_mark(task) != mark and spec.bpmn_id:
                self.log.fired_timers.append(FiredTimer(str(task_id), spec.bpmn_id, spec.bpmn_name or spec.bpmn_id,
                                                        _unit_of(task)))

    def human_task(self, task_id: str):
        task = self._task(task_id)
        if task is None or not task.task_spec.manual or task.state != TaskState.READY:
            return None
        return task

    def complete(self, task_id: str, data: dict) -> None:
        task = self.human_task(task_id)
        if task is None:
            raise ProcessError(catalogue_text("run.task_not_waiting", task=task_id))
        self._begin()
        self._watch(task.task_spec)
        with _spiff_errors():
            task.set_data(**data)
            task.run()
        self.log.passed.append(task.task_spec.bpmn_id)
        self._advance(refresh_first=False)

    def throw_error(self, task_id: str, code: str, payload: dict) -> None:
        """A BPMN error at an external task: caught by its own error boundary event for `code` (which
        cancels the task and goes on with `payload` as its data); ProcessError when none catches it."""
        task = self.human_task(task_id)
        if task is None or not isinstance(task.task_spec, external.ExternalTask):
            raise ProcessError(catalogue_text("run.task_not_waiting", task=task_id))
        catchers = external.error_catchers(task, code)
        if not catchers:
            raise ProcessError(catalogue_text("external.error_uncaught", code=code,
                                              element=task.task_spec.bpmn_name or task.task_spec.bpmn_id))
        self._begin()
        with _spiff_errors():
            catcher = catchers[0]
            catcher.task_spec.catch(catcher, BpmnEvent(catcher.task_spec.event_definition, payload=dict(payload)))
            catcher.task_spec._update(catcher)
            catcher.set_data(**payload)  # SpiffWorkflow's item-aware catch keeps the payload only by name
        self._advance(refresh_first=False)

    def waiting_messages(self) -> list[str]:
        return sorted({t.task_spec.event_definition.name for t in self._message_catchers()})

    def _message_catchers(self):
        return [t for t in walk.tasks_in(self.workflow, TaskState.WAITING)
                if isinstance(getattr(t.task_spec, "event_definition", None), MessageEventDefinition)]

    def send_message(self, name: str, payload: dict) -> None:
        """Deliver a message to the catch events waiting for it; its payload becomes process data."""
        catchers = [t for t in self._message_catchers() if t.task_spec.event_definition.name == name]
        if not catchers:
            raise ProcessError(catalogue_text("run.no_catcher", name=name))
        self._begin()
        with _spiff_errors():
            for task in catchers:
                task.set_data(**payload)
            self.workflow.send_event(BpmnEvent(catchers[0].task_spec.event_definition, payload=dict(payload)))
        self._advance()

    def recalculate_timers(self) -> None:
        """Evaluate the due times of every waiting timer again (deadline moved, calendar changed)."""
        self._begin()
        with _spiff_errors():
            for task in walk.tasks_in(self.workflow, TaskState.WAITING):
                timers.recalculate(task)
        self._advance()

    # -- reading state --------------------------------------------------------------------
    @property
    def completed(self) -> bool:
        # SpiffWorkflow's is_completed walks the tree from its root, through every finished task, to the
        # first unfinished one (twice a step): a look at each task answers "no" sooner.
        workflow, unfinished = self.workflow, TaskState.NOT_FINISHED_MASK
        if not workflow.completed and any(task._state & unfinished for task in workflow.tasks.values()):
            return False
        return workflow.is_completed()

    def open_tasks(self) -> list:
        """Every READY or WAITING task: one walk of the task tree, which a projection and the step's
        storability check share (see step_process._snapshot)."""
        return walk.tasks_in(self.workflow, TaskState.READY | TaskState.WAITING)

    def _open(self, tasks=None):
        """READY manual tasks and WAITING tasks, of `tasks` or of one walk of the task tree."""
        ready, waiting = [], []
        for task in tasks if tasks is not None else self.open_tasks():
            if task.state == TaskState.WAITING:
                waiting.append(task)
            elif task.task_spec.manual:
                ready.append(task)
        return ready, waiting

    def human_tasks(self, ready=None) -> list[HumanTaskView]:
        views = []
        for task in ready if ready is not None else self._open()[0]:
            spec = task.task_spec
            views.append(HumanTaskView(
                id=str(task.id), element_id=spec.bpmn_id, name=spec.bpmn_name or spec.bpmn_id,
                kind=_kind_of(spec),
                data=jsonable(task.data), unit=_unit_of(task),
            ))
        return views

    def projection(self, tasks=None) -> tuple[list[HumanTaskView], list[TimerView]]:
        """Open human tasks and waiting timers, from one walk of the task tree (or `open_tasks()`'s)."""
        ready, waiting = self._open(tasks)
        return self.human_tasks(ready), self.waiting_timers(waiting)

    def waiting_timers(self, waiting=None) -> list[TimerView]:
        views = []
        with _spiff_errors():
            for task in waiting if waiting is not None else self._open()[1]:
                if timers.timer_of(task.task_spec) is None:
                    continue
                due = timers.due_at(task)
                if due is None:
                    continue
                spec = task.task_spec
                views.append(TimerView(id=str(task.id), element_id=spec.bpmn_id,
                                       name=spec.bpmn_name or spec.bpmn_id, due_at=due, unit=_unit_of(task)))
        return views

    def task_data(self, tasks=None):
        """The data dicts a saved state carries forward: the workflow's and each open task's (`tasks`,
        when the caller walked the tree already)."""
        yield self.workflow.data
        for task in tasks if tasks is not None else self.open_tasks():
            yield task.data
        if self.workflow.last_task is not None:
            yield self.workflow.last_task.data

    def data(self) -> dict:
        if self.completed:
            return jsonable(self.workflow.data)
        last = self.workflow.last_task or self.workflow.task_tree
        return jsonable(last.data)

    def dumps(self) -> str:
        return self.runtime.dumps(self.workflow)

    def _task(self, task_id: str):
        try:
            return self.workflow.get_task_from_id(UUID(task_id))
        except (ValueError, SpiffWorkflowException, KeyError):
            return None


def _unmapped(diff) -> list[str]:
    """Ids of the reached elements a WorkflowDiff found no element of the same id for."""
    names = {task.task_spec.name for task in diff.removed}
    names.update(task.task_spec.name for task, new_spec in diff.alignment.items()
                 if new_spec.name != task.task_spec.name)
    return sorted(names)


def _outputs(task_spec) -> list[str]:
    return sorted(output.name for output in task_spec.outputs)


def _kind_of(spec) -> str:
    if isinstance(spec, external.ExternalTask):
        return "external"
    return "user" if isinstance(spec, UserTaskMixin) else "manual"


def _unit_of(task) -> str | None:
    unit = task.data.get("unit")
    return unit if isinstance(unit, str) else None


class _spiff_errors:
    """Turn what SpiffWorkflow or the sandbox raises into ProcessError with a readable message."""

    def __enter__(self):
        return self

    def __exit__(self, kind, error, _tb):
        if error is None or isinstance(error, ProcessError):
            return False
        if isinstance(error, RecursionError):
            raise ProcessError(catalogue_text("run.recursion")) from error
        if isinstance(error, Exception):
            try:
                message = _describe(error)
            except Exception:  # noqa: BLE001 - describing must not be what ends the step process
                message = f"{type(error).__name__}: {error}"
            raise ProcessError(message) from error
        return False


def _describe(error) -> str:
    """What SpiffWorkflow raised, for the incident: the element, where in it (a script's line, an
    expression, a decision table's row) and why, in the catalogue's words, with Python's own after them."""
    task = getattr(error, "task", None)
    element = (task.task_spec.bpmn_name or task.task_spec.bpmn_id) if task is not None else None
    cause = _root_cause(error)
    if cause is None:  # SpiffWorkflow's own refusal (a spec it cannot run): its words are all there is
        return f"{element}: {error}" if element else str(error)
    if cause is error and type(error).__module__.startswith("engine."):
        return str(error)  # ours, already in the catalogue's words (the sandbox, a timer's expression)
    where = _where(error)
    reason = str(cause) if type(cause).__module__.startswith("engine.") else _reason(cause, task)
    if element:
        return catalogue_text("run.failed_in", element=element, where=where, reason=reason)
    return catalogue_text("run.failed", reason=reason)


def _root_cause(error: BaseException) -> BaseException | None:
    """The exception a script, expression or rule raised, under SpiffWorkflow's wrapping."""
    seen = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if not isinstance(error, SpiffWorkflowException):
            return error
        error = getattr(error, "error", None) or error.__cause__ or error.__context__
    return None


_ROW = re.compile(r"on row (\d+)")
_EXPRESSION = re.compile(r"^Error evaluating expression '(.*)'$", re.S)


def _where(error) -> str:
    notes = [str(error.args[0]) if error.args else "", *getattr(error, "notes", [])]
    for note in notes:
        row = _ROW.search(note)
        if row:
            return catalogue_text("run.where_row", row=row.group(1))
    if getattr(error, "line_number", None):
        return catalogue_text("run.where_line", line=error.line_number)
    for note in notes:
        expression = _EXPRESSION.match(note)
        if expression:
            return catalogue_text("run.where_expression", expression=expression.group(1))
    return ""


def _reason(cause: BaseException, task) -> str:
    """Why, in words a designer reads first, then Python's (kind: message)."""
    kind = type(cause).__name__
    python = f"{kind}: {cause}" if str(cause) else kind
    if isinstance(cause, NameError) and getattr(cause, "name", None):
        names = [key for key in (task.data if task is not None else {}) if isinstance(key, str)]
        close = difflib.get_close_matches(cause.name, names, n=1)
        hint = catalogue_text("run.reason_hint", name=close[0]) if close else ""
        said = catalogue_text("run.reason_NameError", name=cause.name, hint=hint)
    elif isinstance(cause, AttributeError) and getattr(cause, "name", None):
        said = catalogue_text("run.reason_AttributeError", name=cause.name)
    elif isinstance(cause, KeyError):
        said = catalogue_text("run.reason_KeyError", missing=cause.args[0] if cause.args else "")
    else:
        key = next((f"run.reason_{base.__name__}" for base in type(cause).__mro__
                    if f"run.reason_{base.__name__}" in TEXTS), None)
        said = catalogue_text(key) if key else catalogue_text("run.reason_other")
    return f"{said}（{python}）"


def jsonable(value):
    """Task data as plain JSON values (dates as ISO strings)."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items() if not callable(v)}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [jsonable(v) for v in value]
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)
