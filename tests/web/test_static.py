"""The vendored and packaged files: htmx is the exact file recorded, and the templates ship with the package."""

from __future__ import annotations

import hashlib
from pathlib import Path

from fastapi.testclient import TestClient

import tieout.web

STATIC = Path(tieout.web.__file__).parent / "static"
HTMX_SHA256 = "d6fdc75f204e6bdefa99b69bf1e6d4ac69b8a364f77929f45c13476b4000f717"  # htmx.org 2.0.11, see VENDORED.md


def test_htmx_is_the_vendored_release() -> None:
    assert hashlib.sha256((STATIC / "htmx.min.js").read_bytes()).hexdigest() == HTMX_SHA256
    assert HTMX_SHA256 in (STATIC / "VENDORED.md").read_text()


def test_static_files_are_served(client: TestClient) -> None:
    for name in ("htmx.min.js", "tieout.css", "tieout.js"):
        assert client.get(f"/static/{name}").status_code == 200


def test_templates_and_static_files_are_package_data() -> None:
    text = (Path(__file__).resolve().parents[2] / "pyproject.toml").read_text()
    assert '"web/templates/*.html"' in text and '"web/static/*"' in text


def test_serve_is_a_command() -> None:
    from tests.conftest import invoke

    result = invoke("serve", "--help")
    assert result.exit_code == 0 and "--port" in result.output and "--host" in result.output
