"""Units and the caller."""
from __future__ import annotations

from flask.views import MethodView

from engine import services

from .common import actor, authenticated_blueprint, duban
from .schemas import MeSchema, UnitSchema

blp = authenticated_blueprint("org", __name__, "Organisation (单位与用户)")


@blp.route("/units")
class Units(MethodView):
    @blp.response(200, UnitSchema(many=True))
    def get(self):
        """Units: the office, leaders, handling units, 纪委"""
        return services.list_units(duban())


@blp.route("/me")
class Me(MethodView):
    @blp.response(200, MeSchema)
    def get(self):
        """The caller: username, roles, unit"""
        who = actor()
        names = {u["id"]: u["name"] for u in services.list_units(duban())}
        return {"id": who.id, "username": who.username, "display_name": who.display_name,
                "roles": sorted(who.roles), "unit": who.unit_id, "unit_name": names.get(who.unit_id)}
