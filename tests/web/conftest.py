"""Fixtures of the page tests: a logged-in HTTP client with CSRF tokens, and headless Chromium.

Browser tests use Debian's Chromium (never a downloaded browser). Without /usr/bin/chromium they
FAIL, unless SHUDI_SKIP_BROWSER=1 says this machine cannot run them. They need the vendor assets
(bpmn-js, Swagger UI) and build them with the project's own build step when they are missing.
"""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from .web_helpers import ROOT, WebClient


CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]
VENDOR_FILES = ["service/static/vendor/bpmn-js/bpmn-navigated-viewer.production.min.js",
                "service/static/vendor/bpmn-auto-layout/bpmn-auto-layout.min.js",
                "service/static/vendor/swagger-ui/swagger-ui-bundle.js"]


@pytest.fixture
def web(server, core):
    clients: list[WebClient] = []

    def make(username: str | None = None) -> WebClient:
        client = WebClient(server)
        if username:
            client.login(username)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.http.close()


# --- the browser --------------------------------------------------------------------------------

def build_vendor_assets() -> None:
    """The same build step as the quick start: npm ci (when node_modules is missing), npm run build."""
    npm = shutil.which("npm")
    if npm is None:
        pytest.fail("Browser tests need the front-end assets: install Node.js/npm, then run "
                    "`npm ci && npm run build` in the repository root")
    if not (ROOT / "node_modules" / "bpmn-js").is_dir():
        subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=ROOT, check=True)
    subprocess.run([npm, "run", "build"], cwd=ROOT, check=True)


@pytest.fixture(scope="session")
def vendor_assets():
    if not all((ROOT / f).is_file() for f in VENDOR_FILES):
        build_vendor_assets()
    missing = [f for f in VENDOR_FILES if not (ROOT / f).is_file()]
    if missing:
        pytest.fail(f"`npm run build` did not produce {missing}")


# Per package: tests/designer reuses these fixtures, and two Playwright sessions cannot be open
# at once; each package closes its browser before the next one starts its own.
@pytest.fixture(scope="package")
def browser(request):
    if os.environ.get("SHUDI_SKIP_BROWSER") == "1":
        pytest.skip("SHUDI_SKIP_BROWSER=1: browser tests skipped on this machine")
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium) to run the "
                    f"browser tests, or set SHUDI_SKIP_BROWSER=1 on a machine that cannot")
    request.getfixturevalue("vendor_assets")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, server, core):
    context = browser.new_context(locale="zh-CN", viewport={"width": 1440, "height": 900}, base_url=server)
    tab = context.new_page()
    problems: list[str] = []
    tab.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    # A rejected form is answered 422 on purpose; any other console error is a problem.
    tab.on("console", lambda message: problems.append(f"console: {message.text}")
           if message.type == "error" and "status of 422" not in message.text else None)
    tab.problems = problems
    yield tab
    context.close()
