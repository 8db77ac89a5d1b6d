"""Fixtures of the designer tests: HTTP clients for designers, the browser (Debian's Chromium, as
in tests/web) with the designer's bundled modeler built by the project's own build step."""
from __future__ import annotations

import shutil
import subprocess

import pytest

from web.conftest import browser, page, web  # noqa: F401 - the page tests' fixtures, reused here
from web.web_helpers import ROOT

DESIGNER_ASSETS = ["service/static/vendor/designer/designer-modeler.js",
                   "service/static/vendor/designer/properties-panel.css",
                   "service/static/vendor/bpmn-js/bpmn-navigated-viewer.production.min.js"]


@pytest.fixture(scope="session")
def vendor_assets():
    """The front-end build (npm ci when the designer's packages are missing, then npm run build)."""
    if not all((ROOT / f).is_file() for f in DESIGNER_ASSETS):
        npm = shutil.which("npm")
        if npm is None:
            pytest.fail("The designer's browser tests need Node.js/npm: run `npm ci && npm run build`")
        if not (ROOT / "node_modules" / "bpmn-js-properties-panel").is_dir():
            subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=ROOT, check=True)
        subprocess.run([npm, "run", "build"], cwd=ROOT, check=True)
    missing = [f for f in DESIGNER_ASSETS if not (ROOT / f).is_file()]
    if missing:
        pytest.fail(f"`npm run build` did not produce {missing}")


@pytest.fixture
def designer_api(api):
    """The HTTP client with the scenario vocabulary of the designer tests."""
    def put(path, as_user, **kw):
        return api.request("PUT", path, as_user, **kw)

    def deploy(filename, xml, note="测试部署", as_user="designer", **extra):
        return api.post(f"/api/designer/diagrams/{filename}/deploy", as_user,
                        json={"content": xml, "note": note, **extra})

    def validate(filename, xml, as_user="designer"):
        return api.post(f"/api/designer/diagrams/{filename}/validate", as_user, json={"content": xml})

    api.put, api.deploy_diagram, api.validate_diagram = put, deploy, validate
    return api
