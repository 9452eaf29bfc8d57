"""audit log

Revision ID: 4ff606fb37cf
Revises: 632ddab6176d
Create Date: 2026-11-23 19:21:43.350196
"""
from alembic import op

from shared.migrations import create_audit_table, drop_audit_table


revision = '4ff606fb37cf'
down_revision = '632ddab6176d'
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_audit_table(op)


def downgrade() -> None:
    drop_audit_table(op)
