"""DMN decision tables (决策表): checked at deploy, run by SpiffWorkflow's DMN engine in the sandbox.

SpiffWorkflow's DMN engine evaluates a table's cells as Python: an input entry (`"major"`, `> 5`,
`1 < ? <= 3`) is joined to its column's input expression (`(category) == ("major")`, `score> 5`) and
the result handed to the workflow's script engine — Duban's sandbox, in the step process, under the
step's budgets. Here every cell is joined as that engine joins it and compiled by the sandbox at
deploy, so a table that would import, open files or touch dunders never deploys; what only shows at
run time (a loop too long, a name that is not there) stops the step like any expression.

SpiffWorkflow reads one decision with one decision table per file, and runs the hit policies UNIQUE
(the first rule that matches), FIRST, ANY and COLLECT (every match, a list per output; no aggregation).
"""
from __future__ import annotations

import ast
import hashlib
import re
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

from lxml import etree

from ..texts import text
from . import sandbox, xml

HIT_POLICIES = {"UNIQUE", "FIRST", "ANY", "COLLECT"}
# SpiffWorkflow's DMNEngine turns "?" outside quotes into the input's value under this name.
_QUESTION = re.compile(r'(\?)(?=(?:[^\'"]|[\'"][^\'"]*[\'"])*$)')


@dataclass(frozen=True)
class CompiledDecision:
    """One decision of a deployment, checked: its id (`key`), name, file and text."""

    key: str
    name: str
    filename: str
    text: str
    checksum: str


class DecisionRefused(ValueError):
    """Raised when a DMN file cannot deploy; `problems` are details as deploy reports them."""

    def __init__(self, problems: list):
        super().__init__(problems[0]["message"])
        self.problems = problems


def check(filename: str, root, source: str) -> CompiledDecision:
    """The decision a DMN document holds, every cell compiled in the sandbox; DecisionRefused if not."""
    ns = {"dmn": etree.QName(root).namespace}
    decisions = root.findall("dmn:decision", ns)
    if len(decisions) != 1:
        raise _refused(filename, root, text("dmn.one_decision", count=len(decisions)))
    decision = decisions[0]
    key = decision.get("id") or ""
    tables = decision.findall("dmn:decisionTable", ns)
    if not key or len(tables) != 1:
        raise _refused(filename, decision, text("dmn.one_table", decision=key or "?"))
    table = tables[0]
    policy = (table.get("hitPolicy") or "UNIQUE").upper()
    if policy not in HIT_POLICIES or table.get("aggregation"):
        raise _refused(filename, table, text("dmn.hit_policy", policy=policy + (
            f" {table.get('aggregation')}" if table.get("aggregation") else "")))
    problems = _check_cells(filename, table, ns)
    if problems:
        raise DecisionRefused(problems)
    return CompiledDecision(key=key, name=decision.get("name") or key, filename=filename, text=source,
                            checksum=hashlib.sha256(source.encode()).hexdigest())


def _check_cells(filename, table, ns) -> list:
    inputs = []
    problems = []
    for column, element in enumerate(table.findall("dmn:input", ns), 1):
        expression = (element.findtext("dmn:inputExpression/dmn:text", None, ns) or "").strip()
        named = element.get("label") or expression or str(column)
        if not expression:
            problems.append(_problem(filename, element, text("dmn.input_missing", column=named)))
        else:
            _try(problems, filename, element, lambda e=expression: sandbox.check(e),
                 text("dmn.where_input", column=named))
        inputs.append((expression, named))
    outputs = [o.get("name") or o.get("label") or "" for o in table.findall("dmn:output", ns)]
    for index, name in enumerate(outputs, 1):
        if not re.fullmatch(r"[A-Za-z\u4e00-\u9fff][\w.\u4e00-\u9fff]*", name) or name.startswith("_") \
                or "._" in name:
            problems.append(_problem(filename, table, text("dmn.output_name", column=index, name=name)))
    for row, rule in enumerate(table.findall("dmn:rule", ns), 1):
        for (expression, named), entry in zip(inputs, rule.findall("dmn:inputEntry", ns), strict=False):
            cell = (entry.findtext("dmn:text", None, ns) or "").strip()
            if cell and cell != "-" and expression:
                _try(problems, filename, entry, lambda e=expression, c=cell: _check_entry(e, c),
                     text("dmn.where_cell", row=row, column=named))
        for name, entry in zip(outputs, rule.findall("dmn:outputEntry", ns), strict=False):
            cell = (entry.findtext("dmn:text", None, ns) or "").strip()
            if cell:
                _try(problems, filename, entry, lambda c=cell: sandbox.check(c),
                     text("dmn.where_cell", row=row, column=name))
    return problems


def _check_entry(expression: str, cell: str) -> None:
    """Compile an input entry joined to its input as SpiffWorkflow's DMNEngine.evaluate joins them.
    FEEL's lists and negations, which dmn-js writes for "match one" and "match none" (`"a","b"`,
    `not("a")`), would compare the input with a tuple or a boolean and never match: refused with the
    Python to write."""
    _refuse_feel(cell)
    joined = _QUESTION.sub("dmninputexpr", cell)
    if "dmninputexpr" in joined:
        sandbox.check(joined)
    elif _parses(joined):
        sandbox.check(f"({expression}) == ({joined})")
    else:
        sandbox.check(expression + joined)


def _refuse_feel(cell: str) -> None:
    try:
        tree = ast.parse(cell, mode="eval").body
    except SyntaxError:
        return
    if isinstance(tree, ast.Tuple) and tree.elts:
        raise sandbox.SandboxViolation(text("dmn.feel_list", cell=cell, python=f"? in ({cell})"))
    if isinstance(tree, ast.UnaryOp) and isinstance(tree.op, ast.Not) and cell.lstrip().startswith("not("):
        inner = cell.strip()[4:-1].strip()
        raise sandbox.SandboxViolation(text("dmn.feel_not", cell=cell, python=f"? not in ({inner},)"))


def _parses(source: str) -> bool:
    try:
        ast.parse(source, mode="eval")
    except SyntaxError:
        return False
    return True


def _try(problems, filename, element, compile_it, where) -> None:
    try:
        compile_it()
    except sandbox.SandboxViolation as error:
        problems.append(_problem(filename, element, text("dmn.cell_refused", where=where, reason=error)))


def _problem(filename, element, message) -> dict:
    return {"file": filename, "element": element.get("id"), "line": element.sourceline, "message": message,
            "rule": "dmn"}


def _refused(filename, element, message) -> DecisionRefused:
    return DecisionRefused([_problem(filename, element, message)])


def decision_ids(root) -> list[str]:
    """The decision ids a DMN document declares (before checking)."""
    ns = {"dmn": etree.QName(root).namespace}
    return [d.get("id") for d in root.findall("dmn:decision", ns) if d.get("id")]


def runner(decision: str) -> tuple[str, str]:
    """(process id, BPMN text) of a process that only runs `decision` and ends: how a service evaluates
    a deployed table through the step process, with its sandbox and budgets, as a process would."""
    key = f"decide_{re.sub(r'[^A-Za-z0-9_]', '_', decision)}"
    bpmn = (
        f'<bpmn:definitions xmlns:bpmn="{xml.BPMN}" xmlns:spiffworkflow="{xml.SPIFF}" id="runner" '
        f'targetNamespace="urn:duban:decision">'
        f'<bpmn:process id="{key}" isExecutable="true">'
        '<bpmn:startEvent id="start"/><bpmn:sequenceFlow id="in" sourceRef="start" targetRef="decide"/>'
        f'<bpmn:businessRuleTask id="decide" name={quoteattr(decision)}><bpmn:extensionElements>'
        f'<spiffworkflow:calledDecisionId>{escape(decision)}</spiffworkflow:calledDecisionId>'
        '</bpmn:extensionElements></bpmn:businessRuleTask>'
        '<bpmn:sequenceFlow id="out" sourceRef="decide" targetRef="end"/><bpmn:endEvent id="end"/>'
        '</bpmn:process></bpmn:definitions>'
    )
    return key, bpmn
