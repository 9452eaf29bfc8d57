"""delivery threads: the emails about one order or registration go out in order

Revision ID: e3b7c5a91f02
Revises: d81f4a6c2e90
Create Date: 2026-12-03 16:40:00
"""
from alembic import op
import sqlalchemy as sa
import shared.db


revision = 'e3b7c5a91f02'
down_revision = 'd81f4a6c2e90'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('delivery', schema=None) as batch_op:
        batch_op.add_column(sa.Column('thread', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('occurred_at', shared.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_index('ix_delivery_thread', ['thread', 'occurred_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('delivery', schema=None) as batch_op:
        batch_op.drop_index('ix_delivery_thread')
        batch_op.drop_column('occurred_at')
        batch_op.drop_column('thread')
