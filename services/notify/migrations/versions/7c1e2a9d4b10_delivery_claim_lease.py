"""delivery claim lease

Revision ID: 7c1e2a9d4b10
Revises: 4ff606fb37cf
Create Date: 2026-12-02 18:00:00
"""
from alembic import op
import sqlalchemy as sa
import shared.db


revision = '7c1e2a9d4b10'
down_revision = '4ff606fb37cf'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('delivery', schema=None) as batch_op:
        batch_op.add_column(sa.Column('claimed_at', shared.db.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('delivery', schema=None) as batch_op:
        batch_op.drop_column('claimed_at')
