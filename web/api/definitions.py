"""Process definitions: deploy BPMN, list versions, fetch XML."""
from __future__ import annotations

from flask import Response, request
from flask.views import MethodView

from engine import services
from engine.errors import InvalidInput
from engine.services import definition_forms, validate
from engine.texts import text

from .common import actor, authenticated_blueprint, duban
from .schemas import (
    DefinitionQuery,
    DefinitionSchema,
    DeployedSchema,
    DeployFiles,
    FormsSchema,
    ValidatedSchema,
    XmlQuery,
)

blp = authenticated_blueprint("definitions", __name__, "Process definitions (流程定义)", "/definitions")


@blp.route("")
class Definitions(MethodView):
    @blp.arguments(DefinitionQuery, location="query")
    @blp.response(200, DefinitionSchema(many=True))
    def get(self, query):
        """Deployed process definitions (latest versions, or all with all_versions=true)"""
        return services.list_definitions(duban(), query["all_versions"], actor())

    @blp.arguments(DeployFiles, location="files")
    @blp.response(201, DeployedSchema)
    @blp.alt_response(422, description="The file cannot be deployed; details name the element")
    def post(self, _files):
        """Deploy BPMN and DMN (multipart `file`, repeated for several: .bpmn and .dmn files together or
        apart, with the `forms` the diagrams reference). The answer is the first process uploaded (else the
        first decision) with every process and decision: `processes` include the new versions of processes
        using a decision deployed anew (`decided_by`)"""
        files, forms = _uploads()
        results = services.deploy(duban(), files, forms, actor())
        processes = [r for r in results if r.get("kind") != "decision"]
        tables = [r for r in results if r.get("kind") == "decision"]
        first = next((r for r in processes if "decided_by" not in r), (tables or results)[0])
        return {**first, "processes": processes, "decisions": tables}


def _uploads() -> tuple[dict, dict]:
    files = {f.filename or f"upload-{i}.bpmn": f.read() for i, f in enumerate(request.files.getlist("file"))}
    forms = {f.filename or f"form-{i}.form": f.read() for i, f in enumerate(request.files.getlist("forms"))}
    if not files:
        raise InvalidInput(text("deploy.file_missing"), [{"field": "file", "message": text("field.required")}])
    return files, forms


@blp.route("/validate")
class Validate(MethodView):
    @blp.arguments(DeployFiles, location="files")
    @blp.response(200, ValidatedSchema(many=True))
    @blp.alt_response(422, description="What would stop the deployment; details name the element")
    def post(self, _files):
        """Check BPMN and its forms as a deployment would, without deploying (the modeler's 验证)"""
        files, forms = _uploads()
        return validate(duban(), files, forms, actor())


@blp.route("/<string:key>/forms")
class DefinitionForms(MethodView):
    @blp.arguments(XmlQuery, location="query")
    @blp.response(200, FormsSchema)
    def get(self, query, key):
        """The form-js schemas of the latest version (or ?version=N), by form id"""
        actor()
        return {"forms": definition_forms(duban(), key, query.get("version"))}


@blp.route("/<string:key>/xml")
class DefinitionXml(MethodView):
    @blp.arguments(XmlQuery, location="query")
    @blp.response(200, content_type="application/xml")
    def get(self, query, key):
        """The BPMN XML of the latest version (or ?version=N)"""
        actor()
        text = services.definition_xml(duban(), key, query.get("version"))
        return Response(text, mimetype="application/xml")
