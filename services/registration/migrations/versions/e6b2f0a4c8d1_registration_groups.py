"""registration groups: several participants registered in one submission by a contact

Revision ID: e6b2f0a4c8d1
Revises: d3a9c4e1b7f2
Create Date: 2026-12-03 16:45:00
"""
from alembic import op
import sqlalchemy as sa
import shared.db


revision = 'e6b2f0a4c8d1'
down_revision = 'd3a9c4e1b7f2'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'registration_group',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('public_id', sa.String(length=32), nullable=False),
        sa.Column('event_id', sa.Integer(), nullable=False),
        sa.Column('first_name', sa.String(length=100), nullable=False),
        sa.Column('last_name', sa.String(length=100), nullable=False),
        sa.Column('email', sa.String(length=254), nullable=False),
        sa.Column('organisation', sa.String(length=200), nullable=True),
        sa.Column('language', sa.String(length=2), nullable=False),
        sa.Column('consent_version', sa.String(length=40), nullable=False),
        sa.Column('created_at', shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('anonymised_at', shared.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['event_id'], ['event.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('public_id'),
    )
    with op.batch_alter_table('registration_group', schema=None) as batch_op:
        batch_op.create_index('ix_registration_group_email', ['email'], unique=False)
    with op.batch_alter_table('registration', schema=None) as batch_op:
        batch_op.add_column(sa.Column('group_id', sa.Integer(), nullable=True))
        batch_op.create_index('ix_registration_group_id', ['group_id'], unique=False)
        batch_op.create_foreign_key('fk_registration_group_id', 'registration_group', ['group_id'], ['id'], ondelete='SET NULL')


def downgrade() -> None:
    with op.batch_alter_table('registration', schema=None) as batch_op:
        batch_op.drop_constraint('fk_registration_group_id', type_='foreignkey')
        batch_op.drop_index('ix_registration_group_id')
        batch_op.drop_column('group_id')
    with op.batch_alter_table('registration_group', schema=None) as batch_op:
        batch_op.drop_index('ix_registration_group_email')
    op.drop_table('registration_group')
