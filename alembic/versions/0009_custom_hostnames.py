"""Custom hostnames: one hostname pointed at one client by CNAME (or A records at an apex).

Revision ID: 0009_custom_hostnames
Revises: 0008_dns_change_batches
Create Date: 2026-12-08 01:00:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from advanced_alchemy.types import DateTimeUTC
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0009_custom_hostnames"
down_revision: str | Sequence[str] | None = "0008_dns_change_batches"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "custom_hostnames",
        sa.Column("id", ID, sa.Identity(always=False), nullable=False),
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("llm_client_id", sa.BigInteger(), nullable=False),
        sa.Column("hostname", sa.String(length=253), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("is_verified", sa.Boolean(), nullable=False),
        sa.Column("verified_at", DateTimeUTC(timezone=True), nullable=True),
        sa.Column("last_check", JSON_DOCUMENT, nullable=True),
        sa.Column("checked_at", DateTimeUTC(timezone=True), nullable=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_custom_hostnames_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["llm_client_id"],
            ["llm_clients.id"],
            name=op.f("fk_custom_hostnames_llm_client_id_llm_clients"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_custom_hostnames")),
        sa.UniqueConstraint(
            "account_id", "hostname", name=op.f("uq_custom_hostnames_account_id_hostname")
        ),
    )
    op.create_index(
        op.f("ix_custom_hostnames_llm_client_id"), "custom_hostnames", ["llm_client_id"]
    )
    op.create_index(op.f("ix_custom_hostnames_checked_at"), "custom_hostnames", ["checked_at"])
    op.create_index(
        "uq_custom_hostnames_verified_hostname",
        "custom_hostnames",
        ["hostname"],
        unique=True,
        postgresql_where=sa.text("is_verified"),
        sqlite_where=sa.text("is_verified = 1"),
    )


def downgrade() -> None:
    op.drop_table("custom_hostnames")
