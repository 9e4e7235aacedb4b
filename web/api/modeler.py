"""What the modeler needs beyond definitions: the catalogue of 督办 steps, roles, units and forms."""
from __future__ import annotations

from flask import Response
from flask.views import MethodView
from marshmallow import Schema, fields

from engine.services import decisions, modeler

from .common import actor, authenticated_blueprint, duban
from .schemas import CatalogueSchema, XmlQuery

blp = authenticated_blueprint("modeler", __name__, "Modeler (流程设计)", "/modeler")


@blp.route("/catalogue")
class Catalogue(MethodView):
    @blp.response(200, CatalogueSchema)
    def get(self):
        """督办 step kinds (label, element types, options, help, template), lane roles, units, deployed forms,
        decision tables, the connectors' names and the patterns names must match; designers and system
        administrators"""
        return modeler.catalogue(duban(), actor())


class DecisionSchema(Schema):
    key = fields.String(metadata={"description": "the decision's id, as business rule tasks name it"})
    name = fields.String()
    version = fields.Integer()
    filename = fields.String()
    deployed_at = fields.DateTime()
    deployed_by = fields.String(allow_none=True)
    processes = fields.List(fields.String(), metadata={"description": "processes whose latest version uses it"})


@blp.route("/decisions")
class Decisions(MethodView):
    @blp.response(200, DecisionSchema(many=True))
    def get(self):
        """Deployed DMN decisions (决策表), latest versions, with the processes using each; designers and
        system administrators. Deploy a .dmn file with POST /api/v1/definitions"""
        return decisions.list_decisions(duban(), actor())


@blp.route("/decisions/<string:key>/xml")
class DecisionXml(MethodView):
    @blp.arguments(XmlQuery, location="query")
    @blp.response(200, content_type="application/xml")
    def get(self, query, key):
        """The DMN XML of a decision's latest version (or ?version=N); designers and system administrators"""
        return Response(decisions.decision_xml(duban(), actor(), key, query.get("version")), mimetype="application/xml")
