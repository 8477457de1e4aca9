"""Re-checks: when a provisioned host was last checked for drift, and a verified custom
domain's checks (when, and how many failed in a row).

Revision ID: 0010_rechecks
Revises: 0009_custom_hostnames
Create Date: 2026-12-08 01:30:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from advanced_alchemy.types import DateTimeUTC
from alembic import op

revision: str = "0010_rechecks"
down_revision: str | Sequence[str] | None = "0009_custom_hostnames"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("provisioned_hosts") as batch:
        batch.add_column(sa.Column("checked_at", DateTimeUTC(timezone=True), nullable=True))
        batch.create_index(op.f("ix_provisioned_hosts_checked_at"), ["checked_at"])
    with op.batch_alter_table("custom_domains") as batch:
        batch.add_column(sa.Column("checked_at", DateTimeUTC(timezone=True), nullable=True))
        batch.add_column(sa.Column("failures", sa.Integer(), nullable=False, server_default="0"))
        batch.create_index(op.f("ix_custom_domains_checked_at"), ["checked_at"])


def downgrade() -> None:
    with op.batch_alter_table("custom_domains") as batch:
        batch.drop_index(op.f("ix_custom_domains_checked_at"))
        batch.drop_column("failures")
        batch.drop_column("checked_at")
    with op.batch_alter_table("provisioned_hosts") as batch:
        batch.drop_index(op.f("ix_provisioned_hosts_checked_at"))
        batch.drop_column("checked_at")
