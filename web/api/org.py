"""Units and the caller."""
from __future__ import annotations

from flask.views import MethodView

from engine import services
from engine.services import people

from .common import actor, authenticated_blueprint, duban
from .schemas import MeSchema, PersonQuery, PersonSchema, UnitSchema

blp = authenticated_blueprint("org", __name__, "Organisation (单位与用户)")


@blp.route("/units")
class Units(MethodView):
    @blp.response(200, UnitSchema(many=True))
    def get(self):
        """Units: the office, leaders, handling units, 纪委"""
        return services.list_units(duban())


@blp.route("/users")
class People(MethodView):
    @blp.arguments(PersonQuery, location="query")
    @blp.response(200, PersonSchema(many=True))
    def get(self, query):
        """Find active people by part of their name, username or unit name (`?q=张`; several words: each
        must match), to choose a secret item's 知悉范围 by name (office and administrators)"""
        return people.find_people(duban(), actor(), query["q"], query["limit"])


@blp.route("/me")
class Me(MethodView):
    @blp.response(200, MeSchema)
    def get(self):
        """The caller: username, roles, unit"""
        who = actor()
        names = services.org.names(duban())
        return {"id": who.id, "username": who.username, "display_name": who.display_name,
                "roles": sorted(who.roles), "unit": who.unit_id, "unit_name": names.get(who.unit_id)}
