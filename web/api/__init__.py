"""The REST API under /api/v1 (flask-smorest: OpenAPI at /api/openapi.json, docs at /api/docs)."""
from __future__ import annotations

from flask_smorest import Api

from . import auth, calendar, definitions, instances, items, messages, notifications, org, tasks

BLUEPRINTS = (auth.blp, org.blp, definitions.blp, instances.blp, items.blp, tasks.blp, messages.blp,
              notifications.blp, calendar.blp, calendar.recalc)


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
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
        "security": [{"bearer": []}],
    })
    api = Api(app)
    api.ERROR_SCHEMA = None
    for blueprint in BLUEPRINTS:
        api.register_blueprint(blueprint, url_prefix=f"/api/v1{blueprint.url_prefix or ''}")
    return api
