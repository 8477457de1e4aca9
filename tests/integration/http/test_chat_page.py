"""The chat page's shell, its assets and the workbench route, over HTTP (no browser).

The page on client hosts, streaming and the sandbox in a real browser: tests/integration/browser.
"""

from __future__ import annotations

import re

import pytest

from smarter.domain.hashed_id import encode_hashed_id
from tests.integration.http.conftest import Api


def data_attributes(html: str) -> dict[str, str]:
    body = re.search(r"<body([^>]*)>", html)
    assert body is not None
    return dict(re.findall(r'data-([a-z-]+)="([^"]*)"', body.group(1)))


async def test_the_workbench_serves_the_sandbox_shell_without_client_data(api: Api) -> None:
    response = await api.client.get(f"/workbench/llm-clients/{encode_hashed_id(42)}/")

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert data_attributes(response.text) == {
        "mode": "sandbox",
        "config-url": "/api/v1/llm-clients/42/config/",
        "chat-url": "/api/v1/llm-clients/42/prompt/",
        "csrf-token": "",  # only the console's own sandbox frame has one
    }
    policy = response.headers["content-security-policy"]
    assert "default-src 'none'" in policy
    assert "script-src 'self'" in policy and "connect-src 'self'" in policy
    assert "'unsafe-inline'" not in policy
    assert response.headers["x-content-type-options"] == "nosniff"
    assert '<script src="/chat-assets/chat.js?v=' in response.text
    assert "<script>" not in response.text and "style=" not in response.text


@pytest.mark.parametrize("hashed_id", ["not-an-id", "rMTAwMDAwNg", "r%3Cscript%3Ex", "r" * 80])
async def test_a_workbench_id_that_is_not_one_of_ours_is_404_json(api: Api, hashed_id: str) -> None:
    response = await api.client.get(f"/workbench/llm-clients/{hashed_id}/")

    assert response.status_code == 404
    assert response.headers["content-type"] == "application/json"
    assert response.json()["status_code"] == 404
    assert "<script>" not in response.text


async def test_the_workbench_is_only_on_the_console_host(api: Api) -> None:
    response = await api.client.get(
        f"/workbench/llm-clients/{encode_hashed_id(42)}/",
        headers={"host": "api.localhost:9357"},
    )

    assert response.status_code == 404


@pytest.mark.parametrize(
    ("name", "media_type"),
    [("chat.js", "text/javascript; charset=utf-8"), ("chat.css", "text/css; charset=utf-8")],
)
async def test_assets_are_served_with_their_content_type(
    api: Api, name: str, media_type: str
) -> None:
    response = await api.client.get(f"/chat-assets/{name}")

    assert response.status_code == 200
    assert response.headers["content-type"] == media_type
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "max-age" in response.headers["cache-control"]


@pytest.mark.parametrize("name", ["chat.html", "../app.py", "nope.js", "%2e%2e%2fapp.py"])
async def test_anything_else_under_the_assets_path_is_404(api: Api, name: str) -> None:
    response = await api.client.get(f"/chat-assets/{name}")

    assert response.status_code == 404
    assert response.headers["content-type"] == "application/json"


async def test_the_script_never_writes_markup_from_data() -> None:
    from importlib import resources

    script = (resources.files("smarter.entrypoints.http") / "static" / "chat.js").read_text()

    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
        assert sink not in script
