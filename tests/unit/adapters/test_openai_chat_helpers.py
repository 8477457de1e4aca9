"""The small rules of the OpenAI adapter that need no server: Retry-After and redaction."""

from __future__ import annotations

import email.utils
import time

import pytest

from smarter.adapters.openai_chat import OpenAIChatModel, _retry_after
from smarter.application.llm import CompletionRequest, UpstreamFailed


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({"retry-after": "7"}, 7.0),
        ({"retry-after": "1.5"}, 1.5),
        ({"retry-after": "-3"}, 0.0),
        ({"retry-after-ms": "250"}, 0.25),
        ({"retry-after": "7", "retry-after-ms": "250"}, 7.0),
        ({"retry-after": "soon"}, None),
        ({}, None),
    ],
)
def test_retry_after_is_read_in_seconds(headers: dict[str, str], seconds: float | None) -> None:
    assert _retry_after(headers) == seconds


def test_retry_after_may_be_an_http_date() -> None:
    later = email.utils.formatdate(time.time() + 30, usegmt=True)

    seconds = _retry_after({"retry-after": later})

    assert seconds is not None
    assert 28 <= seconds <= 31


async def test_the_key_and_anything_that_looks_like_one_is_redacted_from_provider_text() -> None:
    model = OpenAIChatModel(api_key="my-own-secret", base_url="http://127.0.0.1:9/v1")
    try:
        text = model._redacted("bad key my-own-secret, also sk-abc123456 and key-zzzz9999")
    finally:
        await model.aclose()

    assert text == "bad key ***, also *** and ***"


async def test_a_placeholder_key_of_a_local_server_is_not_redacted_letter_by_letter() -> None:
    model = OpenAIChatModel(api_key="x", base_url="http://127.0.0.1:9/v1")
    try:
        assert model._redacted("max_tokens exceeded") == "max_tokens exceeded"
    finally:
        await model.aclose()


async def test_an_unexpected_error_is_a_502_and_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    model = OpenAIChatModel(api_key="my-own-secret", base_url="http://127.0.0.1:9/v1")
    request = CompletionRequest(model="m", messages=[{"role": "user", "content": object()}])
    try:
        with pytest.raises(UpstreamFailed, match="the call to the provider 'openai' failed"):
            await model.complete(request)
    finally:
        await model.aclose()

    assert "unexpected error calling the provider openai" in caplog.text
