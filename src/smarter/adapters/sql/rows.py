"""The tables, as SQLAlchemy rows. They never leave the SQL adapter: repositories map them.

Only what the database must index, join or keep unique is a column of its own; the rest of a
client's settings is the customer's spec, stored as one JSON document (`LLMClientSpec` stays
the one model of those fields). Ids are big integers (IDENTITY on PostgreSQL, ROWID on
SQLite); times are timezone-aware and read back as UTC on every dialect.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from advanced_alchemy.types import BigIntIdentity, DateTimeUTC
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Identity,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# Every constraint and index gets a predictable name, so migrations can refer to it.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Lengths only where the domain validates the value; free text is unbounded, so that no
# input the domain accepts can fail in the database.
NAME_LENGTH = 128
HOST_LENGTH = 253  # a full DNS name
DIGEST_LENGTH = 64  # hex SHA-256
PREFIX_LENGTH = 32
STATUS_LENGTH = 32
PASSWORD_HASH_LENGTH = 255


# JSONB on PostgreSQL, JSON (text) on SQLite. advanced-alchemy's JsonB is the same idea but
# its Oracle variant does not load under SQLAlchemy 2.1.
JsonB = JSON().with_variant(JSONB(), "postgresql")


def utc_now() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    """Our own metadata, so that no other model registered in the process joins the schema."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: DateTimeUTC(timezone=True), dict[str, Any]: JsonB}


def _id() -> Mapped[int]:
    return mapped_column(BigIntIdentity, Identity(), primary_key=True)


def _parent(table: str, *, index: bool = True, on_delete: str = "CASCADE") -> Mapped[int]:
    return mapped_column(
        BigInteger, ForeignKey(f"{table}.id", ondelete=on_delete), nullable=False, index=index
    )


def _created() -> Mapped[datetime]:
    return mapped_column(default=utc_now)


def _read_only(target: str) -> Any:
    """A reference to the parent row, loaded only where a query asks for it (`joinedload`)."""
    return relationship(target, viewonly=True, lazy="raise")


class AccountRow(Base):
    __tablename__ = "accounts"

    id: Mapped[int] = _id()
    account_number: Mapped[str] = mapped_column(String(14), unique=True)
    name: Mapped[str] = mapped_column(String, default="")
    created_at: Mapped[datetime] = _created()


class UserRow(Base):
    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("account_id", "username"),)

    id: Mapped[int] = _id()
    account_id: Mapped[int] = _parent("accounts", index=False)  # the unique index covers it
    username: Mapped[str] = mapped_column(String(63))
    is_account_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    email: Mapped[str] = mapped_column(String, default="")
    created_at: Mapped[datetime] = _created()
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))
    # An argon2 hash (with its own salt and parameters); None until a password is set.
    password_hash: Mapped[str | None] = mapped_column(String(PASSWORD_HASH_LENGTH), default=None)

    account: Mapped[AccountRow] = _read_only("AccountRow")


class InvitationRow(Base):
    """A one-time link to set a password; only its hash is kept."""

    __tablename__ = "user_invitations"

    id: Mapped[int] = _id()
    user_id: Mapped[int] = _parent("users")
    digest: Mapped[str] = mapped_column(String(DIGEST_LENGTH), unique=True)
    created_at: Mapped[datetime] = _created()
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None] = mapped_column(default=None)

    user: Mapped[UserRow] = _read_only("UserRow")


class ConsoleSessionRow(Base):
    """A console session (Litestar's Store contract): the key is a hash of the cookie's id."""

    __tablename__ = "console_sessions"

    key: Mapped[str] = mapped_column(String(NAME_LENGTH), primary_key=True)
    value: Mapped[bytes] = mapped_column(LargeBinary)
    expires_at: Mapped[datetime | None] = mapped_column(default=None, index=True)


class AccountTokenRow(Base):
    __tablename__ = "account_tokens"

    id: Mapped[int] = _id()
    user_id: Mapped[int] = _parent("users")
    name: Mapped[str] = mapped_column(String)
    digest: Mapped[str] = mapped_column(String(DIGEST_LENGTH), unique=True, index=True)
    display_prefix: Mapped[str] = mapped_column(String(PREFIX_LENGTH))
    created_at: Mapped[datetime] = _created()
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)


class CustomDomainRow(Base):
    __tablename__ = "custom_domains"
    __table_args__ = (
        # One registration per account; several accounts may hold pending registrations of
        # one domain, but a verified domain belongs to one account across the platform.
        UniqueConstraint("account_id", "domain_name"),
        Index(
            "uq_custom_domains_verified_domain_name",
            "domain_name",
            unique=True,
            postgresql_where=text("is_verified"),
            sqlite_where=text("is_verified = 1"),
        ),
    )

    id: Mapped[int] = _id()
    account_id: Mapped[int] = _parent("accounts", index=False)
    domain_name: Mapped[str] = mapped_column(String(HOST_LENGTH))
    aws_hosted_zone_id: Mapped[str | None] = mapped_column(String, default=None)
    name_servers: Mapped[list[str]] = mapped_column(JsonB, default=list)
    is_verified: Mapped[bool] = mapped_column(Boolean, default=False)
    last_verification: Mapped[dict[str, Any] | None] = mapped_column(JsonB, default=None)
    # Checks of a verified domain: when the last one ran, how many failed in a row.
    checked_at: Mapped[datetime | None] = mapped_column(default=None, index=True)
    failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = _created()

    account: Mapped[AccountRow] = _read_only("AccountRow")


class LLMClientRow(Base):
    __tablename__ = "llm_clients"
    __table_args__ = (
        UniqueConstraint("account_id", "name"),
        # The client's rfc1034_compliant_name: two clients of one account never share a host.
        UniqueConstraint("account_id", "host_label"),
    )

    id: Mapped[int] = _id()
    account_id: Mapped[int] = _parent("accounts", index=False)
    owner_id: Mapped[int] = _parent("users", on_delete="RESTRICT")
    name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    host_label: Mapped[str] = mapped_column(String(HOST_LENGTH))
    version: Mapped[str] = mapped_column(String)
    provider: Mapped[str] = mapped_column(String(64))
    default_model: Mapped[str] = mapped_column(String)
    deployed: Mapped[bool] = mapped_column(Boolean, default=False)
    dns_verification_status: Mapped[str] = mapped_column(String(STATUS_LENGTH))
    tls_certificate_issuance_status: Mapped[str] = mapped_column(String(STATUS_LENGTH))
    # The rest of LLMClientSpec (description, tags, annotations, app_* fields, ...).
    spec: Mapped[dict[str, Any]] = mapped_column(JsonB)
    custom_domain_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("custom_domains.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = _created()
    updated_at: Mapped[datetime] = _created()
    # Deleted while it held provisioned hosts: hidden now, removed after the teardown.
    deletion_requested_at: Mapped[datetime | None] = mapped_column(default=None)


# The tags of each client again, one row each, so that the tag filter is an indexed lookup.
# The spec keeps their order; the repository keeps this table in step with it.
llm_client_tags = Table(
    "llm_client_tags",
    Base.metadata,
    Column(
        "llm_client_id",
        BigInteger,
        ForeignKey("llm_clients.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("tag", String(64), primary_key=True),
    Index("ix_llm_client_tags_tag", "tag"),
)


class LLMClientAPIKeyRow(Base):
    __tablename__ = "llm_client_api_keys"

    id: Mapped[int] = _id()
    llm_client_id: Mapped[int] = _parent("llm_clients")
    name: Mapped[str] = mapped_column(String)
    digest: Mapped[str] = mapped_column(String(DIGEST_LENGTH), unique=True, index=True)
    display_prefix: Mapped[str] = mapped_column(String(PREFIX_LENGTH))
    created_at: Mapped[datetime] = _created()
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)


class CustomDomainDnsRecordRow(Base):
    """A record the platform manages in a customer's zone (for a client's host, or not)."""

    __tablename__ = "custom_domain_dns_records"
    __table_args__ = (UniqueConstraint("custom_domain_id", "name", "type"),)

    id: Mapped[int] = _id()
    custom_domain_id: Mapped[int] = _parent("custom_domains", index=False)
    # Kept when its client goes, so a reconciler can still find and remove the record.
    llm_client_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("llm_clients.id", ondelete="SET NULL"), index=True
    )
    name: Mapped[str] = mapped_column(String(HOST_LENGTH))
    type: Mapped[str] = mapped_column(String(16))
    value: Mapped[str] = mapped_column(Text)
    ttl: Mapped[int] = mapped_column(Integer, default=300)


class StatusEventRow(Base):
    __tablename__ = "llm_client_status_events"
    __table_args__ = (Index("ix_llm_client_status_events_timeline", "llm_client_id", "id"),)

    id: Mapped[int] = _id()
    llm_client_id: Mapped[int] = _parent("llm_clients", index=False)
    at: Mapped[datetime]
    field: Mapped[str] = mapped_column(String)
    from_status: Mapped[str] = mapped_column(String(STATUS_LENGTH))
    to_status: Mapped[str] = mapped_column(String(STATUS_LENGTH))
    reason: Mapped[str] = mapped_column(Text, default="")


class ChatRequestRow(Base):
    """Request history: one row per chat request a client answered (or refused)."""

    __tablename__ = "llm_client_requests"
    __table_args__ = (Index("ix_llm_client_requests_history", "llm_client_id", "created_at"),)

    id: Mapped[int] = _id()
    llm_client_id: Mapped[int] = _parent("llm_clients", index=False)
    request_id: Mapped[str] = mapped_column(String, unique=True)
    session_key: Mapped[str] = mapped_column(String)
    mode: Mapped[str] = mapped_column(String)
    status_code: Mapped[int] = mapped_column(Integer)
    latency_ms: Mapped[float] = mapped_column(Float)
    request: Mapped[dict[str, Any]]
    response: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    prompt_tokens: Mapped[int] = mapped_column(Integer, default=0)
    completion_tokens: Mapped[int] = mapped_column(Integer, default=0)
    api_key_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("llm_client_api_keys.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = _created()


class ChatRow(Base):
    """A conversation: the messages of one session key with one client."""

    __tablename__ = "chats"
    __table_args__ = (UniqueConstraint("llm_client_id", "session_key"),)

    id: Mapped[int] = _id()
    llm_client_id: Mapped[int] = _parent("llm_clients", index=False)
    session_key: Mapped[str] = mapped_column(String)
    created_at: Mapped[datetime] = _created()
    updated_at: Mapped[datetime] = _created()


class ChatMessageRow(Base):
    __tablename__ = "chat_messages"

    id: Mapped[int] = _id()
    chat_id: Mapped[int] = _parent("chats")
    role: Mapped[str] = mapped_column(String)
    content: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = _created()


class OutboxRow(Base):
    """A job for the worker, written in the same transaction as the change it reacts to."""

    __tablename__ = "outbox"

    id: Mapped[int] = _id()
    job: Mapped[dict[str, Any]]
    created_at: Mapped[datetime] = _created()
    processed_at: Mapped[datetime | None] = mapped_column(default=None, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)


class ProvisionedHostRow(Base):
    """What the worker provisioned for one host of a client (observed state)."""

    __tablename__ = "provisioned_hosts"

    id: Mapped[int] = _id()
    host: Mapped[str] = mapped_column(String(HOST_LENGTH), unique=True)
    llm_client_id: Mapped[int] = _parent("llm_clients")
    role: Mapped[str] = mapped_column(String(16))
    zone_id: Mapped[str] = mapped_column(String)
    record_type: Mapped[str] = mapped_column(String(16))
    target: Mapped[str] = mapped_column(String(HOST_LENGTH))
    certificate_name: Mapped[str] = mapped_column(String(NAME_LENGTH), index=True)
    ingress_name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    check: Mapped[str] = mapped_column(String(STATUS_LENGTH))
    # The dns_changes row of its record's last write, until that change is live.
    record_change_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    verify_started_at: Mapped[datetime | None] = mapped_column(default=None)
    reason: Mapped[str] = mapped_column(Text, default="")
    ingress_applied: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = _created()
    # When the sweep last compared its record, Ingress and certificate with what should be.
    checked_at: Mapped[datetime | None] = mapped_column(default=None, index=True)


class ManagedCertificateRow(Base):
    """A certificate the worker ordered; shared ones are counted through provisioned_hosts."""

    __tablename__ = "managed_certificates"

    id: Mapped[int] = _id()
    name: Mapped[str] = mapped_column(String(NAME_LENGTH), unique=True)
    hosts: Mapped[list[str]] = mapped_column(JsonB)
    phase: Mapped[str] = mapped_column(String(STATUS_LENGTH))
    requested_at: Mapped[datetime]
    not_before: Mapped[datetime | None] = mapped_column(default=None)
    not_after: Mapped[datetime | None] = mapped_column(default=None)
    renew_after: Mapped[datetime | None] = mapped_column(default=None, index=True)
    renewing: Mapped[bool] = mapped_column(Boolean, default=False)
    reason: Mapped[str] = mapped_column(Text, default="")


class WebhookEndpointRow(Base):
    """Where an account wants its events; the signing secret sealed (encrypted), never plain."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = _id()
    account_id: Mapped[int] = _parent("accounts")
    url: Mapped[str] = mapped_column(Text)
    event_types: Mapped[list[str]] = mapped_column(JsonB)
    description: Mapped[str] = mapped_column(Text, default="")
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    sealed_secret: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = _created()


class WebhookDeliveryRow(Base):
    """One event's message to one endpoint: written in the event's transaction (the outbox
    of webhooks), sent by the worker when `next_attempt_at` is due."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
        Index("ix_webhook_deliveries_listing", "endpoint_id", "id"),
    )

    id: Mapped[int] = _id()
    endpoint_id: Mapped[int] = _parent("webhook_endpoints", index=False)
    message_id: Mapped[str] = mapped_column(String(NAME_LENGTH), unique=True)
    event_type: Mapped[str] = mapped_column(String(STATUS_LENGTH))
    payload: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(STATUS_LENGTH))
    attempt_count: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = _created()


class WebhookAttemptRow(Base):
    __tablename__ = "webhook_attempts"
    __table_args__ = (Index("ix_webhook_attempts_delivery", "delivery_id", "id"),)

    id: Mapped[int] = _id()
    delivery_id: Mapped[int] = _parent("webhook_deliveries", index=False)
    at: Mapped[datetime]
    status_code: Mapped[int | None] = mapped_column(Integer, default=None)
    error: Mapped[str] = mapped_column(Text, default="")
    duration_ms: Mapped[int] = mapped_column(Integer, default=0)


class DnsChangeRow(Base):
    """A record change waiting for (or sent in) a Route 53 change batch."""

    __tablename__ = "dns_changes"
    __table_args__ = (Index("ix_dns_changes_zone_state", "zone_id", "state", "id"),)

    id: Mapped[int] = _id()
    zone_id: Mapped[str] = mapped_column(String)
    action: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(HOST_LENGTH))
    type: Mapped[str] = mapped_column(String(16))
    values: Mapped[list[str]] = mapped_column(JsonB)
    ttl: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(STATUS_LENGTH))
    batch: Mapped[str | None] = mapped_column(String, default=None, index=True)
    error: Mapped[str] = mapped_column(Text, default="")
    # Not a foreign key: a change outlives the client it was made for (a teardown's DELETE).
    llm_client_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    requested_at: Mapped[datetime]
    settled_at: Mapped[datetime | None] = mapped_column(default=None, index=True)


class CustomHostnameRow(Base):
    """A hostname a customer points at one client by CNAME (or A records at an apex)."""

    __tablename__ = "custom_hostnames"
    __table_args__ = (
        # Like custom domains: pending registrations per account, a verified one platform-wide.
        UniqueConstraint("account_id", "hostname"),
        Index(
            "uq_custom_hostnames_verified_hostname",
            "hostname",
            unique=True,
            postgresql_where=text("is_verified"),
            sqlite_where=text("is_verified = 1"),
        ),
    )

    id: Mapped[int] = _id()
    account_id: Mapped[int] = _parent("accounts", index=False)
    llm_client_id: Mapped[int] = _parent("llm_clients")
    hostname: Mapped[str] = mapped_column(String(HOST_LENGTH))
    token: Mapped[str] = mapped_column(String(64))
    is_verified: Mapped[bool] = mapped_column(Boolean, default=False)
    verified_at: Mapped[datetime | None] = mapped_column(default=None)
    last_check: Mapped[dict[str, Any] | None] = mapped_column(JsonB, default=None)
    checked_at: Mapped[datetime | None] = mapped_column(default=None, index=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = _created()
