"""/api/docs: Swagger UI over /api/openapi.json, from our own copy of swagger-ui-dist (`make assets`).

Nothing comes from another host, and there is no inline script (the pages' Content-Security-Policy
allows only this server's scripts), so the start-up code is served at /api/docs/init.js.
"""
from __future__ import annotations

from flask import Response, current_app, url_for
from markupsafe import escape

VENDOR = "vendor/swagger-ui/"

PAGE = """<!DOCTYPE html>
<html lang="zh-CN">
<head>
  <meta charset="utf-8">
  <title>{title}</title>
  <link rel="icon" type="image/png" href="{favicon}">
  <link rel="stylesheet" href="{css}">
</head>
<body>
  <div id="swagger-ui" data-spec-url="{spec}"></div>
  <script src="{bundle}"></script>
  <script src="{init}"></script>
</body>
</html>
"""

INIT = """window.ui = SwaggerUIBundle({
  url: document.getElementById("swagger-ui").dataset.specUrl,
  domNode: document.getElementById("swagger-ui"),
  deepLinking: true,
  displayRequestDuration: true,
  validatorUrl: null
});
"""


def _page():
    static = lambda name: url_for("static", filename=VENDOR + name)  # noqa: E731
    html = PAGE.format(title=escape(f"{current_app.config['API_TITLE']} 文档"), favicon=static("favicon-32x32.png"),
                       css=static("swagger-ui.css"), bundle=static("swagger-ui-bundle.js"),
                       spec=url_for("api-docs.openapi_json"), init=url_for("api_docs_init"))
    return Response(html, mimetype="text/html")


def _init():
    return Response(INIT, mimetype="text/javascript")


def register(app) -> None:
    app.add_url_rule("/api/docs", "api_docs", _page)
    app.add_url_rule("/api/docs/init.js", "api_docs_init", _init)
