"""event listing index

The public list of events (`GET /events`) reads the published events that have not ended;
without this index it read the whole event table (bench/large_data.py).

Revision ID: e4b7c2d91a36
Revises: e6b2f0a4c8d1
Create Date: 2026-12-03 16:05:00.000000
"""
from alembic import op


revision = 'e4b7c2d91a36'
down_revision = 'e6b2f0a4c8d1'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.create_index('ix_event_published_ends_at', ['published', 'ends_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.drop_index('ix_event_published_ends_at')
