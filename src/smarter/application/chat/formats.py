"""What a chat request carries and what it is answered with (`messages`, optional
`prompt_history` and `session_key`, plus the OpenAI fields an SDK sends), and the chat
page's configuration."""

from __future__ import annotations

import re
from typing import Annotated, Any, Final, Literal

import msgspec

from smarter.domain.errors import InvalidValue
from smarter.domain.llm_client import MAX_TOKENS_LIMIT, ClientMode, LLMClient

MAX_MESSAGES: Final = 500
MAX_CONTENT: Final = 200_000
SESSION_KEY_PATTERN: Final = r"^[A-Za-z0-9_\-]{1,128}$"

Content = Annotated[str, msgspec.Meta(max_length=MAX_CONTENT)]


class ChatMessageIn(msgspec.Struct, kw_only=True):
    role: Literal["system", "developer", "user", "assistant"]
    content: Content | list[dict[str, Any]]


class PromptHistoryItem(msgspec.Struct, kw_only=True):
    """One line of the chat UI's transcript: `incoming` is the assistant, `outgoing` the user."""

    message: Content
    direction: Literal["incoming", "outgoing"] = "outgoing"
    sent_time: str | None = msgspec.field(default=None, name="sentTime")
    sender: str | None = None


class ChatRequest(msgspec.Struct, kw_only=True):
    """The body of `POST /llm-client/` and of `POST /v1/chat/completions`.

    `model` is accepted for OpenAI SDKs and ignored: the client's owner chooses the model.
    `temperature` overrides the client's; `max_tokens` may lower the client's, never raise it.
    """

    messages: Annotated[list[ChatMessageIn], msgspec.Meta(min_length=1, max_length=MAX_MESSAGES)]
    prompt_history: Annotated[list[PromptHistoryItem], msgspec.Meta(max_length=MAX_MESSAGES)] = (
        msgspec.field(default_factory=list)
    )
    session_key: Annotated[str, msgspec.Meta(pattern=SESSION_KEY_PATTERN)] | None = None
    stream: bool = False
    model: str | None = None
    temperature: Annotated[float, msgspec.Meta(ge=0.0, le=2.0)] | None = None
    max_tokens: Annotated[int, msgspec.Meta(ge=1, le=MAX_TOKENS_LIMIT)] | None = None


_decode_chat = msgspec.json.Decoder(ChatRequest).decode
_AT = re.compile(r" - at `\$\.?([^`]*)`$")


def decode_chat_request(body: bytes) -> ChatRequest:
    """The request in `body`; InvalidValue naming the field that is wrong."""
    if not body.strip():
        raise InvalidValue("body", "a JSON request body with `messages` is required")
    try:
        return _decode_chat(body)
    except msgspec.ValidationError as error:
        text = str(error)
        found = _AT.search(text)
        field = found.group(1) if found else None
        raise InvalidValue(field or "body", _AT.sub("", text)) from None
    except msgspec.DecodeError as error:
        raise InvalidValue("body", f"not valid JSON: {error}") from None
    except RecursionError:
        raise InvalidValue("body", "nested too deeply") from None


class ChatReply(msgspec.Struct, kw_only=True):
    """A ChatCompletion plus the conversation's `session_key` and this request's id."""

    id: str
    object: str
    created: int
    model: str
    choices: list[dict[str, Any]]
    usage: dict[str, Any] | None
    session_key: str
    request_id: str


class ReplyChunk(ChatReply, kw_only=True):
    """A `chat.completion.chunk` plus the `session_key` and the request id (the same fields)."""


class ChatConfig(msgspec.Struct, kw_only=True):
    """What the chat page needs: the `app_*` settings, where to send turns, whether a key is
    required, and which face of the client this is (`mode`)."""

    name: str
    app_name: str
    app_assistant: str
    app_welcome_message: str
    app_example_prompts: list[str]
    app_placeholder: str
    app_info_url: str | None
    app_background_image_url: str | None
    app_logo_url: str | None
    app_file_attachment: bool
    url_llm_client: str
    url_chat_config: str
    default_url: str
    custom_url: str | None
    is_authentication_required: bool
    mode: str


def chat_config(
    client: LLMClient, mode: ClientMode, url_llm_client: str, url_chat_config: str
) -> ChatConfig:
    return ChatConfig(
        name=client.name,
        app_name=client.app_name,
        app_assistant=client.app_assistant,
        app_welcome_message=client.app_welcome_message,
        app_example_prompts=list(client.app_example_prompts),
        app_placeholder=client.app_placeholder,
        app_info_url=client.app_info_url,
        app_background_image_url=client.app_background_image_url,
        app_logo_url=client.app_logo_url,
        app_file_attachment=client.app_file_attachment,
        url_llm_client=url_llm_client,
        url_chat_config=url_chat_config,
        default_url=client.default_url,
        custom_url=client.custom_url,
        is_authentication_required=client.is_authentication_required,
        mode=mode.value,
    )
