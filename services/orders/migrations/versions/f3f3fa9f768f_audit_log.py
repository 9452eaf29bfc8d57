"""audit log

Revision ID: f3f3fa9f768f
Revises: 0d0d76a8a731
Create Date: 2026-11-23 19:21:42.165736
"""
from alembic import op

from shared.migrations import create_audit_table, drop_audit_table


revision = 'f3f3fa9f768f'
down_revision = '0d0d76a8a731'
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_audit_table(op)


def downgrade() -> None:
    drop_audit_table(op)
