"""documents rendered after numbering: the row first (with what it shows), its PDF afterwards

Revision ID: c4e8a1f20b37
Revises: f3f3fa9f768f
Create Date: 2026-12-03 16:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'c4e8a1f20b37'
down_revision = 'f3f3fa9f768f'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('billing_document', schema=None) as batch_op:
        batch_op.add_column(sa.Column('content', sa.JSON(), nullable=True))
        batch_op.alter_column('pdf', existing_type=sa.LargeBinary(), nullable=True)
        batch_op.alter_column('sha256', existing_type=sa.String(length=64), nullable=True)
        batch_op.create_check_constraint('ck_billing_document_pdf_and_hash', '(pdf IS NULL) = (sha256 IS NULL)')
        batch_op.create_check_constraint('ck_billing_document_renderable', 'pdf IS NOT NULL OR content IS NOT NULL')


def downgrade() -> None:
    # Documents still without their PDF cannot go back: render them first (any download does).
    with op.batch_alter_table('billing_document', schema=None) as batch_op:
        batch_op.drop_constraint('ck_billing_document_renderable', type_='check')
        batch_op.drop_constraint('ck_billing_document_pdf_and_hash', type_='check')
        batch_op.alter_column('sha256', existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column('pdf', existing_type=sa.LargeBinary(), nullable=False)
        batch_op.drop_column('content')
