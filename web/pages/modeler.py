"""The designers' modeler (流程设计): edit BPMN with bpmn-js and forms with form-js, validate, deploy."""
from __future__ import annotations

from flask import render_template, request

from engine import services
from engine.errors import Forbidden
from engine.services import DESIGNER, SYSTEM_ADMINS, decisions, definition_forms, modeler as modeler_service

from .common import current_actor, duban


def routes(bp) -> None:
    bp.add_url_rule("/modeler", "modeler", modeler)
    bp.add_url_rule("/modeler/decisions", "decisions", decision_editor)


def modeler():
    actor = current_actor()
    if not actor.has(DESIGNER, *SYSTEM_ADMINS):
        raise Forbidden("只有流程设计员和系统管理员可以设计流程")
    versions = services.list_definitions(duban(), all_versions=True, actor=actor)
    key = request.args.get("key")
    version = request.args.get("version", type=int)
    if key:
        xml = services.definition_xml(duban(), key, version)
        forms = definition_forms(duban(), key, version)
    else:
        xml, forms = None, {}
    # A new diagram has no key yet: the page gives it a unique one (Process_...) the designer may change.
    return render_template("modeler.html", versions=versions, key=key, version=version, xml=xml, forms=forms,
                           catalogue=modeler_service.first_catalogue())


def decision_editor():
    """决策表: deployed DMN decisions, one opened in dmn-js's table editor (or a new one), deployed from
    the page through POST /api/v1/definitions. Designers and system administrators, as the modeler."""
    actor = current_actor()
    listed = decisions.list_decisions(duban(), actor)  # Forbidden for anyone else
    key = request.args.get("key")
    xml = decisions.decision_xml(duban(), actor, key) if key else None
    return render_template("modeler_dmn.html", decisions=listed, key=key, xml=xml)
