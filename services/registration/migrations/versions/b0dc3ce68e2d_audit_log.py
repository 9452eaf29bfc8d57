"""audit log

Revision ID: b0dc3ce68e2d
Revises: a4fd4d3c1222
Create Date: 2026-11-23 19:21:41.213729
"""
from alembic import op

from shared.migrations import create_audit_table, drop_audit_table


revision = 'b0dc3ce68e2d'
down_revision = 'a4fd4d3c1222'
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_audit_table(op)


def downgrade() -> None:
    drop_audit_table(op)
