"""The working-day calendar and recalculation (administrators)."""
from __future__ import annotations

from flask import request
from flask.views import MethodView

from engine.errors import Forbidden, InvalidInput
from engine.services import SYSTEM_ADMINS, calendar
from engine.texts import text

from .common import actor, authenticated_blueprint, duban
from .schemas import CalendarDaySchema, CalendarFile, CalendarYearSchema, RecalculateResult

blp = authenticated_blueprint("calendar", __name__, "Working-day calendar (工作日历)", "/calendar")


@blp.route("/<int(min=1, max=9999):year>")  # what datetime.date holds
class Year(MethodView):
    @blp.response(200, CalendarYearSchema)
    def get(self, year):
        """Holidays and make-up working days of a year, and whether its schedule is loaded"""
        actor()
        return calendar.year(duban(), year)


@blp.route("/days")
class Day(MethodView):
    @blp.arguments(CalendarDaySchema)
    @blp.response(200, RecalculateResult)
    def put(self, body):
        """Correct one day (holiday or working day); open deadlines are recomputed"""
        return calendar.set_day(duban(), actor(), body["date"], body["workday"], body["note"])


@blp.route("/import")
class Import(MethodView):
    @blp.arguments(CalendarFile, location="files")
    @blp.response(200, RecalculateResult)
    def post(self, _files):
        """Load a year's notice (YAML or CSV); provisional deadlines it settles are recomputed"""
        if not actor().has(*SYSTEM_ADMINS):  # before reading what was sent
            raise Forbidden(text("calendar.admin_only"))
        upload = request.files.get("file")
        if upload is None:
            raise InvalidInput(text("calendar.file_missing"), [{"field": "file", "message": text("field.required")}])
        name = upload.filename or "holidays"
        content = calendar.days_text(upload.read(calendar.MAX_HOLIDAYS_BYTES + 1), name)
        return calendar.import_days(duban(), content, name, actor())


recalc = authenticated_blueprint("recalculate", __name__, "Administration (管理)", "/admin")


@recalc.route("/recalculate")
class Recalculate(MethodView):
    @recalc.response(200, RecalculateResult)
    def post(self):
        """Recompute the deadlines and timers of every open item (as after a calendar change)"""
        who = actor()
        if not who.has(*SYSTEM_ADMINS):
            raise Forbidden(text("calendar.recalculate_admin_only"))
        return calendar.recalculate(duban(), who)
