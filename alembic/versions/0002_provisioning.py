"""Provisioning's observed state: provisioned hosts, managed certificates, deletions.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 02:10:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from advanced_alchemy.types import DateTimeUTC
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _id() -> sa.Column[int]:
    return sa.Column("id", ID, sa.Identity(always=False), nullable=False)


def _time(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, DateTimeUTC(timezone=True), nullable=nullable)


def upgrade() -> None:
    with op.batch_alter_table("llm_clients") as batch:
        batch.add_column(_time("deletion_requested_at", nullable=True))

    op.create_table(
        "provisioned_hosts",
        _id(),
        sa.Column("host", sa.String(length=253), nullable=False),
        sa.Column("llm_client_id", sa.BigInteger(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("zone_id", sa.String(), nullable=False),
        sa.Column("record_type", sa.String(length=16), nullable=False),
        sa.Column("target", sa.String(length=253), nullable=False),
        sa.Column("certificate_name", sa.String(length=128), nullable=False),
        sa.Column("ingress_name", sa.String(length=128), nullable=False),
        sa.Column("check", sa.String(length=32), nullable=False),
        sa.Column("change_id", sa.String(), nullable=True),
        _time("verify_started_at", nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("ingress_applied", sa.Boolean(), nullable=False),
        _time("updated_at"),
        sa.ForeignKeyConstraint(
            ["llm_client_id"],
            ["llm_clients.id"],
            name=op.f("fk_provisioned_hosts_llm_client_id_llm_clients"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_provisioned_hosts")),
        sa.UniqueConstraint("host", name=op.f("uq_provisioned_hosts_host")),
    )
    op.create_index(
        op.f("ix_provisioned_hosts_llm_client_id"), "provisioned_hosts", ["llm_client_id"]
    )
    op.create_index(
        op.f("ix_provisioned_hosts_certificate_name"), "provisioned_hosts", ["certificate_name"]
    )

    op.create_table(
        "managed_certificates",
        _id(),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("hosts", JSON_DOCUMENT, nullable=False),
        sa.Column("phase", sa.String(length=32), nullable=False),
        _time("requested_at"),
        _time("not_before", nullable=True),
        _time("not_after", nullable=True),
        _time("renew_after", nullable=True),
        sa.Column("renewing", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_managed_certificates")),
        sa.UniqueConstraint("name", name=op.f("uq_managed_certificates_name")),
    )
    op.create_index(
        op.f("ix_managed_certificates_renew_after"), "managed_certificates", ["renew_after"]
    )


def downgrade() -> None:
    op.drop_table("managed_certificates")
    op.drop_table("provisioned_hosts")
    with op.batch_alter_table("llm_clients") as batch:
        batch.drop_column("deletion_requested_at")
