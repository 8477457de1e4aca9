"""Record changes batched per Route 53 zone; a provisioned host points at its pending change.

Revision ID: 0008_dns_change_batches
Revises: 0007_webhooks
Create Date: 2026-12-08 00:30:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from advanced_alchemy.types import DateTimeUTC
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0008_dns_change_batches"
down_revision: str | Sequence[str] | None = "0007_webhooks"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("provisioned_hosts") as batch:
        batch.drop_column("change_id")
        batch.add_column(sa.Column("record_change_id", sa.BigInteger(), nullable=True))

    op.create_table(
        "dns_changes",
        sa.Column("id", ID, sa.Identity(always=False), nullable=False),
        sa.Column("zone_id", sa.String(), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=253), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("values", JSON_DOCUMENT, nullable=False),
        sa.Column("ttl", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("batch", sa.String(), nullable=True),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("llm_client_id", sa.BigInteger(), nullable=True),
        sa.Column("requested_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("settled_at", DateTimeUTC(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dns_changes")),
    )
    op.create_index("ix_dns_changes_zone_state", "dns_changes", ["zone_id", "state", "id"])
    op.create_index(op.f("ix_dns_changes_batch"), "dns_changes", ["batch"])
    op.create_index(op.f("ix_dns_changes_settled_at"), "dns_changes", ["settled_at"])


def downgrade() -> None:
    op.drop_table("dns_changes")
    with op.batch_alter_table("provisioned_hosts") as batch:
        batch.drop_column("record_change_id")
        batch.add_column(sa.Column("change_id", sa.String(), nullable=True))
