"""The interactive API reference at /api/v1/docs: public like the document it renders, served
entirely by bookwise (no CDN) under the strict Content-Security-Policy."""

from __future__ import annotations

import hashlib
import re
from importlib.resources import files

from fastapi.testclient import TestClient

from bookwise.http.security import HEADERS

SWAGGER = files("bookwise").joinpath("static", "swagger-ui")
CHECKSUM = re.compile(r"^([0-9a-f]{64})  (\S+)$", re.MULTILINE)


def test_the_reference_is_public_like_the_openapi_document(client: TestClient) -> None:
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert client.get("/api/v1/openapi.json").status_code == 200  # also without signing in
    assert page.headers["content-security-policy"] == HEADERS["Content-Security-Policy"]


def test_the_reference_loads_nothing_from_elsewhere_and_runs_no_inline_code(
    client: TestClient,
) -> None:
    html = client.get("/api/v1/docs").text
    assert "<style" not in html
    assert " style=" not in html
    assert re.findall(r"<script(?![^>]*\ssrc=)", html) == []  # every script is a file
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources
    for source in sources:
        assert source.startswith("/") or source == "data:,", source
        if source.startswith("/static/"):
            assert client.get(source).status_code == 200, source
    assert "/static/swagger-ui/swagger-ui-bundle.js" in sources
    assert "/static/swagger-ui/bookwise-docs.js" in sources


def test_the_vendored_swagger_ui_is_version_5_and_unmodified() -> None:
    notice = SWAGGER.joinpath("NOTICE").read_text()
    assert "Swagger UI 5." in notice  # 4.x cannot render OpenAPI 3.1
    listed = dict((name, digest) for digest, name in CHECKSUM.findall(notice))
    assert set(listed) == {
        "swagger-ui-bundle.js",
        "swagger-ui-bundle.js.LICENSE.txt",
        "swagger-ui.css",
        "LICENSE",
    }
    for name, digest in listed.items():
        assert hashlib.sha256(SWAGGER.joinpath(name).read_bytes()).hexdigest() == digest, name


def test_the_initializer_keeps_try_it_out_on_the_token() -> None:
    script = SWAGGER.joinpath("bookwise-docs.js").read_text()
    assert 'url: "/api/v1/openapi.json"' in script
    assert 'request.credentials = "omit"' in script  # never the session cookie
    assert "queryConfigEnabled: false" in script  # never a spec named in the address bar
    assert "validatorUrl: null" in script
    assert "persistAuthorization: false" in script
