"""/api/docs: Swagger UI from our own copy of swagger-ui-dist (make assets), never a CDN; the spec it shows.

tests/browser/test_api_docs_ui.py renders it in chromium.
"""
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

VENDOR = Path(__file__).resolve().parents[2] / "web" / "static" / "vendor"


class _Refs(HTMLParser):
    def __init__(self):
        super().__init__()
        self.refs = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in ("src", "href", "data-spec-url") and value:
                self.refs.append(value)


def _references(html: str) -> list[str]:
    parser = _Refs()
    parser.feed(html)
    return parser.refs


def test_vendor_assets_are_built():
    """`make test` runs `make assets` first; without them the pages and the docs are broken."""
    for path in ("swagger-ui/swagger-ui-bundle.js", "swagger-ui/swagger-ui.css", "form-js/form-viewer.umd.js",
                 "form-js/form-js.css", "bpmn-js/bpmn-navigated-viewer.production.min.js",
                 "bpmn-js/bpmn-modeler.production.min.js", "bpmn-js/assets/diagram-js.css",
                 "bpmn-js/assets/bpmn-js.css", "bpmn-js/assets/bpmn-font/css/bpmn.css", "echarts/echarts.min.js"):
        assert (VENDOR / path).is_file(), f"web/static/vendor/{path} is missing: run `make assets`"


def test_every_vendor_file_the_pages_name_is_built():
    """What templates and scripts load from static/vendor/ is among what tools/vendor_assets.py copies."""
    web = VENDOR.parents[1]
    sources = [*web.glob("templates/**/*.html"), *web.glob("static/*.js"), *web.glob("api/*.py")]
    named = {match for source in sources
             for match in re.findall(r"vendor/([A-Za-z0-9_./-]+\.(?:js|css|png|woff2?))", source.read_text())}
    assert named, "no page names a vendor file"
    missing = sorted(name for name in named if not (VENDOR / name).is_file())
    assert not missing, f"not in web/static/vendor (tools/vendor_assets.py copies them): {missing}"


def test_docs_page_uses_only_local_assets(client):
    response = client.get("/api/docs")
    assert response.status_code == 200 and response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    refs = _references(html)
    assert "/api/openapi.json" in refs
    assert any(ref.endswith("swagger-ui-bundle.js") for ref in refs)
    assert any(ref.endswith("swagger-ui.css") for ref in refs)
    for ref in refs:
        parts = urlsplit(ref)
        assert not parts.scheme and not parts.netloc, f"/api/docs loads {ref} from another host"
        assert ref.startswith("/"), ref
        asset = client.get(ref)
        assert asset.status_code == 200, f"{ref}: {asset.status_code}"
        assert asset.data, ref
        asset.close()
    # No other host anywhere in the page, and no inline script (the Content-Security-Policy forbids it).
    assert not re.search(r"(https?:)?//[a-z0-9.-]+\.[a-z]{2,}", html, re.I), html
    assert "/api/docs/init.js" in refs
    assert "validatorUrl: null" in client.get("/api/docs/init.js").get_data(as_text=True)  # not validator.swagger.io
    assert not re.search(r"<script(?![^>]*\ssrc=)[^>]*>", html), "inline script"


def test_spec_documents_bearer_security_and_the_error_shape(client):
    spec = client.get("/api/openapi.json").json
    assert spec["openapi"].startswith("3.")
    assert spec["components"]["securitySchemes"]["bearer"] == {"type": "http", "scheme": "bearer"}
    assert spec["security"] == [{"bearer": []}]
    assert spec["paths"]["/api/v1/auth/token"]["post"]["security"] == []  # the way in needs no token
    error = spec["components"]["schemas"]["Error"]
    # `type`: Camunda's exception name, which its external task clients print (those endpoints only).
    assert set(error["properties"]) == {"error", "message", "details", "type"}
    assert set(error["required"]) >= {"error", "message"}
    assert error["properties"]["details"]["type"] == "array"
    default = spec["components"]["responses"]["DEFAULT_ERROR"]
    assert default["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if method != "parameters":
                assert operation["responses"]["default"] == {"$ref": "#/components/responses/DEFAULT_ERROR"}, \
                    (method, path)
