"""Every route requires a login unless it is on this list of deliberately public endpoints."""
from __future__ import annotations

import re

import requests

# The public surface, reviewed: what the county publishes, login itself, health, API docs, assets.
PUBLIC = re.compile(r"^(static|health|auth\.Token|api-docs\..*|public\..*|catalog\.(Versions|Version|VersionDiff|"
                    r"Items|Item|Directory|Areas).*|web\.(login|logout|static|set_language).*|.*\.static)$")


def test_every_non_public_route_refuses_anonymous_requests(server, core):
    from service.app import create_app

    app = create_app(core=core)
    adapter = app.url_map.bind("127.0.0.1")
    checked = 0
    for rule in app.url_map.iter_rules():
        if PUBLIC.match(rule.endpoint):
            continue
        url = adapter.build(rule.endpoint, {name: _sample(converter) for name, converter in rule._converters.items()},
                            method=next(iter(rule.methods - {"HEAD", "OPTIONS"})))
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = requests.request(method, server + url, allow_redirects=False, timeout=10)
            if url.startswith("/api/"):
                assert response.status_code == 401, (rule.endpoint, method, response.status_code)
                assert response.json()["code"] == "unauthorized"
            else:
                assert response.status_code in (302, 303, 401), (rule.endpoint, method, response.status_code)
                if response.status_code in (302, 303):
                    assert "/login" in response.headers["Location"], rule.endpoint
            checked += 1
    assert checked > 20


def _sample(converter):
    """A value the route's converter accepts, so the request reaches the route itself."""
    from werkzeug.routing import AnyConverter, IntegerConverter

    if isinstance(converter, AnyConverter):
        return sorted(converter.items)[0]
    if isinstance(converter, IntegerConverter):
        return 1
    return "x"


def test_a_session_cookie_reads_the_api_but_cannot_change_anything(server, users, deployed):
    http = requests.Session()
    login_page = http.get(f"{server}/login")
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', login_page.text).group(1)
    response = http.post(f"{server}/login", data={"username": "t01_office", "password": "password123",
                                                   "csrf_token": token}, allow_redirects=False)
    assert response.status_code in (302, 303)
    assert http.get(f"{server}/api/tasks").status_code == 200
    response = http.post(f"{server}/api/process-instances", json={"process_key": "simple_call", "data": {"title": "x"}})
    assert response.status_code == 401
