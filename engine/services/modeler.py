"""What the modeler offers a designer: the 督办 step kinds, roles, units, deployed forms and decision tables,
and the connectors administrators configured (by name and kind: their settings and secrets stay theirs)."""
from __future__ import annotations

import json

from sqlalchemy import select

from .. import PROCESSES
from ..access import Actor, may_design
from ..bpmn.external import NAME_PATTERNS
from ..domain import steps
from ..domain.roles import LANE_ROLES, ROLES
from ..errors import Forbidden
from ..models import Connector, Definition, Unit
from ..texts import text
from . import decisions

# The forms shipped with Duban (engine/processes/forms/), beside the bundled diagrams.
STEP_FORMS = PROCESSES / "forms"


def catalogue(duban, actor: Actor) -> dict:
    """GET /api/v1/modeler/catalogue: designers and system administrators only."""
    if not may_design(actor):
        raise Forbidden(text("modeler.only_designers"))
    with duban.db.reading() as session:
        units = [{"id": u.id, "name": u.name, "kind": u.kind}
                 for u in session.scalars(select(Unit).order_by(Unit.id))]
        forms = _template_forms()
        for definition in session.scalars(select(Definition).order_by(Definition.key, Definition.version)):
            for form_id, schema in (definition.forms or {}).items():
                # The schema too: a new diagram that picks a deployed form opens and deploys it as it is.
                # the latest wins
                forms[form_id] = {"id": form_id, "name": _form_name(form_id, schema), "schema": schema}
        # What a service task may name (<duban:connector channel|endpoint=…>): enabled ones, by name.
        enabled = select(Connector).where(Connector.enabled.is_(True)).order_by(Connector.name)
        named = [{"name": c.name, "title": c.title, "kind": c.kind} for c in session.scalars(enabled)]
    # The deployed decision tables a business rule task may name (camunda:decisionRef).
    tables = [{"id": d["key"], "name": d["name"]} for d in decisions.list_decisions(duban, actor)]
    return {**first_catalogue(), "steps": steps.catalogue(), "units": units,
            "forms": sorted(forms.values(), key=lambda f: f["id"]), "decisions": tables, "connectors": named}


def first_catalogue() -> dict:
    """What the modeler page holds before GET /api/v1/modeler/catalogue answers (or if it cannot): the
    lane roles, and the patterns topics and variable names must match (engine.bpmn.external)."""
    return {"steps": [], "roles": [{"id": role, "label": ROLES[role]} for role in LANE_ROLES], "units": [],
            "forms": [], "patterns": NAME_PATTERNS}


def _template_forms() -> dict:
    """The forms the step templates name (答复's `reply`...), as shipped in bpmn/forms/: a step dragged
    onto a new diagram has a working form before any process using it is deployed."""
    found = {}
    for kind in steps.KINDS.values():
        path = STEP_FORMS / f"{kind.form}.form"
        if kind.form and path.is_file():
            schema = json.loads(path.read_text(encoding="utf-8"))
            found[kind.form] = {"id": kind.form, "name": _form_name(kind.form, schema), "schema": schema}
    return found


def _form_name(form_id: str, schema: dict) -> str:
    """A form's name: its own `name`, else the step whose template uses it (签收...), else its id."""
    if isinstance(schema, dict) and schema.get("name"):
        return str(schema["name"])[:100]
    by_template = {kind.form: kind.label for kind in steps.KINDS.values() if kind.form}
    return by_template.get(form_id, form_id)
