"""Helpers of the page tests: an HTTP client that behaves like a browser, and browser steps."""
from __future__ import annotations

import re
from pathlib import Path

import requests

PASSWORD = "password123"  # of every user made by the `users` fixture (tests/conftest.py)
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class WebClient:
    """A browser-like HTTP client: session cookie, CSRF token taken from the pages' forms."""

    def __init__(self, base_url: str):
        self.base_url = base_url
        self.http = requests.Session()
        self._token: str | None = None

    def get(self, path: str, **kwargs) -> requests.Response:
        response = self.http.get(self.base_url + path, timeout=30, **kwargs)
        self._remember_token(response)
        return response

    def post(self, path: str, data: dict | list | None = None, *, csrf: bool = True, **kwargs) -> requests.Response:
        fields = list(data.items()) if isinstance(data, dict) else list(data or [])
        if csrf:
            fields.append(("csrf_token", self.token()))
        response = self.http.post(self.base_url + path, data=fields, timeout=30, **kwargs)
        self._remember_token(response)
        return response

    def token(self) -> str:
        if self._token is None:
            self.get("/login")
        return self._token

    def login(self, username: str, password: str = PASSWORD) -> requests.Response:
        response = self.post("/login", {"username": username, "password": password}, allow_redirects=False)
        assert response.status_code == 302, response.text
        self._token = None  # a login starts a new session, with a new CSRF token
        return response

    def _remember_token(self, response) -> None:
        found = _CSRF.search(response.text) if "text/html" in response.headers.get("Content-Type", "") else None
        if found:
            self._token = found.group(1)


def login(tab, username: str, password: str = PASSWORD) -> None:
    tab.goto("/login")
    tab.fill("#username", username)
    tab.fill("#password", password)
    tab.click("button[type=submit]")
    tab.wait_for_url(lambda url: "/login" not in url)


def screenshot(tab, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    tab.screenshot(path=str(path), full_page=True)
    return path
