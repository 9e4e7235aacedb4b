"""Small DMN decision tables and processes running them, for tests, written as dmn-js writes them."""
from __future__ import annotations

from xml.sax.saxutils import escape

from tests.samples import chain, process

DMN13 = "https://www.omg.org/spec/DMN/20191111/MODEL/"


def table(decision: str = "grade", rules=(('"major"', "20"), ('"normal"', "10")), inputs=(("category", "类别"),),
          outputs=(("workdays", "期限"),), hit_policy: str = "UNIQUE", name: str = "期限规则") -> bytes:
    """A decision `decision` with one decision table; `rules` are tuples of input cells then output cells."""
    columns = "".join(
        f'<input id="in{i}" label="{label}"><inputExpression id="ie{i}" typeRef="string">'
        f"<text>{escape(expression)}</text></inputExpression></input>"
        for i, (expression, label) in enumerate(inputs))
    columns += "".join(f'<output id="out{i}" label="{label}" name="{output}" typeRef="string"/>'
                       for i, (output, label) in enumerate(outputs))
    body = ""
    for r, cells in enumerate(rules):
        entries = "".join(f'<inputEntry id="r{r}i{i}"><text>{escape(cell)}</text></inputEntry>'
                          for i, cell in enumerate(cells[:len(inputs)]))
        entries += "".join(f'<outputEntry id="r{r}o{i}"><text>{escape(cell)}</text></outputEntry>'
                           for i, cell in enumerate(cells[len(inputs):]))
        body += f'<rule id="rule{r}">{entries}</rule>'
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<definitions xmlns="{DMN13}" id="defs_{decision}" '
            f'name="DRD" namespace="http://camunda.org/schema/1.0/dmn">'
            f'<decision id="{decision}" name="{name}"><decisionTable id="table_{decision}" hitPolicy="{hit_policy}">'
            f"{columns}{body}</decisionTable></decision></definitions>").encode()


def rule_task(decision: str = "grade", n: int = 1, camunda: bool = False) -> str:
    """A business rule task naming `decision` as Spiff's modeler writes it, or as Camunda's does."""
    if camunda:
        return f'<bpmn:businessRuleTask id="e{n}" name="判定{n}" camunda:decisionRef="{decision}"/>'
    return (f'<bpmn:businessRuleTask id="e{n}" name="判定{n}"><bpmn:extensionElements>'
            f"<spiffworkflow:calledDecisionId>{decision}</spiffworkflow:calledDecisionId>"
            "</bpmn:extensionElements></bpmn:businessRuleTask>")


SPIFF_NS = 'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"'


def deciding_process(decision: str = "grade", key: str = "decide", camunda: bool = False, then: str = "") -> bytes:
    """start -> business rule task -> (a user task `then`, to keep the instance waiting) -> end."""
    body = chain(rule_task(decision, 1, camunda), *([then] if then else []))
    return process(body, key=key).replace(b"<bpmn:definitions ", f"<bpmn:definitions {SPIFF_NS} ".encode(), 1)
