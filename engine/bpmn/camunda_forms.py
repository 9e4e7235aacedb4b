"""Camunda 7's task forms as form-js forms: its generated forms (camunda:formData) field by field, and its
embedded HTML forms (`embedded:app:…`, which live in the Java web application and never come with the
diagram) from what the process does with the task's answer.

An embedded form cannot be read, but the conditions on the flows that leave the task (directly, or
through the gateway that follows it) name the variables it must set: `${approved}` wants a tick box,
`${amount > 1000}` a number, `${decision == 'reject'}` a choice among the values compared. With none,
the form explains itself and has no fields. Deploy warns either way, naming the task, so the designer
checks the form in the form editor.
"""
from __future__ import annotations

import ast
import re

from .. import forms as formjs, texts
from . import foreign
from .xml import BPMN, CAMUNDA, NS

_CONSTRAINTS = {"minlength": "minLength", "maxlength": "maxLength", "min": "min", "max": "max"}
_GATEWAYS = {"exclusiveGateway", "inclusiveGateway"}
_CAMUNDA_DATE = re.compile(r"^(\d{2})/(\d{2})/(\d{4})$")


def form_data_fields(form_data) -> list[dict]:
    """camunda:formField elements as dicts for engine/forms.py's from_camunda_fields."""
    found = []
    for node in form_data.iterfind(f"{{{CAMUNDA}}}formField"):
        constraints = {c.get("name"): c.get("config")
                       for c in node.iterfind(f"{{{CAMUNDA}}}validation/{{{CAMUNDA}}}constraint")}
        values = [{"id": v.get("id"), "name": v.get("name")} for v in node.iterfind(f"{{{CAMUNDA}}}value")]
        rules = {}
        for name, rule in _CONSTRAINTS.items():
            number = _number(constraints.get(name))
            if number is not None:
                rules[rule] = number
        found.append({"id": node.get("id"), "label": node.get("label"), "type": node.get("type"),
                      "defaultValue": _default(node.get("type"), node.get("defaultValue")),
                      "required": "required" in constraints, "readonly": "readonly" in constraints,
                      "rules": rules, "values": [v for v in values if v["id"]]})
    return [f for f in found if f["id"] and formjs.is_field_key(f["id"])]


def _number(text):
    try:
        number = float(text)
    except (TypeError, ValueError):
        return None
    return int(number) if number.is_integer() else number


def _default(kind, text):
    """Camunda writes a date's default as dd/MM/yyyy; form-js wants ISO. Expressions (${…}) are dropped."""
    if text is None or "${" in text or "#{" in text:
        return None
    found = _CAMUNDA_DATE.match(text) if kind == "date" else None
    return f"{found.group(3)}-{found.group(2)}-{found.group(1)}" if found else text


def embedded_form(element, form_id: str, reference: str) -> tuple[dict, list[str]]:
    """(a form-js schema, the keys of its fields) standing in for an embedded form the diagram names."""
    variables = _answered_variables(element)
    components = [{"type": "text", "id": "Text_embedded",
                   "text": texts.text("form.generated_note", form=reference)}]
    for key, (kind, values) in variables.items():
        component = {"type": kind, "key": key, "label": key, "id": f"Field_{re.sub(r'[^A-Za-z0-9_]', '_', key)}"}
        if kind == "select":
            component["values"] = [{"label": v, "value": v} for v in values]
            component["validate"] = {"required": True}
        elif kind == "number":
            component["validate"] = {"required": True}
        components.append(component)
    schema = {"type": "default", "id": form_id, "components": components,
              "exporter": {"name": "duban (for a Camunda embedded form)", "version": "1"}}
    return schema, list(variables)


def _answered_variables(element) -> dict:
    """{key: (form-js type, values)} of the variables the conditions after the element read."""
    found: dict = {}
    for flow in _decisions(element):
        condition = flow.find("bpmn:conditionExpression", NS)
        text = (condition.text or "").strip() if condition is not None else ""
        python = foreign.juel(text) if "{" in text else text
        try:
            tree = ast.parse(python or "", mode="eval")
        except SyntaxError:
            continue
        _collect(tree.body, found)
    return {key: found[key] for key in sorted(found) if formjs.is_field_key(key)}


def _decisions(element) -> list:
    """The conditional flows leaving the element, or leaving the gateway it leads straight into."""
    process = element.getparent()
    flows = [f for f in process.iterfind("bpmn:sequenceFlow", NS) if f.get("sourceRef") == element.get("id")]
    decided = [f for f in flows if f.find("bpmn:conditionExpression", NS) is not None]
    if decided or len(flows) != 1:
        return decided
    target = process.find(f"*[@id='{flows[0].get('targetRef')}']")
    if target is None or target.tag not in {f"{{{BPMN}}}{kind}" for kind in _GATEWAYS}:
        return []
    return [f for f in process.iterfind("bpmn:sequenceFlow", NS)
            if f.get("sourceRef") == target.get("id") and f.find("bpmn:conditionExpression", NS) is not None]


def _collect(node, found: dict) -> None:
    """Types from how each variable is read: tested alone (tick box), compared with numbers (number) or
    with strings (a choice among them)."""
    if isinstance(node, ast.BoolOp):
        for value in node.values:
            _collect(value, found)
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        _collect(node.operand, found)
    elif isinstance(node, ast.Compare) and len(node.comparators) == 1:
        key, other = _key(node.left), node.comparators[0]
        if key is None:
            key, other = _key(other), node.left
        if key is None or not isinstance(other, ast.Constant):
            return
        if isinstance(other.value, bool):
            found.setdefault(key, ("checkbox", []))
        elif isinstance(other.value, (int, float)):
            found.setdefault(key, ("number", []))
        elif isinstance(other.value, str) and isinstance(node.ops[0], (ast.Eq, ast.NotEq)):
            kind, values = found.setdefault(key, ("select", []))
            if kind == "select" and other.value not in values:
                values.append(other.value)
    elif _key(node) is not None:
        found.setdefault(_key(node), ("checkbox", []))


def _key(node) -> str | None:
    """`a` or `a['b']` as the form key `a` or `a.b`."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, str):
        parent = _key(node.value)
        return f"{parent}.{node.slice.value}" if parent else None
    return None
