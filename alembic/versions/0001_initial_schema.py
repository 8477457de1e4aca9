"""Initial schema: accounts, users, tokens, LLMClients and everything they own, the outbox.

Revision ID: 0001
Revises:
Create Date: 2026-11-25 22:15:52+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from advanced_alchemy.types import DateTimeUTC
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The column types of smarter.adapters.sql.rows, spelled out once.
JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")  # SQLite: a ROWID alias


def _id() -> sa.Column[int]:
    return sa.Column("id", ID, sa.Identity(always=False), nullable=False)


def _time(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, DateTimeUTC(timezone=True), nullable=nullable)


def _parent(column: str, table: str, on_delete: str, owner: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{table}.id"], name=op.f(f"fk_{owner}_{column}_{table}"), ondelete=on_delete
    )


def upgrade() -> None:
    op.create_table(
        "accounts",
        _id(),
        sa.Column("account_number", sa.String(length=14), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        _time("created_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accounts")),
        sa.UniqueConstraint("account_number", name=op.f("uq_accounts_account_number")),
    )
    op.create_table(
        "users",
        _id(),
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("username", sa.String(length=63), nullable=False),
        sa.Column("is_account_admin", sa.Boolean(), nullable=False),
        sa.Column("email", sa.String(), nullable=False),
        _time("created_at"),
        _parent("account_id", "accounts", "CASCADE", "users"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("account_id", "username", name=op.f("uq_users_account_id_username")),
    )
    op.create_table(
        "account_tokens",
        _id(),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("display_prefix", sa.String(length=32), nullable=False),
        _time("created_at"),
        _time("revoked_at", nullable=True),
        _parent("user_id", "users", "CASCADE", "account_tokens"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_tokens")),
    )
    op.create_index(op.f("ix_account_tokens_digest"), "account_tokens", ["digest"], unique=True)
    op.create_index(op.f("ix_account_tokens_user_id"), "account_tokens", ["user_id"])

    op.create_table(
        "custom_domains",
        _id(),
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("domain_name", sa.String(length=253), nullable=False),
        sa.Column("aws_hosted_zone_id", sa.String(), nullable=True),
        sa.Column("name_servers", JSON_DOCUMENT, nullable=False),
        sa.Column("is_verified", sa.Boolean(), nullable=False),
        sa.Column("last_verification", JSON_DOCUMENT, nullable=True),
        _time("created_at"),
        _parent("account_id", "accounts", "CASCADE", "custom_domains"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_custom_domains")),
        sa.UniqueConstraint(
            "account_id", "domain_name", name=op.f("uq_custom_domains_account_id_domain_name")
        ),
    )
    # Pending registrations of one domain by several accounts coexist; a verified one is
    # unique across the platform.
    op.create_index(
        "uq_custom_domains_verified_domain_name",
        "custom_domains",
        ["domain_name"],
        unique=True,
        postgresql_where=sa.text("is_verified"),
        sqlite_where=sa.text("is_verified = 1"),
    )

    op.create_table(
        "llm_clients",
        _id(),
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("owner_id", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("host_label", sa.String(length=253), nullable=False),
        sa.Column("version", sa.String(), nullable=False),
        sa.Column("provider", sa.String(length=64), nullable=False),
        sa.Column("default_model", sa.String(), nullable=False),
        sa.Column("deployed", sa.Boolean(), nullable=False),
        sa.Column("dns_verification_status", sa.String(length=32), nullable=False),
        sa.Column("tls_certificate_issuance_status", sa.String(length=32), nullable=False),
        sa.Column("spec", JSON_DOCUMENT, nullable=False),
        sa.Column("custom_domain_id", sa.BigInteger(), nullable=True),
        _time("created_at"),
        _time("updated_at"),
        _parent("account_id", "accounts", "CASCADE", "llm_clients"),
        _parent("custom_domain_id", "custom_domains", "SET NULL", "llm_clients"),
        _parent("owner_id", "users", "RESTRICT", "llm_clients"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_llm_clients")),
        sa.UniqueConstraint("account_id", "name", name=op.f("uq_llm_clients_account_id_name")),
        sa.UniqueConstraint(
            "account_id", "host_label", name=op.f("uq_llm_clients_account_id_host_label")
        ),
    )
    op.create_index(op.f("ix_llm_clients_custom_domain_id"), "llm_clients", ["custom_domain_id"])
    op.create_index(op.f("ix_llm_clients_owner_id"), "llm_clients", ["owner_id"])

    op.create_table(
        "llm_client_tags",
        sa.Column("llm_client_id", sa.BigInteger(), nullable=False),
        sa.Column("tag", sa.String(length=64), nullable=False),
        _parent("llm_client_id", "llm_clients", "CASCADE", "llm_client_tags"),
        sa.PrimaryKeyConstraint("llm_client_id", "tag", name=op.f("pk_llm_client_tags")),
    )
    op.create_index("ix_llm_client_tags_tag", "llm_client_tags", ["tag"])

    op.create_table(
        "llm_client_api_keys",
        _id(),
        sa.Column("llm_client_id", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("display_prefix", sa.String(length=32), nullable=False),
        _time("created_at"),
        _time("revoked_at", nullable=True),
        _parent("llm_client_id", "llm_clients", "CASCADE", "llm_client_api_keys"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_llm_client_api_keys")),
    )
    op.create_index(
        op.f("ix_llm_client_api_keys_digest"), "llm_client_api_keys", ["digest"], unique=True
    )
    op.create_index(
        op.f("ix_llm_client_api_keys_llm_client_id"), "llm_client_api_keys", ["llm_client_id"]
    )

    op.create_table(
        "custom_domain_dns_records",
        _id(),
        sa.Column("custom_domain_id", sa.BigInteger(), nullable=False),
        sa.Column("llm_client_id", sa.BigInteger(), nullable=True),
        sa.Column("name", sa.String(length=253), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("ttl", sa.Integer(), nullable=False),
        _parent("custom_domain_id", "custom_domains", "CASCADE", "custom_domain_dns_records"),
        _parent("llm_client_id", "llm_clients", "SET NULL", "custom_domain_dns_records"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_custom_domain_dns_records")),
        sa.UniqueConstraint(
            "custom_domain_id",
            "name",
            "type",
            name=op.f("uq_custom_domain_dns_records_custom_domain_id_name_type"),
        ),
    )
    op.create_index(
        op.f("ix_custom_domain_dns_records_llm_client_id"),
        "custom_domain_dns_records",
        ["llm_client_id"],
    )

    op.create_table(
        "llm_client_status_events",
        _id(),
        sa.Column("llm_client_id", sa.BigInteger(), nullable=False),
        _time("at"),
        sa.Column("field", sa.String(), nullable=False),
        sa.Column("from_status", sa.String(length=32), nullable=False),
        sa.Column("to_status", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        _parent("llm_client_id", "llm_clients", "CASCADE", "llm_client_status_events"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_llm_client_status_events")),
    )
    op.create_index(
        "ix_llm_client_status_events_timeline", "llm_client_status_events", ["llm_client_id", "id"]
    )

    op.create_table(
        "llm_client_requests",
        _id(),
        sa.Column("llm_client_id", sa.BigInteger(), nullable=False),
        sa.Column("request_id", sa.String(), nullable=False),
        sa.Column("session_key", sa.String(), nullable=False),
        sa.Column("mode", sa.String(), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("latency_ms", sa.Float(), nullable=False),
        sa.Column("request", JSON_DOCUMENT, nullable=False),
        sa.Column("response", JSON_DOCUMENT, nullable=True),
        sa.Column("prompt_tokens", sa.Integer(), nullable=False),
        sa.Column("completion_tokens", sa.Integer(), nullable=False),
        sa.Column("api_key_id", sa.BigInteger(), nullable=True),
        _time("created_at"),
        _parent("api_key_id", "llm_client_api_keys", "SET NULL", "llm_client_requests"),
        _parent("llm_client_id", "llm_clients", "CASCADE", "llm_client_requests"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_llm_client_requests")),
        sa.UniqueConstraint("request_id", name=op.f("uq_llm_client_requests_request_id")),
    )
    op.create_index(
        op.f("ix_llm_client_requests_api_key_id"), "llm_client_requests", ["api_key_id"]
    )
    op.create_index(
        "ix_llm_client_requests_history", "llm_client_requests", ["llm_client_id", "created_at"]
    )

    op.create_table(
        "chats",
        _id(),
        sa.Column("llm_client_id", sa.BigInteger(), nullable=False),
        sa.Column("session_key", sa.String(), nullable=False),
        _time("created_at"),
        _time("updated_at"),
        _parent("llm_client_id", "llm_clients", "CASCADE", "chats"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chats")),
        sa.UniqueConstraint(
            "llm_client_id", "session_key", name=op.f("uq_chats_llm_client_id_session_key")
        ),
    )
    op.create_table(
        "chat_messages",
        _id(),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("role", sa.String(), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        _time("created_at"),
        _parent("chat_id", "chats", "CASCADE", "chat_messages"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chat_messages")),
    )
    op.create_index(op.f("ix_chat_messages_chat_id"), "chat_messages", ["chat_id"])

    op.create_table(
        "outbox",
        _id(),
        sa.Column("job", JSON_DOCUMENT, nullable=False),
        _time("created_at"),
        _time("processed_at", nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
    )
    op.create_index(op.f("ix_outbox_processed_at"), "outbox", ["processed_at"])


def downgrade() -> None:
    # Children before parents; each table takes its indexes with it.
    for table in (
        "outbox",
        "chat_messages",
        "chats",
        "llm_client_requests",
        "llm_client_status_events",
        "custom_domain_dns_records",
        "llm_client_api_keys",
        "llm_client_tags",
        "llm_clients",
        "custom_domains",
        "account_tokens",
        "users",
        "accounts",
    ):
        op.drop_table(table)
