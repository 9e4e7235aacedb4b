"""What the modeler needs beyond definitions: the catalogue of 督办 steps, roles, units and forms."""
from __future__ import annotations

from flask.views import MethodView

from engine.services import modeler

from .common import actor, authenticated_blueprint, duban
from .schemas import CatalogueSchema

blp = authenticated_blueprint("modeler", __name__, "Modeler (流程设计)", "/modeler")


@blp.route("/catalogue")
class Catalogue(MethodView):
    @blp.response(200, CatalogueSchema)
    def get(self):
        """督办 step kinds (label, element types, options, help, template), lane roles, units, deployed forms;
        designers and system administrators"""
        return modeler.catalogue(duban(), actor())
