"""Request history and conversations: plain records with safe defaults."""

from __future__ import annotations

from smarter.domain.history import ChatMessage, ChatRequestRecord, Conversation


def test_a_new_conversation_has_no_messages_and_shares_no_list_with_another() -> None:
    first = Conversation(llm_client_id=1, session_key="s1")
    second = Conversation(llm_client_id=1, session_key="s2")
    first.messages.append(ChatMessage(role="user", content="Hello"))
    assert [m.content for m in first.messages] == ["Hello"]
    assert second.messages == []


def test_a_request_record_counts_no_tokens_and_names_no_key_unless_told() -> None:
    record = ChatRequestRecord(
        llm_client_id=1,
        request_id="r1",
        session_key="s1",
        mode="default",
        status_code=200,
        latency_ms=12.5,
        request={"messages": []},
    )
    assert (record.prompt_tokens, record.completion_tokens) == (0, 0)
    assert record.api_key_id is None
    assert record.response is None
