"""listing changes: the listing version counts on, and logs which projects each version changed

Revision ID: 0017_listing_changes
Revises: 0016_title_vector
Create Date: 2026-11-23 10:00:00

Facet counts were kept per process only until the next write to the lists, and then counted again from
every match. With the projects each version changed logged, a process brings its kept counts up to date by
reading those projects alone.
"""
import sqlalchemy as sa
from alembic import op


revision = '0017_listing_changes'
down_revision = '0016_title_vector'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('listing_versions') as batch_op:
        batch_op.add_column(sa.Column('version', sa.BigInteger(), server_default='1', nullable=False))
    op.create_table(
        'listing_changes',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
        sa.Column('version', sa.BigInteger(), nullable=False),
        sa.Column('project_id', sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_listing_changes')),
    )
    op.create_index(op.f('ix_listing_changes_version'), 'listing_changes', ['version'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_listing_changes_version'), table_name='listing_changes')
    op.drop_table('listing_changes')
    with op.batch_alter_table('listing_versions') as batch_op:
        batch_op.drop_column('version')
