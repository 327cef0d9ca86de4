"""The service's own pages, error pages, headers and the health check."""

import pytest

from tests.pages import soup_of


@pytest.mark.parametrize(
    ("url", "heading"),
    [
        ("/", "Pipeline: find and share council projects"),
        ("/accessibility", "Accessibility statement for Pipeline"),
        ("/privacy", "Privacy notice"),
        ("/cookies", "Cookies"),
    ],
)
def test_information_pages(client, url, heading):
    soup = client.page(url)
    assert soup.h1.get_text(strip=True) == heading


def test_unknown_url_shows_the_404_page(client):
    soup = client.page("/no-such-page", status=404)
    assert soup.h1.get_text(strip=True) == "Page not found"


def test_healthcheck_reports_the_database(client):
    response = client.get("/healthcheck")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok"}


def test_security_headers_on_every_page(client):
    response = client.get("/")
    csp = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp
    assert "script-src 'self' 'nonce-" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    nonce = csp.split("'nonce-")[1].split("'")[0]
    inline_scripts = soup_of(response).select("script:not([src])")
    assert inline_scripts and all(s["nonce"] == nonce for s in inline_scripts)


def test_built_govuk_frontend_matches_the_pinned_version(app):
    import json
    from pathlib import Path

    root = Path(app.root_path).parent
    pinned = json.loads((root / "frontend" / "package.json").read_text())["dependencies"]["govuk-frontend"]
    assert (root / "static" / "build" / "VERSION").read_text().strip() == pinned
    css = (root / "static" / "build" / "pipeline.css").read_text()
    assert "GDS Transport" not in css, "GDS Transport is licensed for GOV.UK only"
    assert "url(/assets" not in css and 'url("/assets' not in css


def test_static_assets_are_served(client):
    for path in ["/static/build/pipeline.css", "/static/js/app.js", "/static/build/govuk-frontend.min.js"]:
        with client.get(path) as response:
            assert response.status_code == 200
