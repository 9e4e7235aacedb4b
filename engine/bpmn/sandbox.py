"""The sandbox every BPMN expression and script runs in.

SpiffWorkflow's default environment hands expressions to `eval`/`exec` with full builtins, so a
diagram could import os or read files. Here code is compiled by RestrictedPython (no imports, no
names or attributes starting with "_", guarded item and attribute writes) and run with a short
list of builtins and the functions the engine offers. Loops, powers and repetitions are bounded
so a hostile script cannot hold a worker forever or exhaust memory.
"""
from __future__ import annotations

import ast
import builtins
import math
import operator
import re
import warnings
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from types import FunctionType, ModuleType

from RestrictedPython import RestrictingNodeTransformer, compile_restricted
from RestrictedPython.Guards import (
    full_write_guard,
    guarded_iter_unpack_sequence,
    guarded_unpack_sequence,
    safer_getattr,
)
from RestrictedPython.PrintCollector import PrintCollector
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment

from ..texts import text

MAX_LOOP_STEPS = 100_000
MAX_SEQUENCE = 1_000_000
MAX_INT_BITS = 4096


class SandboxViolation(Exception):
    """Raised when BPMN code tries something the sandbox refuses (at compile time or at run time)."""


# RestrictedPython words its refusals in English: each is said again from the catalogue.
_REFUSALS = tuple((re.compile(pattern), key) for pattern, key in (
    (r'^"(?P<name>.+)" is an invalid variable name because', "deploy.code_private_name"),
    (r'^"(?P<name>.+)" is an invalid attribute name because', "deploy.code_private_attribute"),
    (r'^"(?P<name>.+)" is a restricted name', "deploy.code_restricted_attribute"),
    (r'^"(?P<name>.+)" is a reserved name', "deploy.code_reserved_name"),
    (r"^Exec calls are not allowed", "deploy.code_exec"),
    (r"^Eval calls are not allowed", "deploy.code_eval"),
    (r"^Unpacking in comprehensions", "deploy.code_comprehension_unpacking"),
    (r"^Augmented assignment of attributes", "deploy.code_augmented_attribute"),
    (r"^Augmented assignment of object items", "deploy.code_augmented_item"),
    (r"^Assignment expressions are only allowed for simple targets", "deploy.code_walrus"),
    (r"^(?P<statement>\w+) statements are not allowed", "deploy.code_statement"),
))


def _refusal(info: str) -> str:
    """One of RestrictedPython's refusals in Chinese; one this table does not know is quoted."""
    for pattern, key in _REFUSALS:
        found = pattern.match(info)
        if found:
            return text(key, **found.groupdict())
    return text("deploy.code_other", reason=info)


class _Policy(RestrictingNodeTransformer):
    """RestrictedPython's policy, plus: no imports at all, and arithmetic that cannot explode."""

    def error(self, node, info):
        """Where RestrictedPython refuses something: designers read it at deploy, in Chinese."""
        self._record(node, _refusal(info))

    def _refuse(self, node, key):
        self._record(node, text(key))

    def _record(self, node, problem):
        self.errors.append(text("deploy.code_line", line=getattr(node, "lineno", None) or 1, problem=problem))

    def visit_Import(self, node):
        self._refuse(node, "deploy.code_import")
        return node

    visit_ImportFrom = visit_Import

    def visit_ClassDef(self, node):
        self._refuse(node, "deploy.code_class")
        return node

    def visit_BinOp(self, node):
        node = super().visit_BinOp(node)
        guard = {ast.Pow: "_pow_", ast.Mult: "_mul_", ast.LShift: "_lshift_"}.get(type(node.op))
        if guard is None:
            return node
        call = ast.Call(func=ast.Name(guard, ast.Load()), args=[node.left, node.right], keywords=[])
        return _located(call, node)

    def visit_While(self, node):
        node = super().visit_While(node)
        tick = ast.Expr(ast.Call(func=ast.Name("_tick_", ast.Load()), args=[], keywords=[]))
        node.body.insert(0, _located(tick, node))
        return node


def _located(new, old):
    for child in ast.walk(new):
        if "lineno" in child._attributes and not hasattr(child, "lineno"):
            ast.copy_location(child, old)
    return new


@lru_cache(maxsize=4096)
def compile_code(source: str, mode: str):
    """Compile BPMN code under the sandbox policy; raises SandboxViolation with the reasons."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SyntaxWarning)  # "prints but never reads 'printed'"
            # "<string>": the name SpiffWorkflow looks for in a traceback to tell a failing script's line.
            return compile_restricted(_parsed(source, mode), filename="<string>", mode=mode, policy=_Policy)
    except SyntaxError as error:
        reasons = error.args[0] if error.args and isinstance(error.args[0], tuple) else (str(error),)
        raise SandboxViolation("；".join(reasons)) from None


def _parsed(source: str, mode: str):
    """The code's syntax tree; SandboxViolation in Chinese if it is not Python (RestrictedPython would
    word it in English), with Python's own hint about what broke."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SyntaxWarning)  # e.g. "invalid escape sequence"
            return ast.parse(source, "<bpmn>", mode)
    except SyntaxError as error:
        problem = text("deploy.code_syntax", statement=(error.text or "").strip(), reason=error.msg)
        raise SandboxViolation(text("deploy.code_line", line=error.lineno or 1, problem=problem)) from None


def check(source: str, mode: str = "eval") -> None:
    """Refuse code that would not compile in the sandbox (used at deploy time)."""
    compile_code(source.strip() if mode == "eval" else source, mode)


class _Budget:
    """Counts loop steps of one evaluation."""

    def __init__(self):
        self.steps = 0

    def tick(self):
        self.steps += 1
        if self.steps > MAX_LOOP_STEPS:
            raise SandboxViolation(text("sandbox.loop_steps", limit=MAX_LOOP_STEPS))

    def iterate(self, iterable):
        for value in iter(iterable):
            self.tick()
            yield value


def _pow(base, exponent):
    if isinstance(base, int) and isinstance(exponent, int) and exponent > 0 and base not in (0, 1, -1):
        if exponent * max(abs(base).bit_length(), 1) > MAX_INT_BITS:
            raise SandboxViolation(text("sandbox.number_too_large"))
    return base**exponent


def _mul(left, right):
    for seq, count in ((left, right), (right, left)):
        if isinstance(seq, (str, bytes, list, tuple)) and isinstance(count, int):
            if len(seq) * count > MAX_SEQUENCE:
                raise SandboxViolation(text("sandbox.sequence_too_large"))
    return left * right


def _lshift(left, right):
    if isinstance(right, int) and right > MAX_INT_BITS:
        raise SandboxViolation(text("sandbox.number_too_large"))
    return left << right


_INPLACE = {
    "+=": operator.iadd, "-=": operator.isub, "*=": _mul, "/=": operator.itruediv,
    "//=": operator.ifloordiv, "%=": operator.imod, "**=": _pow, "<<=": _lshift,
    ">>=": operator.irshift, "&=": operator.iand, "|=": operator.ior, "^=": operator.ixor,
}


def _inplacevar(op, left, right):
    try:
        return _INPLACE[op](left, right)
    except KeyError:
        raise SandboxViolation(text("sandbox.operator", op=op)) from None


def _getitem(container, key):
    return container[key]


_BUILTIN_NAMES = (
    "abs all any bool chr dict divmod enumerate filter float frozenset int isinstance len list "
    "map max min ord range repr reversed round set sorted str sum tuple zip"
).split()
BUILTINS = {name: getattr(builtins, name) for name in _BUILTIN_NAMES}
BUILTINS.update(
    pow=_pow, math=math, date=date, datetime=datetime, time=time, timedelta=timedelta,
    Exception=Exception, ValueError=ValueError, KeyError=KeyError, TypeError=TypeError,
)


def _is_code_value(value) -> bool:
    return isinstance(value, (FunctionType, ModuleType, type)) or callable(value)


class SandboxEnvironment(BasePythonScriptEngineEnvironment):
    """SpiffWorkflow environment that evaluates in the sandbox; `functions` are the engine's offer."""

    def __init__(self, functions: dict | None = None):
        super().__init__({})
        self.functions = dict(functions or {})

    def _scope(self, context: dict, external_context: dict | None) -> tuple[dict, dict]:
        budget = _Budget()
        base = {
            "__builtins__": BUILTINS,
            "_getattr_": safer_getattr,
            "_getitem_": _getitem,
            "_getiter_": budget.iterate,
            "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
            "_unpack_sequence_": guarded_unpack_sequence,
            "_write_": full_write_guard,
            "_inplacevar_": _inplacevar,
            "_pow_": _pow,
            "_mul_": _mul,
            "_lshift_": _lshift,
            "_tick_": budget.tick,
            "_print_": PrintCollector,
        }
        base.update(self.functions)
        scope = {}
        for source in (external_context or {}, context):
            for key, value in source.items():
                # Data never shadows the guards or the engine's functions, and never brings code.
                if isinstance(key, str) and not key.startswith("_") and key not in base:
                    scope[key] = value

        def variables():
            """vars()/globals()/locals(): a copy of the data, never the sandbox's own names."""
            return {k: v for k, v in scope.items() if not k.startswith("_") and k not in base}

        base.update(vars=variables, globals=variables, locals=variables)
        scope.update(base)
        return scope, base

    def evaluate(self, expression, context, external_context=None):
        code = compile_code(expression.strip(), "eval")
        scope, _ = self._scope(context, external_context)
        return eval(code, scope)  # noqa: S307 - compiled by RestrictedPython under _Policy

    def execute(self, script, context, external_context=None):
        code = compile_code(script, "exec")
        scope, base = self._scope(context, external_context)
        before = set(scope)
        exec(code, scope)  # noqa: S102 - compiled by RestrictedPython under _Policy
        for key in [k for k in context if isinstance(k, str) and not k.startswith("_")]:
            if key in before and key not in scope:
                del context[key]
        for key, value in scope.items():
            if key.startswith("_") or (key in base and value is base[key]):
                continue
            if key in (external_context or {}) and value is external_context[key]:
                continue
            if _is_code_value(value):
                continue
            context[key] = value
        return True

    def call_service(self, context, **kwargs):
        raise SandboxViolation(text("deploy.service_task"))


class SandboxedScriptEngine(PythonScriptEngine):
    """The script engine attached to every workflow Duban runs; `clock` drives its timers."""

    def __init__(self, functions: dict | None = None, clock=None):
        super().__init__(environment=SandboxEnvironment(functions))
        self.clock = clock
        # Waiting timers whose expression gave no time in this operation (emptied as each begins,
        # ProcessRun._begin): asked again at every update of their task, which each task completed in
        # the operation brings, they would give the same from the same data, clock and answers.
        self.unscheduled: set = set()

    def validate(self, expression):
        """SpiffWorkflow's DMN engine asks whether a cell parses alone (`"major"`) or only after its
        input (`> 5`): a SyntaxError says the latter, then the sandbox's own checks apply."""
        ast.parse(expression.strip(), "<bpmn>", "eval")
        check(expression)
