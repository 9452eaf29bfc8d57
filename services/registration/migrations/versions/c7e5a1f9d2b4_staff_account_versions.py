"""staff accounts: active flag and token version; back-office sessions

Revision ID: c7e5a1f9d2b4
Revises: 888b6d9c0c40
Create Date: 2026-12-02 18:00:00
"""
from alembic import op
import sqlalchemy as sa
import shared.db


revision = 'c7e5a1f9d2b4'
down_revision = '888b6d9c0c40'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('staff_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('active', sa.Boolean(), nullable=False, server_default=sa.true()))
        batch_op.add_column(sa.Column('token_version', sa.Integer(), nullable=False, server_default='1'))
    op.create_table('staff_session',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('created_at', shared.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['staff_account.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('staff_session', schema=None) as batch_op:
        batch_op.create_index('ix_staff_session_account_id', ['account_id'], unique=False)


def downgrade() -> None:
    op.drop_table('staff_session')
    with op.batch_alter_table('staff_account', schema=None) as batch_op:
        batch_op.drop_column('token_version')
        batch_op.drop_column('active')
