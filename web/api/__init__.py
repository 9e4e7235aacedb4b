"""The REST API under /api/v1 (flask-smorest: OpenAPI at /api/openapi.json, docs at /api/docs)."""
from __future__ import annotations

from flask_smorest import Api
from flask_smorest.pagination import PaginationMetadataSchema
from werkzeug.routing import IntegerConverter

from . import (
    admin,
    assessment,
    auth,
    bulletins,
    calendar,
    connectors,
    definitions,
    docs,
    documents,
    external_tasks,
    files,
    input_guard,
    instances,
    items,
    messages,
    modeler,
    notifications,
    org,
    progress,
    public,
    replies,
    starting,
    stats,
    tasks,
)
from .schemas import ErrorSchema

BLUEPRINTS = (auth.blp, org.blp, definitions.blp, instances.blp, items.blp, tasks.blp, messages.blp,
              notifications.blp, calendar.blp, calendar.recalc, admin.blp, admin.me_blp, admin.audit_blp,
              admin.units_blp, admin.import_blp, connectors.blp,
              stats.blp, documents.blp, public.blp, assessment.blp, assessment.praise_blp, bulletins.blp,
              progress.blp, replies.blp, modeler.blp, starting.blp, files.blp, external_tasks.blp)


def register(app) -> Api:
    app.config.setdefault("API_TITLE", "Duban 督办 API")
    app.config.setdefault("API_VERSION", "v1")
    app.config.setdefault("OPENAPI_VERSION", "3.0.3")
    app.config.setdefault("OPENAPI_URL_PREFIX", "/api")
    app.config.setdefault("OPENAPI_JSON_PATH", "openapi.json")
    app.config.setdefault("API_SPEC_OPTIONS", {
        "info": {"description": "督查督办: items, tasks, process definitions and instances. "
                                "Authenticate with POST /api/v1/auth/token, then send "
                                "`Authorization: Bearer <token>`."},
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"},
                                           # external task workers only (web/api/external_tasks.py)
                                           "basic": {"type": "http", "scheme": "basic"}}},
        "security": [{"bearer": []}],
    })
    # `<int:...>` in every route stops at what an SQL INTEGER holds: larger ids are 404s, not overflows.
    app.url_map.converters["int"] = SqlInteger
    # Every request: over-deep JSON, NUL or lone surrogates in text are a 422, not a 500 further on.
    app.before_request(input_guard.reject_unreadable)
    api = DubanApi(app)
    for blueprint in BLUEPRINTS:
        api.register_blueprint(blueprint, url_prefix=f"/api/v1{blueprint.url_prefix or ''}")
    docs.register(app)  # /api/docs: Swagger UI from web/static/vendor/swagger-ui/ (make assets), no CDN
    return api


class SqlInteger(IntegerConverter):
    def __init__(self, map, fixed_digits=0, min=None, max=2**31 - 1, signed=False):  # noqa: A002 - IntegerConverter's own names
        super().__init__(map, fixed_digits, min, max, signed)


class DubanApi(Api):
    # Documents our error shape ({"error", "message", "details"}, web/errors.py) as the default
    # response of every operation instead of flask-smorest's own; set before Api.__init__ uses it.
    ERROR_SCHEMA = ErrorSchema

    def _register_pagination_header(self):
        # X-Pagination carries JSON text: OpenAPI 3 describes that with `content`, not an object `schema`.
        self.spec.components.header("PAGINATION", {
            "description": "Pagination metadata (JSON)",
            "content": {"application/json": {"schema": PaginationMetadataSchema}},
        }, lazy=True)
